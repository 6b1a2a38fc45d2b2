#include "store/migrations.h"
#include "core/logging.h"
#include <sqlite3.h>
#include <array>

namespace gh::store {

namespace {

// clang-format off
constexpr std::array kMigrations{
    Migration{1, "request log, keys, providers, models, settings", R"sql(
CREATE TABLE requests (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    started_at_ms         INTEGER NOT NULL,
    key_id                INTEGER NOT NULL DEFAULT 0,
    key_name              TEXT    NOT NULL DEFAULT '',
    endpoint              TEXT    NOT NULL DEFAULT '',
    requested_model       TEXT    NOT NULL DEFAULT '',
    provider              TEXT    NOT NULL DEFAULT '',
    upstream_model        TEXT    NOT NULL DEFAULT '',
    status                INTEGER NOT NULL DEFAULT 0,
    error                 TEXT    NOT NULL DEFAULT '',
    latency_ms            INTEGER NOT NULL DEFAULT 0,
    ttft_ms               INTEGER NOT NULL DEFAULT -1,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
    usage_reported        INTEGER NOT NULL DEFAULT 0,
    estimated             INTEGER NOT NULL DEFAULT 0,
    cost_nano_usd         INTEGER,              -- NULL: unpriced
    stream                INTEGER NOT NULL DEFAULT 0,
    attempts              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_key_time ON requests (key_id, started_at_ms);
CREATE INDEX requests_time ON requests (started_at_ms);

CREATE TABLE keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the log refers to it
    name           TEXT    NOT NULL UNIQUE,
    secret_hash    BLOB    NOT NULL UNIQUE,           -- SHA-256 of the secret; the secret is never stored
    secret_hint    TEXT    NOT NULL DEFAULT '',
    allow_models   TEXT    NOT NULL DEFAULT '[]',     -- JSON array of glob patterns
    limit_day      REAL,
    limit_week     REAL,
    limit_month    REAL,
    limit_total    REAL,
    allow_unpriced INTEGER NOT NULL DEFAULT 0,
    paused         INTEGER NOT NULL DEFAULT 0,
    revoked        INTEGER NOT NULL DEFAULT 0,
    created_at_ms  INTEGER NOT NULL
);

CREATE TABLE providers (
    id          TEXT PRIMARY KEY,
    format      TEXT    NOT NULL,
    base_url    TEXT    NOT NULL,
    api_key_env TEXT    NOT NULL DEFAULT '',
    catalog     TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE models (
    id                   TEXT PRIMARY KEY,
    provider             TEXT    NOT NULL,
    upstream_model       TEXT    NOT NULL,
    price_input          REAL,                 -- USD per million tokens; NULL: unknown
    price_output         REAL,
    price_cache_read     REAL,
    price_cache_write    REAL,
    price_cache_write_1h REAL,
    context_window       INTEGER NOT NULL DEFAULT 0,
    max_output_tokens    INTEGER NOT NULL DEFAULT 0,
    from_catalog         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

PRAGMA application_id = 1195922225;
)sql"},
};
// clang-format on

static_assert(kApplicationId == 1195922225, "keep the application_id in migration 1 in sync");

constexpr bool migrationsAreOrdered()
{
    for (std::size_t i = 0; i < kMigrations.size(); ++i) {
        if (kMigrations[i].version != int(i) + 1)
            return false;
    }
    return true;
}
static_assert(migrationsAreOrdered(), "migrations must be numbered 1, 2, 3... in order");

QString lastError(sqlite3 *db) { return QString::fromUtf8(sqlite3_errmsg(db)); }

bool exec(sqlite3 *db, const char *sql, QString *error)
{
    char *msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK)
        return true;
    if (error)
        *error = msg ? QString::fromUtf8(msg) : lastError(db);
    sqlite3_free(msg);
    return false;
}

// Runs a query that returns one integer (a PRAGMA or a count).
bool queryInt(sqlite3 *db, const char *sql, int *out, QString *error)
{
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(stmt, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK && error)
        *error = lastError(db);
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK;
}

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

} // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latestSchemaVersion() { return kMigrations.back().version; }

bool migrate(sqlite3 *db, QString *error)
{
    QString why;
    int version = 0;
    int appId = 0;
    int objects = 0;
    if (!queryInt(db, "PRAGMA user_version", &version, &why) || !queryInt(db, "PRAGMA application_id", &appId, &why)
        || !queryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", &objects, &why)) {
        setError(error, QStringLiteral("cannot read the database: %1").arg(why));
        return false;
    }
    const int latest = latestSchemaVersion();
    if (version > latest) {
        setError(error, QStringLiteral("the database has schema version %1, newer than this version of Gatehouse "
                                       "supports (%2); use a newer Gatehouse or another data directory")
                            .arg(version)
                            .arg(latest));
        return false;
    }
    if ((version == 0 && objects > 0) || (version > 0 && appId != kApplicationId)) {
        setError(error, QStringLiteral("the file is a SQLite database of another application, not a Gatehouse database"));
        return false;
    }

    for (const Migration &m : kMigrations) {
        if (m.version <= version)
            continue;
        // IMMEDIATE takes the write lock first, so two processes opening the same new file do not
        // both run a migration: the second re-reads the version inside its transaction.
        if (!exec(db, "BEGIN IMMEDIATE", &why)) {
            setError(error, QStringLiteral("cannot start migration %1: %2").arg(m.version).arg(why));
            return false;
        }
        int current = 0;
        bool ok = queryInt(db, "PRAGMA user_version", &current, &why);
        if (ok && current < m.version) {
            const QByteArray setVersion = "PRAGMA user_version = " + QByteArray::number(m.version);
            ok = exec(db, m.sql, &why) && exec(db, setVersion.constData(), &why);
        }
        if (ok)
            ok = exec(db, "COMMIT", &why);
        if (!ok) {
            exec(db, "ROLLBACK", nullptr);
            setError(error, QStringLiteral("migration %1 (%2) failed: %3").arg(m.version).arg(QLatin1String(m.description), why));
            return false;
        }
        if (current < m.version)
            qCInfo(lcStore) << "migrated the database to schema version" << m.version << "(" << m.description << ")";
        version = m.version;
    }
    return true;
}

} // namespace gh::store
