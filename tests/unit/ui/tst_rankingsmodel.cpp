// RankingsModel over a log written through gh::Store (so through the rollup triggers), with the
// clock fixed at Wednesday 2025-03-12 15:00 local time; figures summed by hand from the rows below.
#include "analyticstestkit.h"
#include "rankingsmodel.h"
#include <numeric>
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestRankingsModel : public AnalyticsTest
{
    Q_OBJECT
private:
    static int rowOf(const RankingsModel &m, const QString &model)
    {
        return test::rowOf(m, RankingsModel::ModelRole, model);
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString oa = QStringLiteral("openai"), an = QStringLiteral("anthropic");
        const QString alpha = QStringLiteral("alpha"), beta = QStringLiteral("beta");
        QList<RequestRecord> log{
            record("req_01", at(2025, 3, 12, 9), 1, alpha, m_gpt, oa, 1.50, 200, 1000, 500),
            record("req_02", at(2025, 3, 11, 10), 2, beta, m_gpt, oa, 0.75, 200, 1000, 250),
            record("req_03", at(2025, 3, 8, 11), 1, alpha, m_gpt, oa, 3.00, 200, 2000, 1250),
            record("req_04", at(2025, 3, 12, 12), 1, alpha, m_gpt, oa, std::nullopt, 502, 0, 0),
            record("req_05", at(2025, 3, 12, 13), 2, beta, m_claude, an, 0.25, 200, 500, 100),
            record("req_06", at(2025, 3, 10, 8), 1, alpha, m_mini, oa, std::nullopt, 200, 300, 30), // unpriced
            record("req_07", at(2025, 2, 25, 9), 1, alpha, m_gpt, oa, 10.00), // 15 days ago: the month only
            record(
                "req_08", at(2025, 3, 12, 14), 0, QString(), QString(), QString(), std::nullopt, 401, 0, 0), // refused
        };
        log[3].attempts = 1;
        log[7].attempts = 0;
        log[1].stream = true;
        log[1].ttftMs = 250; // 250 output tokens in 170 ms after the first token
        QVERIFY(m_fx.prepare({key(1, alpha), key(2, beta)}, log));
        QVERIFY(m_fx.start(m_now));
        // Compare votes: mini wins as often as gpt, and is cheaper.
        for (int i = 0; i < 6; ++i) {
            QVERIFY(m_fx.gateway->store().saveRoundVotes(QStringLiteral("round%1").arg(i),
                {{QString(), m_gpt, i % 2 ? 1 : 0, m_now - 3600'000},
                    {QString(), m_mini, i % 2 ? 0 : 1, m_now - 3600'000}}));
        }
        QVERIFY(m_fx.gateway->store().saveModel(pricedModel(m_mini, 0.4, 1.6)));
    }

    void sevenDays()
    {
        RankingsModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.period(), QStringLiteral("week"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.rowCount(), 3);
        QCOMPARE(m.slices(), 7);
        // By spend: gpt 5.25, claude 0.25, mini (unpriced) 0.
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_gpt);
        QCOMPARE(m.data(m.index(1), RankingsModel::ModelRole).toString(), m_claude);
        QCOMPARE(m.data(m.index(2), RankingsModel::ModelRole).toString(), m_mini);
        const QModelIndex gpt = m.index(0);
        QCOMPARE(m.data(gpt, RankingsModel::ProviderRole).toString(), QStringLiteral("openai"));
        QCOMPARE(m.data(gpt, RankingsModel::RequestsRole).toLongLong(), 4);
        QCOMPARE(m.data(gpt, RankingsModel::SpendRole).toDouble(), 5.25);
        QCOMPARE(m.data(gpt, RankingsModel::ErrorRateRole).toDouble(), 0.25);
        QVERIFY(qAbs(m.data(gpt, RankingsModel::CostPer1kOutputRole).toDouble() - 5.25 / 2.0) < 1e-9); // 2000 output
        // Every ok row took 420 ms: the estimate is within the bucket error.
        QVERIFY(qAbs(m.data(gpt, RankingsModel::P50LatencyRole).toDouble() / 420 - 1) <= 0.091);
        QVERIFY(qAbs(m.data(gpt, RankingsModel::P95LatencyRole).toDouble() / 420 - 1) <= 0.091);
        QVERIFY(qAbs(m.data(gpt, RankingsModel::P50TtftRole).toDouble() / 120 - 1) <= 0.091);
        QCOMPARE(m.data(gpt, RankingsModel::TokensPerSecondRole).toDouble(), 250.0 * 1000 / 170);
        QCOMPARE(m.data(gpt, RankingsModel::CacheHitRateRole).toDouble(), 0.0);
        QCOMPARE(m.data(gpt, RankingsModel::RoundsRole).toInt(), 6);
        QCOMPARE(m.data(gpt, RankingsModel::WinsRole).toInt(), 3);
        QCOMPARE(m.data(gpt, RankingsModel::WinRateRole).toDouble(), 0.5);
        const auto trend = m.data(gpt, RankingsModel::TrendRole).value<QList<qreal>>();
        QCOMPARE(trend.size(), 7);
        QCOMPARE(trend.last(), 2.0); // req_01 and req_04 in the last 24 h
        QCOMPARE(std::accumulate(trend.cbegin(), trend.cend(), 0.0), 4.0);
        const auto spendTrend = m.data(gpt, RankingsModel::SpendTrendRole).value<QList<qreal>>();
        QCOMPARE(spendTrend.last(), 1.5);
        const QModelIndex mini = m.index(2);
        QCOMPARE(m.data(mini, RankingsModel::UnpricedRole).toLongLong(), 1);
        QCOMPARE(m.data(mini, RankingsModel::CostPer1kOutputRole).toDouble(), -1.0);
        QCOMPARE(m.data(mini, RankingsModel::TokensPerSecondRole).toDouble(), -1.0);
        QCOMPARE(m.totalRequests(), 6);
        QCOMPARE(m.totalSpend(), 5.5);

        // You could save: gpt's 4000 input + 2000 output tokens at mini's prices.
        QCOMPARE(m.savings().size(), 1);
        const QVariantMap s = m.savings().first().toMap();
        QCOMPARE(s.value(QStringLiteral("model")).toString(), m_gpt);
        QCOMPARE(s.value(QStringLiteral("alternative")).toString(), m_mini);
        QCOMPARE(s.value(QStringLiteral("alternativeCost")).toDouble(), (4000 * 0.4 + 2000 * 1.6) / 1e6);
        QVERIFY(qAbs(s.value(QStringLiteral("saving")).toDouble() - (5.25 - (4000 * 0.4 + 2000 * 1.6) / 1e6)) < 1e-12);
        QCOMPARE(m.keys().size(), 2);
    }

    void sortsByEachColumn()
    {
        RankingsModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(waitIdle(m));
        QPersistentModelIndex claude(m.index(rowOf(m, m_claude)));
        QSignalSpy layout(&m, &QAbstractItemModel::layoutChanged);
        m.toggleSort(QStringLiteral("spend")); // already by spend: flips
        QVERIFY(!m.descending());
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_mini);
        QCOMPARE(layout.count(), 1);
        QCOMPARE(claude.data(RankingsModel::ModelRole).toString(), m_claude); // persistent indexes follow
        m.toggleSort(QStringLiteral("model")); // names: A to Z first
        QVERIFY(!m.descending());
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_claude);
        QCOMPARE(m.data(m.index(2), RankingsModel::ModelRole).toString(), m_mini);
        m.toggleSort(QStringLiteral("errorRate")); // figures: largest first
        QVERIFY(m.descending());
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_gpt);
        m.toggleSort(QStringLiteral("tokensPerSecond")); // unknown figures stay last
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_gpt);
        m.setDescending(false);
        QCOMPARE(m.data(m.index(0), RankingsModel::ModelRole).toString(), m_gpt);
        QTest::ignoreMessage(QtWarningMsg, "RankingsModel: cannot sort by \"nope\"");
        m.setSortBy(QStringLiteral("nope"));
        QCOMPARE(m.sortBy(), QStringLiteral("tokensPerSecond"));
    }

    void filtersAndPeriods()
    {
        RankingsModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(waitIdle(m));
        m.setKeyId(2);
        QVERIFY(waitIdle(m));
        QCOMPARE(m.rowCount(), 2); // beta: gpt 0.75 and claude 0.25
        QCOMPARE(m.data(m.index(0), RankingsModel::SpendRole).toDouble(), 0.75);
        m.setKeyId(-1);
        m.setPeriod(QStringLiteral("month"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.slices(), 30);
        QCOMPARE(m.data(m.index(rowOf(m, m_gpt)), RankingsModel::RequestsRole).toLongLong(), 5);
        m.setPeriod(QStringLiteral("day"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.slices(), 24);
        QCOMPARE(m.rowCount(), 2); // gpt (req_01, req_04), claude
        QTest::ignoreMessage(
            QtWarningMsg, "RankingsModel: period must be \"day\", \"week\", \"month\" or \"all\", not \"year\"");
        m.setPeriod(QStringLiteral("year"));
        QCOMPARE(m.period(), QStringLiteral("day"));

        // New requests show up on the next read.
        m_fx.append({record("req_09", m_now - 60'000, 2, QStringLiteral("beta"),
            QStringLiteral("deepseek/deepseek-chat"), QStringLiteral("deepseek"), 0.01)});
        m.refresh();
        QVERIFY(waitIdle(m));
        QCOMPARE(m.rowCount(), 3);
        QVERIFY(rowOf(m, QStringLiteral("deepseek/deepseek-chat")) >= 0);
    }

    // AnalyticsModelBase: one read at a time, `loading` across queued reads, re-reads throttled.
    void loadingAndThrottledRereads()
    {
        RankingsModel m(m_fx.backend.get());
        QSignalSpy loading(&m, &RankingsModel::loadingChanged);
        QSignalSpy result(&m, &RankingsModel::resultChanged);
        QVERIFY(m.loading()); // the constructor started the first read
        m.refresh(); // while it runs: one more read afterwards, however often asked
        m.refresh();
        QVERIFY(waitIdle(m));
        QVERIFY(!m.loading());
        QCOMPARE(loading.count(), 1); // true all along, then false once
        QCOMPARE(result.count(), 2);

        const int rows = m.rowCount();
        m_fx.append({record("req_10", m_now - 30'000, 1, QStringLiteral("alpha"),
            QStringLiteral("mistral/mistral-small"), QStringLiteral("mistral"), 0.02)});
        result.clear();
        Q_EMIT m_fx.backend->logChanged(); // a burst of log changes: one read, 2 s later
        Q_EMIT m_fx.backend->logChanged();
        QTest::qWait(500);
        QCOMPARE(result.count(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(result.count(), 1, 5000);
        QVERIFY(waitIdle(m));
        QCOMPARE(result.count(), 1);
        QCOMPARE(m.rowCount(), rows + 1);
        QVERIFY(rowOf(m, QStringLiteral("mistral/mistral-small")) >= 0);
    }
};

QTEST_MAIN(TestRankingsModel)
#include "tst_rankingsmodel.moc"
