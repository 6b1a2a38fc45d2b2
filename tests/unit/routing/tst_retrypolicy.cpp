// RetryPolicy alone: every failover trigger tst_routing_failover drives through the binary (a
// status, a refused connection or reset, a timeout, an error as the first stream event, refused
// credentials), the request's own errors that are answered at once, Retry-After within and beyond
// the limit, the backoff of a second pass, and the attempt budget.
#include "routing/retrypolicy.h"
#include <QTest>

using namespace gh;

namespace {

constexpr qint64 kNow = 1'000'000;

RetrySettings settings()
{
    RetrySettings s; // maxAttempts 3, backoff 250 ms base, 4 s max, Retry-After up to 10 s
    return s;
}

RetryPolicy::State twoTargets(int failedIndex = 0, int attemptsMade = 1)
{
    RetryPolicy::State s;
    s.attemptsMade = attemptsMade;
    s.maxAttempts = 3;
    s.targetIndex = failedIndex;
    s.targets = {QStringLiteral("a/one"), QStringLiteral("b/two")};
    return s;
}

RetryPolicy::State oneTarget(int attemptsMade = 1)
{
    RetryPolicy::State s;
    s.attemptsMade = attemptsMade;
    s.maxAttempts = 3;
    s.targets = {QStringLiteral("a/one")};
    return s;
}

RetryPolicy::Failure failure(const QString &target, bool retriable = true, qint64 retryAfterMs = -1, bool timeout = false)
{
    return RetryPolicy::Failure{target, retriable, timeout, retryAfterMs};
}

const auto nowAvailable = [](const QString &) { return qint64(0); };

} // namespace

class TestRetryPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void statusesThatFailOver_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("failsOver");
        for (const int s : {408, 429, 500, 502, 503, 504, 529})
            QTest::addRow("%d", s) << s << true;
        for (const int s : {400, 404, 409, 413, 422, 501})
            QTest::addRow("%d", s) << s << false;
    }
    void statusesThatFailOver()
    {
        QFETCH(int, status);
        QFETCH(bool, failsOver);
        QCOMPARE(RetryPolicy::failsOver(status), failsOver);
        // Through the policy: the next target, at once (a failover is not a backoff).
        const auto d = RetryPolicy(settings()).decide(failure(QStringLiteral("a/one"), RetryPolicy::failsOver(status)), twoTargets(), kNow, nowAvailable, 0.5);
        QCOMPARE(d.retry, failsOver);
        if (failsOver) {
            QCOMPARE(d.next, 1);
            QCOMPARE(d.delayMs, 0);
        }
    }

    void connectionErrorsAndErrorFirstEventsFailOver()
    {
        // Refused or reset connections, an error as the stream's first event, a body that is not
        // JSON: all retriable failures without a status.
        const auto d = RetryPolicy(settings()).decide(failure(QStringLiteral("a/one")), twoTargets(), kNow, nowAvailable, 0.5);
        QVERIFY(d.retry);
        QCOMPARE(d.next, 1);
    }

    void timeoutGoesToAnotherTargetNeverTheSame()
    {
        const RetryPolicy p(settings());
        const auto other = p.decide(failure(QStringLiteral("a/one"), true, -1, true), twoTargets(), kNow, nowAvailable, 0.5);
        QVERIFY(other.retry);
        QCOMPARE(other.next, 1);
        const auto same = p.decide(failure(QStringLiteral("a/one"), true, -1, true), oneTarget(), kNow, nowAvailable, 0.5);
        QVERIFY(!same.retry);
    }

    void refusedCredentialsSkipThatTarget()
    {
        QVERIFY(RetryPolicy::refusedCredentials(401));
        QVERIFY(RetryPolicy::refusedCredentials(403));
        QVERIFY(RetryPolicy::refusedCredentials(407));
        QVERIFY(!RetryPolicy::refusedCredentials(400));
        const RetryPolicy p(settings());
        // b/two refused the key earlier: after a/one fails (second pass), a/one again, not b/two.
        auto s = twoTargets(0, 1);
        s.refusedCredentials = {QStringLiteral("b/two")};
        const auto d = p.decide(failure(QStringLiteral("a/one")), s, kNow, nowAvailable, 0.0);
        QVERIFY(d.retry);
        QCOMPARE(d.next, 0);
        // Every target refused it: nobody left to ask.
        s.refusedCredentials = {QStringLiteral("a/one"), QStringLiteral("b/two")};
        QVERIFY(!p.decide(failure(QStringLiteral("a/one")), s, kNow, nowAvailable, 0.0).retry);
    }

    void theRequestsOwnErrorIsAnsweredAtOnce()
    {
        const auto d = RetryPolicy(settings()).decide(failure(QStringLiteral("a/one"), false), twoTargets(), kNow, nowAvailable, 0.5);
        QVERIFY(!d.retry);
        QVERIFY(!d.reason.isEmpty());
    }

    void retryAfterWithinTheLimitIsWaitedFor()
    {
        // One target answering 429 with Retry-After: 1: the next try waits for it (the health
        // tracker's availableAt holds the Retry-After).
        const auto availableIn1s = [](const QString &) { return kNow + 1000; };
        const auto d = RetryPolicy(settings()).decide(failure(QStringLiteral("a/one"), true, 1000), oneTarget(), kNow, availableIn1s, 0.0);
        QVERIFY(d.retry);
        QCOMPARE(d.next, 0);
        QVERIFY2(d.delayMs >= 1000, qPrintable(QString::number(d.delayMs)));
    }

    void retryAfterBeyondTheLimitIsLeftToTheClient()
    {
        const RetryPolicy p(settings());
        QVERIFY(!p.decide(failure(QStringLiteral("a/one"), true, 60'000), oneTarget(), kNow, nowAvailable, 0.0).retry);
        // Another target need not wait for it.
        const auto other = p.decide(failure(QStringLiteral("a/one"), true, 60'000), twoTargets(), kNow, nowAvailable, 0.0);
        QVERIFY(other.retry);
        QCOMPARE(other.next, 1);
    }

    void secondPassBacksOffWithFullJitter()
    {
        RetrySettings s = settings();
        const RetryPolicy p(s);
        // b/two (the last) failed: back to a/one after a jittered delay within base * 2^pass.
        for (const double jitter : {0.0, 0.5, 0.999}) {
            const auto d = p.decide(failure(QStringLiteral("b/two")), twoTargets(1, 2), kNow, nowAvailable, jitter);
            QVERIFY(d.retry);
            QCOMPARE(d.next, 0);
            QCOMPARE(d.pass, 1);
            QVERIFY(d.delayMs >= 0 && d.delayMs < qint64(s.backoffBaseMs) << 1);
            QCOMPARE(d.delayMs, qint64(jitter * double(qint64(s.backoffBaseMs) << 1)));
        }
        // Capped at backoffMaxMs however many passes.
        auto late = twoTargets(1, 2);
        late.pass = 10;
        late.maxAttempts = 100;
        QVERIFY(p.decide(failure(QStringLiteral("b/two")), late, kNow, nowAvailable, 0.999).delayMs < s.backoffMaxMs);
        // A backoff longer than Gatehouse waits gives up instead.
        s.maxRetryAfterMs = 100;
        QVERIFY(!RetryPolicy(s).decide(failure(QStringLiteral("b/two")), twoTargets(1, 2), kNow, nowAvailable, 0.9).retry);
    }

    void attemptsAreBounded()
    {
        const RetryPolicy p(settings());
        QVERIFY(p.decide(failure(QStringLiteral("a/one")), oneTarget(2), kNow, nowAvailable, 0.0).retry);
        const auto d = p.decide(failure(QStringLiteral("a/one")), oneTarget(3), kNow, nowAvailable, 0.0);
        QVERIFY(!d.retry);
        QCOMPARE(d.reason, QStringLiteral("no attempts left"));
    }
};

QTEST_GUILESS_MAIN(TestRetryPolicy)
#include "tst_retrypolicy.moc"
