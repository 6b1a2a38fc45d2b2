#pragma once
#include "config/config.h"
#include <QSet>
#include <QString>
#include <QStringList>
#include <functional>

namespace gh {

// Whether and where to try again after an attempt failed before anything reached the client. Pure:
// the caller records health, releases the reservation and schedules the next attempt; the policy
// only decides, from the failure, the attempt state and the settings.
class RetryPolicy
{
public:
    struct Failure {
        QString target;            // the model id that failed
        bool retriable = true;     // false: the request's own problem (a 4xx other than 408/429), answered as it is
        bool timeout = false;      // never retried on the same target: it would double the wait
        qint64 retryAfterMs = -1;  // the provider's Retry-After; -1 when none
    };
    struct State {
        int attemptsMade = 0;      // sends so far (resends on a fresh connection not counted)
        int maxAttempts = 1;
        int targetIndex = 0;       // the target that failed, in `targets`
        int pass = 0;              // how many times the target list was gone through already
        QStringList targets;       // the plan, in order
        QSet<QString> refusedCredentials; // targets that refused Gatehouse's key (including this failure's)
    };
    struct Decision {
        bool retry = false;
        int next = -1;             // the target index to try
        qint64 delayMs = 0;        // after this long
        int pass = 0;              // the state's pass after the decision
        QString reason;            // why not, when retry is false (for the log)
    };

    explicit RetryPolicy(const RetrySettings &settings)
        : m_settings(settings)
    { }

    // availableAtMs(target): when the target's circuit or Retry-After lets it be tried (0: now).
    // jitter01: a random number in [0, 1) for the backoff's full jitter.
    [[nodiscard]] Decision decide(const Failure &failure, const State &state, qint64 nowMs,
                                  const std::function<qint64(const QString &)> &availableAtMs, double jitter01) const;

    // The provider statuses another target (or a later try) may succeed on: 408, 429 and 5xx but
    // 501. 401/403/407 are Gatehouse's credentials (another target, never the same one); any other
    // 4xx is the request's own problem.
    [[nodiscard]] static bool failsOver(int status);
    [[nodiscard]] static bool refusedCredentials(int status);

private:
    RetrySettings m_settings;
};

} // namespace gh
