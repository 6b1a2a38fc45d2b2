#pragma once
#include "store/migrations.h"
#include <QString>
#include <span>

namespace gh::pg {
class Connection;
}

// The PostgreSQL back-end's schema steps. Their numbers are SQLite's (migrations.h): a PostgreSQL
// database at version N has the tables and columns a SQLite one has at N. The back-end started at
// 14, so its first step creates the whole schema of SQLite version 14 at once; later steps follow
// SQLite's one for one (a number SQLite has and PostgreSQL lacks changed nothing PostgreSQL keeps).
// A number PostgreSQL has and SQLite lacks (20, the budget leases) is a team-only table, so
// PostgreSQL's latest version may be above SQLite's.
namespace gh::store::postgres {

[[nodiscard]] std::span<const Migration> migrations();
[[nodiscard]] int latestSchemaVersion(); // >= store::latestSchemaVersion()

// The advisory lock key every Gatehouse instance takes while it migrates ("GHS1").
inline constexpr qint64 kMigrationLockKey = 0x47485331;

// The transaction-level advisory lock every instance's log writer takes before its first request row
// and holds to its commit ("GHSQ"), so that requests.seq is taken in commit order (pglogwriter.cpp).
inline constexpr qint64 kSeqLockKey = 0x47485351;

// Brings the database to `upTo` (the latest when 0) under pg_advisory_lock(kMigrationLockKey), so
// that of several instances starting at once exactly one runs each step and the others wait for it
// and find the schema current. Each step is one transaction and adds its row to gatehouse_schema.
// Refuses a database from a newer build and one that holds another application's tables. False and
// *error on failure (the database is left at the last step that committed).
[[nodiscard]] bool migrate(pg::Connection &conn, QString *error, int upTo = 0);

// The schema version of the database (0: none), or -1 when it cannot be read.
[[nodiscard]] int schemaVersion(pg::Connection &conn);

} // namespace gh::store::postgres
