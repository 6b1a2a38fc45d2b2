#include "upstream/upstreamconnection.h"
#include "http/bytewriter.h"
#include "core/logging.h"
#include <QSslSocket>
#include <QTcpSocket>

namespace gh {

static constexpr qint64 kReadChunk = 64 * 1024;
static constexpr qsizetype kCoalesceBody = 64 * 1024; // bodies below this share one buffer with the head

UpstreamConnection::UpstreamConnection(UpstreamClient *client, const QByteArray &poolKey, const UpstreamRequest &target)
    : QObject(client)
    , m_client(client)
    , m_poolKey(poolKey)
    , m_parser(HttpParser::Type::Response, this)
    , m_host(target.host)
    , m_port(target.port)
    , m_tls(target.tls)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &UpstreamConnection::onTimeout);
}

UpstreamConnection::~UpstreamConnection()
{
    if (m_call)
        m_call->m_connection = nullptr;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

bool UpstreamConnection::isUsable() const
{
    return m_socket && m_connected && !m_closing && m_socket->state() == QAbstractSocket::ConnectedState
        && m_socket->bytesAvailable() == 0 && m_phase == Phase::Idle;
}

void UpstreamConnection::send(UpstreamCall *call)
{
    m_call = call;
    call->m_connection = this;
    m_gotBytes = false;
    ++m_requests;
    const UpstreamRequest &r = call->m_request;

    if (!m_socket) {
        if (m_tls) {
            if (!QSslSocket::supportsSsl()) {
                m_phase = Phase::Connecting;
                QMetaObject::invokeMethod(this, [this] { fail(UpstreamFailure::Connect, QStringLiteral("TLS is not available (no OpenSSL backend)")); }, Qt::QueuedConnection);
                return;
            }
            auto *ssl = new QSslSocket(this);
            connect(ssl, &QSslSocket::encrypted, this, &UpstreamConnection::onConnected);
            connect(ssl, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
                fail(UpstreamFailure::Connect, QStringLiteral("TLS error: %1").arg(errors.isEmpty() ? QString() : errors.first().errorString()));
            });
            m_socket = ssl;
        } else {
            m_socket = new QTcpSocket(this);
            connect(m_socket, &QTcpSocket::connected, this, &UpstreamConnection::onConnected);
        }
        m_socket->setReadBufferSize(256 * 1024);
        connect(m_socket, &QTcpSocket::readyRead, this, &UpstreamConnection::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &UpstreamConnection::onClosed);
        connect(m_socket, &QTcpSocket::errorOccurred, this, &UpstreamConnection::onClosed);
        m_phase = Phase::Connecting;
        if (m_tls)
            static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(QString::fromLatin1(m_host), m_port);
        else
            m_socket->connectToHost(QString::fromLatin1(m_host), m_port);
    } else {
        m_phase = Phase::AwaitingHead;
    }

    // A small body goes in the same buffer as the head (one write to the kernel, one segment); a
    // large one is handed to the socket as it is (its buffer shares the QByteArray, no copy).
    const bool coalesce = !r.body.isEmpty() && r.body.size() < kCoalesceBody;
    ByteWriter head(512 + r.path.size() + (coalesce ? r.body.size() : 0));
    head << r.method << ' ' << r.path << " HTTP/1.1\r\nHost: " << m_host;
    if ((m_tls && m_port != 443) || (!m_tls && m_port != 80))
        (head << ':').number(m_port);
    head << "\r\n";
    for (const auto &[name, value] : r.headers)
        head << name << ": " << value << "\r\n";
    if (!r.body.isEmpty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
        head << "Content-Length: ";
        head.number(r.body.size()) << "\r\n";
    }
    head << "\r\n";
    if (coalesce)
        head << r.body;
    // Written now even while connecting: the socket sends it once the connection (and TLS) is up.
    m_socket->write(head.take());
    if (!coalesce && !r.body.isEmpty())
        m_socket->write(r.body);
    // On an open connection, write now rather than on the socket's next write notification: that
    // would cost another round of the event loop before the request leaves.
    // A write error inside flush() (the server closed this pooled connection) is handled once this
    // call has returned (m_inSend): the caller is still on the stack.
    if (m_connected && !m_tls) {
        m_inSend = true;
        m_socket->flush();
        m_inSend = false;
    }
    armTimer();
}

void UpstreamConnection::armTimer()
{
    if (!m_call || m_call->m_paused) {
        m_timer.stop();
        return;
    }
    const UpstreamRequest &r = m_call->m_request;
    switch (m_phase) {
    case Phase::Connecting: m_timer.start(r.connectTimeoutMs); break;
    case Phase::AwaitingHead: m_timer.start(r.firstByteTimeoutMs); break;
    case Phase::Body: m_timer.start(r.idleTimeoutMs); break;
    case Phase::Idle: m_timer.stop(); break;
    }
}

void UpstreamConnection::onConnected()
{
    m_connected = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    if (m_phase == Phase::Connecting) {
        m_phase = Phase::AwaitingHead;
        armTimer();
    }
}

void UpstreamConnection::onReadyRead()
{
    if (!m_call) {
        // Bytes on an idle connection: the server broke the protocol; never reuse it.
        if (m_phase == Phase::Idle)
            closeNow();
        return;
    }
    process();
}

void UpstreamConnection::process()
{
    if (m_inProcess || !m_socket)
        return;
    m_inProcess = true;
    QPointer<UpstreamConnection> guard(this);
    while (m_call && !m_call->m_paused && m_socket->bytesAvailable() > 0) {
        // Exactly what is buffered (up to kReadChunk): a single chunk is then handed over, not copied.
        const QByteArray chunk = m_socket->read(std::min(m_socket->bytesAvailable(), kReadChunk));
        m_gotBytes = true;
        size_t offset = 0;
        while (m_call && offset < size_t(chunk.size())) {
            size_t consumed = 0;
            const auto result = m_parser.feed(chunk.constData() + offset, size_t(chunk.size()) - offset, &consumed);
            offset += consumed;
            if (!guard)
                return;
            if (!m_call)
                break;
            if (result == HttpParser::Result::Error) {
                fail(UpstreamFailure::Protocol, QStringLiteral("invalid HTTP response from upstream (%1)").arg(QString::fromLatin1(m_parser.errorReason())));
                break;
            }
            if (result == HttpParser::Result::MessageComplete) {
                if (offset < size_t(chunk.size()))
                    m_closing = true; // bytes after the response: do not trust this connection again
                complete();
                break;
            }
        }
        if (!guard)
            return;
        if (m_call && m_phase == Phase::Body)
            armTimer();
    }
    m_inProcess = false;
    if (m_call && !m_call->m_paused && m_socket && m_socket->state() != QAbstractSocket::ConnectedState
        && m_socket->bytesAvailable() == 0)
        onClosed();
}

void UpstreamConnection::onHeadersComplete(HttpParser &parser)
{
    if (!m_call)
        return;
    m_phase = Phase::Body;
    if (parser.status() >= 100 && parser.status() < 200) {
        // An interim response (100 Continue): llhttp delivers the final one as the next message.
        return;
    }
    m_call->m_observer->upstreamHead(parser.status(), parser.headers());
}

void UpstreamConnection::onBody(HttpParser &, const char *data, size_t length)
{
    if (m_call)
        m_call->m_observer->upstreamBody(data, length);
}

void UpstreamConnection::complete()
{
    if (m_parser.status() >= 100 && m_parser.status() < 200) {
        m_parser.startNext();
        m_phase = Phase::AwaitingHead;
        return;
    }
    UpstreamCall *call = m_call;
    m_call = nullptr;
    call->m_connection = nullptr;
    m_timer.stop();
    m_phase = Phase::Idle;
    const bool keepAlive = m_parser.keepAlive() && !m_closing;
    m_parser.startNext();
    if (keepAlive)
        m_client->recycle(this);
    else
        closeNow();
    call->m_observer->upstreamDone();
}

void UpstreamConnection::fail(UpstreamFailure failure, const QString &message)
{
    UpstreamCall *call = m_call;
    m_call = nullptr;
    if (call)
        call->m_connection = nullptr;
    closeNow();
    if (call)
        call->m_observer->upstreamFailed(failure, message);
}

void UpstreamConnection::onClosed()
{
    if (m_closing)
        return;
    if (m_inSend) {
        QMetaObject::invokeMethod(this, [this] { onClosed(); }, Qt::QueuedConnection);
        return;
    }
    if (!m_call) {
        closeNow();
        return;
    }
    // Bytes that arrived with the close come first.
    if (m_socket->bytesAvailable() > 0) {
        if (m_call->m_paused)
            return; // handled in process() after resume
        process();
        if (!m_call)
            return;
    }
    if (m_phase == Phase::Body) {
        if (m_parser.finish() == HttpParser::Result::MessageComplete) {
            m_closing = true;
            complete();
            return;
        }
    }
    const bool wasConnected = m_connected;
    if (!m_gotBytes && m_call->m_reused && !m_call->m_retried && wasConnected) {
        UpstreamCall *call = m_call;
        m_call = nullptr;
        call->m_connection = nullptr;
        closeNow();
        m_client->retry(call);
        return;
    }
    QString message;
    UpstreamFailure failure = UpstreamFailure::Reset;
    if (!wasConnected) {
        failure = UpstreamFailure::Connect;
        message = QStringLiteral("cannot connect to %1:%2: %3").arg(QString::fromLatin1(m_host)).arg(m_port).arg(m_socket->errorString());
    } else if (m_phase == Phase::Body) {
        message = QStringLiteral("upstream connection closed in the middle of the response");
    } else {
        message = QStringLiteral("upstream closed the connection without answering");
    }
    fail(failure, message);
}

void UpstreamConnection::onTimeout()
{
    if (!m_call)
        return;
    const UpstreamRequest &r = m_call->m_request;
    switch (m_phase) {
    case Phase::Connecting:
        fail(UpstreamFailure::ConnectTimeout, QStringLiteral("connecting to %1:%2 timed out after %3 ms").arg(QString::fromLatin1(m_host)).arg(m_port).arg(r.connectTimeoutMs));
        break;
    case Phase::AwaitingHead:
        fail(UpstreamFailure::FirstByteTimeout, QStringLiteral("no response from upstream within %1 ms").arg(r.firstByteTimeoutMs));
        break;
    case Phase::Body:
        fail(UpstreamFailure::IdleTimeout, QStringLiteral("upstream response stalled for %1 ms").arg(r.idleTimeoutMs));
        break;
    case Phase::Idle:
        break;
    }
}

void UpstreamConnection::detach()
{
    m_call = nullptr;
    closeNow();
}

void UpstreamConnection::resume()
{
    armTimer();
    QMetaObject::invokeMethod(this, [this] {
        if (m_call && !m_call->m_paused)
            process();
    }, Qt::QueuedConnection);
}

void UpstreamConnection::closeNow()
{
    if (m_closing && !m_socket)
        return;
    m_closing = true;
    m_timer.stop();
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    m_client->forget(this);
}

} // namespace gh
