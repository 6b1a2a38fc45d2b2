#include "store/sqlitelogwriter.h"
#include "store/requestjournal.h"
#include "core/logging.h"
#include "store/requestcodec.h"
#include "store/rollupdeltas.h"
#include "store/sqlite.h"
#include <QDir>
#include <sqlite3.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
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
constexpr const char *kDeletePending = "DELETE FROM pending_requests WHERE id = ?1";
QByteArray orphanPendingSql()
{
    return QByteArray("SELECT ") + store::kPendingColumns
        + " FROM pending_requests p WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = p.id) ORDER BY started_at_ms";
}

constexpr const char *kInsertAttempt =
    "INSERT INTO attempts (request_seq, idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

// The attempts of the request row `seq`; one that breaks a constraint is skipped with a warning.
// False when a step fails (the caller rolls back).
bool insertAttempts(sqlite3 *db, Statement &ins, qint64 seq, const RequestRecord &r)
{
    for (qsizetype i = 0; i < r.attemptLog.size(); ++i) {
        const AttemptRecord &a = r.attemptLog.at(i);
        ins.bindInt(1, seq);
        ins.bindInt(2, a.index > 0 ? a.index : i + 1); // 1-based; the position when unset
        ins.bindText(3, a.modelId);
        ins.bindText(4, a.provider);
        ins.bindText(5, QLatin1String(outcomeName(a.outcome)));
        ins.bindInt(6, a.status);
        ins.bindText(7, a.error);
        ins.bindInt(8, a.startedAtMs);
        ins.bindInt(9, a.latencyMs);
        const int rc = ins.step();
        ins.reset();
        if ((rc & 0xff) == SQLITE_CONSTRAINT)
            qCWarning(lcStore) << "attempt" << a.index << "of request" << r.id << "not logged:" << errorOf(db);
        else if (rc != SQLITE_DONE)
            return false;
    }
    return true;
}

// The prompt prefix of the request row `seq`. False when the step fails (the caller rolls back).
bool insertPromptPrefix(Statement &ins, qint64 seq, const RequestRecord &r)
{
    ins.bindInt(1, seq);
    ins.bindInt(2, r.keyId);
    ins.bindInt(3, r.startedAtMs);
    ins.bindInt(4, r.promptSystemBytes);
    ins.bindInt(5, r.promptToolsBytes);
    ins.bindBlob(6, store::encodeBlocks(r.promptBlocks));
    const int rc = ins.step();
    ins.reset();
    return rc == SQLITE_DONE;
}

// The upserts of a batch's deltas and the trim of its keys' prompt prefixes, each false when a step
// fails (the caller rolls back).
// The rollup upserts (rollupdeltas.h) one row a step, on statements prepared once.
bool upsertRollups(Statement &up, const std::map<store::RollupKey, store::RollupDelta> &rollups)
{
    for (const auto &[key, d] : rollups) {
        store::bindRollup(up, 0, key, d);
        const int rc = up.step();
        up.reset();
        if (rc != SQLITE_DONE)
            return false;
    }
    return true;
}

bool upsertRollupLatency(Statement &up, const std::map<store::RollupLatencyKey, qint64> &latency)
{
    for (const auto &[key, n] : latency) {
        store::bindRollupLatency(up, 0, key, n);
        const int rc = up.step();
        up.reset();
        if (rc != SQLITE_DONE)
            return false;
    }
    return true;
}

bool upsertRollupSizes(Statement &up, const std::map<store::RollupSizeKey, store::RollupSizeDelta> &sizes)
{
    for (const auto &[key, d] : sizes) {
        store::bindRollupSize(up, 0, key, d);
        const int rc = up.step();
        up.reset();
        if (rc != SQLITE_DONE)
            return false;
    }
    return true;
}

bool trimPromptPrefixes(Statement &trim, const std::set<qint64> &prefixKeys)
{
    for (const qint64 keyId : prefixKeys) {
        trim.bindInt(1, keyId);
        trim.bindInt(2, store::kPromptPrefixesPerKey);
        const int rc = trim.step();
        trim.reset();
        if (rc != SQLITE_DONE)
            return false;
    }
    return true;
}

} // namespace

struct SqliteLogWriter::Impl final : BatchedLogWriter::Sink {
    // The request-log writer: its own connection, used only by the writer thread (and by open()
    // before the thread starts).
    sqlite3 *writeDb = nullptr;
    QString instanceId; // stamped on rows that carry none

    // The writer thread's statements, prepared once and reused for every batch.
    struct WriterStatements {
        Statement insertRequest;
        Statement insertAttempt;
        Statement insertPromptPrefix;
        Statement upsertRollup;
        Statement upsertRollupLatency;
        Statement upsertRollupSizes;
        Statement trimPromptPrefixes;
        Statement insertPending;
        Statement deletePending;
        // latency_buckets and size_buckets, read once (fixed data).
        store::RollupBuckets buckets;
        explicit WriterStatements(sqlite3 *db)
            : insertRequest(db, store::insertRequestSql(), true)
            , insertAttempt(db, kInsertAttempt, true)
            , insertPromptPrefix(db, store::kInsertPromptPrefix, true)
            , upsertRollup(db, store::upsertRollupsSql(1), true)
            , upsertRollupLatency(db, store::upsertRollupLatencySql(1), true)
            , upsertRollupSizes(db, store::upsertRollupSizesSql(1), true)
            , trimPromptPrefixes(db, store::kTrimPromptPrefixes, true)
            , insertPending(db, insertPendingSql(), true)
            , deletePending(db, kDeletePending, true)
        {
            for (Statement *st : {&insertRequest, &insertAttempt, &insertPromptPrefix, &upsertRollup, &upsertRollupLatency,
                                  &upsertRollupSizes, &insertPending})
                if (st->prepared())
                    st->keepBindings();
        }
    };

    // The pending rows without a final row, logged at their reservation (open(), before the writer starts).
    bool recoverPending(QString *error);
    // The rows of the journals no running process holds that the log lacks (open(), before recoverPending).
    bool replayJournals(const QString &dir, QString *error);
    bool writeBatch(WriterStatements &st, const std::vector<RequestRecord> &batch, int *written, QString *error);
    // What writeRow did with a row: inserted a request row (counted as written), wrote nothing counted
    // (a pending row, or a duplicate skipped with a warning), or failed (the caller rolls back).
    enum class RowWrite { Inserted, NotCounted, Failed };
    RowWrite writeRow(WriterStatements &st, const RequestRecord &r, bool writeBlocks, store::BatchRollups &rollups);
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
    for (const Statement *stmt : {&st.insertRequest, &st.insertAttempt, &st.insertPromptPrefix, &st.upsertRollup,
                                  &st.upsertRollupLatency, &st.upsertRollupSizes, &st.trimPromptPrefixes, &st.insertPending, &st.deletePending}) {
        if (!stmt->prepared()) {
            *error = QStringLiteral("a statement of the request log could not be prepared: %1").arg(errorOf(writeDb));
            return false;
        }
    }
    if (!st.buckets.load([this](const char *sql) { return Statement(writeDb, sql); }, error))
        return false;
    if (!exec(writeDb, "BEGIN IMMEDIATE", error))
        return false;
    auto abort = [&] {
        *error = errorOf(writeDb);
        exec(writeDb, "ROLLBACK");
        return false;
    };
    store::BatchRollups rollups;
    const std::vector<bool> writeBlocks = store::blocksToWrite(batch);
    int count = 0;
    // The writer shares the workers' cores: a batch of a few hundred rows is 2-3 ms of CPU, and the
    // scheduler (EEVDF) lets it run its whole slice while a woken worker waits, which was the 1-connection
    // p99 (BENCHMARKS.md, issue 19). It yields every kYieldEvery of CPU so a waiting worker runs first;
    // with nothing waiting, the yield returns at once. Not for a batch over kYieldMaxBatch rows: on a
    // saturated core a yielding writer got about 100 us per worker slice, fell behind, and the full
    // buffer refused requests (503); a large batch is that backlog, and then the writer takes its share.
    const bool yieldToWorkers = batch.size() <= kYieldMaxBatch;
    auto lastYield = Clock::now();
    for (std::size_t row = 0; row < batch.size(); ++row) {
        if (const auto now = Clock::now(); yieldToWorkers && now - lastYield >= kYieldEvery) {
            std::this_thread::yield();
            lastYield = Clock::now();
        }
        switch (writeRow(st, batch[row], writeBlocks[row], rollups)) {
        case RowWrite::Inserted:
            ++count;
            break;
        case RowWrite::NotCounted:
            break;
        case RowWrite::Failed:
            return abort();
        }
    }
    if (!upsertRollups(st.upsertRollup, rollups.rollups) || !upsertRollupLatency(st.upsertRollupLatency, rollups.latency)
        || !upsertRollupSizes(st.upsertRollupSizes, rollups.sizes)
        || !trimPromptPrefixes(st.trimPromptPrefixes, rollups.prefixKeys))
        return abort();
    if (!exec(writeDb, "COMMIT", error)) {
        exec(writeDb, "ROLLBACK");
        return false;
    }
    *written = count;
    return true;
}

SqliteLogWriter::Impl::RowWrite SqliteLogWriter::Impl::writeRow(WriterStatements &st, const RequestRecord &r,
                                                                 bool writeBlocks, store::BatchRollups &rollups)
{
    int rc = SQLITE_OK;
    if (r.pending) {
        store::bindPending(st.insertPending, r, instanceId);
        rc = st.insertPending.step();
        st.insertPending.reset();
        return rc == SQLITE_DONE ? RowWrite::NotCounted : RowWrite::Failed;
    }
    if (r.settlesPending) {
        // In the same transaction as the final row: a pending row never outlives its final row.
        st.deletePending.bindText(1, r.id);
        rc = st.deletePending.step();
        st.deletePending.reset();
        if (rc != SQLITE_DONE)
            return RowWrite::Failed;
    }
    store::bindRequest(st.insertRequest, r, instanceId);
    rc = st.insertRequest.step();
    st.insertRequest.reset();
    if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        // One bad row (a duplicate id) must not cost the rest of the batch; its attempts and
        // prompt blocks would belong to the other request of that id, so they go too.
        qCWarning(lcStore) << "request" << r.id << "not logged:" << errorOf(writeDb);
        return RowWrite::NotCounted;
    }
    if (rc != SQLITE_DONE)
        return RowWrite::Failed;
    const qint64 seq = sqlite3_last_insert_rowid(writeDb);
    store::foldIntoRollups(st.buckets, r, rollups);
    if (!insertAttempts(writeDb, st.insertAttempt, seq, r))
        return RowWrite::Failed;
    if (writeBlocks) {
        if (!insertPromptPrefix(st.insertPromptPrefix, seq, r))
            return RowWrite::Failed;
        rollups.prefixKeys.insert(r.keyId);
    }
    return RowWrite::Inserted;
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
