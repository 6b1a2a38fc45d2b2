#include "store/sqliteconfigrepository.h"
#include "core/logging.h"
#include "store/configops.h"
#include "store/sqlite.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <sqlite3.h>
#include <cmath>
#include <limits>

namespace gh {

namespace {

using sqlite::Statement;
using sqlite::exec;

// The control-plane connection for store/configops.h (mutex held, store open).
store::SqliteConfigDb db(const SqliteControlConnection &c)
{
    return {c.db};
}

// DELETE FROM <table> WHERE id = ?1: true when a row went.
bool removeById(SqliteControlConnection &c, const char *sql, const QString &id, const char *what)
{
    std::lock_guard lock(c.mutex);
    if (!c.db)
        return false;
    QString why;
    const qint64 removed = store::removeById(db(c), sql, id, &why);
    if (removed < 0)
        qCWarning(lcStore) << what << id << "not removed:" << why;
    return removed > 0;
}

} // namespace

// --- keys ---

QList<StoredKey> SqliteConfigRepository::keys() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return store::keys(db(m_conn));
}

std::optional<StoredKey> SqliteConfigRepository::keyByName(const QString &name) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return std::nullopt;
    return store::keyByName(db(m_conn), name);
}

qint64 SqliteConfigRepository::saveKey(const StoredKey &key)
{
    if (!store::keyCanBeSaved(key))
        return 0;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return 0;
    return store::saveKey(db(m_conn), key);
}

// --- providers and models ---

QList<ProviderConfig> SqliteConfigRepository::providers() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return store::providers(db(m_conn));
}

bool SqliteConfigRepository::saveProvider(const ProviderConfig &provider)
{
    if (!store::hasId(provider.id, "provider"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::saveProvider(db(m_conn), provider);
}

bool SqliteConfigRepository::removeProvider(const QString &id)
{
    return removeById(m_conn, "DELETE FROM providers WHERE id = ?1", id, "provider");
}

QList<ModelConfig> SqliteConfigRepository::models() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return store::models(db(m_conn));
}

bool SqliteConfigRepository::saveModel(const ModelConfig &model)
{
    if (!store::hasId(model.id, "model"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::saveModel(db(m_conn), model);
}

bool SqliteConfigRepository::removeModel(const QString &id)
{
    return removeById(m_conn, "DELETE FROM models WHERE id = ?1", id, "model");
}

// --- routes ---

QList<RouteConfig> SqliteConfigRepository::routes() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return store::routes(db(m_conn));
}

bool SqliteConfigRepository::saveRoute(const RouteConfig &route)
{
    if (!store::hasId(route.id, "route"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::saveRoute(db(m_conn), route);
}

bool SqliteConfigRepository::removeRoute(const QString &id)
{
    return removeById(m_conn, "DELETE FROM routes WHERE id = ?1", id, "route");
}

// --- Compare votes ---

bool SqliteConfigRepository::saveRoundVotes(const QString &roundId, const QList<CompareVote> &votes)
{
    if (roundId.isEmpty()) {
        qCWarning(lcStore) << "votes not saved: empty round id";
        return false;
    }
    for (const CompareVote &v : votes) {
        if (v.modelId.isEmpty() || v.result < -1 || v.result > 1) {
            qCWarning(lcStore) << "votes of round" << roundId << "not saved: a vote has no model or a result other than -1, 0, 1";
            return false;
        }
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    QString why;
    if (!exec(m_conn.db, "BEGIN IMMEDIATE", &why)) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << why;
        return false;
    }
    auto rollback = [&](const QString &error) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << error;
        exec(m_conn.db, "ROLLBACK");
        return false;
    };
    {
        Statement del(m_conn.db, "DELETE FROM votes WHERE round_id = ?1");
        del.bindText(1, roundId);
        if (!del.exec())
            return rollback(del.error());
        Statement ins(m_conn.db, "INSERT INTO votes (round_id, model_id, result, created_at_ms) VALUES (?1, ?2, ?3, ?4)");
        for (const CompareVote &v : votes) {
            ins.bindText(1, roundId);
            ins.bindText(2, v.modelId);
            ins.bindInt(3, v.result);
            ins.bindInt(4, v.createdAtMs);
            const bool ok = ins.exec(); // a model twice in one round fails here
            const QString error = ok ? QString() : ins.error();
            ins.reset();
            if (!ok)
                return rollback(error);
        }
    }
    if (!exec(m_conn.db, "COMMIT", &why))
        return rollback(why);
    return true;
}

QHash<QString, VoteStats> SqliteConfigRepository::voteStats() const
{
    QHash<QString, VoteStats> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, "SELECT model_id, count(*), COALESCE(SUM(result = 1), 0), COALESCE(SUM(result = -1), 0) "
                           "FROM votes WHERE result BETWEEN -1 AND 1 GROUP BY model_id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading vote statistics failed:" << s.error();
    return out;
}

// --- settings ---

QString SqliteConfigRepository::setting(const QString &key, const QString &fallback) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return fallback;
    Statement s(m_conn.db, "SELECT value FROM settings WHERE key = ?1");
    s.bindText(1, key);
    const int rc = s.step();
    if (rc == SQLITE_ROW)
        return s.text(0);
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading setting" << key << "failed:" << s.error();
    return fallback;
}

void SqliteConfigRepository::setSetting(const QString &key, const QString &value)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db) {
        qCWarning(lcStore) << "setting" << key << "not saved: the store is not open";
        return;
    }
    Statement s(m_conn.db, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    s.bindText(1, key);
    s.bindText(2, value);
    if (!s.exec())
        qCWarning(lcStore) << "setting" << key << "not saved:" << s.error();
}

} // namespace gh

namespace gh {

// --- guardrail trips ---

namespace {


} // namespace



bool SqliteConfigRepository::saveGuardrailTrip(const GuardrailTripRow &t)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db) {
        qCWarning(lcStore) << "guardrail trip" << t.id << "not saved: the store is not open";
        return false;
    }
    Statement s(m_conn.db, QByteArray("INSERT INTO guardrail_trips (") + store::kTripColumns
                               + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
                                 "ON CONFLICT (id) DO NOTHING");
    s.bindInt(1, t.id);
    s.bindInt(2, t.atMs);
    s.bindInt(3, t.keyId);
    s.bindText(4, t.keyName);
    s.bindText(5, t.session);
    s.bindText(6, t.detector);
    s.bindText(7, t.action);
    s.bindText(8, t.requestId);
    s.bindText(9, t.summary);
    s.bindText(10, t.evidence.isEmpty() ? QStringLiteral("{}") : QString::fromUtf8(t.evidence));
    s.bindInt(11, t.costSoFar);
    s.bindBool(12, t.active);
    s.bindInt(13, t.endedAtMs);
    s.bindText(14, t.endedBy);
    s.bindInt(15, t.keptAtMs);
    if (!s.exec()) {
        qCWarning(lcStore) << "guardrail trip" << t.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool SqliteConfigRepository::endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "UPDATE guardrail_trips SET active = 0, ended_at_ms = ?2, ended_by = ?3 WHERE id = ?1 AND active = 1");
    bool ok = true;
    for (const qint64 id : ids) {
        s.bindInt(1, id);
        s.bindInt(2, atMs);
        s.bindText(3, by);
        if (!s.exec()) {
            qCWarning(lcStore) << "ending guardrail trip" << id << "failed:" << s.error();
            ok = false;
        }
        s.reset();
    }
    return ok;
}

bool SqliteConfigRepository::keepGuardrailTrip(qint64 id, qint64 atMs)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "UPDATE guardrail_trips SET kept_at_ms = ?2 WHERE id = ?1 AND active = 1");
    s.bindInt(1, id);
    s.bindInt(2, atMs);
    if (!s.exec()) {
        qCWarning(lcStore) << "keeping guardrail trip" << id << "failed:" << s.error();
        return false;
    }
    return sqlite3_changes(m_conn.db) > 0;
}

QList<GuardrailTripRow> SqliteConfigRepository::guardrailTripsToRestore(int latest, qint64 *maxId) const
{
    QList<GuardrailTripRow> out;
    std::lock_guard lock(m_conn.mutex);
    if (maxId)
        *maxId = 0;
    if (!m_conn.db)
        return out;
    if (maxId)
        *maxId = sqlite::scalar(m_conn.db, "SELECT COALESCE(MAX(id), 0) FROM guardrail_trips");
    Statement s(m_conn.db, guardrailTripSelect("WHERE active = 1 OR id IN (SELECT id FROM guardrail_trips ORDER BY id DESC LIMIT ?1) "
                                               "ORDER BY id"));
    s.bindInt(1, qMax(0, latest));
    while (s.next())
        out.append(readGuardrailTrip(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading the guardrail trips failed:" << s.error();
    return out;
}

bool SqliteConfigRepository::appendAudit(const AuditEntry &entry)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    // A limit slider saves the key at every step of a drag: one change (mergeAuditStep).
    if (entry.action == QLatin1String("key.limits")) {
        Statement last(m_conn.db, "SELECT id, at_ms, origin, action, subject, old_value, new_value FROM audit_log ORDER BY id DESC LIMIT 1");
        AuditEntry merged;
        if (last.next()
            && mergeAuditStep(AuditEntry{last.integer(0), last.integer(1), last.text(2), last.text(3), last.text(4), last.text(5), last.text(6)},
                              entry, &merged)) {
            Statement merge(m_conn.db, "UPDATE audit_log SET at_ms = ?2, old_value = ?3, new_value = ?4 WHERE id = ?1");
            merge.bindInt(1, merged.id);
            merge.bindInt(2, merged.atMs);
            merge.bindText(3, merged.oldValue);
            merge.bindText(4, merged.newValue);
            return merge.exec();
        }
    }
    Statement s(m_conn.db, "INSERT INTO audit_log (at_ms, origin, action, subject, old_value, new_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.bindInt(1, entry.atMs);
    s.bindText(2, entry.origin);
    s.bindText(3, entry.action);
    s.bindText(4, entry.subject);
    s.bindText(5, entry.oldValue);
    s.bindText(6, entry.newValue);
    if (!s.exec()) {
        qCWarning(lcStore) << "recording a change in the audit trail failed:" << s.error();
        return false;
    }
    return true;
}

QList<AuditEntry> SqliteConfigRepository::auditEntries(int limit, int offset) const
{
    QList<AuditEntry> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, QByteArray("SELECT id, at_ms, origin, action, subject, old_value, new_value FROM audit_log "
                                      "ORDER BY id DESC LIMIT ?1 OFFSET ?2"),
                QList<sqlite::Value>{qint64(limit), qint64(offset)});
    while (s.next())
        out.append(AuditEntry{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    return out;
}

} // namespace gh
