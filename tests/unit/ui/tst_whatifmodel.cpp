// WhatIfModel: a slice of a real log (written through gh::Store, read by the running gateway's query
// thread) re-priced on a configured candidate model or route, with the context-window count, the
// capabilities it lacks and the Compare votes, against hand-computed figures.
#include "analyticstestkit.h"
#include "whatifmodel.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

constexpr qint64 kDayMs = 86'400'000;

qint64 utc(int d, int h)
{
    return QDateTime(QDate(2026, 3, d), QTime(h, 0), Qt::UTC).toMSecsSinceEpoch();
}

RequestRecord used(const char *id, qint64 at, qint64 key, qint64 input, qint64 cacheRead, qint64 output, std::optional<double> cost,
    const char *session = "", int status = 200)
{
    RequestRecord r = record(QString::fromLatin1(id), at, key, key == 1 ? QStringLiteral("alpha") : QStringLiteral("beta"),
        QStringLiteral("mock/big"), QStringLiteral("mock"), cost, status, input, output);
    r.modelId = QStringLiteral("mock/big");
    r.usage.cacheReadTokens = cacheRead;
    r.sessionId = QString::fromLatin1(session);
    if (status >= 400)
        r.usage = Usage{};
    return r;
}

bool idle(const WhatIfModel &m)
{
    return QTest::qWaitFor([&m] { return m.isIdle() && m.ready(); }, 5000);
}

// Waits for the read an input change started.
bool settle(WhatIfModel &m)
{
    return QTest::qWaitFor([&m] { return m.isIdle() && !m.loading(); }, 5000) && m.ready();
}

bool near(double a, double b)
{
    return qAbs(a - b) < 1e-9;
}

} // namespace

class TestWhatIfModel : public QObject
{
    Q_OBJECT
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({key(1, "alpha"), key(2, "beta")},
            {
                // Mar 9: 40,000 input + 1,000 output on mock/big ($2 / $8): $0.088
                used("req_1", utc(9, 10), 1, 40'000, 0, 1'000, 0.088),
                // Mar 10: 1,000 input + 9,000 cache reads ($0.50) + 500 output: $0.0105
                used("req_2", utc(10, 9), 2, 1'000, 9'000, 500, 0.0105, "sess-b"),
                // Mar 10: a failure without tokens
                used("req_3", utc(10, 10), 1, 0, 0, 0, std::nullopt, "", 502),
                // Jan 20: outside the 7 and 30 days the tests read
                used("req_old", utc(1, 1) - 40 * kDayMs, 1, 1'000'000, 0, 0, 2.0),
            }));
        QVERIFY(m_fx.start(utc(10, 15)));
        Store &store = m_fx.gateway->store();
        ProviderConfig p;
        p.id = QStringLiteral("mock");
        p.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:9/v1"));
        QVERIFY(store.saveProvider(p));
        ModelConfig big = pricedModel(QStringLiteral("mock/big"), 2.0, 8.0, 0.5);
        big.capabilities = QStringList{QStringLiteral("tools"), QStringLiteral("vision")};
        QVERIFY(store.saveModel(big));
        ModelConfig small = pricedModel(QStringLiteral("mock/small"), 0.4, 1.6, 0.1);
        small.contextWindow = 32'768;
        small.capabilities = QStringList{QStringLiteral("tools")};
        QVERIFY(store.saveModel(small));
        ModelConfig free = pricedModel(QStringLiteral("mock/unknown"), 0, 0);
        free.price = ModelPrice{};
        QVERIFY(store.saveModel(free));
        RouteConfig cheap;
        cheap.id = QStringLiteral("cheap");
        cheap.targets = {RouteTarget{QStringLiteral("mock/small"), 1}, RouteTarget{QStringLiteral("mock/big"), 1}};
        QVERIFY(store.saveRoute(cheap));
        QVERIFY(store.saveRoundVotes(QStringLiteral("round-1"),
            {CompareVote{QStringLiteral("round-1"), QStringLiteral("mock/small"), 1, utc(8, 1)},
                CompareVote{QStringLiteral("round-1"), QStringLiteral("mock/big"), 0, utc(8, 1)}}));
        m_fx.backend->providersEdited();
        m_fx.backend->routesEdited();
    }

    void noCandidateYet()
    {
        WhatIfModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(idle(m));
        QCOMPARE(m.days(), 30);
        QCOMPARE(m.rowCount(), 30); // every day of the period, today last
        QCOMPARE(m.requests(), 3);
        QVERIFY(near(m.actualCost(), 0.0985));
        QVERIFY(!m.candidatePriced()); // nothing picked: nothing to price it at
        QCOMPARE(m.candidateCost(), -1.0);
        QCOMPARE(m.overContext(), -1);
        QCOMPARE(m.modelOptions(), QStringList{QStringLiteral("mock/big")});
        QCOMPARE(m.sessionOptions(), QStringList{QStringLiteral("sess-b")});
        QCOMPARE(m.keyOptions().size(), 2);
        // Routes first, then the models; unpriced ones say so.
        const QVariantList candidates = m.candidateOptions();
        QCOMPARE(candidates.size(), 4);
        QCOMPARE(candidates.at(0).toMap().value(QStringLiteral("value")).toString(), QStringLiteral("cheap"));
        QCOMPARE(candidates.at(0).toMap().value(QStringLiteral("route")).toBool(), true);
        QCOMPARE(candidates.at(3).toMap().value(QStringLiteral("value")).toString(), QStringLiteral("mock/unknown"));
        QCOMPARE(candidates.at(3).toMap().value(QStringLiteral("priced")).toBool(), false);
    }

    void candidateModel()
    {
        WhatIfModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(idle(m));
        QSignalSpy results(&m, &WhatIfModel::resultChanged);
        m.setDays(7);
        m.setCandidate(QStringLiteral("mock/small"));
        QVERIFY(settle(m));
        QCOMPARE(m.rowCount(), 7);
        QCOMPARE(m.requests(), 3);
        // req_1: 40,000 x $0.40 + 1,000 x $1.60 per million = $0.0176;
        // req_2: 1,000 x $0.40 + 9,000 x $0.10 (its cache-read price) + 500 x $1.60 = $0.0021.
        QVERIFY(m.candidatePriced());
        QVERIFY(m.candidateCaches());
        QVERIFY(near(m.candidateCost(), 0.0197));
        QVERIFY(near(m.difference(), 0.0197 - 0.0985));
        const int mar9 = 5, mar10 = 6;
        QCOMPARE(m.data(m.index(mar9), WhatIfModel::DayRole).toLongLong(), utc(9, 0));
        QVERIFY(near(m.data(m.index(mar9), WhatIfModel::ActualRole).toDouble(), 0.088));
        QVERIFY(near(m.data(m.index(mar9), WhatIfModel::CandidateRole).toDouble(), 0.0176));
        QVERIFY(near(m.data(m.index(mar10), WhatIfModel::CandidateRole).toDouble(), 0.0021));
        QVERIFY(near(m.data(m.index(mar10), WhatIfModel::DifferenceRole).toDouble(), 0.0021 - 0.0105));
        QCOMPARE(m.data(m.index(mar10), WhatIfModel::RequestsRole).toLongLong(), 2);
        QCOMPARE(m.data(m.index(0), WhatIfModel::RequestsRole).toLongLong(), 0);
        QCOMPARE(m.dayLabels().size(), 7);
        QVERIFY(near(m.maxDayCost(), 0.088));
        // 41,000 tokens do not fit 32,768; 10,500 do.
        QCOMPARE(m.contextWindow(), 32'768);
        QCOMPARE(m.overContext(), 1);
        QCOMPARE(m.missingCapabilities(), QStringList{QStringLiteral("vision")});
        // The candidate's votes first, then the slice's model.
        const QVariantList evidence = m.evidence();
        QCOMPARE(evidence.size(), 2);
        QCOMPARE(evidence.at(0).toMap().value(QStringLiteral("model")).toString(), QStringLiteral("mock/small"));
        QCOMPARE(evidence.at(0).toMap().value(QStringLiteral("candidate")).toBool(), true);
        QCOMPARE(evidence.at(0).toMap().value(QStringLiteral("winRate")).toDouble(), 1.0);
        QCOMPARE(evidence.at(1).toMap().value(QStringLiteral("wins")).toInt(), 0);
        QVERIFY(!results.isEmpty());
    }

    void slicesByKeyAndSession()
    {
        WhatIfModel m(m_fx.backend.get());
        QVERIFY(idle(m));
        m.setCandidate(QStringLiteral("mock/small"));
        m.setKeyId(2);
        QVERIFY(settle(m));
        QCOMPARE(m.requests(), 1);
        QVERIFY(near(m.actualCost(), 0.0105));
        QVERIFY(near(m.candidateCost(), 0.0021));
        QCOMPARE(m.overContext(), 0);
        m.setKeyId(0);
        m.setSession(QStringLiteral("sess-b"));
        QVERIFY(settle(m));
        QCOMPARE(m.requests(), 1);
        QVERIFY(near(m.candidateCost(), 0.0021));
        m.setSession(QString());
        m.setModel(QStringLiteral("mock/none"));
        QVERIFY(settle(m));
        QCOMPARE(m.requests(), 0);
        QVERIFY(near(m.candidateCost(), 0.0));
        QVERIFY(m.modelOptions().contains(QStringLiteral("mock/none"))); // the pick stays listed
    }

    void routeAndUnpricedCandidates()
    {
        WhatIfModel m(m_fx.backend.get());
        QVERIFY(idle(m));
        m.setCandidate(QStringLiteral("cheap"));
        QVERIFY(settle(m));
        QCOMPARE(m.candidateModel(), QStringLiteral("mock/small")); // its first target
        QVERIFY(near(m.candidateCost(), 0.0197));
        m.setCandidate(QStringLiteral("mock/unknown"));
        QVERIFY(settle(m));
        QVERIFY(!m.candidatePriced());
        QCOMPARE(m.candidateCost(), -1.0);
        QCOMPARE(m.data(m.index(m.rowCount() - 1), WhatIfModel::CandidateRole).toDouble(), -1.0); // today, with tokens
        QCOMPARE(m.data(m.index(0), WhatIfModel::CandidateRole).toDouble(), 0.0); // nothing to price that day
        QCOMPARE(m.overContext(), -1); // its window is unknown
        QVERIFY(!m.capabilitiesKnown());
        QCOMPARE(m.missingCapabilities(), QStringList());
        m.setCandidate(QStringLiteral("no-such-route"));
        QVERIFY(settle(m));
        QVERIFY(!m.candidatePriced());
        m.setDays(0); // clamped
        QCOMPARE(m.days(), 1);
    }

    void followsTheLog()
    {
        WhatIfModel m(m_fx.backend.get());
        QVERIFY(idle(m));
        m.setCandidate(QStringLiteral("mock/small"));
        m.setDays(7);
        QVERIFY(settle(m));
        QSignalSpy results(&m, &WhatIfModel::resultChanged);
        // 100,000 tokens: past the window too.
        m_fx.append({used("req_4", utc(10, 12), 1, 99'000, 0, 1'000, 0.2)});
        QTRY_COMPARE_WITH_TIMEOUT(m.requests(), 4, 6000);
        QCOMPARE(m.overContext(), 2);
        QVERIFY(near(m.candidateCost(), 0.0197 + 0.0396 + 0.0016));
    }
};

QTEST_MAIN(TestWhatIfModel)
#include "tst_whatifmodel.moc"
