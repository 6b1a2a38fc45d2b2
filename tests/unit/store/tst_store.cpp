#include "postgresserver.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/pgmigrations.h"
#include "store/store.h"
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <sqlite3.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

using namespace gh;

namespace {

// The crash test re-executes this binary with these variables set; it then acts as the child.
constexpr const char *kChildDbEnv = "GATEHOUSE_STORE_CRASH_CHILD";
constexpr const char *kChildModeEnv = "GATEHOUSE_STORE_CRASH_MODE"; // "loop" or "clean:N"

QString reqId(int i) { return QStringLiteral("req_%1").arg(i, 8, 10, QLatin1Char('0')); }

RequestRecord makeRecord(int i, qint64 keyId = 1)
{
    RequestRecord r;
    r.id = reqId(i);
    r.startedAtMs = 1'700'000'000'000 + i;
    r.keyId = keyId;
    r.keyName = QStringLiteral("key-%1").arg(keyId);
    r.endpoint = QStringLiteral("/v1/chat/completions");
    r.requestedModel = QStringLiteral("openai/gpt-4.1-mini");
    r.provider = QStringLiteral("openai");
    r.upstreamModel = QStringLiteral("gpt-4.1-mini");
    r.status = 200;
    r.latencyMs = 100 + i % 50;
    r.ttftMs = i % 3 == 0 ? -1 : 20 + i % 7;
    r.usage.inputTokens = 1000 + i;
    r.usage.outputTokens = 10 + i % 100;
    r.usage.reported = true;
    r.cost = i % 5 == 0 ? std::nullopt : std::optional<NanoUsd>(1'000 + i);
    r.stream = i % 2 == 0;
    r.attempts = 1;
    return r;
}

// A raw connection for looking at the database the way another program would: the SQLite file, or
// the team database when `path` is a postgres:// URL (then `flags` is ignored). The SQL the tests
// send to both is the SQL both accept; SQLite's quote() is given to PostgreSQL as a function of the
// test database (the same text: NULL, 'text', 123).
struct RawDb {
    sqlite3 *db = nullptr;
    std::unique_ptr<pg::Connection> pgConn;
    explicit RawDb(const QString &path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
    {
        if (pg::isPostgresUrl(path)) {
            pgConn = std::make_unique<pg::Connection>();
            if (!pgConn->open(path, nullptr)) {
                pgConn.reset();
                return;
            }
            pgConn->exec("CREATE OR REPLACE FUNCTION quote(v anyelement) RETURNS text LANGUAGE sql AS "
                         "$$ SELECT CASE WHEN v IS NULL THEN 'NULL' WHEN pg_typeof(v) = 'text'::regtype "
                         "THEN quote_literal(v) ELSE v::text END $$");
            return;
        }
        if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, flags, nullptr) != SQLITE_OK) {
            sqlite3_close(db);
            db = nullptr;
        }
    }
    ~RawDb() { sqlite3_close(db); }
    RawDb(const RawDb &) = delete;
    RawDb &operator=(const RawDb &) = delete;
    bool exec(const char *sql)
    {
        if (pgConn)
            return pgConn->exec(sql);
        return db && sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    // First column of every row as text; std::nullopt on an error.
    std::optional<QStringList> column(const char *sql)
    {
        if (pgConn) {
            pg::Statement s(*pgConn, sql);
            QStringList out;
            while (s.next())
                out.append(s.isNull(0) ? QStringLiteral("<NULL>") : s.text(0));
            if (!s.ok())
                return std::nullopt;
            return out;
        }
        sqlite3_stmt *s = nullptr;
        if (!db || sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
            return std::nullopt;
        QStringList out;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            const auto *t = reinterpret_cast<const char *>(sqlite3_column_text(s, 0));
            out.append(t ? QString::fromUtf8(t) : QStringLiteral("<NULL>"));
        }
        sqlite3_finalize(s);
        if (rc != SQLITE_DONE)
            return std::nullopt;
        return out;
    }
    QString value(const char *sql)
    {
        const auto rows = column(sql);
        return rows && !rows->isEmpty() ? rows->first() : QStringLiteral("<error>");
    }
};

QByteArray hashOf(char fill) { return QByteArray(32, fill); }

// --- the child process of the crash tests ---

int runCrashChild(const QString &dbPath, const QString &mode)
{
    Store store;
    QString error;
    if (!store.open(dbPath, &error)) {
        std::fprintf(stderr, "child: %s\n", qPrintable(error));
        return 3;
    }
    if (mode == QLatin1String("loop")) {
        // Appends until killed, reporting each id once appendRequest() has returned.
        for (int i = 0;; ++i) {
            store.appendRequest(makeRecord(i));
            const QByteArray line = reqId(i).toLatin1() + '\n';
            std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
            std::fflush(stdout);
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
    if (mode.startsWith(QLatin1String("clean:"))) {
        const int n = mode.mid(6).toInt();
        for (int i = 0; i < n; ++i) {
            store.appendRequest(makeRecord(i));
            const QByteArray line = reqId(i).toLatin1() + '\n';
            std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
        }
        std::fflush(stdout);
        return 0; // ~Store closes, which must write everything queued
    }
    std::fprintf(stderr, "child: unknown mode %s\n", qPrintable(mode));
    return 4;
}

} // namespace

class TestStore : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_n = 0;
    // The PostgreSQL server of this run; nullptr: the run on SQLite.
    test::PostgresServer *m_pg = nullptr;
    // A new empty database: a SQLite file, or a database on the run's PostgreSQL server.
    QString freshPath()
    {
        return test::freshDatabase(m_pg, m_dir, &m_n);
    }
    [[nodiscard]] bool pg() const { return m_pg != nullptr; }

public:
    explicit TestStore(test::PostgresServer *pg = nullptr) : m_pg(pg) {}

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qInfo("back-end: %s", m_pg ? "PostgreSQL" : "SQLite");
    }

    void roundTripEveryField()
    {
        Store store;
        QString error;
        QVERIFY2(store.open(freshPath(), &error), qPrintable(error));
        QVERIFY(store.isOpen());

        RequestRecord full;
        full.id = QStringLiteral("req_full");
        full.startedAtMs = 1'712'345'678'901;
        full.keyId = 42;
        full.keyName = QStringLiteral("Claude Code ünïcödé ✓");
        full.endpoint = QStringLiteral("/v1/responses");
        full.requestedModel = QStringLiteral("gpt-4.1");
        full.provider = QStringLiteral("openrouter");
        full.upstreamModel = QStringLiteral("openai/gpt-4.1");
        full.status = 502;
        full.error = QStringLiteral("upstream said: \"overloaded\"\nretry later");
        full.latencyMs = 12'345;
        full.ttftMs = 321;
        full.usage.inputTokens = 1'000'001;
        full.usage.cacheReadTokens = 2'000'002;
        full.usage.cacheWriteTokens = 3'003;
        full.usage.cacheWrite1hTokens = 4'004;
        full.usage.outputTokens = 5'005;
        full.usage.reasoningTokens = 606;
        full.usage.reported = true;
        full.usage.estimated = true;
        full.cost = NanoUsd(9'000'000'000'123); // more than 32 bits
        full.stream = true;
        full.attempts = 3;
        full.refusal = QStringLiteral("budget"); // migration 15

        RequestRecord unpriced;
        unpriced.id = QStringLiteral("req_unpriced");
        unpriced.startedAtMs = 1'712'345'678'000;
        unpriced.status = 401;
        unpriced.ttftMs = -1;
        unpriced.cost = std::nullopt;

        RequestRecord zeroCost = unpriced;
        zeroCost.id = QStringLiteral("req_zero");
        zeroCost.startedAtMs = 1'712'345'677'000;
        zeroCost.cost = NanoUsd(0);

        // Text that a writer must not read as syntax: PostgreSQL's writer sends a batch's column as an
        // array literal, where \ " { } , NULL and blanks mean something.
        RequestRecord tricky = unpriced;
        tricky.id = QStringLiteral("req_tricky");
        tricky.startedAtMs = 1'712'345'676'000;
        tricky.keyName = QStringLiteral("NULL");
        tricky.error = QStringLiteral("C:\\path\\ \"quoted\" {braces}, commas; 'single' \\\" \\");
        tricky.route = QString();
        tricky.sessionId = QStringLiteral("  blanks around  ");
        tricky.secretFindings = QStringLiteral("{\"a\":[1,2]}");

        store.appendRequest(full);
        store.appendRequest(unpriced);
        store.appendRequest(zeroCost);
        store.appendRequest(tricky);
        store.flush();
        const auto gotTricky = store.request(tricky.id);
        QVERIFY(gotTricky);
        QCOMPARE(*gotTricky, tricky);

        QCOMPARE(store.requestCount(), qint64(4));
        const auto gotFull = store.request(full.id);
        QVERIFY(gotFull);
        QCOMPARE(*gotFull, full);
        const auto gotUnpriced = store.request(unpriced.id);
        QVERIFY(gotUnpriced);
        QCOMPARE(*gotUnpriced, unpriced);
        QVERIFY(!gotUnpriced->cost.has_value());
        QCOMPARE(gotUnpriced->ttftMs, -1);
        const auto gotZero = store.request(zeroCost.id);
        QVERIFY(gotZero);
        QCOMPARE(gotZero->cost, std::optional<NanoUsd>(0)); // $0 and unpriced stay different
        QVERIFY(!store.request(QStringLiteral("req_missing")));

        const auto recent = store.recentRequests(10);
        QCOMPARE(recent.size(), 4);
        QCOMPARE(recent[0], full); // newest first
        QCOMPARE(recent[1], unpriced);
        QCOMPARE(recent[2], zeroCost);
        QCOMPARE(recent[3], tricky);
        QCOMPARE(store.recentRequests(1, 1), QList<RequestRecord>{unpriced});
        QVERIFY(store.recentRequests(0).isEmpty());

        // Unpriced is NULL in the file, not 0.
        RawDb raw(store.path());
        QCOMPARE(raw.value("SELECT quote(cost_nano_usd) FROM requests WHERE id = 'req_unpriced'"), QStringLiteral("NULL"));
        QCOMPARE(raw.value("SELECT cost_nano_usd FROM requests WHERE id = 'req_zero'"), QStringLiteral("0"));
    }

    void duplicateIdDoesNotLoseTheBatch()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        store.setBatchWindowMs(10'000);
        store.appendRequest(makeRecord(1));
        store.appendRequest(makeRecord(1)); // same id: refused by the UNIQUE constraint
        store.appendRequest(makeRecord(2));
        store.flush();
        QCOMPARE(store.requestCount(), qint64(2));
        QVERIFY(store.request(reqId(2)));
    }

    // The writer sends a batch as multi-row statements (chunks of 16, 8, 4, 2 and 1 rows) and binds only
    // the parameters whose value changed since the statement's last use. Every row must still land
    // exactly as appended, in order, with its own attempts and prompt prefix; duplicates (against the
    // log, within one chunk, across chunks) are skipped with their attempts while the rest go in; and
    // a pending row settled later in the same batch does not survive it.
    void multiRowBatchesKeepEveryRowAndItsLinks()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        store.setBatchWindowMs(10'000); // one batch per flush()
        auto make = [](int i) {
            RequestRecord r = makeRecord(i, 1 + i % 2);
            r.instanceId = i % 3 == 0 ? QStringLiteral("inst-a") : QStringLiteral("inst-b");
            r.sessionId = i % 4 == 0 ? QString() : QStringLiteral("sess-%1").arg(i % 9);
            // Texts whose lengths and bytes change from row to row in the same parameter slots, and
            // some that are not ASCII.
            r.error = i % 7 == 0 ? QStringLiteral("délai dépassé ✗ %1").arg(i) : (i % 7 == 1 ? QStringLiteral("x") : QString());
            r.route = i % 5 == 0 ? QStringLiteral("route-%1").arg(i) : QString();
            r.secretFindings = i % 11 == 0 ? QStringLiteral("aws-access-token") : QString();
            r.status = i % 13 == 0 ? 502 : 200;
            r.attempts = 1 + i % 2;
            r.attemptLog = {AttemptRecord{1, QStringLiteral("m/%1").arg(i), QStringLiteral("p%1").arg(i % 3),
                                          i % 2 ? AttemptRecord::Outcome::Failed : AttemptRecord::Outcome::Ok, 200, {}, r.startedAtMs, 5}};
            if (i % 2)
                r.attemptLog.append(AttemptRecord{2, QStringLiteral("m2/%1").arg(i), QStringLiteral("q"),
                                                  AttemptRecord::Outcome::Ok, 200, {}, r.startedAtMs + 5, 7});
            r.promptBlocks = {quint64(i), quint64(i) * 31};
            r.promptSystemBytes = i;
            return r;
        };
        // A row logged before: its id again in the next batch is a duplicate against the log.
        store.appendRequest(make(5));
        store.flush();

        QList<RequestRecord> logged{make(5)}; // what the log must hold, in seq order
        RequestRecord pending = make(1'000);
        pending.pending = true;
        pending.reserved = 7'000;
        for (int i = 1; i <= 150; ++i) {
            if (i == 5)
                continue;
            RequestRecord r = make(i);
            if (i == 30)
                store.appendRequest(pending); // ends a run of final rows; settled by row 120's
            if (i == 120) {
                r = make(1'000);
                r.settlesPending = true;
            }
            store.appendRequest(r);
            logged.append(r);
            if (i == 20 || i == 100) {
                RequestRecord dup = make(i); // the same id: within a chunk (20) and in a later chunk (100)
                dup.attemptLog = {AttemptRecord{1, QStringLiteral("dup/x"), QStringLiteral("dup"), AttemptRecord::Outcome::Ok, 200, {}, 1, 1}};
                dup.promptBlocks = {0xdeadull};
                store.appendRequest(dup);
            }
            if (i == 140)
                store.appendRequest(make(100));
        }
        store.appendRequest(make(5)); // against the log
        store.flush();

        QCOMPARE(store.requestCount(), qint64(logged.size()));
        for (const RequestRecord &want : logged) {
            const auto got = store.request(want.id);
            QVERIFY2(got, qPrintable(want.id));
            RequestRecord expected = want;
            expected.attemptLog.clear();
            expected.promptBlocks.clear();
            expected.promptSystemBytes = 0;
            expected.settlesPending = false;
            RequestRecord actual = *got;
            actual.attemptLog.clear();
            QCOMPARE(actual, expected);
            QCOMPARE(store.attempts(want.id), want.attemptLog);
        }
        RawDb raw(store.path());
        // Seqs in the order the rows were appended, as one statement per row gave them.
        QStringList order;
        for (const RequestRecord &r : logged)
            order.append(r.id);
        QCOMPARE(raw.column("SELECT id FROM requests ORDER BY seq"), std::optional<QStringList>(order));
        QCOMPARE(raw.value("SELECT count(*) FROM pending_requests"), QStringLiteral("0"));
        QCOMPARE(raw.value("SELECT count(*) FROM attempts a JOIN requests r ON r.seq = a.request_seq "
                           "WHERE a.model_id = 'dup/x'"),
                 QStringLiteral("0"));
        if (!pg()) {
            // Each prompt prefix is its own request's (the duplicates' blocks were not written).
            QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes"), QString::number(logged.size()));
            QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes p JOIN requests r ON r.seq = p.request_seq "
                               "WHERE p.key_id = r.key_id AND p.started_at_ms = r.started_at_ms "
                               "AND p.system_bytes = r.started_at_ms - 1700000000000"),
                     QString::number(logged.size()));
        }
    }

    void manyThreadsAllLandAfterClose()
    {
        const QString path = freshPath();
        constexpr int kThreads = 4;
        constexpr int kPerThread = 2'500;
        {
            Store store;
            QVERIFY(store.open(path));
            std::vector<std::thread> threads;
            for (int t = 0; t < kThreads; ++t) {
                threads.emplace_back([&store, t] {
                    for (int i = 0; i < kPerThread; ++i)
                        store.appendRequest(makeRecord(t * kPerThread + i, t + 1));
                });
            }
            for (auto &th : threads)
                th.join();
            store.close();
            QVERIFY(!store.isOpen());
            store.appendRequest(makeRecord(999'999)); // after close: ignored, must not crash
        }
        Store reopened;
        QVERIFY(reopened.open(path));
        QCOMPARE(reopened.requestCount(), qint64(kThreads * kPerThread));
        RawDb raw(path);
        QCOMPARE(raw.value("SELECT count(DISTINCT id) FROM requests"), QString::number(kThreads * kPerThread));
        for (int t = 0; t < kThreads; ++t)
            QCOMPARE(raw.value(qPrintable(QStringLiteral("SELECT count(*) FROM requests WHERE key_id = %1").arg(t + 1))),
                     QString::number(kPerThread));
        for (int i : {0, 1, 2'499, 2'500, 7'777, 9'999}) {
            const auto r = reopened.request(reqId(i));
            QVERIFY(r);
            QCOMPARE(*r, makeRecord(i, i / kPerThread + 1));
        }
    }

    void appendDoesNotWaitForTheWriter()
    {
        if (pg())
            QSKIP("SQLite only: a SQLite write lock held by another connection");
        const QString path = freshPath();
        Store store;
        QVERIFY(store.open(path));
        store.setBatchWindowMs(20);

        // Another connection takes the write lock, so the writer thread gets stuck in the middle of
        // writing its batch (waiting on the lock) for as long as we hold it.
        RawDb blocker(path);
        QVERIFY(blocker.exec("BEGIN IMMEDIATE"));
        store.appendRequest(makeRecord(0));
        QTest::qWait(400); // well past the 20 ms window: the writer is now waiting for the lock

        constexpr int kAppends = 2'000;
        QElapsedTimer total;
        total.start();
        qint64 slowestNs = 0;
        for (int i = 1; i <= kAppends; ++i) {
            QElapsedTimer one;
            one.start();
            store.appendRequest(makeRecord(i));
            slowestNs = std::max(slowestNs, one.nsecsElapsed());
        }
        const qint64 totalMs = total.elapsed();
        // Nothing could be committed while we hold the lock: the writer really was blocked.
        QCOMPARE(blocker.value("SELECT count(*) FROM requests"), QStringLiteral("0"));
        QCOMPARE(store.requestCount(), qint64(0));
        QTest::qWait(600); // keep holding the lock a while longer
        QCOMPARE(store.requestCount(), qint64(0));
        QVERIFY(blocker.exec("ROLLBACK"));

        // Generous bounds: had appendRequest() waited for the writer, the calls would have taken
        // about a second (the time we held the lock).
        QVERIFY2(totalMs < 500, qPrintable(QStringLiteral("%1 appends took %2 ms").arg(kAppends).arg(totalMs)));
        QVERIFY2(slowestNs < 250'000'000, qPrintable(QStringLiteral("slowest append: %1 ns").arg(slowestNs)));

        store.flush();
        QCOMPARE(store.requestCount(), qint64(kAppends + 1));
    }

    void flushWritesWithoutWaitingForTheWindow()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        std::atomic<int> committed{0};
        int committedSignals = 0;
        // The receiver dies with this function: a queued call still pending when it returns is
        // dropped with it, instead of writing into the stack of a later test (with `this` as the
        // receiver it ran later and corrupted the next test's locals).
        QObject receiver;
        connect(&store, &Store::requestsCommitted, &receiver, [&](int n) {
            committed += n;
            ++committedSignals;
        }, Qt::QueuedConnection);

        store.setBatchWindowMs(30'000);
        QElapsedTimer timer;
        timer.start();
        store.flush(); // nothing queued: returns at once
        QVERIFY(timer.elapsed() < 5'000);

        for (int i = 0; i < 3; ++i)
            store.appendRequest(makeRecord(i));
        // Queued, not yet written: the batch window is 30 s.
        QCOMPARE(store.requestCount(), qint64(0));
        timer.restart();
        store.flush();
        QVERIFY2(timer.elapsed() < 15'000, "flush() waited for the batch window");
        QCOMPARE(store.requestCount(), qint64(3));
        QTRY_COMPARE(committed.load(), 3);

        // Records appended after a flush are not forced by it, but the next flush writes them.
        store.appendRequest(makeRecord(3));
        store.appendRequest(makeRecord(4));
        QCOMPARE(store.requestCount(), qint64(3));
        store.flush();
        QCOMPARE(store.requestCount(), qint64(5));
        QTRY_COMPARE(committed.load(), 5);
        QVERIFY(committedSignals >= 2);

        // Without a flush, records land on their own once the window passes; a shorter window
        // applies to the batch already waiting.
        store.appendRequest(makeRecord(5));
        QTest::qWait(100);
        QCOMPARE(store.requestCount(), qint64(5));
        store.setBatchWindowMs(50);
        QTRY_COMPARE_WITH_TIMEOUT(store.requestCount(), qint64(6), 10'000);
    }

    void flushFromManyThreads()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        store.setBatchWindowMs(5'000);
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 20; ++i) {
                    const int n = t * 100 + i;
                    store.appendRequest(makeRecord(n));
                    store.flush();
                    if (!store.request(reqId(n)))
                        ++failures;
                }
            });
        }
        for (auto &th : threads)
            th.join();
        QCOMPARE(failures.load(), 0);
        QCOMPARE(store.requestCount(), qint64(80));
    }

    void reopenKeepsDataAndSchemaVersion()
    {
        const QString path = freshPath();
        StoredKey key;
        key.name = QStringLiteral("scripts");
        key.secretHash = hashOf('k');
        key.createdAtMs = 1234;
        {
            Store store;
            QVERIFY(store.open(path));
            QCOMPARE(store.path(), path);
            for (int i = 0; i < 10; ++i)
                store.appendRequest(makeRecord(i));
            key.id = store.saveKey(key);
            QVERIFY(key.id > 0);
            store.setSetting(QStringLiteral("theme"), QStringLiteral("\"dark\""));
        } // destructor closes
        {
            RawDb raw(path);
            if (pg()) {
                QCOMPARE(raw.value("SELECT max(version) FROM gatehouse_schema"), QString::number(store::postgres::latestSchemaVersion()));
            } else {
                QCOMPARE(raw.value("PRAGMA user_version"), QString::number(Store::schemaVersion()));
                QCOMPARE(raw.value("PRAGMA journal_mode"), QStringLiteral("wal"));
            }
        }
        Store store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        QCOMPARE(store.requestCount(), qint64(10));
        QCOMPARE(*store.request(reqId(7)), makeRecord(7));
        QCOMPARE(store.keyByName(key.name), std::optional<StoredKey>(key));
        QCOMPARE(store.setting(QStringLiteral("theme")), QStringLiteral("\"dark\""));
        QVERIFY(Store::schemaVersion() >= 1);

        // A second open() on an open store is refused and leaves it working.
        QVERIFY(!store.open(freshPath(), &error));
        QVERIFY(error.contains(QLatin1String("already open")));
        QVERIFY(store.isOpen());
        QCOMPARE(store.requestCount(), qint64(10));
    }

    void spendSinceSumsOneKeyFromATime()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        auto rec = [](const char *id, qint64 keyId, qint64 at, std::optional<NanoUsd> cost) {
            RequestRecord r;
            r.id = QString::fromLatin1(id);
            r.keyId = keyId;
            r.startedAtMs = at;
            r.cost = cost;
            return r;
        };
        store.appendRequest(rec("a", 1, 1'000, 5));
        store.appendRequest(rec("b", 1, 2'000, 7));
        store.appendRequest(rec("c", 1, 2'000, std::nullopt)); // unpriced: not part of the spend
        store.appendRequest(rec("d", 1, 3'000, 11));
        store.appendRequest(rec("e", 2, 2'000, 100));
        store.appendRequest(rec("f", 1, 1'999, 1'000));
        store.flush();

        QCOMPARE(store.spendSince(1, 0), NanoUsd(1'023));
        QCOMPARE(store.spendSince(1, 2'000), NanoUsd(18)); // at the boundary: included
        QCOMPARE(store.spendSince(1, 2'001), NanoUsd(11));
        QCOMPARE(store.spendSince(1, 3'001), NanoUsd(0));
        QCOMPARE(store.spendSince(2, 0), NanoUsd(100));
        QCOMPARE(store.spendSince(3, 0), NanoUsd(0));
        // Only unpriced rows: zero, not an error.
        store.appendRequest(rec("g", 4, 10, std::nullopt));
        store.flush();
        QCOMPARE(store.spendSince(4, 0), NanoUsd(0));
    }

    void keysCrud()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        QVERIFY(store.keys().isEmpty());
        QVERIFY(!store.keyByName(QStringLiteral("nope")));

        StoredKey a;
        a.name = QStringLiteral("Claude Code");
        a.secretHash = hashOf('a');
        a.secretHint = QStringLiteral("…3f9a");
        a.allowModels = {QStringLiteral("anthropic/*"), QStringLiteral("openai/gpt-4.1-mini")};
        a.limits.dayUsd = 2.5;
        a.limits.monthUsd = 30.0;
        a.allowUnpriced = true;
        a.budget.onShortBudget = gh::ShortBudget::Refuse;
        a.budget.minOutputTokens = 2048;
        a.createdAtMs = 1'700'000'000'000;
        a.id = store.saveKey(a);
        QVERIFY(a.id > 0);

        StoredKey b;
        b.name = QStringLiteral("scripts");
        b.secretHash = hashOf('b');
        b.limits.totalUsd = 0.000001;
        b.revoked = true;
        b.createdAtMs = 1;
        b.id = store.saveKey(b);
        QVERIFY(b.id > 0 && b.id != a.id);

        QCOMPARE(store.keyByName(a.name), std::optional<StoredKey>(a));
        QCOMPARE(store.keys(), (QList<StoredKey>{a, b})); // revoked keys included

        // Update by id.
        a.paused = true;
        a.limits.dayUsd.reset();
        a.limits.weekUsd = 10;
        a.allowModels.clear();
        a.budget = gh::BudgetPolicy{}; // clamp, 1024
        QCOMPARE(store.saveKey(a), a.id);
        QCOMPARE(store.keyByName(a.name), std::optional<StoredKey>(a));

        // Duplicates fail and change nothing.
        StoredKey dupName = b;
        dupName.id = 0;
        dupName.secretHash = hashOf('c');
        QCOMPARE(store.saveKey(dupName), qint64(0));
        StoredKey dupHash = b;
        dupHash.id = 0;
        dupHash.name = QStringLiteral("other");
        QCOMPARE(store.saveKey(dupHash), qint64(0));
        StoredKey renameClash = a;
        renameClash.name = b.name;
        QCOMPARE(store.saveKey(renameClash), qint64(0));
        // Bad input fails.
        StoredKey badHash = b;
        badHash.id = 0;
        badHash.name = QStringLiteral("bad");
        badHash.secretHash = "short";
        QCOMPARE(store.saveKey(badHash), qint64(0));
        StoredKey noName = badHash;
        noName.name.clear();
        noName.secretHash = hashOf('d');
        QCOMPARE(store.saveKey(noName), qint64(0));
        StoredKey missing = b;
        missing.id = 9'999;
        missing.name = QStringLiteral("ghost");
        missing.secretHash = hashOf('e');
        QCOMPARE(store.saveKey(missing), qint64(0));
        QCOMPARE(store.keys(), (QList<StoredKey>{a, b}));

        // A damaged allow-list fails closed: the key disappears instead of allowing every model.
        RawDb raw(store.path());
        QVERIFY(raw.exec("UPDATE keys SET allow_models = 'not json' WHERE name = 'scripts'"));
        QVERIFY(!store.keyByName(b.name));
        QCOMPARE(store.keys(), QList<StoredKey>{a});
    }

    void providersAndModelsCrud()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        ProviderConfig openai;
        openai.id = QStringLiteral("openai");
        openai.baseUrl = QUrl(QStringLiteral("https://api.openai.com/v1"));
        openai.apiKeyEnv = QStringLiteral("OPENAI_API_KEY");
        openai.catalog = QStringLiteral("openai");
        ProviderConfig local;
        local.id = QStringLiteral("local");
        local.format = ProviderFormat::Anthropic;
        local.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:8080/some path/v1?x=1"));
        local.enabled = false;
        QVERIFY(store.saveProvider(openai));
        QVERIFY(store.saveProvider(local));
        QCOMPARE(store.providers(), (QList<ProviderConfig>{local, openai}));

        openai.format = ProviderFormat::Gemini;
        openai.enabled = false;
        QVERIFY(store.saveProvider(openai)); // upsert
        QCOMPARE(store.providers(), (QList<ProviderConfig>{local, openai}));
        QVERIFY(store.removeProvider(local.id));
        QVERIFY(!store.removeProvider(local.id));
        QCOMPARE(store.providers(), QList<ProviderConfig>{openai});
        QVERIFY(!store.saveProvider(ProviderConfig{}));

        ModelConfig priced;
        priced.id = QStringLiteral("openai/gpt-4.1-mini");
        priced.provider = QStringLiteral("openai");
        priced.upstreamModel = QStringLiteral("gpt-4.1-mini");
        priced.price.input = 0.40;
        priced.price.output = 1.60;
        priced.price.cacheRead = 0.10;
        priced.price.cacheWrite = 0.0;
        priced.price.cacheWrite1h = 0.8;
        priced.contextWindow = 1'047'576;
        priced.maxOutputTokens = 32'768;
        priced.fromCatalog = true;
        ModelConfig unpriced;
        unpriced.id = QStringLiteral("local/llama");
        unpriced.provider = QStringLiteral("local");
        unpriced.upstreamModel = QStringLiteral("llama-3.1-8b");
        QVERIFY(store.saveModel(priced));
        QVERIFY(store.saveModel(unpriced));
        QCOMPARE(store.models(), (QList<ModelConfig>{unpriced, priced}));
        QVERIFY(!store.models()[0].price.isPriced());
        QVERIFY(store.models()[0].price.cacheWrite == std::nullopt);
        QCOMPARE(store.models()[1].price.cacheWrite, std::optional<double>(0.0)); // 0 stays 0, not unknown

        priced.price.input.reset();
        priced.upstreamModel = QStringLiteral("gpt-4.1-mini-2025");
        QVERIFY(store.saveModel(priced));
        QCOMPARE(store.models(), (QList<ModelConfig>{unpriced, priced}));
        QVERIFY(store.removeModel(unpriced.id));
        QVERIFY(!store.removeModel(QStringLiteral("nope")));
        QCOMPARE(store.models(), QList<ModelConfig>{priced});
    }

    // Migration 15's columns on both back-ends: a provider's and a model's data policy, a key's
    // requirement; an unreadable stored requirement leaves the key out rather than allow anything.
    void dataPoliciesRoundTrip()
    {
        Store store;
        const QString path = freshPath();
        QVERIFY(store.open(path));
        ProviderConfig p;
        p.id = QStringLiteral("eu");
        p.baseUrl = QUrl(QStringLiteral("https://eu.example/v1"));
        p.dataPolicy.retainsDays = 0;
        p.dataPolicy.trains = Training::No;
        p.dataPolicy.zdr = true;
        p.dataPolicy.region = QStringLiteral("eu");
        QVERIFY(store.saveProvider(p));
        ModelConfig m;
        m.id = QStringLiteral("eu/model");
        m.provider = p.id;
        m.upstreamModel = QStringLiteral("model");
        m.dataPolicy.retainsDays = 30;
        QVERIFY(store.saveModel(m));
        StoredKey k;
        k.name = QStringLiteral("strict");
        k.secretHash = hashOf('s');
        k.requirePolicy.zdr = true;
        k.requirePolicy.maxRetentionDays = 0;
        k.requirePolicy.regions = {QStringLiteral("eu")};
        k.id = store.saveKey(k);
        QVERIFY(k.id > 0);
        QCOMPARE(store.providers(), QList<ProviderConfig>{p});
        QCOMPARE(store.models(), QList<ModelConfig>{m});
        QCOMPARE(store.keyByName(k.name)->requirePolicy, k.requirePolicy);
        k.requirePolicy = {};
        QVERIFY(store.saveKey(k) == k.id); // cleared: '' again
        QVERIFY(!store.keyByName(k.name)->requirePolicy.any());
        RawDb raw(path);
        QVERIFY(raw.exec("UPDATE keys SET require_policy = '{\"zdr\": 7}'"));
        QVERIFY(!store.keyByName(k.name));
        QVERIFY(store.keys().isEmpty());
    }

    // Migration 16 on both back-ends: changes are recorded newest first with their origin, the steps
    // of one limit drag are one row, and no secret is in the trail.
    void auditTrailRecordsChanges()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        StoredKey k;
        k.name = QStringLiteral("audited");
        k.secretHash = hashOf('a');
        k.secretHint = QStringLiteral("…wxyz");
        k.id = store.saveKey(k);
        QVERIFY(k.id > 0);
        {
            const AuditOriginScope cli(AuditOrigin::Cli);
            for (double usd : {1.0, 2.0, 3.0}) {
                k.limits.dayUsd = usd;
                QVERIFY(store.saveKey(k) == k.id);
            }
        }
        ProviderConfig p;
        p.id = QStringLiteral("prov");
        p.baseUrl = QUrl(QStringLiteral("https://x.example/v1"));
        QVERIFY(store.saveProvider(p));
        QVERIFY(store.removeProvider(p.id));
        const QList<AuditEntry> all = store.auditEntries(10);
        QStringList actions;
        for (const AuditEntry &e : all)
            actions << e.action;
        QCOMPARE(actions, (QStringList{QStringLiteral("provider.remove"), QStringLiteral("provider.create"),
                                       QStringLiteral("key.limits"), QStringLiteral("key.create")}));
        const AuditEntry &limits = all.at(2);
        QCOMPARE(limits.origin, QStringLiteral("cli"));
        QCOMPARE(limits.subject, k.name);
        QVERIFY2(limits.newValue.contains(QLatin1String("3")) && !limits.newValue.contains(QLatin1String("2")), qPrintable(limits.newValue));
        QCOMPARE(all.at(3).origin, QStringLiteral("window"));
        for (const AuditEntry &e : all)
            QVERIFY2(!e.newValue.contains(QLatin1String("wxyz")) && !e.oldValue.contains(QLatin1String("wxyz")), qPrintable(e.newValue));
        QCOMPARE(store.auditEntries(2, 2), all.mid(2, 2));
    }

    // "Delete everything about a key" on both back-ends: its rows, attempts, pending rows, trips and
    // the key go in one transaction; the other key's rows stay; the trail records the deletion.
    void forgetKeyDeletesOneKeysData()
    {
        Store store;
        const QString path = freshPath();
        QVERIFY(store.open(path));
        StoredKey a, b;
        a.name = QStringLiteral("key-1");
        a.secretHash = hashOf('1');
        b.name = QStringLiteral("key-2");
        b.secretHash = hashOf('2');
        a.id = store.saveKey(a);
        b.id = store.saveKey(b);
        QVERIFY(a.id > 0 && b.id > 0);
        for (int i = 0; i < 6; ++i) {
            RequestRecord r = makeRecord(i, i % 2 == 0 ? a.id : b.id);
            r.sessionId = QStringLiteral("s%1").arg(i % 4);
            r.attemptLog.append(AttemptRecord{1, QStringLiteral("openai/gpt-4.1-mini"), QStringLiteral("openai"),
                                              AttemptRecord::Outcome::Ok, 200, QString(), r.startedAtMs, 10});
            store.appendRequest(r);
        }
        store.flush();
        GuardrailTripRow trip;
        trip.id = 1;
        trip.atMs = 1;
        trip.keyId = a.id;
        trip.detector = QStringLiteral("loop");
        trip.action = QStringLiteral("pause");
        QVERIFY(store.saveGuardrailTrip(trip));
        ForgottenKey counts;
        QString error;
        QVERIFY2(store.forgetKey(a.name, &counts, &error), qPrintable(error));
        QCOMPARE(counts.requests, qint64(3));
        QCOMPARE(counts.attempts, qint64(3));
        QCOMPARE(counts.sessions, qint64(2)); // s0, s2
        QCOMPARE(counts.trips, qint64(1));
        QVERIFY(!store.keyByName(a.name));
        QVERIFY(store.keyByName(b.name));
        QCOMPARE(store.requestCount(), qint64(3));
        RawDb raw(path);
        QCOMPARE(raw.value("SELECT count(*) FROM attempts"), QStringLiteral("3"));
        QCOMPARE(raw.value("SELECT count(*) FROM guardrail_trips"), QStringLiteral("0"));
        QCOMPARE(store.auditEntries(1).constFirst().action, QStringLiteral("key.delete"));
        QVERIFY(!store.forgetKey(a.name, &counts, &error));
        QVERIFY2(error.contains(QLatin1String("key-1")), qPrintable(error));
    }

    void settings()
    {
        const QString path = freshPath();
        {
            Store store;
            QVERIFY(store.open(path));
            QCOMPARE(store.setting(QStringLiteral("missing")), QString());
            QCOMPARE(store.setting(QStringLiteral("missing"), QStringLiteral("fb")), QStringLiteral("fb"));
            store.setSetting(QStringLiteral("origins"), QStringLiteral("[\"http://localhost:3000\"]"));
            store.setSetting(QStringLiteral("n"), QStringLiteral("1"));
            store.setSetting(QStringLiteral("n"), QStringLiteral("2"));
            store.setSetting(QStringLiteral("empty"), QString());
            QCOMPARE(store.setting(QStringLiteral("n")), QStringLiteral("2"));
            QCOMPARE(store.setting(QStringLiteral("empty"), QStringLiteral("fb")), QString());
        }
        Store store;
        QVERIFY(store.open(path));
        QCOMPARE(store.setting(QStringLiteral("origins")), QStringLiteral("[\"http://localhost:3000\"]"));
        QCOMPARE(store.setting(QStringLiteral("n")), QStringLiteral("2"));
    }

    void guardrailTripsRoundTripAndSurviveClearLog()
    {
        const QString path = freshPath();
        GuardrailTripRow paused;
        paused.id = 3;
        paused.atMs = 1'700'000'000'000;
        paused.keyId = 2;
        paused.keyName = QStringLiteral("agent");
        paused.session = QStringLiteral("7b0e-1");
        paused.detector = QStringLiteral("repetition");
        paused.action = QStringLiteral("pause");
        paused.requestId = QStringLiteral("req_1");
        paused.summary = QStringLiteral("the same request was answered 4 times");
        paused.evidence = R"({"content_hash":"00ab","kind":"same_request"})";
        paused.costSoFar = 123'456;
        paused.active = true;
        GuardrailTripRow alert = paused;
        alert.id = 4;
        alert.session.clear();
        alert.detector = QStringLiteral("velocity");
        alert.action = QStringLiteral("alert");
        alert.active = false;
        {
            Store store;
            QVERIFY(store.open(path));
            QVERIFY(store.saveGuardrailTrip(paused));
            QVERIFY(store.saveGuardrailTrip(alert));
            GuardrailTripRow again = paused;
            again.summary = QStringLiteral("changed");
            QVERIFY(store.saveGuardrailTrip(again)); // the same id again: left as it was
            QVERIFY(store.keepGuardrailTrip(3, 1'700'000'001'000));
            QVERIFY(!store.keepGuardrailTrip(4, 1'700'000'001'000)); // an alert pauses nothing to keep
            QVERIFY(store.clearLog());
        }
        Store store;
        QVERIFY(store.open(path));
        qint64 maxId = 0;
        QList<GuardrailTripRow> rows = store.guardrailTripsToRestore(10, &maxId);
        QCOMPARE(maxId, qint64(4));
        QCOMPARE(rows.size(), 2);
        GuardrailTripRow expected = paused;
        expected.keptAtMs = 1'700'000'001'000;
        QCOMPARE(rows.at(0), expected);
        QCOMPARE(rows.at(1), alert);
        // Only the newest beside the active pauses.
        rows = store.guardrailTripsToRestore(0, &maxId);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().id, qint64(3));
        // Ended: not active any more, and who ended it when.
        QVERIFY(store.endGuardrailTrips({3}, 1'700'000'002'000, QStringLiteral("window")));
        rows = store.guardrailTripsToRestore(0, &maxId);
        QVERIFY(rows.isEmpty());
        rows = store.guardrailTripsToRestore(1, &maxId);
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().id, qint64(4));
        rows = store.guardrailTripsToRestore(2, &maxId);
        QCOMPARE(rows.first().active, false);
        QCOMPARE(rows.first().endedAtMs, qint64(1'700'000'002'000));
        QCOMPARE(rows.first().endedBy, QStringLiteral("window"));
        // The window's query reads the same rows, newest first (its LogQueries are SQLite's only so far).
        if (pg())
            return;
        const auto queries = store.openQueries();
        bool ok = false;
        const QList<GuardrailTripRow> listed = queries->guardrailTrips(10, &ok);
        QVERIFY(ok);
        QCOMPARE(listed.size(), 2);
        QCOMPARE(listed.first().id, qint64(4));
        QCOMPARE(listed.last().endedBy, QStringLiteral("window"));
    }

    void migratesAnEmptyFile()
    {
        if (pg())
            QSKIP("SQLite only: SQLite file schema; PostgreSQL: postgresMigratesOnceUnderALock");
        const QString path = freshPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly)); // 0 bytes: a new SQLite database
        }
        Store store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        RawDb raw(path);
        QCOMPARE(raw.value("PRAGMA user_version"), QString::number(Store::schemaVersion()));
        const auto tables = raw.column("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
        QVERIFY(tables);
        for (const char *t : {"keys", "models", "providers", "requests", "settings"})
            QVERIFY2(tables->contains(QLatin1String(t)), t);
        const auto indexes = raw.column("SELECT name FROM pragma_index_list('requests')");
        QVERIFY(indexes && indexes->size() >= 3); // (key_id, started_at_ms), started_at_ms, UNIQUE id
        QCOMPARE(raw.value("PRAGMA integrity_check"), QStringLiteral("ok"));
        // No column that could hold a secret other than the hash (secret_scan is the key's scanning
        // mode: "off", "warn", "redact" or "block").
        const auto keyColumns = raw.column("SELECT name FROM pragma_table_info('keys')");
        QVERIFY(keyColumns);
        for (const QString &c : *keyColumns)
            QVERIFY2(!c.contains(QLatin1String("secret")) || c == QLatin1String("secret_hash") || c == QLatin1String("secret_hint")
                         || c == QLatin1String("secret_scan"),
                     qPrintable(c));
        QCOMPARE(raw.value("SELECT dflt_value FROM pragma_table_info('keys') WHERE name = 'secret_scan'"), QStringLiteral("'warn'"));
    }

    void refusesANewerSchema()
    {
        if (pg())
            QSKIP("SQLite only: PRAGMA user_version; PostgreSQL: postgresRefusesANewerSchemaOrAnotherApplication");
        const QString path = freshPath();
        {
            Store store;
            QVERIFY(store.open(path));
        }
        {
            RawDb raw(path);
            QVERIFY(raw.exec(qPrintable(QStringLiteral("PRAGMA user_version = %1").arg(Store::schemaVersion() + 1))));
        }
        Store store;
        QString error;
        QVERIFY(!store.open(path, &error));
        QVERIFY2(error.contains(QLatin1String("newer")), qPrintable(error));
        QVERIFY(!store.isOpen());
        // Nothing was changed or written.
        RawDb raw(path);
        QCOMPARE(raw.value("PRAGMA user_version"), QString::number(Store::schemaVersion() + 1));
        // The store stays usable for another file.
        QVERIFY2(store.open(freshPath(), &error), qPrintable(error));
    }

    void refusesAnotherApplicationsDatabase()
    {
        if (pg())
            QSKIP("SQLite only: SQLite file; PostgreSQL: postgresRefusesANewerSchemaOrAnotherApplication");
        const QString path = freshPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            RawDb raw(path);
            QVERIFY(raw.exec("CREATE TABLE contacts (name TEXT)"));
        }
        Store store;
        QString error;
        QVERIFY(!store.open(path, &error));
        QVERIFY2(error.contains(QLatin1String("another application")), qPrintable(error));
        RawDb raw(path);
        QCOMPARE(raw.value("SELECT count(*) FROM sqlite_schema"), QStringLiteral("1"));
    }

    void refusesACorruptFile_data()
    {
        QTest::addColumn<QByteArray>("content");
        QByteArray garbage(64 * 1024, Qt::Uninitialized);
        QRandomGenerator rng(12345);
        for (char &c : garbage)
            c = char(rng.bounded(256));
        QTest::newRow("random bytes") << garbage;
        QTest::newRow("text") << QByteArray("{\"providers\": []}\n");
        QByteArray header("SQLite format 3");
        header.append('\0');
        QTest::newRow("sqlite header, garbage pages") << header + garbage;
    }
    void refusesACorruptFile()
    {
        if (pg())
            QSKIP("SQLite only: a damaged SQLite file");
        QFETCH(QByteArray, content);
        const QString path = freshPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QCOMPARE(f.write(content), content.size());
        }
        Store store;
        QString error;
        QVERIFY(!store.open(path, &error));
        QVERIFY(!store.isOpen());
        QVERIFY(error.contains(path) || error.contains(QDir::toNativeSeparators(path)));
        qInfo().noquote() << error;
        // Reads and writes on a store that failed to open are harmless.
        store.appendRequest(makeRecord(1));
        store.flush();
        QCOMPARE(store.requestCount(), qint64(0));
        QCOMPARE(store.saveKey(StoredKey{0, QStringLiteral("x"), hashOf('x')}), qint64(0));
        QVERIFY(store.keys().isEmpty());
        // The file was left alone.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), content);
    }

    void refusesAnUnusablePath()
    {
        if (pg())
            QSKIP("SQLite only: file paths; PostgreSQL: postgresRefusesAnUnreachableServer");
        QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("unusable"))));
        const QString aFile = m_dir.filePath(QStringLiteral("unusable/plain-file"));
        {
            QFile f(aFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
        }
        QStringList paths{aFile + QStringLiteral("/sub/gatehouse.sqlite"), // parent is a regular file
                          m_dir.filePath(QStringLiteral("unusable")),       // a directory
                          QString()};
#ifdef Q_OS_UNIX
        QTemporaryDir readOnly;
        QVERIFY(QFile::setPermissions(readOnly.path(), QFileDevice::ReadOwner | QFileDevice::ExeOwner));
        if (::geteuid() != 0) // root writes anywhere
            paths.append(readOnly.filePath(QStringLiteral("gatehouse.sqlite")));
#endif
        for (const QString &p : paths) {
            Store store;
            QString error;
            QVERIFY2(!store.open(p, &error), qPrintable(p));
            QVERIFY(!error.isEmpty());
            QVERIFY(!store.isOpen());
            qInfo().noquote() << error;
        }
#ifdef Q_OS_UNIX
        QFile::setPermissions(readOnly.path(), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
#endif
    }

    // kill -9 while appending: everything reported at least 200 ms before the kill is in the file,
    // what is there is a gap-free prefix, and the file is intact.
    void survivesKill9()
    {
        const QString exe = QCoreApplication::applicationFilePath();
        for (int round = 0; round < 3; ++round) {
            const QString path = freshPath();
            QProcess child;
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QString::fromLatin1(kChildDbEnv), path);
            env.insert(QString::fromLatin1(kChildModeEnv), QStringLiteral("loop"));
            child.setProcessEnvironment(env);
            child.setProcessChannelMode(QProcess::SeparateChannels);
            child.start(exe, {});
            QVERIFY2(child.waitForStarted(10'000), qPrintable(child.errorString()));

            QElapsedTimer clock;
            clock.start();
            QList<QPair<QString, qint64>> reported; // id, when the parent read it
            QByteArray pending;
            auto readLines = [&] {
                pending += child.readAllStandardOutput();
                qsizetype nl;
                while ((nl = pending.indexOf('\n')) >= 0) {
                    reported.append({QString::fromLatin1(pending.left(nl)), clock.elapsed()});
                    pending.remove(0, nl + 1);
                }
            };
            const int killAfterMs = 300 + int(QRandomGenerator::global()->bounded(1'200)) + (pg() ? 2'000 : 0);
            // A row reported this long before the kill must have been committed: one batch window
            // (100 ms) and a commit; on PostgreSQL a commit is a few round trips to another process,
            // which on a loaded test machine (2 cores, load 15+) took up to a second.
            const qint64 committedWithinMs = pg() ? 1'500 : 200;
            qint64 firstAt = -1;
            while (firstAt < 0 || clock.elapsed() - firstAt < killAfterMs) {
                if (child.state() != QProcess::Running)
                    QFAIL(qPrintable(QStringLiteral("child exited early: %1").arg(QString::fromLocal8Bit(child.readAllStandardError()))));
                QVERIFY2(clock.elapsed() < 30'000, "the child never reported an id");
                child.waitForReadyRead(20);
                readLines();
                if (firstAt < 0 && !reported.isEmpty())
                    firstAt = reported.first().second;
            }
            readLines();
            const qint64 killedAt = clock.elapsed();
            child.kill(); // SIGKILL
            QVERIFY(child.waitForFinished(10'000));
            QCOMPARE(child.exitStatus(), QProcess::CrashExit);

            RawDb raw(path);
            if (!pg())
                QCOMPARE(raw.value("PRAGMA integrity_check"), QStringLiteral("ok"));
            const auto ids = raw.column("SELECT id FROM requests ORDER BY id");
            QVERIFY(ids);
            const QSet<QString> present(ids->begin(), ids->end());
            int required = 0;
            for (const auto &[id, at] : reported) {
                if (at <= killedAt - committedWithinMs) {
                    ++required;
                    QVERIFY2(present.contains(id), qPrintable(QStringLiteral("round %1: %2 reported %3 ms before the kill is missing")
                                                                  .arg(round)
                                                                  .arg(id)
                                                                  .arg(killedAt - at)));
                }
            }
            QVERIFY2(required > 0, "the child reported nothing early enough to check");
            // Written in order: what is there is exactly the first N records.
            for (int i = 0; i < ids->size(); ++i)
                QCOMPARE(ids->at(i), reqId(i));
            qInfo("round %d: killed after %d ms; %lld reported, %d required, %lld in the file", round, killAfterMs,
                  qint64(reported.size()), required, qint64(ids->size()));

            // The store opens the file again and keeps appending after the crash.
            Store store;
            QString error;
            QVERIFY2(store.open(path, &error), qPrintable(error));
            QCOMPARE(store.requestCount(), qint64(ids->size()));
            store.appendRequest(makeRecord(int(ids->size())));
            store.close();
        }
    }

    // A clean exit (the Store destructor) writes every record, however recently appended.
    void cleanExitKeepsEverything()
    {
        const QString path = freshPath();
        constexpr int kRecords = 5'000;
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QString::fromLatin1(kChildDbEnv), path);
        env.insert(QString::fromLatin1(kChildModeEnv), QStringLiteral("clean:%1").arg(kRecords));
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {});
        QVERIFY(child.waitForFinished(60'000));
        QCOMPARE(child.exitStatus(), QProcess::NormalExit);
        QVERIFY2(child.exitCode() == 0, child.readAllStandardError().constData());
        const QList<QByteArray> lines = child.readAllStandardOutput().split('\n');
        QCOMPARE(lines.size(), kRecords + 1); // the last line is empty

        Store store;
        QVERIFY(store.open(path));
        QCOMPARE(store.requestCount(), qint64(kRecords));
        RawDb raw(path);
        const auto ids = raw.column("SELECT id FROM requests ORDER BY id");
        QVERIFY(ids);
        for (int i = 0; i < kRecords; ++i)
            QCOMPARE(ids->at(i), QString::fromLatin1(lines.at(i)));
    }

    // --- schema 2: routes, attempts, limits, capabilities, votes, prompt prefixes ---

    void routeAndAttemptsRoundTrip()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        RequestRecord r = makeRecord(1);
        r.requestedModel = QStringLiteral("smart");
        r.route = QStringLiteral("smart");
        r.modelId = QStringLiteral("openai/gpt-4.1");
        r.sessionId = QStringLiteral("013e4a3b-985c-45ae-ad81-59b621cbeb7e"); // Claude Code's session
        r.attempts = 2;
        const qint64 t0 = r.startedAtMs;
        r.attemptLog = {
            AttemptRecord{1, QStringLiteral("anthropic/claude-sonnet-4-5"), QStringLiteral("anthropic"),
                          AttemptRecord::Outcome::Skipped, 0, QStringLiteral("no vision"), t0, 0},
            AttemptRecord{2, QStringLiteral("openrouter/x"), QStringLiteral("openrouter"), AttemptRecord::Outcome::Failed, 503,
                          QStringLiteral("upstream 503: \"overloaded\""), t0 + 1, 87},
            AttemptRecord{3, QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai"), AttemptRecord::Outcome::Ok, 200,
                          QString(), t0 + 90, 1'234},
        };
        RequestRecord plain = makeRecord(2); // no route, no attempts logged
        store.appendRequest(r);
        store.appendRequest(plain);
        store.flush();

        QCOMPARE(store.attempts(r.id), r.attemptLog);
        QVERIFY(store.attempts(plain.id).isEmpty());
        QVERIFY(store.attempts(QStringLiteral("req_missing")).isEmpty());
        const auto got = store.request(r.id);
        QVERIFY(got);
        QCOMPARE(got->route, QStringLiteral("smart"));
        QCOMPARE(got->modelId, QStringLiteral("openai/gpt-4.1"));
        QCOMPARE(got->sessionId, r.sessionId);
        QCOMPARE(*got, r); // request() reads the attempts too
        const auto recent = store.recentRequests(2);
        QCOMPARE(recent.size(), 2);
        QCOMPARE(recent[0].id, plain.id);
        QVERIFY(recent[0].route.isEmpty() && recent[0].modelId.isEmpty());
        QCOMPARE(recent[1].route, r.route);
        QCOMPARE(recent[1].modelId, r.modelId);

        RawDb raw(store.path());
        QCOMPARE(raw.column("SELECT outcome FROM attempts WHERE request_seq = (SELECT seq FROM requests WHERE id = 'req_00000001') ORDER BY idx"),
                 std::optional<QStringList>({QStringLiteral("skipped"), QStringLiteral("failed"), QStringLiteral("ok")}));
        QCOMPARE(QString::fromLatin1(outcomeName(AttemptRecord::Outcome::Ok)), QStringLiteral("ok"));

        // Attempts come back in their order whatever the order they were given in, and an attempt
        // without an index takes its position.
        RequestRecord shuffled = makeRecord(3);
        shuffled.attemptLog = {r.attemptLog[2], r.attemptLog[0], r.attemptLog[1]};
        RequestRecord unnumbered = makeRecord(4);
        unnumbered.attemptLog = {r.attemptLog[1], r.attemptLog[2]};
        unnumbered.attemptLog[0].index = 0;
        unnumbered.attemptLog[1].index = 0;
        store.appendRequest(shuffled);
        store.appendRequest(unnumbered);
        store.flush();
        QCOMPARE(store.attempts(shuffled.id), r.attemptLog);
        const auto numbered = store.attempts(unnumbered.id);
        QCOMPARE(numbered.size(), 2);
        QCOMPARE(numbered[0].index, 1);
        QCOMPARE(numbered[0].modelId, QStringLiteral("openrouter/x"));
        QCOMPARE(numbered[1].index, 2);
        QCOMPARE(numbered[1].outcome, AttemptRecord::Outcome::Ok);

        // A duplicate request id is refused with its attempts: the first request's stay as they were.
        RequestRecord dup = makeRecord(1);
        dup.attemptLog = {AttemptRecord{1, QStringLiteral("x/y"), QStringLiteral("x"), AttemptRecord::Outcome::Ok, 200, {}, 1, 1}};
        store.appendRequest(dup);
        store.flush();
        QCOMPARE(store.attempts(r.id), r.attemptLog);
    }

    // The trim keeps each key's newest 200 prompt prefixes as the table holds them at each batch: a
    // change by another connection between batches (here: rows deleted, as forget-key and clear-log
    // do) counts, so that a writer remembering what it kept (tried, BENCHMARKS.md, issue 19, seventh
    // session) would have to notice it, or delete rows that are now among the newest 200.
    void promptPrefixTrimSeesOtherConnectionsChanges()
    {
        if (pg())
            QSKIP("SQLite's writer only");
        Store store;
        QVERIFY(store.open(freshPath()));
        store.setBatchWindowMs(10'000);
        int n = 0;
        auto appendBatch = [&](int rows, qint64 keyId) {
            for (int i = 0; i < rows; ++i) {
                RequestRecord r = makeRecord(++n, keyId);
                r.promptBlocks = {quint64(n)};
                store.appendRequest(r);
            }
            store.flush();
        };
        appendBatch(150, 1);
        appendBatch(100, 1); // trimmed to 200; the writer now holds key 1's kept seqs
        RawDb raw(store.path());
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("200"));
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("51"));
        // Another connection deletes the newest 50.
        QVERIFY(raw.exec("DELETE FROM prompt_prefixes WHERE key_id = 1 AND request_seq > 200"));
        appendBatch(10, 1);
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("160"));
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("51"));
        appendBatch(60, 1);
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("200"));
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("71"));
        // Several batches without outside changes: the held seqs stay exact.
        for (int b = 0; b < 5; ++b)
            appendBatch(7, 1 + b % 2);
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("200"));
        // Key 1 gained 7 rows three times (seqs 321-327, 335-341, 349-355): 71-91 went.
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("92"));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 2"), QStringLiteral("14"));
    }

    void promptPrefixesKeepTheLatest200PerKey()
    {
        if (pg())
            QSKIP("SQLite only: the PostgreSQL writer does not keep prompt prefixes yet (the Cache page reads SQLite only)");
        Store store;
        QVERIFY(store.open(freshPath()));
        store.setBatchWindowMs(10'000); // everything goes in one or a few batches
        constexpr int kKeyOne = 230;
        constexpr int kKeyTwo = 15;
        int n = 0;
        for (int i = 0; i < kKeyOne + kKeyTwo; ++i) {
            RequestRecord r = makeRecord(++n, i % 2 == 0 && i / 2 < kKeyTwo ? 2 : 1);
            r.promptBlocks = {quint64(i), 0x0102030405060708ull, ~quint64(0)};
            r.promptSystemBytes = 100 + i;
            r.promptToolsBytes = 7;
            store.appendRequest(r);
        }
        RequestRecord noBlocks = makeRecord(++n, 3);
        store.appendRequest(noBlocks);
        store.flush();
        QCOMPARE(store.requestCount(), qint64(kKeyOne + kKeyTwo + 1));

        RawDb raw(store.path());
        // The writer trims per batch (schema 5 dropped the per-row trigger).
        QCOMPARE(raw.value("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'prompt_prefixes'"),
                 QStringLiteral("0"));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("200"));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 2"), QString::number(kKeyTwo));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 3"), QStringLiteral("0"));
        // The kept rows are key 1's latest requests, linked to their request rows.
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes p JOIN requests r ON r.seq = p.request_seq "
                           "WHERE p.key_id = r.key_id AND p.started_at_ms = r.started_at_ms"),
                 QString::number(200 + kKeyTwo));
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 1"),
                 raw.value("SELECT seq FROM requests WHERE key_id = 1 ORDER BY seq DESC LIMIT 1 OFFSET 199"));
        // Little-endian u64 per block.
        QCOMPARE(raw.value("SELECT hex(blocks) FROM prompt_prefixes ORDER BY request_seq DESC LIMIT 1"),
                 QStringLiteral("F400000000000000" "0807060504030201" "FFFFFFFFFFFFFFFF"));
        QCOMPARE(raw.value("SELECT system_bytes || ',' || tools_bytes FROM prompt_prefixes ORDER BY request_seq DESC LIMIT 1"),
                 QStringLiteral("344,7"));

        // More of key 2 later, in another batch: still capped, key 1 untouched.
        for (int i = 0; i < 250; ++i) {
            RequestRecord r = makeRecord(++n, 2);
            r.promptBlocks = {1};
            store.appendRequest(r);
        }
        store.flush();
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 2"), QStringLiteral("200"));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes WHERE key_id = 1"), QStringLiteral("200"));
        QCOMPARE(raw.value("SELECT min(request_seq) FROM prompt_prefixes WHERE key_id = 2"),
                 raw.value("SELECT seq FROM requests WHERE key_id = 2 ORDER BY seq DESC LIMIT 1 OFFSET 199"));
    }

    void routesCrudKeepsOrder()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        QVERIFY(store.routes().isEmpty());
        RouteConfig smart{QStringLiteral("smart"), RouteStrategy::Ordered,
                          {{QStringLiteral("anthropic/claude-sonnet-4-5"), 1}, {QStringLiteral("openai/gpt-4.1"), 1}}};
        RouteConfig cheap{QStringLiteral("cheap"), RouteStrategy::Cheapest, {{QStringLiteral("openai/gpt-4.1-mini"), 1}}};
        RouteConfig weighted{QStringLiteral("a-split"), RouteStrategy::Weighted,
                             {{QStringLiteral("openai/gpt-4.1"), 0}, {QStringLiteral("x/y"), 1000}, {QStringLiteral("z/w"), 7}}};
        QVERIFY(store.saveRoute(smart));
        QVERIFY(store.saveRoute(cheap));
        QVERIFY(store.saveRoute(weighted));
        // In the order they were added, not by id.
        QCOMPARE(store.routes(), (QList<RouteConfig>{smart, cheap, weighted}));

        // An update keeps the route's place; targets keep their order.
        smart.strategy = RouteStrategy::Quality;
        smart.targets = {smart.targets[1], smart.targets[0], {QStringLiteral("google/gemini-2.5-pro"), 5}};
        QVERIFY(store.saveRoute(smart));
        QCOMPARE(store.routes(), (QList<RouteConfig>{smart, cheap, weighted}));

        QVERIFY(store.removeRoute(cheap.id));
        QVERIFY(!store.removeRoute(cheap.id));
        QVERIFY(store.saveRoute(cheap)); // comes back last
        QCOMPARE(store.routes(), (QList<RouteConfig>{smart, weighted, cheap}));
        QVERIFY(!store.saveRoute(RouteConfig{}));

        // Persisted.
        const QString path = store.path();
        store.close();
        QVERIFY(store.open(path));
        QCOMPARE(store.routes(), (QList<RouteConfig>{smart, weighted, cheap}));

        // A damaged row is left out rather than read as a route without targets.
        RawDb raw(path);
        QVERIFY(raw.exec("UPDATE routes SET targets = '[{\"model\": 3}]' WHERE id = 'smart'"));
        QVERIFY(raw.exec("UPDATE routes SET strategy = 'random' WHERE id = 'cheap'"));
        QCOMPARE(store.routes(), QList<RouteConfig>{weighted});
    }

    void votesReplaceARoundAndCount()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        QVERIFY(store.voteStats().isEmpty());
        const QString a = QStringLiteral("openai/gpt-4.1");
        const QString b = QStringLiteral("anthropic/claude-sonnet-4-5");
        const QString c = QStringLiteral("google/gemini-2.5-pro");
        using Vote = Store::Vote;
        QVERIFY(store.saveRoundVotes(QStringLiteral("r1"), {Vote{{}, a, 1, 10}, Vote{{}, b, 0, 10}}));
        QVERIFY(store.saveRoundVotes(QStringLiteral("r2"), {Vote{{}, a, 0, 20}, Vote{{}, b, 1, 20}, Vote{{}, c, 0, 20}}));
        QVERIFY(store.saveRoundVotes(QStringLiteral("r3"), {Vote{{}, a, -1, 30}, Vote{{}, c, -1, 30}}));
        auto stats = store.voteStats();
        QCOMPARE(stats.size(), 3);
        QCOMPARE(stats.value(a), (VoteStats{3, 1, 1}));
        QCOMPARE(stats.value(b), (VoteStats{2, 1, 0}));
        QCOMPARE(stats.value(c), (VoteStats{2, 0, 1}));

        // The user changes their mind on round 1: its rows are replaced, not added to.
        QVERIFY(store.saveRoundVotes(QStringLiteral("r1"), {Vote{{}, a, 0, 40}, Vote{{}, b, 1, 40}}));
        stats = store.voteStats();
        QCOMPARE(stats.value(a), (VoteStats{3, 0, 1}));
        QCOMPARE(stats.value(b), (VoteStats{2, 2, 0}));

        // Invalid rounds change nothing: a model twice, a result out of range, no model, no round.
        QVERIFY(!store.saveRoundVotes(QStringLiteral("r2"), {Vote{{}, a, 1, 50}, Vote{{}, a, 0, 50}}));
        QVERIFY(!store.saveRoundVotes(QStringLiteral("r2"), {Vote{{}, a, 2, 50}}));
        QVERIFY(!store.saveRoundVotes(QStringLiteral("r2"), {Vote{{}, QString(), 1, 50}}));
        QVERIFY(!store.saveRoundVotes(QString(), {Vote{{}, a, 1, 50}}));
        QCOMPARE(store.voteStats(), stats);

        // An empty list withdraws the round.
        QVERIFY(store.saveRoundVotes(QStringLiteral("r3"), {}));
        stats = store.voteStats();
        QCOMPARE(stats.value(a), (VoteStats{2, 0, 0}));
        QCOMPARE(stats.value(c), (VoteStats{1, 0, 0}));
        RawDb raw(store.path());
        QCOMPARE(raw.value("SELECT count(*) FROM votes"), QStringLiteral("5"));
    }

    void limitsAndCapabilitiesRoundTrip()
    {
        Store store;
        QVERIFY(store.open(freshPath()));
        StoredKey k;
        k.name = QStringLiteral("agent");
        k.secretHash = hashOf('k');
        k.rpm = 60;
        k.tpm = 1'000'000'000'000;
        k.id = store.saveKey(k);
        QVERIFY(k.id > 0);
        QCOMPARE(store.keyByName(k.name), std::optional<StoredKey>(k));
        k.rpm.reset();
        k.tpm = 5;
        QCOMPARE(store.saveKey(k), k.id);
        QCOMPARE(store.keys(), QList<StoredKey>{k});
        RawDb raw(store.path());
        QCOMPARE(raw.value("SELECT quote(rpm) FROM keys"), QStringLiteral("NULL"));

        ProviderConfig p;
        p.id = QStringLiteral("anthropic");
        p.baseUrl = QUrl(QStringLiteral("https://api.anthropic.com/v1"));
        p.rpm = 50;
        p.tpm = 400'000;
        ProviderConfig q;
        q.id = QStringLiteral("openai");
        q.baseUrl = QUrl(QStringLiteral("https://api.openai.com/v1"));
        QVERIFY(store.saveProvider(p));
        QVERIFY(store.saveProvider(q));
        QCOMPARE(store.providers(), (QList<ProviderConfig>{p, q}));
        p.rpm.reset();
        QVERIFY(store.saveProvider(p));
        QCOMPARE(store.providers(), (QList<ProviderConfig>{p, q}));

        ModelConfig listed;
        listed.id = QStringLiteral("openai/gpt-4.1");
        listed.provider = QStringLiteral("openai");
        listed.upstreamModel = QStringLiteral("gpt-4.1");
        listed.capabilities = QStringList{QStringLiteral("vision"), QStringLiteral("tools")};
        ModelConfig none = listed;
        none.id = QStringLiteral("openai/none");
        none.capabilities = QStringList{};
        ModelConfig unknown = listed;
        unknown.id = QStringLiteral("openai/unknown");
        unknown.capabilities.reset();
        QVERIFY(store.saveModel(listed));
        QVERIFY(store.saveModel(none));
        QVERIFY(store.saveModel(unknown));
        QCOMPARE(store.models(), (QList<ModelConfig>{listed, none, unknown}));
        QCOMPARE(raw.column("SELECT quote(capabilities) FROM models ORDER BY id"),
                 std::optional<QStringList>({QStringLiteral("'[\"vision\",\"tools\"]'"), QStringLiteral("'[]'"),
                                             QStringLiteral("NULL")}));
        listed.capabilities.reset();
        QVERIFY(store.saveModel(listed));
        QCOMPARE(store.models().first(), listed);

        // Unreadable capabilities are unknown ones.
        QVERIFY(raw.exec("UPDATE models SET capabilities = 'tools' WHERE id = 'openai/none'"));
        QVERIFY(!store.models()[1].capabilities);
        // A damaged key limit fails closed: the key is left out rather than unlimited.
        QVERIFY(raw.exec("UPDATE keys SET rpm = 0"));
        QVERIFY(store.keys().isEmpty());
    }

    // A record appended with onDurable is committed at once (not after the batch window), and the
    // callback comes only once another connection can read it.
    void durableCallbackComesAfterTheCommit()
    {
        Store store;
        const QString path = freshPath();
        QVERIFY(store.open(path));
        store.setBatchWindowMs(60'000);
        std::atomic<int> calls{0};
        QElapsedTimer timer;
        timer.start();
        store.appendRequest(makeRecord(1), [&] { ++calls; });
        QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 1, 5000);
        QVERIFY2(timer.elapsed() < 5000, qPrintable(QString::number(timer.elapsed())));
        RawDb raw(path, SQLITE_OPEN_READONLY);
        QCOMPARE(raw.value("SELECT count(*) FROM requests"), QStringLiteral("1"));
        store.close();
        QCOMPARE(calls.load(), 1);
    }

    // A pending row with no final row is logged at the next open at its reservation, flagged; one
    // settled by its final row leaves nothing behind.
    void pendingRowsAreRecoveredAtTheirReservation()
    {
        const QString path = freshPath();
        RequestRecord settled = makeRecord(1, 7);
        RequestRecord orphan = makeRecord(2, 7);
        RequestRecord unpricedOrphan = makeRecord(3, 7);
        {
            Store store;
            QVERIFY(store.open(path));
            for (RequestRecord r : {settled, orphan}) {
                r.pending = true;
                r.reserved = 5'000'000 + r.startedAtMs % 10;
                store.appendRequest(r);
            }
            settled.settlesPending = true;
            store.appendRequest(settled);
            unpricedOrphan.pending = true;
            unpricedOrphan.reserved = -1; // an unpriced model
            store.appendRequest(unpricedOrphan);
            store.flush();
            RawDb raw(path, SQLITE_OPEN_READONLY);
            QCOMPARE(raw.value("SELECT count(*) FROM pending_requests"), QStringLiteral("2"));
            QCOMPARE(raw.value("SELECT count(*) FROM requests"), QStringLiteral("1"));
        }
        Store store;
        QVERIFY(store.open(path));
        const auto recovered = store.request(orphan.id);
        QVERIFY(recovered);
        QVERIFY(recovered->recovered);
        QCOMPARE(recovered->status, 200);
        QCOMPARE(recovered->cost, std::optional<NanoUsd>(5'000'000 + orphan.startedAtMs % 10));
        QVERIFY(recovered->error.contains(QLatin1String("reservation")));
        QVERIFY(!store.request(settled.id)->recovered);
        const auto unpriced = store.request(unpricedOrphan.id);
        QVERIFY(unpriced && unpriced->recovered);
        QCOMPARE(unpriced->cost, std::optional<NanoUsd>()); // unpriced, never $0
        QCOMPARE(store.spendSince(7, 0), settled.cost.value_or(0) + 5'000'000 + orphan.startedAtMs % 10);
        RawDb raw(path, SQLITE_OPEN_READONLY);
        QCOMPARE(raw.value("SELECT count(*) FROM pending_requests"), QStringLiteral("0"));
        if (!pg()) { // the PostgreSQL writer keeps no rollups yet
            QCOMPARE(raw.value("SELECT sum(requests) FROM rollups WHERE grain = 0"), QStringLiteral("3"));
            QCOMPARE(raw.value("PRAGMA integrity_check"), QStringLiteral("ok"));
        }
    }

    // Every table of the migrated schema (read from sqlite_master, not from a list kept here) is
    // either emptied by clearLog() or named as kept, never both; with a row in every table, the log
    // tables end empty and the kept ones keep their rows.
    void clearLogCoversEveryTable()
    {
        if (pg())
            QSKIP("SQLite only: sqlite_master; PostgreSQL: postgresClearLogCoversEveryTable");
        Store store;
        QVERIFY(store.open(freshPath()));
        RawDb raw(store.path());
        const auto tables = raw.column("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name");
        QVERIFY(tables && !tables->isEmpty());
        const QStringList logList = Store::logTables();
        const QStringList keptList = Store::keptTables();
        const QSet<QString> log(logList.cbegin(), logList.cend());
        const QSet<QString> kept(keptList.cbegin(), keptList.cend());
        QVERIFY2(!log.intersects(kept), "a table is both cleared and kept");
        const QSet<QString> schema(tables->cbegin(), tables->cend());
        QCOMPARE(log + kept, schema); // a new table must be named in one of the two lists

        // A row in every table: a request with attempts and prompt blocks (requests, attempts,
        // prompt_prefixes, rollups, rollup_latency), a pending one, and the configuration.
        RequestRecord r = makeRecord(1);
        r.attemptLog = {AttemptRecord{1, QStringLiteral("openai/gpt-4.1-mini"), QStringLiteral("openai"),
                                      AttemptRecord::Outcome::Ok, 200, {}, r.startedAtMs, 90}};
        r.promptBlocks = {1, 2};
        store.appendRequest(r);
        RequestRecord pending = makeRecord(2);
        pending.pending = true;
        pending.reserved = 1'000;
        store.appendRequest(pending);
        store.flush();
        StoredKey key;
        key.name = QStringLiteral("k");
        key.secretHash = hashOf('k');
        QVERIFY(store.saveKey(key) > 0);
        ProviderConfig provider;
        provider.id = QStringLiteral("openai");
        provider.baseUrl = QUrl(QStringLiteral("https://api.openai.com/v1"));
        QVERIFY(store.saveProvider(provider));
        ModelConfig model;
        model.id = QStringLiteral("openai/gpt-4.1-mini");
        model.provider = QStringLiteral("openai");
        model.upstreamModel = QStringLiteral("gpt-4.1-mini");
        QVERIFY(store.saveModel(model));
        QVERIFY(store.saveRoute(RouteConfig{QStringLiteral("fast"), RouteStrategy::Ordered,
                                            {RouteTarget{QStringLiteral("openai/gpt-4.1-mini"), 1}}}));
        QVERIFY(store.saveRoundVotes(QStringLiteral("round"), {Store::Vote{QStringLiteral("round"), model.id, 1, 1}}));
        store.setSetting(QStringLiteral("s"), QStringLiteral("1"));
        GuardrailTripRow trip;
        trip.id = 1;
        trip.keyId = 1;
        trip.detector = QStringLiteral("repetition");
        trip.action = QStringLiteral("pause");
        trip.active = true;
        QVERIFY(store.saveGuardrailTrip(trip));
        QVERIFY(raw.exec("INSERT INTO conversations (id, title, created_at_ms, updated_at_ms, panes) "
                         "VALUES ('c', 't', 1, 1, '[]')"));
        QVERIFY(raw.exec("INSERT INTO messages (conversation_id, round, pane, role, content, created_at_ms) "
                         "VALUES ('c', 1, -1, 'user', 'hi', 1)"));
        auto rows = [&](const QString &table) {
            return raw.value(QByteArray("SELECT count(*) FROM " + table.toUtf8()).constData()).toInt();
        };
        for (const QString &table : schema)
            QVERIFY2(rows(table) > 0, qPrintable(table + QStringLiteral(" has no row to clear or keep")));

        QString error;
        QVERIFY2(store.clearLog(&error), qPrintable(error));
        for (const QString &table : log)
            QVERIFY2(rows(table) == 0, qPrintable(table + QStringLiteral(" was not cleared")));
        for (const QString &table : kept)
            QVERIFY2(rows(table) > 0, qPrintable(table + QStringLiteral(" was cleared")));
        // The rollup delete trigger of migration 4 is back as it was.
        QCOMPARE(raw.value("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'requests_rollup_delete'"),
                 QStringLiteral("1"));
        // The log goes on after the clear.
        store.appendRequest(makeRecord(3));
        store.flush();
        QCOMPARE(store.requestCount(), qint64(1));
    }

    // Another connection holds the database locked: rows wait in memory (nothing dropped), the
    // waiters are released, the buffer reports full at its capacity, and everything is written
    // once the lock is gone.
    void lockedLogBuffersAndDrains()
    {
        if (pg())
            QSKIP("SQLite only: a SQLite lock held by another connection");
        Store store;
        const QString path = freshPath();
        QVERIFY(store.open(path));
        store.setBufferCapacity(3);
        RawDb locker(path);
        QVERIFY(locker.exec("BEGIN EXCLUSIVE"));
        std::atomic<int> released{0};
        for (int i = 0; i < 3; ++i)
            store.appendRequest(makeRecord(i), [&] { ++released; });
        QTRY_COMPARE_WITH_TIMEOUT(released.load(), 3, 20'000); // after the busy timeout at the latest
        QTRY_VERIFY_WITH_TIMEOUT(store.logHealth().failing, 20'000);
        QVERIFY(store.isBufferFull());
        QCOMPARE(store.logHealth().waiting, 3);
        QVERIFY(!store.logHealth().error.isEmpty());
        store.appendRequest(makeRecord(3), [&] { ++released; }); // not waited for: the log is failing
        QCOMPARE(released.load(), 4);
        QVERIFY(locker.exec("ROLLBACK"));
        QTRY_VERIFY_WITH_TIMEOUT(!store.logHealth().failing, 20'000);
        QVERIFY(!store.isBufferFull());
        QCOMPARE(store.requestCount(), qint64(4));
    }

    void migratesAVersion1Database()
    {
        if (pg())
            QSKIP("SQLite only: a SQLite version 1 file; PostgreSQL: postgresMigratesOnceUnderALock");
        const QString path = freshPath();
        QVERIFY(QDir().mkpath(QFileInfo(path).absolutePath()));
        {
            // A database as the first release made it: schema 1 only, with rows in every table.
            RawDb raw(path);
            QVERIFY(raw.exec(store::migrations()[0].sql));
            QVERIFY(raw.exec("PRAGMA user_version = 1"));
            QVERIFY(raw.exec("INSERT INTO requests (id, started_at_ms, key_id, key_name, requested_model, provider, status, "
                             "cost_nano_usd, attempts) VALUES ('req_old', 1700000000000, 1, 'scripts', 'gpt-4o', 'openai', 200, "
                             "1234, 1)"));
            QVERIFY(raw.exec("INSERT INTO keys (name, secret_hash, allow_models, limit_day, created_at_ms) "
                             "VALUES ('scripts', x'" + QByteArray(32, 'a').toHex() + "', '[\"openai/*\"]', 2.5, 1)"));
            QVERIFY(raw.exec("INSERT INTO providers (id, format, base_url) VALUES ('openai', 'openai', 'https://api.openai.com/v1')"));
            QVERIFY(raw.exec("INSERT INTO models (id, provider, upstream_model, price_input, price_output) "
                             "VALUES ('openai/gpt-4o', 'openai', 'gpt-4o', 2.5, 10)"));
            QVERIFY(raw.exec("INSERT INTO settings (key, value) VALUES ('gateway', '{\"port\": 8484}')"));
        }
        Store store;
        QString error;
        QVERIFY2(store.open(path, &error), qPrintable(error));
        RawDb raw(path);
        QCOMPARE(raw.value("PRAGMA user_version"), QString::number(Store::schemaVersion()));
        QCOMPARE(raw.value("PRAGMA integrity_check"), QStringLiteral("ok"));

        const auto old = store.request(QStringLiteral("req_old"));
        QVERIFY(old);
        QCOMPARE(old->keyName, QStringLiteral("scripts"));
        QCOMPARE(old->cost, std::optional<NanoUsd>(1234));
        QVERIFY(old->route.isEmpty() && old->modelId.isEmpty());
        QVERIFY(old->attemptLog.isEmpty());
        QCOMPARE(store.spendSince(1, 0), NanoUsd(1234));

        const auto key = store.keyByName(QStringLiteral("scripts"));
        QVERIFY(key);
        QCOMPARE(key->allowModels, QStringList{QStringLiteral("openai/*")});
        QCOMPARE(key->limits.dayUsd, std::optional<double>(2.5));
        QVERIFY(!key->rpm && !key->tpm);
        QCOMPARE(store.providers().size(), 1);
        QVERIFY(!store.providers()[0].rpm);
        QCOMPARE(store.models().size(), 1);
        QVERIFY(!store.models()[0].capabilities); // unknown, not "none"
        QCOMPARE(store.models()[0].price.output, std::optional<double>(10));
        QCOMPARE(store.setting(QStringLiteral("gateway")), QStringLiteral("{\"port\": 8484}"));
        QVERIFY(store.routes().isEmpty());
        QVERIFY(store.voteStats().isEmpty());

        // And the new tables work on the migrated file.
        RequestRecord r = makeRecord(1);
        r.route = QStringLiteral("smart");
        r.attemptLog = {AttemptRecord{1, QStringLiteral("openai/gpt-4o"), QStringLiteral("openai"), AttemptRecord::Outcome::Ok,
                                      200, {}, r.startedAtMs, 5}};
        r.promptBlocks = {42};
        store.appendRequest(r);
        store.flush();
        QCOMPARE(store.request(r.id), std::optional<RequestRecord>([&] {
                     RequestRecord expected = r;
                     expected.promptBlocks.clear(); // kept in prompt_prefixes, not read back with the row
                     expected.promptSystemBytes = expected.promptToolsBytes = 0;
                     return expected;
                 }()));
        QCOMPARE(store.requestCount(), qint64(2));
        QCOMPARE(raw.value("SELECT count(*) FROM prompt_prefixes"), QStringLiteral("1"));
    }

    // --- both back-ends: the instance that served each row (migration 19) ---

    void instanceIdIsStampedOnEachRow()
    {
        const QString path = freshPath();
        Store store;
        store.setInstanceId(QStringLiteral("laptop-a"));
        QVERIFY(store.open(path));
        store.appendRequest(makeRecord(1));
        RequestRecord other = makeRecord(2);
        other.instanceId = QStringLiteral("replayed-b"); // a row that says who served it keeps it
        store.appendRequest(other);
        store.flush();
        QCOMPARE(store.request(reqId(1))->instanceId, QStringLiteral("laptop-a"));
        QCOMPARE(store.request(reqId(2))->instanceId, QStringLiteral("replayed-b"));
        RawDb raw(path);
        QCOMPARE(raw.value("SELECT count(*) FROM requests WHERE instance_id = 'laptop-a'"), QStringLiteral("1"));
    }

    // --- PostgreSQL only: the team database's schema ---

    // A database left at an older schema (14, before instance ids) by an older build, with data in
    // it; four instances start at once. Exactly one runs each missing step (one gatehouse_schema row
    // per version: a second run of an ALTER TABLE would have failed its instance's open()), every
    // instance opens, and the old rows are there.
    void postgresMigratesOnceUnderALock()
    {
        if (!pg())
            QSKIP("PostgreSQL only");
        const QString url = freshPath();
        {
            pg::Connection conn;
            QString error;
            QVERIFY2(conn.open(url, &error), qPrintable(error));
            QVERIFY2(store::postgres::migrate(conn, &error, 14), qPrintable(error));
            QCOMPARE(store::postgres::schemaVersion(conn), 14);
            QVERIFY(conn.exec("INSERT INTO requests (id, started_at_ms, key_id, cost_nano_usd) VALUES ('req_old', 1, 1, 500)"));
        }
        constexpr int kInstances = 4;
        std::vector<std::unique_ptr<Store>> stores;
        for (int i = 0; i < kInstances; ++i) {
            stores.push_back(std::make_unique<Store>());
            stores.back()->setInstanceId(QStringLiteral("instance-%1").arg(i));
        }
        std::atomic<int> ready{0};
        std::atomic<int> opened{0};
        std::vector<QString> errors(kInstances);
        std::vector<std::thread> threads;
        for (int i = 0; i < kInstances; ++i) {
            threads.emplace_back([&, i] {
                ++ready;
                while (ready.load() < kInstances)
                    std::this_thread::yield();
                if (stores[std::size_t(i)]->open(url, &errors[std::size_t(i)]))
                    ++opened;
            });
        }
        for (std::thread &t : threads)
            t.join();
        for (int i = 0; i < kInstances; ++i)
            QVERIFY2(errors[std::size_t(i)].isEmpty(), qPrintable(errors[std::size_t(i)]));
        QCOMPARE(opened.load(), kInstances);
        RawDb raw(url);
        // Each step ran exactly once: one row per PostgreSQL migration, 14 and then every later one.
        QStringList steps;
        for (const store::Migration &m : store::postgres::migrations())
            steps << QString::number(m.version);
        QCOMPARE(steps.constFirst(), QStringLiteral("14"));
        QCOMPARE(steps.constLast(), QString::number(store::postgres::latestSchemaVersion()));
        QCOMPARE(raw.column("SELECT version FROM gatehouse_schema ORDER BY version"), std::optional<QStringList>(steps));
        QCOMPARE(stores[0]->request(QStringLiteral("req_old"))->cost, std::optional<NanoUsd>(500));
        QCOMPARE(stores[0]->request(QStringLiteral("req_old"))->instanceId, QString());
        // Each instance logs into the one database, under its own id.
        for (int i = 0; i < kInstances; ++i) {
            stores[std::size_t(i)]->appendRequest(makeRecord(i));
            stores[std::size_t(i)]->flush();
        }
        QCOMPARE(raw.value("SELECT count(DISTINCT instance_id) FROM requests WHERE instance_id <> ''"), QString::number(kInstances));
        QCOMPARE(stores[1]->requestCount(), qint64(kInstances + 1));
        // A store opened later finds the schema current and runs nothing.
        Store late;
        QVERIFY(late.open(url));
        QCOMPARE(raw.value("SELECT count(*) FROM gatehouse_schema"), QString::number(steps.size()));
    }

    void postgresRefusesANewerSchemaOrAnotherApplication()
    {
        if (!pg())
            QSKIP("PostgreSQL only");
        const QString newer = freshPath();
        {
            Store store;
            QVERIFY(store.open(newer));
        }
        {
            RawDb raw(newer);
            QVERIFY(raw.exec(qPrintable(QStringLiteral("INSERT INTO gatehouse_schema (version, description) VALUES (%1, 'future')")
                                            .arg(store::postgres::latestSchemaVersion() + 1))));
        }
        Store store;
        QString error;
        QVERIFY(!store.open(newer, &error));
        QVERIFY2(error.contains(QLatin1String("newer than this version")), qPrintable(error));
        QVERIFY(!store.isOpen());

        const QString foreign = freshPath();
        {
            RawDb raw(foreign);
            QVERIFY(raw.exec("CREATE TABLE contacts (name TEXT)"));
        }
        QVERIFY(!store.open(foreign, &error));
        QVERIFY2(error.contains(QLatin1String("another application")), qPrintable(error));
        RawDb raw(foreign);
        QCOMPARE(raw.value("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"), QStringLiteral("1"));
    }

    // An unreachable server is a clear error that never shows the URL's password.
    void postgresRefusesAnUnreachableServer()
    {
        if (!pg())
            QSKIP("PostgreSQL only");
        QTcpServer probe; // a port nobody listens on once closed
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 port = probe.serverPort();
        probe.close();
        Store store;
        QString error;
        QElapsedTimer clock;
        clock.start();
        QVERIFY(!store.open(QStringLiteral("postgres://gatehouse:s3cretpw@127.0.0.1:%1/team").arg(port), &error));
        QVERIFY2(clock.elapsed() < 10'000, "connect_timeout bounds the wait");
        QVERIFY2(error.contains(QLatin1String("cannot connect")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1String("s3cretpw")), qPrintable(error));
        QVERIFY(!store.isOpen());
        QCOMPARE(store.requestCount(), qint64(0));
        QCOMPARE(store.keys(), QList<StoredKey>{});
    }

    // Every table of the schema is a log table or a kept one (or the schema's own list), and
    // clearLog() empties exactly the log's.
    void postgresClearLogCoversEveryTable()
    {
        if (!pg())
            QSKIP("PostgreSQL only");
        const QString url = freshPath();
        Store store;
        QVERIFY(store.open(url));
        RawDb raw(url);
        const auto tables = raw.column("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                                       "ORDER BY tablename");
        QVERIFY(tables);
        // budget_leases: the team's budget ledger (PostgreSQL only), neither log nor configuration.
        QStringList expected = Store::logTables() + Store::keptTables()
            + QStringList{QStringLiteral("gatehouse_schema"), QStringLiteral("budget_leases")};
        expected.sort();
        QStringList got = *tables;
        got.sort();
        QCOMPARE(got, expected);

        StoredKey key;
        key.name = QStringLiteral("scripts");
        key.secretHash = hashOf('c');
        QVERIFY(store.saveKey(key) > 0);
        RequestRecord r = makeRecord(1);
        r.attemptLog = {AttemptRecord{1, QStringLiteral("openai/gpt"), QStringLiteral("openai"), AttemptRecord::Outcome::Ok, 200, {}, 1, 2}};
        store.appendRequest(r);
        QString error;
        QVERIFY2(store.clearLog(&error), qPrintable(error));
        QCOMPARE(store.requestCount(), qint64(0));
        QCOMPARE(raw.value("SELECT count(*) FROM attempts"), QStringLiteral("0"));
        QCOMPARE(store.keys().size(), 1);
    }
};

int main(int argc, char **argv)
{
    if (qEnvironmentVariableIsSet(kChildDbEnv)) {
        QCoreApplication app(argc, argv);
        return runCrashChild(qEnvironmentVariable(kChildDbEnv), qEnvironmentVariable(kChildModeEnv));
    }
    QCoreApplication app(argc, argv);
    QTEST_SET_MAIN_SOURCE_PATH
    // Every case once on SQLite, then once more on a PostgreSQL server started here (the same suite
    // for both back-ends). Without PostgreSQL installed the second run is skipped, saying so.
    return test::execOnBothBackEnds<TestStore>("the store tests", argc, argv);
}

#include "tst_store.moc"
