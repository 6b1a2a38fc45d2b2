#include "gateway/gatewayworker.h"
#include "gateway/clientconnection.h"
#include "gateway/gatewaycontext.h"
#include "upstream/upstreamclient.h"

namespace gh {

GatewayWorker::GatewayWorker(GatewayContext *context)
    : m_context(context)
{
}

GatewayWorker::~GatewayWorker() = default;

void GatewayWorker::accept(qintptr descriptor)
{
    QMetaObject::invokeMethod(this, [this, descriptor] {
        if (!m_upstream)
            m_upstream = new UpstreamClient(this);
        auto *connection = new ClientConnection(descriptor, m_context, m_upstream, this);
        m_connections.insert(connection);
        connect(connection, &ClientConnection::closed, this, [this, connection] { m_connections.remove(connection); });
        connect(connection, &QObject::destroyed, this, [this, connection] { m_connections.remove(connection); });
        if (m_context->shuttingDown.load())
            connection->closeWhenIdle();
    }, Qt::QueuedConnection);
}

void GatewayWorker::closeIdleConnections()
{
    QMetaObject::invokeMethod(this, [this] {
        const auto connections = m_connections;
        for (ClientConnection *c : connections)
            c->closeWhenIdle();
        if (m_upstream)
            m_upstream->closeIdle();
    }, Qt::QueuedConnection);
}

void GatewayWorker::abortAll()
{
    QMetaObject::invokeMethod(this, [this] {
        const auto connections = m_connections;
        for (ClientConnection *c : connections)
            c->abortNow();
    }, Qt::BlockingQueuedConnection);
}

} // namespace gh
