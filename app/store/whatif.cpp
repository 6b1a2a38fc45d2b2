#include "store/whatif.h"
#include "store/sqlite.h"
#include <QHash>
#include <QSet>
#include <sqlite3.h>

namespace gh::whatif {

namespace {

using sqlite::Statement;
using sqlite::Value;

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
QByteArray rowConditions(const Slice &slice, QList<Value> &args)
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
    return sql;
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

Result compute(sqlite3 *db, const Slice &slice, const Candidate &candidate)
{
    Result result;
    if (!db) {
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
    result.fromRollups = slice.session.isEmpty() && !candidate.price.isTiered();
    if (result.fromRollups) {
        QByteArray sql = "SELECT t, sum(requests), sum(cost_nano_usd), sum(unpriced), sum(input_tokens), sum(cache_read_tokens),"
                         " sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens)"
                         " FROM rollups WHERE grain = 1 AND t >= ?1 AND t < ?2";
        QList<Value> args{fromDay, toDay};
        if (slice.keyId > 0) {
            args.append(slice.keyId);
            sql += " AND key_id = ?3";
        }
        if (!slice.model.isEmpty()) {
            args.append(slice.model);
            sql += " AND model = ?" + QByteArray::number(args.size());
        }
        sql += " GROUP BY t";
        Statement s(db, sql, args);
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
            addCandidate(a, u.isEmpty() ? std::optional<NanoUsd>(0) : costOf(u, candidate.price));
        }
        if (!s.ok()) {
            result.error = s.error();
            return result;
        }
    } else {
        QList<Value> args{fromDay * kDayMs, toDay * kDayMs};
        const QByteArray sql = "SELECT started_at_ms, cost_nano_usd, input_tokens, cache_read_tokens, cache_write_tokens,"
                               " cache_write_1h_tokens, output_tokens FROM requests WHERE started_at_ms >= ?1 AND started_at_ms < ?2"
                               + rowConditions(slice, args);
        Statement s(db, sql, args);
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
            addCandidate(a, u.isEmpty() ? std::optional<NanoUsd>(0) : costOf(u, candidate.price));
        }
        if (!s.ok()) {
            result.error = s.error();
            return result;
        }
    }
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
    result.ok = true;
    return result;
}

std::optional<qint64> countOverContext(sqlite3 *db, const Slice &slice, qint64 contextWindow)
{
    if (!db)
        return std::nullopt;
    if (contextWindow <= 0)
        return 0;
    const qint64 fromDay = slice.fromMs / kDayMs;
    const qint64 toDay = (slice.toMs + kDayMs - 1) / kDayMs;
    QList<Value> args{fromDay * kDayMs, toDay * kDayMs};
    QByteArray sql = "SELECT count(*) FROM requests WHERE started_at_ms >= ?1 AND started_at_ms < ?2" + rowConditions(slice, args);
    args.append(contextWindow);
    sql += " AND input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > ?"
           + QByteArray::number(args.size());
    bool ok = false;
    const qint64 n = sqlite::scalar(db, sql, args, &ok);
    return ok ? std::optional<qint64>(n) : std::nullopt;
}

} // namespace gh::whatif
