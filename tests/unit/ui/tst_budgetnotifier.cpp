// BudgetNotifier: 80% and 100% of a limit, once per key, period and threshold, across restarts.
#include "budget/budgetledger.h"
#include "budgetnotifier.h"
#include "keysmodel.h"
#include "uitestfixture.h"
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestBudgetNotifier : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void crossings()
    {
        UiFixture fx;
        KeyLimits limits;
        limits.dayUsd = 10;
        limits.monthUsd = 100;
        QVERIFY(fx.prepare({key(1, "scripts", limits), key(2, "free")}, {}));
        QVERIFY(fx.start());
        auto &ledger = fx.gateway->context().ledger;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto spend = [&](qint64 keyId, double usd) {
            auto r = std::get<BudgetLedger::Reservation>(ledger.reserve(keyId, 0, now));
            ledger.settle(r, fromUsd(usd), now);
        };
        {
            BudgetNotifier n(*fx.backend);
            QSignalSpy crossed(&n, &BudgetNotifier::thresholdCrossed);
            spend(1, 7.99);
            spend(2, 1000); // no limits: never
            n.check();
            QCOMPARE(crossed.size(), 0);
            spend(1, 0.01); // exactly 80% of the day
            n.check();
            QCOMPARE(crossed.size(), 1);
            QCOMPARE(crossed.at(0).at(1).toString(), QStringLiteral("scripts"));
            QCOMPARE(crossed.at(0).at(2).toString(), QStringLiteral("day"));
            QCOMPARE(crossed.at(0).at(3).toInt(), 80);
            QCOMPARE(crossed.at(0).at(4).toDouble(), 8.0);
            QCOMPARE(crossed.at(0).at(5).toDouble(), 10.0);
            n.check();
            spend(1, 0.5);
            n.check();
            QCOMPARE(crossed.size(), 1); // once per period
            spend(1, 90); // 98.5 of the day (100% crossed) and 98.5% of the month (80% crossed)
            n.check();
            QCOMPARE(crossed.size(), 3);
            QCOMPARE(crossed.at(1).at(2).toString(), QStringLiteral("day"));
            QCOMPARE(crossed.at(1).at(3).toInt(), 100);
            QCOMPARE(crossed.at(2).at(2).toString(), QStringLiteral("month"));
            QCOMPARE(crossed.at(2).at(3).toInt(), 80);
        }
        // A restart remembers what was said.
        BudgetNotifier again(*fx.backend);
        QSignalSpy crossed(&again, &BudgetNotifier::thresholdCrossed);
        again.check();
        QCOMPARE(crossed.size(), 0);
        // Lowering a limit below the spend is a crossing too (keysChanged triggers the check).
        KeysModel keys(fx.backend.get());
        QVERIFY(keys.setLimit(2, QStringLiteral("week"), 500));
        QCOMPARE(crossed.size(), 1);
        QCOMPARE(crossed.at(0).at(1).toString(), QStringLiteral("free"));
        QCOMPARE(crossed.at(0).at(2).toString(), QStringLiteral("week"));
        QCOMPARE(crossed.at(0).at(3).toInt(), 100);
    }

    // At 99.9% the key refuses every request (what is left is less than a request's worst case):
    // the first refusal is the 100% notice of the tightest period, once per period.
    void refusalBelowTheLimit()
    {
        UiFixture fx;
        KeyLimits limits;
        limits.dayUsd = 0.05;
        limits.monthUsd = 10;
        QVERIFY(fx.prepare({key(1, "tight", limits)}, {}));
        QVERIFY(fx.start());
        auto &ledger = fx.gateway->context().ledger;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto r = std::get<BudgetLedger::Reservation>(ledger.reserve(1, 0, now));
        ledger.settle(r, fromUsd(0.04995), now); // 99.9% of the day
        BudgetNotifier n(*fx.backend);
        QSignalSpy crossed(&n, &BudgetNotifier::thresholdCrossed);
        n.check();
        QCOMPARE(crossed.size(), 1); // 80%
        QCOMPARE(crossed.at(0).at(3).toInt(), 80);
        n.refused(1);
        QCOMPARE(crossed.size(), 2);
        QCOMPARE(crossed.at(1).at(2).toString(), QStringLiteral("day"));
        QCOMPARE(crossed.at(1).at(3).toInt(), 100);
        QVERIFY(crossed.at(1).at(4).toDouble() < crossed.at(1).at(5).toDouble());
        n.refused(1);
        n.refused(2); // not a key
        n.check();
        QCOMPARE(crossed.size(), 2);
        // Reaching 100% later in the same period does not say it again.
        r = std::get<BudgetLedger::Reservation>(ledger.reserve(1, 0, now));
        ledger.settle(r, fromUsd(0.001), now);
        n.check();
        QCOMPARE(crossed.size(), 2);
    }
};

QTEST_MAIN(TestBudgetNotifier)
#include "tst_budgetnotifier.moc"
