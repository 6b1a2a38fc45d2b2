#include "upstream/upstreamclient.h"
#include "core/logging.h"
#include "upstream/upstreamconnection.h"

namespace gh {

bool isTimeout(UpstreamFailure f)
{
    return f == UpstreamFailure::ConnectTimeout || f == UpstreamFailure::FirstByteTimeout || f == UpstreamFailure::IdleTimeout;
}

const char *failureName(UpstreamFailure f)
{
    switch (f) {
    case UpstreamFailure::Connect: return "connect_failed";
    case UpstreamFailure::ConnectTimeout: return "connect_timeout";
    case UpstreamFailure::FirstByteTimeout: return "first_byte_timeout";
    case UpstreamFailure::IdleTimeout: return "idle_timeout";
    case UpstreamFailure::Reset: return "connection_reset";
    case UpstreamFailure::Protocol: return "protocol_error";
    }
    return "unknown";
}

UpstreamCall::UpstreamCall(UpstreamClient *client, UpstreamRequest request, UpstreamObserver *observer)
    : m_client(client)
    , m_request(std::move(request))
    , m_observer(observer)
{
}

UpstreamCall::~UpstreamCall()
{
    if (m_connection)
        m_connection->detach();
}

void UpstreamCall::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    if (!paused && m_connection)
        m_connection->resume();
}

UpstreamClient::UpstreamClient(QObject *parent)
    : QObject(parent)
{
}

UpstreamClient::~UpstreamClient()
{
    closeIdle();
}

std::unique_ptr<UpstreamCall> UpstreamClient::start(UpstreamRequest request, UpstreamObserver *observer)
{
    std::unique_ptr<UpstreamCall> call(new UpstreamCall(this, std::move(request), observer));
    dispatch(call.get());
    return call;
}

static QByteArray poolKeyOf(const UpstreamRequest &r)
{
    if (!r.poolKey.isEmpty())
        return r.poolKey;
    return (r.tls ? QByteArray("https://") : QByteArray("http://")) + r.host + ':' + QByteArray::number(r.port);
}

void UpstreamClient::dispatch(UpstreamCall *call)
{
    const QByteArray key = poolKeyOf(call->m_request);
    UpstreamConnection *connection = nullptr;
    auto it = m_idle.find(key);
    if (it != m_idle.end()) {
        while (!it->isEmpty() && !connection) {
            UpstreamConnection *candidate = it->takeLast();
            if (candidate->isUsable())
                connection = candidate;
            else
                candidate->closeNow();
        }
    }
    if (!connection)
        connection = new UpstreamConnection(this, key, call->m_request);
    call->m_reused = connection->hasBeenUsed();
    connection->send(call);
}

void UpstreamClient::retry(UpstreamCall *call)
{
    qCDebug(lcUpstream) << "retrying on a fresh connection after a stale keep-alive connection closed";
    call->m_retried = true;
    call->m_observer->upstreamResent(QStringLiteral("the pooled keep-alive connection closed without answering; "
                                                    "sent again on a fresh connection"));
    // A fresh connection: never take another pooled one that may be just as stale.
    auto *connection = new UpstreamConnection(this, poolKeyOf(call->m_request), call->m_request);
    call->m_reused = false;
    connection->send(call);
}

void UpstreamClient::recycle(UpstreamConnection *connection)
{
    auto &list = m_idle[connection->poolKey()];
    if (list.size() >= kMaxIdlePerHost || !connection->isUsable()) {
        connection->closeNow();
        return;
    }
    list.append(connection);
}

void UpstreamClient::forget(UpstreamConnection *connection)
{
    auto it = m_idle.find(connection->poolKey());
    if (it != m_idle.end())
        it->removeAll(connection);
    connection->deleteLater();
}

int UpstreamClient::idleConnectionCount() const
{
    int n = 0;
    for (const auto &list : m_idle)
        n += int(list.size());
    return n;
}

void UpstreamClient::closeIdle()
{
    const auto idle = m_idle;
    m_idle.clear();
    for (const auto &list : idle)
        for (UpstreamConnection *c : list)
            c->closeNow();
}

} // namespace gh
