#include "gateway/gatewayserver.h"
#include "core/logging.h"
#include "gateway/gatewaycontext.h"
#include "gateway/gatewayworker.h"
#include <QTimer>

namespace gh {

class GatewayServer::Listener : public QTcpServer
{
public:
    explicit Listener(GatewayServer *server)
        : QTcpServer(server)
        , m_server(server)
    {
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
    GatewayWorker *worker = m_workers[m_next++ % m_workers.size()];
    worker->accept(descriptor);
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
