#pragma once
#include "core/money.h"
#include "pricing/price.h"
#include <QList>
#include <QString>
#include <optional>

struct sqlite3;

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
// From the daily rollups when the slice has no session and the candidate's price is flat (a sum of
// usage priced once equals the sum of the requests' prices, but for the rounding to the nano-dollar
// of each request); from the request rows otherwise (tiers are chosen per request by its prompt).
[[nodiscard]] Result compute(sqlite3 *db, const Slice &slice, const Candidate &candidate);

// Requests of the slice whose prompt and output together exceed `contextWindow` tokens: they would
// not fit the candidate. Read from the request rows (the rollups keep no sizes), so apart from
// compute(): a page shows the prices at once and this count when it arrives, once per slice and
// window. 0 when the window is unknown (<= 0); nullopt when the log cannot be read.
[[nodiscard]] std::optional<qint64> countOverContext(sqlite3 *db, const Slice &slice, qint64 contextWindow);

// Capabilities ("tools", "vision", "json_schema"...) the slice's models have and the candidate does
// not. A candidate whose capabilities are unknown lacks nothing we can name (nullopt in, empty out).
[[nodiscard]] QStringList missingCapabilities(const QList<std::optional<QStringList>> &used, const std::optional<QStringList> &candidate);

} // namespace gh::whatif
