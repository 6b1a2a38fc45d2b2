#include "store/logqueries.h"
#include "store/requestcodec.h"
#include "store/store.h"
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

namespace {

constexpr qint64 kT0 = 1'700'000'000'000; // a UTC midnight is not needed: rollups are by UTC day

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
    return r;
}

} // namespace

// The query objects of the request log (LogQueries) against the SQLite back-end, through the Store
// that writes the rows: what every back-end's implementation must answer the same way.
class TestLogQueries : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    Store m_store;
    std::unique_ptr<LogQueries> m_q;
    QList<RequestRecord> m_rows;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_store.open(m_dir.filePath(QStringLiteral("gatehouse.sqlite"))));
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

QTEST_GUILESS_MAIN(TestLogQueries)
#include "tst_logqueries.moc"
