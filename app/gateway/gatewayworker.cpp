#include "gateway/gatewayworker.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/gatewaycontext.h"
#include "store/requestjournal.h"
#include "store/store.h"
#include "upstream/upstreamclient.h"
#include <atomic>

namespace gh {

// Connections allowed over the cap while siblings close theirs (eviction there is queued): past
// this many the new connection itself is refused.
static constexpr int kCapSlack = 16;

// Names the workers' journals apart: w0, w1, ... (a restarted listener's workers take new numbers).
static std::atomic<int> s_journals{0};

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
        if (!m_journal && m_context->store)
            m_journal = m_context->store->openJournal(QStringLiteral("w%1").arg(s_journals.fetch_add(1)));
        RequestJournal *journal = m_journal && m_journal->isOpen() ? m_journal.get() : nullptr;
        auto *connection = new ClientConnection(descriptor, m_context, m_upstream, journal, this);
        m_connections.insert(connection);
        connect(connection, &ClientConnection::closed, this, [this, connection] { m_connections.remove(connection); });
        connect(connection, &QObject::destroyed, this, [this, connection] { m_connections.remove(connection); });
        if (m_context->shuttingDown.load()) {
            connection->closeWhenIdle();
            return;
        }
        // Over the cap: the oldest idle connection makes room (here, or in another worker). Held
        // against the connections that stay: those already leaving (and accepts queued behind this
        // one, which will each make room in turn) are not made room for twice.
        const int cap = m_context->connectionCap();
        const int staying = m_context->stayingConnections();
        if (staying > cap && !evictOne(connection)) {
            if (staying > cap + kCapSlack) {
                qCWarning(lcGateway) << "connection refused:" << staying << "open, the limit is" << cap << "and none is idle";
                connection->refuseOverCapacity();
                return;
            }
            if (!m_siblings.isEmpty()) {
                const int me = int(m_siblings.indexOf(this));
                GatewayWorker *next = m_siblings.at((me + 1) % m_siblings.size());
                if (next != this) {
                    m_context->leavingConnections.fetch_add(1); // until that worker has tried
                    next->evict(1, int(m_siblings.size()) - 2);
                }
            }
        }
    }, Qt::QueuedConnection);
}

void GatewayWorker::evict(int count, int hops)
{
    QMetaObject::invokeMethod(this, [this, count, hops] { evictHere(count, hops); }, Qt::QueuedConnection);
}

void GatewayWorker::evictHere(int count, int hops)
{
    // The asker counted `count` as leaving; each connection evicted here counts itself instead.
    int left = count;
    while (left > 0 && evictOne(nullptr)) {
        --left;
        m_context->leavingConnections.fetch_sub(1);
    }
    if (left > 0 && hops > 0 && !m_siblings.isEmpty()) {
        const int me = int(m_siblings.indexOf(this));
        GatewayWorker *next = m_siblings.at((me + 1) % m_siblings.size());
        if (next != this) {
            next->evict(left, hops - 1); // still counted as leaving until that worker has tried
            return;
        }
    }
    m_context->leavingConnections.fetch_sub(left); // none left to evict: no longer under way
}

bool GatewayWorker::evictOne(ClientConnection *except)
{
    ClientConnection *best = nullptr;
    int bestRank = 2;
    qint64 bestAt = 0;
    for (ClientConnection *c : std::as_const(m_connections)) {
        if (c == except)
            continue;
        const int rank = c->evictionRank();
        if (rank < 0)
            continue;
        if (!best || rank < bestRank || (rank == bestRank && c->lastActivityMs() < bestAt)) {
            best = c;
            bestRank = rank;
            bestAt = c->lastActivityMs();
        }
    }
    if (!best)
        return false;
    best->evict();
    return true;
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
