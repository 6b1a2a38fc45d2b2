// Clearing the request log (Settings → Clear): the rows, their attempts, the prompt-prefix hashes
// and the rollups behind Rankings and Cache all go, in one transaction, and the rollup triggers are
// still there afterwards (new rows are counted again, deleted rows taken out again).
#include "backend.h"
#include "gateway/gateway.h"
#include "uitestfixture.h"

#include <QSignalSpy>
#include <QTest>

#include <sqlite3.h>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

qint64 scalar(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *st = nullptr;
    qint64 v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

RequestRecord routed(const QString &id, qint64 at)
{
    RequestRecord r = record(id, at, 1, QStringLiteral("alpha"), QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai"), 0.5);
    r.route = QStringLiteral("smart");
    r.modelId = QStringLiteral("openai/gpt-4.1");
    AttemptRecord failed;
    failed.index = 1;
    failed.modelId = QStringLiteral("anthropic/claude-sonnet-4");
    failed.provider = QStringLiteral("anthropic");
    failed.status = 529;
    failed.error = QStringLiteral("overloaded");
    failed.startedAtMs = at;
    AttemptRecord ok = failed;
    ok.index = 2;
    ok.modelId = r.modelId;
    ok.provider = r.provider;
    ok.outcome = AttemptRecord::Outcome::Ok;
    ok.status = 200;
    ok.error.clear();
    r.attemptLog = {failed, ok};
    r.attempts = 2;
    r.promptBlocks = {11, 22, 33};
    r.promptSystemBytes = 1500;
    return r;
}

} // namespace

class TestClearLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clearsEverythingThatBelongsToTheLog()
    {
        UiFixture fx;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        QVERIFY(fx.prepare({key(1, QStringLiteral("alpha"))}, {routed(QStringLiteral("req_1"), now - 7200'000), routed(QStringLiteral("req_2"), now - 60'000)}));
        QVERIFY(fx.start());
        const QString db = fx.dbPath();
        QCOMPARE(scalar(db, "SELECT COUNT(*) FROM requests"), 2);
        QCOMPARE(scalar(db, "SELECT COUNT(*) FROM attempts"), 4);
        QCOMPARE(scalar(db, "SELECT COUNT(*) FROM prompt_prefixes"), 2);
        QVERIFY(scalar(db, "SELECT COUNT(*) FROM rollups") > 0);
        QVERIFY(scalar(db, "SELECT COUNT(*) FROM rollup_latency") > 0);

        bool finished = false;
        bool ok = false;
        fx.backend->clearLog([&](bool success, const QString &) {
            finished = true;
            ok = success;
        });
        QTRY_VERIFY_WITH_TIMEOUT(finished, 10000);
        QVERIFY(ok);
        for (const char *table : {"requests", "attempts", "prompt_prefixes", "rollups", "rollup_latency"})
            QCOMPARE(scalar(db, (QByteArray("SELECT COUNT(*) FROM ") + table).constData()), 0);
        QCOMPARE(scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'requests_rollup_delete'"), 1);

        // New traffic is rolled up again, and a later delete still takes it out.
        fx.append({routed(QStringLiteral("req_3"), now - 1000)});
        QCOMPARE(scalar(db, "SELECT SUM(requests) FROM rollups WHERE grain = 1"), 1);
        fx.gateway->store().flush();
        sqlite3 *w = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(db).constData(), &w), SQLITE_OK);
        QCOMPARE(sqlite3_exec(w, "DELETE FROM requests WHERE id = 'req_3'", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(w);
        QCOMPARE(scalar(db, "SELECT COALESCE(SUM(requests), 0) FROM rollups WHERE grain = 1"), 0);
    }
};

QTEST_MAIN(TestClearLog)
#include "tst_clearlog.moc"
