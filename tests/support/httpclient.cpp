#include "httpclient.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QTcpSocket>
#include <QThread>

#include <llhttp.h>

namespace gh::test {

namespace {

// Incremental SSE parser (https://html.spec.whatwg.org/multipage/server-sent-events.html).
struct SseParser
{
    QByteArray buffer;
    QByteArray event;
    QList<QByteArray> data;
    bool hasData = false;

    void feed(QByteArrayView bytes, double atMs, QList<SseEvent> &out)
    {
        buffer.append(bytes);
        qsizetype start = 0;
        for (;;) {
            const qsizetype nl = buffer.indexOf('\n', start);
            if (nl < 0)
                break;
            QByteArrayView line(buffer.constData() + start, nl - start);
            start = nl + 1;
            if (line.endsWith('\r'))
                line.chop(1);
            if (line.isEmpty()) {
                if (hasData)
                    out.append(SseEvent{event, data.join('\n'), atMs});
                event.clear();
                data.clear();
                hasData = false;
                continue;
            }
            if (line.startsWith(':'))
                continue; // comment
            const qsizetype colon = line.indexOf(':');
            QByteArrayView field = colon < 0 ? line : line.first(colon);
            QByteArrayView value = colon < 0 ? QByteArrayView() : line.sliced(colon + 1);
            if (value.startsWith(' '))
                value = value.sliced(1);
            if (field == "data") {
                data.append(value.toByteArray());
                hasData = true;
            } else if (field == "event") {
                event = value.toByteArray();
            }
        }
        buffer.remove(0, start);
    }
};

// State of one response being parsed; llhttp's `data` points here.
struct ResponseParse
{
    HttpResponse *r = nullptr;
    double nowMs = 0;
    QByteArray field;
    QByteArray value;
    bool inValue = false;
    bool headersDone = false;
    bool messageDone = false;
    bool headRequest = false;
    bool chunked = false;
    bool sse = false;
    qint64 readId = 0;     // which read the bytes being parsed came from
    qint64 lastReadId = -1; // read of the last entry in r->chunks (non-chunked bodies)
    QByteArray chunk;
    SseParser sseParser;
    qint64 bodyBytes = 0;

    void pushHeader()
    {
        r->headers.insert(field.toLower(), value.trimmed());
        field.clear();
        value.clear();
        inValue = false;
    }
};

ResponseParse *state(llhttp_t *p)
{
    return static_cast<ResponseParse *>(p->data);
}

const llhttp_settings_t *responseSettings()
{
    static const llhttp_settings_t s = [] {
        llhttp_settings_t st;
        llhttp_settings_init(&st);
        st.on_status = [](llhttp_t *p, const char *at, size_t len) {
            state(p)->r->reason.append(at, static_cast<qsizetype>(len));
            return 0;
        };
        st.on_header_field = [](llhttp_t *p, const char *at, size_t len) {
            ResponseParse *s = state(p);
            if (s->inValue)
                s->pushHeader();
            s->field.append(at, static_cast<qsizetype>(len));
            return 0;
        };
        st.on_header_value = [](llhttp_t *p, const char *at, size_t len) {
            ResponseParse *s = state(p);
            s->inValue = true;
            s->value.append(at, static_cast<qsizetype>(len));
            return 0;
        };
        st.on_headers_complete = [](llhttp_t *p) {
            ResponseParse *s = state(p);
            if (s->inValue || !s->field.isEmpty())
                s->pushHeader();
            s->r->status = p->status_code;
            if (p->status_code >= 200) {
                s->headersDone = true;
                s->r->headersAtMs = s->nowMs;
                s->chunked = (p->flags & F_CHUNKED) != 0;
                s->sse = s->r->headers.value(QByteArrayLiteral("content-type")).toLower().contains("text/event-stream");
            }
            return s->headRequest ? 1 : 0; // 1: no body follows (HEAD)
        };
        st.on_body = [](llhttp_t *p, const char *at, size_t len) {
            ResponseParse *s = state(p);
            const QByteArrayView data(at, static_cast<qsizetype>(len));
            HttpResponse *r = s->r;
            if (r->firstBodyAtMs < 0)
                r->firstBodyAtMs = s->nowMs;
            r->body.append(data);
            s->bodyBytes += data.size();
            if (s->chunked) {
                s->chunk.append(data);
            } else if (s->lastReadId == s->readId && !r->chunks.isEmpty()) {
                r->chunks.last().data.append(data);
            } else {
                r->chunks.append(Arrival{s->nowMs, data.toByteArray()});
                s->lastReadId = s->readId;
            }
            if (s->sse)
                s->sseParser.feed(data, s->nowMs, r->events);
            return 0;
        };
        st.on_chunk_complete = [](llhttp_t *p) {
            ResponseParse *s = state(p);
            if (!s->chunk.isEmpty())
                s->r->chunks.append(Arrival{s->nowMs, s->chunk});
            s->chunk.clear();
            return 0;
        };
        st.on_message_complete = [](llhttp_t *p) {
            ResponseParse *s = state(p);
            if (p->status_code < 200) {
                // An interim response (100 Continue): forget it and wait for the real one.
                s->r->status = 0;
                s->r->reason.clear();
                s->r->headers.clear();
                return 0;
            }
            s->messageDone = true;
            return static_cast<int>(HPE_PAUSED); // stop here: anything after belongs to no request of ours
        };
        return st;
    }();
    return &s;
}

bool hasHeader(const Headers &headers, QByteArrayView name)
{
    for (const auto &h : headers) {
        if (QByteArrayView(h.first).compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

} // namespace

QList<SseEvent> parseSse(const QByteArray &body)
{
    QList<SseEvent> out;
    SseParser parser;
    parser.feed(body, 0, out);
    return out;
}

QList<QByteArray> sseEvents(const QByteArray &body)
{
    QList<QByteArray> out;
    for (const SseEvent &e : parseSse(body))
        out.append(e.data);
    return out;
}

QByteArray HttpResponse::header(QByteArrayView name) const
{
    return headers.value(name.toByteArray().toLower());
}

bool HttpResponse::hasHeader(QByteArrayView name) const
{
    return headers.contains(name.toByteArray().toLower());
}

QList<QByteArray> HttpResponse::eventData() const
{
    QList<QByteArray> out;
    for (const SseEvent &e : events)
        out.append(e.data);
    return out;
}

QString HttpResponse::describe() const
{
    QString s = QStringLiteral("status %1").arg(status);
    if (!error.isEmpty())
        s += QStringLiteral(", error: ") + error;
    if (timedOut)
        s += QStringLiteral(", timed out");
    if (peerClosed)
        s += QStringLiteral(", closed by the server");
    if (!body.isEmpty())
        s += QStringLiteral(", body: ") + QString::fromUtf8(body.left(400));
    return s;
}

HttpClient::HttpClient(quint16 port, QByteArray host)
    : m_port(port)
    , m_host(std::move(host))
{
}

HttpClient::~HttpClient()
{
    close();
}

HttpClient::HttpClient(HttpClient &&) noexcept = default;
HttpClient &HttpClient::operator=(HttpClient &&) noexcept = default;

void HttpClient::setBearer(const QByteArray &token)
{
    for (qsizetype i = m_defaultHeaders.size() - 1; i >= 0; --i) {
        if (m_defaultHeaders[i].first.compare("authorization", Qt::CaseInsensitive) == 0)
            m_defaultHeaders.removeAt(i);
    }
    m_defaultHeaders.append({QByteArrayLiteral("Authorization"), "Bearer " + token});
}

void HttpClient::close()
{
    if (m_socket) {
        m_socket->abort();
        m_socket.reset();
    }
}

bool HttpClient::ensureConnected(int timeoutMs, QString *error)
{
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
        return true;
    m_socket = std::make_unique<QTcpSocket>();
    m_socket->connectToHost(QString::fromLatin1(m_host), m_port);
    if (!m_socket->waitForConnected(timeoutMs)) {
        *error = QStringLiteral("cannot connect to %1:%2: %3")
                     .arg(QString::fromLatin1(m_host))
                     .arg(m_port)
                     .arg(m_socket->errorString());
        m_socket.reset();
        return false;
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    ++m_connectionsOpened;
    return true;
}

QByteArray HttpClient::buildHead(const QByteArray &method, const QByteArray &path, const Headers &headers,
                                 qint64 bodySize, bool chunked) const
{
    QByteArray head = method + ' ' + path + " HTTP/1.1\r\n";
    if (!hasHeader(headers, "host"))
        head += "Host: " + m_host + ':' + QByteArray::number(m_port) + "\r\n";
    for (const auto &h : m_defaultHeaders) {
        if (!hasHeader(headers, h.first))
            head += h.first + ": " + h.second + "\r\n";
    }
    for (const auto &h : headers)
        head += h.first + ": " + h.second + "\r\n";
    if (!hasHeader(headers, "content-length") && !hasHeader(headers, "transfer-encoding")) {
        if (chunked)
            head += "Transfer-Encoding: chunked\r\n";
        else if (bodySize > 0 || method == "POST" || method == "PUT" || method == "PATCH")
            head += "Content-Length: " + QByteArray::number(bodySize) + "\r\n";
    }
    head += "\r\n";
    return head;
}

HttpResponse HttpClient::request(const QByteArray &method, const QByteArray &path, const Headers &headers,
                                 const QByteArray &body, const RequestOptions &options)
{
    const bool chunked = options.chunkedUpload;
    const QByteArray head = buildHead(method, path, headers, body.size(), chunked);
    qint64 offset = 0;
    const BodySource source = [&body, &offset](qint64 maxBytes) {
        const QByteArray piece = body.mid(offset, maxBytes);
        offset += piece.size();
        return piece;
    };
    const bool reusing = m_keepAlive && m_socket && m_socket->state() == QAbstractSocket::ConnectedState;
    HttpResponse r = exchange(head, body.size(), source, chunked, method == "HEAD", options);
    if (reusing && r.status == 0 && r.raw.isEmpty() && (r.peerClosed || !r.error.isEmpty())) {
        // The server had closed the idle kept-alive connection: try once on a new one.
        close();
        offset = 0;
        r = exchange(head, body.size(), source, chunked, method == "HEAD", options);
    }
    return r;
}

HttpResponse HttpClient::get(const QByteArray &path, const Headers &headers, const RequestOptions &options)
{
    return request(QByteArrayLiteral("GET"), path, headers, {}, options);
}

HttpResponse HttpClient::post(const QByteArray &path, const QByteArray &body, const Headers &headers,
                              const RequestOptions &options)
{
    Headers h = headers;
    if (!hasHeader(h, "content-type"))
        h.prepend({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
    return request(QByteArrayLiteral("POST"), path, h, body, options);
}

HttpResponse HttpClient::postJson(const QByteArray &path, const QJsonObject &body, const Headers &headers,
                                  const RequestOptions &options)
{
    return post(path, QJsonDocument(body).toJson(QJsonDocument::Compact), headers, options);
}

HttpResponse HttpClient::requestLargeBody(const QByteArray &method, const QByteArray &path, const Headers &headers,
                                          qint64 size, char fill, const RequestOptions &options)
{
    const QByteArray head = buildHead(method, path, headers, size, options.chunkedUpload);
    qint64 left = size;
    const QByteArray block(256 * 1024, fill);
    const BodySource source = [&left, &block](qint64 maxBytes) {
        const qint64 n = qMin(qMin(left, maxBytes), static_cast<qint64>(block.size()));
        left -= n;
        return n == block.size() ? block : block.left(n);
    };
    close(); // always a fresh connection: the server may close it early
    return exchange(head, size, source, options.chunkedUpload, false, options);
}

HttpResponse HttpClient::sendRaw(const QByteArray &bytes, const RequestOptions &options)
{
    close();
    const BodySource none = [](qint64) { return QByteArray(); };
    HttpResponse r = exchange(bytes, 0, none, false, false, options);
    close();
    return r;
}

HttpResponse HttpClient::exchange(const QByteArray &head, qint64 bodySize, const BodySource &body, bool chunked,
                                  bool headRequest, const RequestOptions &options)
{
    HttpResponse r;
    QElapsedTimer clock;
    clock.start();
    if (!ensureConnected(options.timeoutMs, &r.error)) {
        r.elapsedMs = static_cast<double>(clock.nsecsElapsed()) / 1e6;
        return r;
    }
    QTcpSocket *socket = m_socket.get();
    const bool slow = options.readChunkBytes > 0;
    if (slow) {
        socket->setReadBufferSize(options.readChunkBytes);
        socket->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption,
                                static_cast<int>(qMax<qint64>(options.readChunkBytes * 2, 4096)));
    } else {
        socket->setReadBufferSize(0);
    }

    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, responseSettings());
    ResponseParse st;
    st.r = &r;
    st.headRequest = headRequest;
    parser.data = &st;
    bool parseStopped = false;

    auto nowMs = [&clock] { return static_cast<double>(clock.nsecsElapsed()) / 1e6; };
    auto feed = [&](const QByteArray &data) {
        if (data.isEmpty())
            return;
        r.raw += data;
        if (parseStopped)
            return;
        st.nowMs = nowMs();
        ++st.readId;
        const llhttp_errno_t err = llhttp_execute(&parser, data.constData(), static_cast<size_t>(data.size()));
        if (err == HPE_PAUSED) {
            parseStopped = true;
        } else if (err != HPE_OK) {
            parseStopped = true;
            r.error = QStringLiteral("invalid HTTP response: %1 (%2)")
                          .arg(QString::fromLatin1(llhttp_errno_name(err)), QString::fromLatin1(llhttp_get_error_reason(&parser)));
        }
    };

    // Read greedily whenever Qt sees data, even inside waitForBytesWritten(): a server that answers
    // early and closes would otherwise make a later write error discard the answer.
    QMetaObject::Connection greedy;
    if (!slow)
        greedy = QObject::connect(socket, &QTcpSocket::readyRead, socket, [&] { feed(socket->readAll()); });

    socket->write(head);
    bool uploading = bodySize > 0 || chunked;
    qint64 written = 0;
    const qint64 pieceSize = qMax<qint64>(1024, options.uploadChunkBytes);

    for (;;) {
        if (!slow)
            feed(socket->readAll());
        if (st.messageDone) {
            r.complete = true;
            break;
        }
        if (!r.error.isEmpty())
            break;
        if (options.headersOnly && st.headersDone)
            break;
        if (options.disconnectAfterBodyBytes >= 0 && st.bodyBytes >= options.disconnectAfterBodyBytes && st.headersDone) {
            r.aborted = true;
            break;
        }
        const qint64 remaining = options.timeoutMs - clock.elapsed();
        if (remaining <= 0) {
            r.timedOut = true;
            break;
        }
        if (socket->state() != QAbstractSocket::ConnectedState && socket->bytesAvailable() == 0) {
            r.peerClosed = true;
            if (!parseStopped && st.headersDone) {
                // A body delimited by the end of the connection is complete now.
                st.nowMs = nowMs();
                if (llhttp_finish(&parser) == HPE_OK && st.messageDone)
                    r.complete = true;
            }
            if (!r.complete && r.error.isEmpty())
                r.error = QStringLiteral("connection closed before the response was complete: %1").arg(socket->errorString());
            break;
        }
        if (uploading && socket->state() == QAbstractSocket::ConnectedState && socket->bytesToWrite() < 1024 * 1024) {
            const QByteArray piece = body(pieceSize);
            if (piece.isEmpty()) {
                uploading = false;
                if (chunked)
                    socket->write("0\r\n\r\n");
            } else {
                if (chunked)
                    socket->write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
                else
                    socket->write(piece);
                written += piece.size();
            }
            continue;
        }
        const int wait = static_cast<int>(qMin<qint64>(remaining, slow ? options.readIntervalMs : 50));
        if (socket->bytesToWrite() > 0) {
            socket->waitForBytesWritten(wait);
        } else if (slow) {
            if (socket->bytesAvailable() == 0)
                socket->waitForReadyRead(wait);
            const QByteArray data = socket->read(options.readChunkBytes);
            feed(data);
            if (!data.isEmpty() && !st.messageDone)
                QThread::msleep(static_cast<unsigned long>(options.readIntervalMs));
        } else {
            socket->waitForReadyRead(wait);
        }
    }
    if (greedy)
        QObject::disconnect(greedy);
    r.uploadedBytes = written - (chunked ? 0 : qMin<qint64>(written, socket->bytesToWrite()));
    r.elapsedMs = nowMs();

    const bool reusable = m_keepAlive && r.complete && !r.aborted && llhttp_should_keep_alive(&parser)
        && socket->state() == QAbstractSocket::ConnectedState;
    if (!reusable) {
        if (r.aborted || r.timedOut || !r.complete)
            socket->abort();
        else
            socket->disconnectFromHost();
        m_socket.reset();
    } else if (slow) {
        socket->setReadBufferSize(0);
    }
    return r;
}

} // namespace gh::test
