#pragma once
#include <QString>
#include <span>

struct sqlite3;

namespace gh::store {

// One step of the schema. Migration N takes a database at user_version N-1 to N; they run in order,
// each in its own transaction. To change the schema, append a migration; never edit a released one.
struct Migration {
    int version;
    const char *description;
    const char *sql; // one or more statements
};

// Migration 19, the same SQL on both back-ends (pgmigrations.h): the instance (a Gatehouse process's
// data folder, RequestRecord::instanceId) that served each logged request, and that holds each
// pending row, so that instances sharing one team database recover only their own pending rows.
// A macro so that PostgreSQL's 19 can append its own statements to it (string literal concatenation).
#define GH_INSTANCE_MIGRATION_SQL                                                                      \
    "ALTER TABLE requests ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';\n"                         \
    "ALTER TABLE pending_requests ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';\n"                 \
    "CREATE INDEX requests_instance_time ON requests (instance_id, started_at_ms);\n"
inline constexpr char kInstanceMigrationSql[] = GH_INSTANCE_MIGRATION_SQL;

[[nodiscard]] std::span<const Migration> migrations();
[[nodiscard]] int latestSchemaVersion();

// PRAGMA application_id of a Gatehouse database ("GHS1").
inline constexpr int kApplicationId = 0x47485331;

// Brings the database to latestSchemaVersion(). Refuses a database from a newer build, one that
// belongs to another application, or an unreadable file. Returns false and fills *error.
[[nodiscard]] bool migrate(sqlite3 *db, QString *error);

} // namespace gh::store
