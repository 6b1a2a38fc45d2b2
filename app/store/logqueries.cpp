#include "core/logging.h"
#include "store/logqueries.h"
#include "store/sqliteconfigrepository.h"
#include "store/requestcodec.h"
#include "store/readdb.h"
#include <algorithm>
#include <unordered_map>

// The window's read queries, written once for both back-ends: LogQueriesImpl is a template over the
// read connection (store/readdb.h), which holds what the SQL dialects disagree on.
namespace gh {

namespace {

using store::arg;
using store::Value;
using store::scalar;

// "seq, " and the codec's columns: readRow() reads them.
QByteArray rowColumns()
{
    return QByteArray("seq, ") + store::kRequestColumns;
}

template <typename S> ActivityRow readRow(const S &s)
{
    return ActivityRow{s.integer(0), store::readRequest(s, 1)};
}

// " AND ..." conditions of the filter and the instance scope, and their arguments (the caller
// starts the WHERE with the seq bound).
template <typename Db> void appendFilter(const Db &db, const ActivityFilter &f, QByteArray &sql, QList<Value> &args)
{
    if (f.keyId > 0)
        sql += " AND key_id = " + arg(args, f.keyId);
    else if (!f.key.isEmpty())
        sql += " AND key_name = " + arg(args, f.key);
    if (!f.model.isEmpty())
        sql += " AND requested_model = " + arg(args, f.model);
    if (!f.provider.isEmpty())
        sql += " AND provider = " + arg(args, f.provider);
    if (!f.session.isEmpty())
        sql += " AND session_id = " + arg(args, f.session); // requests_session_time index
    if (f.status == QLatin1String("ok"))
        sql += QByteArray(" AND ") + store::kSucceededSql;
    else if (f.status == QLatin1String("error"))
        sql += QByteArray(" AND NOT ") + store::kSucceededSql;
    else if (f.status == QLatin1String("refused") && f.refusal.isEmpty())
        sql += " AND refusal <> ''"; // requests_refusals index
    else if (f.status == QLatin1String("refused"))
        sql += " AND refusal = " + arg(args, f.refusal);
    if (f.fromMs > 0)
        sql += " AND started_at_ms >= " + arg(args, f.fromMs);
    if (f.toMs > 0)
        sql += " AND started_at_ms <= " + arg(args, f.toMs);
    if (f.search.startsWith(QLatin1String("req_"))) {
        // A whole id or its start: a range on the unique index of id. SQLite compares in UTF-8 order
        // (BINARY); PostgreSQL in the database's collation unless told "C", byte order.
        const QByteArray from = arg(args, f.search);
        const QByteArray to = arg(args, f.search + QChar(0xDBFF) + QChar(0xDFFF)); // U+10FFFF: above any continuation
        sql += std::is_same_v<Db, store::PgReadDb> ? " AND id COLLATE \"C\" >= " + from + " AND id COLLATE \"C\" < " + to
                                                   : " AND id >= " + from + " AND id < " + to;
    } else if (!f.search.isEmpty()) {
        // Any part of an id (a piece copied from a client's log without the "req_"): a scan, on
        // the query thread, case-insensitive like the ids' base-36 digits allow.
        args.append(f.search.toLower());
        sql += Db::idContains(int(args.size()));
    }
    sql += store::instanceCondition(db, args);
}

// The row of request `id` among the rows `where` selects (newest first), -1 when it is not one of
// them: one primary-key read, then a count of the rows above it.
template <typename Db> qint64 locateRow(const Db &db, const QString &id, const QByteArray &where, const QList<Value> &args)
{
    if (id.isEmpty())
        return -1;
    QList<Value> findArgs = args;
    auto find = db.prepare("SELECT started_at_ms, seq FROM requests" + where + " AND id = " + arg(findArgs, id));
    store::bindValues(find, findArgs);
    if (!find.next())
        return -1;
    const qint64 started = find.integer(0);
    const qint64 seq = find.integer(1);
    QList<Value> aboveArgs = args;
    const QByteArray above = " AND started_at_ms >= " + arg(aboveArgs, started) + " AND (started_at_ms > "
        + arg(aboveArgs, started) + " OR seq > " + arg(aboveArgs, seq) + ")";
    return scalar(db, "SELECT COUNT(*) FROM requests" + where + above, aboveArgs);
}

// The newest row `where` selects, into c.topStarted / c.topSeq.
template <typename Db> void readTop(const Db &db, const QByteArray &where, const QList<Value> &args, ActivityCount &c)
{
    auto top = db.prepare("SELECT started_at_ms, seq FROM requests" + where + " ORDER BY started_at_ms DESC, seq DESC LIMIT 1");
    store::bindValues(top, args);
    if (top.next()) {
        c.topStarted = top.integer(0);
        c.topSeq = top.integer(1);
    }
}

// The queries over one back-end's read connection. Db: store::SqliteReadDb or store::PgReadDb; the
// instance scope lives in it (m_db.instance).
template <typename Db> class LogQueriesImpl : public LogQueries
{
public:
    LogQueriesImpl() = default;
    LogQueriesImpl(const LogQueriesImpl &) = delete;
    LogQueriesImpl &operator=(const LogQueriesImpl &) = delete;

    void setInstanceScope(const QString &instanceId) override { m_db.instance = instanceId; }
    QString instanceScope() const override { return m_db.instance; }

    ActivityCount countActivity(const ActivityFilter &filter, const QString &selected) override
    {
        ActivityCount c;
        if (!ready())
            return c;
        m_db.begin();
        c.maxSeq = scalar(m_db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
        // "+seq": the watermark must not steer the plan to a scan of the whole table by rowid.
        QByteArray where = " WHERE +seq <= ?1";
        QList<Value> args{c.maxSeq};
        appendFilter(m_db, filter, where, args);
        // Unfiltered, inside this read transaction every row is under the watermark: COUNT(*)
        // without a condition lets SQLite count the smallest index.
        c.total = filter == ActivityFilter() && m_db.instance.isEmpty()
            ? scalar(m_db, "SELECT COUNT(*) FROM requests")
            : scalar(m_db, "SELECT COUNT(*) FROM requests" + where, args);
        readTop(m_db, where, args, c);
        c.selectedRow = locateRow(m_db, selected, where, args);
        m_db.exec("COMMIT");
        return c;
    }

    ActivityCount countNewActivity(const ActivityFilter &filter, qint64 afterSeq, bool hasTop, qint64 topStarted,
                                   qint64 topSeq, const QString &selected) override
    {
        ActivityCount c;
        if (!ready())
            return c;
        m_db.begin();
        c.maxSeq = scalar(m_db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
        if (c.maxSeq < afterSeq) { // emptied behind our back
            m_db.exec("COMMIT");
            c.ok = false;
            return c;
        }
        QByteArray where = " WHERE seq > ?1 AND seq <= ?2";
        QList<Value> args{afterSeq, c.maxSeq};
        appendFilter(m_db, filter, where, args);
        c.total = scalar(m_db, "SELECT COUNT(*) FROM requests" + where, args);
        if (c.total > 0) {
            if (hasTop) {
                QList<Value> headArgs = args;
                const QByteArray above = " AND started_at_ms >= " + arg(headArgs, topStarted) + " AND (started_at_ms > "
                    + arg(headArgs, topStarted) + " OR seq > " + arg(headArgs, topSeq) + ")";
                c.head = scalar(m_db, "SELECT COUNT(*) FROM requests" + where + above, headArgs);
            } else {
                c.head = c.total;
            }
            QByteArray all = " WHERE +seq <= ?1";
            QList<Value> allArgs{c.maxSeq};
            appendFilter(m_db, filter, all, allArgs);
            readTop(m_db, all, allArgs, c);
            c.selectedRow = locateRow(m_db, selected, all, allArgs); // new rows may sit above it
        }
        m_db.exec("COMMIT");
        return c;
    }

    qint64 locateActivity(const ActivityFilter &filter, qint64 maxSeq, const QString &id) override
    {
        if (!ready())
            return -1;
        QByteArray where = " WHERE +seq <= ?1";
        QList<Value> args{maxSeq};
        appendFilter(m_db, filter, where, args);
        return locateRow(m_db, id, where, args);
    }

    QList<ActivityRow> activityPage(const ActivityPageQuery &q) override
    {
        QList<ActivityRow> rows;
        if (!ready())
            return rows;
        QByteArray sql = "SELECT " + rowColumns() + " FROM requests WHERE +seq <= ?1";
        QList<Value> args{q.maxSeq};
        appendFilter(m_db, q.filter, sql, args);
        bool descending = true; // rows come newest first and are reversed
        auto edge = [&](const char *cmp, const char *order) {
            sql += " AND started_at_ms " + QByteArray(cmp) + "= " + arg(args, q.edgeStarted) + " AND (started_at_ms " + cmp
                + " " + arg(args, q.edgeStarted) + " OR seq " + cmp + " " + arg(args, q.edgeSeq) + ") ORDER BY started_at_ms "
                + order + ", seq " + order + " LIMIT " + arg(args, qint64(q.count));
        };
        switch (q.from) {
        case ActivityPageQuery::From::Below:
            edge("<", "DESC");
            break;
        case ActivityPageQuery::From::Above:
            edge(">", "ASC");
            descending = false;
            break;
        case ActivityPageQuery::From::Bottom:
            sql += " ORDER BY started_at_ms ASC, seq ASC LIMIT " + arg(args, qint64(q.count));
            sql += " OFFSET " + arg(args, q.offset);
            descending = false;
            break;
        case ActivityPageQuery::From::Top:
            sql += " ORDER BY started_at_ms DESC, seq DESC LIMIT " + arg(args, qint64(q.count));
            sql += " OFFSET " + arg(args, q.offset);
            break;
        }
        auto st = m_db.prepare(sql);
        store::bindValues(st, args);
        while (st.next())
            rows.append(readRow(st));
        if (descending)
            std::reverse(rows.begin(), rows.end());
        return rows;
    }

    QHash<QString, QSet<QString>> activityDistinct(qint64 afterSeq, qint64 upToSeq) override
    {
        QHash<QString, QSet<QString>> out;
        if (!ready())
            return out;
        static const char *const kColumns[] = {"key_name", "requested_model", "provider", "upstream_model", "session_id"};
        static const char *const kNames[] = {"key", "model", "provider", "upstreamModel", "session"};
        for (int i = 0; i < 5; ++i) {
            QList<Value> args{afterSeq, upToSeq};
            const QByteArray scope = store::instanceCondition(m_db, args);
            auto st = m_db.prepare(QByteArray("SELECT DISTINCT ") + kColumns[i] + " FROM requests WHERE seq > ?1 AND seq <= ?2"
                                   + scope);
            store::bindValues(st, args);
            QSet<QString> &set = out[QLatin1String(kNames[i])];
            while (st.next()) {
                const QString v = st.text(0);
                if (!v.isEmpty())
                    set.insert(v);
            }
        }
        return out;
    }

    bool forEachActivityRow(const ActivityFilter &filter, qint64 maxSeq,
                            const std::function<bool(const RequestRecord &)> &row, QString *error) override
    {
        if (!ready()) {
            if (error)
                *error = QStringLiteral("the database is not open");
            return false;
        }
        QByteArray sql = "SELECT " + rowColumns() + " FROM requests WHERE seq <= ?1";
        QList<Value> args{maxSeq};
        appendFilter(m_db, filter, sql, args);
        sql += " ORDER BY started_at_ms DESC, seq DESC";
        auto st = m_db.prepare(sql);
        store::bindValues(st, args);
        while (st.next()) {
            if (!row(readRow(st).record))
                return true;
        }
        if (!st.ok()) {
            if (error)
                *error = st.error();
            return false;
        }
        return true;
    }

    analytics::Rankings rankings(const analytics::RankingsQuery &query) override
    {
        ready();
        return analytics::rankings(m_db, query);
    }

    analytics::CacheReport cacheReport(const analytics::CacheQuery &query) override
    {
        ready();
        return analytics::cacheReport(m_db, query);
    }

    analytics::PrefixDiagnosis diagnosePrefixes(qint64 keyId) override
    {
        ready();
        return analytics::diagnosePrefixes(m_db, keyId);
    }

    whatif::Report whatIf(const whatif::Slice &slice, const whatif::Candidate &candidate, qint64 contextWindow) override
    {
        ready();
        return whatif::report(m_db, slice, candidate, contextWindow);
    }

    std::optional<qint64> firstRolledUpDayMs() override
    {
        if (!ready())
            return std::nullopt;
        return analytics::firstRolledUpDayMs(m_db);
    }

    SpendScan scanSpend(qint64 fromMs, qint64 afterSeq, bool full) override
    {
        SpendScan b;
        b.full = full;
        if (!ready())
            return b;
        // One read transaction: the max seq and the rows up to it come from the same snapshot.
        m_db.begin();
        {
            auto max = m_db.prepare("SELECT COALESCE(MAX(seq), 0) FROM requests");
            if (!max.next()) {
                m_db.exec("ROLLBACK");
                return b;
            }
            b.maxSeq = max.integer(0);
        }
        if (b.maxSeq < afterSeq) // the log was cleared behind our back: read it all again
            b.full = true;
        // The full read walks the time index from the window's start; an update walks the rowids
        // committed since the last one (the unary + keeps SQLite from picking the other index).
        // Rows are grouped here rather than by GROUP BY: interning the few distinct texts and
        // hashing small integer tuples is several times faster than SQLite's sorter over 1M rows.
        // "answered": a 2xx, whether or not an error came after it (unlike store::kSucceededSql).
        QList<Value> args{b.full ? 0 : afterSeq, b.maxSeq, fromMs};
        const QByteArray scope = store::instanceCondition(m_db, args);
        auto q = m_db.prepare(QByteArray(b.full ? "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                                   "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + "
                                   "output_tokens, status BETWEEN 200 AND 299 "
                                   "FROM requests WHERE +seq > ?1 AND +seq <= ?2 AND started_at_ms >= ?3"
                                 : "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                                   "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + "
                                   "output_tokens, status BETWEEN 200 AND 299 "
                                   "FROM requests WHERE seq > ?1 AND seq <= ?2 AND +started_at_ms >= ?3")
                              + scope);
        store::bindValues(q, args);
        QHash<QByteArray, int> textIds;
        QStringList texts;
        auto intern = [&](int column) {
            const QByteArray raw = q.rawText(column);
            auto it = textIds.constFind(raw);
            if (it != textIds.cend())
                return *it;
            const QByteArray copy(raw.constData(), raw.size());
            texts.append(QString::fromUtf8(copy));
            return *textIds.insert(copy, int(texts.size()) - 1);
        };
        struct GroupIds {
            qint64 bucket, keyId;
            int keyName, model, provider;
            bool operator==(const GroupIds &) const = default;
        };
        struct GroupHash {
            size_t operator()(const GroupIds &g) const noexcept
            {
                return size_t(qHashMulti(0, g.bucket, g.keyId, g.keyName, g.model, g.provider));
            }
        };
        std::unordered_map<GroupIds, SpendCell, GroupHash> groups;
        while (q.next()) {
            const GroupIds g{q.integer(0) / 900000, q.integer(1), intern(2), intern(3), intern(4)};
            SpendCell &c = groups[g];
            const bool answered = q.integer(7) != 0;
            if (!q.isNull(5))
                c.cost += q.integer(5);
            else if (answered)
                c.unpriced += 1;
            c.requests += 1;
            c.tokens += q.integer(6);
            c.answered += answered ? 1 : 0;
        }
        b.rows.reserve(qsizetype(groups.size()));
        for (const auto &[g, cell] : groups)
            b.rows.append(SpendRow{g.bucket, g.keyId, texts.at(g.keyName), texts.at(g.model), texts.at(g.provider), cell});
        b.ok = q.ok();
        m_db.exec("COMMIT");
        return b;
    }

    QHash<QString, qint64> refusalCounts(qint64 sinceMs) override
    {
        QHash<QString, qint64> counts;
        if (!ready())
            return counts;
        // requests_refusals: a partial index of the refused rows only.
        QList<Value> args{sinceMs};
        const QByteArray scope = store::instanceCondition(m_db, args);
        auto st = m_db.prepare("SELECT refusal, COUNT(*) FROM requests WHERE refusal <> '' AND started_at_ms >= ?1" + scope
                               + " GROUP BY refusal");
        store::bindValues(st, args);
        while (st.next())
            counts.insert(st.text(0), st.integer(1));
        return counts;
    }

    QList<SessionSpend> sessionSpend(qint64 sinceMs, int limit) override
    {
        QList<SessionSpend> rows;
        if (!ready() || limit <= 0)
            return rows;
        // requests_session_time index: only rows with a session are in it. "unpriced": answered (2xx)
        // without a price, as the dashboard's spend counts it.
        QList<Value> args{sinceMs, qint64(limit)};
        const QByteArray scope = store::instanceCondition(m_db, args, "r.instance_id");
        const QByteArray latestScope = m_db.instance.isEmpty() ? QByteArray() : " AND l.instance_id = ?3";
        auto st = m_db.prepare("SELECT session_id, (SELECT key_name FROM requests l WHERE l.session_id = r.session_id "
                               "AND l.started_at_ms >= ?1" + latestScope + " ORDER BY l.seq DESC LIMIT 1), "
                               "SUM(COALESCE(cost_nano_usd, 0)), COUNT(*), "
                               + Db::countIf("cost_nano_usd IS NULL AND status BETWEEN 200 AND 299") + ", MIN(started_at_ms), "
                               "MAX(started_at_ms), " + Db::countIf(QByteArray("NOT ") + store::kSucceededSql) + " FROM requests r "
                               "WHERE session_id <> '' AND started_at_ms >= ?1" + scope
                               + " GROUP BY session_id ORDER BY 3 DESC, 7 DESC LIMIT ?2");
        store::bindValues(st, args);
        while (st.next()) {
            SessionSpend r;
            r.session = st.text(0);
            r.keyName = st.text(1);
            r.costNano = st.integer(2);
            r.requests = st.integer(3);
            r.unpriced = st.integer(4);
            r.firstAtMs = st.integer(5);
            r.lastAtMs = st.integer(6);
            r.failed = st.integer(7);
            rows.append(r);
        }
        // The model mix of each (at most `limit`, through requests_session_time).
        for (SessionSpend &r : rows) {
            QList<Value> mixArgs{r.session, sinceMs};
            const QByteArray mixScope = store::instanceCondition(m_db, mixArgs);
            auto mix = m_db.prepare("SELECT requested_model, COUNT(*), SUM(COALESCE(cost_nano_usd, 0)) FROM requests "
                                    "WHERE session_id = ?1 AND started_at_ms >= ?2" + mixScope
                                    + " GROUP BY requested_model ORDER BY 3 DESC, 2 DESC, 1");
            store::bindValues(mix, mixArgs);
            while (mix.next())
                r.models.append(SessionModelShare{mix.text(0), mix.integer(1), mix.integer(2)});
        }
        return rows;
    }

    QList<SessionStep> sessionTimeline(const QString &session, qint64 sinceMs, int limit) override
    {
        QList<SessionStep> steps;
        if (!ready() || session.isEmpty() || limit <= 0)
            return steps;
        QList<Value> args{session, sinceMs, qint64(limit)};
        const QByteArray scope = store::instanceCondition(m_db, args);
        auto st = m_db.prepare("SELECT " + rowColumns() + " FROM requests WHERE session_id = ?1 AND started_at_ms >= ?2" + scope
                               + " ORDER BY started_at_ms, seq LIMIT ?3");
        store::bindValues(st, args);
        NanoUsd total = 0;
        while (st.next()) {
            ActivityRow row = readRow(st);
            total += row.record.cost.value_or(0);
            steps.append(SessionStep{row.seq, std::move(row.record), total});
        }
        return steps;
    }

    QList<GuardrailTripRow> guardrailTrips(int limit, bool *ok) override
    {
        QList<GuardrailTripRow> rows;
        const bool open = ready();
        if (ok)
            *ok = open;
        if (!open || limit <= 0)
            return rows;
        // guardrail_trips has no instance: one instance's trips are those of its logged requests.
        auto st = m_db.prepare(store::guardrailTripSelect(
            m_db.instance.isEmpty() ? "ORDER BY id DESC LIMIT ?1"
                                    : "WHERE EXISTS (SELECT 1 FROM requests r WHERE r.id = guardrail_trips.request_id "
                                      "AND r.instance_id = ?2) ORDER BY id DESC LIMIT ?1"));
        st.bindInt(1, limit);
        if (!m_db.instance.isEmpty())
            st.bindText(2, m_db.instance);
        while (st.next())
            rows.append(readGuardrailTrip(st));
        if (ok)
            *ok = st.ok();
        return rows;
    }

    QList<MinuteSpend> spendPerMinute(qint64 keyId, const QString &session, qint64 fromMs, qint64 toMs) override
    {
        QList<MinuteSpend> rows;
        if (!ready() || toMs <= fromMs)
            return rows;
        // A session's rows through requests_session_time; a key's through the key/time index.
        QList<Value> args{keyId, fromMs, toMs};
        QByteArray where = "WHERE key_id = ?1 AND started_at_ms >= ?2 AND started_at_ms < ?3";
        if (!session.isEmpty())
            where = "WHERE session_id = " + arg(args, session) + " AND session_id <> '' AND key_id = ?1 AND started_at_ms >= ?2 AND started_at_ms < ?3";
        where += store::instanceCondition(m_db, args);
        auto st = m_db.prepare("SELECT started_at_ms / 60000, SUM(COALESCE(cost_nano_usd, 0)), COUNT(*) FROM requests " + where
                               + " GROUP BY 1 ORDER BY 1");
        store::bindValues(st, args);
        while (st.next())
            rows.append(MinuteSpend{st.integer(0) * 60'000, st.integer(1), st.integer(2)});
        return rows;
    }

protected:
    // Whether the connection can be used now (PostgreSQL: reconnected after an outage).
    virtual bool ready() = 0;
    Db m_db;
};

class SqliteLogQueries final : public LogQueriesImpl<store::SqliteReadDb>
{
public:
    explicit SqliteLogQueries(const QString &path)
    {
        QString error;
        m_db.db = sqlite::open(path, sqlite::Access::ReadOnly, 5'000, &error);
        if (!m_db.db)
            qCWarning(lcStore) << "cannot open" << path << "for reading:" << error;
    }
    ~SqliteLogQueries() override { sqlite::close(m_db.db); }

private:
    bool ready() override { return m_db.isOpen(); }
};

// A connection of its own, opened at the first query (on the thread that runs them) and again after
// the server went away: while it is down every query returns its failed value at once (a refused
// connection on the loopback; libpq's connect_timeout, 5 s, bounds an unreachable host).
class PgLogQueries final : public LogQueriesImpl<store::PgReadDb>
{
public:
    explicit PgLogQueries(const QString &url) : m_url(url) { m_db.conn = &m_conn; }

private:
    bool ready() override
    {
        QString error;
        if (m_conn.isOpen() ? m_conn.ensure(&error) : m_conn.open(m_url, &error)) {
            m_warned = false;
            return true;
        }
        if (!m_warned) // once per outage
            qCWarning(lcStore).noquote() << "the window's queries cannot reach the team store:" << error;
        m_warned = true;
        return false;
    }

    pg::Connection m_conn;
    QString m_url;
    bool m_warned = false;
};

} // namespace

std::unique_ptr<LogQueries> openSqliteLogQueries(const QString &path)
{
    return std::make_unique<SqliteLogQueries>(path);
}

std::unique_ptr<LogQueries> openPostgresLogQueries(const QString &url)
{
    return std::make_unique<PgLogQueries>(url);
}

} // namespace gh
