#pragma once
#include "store/configcodec.h"
#include "store/pg.h"
#include "store/readdb.h"
#include "store/sqlite.h"
#include <optional>
#include <QJsonArray>
#include <QJsonDocument>
#include <type_traits>

// The configuration repository's statements for both back-ends (SqliteConfigRepository,
// PgConfigRepository): the SQL, the binds and the loops over the rows are written once here, as
// templates over the two small connection adapters below, the way readdb.h does it for the log's
// reads. What the back-ends disagree on (how a written row reports its id and its changes, how a
// statement is run again, a few SQL dialect details) is in the adapters; the locking and the
// "is the store usable" check stay in each repository, which calls these with its mutex held.
//
// A failed statement is logged here with the same words on both back-ends.
namespace gh::store {

struct SqliteConfigDb {
    using Statement = sqlite::Statement;
    sqlite3 *db = nullptr;

    [[nodiscard]] Statement prepare(const QByteArray &sql) const { return Statement(db, sql); }
    bool exec(const char *sql, QString *error = nullptr) const { return sqlite::exec(db, sql, error); }
    // Steps to the next row; the loop's failure is read with failed() (no warning of its own, unlike
    // Statement::next(): the caller's warning names what was read).
    static bool row(Statement &s) { return s.step() == SQLITE_ROW; }
    [[nodiscard]] static bool failed(const Statement &s) { return s.rc() != SQLITE_DONE; }
    // Before the statement runs again with new binds.
    static void rerun(Statement &s) { s.reset(); }
    // Rows changed by the last statement run on the connection.
    [[nodiscard]] qint64 changes(const Statement &) const { return sqlite3_changes(db); }
    // The write transaction takes the write lock at once (no upgrade from a read lock to fail later).
    static constexpr char kBeginWrite[] = "BEGIN IMMEDIATE";
    // Appended to an INSERT or UPDATE of keys: nothing, the id comes from the connection.
    static constexpr char kReturningId[] = "";
    // The id written by an INSERT (insert) or UPDATE of `id` that succeeded; nullopt when the UPDATE
    // found no row.
    [[nodiscard]] std::optional<qint64> writtenId(Statement &, bool insert, qint64 id) const
    {
        if (insert)
            return sqlite3_last_insert_rowid(db);
        return sqlite3_changes(db) == 1 ? std::optional<qint64>(id) : std::nullopt;
    }
    // SQLite's comparisons are 0/1 integers.
    static constexpr char kVoteStats[]
        = "SELECT model_id, count(*), COALESCE(SUM(result = 1), 0), COALESCE(SUM(result = -1), 0) "
          "FROM votes WHERE result BETWEEN -1 AND 1 GROUP BY model_id";
};

struct PgConfigDb {
    using Statement = pg::Statement;
    pg::Connection *conn = nullptr;

    [[nodiscard]] Statement prepare(const QByteArray &sql) const { return Statement(*conn, sql); }
    bool exec(const char *sql, QString *error = nullptr) const { return conn->exec(sql, error); }
    static bool row(Statement &s) { return s.next(); }
    [[nodiscard]] static bool failed(const Statement &s) { return !s.ok(); }
    // A pg::Statement keeps its binds and runs again as it is.
    static void rerun(Statement &) { }
    [[nodiscard]] qint64 changes(const Statement &s) const { return s.changes(); }
    static constexpr char kBeginWrite[] = "BEGIN";
    static constexpr char kReturningId[] = " RETURNING id";
    [[nodiscard]] std::optional<qint64> writtenId(Statement &s, bool, qint64) const
    {
        return s.next() ? std::optional<qint64>(s.integer(0)) : std::nullopt;
    }
    // A comparison is a boolean in PostgreSQL, which sum() does not take.
    static constexpr char kVoteStats[]
        = "SELECT model_id, count(*), count(*) FILTER (WHERE result = 1), count(*) FILTER (WHERE result = -1) "
          "FROM votes WHERE result BETWEEN -1 AND 1 GROUP BY model_id";
};

// Every row of `sql`, read by `read` (a std::optional<T> for a row that may be left out, else a T),
// in order. A failure is logged as "reading <what> failed:" and ends the list where it failed.
template <class T, class Db, class Read>
QList<T> readRows(const Db &db, const QByteArray &sql, const char *what, Read read)
{
    QList<T> out;
    auto s = db.prepare(sql);
    while (Db::row(s)) {
        if constexpr (std::is_same_v<decltype(read(s)), std::optional<T>>) {
            if (auto v = read(s))
                out.append(std::move(*v));
        } else {
            out.append(read(s));
        }
    }
    if (Db::failed(s))
        qCWarning(lcStore) << "reading" << what << "failed:" << s.error();
    return out;
}

// DELETE FROM <table> WHERE id = ?1: the rows that went, -1 and *error when the statement failed.
template <class Db> qint64 removeById(const Db &db, const char *sql, const QString &id, QString *error)
{
    auto s = db.prepare(sql);
    s.bindText(1, id);
    if (!s.exec()) {
        *error = s.error();
        return -1;
    }
    return db.changes(s);
}

// An id the store can key a row by (else a warning says "<what> not saved: empty id").
inline bool hasId(const QString &id, const char *what)
{
    if (!id.isEmpty())
        return true;
    qCWarning(lcStore) << what << "not saved: empty id";
    return false;
}

// --- keys ---

template <class Db> QList<StoredKey> keys(const Db &db)
{
    return readRows<StoredKey>(db, QByteArray("SELECT ") + kKeyColumns + " FROM keys ORDER BY id", "keys",
        [](const auto &s) { return readKey(s); });
}

template <class Db> std::optional<StoredKey> keyByName(const Db &db, const QString &name)
{
    auto s = db.prepare(QByteArray("SELECT ") + kKeyColumns + " FROM keys WHERE name = ?1");
    s.bindText(1, name);
    if (Db::row(s))
        return readKey(s);
    if (Db::failed(s))
        qCWarning(lcStore) << "reading key" << name << "failed:" << s.error();
    return std::nullopt;
}

// A key the store can take: a name and a SHA-256 hash (else a warning says why not).
inline bool keyCanBeSaved(const StoredKey &key)
{
    if (key.name.trimmed().isEmpty()) {
        qCWarning(lcStore) << "key not saved: empty name";
        return false;
    }
    if (key.secretHash.size() != 32) {
        qCWarning(lcStore) << "key" << key.name << "not saved: the secret hash must be 32 bytes of SHA-256";
        return false;
    }
    return true;
}

// The columns of kKeyColumns after the id are ?1..?18; the id of an UPDATE is the last one, ?19
// (PostgreSQL needs every parameter up to the highest one used, so the INSERT cannot skip one).
template <class S> void bindKey(S &s, const StoredKey &key)
{
    s.bindText(1, key.name);
    s.bindBlob(2, key.secretHash);
    s.bindText(3, key.secretHint);
    s.bindText(4,
        QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(key.allowModels)).toJson(QJsonDocument::Compact)));
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
    s.bindText(18, policyJson(key.requirePolicy.toJson()));
    if (key.id != 0)
        s.bindInt(19, key.id);
}

// Inserts a key (id 0) or updates the key of its id: the key's id, 0 when it was not saved.
template <class Db> qint64 saveKey(const Db &db, const StoredKey &key)
{
    const bool insert = key.id == 0;
    auto s = db.prepare(
        QByteArray(insert ? "INSERT INTO keys (name, secret_hash, secret_hint, allow_models, limit_day, limit_week, "
                            "limit_month, limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, "
                            "on_short_budget, min_output_tokens, secret_scan, require_policy) VALUES (?1, ?2, ?3, "
                            "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
                          : "UPDATE keys SET name = ?1, secret_hash = ?2, secret_hint = ?3, allow_models = ?4, "
                            "limit_day = ?5, limit_week = ?6, limit_month = ?7, limit_total = ?8, allow_unpriced = ?9, "
                            "paused = ?10, revoked = ?11, created_at_ms = ?12, rpm = ?13, tpm = ?14, "
                            "on_short_budget = ?15, min_output_tokens = ?16, secret_scan = ?17, require_policy = ?18 "
                            "WHERE id = ?19")
        + Db::kReturningId);
    bindKey(s, key);
    if (!s.exec()) {
        qCWarning(lcStore) << "key" << key.name << "not saved:" << s.error();
        return 0;
    }
    const auto id = db.writtenId(s, insert, key.id);
    if (!id) {
        qCWarning(lcStore) << "key" << key.name << "not saved: no key with id" << key.id;
        return 0;
    }
    return *id;
}

// --- providers and models ---

template <class Db> QList<ProviderConfig> providers(const Db &db)
{
    return readRows<ProviderConfig>(db, QByteArray("SELECT ") + kProviderColumns + " FROM providers ORDER BY id",
        "providers", [](const auto &s) { return readProvider(s); });
}

// kProviderColumns are ?1..?10.
template <class S> void bindProvider(S &s, const ProviderConfig &provider)
{
    s.bindText(1, provider.id);
    s.bindText(2, formatToDb(provider.format));
    s.bindText(3, provider.baseUrl.toString(QUrl::FullyEncoded));
    s.bindText(4, provider.apiKeyEnv);
    s.bindText(5, provider.catalog);
    s.bindBool(6, provider.enabled);
    s.bindOptInt(7, provider.rpm ? std::optional<qint64>(*provider.rpm) : std::nullopt);
    s.bindOptInt(8, provider.tpm);
    s.bindBool(9, provider.local);
    s.bindText(10, policyJson(provider.dataPolicy.toJson()));
}

// Inserts the provider or replaces the one of its id.
template <class Db> bool saveProvider(const Db &db, const ProviderConfig &provider)
{
    auto s = db.prepare(QByteArray("INSERT INTO providers (") + kProviderColumns
        + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET "
          "format = excluded.format, local = excluded.local, data_policy = excluded.data_policy, "
          "base_url = excluded.base_url, api_key_env = excluded.api_key_env, "
          "catalog = excluded.catalog, enabled = excluded.enabled, rpm = excluded.rpm, tpm = excluded.tpm");
    bindProvider(s, provider);
    if (!s.exec()) {
        qCWarning(lcStore) << "provider" << provider.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

template <class Db> QList<ModelConfig> models(const Db &db)
{
    return readRows<ModelConfig>(db, QByteArray("SELECT ") + kModelColumns + " FROM models ORDER BY id", "models",
        [](const auto &s) { return readModel(s); });
}

// kModelColumns are ?1..?13; capabilities are NULL when unknown.
template <class S> void bindModel(S &s, const ModelConfig &model)
{
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
        s.bindText(12,
            QString::fromUtf8(
                QJsonDocument(QJsonArray::fromStringList(*model.capabilities)).toJson(QJsonDocument::Compact)));
    else
        s.bindNull(12);
    s.bindText(13, policyJson(model.dataPolicy.toJson()));
}

// Inserts the model or replaces the one of its id.
template <class Db> bool saveModel(const Db &db, const ModelConfig &model)
{
    auto s = db.prepare(QByteArray("INSERT INTO models (") + kModelColumns
        + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT (id) DO UPDATE SET "
          "provider = excluded.provider, upstream_model = excluded.upstream_model, price_input = excluded.price_input, "
          "price_output = excluded.price_output, price_cache_read = excluded.price_cache_read, "
          "price_cache_write = excluded.price_cache_write, price_cache_write_1h = excluded.price_cache_write_1h, "
          "context_window = excluded.context_window, max_output_tokens = excluded.max_output_tokens, "
          "from_catalog = excluded.from_catalog, capabilities = excluded.capabilities, "
          "data_policy = excluded.data_policy");
    bindModel(s, model);
    if (!s.exec()) {
        qCWarning(lcStore) << "model" << model.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

// --- routes ---

// A routes row (id, strategy, targets); left out with a warning when it cannot be read back exactly.
template <class S> std::optional<RouteConfig> readRoute(const S &s)
{
    RouteConfig r;
    r.id = s.text(0);
    const auto strategy = strategyFromName(s.text(1));
    if (!strategy) {
        qCWarning(lcStore) << "route" << r.id << "ignored: unknown strategy" << s.text(1);
        return std::nullopt;
    }
    r.strategy = *strategy;
    auto targets = routeTargetsFromJson(s.text(2));
    if (!targets) {
        qCWarning(lcStore) << "route" << r.id << "ignored: its targets are not a JSON array of {model, weight}";
        return std::nullopt;
    }
    r.targets = std::move(*targets);
    return r;
}

template <class Db> QList<RouteConfig> routes(const Db &db)
{
    return readRows<RouteConfig>(db, "SELECT id, strategy, targets FROM routes ORDER BY position, id", "routes",
        [](const auto &s) { return readRoute(s); });
}

// A new route goes last; an updated one keeps its place.
template <class Db> bool saveRoute(const Db &db, const RouteConfig &route)
{
    auto s = db.prepare("INSERT INTO routes (id, strategy, targets, position) "
                        "VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), -1) + 1 FROM routes)) "
                        "ON CONFLICT (id) DO UPDATE SET strategy = excluded.strategy, targets = excluded.targets");
    s.bindText(1, route.id);
    s.bindText(2, strategyName(route.strategy));
    s.bindText(3, routeTargetsToJson(route.targets));
    if (!s.exec()) {
        qCWarning(lcStore) << "route" << route.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

// --- Compare votes ---

// Votes the store can take: a round, and for each vote a model and a result of -1, 0 or 1.
inline bool votesCanBeSaved(const QString &roundId, const QList<CompareVote> &votes)
{
    if (roundId.isEmpty()) {
        qCWarning(lcStore) << "votes not saved: empty round id";
        return false;
    }
    for (const CompareVote &v : votes) {
        if (v.modelId.isEmpty() || v.result < -1 || v.result > 1) {
            qCWarning(lcStore) << "votes of round" << roundId
                               << "not saved: a vote has no model or a result other than -1, 0, 1";
            return false;
        }
    }
    return true;
}

// Replaces the votes of the round, in one transaction: all of them or none.
template <class Db> bool saveRoundVotes(const Db &db, const QString &roundId, const QList<CompareVote> &votes)
{
    QString why;
    if (!db.exec(Db::kBeginWrite, &why)) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << why;
        return false;
    }
    auto rollback = [&](const QString &error) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << error;
        db.exec("ROLLBACK");
        return false;
    };
    {
        auto del = db.prepare("DELETE FROM votes WHERE round_id = ?1");
        del.bindText(1, roundId);
        if (!del.exec())
            return rollback(del.error());
        auto ins = db.prepare("INSERT INTO votes (round_id, model_id, result, created_at_ms) VALUES (?1, ?2, ?3, ?4)");
        for (const CompareVote &v : votes) {
            ins.bindText(1, roundId);
            ins.bindText(2, v.modelId);
            ins.bindInt(3, v.result);
            ins.bindInt(4, v.createdAtMs);
            const bool ok = ins.exec(); // a model twice in one round fails here
            const QString error = ok ? QString() : ins.error();
            Db::rerun(ins);
            if (!ok)
                return rollback(error);
        }
    }
    if (!db.exec("COMMIT", &why))
        return rollback(why);
    return true;
}

template <class Db> QHash<QString, VoteStats> voteStats(const Db &db)
{
    QHash<QString, VoteStats> out;
    auto s = db.prepare(Db::kVoteStats);
    while (Db::row(s))
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    if (Db::failed(s))
        qCWarning(lcStore) << "reading vote statistics failed:" << s.error();
    return out;
}

// --- settings ---

template <class Db> QString setting(const Db &db, const QString &key, const QString &fallback)
{
    auto s = db.prepare("SELECT value FROM settings WHERE key = ?1");
    s.bindText(1, key);
    if (Db::row(s))
        return s.text(0);
    if (Db::failed(s))
        qCWarning(lcStore) << "reading setting" << key << "failed:" << s.error();
    return fallback;
}

template <class Db> void setSetting(const Db &db, const QString &key, const QString &value)
{
    auto s = db.prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    s.bindText(1, key);
    s.bindText(2, value);
    if (!s.exec())
        qCWarning(lcStore) << "setting" << key << "not saved:" << s.error();
}

// --- guardrail trips ---

// kTripColumns are ?1..?15; an empty evidence is stored as the empty object.
template <class S> void bindTrip(S &s, const GuardrailTripRow &t)
{
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
}

// A trip's id is given by the guard that numbered it: a trip already stored is left as it is.
template <class Db> bool saveGuardrailTrip(const Db &db, const GuardrailTripRow &t)
{
    auto s = db.prepare(QByteArray("INSERT INTO guardrail_trips (") + kTripColumns
        + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
          "ON CONFLICT (id) DO NOTHING");
    bindTrip(s, t);
    if (!s.exec()) {
        qCWarning(lcStore) << "guardrail trip" << t.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

// Ends the active trips among `ids`; false when one of the updates failed (the others still run).
template <class Db> bool endGuardrailTrips(const Db &db, const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    auto s = db.prepare(
        "UPDATE guardrail_trips SET active = 0, ended_at_ms = ?2, ended_by = ?3 WHERE id = ?1 AND active = 1");
    bool ok = true;
    for (const qint64 id : ids) {
        s.bindInt(1, id);
        s.bindInt(2, atMs);
        s.bindText(3, by);
        if (!s.exec()) {
            qCWarning(lcStore) << "ending guardrail trip" << id << "failed:" << s.error();
            ok = false;
        }
        Db::rerun(s);
    }
    return ok;
}

// True when the trip was active and is now kept.
template <class Db> bool keepGuardrailTrip(const Db &db, qint64 id, qint64 atMs)
{
    auto s = db.prepare("UPDATE guardrail_trips SET kept_at_ms = ?2 WHERE id = ?1 AND active = 1");
    s.bindInt(1, id);
    s.bindInt(2, atMs);
    if (!s.exec()) {
        qCWarning(lcStore) << "keeping guardrail trip" << id << "failed:" << s.error();
        return false;
    }
    return db.changes(s) > 0;
}

// The active trips and the `latest` last ones, oldest first; *maxId the highest id stored.
template <class Db> QList<GuardrailTripRow> guardrailTripsToRestore(const Db &db, int latest, qint64 *maxId)
{
    QList<GuardrailTripRow> out;
    if (maxId)
        *maxId = scalar(db, "SELECT COALESCE(MAX(id), 0) FROM guardrail_trips");
    auto s = db.prepare(
        guardrailTripSelect("WHERE active = 1 OR id IN (SELECT id FROM guardrail_trips ORDER BY id DESC LIMIT ?1) "
                            "ORDER BY id"));
    s.bindInt(1, qMax(0, latest));
    while (s.next())
        out.append(readGuardrailTrip(s));
    if (!s.ok())
        qCWarning(lcStore) << "reading the guardrail trips failed:" << s.error();
    return out;
}

// --- audit trail ---

inline constexpr char kAuditColumns[] = "id, at_ms, origin, action, subject, old_value, new_value";

template <class S> AuditEntry readAuditEntry(const S &s)
{
    return AuditEntry{s.integer(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6)};
}

// The latest entry merged with the limit step `entry` (mergeAuditStep), nullopt when the step
// does not belong to it or the read failed. `lock` ends the SELECT (a row lock where there is one).
template <class Db>
std::optional<AuditEntry> mergedWithLatestAudit(const Db &db, const AuditEntry &entry, const char *lock = "")
{
    auto last = db.prepare(QByteArray("SELECT ") + kAuditColumns + " FROM audit_log ORDER BY id DESC LIMIT 1" + lock);
    AuditEntry merged;
    if (!last.next() || !mergeAuditStep(readAuditEntry(last), entry, &merged))
        return std::nullopt;
    return merged;
}

// Replaces the latest entry by its merge with a step; false and *error when the update failed.
template <class Db> bool updateMergedAudit(const Db &db, const AuditEntry &merged, QString *error)
{
    auto s = db.prepare("UPDATE audit_log SET at_ms = ?2, old_value = ?3, new_value = ?4 WHERE id = ?1");
    s.bindInt(1, merged.id);
    s.bindInt(2, merged.atMs);
    s.bindText(3, merged.oldValue);
    s.bindText(4, merged.newValue);
    const bool ok = s.exec();
    if (!ok && error)
        *error = s.error();
    return ok;
}

template <class Db> bool insertAudit(const Db &db, const AuditEntry &entry)
{
    auto s = db.prepare("INSERT INTO audit_log (at_ms, origin, action, subject, old_value, new_value) "
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

} // namespace gh::store
