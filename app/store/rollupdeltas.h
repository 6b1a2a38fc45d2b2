#pragma once
#include "store/requestrecord.h"
#include <QByteArray>
#include <QString>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

// The rollups (rollups, rollup_latency, rollup_sizes) as both log writers keep them: a batch's rows
// folded into one delta per rollup row with the figures of the request_facts view, then one
// additive upsert per row (x = x + excluded.x), so that writers adding to the same rows (PostgreSQL:
// the instances of a team) never lose each other's counts.
namespace gh::store {

// grain (0: hour, 1: day), t, key_id, model, provider
using RollupKey = std::tuple<int, qint64, qint64, QString, QString>;
// grain, t, key_id, model, metric (0: latency, 1: ttft), bucket
using RollupLatencyKey = std::tuple<int, qint64, qint64, QString, int, qint64>;
// t (day), key_id, model, metric (0: prompt, 1: prompt + output), bucket
using RollupSizeKey = std::tuple<qint64, qint64, QString, int, qint64>;

struct RollupSizeDelta {
    qint64 n = 0, inputTokens = 0, cacheReadTokens = 0, cacheWriteTokens = 0, cacheWrite1hTokens = 0, outputTokens = 0;
};

struct RollupDelta {
    qint64 requests = 0, refused = 0, cancelled = 0, errors = 0, cost = 0, unpriced = 0;
    qint64 inputTokens = 0, cacheReadTokens = 0, cacheWriteTokens = 0, cacheWrite1hTokens = 0, outputTokens = 0;
    qint64 streamOutputTokens = 0, streamGenerationMs = 0;
};

// A batch's rollup deltas (rows actually inserted only) and the keys whose prefixes grew. Ordered
// maps: every writer upserts rows in the same order.
struct BatchRollups {
    std::map<RollupKey, RollupDelta> rollups;
    std::map<RollupLatencyKey, qint64> latency;
    std::map<RollupSizeKey, RollupSizeDelta> sizes;
    std::set<qint64> prefixKeys;
};

// The fixed bucket tables (latency_buckets, size_buckets), read once per connection.
struct RollupBuckets {
    std::vector<std::pair<qint64, qint64>> latency; // (lo, bucket) by lo
    std::vector<std::pair<qint64, qint64>> sizes;   // (above, bucket) by above

    [[nodiscard]] bool loaded() const { return !latency.empty() && !sizes.empty(); }
    // The bucket of v as `SELECT bucket FROM latency_buckets WHERE lo <= max(0, v) ORDER BY lo DESC LIMIT 1`.
    [[nodiscard]] std::optional<qint64> bucketOf(qint64 v) const;
    // The size bucket of s > 0 as `SELECT bucket FROM size_buckets WHERE above < s ORDER BY above DESC LIMIT 1`.
    [[nodiscard]] qint64 sizeBucketOf(qint64 s) const;

    // Reads both tables through `Db`'s statements (sqlite::Statement or pg::Statement). False and
    // *error when a read fails or a table is empty.
    template <typename MakeStatement> bool load(MakeStatement prepare, QString *error)
    {
        if (loaded())
            return true;
        auto read = [&](const char *sql, std::vector<std::pair<qint64, qint64>> &out, const char *name) {
            auto s = prepare(sql);
            std::vector<std::pair<qint64, qint64>> rows;
            while (s.next())
                rows.emplace_back(s.integer(0), s.integer(1));
            if (!s.ok() || rows.empty()) {
                *error = QStringLiteral("cannot read the %1: %2")
                             .arg(QLatin1String(name), s.ok() ? QStringLiteral("the table is empty") : s.error());
                return false;
            }
            out = std::move(rows);
            return true;
        };
        if (!read("SELECT lo, bucket FROM latency_buckets ORDER BY lo", latency, "latency buckets")
            || !read("SELECT above, bucket FROM size_buckets ORDER BY above", sizes, "size buckets")) {
            latency.clear();
            sizes.clear();
            return false;
        }
        return true;
    }
};

// The rollup model of a row: CASE WHEN model_id <> '' THEN model_id WHEN provider <> '' AND
// upstream_model <> '' THEN provider || '/' || upstream_model ELSE '' END.
[[nodiscard]] QString rollupModel(const RequestRecord &r);

// Adds an inserted row to the batch's deltas: exactly the figures of request_facts.
void foldIntoRollups(const RollupBuckets &buckets, const RequestRecord &r, BatchRollups &rollups);

// The prompt prefixes of the Cache page's diagnosis (prompt_prefixes), kept by both writers: only
// the latest kPromptPrefixesPerKey rows of each key (trimmed once per batch). A batch writes at most
// that many per key: its earlier rows would be trimmed in the same transaction.
inline constexpr int kPromptPrefixesPerKey = 200;
inline constexpr char kPromptPrefixColumns[] = "request_seq, key_id, started_at_ms, system_bytes, tools_bytes, blocks";
inline constexpr int kPromptPrefixColumnCount = 6;
inline constexpr char kTrimPromptPrefixes[]
    = "DELETE FROM prompt_prefixes WHERE key_id = ?1 AND request_seq <= (SELECT request_seq FROM prompt_prefixes "
      "WHERE key_id = ?1 ORDER BY request_seq DESC LIMIT 1 OFFSET ?2)"; // ?2: kPromptPrefixesPerKey
// The prompt's block hashes as stored: 8 bytes per block, little-endian.
[[nodiscard]] QByteArray encodeBlocks(const QList<quint64> &blocks);
// Which rows' prompt blocks to write: the latest kPromptPrefixesPerKey of each key in the batch.
[[nodiscard]] std::vector<bool> blocksToWrite(const std::vector<RequestRecord> &batch);
// A prompt_prefixes row at ?1..?6 (kPromptPrefixColumns), on either writer's statement or row
// builder (bindInt, bindBlob).
template<class S>
void bindPromptPrefix(S &s, qint64 seq, const RequestRecord &r)
{
    s.bindInt(1, seq);
    s.bindInt(2, r.keyId);
    s.bindInt(3, r.startedAtMs);
    s.bindInt(4, r.promptSystemBytes);
    s.bindInt(5, r.promptToolsBytes);
    s.bindBlob(6, encodeBlocks(r.promptBlocks));
}

// An attempt row to insert: its request's seq, its 1-based index, the attempt.
struct AttemptRow {
    qint64 seq;
    qint64 idx;
    const AttemptRecord *a;
};
inline constexpr char kAttemptColumns[]
    = "request_seq, idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms";
inline constexpr int kAttemptColumnCount = 9;
// An attempts row at ?1..?9 (kAttemptColumns).
template<class S>
void bindAttempt(S &s, const AttemptRow &row)
{
    s.bindInt(1, row.seq);
    s.bindInt(2, row.idx);
    s.bindText(3, row.a->modelId);
    s.bindText(4, row.a->provider);
    s.bindText(5, QLatin1String(outcomeName(row.a->outcome)));
    s.bindInt(6, row.a->status);
    s.bindText(7, row.a->error);
    s.bindInt(8, row.a->startedAtMs);
    s.bindInt(9, row.a->latencyMs);
}

// The additive upserts of `rows` rows each (VALUES lists of ?1..?(rows * columns)).
inline constexpr int kRollupColumns = 18;
inline constexpr int kRollupLatencyColumns = 7;
inline constexpr int kRollupSizeColumns = 11;
[[nodiscard]] QByteArray upsertRollupsSql(int rows);
[[nodiscard]] QByteArray upsertRollupLatencySql(int rows);
[[nodiscard]] QByteArray upsertRollupSizesSql(int rows);

// Binds one row of those upserts at ?(base + 1)...
template <typename S> void bindRollup(S &s, int base, const RollupKey &key, const RollupDelta &d)
{
    s.bindInt(base + 1, std::get<0>(key));
    s.bindInt(base + 2, std::get<1>(key));
    s.bindInt(base + 3, std::get<2>(key));
    s.bindText(base + 4, std::get<3>(key));
    s.bindText(base + 5, std::get<4>(key));
    const qint64 values[] = {d.requests,         d.refused,          d.cancelled,          d.errors,
                             d.cost,             d.unpriced,         d.inputTokens,        d.cacheReadTokens,
                             d.cacheWriteTokens, d.cacheWrite1hTokens, d.outputTokens,     d.streamOutputTokens,
                             d.streamGenerationMs};
    for (int i = 0; i < 13; ++i)
        s.bindInt(base + 6 + i, values[i]);
}

template <typename S> void bindRollupLatency(S &s, int base, const RollupLatencyKey &key, qint64 n)
{
    s.bindInt(base + 1, std::get<0>(key));
    s.bindInt(base + 2, std::get<1>(key));
    s.bindInt(base + 3, std::get<2>(key));
    s.bindText(base + 4, std::get<3>(key));
    s.bindInt(base + 5, std::get<4>(key));
    s.bindInt(base + 6, std::get<5>(key));
    s.bindInt(base + 7, n);
}

template <typename S> void bindRollupSize(S &s, int base, const RollupSizeKey &key, const RollupSizeDelta &d)
{
    s.bindInt(base + 1, std::get<0>(key));
    s.bindInt(base + 2, std::get<1>(key));
    s.bindText(base + 3, std::get<2>(key));
    s.bindInt(base + 4, std::get<3>(key));
    s.bindInt(base + 5, std::get<4>(key));
    s.bindInt(base + 6, d.n);
    s.bindInt(base + 7, d.inputTokens);
    s.bindInt(base + 8, d.cacheReadTokens);
    s.bindInt(base + 9, d.cacheWriteTokens);
    s.bindInt(base + 10, d.cacheWrite1hTokens);
    s.bindInt(base + 11, d.outputTokens);
}

} // namespace gh::store
