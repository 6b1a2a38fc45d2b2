#pragma once
#include "budget/budgetledger.h"
#include "budget/ratelimiter.h"
#include "routing/affinity.h"
#include "routing/health.h"
#include "config/config.h"
#include "guardrails/guardrails.h"
#include "routing/registry.h"
#include "store/requestrecord.h"
#include <QMutex>
#include <QObject>
#include <atomic>
#include <limits>
#include <memory>

namespace gh {

class BodyCapture;
class Store;
class ResponseCache;
class Telemetry;

// Emits finished requests to whoever watches (the UI, statistics). Lives on the main thread; the
// workers call publish() from their threads (queued delivery).
class GatewayEvents : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;
    void publish(const RequestRecord &record) { Q_EMIT requestFinished(record); }
Q_SIGNALS:
    void requestFinished(const gh::RequestRecord &record);
};

// State shared by every worker thread of the gateway. Everything here is thread-safe.
struct GatewayContext {
    Registry registry;
    BudgetLedger ledger;
    HealthTracker health;        // per target circuit breakers and speed (routing, UI, /v1/models)
    AffinityTable affinity;      // prompt-cache affinity of routed requests
    RateLimiter keyLimits;       // per key rpm / tpm (by key id as text)
    RateLimiter providerLimits;  // per provider rpm / tpm (by provider id)
    Guardrails guardrails;       // the agents' circuit breaker (loops, spend spikes, prompt blow-ups)
    Store *store = nullptr;
    ResponseCache *responseCache = nullptr; // cache/responsecache.h; nullptr: no response cache at all
    BodyCapture *capture = nullptr; // capture/bodycapture.h; nullptr: no key's bodies are captured
    GatewayEvents *events = nullptr;
    Telemetry *telemetry = nullptr; // GET /metrics and the OTLP export (app/telemetry)
    std::atomic<bool> shuttingDown{false};
    std::atomic<bool> pausedAll{false};  // the kill switch: refuse model requests (GatewayError::paused)
    std::atomic<int> inFlight{0};
    // Client connections open now (counted at accept, until the connection object is destroyed),
    // and how many the process's file limit leaves room for (lowered when accept runs out of files).
    std::atomic<int> openConnections{0};
    // Of those, the ones already on their way out: evicted or refused to make room (until destroyed),
    // plus evictions asked of another worker and not yet carried out. Without them a burst of
    // accepts, each seeing the same not-yet-closed excess, would close far more than the excess.
    std::atomic<int> leavingConnections{0};
    std::atomic<int> fdConnectionCap{std::numeric_limits<int>::max()};
    // Connections that stay once every eviction under way is done: what the cap is held against.
    [[nodiscard]] int stayingConnections() const { return openConnections.load() - leavingConnections.load(); }
    [[nodiscard]] int connectionCap() const { return qMin(settings()->connections.maxConnections, fdConnectionCap.load()); }
    std::atomic<qint64> requestsServed{0};
    std::atomic<int> workers{0}; // worker threads serving connections (GET /healthz says it)

    [[nodiscard]] std::shared_ptr<const GatewaySettings> settings() const
    {
        QMutexLocker lock(&m_settingsMutex);
        return m_settings;
    }
    void setSettings(const GatewaySettings &s)
    {
        auto next = std::make_shared<const GatewaySettings>(s);
        QMutexLocker lock(&m_settingsMutex);
        m_settings = std::move(next);
    }

private:
    mutable QMutex m_settingsMutex;
    std::shared_ptr<const GatewaySettings> m_settings = std::make_shared<const GatewaySettings>();
};

} // namespace gh
