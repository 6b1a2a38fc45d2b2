#pragma once
#include "config/config.h"
#include <QHash>
#include <QMutex>
#include <QString>

namespace gh {

// What the gateway knows of one target (a model id) from its own traffic.
struct TargetHealth {
    enum class State { Closed, Open, HalfOpen };
    State state = State::Closed;
    int consecutiveFailures = 0;
    qint64 openedAtMs = 0;       // when the circuit last opened
    qint64 availableAtMs = 0;    // open: when a half-open probe may go; also a 429's Retry-After
    bool probeInFlight = false;  // half-open: the one probe request is out
    qint64 probeStartedAtMs = 0;
    double ttftMs = -1;          // EWMA of time to first token (ms); -1: never measured
    double tokensPerSecond = -1; // EWMA of output tokens per second after the first token; -1: unknown
    double errorRate = 0;        // EWMA of failures (1) and successes (0), alpha kEwmaAlpha
    qint64 successes = 0;
    qint64 failures = 0;
    qint64 lastFailureMs = 0;
    QString lastError;           // never a secret: the gateway's own error message
    [[nodiscard]] static const char *stateName(State s); // "closed", "open", "half_open"
};

// Per target circuit breakers and latency/throughput EWMAs, shared by every worker thread.
//
// Closed: requests flow; `failureThreshold` consecutive failures open the circuit. Open: admit()
// refuses until `cooldownMs` after opening, then lets exactly one request through as a probe
// (half-open). The probe's success closes the circuit; its failure opens it again for another
// cooldown. A probe that never reports (the client went away) frees the slot after a cooldown.
// A 429 with Retry-After also makes the target unavailable until then, without counting towards the
// circuit. Thread-safe.
class HealthTracker
{
public:
    static constexpr double kEwmaAlpha = 0.2;

    explicit HealthTracker(BreakerSettings settings = {});
    void setSettings(const BreakerSettings &settings);

    enum class Admission { Allowed, Probe, Refused };
    // Takes the half-open probe slot when it returns Probe.
    [[nodiscard]] Admission admit(const QString &modelId, qint64 nowMs);
    // Without side effects: whether admit() would let a request through now.
    [[nodiscard]] bool available(const QString &modelId, qint64 nowMs) const;
    // When the target becomes available again (nowMs or earlier when it is available now).
    [[nodiscard]] qint64 availableAtMs(const QString &modelId) const;

    // ttftMs < 0 / tokensPerSecond < 0: not measured by this request (e.g. not streamed).
    void recordSuccess(const QString &modelId, qint64 nowMs, qint64 ttftMs, double tokensPerSecond);
    // A failure that counts towards the circuit; `retryAtMs` > 0 (a Retry-After) keeps the target
    // unavailable until then even when the circuit stays closed.
    void recordFailure(const QString &modelId, qint64 nowMs, const QString &error, qint64 retryAtMs = 0);
    // A rate limit (429) that does not count towards the circuit: only unavailable until retryAtMs.
    void recordRateLimited(const QString &modelId, qint64 nowMs, qint64 retryAtMs);

    [[nodiscard]] TargetHealth health(const QString &modelId) const; // a default TargetHealth when unseen
    [[nodiscard]] QHash<QString, TargetHealth> snapshot() const;
    void clear();

private:
    mutable QMutex m_mutex;
    BreakerSettings m_settings;
    QHash<QString, TargetHealth> m_targets;
};

} // namespace gh
