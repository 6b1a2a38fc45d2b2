#include "core/logging.h"
#include "store/logqueries.h"
#include "store/sqliteconfigrepository.h"
#include "store/requestcodec.h"
#include "store/sqlite.h"
#include <algorithm>
#include <unordered_map>

namespace gh {

namespace {

using sqlite::Statement;
using sqlite::Value;
using sqlite::scalar;

constexpr qint64 kDayMs = 86'400'000;

// "seq, " and the codec's columns: readRow() reads them.
QByteArray rowColumns()
{
    return QByteArray("seq, ") + store::kRequestColumns;
}

ActivityRow readRow(const Statement &s)
{
    return ActivityRow{s.integer(0), store::readRequest(s, 1)};
}

// " AND ..." conditions of the filter and their arguments (the caller starts the WHERE with the seq
// bound).
void appendFilter(const ActivityFilter &f, QByteArray &sql, QList<Value> &args)
{
    if (f.keyId > 0) {
        sql += " AND key_id = ?";
        args.append(f.keyId);
    } else if (!f.key.isEmpty()) {
        sql += " AND key_name = ?";
        args.append(f.key);
    }
    if (!f.model.isEmpty()) {
        sql += " AND requested_model = ?";
        args.append(f.model);
    }
    if (!f.provider.isEmpty()) {
        sql += " AND provider = ?";
        args.append(f.provider);
    }
    if (!f.session.isEmpty()) {
        sql += " AND session_id = ?"; // requests_session_time index
        args.append(f.session);
    }
    if (f.status == QLatin1String("ok"))
        sql += QByteArray(" AND ") + store::kSucceededSql;
    else if (f.status == QLatin1String("error"))
        sql += QByteArray(" AND NOT ") + store::kSucceededSql;
    else if (f.status == QLatin1String("refused") && f.refusal.isEmpty())
        sql += " AND refusal <> ''"; // requests_refusals index
    else if (f.status == QLatin1String("refused")) {
        sql += " AND refusal = ?";
        args.append(f.refusal);
    }
    if (f.fromMs > 0) {
        sql += " AND started_at_ms >= ?";
        args.append(f.fromMs);
    }
    if (f.toMs > 0) {
        sql += " AND started_at_ms <= ?";
        args.append(f.toMs);
    }
    if (f.search.startsWith(QLatin1String("req_"))) {
        // A whole id or its start: a range on the unique index of id (UTF-8 order, BINARY collation).
        sql += " AND id >= ? AND id < ?";
        args.append(f.search);
        args.append(f.search + QChar(0xDBFF) + QChar(0xDFFF)); // U+10FFFF: above any continuation
    } else if (!f.search.isEmpty()) {
        // Any part of an id (a piece copied from a client's log without the "req_"): a scan, on
        // the query thread, case-insensitive like the ids' base-36 digits allow.
        sql += " AND instr(lower(id), ?) > 0";
        args.append(f.search.toLower());
    }
}

// The row of request `id` among the rows `where` selects (newest first), -1 when it is not one of
// them: one primary-key read, then a count of the rows above it.
qint64 locateRow(sqlite3 *db, const QString &id, const QByteArray &where, const QList<Value> &args)
{
    if (id.isEmpty())
        return -1;
    QList<Value> findArgs = args;
    findArgs << id;
    Statement find(db, "SELECT started_at_ms, seq FROM requests" + where + " AND id = ?", findArgs);
    if (!find.next())
        return -1;
    const qint64 started = find.integer(0);
    const qint64 seq = find.integer(1);
    QList<Value> aboveArgs = args;
    aboveArgs << started << started << seq;
    return scalar(db, "SELECT COUNT(*) FROM requests" + where + " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?)",
                  aboveArgs);
}

// The newest row `where` selects, into c.topStarted / c.topSeq.
void readTop(sqlite3 *db, const QByteArray &where, const QList<Value> &args, ActivityCount &c)
{
    Statement top(db, "SELECT started_at_ms, seq FROM requests" + where + " ORDER BY started_at_ms DESC, seq DESC LIMIT 1",
                  args);
    if (top.next()) {
        c.topStarted = top.integer(0);
        c.topSeq = top.integer(1);
    }
}

class SqliteLogQueries final : public LogQueries
{
public:
    explicit SqliteLogQueries(const QString &path)
    {
        QString error;
        m_db = sqlite::open(path, sqlite::Access::ReadOnly, 5'000, &error);
        if (!m_db)
            qCWarning(lcStore) << "cannot open" << path << "for reading:" << error;
    }
    ~SqliteLogQueries() override { sqlite::close(m_db); }

    void setInstanceScope(const QString &instanceId) override { m_instanceScope = instanceId; }
    QString instanceScope() const override { return m_instanceScope; }
    SqliteLogQueries(const SqliteLogQueries &) = delete;
    SqliteLogQueries &operator=(const SqliteLogQueries &) = delete;

    ActivityCount countActivity(const ActivityFilter &filter, const QString &selected) override
    {
        ActivityCount c;
        if (!m_db)
            return c;
        sqlite::exec(m_db, "BEGIN");
        c.maxSeq = scalar(m_db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
        // "+seq": the watermark must not steer the plan to a scan of the whole table by rowid.
        QByteArray where = " WHERE +seq <= ?";
        QList<Value> args{c.maxSeq};
        appendFilter(filter, where, args);
        // Unfiltered, inside this read transaction every row is under the watermark: COUNT(*)
        // without a condition lets SQLite count the smallest index.
        c.total = filter == ActivityFilter() ? scalar(m_db, "SELECT COUNT(*) FROM requests")
                                             : scalar(m_db, "SELECT COUNT(*) FROM requests" + where, args);
        readTop(m_db, where, args, c);
        c.selectedRow = locateRow(m_db, selected, where, args);
        sqlite::exec(m_db, "COMMIT");
        return c;
    }

    ActivityCount countNewActivity(const ActivityFilter &filter, qint64 afterSeq, bool hasTop, qint64 topStarted,
                                   qint64 topSeq, const QString &selected) override
    {
        ActivityCount c;
        if (!m_db)
            return c;
        sqlite::exec(m_db, "BEGIN");
        c.maxSeq = scalar(m_db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
        if (c.maxSeq < afterSeq) { // emptied behind our back
            sqlite::exec(m_db, "COMMIT");
            c.ok = false;
            return c;
        }
        QByteArray where = " WHERE seq > ? AND seq <= ?";
        QList<Value> args{afterSeq, c.maxSeq};
        appendFilter(filter, where, args);
        c.total = scalar(m_db, "SELECT COUNT(*) FROM requests" + where, args);
        if (c.total > 0) {
            if (hasTop) {
                QList<Value> headArgs = args;
                headArgs << topStarted << topStarted << topSeq;
                c.head = scalar(m_db,
                                "SELECT COUNT(*) FROM requests" + where
                                    + " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?)",
                                headArgs);
            } else {
                c.head = c.total;
            }
            QByteArray all = " WHERE +seq <= ?";
            QList<Value> allArgs{c.maxSeq};
            appendFilter(filter, all, allArgs);
            readTop(m_db, all, allArgs, c);
            c.selectedRow = locateRow(m_db, selected, all, allArgs); // new rows may sit above it
        }
        sqlite::exec(m_db, "COMMIT");
        return c;
    }

    qint64 locateActivity(const ActivityFilter &filter, qint64 maxSeq, const QString &id) override
    {
        if (!m_db)
            return -1;
        QByteArray where = " WHERE +seq <= ?";
        QList<Value> args{maxSeq};
        appendFilter(filter, where, args);
        return locateRow(m_db, id, where, args);
    }

    QList<ActivityRow> activityPage(const ActivityPageQuery &q) override
    {
        QByteArray sql = "SELECT " + rowColumns() + " FROM requests WHERE +seq <= ?";
        QList<Value> args{q.maxSeq};
        appendFilter(q.filter, sql, args);
        bool descending = true; // rows come newest first and are reversed
        switch (q.from) {
        case ActivityPageQuery::From::Below:
            sql += " AND started_at_ms <= ? AND (started_at_ms < ? OR seq < ?) ORDER BY started_at_ms DESC, seq DESC "
                   "LIMIT ?";
            args << q.edgeStarted << q.edgeStarted << q.edgeSeq << qint64(q.count);
            break;
        case ActivityPageQuery::From::Above:
            sql += " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?) ORDER BY started_at_ms ASC, seq ASC LIMIT ?";
            args << q.edgeStarted << q.edgeStarted << q.edgeSeq << qint64(q.count);
            descending = false;
            break;
        case ActivityPageQuery::From::Bottom:
            sql += " ORDER BY started_at_ms ASC, seq ASC LIMIT ? OFFSET ?";
            args << qint64(q.count) << q.offset;
            descending = false;
            break;
        case ActivityPageQuery::From::Top:
            sql += " ORDER BY started_at_ms DESC, seq DESC LIMIT ? OFFSET ?";
            args << qint64(q.count) << q.offset;
            break;
        }
        QList<ActivityRow> rows;
        Statement st(m_db, sql, args);
        while (st.next())
            rows.append(readRow(st));
        if (descending)
            std::reverse(rows.begin(), rows.end());
        return rows;
    }

    QHash<QString, QSet<QString>> activityDistinct(qint64 afterSeq, qint64 upToSeq) override
    {
        QHash<QString, QSet<QString>> out;
        static const char *const kColumns[] = {"key_name", "requested_model", "provider", "upstream_model", "session_id"};
        static const char *const kNames[] = {"key", "model", "provider", "upstreamModel", "session"};
        for (int i = 0; i < 5; ++i) {
            Statement st(m_db, QByteArray("SELECT DISTINCT ") + kColumns[i] + " FROM requests WHERE seq > ? AND seq <= ?",
                         {afterSeq, upToSeq});
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
        QByteArray sql = "SELECT " + rowColumns() + " FROM requests WHERE seq <= ?";
        QList<Value> args{maxSeq};
        appendFilter(filter, sql, args);
        sql += " ORDER BY started_at_ms DESC, seq DESC";
        Statement st(m_db, sql, args);
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
        return analytics::rankings(m_db, query);
    }

    analytics::CacheReport cacheReport(const analytics::CacheQuery &query) override
    {
        return analytics::cacheReport(m_db, query);
    }

    analytics::PrefixDiagnosis diagnosePrefixes(qint64 keyId) override { return analytics::diagnosePrefixes(m_db, keyId); }

    whatif::Report whatIf(const whatif::Slice &slice, const whatif::Candidate &candidate, qint64 contextWindow) override
    {
        return whatif::report(m_db, slice, candidate, contextWindow);
    }

    std::optional<qint64> firstRolledUpDayMs() override
    {
        Statement min(m_db, "SELECT min(t) FROM rollups WHERE grain = 1 AND requests > 0");
        if (min.next() && !min.isNull(0))
            return min.integer(0) * kDayMs;
        return std::nullopt;
    }

    SpendScan scanSpend(qint64 fromMs, qint64 afterSeq, bool full) override
    {
        SpendScan b;
        b.full = full;
        if (!m_db)
            return b;
        // One read transaction: the max seq and the rows up to it come from the same snapshot.
        sqlite::exec(m_db, "BEGIN");
        {
            Statement max(m_db, "SELECT COALESCE(MAX(seq), 0) FROM requests");
            if (!max.next()) {
                sqlite::exec(m_db, "ROLLBACK");
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
        Statement q(m_db, b.full ? "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                                   "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + "
                                   "output_tokens, status BETWEEN 200 AND 299 "
                                   "FROM requests WHERE +seq > ?1 AND +seq <= ?2 AND started_at_ms >= ?3"
                                 : "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                                   "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + "
                                   "output_tokens, status BETWEEN 200 AND 299 "
                                   "FROM requests WHERE seq > ?1 AND seq <= ?2 AND +started_at_ms >= ?3");
        q.bindInt(1, b.full ? 0 : afterSeq);
        q.bindInt(2, b.maxSeq);
        q.bindInt(3, fromMs);
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
        b.ok = q.done();
        sqlite::exec(m_db, "COMMIT");
        return b;
    }

    QHash<QString, qint64> refusalCounts(qint64 sinceMs) override
    {
        QHash<QString, qint64> counts;
        if (!m_db)
            return counts;
        // requests_refusals: a partial index of the refused rows only.
        Statement st(m_db, "SELECT refusal, COUNT(*) FROM requests WHERE refusal <> '' AND started_at_ms >= ?1 GROUP BY refusal");
        st.bindInt(1, sinceMs);
        while (st.next())
            counts.insert(st.text(0), st.integer(1));
        return counts;
    }

    QList<SessionSpend> sessionSpend(qint64 sinceMs, int limit) override
    {
        QList<SessionSpend> rows;
        if (!m_db || limit <= 0)
            return rows;
        // requests_session_time index: only rows with a session are in it. "unpriced": answered (2xx)
        // without a price, as the dashboard's spend counts it.
        Statement st(m_db, QByteArray("SELECT session_id, (SELECT key_name FROM requests l WHERE l.session_id = r.session_id "
                           "AND l.started_at_ms >= ?1 ORDER BY l.seq DESC LIMIT 1), SUM(COALESCE(cost_nano_usd, 0)), "
                           "COUNT(*), SUM(cost_nano_usd IS NULL AND status BETWEEN 200 AND 299), MIN(started_at_ms), "
                           "MAX(started_at_ms), SUM(NOT ") + store::kSucceededSql + ") FROM requests r "
                           "WHERE session_id <> '' AND started_at_ms >= ?1 "
                           "GROUP BY session_id ORDER BY 3 DESC, 7 DESC LIMIT ?2");
        st.bindInt(1, sinceMs);
        st.bindInt(2, limit);
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
        Statement mix(m_db, "SELECT requested_model, COUNT(*), SUM(COALESCE(cost_nano_usd, 0)) FROM requests "
                            "WHERE session_id = ?1 AND started_at_ms >= ?2 GROUP BY requested_model "
                            "ORDER BY 3 DESC, 2 DESC, 1");
        for (SessionSpend &r : rows) {
            mix.reset();
            mix.bindText(1, r.session);
            mix.bindInt(2, sinceMs);
            while (mix.next())
                r.models.append(SessionModelShare{mix.text(0), mix.integer(1), mix.integer(2)});
        }
        return rows;
    }

    QList<SessionStep> sessionTimeline(const QString &session, qint64 sinceMs, int limit) override
    {
        QList<SessionStep> steps;
        if (!m_db || session.isEmpty() || limit <= 0)
            return steps;
        Statement st(m_db, "SELECT " + rowColumns() + " FROM requests WHERE session_id = ?1 AND started_at_ms >= ?2 "
                           "ORDER BY started_at_ms, seq LIMIT ?3");
        st.bindText(1, session);
        st.bindInt(2, sinceMs);
        st.bindInt(3, limit);
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
        if (ok)
            *ok = m_db != nullptr;
        if (!m_db || limit <= 0)
            return rows;
        Statement st(m_db, guardrailTripSelect("ORDER BY id DESC LIMIT ?1"));
        st.bindInt(1, limit);
        while (st.next())
            rows.append(readGuardrailTrip(st));
        if (ok)
            *ok = st.ok();
        return rows;
    }

    QList<MinuteSpend> spendPerMinute(qint64 keyId, const QString &session, qint64 fromMs, qint64 toMs) override
    {
        QList<MinuteSpend> rows;
        if (!m_db || toMs <= fromMs)
            return rows;
        // A session's rows through requests_session_time; a key's through the key/time index.
        Statement st(m_db, session.isEmpty()
                               ? "SELECT started_at_ms / 60000, SUM(COALESCE(cost_nano_usd, 0)), COUNT(*) FROM requests "
                                 "WHERE key_id = ?1 AND started_at_ms >= ?2 AND started_at_ms < ?3 GROUP BY 1 ORDER BY 1"
                               : "SELECT started_at_ms / 60000, SUM(COALESCE(cost_nano_usd, 0)), COUNT(*) FROM requests "
                                 "WHERE session_id = ?4 AND session_id <> '' AND key_id = ?1 AND started_at_ms >= ?2 AND started_at_ms < ?3 GROUP BY 1 ORDER BY 1");
        st.bindInt(1, keyId);
        st.bindInt(2, fromMs);
        st.bindInt(3, toMs);
        if (!session.isEmpty())
            st.bindText(4, session);
        while (st.next())
            rows.append(MinuteSpend{st.integer(0) * 60'000, st.integer(1), st.integer(2)});
        return rows;
    }

private:
    sqlite3 *m_db = nullptr;
    QString m_instanceScope; // setInstanceScope(): empty for every instance
};

} // namespace

std::unique_ptr<LogQueries> openSqliteLogQueries(const QString &path)
{
    return std::make_unique<SqliteLogQueries>(path);
}

} // namespace gh
