// The settlement stage's arithmetic alone (gateway/settlement.h): what a finished request costs,
// what it counts against the rate limiters, and the usage estimated when a provider reports none.
#include "gateway/settlement.h"
#include <QTest>

using namespace gh;

namespace {
// $3 / $15 per million input / output tokens, cache reads at $0.30, cache writes at $3.75.
ModelPrice price()
{
    ModelPrice p;
    p.input = 3.0;
    p.output = 15.0;
    p.cacheRead = 0.30;
    p.cacheWrite = 3.75;
    return p;
}
Usage reported(qint64 in, qint64 out)
{
    Usage u;
    u.inputTokens = in;
    u.outputTokens = out;
    u.reported = true;
    return u;
}
} // namespace

class TestSettlement : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reportedUsageIsChargedAtThePrice()
    {
        Usage u = reported(1000, 500);
        u.cacheReadTokens = 2000;
        u.cacheWriteTokens = 100;
        const Settlement s = settle({u, true, true, price(), NanoUsd(1)});
        // ($ per million tokens) 1000 × 3 + 2000 × 0.30 + 100 × 3.75 + 500 × 15 = 11,475 $·tokens/M,
        // $0.011475: 11,475,000 nano-dollars.
        QVERIFY(s.cost);
        QCOMPARE(*s.cost, NanoUsd(11'475'000));
        QCOMPARE(s.tokens, qint64(1000 + 2000 + 100 + 500));
        QCOMPARE(s.usage, u);
        QCOMPARE(*s.cost, *costOf(u, price())); // the same as pricing's own
        // A 1-hour cache write is prompt tokens too: the key's tpm counts it.
        u.cacheWrite1hTokens = 4000;
        QCOMPARE(settle({u, true, true, price(), NanoUsd(1)}).tokens, qint64(1000 + 2000 + 100 + 4000 + 500));
    }

    void reportedUsageIsNotCappedAtTheReservation()
    {
        // An overshoot is the provider's bill: recorded by the ledger, never hidden here.
        const Settlement s = settle({reported(1'000'000, 0), true, true, price(), NanoUsd(1000)});
        QCOMPARE(*s.cost, NanoUsd(3'000'000'000));
    }

    void estimateIsCappedAtTheReservation()
    {
        Usage u = estimatedUsage(1'000'000, 0, -1);
        const Settlement s = settle({u, true, true, price(), NanoUsd(2'000'000'000)});
        QCOMPARE(*s.cost, NanoUsd(2'000'000'000));
        const Settlement free = settle({u, true, true, price(), std::nullopt});
        QCOMPARE(*free.cost, NanoUsd(3'000'000'000)); // no reservation: nothing to cap at
    }

    void unpricedIsUnknownNotZero()
    {
        const Settlement s = settle({reported(10, 10), true, true, ModelPrice{}, std::nullopt});
        QVERIFY(!s.cost.has_value());
        QCOMPARE(s.tokens, qint64(20));
    }

    void noModelCostsNothing()
    {
        const Settlement s = settle({Usage{}, false, false, ModelPrice{}, std::nullopt});
        QVERIFY(s.cost.has_value());
        QCOMPARE(*s.cost, NanoUsd(0));
    }

    void notChargedEmptiesAnUnreportedUsage()
    {
        Usage guess = estimatedUsage(500, 4000, -1);
        guess.reported = false;
        const Settlement s = settle({guess, false, true, price(), NanoUsd(5'000'000)});
        QCOMPARE(s.usage, Usage{});
        QCOMPARE(*s.cost, NanoUsd(0));
        QCOMPARE(s.tokens, qint64(0));
        // What the provider reported stays on the record even when the client is not charged.
        const Settlement kept = settle({reported(10, 0), false, true, price(), std::nullopt});
        QCOMPARE(kept.usage.inputTokens, qint64(10));
    }

    void estimatedUsageIsCappedAtTheOutputLimit()
    {
        const Usage open = estimatedUsage(120, 4000, -1);
        QCOMPARE(open.inputTokens, qint64(120));
        QCOMPARE(open.outputTokens, estimateTokens(4000));
        QVERIFY(open.estimated);
        QVERIFY(!open.reported);
        const Usage capped = estimatedUsage(120, 4000, 10);
        QCOMPARE(capped.outputTokens, qint64(10));
        QCOMPARE(estimatedUsage(0, 0, 0).outputTokens, qint64(0));
    }
};

QTEST_GUILESS_MAIN(TestSettlement)
#include "tst_settlement.moc"
