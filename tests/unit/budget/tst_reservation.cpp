// The reservation as an upper bound (input bound, output that fits) and the ledger's overshoot count.
#include "budget/budgetledger.h"
#include "budget/reservation.h"
#include <QTest>

using gh::BudgetLedger;
using gh::NanoUsd;
using gh::ProviderFormat;

class TestReservation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void inputBoundCountsEveryByteImagesAndTools()
    {
        // One token per byte plus the per-request overhead.
        QCOMPARE(gh::inputTokenBound({1000, 0, false}, ProviderFormat::OpenAI, QStringLiteral("gpt-4.1")),
                 1000 + gh::kRequestOverheadTokens);
        // Each image at the provider's per-image maximum, whatever its size in the body (a URL is short).
        QCOMPARE(gh::inputTokenBound({100, 2, false}, ProviderFormat::Anthropic, QStringLiteral("claude-sonnet-4-5")),
                 100 + gh::kRequestOverheadTokens + 2 * gh::kAnthropicImageTokens);
        QCOMPARE(gh::inputTokenBound({100, 1, false}, ProviderFormat::OpenAI, QStringLiteral("gpt-4o-mini-2024-07-18")),
                 100 + gh::kRequestOverheadTokens + gh::kOpenAIMiniImageTokens);
        QCOMPARE(gh::inputTokenBound({100, 1, true}, ProviderFormat::Gemini, QStringLiteral("gemini-2.5-pro")),
                 100 + gh::kRequestOverheadTokens + gh::kGeminiImageTokens + gh::kToolsOverheadTokens);
        // Absurd sizes saturate instead of wrapping into something small.
        QVERIFY(gh::inputTokenBound({std::numeric_limits<qint64>::max(), 1000, true}, ProviderFormat::OpenAI, QString()) > 0);
        QCOMPARE(gh::inputTokenBound({-5, 0, false}, ProviderFormat::OpenAI, QString()), gh::kRequestOverheadTokens);
    }

    void outputThatFits()
    {
        gh::ModelPrice price;
        price.input = 1.0;   // 1,000 nano-dollars a token
        price.output = 10.0; // 10,000
        // 264 input tokens = 264,000; (50,000,000 - 264,000) / 10,000 = 4973.6
        QCOMPARE(gh::outputTokensThatFit(50'000'000, 264, 32000, price), qint64(4973));
        QCOMPARE(gh::worstCaseCost(264, 4973, price).value(), NanoUsd(49'994'000));
        // Everything fits: the ceiling.
        QCOMPARE(gh::outputTokensThatFit(50'000'000, 264, 100, price), qint64(100));
        // Only the input fits.
        QCOMPARE(gh::outputTokensThatFit(264'000, 264, 100, price), qint64(0));
        // Not even the input.
        QCOMPARE(gh::outputTokensThatFit(263'999, 264, 100, price), qint64(-1));
        QCOMPARE(gh::outputTokensThatFit(-1, 0, 100, price), qint64(-1));
        // Unpriced: nothing can be said to fit.
        QCOMPARE(gh::outputTokensThatFit(50'000'000, 264, 100, gh::ModelPrice{}), qint64(-1));
    }

    void overshootIsCountedOnTheKey()
    {
        BudgetLedger l;
        gh::BudgetLimits limits;
        limits.limit[int(gh::Period::Total)] = NanoUsd(1'000'000);
        l.setLimits(3, limits);
        const qint64 now = 1'700'000'000'000;
        auto a = std::get<BudgetLedger::Reservation>(l.reserve(3, 100'000, now));
        auto b = std::get<BudgetLedger::Reservation>(l.reserve(3, 100'000, now));
        QCOMPARE(l.settle(a, 90'000, now), NanoUsd(0)); // below the reservation
        QCOMPARE(l.overshoots(3).count, 0);
        QCOMPARE(l.settle(b, 130'000, now), NanoUsd(30'000)); // the real cost is charged, and counted
        QCOMPARE(l.overshoots(3).count, 1);
        QCOMPARE(l.overshoots(3).amount, NanoUsd(30'000));
        QCOMPARE(l.status(3, now)[int(gh::Period::Total)].spent, NanoUsd(220'000));
        QCOMPARE(l.overshoots(99).count, 0);

        // A refusal says what was spent and reserved, and whether the limit is reached.
        auto c = std::get<BudgetLedger::Reservation>(l.reserve(3, 700'000, now));
        auto refused = std::get<BudgetLedger::Refusal>(l.reserve(3, 100'000, now));
        QCOMPARE(refused.spent, NanoUsd(220'000));
        QCOMPARE(refused.reserved, NanoUsd(700'000));
        QCOMPARE(refused.remaining, NanoUsd(80'000));
        QVERIFY(!refused.exhausted());
        l.settle(c, 780'000, now);
        refused = std::get<BudgetLedger::Refusal>(l.reserve(3, 1, now));
        QVERIFY(refused.exhausted());
    }
};

QTEST_GUILESS_MAIN(TestReservation)
#include "tst_reservation.moc"
