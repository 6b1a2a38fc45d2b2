#pragma once
#include "config/config.h"
#include "core/money.h"
#include "pricing/price.h"
#include <QHash>
#include <QList>
#include <QString>
#include <optional>

struct sqlite3;

namespace gh::store {
struct SqliteReadDb;
struct PgReadDb;
} // namespace gh::store

namespace gh::whatif {

// A slice of the request log: whole UTC days [fromMs, toMs), optionally one key, one model (the
// model id that served) and one client session.
struct Slice {
    qint64 fromMs = 0;
    qint64 toMs = 0;
    qint64 keyId = 0;  // 0: every key
    QString model;     // empty: every model
    QString session;   // empty: every session (a session is read from the request rows)
};

// The model the slice is re-priced on: its catalog (or configured) price and context window.
struct Candidate {
    ModelPrice price;
};

struct Day {
    qint64 dayMs = 0;                    // UTC midnight
    qint64 requests = 0;
    NanoUsd actual = 0;                  // what was spent (priced requests)
    std::optional<NanoUsd> candidate;    // the same tokens at the candidate's prices; nullopt: it is unpriced
};

struct Result {
    bool ok = false;
    QString error;
    QList<Day> days;           // every day of the slice, oldest first
    qint64 requests = 0;
    qint64 unpricedActual = 0; // requests with usage and no price: their actual cost is unknown, not 0
    NanoUsd actualTotal = 0;
    std::optional<NanoUsd> candidateTotal;
    bool fromRollups = false;  // read from the daily rollups (else from the request rows)
};

// Re-prices the slice's token usage (uncached input, cache reads and writes, output) at the
// candidate's prices; a candidate without cache prices bills cached tokens as input, as it would.
// From the daily rollups when the slice has no session (a sum of usage priced once equals the sum of
// the requests' prices, but for the rounding to the nano-dollar of each request): a flat price from
// the rollups, a tiered one from the request-size histogram (migration 18) when every tier starts at
// one of its bounds. From the request rows otherwise (tiers chosen per request by its prompt).
[[nodiscard]] Result compute(sqlite3 *db, const Slice &slice, const Candidate &candidate);
[[nodiscard]] Result compute(const store::SqliteReadDb &db, const Slice &slice, const Candidate &candidate);
[[nodiscard]] Result compute(const store::PgReadDb &db, const Slice &slice, const Candidate &candidate);

// Requests of the slice whose prompt and output together exceed `contextWindow` tokens: they would
// not fit the candidate. From the request-size histogram (migration 18) when the window is one of its
// bounds and the slice has no session, else from the request rows. 0 when the window is unknown
// (<= 0); nullopt when the log cannot be read.
[[nodiscard]] std::optional<qint64> countOverContext(sqlite3 *db, const Slice &slice, qint64 contextWindow);
[[nodiscard]] std::optional<qint64> countOverContext(const store::SqliteReadDb &db, const Slice &slice, qint64 contextWindow);
[[nodiscard]] std::optional<qint64> countOverContext(const store::PgReadDb &db, const Slice &slice, qint64 contextWindow);

// Capabilities ("tools", "vision", "json_schema"...) the slice's models have and the candidate does
// not. A candidate whose capabilities are unknown lacks nothing we can name (nullopt in, empty out).
[[nodiscard]] QStringList missingCapabilities(const QList<std::optional<QStringList>> &used, const std::optional<QStringList> &candidate);

// A model the slice's requests were served by (the rollups' model name), with its requests and spend.
struct ModelUse {
    QString model;
    qint64 requests = 0;
    NanoUsd cost = 0;
};

// The models of the slice, most requests first (rollups; the rows for a session). Empty on failure.
[[nodiscard]] QList<ModelUse> modelsUsed(sqlite3 *db, const Slice &slice);

// Compare votes of all time, by model id (votes belong to no key or period of the log).
[[nodiscard]] QHash<QString, VoteStats> compareVotes(sqlite3 *db);

// Everything the What-if page shows for one slice and candidate, read in one go off the UI thread.
struct Report {
    Result result;
    std::optional<qint64> overContext; // countOverContext(); nullopt: could not be read
    QList<ModelUse> models;            // modelsUsed(slice)
    QList<ModelUse> modelsInPeriod;    // modelsUsed() of the slice's days, every key, model and session
    QHash<QString, VoteStats> votes;   // compareVotes()
};
[[nodiscard]] Report report(sqlite3 *db, const Slice &slice, const Candidate &candidate, qint64 contextWindow);
// The same on either back-end's read connection, in its instance scope (store/readdb.h): one
// instance's slice is read from its rows (the rollups have no instance).
[[nodiscard]] Report report(const store::SqliteReadDb &db, const Slice &slice, const Candidate &candidate, qint64 contextWindow);
[[nodiscard]] Report report(const store::PgReadDb &db, const Slice &slice, const Candidate &candidate, qint64 contextWindow);

} // namespace gh::whatif
