// The what-if re-pricing against a real log: the daily rollups and the request rows give the same
// candidate cost for a flat price, cached tokens are billed as input by a candidate without cache
// prices, tiers apply per request, slices by key, model and session, the context-window count, and
// the capabilities a candidate lacks.
#include "postgresserver.h"
#include "store/analytics.h"
#include "store/readdb.h"
#include "store/store.h"
#include "store/whatif.h"
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <sqlite3.h>

using namespace gh;

namespace {

constexpr qint64 kDay = 86'400'000;
constexpr qint64 kDay0 = 19'000 * kDay; // a UTC midnight

} // namespace

class TestWhatIf : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    Analytics m_db;
    // The PostgreSQL server of this run and a read connection to its database; nullptr: the run on SQLite.
    test::PostgresServer *m_pg = nullptr;
    pg::Connection m_pgConn;

    // The what-if on this run's back-end.
    whatif::Result compute(const whatif::Slice &slice, const whatif::Candidate &c)
    {
        return m_pg ? whatif::compute(store::PgReadDb{&m_pgConn, {}}, slice, c) : whatif::compute(m_db.handle(), slice, c);
    }
    std::optional<qint64> countOverContext(const whatif::Slice &slice, qint64 window)
    {
        return m_pg ? whatif::countOverContext(store::PgReadDb{&m_pgConn, {}}, slice, window)
                    : whatif::countOverContext(m_db.handle(), slice, window);
    }

public:
    explicit TestWhatIf(test::PostgresServer *pg = nullptr) : m_pg(pg) {}

private Q_SLOTS:
    void initTestCase()
    {
        qInfo("back-end: %s", m_pg ? "PostgreSQL" : "SQLite");
        QString path = m_dir.filePath(QStringLiteral("gatehouse.db"));
        if (m_pg) {
            QString error;
            path = m_pg->createDatabase(&error);
            QVERIFY2(!path.isEmpty(), qPrintable(error));
        }
        {
            Store store;
            QString error;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            // Day 0: two requests of key 1 on a/x (one in session s1); day 2: one of key 2 on b/y, one failed.
            auto add = [&](const char *id, qint64 at, qint64 key, const char *model, qint64 in, qint64 cacheRead, qint64 out, const char *session,
                           int status = 200) {
                RequestRecord r;
                r.id = QString::fromLatin1(id);
                r.startedAtMs = at;
                r.keyId = key;
                r.keyName = QStringLiteral("k%1").arg(key);
                r.modelId = QString::fromLatin1(model);
                r.requestedModel = r.modelId;
                r.provider = r.modelId.section(u'/', 0, 0);
                r.upstreamModel = r.modelId.section(u'/', 1);
                r.sessionId = QString::fromLatin1(session);
                r.status = status;
                if (status == 200) {
                    r.usage.inputTokens = in;
                    r.usage.cacheReadTokens = cacheRead;
                    r.usage.outputTokens = out;
                    r.cost = in * 1000 + out * 2000;
                } else {
                    r.error = QStringLiteral("failed");
                }
                store.appendRequest(r);
            };
            add("req_1", kDay0 + 1000, 1, "a/x", 1'000'000, 0, 100'000, "s1");
            add("req_2", kDay0 + 5000, 1, "a/x", 100, 2'000'000, 10, "");
            add("req_3", kDay0 + 2 * kDay + 10, 2, "b/y", 300'000, 0, 0, "s2");
            add("req_4", kDay0 + 2 * kDay + 20, 2, "b/y", 0, 0, 0, "s2", 502);
            store.flush();
            store.close();
        }
        if (m_pg) {
            QString error;
            QVERIFY2(m_pgConn.open(path, &error), qPrintable(error));
        } else {
            QVERIFY(m_db.open(path));
        }
    }

    void flatCandidateFromRollupsMatchesRows()
    {
        whatif::Candidate c;
        c.price.input = 1.0;  // USD per million
        c.price.output = 4.0;
        c.price.cacheRead = 0.1;
        const whatif::Slice all{kDay0, kDay0 + 3 * kDay, 0, {}, {}};
        const whatif::Result r = compute(all, c);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.fromRollups);
        QCOMPARE(r.days.size(), 3);
        QCOMPARE(r.requests, 4);
        QCOMPARE(r.days.at(1).requests, 0);
        QCOMPARE(r.actualTotal, (1'000'000 + 100 + 300'000) * 1000 + (100'000 + 10) * 2000);
        // Day 0: 1,000,100 input at $1 + 2,000,000 cache reads at $0.10 + 100,010 output at $4.
        QCOMPARE(*r.days.at(0).candidate, fromUsd(1.0001 + 0.2 + 0.40004));
        QCOMPARE(*r.days.at(2).candidate, fromUsd(0.3));
        // A session slice reads the rows and finds the same prices for its requests.
        const whatif::Result s = compute(whatif::Slice{kDay0, kDay0 + 3 * kDay, 0, {}, QStringLiteral("s1")}, c);
        QVERIFY(s.ok && !s.fromRollups);
        QCOMPARE(s.requests, 1);
        QCOMPARE(*s.candidateTotal, fromUsd(1.0 + 0.4));
    }

    void noCachePriceBillsCacheAsInput()
    {
        whatif::Candidate c;
        c.price.input = 1.0;
        c.price.output = 4.0;
        const whatif::Result r = compute(whatif::Slice{kDay0, kDay0 + kDay, 1, QStringLiteral("a/x"), {}}, c);
        QVERIFY(r.ok);
        QCOMPARE(*r.candidateTotal, fromUsd(1.0001 + 2.0 + 0.40004));
    }

    void tiersApplyPerRequest()
    {
        whatif::Candidate c;
        c.price.input = 1.0;
        c.price.output = 4.0;
        c.price.cacheRead = 0.1;
        c.price.inputTiers = {PriceTier{500'000, 2.0}};
        const whatif::Slice all{kDay0, kDay0 + 3 * kDay, 0, {}, {}};
        // 500,000 is a bound of the size histogram (migration 18): priced from it, not from the rows.
        const whatif::Result r = compute(all, c);
        QVERIFY2(r.ok, qPrintable(r.error));
        QVERIFY(r.fromRollups);
        // req_1 (1,000,000 prompt tokens) and req_2 (2,000,100) pay the tier; req_3 (300,000) does not.
        QCOMPARE(*r.days.at(0).candidate, fromUsd(2.0 + 0.4) + fromUsd(0.0002 + 0.2 + 0.00004));
        QCOMPARE(*r.days.at(2).candidate, fromUsd(0.3));
        QCOMPARE(r.requests, 4);
        QCOMPARE(r.days.at(2).requests, 2);
        // The same tier one token later is no bound: read from the rows, the same figures.
        c.price.inputTiers = {PriceTier{500'001, 2.0}};
        const whatif::Result rows = compute(all, c);
        QVERIFY(rows.ok && !rows.fromRollups);
        QCOMPARE(*rows.days.at(0).candidate, *r.days.at(0).candidate);
        QCOMPARE(*rows.days.at(2).candidate, fromUsd(0.3));
        // A tier at 300,000 (a bound): req_3's prompt of exactly 300,000 is not above it.
        c.price.inputTiers = {PriceTier{300'000, 2.0}};
        const whatif::Result edge = compute(all, c);
        QVERIFY(edge.ok && edge.fromRollups);
        QCOMPARE(*edge.days.at(2).candidate, fromUsd(0.3));
        c.price.inputTiers = {PriceTier{299'999, 2.0}};
        const whatif::Result over = compute(all, c);
        QVERIFY(over.ok && !over.fromRollups);
        QCOMPARE(*over.days.at(2).candidate, fromUsd(0.6));
        // One key, one model: only key 2's day-2 request, from the histogram.
        c.price.inputTiers = {PriceTier{250'000, 2.0}};
        const whatif::Result one = compute(whatif::Slice{kDay0, kDay0 + 3 * kDay, 2, QStringLiteral("b/y"), {}}, c);
        QVERIFY(one.ok && one.fromRollups);
        QCOMPARE(one.requests, 2);
        QCOMPARE(*one.candidateTotal, fromUsd(0.6));
    }

    void unpricedCandidateHasNoTotal()
    {
        const whatif::Result r = compute(whatif::Slice{kDay0, kDay0 + 3 * kDay, 0, {}, {}}, whatif::Candidate{});
        QVERIFY(r.ok);
        QVERIFY(!r.candidateTotal);
        QVERIFY(!r.days.at(0).candidate);
        QVERIFY(r.days.at(1).candidate); // nothing to price that day: $0 either way
    }

    void requestsTooLongForTheWindow()
    {
        const whatif::Slice all{kDay0, kDay0 + 3 * kDay, 0, {}, {}};
        QCOMPARE(countOverContext(all, 1'000'000), 2); // req_1: 1,100,000; req_2: 2,000,110
        QCOMPARE(countOverContext(all, 200'000), 3);
        QCOMPARE(countOverContext(whatif::Slice{kDay0, kDay0 + 3 * kDay, 2, {}, {}}, 200'000), 1);
        // 1,000,000 and 200,000 are bounds of the histogram; 1,099,999 and 150,001 are not (rows).
        QCOMPARE(countOverContext(all, 1'099'999), 2);
        QCOMPARE(countOverContext(all, 1'100'000), 1);
        QCOMPARE(countOverContext(all, 150'001), 3);
        QCOMPARE(countOverContext(whatif::Slice{kDay0, kDay0 + 3 * kDay, 0, {}, QStringLiteral("s2")}, 200'000), 1);
        QCOMPARE(countOverContext(all, 300'000), 2); // req_3 has exactly 300,000
        QCOMPARE(countOverContext(all, 0), 0);
        QVERIFY(!whatif::countOverContext(nullptr, all, 10));
        QVERIFY(!whatif::compute(nullptr, all, {}).ok);
        QVERIFY(!compute(whatif::Slice{kDay0, kDay0, 0, {}, {}}, {}).ok);
    }

    // Runs last: deletes a row. The histogram follows (the delete trigger of migration 18).
    void zDeletedRowsLeaveTheHistogram()
    {
        if (m_pg)
            QSKIP("PostgreSQL deletes request rows only with their key's rollup rows (forget a key)");
        sqlite3 *w = nullptr;
        QCOMPARE(sqlite3_open(qPrintable(m_dir.filePath(QStringLiteral("gatehouse.db"))), &w), SQLITE_OK);
        QCOMPARE(sqlite3_exec(w, "DELETE FROM requests WHERE id = 'req_1'", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(w);
        const whatif::Slice all{kDay0, kDay0 + 3 * kDay, 0, {}, {}};
        QCOMPARE(countOverContext(all, 1'000'000), 1);
        QCOMPARE(countOverContext(all, 200'000), 2);
        whatif::Candidate c;
        c.price.input = 1.0;
        c.price.output = 4.0;
        c.price.cacheRead = 0.1;
        c.price.inputTiers = {PriceTier{500'000, 2.0}};
        const whatif::Result r = compute(all, c);
        QVERIFY(r.ok && r.fromRollups);
        QCOMPARE(*r.days.at(0).candidate, fromUsd(0.0002 + 0.2 + 0.00004));
    }

    void missingCapabilities()
    {
        const std::optional<QStringList> tools{QStringList{QStringLiteral("tools"), QStringLiteral("vision")}};
        const std::optional<QStringList> text{QStringList{QStringLiteral("json_schema")}};
        QCOMPARE(whatif::missingCapabilities({tools, text, std::nullopt}, QStringList{QStringLiteral("tools")}),
                 (QStringList{QStringLiteral("json_schema"), QStringLiteral("vision")}));
        QCOMPARE(whatif::missingCapabilities({tools}, std::nullopt), QStringList());
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    // Every case once on SQLite, then once more on a PostgreSQL server started here (as tst_store).
    return test::execOnBothBackEnds<TestWhatIf>("the what-if", argc, argv);
}
#include "tst_whatif.moc"
