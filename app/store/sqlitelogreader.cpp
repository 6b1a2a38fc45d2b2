#include "store/sqlitelogreader.h"
#include "core/logging.h"
#include "store/requestcodec.h"
#include "store/sqlite.h"
#include "store/store.h"
#include <sqlite3.h>
#include <algorithm>

namespace gh {

namespace {

using sqlite::Statement;
using sqlite::exec;

std::optional<AttemptRecord::Outcome> outcomeFromDb(const QString &s)
{
    for (auto o : {AttemptRecord::Outcome::Ok, AttemptRecord::Outcome::Failed, AttemptRecord::Outcome::Skipped}) {
        if (s == QLatin1String(outcomeName(o)))
            return o;
    }
    return std::nullopt;
}

} // namespace

QList<AttemptRecord> SqliteLogReader::readAttempts(const QString &requestId) const
{
    QList<AttemptRecord> out;
    Statement s(m_conn.db, "SELECT idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms "
                        "FROM attempts WHERE request_seq = (SELECT seq FROM requests WHERE id = ?1) ORDER BY idx");
    s.bindText(1, requestId);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        AttemptRecord a;
        a.index = int(s.integer(0));
        a.modelId = s.text(1);
        a.provider = s.text(2);
        const auto outcome = outcomeFromDb(s.text(3));
        if (!outcome) {
            qCWarning(lcStore) << "attempt" << a.index << "of request" << requestId << "has an unknown outcome" << s.text(3);
            continue;
        }
        a.outcome = *outcome;
        a.status = int(s.integer(4));
        a.error = s.text(5);
        a.startedAtMs = s.integer(6);
        a.latencyMs = s.integer(7);
        out.append(a);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading the attempts of request" << requestId << "failed:" << s.error();
    return out;
}

std::optional<RequestRecord> SqliteLogReader::request(const QString &id) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return std::nullopt;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kRequestColumns + " FROM requests WHERE id = ?1");
    s.bindText(1, id);
    const int rc = s.step();
    if (rc == SQLITE_ROW) {
        RequestRecord r = store::readRequest(s);
        r.attemptLog = readAttempts(id);
        return r;
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading request" << id << "failed:" << s.error();
    return std::nullopt;
}

QList<AttemptRecord> SqliteLogReader::attempts(const QString &requestId) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return readAttempts(requestId);
}

qint64 SqliteLogReader::requestCount() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return 0;
    Statement s(m_conn.db, "SELECT count(*) FROM requests");
    if (s.step() != SQLITE_ROW) {
        qCWarning(lcStore) << "counting requests failed:" << s.error();
        return 0;
    }
    return s.integer(0);
}

QList<RequestRecord> SqliteLogReader::recentRequests(int limit, int offset) const
{
    QList<RequestRecord> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db || limit <= 0)
        return out;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kRequestColumns
                               + " FROM requests ORDER BY started_at_ms DESC, seq DESC LIMIT ?1 OFFSET ?2");
    s.bindInt(1, limit);
    s.bindInt(2, std::max(0, offset));
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.append(store::readRequest(s));
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading recent requests failed:" << s.error();
    return out;
}

QHash<qint64, KeyOvershoots> SqliteLogReader::overshootsByKey() const
{
    QHash<qint64, KeyOvershoots> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, "SELECT key_id, COUNT(*), SUM(overshoot_nano_usd) FROM requests WHERE overshoot_nano_usd > 0 "
                           "GROUP BY key_id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.insert(s.integer(0), KeyOvershoots{int(s.integer(1)), s.integer(2)});
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "counting the overshoots failed:" << s.error();
    return out;
}

NanoUsd SqliteLogReader::spendSince(qint64 keyId, qint64 sinceMs) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return 0;
    // SUM skips NULL (unpriced) costs.
    Statement s(m_conn.db, "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM requests WHERE key_id = ?1 AND started_at_ms >= ?2");
    s.bindInt(1, keyId);
    s.bindInt(2, sinceMs);
    if (s.step() != SQLITE_ROW) {
        qCWarning(lcStore) << "summing the spend of key" << keyId << "failed:" << s.error();
        return 0;
    }
    return s.integer(0);
}

bool SqliteLogReader::clearLog(QString *error)
{
    QString why;
    QString path;
    {
        std::lock_guard lock(m_conn.mutex);
        if (!m_conn.db) {
            *error = QStringLiteral("the store is not open");
            return false;
        }
        path = m_conn.path;
    }
    // A connection of its own: the control-plane one (and its mutex) stays free for the window while
    // a large log is deleted.
    sqlite3 *db = sqlite::open(path, sqlite::Access::ReadWrite, 10'000, &why);
    if (!db) {
        *error = why;
        return false;
    }
    // Everything that belongs to the log goes with it, in one transaction. The per-row delete
    // triggers of migrations 4 and 18 would make this take minutes on a large log, and the rollups
    // are emptied anyway: they are dropped for the delete and put back as they were.
    QList<QPair<QByteArray, QByteArray>> triggers; // name, sql
    {
        Statement s(db, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
                        "('requests_rollup_delete', 'requests_rollup_sizes_delete')");
        while (s.next())
            triggers.append({s.text(0).toUtf8(), s.text(1).toUtf8()});
    }
    QByteArray sql = "BEGIN IMMEDIATE;";
    for (const auto &trigger : std::as_const(triggers))
        sql += "DROP TRIGGER " + trigger.first + ';';
    for (const QString &table : Store::logTables())
        sql += "DELETE FROM " + table.toUtf8() + ';';
    for (const auto &trigger : std::as_const(triggers))
        sql += trigger.second + ';';
    sql += "COMMIT;";
    const bool ok = exec(db, sql.constData(), &why);
    if (!ok)
        exec(db, "ROLLBACK");
    sqlite::close(db);
    if (!ok)
        *error = why;
    return ok;
}

bool SqliteLogReader::forgetKey(qint64 keyId, ForgottenKey *counts, QString *error)
{
    QString why;
    QString path;
    {
        std::lock_guard lock(m_conn.mutex);
        if (!m_conn.db) {
            *error = QStringLiteral("the store is not open");
            return false;
        }
        path = m_conn.path;
    }
    sqlite3 *db = sqlite::open(path, sqlite::Access::ReadWrite, 10'000, &why);
    if (!db) {
        *error = why;
        return false;
    }
    ForgottenKey c;
    bool ok = exec(db, "BEGIN IMMEDIATE", &why);
    auto count = [&](const char *sql) {
        if (!ok)
            return qint64(0);
        bool good = false;
        const qint64 n = sqlite::scalar(db, QByteArray(sql), {keyId}, &good);
        ok = good;
        if (!good)
            why = sqlite::errorOf(db);
        return n;
    };
    auto run = [&](const char *sql) {
        if (!ok)
            return;
        Statement s(db, QByteArray(sql), QList<sqlite::Value>{keyId});
        ok = s.exec();
        if (!ok)
            why = s.error();
    };
    c.requests = count("SELECT count(*) FROM requests WHERE key_id = ?1");
    c.sessions = count("SELECT count(DISTINCT session_id) FROM requests WHERE key_id = ?1 AND session_id <> ''");
    c.attempts = count("SELECT count(*) FROM attempts WHERE request_seq IN (SELECT seq FROM requests WHERE key_id = ?1)");
    c.trips = count("SELECT count(*) FROM guardrail_trips WHERE key_id = ?1");
    c.pending = count("SELECT count(*) FROM pending_requests WHERE key_id = ?1");
    const qint64 keys = count("SELECT count(*) FROM keys WHERE id = ?1");
    if (ok && keys == 0) {
        ok = false;
        why = QStringLiteral("no key has id %1").arg(keyId);
    }
    run("DELETE FROM attempts WHERE request_seq IN (SELECT seq FROM requests WHERE key_id = ?1)");
    run("DELETE FROM prompt_prefixes WHERE key_id = ?1");
    // The delete trigger (migration 4) subtracts each row from its rollups; what is left of the
    // key's rollup rows (zeros) goes too.
    run("DELETE FROM requests WHERE key_id = ?1");
    run("DELETE FROM rollups WHERE key_id = ?1");
    run("DELETE FROM rollup_latency WHERE key_id = ?1");
    run("DELETE FROM rollup_sizes WHERE key_id = ?1");
    run("DELETE FROM pending_requests WHERE key_id = ?1");
    run("DELETE FROM guardrail_trips WHERE key_id = ?1");
    run("DELETE FROM keys WHERE id = ?1");
    // The request journals of this run (and of one that stops before its next clean close) still
    // hold the key's rows; their replay at the next start skips the keys listed here (key ids are
    // never reused: AUTOINCREMENT).
    run("INSERT INTO settings (key, value) VALUES ('forgotten_keys', json_array(?1)) "
        "ON CONFLICT (key) DO UPDATE SET value = json_insert(value, '$[#]', ?1)");
    if (ok)
        ok = exec(db, "COMMIT", &why);
    if (!ok)
        exec(db, "ROLLBACK");
    sqlite::close(db);
    if (!ok) {
        *error = why;
        return false;
    }
    *counts = c;
    return true;
}

} // namespace gh
