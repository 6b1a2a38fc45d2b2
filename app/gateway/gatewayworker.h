#pragma once
#include <QObject>
#include <QSet>

namespace gh {

struct GatewayContext;
class ClientConnection;
class UpstreamClient;

// A worker thread's objects: its client connections and its upstream pools.
class GatewayWorker : public QObject
{
    Q_OBJECT
public:
    explicit GatewayWorker(GatewayContext *context);
    ~GatewayWorker() override;

    // Thread-safe (queued into the worker's thread).
    void accept(qintptr descriptor);
    void closeIdleConnections();
    void abortAll();
    [[nodiscard]] int busyConnections() const { return m_busy.loadRelaxed(); }

private:
    void refreshBusy();
    GatewayContext *m_context;
    UpstreamClient *m_upstream = nullptr;
    QSet<ClientConnection *> m_connections;
    QAtomicInt m_busy;
};

} // namespace gh
