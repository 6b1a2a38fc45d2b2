// CacheModel over a log written through gh::Store (so through the rollup triggers), with the clock
// fixed at Wednesday 2025-03-12 15:00 local time; figures computed by hand from the rows below.
#include "analyticstestkit.h"
#include "cachemodel.h"
#include <QAbstractItemModelTester>
#include <QtCharts/QBarSet>
#include <QtCharts/QLineSeries>
#include <QtCharts/QStackedBarSeries>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestCacheModel : public AnalyticsTest
{
    Q_OBJECT
private:
    static RequestRecord cached(RequestRecord r, qint64 read, qint64 write, qint64 write1h = 0)
    {
        r.usage.cacheReadTokens = read;
        r.usage.cacheWriteTokens = write;
        r.usage.cacheWrite1hTokens = write1h;
        return r;
    }
    static int rowOf(const CacheModel &m, const QString &name) { return test::rowOf(m, CacheModel::NameRole, name); }

private Q_SLOTS:
    void initTestCase()
    {
        const QString oa = QStringLiteral("openai"), an = QStringLiteral("anthropic");
        const QString alpha = QStringLiteral("alpha"), beta = QStringLiteral("beta");
        QList<RequestRecord> log{
            // alpha: OpenAI-style usage, 1000 uncached + 3000 read; then 4000 uncached
            cached(record("req_01", at(2025, 3, 12, 9), 1, alpha, m_gpt, oa, 0.01, 200, 1000, 100), 3000, 0),
            cached(record("req_02", at(2025, 3, 10, 9), 1, alpha, m_gpt, oa, 0.01, 200, 4000, 100), 0, 0),
            // beta: Anthropic-style usage with both write TTLs
            cached(record("req_03", at(2025, 3, 11, 9), 2, beta, m_claude, an, 0.01, 200, 10, 100), 9000, 500, 490),
            // beta, outside the week
            cached(record("req_04", at(2025, 2, 20, 9), 2, beta, m_claude, an, 0.01, 200, 10, 100), 90000, 0),
        };
        // alpha's prompts: the system prompt (2,000 bytes) changes in its second block every time.
        for (int i = 0; i < 5; ++i) {
            RequestRecord r = cached(record(QStringLiteral("req_p%1").arg(i), at(2025, 3, 12, 10, i), 1, alpha, m_gpt,
                                         oa, 0.0, 200, 2000, 10),
                0, 0);
            r.promptBlocks = {7, quint64(100 + i), 8, 9};
            r.promptSystemBytes = 2000;
            r.promptToolsBytes = 500;
            log.append(r);
        }
        QVERIFY(m_fx.prepare({key(1, alpha), key(2, beta)}, log));
        QVERIFY(m_fx.start(m_now));
        QVERIFY(m_fx.gateway->store().saveModel(pricedModel(m_gpt, 2.0, 8.0, 0.5)));
        QVERIFY(m_fx.gateway->store().saveModel(pricedModel(m_claude, 3.0, 15.0, 0.3)));
    }

    void byModelAndTotals()
    {
        CacheModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(waitIdle(m));
        QCOMPARE(m.groupBy(), QStringLiteral("model"));
        QCOMPARE(m.rowCount(), 2);
        // Prompt tokens: gpt 4000 + 4000 + 5 x 2000 = 18000 (3000 read); claude 10 + 9000 + 990 = 10000.
        QCOMPARE(m.promptTokens(), 28000);
        QCOMPARE(m.cacheReadTokens(), 12000);
        QCOMPARE(m.cacheWriteTokens(), 990);
        QCOMPARE(m.hitRate(), 12000.0 / 28000.0);
        // Saved: 3000 x (2 - 0.5) + 9000 x (3 - 0.3) per million.
        QVERIFY(qAbs(m.saved() - (3000 * 1.5 + 9000 * 2.7) / 1e6) < 1e-12);
        const QModelIndex gpt = m.index(rowOf(m, m_gpt));
        QCOMPARE(gpt.row(), 0);
        QCOMPARE(m.data(gpt, CacheModel::PromptTokensRole).toLongLong(), 18000);
        QCOMPARE(m.data(gpt, CacheModel::HitRateRole).toDouble(), 3000.0 / 18000.0);
        QCOMPARE(m.data(gpt, CacheModel::ShareRole).toDouble(), 18000.0 / 28000.0);
        const QModelIndex claude = m.index(rowOf(m, m_claude));
        QCOMPARE(m.data(claude, CacheModel::HitRateRole).toDouble(), 0.9);
        QCOMPARE(m.data(claude, CacheModel::CacheWriteTokensRole).toLongLong(), 990);
        QCOMPARE(m.data(claude, CacheModel::SavedRole).toDouble(), 9000 * 2.7 / 1e6);
        QCOMPARE(m.data(claude, CacheModel::PoorRole).toBool(), false); // by key only

        m.setGroupBy(QStringLiteral("provider"));
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(m.data(m.index(0), CacheModel::NameRole).toString(), QStringLiteral("openai"));
        QTest::ignoreMessage(
            QtWarningMsg, "CacheModel: groupBy must be \"provider\", \"model\" or \"key\", not \"day\"");
        m.setGroupBy(QStringLiteral("day"));
        QCOMPARE(m.groupBy(), QStringLiteral("provider"));

        m.setPeriod(QStringLiteral("month"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.cacheReadTokens(), 12000 + 90000);
        QCOMPARE(m.chartLabels().size(), 30);
    }

    // The Cache page's what-if per provider: the hit rate at X% instead of Y%.
    void hitRateWhatIfPerProvider()
    {
        CacheModel m(m_fx.backend.get());
        m.setGroupBy(QStringLiteral("provider"));
        QVERIFY(waitIdle(m));
        const int openai = rowOf(m, QStringLiteral("openai")), anthropic = rowOf(m, QStringLiteral("anthropic"));
        QVERIFY(openai >= 0 && anthropic >= 0);
        // openai: 18,000 prompt tokens, 15,000 uncached + 3,000 read, no writes: up to 100%; every
        // one of them read would save 18,000 x ($2 - $0.50) per million.
        QCOMPARE(m.data(m.index(openai), CacheModel::MaxHitRateRole).toDouble(), 1.0);
        QVERIFY(qAbs(m.data(m.index(openai), CacheModel::SavedAtFullHitRole).toDouble() - 0.027) < 1e-12);
        // At its own rate (3,000 / 18,000) the what-if is what was saved: $0.0045.
        QVERIFY(qAbs(m.savedAtHitRate(openai, 3000.0 / 18000.0) - 0.0045) < 1e-12);
        QVERIFY(qAbs(m.savedAtHitRate(openai, 0.5) - 9000 * 1.5 / 1e6) < 1e-12);
        QCOMPARE(m.savedAtHitRate(openai, 0), 0.0);
        // anthropic: 10,000 prompt tokens of which 990 were cache writes: at most 90.1%.
        QCOMPARE(m.data(m.index(anthropic), CacheModel::MaxHitRateRole).toDouble(), 9010.0 / 10000.0);
        QVERIFY(qAbs(m.savedAtHitRate(anthropic, 0.9) - 9000 * 2.7 / 1e6) < 1e-12);
        // Above what the writes leave: capped there.
        QVERIFY(qAbs(m.savedAtHitRate(anthropic, 1.0) - 9010 * 2.7 / 1e6) < 1e-12);
        QCOMPARE(m.savedAtHitRate(-1, 0.5), 0.0);
        QCOMPARE(m.savedAtHitRate(99, 0.5), 0.0);
    }

    void byKeyWithThePrefixDiagnosis()
    {
        CacheModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setGroupBy(QStringLiteral("key"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.rowCount(), 2);
        const QModelIndex alpha = m.index(rowOf(m, QStringLiteral("alpha")));
        QVERIFY(alpha.isValid());
        QCOMPARE(m.data(alpha, CacheModel::KeyIdRole).toLongLong(), 1);
        QCOMPARE(m.data(alpha, CacheModel::HitRateRole).toDouble(), 3000.0 / 18000.0);
        QCOMPARE(m.data(alpha, CacheModel::PoorRole).toBool(), true); // 17% of 18,000 tokens
        QCOMPARE(m.data(alpha, CacheModel::DiagnosisByteRole).toLongLong(), 1024);
        QCOMPARE(m.data(alpha, CacheModel::DiagnosisSectionRole).toString(), QStringLiteral("system"));
        const QString text = m.data(alpha, CacheModel::DiagnosisRole).toString();
        QVERIFY2(text.contains(QStringLiteral("inside the system prompt"))
                && text.contains(QStringLiteral("4 of the last 4")),
            qPrintable(text));
        QCOMPARE(m.poorKeys(), 1);
        const QModelIndex beta = m.index(rowOf(m, QStringLiteral("beta")));
        QCOMPARE(m.data(beta, CacheModel::PoorRole).toBool(), false);
        QCOMPARE(m.data(beta, CacheModel::DiagnosisRole).toString(), QString()); // no prompt hashes
        QCOMPARE(m.data(beta, CacheModel::DiagnosisByteRole).toLongLong(), -1);
    }

    void chartPerDay()
    {
        CacheModel m(m_fx.backend.get());
        QVERIFY(waitIdle(m));
        QCOMPARE(m.chartLabels().size(), 7);
        QStackedBarSeries bars;
        QLineSeries line;
        m.fillChart(&bars, &line, {QColor(Qt::green), QColor(Qt::yellow), QColor(Qt::gray)}, 1000);
        QCOMPARE(bars.count(), 3);
        QCOMPARE(bars.barSets().at(0)->count(), 7);
        // Today (the last day): 3000 read; 1000 + 5 x 2000 uncached.
        QCOMPARE(bars.barSets().at(0)->at(6), 3.0);
        QCOMPARE(bars.barSets().at(2)->at(6), 11.0);
        QCOMPARE(bars.barSets().at(0)->color(), QColor(Qt::green));
        // Yesterday: claude, 9000 read, 990 written; Monday: 4000 uncached.
        QCOMPARE(bars.barSets().at(0)->at(5), 9.0);
        QCOMPARE(bars.barSets().at(1)->at(5), 0.99);
        QCOMPARE(bars.barSets().at(2)->at(4), 4.0);
        QCOMPARE(m.chartMaxTokens(), 14000.0);
        // Hit rate points only where there were prompt tokens: Monday 0%, yesterday 90%, today 3/14.
        QCOMPARE(line.count(), 3);
        QCOMPARE(line.at(0), QPointF(4, 0));
        QCOMPARE(line.at(1), QPointF(5, 90));
        QCOMPARE(line.at(2), QPointF(6, 3000.0 * 100 / 14000.0));
        QVERIFY(qAbs(m.savedAt(5) - 9000 * 2.7 / 1e6) < 1e-12);
        QCOMPARE(m.savedAt(99), 0.0);

        m.setPeriod(QStringLiteral("day"));
        QVERIFY(waitIdle(m));
        QCOMPARE(m.chartLabels().size(), 24);
        QCOMPARE(m.chartLabels().last(), QStringLiteral("15:00"));
    }
};

QTEST_MAIN(TestCacheModel)
#include "tst_cachemodel.moc"
