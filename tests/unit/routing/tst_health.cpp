// Circuit breakers, rate-limit availability and the latency/throughput EWMAs of HealthTracker.
#include "routing/health.h"
#include <atomic>
#include <memory>
#include <QTest>
#include <QThread>
#include <vector>

using gh::BreakerSettings;
using gh::HealthTracker;
using gh::TargetHealth;
using Admission = gh::HealthTracker::Admission;
using State = gh::TargetHealth::State;

namespace {

const QString kA = QStringLiteral("openai/gpt-4.1");
const QString kB = QStringLiteral("anthropic/claude-sonnet-4-5");

BreakerSettings breaker(int threshold, int cooldownMs)
{
    BreakerSettings s;
    s.failureThreshold = threshold;
    s.cooldownMs = cooldownMs;
    return s;
}

} // namespace

class TestHealth : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void unseenTargetIsHealthy()
    {
        HealthTracker h;
        QCOMPARE(h.admit(kA, 1000), Admission::Allowed);
        QVERIFY(h.available(kA, 1000));
        QCOMPARE(h.availableAtMs(kA), 0);
        const TargetHealth t = h.health(kA);
        QCOMPARE(t.state, State::Closed);
        QCOMPARE(t.ttftMs, -1.0);
        QCOMPARE(t.tokensPerSecond, -1.0);
        QCOMPARE(t.errorRate, 0.0);
        QVERIFY(h.snapshot().isEmpty()); // admit() of an unseen target stores nothing
    }

    void stateNames()
    {
        QCOMPARE(QByteArray(TargetHealth::stateName(State::Closed)), QByteArray("closed"));
        QCOMPARE(QByteArray(TargetHealth::stateName(State::Open)), QByteArray("open"));
        QCOMPARE(QByteArray(TargetHealth::stateName(State::HalfOpen)), QByteArray("half_open"));
    }

    void breakerFullCycle()
    {
        HealthTracker h(breaker(3, 30'000));
        // Closed: two failures keep it closed and available.
        h.recordFailure(kA, 1000, QStringLiteral("HTTP 500"));
        h.recordFailure(kA, 1100, QStringLiteral("HTTP 502"));
        QCOMPARE(h.health(kA).state, State::Closed);
        QCOMPARE(h.health(kA).consecutiveFailures, 2);
        QCOMPARE(h.admit(kA, 1150), Admission::Allowed);
        // The third consecutive failure opens the circuit.
        h.recordFailure(kA, 1200, QStringLiteral("timeout"));
        TargetHealth t = h.health(kA);
        QCOMPARE(t.state, State::Open);
        QCOMPARE(t.openedAtMs, 1200);
        QCOMPARE(t.availableAtMs, 31'200);
        QCOMPARE(t.lastError, QStringLiteral("timeout"));
        QCOMPARE(t.lastFailureMs, 1200);
        QCOMPARE(t.failures, 3);
        QCOMPARE(h.availableAtMs(kA), 31'200);
        // Open: refused until the cooldown is over.
        QVERIFY(!h.available(kA, 1300));
        QCOMPARE(h.admit(kA, 1300), Admission::Refused);
        QCOMPARE(h.admit(kA, 31'199), Admission::Refused);
        // Other targets are not affected.
        QCOMPARE(h.admit(kB, 1300), Admission::Allowed);
        // After the cooldown: exactly one probe.
        QVERIFY(h.available(kA, 31'200));
        QCOMPARE(h.admit(kA, 31'200), Admission::Probe);
        QCOMPARE(h.health(kA).state, State::HalfOpen);
        QVERIFY(h.health(kA).probeInFlight);
        QVERIFY(!h.available(kA, 31'201));
        QCOMPARE(h.admit(kA, 31'201), Admission::Refused);
        QCOMPARE(h.admit(kA, 40'000), Admission::Refused);
        // The probe fails: open again for another cooldown.
        h.recordFailure(kA, 41'000, QStringLiteral("HTTP 503"));
        t = h.health(kA);
        QCOMPARE(t.state, State::Open);
        QCOMPARE(t.openedAtMs, 41'000);
        QCOMPARE(t.availableAtMs, 71'000);
        QVERIFY(!t.probeInFlight);
        QCOMPARE(h.admit(kA, 70'999), Admission::Refused);
        // Next probe succeeds: closed, counters reset.
        QCOMPARE(h.admit(kA, 71'000), Admission::Probe);
        QCOMPARE(h.admit(kA, 71'001), Admission::Refused);
        h.recordSuccess(kA, 72'000, 400, 50.0);
        t = h.health(kA);
        QCOMPARE(t.state, State::Closed);
        QCOMPARE(t.consecutiveFailures, 0);
        QVERIFY(!t.probeInFlight);
        QCOMPARE(t.successes, 1);
        QCOMPARE(t.failures, 4);
        QCOMPARE(h.admit(kA, 72'001), Admission::Allowed);
        QCOMPARE(h.admit(kA, 72'002), Admission::Allowed);
        QVERIFY(h.available(kA, 72'002));
    }

    void successResetsConsecutiveFailures()
    {
        HealthTracker h(breaker(3, 1000));
        h.recordFailure(kA, 1, QStringLiteral("e"));
        h.recordFailure(kA, 2, QStringLiteral("e"));
        h.recordSuccess(kA, 3, -1, -1);
        h.recordFailure(kA, 4, QStringLiteral("e"));
        h.recordFailure(kA, 5, QStringLiteral("e"));
        QCOMPARE(h.health(kA).state, State::Closed);
        h.recordFailure(kA, 6, QStringLiteral("e"));
        QCOMPARE(h.health(kA).state, State::Open);
    }

    void lostProbeFreesSlotAfterCooldown()
    {
        HealthTracker h(breaker(1, 10'000));
        h.recordFailure(kA, 0, QStringLiteral("reset"));
        QCOMPARE(h.admit(kA, 10'000), Admission::Probe);
        // The probe never reports (the client went away): the slot stays taken for one cooldown.
        QCOMPARE(h.admit(kA, 19'999), Admission::Refused);
        QCOMPARE(h.availableAtMs(kA), 20'000);
        QCOMPARE(h.admit(kA, 20'000), Admission::Probe);
        QCOMPARE(h.admit(kA, 20'001), Admission::Refused);
        QCOMPARE(h.health(kA).probeStartedAtMs, 20'000);
    }

    void thresholdOfOneAndBadSettings()
    {
        HealthTracker h(breaker(0, -5)); // nonsense: treated as threshold 1, cooldown 0
        h.recordFailure(kA, 100, QStringLiteral("e"));
        QCOMPARE(h.health(kA).state, State::Open);
        QCOMPARE(h.admit(kA, 100), Admission::Probe);
        h.setSettings(breaker(2, 500));
        h.recordFailure(kB, 100, QStringLiteral("e"));
        QCOMPARE(h.health(kB).state, State::Closed);
        h.recordFailure(kB, 200, QStringLiteral("e"));
        QCOMPARE(h.health(kB).state, State::Open);
        QCOMPARE(h.availableAtMs(kB), 700);
    }

    void rateLimitedDoesNotCountTowardsCircuit()
    {
        HealthTracker h(breaker(2, 30'000));
        for (int i = 0; i < 5; ++i)
            h.recordRateLimited(kA, 1000 + i, 5000);
        TargetHealth t = h.health(kA);
        QCOMPARE(t.state, State::Closed);
        QCOMPARE(t.consecutiveFailures, 0);
        QCOMPARE(t.failures, 0);
        QCOMPARE(t.errorRate, 0.0);
        // Unavailable until the Retry-After, then available again without a probe.
        QVERIFY(!h.available(kA, 4999));
        QCOMPARE(h.admit(kA, 4999), Admission::Refused);
        QCOMPARE(h.availableAtMs(kA), 5000);
        QVERIFY(h.available(kA, 5000));
        QCOMPARE(h.admit(kA, 5000), Admission::Allowed);
        // A shorter later Retry-After does not shorten the wait.
        h.recordRateLimited(kA, 6000, 9000);
        h.recordRateLimited(kA, 6001, 7000);
        QCOMPARE(h.availableAtMs(kA), 9000);
    }

    void failureWithRetryAfterKeepsTargetUnavailable()
    {
        HealthTracker h(breaker(3, 30'000));
        h.recordFailure(kA, 1000, QStringLiteral("HTTP 503"), 4000);
        QCOMPARE(h.health(kA).state, State::Closed);
        QCOMPARE(h.admit(kA, 3999), Admission::Refused);
        QCOMPARE(h.admit(kA, 4000), Admission::Allowed);
        // A Retry-After longer than the cooldown holds an opening circuit closed for longer.
        h.recordFailure(kA, 5000, QStringLiteral("HTTP 503"));
        h.recordFailure(kA, 6000, QStringLiteral("HTTP 503"), 100'000);
        QCOMPARE(h.health(kA).state, State::Open);
        QCOMPARE(h.availableAtMs(kA), 100'000);
        QCOMPARE(h.admit(kA, 36'000), Admission::Refused);
        QCOMPARE(h.admit(kA, 100'000), Admission::Probe);
    }

    void rateLimitedProbeFreesSlot()
    {
        HealthTracker h(breaker(1, 1000));
        h.recordFailure(kA, 0, QStringLiteral("e"));
        QCOMPARE(h.admit(kA, 1000), Admission::Probe);
        h.recordRateLimited(kA, 1100, 1500);
        QCOMPARE(h.health(kA).state, State::HalfOpen);
        QCOMPARE(h.admit(kA, 1499), Admission::Refused);
        QCOMPARE(h.admit(kA, 1500), Admission::Probe);
    }

    void ewmas()
    {
        HealthTracker h;
        // The first sample sets the value.
        h.recordSuccess(kA, 0, 1000, 100.0);
        QCOMPARE(h.health(kA).ttftMs, 1000.0);
        QCOMPARE(h.health(kA).tokensPerSecond, 100.0);
        QCOMPARE(h.health(kA).errorRate, 0.0);
        // Then value += 0.2 * (sample - value).
        h.recordSuccess(kA, 1, 500, 50.0);
        QCOMPARE(h.health(kA).ttftMs, 900.0);
        QCOMPARE(h.health(kA).tokensPerSecond, 90.0);
        // Unmeasured samples leave them alone.
        h.recordSuccess(kA, 2, -1, -1);
        QCOMPARE(h.health(kA).ttftMs, 900.0);
        QCOMPARE(h.health(kA).tokensPerSecond, 90.0);
        // errorRate: failures are 1, successes 0.
        h.recordFailure(kA, 3, QStringLiteral("e"));
        QVERIFY(qFuzzyCompare(h.health(kA).errorRate, 0.2));
        h.recordFailure(kA, 4, QStringLiteral("e"));
        QVERIFY(qFuzzyCompare(h.health(kA).errorRate, 0.36));
        h.recordSuccess(kA, 5, -1, -1);
        QVERIFY(qFuzzyCompare(h.health(kA).errorRate, 0.288));
        QCOMPARE(h.health(kA).successes, 4);
        QCOMPARE(h.health(kA).failures, 2);

        // A target whose first sample is a failure starts at an error rate of 1.
        h.recordFailure(kB, 0, QStringLiteral("e"));
        QCOMPARE(h.health(kB).errorRate, 1.0);
        h.recordSuccess(kB, 1, 200, -1);
        QVERIFY(qFuzzyCompare(h.health(kB).errorRate, 0.8));
        QCOMPARE(h.health(kB).ttftMs, 200.0);
        QCOMPARE(h.health(kB).tokensPerSecond, -1.0);
    }

    void snapshotAndClear()
    {
        HealthTracker h;
        h.recordSuccess(kA, 0, 10, 10);
        h.recordFailure(kB, 0, QStringLiteral("e"));
        const auto snap = h.snapshot();
        QCOMPARE(snap.size(), 2);
        QCOMPARE(snap.value(kA).successes, 1);
        QCOMPARE(snap.value(kB).failures, 1);
        h.clear();
        QVERIFY(h.snapshot().isEmpty());
        QCOMPARE(h.health(kB).failures, 0);
    }

    // Many threads admit and report on the same targets: counters add up, only one probe at a time.
    void concurrentUse()
    {
        HealthTracker h(breaker(5, 1'000'000));
        constexpr int kThreads = 8;
        constexpr int kOps = 2000;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back(QThread::create([&h, t] {
                for (int i = 0; i < kOps; ++i) {
                    const QString id = (i % 2) ? kA : kB;
                    (void)h.admit(id, i);
                    (void)h.available(id, i);
                    if (t % 2)
                        h.recordSuccess(kA, i, 100 + i % 7, 40.0);
                    else
                        h.recordFailure(kB, i, QStringLiteral("e"));
                    (void)h.snapshot();
                }
            }));
            threads.back()->start();
        }
        for (auto &thread : threads)
            QVERIFY(thread->wait(60'000));
        QCOMPARE(h.health(kA).successes, qint64(kThreads / 2 * kOps));
        QCOMPARE(h.health(kB).failures, qint64(kThreads / 2 * kOps));
        QCOMPARE(h.health(kB).state, State::Open);
        QVERIFY(h.health(kA).ttftMs >= 100 && h.health(kA).ttftMs <= 106);

        // A burst of admissions after the cooldown from many threads: exactly one probe.
        const qint64 at = h.availableAtMs(kB);
        std::atomic<int> probes{0};
        std::atomic<int> refused{0};
        threads.clear();
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back(QThread::create([&] {
                for (int i = 0; i < 100; ++i) {
                    const auto a = h.admit(kB, at + i);
                    if (a == Admission::Probe)
                        ++probes;
                    else if (a == Admission::Refused)
                        ++refused;
                }
            }));
            threads.back()->start();
        }
        for (auto &thread : threads)
            QVERIFY(thread->wait(60'000));
        QCOMPARE(probes.load(), 1);
        QCOMPARE(refused.load(), kThreads * 100 - 1);
    }
};

QTEST_GUILESS_MAIN(TestHealth)
#include "tst_health.moc"
