#include "routing/health.h"
#include <algorithm>
#include <QMutexLocker>

namespace gh {

const char *TargetHealth::stateName(State s)
{
    switch (s) {
    case State::Closed:
        return "closed";
    case State::Open:
        return "open";
    case State::HalfOpen:
        return "half_open";
    }
    return "closed";
}

namespace {

// Settings from outside may be nonsense: at least one failure opens a circuit, cooldowns are >= 0.
BreakerSettings sanitized(BreakerSettings s)
{
    s.failureThreshold = std::max(1, s.failureThreshold);
    s.cooldownMs = std::max(0, s.cooldownMs);
    return s;
}

void ewma(double &value, double sample)
{
    value = value < 0 ? sample : value + HealthTracker::kEwmaAlpha * (sample - value);
}

// When a target becomes available again, as far as its stored state says.
qint64 nextAvailableMs(const TargetHealth &h, const BreakerSettings &s)
{
    qint64 at = h.availableAtMs;
    if (h.state == TargetHealth::State::HalfOpen && h.probeInFlight)
        at = std::max(at, h.probeStartedAtMs + s.cooldownMs);
    return at;
}

} // namespace

HealthTracker::HealthTracker(BreakerSettings settings)
    : m_settings(sanitized(settings))
{ }

void HealthTracker::setSettings(const BreakerSettings &settings)
{
    QMutexLocker lock(&m_mutex);
    m_settings = sanitized(settings);
}

HealthTracker::Admission HealthTracker::admit(const QString &modelId, qint64 nowMs)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_targets.find(modelId);
    if (it == m_targets.end())
        return Admission::Allowed;
    TargetHealth &h = *it;
    if (nowMs < nextAvailableMs(h, m_settings))
        return Admission::Refused;
    if (h.state == TargetHealth::State::Closed)
        return Admission::Allowed;
    // Open after its cooldown, or half-open with a free (or expired) probe slot: this request probes.
    h.state = TargetHealth::State::HalfOpen;
    h.probeInFlight = true;
    h.probeStartedAtMs = nowMs;
    return Admission::Probe;
}

bool HealthTracker::available(const QString &modelId, qint64 nowMs) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_targets.constFind(modelId);
    return it == m_targets.cend() || nowMs >= nextAvailableMs(*it, m_settings);
}

qint64 HealthTracker::availableAtMs(const QString &modelId) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_targets.constFind(modelId);
    return it == m_targets.cend() ? 0 : nextAvailableMs(*it, m_settings);
}

void HealthTracker::recordSuccess(const QString &modelId, qint64 nowMs, qint64 ttftMs, double tokensPerSecond)
{
    Q_UNUSED(nowMs)
    QMutexLocker lock(&m_mutex);
    TargetHealth &h = m_targets[modelId];
    if (h.state != TargetHealth::State::Closed) {
        // The probe (or a late request) succeeded: the circuit closes and its cooldown no longer applies.
        h.state = TargetHealth::State::Closed;
        h.availableAtMs = 0;
    }
    h.probeInFlight = false;
    h.consecutiveFailures = 0;
    ++h.successes;
    ewma(h.errorRate, 0.0);
    if (ttftMs >= 0)
        ewma(h.ttftMs, double(ttftMs));
    if (tokensPerSecond > 0)
        ewma(h.tokensPerSecond, tokensPerSecond);
}

void HealthTracker::recordFailure(const QString &modelId, qint64 nowMs, const QString &error, qint64 retryAtMs)
{
    QMutexLocker lock(&m_mutex);
    TargetHealth &h = m_targets[modelId];
    ++h.failures;
    ++h.consecutiveFailures;
    h.lastFailureMs = nowMs;
    h.lastError = error;
    // The first sample sets the EWMA.
    if (h.successes + h.failures == 1)
        h.errorRate = 1.0;
    else
        ewma(h.errorRate, 1.0);

    const auto open = [&] {
        h.state = TargetHealth::State::Open;
        h.openedAtMs = nowMs;
        h.probeInFlight = false;
        h.availableAtMs = std::max(nowMs + m_settings.cooldownMs, retryAtMs);
    };
    switch (h.state) {
    case TargetHealth::State::HalfOpen:
        open(); // the probe failed: another cooldown
        break;
    case TargetHealth::State::Open:
        // A request admitted before the circuit opened failed late: the cooldown stands.
        h.availableAtMs = std::max(h.availableAtMs, retryAtMs);
        break;
    case TargetHealth::State::Closed:
        if (h.consecutiveFailures >= m_settings.failureThreshold)
            open();
        else if (retryAtMs > 0)
            h.availableAtMs = std::max(h.availableAtMs, retryAtMs);
        break;
    }
}

void HealthTracker::recordRateLimited(const QString &modelId, qint64 nowMs, qint64 retryAtMs)
{
    Q_UNUSED(nowMs)
    QMutexLocker lock(&m_mutex);
    TargetHealth &h = m_targets[modelId];
    h.availableAtMs = std::max(h.availableAtMs, retryAtMs);
    // A probe that was answered with 429 says nothing about the circuit: free the slot so that the
    // next request after the Retry-After probes again.
    if (h.state == TargetHealth::State::HalfOpen)
        h.probeInFlight = false;
}

TargetHealth HealthTracker::health(const QString &modelId) const
{
    QMutexLocker lock(&m_mutex);
    return m_targets.value(modelId);
}

QHash<QString, TargetHealth> HealthTracker::snapshot() const
{
    QMutexLocker lock(&m_mutex);
    return m_targets;
}

void HealthTracker::clear()
{
    QMutexLocker lock(&m_mutex);
    m_targets.clear();
}

} // namespace gh
