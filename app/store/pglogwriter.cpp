#include "store/pglogwriter.h"
#include "core/logging.h"
#include "store/pg.h"
#include "store/pgmigrations.h"
#include "store/requestcodec.h"
#include "store/requestjournal.h"
#include "store/rollupdeltas.h"
#include <QDir>
#include <QFile>
#include <QHash>
#include <algorithm>
#include <set>

namespace gh {

namespace {

using pg::Statement;

QByteArray upsertPendingSql()
{
    return QByteArray("INSERT INTO pending_requests (") + store::kPendingColumns
        + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (id) DO UPDATE SET "
          "started_at_ms = excluded.started_at_ms, key_id = excluded.key_id, key_name = excluded.key_name, "
          "endpoint = excluded.endpoint, requested_model = excluded.requested_model, route = excluded.route, "
          "model_id = excluded.model_id, provider = excluded.provider, upstream_model = excluded.upstream_model, "
          "reserved_nano_usd = excluded.reserved_nano_usd, stream = excluded.stream, attempts = excluded.attempts, "
          "instance_id = excluded.instance_id";
}

using store::AttemptRow;

} // namespace

struct PgLogWriter::Impl final : BatchedLogWriter::Sink {
    pg::Connection conn; // the writer thread's (and open()'s, before the thread starts)
    QString instanceId;
    store::RollupBuckets buckets; // read at the first batch

    // The batch's rollup deltas upserted, additively (several instances add to the same rows).
    bool upsertRollups(const store::BatchRollups &rollups, QString *error);
    bool writeBatch(const std::vector<RequestRecord> &batch, int *written, QString *error) override;
    // The parts of one run [i, end) of final rows, inside the batch's transaction: the pending rows
    // they settle deleted; the rows inserted (duplicates skipped, *count the rows inserted) with
    // their attempts.
    bool settlePending(const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end, QString *error);
    bool insertFinalRows(const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end, int *count,
                         const std::vector<bool> &writeBlocks, store::BatchRollups &rollups, QString *error);
    // The prompt prefixes of the rows inserted (the Cache page's diagnosis): (seq, row).
    bool insertPromptPrefixes(const std::vector<std::pair<qint64, const RequestRecord *>> &rows, QString *error);
    bool trimPromptPrefixes(const std::set<qint64> &keys, QString *error);
    bool insertAttempts(const std::vector<AttemptRow> &attempts, QString *error);
    bool replayJournals(const QString &dir, QString *error);
    bool recoverPending(QString *error);
};

namespace {

// Final rows go to the server in multi-row statements: one INSERT per kRowsPerInsert rows and one
// for their attempts, not a round trip per row (a round trip per row made a batch of a few hundred
// rows take over a second on a loaded 2-core machine; tst_store's survivesKill9 saw rows reported
// 1.3 s before the kill still uncommitted). The chunks keep each statement's array parameters to a
// few hundred kilobytes (ColumnArrays below).
constexpr int kRowsPerInsert = 1'000;
constexpr int kAttemptsPerInsert = 5'000;
// Rollup rows per upsert (18 parameters each): a batch's deltas in a few round trips.
constexpr int kRollupsPerUpsert = 1'000;

// store::postgres::kSeqLockKey, held from a batch's first request row to its commit: requests.seq
// is an identity, taken when a row is inserted and visible when its transaction commits. Two
// instances committing out of order would let a reader see seq 101 before seq 100, and the window's
// watermark (LogQueries: "the rows committed after seq N") would skip 100 for good. Under the lock
// seqs are taken in commit order: a reader that sees seq N sees every row below it. It costs the
// instances' writers their concurrency for one INSERT ... RETURNING with its attempts and rollups.
using store::postgres::kSeqLockKey;

// Upserts the entries of `map` in statements of at most kRollupsPerUpsert rows. False and *error when
// one fails.
template <typename Map, typename MakeSql, typename Bind>
bool upsertAll(pg::Connection &conn, const Map &map, int columns, MakeSql makeSql, Bind bind, QString *error)
{
    auto it = map.begin();
    while (it != map.end()) {
        const int rows = int(std::min<std::size_t>(kRollupsPerUpsert, std::size_t(std::distance(it, map.end()))));
        pg::Statement up(conn, makeSql(rows));
        for (int r = 0; r < rows; ++r, ++it)
            bind(up, r * columns, it->first, it->second);
        if (!up.exec()) {
            *error = up.error();
            return false;
        }
    }
    return true;
}

// The rows of a multi-row insert, sent as one array parameter a column:
//   INSERT INTO t (columns) SELECT * FROM unnest(?1::text[], ?2::bigint[], ...)
// The statement's text is the same for 1 row or 1,000, and short. The VALUES list it replaces had a
// parameter a cell (33,000 for 1,000 request rows): PostgreSQL's backend parsed and analysed every
// one of them at each batch (perf of the backend at 16 connections; BENCHMARKS.md, "Team store").
// unnest() yields the arrays' elements in order, so rows are inserted, and take their seqs, in the
// batch's order. Binds keep sqlite::Statement's names, so store::bindRequest() fills it as it fills
// a statement; a column's type is its bind's (text, bigint, bytea), the same for every row.
class ColumnArrays
{
public:
    explicit ColumnArrays(int columns) : m_columns(std::size_t(columns)) {}

    void bindText(int i, const QString &v) { appendQuoted(next(i, "text"), v.toUtf8()); }
    void bindInt(int i, qint64 v) { next(i, "bigint") += QByteArray::number(v); }
    void bindBool(int i, bool v) { bindInt(i, v ? 1 : 0); }
    void bindOptInt(int i, std::optional<qint64> v)
    {
        QByteArray &out = next(i, "bigint");
        out += v ? QByteArray::number(*v) : QByteArrayLiteral("NULL");
    }
    void bindBlob(int i, const QByteArray &v)
    {
        QByteArray &out = next(i, "bytea");
        out += "\"\\\\x"; // the element \x0a0b..., its backslash escaped inside the quotes
        out += v.toHex();
        out += '"';
    }

    // "SELECT * FROM unnest(?1::text[], ...)". Empty when a column was bound as two types, or not at
    // all (a bug of the caller, never of the data): the batch then fails rather than mistype rows.
    [[nodiscard]] QByteArray selectSql() const
    {
        if (!m_consistent)
            return {};
        QByteArray sql = "SELECT * FROM unnest(";
        for (std::size_t c = 0; c < m_columns.size(); ++c) {
            if (!m_columns[c].type)
                return {};
            sql += (c > 0 ? ", ?" : "?") + QByteArray::number(qulonglong(c + 1)) + "::" + m_columns[c].type + "[]";
        }
        return sql + ')';
    }
    void bindTo(pg::Statement &s) const
    {
        for (std::size_t c = 0; c < m_columns.size(); ++c)
            s.bindTextForm(int(c + 1), '{' + m_columns[c].values + '}');
    }

private:
    struct Column {
        QByteArray values; // the array literal's elements, comma-separated
        const char *type = nullptr;
        bool any = false;
    };
    QByteArray &next(int i, const char *type)
    {
        Column &c = m_columns.at(std::size_t(i - 1));
        if (c.type && qstrcmp(c.type, type) != 0)
            m_consistent = false;
        c.type = type;
        if (c.any)
            c.values += ',';
        c.any = true;
        return c.values;
    }
    // An element in double quotes, its " and \ escaped: any text, including "NULL", "{", ",", blanks.
    static void appendQuoted(QByteArray &out, const QByteArray &v)
    {
        out += '"';
        if (!v.contains('"') && !v.contains('\\')) {
            out += v;
        } else {
            for (const char ch : v) {
                if (ch == '"' || ch == '\\')
                    out += '\\';
                out += ch;
            }
        }
        out += '"';
    }

    std::vector<Column> m_columns;
    bool m_consistent = true;
};

// INSERT INTO `table` (`columns`) SELECT * FROM unnest(...) `tail`. Empty and *error when a column
// of `rows` was bound as two types.
QByteArray arrayInsertSql(const char *table, const char *columns, const ColumnArrays &rows, const char *tail,
                          QString *error)
{
    const QByteArray select = rows.selectSql();
    if (select.isEmpty()) {
        *error = QStringLiteral("internal error: the rows of %1 were bound with mixed column types").arg(QLatin1String(table));
        return {};
    }
    return QByteArray("INSERT INTO ") + table + " (" + columns + ") " + select + tail;
}

// Runs arrayInsertSql(...) with `rows`' arrays bound, for a statement that returns no rows.
bool execArrayInsert(pg::Connection &conn, const char *table, const char *columns, const ColumnArrays &rows,
                     const char *tail, QString *error)
{
    const QByteArray sql = arrayInsertSql(table, columns, rows, tail, error);
    if (sql.isEmpty())
        return false;
    Statement insert(conn, sql);
    rows.bindTo(insert);
    if (insert.exec())
        return true;
    *error = insert.error();
    return false;
}

} // namespace

bool PgLogWriter::Impl::settlePending(const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end, QString *error)
{
    QList<QString> settled;
    for (std::size_t r = i; r < end; ++r) {
        if (batch[r].settlesPending)
            settled.append(batch[r].id);
    }
    if (settled.isEmpty())
        return true;
    QByteArray sql = "DELETE FROM pending_requests WHERE id IN (";
    for (qsizetype k = 0; k < settled.size(); ++k)
        sql += (k > 0 ? ", ?" : "?") + QByteArray::number(k + 1);
    Statement settle(conn, sql + ')');
    for (qsizetype k = 0; k < settled.size(); ++k)
        settle.bindText(int(k + 1), settled.at(k));
    if (settle.exec())
        return true;
    *error = settle.error();
    return false;
}

bool PgLogWriter::Impl::insertAttempts(const std::vector<AttemptRow> &attempts, QString *error)
{
    for (std::size_t a0 = 0; a0 < attempts.size(); a0 += kAttemptsPerInsert) {
        const std::size_t a1 = std::min(attempts.size(), a0 + kAttemptsPerInsert);
        ColumnArrays rows(store::kAttemptColumnCount);
        for (std::size_t k = a0; k < a1; ++k)
            store::bindAttempt(rows, attempts[k]);
        if (!execArrayInsert(conn, "attempts", store::kAttemptColumns, rows, " ON CONFLICT DO NOTHING", error))
            return false;
    }
    return true;
}

bool PgLogWriter::Impl::upsertRollups(const store::BatchRollups &rollups, QString *error)
{
    return upsertAll(conn, rollups.rollups, store::kRollupColumns, store::upsertRollupsSql,
                     store::bindRollup<pg::Statement>, error)
        && upsertAll(conn, rollups.latency, store::kRollupLatencyColumns, store::upsertRollupLatencySql,
                     store::bindRollupLatency<pg::Statement>, error)
        && upsertAll(conn, rollups.sizes, store::kRollupSizeColumns, store::upsertRollupSizesSql,
                     store::bindRollupSize<pg::Statement>, error);
}

bool PgLogWriter::Impl::insertPromptPrefixes(const std::vector<std::pair<qint64, const RequestRecord *>> &prefixes,
                                             QString *error)
{
    for (std::size_t p0 = 0; p0 < prefixes.size(); p0 += kRowsPerInsert) {
        const std::size_t p1 = std::min(prefixes.size(), p0 + kRowsPerInsert);
        ColumnArrays rows(store::kPromptPrefixColumnCount);
        for (std::size_t k = p0; k < p1; ++k)
            store::bindPromptPrefix(rows, prefixes[k].first, *prefixes[k].second);
        if (!execArrayInsert(conn, "prompt_prefixes", store::kPromptPrefixColumns, rows, "", error))
            return false;
    }
    return true;
}

bool PgLogWriter::Impl::trimPromptPrefixes(const std::set<qint64> &keys, QString *error)
{
    for (const qint64 keyId : keys) {
        Statement trim(conn, store::kTrimPromptPrefixes);
        trim.bindInt(1, keyId);
        trim.bindInt(2, store::kPromptPrefixesPerKey);
        if (!trim.exec()) {
            *error = trim.error();
            return false;
        }
    }
    return true;
}

bool PgLogWriter::Impl::insertFinalRows(const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end, int *count,
                                        const std::vector<bool> &writeBlocks, store::BatchRollups &rollups, QString *error)
{
    ColumnArrays rows(store::kRequestColumnCount);
    for (std::size_t r = i; r < end; ++r)
        store::bindRequest(rows, batch[r], instanceId);
    const QByteArray sql = arrayInsertSql("requests", store::kRequestColumns, rows,
                                          " ON CONFLICT (id) DO NOTHING RETURNING id, seq", error);
    if (sql.isEmpty())
        return false;
    Statement insert(conn, sql);
    rows.bindTo(insert);
    if (!insert.exec()) {
        *error = insert.error();
        return false;
    }
    QHash<QString, qint64> seqs;
    while (insert.next())
        seqs.insert(insert.text(0), insert.integer(1));
    // The attempts of the rows inserted. A row whose id the log had (or an earlier row of this run
    // had) is not logged; its attempts would belong to the other request of that id, so they go too.
    std::vector<AttemptRow> attempts;
    std::vector<std::pair<qint64, const RequestRecord *>> prefixes;
    for (std::size_t r = i; r < end; ++r) {
        const RequestRecord &rec = batch[r];
        const auto it = seqs.find(rec.id);
        if (it == seqs.end()) {
            qCWarning(lcStore) << "request" << rec.id << "not logged: the log already has a request with this id";
            continue;
        }
        const qint64 seq = *it;
        seqs.erase(it); // a second row of the same id in this run is the duplicate
        ++*count;
        store::foldIntoRollups(buckets, rec, rollups);
        if (writeBlocks[r]) {
            prefixes.emplace_back(seq, &rec);
            rollups.prefixKeys.insert(rec.keyId);
        }
        for (qsizetype k = 0; k < rec.attemptLog.size(); ++k) {
            const AttemptRecord &a = rec.attemptLog.at(k);
            attempts.push_back(AttemptRow{seq, a.index > 0 ? a.index : int(k + 1), &a}); // 1-based; the position when unset
        }
    }
    return insertAttempts(attempts, error) && insertPromptPrefixes(prefixes, error);
}

bool PgLogWriter::Impl::writeBatch(const std::vector<RequestRecord> &batch, int *written, QString *error)
{
    *written = 0;
    if (!conn.ensure(error))
        return false;
    if (!buckets.load([this](const char *sql) { return Statement(conn, sql); }, error))
        return false;
    if (!conn.exec("BEGIN", error))
        return false;
    auto abort = [&] {
        conn.exec("ROLLBACK");
        return false;
    };
    int count = 0;
    std::size_t i = 0;
    store::BatchRollups rollups;
    const std::vector<bool> writeBlocks = store::blocksToWrite(batch);
    bool seqLocked = false;
    while (i < batch.size()) {
        if (batch[i].pending) {
            Statement pending(conn, upsertPendingSql());
            store::bindPending(pending, batch[i], instanceId);
            if (!pending.exec()) {
                *error = pending.error();
                return abort();
            }
            ++i;
            continue;
        }
        // A run of final rows, in order (a pending row in the batch ends it: its final row may follow).
        std::size_t end = i;
        while (end < batch.size() && !batch[end].pending && end - i < std::size_t(kRowsPerInsert))
            ++end;
        if (!seqLocked) {
            const QByteArray lock = "SELECT pg_advisory_xact_lock(" + QByteArray::number(kSeqLockKey) + ")";
            if (!conn.exec(lock.constData(), error))
                return abort();
            seqLocked = true;
        }
        // Their pending rows go in the same transaction: a pending row never outlives its final row.
        if (!settlePending(batch, i, end, error) || !insertFinalRows(batch, i, end, &count, writeBlocks, rollups, error))
            return abort();
        i = end;
    }
    if (!upsertRollups(rollups, error) || !trimPromptPrefixes(rollups.prefixKeys, error))
        return abort();
    if (!conn.exec("COMMIT", error))
        return abort();
    *written = count;
    return true;
}

bool PgLogWriter::Impl::replayJournals(const QString &dir, QString *error)
{
    std::vector<RequestJournal::Orphan> files = RequestJournal::claimOrphans(dir);
    if (files.empty())
        return true;
    auto releaseAll = [&](bool remove) {
        for (RequestJournal::Orphan &f : files)
            RequestJournal::release(f, remove);
    };
    std::vector<RequestRecord> rows;
    for (const RequestJournal::Orphan &f : files) {
        QFile file(f.path);
        if (!file.open(QIODevice::ReadOnly)) {
            releaseAll(false);
            *error = QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(f.path), file.errorString());
            return false;
        }
        RequestJournal::ReadResult read = RequestJournal::decodeAll(file.readAll());
        for (RequestRecord &r : read.records)
            rows.push_back(std::move(r));
    }
    // Final rows the log has are skipped by the insert itself (ON CONFLICT); a pending row whose final
    // row is logged, or follows in the journal, is settled and left out.
    std::set<QString> finalInJournal;
    for (const RequestRecord &r : rows) {
        if (!r.pending)
            finalInJournal.insert(r.id);
    }
    std::vector<RequestRecord> missing;
    Statement logged(conn, "SELECT 1 FROM requests WHERE id = ?1");
    for (RequestRecord &r : rows) {
        if (r.pending) {
            if (finalInJournal.count(r.id))
                continue;
            logged.bindText(1, r.id);
            if (logged.next())
                continue;
            if (!logged.ok()) {
                releaseAll(false);
                *error = logged.error();
                return false;
            }
        }
        missing.push_back(std::move(r));
    }
    int written = 0;
    if (!missing.empty() && !writeBatch(missing, &written, error)) {
        releaseAll(false);
        return false;
    }
    if (written > 0)
        qCWarning(lcStore).noquote() << QStringLiteral("wrote %1 request(s) from the journal of a run that stopped before "
                                                       "its log was written")
                                            .arg(written);
    releaseAll(true);
    return true;
}

bool PgLogWriter::Impl::recoverPending(QString *error)
{
    std::vector<RequestRecord> orphans;
    {
        Statement s(conn, QByteArray("SELECT ") + store::kPendingColumns
                              + " FROM pending_requests p WHERE instance_id = ?1 AND NOT EXISTS "
                                "(SELECT 1 FROM requests r WHERE r.id = p.id) ORDER BY started_at_ms");
        s.bindText(1, instanceId);
        while (s.next()) {
            RequestRecord r = store::readPending(s);
            // Its response had started, so the client saw a 200; the reservation bounds its cost.
            r.status = 200;
            r.error = QStringLiteral("recovered at start-up: Gatehouse stopped before this request was logged; "
                                     "charged at its reservation");
            if (r.reserved >= 0)
                r.cost = r.reserved;
            else
                r.cost = std::nullopt; // an unpriced model: unknown, never $0
            r.usage.estimated = true;
            r.recovered = true;
            r.settlesPending = true;
            orphans.push_back(std::move(r));
        }
        if (!s.ok()) {
            *error = QStringLiteral("cannot read the pending requests: %1").arg(s.error());
            return false;
        }
    }
    if (orphans.empty())
        return true;
    int written = 0;
    if (!writeBatch(orphans, &written, error))
        return false;
    qCWarning(lcStore).noquote() << QStringLiteral("recovered %1 request(s) answered before an unclean stop, charged at "
                                                   "their reservation (flag `recovered` on their rows)")
                                        .arg(written);
    return true;
}

PgLogWriter::PgLogWriter(Events events) : BatchedLogWriter(std::move(events)), d(std::make_unique<Impl>()) {}

PgLogWriter::~PgLogWriter() { close(); }

void PgLogWriter::setInstanceId(const QString &id) { d->instanceId = id; }

bool PgLogWriter::open(const QString &url, const QString &journalDir, QString *error)
{
    close();
    QString why;
    if (!d->conn.open(url, &why)) {
        *error = why;
        return false;
    }
    if (!journalDir.isEmpty() && !d->replayJournals(journalDir, &why)) {
        d->conn.close();
        *error = QStringLiteral("cannot replay the request journal of the last run: %1").arg(why);
        return false;
    }
    if (!d->recoverPending(&why)) {
        d->conn.close();
        *error = QStringLiteral("cannot recover the requests of the last run: %1").arg(why);
        return false;
    }
    start(d.get());
    return true;
}

void PgLogWriter::close()
{
    stop();
    d->conn.close();
}

} // namespace gh
