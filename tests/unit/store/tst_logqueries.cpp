#include "postgresserver.h"
#include "store/logqueries.h"
#include "store/pg.h"
#include "store/pgmigrations.h"
#include "store/requestcodec.h"
#include "store/store.h"
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>
#include <cstdio>
#include <numeric>

using namespace gh;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000; // a UTC midnight is not needed: rollups are by UTC day
constexpr qint64 kDay = 86'400'000;
const QString kInstanceA = QStringLiteral("inst-a");
const QString kInstanceB = QStringLiteral("inst-b");

RequestRecord record(int i, int status, const QString &error = {})
{
    RequestRecord r;
    r.id = QStringLiteral("req_%1").arg(i, 4, 10, QLatin1Char('0'));
    r.startedAtMs = kT0 + i * 1'000;
    r.keyId = 1 + i % 2;
    r.keyName = QStringLiteral("key-%1").arg(r.keyId);
    r.endpoint = QStringLiteral("/v1/chat/completions");
    r.requestedModel = i % 3 == 0 ? QStringLiteral("gpt-a") : QStringLiteral("gpt-b");
    r.modelId = QStringLiteral("p/") + r.requestedModel;
    r.provider = QStringLiteral("p");
    r.upstreamModel = r.requestedModel;
    r.sessionId = i % 4 == 0 ? QStringLiteral("s1") : QString();
    r.status = status;
    r.error = error;
    r.attempts = 1;
    r.usage.inputTokens = 10;
    r.usage.outputTokens = 5;
    r.cost = i % 5 == 0 ? std::nullopt : std::optional<NanoUsd>(1'000 * i);
    r.refusal = i % 7 == 6 ? QStringLiteral("budget") : QString();
    r.latencyMs = 100 + 10 * i;
    r.ttftMs = 50 + i;
    r.stream = i % 2 == 0;
    r.usage.cacheReadTokens = i % 3;
    // Two instances share the log (a team store): "inst-b" served every third request.
    r.instanceId = i % 3 == 0 ? kInstanceB : kInstanceA;
    return r;
}

// What the log says of one instance's rows (every instance's when `instance` is empty).
struct Expected {
    qint64 requests = 0;
    NanoUsd cost = 0;
    qint64 refused = 0;
    qint64 sessionRequests = 0;
};

Expected expectedOf(const QList<RequestRecord> &rows, const QString &instance)
{
    Expected e;
    for (const RequestRecord &r : rows) {
        if (!instance.isEmpty() && r.instanceId != instance)
            continue;
        ++e.requests;
        e.cost += r.cost.value_or(0);
        e.refused += r.refusal.isEmpty() ? 0 : 1;
        e.sessionRequests += r.sessionId.isEmpty() ? 0 : 1;
    }
    return e;
}

// The figures of Rankings, Cache and the What-if, as text: two back-ends must print the same.
QString digest(const analytics::Rankings &r)
{
    QStringList out{QStringLiteral("ok=%1 from=%2 to=%3").arg(r.ok).arg(r.fromMs).arg(r.toMs)};
    for (const analytics::ModelRanking &m : r.models)
        out << QStringLiteral("%1 %2 n=%3 err=%4 cost=%5 unpriced=%6 in=%7 read=%8 out=%9 stream=%10/%11 p50=%12 ttft50=%13 trend=%14")
                   .arg(m.model, m.provider)
                   .arg(m.sums.requests)
                   .arg(m.sums.errors)
                   .arg(m.sums.cost)
                   .arg(m.sums.unpriced)
                   .arg(m.sums.inputTokens)
                   .arg(m.sums.cacheReadTokens)
                   .arg(m.sums.outputTokens)
                   .arg(m.sums.streamOutputTokens)
                   .arg(m.sums.streamGenerationMs)
                   .arg(m.latency.percentile(0.5, r.bounds))
                   .arg(m.ttft.percentile(0.5, r.bounds))
                   .arg(QString::number(std::accumulate(m.trendRequests.cbegin(), m.trendRequests.cend(), qint64(0))));
    return out.join(u'\n');
}

QString digest(const analytics::CacheReport &c)
{
    QStringList out{QStringLiteral("ok=%1 n=%2 read=%3 saved=%4 lookups=%5").arg(c.ok).arg(c.total.sums.requests)
                        .arg(c.total.sums.cacheReadTokens).arg(c.total.saved).arg(c.responseLookups)};
    for (const analytics::CacheGroup &g : c.byModel)
        out << QStringLiteral("%1 n=%2 read=%3").arg(g.name).arg(g.sums.requests).arg(g.sums.cacheReadTokens);
    for (const analytics::CacheBucket &b : c.chart)
        out << QStringLiteral("[%1 n=%2]").arg(b.fromMs).arg(b.sums.requests);
    return out.join(u'\n');
}

QString digest(const whatif::Report &w)
{
    QStringList out{QStringLiteral("ok=%1 n=%2 actual=%3 candidate=%4 unpriced=%5 over=%6")
                        .arg(w.result.ok)
                        .arg(w.result.requests)
                        .arg(w.result.actualTotal)
                        .arg(w.result.candidateTotal.value_or(-1))
                        .arg(w.result.unpricedActual)
                        .arg(w.overContext.value_or(-1))};
    for (const whatif::ModelUse &m : w.models)
        out << QStringLiteral("%1 n=%2 cost=%3").arg(m.model).arg(m.requests).arg(m.cost);
    return out.join(u'\n');
}

analytics::RankingsQuery rankingsQuery()
{
    analytics::RankingsQuery q;
    q.period.toMs = kT0 + 2 * kDay; // from the first day: daily and hourly rollups and raw rows
    return q;
}

analytics::CacheQuery cacheQuery()
{
    analytics::CacheQuery q;
    q.period.fromMs = kT0 - 3'600'000;
    q.period.toMs = kT0 + kDay;
    q.chartEdges = {kT0 - 3'600'000, kT0, kT0 + 3'600'000, kT0 + kDay};
    return q;
}

whatif::Candidate candidate()
{
    whatif::Candidate c;
    c.price.input = 1.0;
    c.price.output = 4.0;
    return c;
}

whatif::Slice whatIfSlice()
{
    return whatif::Slice{kT0 / kDay * kDay, kT0 / kDay * kDay + kDay, 0, {}, {}};
}

} // namespace

// The query objects of the request log (LogQueries) through the Store that writes the rows, once on
// SQLite and once on PostgreSQL (main() below): what both back-ends must answer the same way.
class TestLogQueries : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    Store m_store;
    std::unique_ptr<LogQueries> m_q;
    QList<RequestRecord> m_rows;
    // The PostgreSQL server of this run; nullptr: the run on SQLite.
    test::PostgresServer *m_pg = nullptr;
    int m_n = 0;

    // A new empty database: a SQLite file, or a database on the run's PostgreSQL server.
    QString freshPath()
    {
        return test::freshDatabase(m_pg, m_dir, &m_n);
    }

public:
    explicit TestLogQueries(test::PostgresServer *pg = nullptr) : m_pg(pg) {}

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qInfo("back-end: %s", m_pg ? "PostgreSQL" : "SQLite");
        QVERIFY(m_store.open(freshPath()));
        // The edges of the rule for success: 2xx without an error only.
        const QList<std::pair<int, QString>> outcomes{{200, {}},   {299, {}}, {200, QStringLiteral("stream cut")},
                                                      {300, {}},   {199, {}}, {499, QStringLiteral("client went away")},
                                                      {502, QStringLiteral("bad gateway")}, {201, {}}};
        for (int i = 0; i < 24; ++i) {
            const auto &[status, error] = outcomes.at(i % outcomes.size());
            m_rows.append(record(i, status, error));
            m_store.appendRequest(m_rows.last());
        }
        m_store.flush();
        m_q = m_store.openQueries();
    }

    void successFilterFollowsTheCodecRule()
    {
        int ok = 0;
        for (const RequestRecord &r : std::as_const(m_rows))
            ok += store::isSuccess(r) ? 1 : 0;
        QCOMPARE(ok, 9); // 200, 299 and 201 of every 8 outcomes
        ActivityFilter f;
        QCOMPARE(m_q->countActivity(f, {}).total, qint64(m_rows.size()));
        f.status = QStringLiteral("ok");
        QCOMPARE(m_q->countActivity(f, {}).total, qint64(ok));
        f.status = QStringLiteral("error");
        QCOMPARE(m_q->countActivity(f, {}).total, qint64(m_rows.size() - ok));
        QString error;
        QVERIFY(m_q->forEachActivityRow(f, std::numeric_limits<qint64>::max(),
                                        [](const RequestRecord &r) { return !store::isSuccess(r); }, &error));
    }

    void countPagesAndLocate()
    {
        ActivityFilter f;
        f.key = QStringLiteral("key-1");
        f.keyId = 1;
        const ActivityCount c = m_q->countActivity(f, m_rows.at(4).id);
        QVERIFY(c.ok);
        QCOMPARE(c.total, qint64(12));
        QCOMPARE(c.topStarted, m_rows.at(22).startedAtMs); // the newest of key 1
        // req 4 under key 1, newest first: 22, 20, ..., 6, 4 -> row 9
        QCOMPARE(c.selectedRow, qint64(9));
        QCOMPARE(m_q->locateActivity(f, c.maxSeq, m_rows.at(4).id), qint64(9));
        QCOMPARE(m_q->locateActivity(f, c.maxSeq, m_rows.at(5).id), qint64(-1)); // key 2: left out

        ActivityPageQuery top;
        top.filter = f;
        top.maxSeq = c.maxSeq;
        top.count = 5;
        top.from = ActivityPageQuery::From::Top;
        const QList<ActivityRow> newest = m_q->activityPage(top);
        QCOMPARE(newest.size(), 5);
        QCOMPARE(newest.constLast().record, m_rows.at(22)); // oldest first: the newest is last
        QCOMPARE(newest.constFirst().record, m_rows.at(14));
        ActivityPageQuery below = top;
        below.from = ActivityPageQuery::From::Below;
        below.edgeStarted = newest.constFirst().record.startedAtMs;
        below.edgeSeq = newest.constFirst().seq;
        const QList<ActivityRow> next = m_q->activityPage(below);
        QCOMPARE(next.size(), 5);
        QCOMPARE(next.constLast().record, m_rows.at(12));
        ActivityPageQuery bottom = top;
        bottom.from = ActivityPageQuery::From::Bottom;
        bottom.offset = 1;
        QCOMPARE(m_q->activityPage(bottom).constFirst().record, m_rows.at(2));
    }

    void distinctValues()
    {
        const auto values = m_q->activityDistinct(0, std::numeric_limits<qint64>::max());
        QCOMPARE(values.value(QStringLiteral("key")), (QSet<QString>{QStringLiteral("key-1"), QStringLiteral("key-2")}));
        QCOMPARE(values.value(QStringLiteral("model")), (QSet<QString>{QStringLiteral("gpt-a"), QStringLiteral("gpt-b")}));
        QCOMPARE(values.value(QStringLiteral("session")), QSet<QString>{QStringLiteral("s1")}); // "" left out
    }

    void spendAndSessions()
    {
        const SpendScan scan = m_q->scanSpend(kT0, 0, true);
        QVERIFY(scan.ok);
        qint64 requests = 0, answered = 0, unpriced = 0;
        NanoUsd cost = 0;
        for (const SpendRow &r : scan.rows) {
            requests += r.cell.requests;
            answered += r.cell.answered;
            unpriced += r.cell.unpriced;
            cost += r.cell.cost;
        }
        QCOMPARE(requests, qint64(m_rows.size()));
        qint64 twoXx = 0, twoXxUnpriced = 0;
        NanoUsd expected = 0;
        for (const RequestRecord &r : std::as_const(m_rows)) {
            const bool a = r.status >= 200 && r.status <= 299; // answered: a 2xx, errors after it included
            twoXx += a;
            twoXxUnpriced += a && !r.cost;
            expected += r.cost.value_or(0);
        }
        QCOMPARE(answered, twoXx);
        QCOMPARE(unpriced, twoXxUnpriced);
        QCOMPARE(cost, expected);
        // Nothing new since: an update reads no rows.
        const SpendScan again = m_q->scanSpend(kT0, scan.maxSeq, false);
        QVERIFY(again.ok && !again.full && again.rows.isEmpty());

        const QList<SessionSpend> sessions = m_q->sessionSpend(kT0, 10);
        QCOMPARE(sessions.size(), 1);
        QCOMPARE(sessions.constFirst().session, QStringLiteral("s1"));
        QCOMPARE(sessions.constFirst().requests, qint64(6)); // 0, 4, ..., 20
        QCOMPARE(sessions.constFirst().firstAtMs, m_rows.at(0).startedAtMs);
        QCOMPARE(sessions.constFirst().lastAtMs, m_rows.at(20).startedAtMs);
        QCOMPARE(m_q->firstRolledUpDayMs(), std::optional<qint64>(kT0 / 86'400'000 * 86'400'000));
    }

    // The instance scope: the whole team's rows (empty) or one instance's, in every query.
    void instanceScope_data()
    {
        QTest::addColumn<QString>("instance");
        QTest::newRow("team") << QString();
        QTest::newRow("inst-a") << kInstanceA;
        QTest::newRow("inst-b") << kInstanceB;
        QTest::newRow("nobody") << QStringLiteral("inst-none");
    }
    void instanceScope()
    {
        QFETCH(QString, instance);
        const Expected e = expectedOf(m_rows, instance);
        auto q = m_store.openQueries();
        q->setInstanceScope(instance);
        QCOMPARE(q->instanceScope(), instance);

        const ActivityCount c = q->countActivity({}, m_rows.at(3).id); // req 3 is inst-b's
        QVERIFY(c.ok);
        QCOMPARE(c.total, e.requests);
        QCOMPARE(c.selectedRow >= 0, instance.isEmpty() || instance == kInstanceB);
        ActivityPageQuery page;
        page.maxSeq = c.maxSeq;
        page.count = 100;
        const QList<ActivityRow> rows = q->activityPage(page);
        QCOMPARE(qint64(rows.size()), e.requests);
        for (const ActivityRow &r : rows)
            QVERIFY(instance.isEmpty() || r.record.instanceId == instance);
        qint64 exported = 0;
        QString error;
        QVERIFY(q->forEachActivityRow({}, c.maxSeq, [&](const RequestRecord &) { return ++exported > 0; }, &error));
        QCOMPARE(exported, e.requests);
        const ActivityCount none = q->countNewActivity({}, 0, false, 0, 0, {});
        QCOMPARE(none.total, e.requests);
        QCOMPARE(q->activityDistinct(0, c.maxSeq).value(QStringLiteral("key")).isEmpty(), e.requests == 0);

        const SpendScan scan = q->scanSpend(kT0, 0, true);
        QVERIFY(scan.ok);
        qint64 requests = 0;
        NanoUsd cost = 0;
        for (const SpendRow &r : scan.rows) {
            requests += r.cell.requests;
            cost += r.cell.cost;
        }
        QCOMPARE(requests, e.requests);
        QCOMPARE(cost, e.cost);
        QCOMPARE(q->refusalCounts(kT0).value(QStringLiteral("budget")), e.refused);
        const QList<SessionSpend> sessions = q->sessionSpend(kT0, 10);
        QCOMPARE(sessions.isEmpty() ? 0 : sessions.constFirst().requests, e.sessionRequests);
        QCOMPARE(qint64(q->sessionTimeline(QStringLiteral("s1"), kT0, 100).size()), e.sessionRequests);
        qint64 perMinute = 0;
        for (const MinuteSpend &m : q->spendPerMinute(1, {}, kT0, kT0 + kDay))
            perMinute += m.requests;
        qint64 key1 = 0;
        for (const RequestRecord &r : std::as_const(m_rows))
            key1 += r.keyId == 1 && (instance.isEmpty() || r.instanceId == instance) ? 1 : 0;
        QCOMPARE(perMinute, key1);
        QCOMPARE(q->firstRolledUpDayMs().has_value(), e.requests > 0);

        // Rankings, Cache and the What-if: the team's from the rollups, one instance's from its rows.
        const analytics::Rankings rank = q->rankings(rankingsQuery());
        QVERIFY2(rank.ok, qPrintable(rank.error));
        qint64 ranked = 0;
        NanoUsd rankedCost = 0;
        for (const analytics::ModelRanking &m : rank.models) {
            ranked += m.sums.requests;
            rankedCost += m.sums.cost;
        }
        QCOMPARE(ranked, e.requests);
        QCOMPARE(rankedCost, e.cost);
        const analytics::CacheReport cache = q->cacheReport(cacheQuery());
        QVERIFY2(cache.ok, qPrintable(cache.error));
        QCOMPARE(cache.total.sums.requests, e.requests);
        qint64 charted = 0;
        for (const analytics::CacheBucket &b : cache.chart)
            charted += b.sums.requests;
        QCOMPARE(charted, e.requests);
        const whatif::Report w = q->whatIf(whatIfSlice(), candidate(), 0);
        QVERIFY2(w.result.ok, qPrintable(w.result.error));
        QCOMPARE(w.result.fromRollups, instance.isEmpty());
        QCOMPARE(w.result.requests, e.requests);
        QCOMPARE(w.result.actualTotal, e.cost);
    }

    // One instance's figures read from its rows add up to the team's read from the rollups.
    void scopesAddUpToTheTeam()
    {
        auto q = m_store.openQueries();
        const analytics::Rankings team = q->rankings(rankingsQuery());
        q->setInstanceScope(kInstanceA);
        const analytics::Rankings a = q->rankings(rankingsQuery());
        q->setInstanceScope(kInstanceB);
        const analytics::Rankings b = q->rankings(rankingsQuery());
        QVERIFY(team.ok && a.ok && b.ok);
        QHash<QString, analytics::Sums> sums;
        for (const auto *r : {&a, &b})
            for (const analytics::ModelRanking &m : r->models)
                sums[m.model] += m.sums;
        QCOMPARE(sums.size(), team.models.size());
        for (const analytics::ModelRanking &m : team.models) {
            QCOMPARE(sums.value(m.model).requests, m.sums.requests);
            QCOMPARE(sums.value(m.model).cost, m.sums.cost);
            QCOMPARE(sums.value(m.model).outputTokens, m.sums.outputTokens);
            QCOMPARE(sums.value(m.model).streamGenerationMs, m.sums.streamGenerationMs);
            QCOMPARE(sums.value(m.model).errors, m.sums.errors);
        }
    }

    // PostgreSQL answers what SQLite answers for the same log (the SQLite run compares with itself).
    void backEndsAgree_data()
    {
        QTest::addColumn<QString>("instance");
        QTest::newRow("team") << QString();
        QTest::newRow("inst-a") << kInstanceA;
    }
    void backEndsAgree()
    {
        QFETCH(QString, instance);
        Store lite;
        QVERIFY(lite.open(m_dir.filePath(QStringLiteral("reference%1/gatehouse.sqlite").arg(++m_n))));
        for (const RequestRecord &r : std::as_const(m_rows))
            lite.appendRequest(r);
        lite.flush();
        auto reference = lite.openQueries();
        auto q = m_store.openQueries();
        reference->setInstanceScope(instance);
        q->setInstanceScope(instance);
        QCOMPARE(digest(q->rankings(rankingsQuery())), digest(reference->rankings(rankingsQuery())));
        QCOMPARE(digest(q->cacheReport(cacheQuery())), digest(reference->cacheReport(cacheQuery())));
        QCOMPARE(digest(q->whatIf(whatIfSlice(), candidate(), 10)), digest(reference->whatIf(whatIfSlice(), candidate(), 10)));
        QCOMPARE(q->sessionSpend(kT0, 10), reference->sessionSpend(kT0, 10));
        QCOMPARE(q->firstRolledUpDayMs(), reference->firstRolledUpDayMs());
        ActivityFilter search;
        search.search = QStringLiteral("req_001");
        QCOMPARE(q->countActivity(search, {}).total, reference->countActivity(search, {}).total);
        search.search = QStringLiteral("Q_002"); // any part of an id, any case
        QCOMPARE(q->countActivity(search, {}).total, reference->countActivity(search, {}).total);
    }

    // After a clear, counting the new rows says the log went away (the window then reloads), and a
    // fresh count finds what was written since.
    void clearedLogIsNoticed()
    {
        const ActivityCount before = m_q->countActivity({}, {});
        QVERIFY(m_store.clearLog());
        const ActivityCount gone = m_q->countNewActivity({}, before.maxSeq, true, before.topStarted, before.topSeq, {});
        QVERIFY(!gone.ok);
        m_store.appendRequest(record(100, 200));
        m_store.flush();
        QCOMPARE(m_q->countActivity({}, {}).total, qint64(1));
        QCOMPARE(m_q->firstRolledUpDayMs(), std::optional<qint64>(kT0 / 86'400'000 * 86'400'000));
    }

    // Two instances writing one team log at once: the rollups hold both instances' counts (additive
    // upserts), and a reader following the watermark (the rows committed after the last count's
    // maxSeq) misses none of the rows the two writers committed in whatever order.
    void twoWritersOnOneLog()
    {
        if (!m_pg)
            QSKIP("a SQLite log has one writer");
        const QString url = freshPath();
        Store a, b;
        a.setInstanceId(kInstanceA);
        b.setInstanceId(kInstanceB);
        QVERIFY(a.open(url));
        QVERIFY(b.open(url));
        auto q = b.openQueries();
        constexpr int kRows = 1'200;
        qint64 seen = 0, watermark = 0;
        NanoUsd cost = 0;
        for (int i = 0; i < kRows; ++i) {
            RequestRecord r = record(1'000 + i, 200);
            r.id = QStringLiteral("req_two_%1").arg(i);
            r.startedAtMs = kT0 + i; // one hour, one day: both instances add to the same rollup rows
            r.instanceId = i % 2 == 0 ? kInstanceA : kInstanceB;
            cost += r.cost.value_or(0);
            (i % 2 == 0 ? a : b).appendRequest(r);
            if (i % 20 == 0) {
                const ActivityCount c = q->countNewActivity({}, watermark, false, 0, 0, {});
                QVERIFY(c.ok);
                seen += c.total;
                watermark = c.maxSeq;
            }
        }
        a.flush();
        b.flush();
        const ActivityCount last = q->countNewActivity({}, watermark, false, 0, 0, {});
        QVERIFY(last.ok);
        seen += last.total;
        QCOMPARE(seen, qint64(kRows));
        QCOMPARE(q->countActivity({}, {}).total, qint64(kRows));

        // The team's Rankings (daily rollups) and Cache (hourly) against each instance's rows.
        const analytics::Rankings team = q->rankings(rankingsQuery());
        const analytics::CacheReport teamCache = q->cacheReport(cacheQuery());
        QVERIFY(team.ok && teamCache.ok);
        qint64 requests = 0;
        NanoUsd ranked = 0;
        for (const analytics::ModelRanking &m : team.models) {
            requests += m.sums.requests;
            ranked += m.sums.cost;
        }
        QCOMPARE(requests, qint64(kRows));
        QCOMPARE(ranked, cost);
        QCOMPARE(teamCache.total.sums.requests, qint64(kRows));
        qint64 scoped = 0;
        for (const QString &instance : {kInstanceA, kInstanceB}) {
            q->setInstanceScope(instance);
            scoped += q->cacheReport(cacheQuery()).total.sums.requests;
        }
        QCOMPARE(scoped, qint64(kRows));
        const whatif::Report w = [&] {
            q->setInstanceScope({});
            return q->whatIf(whatIfSlice(), candidate(), 0);
        }();
        QVERIFY(w.result.fromRollups);
        QCOMPARE(w.result.requests, qint64(kRows));
    }

    // The rows of two instances committed out of seq order: instance A's writer took seq N and has
    // not committed yet when B's writer commits its row. B must wait for A (every writer holds the
    // seq lock from its first row to its commit), or a reader would see B's seq N + 1, take it as
    // its watermark and never count A's N. Here a raw connection plays A's writer, paused.
    void seqsCommitInOrder()
    {
        if (!m_pg)
            QSKIP("a SQLite log has one writer");
        const QString url = freshPath();
        Store b;
        b.setInstanceId(kInstanceB);
        QVERIFY(b.open(url));
        auto q = b.openQueries();
        pg::Connection slow;
        QString error;
        QVERIFY2(slow.open(url, &error), qPrintable(error));
        QVERIFY(slow.exec("BEGIN"));
        QVERIFY(slow.exec(QByteArray("SELECT pg_advisory_xact_lock(" + QByteArray::number(store::postgres::kSeqLockKey) + ")").constData()));
        QVERIFY(slow.exec("INSERT INTO requests (id, started_at_ms, instance_id) VALUES ('req_slow', 1700000000000, 'inst-a')"));

        RequestRecord r = record(1, 200);
        r.id = QStringLiteral("req_fast");
        b.appendRequest(r);
        QTest::qWait(300); // B's writer runs its batch meanwhile
        const ActivityCount before = q->countActivity({}, {});
        QVERIFY(before.ok);
        QVERIFY(slow.exec("COMMIT"));
        b.flush();
        const ActivityCount after = q->countNewActivity({}, before.maxSeq, false, 0, 0, {});
        QVERIFY(after.ok);
        QCOMPARE(before.total + after.total, qint64(2)); // each row counted once, none skipped
        QCOMPARE(q->countActivity({}, {}).total, qint64(2));
    }

    // The server goes away and comes back: the queries fail at once meanwhile, then answer again
    // on a new connection.
    void serverOutage()
    {
        if (!m_pg)
            QSKIP("a SQLite file does not go away");
        auto q = m_store.openQueries();
        QVERIFY(q->countActivity({}, {}).ok);
        QString error;
        QVERIFY2(m_pg->stopServer(&error), qPrintable(error));
        QElapsedTimer timer;
        timer.start();
        QVERIFY(!q->countActivity({}, {}).ok);
        QVERIFY(!q->rankings(rankingsQuery()).ok);
        QVERIFY(!q->scanSpend(0, 0, true).ok);
        QVERIFY(q->sessionSpend(0, 10).isEmpty());
        QVERIFY(!q->whatIf(whatIfSlice(), candidate(), 0).result.ok);
        QVERIFY2(timer.elapsed() < 5'000, "a query waited for the server that is down");
        QVERIFY2(m_pg->restartServer(&error), qPrintable(error));
        // The first statement on the old connection finds it closed; the next reconnect.
        QTRY_VERIFY_WITH_TIMEOUT(q->countActivity({}, {}).ok, 10'000);
        QVERIFY(q->rankings(rankingsQuery()).ok);
    }

    // A database that cannot be opened: every query answers its failed or empty value.
    void unopenableDatabase()
    {
        auto q = openSqliteLogQueries(m_dir.filePath(QStringLiteral("missing/none.sqlite")));
        QVERIFY(!q->countActivity({}, {}).ok);
        QVERIFY(q->activityPage(ActivityPageQuery{}).isEmpty());
        QVERIFY(!q->scanSpend(0, 0, true).ok);
        QVERIFY(q->sessionSpend(0, 10).isEmpty());
        QVERIFY(!q->rankings({}).ok);
        QString error;
        QVERIFY(!q->forEachActivityRow({}, 0, [](const RequestRecord &) { return true; }, &error));
        QVERIFY(!error.isEmpty());
    }
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    // Every case once on SQLite, then once more on a PostgreSQL server started here (as tst_store).
    return test::execOnBothBackEnds<TestLogQueries>("the log queries", argc, argv);
}
#include "tst_logqueries.moc"
