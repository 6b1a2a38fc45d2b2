// SpendSummary, SpendByDayModel and TopSpendModel against a log written through gh::Store, with the
// dashboard's clock fixed at Wednesday 2025-03-12 15:00 local time. Every expected figure below is
// summed by hand from the table in initTestCase().
#include "spendaggregates.h"
#include "spendbydaymodel.h"
#include "spendsummary.h"
#include "topspendmodel.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtCharts/QBarSet>
#include <QtCharts/QStackedBarSeries>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestSpendModels : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;
    const qint64 m_now = at(2025, 3, 12, 15);

private Q_SLOTS:
    void initTestCase()
    {
        const QString gpt = QStringLiteral("openai/gpt-4.1");
        const QString mini = QStringLiteral("openai/gpt-4.1-mini");
        const QString claude = QStringLiteral("anthropic/claude-sonnet-4");
        const QString ds = QStringLiteral("deepseek/deepseek-chat");
        const QString oa = QStringLiteral("openai"), an = QStringLiteral("anthropic");
        const QString alpha = QStringLiteral("alpha"), beta = QStringLiteral("beta");
        QList<RequestRecord> log{
            // today, Wednesday 12 March
            record("req_01", at(2025, 3, 12, 9), 1, alpha, gpt, oa, 1.50, 200, 1000, 500),
            record("req_02", at(2025, 3, 12, 10), 2, beta, claude, an, 0.25),
            record("req_03", at(2025, 3, 12, 11), 1, alpha, mini, oa, std::nullopt), // unpriced
            record("req_11", at(2025, 3, 12, 12), 0, QString(), QString(), QString(), std::nullopt, 401),
            record("req_12", at(2025, 3, 12, 13), 2, beta, gpt, oa, std::nullopt, 502),
            // yesterday; Monday; last week's Saturday; Sunday 2 March (week before last, this month)
            record("req_04", at(2025, 3, 11, 12), 2, beta, claude, an, 2.00),
            record("req_05", at(2025, 3, 10, 8), 1, alpha, gpt, oa, 0.75),
            record("req_06", at(2025, 3, 8, 18), 1, alpha, gpt, oa, 3.00),
            record("req_07", at(2025, 3, 2, 9), 2, beta, claude, an, 4.00),
            // February: inside the 30 days (11 Feb is the first of them) and the previous month
            record("req_08", at(2025, 2, 20, 9), 1, alpha, gpt, oa, 10.00),
            record("req_09", at(2025, 2, 11, 9), 2, beta, ds, QStringLiteral("deepseek"), 0.10),
            // January: outside every figure
            record("req_10", at(2025, 1, 15, 9), 1, alpha, gpt, oa, 100.00),
        };
        QVERIFY(m_fx.prepare({key(1, alpha), key(2, beta)}, log));
        QVERIFY(m_fx.start(m_now));
        QTRY_VERIFY(m_fx.backend->aggregates().isReady());
    }

    void summary()
    {
        SpendSummary s(m_fx.backend.get());
        QVERIFY(s.ready());
        QCOMPARE(s.today(), 1.75);
        QCOMPARE(s.todayPrevious(), 2.00);
        QCOMPARE(s.week(), 4.50);
        QCOMPARE(s.weekPrevious(), 3.00);
        QCOMPARE(s.month(), 11.50);
        QCOMPARE(s.monthPrevious(), 10.10);
        QCOMPARE(s.requestsToday(), 5);
        QCOMPARE(s.tokensToday(), qint64(1500 + 150 * 4));
        QVERIFY(s.hasData());
    }

    void topKeysOfTheMonth()
    {
        TopSpendModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setGroupBy(QStringLiteral("key"));
        m.setPeriod(QStringLiteral("month"));
        QCOMPARE(m.rowCount(), 2); // the unauthenticated request has no key
        QCOMPARE(m.data(m.index(0), TopSpendModel::NameRole).toString(), QStringLiteral("beta"));
        QCOMPARE(m.data(m.index(0), TopSpendModel::CostRole).toDouble(), 6.25);
        QCOMPARE(m.data(m.index(0), TopSpendModel::RequestsRole).toLongLong(), 4);
        QCOMPARE(m.data(m.index(0), TopSpendModel::ShareRole).toDouble(), 6.25 / 11.5);
        QCOMPARE(m.data(m.index(1), TopSpendModel::NameRole).toString(), QStringLiteral("alpha"));
        QCOMPARE(m.data(m.index(1), TopSpendModel::CostRole).toDouble(), 5.25);
        QCOMPARE(m.data(m.index(1), TopSpendModel::RequestsRole).toLongLong(), 4);
        QCOMPARE(m.total(), 11.5);
    }

    void topModelsOfTheDay()
    {
        TopSpendModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setGroupBy(QStringLiteral("model"));
        m.setPeriod(QStringLiteral("day"));
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.data(m.index(0), TopSpendModel::NameRole).toString(), QStringLiteral("openai/gpt-4.1"));
        QCOMPARE(m.data(m.index(0), TopSpendModel::CostRole).toDouble(), 1.50);
        QCOMPARE(m.data(m.index(0), TopSpendModel::RequestsRole).toLongLong(), 2); // the 502 counts as a request
        QCOMPARE(m.data(m.index(0), TopSpendModel::ShareRole).toDouble(), 1.50 / 1.75);
        QCOMPARE(m.data(m.index(1), TopSpendModel::NameRole).toString(), QStringLiteral("anthropic/claude-sonnet-4"));
        QCOMPARE(m.data(m.index(2), TopSpendModel::NameRole).toString(), QStringLiteral("openai/gpt-4.1-mini"));
        QCOMPARE(m.data(m.index(2), TopSpendModel::CostRole).toDouble(), 0.0);
        m.setLimit(2);
        QCOMPARE(m.rowCount(), 2);
        m.setPeriod(QStringLiteral("week"));
        QCOMPARE(m.data(m.index(0), TopSpendModel::NameRole).toString(), QStringLiteral("openai/gpt-4.1"));
        QCOMPARE(m.data(m.index(0), TopSpendModel::CostRole).toDouble(), 2.25);
        QCOMPARE(m.data(m.index(1), TopSpendModel::CostRole).toDouble(), 2.25); // claude: 0.25 + 2.00
        // Equal cost: more requests first (gpt-4.1 has 3 this week, claude 2).
        QCOMPARE(m.data(m.index(1), TopSpendModel::NameRole).toString(), QStringLiteral("anthropic/claude-sonnet-4"));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression("period must be"));
        m.setPeriod(QStringLiteral("year"));
        QCOMPARE(m.period(), QStringLiteral("week"));
    }

    void spendByDay()
    {
        SpendByDayModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.days().size(), 30);
        QCOMPARE(m.days().first(), QStringLiteral("2025-02-11"));
        QCOMPARE(m.days().last(), QStringLiteral("2025-03-12"));
        // By 30-day spend: openai 15.25, anthropic 6.25, deepseek 0.10.
        QCOMPARE(m.providers(), (QStringList{"openai", "anthropic", "deepseek"}));
        QCOMPARE(m.rowCount(), 90);
        QCOMPARE(m.cost(29, 0), 1.50);
        QCOMPARE(m.cost(29, 1), 0.25);
        QCOMPARE(m.cost(9, 0), 10.00); // 20 February
        QCOMPARE(m.cost(0, 2), 0.10); // 11 February
        QCOMPARE(m.cost(28, 1), 2.00); // 11 March
        QCOMPARE(m.maxDayTotal(), 10.00);
        QCOMPARE(m.total(), 21.60);
        const QModelIndex last = m.index(29 * 3 + 1);
        QCOMPARE(m.data(last, SpendByDayModel::DayRole).toString(), QStringLiteral("2025-03-12"));
        QCOMPARE(m.data(last, SpendByDayModel::ProviderRole).toString(), QStringLiteral("anthropic"));
        QCOMPARE(m.data(last, SpendByDayModel::CostRole).toDouble(), 0.25);
        QCOMPARE(m.data(last, SpendByDayModel::DayTotalRole).toDouble(), 1.75);

        QStackedBarSeries series;
        m.fillStackedBars(&series);
        QCOMPARE(series.count(), 3);
        QCOMPARE(series.barSets().at(0)->label(), QStringLiteral("openai"));
        QCOMPARE(series.barSets().at(0)->count(), 30);
        QCOMPARE(series.barSets().at(0)->at(9), 10.0);
        QCOMPARE(series.barSets().at(2)->at(0), 0.1);
    }

    // New requests: the figures follow once the log commits them (off the UI thread).
    void live()
    {
        SpendSummary s(m_fx.backend.get());
        TopSpendModel top(m_fx.backend.get());
        top.setGroupBy(QStringLiteral("key"));
        top.setPeriod(QStringLiteral("day"));
        SpendByDayModel byDay(m_fx.backend.get());
        QAbstractItemModelTester t1(&top, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t2(&byDay, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(top.data(top.index(0), TopSpendModel::NameRole).toString(), QStringLiteral("alpha"));
        m_fx.append({record("req_20", at(2025, 3, 12, 14), 2, QStringLiteral("beta"), QStringLiteral("openai/gpt-4.1"),
                         QStringLiteral("openai"), 2.00),
            record("req_21", at(2025, 3, 12, 14, 30), 2, QStringLiteral("beta"), QStringLiteral("xai/grok-4"),
                QStringLiteral("xai"), 0.05)});
        QTRY_COMPARE(s.today(), 3.80);
        QCOMPARE(s.requestsToday(), 7);
        QCOMPARE(s.month(), 13.55);
        QCOMPARE(top.data(top.index(0), TopSpendModel::NameRole).toString(), QStringLiteral("beta"));
        QCOMPARE(top.data(top.index(0), TopSpendModel::CostRole).toDouble(), 2.30);
        QCOMPARE(byDay.providers(), (QStringList{"openai", "anthropic", "deepseek", "xai"}));
        QCOMPARE(byDay.cost(29, 0), 3.50);
        QCOMPARE(byDay.cost(29, 3), 0.05);
    }

    // GATEHOUSE_UI_BENCH=1: the dashboard's first read over a million requests of the last 23 days.
    void millionRowsBench()
    {
        if (qEnvironmentVariableIntValue("GATEHOUSE_UI_BENCH") == 0)
            QSKIP("set GATEHOUSE_UI_BENCH=1 to time the spend aggregates over 1,000,000 rows");
        UiFixture fx;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        {
            Store store;
            QVERIFY(store.open(fx.dbPath()));
            for (int i = 0; i < 1'000'000; ++i) {
                store.appendRequest(record(QStringLiteral("req_%1").arg(i), now - qint64(i) * 2000, 1 + i % 5,
                    QStringLiteral("key%1").arg(i % 5), QStringLiteral("openai/m%1").arg(i % 7),
                    i % 3 ? QStringLiteral("openai") : QStringLiteral("anthropic"), 0.001));
            }
            store.flush();
            store.close();
        }
        QElapsedTimer t;
        t.start();
        QVERIFY(fx.start());
        QTRY_VERIFY_WITH_TIMEOUT(fx.backend->aggregates().isReady(), 60000);
        qInfo("spend aggregates over 1,000,000 rows: first read %lld ms after the gateway's own start (%lld ms)",
            t.elapsed() - fx.gatewayStartMs, fx.gatewayStartMs);
        SpendSummary s(fx.backend.get());
        QCOMPARE(s.month() + s.monthPrevious() > 0, true);
        t.restart();
        fx.append({record("req_new", now, 1, "key0", "openai/m0", "openai", 1.0)});
        const double before = s.today();
        QTRY_VERIFY(s.today() > before);
        qInfo("one new request reaches the dashboard in %lld ms (commit, 400 ms throttle, incremental read)",
            t.elapsed());
    }
};

QTEST_MAIN(TestSpendModels)
#include "tst_spendmodels.moc"
