#include "store/pglogreader.h"
#include "core/logging.h"
#include "store/requestcodec.h"
#include "store/store.h"
#include <algorithm>

namespace gh {

namespace {

using pg::Statement;

std::optional<AttemptRecord::Outcome> outcomeFromDb(const QString &s)
{
    for (auto o : {AttemptRecord::Outcome::Ok, AttemptRecord::Outcome::Failed, AttemptRecord::Outcome::Skipped}) {
        if (s == QLatin1String(outcomeName(o)))
            return o;
    }
    return std::nullopt;
}

} // namespace

bool PgControlConnection::usable(const char *what) const
{
    if (!open)
        return false;
    QString why;
    if (conn.ensure(&why)) {
        backendPid = conn.backendPid();
        return true;
    }
    qCWarning(lcStore).noquote() << what << "failed:" << why;
    return false;
}

QList<AttemptRecord> PgLogReader::readAttempts(const QString &requestId) const
{
    QList<AttemptRecord> out;
    Statement s(m_conn.conn, "SELECT idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms "
                             "FROM attempts WHERE request_seq = (SELECT seq FROM requests WHERE id = ?1) ORDER BY idx");
    s.bindText(1, requestId);
    while (s.next()) {
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
    if (!s.ok())
        qCWarning(lcStore) << "reading the attempts of request" << requestId << "failed:" << s.error();
    return out;
}

std::optional<RequestRecord> PgLogReader::request(const QString &id) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading a request"))
        return std::nullopt;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kRequestColumns + " FROM requests WHERE id = ?1");
    s.bindText(1, id);
    if (s.next()) {
        RequestRecord r = store::readRequest(s);
        r.attemptLog = readAttempts(id);
        return r;
    }
    if (!s.ok())
        qCWarning(lcStore) << "reading request" << id << "failed:" << s.error();
    return std::nullopt;
}

QList<AttemptRecord> PgLogReader::attempts(const QString &requestId) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading attempts"))
        return {};
    return readAttempts(requestId);
}

qint64 PgLogReader::requestCount() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("counting requests"))
        return 0;
    bool ok = false;
    const qint64 n = pg::scalar(m_conn.conn, "SELECT count(*) FROM requests", {}, &ok);
    if (!ok)
        qCWarning(lcStore) << "counting requests failed:" << m_conn.conn.lastError();
    return n;
}

QList<RequestRecord> PgLogReader::recentRequests(int limit, int offset) const
{
    QList<RequestRecord> out;
    std::lock_guard lock(m_conn.mutex);
    if (limit <= 0 || !m_conn.usable("reading recent requests"))
        return out;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kRequestColumns
                                 + " FROM requests ORDER BY started_at_ms DESC, seq DESC LIMIT ?1 OFFSET ?2");
    s.bindInt(1, limit);
    s.bindInt(2, std::max(0, offset));
    while (s.next())
        out.append(store::readRequest(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading recent requests failed:" << s.error();
    return out;
}

QHash<qint64, KeyOvershoots> PgLogReader::overshootsByKey() const
{
    QHash<qint64, KeyOvershoots> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("counting the overshoots"))
        return out;
    Statement s(m_conn.conn, "SELECT key_id, COUNT(*), SUM(overshoot_nano_usd) FROM requests WHERE overshoot_nano_usd > 0 "
                             "GROUP BY key_id");
    while (s.next())
        out.insert(s.integer(0), KeyOvershoots{int(s.integer(1)), s.integer(2)});
    if (!s.ok())
        qCWarning(lcStore) << "counting the overshoots failed:" << s.error();
    return out;
}

NanoUsd PgLogReader::spendSince(qint64 keyId, qint64 sinceMs) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("summing spend"))
        return 0;
    // SUM skips NULL (unpriced) costs.
    bool ok = false;
    const qint64 sum = pg::scalar(m_conn.conn,
                                  "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM requests WHERE key_id = ?1 AND started_at_ms >= ?2",
                                  {keyId, sinceMs}, &ok);
    if (!ok)
        qCWarning(lcStore) << "summing the spend of key" << keyId << "failed:" << m_conn.conn.lastError();
    return sum;
}

bool PgLogReader::clearLog(QString *error)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.open) {
        *error = QStringLiteral("the store is not open");
        return false;
    }
    if (!m_conn.conn.ensure(error))
        return false;
    // One transaction: the team sees the whole log or none of it.
    QByteArray sql = "BEGIN;";
    for (const QString &table : Store::logTables())
        sql += "DELETE FROM " + table.toUtf8() + ';';
    sql += "COMMIT;";
    if (m_conn.conn.exec(sql.constData(), error))
        return true;
    m_conn.conn.exec("ROLLBACK");
    return false;
}

namespace {

// The counts of what forgetKey() deletes, read in its transaction (mutex held). False and *error
// when a count failed or the key does not exist.
bool countForgotten(pg::Connection &conn, qint64 keyId, ForgottenKey *c, QString *error)
{
    bool ok = true;
    auto count = [&](const char *sql) {
        bool good = false;
        const qint64 n = ok ? pg::scalar(conn, QByteArray(sql), {keyId}, &good) : 0;
        if (ok && !good)
            *error = conn.lastError();
        ok = ok && good;
        return n;
    };
    c->requests = count("SELECT count(*) FROM requests WHERE key_id = ?1");
    c->sessions = count("SELECT count(DISTINCT session_id) FROM requests WHERE key_id = ?1 AND session_id <> ''");
    c->attempts = count("SELECT count(*) FROM attempts WHERE request_seq IN (SELECT seq FROM requests WHERE key_id = ?1)");
    c->trips = count("SELECT count(*) FROM guardrail_trips WHERE key_id = ?1");
    c->pending = count("SELECT count(*) FROM pending_requests WHERE key_id = ?1");
    // FOR UPDATE: another instance saving this key waits for the delete, then finds no row.
    const qint64 keys = count("SELECT count(*) FROM (SELECT id FROM keys WHERE id = ?1 FOR UPDATE) AS k");
    if (ok && keys == 0) {
        *error = QStringLiteral("no key has id %1").arg(keyId);
        return false;
    }
    return ok;
}

} // namespace

bool PgLogReader::forgetKey(qint64 keyId, ForgottenKey *counts, QString *error)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.open) {
        *error = QStringLiteral("the store is not open");
        return false;
    }
    if (!m_conn.conn.ensure(error) || !m_conn.conn.exec("BEGIN", error))
        return false;
    ForgottenKey c;
    bool ok = countForgotten(m_conn.conn, keyId, &c, error);
    // The key's rollup rows are its own (keyed by key_id): they go whole with its request rows.
    for (const char *sql : {"DELETE FROM attempts WHERE request_seq IN (SELECT seq FROM requests WHERE key_id = ?1)",
                            "DELETE FROM prompt_prefixes WHERE key_id = ?1", "DELETE FROM requests WHERE key_id = ?1",
                            "DELETE FROM rollups WHERE key_id = ?1", "DELETE FROM rollup_latency WHERE key_id = ?1",
                            "DELETE FROM rollup_sizes WHERE key_id = ?1", "DELETE FROM pending_requests WHERE key_id = ?1",
                            "DELETE FROM guardrail_trips WHERE key_id = ?1", "DELETE FROM keys WHERE id = ?1"}) {
        if (!ok)
            break;
        Statement s(m_conn.conn, sql);
        s.bindInt(1, keyId);
        ok = s.exec();
        if (!ok)
            *error = s.error();
    }
    if (ok)
        ok = m_conn.conn.exec("COMMIT", error);
    if (!ok) {
        m_conn.conn.exec("ROLLBACK");
        return false;
    }
    *counts = c;
    return true;
}

} // namespace gh
