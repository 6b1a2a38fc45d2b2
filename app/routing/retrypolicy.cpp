#include "routing/retrypolicy.h"
#include <QtGlobal>

namespace gh {

bool RetryPolicy::failsOver(int status)
{
    return status == 408 || status == 429 || (status >= 500 && status != 501);
}

bool RetryPolicy::refusedCredentials(int status)
{
    return status == 401 || status == 403 || status == 407;
}

RetryPolicy::Decision RetryPolicy::decide(const Failure &failure, const State &state, qint64 nowMs,
                                          const std::function<qint64(const QString &)> &availableAtMs, double jitter01) const
{
    Decision d;
    d.pass = state.pass;
    if (!failure.retriable) {
        d.reason = QStringLiteral("not retriable");
        return d;
    }
    if (state.attemptsMade >= state.maxAttempts || state.targets.isEmpty()) {
        d.reason = QStringLiteral("no attempts left");
        return d;
    }
    // The next target in the plan, or the plan again after a jittered backoff.
    const int count = int(state.targets.size());
    int next = state.targetIndex + 1;
    qint64 delay = 0;
    if (next >= count) {
        next = 0;
        ++d.pass;
        const qint64 cap = qMin<qint64>(m_settings.backoffMaxMs, qint64(m_settings.backoffBaseMs) << qMin(d.pass, 16));
        delay = cap > 0 ? qint64(jitter01 * double(cap)) : 0;
    }
    // A lone target waits for its circuit or Retry-After.
    const qint64 availableAt = availableAtMs ? availableAtMs(state.targets.at(next)) : 0;
    if (availableAt > nowMs && next == 0 && count == 1)
        delay = qMax(delay, availableAt - nowMs);
    // A target that refused Gatehouse's key is not asked again: the next one that did not.
    for (int tried = 0; state.refusedCredentials.contains(state.targets.at(next)); ++tried) {
        if (tried >= count) {
            d.reason = QStringLiteral("every target refused Gatehouse's credentials");
            return d;
        }
        next = (next + 1) % count;
    }
    const bool sameTarget = state.targets.at(next) == failure.target;
    if (failure.timeout && sameTarget) {
        d.reason = QStringLiteral("timed out, and no other target is left");
        return d;
    }
    if (failure.retryAfterMs > m_settings.maxRetryAfterMs && sameTarget) {
        d.reason = QStringLiteral("the provider asks for a longer pause than Gatehouse waits"); // the client decides
        return d;
    }
    if (delay > m_settings.maxRetryAfterMs) {
        d.reason = QStringLiteral("the next try would wait longer than Gatehouse waits");
        return d;
    }
    d.retry = true;
    d.next = next;
    d.delayMs = delay;
    return d;
}

} // namespace gh
