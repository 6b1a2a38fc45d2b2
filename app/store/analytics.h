#pragma once
#include "config/config.h"
#include "core/money.h"
#include <optional>
#include <QHash>
#include <QList>
#include <QString>

struct sqlite3;

namespace gh::store {
struct SqliteReadDb;
struct PgReadDb;
} // namespace gh::store

namespace gh {

// Read queries of the Rankings and Cache pages over the request log, from the rollups kept by
// migration 4's triggers (`rollups`, `rollup_latency`: per UTC hour and per UTC day x key x model x
// provider). A period [fromMs, toMs) is read as whole days from the daily rollups, the hours around
// them from the hourly ones, and the partial hours at either end from the raw rows (through the
// `request_facts` view, on the started_at_ms index), so every total is exact for any period.
//
// Token counts are the log's: input_tokens is the UNCACHED input (providers/usage.h normalizes
// OpenAI's and Gemini's prompt counts, which include cached tokens, down to it; Anthropic's already
// excludes cache reads and writes). So the cache hit rate is
//   cache_read / (input + cache_read + cache_write + cache_write_1h),
// the share of all prompt tokens that were read from the provider's cache.
//
// Classification of a request (the same in the triggers and in the raw reads):
//   refused   never reached a provider (attempts = 0: authentication, budget, rate limit, no route);
//             counted in `requests` but in no rate;
//   cancelled the client went away (499) after the request was sent: not the model's fault;
//   error     sent upstream and did not end 2xx without an error (499 excluded);
//   ok        2xx without an error; only these feed latency, TTFT and tokens/s.
// error rate = errors / (requests - refused - cancelled).

// Latency or time-to-first-token counts in the log-spaced buckets of the latency_buckets table.
class LatencyHistogram
{
public:
    // bounds: the lower bound (ms) of each bucket, ascending (bucketBounds()).
    void add(int bucket, qint64 n);
    void merge(const LatencyHistogram &other);
    [[nodiscard]] qint64 count() const { return m_total; }
    [[nodiscard]] const QList<qint64> &counts() const { return m_counts; }
    // The nearest-rank p-quantile (0 < p <= 1) in ms, estimated as the geometric middle of the
    // integer values of the bucket that holds it; -1 when empty. The true quantile lies in the same
    // bucket, so the estimate is within sqrt((hi - 1) / lo) - 1 <= 9.1% of it (buckets are at most
    // 2^(1/4) wide; the open last bucket, from about 59 minutes, reports its lower bound).
    [[nodiscard]] double percentile(double p, const QList<qint64> &bounds) const;

private:
    QList<qint64> m_counts;
    qint64 m_total = 0;
};

namespace analytics {

// Sums of one group of requests (one rollup row, or several added up).
struct Sums {
    qint64 requests = 0;
    qint64 refused = 0;
    qint64 cancelled = 0;
    qint64 errors = 0;
    NanoUsd cost = 0; // priced requests only
    qint64 unpriced = 0; // sent upstream with an unknown cost
    qint64 inputTokens = 0; // uncached input
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0; // 5-minute (default) TTL
    qint64 cacheWrite1hTokens = 0;
    qint64 outputTokens = 0;
    qint64 streamOutputTokens = 0; // ok streamed requests with a first token and output
    qint64 streamGenerationMs = 0; // their latency - time to first token
    Sums &operator+=(const Sums &o);

    [[nodiscard]] qint64 promptTokens() const
    {
        return inputTokens + cacheReadTokens + cacheWriteTokens + cacheWrite1hTokens;
    }
    // cacheRead / every prompt token; -1 when there were no prompt tokens.
    [[nodiscard]] double cacheHitRate() const;
    // errors / requests that reached a provider and were not cancelled; -1 when none.
    [[nodiscard]] double errorRate() const;
    // Output tokens per second of generation (after the first token) over streamed requests: total
    // streamed output tokens / total generation time, so long answers weigh more; -1 when none.
    [[nodiscard]] double tokensPerSecond() const;
};

// USD per million tokens of a configured model (models table); nullopt: unknown.
struct Prices {
    std::optional<double> input, output, cacheRead, cacheWrite, cacheWrite1h;
    // What `s`'s tokens would cost at these prices (cache prices fall back to the input price, the
    // 1-hour write price to the 5-minute one); nullopt without input and output prices.
    [[nodiscard]] std::optional<NanoUsd> cost(const Sums &s) const;
    // What reading `cacheReadTokens` from the cache saved against the uncached input price:
    // tokens * (input - cache_read) / 1e6 USD (0 without a cache-read price: reads are then billed
    // as input); nullopt without an input price.
    [[nodiscard]] std::optional<NanoUsd> cacheSavings(qint64 cacheReadTokens) const;
};
[[nodiscard]] QHash<QString, Prices> modelPrices(sqlite3 *db);

// The lower bounds of the latency buckets, from the database (empty when it has no rollups).
[[nodiscard]] QList<qint64> bucketBounds(sqlite3 *db);
// The bucket of `ms` for `bounds` (as the triggers compute it).
[[nodiscard]] int bucketOf(qint64 ms, const QList<qint64> &bounds);

// How a period is read: raw rows for the partial hours at the ends, hourly rollups for the partial
// days, daily rollups in between.
struct Segment {
    enum Kind { Raw, Hour, Day } kind = Raw;
    qint64 fromMs = 0; // [fromMs, toMs), on hour / day boundaries for Hour / Day
    qint64 toMs = 0;
    friend bool operator==(const Segment &, const Segment &) = default;
};
[[nodiscard]] QList<Segment> plan(qint64 fromMs, qint64 toMs);

struct Period {
    qint64 fromMs = 0; // 0: from the first request
    qint64 toMs = 0; // exclusive
    std::optional<qint64> keyId; // only this key's requests
};

// --- Rankings ---
struct ModelRanking {
    QString model; // model id (provider/upstream_model for rows logged before model ids)
    QString provider;
    Sums sums;
    LatencyHistogram latency; // ok requests, ms
    LatencyHistogram ttft; // ok requests with a first token, ms
    VoteStats votes; // Compare rounds in the period (votes do not belong to a key)
    QList<qint64> trendRequests; // per slice of the period
    QList<NanoUsd> trendCost;

    // USD per 1,000 output tokens; -1 with no output or unpriced requests only.
    [[nodiscard]] double costPer1kOutput() const;
    // wins / rounds; -1 without rounds.
    [[nodiscard]] double winRate() const;
};

// "You could save": a cheaper model that won at least as often in the user's own Compare votes.
struct Saving {
    QString model; // the model used in the period
    QString alternative; // the cheaper model
    NanoUsd spend = 0; // what `model` cost in the period
    NanoUsd alternativeCost = 0; // the same tokens at the alternative's prices
    double modelWinRate = 0; // all-time Compare votes
    double alternativeWinRate = 0;
    int modelRounds = 0;
    int alternativeRounds = 0;
};

struct RankingsQuery {
    Period period;
    int slices = 30; // trend points over the period
    int minRounds = 5; // Compare rounds each model needs before a saving is suggested
    // Prices by model id as the gateway bills them (catalog, config and the user's overrides), over
    // the `models` table's (which holds configured models only, not the catalog's).
    QHash<QString, Prices> prices;
};

struct Rankings {
    bool ok = false;
    QString error;
    qint64 fromMs = 0; // the period as read ("all": from the first rolled-up day)
    qint64 toMs = 0;
    QList<qint64> bounds; // bucket lower bounds of the histograms
    QList<ModelRanking> models; // every model with requests, by spend, then requests
    QList<Saving> savings; // largest saving first
};
[[nodiscard]] Rankings rankings(sqlite3 *db, const RankingsQuery &query);
// The same on either back-end's read connection, in its instance scope (store/readdb.h).
[[nodiscard]] Rankings rankings(const store::SqliteReadDb &db, const RankingsQuery &query);
[[nodiscard]] Rankings rankings(const store::PgReadDb &db, const RankingsQuery &query);

// --- Cache ---
struct CacheGroup {
    QString name; // provider id, model id or key name
    qint64 keyId = 0; // by key only
    Sums sums;
    NanoUsd saved = 0; // cache reads priced against the uncached input price
    qint64 unpricedReadTokens = 0; // cache reads of models without input / cache-read prices
    // What cache reads would have saved had every prompt token not written to cache (uncached input
    // and reads) been read from it, at each model's prices (0 for a model without a cache-read
    // price). Reads at a fraction f of those tokens, in every model alike, save f times this: the
    // Cache page's "hit rate at X% instead of Y%".
    NanoUsd savedAtFullHit = 0;
};

struct CacheBucket {
    qint64 fromMs = 0; // the chart's bucket [fromMs, toMs)
    qint64 toMs = 0;
    Sums sums;
    NanoUsd saved = 0;
};

struct CacheQuery {
    Period period;
    // The chart's buckets: N + 1 ascending edges (e.g. local midnights). Read from the hourly rollups
    // (daily ones when the chart spans more than 92 days); a rollup row goes to the bucket holding
    // its middle.
    QList<qint64> chartEdges;
    // As RankingsQuery::prices: without them a model priced only by the catalog looked unpriced
    // here ("$0.00 saved") while it was priced everywhere else.
    QHash<QString, Prices> prices;
};

struct CacheReport {
    bool ok = false;
    QString error;
    CacheGroup total;
    QList<CacheGroup> byProvider; // by prompt tokens, largest first
    QList<CacheGroup> byModel;
    QList<CacheGroup> byKey;
    QList<CacheBucket> chart;
    // Gatehouse's own response cache (cache/responsecache.h) over the period: requests answered from
    // it, requests it looked up (hits and misses; bypasses are not lookups), and what the hits saved.
    qint64 responseHits = 0;
    qint64 responseLookups = 0;
    NanoUsd responseSaved = 0;
};
[[nodiscard]] CacheReport cacheReport(sqlite3 *db, const CacheQuery &query);
[[nodiscard]] CacheReport cacheReport(const store::SqliteReadDb &db, const CacheQuery &query);
[[nodiscard]] CacheReport cacheReport(const store::PgReadDb &db, const CacheQuery &query);

// --- Prefix diagnosis ---
// Where consecutive prompts of a key start to differ, from the block hashes of prompt_prefixes
// (the latest 200 requests of each key; no prompt text is stored).
struct PrefixDiagnosis {
    qint64 keyId = 0;
    int prompts = 0; // rows read
    int pairs = 0; // consecutive pairs compared
    int kept = 0; // pairs whose newer prompt starts with the whole older one (cache-friendly)
    // The most common first difference among the other pairs: its block and byte offset, the part
    // of the prompt it falls in ("system", "tools", "messages") and how many pairs differ there.
    int block = -1;
    qint64 byte = -1;
    QString section;
    int atBlock = 0;
    QHash<int, int> firstDifference; // block -> pairs that first differ there
};
[[nodiscard]] PrefixDiagnosis diagnosePrefixes(sqlite3 *db, qint64 keyId, int limit = 200);
[[nodiscard]] PrefixDiagnosis diagnosePrefixes(const store::SqliteReadDb &db, qint64 keyId, int limit = 200);
[[nodiscard]] PrefixDiagnosis diagnosePrefixes(const store::PgReadDb &db, qint64 keyId, int limit = 200);
// The start (ms, UTC midnight) of the first day with requests (of the scope's instance when scoped);
// nullopt when none or when the read failed.
[[nodiscard]] std::optional<qint64> firstRolledUpDayMs(const store::SqliteReadDb &db);
[[nodiscard]] std::optional<qint64> firstRolledUpDayMs(const store::PgReadDb &db);
// The first block index where two prompts' hashes differ, or -1 when `newer` starts with all of
// `older` (the older prompt's last block may be partial: a difference there counts as growth).
[[nodiscard]] int firstDifference(const QList<quint64> &older, const QList<quint64> &newer);
[[nodiscard]] QList<quint64> decodeBlocks(const QByteArray &blob);

} // namespace analytics

// The analytics over a database file on a read-only connection of its own (benchmarks, tools). The
// window runs the analytics:: functions on its query thread's connection instead.
class Analytics
{
public:
    Analytics() = default;
    ~Analytics();
    Analytics(const Analytics &) = delete;
    Analytics &operator=(const Analytics &) = delete;

    [[nodiscard]] bool open(const QString &path, QString *error = nullptr);
    void close();
    [[nodiscard]] sqlite3 *handle() const { return m_db; }

    [[nodiscard]] analytics::Rankings rankings(const analytics::RankingsQuery &query) const;
    [[nodiscard]] analytics::CacheReport cache(const analytics::CacheQuery &query) const;
    [[nodiscard]] analytics::PrefixDiagnosis prefixes(qint64 keyId) const;

private:
    sqlite3 *m_db = nullptr;
};

} // namespace gh
