#include "gateway/clientconnection.h"
#include "core/logging.h"
#include "gateway/exchange.h"
#include "gateway/gatewaycontext.h"
#include "gateway/httpstatus.h"
#include "http/bytewriter.h"
#include <QDateTime>
#include <QTcpSocket>
#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace gh {

static constexpr qint64 kMaxPending = 1 * 1024 * 1024;   // unparsed bytes kept while busy
static constexpr qint64 kHighWater = 1 * 1024 * 1024;    // pause the upstream above this much unsent output
static constexpr qint64 kLowWater = 256 * 1024;
static constexpr qint64 kMaxDiscard = 256ll * 1024 * 1024; // body bytes read and dropped after a 413
static constexpr int kLingerMs = 2'000;         // after an error that closes: input dropped this long at most
static constexpr qint64 kMaxLinger = 4 * 1024 * 1024; // ...and this much

ClientConnection::ClientConnection(qintptr descriptor, GatewayContext *context, UpstreamClient *upstream,
                                   RequestJournal *journal, QObject *parent)
    : QObject(parent)
    , m_context(context)
    , m_upstream(upstream)
    , m_journal(journal)
    , m_socket(new QTcpSocket(this))
    , m_parser(HttpParser::Type::Request, this)
{
    m_socket->setSocketDescriptor(descriptor);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    // Without a bound the socket reads everything the client sends into memory even while a
    // request is being served (a pipelining or flooding client); with it, TCP flow control holds
    // the client back once this much waits unread.
    m_socket->setReadBufferSize(kMaxPending);
    connect(m_socket, &QTcpSocket::readyRead, this, &ClientConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &ClientConnection::onDisconnected);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &ClientConnection::onBytesWritten);
    m_discardTimer.setSingleShot(true);
    connect(&m_discardTimer, &QTimer::timeout, this, [this] {
        if (m_lingering && !m_gone)
            m_socket->abort(); // a client that reads nothing of its answer: cut it
        else
            finishClose();
    });
    m_readTimer.setSingleShot(true);
    connect(&m_readTimer, &QTimer::timeout, this, &ClientConnection::onReadTimeout);
    m_lastActivityMs = QDateTime::currentMSecsSinceEpoch();
    updateReadTimer(false);
}

ClientConnection::~ClientConnection()
{
    if (m_releaseTarget) {
        std::lock_guard lock(m_releaseTarget->mutex);
        m_releaseTarget->connection = nullptr;
    }
    m_context->openConnections.fetch_sub(1); // counted by GatewayServer at accept
    if (m_leaving)
        m_context->leavingConnections.fetch_sub(1);
    if (m_exchange) {
        auto exchange = std::move(m_exchange);
        exchange->clientGone();
    }
}

void ClientConnection::onReadyRead()
{
    if (m_gone)
        return;
    if (m_lingering) {
        m_discarded += m_socket->skip(m_socket->bytesAvailable());
        if (m_discarded > kMaxLinger)
            m_socket->abort(); // emits disconnected: cleaned up there
        return;
    }
    m_lastActivityMs = QDateTime::currentMSecsSinceEpoch();
    if (m_tooLarge) {
        // Read and drop the rest of an oversized body so the client sees our 413 instead of a reset.
        const QByteArray data = m_socket->readAll();
        size_t consumed = 0;
        m_discarded += data.size();
        const auto r = m_parser.feed(data.constData(), size_t(data.size()), &consumed);
        if (r != HttpParser::Result::NeedMore || m_discarded > kMaxDiscard)
            finishClose();
        return;
    }
    if (m_exchange && m_pending.size() >= kMaxPending)
        return; // leave it in the socket: TCP flow control holds a pipelining client back
    // The usual case: nothing pending and one chunk in the socket's buffer, which read() of exactly
    // that size hands over without copying it (readAll() would copy it into a new array).
    if (m_pending.isEmpty())
        m_pending = m_socket->read(m_socket->bytesAvailable());
    else
        m_pending.append(m_socket->readAll());
    if (!m_exchange) {
        parsePending();
        updateReadTimer(true);
    }
}

void ClientConnection::parsePending()
{
    while (!m_exchange && !m_closing && !m_pending.isEmpty()) {
        if (!m_parser.messageStarted()) {
            m_arrival.start();
            m_arrivalMs = QDateTime::currentMSecsSinceEpoch();
            m_body.clear();
            m_bodyLimit = m_context->settings()->maxBodyBytes;
        }
        size_t consumed = 0;
        const auto result = m_parser.feed(m_pending.constData(), size_t(m_pending.size()), &consumed);
        if (m_tooLarge) {
            m_discarded += qint64(consumed);
            m_pending.clear();
            if (result != HttpParser::Result::NeedMore)
                finishClose();
            return;
        }
        m_pending.remove(0, qsizetype(consumed));
        if (result == HttpParser::Result::Error) {
            m_pending.clear();
            const QString reason = QString::fromLatin1(m_parser.errorReason());
            switch (m_parser.errorKind()) {
            case HttpParser::ErrorKind::HeadersTooLarge: {
                GatewayError e = GatewayError::badRequest(QStringLiteral("Request header fields too large: %1.").arg(reason), "headers_too_large");
                e.status = 431;
                failAndClose(431, e);
                break;
            }
            case HttpParser::ErrorKind::RequestLineTooLong:
                failAndClose(400, GatewayError::badRequest(QStringLiteral("Request line too long: %1.").arg(reason), "request_line_too_long"));
                break;
            default:
                failAndClose(400, GatewayError::badRequest(QStringLiteral("Malformed HTTP request: %1").arg(reason), "bad_http"));
                break;
            }
            return;
        }
        if (result == HttpParser::Result::NeedMore)
            return;
        dispatch();
    }
}

void ClientConnection::onHeadersComplete(HttpParser &parser)
{
    const auto length = parser.contentLength();
    // Compared unsigned: a Content-Length of 2^64-1 is refused here, not read as -1.
    if (length && *length > quint64(m_bodyLimit)) {
        rejectTooLarge();
        return;
    }
    if (length)
        m_body.reserve(qsizetype(*length) + 64);
    // curl and others wait (about a second) for this before sending a large body.
    if (parser.headers().value("expect").toLower() == "100-continue")
        write("HTTP/1.1 100 Continue\r\n\r\n");
}

void ClientConnection::onBody(HttpParser &, const char *data, size_t length)
{
    if (m_tooLarge)
        return;
    if (m_body.size() + qint64(length) > m_bodyLimit) {
        rejectTooLarge();
        return;
    }
    m_body.append(data, qsizetype(length));
}

void ClientConnection::rejectTooLarge()
{
    m_tooLarge = true;
    m_body = QByteArray();
    m_closeAfterResponse = true;
    const GatewayError e = GatewayError::tooLarge(m_bodyLimit);
    sendResponse(413, {{"content-type", "application/json"}}, e.toOpenAIJson());
    // Keep reading (and dropping) what the client is still sending, for a while, then close.
    m_discardTimer.start(30'000);
}

void ClientConnection::dispatch()
{
    m_keepAlive = m_parser.keepAlive();
    if (!m_keepAlive)
        m_closeAfterResponse = true;
    HttpHeaders headers = m_parser.headers();
    m_parser.startNext();
    m_headRequest = m_parser.method() == "HEAD";
    m_exchange = std::make_unique<Exchange>(this, m_parser.method(), m_parser.url(), std::move(headers),
                                            std::exchange(m_body, QByteArray()), m_arrival, m_arrivalMs);
    m_exchange->start();
}

void ClientConnection::exchangeFinished()
{
    // Called by the exchange when its response is complete; it may still be on the call stack, so
    // destroy it later.
    if (!m_exchange)
        return;
    Exchange *finished = m_exchange.release();
    QTimer::singleShot(0, [finished] { delete finished; });
    if (m_closeAfterResponse || m_context->shuttingDown.load()) {
        finishClose();
        return;
    }
    m_lastActivityMs = QDateTime::currentMSecsSinceEpoch();
    updateReadTimer(false);
    if (!m_pending.isEmpty())
        QMetaObject::invokeMethod(this, [this] { parsePending(); }, Qt::QueuedConnection);
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, [this] { onReadyRead(); }, Qt::QueuedConnection);
}

void ClientConnection::write(QByteArrayView data)
{
    if (m_gone)
        return;
    if (m_holds > 0) {
        m_held.append(data.data(), data.size());
        return;
    }
    m_socket->write(data.data(), data.size());
    // Hand it to the kernel now instead of on the socket's next write notification (another round of
    // the event loop); what the kernel does not take stays buffered and goes out on that notification.
    // The socket may report a write error (the client is gone) or bytes written from inside flush():
    // those are handled once this call has returned (m_inWrite), since the caller, usually the
    // exchange, is still on the stack.
    m_inWrite = true;
    m_socket->flush();
    m_inWrite = false;
}

// The status line and the given header fields of a response head.
void ClientConnection::writeHead(ByteWriter &out, int status, const HeaderList &headers)
{
    out << "HTTP/1.1 ";
    out.number(status) << ' ' << reasonPhrase(status) << "\r\n";
    for (const auto &[name, value] : headers)
        out << name << ": " << value << "\r\n";
}

// The end of a response head: "connection: close" when this is the connection's last response.
void ClientConnection::endHead(ByteWriter &out) const
{
    if (m_closeAfterResponse || m_context->shuttingDown.load())
        out << "connection: close\r\n";
    out << "\r\n";
}

void ClientConnection::sendResponse(int status, const HeaderList &headers, const QByteArray &body)
{
    // After a 400 the request stream cannot be trusted (where does the next request start?): close.
    if (status == 400)
        m_closeAfterResponse = true;
    const bool inline_ = body.size() < 64 * 1024; // a small body goes in the same write as the head
    ByteWriter out(512 + (inline_ ? body.size() : 0));
    writeHead(out, status, headers);
    out << "content-length: ";
    out.number(body.size()) << "\r\n";
    endHead(out);
    tapHead(headers);
    if (!m_headRequest)
        tapBody(body);
    // A HEAD answer is the GET answer's head, its length included, without the body (RFC 9110 9.3.2):
    // a body here would be read as the start of the next response.
    if (m_headRequest) {
        write(out.take());
        return;
    }
    if (inline_) {
        out << body;
        write(out.take());
    } else {
        write(out.take());
        write(body);
    }
}

void ClientConnection::beginStream(int status, const HeaderList &headers)
{
    ByteWriter out(512);
    writeHead(out, status, headers);
    out << "transfer-encoding: chunked\r\n";
    endHead(out);
    write(out.take());
    tapHead(headers);
}

void ClientConnection::sendChunk(QByteArrayView data)
{
    if (data.isEmpty())
        return;
    tapBody(data);
    ByteWriter out(data.size() + 32);
    out.number(data.size(), 16) << "\r\n" << data << "\r\n";
    write(out.take());
    if (pendingOutput() > kHighWater)
        m_drainSignalArmed = true;
}

void ClientConnection::endStream()
{
    write("0\r\n\r\n");
}

void ClientConnection::beginBody(int status, const HeaderList &headers, qint64 contentLength)
{
    ByteWriter out(512);
    writeHead(out, status, headers);
    out << "content-length: ";
    out.number(contentLength) << "\r\n";
    endHead(out);
    write(out.take());
    tapHead(headers);
}

void ClientConnection::sendBodyPart(QByteArrayView data)
{
    if (data.isEmpty())
        return;
    tapBody(data);
    write(data);
    if (pendingOutput() > kHighWater) // held output counts: the exchange pauses on pendingOutput()
        m_drainSignalArmed = true;
}

void ClientConnection::tapResponse(qsizetype limit)
{
    m_tapLimit = qMax<qsizetype>(0, limit);
    m_tap.clear();
    m_tapType.clear();
    m_tapCut = false;
}

QByteArray ClientConnection::takeTap(QByteArray *contentType, bool *cut)
{
    *contentType = std::exchange(m_tapType, QByteArray());
    *cut = m_tapCut;
    m_tapLimit = -1;
    m_tapCut = false;
    return std::exchange(m_tap, QByteArray());
}

void ClientConnection::tapHead(const HeaderList &headers)
{
    if (m_tapLimit < 0)
        return;
    for (const auto &h : headers)
        if (h.first.compare("content-type", Qt::CaseInsensitive) == 0)
            m_tapType = h.second;
}

void ClientConnection::tapBody(QByteArrayView data)
{
    if (m_tapLimit < 0 || data.isEmpty())
        return;
    const qsizetype room = m_tapLimit - m_tap.size();
    if (data.size() > room) {
        m_tapCut = true;
        data = data.first(qMax<qsizetype>(0, room));
    }
    m_tap.append(data);
}

qint64 ClientConnection::pendingOutput() const
{
    return m_socket->bytesToWrite() + m_held.size();
}

std::function<void()> ClientConnection::holdOutput()
{
    if (!m_releaseTarget) {
        m_releaseTarget = std::make_shared<ReleaseTarget>();
        m_releaseTarget->connection = this;
    }
    ++m_holds;
    return [target = m_releaseTarget] {
        // The posted call is removed with the connection if it is deleted before it runs (~QObject);
        // the mutex covers the time between the check and the post.
        std::lock_guard lock(target->mutex);
        if (ClientConnection *c = target->connection)
            QMetaObject::invokeMethod(c, [c] { c->releaseOutput(); }, Qt::QueuedConnection);
    };
}

void ClientConnection::releaseOutput()
{
    if (m_holds == 0 || --m_holds > 0)
        return;
    if (!m_held.isEmpty()) {
        const QByteArray held = std::exchange(m_held, QByteArray());
        write(held);
        if (m_socket->bytesToWrite() > kHighWater)
            m_drainSignalArmed = true;
        else if (m_drainSignalArmed)
            // Armed while held (the exchange paused on the held bytes), and the socket took them at
            // once: no bytesWritten will come to say so, so say it now.
            QMetaObject::invokeMethod(this, [this] { onBytesWritten(); }, Qt::QueuedConnection);
    }
    if (m_closeOnRelease) {
        m_closeOnRelease = false;
        finishClose();
    }
}

void ClientConnection::onBytesWritten()
{
    if (m_inWrite) {
        QMetaObject::invokeMethod(this, [this] { onBytesWritten(); }, Qt::QueuedConnection);
        return;
    }
    if (m_drainSignalArmed && m_socket->bytesToWrite() < kLowWater) {
        m_drainSignalArmed = false;
        if (m_exchange)
            m_exchange->onOutputDrained();
        Q_EMIT outputDrained();
    }
    if (m_closing && m_socket->bytesToWrite() == 0 && !m_tooLarge) {
        if (m_lingering)
            lingerClose();
        else
            m_socket->disconnectFromHost();
    }
}

void ClientConnection::onDisconnected()
{
    if (m_gone)
        return;
    m_gone = true; // no more output
    if (m_inWrite) {
        // From inside write(): the exchange that is writing is on the stack; tell it once it has returned.
        QMetaObject::invokeMethod(this, [this] { dropExchange(); }, Qt::QueuedConnection);
        return;
    }
    dropExchange();
}

void ClientConnection::dropExchange()
{
    if (m_exchange) {
        auto exchange = std::move(m_exchange);
        exchange->clientGone();
    }
    Q_EMIT closed();
    deleteLater();
}

void ClientConnection::finishClose()
{
    m_closing = true;
    m_discardTimer.stop();
    if (!m_lingering)
        m_readTimer.stop();
    if (m_gone)
        return;
    if (m_holds > 0) {
        m_closeOnRelease = true; // the held response goes out first
        return;
    }
    if (m_tooLarge) {
        // The response is written; give it a moment to leave before closing.
        m_tooLarge = false;
    }
    // Hand what is buffered to the kernel now: during shutdown the worker thread (and this socket)
    // may be gone before the event loop would have written it.
    m_socket->flush();
    // disconnectFromHost waits for anything still unwritten before it closes.
    m_socket->disconnectFromHost();
}

void ClientConnection::failAndClose(int status, const GatewayError &error)
{
    m_closeAfterResponse = true;
    m_readTimer.stop();
    m_readPhase = ReadPhase::None;
    sendResponse(status, {{"content-type", "application/json"}}, error.toOpenAIJson());
    m_closing = true;
    m_lingering = true;
    m_discarded = 0;
    if (m_gone)
        return;
    m_socket->flush();
    if (m_socket->bytesToWrite() == 0)
        lingerClose(); // else once it is written (onBytesWritten)
    // A client that neither reads nor closes is cut after a while in any case.
    m_discardTimer.start(kLingerMs + 10'000);
}

void ClientConnection::lingerClose()
{
    if (m_gone || m_readTimer.isActive())
        return;
    // The answer is out: end our side (FIN), drop what still comes, close when the client does.
#ifdef Q_OS_WIN
    ::shutdown(SOCKET(m_socket->socketDescriptor()), SD_SEND);
#else
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
#endif
    m_discarded += m_socket->skip(m_socket->bytesAvailable());
    m_readPhase = ReadPhase::None;
    m_readTimer.start(kLingerMs);
}

void ClientConnection::updateReadTimer(bool gotBytes)
{
    if (m_exchange || m_closing || m_gone || m_tooLarge) {
        if (!m_lingering)
            m_readTimer.stop();
        m_readPhase = ReadPhase::None;
        return;
    }
    const ReadPhase phase = !m_parser.messageStarted() ? ReadPhase::Idle
        : !m_parser.headersDone()                       ? ReadPhase::Head
                                                        : ReadPhase::Body;
    // A head gets one deadline from its first byte (a byte now and then must not extend it); a body
    // only must not fall silent for longer than the idle timeout.
    if (phase == m_readPhase && !(phase == ReadPhase::Body && gotBytes))
        return;
    m_readPhase = phase;
    const ConnectionSettings &limits = m_context->settings()->connections;
    m_readTimer.start(phase == ReadPhase::Head ? limits.headerTimeoutMs : limits.idleTimeoutMs);
}

void ClientConnection::onReadTimeout()
{
    if (m_gone)
        return;
    if (m_lingering) {
        m_socket->abort(); // the client did not close in time; emits disconnected
        return;
    }
    const ReadPhase phase = m_readPhase;
    m_readPhase = ReadPhase::None;
    if (m_exchange || m_closing)
        return;
    if (phase == ReadPhase::Idle) {
        finishClose();
        return;
    }
    const ConnectionSettings limits = m_context->settings()->connections;
    GatewayError e = GatewayError::badRequest(
        phase == ReadPhase::Head
            ? QStringLiteral("Request headers not received within %1 ms; raise settings.connections.header_timeout_ms to allow slower clients.").arg(limits.headerTimeoutMs)
            : QStringLiteral("Request body stalled for %1 ms; raise settings.connections.idle_timeout_ms to allow slower clients.").arg(limits.idleTimeoutMs),
        "request_timeout");
    e.status = 408;
    failAndClose(408, e);
}

int ClientConnection::evictionRank() const
{
    if (m_exchange || m_closing || m_gone || m_tooLarge)
        return -1;
    return m_parser.messageStarted() ? 1 : 0;
}

void ClientConnection::markLeaving()
{
    if (!m_leaving) {
        m_leaving = true;
        m_context->leavingConnections.fetch_add(1);
    }
}

void ClientConnection::evict()
{
    if (evictionRank() < 0)
        return;
    markLeaving();
    if (m_parser.messageStarted()) {
        failAndClose(503, GatewayError::unavailable(QStringLiteral("Too many connections to Gatehouse: this one was closed to make room (settings.connections.max_connections)."), "too_many_connections"));
        return;
    }
    finishClose();
}

void ClientConnection::refuseOverCapacity()
{
    markLeaving();
    failAndClose(503, GatewayError::unavailable(QStringLiteral("Too many connections to Gatehouse, and every one is busy: retry in a moment (settings.connections.max_connections)."), "too_many_connections"));
}

void ClientConnection::closeWhenIdle()
{
    m_closeAfterResponse = true;
    if (m_exchange)
        return;
    if (m_parser.messageStarted() && !m_tooLarge && !m_closing && !m_gone) {
        // A request is still arriving: say why it will not be served rather than just hanging up.
        const GatewayError e = GatewayError::unavailable(QStringLiteral("Gatehouse is shutting down; retry in a moment."), "shutting_down");
        sendResponse(503, {{"content-type", "application/json"}}, e.toOpenAIJson());
    }
    finishClose();
}

void ClientConnection::abortNow()
{
    if (m_exchange) {
        auto exchange = std::move(m_exchange);
        exchange->abortForShutdown();
    }
    finishClose();
}

} // namespace gh
