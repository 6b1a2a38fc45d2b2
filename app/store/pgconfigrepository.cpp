#include "store/pgconfigrepository.h"
#include "core/logging.h"
#include "store/configcodec.h"

namespace gh {

namespace {

using pg::Statement;

} // namespace

// --- keys ---

QList<StoredKey> PgConfigRepository::keys() const
{
    QList<StoredKey> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading keys"))
        return out;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kKeyColumns + " FROM keys ORDER BY id");
    while (s.next()) {
        if (auto k = store::readKey(s))
            out.append(*k);
    }
    if (!s.ok())
        qCWarning(lcStore) << "reading keys failed:" << s.error();
    return out;
}

std::optional<StoredKey> PgConfigRepository::keyByName(const QString &name) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading a key"))
        return std::nullopt;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kKeyColumns + " FROM keys WHERE name = ?1");
    s.bindText(1, name);
    if (s.next())
        return store::readKey(s);
    if (!s.ok())
        qCWarning(lcStore) << "reading key" << name << "failed:" << s.error();
    return std::nullopt;
}

qint64 PgConfigRepository::saveKey(const StoredKey &key)
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
    if (!m_conn.usable("saving a key"))
        return 0;
    const bool insert = key.id == 0;
    // PostgreSQL needs every parameter up to the highest one used: the id is the last one, and only
    // in the UPDATE.
    Statement s(m_conn.conn,
                insert ? "INSERT INTO keys (name, secret_hash, secret_hint, allow_models, limit_day, limit_week, limit_month, "
                         "limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, on_short_budget, "
                         "min_output_tokens, secret_scan, require_policy) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) RETURNING id"
                       : "UPDATE keys SET name = ?1, secret_hash = ?2, secret_hint = ?3, allow_models = ?4, limit_day = ?5, "
                         "limit_week = ?6, limit_month = ?7, limit_total = ?8, allow_unpriced = ?9, paused = ?10, "
                         "revoked = ?11, created_at_ms = ?12, rpm = ?13, tpm = ?14, on_short_budget = ?15, "
                         "min_output_tokens = ?16, secret_scan = ?17, require_policy = ?18 WHERE id = ?19 RETURNING id");
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
    s.bindOptInt(13, key.rpm ? std::optional<qint64>(*key.rpm) : std::nullopt);
    s.bindOptInt(14, key.tpm);
    s.bindText(15, shortBudgetName(key.budget.onShortBudget));
    s.bindInt(16, key.budget.minOutputTokens);
    s.bindText(17, secretScanName(key.secretScan));
    s.bindText(18, store::policyJson(key.requirePolicy.toJson()));
    if (!insert)
        s.bindInt(19, key.id);
    if (!s.exec()) {
        qCWarning(lcStore) << "key" << key.name << "not saved:" << s.error();
        return 0;
    }
    if (!s.next()) {
        qCWarning(lcStore) << "key" << key.name << "not saved: no key with id" << key.id;
        return 0;
    }
    return s.integer(0);
}

// --- providers and models ---

QList<ProviderConfig> PgConfigRepository::providers() const
{
    QList<ProviderConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading providers"))
        return out;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kProviderColumns + " FROM providers ORDER BY id");
    while (s.next()) {
        if (const auto p = store::readProvider(s))
            out.append(*p);
    }
    if (!s.ok())
        qCWarning(lcStore) << "reading providers failed:" << s.error();
    return out;
}

bool PgConfigRepository::saveProvider(const ProviderConfig &provider)
{
    if (provider.id.isEmpty()) {
        qCWarning(lcStore) << "provider not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a provider"))
        return false;
    Statement s(m_conn.conn, QByteArray("INSERT INTO providers (") + store::kProviderColumns
                                 + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET "
                                   "format = excluded.format, local = excluded.local, data_policy = excluded.data_policy, "
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

namespace {

// DELETE FROM <table> WHERE id = ?1: true when a row went.
bool removeById(PgControlConnection &c, const char *sql, const QString &id, const char *what)
{
    std::lock_guard lock(c.mutex);
    if (!c.usable(what))
        return false;
    Statement s(c.conn, sql);
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << what << id << "failed:" << s.error();
        return false;
    }
    return s.changes() > 0;
}

} // namespace

bool PgConfigRepository::removeProvider(const QString &id)
{
    return removeById(m_conn, "DELETE FROM providers WHERE id = ?1", id, "removing provider");
}

QList<ModelConfig> PgConfigRepository::models() const
{
    QList<ModelConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading models"))
        return out;
    Statement s(m_conn.conn, QByteArray("SELECT ") + store::kModelColumns + " FROM models ORDER BY id");
    while (s.next())
        out.append(store::readModel(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading models failed:" << s.error();
    return out;
}

bool PgConfigRepository::saveModel(const ModelConfig &model)
{
    if (model.id.isEmpty()) {
        qCWarning(lcStore) << "model not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a model"))
        return false;
    Statement s(m_conn.conn,
                QByteArray("INSERT INTO models (") + store::kModelColumns
                    + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (id) DO UPDATE SET "
                      "provider = excluded.provider, upstream_model = excluded.upstream_model, price_input = excluded.price_input, "
                      "price_output = excluded.price_output, price_cache_read = excluded.price_cache_read, "
                      "price_cache_write = excluded.price_cache_write, price_cache_write_1h = excluded.price_cache_write_1h, "
                      "context_window = excluded.context_window, max_output_tokens = excluded.max_output_tokens, "
                      "from_catalog = excluded.from_catalog, capabilities = excluded.capabilities, "
                      "data_policy = excluded.data_policy");
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

bool PgConfigRepository::removeModel(const QString &id)
{
    return removeById(m_conn, "DELETE FROM models WHERE id = ?1", id, "removing model");
}

// --- routes ---

QList<RouteConfig> PgConfigRepository::routes() const
{
    QList<RouteConfig> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading routes"))
        return out;
    Statement s(m_conn.conn, "SELECT id, strategy, targets FROM routes ORDER BY position, id");
    while (s.next()) {
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
    if (!s.ok())
        qCWarning(lcStore) << "reading routes failed:" << s.error();
    return out;
}

bool PgConfigRepository::saveRoute(const RouteConfig &route)
{
    if (route.id.isEmpty()) {
        qCWarning(lcStore) << "route not saved: empty id";
        return false;
    }
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a route"))
        return false;
    // A new route goes last; an updated one keeps its place.
    Statement s(m_conn.conn, "INSERT INTO routes (id, strategy, targets, position) "
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

bool PgConfigRepository::removeRoute(const QString &id)
{
    return removeById(m_conn, "DELETE FROM routes WHERE id = ?1", id, "removing route");
}

// --- Compare votes ---

bool PgConfigRepository::saveRoundVotes(const QString &roundId, const QList<CompareVote> &votes)
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
    if (!m_conn.usable("saving votes"))
        return false;
    QString why;
    if (!m_conn.conn.exec("BEGIN", &why)) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << why;
        return false;
    }
    auto rollback = [&](const QString &error) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << error;
        m_conn.conn.exec("ROLLBACK");
        return false;
    };
    {
        Statement del(m_conn.conn, "DELETE FROM votes WHERE round_id = ?1");
        del.bindText(1, roundId);
        if (!del.exec())
            return rollback(del.error());
        Statement ins(m_conn.conn, "INSERT INTO votes (round_id, model_id, result, created_at_ms) VALUES (?1, ?2, ?3, ?4)");
        for (const CompareVote &v : votes) {
            ins.bindText(1, roundId);
            ins.bindText(2, v.modelId);
            ins.bindInt(3, v.result);
            ins.bindInt(4, v.createdAtMs);
            if (!ins.exec()) // a model twice in one round fails here
                return rollback(ins.error());
        }
    }
    if (!m_conn.conn.exec("COMMIT", &why))
        return rollback(why);
    return true;
}

QHash<QString, VoteStats> PgConfigRepository::voteStats() const
{
    QHash<QString, VoteStats> out;
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading votes"))
        return out;
    Statement s(m_conn.conn, "SELECT model_id, count(*), count(*) FILTER (WHERE result = 1), count(*) FILTER (WHERE result = -1) "
                             "FROM votes WHERE result BETWEEN -1 AND 1 GROUP BY model_id");
    while (s.next())
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    if (!s.ok())
        qCWarning(lcStore) << "reading vote statistics failed:" << s.error();
    return out;
}

// --- settings ---

QString PgConfigRepository::setting(const QString &key, const QString &fallback) const
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("reading a setting"))
        return fallback;
    Statement s(m_conn.conn, "SELECT value FROM settings WHERE key = ?1");
    s.bindText(1, key);
    if (s.next())
        return s.text(0);
    if (!s.ok())
        qCWarning(lcStore) << "reading setting" << key << "failed:" << s.error();
    return fallback;
}

void PgConfigRepository::setSetting(const QString &key, const QString &value)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a setting")) {
        qCWarning(lcStore) << "setting" << key << "not saved: the store is not open or not reachable";
        return;
    }
    Statement s(m_conn.conn, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    s.bindText(1, key);
    s.bindText(2, value);
    if (!s.exec())
        qCWarning(lcStore) << "setting" << key << "not saved:" << s.error();
}

// --- guardrail trips ---

bool PgConfigRepository::saveGuardrailTrip(const GuardrailTripRow &t)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("saving a guardrail trip"))
        return false;
    Statement s(m_conn.conn, QByteArray("INSERT INTO guardrail_trips (") + store::kTripColumns
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

bool PgConfigRepository::endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("ending guardrail trips"))
        return false;
    Statement s(m_conn.conn, "UPDATE guardrail_trips SET active = 0, ended_at_ms = ?2, ended_by = ?3 WHERE id = ?1 AND active = 1");
    bool ok = true;
    for (const qint64 id : ids) {
        s.bindInt(1, id);
        s.bindInt(2, atMs);
        s.bindText(3, by);
        if (!s.exec()) {
            qCWarning(lcStore) << "ending guardrail trip" << id << "failed:" << s.error();
            ok = false;
        }
    }
    return ok;
}

bool PgConfigRepository::keepGuardrailTrip(qint64 id, qint64 atMs)
{
    std::lock_guard lock(m_conn.mutex);
    if (!m_conn.usable("keeping a guardrail trip"))
        return false;
    Statement s(m_conn.conn, "UPDATE guardrail_trips SET kept_at_ms = ?2 WHERE id = ?1 AND active = 1");
    s.bindInt(1, id);
    s.bindInt(2, atMs);
    if (!s.exec()) {
        qCWarning(lcStore) << "keeping guardrail trip" << id << "failed:" << s.error();
        return false;
    }
    return s.changes() > 0;
}

QList<GuardrailTripRow> PgConfigRepository::guardrailTripsToRestore(int latest, qint64 *maxId) const
{
    QList<GuardrailTripRow> out;
    std::lock_guard lock(m_conn.mutex);
    if (maxId)
        *maxId = 0;
    if (!m_conn.usable("reading guardrail trips"))
        return out;
    if (maxId)
        *maxId = pg::scalar(m_conn.conn, "SELECT COALESCE(MAX(id), 0) FROM guardrail_trips");
    Statement s(m_conn.conn, store::guardrailTripSelect("WHERE active = 1 OR id IN (SELECT id FROM guardrail_trips ORDER BY id "
                                                        "DESC LIMIT ?1) ORDER BY id"));
    s.bindInt(1, qMax(0, latest));
    while (s.next())
        out.append(store::readGuardrailTrip(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading the guardrail trips failed:" << s.error();
    return out;
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
    Statement s(m_conn.conn, "INSERT INTO audit_log (at_ms, origin, action, subject, old_value, new_value) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
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

bool PgConfigRepository::mergeLimitStep(const AuditEntry &entry)
{
    if (!m_conn.conn.exec("BEGIN"))
        return false;
    Statement last(m_conn.conn, "SELECT id, at_ms, origin, action, subject, old_value, new_value FROM audit_log "
                                "ORDER BY id DESC LIMIT 1 FOR UPDATE");
    AuditEntry merged;
    if (!last.next() || !mergeAuditStep(AuditEntry{last.integer(0), last.integer(1), last.text(2), last.text(3),
                                                          last.text(4), last.text(5), last.text(6)},
                                               entry, &merged)) {
        m_conn.conn.exec("ROLLBACK");
        return false;
    }
    Statement up(m_conn.conn, "UPDATE audit_log SET at_ms = ?2, old_value = ?3, new_value = ?4 WHERE id = ?1");
    up.bindInt(1, merged.id);
    up.bindInt(2, merged.atMs);
    up.bindText(3, merged.oldValue);
    up.bindText(4, merged.newValue);
    if (!up.exec() || !m_conn.conn.exec("COMMIT")) {
        qCWarning(lcStore) << "merging a limit change in the audit trail failed:" << up.error();
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
    Statement s(m_conn.conn, "SELECT id, at_ms, origin, action, subject, old_value, new_value FROM audit_log "
                             "ORDER BY id DESC LIMIT ?1 OFFSET ?2");
    s.bindInt(1, qMax(0, limit));
    s.bindInt(2, qMax(0, offset));
    while (s.next())
        out.append(AuditEntry{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    if (!s.ok())
        qCWarning(lcStore) << "reading the audit trail failed:" << s.error();
    return out;
}

} // namespace gh
