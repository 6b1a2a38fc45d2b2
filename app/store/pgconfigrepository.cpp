#include "store/pgconfigrepository.h"
#include "core/logging.h"
#include "store/configops.h"

namespace gh {

namespace {

using pg::Statement;

// The control-plane connection for store/configops.h (mutex held, usable()).
store::PgConfigDb db(const PgControlConnection &c)
{
    return {&c.conn};
}

// DELETE FROM <table> WHERE id = ?1: true when a row went.
bool removeById(PgControlConnection &c, const char *sql, const QString &id, const char *what)
{
    std::lock_guard lock(c.mutex);
    if (!c.usable(what))
        return false;
    QString why;
    const qint64 removed = store::removeById(db(c), sql, id, &why);
    if (removed < 0)
        qCWarning(lcStore) << what << id << "failed:" << why;
    return removed > 0;
}

} // namespace

// --- keys ---

QList<StoredKey> PgConfigRepository::keys() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading keys"))
        return {};
    return store::keys(db(m_conn));
}

std::optional<StoredKey> PgConfigRepository::keyByName(const QString &name) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading a key"))
        return std::nullopt;
    return store::keyByName(db(m_conn), name);
}

qint64 PgConfigRepository::saveKey(const StoredKey &key)
{
    if (!store::keyCanBeSaved(key))
        return 0;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a key"))
        return 0;
    return store::saveKey(db(m_conn), key);
}

// --- providers and models ---

QList<ProviderConfig> PgConfigRepository::providers() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading providers"))
        return {};
    return store::providers(db(m_conn));
}

bool PgConfigRepository::saveProvider(const ProviderConfig &provider)
{
    if (!store::hasId(provider.id, "provider"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a provider"))
        return false;
    return store::saveProvider(db(m_conn), provider);
}

bool PgConfigRepository::removeProvider(const QString &id)
{
    return removeById(m_conn, "DELETE FROM providers WHERE id = ?1", id, "removing provider");
}

QList<ModelConfig> PgConfigRepository::models() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading models"))
        return {};
    return store::models(db(m_conn));
}

bool PgConfigRepository::saveModel(const ModelConfig &model)
{
    if (!store::hasId(model.id, "model"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a model"))
        return false;
    return store::saveModel(db(m_conn), model);
}

bool PgConfigRepository::removeModel(const QString &id)
{
    return removeById(m_conn, "DELETE FROM models WHERE id = ?1", id, "removing model");
}

// --- routes ---

QList<RouteConfig> PgConfigRepository::routes() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading routes"))
        return {};
    return store::routes(db(m_conn));
}

bool PgConfigRepository::saveRoute(const RouteConfig &route)
{
    if (!store::hasId(route.id, "route"))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a route"))
        return false;
    return store::saveRoute(db(m_conn), route);
}

bool PgConfigRepository::removeRoute(const QString &id)
{
    return removeById(m_conn, "DELETE FROM routes WHERE id = ?1", id, "removing route");
}

// --- Compare votes ---

bool PgConfigRepository::saveRoundVotes(const QString &roundId, const QList<CompareVote> &votes)
{
    if (!store::votesCanBeSaved(roundId, votes))
        return false;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving votes"))
        return false;
    return store::saveRoundVotes(db(m_conn), roundId, votes);
}

QHash<QString, VoteStats> PgConfigRepository::voteStats() const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading votes"))
        return {};
    return store::voteStats(db(m_conn));
}

// --- settings ---

QString PgConfigRepository::setting(const QString &key, const QString &fallback) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading a setting"))
        return fallback;
    return store::setting(db(m_conn), key, fallback);
}

void PgConfigRepository::setSetting(const QString &key, const QString &value)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a setting")) {
        qCWarning(lcStore) << "setting" << key << "not saved: the store is not open or not reachable";
        return;
    }
    store::setSetting(db(m_conn), key, value);
}

// --- guardrail trips ---

bool PgConfigRepository::saveGuardrailTrip(const GuardrailTripRow &t)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a guardrail trip"))
        return false;
    return store::saveGuardrailTrip(db(m_conn), t);
}

bool PgConfigRepository::endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("ending guardrail trips"))
        return false;
    return store::endGuardrailTrips(db(m_conn), ids, atMs, by);
}

bool PgConfigRepository::keepGuardrailTrip(qint64 id, qint64 atMs)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("keeping a guardrail trip"))
        return false;
    return store::keepGuardrailTrip(db(m_conn), id, atMs);
}

QList<GuardrailTripRow> PgConfigRepository::guardrailTripsToRestore(int latest, qint64 *maxId) const
{
    std::lock_guard lock(m_conn.mutex);
    if (maxId)
        *maxId = 0;
    if (!m_conn.usable("reading guardrail trips"))
        return {};
    return store::guardrailTripsToRestore(db(m_conn), latest, maxId);
}

// --- audit trail ---

bool PgConfigRepository::appendAudit(const AuditEntry &entry)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("recording a change in the audit trail"))
        return false;
    // A limit slider saves the key at every step of a drag: steps of the same key from the same
    // origin within a few seconds are one change (mergeAuditStep), as on SQLite. The row is
    // read and replaced under a row lock so two instances dragging at once do not lose a step.
    if (entry.action == QLatin1String("key.limits") && mergeLimitStep(entry))
        return true;
    return store::insertAudit(db(m_conn), entry);
}

bool PgConfigRepository::mergeLimitStep(const AuditEntry &entry)
{
    if (!m_conn.conn.exec("BEGIN"))
        return false;
    const auto merged = store::mergedWithLatestAudit(db(m_conn), entry, " FOR UPDATE");
    if (!merged) {
        m_conn.conn.exec("ROLLBACK");
        return false;
    }
    QString why;
    if (!store::updateMergedAudit(db(m_conn), *merged, &why) || !m_conn.conn.exec("COMMIT")) {
        qCWarning(lcStore) << "merging a limit change in the audit trail failed:" << why;
        m_conn.conn.exec("ROLLBACK");
        return false;
    }
    return true;
}

QList<AuditEntry> PgConfigRepository::auditEntries(int limit, int offset) const
{
    QList<AuditEntry> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading the audit trail"))
        return out;
    Statement s(m_conn.conn,
        QByteArray("SELECT ") + store::kAuditColumns + " FROM audit_log ORDER BY id DESC LIMIT ?1 OFFSET ?2");
    s.bindInt(1, qMax(0, limit));
    s.bindInt(2, qMax(0, offset));
    while (s.next())
        out.append(store::readAuditEntry(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading the audit trail failed:" << s.error();
    return out;
}

} // namespace gh
