#pragma once
#include <QList>
#include <QObject>
#include <QSet>
#include <memory>

namespace gh {

struct GatewayContext;
class ClientConnection;
class UpstreamClient;
class RequestJournal;

// A worker thread's objects: its client connections and its upstream pools.
class GatewayWorker : public QObject
{
    Q_OBJECT
public:
    explicit GatewayWorker(GatewayContext *context);
    ~GatewayWorker() override;

    // The other workers, asked to make room when this one has no connection it can close.
    void setSiblings(const QList<GatewayWorker *> &workers) { m_siblings = workers; }

    // Thread-safe (queued into the worker's thread). The descriptor is already counted in
    // GatewayContext::openConnections.
    void accept(qintptr descriptor);
    void closeIdleConnections();
    void abortAll();
    // Thread-safe: closes up to `count` of this worker's connections that can be closed without
    // losing an answer, oldest idle first; what it cannot close is asked of the next sibling, at
    // most `hops` more times.
    void evict(int count, int hops);

private:
    // Closes this worker's oldest idle connection (or, with none idle, the oldest one still sending
    // its request), sparing `except`. False when there is none.
    bool evictOne(ClientConnection *except);
    void evictHere(int count, int hops);
    GatewayContext *m_context;
    UpstreamClient *m_upstream = nullptr;
    // This thread's request journal (RequestJournal): its connections' rows go there before their
    // answers go out. Null without a store; destroyed with the worker, before the store closes.
    std::unique_ptr<RequestJournal> m_journal;
    QSet<ClientConnection *> m_connections;
    QList<GatewayWorker *> m_siblings;
};

} // namespace gh
