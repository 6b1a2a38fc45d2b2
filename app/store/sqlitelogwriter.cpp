#include "store/sqlitelogwriter.h"
#include "store/requestjournal.h"
#include "core/logging.h"
#include "store/requestcodec.h"
#include "store/rollupdeltas.h"
#include "store/sqlite.h"
#include <QDir>
#include <sqlite3.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace gh {

namespace {

using Clock = std::chrono::steady_clock;

// The log writer waits less for a lock: responses wait for its commits, and when another program
// holds the database (a backup, the sqlite3 shell) they are released after this long and the rows
// wait in memory. The gateway's own control-plane writes hold the lock for well under a millisecond.
constexpr int kWriterBusyTimeoutMs = 1'000;
// How long the writer runs a batch before it lets a waiting worker have the core (see writeBatch),
// and the largest batch it does that for: a larger one means the log is falling behind.
constexpr auto kYieldEvery = std::chrono::microseconds(100);
constexpr std::size_t kYieldMaxBatch = 1'000;
using sqlite::Statement;
using sqlite::errorOf;
using sqlite::exec;

// Pending rows (migration 8): see RequestRecord::pending.
QByteArray insertPendingSql()
{
    return QByteArray("INSERT OR REPLACE INTO pending_requests (") + store::kPendingColumns
        + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
}
QByteArray orphanPendingSql()
{
    return QByteArray("SELECT ") + store::kPendingColumns
        + " FROM pending_requests p WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = p.id) ORDER BY started_at_ms";
}

// A batch's rows go in multi-row statements, one per table and chunk, not one statement per row:
// each statement has a fixed cost (its VDBE program's start and halt, the statement journal, the
// bindings' bookkeeping) that a chunk's rows share (BENCHMARKS.md, issue 19, seventh session). A
// run of n rows goes in chunks of the largest of these sizes that fit (100 rows: 6 * 16 + 4), each
// statement prepared once per connection, on first use, so nothing is prepared per batch. Chunks of
// 16 cost fewer instructions a row than chunks of 64 (measured: 37,100 against 41,700 at batches of
// 256), and a prepared 64-row request insert holds about 440 KB against 75 KB for 16 rows. The
// largest request chunk binds 16 * 33 = 528 parameters (SQLITE_MAX_VARIABLE_NUMBER: 32,766).
constexpr std::array<int, 5> kChunkRows{16, 8, 4, 2, 1};

// "(?base+1, ..., ?base+columns), ..." for `rows` rows.
QByteArray valuesLists(int rows, int columns)
{
    QByteArray out;
    for (int r = 0; r < rows; ++r) {
        out += r > 0 ? ", (" : "(";
        for (int c = 1; c <= columns; ++c)
            out += (c > 1 ? ", ?" : "?") + QByteArray::number(r * columns + c);
        out += ')';
    }
    return out;
}

// Duplicate ids: the row is skipped (DO NOTHING), the rest of the chunk goes in.
QByteArray insertRequestsSql(int rows)
{
    return QByteArray("INSERT INTO requests (") + store::kRequestColumns + ") VALUES "
        + valuesLists(rows, store::kRequestColumnCount) + " ON CONFLICT (id) DO NOTHING";
}
// A conflict is an attempt row left by a deleted request whose seq was reused: skipped, counted.
QByteArray insertAttemptsSql(int rows)
{
    return QByteArray("INSERT INTO attempts (") + store::kAttemptColumns + ") VALUES "
        + valuesLists(rows, store::kAttemptColumnCount) + " ON CONFLICT DO NOTHING";
}
QByteArray insertPromptPrefixesSql(int rows)
{
    return QByteArray("INSERT INTO prompt_prefixes (") + store::kPromptPrefixColumns + ") VALUES "
        + valuesLists(rows, store::kPromptPrefixColumnCount);
}
QByteArray deletePendingSql(int rows)
{
    QByteArray sql = "DELETE FROM pending_requests WHERE id IN (";
    for (int k = 1; k <= rows; ++k)
        sql += (k > 1 ? ", ?" : "?") + QByteArray::number(k);
    return sql + ')';
}

// One multi-row statement per chunk size (kChunkRows), prepared on first use and kept.
class ChunkedStatement
{
public:
    using MakeSql = QByteArray (*)(int rows);
    ChunkedStatement(sqlite3 *db, MakeSql makeSql) : m_db(db), m_makeSql(makeSql) {}
    // The largest chunk size that n > 0 rows fill.
    [[nodiscard]] static int chunkFor(std::size_t n, int largest = kChunkRows.front())
    {
        for (const int rows : kChunkRows) {
            if (std::size_t(rows) <= n && rows <= largest)
                return rows;
        }
        return 1;
    }
    // The statement for `rows` (one of kChunkRows), or nullptr and *error when it does not prepare.
    Statement *get(int rows, QString *error)
    {
        const auto at = std::size_t(std::find(kChunkRows.begin(), kChunkRows.end(), rows) - kChunkRows.begin());
        std::unique_ptr<Statement> &st = m_statements.at(at);
        if (!st) {
            st = std::make_unique<Statement>(m_db, m_makeSql(rows), true);
            if (!st->prepared()) {
                *error = QStringLiteral("a statement of the request log could not be prepared: %1").arg(errorOf(m_db));
                st.reset();
                return nullptr;
            }
            st->keepBindings();
        }
        return st.get();
    }

private:
    sqlite3 *m_db;
    MakeSql m_makeSql;
    std::array<std::unique_ptr<Statement>, kChunkRows.size()> m_statements;
};

// Runs a statement that returns no rows and resets it: true when it is done, else false and *error.
bool stepToDone(Statement &s, sqlite3 *db, QString *error)
{
    const int rc = s.step();
    s.reset();
    if (rc == SQLITE_DONE)
        return true;
    *error = errorOf(db);
    return false;
}

// Writes `n` items in chunks of `cs`: bind(statement, base, item) binds the item at ?(base + 1)...,
// then run(statement, first item, rows) steps the chunk (and resets it). False when a chunk's
// statement does not prepare or run returns false.
template <typename Bind, typename Run>
bool writeChunks(ChunkedStatement &cs, std::size_t n, int columns, Bind bind, Run run, QString *error,
                 int largest = kChunkRows.front())
{
    for (std::size_t i = 0; i < n;) {
        const int rows = ChunkedStatement::chunkFor(n - i, largest);
        Statement *st = cs.get(rows, error);
        if (!st)
            return false;
        for (int k = 0; k < rows; ++k)
            bind(*st, k * columns, i + std::size_t(k));
        if (!run(*st, i, rows))
            return false;
        i += std::size_t(rows);
    }
    return true;
}

// Binds ?(base + i) for bindRequest()'s ?i: the row's place in a multi-row VALUES list.
struct OffsetBinder {
    Statement &s;
    int base;
    void bindText(int i, const QString &v) { s.bindText(base + i, v); }
    void bindInt(int i, qint64 v) { s.bindInt(base + i, v); }
    void bindBool(int i, bool v) { s.bindBool(base + i, v); }
    void bindOptInt(int i, std::optional<qint64> v) { s.bindOptInt(base + i, v); }
    void bindBlob(int i, const QByteArray &v) { s.bindBlob(base + i, v); }
};

using store::AttemptRow;

// The writer shares the workers' cores: a batch of a few hundred rows is 2-3 ms of CPU, and the
// scheduler (EEVDF) lets it run its whole slice while a woken worker waits, which was the 1-connection
// p99 (BENCHMARKS.md, issue 19). It yields every kYieldEvery of CPU so a waiting worker runs first;
// with nothing waiting, the yield returns at once. Not for a batch over kYieldMaxBatch rows: on a
// saturated core a yielding writer got about 100 us per worker slice, fell behind, and the full
// buffer refused requests (503); a large batch is that backlog, and then the writer takes its share.
// A multi-row statement runs for a few hundred microseconds, so the check runs inside SQLite too, from
// its progress handler every kYieldEveryOps virtual-machine instructions (a request row is about
// 150 of them), as well as between statements.
constexpr int kYieldEveryOps = 250;
class Yielder
{
public:
    Yielder(sqlite3 *db, bool enabled) : m_db(db), m_enabled(enabled)
    {
        if (m_enabled)
            sqlite3_progress_handler(m_db, kYieldEveryOps, &Yielder::onProgress, this);
    }
    ~Yielder()
    {
        if (m_enabled)
            sqlite3_progress_handler(m_db, 0, nullptr, nullptr);
    }
    Yielder(const Yielder &) = delete;
    Yielder &operator=(const Yielder &) = delete;
    void maybeYield()
    {
        if (!m_enabled)
            return;
        if (const auto now = Clock::now(); now - m_last >= kYieldEvery) {
            std::this_thread::yield();
            m_last = Clock::now();
        }
    }

private:
    static int onProgress(void *self)
    {
        static_cast<Yielder *>(self)->maybeYield();
        return 0; // never interrupts the statement
    }
    sqlite3 *m_db;
    bool m_enabled;
    Clock::time_point m_last = Clock::now();
};

} // namespace

struct SqliteLogWriter::Impl final : BatchedLogWriter::Sink {
    // The request-log writer: its own connection, used only by the writer thread (and by open()
    // before the thread starts).
    sqlite3 *writeDb = nullptr;
    QString instanceId; // stamped on rows that carry none

    // The writer thread's statements, prepared once (the multi-row ones at their first use) and
    // reused for every batch.
    struct WriterStatements {
        Statement begin;
        Statement commit;
        ChunkedStatement insertRequests;
        ChunkedStatement insertAttempts;
        ChunkedStatement insertPromptPrefixes;
        ChunkedStatement deletePending;
        ChunkedStatement upsertRollups;
        ChunkedStatement upsertRollupLatency;
        ChunkedStatement upsertRollupSizes;
        Statement trimPromptPrefixes;
        Statement insertPending;
        Statement maxSeq;
        Statement seqOfId;
        // latency_buckets and size_buckets, read once (fixed data).
        store::RollupBuckets buckets;
        explicit WriterStatements(sqlite3 *db)
            : begin(db, "BEGIN IMMEDIATE", true)
            , commit(db, "COMMIT", true)
            , insertRequests(db, insertRequestsSql)
            , insertAttempts(db, insertAttemptsSql)
            , insertPromptPrefixes(db, insertPromptPrefixesSql)
            , deletePending(db, deletePendingSql)
            , upsertRollups(db, store::upsertRollupsSql)
            , upsertRollupLatency(db, store::upsertRollupLatencySql)
            , upsertRollupSizes(db, store::upsertRollupSizesSql)
            , trimPromptPrefixes(db, store::kTrimPromptPrefixes, true)
            , insertPending(db, insertPendingSql(), true)
            , maxSeq(db, "SELECT max(seq) FROM requests", true)
            , seqOfId(db, "SELECT seq FROM requests WHERE id = ?1", true)
        {
            if (insertPending.prepared())
                insertPending.keepBindings();
        }
    };

    // What a batch's final rows leave for its end: the rollup deltas and the keys whose prefixes
    // grew (rows inserted only), the attempts and prompt prefixes of the rows inserted.
    struct Inserted {
        store::BatchRollups rollups;
        std::vector<AttemptRow> attempts;
        std::vector<std::pair<qint64, const RequestRecord *>> prefixes; // (seq, row)
        int count = 0;
        // The largest seq is within the batch's reach of the largest rowid, past which SQLite picks
        // seqs at random: request rows one at a time, each seq read back (never seen in practice).
        bool oneRowAtATime = false;
    };

    // The pending rows without a final row, logged at their reservation (open(), before the writer starts).
    bool recoverPending(QString *error);
    // The rows of the journals no running process holds that the log lacks (open(), before recoverPending).
    bool replayJournals(const QString &dir, QString *error);
    bool writeBatch(WriterStatements &st, const std::vector<RequestRecord> &batch, int *written, QString *error);
    // The parts of a batch, inside its transaction; each false and *error when a statement fails
    // (the caller rolls back).
    bool insertPending(WriterStatements &st, const RequestRecord &r, QString *error);
    // The pending rows settled by the final rows [i, end) deleted.
    bool settlePending(WriterStatements &st, const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end,
                       QString *error);
    // The final rows [i, end): inserted (duplicates skipped with a warning), their rollups, attempts
    // and prompt prefixes noted in `out`.
    bool insertFinalRows(WriterStatements &st, const std::vector<RequestRecord> &batch, std::size_t i, std::size_t end,
                         const std::vector<bool> &writeBlocks, Inserted &out, Yielder &yielder, QString *error);
    // One chunk of insertFinalRows, stepped: seqs[k] is the seq of row first + k, or kDuplicate (its
    // id was logged already) or kBroken (another constraint; warned) when it was skipped.
    static constexpr qint64 kDuplicate = -1;
    static constexpr qint64 kBroken = -2;
    bool stepRequestChunk(WriterStatements &st, Statement &ins, const std::vector<RequestRecord> &batch,
                          std::size_t first, int rows, std::vector<qint64> &seqs, QString *error);
    bool insertAttempts(WriterStatements &st, const std::vector<AttemptRow> &attempts, QString *error);
    bool insertPromptPrefixes(WriterStatements &st, const std::vector<std::pair<qint64, const RequestRecord *>> &rows,
                              QString *error);
    bool upsertRollups(WriterStatements &st, const store::BatchRollups &rollups, QString *error);
    bool trimPromptPrefixes(WriterStatements &st, const std::set<qint64> &keys, QString *error);
    // The writer thread's statements, prepared on its first batch.
    std::unique_ptr<WriterStatements> statements;
    bool writeBatch(const std::vector<RequestRecord> &batch, int *written, QString *error) override
    {
        if (!statements)
            statements = std::make_unique<WriterStatements>(writeDb);
        return writeBatch(*statements, batch, written, error);
    }
};

bool SqliteLogWriter::Impl::replayJournals(const QString &dir, QString *error)
{
    std::vector<RequestJournal::Orphan> files = RequestJournal::claimOrphans(dir);
    if (files.empty())
        return true;
    auto releaseAll = [&](bool remove) {
        for (RequestJournal::Orphan &f : files)
            RequestJournal::release(f, remove);
    };
    std::vector<RequestRecord> rows;
    int torn = 0;
    for (const RequestJournal::Orphan &f : files) {
        QFile file(f.path);
        if (!file.open(QIODevice::ReadOnly)) {
            releaseAll(false);
            *error = QStringLiteral("cannot read %1: %2").arg(QDir::toNativeSeparators(f.path), file.errorString());
            return false;
        }
        RequestJournal::ReadResult read = RequestJournal::decodeAll(file.readAll());
        torn += read.tornTail;
        for (RequestRecord &r : read.records)
            rows.push_back(std::move(r));
    }
    // Rows the log already has are skipped: a journal file goes only after the log committed all of
    // it, so most of what a file holds is usually there already.
    // Keys deleted by forget-key since these rows were journaled: their rows must not come back.
    std::set<qint64> forgottenKeys;
    {
        Statement s(writeDb, "SELECT value FROM json_each((SELECT value FROM settings WHERE key = 'forgotten_keys'))");
        while (s.next())
            forgottenKeys.insert(s.integer(0));
    }
    std::vector<RequestRecord> missing;
    int forgotten = 0;
    {
        Statement logged(writeDb, "SELECT 1 FROM requests WHERE id = ?1");
        std::set<QString> finalInJournal;
        for (const RequestRecord &r : rows) {
            if (!r.pending)
                finalInJournal.insert(r.id);
        }
        for (RequestRecord &r : rows) {
            // A pending row whose final row is logged, or follows in the journal, is settled.
            if (r.pending && finalInJournal.count(r.id))
                continue;
            if (forgottenKeys.count(r.keyId)) {
                ++forgotten;
                continue;
            }
            logged.bindText(1, r.id);
            const int rc = logged.step();
            logged.reset();
            if (rc == SQLITE_ROW)
                continue;
            if (rc != SQLITE_DONE) {
                releaseAll(false);
                *error = errorOf(writeDb);
                return false;
            }
            missing.push_back(std::move(r));
        }
    }
    if (!missing.empty()) {
        WriterStatements statements(writeDb);
        int written = 0;
        if (!writeBatch(statements, missing, &written, error)) {
            releaseAll(false);
            return false;
        }
        qCWarning(lcStore).noquote() << QStringLiteral("wrote %1 request(s) from the journal of a run that stopped before "
                                                       "its log was written")
                                            .arg(missing.size());
    }
    if (forgotten > 0)
        qCInfo(lcStore) << "the journal of the last run held" << forgotten
                        << "request(s) of keys forgotten since: not restored";
    if (torn > 0)
        qCWarning(lcStore) << "the journal of the last run ended in a partial record" << torn
                           << "time(s) (a write cut short): ignored";
    releaseAll(true);
    return true;
}

bool SqliteLogWriter::Impl::recoverPending(QString *error)
{
    std::vector<RequestRecord> orphans;
    {
        Statement s(writeDb, orphanPendingSql());
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            RequestRecord r = store::readPending(s);
            // Its response had started (the pending row is committed before the first byte goes out),
            // so the client saw a 200; what it cost is unknown: the reservation bounds it.
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
        if (rc != SQLITE_DONE) {
            *error = QStringLiteral("cannot read the pending requests: %1").arg(s.error());
            return false;
        }
    }
    if (orphans.empty())
        return true;
    WriterStatements statements(writeDb);
    int written = 0;
    if (!writeBatch(statements, orphans, &written, error))
        return false;
    NanoUsd charged = 0;
    for (const RequestRecord &r : orphans)
        charged += r.cost.value_or(0);
    qCWarning(lcStore).noquote() << QStringLiteral("recovered %1 request(s) answered before an unclean stop, charged at "
                                                   "their reservation: %2 USD in all (flag `recovered` on their rows)")
                                        .arg(orphans.size())
                                        .arg(toUsd(charged), 0, 'f', 6);
    return true;
}

bool SqliteLogWriter::Impl::writeBatch(WriterStatements &st, const std::vector<RequestRecord> &batch, int *written,
                                QString *error)
{
    *written = 0;
    for (const Statement *stmt : {&st.begin, &st.commit, &st.trimPromptPrefixes, &st.insertPending, &st.maxSeq, &st.seqOfId}) {
        if (!stmt->prepared()) {
            *error = QStringLiteral("a statement of the request log could not be prepared: %1").arg(errorOf(writeDb));
            return false;
        }
    }
    if (!st.buckets.load([this](const char *sql) { return Statement(writeDb, sql); }, error))
        return false;
    Yielder yielder(writeDb, batch.size() <= kYieldMaxBatch);
    if (!stepToDone(st.begin, writeDb, error))
        return false;
    auto abort = [&] {
        if (error->isEmpty())
            *error = errorOf(writeDb);
        exec(writeDb, "ROLLBACK");
        return false;
    };
    error->clear();
    Inserted inserted;
    {
        const int rc = st.maxSeq.step();
        const qint64 maxSeq = rc == SQLITE_ROW ? st.maxSeq.integer(0) : 0;
        st.maxSeq.reset();
        if (rc != SQLITE_ROW)
            return abort();
        inserted.oneRowAtATime = maxSeq > std::numeric_limits<qint64>::max() - qint64(batch.size()) - 1;
    }
    const std::vector<bool> writeBlocks = store::blocksToWrite(batch);
    for (std::size_t i = 0; i < batch.size();) {
        yielder.maybeYield();
        if (batch[i].pending) {
            if (!insertPending(st, batch[i], error))
                return abort();
            ++i;
            continue;
        }
        // A run of final rows, in order: a pending row ends it (its final row may follow in the batch,
        // and must find the pending row there to delete).
        std::size_t end = i;
        while (end < batch.size() && !batch[end].pending)
            ++end;
        // Their pending rows go in the same transaction: a pending row never outlives its final row.
        if (!settlePending(st, batch, i, end, error)
            || !insertFinalRows(st, batch, i, end, writeBlocks, inserted, yielder, error))
            return abort();
        i = end;
    }
    yielder.maybeYield();
    if (!insertAttempts(st, inserted.attempts, error) || !insertPromptPrefixes(st, inserted.prefixes, error)
        || !upsertRollups(st, inserted.rollups, error) || !trimPromptPrefixes(st, inserted.rollups.prefixKeys, error))
        return abort();
    if (!stepToDone(st.commit, writeDb, error)) {
        exec(writeDb, "ROLLBACK");
        return false;
    }
    *written = inserted.count;
    return true;
}

bool SqliteLogWriter::Impl::insertPending(WriterStatements &st, const RequestRecord &r, QString *error)
{
    store::bindPending(st.insertPending, r, instanceId);
    return stepToDone(st.insertPending, writeDb, error);
}

bool SqliteLogWriter::Impl::settlePending(WriterStatements &st, const std::vector<RequestRecord> &batch, std::size_t i,
                                          std::size_t end, QString *error)
{
    std::vector<const QString *> ids;
    for (std::size_t r = i; r < end; ++r) {
        if (batch[r].settlesPending)
            ids.push_back(&batch[r].id);
    }
    return writeChunks(
        st.deletePending, ids.size(), 1, [&](Statement &s, int base, std::size_t k) { s.bindText(base + 1, *ids[k]); },
        [&](Statement &s, std::size_t, int) { return stepToDone(s, writeDb, error); }, error);
}

bool SqliteLogWriter::Impl::stepRequestChunk(WriterStatements &st, Statement &ins, const std::vector<RequestRecord> &batch,
                                             std::size_t first, int rows, std::vector<qint64> &seqs, QString *error)
{
    const int rc = ins.step();
    ins.reset();
    seqs.assign(std::size_t(rows), kDuplicate);
    if (rc == SQLITE_DONE) {
        // No RETURNING (it ran a trigger program per row and cost more than the statements it saved,
        // BENCHMARKS.md): the rows inserted took the seqs last - inserted + 1 ... last, in the order
        // of the VALUES list, as each row takes the largest seq plus one (writeBatch made sure the
        // batch cannot reach the largest seq, past which SQLite picks them at random).
        const int inserted = sqlite3_changes(writeDb);
        const qint64 last = sqlite3_last_insert_rowid(writeDb);
        if (inserted == rows) {
            for (int k = 0; k < rows; ++k)
                seqs[std::size_t(k)] = last - rows + 1 + k;
        } else if (inserted > 0) {
            // Some ids were logged already (or twice in this chunk): each row's seq by its id, and a
            // row is the one inserted when that seq is one of this chunk's and no earlier row of the
            // chunk (the same id) took it.
            for (int k = 0; k < rows; ++k) {
                st.seqOfId.bindText(1, batch[first + std::size_t(k)].id);
                const int found = st.seqOfId.step();
                const qint64 seq = found == SQLITE_ROW ? st.seqOfId.integer(0) : 0;
                st.seqOfId.reset();
                if (found != SQLITE_ROW && found != SQLITE_DONE) {
                    *error = errorOf(writeDb);
                    return false;
                }
                if (found == SQLITE_ROW && seq > last - inserted && seq <= last
                    && std::find(seqs.begin(), seqs.begin() + k, seq) == seqs.begin() + k)
                    seqs[std::size_t(k)] = seq;
            }
        }
        return true;
    }
    if ((rc & 0xff) != SQLITE_CONSTRAINT || rows == 1) {
        if ((rc & 0xff) != SQLITE_CONSTRAINT) {
            *error = errorOf(writeDb);
            return false;
        }
        // One row that breaks a constraint other than the id's (none does today) is skipped like
        // a duplicate: one bad row must not cost the rest of the batch.
        qCWarning(lcStore) << "request" << batch[first].id << "not logged:" << errorOf(writeDb);
        seqs[0] = kBroken;
        return true;
    }
    // A constraint broke the chunk (the statement's changes are undone, the transaction goes on):
    // its rows one at a time, so that only the bad row is skipped.
    Statement *one = st.insertRequests.get(1, error);
    if (!one)
        return false;
    for (int k = 0; k < rows; ++k) {
        std::vector<qint64> seq;
        OffsetBinder binder{*one, 0};
        store::bindRequest(binder, batch[first + std::size_t(k)], instanceId);
        if (!stepRequestChunk(st, *one, batch, first + std::size_t(k), 1, seq, error))
            return false;
        seqs[std::size_t(k)] = seq.at(0);
    }
    return true;
}

bool SqliteLogWriter::Impl::insertFinalRows(WriterStatements &st, const std::vector<RequestRecord> &batch, std::size_t i,
                                            std::size_t end, const std::vector<bool> &writeBlocks, Inserted &out,
                                            Yielder &yielder, QString *error)
{
    std::vector<qint64> seqs;
    return writeChunks(
        st.insertRequests, end - i, store::kRequestColumnCount,
        [&](Statement &s, int base, std::size_t k) {
            OffsetBinder binder{s, base};
            store::bindRequest(binder, batch[i + k], instanceId);
        },
        [&](Statement &s, std::size_t first, int rows) {
            if (!stepRequestChunk(st, s, batch, i + first, rows, seqs, error))
                return false;
            for (int k = 0; k < rows; ++k) {
                const std::size_t row = i + first + std::size_t(k);
                const RequestRecord &r = batch[row];
                const qint64 seq = seqs[std::size_t(k)];
                if (seq < 0) {
                    // One bad row (a duplicate id) must not cost the rest of the batch; its attempts
                    // and prompt blocks would belong to the other request of that id, so they go too.
                    if (seq == kDuplicate)
                        qCWarning(lcStore) << "request" << r.id << "not logged: the log already has a request with this id";
                    continue;
                }
                ++out.count;
                store::foldIntoRollups(st.buckets, r, out.rollups);
                std::set<qint64> indexes;
                for (qsizetype a = 0; a < r.attemptLog.size(); ++a) {
                    const AttemptRecord &attempt = r.attemptLog.at(a);
                    const qint64 idx = attempt.index > 0 ? attempt.index : a + 1; // 1-based; the position when unset
                    if (!indexes.insert(idx).second) {
                        qCWarning(lcStore) << "attempt" << idx << "of request" << r.id << "not logged: a duplicate index";
                        continue;
                    }
                    out.attempts.push_back(AttemptRow{seq, idx, &attempt});
                }
                if (writeBlocks[row]) {
                    out.prefixes.emplace_back(seq, &r);
                    out.rollups.prefixKeys.insert(r.keyId);
                }
            }
            yielder.maybeYield();
            return true;
        },
        error, out.oneRowAtATime ? 1 : kChunkRows.front());
}

bool SqliteLogWriter::Impl::insertAttempts(WriterStatements &st, const std::vector<AttemptRow> &attempts, QString *error)
{
    return writeChunks(
        st.insertAttempts, attempts.size(), store::kAttemptColumnCount,
        [&](Statement &s, int base, std::size_t k) {
            OffsetBinder binder{s, base};
            store::bindAttempt(binder, attempts[k]);
        },
        [&](Statement &s, std::size_t, int rows) {
            if (!stepToDone(s, writeDb, error))
                return false;
            if (const int skipped = rows - sqlite3_changes(writeDb); skipped > 0)
                qCWarning(lcStore) << skipped << "attempt row(s) not logged: the log had attempts under their request's seq";
            return true;
        },
        error);
}

bool SqliteLogWriter::Impl::insertPromptPrefixes(WriterStatements &st,
                                                 const std::vector<std::pair<qint64, const RequestRecord *>> &rows,
                                                 QString *error)
{
    return writeChunks(
        st.insertPromptPrefixes, rows.size(), store::kPromptPrefixColumnCount,
        [&](Statement &s, int base, std::size_t k) {
            OffsetBinder binder{s, base};
            store::bindPromptPrefix(binder, rows[k].first, *rows[k].second);
        },
        [&](Statement &s, std::size_t, int) { return stepToDone(s, writeDb, error); }, error);
}

bool SqliteLogWriter::Impl::upsertRollups(WriterStatements &st, const store::BatchRollups &rollups, QString *error)
{
    auto step = [&](Statement &s, std::size_t, int) { return stepToDone(s, writeDb, error); };
    // The maps' entries in order (every writer upserts rows in the same order), a chunk at a time.
    auto upsertAll = [&](ChunkedStatement &cs, const auto &map, int columns, auto bind) {
        auto it = map.begin();
        return writeChunks(
            cs, map.size(), columns,
            [&](Statement &s, int base, std::size_t) {
                bind(s, base, it->first, it->second);
                ++it;
            },
            step, error);
    };
    return upsertAll(st.upsertRollups, rollups.rollups, store::kRollupColumns, store::bindRollup<Statement>)
        && upsertAll(st.upsertRollupLatency, rollups.latency, store::kRollupLatencyColumns,
                     store::bindRollupLatency<Statement>)
        && upsertAll(st.upsertRollupSizes, rollups.sizes, store::kRollupSizeColumns, store::bindRollupSize<Statement>);
}

bool SqliteLogWriter::Impl::trimPromptPrefixes(WriterStatements &st, const std::set<qint64> &keys, QString *error)
{
    for (const qint64 keyId : keys) {
        st.trimPromptPrefixes.bindInt(1, keyId);
        st.trimPromptPrefixes.bindInt(2, store::kPromptPrefixesPerKey);
        if (!stepToDone(st.trimPromptPrefixes, writeDb, error))
            return false;
    }
    return true;
}

SqliteLogWriter::SqliteLogWriter(Events events) : BatchedLogWriter(std::move(events)), d(std::make_unique<Impl>()) {}

SqliteLogWriter::~SqliteLogWriter() { close(); }

void SqliteLogWriter::setInstanceId(const QString &id) { d->instanceId = id; }

bool SqliteLogWriter::open(const QString &path, QString *error)
{
    QString why;
    auto fail = [&](const QString &message) {
        sqlite::close(d->writeDb);
        d->writeDb = nullptr;
        *error = message;
        return false;
    };
    close();
    d->writeDb = sqlite::open(path, sqlite::Access::ReadWriteCreate, kWriterBusyTimeoutMs, &why);
    if (!d->writeDb)
        return fail(why);
    // synchronous=NORMAL in WAL mode: a commit is a write() into the WAL file, with no fsync. The
    // data is then in the OS page cache, which survives the death of the process (kill -9, a crash):
    // the kernel writes it out whether or not the process still exists, and the next open replays the
    // WAL. That is what the pending rows need (RequestRecord::pending). A power cut or a kernel crash
    // can lose the transactions since the last checkpoint's fsync (never corrupt the file); surviving
    // those would need synchronous=FULL, an fsync per commit, which costs 1-10 ms on common disks.
    if (!exec(d->writeDb, "PRAGMA synchronous = NORMAL", &why))
        return fail(why);
    // Requests the last run answered but did not log: charged at their reservation, before anyone
    // reads spend (the budget ledger is rebuilt from the log at start).
    if (!d->replayJournals(RequestJournal::dirFor(path), &why))
        return fail(QStringLiteral("cannot replay the request journal of the last run: %1").arg(why));
    if (!d->recoverPending(&why))
        return fail(QStringLiteral("cannot recover the requests of the last run: %1").arg(why));
    start(d.get());
    return true;
}

void SqliteLogWriter::close()
{
    stop();
    d->statements.reset();
    sqlite::close(d->writeDb);
    d->writeDb = nullptr;
}

} // namespace gh
