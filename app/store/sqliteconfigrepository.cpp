#include "store/sqliteconfigrepository.h"
#include "core/logging.h"
#include "store/configcodec.h"
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



} // namespace

// --- keys ---

namespace {



} // namespace

QList<StoredKey> SqliteConfigRepository::keys() const
{
    QList<StoredKey> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kKeyColumns + " FROM keys ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        if (auto k = store::readKey(s))
            out.append(*k);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading keys failed:" << s.error();
    return out;
}

std::optional<StoredKey> SqliteConfigRepository::keyByName(const QString &name) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return std::nullopt;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kKeyColumns + " FROM keys WHERE name = ?1");
    s.bindText(1, name);
    const int rc = s.step();
    if (rc == SQLITE_ROW)
        return store::readKey(s);
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading key" << name << "failed:" << s.error();
    return std::nullopt;
}

qint64 SqliteConfigRepository::saveKey(const StoredKey &key)
{
    if (key.name.trimmed().isEmpty()) {
        qCWarning(lcStore) << "key not saved: empty name";
        return 0;
    }
    if (key.secretHash.size() != 32) {
        qCWarning(lcStore) << "key" << key.name << "not saved: the secret hash must be 32 bytes of SHA-256";
        return 0;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return 0;
    const bool insert = key.id == 0;
    Statement s(m_conn.db,
                insert ? "INSERT INTO keys (name, secret_hash, secret_hint, allow_models, limit_day, limit_week, limit_month, "
                         "limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, on_short_budget, "
                         "min_output_tokens, secret_scan, require_policy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16, ?17, ?18, ?19)"
                       : "UPDATE keys SET name = ?1, secret_hash = ?2, secret_hint = ?3, allow_models = ?4, limit_day = ?5, "
                         "limit_week = ?6, limit_month = ?7, limit_total = ?8, allow_unpriced = ?9, paused = ?10, "
                         "revoked = ?11, created_at_ms = ?12, rpm = ?14, tpm = ?15, on_short_budget = ?16, "
                         "min_output_tokens = ?17, secret_scan = ?18, require_policy = ?19 WHERE id = ?13");
    s.bindText(1, key.name);
    s.bindBlob(2, key.secretHash);
    s.bindText(3, key.secretHint);
    s.bindText(4, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(key.allowModels)).toJson(QJsonDocument::Compact)));
    s.bindReal(5, key.limits.dayUsd);
    s.bindReal(6, key.limits.weekUsd);
    s.bindReal(7, key.limits.monthUsd);
    s.bindReal(8, key.limits.totalUsd);
    s.bindBool(9, key.allowUnpriced);
    s.bindBool(10, key.paused);
    s.bindBool(11, key.revoked);
    s.bindInt(12, key.createdAtMs);
    if (!insert)
        s.bindInt(13, key.id);
    s.bindOptInt(14, key.rpm ? std::optional<qint64>(*key.rpm) : std::nullopt);
    s.bindOptInt(15, key.tpm);
    s.bindText(16, shortBudgetName(key.budget.onShortBudget));
    s.bindInt(17, key.budget.minOutputTokens);
    s.bindText(18, secretScanName(key.secretScan));
    s.bindText(19, store::policyJson(key.requirePolicy.toJson()));
    if (!s.exec()) {
        qCWarning(lcStore) << "key" << key.name << "not saved:" << s.error();
        return 0;
    }
    if (insert)
        return sqlite3_last_insert_rowid(m_conn.db);
    if (sqlite3_changes(m_conn.db) != 1) {
        qCWarning(lcStore) << "key" << key.name << "not saved: no key with id" << key.id;
        return 0;
    }
    return key.id;
}

// --- providers and models ---

QList<ProviderConfig> SqliteConfigRepository::providers() const
{
    QList<ProviderConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kProviderColumns + " FROM providers ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        const auto p = store::readProvider(s);
        if (!p)
            continue;
        out.append(*p);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading providers failed:" << s.error();
    return out;
}

bool SqliteConfigRepository::saveProvider(const ProviderConfig &provider)
{
    if (provider.id.isEmpty()) {
        qCWarning(lcStore) << "provider not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "INSERT INTO providers (id, format, base_url, api_key_env, catalog, enabled, rpm, tpm, local, data_policy) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET format = excluded.format, "
                           "local = excluded.local, data_policy = excluded.data_policy, "
                           "base_url = excluded.base_url, api_key_env = excluded.api_key_env, "
                           "catalog = excluded.catalog, enabled = excluded.enabled, rpm = excluded.rpm, tpm = excluded.tpm");
    s.bindText(1, provider.id);
    s.bindText(2, store::formatToDb(provider.format));
    s.bindText(3, provider.baseUrl.toString(QUrl::FullyEncoded));
    s.bindText(4, provider.apiKeyEnv);
    s.bindText(5, provider.catalog);
    s.bindBool(6, provider.enabled);
    s.bindOptInt(7, provider.rpm ? std::optional<qint64>(*provider.rpm) : std::nullopt);
    s.bindOptInt(8, provider.tpm);
    s.bindBool(9, provider.local);
    s.bindText(10, store::policyJson(provider.dataPolicy.toJson()));
    if (!s.exec()) {
        qCWarning(lcStore) << "provider" << provider.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool SqliteConfigRepository::removeProvider(const QString &id)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "DELETE FROM providers WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "provider" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(m_conn.db) > 0;
}

QList<ModelConfig> SqliteConfigRepository::models() const
{
    QList<ModelConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, QByteArray("SELECT ") + store::kModelColumns + " FROM models ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        ModelConfig m = store::readModel(s);
        out.append(m);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading models failed:" << s.error();
    return out;
}

bool SqliteConfigRepository::saveModel(const ModelConfig &model)
{
    if (model.id.isEmpty()) {
        qCWarning(lcStore) << "model not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db,
                "INSERT INTO models (id, provider, upstream_model, price_input, price_output, price_cache_read, "
                "price_cache_write, price_cache_write_1h, context_window, max_output_tokens, from_catalog, capabilities, data_policy) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (id) DO UPDATE SET "
                "provider = excluded.provider, upstream_model = excluded.upstream_model, price_input = excluded.price_input, "
                "price_output = excluded.price_output, price_cache_read = excluded.price_cache_read, "
                "price_cache_write = excluded.price_cache_write, price_cache_write_1h = excluded.price_cache_write_1h, "
                "context_window = excluded.context_window, max_output_tokens = excluded.max_output_tokens, "
                "from_catalog = excluded.from_catalog, capabilities = excluded.capabilities, data_policy = excluded.data_policy");
    s.bindText(1, model.id);
    s.bindText(2, model.provider);
    s.bindText(3, model.upstreamModel);
    s.bindReal(4, model.price.input);
    s.bindReal(5, model.price.output);
    s.bindReal(6, model.price.cacheRead);
    s.bindReal(7, model.price.cacheWrite);
    s.bindReal(8, model.price.cacheWrite1h);
    s.bindInt(9, model.contextWindow);
    s.bindInt(10, model.maxOutputTokens);
    s.bindBool(11, model.fromCatalog);
    if (model.capabilities)
        s.bindText(12, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(*model.capabilities)).toJson(QJsonDocument::Compact)));
    else
        s.bindNull(12);
    s.bindText(13, store::policyJson(model.dataPolicy.toJson()));
    if (!s.exec()) {
        qCWarning(lcStore) << "model" << model.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool SqliteConfigRepository::removeModel(const QString &id)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "DELETE FROM models WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "model" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(m_conn.db) > 0;
}

// --- routes ---

namespace {


} // namespace

QList<RouteConfig> SqliteConfigRepository::routes() const
{
    QList<RouteConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return out;
    Statement s(m_conn.db, "SELECT id, strategy, targets FROM routes ORDER BY position, id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        RouteConfig r;
        r.id = s.text(0);
        const auto strategy = strategyFromName(s.text(1));
        if (!strategy) {
            qCWarning(lcStore) << "route" << r.id << "ignored: unknown strategy" << s.text(1);
            continue;
        }
        r.strategy = *strategy;
        auto targets = store::routeTargetsFromJson(s.text(2));
        if (!targets) {
            qCWarning(lcStore) << "route" << r.id << "ignored: its targets are not a JSON array of {model, weight}";
            continue;
        }
        r.targets = std::move(*targets);
        out.append(r);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading routes failed:" << s.error();
    return out;
}

bool SqliteConfigRepository::saveRoute(const RouteConfig &route)
{
    if (route.id.isEmpty()) {
        qCWarning(lcStore) << "route not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    // A new route goes last; an updated one keeps its place.
    Statement s(m_conn.db, "INSERT INTO routes (id, strategy, targets, position) "
                           "VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), -1) + 1 FROM routes)) "
                           "ON CONFLICT (id) DO UPDATE SET strategy = excluded.strategy, targets = excluded.targets");
    s.bindText(1, route.id);
    s.bindText(2, strategyName(route.strategy));
    s.bindText(3, store::routeTargetsToJson(route.targets));
    if (!s.exec()) {
        qCWarning(lcStore) << "route" << route.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool SqliteConfigRepository::removeRoute(const QString &id)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.db)
        return false;
    Statement s(m_conn.db, "DELETE FROM routes WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "route" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(m_conn.db) > 0;
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
