#include "store/analytics.h"
#include "core/logging.h"
#include "store/readdb.h"
#include <algorithm>
#include <cmath>
#include <functional>

namespace gh {

namespace {

constexpr qint64 kHourMs = 3'600'000;
constexpr qint64 kDayMs = 86'400'000;

qint64 floorTo(qint64 v, qint64 unit)
{
    return (v >= 0 ? v : v - unit + 1) / unit * unit;
}
qint64 ceilTo(qint64 v, qint64 unit)
{
    return floorTo(v + unit - 1, unit);
}

using store::arg;
using store::Value;

// Texts seen in a read, each converted to a QString once.
class Interner
{
public:
    int id(const QByteArray &raw)
    {
        const auto it = m_ids.constFind(raw);
        if (it != m_ids.cend())
            return *it;
        const QByteArray copy(raw.constData(), raw.size());
        m_texts.append(QString::fromUtf8(copy));
        return *m_ids.insert(copy, int(m_texts.size()) - 1);
    }
    [[nodiscard]] const QString &text(int id) const { return m_texts.at(id); }

private:
    QHash<QByteArray, int> m_ids;
    QStringList m_texts;
};

constexpr const char *kSumColumns
    = "requests, refused, cancelled, errors, cost_nano_usd, unpriced, input_tokens, cache_read_tokens, "
      "cache_write_tokens, cache_write_1h_tokens, output_tokens, stream_output_tokens, stream_generation_ms";
constexpr const char *kRawSums
    = "count(*), sum(refused), sum(cancelled), sum(errors), sum(cost_nano_usd), sum(unpriced), sum(input_tokens), "
      "sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens), "
      "sum(stream_output_tokens), sum(stream_generation_ms)";

template <typename S> analytics::Sums readSums(const S &s, int first)
{
    analytics::Sums r;
    r.requests = s.integer(first);
    r.refused = s.integer(first + 1);
    r.cancelled = s.integer(first + 2);
    r.errors = s.integer(first + 3);
    r.cost = s.integer(first + 4);
    r.unpriced = s.integer(first + 5);
    r.inputTokens = s.integer(first + 6);
    r.cacheReadTokens = s.integer(first + 7);
    r.cacheWriteTokens = s.integer(first + 8);
    r.cacheWrite1hTokens = s.integer(first + 9);
    r.outputTokens = s.integer(first + 10);
    r.streamOutputTokens = s.integer(first + 11);
    r.streamGenerationMs = s.integer(first + 12);
    return r;
}

// One rollup row (or the raw rows of a partial hour) of one key x model x provider.
struct Cell {
    qint64 fromMs = 0;
    qint64 toMs = 0;
    qint64 keyId = 0;
    int model = 0; // Interner ids
    int provider = 0;
    analytics::Sums sums;
};

qint64 unitOf(analytics::Segment::Kind kind)
{
    return kind == analytics::Segment::Day ? kDayMs : kHourMs;
}

// The segments to read [from, to) in: the hourly and daily rollups where whole hours and days
// fit (analytics::plan), or, for one instance's rows (the rollups have no instance), the rows.
template <typename Db> QList<analytics::Segment> segmentsOf(const Db &db, qint64 fromMs, qint64 toMs)
{
    if (db.instance.isEmpty())
        return analytics::plan(fromMs, toMs);
    if (toMs <= fromMs)
        return {};
    return {analytics::Segment{analytics::Segment::Raw, fromMs, toMs}};
}

// The WHERE of one segment from `table` (request_facts for the rows, else a rollup table), its
// arguments appended.
template <typename Db>
QByteArray segmentWhere(const Db &db, const analytics::Segment &seg, const std::optional<qint64> &keyId, QList<Value> &args)
{
    QByteArray sql;
    if (seg.kind == analytics::Segment::Raw) {
        sql = " WHERE started_at_ms >= " + arg(args, seg.fromMs) + " AND started_at_ms < " + arg(args, seg.toMs);
    } else {
        const qint64 unit = unitOf(seg.kind);
        sql = " WHERE grain = " + arg(args, qint64(seg.kind == analytics::Segment::Day ? 1 : 0)) + " AND t >= "
            + arg(args, seg.fromMs / unit) + " AND t < " + arg(args, seg.toMs / unit);
    }
    if (keyId)
        sql += " AND key_id = " + arg(args, *keyId);
    if (seg.kind == analytics::Segment::Raw)
        sql += store::instanceCondition(db, args);
    return sql;
}

// Calls `f` for every cell of the segments; false (and *error) when a query fails.
template <typename Db>
bool forEachCell(const Db &db, const QList<analytics::Segment> &segments, const std::optional<qint64> &keyId,
    Interner &names, const std::function<void(const Cell &)> &f, QString *error)
{
    for (const analytics::Segment &seg : segments) {
        const bool raw = seg.kind == analytics::Segment::Raw;
        QList<Value> args;
        const QByteArray where = segmentWhere(db, seg, keyId, args);
        const QByteArray sql = raw
            ? QByteArray("SELECT 0, key_id, model, provider, ") + kRawSums + " FROM request_facts" + where
                + " GROUP BY key_id, model, provider"
            : QByteArray("SELECT t, key_id, model, provider, ") + kSumColumns + " FROM rollups" + where + " AND requests > 0";
        auto s = db.prepare(sql);
        store::bindValues(s, args);
        const qint64 unit = unitOf(seg.kind);
        while (s.next()) {
            Cell c;
            c.fromMs = raw ? seg.fromMs : s.integer(0) * unit;
            c.toMs = raw ? seg.toMs : c.fromMs + unit;
            c.keyId = s.integer(1);
            c.model = names.id(s.rawText(2));
            c.provider = names.id(s.rawText(3));
            c.sums = readSums(s, 4);
            f(c);
        }
        if (!s.ok()) {
            *error = s.error();
            return false;
        }
    }
    return true;
}

// Calls `f(keyId, model, metric, bucket, n)` for the latency histograms of the segments.
template <typename Db>
bool forEachLatency(const Db &db, const QList<analytics::Segment> &segments, const std::optional<qint64> &keyId,
    Interner &names, const std::function<void(qint64, int, int, int, qint64)> &f, QString *error)
{
    for (const analytics::Segment &seg : segments) {
        QList<Value> args;
        const QByteArray where = segmentWhere(db, seg, keyId, args);
        const QByteArray sql = seg.kind == analytics::Segment::Raw
            ? "SELECT key_id, model, 0, latency_bucket, count(*) FROM request_facts" + where
                + " AND latency_bucket IS NOT NULL GROUP BY key_id, model, latency_bucket UNION ALL "
                  "SELECT key_id, model, 1, ttft_bucket, count(*) FROM request_facts" + where
                + " AND ttft_bucket IS NOT NULL GROUP BY key_id, model, ttft_bucket"
            : "SELECT key_id, model, metric, bucket, n FROM rollup_latency" + where + " AND n > 0";
        auto s = db.prepare(sql);
        store::bindValues(s, args);
        while (s.next())
            f(s.integer(0), names.id(s.rawText(1)), int(s.integer(2)), int(s.integer(3)), s.integer(4));
        if (!s.ok()) {
            *error = s.error();
            return false;
        }
    }
    return true;
}

// The start (ms, UTC midnight) of the first day with requests: from the daily rollups, or for one
// instance from its rows. nullopt when there is none; false (and *error) when the read failed.
template <typename Db> bool firstDay(const Db &db, std::optional<qint64> *day, QString *error)
{
    QList<Value> args;
    auto s = db.prepare(db.instance.isEmpty()
                            ? QByteArray("SELECT min(t) FROM rollups WHERE grain = 1 AND requests > 0")
                            : "SELECT min(started_at_ms) / " + QByteArray::number(kDayMs)
                                  + " FROM requests WHERE instance_id = " + arg(args, db.instance));
    store::bindValues(s, args);
    *day = std::nullopt;
    if (!s.next()) {
        if (!s.ok()) {
            *error = s.error();
            return false;
        }
        return true;
    }
    if (!s.isNull(0))
        *day = s.integer(0) * kDayMs;
    return true;
}

// [from, to) of a period; "from the beginning" starts at the first rolled-up day.
template <typename Db> bool resolvePeriod(const Db &db, const analytics::Period &p, qint64 *from, qint64 *to, QString *error)
{
    *to = p.toMs;
    *from = p.fromMs;
    if (p.fromMs <= 0) {
        std::optional<qint64> first;
        if (!firstDay(db, &first, error))
            return false;
        *from = first.value_or(*to);
    }
    if (*from > *to)
        *from = *to;
    return true;
}

int sliceOf(qint64 fromMs, qint64 toMs, int slices, qint64 cellFrom, qint64 cellTo)
{
    if (toMs <= fromMs || slices <= 0)
        return -1;
    const qint64 mid = cellFrom + (cellTo - cellFrom) / 2;
    const qint64 clamped = std::clamp(mid, fromMs, toMs - 1);
    return int(double(clamped - fromMs) * slices / double(toMs - fromMs));
}

// Compare votes belong to the team's configuration, not to an instance: never scoped.
template <typename Db>
QHash<QString, VoteStats> votesBetween(const Db &db, std::optional<std::pair<qint64, qint64>> range, QString *error)
{
    QHash<QString, VoteStats> out;
    const QByteArray select = "SELECT model_id, count(*), " + Db::countIf("result = 1") + ", " + Db::countIf("result = -1")
        + " FROM votes";
    auto s = db.prepare(range ? select + " WHERE created_at_ms >= ?1 AND created_at_ms < ?2 GROUP BY model_id"
                              : select + " GROUP BY model_id");
    if (range) {
        s.bindInt(1, range->first);
        s.bindInt(2, range->second);
    }
    while (s.next())
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    if (!s.ok())
        *error = s.error();
    return out;
}

template <typename Db> QHash<qint64, QString> keyNames(const Db &db)
{
    QHash<qint64, QString> names;
    auto s = db.prepare("SELECT id, name FROM keys");
    while (s.next())
        names.insert(s.integer(0), s.text(1));
    return names;
}

NanoUsd priceNano(qint64 tokens, double usdPerMillion)
{
    // USD per million tokens = 1,000 nano-USD per token.
    return NanoUsd(std::llround(double(tokens) * usdPerMillion * 1000.0));
}

} // namespace

// --- LatencyHistogram ---

void LatencyHistogram::add(int bucket, qint64 n)
{
    if (bucket < 0 || bucket > 4096 || n <= 0)
        return;
    if (m_counts.size() <= bucket)
        m_counts.resize(bucket + 1, 0);
    m_counts[bucket] += n;
    m_total += n;
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (int b = 0; b < other.m_counts.size(); ++b)
        add(b, other.m_counts.at(b));
}

double LatencyHistogram::percentile(double p, const QList<qint64> &bounds) const
{
    if (m_total == 0 || bounds.isEmpty())
        return -1;
    const qint64 rank
        = std::clamp<qint64>(qint64(std::ceil(std::clamp(p, 0.0, 1.0) * double(m_total) - 1e-9)), 1, m_total);
    qint64 seen = 0;
    for (int b = 0; b < m_counts.size(); ++b) {
        seen += m_counts.at(b);
        if (seen < rank)
            continue;
        if (b >= bounds.size())
            return double(bounds.last());
        const double lo = double(bounds.at(b));
        if (b + 1 >= bounds.size())
            return lo; // the open last bucket
        const double hi = double(bounds.at(b + 1) - 1); // the largest integer in the bucket
        return std::sqrt(lo * std::max(lo, hi));
    }
    return -1;
}

namespace analytics {

// --- Sums ---

Sums &Sums::operator+=(const Sums &o)
{
    requests += o.requests;
    refused += o.refused;
    cancelled += o.cancelled;
    errors += o.errors;
    cost += o.cost;
    unpriced += o.unpriced;
    inputTokens += o.inputTokens;
    cacheReadTokens += o.cacheReadTokens;
    cacheWriteTokens += o.cacheWriteTokens;
    cacheWrite1hTokens += o.cacheWrite1hTokens;
    outputTokens += o.outputTokens;
    streamOutputTokens += o.streamOutputTokens;
    streamGenerationMs += o.streamGenerationMs;
    return *this;
}

double Sums::cacheHitRate() const
{
    const qint64 all = promptTokens();
    return all > 0 ? double(cacheReadTokens) / double(all) : -1;
}

double Sums::errorRate() const
{
    const qint64 sent = requests - refused - cancelled;
    return sent > 0 ? double(errors) / double(sent) : -1;
}

double Sums::tokensPerSecond() const
{
    return streamGenerationMs > 0 ? double(streamOutputTokens) * 1000.0 / double(streamGenerationMs) : -1;
}

std::optional<NanoUsd> Prices::cost(const Sums &s) const
{
    if (!input || !output)
        return std::nullopt;
    const double read = cacheRead.value_or(*input);
    const double write = cacheWrite.value_or(*input);
    const double write1h = cacheWrite1h.value_or(write);
    return priceNano(s.inputTokens, *input) + priceNano(s.cacheReadTokens, read) + priceNano(s.cacheWriteTokens, write)
        + priceNano(s.cacheWrite1hTokens, write1h) + priceNano(s.outputTokens, *output);
}

std::optional<NanoUsd> Prices::cacheSavings(qint64 cacheReadTokens) const
{
    if (!input)
        return std::nullopt;
    // Without a cache-read price reads are billed as uncached input (pricing/price.h): nothing saved.
    return priceNano(cacheReadTokens, *input - cacheRead.value_or(*input));
}

template <typename Db> static QHash<QString, Prices> modelPricesOf(const Db &db)
{
    QHash<QString, Prices> out;
    auto s = db.prepare(
        "SELECT id, price_input, price_output, price_cache_read, price_cache_write, price_cache_write_1h FROM models");
    auto opt = [&s](int c) { return s.isNull(c) ? std::nullopt : std::optional<double>(s.real(c)); };
    while (s.next())
        out.insert(s.text(0), Prices{opt(1), opt(2), opt(3), opt(4), opt(5)});
    return out;
}

// The `models` table's prices with `over` (the gateway's, catalog included) taking precedence.
static QHash<QString, Prices> withOverrides(QHash<QString, Prices> table, const QHash<QString, Prices> &over)
{
    for (auto it = over.cbegin(); it != over.cend(); ++it)
        table.insert(it.key(), it.value());
    return table;
}

template <typename Db> static QList<qint64> bucketBoundsOf(const Db &db)
{
    QList<qint64> bounds;
    auto s = db.prepare("SELECT lo FROM latency_buckets ORDER BY bucket");
    while (s.next())
        bounds.append(s.integer(0));
    return bounds;
}

QHash<QString, Prices> modelPrices(sqlite3 *db)
{
    return modelPricesOf(store::SqliteReadDb{db, {}});
}

QList<qint64> bucketBounds(sqlite3 *db)
{
    return bucketBoundsOf(store::SqliteReadDb{db, {}});
}

int bucketOf(qint64 ms, const QList<qint64> &bounds)
{
    const auto it = std::upper_bound(bounds.cbegin(), bounds.cend(), std::max<qint64>(0, ms));
    return int(it - bounds.cbegin()) - 1;
}

QList<Segment> plan(qint64 fromMs, qint64 toMs)
{
    QList<Segment> out;
    if (toMs <= fromMs)
        return out;
    const qint64 hs = ceilTo(fromMs, kHourMs);
    const qint64 he = floorTo(toMs, kHourMs);
    if (hs >= he) {
        out.append({Segment::Raw, fromMs, toMs});
        return out;
    }
    if (fromMs < hs)
        out.append({Segment::Raw, fromMs, hs});
    const qint64 ds = ceilTo(hs, kDayMs);
    const qint64 de = floorTo(he, kDayMs);
    if (ds < de) {
        if (hs < ds)
            out.append({Segment::Hour, hs, ds});
        out.append({Segment::Day, ds, de});
        if (de < he)
            out.append({Segment::Hour, de, he});
    } else {
        out.append({Segment::Hour, hs, he});
    }
    if (he < toMs)
        out.append({Segment::Raw, he, toMs});
    return out;
}

double ModelRanking::costPer1kOutput() const
{
    if (sums.outputTokens <= 0 || (sums.cost == 0 && sums.unpriced > 0))
        return -1;
    return toUsd(sums.cost) * 1000.0 / double(sums.outputTokens);
}

double ModelRanking::winRate() const
{
    return votes.rounds > 0 ? double(votes.wins) / double(votes.rounds) : -1;
}

// Per model of the period: its sums, its requests per provider (model -> provider -> requests), its
// trend over `slices` and its latency histograms. False (and r.error) when a query fails.
template <typename Db>
static bool collectModels(const Db &db, const QList<Segment> &segments, const std::optional<qint64> &keyId, int slices,
    Interner &names, QHash<int, ModelRanking> &byModel, QHash<int, QHash<int, qint64>> &providerRequests, Rankings &r)
{
    auto entry = [&](int model) -> ModelRanking & {
        auto it = byModel.find(model);
        if (it == byModel.end()) {
            it = byModel.insert(model, ModelRanking{});
            it->model = names.text(model);
            it->trendRequests.resize(slices, 0);
            it->trendCost.resize(slices, 0);
        }
        return *it;
    };
    const int empty = names.id(QByteArray());
    bool ok = forEachCell(
        db, segments, keyId, names,
        [&](const Cell &c) {
            if (c.model == empty)
                return; // never routed to a model
            ModelRanking &m = entry(c.model);
            m.sums += c.sums;
            providerRequests[c.model][c.provider] += c.sums.requests;
            const int slice = sliceOf(r.fromMs, r.toMs, slices, c.fromMs, c.toMs);
            if (slice >= 0) {
                m.trendRequests[slice] += c.sums.requests;
                m.trendCost[slice] += c.sums.cost;
            }
        },
        &r.error);
    ok = ok
        && forEachLatency(
            db, segments, keyId, names,
            [&](qint64, int model, int metric, int bucket, qint64 n) {
                if (model == empty || !byModel.contains(model))
                    return;
                ModelRanking &m = byModel[model];
                (metric == 0 ? m.latency : m.ttft).add(bucket, n);
            },
            &r.error);
    return ok;
}

// r.models from byModel, each with the provider that served most of its requests (ties: the first
// name) and its votes of the period, most spent first.
static void rankModels(QHash<int, ModelRanking> &byModel, const QHash<int, QHash<int, qint64>> &providerRequests,
    const Interner &names, const QHash<QString, VoteStats> &periodVotes, Rankings &r)
{
    for (auto it = byModel.begin(); it != byModel.end(); ++it) {
        const auto &providers = providerRequests.value(it.key());
        qint64 best = -1;
        for (auto p = providers.cbegin(); p != providers.cend(); ++p) {
            if (p.value() > best || (p.value() == best && names.text(p.key()) < it->provider)) {
                best = p.value();
                it->provider = names.text(p.key());
            }
        }
        it->votes = periodVotes.value(it->model);
        r.models.append(*it);
    }
    std::sort(r.models.begin(), r.models.end(), [](const ModelRanking &a, const ModelRanking &b) {
        if (a.sums.cost != b.sums.cost)
            return a.sums.cost > b.sums.cost;
        if (a.sums.requests != b.sums.requests)
            return a.sums.requests > b.sums.requests;
        return a.model < b.model;
    });
}

// You could save: a model with at least as good an all-time win rate that would have cost less
// for the same tokens. Every token of the period is repriced, also those of unpriced requests
// that `spend` does not count, so the saving shown is never larger than the real one.
static void findSavings(const QHash<QString, VoteStats> &allVotes, const QHash<QString, Prices> &prices, int minRounds,
    Rankings &r)
{
    for (const ModelRanking &m : std::as_const(r.models)) {
        const VoteStats mine = allVotes.value(m.model);
        if (m.sums.cost <= 0 || mine.rounds < minRounds)
            continue;
        const double myRate = double(mine.wins) / double(mine.rounds);
        std::optional<Saving> best;
        for (auto v = allVotes.cbegin(); v != allVotes.cend(); ++v) {
            if (v.key() == m.model || v->rounds < minRounds)
                continue;
            const double rate = double(v->wins) / double(v->rounds);
            if (rate + 1e-12 < myRate)
                continue;
            const auto cost = prices.value(v.key()).cost(m.sums);
            if (!cost || *cost >= m.sums.cost || (best && *cost >= best->alternativeCost))
                continue;
            best = Saving{m.model, v.key(), m.sums.cost, *cost, myRate, rate, mine.rounds, v->rounds};
        }
        if (best)
            r.savings.append(*best);
    }
    std::sort(r.savings.begin(), r.savings.end(),
        [](const Saving &a, const Saving &b) { return a.spend - a.alternativeCost > b.spend - b.alternativeCost; });
}

template <typename Db> static Rankings rankingsOf(const Db &db, const RankingsQuery &query)
{
    Rankings r;
    if (!db.isOpen()) {
        r.error = QStringLiteral("the database is not open");
        return r;
    }
    if (!resolvePeriod(db, query.period, &r.fromMs, &r.toMs, &r.error))
        return r;
    r.bounds = bucketBoundsOf(db);
    const int slices = std::max(1, query.slices);
    const QList<Segment> segments = segmentsOf(db, r.fromMs, r.toMs);

    Interner names;
    QHash<int, ModelRanking> byModel;
    QHash<int, QHash<int, qint64>> providerRequests; // model -> provider -> requests
    if (!collectModels(db, segments, query.period.keyId, slices, names, byModel, providerRequests, r))
        return r;

    const QHash<QString, VoteStats> periodVotes = votesBetween(db, std::make_pair(r.fromMs, r.toMs), &r.error);
    const QHash<QString, VoteStats> allVotes = votesBetween(db, std::nullopt, &r.error);
    if (!r.error.isEmpty())
        return r;

    rankModels(byModel, providerRequests, names, periodVotes, r);
    findSavings(allVotes, withOverrides(modelPricesOf(db), query.prices), query.minRounds, r);
    r.ok = true;
    return r;
}

Rankings rankings(sqlite3 *db, const RankingsQuery &query)
{
    return rankingsOf(store::SqliteReadDb{db, {}}, query);
}

Rankings rankings(const store::SqliteReadDb &db, const RankingsQuery &query)
{
    return rankingsOf(db, query);
}

Rankings rankings(const store::PgReadDb &db, const RankingsQuery &query)
{
    return rankingsOf(db, query);
}

namespace {

// What the prompt cache saved, cell by cell, at the prices of each cell's model (looked up once per
// model).
class CacheSavings
{
public:
    CacheSavings(const QHash<QString, Prices> &prices, const Interner &names) : m_prices(prices), m_names(names) { }

    // Saved dollars of a cell; false when its model has no prices to tell.
    bool savedOf(const Cell &c, NanoUsd *saved)
    {
        if (c.sums.cacheReadTokens == 0) {
            *saved = 0;
            return true;
        }
        const auto &p = priceOf(c.model);
        const auto s = p ? p->cacheSavings(c.sums.cacheReadTokens) : std::nullopt;
        *saved = s.value_or(0);
        return s.has_value();
    }

    // What the cell's reads would save if all its uncached input were read too.
    NanoUsd fullHitOf(const Cell &c)
    {
        const qint64 readable = c.sums.inputTokens + c.sums.cacheReadTokens;
        if (readable == 0)
            return 0;
        const auto &p = priceOf(c.model);
        return p ? p->cacheSavings(readable).value_or(0) : 0;
    }

    void addTo(CacheGroup &g, const Cell &c, NanoUsd saved, bool priced)
    {
        g.sums += c.sums;
        g.saved += saved;
        g.savedAtFullHit += fullHitOf(c);
        if (!priced)
            g.unpricedReadTokens += c.sums.cacheReadTokens;
    }

private:
    const std::optional<Prices> &priceOf(int model)
    {
        auto it = m_modelPrice.find(model);
        if (it == m_modelPrice.end()) {
            const auto p = m_prices.constFind(m_names.text(model));
            it = m_modelPrice.insert(model, p == m_prices.cend() ? std::nullopt : std::optional<Prices>(*p));
        }
        return *it;
    }

    const QHash<QString, Prices> &m_prices;
    const Interner &m_names;
    QHash<int, std::optional<Prices>> m_modelPrice; // by interned model id
};

} // namespace

// The groups, most prompt tokens first (ties: by name).
static QList<CacheGroup> sortedGroups(QList<CacheGroup> groups)
{
    std::sort(groups.begin(), groups.end(), [](const CacheGroup &a, const CacheGroup &b) {
        if (a.sums.promptTokens() != b.sums.promptTokens())
            return a.sums.promptTokens() > b.sums.promptTokens();
        return a.name < b.name;
    });
    return groups;
}

// r.total and r.byProvider, r.byModel, r.byKey over [from, to). False (and r.error) when a query fails.
template <typename Db>
static bool groupCells(const Db &db, qint64 from, qint64 to, const std::optional<qint64> &keyId,
    const QHash<qint64, QString> &keys, Interner &names, CacheSavings &savings, CacheReport &r)
{
    QHash<int, CacheGroup> byProvider, byModel;
    QHash<qint64, CacheGroup> byKey;
    const int empty = names.id(QByteArray());
    const bool ok = forEachCell(
        db, segmentsOf(db, from, to), keyId, names,
        [&](const Cell &c) {
            NanoUsd saved = 0;
            const bool priced = savings.savedOf(c, &saved);
            savings.addTo(r.total, c, saved, priced);
            if (c.provider != empty) {
                CacheGroup &g = byProvider[c.provider];
                g.name = names.text(c.provider);
                savings.addTo(g, c, saved, priced);
            }
            if (c.model != empty) {
                CacheGroup &g = byModel[c.model];
                g.name = names.text(c.model);
                savings.addTo(g, c, saved, priced);
            }
            CacheGroup &k = byKey[c.keyId];
            k.keyId = c.keyId;
            k.name = c.keyId == 0 ? QString() : keys.value(c.keyId, QStringLiteral("key %1").arg(c.keyId));
            savings.addTo(k, c, saved, priced);
        },
        &r.error);
    if (!ok)
        return false;
    r.byProvider = sortedGroups(byProvider.values());
    r.byModel = sortedGroups(byModel.values());
    r.byKey = sortedGroups(byKey.values());
    return true;
}

// The chart: rollup rows by the bucket that holds their middle. False (and r.error) when a query fails.
template <typename Db>
static bool fillCacheChart(const Db &db, const QList<qint64> &edges, const std::optional<qint64> &keyId,
    Interner &names, CacheSavings &savings, CacheReport &r)
{
    for (int i = 0; i + 1 < edges.size(); ++i)
        r.chart.append(CacheBucket{edges.at(i), edges.at(i + 1), {}, 0});
    if (!db.instance.isEmpty()) {
        // One instance's rows, bucket by bucket (the rollups have no instance).
        for (int i = 0; i + 1 < edges.size(); ++i) {
            CacheBucket &bucket = r.chart[i];
            const bool ok = forEachCell(
                db, segmentsOf(db, edges.at(i), edges.at(i + 1)), keyId, names,
                [&](const Cell &c) {
                    NanoUsd saved = 0;
                    savings.savedOf(c, &saved);
                    bucket.sums += c.sums;
                    bucket.saved += saved;
                },
                &r.error);
            if (!ok)
                return false;
        }
        return true;
    }
    const bool daily = edges.last() - edges.first() > 92 * kDayMs;
    const qint64 unit = daily ? kDayMs : kHourMs;
    const Segment whole{daily ? Segment::Day : Segment::Hour, floorTo(edges.first(), unit), ceilTo(edges.last(), unit)};
    return forEachCell(
        db, {whole}, keyId, names,
        [&](const Cell &c) {
            const qint64 mid = c.fromMs + (c.toMs - c.fromMs) / 2;
            const auto it = std::upper_bound(edges.cbegin(), edges.cend(), mid);
            const int b = int(it - edges.cbegin()) - 1;
            if (b < 0 || b >= r.chart.size())
                return;
            NanoUsd saved = 0;
            savings.savedOf(c, &saved);
            r.chart[b].sums += c.sums;
            r.chart[b].saved += saved;
        },
        &r.error);
}

// The response cache's hits, lookups and savings over [from, to). False (and r.error) when the
// query fails.
template <typename Db>
static bool readResponseCache(const Db &db, qint64 from, qint64 to, const std::optional<qint64> &keyId, CacheReport &r)
{
    // From the rows themselves (the rollups do not count them): the partial index of migration 13
    // holds the looked-up rows only.
    QByteArray sql = "SELECT COALESCE(" + Db::countIf("cache_status = 'hit'") + ", 0), COUNT(*), "
                     "COALESCE(SUM(CASE WHEN cache_status = 'hit' THEN cache_saved_nano_usd ELSE 0 END), 0) "
                     "FROM requests WHERE cache_status IN ('hit', 'miss') AND started_at_ms >= ?1 AND started_at_ms < ?2";
    QList<Value> args{from, to};
    if (keyId)
        sql += " AND key_id = " + arg(args, *keyId);
    sql += store::instanceCondition(db, args);
    auto s = db.prepare(sql);
    store::bindValues(s, args);
    if (!s.next()) {
        r.error = s.error();
        return false;
    }
    r.responseHits = s.integer(0);
    r.responseLookups = s.integer(1);
    r.responseSaved = s.integer(2);
    return true;
}

template <typename Db> static CacheReport cacheReportOf(const Db &db, const CacheQuery &query)
{
    CacheReport r;
    if (!db.isOpen()) {
        r.error = QStringLiteral("the database is not open");
        return r;
    }
    qint64 from = 0, to = 0;
    if (!resolvePeriod(db, query.period, &from, &to, &r.error))
        return r;
    const QHash<QString, Prices> prices = withOverrides(modelPricesOf(db), query.prices);
    const QHash<qint64, QString> keys = keyNames(db);

    Interner names;
    CacheSavings savings(prices, names);
    if (!groupCells(db, from, to, query.period.keyId, keys, names, savings, r))
        return r;
    if (query.chartEdges.size() >= 2 && !fillCacheChart(db, query.chartEdges, query.period.keyId, names, savings, r))
        return r;
    if (!readResponseCache(db, from, to, query.period.keyId, r))
        return r;
    r.ok = true;
    return r;
}

CacheReport cacheReport(sqlite3 *db, const CacheQuery &query)
{
    return cacheReportOf(store::SqliteReadDb{db, {}}, query);
}

CacheReport cacheReport(const store::SqliteReadDb &db, const CacheQuery &query)
{
    return cacheReportOf(db, query);
}

CacheReport cacheReport(const store::PgReadDb &db, const CacheQuery &query)
{
    return cacheReportOf(db, query);
}

QList<quint64> decodeBlocks(const QByteArray &blob)
{
    QList<quint64> out;
    out.reserve(blob.size() / 8);
    const auto *p = reinterpret_cast<const uchar *>(blob.constData());
    for (qsizetype i = 0; i + 8 <= blob.size(); i += 8) {
        quint64 v = 0;
        for (int b = 7; b >= 0; --b)
            v = (v << 8) | p[i + b];
        out.append(v);
    }
    return out;
}

int firstDifference(const QList<quint64> &older, const QList<quint64> &newer)
{
    const qsizetype n = std::min(older.size(), newer.size());
    for (qsizetype i = 0; i < n; ++i) {
        if (older.at(i) == newer.at(i))
            continue;
        // The older prompt's last block may be partial: the newer one extending it differs there.
        if (i == older.size() - 1)
            return -1;
        return int(i);
    }
    return -1;
}

template <typename Db> static PrefixDiagnosis diagnosePrefixesOf(const Db &db, qint64 keyId, int limit)
{
    PrefixDiagnosis d;
    d.keyId = keyId;
    QList<Value> args{keyId, qint64(std::max(2, limit))};
    // One instance's: the prefixes of its request rows (prompt_prefixes has no instance).
    const QByteArray scope = db.instance.isEmpty()
        ? QByteArray()
        : " AND EXISTS (SELECT 1 FROM requests r WHERE r.seq = request_seq AND r.instance_id = " + arg(args, db.instance) + ")";
    auto s = db.prepare("SELECT system_bytes, tools_bytes, blocks FROM prompt_prefixes WHERE key_id = ?1" + scope
                        + " ORDER BY request_seq DESC LIMIT ?2");
    store::bindValues(s, args);
    struct Prompt {
        qint64 systemBytes, toolsBytes;
        QList<quint64> blocks;
    };
    QList<Prompt> prompts;
    while (s.next())
        prompts.prepend(Prompt{s.integer(0), s.integer(1), decodeBlocks(s.blob(2))});
    d.prompts = int(prompts.size());
    QHash<int, qint64> systemAt, toolsAt; // block -> the newer prompt's section ends, last seen
    for (qsizetype i = 1; i < prompts.size(); ++i) {
        const Prompt &older = prompts.at(i - 1);
        const Prompt &newer = prompts.at(i);
        if (older.blocks.isEmpty() || newer.blocks.isEmpty())
            continue;
        ++d.pairs;
        const int block = firstDifference(older.blocks, newer.blocks);
        if (block < 0) {
            ++d.kept;
            continue;
        }
        d.firstDifference[block] += 1;
        systemAt[block] = newer.systemBytes;
        toolsAt[block] = newer.toolsBytes;
    }
    for (auto it = d.firstDifference.cbegin(); it != d.firstDifference.cend(); ++it) {
        if (it.value() > d.atBlock || (it.value() == d.atBlock && it.key() < d.block)) {
            d.block = it.key();
            d.atBlock = it.value();
        }
    }
    if (d.block >= 0) {
        d.byte = qint64(d.block) * 1024;
        const qint64 system = systemAt.value(d.block);
        const qint64 tools = toolsAt.value(d.block);
        d.section = d.byte < system   ? QStringLiteral("system")
            : d.byte < system + tools ? QStringLiteral("tools")
                                      : QStringLiteral("messages");
    }
    return d;
}

PrefixDiagnosis diagnosePrefixes(sqlite3 *db, qint64 keyId, int limit)
{
    return diagnosePrefixesOf(store::SqliteReadDb{db, {}}, keyId, limit);
}

PrefixDiagnosis diagnosePrefixes(const store::SqliteReadDb &db, qint64 keyId, int limit)
{
    return diagnosePrefixesOf(db, keyId, limit);
}

PrefixDiagnosis diagnosePrefixes(const store::PgReadDb &db, qint64 keyId, int limit)
{
    return diagnosePrefixesOf(db, keyId, limit);
}

std::optional<qint64> firstRolledUpDayMs(const store::SqliteReadDb &db)
{
    std::optional<qint64> day;
    QString error;
    return firstDay(db, &day, &error) ? day : std::nullopt;
}

std::optional<qint64> firstRolledUpDayMs(const store::PgReadDb &db)
{
    std::optional<qint64> day;
    QString error;
    return firstDay(db, &day, &error) ? day : std::nullopt;
}

} // namespace analytics

// --- Analytics ---

Analytics::~Analytics()
{
    close();
}

bool Analytics::open(const QString &path, QString *error)
{
    close();
    m_db = sqlite::open(path, sqlite::Access::ReadOnly, 5000, error);
    if (!m_db)
        return false;
    return true;
}

void Analytics::close()
{
    sqlite::close(m_db);
    m_db = nullptr;
}

analytics::Rankings Analytics::rankings(const analytics::RankingsQuery &query) const
{
    return analytics::rankings(m_db, query);
}

analytics::CacheReport Analytics::cache(const analytics::CacheQuery &query) const
{
    return analytics::cacheReport(m_db, query);
}

analytics::PrefixDiagnosis Analytics::prefixes(qint64 keyId) const
{
    return analytics::diagnosePrefixes(m_db, keyId);
}

} // namespace gh
