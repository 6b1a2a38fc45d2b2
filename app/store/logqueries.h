#pragma once
#include "store/analytics.h"
#include "store/requestrecord.h"
#include "store/storeinterfaces.h"
#include "store/whatif.h"
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <functional>
#include <memory>

namespace gh {

// What the Activity page filters the request log by.
struct ActivityFilter {
    QString key, model, provider, session, status = QStringLiteral("all"), search; // status: all | ok | error | refused
    // With status "refused": only refusals of this kind (budget, policy, secret, guardrail); empty: every kind.
    QString refusal;
    qint64 keyId = 0; // the key's id when `key` names a configured key (reads by key id)
    qint64 fromMs = 0, toMs = 0; // started_at_ms, inclusive; 0: open
    friend bool operator==(const ActivityFilter &, const ActivityFilter &) = default;
};

// One row of the log as the Activity page shows it: `seq` orders rows that started at the same ms.
struct ActivityRow {
    qint64 seq = 0;
    RequestRecord record;
};

// A count of the filtered rows up to a watermark (the highest seq at the time of the count).
struct ActivityCount {
    bool ok = false;
    qint64 maxSeq = 0; // the watermark: rows with seq <= maxSeq are the ones counted
    qint64 total = 0;
    qint64 head = 0; // countNew: new rows above the previous top
    qint64 topStarted = 0; // the newest counted row (started_at_ms, seq)
    qint64 topSeq = 0;
    qint64 selectedRow = -1; // the selected request's row under the filter (newest first), -1 when left out
};

// A page of filtered rows at or under the watermark, newest first by (started_at_ms, seq).
struct ActivityPageQuery {
    ActivityFilter filter;
    qint64 maxSeq = 0;
    int count = 0;
    enum class From {
        Below,  // the `count` rows just below (edgeStarted, edgeSeq)
        Above,  // the `count` rows just above it
        Bottom, // `offset` rows from the oldest
        Top,    // `offset` rows from the newest
    } from = From::Top;
    qint64 edgeStarted = 0, edgeSeq = 0;
    qint64 offset = 0;
};

// The dashboard's spend per 15-minute bucket x key x model x provider (every time zone's midnight
// is on a 15-minute boundary).
struct SpendCell {
    NanoUsd cost = 0; // priced cost; unpriced requests add nothing
    qint64 requests = 0; // every logged request, errors included
    qint64 tokens = 0; // input (cached or not) + output tokens
    qint64 answered = 0; // requests a provider answered with a 2xx
    qint64 unpriced = 0; // of those, the ones with no price (their cost is unknown, not zero)
};
struct SpendRow {
    qint64 bucket = 0; // started_at_ms / 900000
    qint64 keyId = 0;
    QString keyName, model, provider; // model: the model the client asked for
    SpendCell cell;
};
struct SpendScan {
    bool ok = false;
    bool full = false; // every row from fromMs (asked for, or the log was cleared since afterSeq)
    qint64 maxSeq = 0;
    QList<SpendRow> rows;
};

// One model's share of a session: the model the client asked for.
struct SessionModelShare {
    QString model;
    qint64 requests = 0;
    NanoUsd costNano = 0; // priced requests only
    friend bool operator==(const SessionModelShare &, const SessionModelShare &) = default;
};

// Spend per client session (Claude Code's session id) since a time.
struct SessionSpend {
    QString session;
    QString keyName; // of its latest request
    qint64 costNano = 0;
    qint64 requests = 0;
    qint64 unpriced = 0; // answered (2xx) with no price
    qint64 failed = 0; // not a success by store::kSucceededSql (errors, refusals, cut streams)
    qint64 firstAtMs = 0;
    qint64 lastAtMs = 0; // duration: lastAtMs - firstAtMs (start to start)
    QList<SessionModelShare> models; // most spend first, then most requests, then by name
    friend bool operator==(const SessionSpend &, const SessionSpend &) = default;
};

// One request of a session's timeline, with what the session had spent up to and including it.
struct SessionStep {
    qint64 seq = 0;
    RequestRecord record;
    NanoUsd cumulativeNano = 0; // priced cost of this and every earlier step; unpriced steps add nothing
};

// Spend of one minute (a guardrail trip's rate curve).
struct MinuteSpend {
    qint64 minuteMs = 0; // the minute's start, ms since the epoch
    NanoUsd cost = 0;
    qint64 requests = 0;
    friend bool operator==(const MinuteSpend &, const MinuteSpend &) = default;
};

// The read queries of the window (Activity, Rankings, Cache, the dashboard) over the request log:
// the query objects a back-end implements (openSqliteLogQueries, openPostgresLogQueries; one code
// for both, store/readdb.h). One instance belongs to one
// thread at a time (the window's query thread, an export's thread); each has its own connection, so
// reads never wait for the log writer. A query that cannot run (no database, a failed statement)
// returns its empty or failed value (ok = false), never throws.
class LogQueries
{
public:
    virtual ~LogQueries() = default;

    // --- Scope ---
    // Which instances' rows every later query reads: every instance's (an empty id: the whole team
    // on a team store) or one instance's (its RequestRecord::instanceId: "this machine"). The
    // default is every instance's. On a SQLite store all rows are normally one instance's.
    virtual void setInstanceScope(const QString &instanceId) = 0;
    [[nodiscard]] virtual QString instanceScope() const = 0;

    // --- Activity ---
    // The filtered rows up to the current highest seq, the newest of them, and where `selected` is.
    [[nodiscard]] virtual ActivityCount countActivity(const ActivityFilter &filter, const QString &selected) = 0;
    // The filtered rows committed after `afterSeq`; `head`: how many sit above the previous top row
    // (topStarted, topSeq), all of them when !hasTop. ok = false when the log was emptied meanwhile.
    [[nodiscard]] virtual ActivityCount countNewActivity(const ActivityFilter &filter, qint64 afterSeq, bool hasTop,
                                                         qint64 topStarted, qint64 topSeq, const QString &selected)
        = 0;
    // The row of request `id` among the filtered rows up to maxSeq (newest first), -1 when left out.
    [[nodiscard]] virtual qint64 locateActivity(const ActivityFilter &filter, qint64 maxSeq, const QString &id) = 0;
    // Oldest first.
    [[nodiscard]] virtual QList<ActivityRow> activityPage(const ActivityPageQuery &query) = 0;
    // Distinct key names, requested models, providers, upstream models and sessions of the rows in
    // (afterSeq, upToSeq], by "key", "model", "provider", "upstreamModel", "session"; empty values left out.
    [[nodiscard]] virtual QHash<QString, QSet<QString>> activityDistinct(qint64 afterSeq, qint64 upToSeq) = 0;
    // Calls `row` for every filtered row up to maxSeq, newest first, until it returns false.
    // False and *error when the read failed.
    virtual bool forEachActivityRow(const ActivityFilter &filter, qint64 maxSeq,
                                    const std::function<bool(const RequestRecord &)> &row, QString *error)
        = 0;

    // --- Rankings and Cache (analytics.h) ---
    [[nodiscard]] virtual analytics::Rankings rankings(const analytics::RankingsQuery &query) = 0;
    [[nodiscard]] virtual analytics::CacheReport cacheReport(const analytics::CacheQuery &query) = 0;
    [[nodiscard]] virtual analytics::PrefixDiagnosis diagnosePrefixes(qint64 keyId) = 0;
    // The start (ms, UTC midnight) of the first day with rolled-up requests; nullopt when none.
    [[nodiscard]] virtual std::optional<qint64> firstRolledUpDayMs() = 0;

    // --- What-if (whatif.h) ---
    // The slice re-priced on the candidate, the requests longer than `contextWindow`, the slice's
    // models and the Compare votes, in one read transaction.
    [[nodiscard]] virtual whatif::Report whatIf(const whatif::Slice &slice, const whatif::Candidate &candidate, qint64 contextWindow) = 0;

    // --- Dashboard ---
    // Spend of the rows that started at or after fromMs: every such row when `full`, else only the
    // rows committed after afterSeq.
    [[nodiscard]] virtual SpendScan scanSpend(qint64 fromMs, qint64 afterSeq, bool full) = 0;
    // The `limit` sessions with the most spend since sinceMs, most first.
    [[nodiscard]] virtual QList<SessionSpend> sessionSpend(qint64 sinceMs, int limit) = 0;
    // The requests Gatehouse refused (requests.refusal) since `sinceMs`, counted by kind.
    [[nodiscard]] virtual QHash<QString, qint64> refusalCounts(qint64 sinceMs) = 0;
    // The first `limit` requests of one session that started at or after sinceMs, oldest first
    // (started_at_ms, then seq), each with the session's cumulative cost. Empty for an empty session.
    [[nodiscard]] virtual QList<SessionStep> sessionTimeline(const QString &session, qint64 sinceMs, int limit) = 0;

    // --- Guardrails ---
    // The `limit` newest trips, newest first; ok = false in *ok when the read failed.
    [[nodiscard]] virtual QList<GuardrailTripRow> guardrailTrips(int limit, bool *ok = nullptr) = 0;
    // Spend per minute in [fromMs, toMs) of one key's requests (of one session's when `session` is
    // not empty), only the minutes with requests, oldest first.
    [[nodiscard]] virtual QList<MinuteSpend> spendPerMinute(qint64 keyId, const QString &session, qint64 fromMs, qint64 toMs) = 0;
};

// The SQLite back-end's queries over the database file at `path`, on a read-only connection of its
// own (opened here; when it cannot be, every query returns its failed value).
[[nodiscard]] std::unique_ptr<LogQueries> openSqliteLogQueries(const QString &path);
// The PostgreSQL back-end's queries over the team database at `url`, on a connection of their own,
// opened at the first query on the thread that runs them and again after the server went away
// (meanwhile every query returns its failed value).
[[nodiscard]] std::unique_ptr<LogQueries> openPostgresLogQueries(const QString &url);

} // namespace gh
