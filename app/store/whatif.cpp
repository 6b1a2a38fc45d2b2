#include "store/whatif.h"
#include "store/readdb.h"
#include <QHash>
#include <QSet>
#include <sqlite3.h>

namespace gh::whatif {

namespace {

using store::Value;

constexpr qint64 kDayMs = 86'400'000;
// The model as the rollups name it (request_facts): the model id that served, else provider/upstream.
constexpr char kModelSql[] =
    "(CASE WHEN model_id <> '' THEN model_id WHEN provider <> '' AND upstream_model <> '' THEN provider || '/' || upstream_model ELSE '' END)";

struct Acc {
    qint64 requests = 0;
    NanoUsd actual = 0;
    std::optional<NanoUsd> candidate = 0;
};

void addCandidate(Acc &a, std::optional<NanoUsd> cost)
{
    if (!cost || !a.candidate)
        a.candidate = std::nullopt;
    else
        *a.candidate += *cost;
}

// The conditions on the request rows, as "AND ..." with their arguments from ?3 on (?1, ?2: the range).
// One instance's rows when the read connection is scoped (readdb.h).
template <typename Db> QByteArray rowConditions(const Db &db, const Slice &slice, QList<Value> &args)
{
    QByteArray sql;
    if (slice.keyId > 0) {
        args.append(slice.keyId);
        sql += " AND key_id = ?" + QByteArray::number(args.size());
    }
    if (!slice.model.isEmpty()) {
        args.append(slice.model);
        sql += QByteArray(" AND ") + kModelSql + " = ?" + QByteArray::number(args.size());
    }
    if (!slice.session.isEmpty()) {
        args.append(slice.session);
        // "<> ''" lets SQLite use the partial index requests_session_time (a bound value does not).
        sql += " AND session_id <> '' AND session_id = ?" + QByteArray::number(args.size());
    }
    return sql + store::instanceCondition(db, args);
}

// The bounds of the request-size histogram (migration 18): bucket -> above. Empty on a database
// without it (then everything size-dependent reads the rows).
template <typename Db> QHash<qint64, qint64> sizeBounds(const Db &db)
{
    QHash<qint64, qint64> bounds;
    auto s = db.prepare("SELECT bucket, above FROM size_buckets");
    while (s.next())
        bounds.insert(s.integer(0), s.integer(1));
    return bounds;
}

// The bucket whose lower bound is `above`, i.e. the first bucket of sizes > above; -1 when `above`
// is not a bound (the histogram cannot split there).
qint64 bucketAbove(const QHash<qint64, qint64> &bounds, qint64 above)
{
    for (auto it = bounds.cbegin(); it != bounds.cend(); ++it) {
        if (it.value() == above)
            return it.key();
    }
    return -1;
}

// Every tier of `price` starts at a bound of the histogram: each bucket is wholly on one side of it.
bool tiersOnBounds(const ModelPrice &price, const QHash<qint64, qint64> &bounds)
{
    for (const QList<PriceTier> *tiers :
         {&price.inputTiers, &price.outputTiers, &price.cacheReadTiers, &price.cacheWriteTiers, &price.cacheWrite1hTiers}) {
        for (const PriceTier &t : *tiers) {
            if (bucketAbove(bounds, t.above) < 0)
                return false;
        }
    }
    return true;
}

// " AND key_id = ?n AND model = ?m" for the rollup tables, arguments appended.
QByteArray rollupConditions(const Slice &slice, QList<Value> &args)
{
    QByteArray sql;
    if (slice.keyId > 0) {
        args.append(slice.keyId);
        sql += " AND key_id = ?" + QByteArray::number(args.size());
    }
    if (!slice.model.isEmpty()) {
        args.append(slice.model);
        sql += " AND model = ?" + QByteArray::number(args.size());
    }
    return sql;
}

// The days of the daily rollups (grain 1) that match `conditions`: requests, actual cost, unpriced
// count and, at a flat price, the candidate's cost of the day's usage. False, with result.error, on
// a failed query.
template <typename Db>
bool readDailyRollups(const Db &db, const QByteArray &conditions, const QList<Value> &args, const ModelPrice &price,
                      bool tiered, QHash<qint64, Acc> &days, Result &result)
{
    auto s = db.prepare("SELECT t, sum(requests), sum(cost_nano_usd), sum(unpriced), sum(input_tokens), sum(cache_read_tokens),"
                        " sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens)"
                        " FROM rollups WHERE grain = 1 AND t >= ?1 AND t < ?2" + conditions + " GROUP BY t");
    store::bindValues(s, args);
    while (s.next()) {
        Acc &a = days[s.integer(0)];
        a.requests += s.integer(1);
        a.actual += s.integer(2);
        result.unpricedActual += s.integer(3);
        Usage u;
        u.inputTokens = s.integer(4);
        u.cacheReadTokens = s.integer(5);
        u.cacheWriteTokens = s.integer(6);
        u.cacheWrite1hTokens = s.integer(7);
        u.outputTokens = s.integer(8);
        // A flat price: the day's usage priced once. Tiered: by size bucket (readSizeBuckets).
        if (!tiered)
            addCandidate(a, u.isEmpty() ? std::optional<NanoUsd>(0) : costOf(u, price));
    }
    if (!s.ok()) {
        result.error = s.error();
        return false;
    }
    return true;
}

// The candidate's cost at a tiered price, from the size histogram of the rollups. False, with
// result.error, on a failed query.
template <typename Db>
bool readSizeBuckets(const Db &db, const QByteArray &conditions, const QList<Value> &args, const ModelPrice &price,
                     const QHash<qint64, qint64> &bounds, QHash<qint64, Acc> &days, Result &result)
{
    // Each bucket's usage at the prices of its sizes: every request of bucket k has a prompt
    // of more than above(k) and at most above(k + 1) tokens, and no tier starts in between.
    auto z = db.prepare("SELECT t, bucket, sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens),"
                        " sum(cache_write_1h_tokens), sum(output_tokens) FROM rollup_sizes"
                        " WHERE metric = 0 AND t >= ?1 AND t < ?2" + conditions + " GROUP BY t, bucket");
    store::bindValues(z, args);
    QHash<qint64, ModelPrice> flatAt; // by bucket
    while (z.next()) {
        Acc &a = days[z.integer(0)];
        const qint64 bucket = z.integer(1);
        auto atBucket = flatAt.find(bucket);
        if (atBucket == flatAt.end())
            atBucket = flatAt.insert(bucket, price.atPromptTokens(bounds.value(bucket) + 1));
        Usage u;
        u.inputTokens = z.integer(2);
        u.cacheReadTokens = z.integer(3);
        u.cacheWriteTokens = z.integer(4);
        u.cacheWrite1hTokens = z.integer(5);
        u.outputTokens = z.integer(6);
        addCandidate(a, u.isEmpty() ? std::optional<NanoUsd>(0) : costOf(u, *atBucket));
    }
    if (!z.ok()) {
        result.error = z.error();
        return false;
    }
    return true;
}

// The days from the request rows themselves (a session, or a tiered price the histogram cannot
// split): each row priced at the candidate's price. False, with result.error, on a failed query.
template <typename Db>
bool readRequestRows(const Db &db, const Slice &slice, qint64 fromDay, qint64 toDay, const ModelPrice &price,
                     QHash<qint64, Acc> &days, Result &result)
{
    QList<Value> args{fromDay * kDayMs, toDay * kDayMs};
    const QByteArray sql = "SELECT started_at_ms, cost_nano_usd, input_tokens, cache_read_tokens, cache_write_tokens,"
                           " cache_write_1h_tokens, output_tokens FROM requests WHERE started_at_ms >= ?1 AND started_at_ms < ?2"
                           + rowConditions(db, slice, args);
    auto s = db.prepare(sql);
    store::bindValues(s, args);
    while (s.next()) {
        Acc &a = days[s.integer(0) / kDayMs];
        ++a.requests;
        Usage u;
        u.inputTokens = s.integer(2);
        u.cacheReadTokens = s.integer(3);
        u.cacheWriteTokens = s.integer(4);
        u.cacheWrite1hTokens = s.integer(5);
        u.outputTokens = s.integer(6);
        if (const auto cost = s.optInteger(1))
            a.actual += *cost;
        else if (!u.isEmpty())
            ++result.unpricedActual;
        addCandidate(a, u.isEmpty() ? std::optional<NanoUsd>(0) : costOf(u, price));
    }
    if (!s.ok()) {
        result.error = s.error();
        return false;
    }
    return true;
}

// One Day per day of [fromDay, toDay), empty ones included, and the totals; the candidate's total
// is unknown as soon as one day's is.
void fillDays(const QHash<qint64, Acc> &days, qint64 fromDay, qint64 toDay, Result &result)
{
    result.candidateTotal = 0;
    for (qint64 d = fromDay; d < toDay; ++d) {
        const Acc a = days.value(d);
        result.days.append(Day{d * kDayMs, a.requests, a.actual, a.candidate});
        result.requests += a.requests;
        result.actualTotal += a.actual;
        if (!a.candidate || !result.candidateTotal)
            result.candidateTotal = std::nullopt;
        else
            *result.candidateTotal += *a.candidate;
    }
}

} // namespace

QStringList missingCapabilities(const QList<std::optional<QStringList>> &used, const std::optional<QStringList> &candidate)
{
    if (!candidate)
        return {};
    QSet<QString> have(candidate->cbegin(), candidate->cend());
    QStringList missing;
    for (const auto &caps : used) {
        if (!caps)
            continue;
        for (const QString &c : *caps) {
            if (!have.contains(c) && !missing.contains(c))
                missing.append(c);
        }
    }
    std::sort(missing.begin(), missing.end());
    return missing;
}

// The rollups have no instance: one instance's slice reads its rows, as a session's does.
template <typename Db> bool readsRows(const Db &db, const Slice &slice)
{
    return !slice.session.isEmpty() || !db.instance.isEmpty();
}

template <typename Db> Result computeOf(const Db &db, const Slice &slice, const Candidate &candidate)
{
    Result result;
    if (!db.isOpen()) {
        result.error = QStringLiteral("the request log is not open");
        return result;
    }
    const qint64 fromDay = slice.fromMs / kDayMs;
    const qint64 toDay = (slice.toMs + kDayMs - 1) / kDayMs;
    if (toDay <= fromDay) {
        result.error = QStringLiteral("the period is empty");
        return result;
    }
    QHash<qint64, Acc> days;
    const bool tiered = candidate.price.isTiered();
    QHash<qint64, qint64> bounds;
    if (tiered && !readsRows(db, slice))
        bounds = sizeBounds(db);
    result.fromRollups = !readsRows(db, slice) && (!tiered || (!bounds.isEmpty() && tiersOnBounds(candidate.price, bounds)));
    if (result.fromRollups) {
        QList<Value> args{fromDay, toDay};
        const QByteArray conditions = rollupConditions(slice, args);
        if (!readDailyRollups(db, conditions, args, candidate.price, tiered, days, result))
            return result;
        // A flat price priced each day's usage once above; tiered: by size bucket.
        if (tiered && !readSizeBuckets(db, conditions, args, candidate.price, bounds, days, result))
            return result;
    } else if (!readRequestRows(db, slice, fromDay, toDay, candidate.price, days, result)) {
        return result;
    }
    fillDays(days, fromDay, toDay, result);
    result.ok = true;
    return result;
}

template <typename Db> std::optional<qint64> countOverContextOf(const Db &db, const Slice &slice, qint64 contextWindow)
{
    if (!db.isOpen())
        return std::nullopt;
    if (contextWindow <= 0)
        return 0;
    const qint64 fromDay = slice.fromMs / kDayMs;
    const qint64 toDay = (slice.toMs + kDayMs - 1) / kDayMs;
    if (!readsRows(db, slice)) {
        // From the histogram of prompt + output sizes when the window is one of its bounds: the
        // buckets from the one above it hold exactly the requests longer than the window.
        const qint64 first = bucketAbove(sizeBounds(db), contextWindow);
        if (first >= 0) {
            QList<Value> args{fromDay, toDay, first};
            const QByteArray sql = "SELECT coalesce(sum(n), 0) FROM rollup_sizes WHERE metric = 1 AND t >= ?1 AND t < ?2 AND bucket >= ?3"
                + rollupConditions(slice, args);
            bool ok = false;
            const qint64 n = store::scalar(db, sql, args, &ok);
            return ok ? std::optional<qint64>(n) : std::nullopt;
        }
    }
    QList<Value> args{fromDay * kDayMs, toDay * kDayMs};
    QByteArray sql = "SELECT count(*) FROM requests WHERE started_at_ms >= ?1 AND started_at_ms < ?2" + rowConditions(db, slice, args);
    args.append(contextWindow);
    sql += " AND input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > ?"
           + QByteArray::number(args.size());
    bool ok = false;
    const qint64 n = store::scalar(db, sql, args, &ok);
    return ok ? std::optional<qint64>(n) : std::nullopt;
}

template <typename Db> QList<ModelUse> modelsUsedOf(const Db &db, const Slice &slice)
{
    QList<ModelUse> out;
    if (!db.isOpen())
        return out;
    const qint64 fromDay = slice.fromMs / kDayMs;
    const qint64 toDay = (slice.toMs + kDayMs - 1) / kDayMs;
    QByteArray sql;
    QList<Value> args;
    if (!readsRows(db, slice)) {
        args = {fromDay, toDay};
        sql = "SELECT model, sum(requests), sum(cost_nano_usd) FROM rollups WHERE grain = 1 AND t >= ?1 AND t < ?2 AND model <> ''"
            + rollupConditions(slice, args) + " GROUP BY model";
    } else {
        args = {fromDay * kDayMs, toDay * kDayMs};
        const QByteArray conditions = rowConditions(db, slice, args);
        // HAVING names the expression: PostgreSQL does not take an output column's alias there.
        sql = QByteArray("SELECT ") + kModelSql + " AS m, count(*), coalesce(sum(cost_nano_usd), 0) FROM requests"
            + " WHERE started_at_ms >= ?1 AND started_at_ms < ?2" + conditions + " GROUP BY m HAVING " + kModelSql + " <> ''";
    }
    auto s = db.prepare(sql);
    store::bindValues(s, args);
    while (s.next()) {
        if (s.integer(1) > 0)
            out.append(ModelUse{s.text(0), s.integer(1), s.integer(2)});
    }
    if (!s.ok())
        return {};
    std::sort(out.begin(), out.end(), [](const ModelUse &a, const ModelUse &b) {
        return a.requests != b.requests ? a.requests > b.requests : a.model < b.model;
    });
    return out;
}

// Compare votes belong to the team's configuration, not to an instance: never scoped.
template <typename Db> QHash<QString, VoteStats> compareVotesOf(const Db &db)
{
    QHash<QString, VoteStats> out;
    if (!db.isOpen())
        return out;
    auto s = db.prepare("SELECT model_id, count(*), " + Db::countIf("result = 1") + ", " + Db::countIf("result = -1")
                        + " FROM votes GROUP BY model_id");
    while (s.next())
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    return out;
}

template <typename Db> Report reportOf(const Db &db, const Slice &slice, const Candidate &candidate, qint64 contextWindow)
{
    Report r;
    // One read transaction: the figures agree with each other while the writer commits.
    const bool inTransaction = db.isOpen() && db.begin();
    r.result = computeOf(db, slice, candidate);
    if (r.result.ok) {
        r.overContext = countOverContextOf(db, slice, contextWindow);
        r.models = modelsUsedOf(db, slice);
        r.modelsInPeriod = modelsUsedOf(db, Slice{slice.fromMs, slice.toMs, 0, {}, {}});
        r.votes = compareVotesOf(db);
    }
    if (inTransaction)
        db.exec("COMMIT");
    return r;
}

Result compute(sqlite3 *db, const Slice &slice, const Candidate &candidate)
{
    return computeOf(store::SqliteReadDb{db, {}}, slice, candidate);
}

std::optional<qint64> countOverContext(sqlite3 *db, const Slice &slice, qint64 contextWindow)
{
    return countOverContextOf(store::SqliteReadDb{db, {}}, slice, contextWindow);
}

QList<ModelUse> modelsUsed(sqlite3 *db, const Slice &slice)
{
    return modelsUsedOf(store::SqliteReadDb{db, {}}, slice);
}

QHash<QString, VoteStats> compareVotes(sqlite3 *db)
{
    return compareVotesOf(store::SqliteReadDb{db, {}});
}

Result compute(const store::SqliteReadDb &db, const Slice &slice, const Candidate &candidate)
{
    return computeOf(db, slice, candidate);
}

Result compute(const store::PgReadDb &db, const Slice &slice, const Candidate &candidate)
{
    return computeOf(db, slice, candidate);
}

std::optional<qint64> countOverContext(const store::SqliteReadDb &db, const Slice &slice, qint64 contextWindow)
{
    return countOverContextOf(db, slice, contextWindow);
}

std::optional<qint64> countOverContext(const store::PgReadDb &db, const Slice &slice, qint64 contextWindow)
{
    return countOverContextOf(db, slice, contextWindow);
}

Report report(sqlite3 *db, const Slice &slice, const Candidate &candidate, qint64 contextWindow)
{
    return reportOf(store::SqliteReadDb{db, {}}, slice, candidate, contextWindow);
}

Report report(const store::SqliteReadDb &db, const Slice &slice, const Candidate &candidate, qint64 contextWindow)
{
    return reportOf(db, slice, candidate, contextWindow);
}

Report report(const store::PgReadDb &db, const Slice &slice, const Candidate &candidate, qint64 contextWindow)
{
    return reportOf(db, slice, candidate, contextWindow);
}

} // namespace gh::whatif
