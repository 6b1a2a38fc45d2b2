#include "store/sqliteconfigrepository.h"
#include "core/logging.h"
#include "store/configops.h"
#include "store/sqlite.h"

namespace gh {

namespace {

using sqlite::Statement;

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
    if (!store::votesCanBeSaved(roundId, votes))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::saveRoundVotes(db(m_conn), roundId, votes);
}

QHash<QString, VoteStats> SqliteConfigRepository::voteStats() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return {};
    return store::voteStats(db(m_conn));
}

// --- settings ---

QString SqliteConfigRepository::setting(const QString &key, const QString &fallback) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return fallback;
    return store::setting(db(m_conn), key, fallback);
}

void SqliteConfigRepository::setSetting(const QString &key, const QString &value)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db) {
        qCWarning(lcStore) << "setting" << key << "not saved: the store is not open";
        return;
    }
    store::setSetting(db(m_conn), key, value);
}

// --- guardrail trips ---

bool SqliteConfigRepository::saveGuardrailTrip(const GuardrailTripRow &t)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db) {
        qCWarning(lcStore) << "guardrail trip" << t.id << "not saved: the store is not open";
        return false;
    }
    return store::saveGuardrailTrip(db(m_conn), t);
}

bool SqliteConfigRepository::endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::endGuardrailTrips(db(m_conn), ids, atMs, by);
}

bool SqliteConfigRepository::keepGuardrailTrip(qint64 id, qint64 atMs)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    return store::keepGuardrailTrip(db(m_conn), id, atMs);
}

QList<GuardrailTripRow> SqliteConfigRepository::guardrailTripsToRestore(int latest, qint64 *maxId) const
{
    std::lock_guard lock(m_conn.mutex);
    if (maxId)
        *maxId = 0;
    if (!m_conn.db)
        return {};
    return store::guardrailTripsToRestore(db(m_conn), latest, maxId);
}

// --- audit trail ---

bool SqliteConfigRepository::appendAudit(const AuditEntry &entry)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    // A limit slider saves the key at every step of a drag: one change (mergeAuditStep).
    if (entry.action == QLatin1String("key.limits")) {
        if (const auto merged = store::mergedWithLatestAudit(db(m_conn), entry))
            return store::updateMergedAudit(db(m_conn), *merged, nullptr);
    }
    return store::insertAudit(db(m_conn), entry);
}

QList<AuditEntry> SqliteConfigRepository::auditEntries(int limit, int offset) const
{
    QList<AuditEntry> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db,
        QByteArray("SELECT ") + store::kAuditColumns + " FROM audit_log ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        QList<sqlite::Value>{qint64(limit), qint64(offset)});
    while (s.next())
        out.append(store::readAuditEntry(s));
    return out;
}

} // namespace gh
