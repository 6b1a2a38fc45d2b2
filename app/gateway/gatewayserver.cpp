#include "gateway/gatewayserver.h"
#include "core/logging.h"
#include "gateway/gatewaycontext.h"
#include "gateway/gatewayworker.h"
#include "platform/filelimit.h"
#include <QPointer>
#include <QTimer>

namespace gh {

class GatewayServer::Listener : public QTcpServer
{
public:
    explicit Listener(GatewayServer *server)
        : QTcpServer(server)
        , m_server(server)
    {
        connect(this, &QTcpServer::acceptError, server, [this](QAbstractSocket::SocketError error) { m_server->onAcceptError(this, error); });
    }

protected:
    void incomingConnection(qintptr descriptor) override { m_server->dispatch(descriptor); }

private:
    GatewayServer *m_server;
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
    v4->setListenBacklogSize(1024);
    if (!v4->listen(QHostAddress::LocalHost, port)) {
        if (error)
            *error = QStringLiteral("cannot listen on 127.0.0.1:%1: %2").arg(port).arg(v4->errorString());
        delete v4;
        return false;
    }
    m_listeners.append(v4);
    auto *v6 = new Listener(this);
    v6->setListenBacklogSize(1024);
    if (v6->listen(QHostAddress::LocalHostIPv6, v4->serverPort()))
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
    // QTcpServer has paused accepting (pauseAccepting) before it reports the error.
    ++m_acceptErrors;
    const int open = m_context->openConnections.load();
    if (error == QAbstractSocket::SocketResourceError) {
        // Out of descriptors: the limit is lower than assumed (lowered from outside, or used by
        // something else). Keep a quarter of what is open now free for upstream connections and
        // the store, and close the oldest idle connections down to that.
        const int cap = qMax(8, qMin(m_context->fdConnectionCap.load(), open * 3 / 4));
        m_context->fdConnectionCap = cap;
        const int excess = open - cap;
        if (excess > 0 && !m_workers.isEmpty()) {
            const int each = (excess + int(m_workers.size()) - 1) / int(m_workers.size());
            for (GatewayWorker *w : std::as_const(m_workers))
                w->evict(each, int(m_workers.size()) - 1);
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
            guard->resumeAccepting();
    });
}

void GatewayServer::stopListening()
{
    for (Listener *l : std::as_const(m_listeners)) {
        l->close();
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
