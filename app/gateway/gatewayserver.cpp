#include "gateway/gatewayserver.h"
#include "core/logging.h"
#include "gateway/gatewaycontext.h"
#include "gateway/gatewayworker.h"
#include "platform/filelimit.h"
#ifndef Q_OS_WIN
#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#endif
#include <QPointer>
#include <QSocketNotifier>
#include <QTimer>

namespace gh {

// QTcpServer binds and listens. On POSIX systems the listener accepts by itself: QTcpServer's
// accept loop tells "out of descriptors" (EMFILE) from "nothing pending" (EAGAIN) by its socket
// engine's error, which keeps the first error it was given; once an EAGAIN was seen, every EMFILE
// reads as a temporary error and the loop polls and fails again at once, at 100% CPU (measured here:
// 11,585 failed accept4 calls in 1.5 s).
// How far accepting may run ahead of the connection cap while workers close idle connections.
static constexpr int kAcceptAhead = 8;

class GatewayServer::Listener : public QTcpServer
{
public:
    explicit Listener(GatewayServer *server)
        : QTcpServer(server)
        , m_server(server)
    {
        connect(this, &QTcpServer::acceptError, server, [this](QAbstractSocket::SocketError error) { m_server->onAcceptError(this, error); });
    }

    bool start(const QHostAddress &address, quint16 port)
    {
        setListenBacklogSize(1024);
        if (!listen(address, port))
            return false;
#ifndef Q_OS_WIN
        pauseAccepting(); // QTcpServer's own notifier stays off
        m_notifier = new QSocketNotifier(socketDescriptor(), QSocketNotifier::Read, this);
        connect(m_notifier, &QSocketNotifier::activated, this, [this] { acceptPending(); });
#endif
        return true;
    }

    void setAccepting(bool on)
    {
        if (m_notifier)
            m_notifier->setEnabled(on);
        else if (on)
            resumeAccepting();
        else
            pauseAccepting();
    }

    void stop()
    {
        delete m_notifier; // before its descriptor is closed
        m_notifier = nullptr;
        close();
    }

protected:
    void incomingConnection(qintptr descriptor) override { m_server->dispatch(descriptor); }

private:
#ifndef Q_OS_WIN
    void acceptPending()
    {
        // A bounded batch per notification, so that the workers' queued evictions and timers get a turn.
        for (int i = 0; i < 128; ++i) {
            if (m_server->m_context->openConnections.load() > m_server->m_context->connectionCap() + kAcceptAhead) {
                // The workers are still closing connections to make room: wait for them in the
                // backlog rather than take descriptors the upstream connections need.
                m_notifier->setEnabled(false);
                QTimer::singleShot(10, this, [this] {
                    if (m_notifier)
                        m_notifier->setEnabled(true);
                });
                return;
            }
#ifdef Q_OS_LINUX
            const int fd = ::accept4(int(socketDescriptor()), nullptr, nullptr, SOCK_CLOEXEC);
#else
            const int fd = ::accept(int(socketDescriptor()), nullptr, nullptr);
            if (fd >= 0)
                ::fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
            if (fd >= 0) {
                m_server->dispatch(fd);
                continue;
            }
            const int error = errno;
            if (error == EINTR || error == ECONNABORTED || error == EPROTO)
                continue; // that connection is gone; the next one may be fine
            if (error == EAGAIN || error == EWOULDBLOCK)
                return;
            m_notifier->setEnabled(false); // until onAcceptError's back-off is over
            const bool resources = error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
            m_server->onAcceptError(this, resources ? QAbstractSocket::SocketResourceError : QAbstractSocket::UnknownSocketError);
            return;
        }
    }
#endif

    GatewayServer *m_server;
    QSocketNotifier *m_notifier = nullptr;
};

GatewayServer::GatewayServer(GatewayContext *context, QObject *parent)
    : QObject(parent)
    , m_context(context)
{
}

GatewayServer::~GatewayServer()
{
    stopListening();
    stopWorkers();
}

bool GatewayServer::listen(quint16 port, int workerCount, QString *error)
{
    // Every connection holds a descriptor (two while it is proxied): keep the connection cap within
    // what the file limit allows, with room for the database, the upstream pools and the rest.
    const int files = raiseOpenFileLimit();
    if (files > 0) {
        m_context->fdConnectionCap = qMax(8, (files - 64) / 2);
        qCInfo(lcGateway) << "open file limit" << files << "- at most" << m_context->fdConnectionCap.load() << "client connections";
    }
    auto *v4 = new Listener(this);
    if (!v4->start(QHostAddress::LocalHost, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on 127.0.0.1:%1: %2").arg(port).arg(v4->errorString());
        delete v4;
        return false;
    }
    m_listeners.append(v4);
    auto *v6 = new Listener(this);
    if (v6->start(QHostAddress::LocalHostIPv6, v4->serverPort()))
        m_listeners.append(v6);
    else
        delete v6; // no IPv6 loopback here, or the port is taken on ::1: 127.0.0.1 is enough

    for (int i = 0; i < qMax(1, workerCount); ++i) {
        auto *thread = new QThread;
        thread->setObjectName(QStringLiteral("gateway-worker-%1").arg(i));
        auto *worker = new GatewayWorker(m_context);
        worker->moveToThread(thread);
        connect(thread, &QThread::finished, worker, &QObject::deleteLater);
        thread->start();
        m_threads.append(thread);
        m_workers.append(worker);
    }
    for (GatewayWorker *w : std::as_const(m_workers))
        w->setSiblings(m_workers);
    return true;
}

quint16 GatewayServer::port() const
{
    return m_listeners.isEmpty() ? 0 : m_listeners.first()->serverPort();
}

bool GatewayServer::isListening() const
{
    return !m_listeners.isEmpty();
}

void GatewayServer::dispatch(qintptr descriptor)
{
    if (m_workers.isEmpty())
        return;
    m_acceptBackoffMs = 0;
    m_context->openConnections.fetch_add(1); // until the ClientConnection is destroyed
    GatewayWorker *worker = m_workers[m_next++ % m_workers.size()];
    worker->accept(descriptor);
}

void GatewayServer::onAcceptError(Listener *listener, QAbstractSocket::SocketError error)
{
    // Accepting is paused (by the listener, or by QTcpServer before it reports the error).
    ++m_acceptErrors;
    const int open = m_context->openConnections.load();
    if (error == QAbstractSocket::SocketResourceError) {
        // Out of descriptors: the limit is lower than assumed (lowered from outside, or used by
        // something else). Keep a quarter of what is open now free for upstream connections and
        // the store, and close the oldest idle connections down to that.
        // Only while the cap is not reached: over it, closing connections has not caught up with this
        // thread's accepts yet (it is queued to the workers), and lowering it again would ratchet it down.
        int cap = m_context->connectionCap();
        if (open <= cap) {
            cap = qMax(8, open * 3 / 4);
            m_context->fdConnectionCap = cap;
        }
        const int excess = m_context->stayingConnections() - cap; // not again for evictions under way
        if (excess > 0 && !m_workers.isEmpty()) {
            const int each = (excess + int(m_workers.size()) - 1) / int(m_workers.size());
            for (GatewayWorker *w : std::as_const(m_workers)) {
                m_context->leavingConnections.fetch_add(each); // until that worker has tried
                w->evict(each, int(m_workers.size()) - 1);
            }
        }
    }
    if (!m_lastAcceptWarning.isValid() || m_lastAcceptWarning.elapsed() > 10'000) {
        qCWarning(lcGateway).noquote() << "accept failed" << m_acceptErrors << "time(s):" << listener->errorString() << "-" << open
                                       << "connections open, the limit is now" << m_context->connectionCap() << "; retrying with a back-off";
        m_acceptErrors = 0;
        m_lastAcceptWarning.start();
    }
    // 10 ms, doubling up to 1 s while it keeps failing.
    m_acceptBackoffMs = qBound(10, m_acceptBackoffMs * 2, 1000);
    QPointer<Listener> guard(listener);
    QTimer::singleShot(m_acceptBackoffMs, this, [guard] {
        if (guard && guard->isListening())
            guard->setAccepting(true);
    });
}

void GatewayServer::stopListening()
{
    for (Listener *l : std::as_const(m_listeners)) {
        l->stop();
        l->deleteLater();
    }
    m_listeners.clear();
}

void GatewayServer::drain(int graceMs, std::function<void()> done)
{
    for (GatewayWorker *w : std::as_const(m_workers))
        w->closeIdleConnections();
    auto *poll = new QTimer(this);
    auto deadline = std::make_shared<QElapsedTimer>();
    deadline->start();
    poll->setInterval(20);
    connect(poll, &QTimer::timeout, this, [this, poll, deadline, graceMs, done] {
        const bool idle = m_context->inFlight.load() == 0;
        if (!idle && deadline->elapsed() < graceMs)
            return;
        poll->stop();
        poll->deleteLater();
        if (!idle) {
            qCInfo(lcGateway) << "shutdown grace period over: cutting" << m_context->inFlight.load() << "request(s) in flight";
            for (GatewayWorker *w : std::as_const(m_workers))
                w->abortAll();
        }
        done();
    });
    poll->start();
}

void GatewayServer::stopWorkers()
{
    for (QThread *t : std::as_const(m_threads)) {
        t->quit();
        t->wait(5000);
        delete t;
    }
    m_threads.clear();
    m_workers.clear();
}

} // namespace gh
