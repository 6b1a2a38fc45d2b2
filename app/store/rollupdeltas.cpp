#include "store/rollupdeltas.h"
#include "store/requestcodec.h"
#include <algorithm>

namespace gh::store {

namespace {

// "INSERT INTO <head> VALUES (?1, ...), (...) ON CONFLICT <tail>" for `rows` rows of `columns`.
QByteArray upsert(const char *head, int columns, int rows, const char *tail)
{
    QByteArray sql = QByteArray("INSERT INTO ") + head + " VALUES ";
    for (int r = 0; r < rows; ++r) {
        sql += r > 0 ? ", (" : "(";
        for (int c = 1; c <= columns; ++c)
            sql += (c > 1 ? ", ?" : "?") + QByteArray::number(r * columns + c);
        sql += ')';
    }
    return sql + " ON CONFLICT " + tail;
}

} // namespace

std::optional<qint64> RollupBuckets::bucketOf(qint64 v) const
{
    v = std::max<qint64>(0, v);
    auto it = std::upper_bound(latency.begin(), latency.end(), v,
                               [](qint64 x, const std::pair<qint64, qint64> &b) { return x < b.first; });
    if (it == latency.begin())
        return std::nullopt;
    return std::prev(it)->second;
}

qint64 RollupBuckets::sizeBucketOf(qint64 s) const
{
    auto it = std::lower_bound(sizes.begin(), sizes.end(), s,
                               [](const std::pair<qint64, qint64> &b, qint64 x) { return b.first < x; });
    return it == sizes.begin() ? 0 : std::prev(it)->second;
}

QByteArray encodeBlocks(const QList<quint64> &blocks)
{
    QByteArray out(blocks.size() * 8, Qt::Uninitialized);
    for (qsizetype i = 0; i < blocks.size(); ++i) {
        const quint64 v = blocks.at(i);
        for (int b = 0; b < 8; ++b)
            out[i * 8 + b] = char((v >> (8 * b)) & 0xff);
    }
    return out;
}

std::vector<bool> blocksToWrite(const std::vector<RequestRecord> &batch)
{
    std::vector<bool> writeBlocks(batch.size(), false);
    std::map<qint64, int> seen;
    for (std::size_t i = batch.size(); i-- > 0;) {
        if (!batch[i].promptBlocks.isEmpty())
            writeBlocks[i] = seen[batch[i].keyId]++ < kPromptPrefixesPerKey;
    }
    return writeBlocks;
}

QString rollupModel(const RequestRecord &r)
{
    if (!r.modelId.isEmpty())
        return r.modelId;
    if (!r.provider.isEmpty() && !r.upstreamModel.isEmpty())
        return r.provider + QLatin1Char('/') + r.upstreamModel;
    return QString();
}

void foldIntoRollups(const RollupBuckets &buckets, const RequestRecord &r, BatchRollups &rollups)
{
    // Exactly the figures of migration 4's request_facts (and its former insert trigger).
    const QString model = rollupModel(r);
    const Usage &u = r.usage;
    const bool ok = isSuccess(r);
    const bool streamed = ok && r.stream && r.ttftMs >= 0 && r.latencyMs > r.ttftMs && u.outputTokens > 0;
    const qint64 tokens = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens + u.cacheWrite1hTokens
        + u.outputTokens;
    const std::optional<qint64> latencyBucket = ok ? buckets.bucketOf(r.latencyMs) : std::nullopt;
    const std::optional<qint64> ttftBucket = ok && r.ttftMs >= 0 ? buckets.bucketOf(r.ttftMs) : std::nullopt;
    for (int grain : {0, 1}) {
        const qint64 t = r.startedAtMs / (grain == 0 ? 3'600'000 : 86'400'000);
        RollupDelta &d = rollups.rollups[RollupKey{grain, t, r.keyId, model, r.provider}];
        d.requests += 1;
        d.refused += r.attempts == 0;
        d.cancelled += r.attempts > 0 && r.status == 499;
        d.errors += r.attempts > 0 && r.status != 499 && !ok;
        d.cost += r.cost.value_or(0);
        d.unpriced += !r.cost && tokens > 0;
        d.inputTokens += u.inputTokens;
        d.cacheReadTokens += u.cacheReadTokens;
        d.cacheWriteTokens += u.cacheWriteTokens;
        d.cacheWrite1hTokens += u.cacheWrite1hTokens;
        d.outputTokens += u.outputTokens;
        if (streamed) {
            d.streamOutputTokens += u.outputTokens;
            d.streamGenerationMs += r.latencyMs - r.ttftMs;
        }
        if (latencyBucket)
            ++rollups.latency[RollupLatencyKey{grain, t, r.keyId, model, 0, *latencyBucket}];
        if (ttftBucket)
            ++rollups.latency[RollupLatencyKey{grain, t, r.keyId, model, 1, *ttftBucket}];
    }
    if (tokens > 0) {
        const qint64 day = r.startedAtMs / 86'400'000;
        RollupSizeDelta &p = rollups.sizes[RollupSizeKey{day, r.keyId, model, 0, buckets.sizeBucketOf(u.totalInput())}];
        ++p.n;
        p.inputTokens += u.inputTokens;
        p.cacheReadTokens += u.cacheReadTokens;
        p.cacheWriteTokens += u.cacheWriteTokens;
        p.cacheWrite1hTokens += u.cacheWrite1hTokens;
        p.outputTokens += u.outputTokens;
        ++rollups.sizes[RollupSizeKey{day, r.keyId, model, 1, buckets.sizeBucketOf(tokens)}].n;
    }
}

// The target's columns are named with the table ("rollups.requests"): PostgreSQL finds a bare name
// ambiguous between the row and `excluded`; SQLite takes either.
QByteArray upsertRollupsSql(int rows)
{
    return upsert("rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, "
                  "unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
                  "stream_output_tokens, stream_generation_ms)",
                  kRollupColumns, rows,
                  "(grain, t, key_id, model, provider) DO UPDATE SET "
                  "requests = rollups.requests + excluded.requests, "
                  "refused = rollups.refused + excluded.refused, "
                  "cancelled = rollups.cancelled + excluded.cancelled, "
                  "errors = rollups.errors + excluded.errors, "
                  "cost_nano_usd = rollups.cost_nano_usd + excluded.cost_nano_usd, "
                  "unpriced = rollups.unpriced + excluded.unpriced, "
                  "input_tokens = rollups.input_tokens + excluded.input_tokens, "
                  "cache_read_tokens = rollups.cache_read_tokens + excluded.cache_read_tokens, "
                  "cache_write_tokens = rollups.cache_write_tokens + excluded.cache_write_tokens, "
                  "cache_write_1h_tokens = rollups.cache_write_1h_tokens + excluded.cache_write_1h_tokens, "
                  "output_tokens = rollups.output_tokens + excluded.output_tokens, "
                  "stream_output_tokens = rollups.stream_output_tokens + excluded.stream_output_tokens, "
                  "stream_generation_ms = rollups.stream_generation_ms + excluded.stream_generation_ms");
}

QByteArray upsertRollupLatencySql(int rows)
{
    return upsert("rollup_latency (grain, t, key_id, model, metric, bucket, n)", kRollupLatencyColumns, rows,
                  "(grain, t, key_id, model, metric, bucket) DO UPDATE SET n = rollup_latency.n + excluded.n");
}

QByteArray upsertRollupSizesSql(int rows)
{
    return upsert("rollup_sizes (t, key_id, model, metric, bucket, n, input_tokens, cache_read_tokens, cache_write_tokens, "
                  "cache_write_1h_tokens, output_tokens)",
                  kRollupSizeColumns, rows,
                  "(t, key_id, model, metric, bucket) DO UPDATE SET n = rollup_sizes.n + excluded.n, "
                  "input_tokens = rollup_sizes.input_tokens + excluded.input_tokens, "
                  "cache_read_tokens = rollup_sizes.cache_read_tokens + excluded.cache_read_tokens, "
                  "cache_write_tokens = rollup_sizes.cache_write_tokens + excluded.cache_write_tokens, "
                  "cache_write_1h_tokens = rollup_sizes.cache_write_1h_tokens + excluded.cache_write_1h_tokens, "
                  "output_tokens = rollup_sizes.output_tokens + excluded.output_tokens");
}

} // namespace gh::store
