// Rolling-window rpm / tpm limits: exact Retry-After values, the window boundary, token corrections
// and atomic admission under contention.
#include "budget/ratelimiter.h"
#include <QTest>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

using gh::RateLimiter;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000; // an arbitrary fixed "now"

RateLimiter::Limits rpm(int n)
{
    RateLimiter::Limits l;
    l.rpm = n;
    return l;
}

RateLimiter::Limits tpm(qint64 n)
{
    RateLimiter::Limits l;
    l.tpm = n;
    return l;
}

} // namespace

class TestRateLimiter : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noLimitsAlwaysAdmits()
    {
        RateLimiter rl;
        for (int i = 0; i < 1000; ++i) {
            const auto r = rl.acquire(QStringLiteral("k"), {}, 1'000'000, kT0);
            QVERIFY(r.admitted);
            QCOMPARE(r.ticket.id, quint64(0));
            QVERIFY(!r.ticket);
        }
        QVERIFY(rl.hasRoom(QStringLiteral("k"), {}, 1'000'000'000, kT0));
        // Nothing was recorded: a limit set later starts from an empty window.
        QVERIFY(rl.acquire(QStringLiteral("k"), rpm(1), 0, kT0).admitted);
    }

    void rpmRetryAfterIsExact()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("key");
        const auto limits = rpm(3);
        QVERIFY(rl.acquire(k, limits, 10, kT0).admitted);
        QVERIFY(rl.acquire(k, limits, 10, kT0 + 1'000).admitted);
        const auto third = rl.acquire(k, limits, 10, kT0 + 2'500);
        QVERIFY(third.admitted);
        QVERIFY(third.ticket);
        QCOMPARE(third.ticket.name, k);
        QCOMPARE(third.ticket.atMs, kT0 + 2'500);

        const auto refused = rl.acquire(k, limits, 10, kT0 + 10'000);
        QVERIFY(!refused.admitted);
        QVERIFY(!refused.ticket);
        QCOMPARE(refused.limit, QStringLiteral("rpm"));
        QCOMPARE(refused.limitValue, qint64(3));
        QCOMPARE(refused.retryAfterMs, qint64(50'000)); // the first entry leaves at kT0 + 60 s
        // A refusal records nothing: the answer is the same a moment later, shorter by that moment.
        const auto again = rl.acquire(k, limits, 10, kT0 + 10'001);
        QVERIFY(!again.admitted);
        QCOMPARE(again.retryAfterMs, qint64(49'999));

        // One millisecond before the slot frees: refused for exactly 1 ms.
        const auto almost = rl.acquire(k, limits, 10, kT0 + 59'999);
        QVERIFY(!almost.admitted);
        QCOMPARE(almost.retryAfterMs, qint64(1));
        // Exactly 60 s after the first request: its slot is free.
        QVERIFY(rl.hasRoom(k, limits, 10, kT0 + 60'000));
        QVERIFY(rl.acquire(k, limits, 10, kT0 + 60'000).admitted);
        // Full again; the next slot is the one taken at kT0 + 1 s.
        const auto next = rl.acquire(k, limits, 10, kT0 + 60'000);
        QVERIFY(!next.admitted);
        QCOMPARE(next.retryAfterMs, qint64(1'000));
    }

    void retryAfterIsWhenItFits()
    {
        // Waiting exactly retryAfterMs is enough, and one millisecond less is not.
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        RateLimiter::Limits limits;
        limits.rpm = 4;
        limits.tpm = 1000;
        const qint64 times[] = {0, 7'000, 7'000, 31'234};
        const qint64 tokens[] = {300, 200, 400, 50};
        for (int i = 0; i < 4; ++i)
            QVERIFY(rl.acquire(k, limits, tokens[i], kT0 + times[i]).admitted);
        for (const qint64 want : {1, 50, 60, 351, 700, 960, 1000}) {
            const qint64 now = kT0 + 40'000;
            const auto r = rl.acquire(k, limits, want, now);
            QVERIFY(!r.admitted); // 4 requests in the window: rpm is full in any case
            QVERIFY(r.retryAfterMs > 0);
            QVERIFY2(!rl.hasRoom(k, limits, want, now + r.retryAfterMs - 1), qPrintable(QString::number(want)));
            QVERIFY2(rl.hasRoom(k, limits, want, now + r.retryAfterMs), qPrintable(QString::number(want)));
        }
    }

    void tpmWalksTheWindow()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        const auto limits = tpm(1000);
        QVERIFY(rl.acquire(k, limits, 300, kT0).admitted); // leaves at +60 s
        QVERIFY(rl.acquire(k, limits, 200, kT0 + 5'000).admitted); // leaves at +65 s
        QVERIFY(rl.acquire(k, limits, 400, kT0 + 9'000).admitted); // leaves at +69 s
        const qint64 now = kT0 + 20'000; // 900 tokens in the window
        QVERIFY(rl.hasRoom(k, limits, 100, now));

        auto r = rl.acquire(k, limits, 101, now); // needs 1 token freed: the first entry
        QVERIFY(!r.admitted);
        QCOMPARE(r.limit, QStringLiteral("tpm"));
        QCOMPARE(r.limitValue, qint64(1000));
        QCOMPARE(r.retryAfterMs, qint64(40'000));
        r = rl.acquire(k, limits, 400, now); // 300 freed by the first is enough: 600 + 400 = 1000
        QCOMPARE(r.retryAfterMs, qint64(40'000));
        r = rl.acquire(k, limits, 401, now); // the first two have to leave
        QCOMPARE(r.retryAfterMs, qint64(45'000));
        r = rl.acquire(k, limits, 600, now); // 400 + 600 = 1000
        QCOMPARE(r.retryAfterMs, qint64(45'000));
        r = rl.acquire(k, limits, 701, now); // all three
        QCOMPARE(r.retryAfterMs, qint64(49'000));
        r = rl.acquire(k, limits, 1000, now);
        QCOMPARE(r.retryAfterMs, qint64(49'000));
        QVERIFY(rl.acquire(k, limits, 100, now).admitted); // exactly fills the window
        QVERIFY(!rl.hasRoom(k, limits, 1, now));
    }

    void neverFits()
    {
        RateLimiter rl;
        const auto r = rl.acquire(QStringLiteral("k"), tpm(1000), 1001, kT0);
        QVERIFY(!r.admitted);
        QCOMPARE(r.limit, QStringLiteral("tpm"));
        QCOMPARE(r.retryAfterMs, qint64(-1));
        QVERIFY(!rl.hasRoom(QStringLiteral("k"), tpm(1000), 1001, kT0));
        // Even when the rpm limit is also full, "never" wins over a finite wait.
        RateLimiter::Limits both;
        both.rpm = 1;
        both.tpm = 1000;
        QVERIFY(rl.acquire(QStringLiteral("k"), both, 10, kT0).admitted);
        const auto r2 = rl.acquire(QStringLiteral("k"), both, 5000, kT0 + 1);
        QCOMPARE(r2.retryAfterMs, qint64(-1));
        QCOMPARE(r2.limit, QStringLiteral("tpm"));
        // An rpm of 0 admits nothing, ever.
        const auto r3 = rl.acquire(QStringLiteral("z"), rpm(0), 1, kT0);
        QVERIFY(!r3.admitted);
        QCOMPARE(r3.limit, QStringLiteral("rpm"));
        QCOMPARE(r3.retryAfterMs, qint64(-1));
    }

    // With both limits exceeded the request fits only when both let it: the longer wait is reported.
    void bothLimitsReportTheLongerWait()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        RateLimiter::Limits limits;
        limits.rpm = 2;
        limits.tpm = 100;
        QVERIFY(rl.acquire(k, limits, 10, kT0).admitted);
        QVERIFY(rl.acquire(k, limits, 80, kT0 + 30'000).admitted);
        auto r = rl.acquire(k, limits, 10, kT0 + 40'000); // rpm: 20 s, tpm: fits (90 + 10)
        QCOMPARE(r.limit, QStringLiteral("rpm"));
        QCOMPARE(r.retryAfterMs, qint64(20'000));
        r = rl.acquire(k, limits, 50, kT0 + 40'000); // rpm: 20 s, tpm: both entries must go, 50 s
        QCOMPARE(r.limit, QStringLiteral("tpm"));
        QCOMPARE(r.retryAfterMs, qint64(50'000));
    }

    void adjustCorrectsTheEstimate()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        const auto limits = tpm(1000);
        const auto a = rl.acquire(k, limits, 800, kT0);
        QVERIFY(a.admitted);
        QVERIFY(a.ticket);
        QVERIFY(!rl.hasRoom(k, limits, 300, kT0 + 1));
        rl.adjust(a.ticket, 100); // the request used far fewer tokens than estimated
        QVERIFY(rl.hasRoom(k, limits, 900, kT0 + 1));
        QVERIFY(!rl.hasRoom(k, limits, 901, kT0 + 1));
        const auto b = rl.acquire(k, limits, 500, kT0 + 1'000);
        QVERIFY(b.admitted);
        rl.adjust(b.ticket, 850); // ... and this one more
        const auto r = rl.acquire(k, limits, 100, kT0 + 2'000);
        QVERIFY(!r.admitted);
        QCOMPARE(r.retryAfterMs, qint64(58'000)); // 950 in the window; the first (100) must leave
        rl.adjust(a.ticket, 0);
        QVERIFY(rl.hasRoom(k, limits, 150, kT0 + 2'000));
        QVERIFY(!rl.hasRoom(k, limits, 151, kT0 + 2'000));
        // Negative counts are treated as 0.
        rl.adjust(b.ticket, -5);
        QVERIFY(rl.hasRoom(k, limits, 1000, kT0 + 2'000));
    }

    void adjustAfterExpiryIsHarmless()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        const auto limits = tpm(1000);
        const auto a = rl.acquire(k, limits, 400, kT0);
        const auto b = rl.acquire(k, limits, 400, kT0 + 30'000);
        QVERIFY(a.admitted && b.admitted);
        QVERIFY(rl.acquire(k, limits, 100, kT0 + 61'000).admitted); // expires a
        rl.adjust(a.ticket, 5000); // a has left: no effect
        QVERIFY(rl.hasRoom(k, limits, 500, kT0 + 61'000));
        QVERIFY(!rl.hasRoom(k, limits, 501, kT0 + 61'000));
        // After the whole window is gone the window is dropped; adjusting then does nothing either.
        QVERIFY(rl.acquire(k, limits, 1000, kT0 + 200'000).admitted);
        rl.adjust(b.ticket, 999);
        QVERIFY(!rl.hasRoom(k, limits, 1, kT0 + 200'000));
        // A ticket without an id (no limits) is ignored.
        rl.adjust(RateLimiter::Ticket{}, 10);
    }

    void hasRoomDoesNotRecord()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("k");
        const auto limits = rpm(2);
        for (int i = 0; i < 100; ++i)
            QVERIFY(rl.hasRoom(k, limits, 1, kT0));
        QVERIFY(rl.acquire(k, limits, 1, kT0).admitted);
        QVERIFY(rl.acquire(k, limits, 1, kT0 + 1'000).admitted);
        QVERIFY(!rl.hasRoom(k, limits, 1, kT0 + 2'000));
        // Expired entries are seen as gone without being removed...
        QVERIFY(rl.hasRoom(k, limits, 1, kT0 + 60'000));
        // ... and are still there for a call at an earlier time (hasRoom did not remove them).
        QVERIFY(!rl.hasRoom(k, limits, 1, kT0 + 59'999));
        const auto r = rl.acquire(k, limits, 1, kT0 + 59'999);
        QCOMPARE(r.retryAfterMs, qint64(1));
    }

    void namesAreIndependent()
    {
        RateLimiter rl;
        const auto limits = rpm(1);
        QVERIFY(rl.acquire(QStringLiteral("a"), limits, 1, kT0).admitted);
        QVERIFY(!rl.acquire(QStringLiteral("a"), limits, 1, kT0).admitted);
        QVERIFY(rl.acquire(QStringLiteral("b"), limits, 1, kT0).admitted);
        QVERIFY(rl.hasRoom(QStringLiteral("c"), limits, 1, kT0));
        QVERIFY(!rl.hasRoom(QStringLiteral("b"), limits, 1, kT0 + 10));
        rl.clear();
        QVERIFY(rl.acquire(QStringLiteral("a"), limits, 1, kT0).admitted);
    }

    // Many names used once and then idle do not pile up: after a minute their windows are dropped.
    void idleWindowsAreDropped()
    {
        RateLimiter rl;
        const auto limits = tpm(10);
        for (int i = 0; i < 5000; ++i) {
            const auto r = rl.acquire(QString::number(i), limits, 10, kT0 + i);
            QVERIFY(r.admitted);
        }
        // All of them are full now; a minute later each is empty again, including those only swept.
        for (int i = 0; i < 5000; i += 499)
            QVERIFY(!rl.hasRoom(QString::number(i), limits, 1, kT0 + 5000));
        for (int i = 0; i < 1000; ++i)
            QVERIFY(rl.acquire(QStringLiteral("n%1").arg(i), limits, 1, kT0 + 120'000).admitted);
        for (int i = 0; i < 5000; i += 499)
            QVERIFY(rl.hasRoom(QString::number(i), limits, 10, kT0 + 120'000));
    }

    // Parallel requests cannot slip past the limit together: 16 threads x 100 at one time, rpm 50.
    void concurrentAcquire()
    {
        RateLimiter rl;
        const QString k = QStringLiteral("shared");
        RateLimiter::Limits limits;
        limits.rpm = 50;
        limits.tpm = 1'000'000;
        constexpr int kThreads = 16;
        constexpr int kEach = 100;
        std::atomic<int> admitted{0};
        std::atomic<int> wrongRetry{0};
        std::barrier start(kThreads);
        std::vector<std::thread> threads;
        std::vector<std::vector<quint64>> ids(kThreads);
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                start.arrive_and_wait();
                for (int i = 0; i < kEach; ++i) {
                    const auto r = rl.acquire(k, limits, 7, kT0);
                    if (r.admitted) {
                        admitted.fetch_add(1);
                        ids[size_t(t)].push_back(r.ticket.id);
                        rl.adjust(r.ticket, 9);
                    } else if (r.retryAfterMs != RateLimiter::kWindowMs || r.limit != QLatin1String("rpm")) {
                        wrongRetry.fetch_add(1);
                    }
                }
            });
        }
        for (auto &th : threads)
            th.join();
        QCOMPARE(admitted.load(), 50);
        QCOMPARE(wrongRetry.load(), 0);
        std::vector<quint64> all;
        for (const auto &v : ids)
            all.insert(all.end(), v.begin(), v.end());
        std::sort(all.begin(), all.end());
        QVERIFY(std::adjacent_find(all.begin(), all.end()) == all.end()); // unique tickets
        // The adjusted token counts all landed: 50 x 9 = 450 tokens in the window.
        RateLimiter::Limits tokensOnly;
        tokensOnly.tpm = 1000;
        QVERIFY(rl.hasRoom(k, tokensOnly, 550, kT0));
        QVERIFY(!rl.hasRoom(k, tokensOnly, 551, kT0));
    }
};

QTEST_GUILESS_MAIN(TestRateLimiter)
#include "tst_ratelimiter.moc"
