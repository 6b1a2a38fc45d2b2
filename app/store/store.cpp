#include "store/store.h"
#include "core/logging.h"
#include "store/migrations.h"
#include "store/requestcodec.h"
#include "store/sqlite.h"
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <sqlite3.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <limits>
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

constexpr int kBusyTimeoutMs = 5'000;
// The log writer waits less for a lock: responses wait for its commits, and when another program
// holds the database (a backup, the sqlite3 shell) they are released after this long and the rows
// wait in memory. The gateway's own control-plane writes hold the lock for well under a millisecond.
constexpr int kWriterBusyTimeoutMs = 1'000;
// A batch is written at once, without waiting for the rest of the window, once this many are queued.
constexpr std::size_t kMaxBatch = 4'096;
// A batch that cannot be written (disk full, read-only, database locked) goes back to the front of
// the queue and is retried, with the delay doubling from the first to the last value. It is never
// dropped while the store is open; at close() it is retried for kCloseGiveUp, then dropped with a
// critical log line rather than blocking shutdown forever.
constexpr auto kRetryDelayFirst = std::chrono::milliseconds(100);
constexpr auto kRetryDelayLast = std::chrono::milliseconds(2'000);
constexpr auto kCloseGiveUp = std::chrono::seconds(5);
// Rows that may wait in memory while the log cannot be written before the gateway stops admitting
// metered requests (Store::isBufferFull()). A row is about 1 KiB with its attempts and prompt block
// hashes: the default is about 20 MiB.
constexpr int kDefaultBufferRows = 20'000;

using sqlite::Statement;
using sqlite::errorOf;
using sqlite::exec;

// Same mapping as config's formatName()/formatFromName(), kept here so the stored text cannot change
// underneath the database when display names change.
QString formatToDb(ProviderFormat f)
{
    switch (f) {
    case ProviderFormat::OpenAI:
        return QStringLiteral("openai");
    case ProviderFormat::Anthropic:
        return QStringLiteral("anthropic");
    case ProviderFormat::Gemini:
        return QStringLiteral("gemini");
    }
    return QStringLiteral("openai");
}

std::optional<ProviderFormat> formatFromDb(const QString &s)
{
    if (s == QLatin1String("openai"))
        return ProviderFormat::OpenAI;
    if (s == QLatin1String("anthropic"))
        return ProviderFormat::Anthropic;
    if (s == QLatin1String("gemini"))
        return ProviderFormat::Gemini;
    return std::nullopt;
}

// Pending rows (migration 8): see RequestRecord::pending.
constexpr const char *kInsertPending =
    "INSERT OR REPLACE INTO pending_requests (id, started_at_ms, key_id, key_name, endpoint, requested_model, route, "
    "model_id, provider, upstream_model, reserved_nano_usd, stream, attempts) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char *kDeletePending = "DELETE FROM pending_requests WHERE id = ?1";
constexpr const char *kOrphanPending =
    "SELECT id, started_at_ms, key_id, key_name, endpoint, requested_model, route, model_id, provider, upstream_model, "
    "reserved_nano_usd, stream, attempts FROM pending_requests p "
    "WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = p.id) ORDER BY started_at_ms";

constexpr const char *kInsertAttempt =
    "INSERT INTO attempts (request_seq, idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

constexpr const char *kInsertPromptPrefix =
    "INSERT INTO prompt_prefixes (request_seq, key_id, started_at_ms, system_bytes, tools_bytes, blocks) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// The rollups (migration 4) are kept by the writer: one upsert per rollup row a batch touches, the
// batch's rows folded in C++ with the figures of the request_facts view (migrations.cpp).
constexpr const char *kUpsertRollup =
    "INSERT INTO rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, "
    "unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
    "stream_output_tokens, stream_generation_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
    "ON CONFLICT (grain, t, key_id, model, provider) DO UPDATE SET "
    "requests = requests + excluded.requests, "
    "refused = refused + excluded.refused, "
    "cancelled = cancelled + excluded.cancelled, "
    "errors = errors + excluded.errors, "
    "cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd, "
    "unpriced = unpriced + excluded.unpriced, "
    "input_tokens = input_tokens + excluded.input_tokens, "
    "cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, "
    "cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, "
    "cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens, "
    "output_tokens = output_tokens + excluded.output_tokens, "
    "stream_output_tokens = stream_output_tokens + excluded.stream_output_tokens, "
    "stream_generation_ms = stream_generation_ms + excluded.stream_generation_ms";

constexpr const char *kUpsertRollupLatency =
    "INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (grain, t, key_id, model, metric, bucket) DO UPDATE SET n = n + excluded.n";

constexpr const char *kLatencyBuckets = "SELECT lo, bucket FROM latency_buckets ORDER BY lo";

// Only the latest 200 prompt_prefixes rows of each key are kept (trimmed once per batch). A batch
// writes at most that many per key: its earlier rows would be trimmed in the same transaction.
constexpr int kPromptPrefixesPerKey = 200;
constexpr const char *kTrimPromptPrefixes =
    "DELETE FROM prompt_prefixes WHERE key_id = ?1 AND request_seq <= (SELECT request_seq FROM prompt_prefixes "
    "WHERE key_id = ?1 ORDER BY request_seq DESC LIMIT 1 OFFSET ?2)"; // ?2: kPromptPrefixesPerKey

// grain (0: hour, 1: day), t, key_id, model, provider
using RollupKey = std::tuple<int, qint64, qint64, QString, QString>;
// grain, t, key_id, model, metric (0: latency, 1: ttft), bucket
using RollupLatencyKey = std::tuple<int, qint64, qint64, QString, int, qint64>;

struct RollupDelta {
    qint64 requests = 0, refused = 0, cancelled = 0, errors = 0, cost = 0, unpriced = 0;
    qint64 inputTokens = 0, cacheReadTokens = 0, cacheWriteTokens = 0, cacheWrite1hTokens = 0, outputTokens = 0;
    qint64 streamOutputTokens = 0, streamGenerationMs = 0;
};

// The rollup model of a row: CASE WHEN model_id <> '' THEN model_id WHEN provider <> '' AND
// upstream_model <> '' THEN provider || '/' || upstream_model ELSE '' END.
QString rollupModel(const RequestRecord &r)
{
    if (!r.modelId.isEmpty())
        return r.modelId;
    if (!r.provider.isEmpty() && !r.upstreamModel.isEmpty())
        return r.provider + QLatin1Char('/') + r.upstreamModel;
    return QString();
}

std::optional<AttemptRecord::Outcome> outcomeFromDb(const QString &s)
{
    for (auto o : {AttemptRecord::Outcome::Ok, AttemptRecord::Outcome::Failed, AttemptRecord::Outcome::Skipped}) {
        if (s == QLatin1String(outcomeName(o)))
            return o;
    }
    return std::nullopt;
}

// The prompt's block hashes as stored: 8 bytes per block, little-endian.
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

void bindPending(Statement &s, const RequestRecord &r)
{
    s.bindText(1, r.id);
    s.bindInt(2, r.startedAtMs);
    s.bindInt(3, r.keyId);
    s.bindText(4, r.keyName);
    s.bindText(5, r.endpoint);
    s.bindText(6, r.requestedModel);
    s.bindText(7, r.route);
    s.bindText(8, r.modelId);
    s.bindText(9, r.provider);
    s.bindText(10, r.upstreamModel);
    s.bindInt(11, r.reserved);
    s.bindBool(12, r.stream);
    s.bindInt(13, r.attempts);
}

} // namespace

struct Store::Private {
    Store *q = nullptr;
    QString path;

    // The control-plane connection: reads and key/provider/model/settings writes, any thread.
    mutable std::mutex readMutex;
    sqlite3 *readDb = nullptr;

    // The request-log writer: its own connection, used only by the writer thread.
    sqlite3 *writeDb = nullptr;
    std::thread writer;
    std::atomic<int> batchWindowMs{100};

    // A queued record and who waits for its commit (RequestRecord::appendRequest's onDurable).
    struct Entry {
        RequestRecord record;
        std::function<void()> onDurable;
    };

    std::mutex queueMutex;
    std::condition_variable queueChanged; // writer waits: records, flush requests, stop
    std::condition_variable processedChanged; // flush() waits
    std::deque<Entry> queue;
    Clock::time_point firstQueuedAt;
    quint64 enqueued = 0;  // records accepted so far
    quint64 processed = 0; // records written (or given up on) so far
    std::size_t writing = 0; // records of the batch being written (out of the queue, not yet written)
    int urgent = 0;        // queued records with an onDurable: written now, without the batch window
    int flushWaiters = 0;
    bool accepting = false; // the writer runs and takes records
    bool stopping = false;
    // The log cannot be written (the last batch failed); its rows are back in the queue.
    bool failing = false;
    QString failure;         // why, for the window
    int capacity = kDefaultBufferRows;
    std::atomic<bool> full{false}; // queue + writing >= capacity: refuse new metered requests
    // Updates `full` (queueMutex held); true when it or `failing` changed since the last call.
    bool lastFailing = false;
    bool updateHealth()
    {
        const bool nowFull = queue.size() + writing >= std::size_t(capacity);
        const bool changed = nowFull != full.load() || failing != lastFailing;
        full = nowFull;
        lastFailing = failing;
        return changed;
    }

    std::atomic<bool> open{false};

    // The writer thread's statements, prepared once and reused for every batch.
    struct WriterStatements {
        Statement insertRequest;
        Statement insertAttempt;
        Statement insertPromptPrefix;
        Statement upsertRollup;
        Statement upsertRollupLatency;
        Statement trimPromptPrefixes;
        Statement insertPending;
        Statement deletePending;
        // latency_buckets as (lo, bucket) by lo, read once (the table never changes).
        std::vector<std::pair<qint64, qint64>> buckets;
        explicit WriterStatements(sqlite3 *db)
            : insertRequest(db, store::insertRequestSql(), true)
            , insertAttempt(db, kInsertAttempt, true)
            , insertPromptPrefix(db, kInsertPromptPrefix, true)
            , upsertRollup(db, kUpsertRollup, true)
            , upsertRollupLatency(db, kUpsertRollupLatency, true)
            , trimPromptPrefixes(db, kTrimPromptPrefixes, true)
            , insertPending(db, kInsertPending, true)
            , deletePending(db, kDeletePending, true)
        {
            for (Statement *st : {&insertRequest, &insertAttempt, &insertPromptPrefix, &upsertRollup, &upsertRollupLatency,
                                  &insertPending})
                if (st->prepared())
                    st->keepBindings();
        }
        bool loadBuckets(sqlite3 *db, QString *error);
        // The bucket of v as `SELECT bucket FROM latency_buckets WHERE lo <= max(0, v) ORDER BY lo DESC LIMIT 1`.
        [[nodiscard]] std::optional<qint64> bucketOf(qint64 v) const
        {
            v = std::max<qint64>(0, v);
            auto it = std::upper_bound(buckets.begin(), buckets.end(), v,
                                       [](qint64 x, const std::pair<qint64, qint64> &b) { return x < b.first; });
            if (it == buckets.begin())
                return std::nullopt;
            return std::prev(it)->second;
        }
    };

    void runWriter();
    // The pending rows without a final row, logged at their reservation (open(), before the writer starts).
    bool recoverPending(QString *error);
    bool writeBatch(WriterStatements &st, const std::vector<RequestRecord> &batch, int *written, QString *error);
    [[nodiscard]] QList<AttemptRecord> readAttempts(const QString &requestId) const; // readMutex held
    void closeConnections()
    {
        sqlite3_close_v2(writeDb);
        writeDb = nullptr;
        std::lock_guard lock(readMutex);
        sqlite3_close_v2(readDb);
        readDb = nullptr;
    }
};

bool Store::Private::WriterStatements::loadBuckets(sqlite3 *db, QString *error)
{
    if (!buckets.empty())
        return true;
    Statement s(db, kLatencyBuckets);
    std::vector<std::pair<qint64, qint64>> loaded;
    int rc = SQLITE_ROW;
    while ((rc = s.step()) == SQLITE_ROW)
        loaded.emplace_back(s.integer(0), s.integer(1));
    if (rc != SQLITE_DONE || loaded.empty()) {
        *error = QStringLiteral("cannot read the latency buckets: %1")
                     .arg(rc != SQLITE_DONE ? errorOf(db) : QStringLiteral("the table is empty"));
        return false;
    }
    buckets = std::move(loaded);
    return true;
}

void Store::Private::runWriter()
{
    WriterStatements statements(writeDb);
    std::unique_lock lock(queueMutex);
    auto retryDelay = kRetryDelayFirst;
    Clock::time_point giveUpAt{}; // stopping while the log cannot be written: when to drop
    bool givingUp = false;
    for (;;) {
        queueChanged.wait(lock, [this] { return !queue.empty() || stopping; });
        if (queue.empty())
            break; // stopping with nothing left
        // Collect for up to one batch window from the first queued record, unless someone is
        // waiting for it (a response held for its commit, flush, close) or the batch is already large.
        // The deadline is recomputed after each wake-up so a changed window applies at once. A
        // response waits for at most one write in progress plus its own: a group commit of every row
        // queued meanwhile, which with synchronous=NORMAL is a write() to the WAL, no fsync.
        while (!stopping && flushWaiters == 0 && urgent == 0 && !failing && queue.size() < kMaxBatch) {
            const auto deadline = firstQueuedAt + std::chrono::milliseconds(batchWindowMs.load());
            if (Clock::now() >= deadline)
                break;
            queueChanged.wait_until(lock, deadline);
        }

        std::vector<RequestRecord> batch;
        std::vector<std::function<void()>> waiting;
        batch.reserve(queue.size());
        for (Entry &e : queue) {
            batch.push_back(std::move(e.record));
            if (e.onDurable)
                waiting.push_back(std::move(e.onDurable));
        }
        queue.clear();
        urgent = 0;
        writing = batch.size();
        lock.unlock(); // appendRequest() never waits for the disk

        int written = 0;
        QString error;
        const bool ok = writeBatch(statements, batch, &written, &error);
        // Committed, or (failed) kept in memory and retried: either way the held responses go out
        // now. While the log cannot be written, an answered request is only in memory: the window
        // says so, and new metered requests are refused once the buffer is full.
        for (const auto &release : waiting)
            release();

        lock.lock();
        writing = 0;
        bool dropped = false;
        std::vector<std::function<void()>> alsoWaiting; // queued meanwhile, for a commit not coming
        if (ok) {
            processed += batch.size();
            retryDelay = kRetryDelayFirst;
            givingUp = false;
            if (failing) {
                failing = false;
                failure.clear();
                qCInfo(lcStore) << "the request log is written again;" << batch.size() << "waiting requests saved";
            }
        } else {
            for (Entry &e : queue) {
                if (e.onDurable)
                    alsoWaiting.push_back(std::exchange(e.onDurable, {}));
            }
            urgent = 0;
            for (auto it = batch.rbegin(); it != batch.rend(); ++it)
                queue.push_front(Entry{std::move(*it), {}});
            if (queue.size() == batch.size())
                firstQueuedAt = Clock::now();
            if (!failing)
                qCCritical(lcStore) << "cannot write the request log:" << error << "-" << queue.size()
                                    << "requests wait in memory and are retried";
            failing = true;
            failure = error;
            if (stopping) {
                if (!givingUp) {
                    givingUp = true;
                    giveUpAt = Clock::now() + kCloseGiveUp;
                }
                if (Clock::now() >= giveUpAt) {
                    qCCritical(lcStore) << "closing: dropped" << queue.size() << "requests from the log:" << error;
                    processed += queue.size();
                    queue.clear();
                    dropped = true;
                }
            }
        }
        const bool changed = updateHealth();
        processedChanged.notify_all();
        lock.unlock();
        for (const auto &release : alsoWaiting)
            release();
        if (written > 0)
            Q_EMIT q->requestsCommitted(written);
        if (changed)
            Q_EMIT q->logHealthChanged();
        lock.lock();
        if (!ok && !dropped) {
            queueChanged.wait_for(lock, retryDelay);
            retryDelay = std::min<std::chrono::milliseconds>(retryDelay * 2, kRetryDelayLast);
        }
    }
}

bool Store::Private::recoverPending(QString *error)
{
    std::vector<RequestRecord> orphans;
    {
        Statement s(writeDb, kOrphanPending);
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            RequestRecord r;
            r.id = s.text(0);
            r.startedAtMs = s.integer(1);
            r.keyId = s.integer(2);
            r.keyName = s.text(3);
            r.endpoint = s.text(4);
            r.requestedModel = s.text(5);
            r.route = s.text(6);
            r.modelId = s.text(7);
            r.provider = s.text(8);
            r.upstreamModel = s.text(9);
            r.reserved = s.integer(10);
            r.stream = s.boolean(11);
            r.attempts = int(s.integer(12));
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

bool Store::Private::writeBatch(WriterStatements &st, const std::vector<RequestRecord> &batch, int *written,
                                QString *error)
{
    *written = 0;
    for (const Statement *stmt : {&st.insertRequest, &st.insertAttempt, &st.insertPromptPrefix, &st.upsertRollup,
                                  &st.upsertRollupLatency, &st.trimPromptPrefixes, &st.insertPending, &st.deletePending}) {
        if (!stmt->prepared()) {
            *error = QStringLiteral("a statement of the request log could not be prepared: %1").arg(errorOf(writeDb));
            return false;
        }
    }
    if (!st.loadBuckets(writeDb, error))
        return false;
    if (!exec(writeDb, "BEGIN IMMEDIATE", error))
        return false;
    auto abort = [&] {
        *error = errorOf(writeDb);
        exec(writeDb, "ROLLBACK");
        return false;
    };
    // The batch's rollup deltas (rows actually inserted only) and the keys whose prefixes grew.
    std::map<RollupKey, RollupDelta> rollups;
    std::map<RollupLatencyKey, qint64> latency;
    std::set<qint64> prefixKeys;
    // Which rows' prompt blocks to write: the latest kPromptPrefixesPerKey of each key in this batch.
    std::vector<bool> writeBlocks(batch.size(), false);
    {
        std::map<qint64, int> seen;
        for (std::size_t i = batch.size(); i-- > 0;) {
            if (!batch[i].promptBlocks.isEmpty())
                writeBlocks[i] = seen[batch[i].keyId]++ < kPromptPrefixesPerKey;
        }
    }
    int count = 0;
    for (std::size_t row = 0; row < batch.size(); ++row) {
        const RequestRecord &r = batch[row];
        int rc = SQLITE_OK;
        if (r.pending) {
            bindPending(st.insertPending, r);
            rc = st.insertPending.step();
            st.insertPending.reset();
            if (rc != SQLITE_DONE)
                return abort();
            continue;
        }
        if (r.settlesPending) {
            // In the same transaction as the final row: a pending row never outlives its final row.
            st.deletePending.bindText(1, r.id);
            rc = st.deletePending.step();
            st.deletePending.reset();
            if (rc != SQLITE_DONE)
                return abort();
        }
        store::bindRequest(st.insertRequest, r);
        rc = st.insertRequest.step();
        st.insertRequest.reset();
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            // One bad row (a duplicate id) must not cost the rest of the batch; its attempts and
            // prompt blocks would belong to the other request of that id, so they go too.
            qCWarning(lcStore) << "request" << r.id << "not logged:" << errorOf(writeDb);
            continue;
        }
        if (rc != SQLITE_DONE)
            return abort();
        ++count;
        const qint64 seq = sqlite3_last_insert_rowid(writeDb);

        {
            // Exactly the figures of migration 4's request_facts (and its former insert trigger).
            const QString model = rollupModel(r);
            const Usage &u = r.usage;
            const bool ok = store::isSuccess(r);
            const bool streamed = ok && r.stream && r.ttftMs >= 0 && r.latencyMs > r.ttftMs && u.outputTokens > 0;
            const qint64 tokens = u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens + u.cacheWrite1hTokens
                + u.outputTokens;
            const std::optional<qint64> latencyBucket = ok ? st.bucketOf(r.latencyMs) : std::nullopt;
            const std::optional<qint64> ttftBucket = ok && r.ttftMs >= 0 ? st.bucketOf(r.ttftMs) : std::nullopt;
            for (int grain : {0, 1}) {
                const qint64 t = r.startedAtMs / (grain == 0 ? 3'600'000 : 86'400'000);
                RollupDelta &d = rollups[RollupKey{grain, t, r.keyId, model, r.provider}];
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
                    ++latency[RollupLatencyKey{grain, t, r.keyId, model, 0, *latencyBucket}];
                if (ttftBucket)
                    ++latency[RollupLatencyKey{grain, t, r.keyId, model, 1, *ttftBucket}];
            }
        }

        for (qsizetype i = 0; i < r.attemptLog.size(); ++i) {
            const AttemptRecord &a = r.attemptLog.at(i);
            Statement &ins = st.insertAttempt;
            ins.bindInt(1, seq);
            ins.bindInt(2, a.index > 0 ? a.index : i + 1); // 1-based; the position when unset
            ins.bindText(3, a.modelId);
            ins.bindText(4, a.provider);
            ins.bindText(5, QLatin1String(outcomeName(a.outcome)));
            ins.bindInt(6, a.status);
            ins.bindText(7, a.error);
            ins.bindInt(8, a.startedAtMs);
            ins.bindInt(9, a.latencyMs);
            rc = ins.step();
            ins.reset();
            if ((rc & 0xff) == SQLITE_CONSTRAINT)
                qCWarning(lcStore) << "attempt" << a.index << "of request" << r.id << "not logged:" << errorOf(writeDb);
            else if (rc != SQLITE_DONE)
                return abort();
        }

        if (writeBlocks[row]) {
            Statement &ins = st.insertPromptPrefix;
            ins.bindInt(1, seq);
            ins.bindInt(2, r.keyId);
            ins.bindInt(3, r.startedAtMs);
            ins.bindInt(4, r.promptSystemBytes);
            ins.bindInt(5, r.promptToolsBytes);
            ins.bindBlob(6, encodeBlocks(r.promptBlocks));
            rc = ins.step();
            ins.reset();
            if (rc != SQLITE_DONE)
                return abort();
            prefixKeys.insert(r.keyId);
        }
    }

    for (const auto &[key, d] : rollups) {
        Statement &up = st.upsertRollup;
        up.bindInt(1, std::get<0>(key));
        up.bindInt(2, std::get<1>(key));
        up.bindInt(3, std::get<2>(key));
        up.bindText(4, std::get<3>(key));
        up.bindText(5, std::get<4>(key));
        up.bindInt(6, d.requests);
        up.bindInt(7, d.refused);
        up.bindInt(8, d.cancelled);
        up.bindInt(9, d.errors);
        up.bindInt(10, d.cost);
        up.bindInt(11, d.unpriced);
        up.bindInt(12, d.inputTokens);
        up.bindInt(13, d.cacheReadTokens);
        up.bindInt(14, d.cacheWriteTokens);
        up.bindInt(15, d.cacheWrite1hTokens);
        up.bindInt(16, d.outputTokens);
        up.bindInt(17, d.streamOutputTokens);
        up.bindInt(18, d.streamGenerationMs);
        const int rc = up.step();
        up.reset();
        if (rc != SQLITE_DONE)
            return abort();
    }
    for (const auto &[key, n] : latency) {
        Statement &up = st.upsertRollupLatency;
        up.bindInt(1, std::get<0>(key));
        up.bindInt(2, std::get<1>(key));
        up.bindInt(3, std::get<2>(key));
        up.bindText(4, std::get<3>(key));
        up.bindInt(5, std::get<4>(key));
        up.bindInt(6, std::get<5>(key));
        up.bindInt(7, n);
        const int rc = up.step();
        up.reset();
        if (rc != SQLITE_DONE)
            return abort();
    }
    for (const qint64 keyId : prefixKeys) {
        Statement &trim = st.trimPromptPrefixes;
        trim.bindInt(1, keyId);
        trim.bindInt(2, kPromptPrefixesPerKey);
        const int rc = trim.step();
        trim.reset();
        if (rc != SQLITE_DONE)
            return abort();
    }
    if (!exec(writeDb, "COMMIT", error)) {
        exec(writeDb, "ROLLBACK");
        return false;
    }
    *written = count;
    return true;
}

QList<AttemptRecord> Store::Private::readAttempts(const QString &requestId) const
{
    QList<AttemptRecord> out;
    Statement s(readDb, "SELECT idx, model_id, provider, outcome, status, error, started_at_ms, latency_ms "
                        "FROM attempts WHERE request_seq = (SELECT seq FROM requests WHERE id = ?1) ORDER BY idx");
    s.bindText(1, requestId);
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        AttemptRecord a;
        a.index = int(s.integer(0));
        a.modelId = s.text(1);
        a.provider = s.text(2);
        const auto outcome = outcomeFromDb(s.text(3));
        if (!outcome) {
            qCWarning(lcStore) << "attempt" << a.index << "of request" << requestId << "has an unknown outcome" << s.text(3);
            continue;
        }
        a.outcome = *outcome;
        a.status = int(s.integer(4));
        a.error = s.text(5);
        a.startedAtMs = s.integer(6);
        a.latencyMs = s.integer(7);
        out.append(a);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading the attempts of request" << requestId << "failed:" << s.error();
    return out;
}

Store::Store(QObject *parent) : QObject(parent), d(std::make_unique<Private>()) { d->q = this; }

Store::~Store() { close(); }

bool Store::open(const QString &path, QString *error)
{
    auto report = [&](const QString &message) {
        const QString full = QStringLiteral("cannot open the database %1: %2").arg(QDir::toNativeSeparators(path), message);
        qCWarning(lcStore).noquote() << full;
        if (error)
            *error = full;
        return false;
    };
    if (d->open)
        return report(QStringLiteral("this store is already open (%1)").arg(QDir::toNativeSeparators(d->path)));
    auto fail = [&](const QString &message) {
        d->closeConnections();
        return report(message);
    };
    if (path.isEmpty())
        return fail(QStringLiteral("no path given"));

    const QFileInfo info(path);
    if (info.isDir())
        return fail(QStringLiteral("it is a directory"));
    if (!QDir().mkpath(info.absolutePath()))
        return fail(QStringLiteral("cannot create the directory %1").arg(QDir::toNativeSeparators(info.absolutePath())));

    // The WAL and its index are files next to the database: the folder must be writable too.
    if (!QFileInfo(info.absolutePath()).isWritable())
        return fail(QStringLiteral("the data folder %1 is read-only: Gatehouse must be able to write its request log "
                                   "there. Make it writable or choose another folder with --data-dir.")
                        .arg(QDir::toNativeSeparators(info.absolutePath())));
    QString why;
    d->readDb = sqlite::open(path, sqlite::Access::ReadWriteCreate, kBusyTimeoutMs, &why);
    if (!d->readDb)
        return fail(why);
    // SQLite opens a file it cannot write read-only without an error; every write would then fail
    // with a message about the database, not about the folder the user can fix.
    if (sqlite3_db_readonly(d->readDb, "main") == 1)
        return fail(QStringLiteral("the data folder %1 (or the database file in it) is read-only: Gatehouse must be able to "
                                   "write its request log there. Make it writable or choose another folder with --data-dir.")
                        .arg(QDir::toNativeSeparators(info.absolutePath())));
    // The first read of the file: a file that is not SQLite (or is damaged) fails here.
    if (!exec(d->readDb, "SELECT count(*) FROM sqlite_schema", &why))
        return fail(QStringLiteral("not a readable SQLite database (%1)").arg(why));

    // WAL: readers never block the writer and a commit is one append to the log. NORMAL sync in WAL
    // mode keeps every committed transaction across a crash of the process (a power cut may lose the
    // last ones, never corrupt the file).
    {
        Statement wal(d->readDb, "PRAGMA journal_mode = WAL");
        if (wal.step() != SQLITE_ROW)
            return fail(QStringLiteral("cannot switch to WAL mode (%1)").arg(wal.error()));
        if (wal.text(0).compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
            qCWarning(lcStore) << "the file system does not support WAL mode; journal mode is" << wal.text(0);
    }
    if (!exec(d->readDb, "PRAGMA synchronous = NORMAL", &why) || !exec(d->readDb, "PRAGMA foreign_keys = ON", &why))
        return fail(why);
    if (!store::migrate(d->readDb, &why))
        return fail(why);

    d->writeDb = sqlite::open(path, sqlite::Access::ReadWriteCreate, kBusyTimeoutMs, &why);
    if (!d->writeDb)
        return fail(why);
    sqlite3_busy_timeout(d->writeDb, kWriterBusyTimeoutMs);
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
    if (!d->recoverPending(&why))
        return fail(QStringLiteral("cannot recover the requests of the last run: %1").arg(why));

    d->path = path;
    {
        std::lock_guard lock(d->queueMutex);
        d->queue.clear();
        d->enqueued = d->processed = 0;
        d->writing = 0;
        d->urgent = 0;
        d->failing = d->lastFailing = false;
        d->failure.clear();
        d->full = false;
        // The bound of rows waiting in memory while the log cannot be written; GATEHOUSE_LOG_BUFFER_ROWS
        // overrides it (tests fill it with a few hundred requests).
        bool ok = false;
        const int rows = qEnvironmentVariableIntValue("GATEHOUSE_LOG_BUFFER_ROWS", &ok);
        d->capacity = ok && rows > 0 ? rows : kDefaultBufferRows;
        d->flushWaiters = 0;
        d->stopping = false;
        d->accepting = true;
    }
    d->writer = std::thread([this] { d->runWriter(); });
    d->open = true;
    qCInfo(lcStore).noquote() << "opened" << QDir::toNativeSeparators(path) << "schema version" << schemaVersion();
    return true;
}

void Store::close()
{
    if (!d->open.exchange(false))
        return;
    {
        std::lock_guard lock(d->queueMutex);
        d->accepting = false;
        d->stopping = true;
    }
    d->queueChanged.notify_all();
    if (d->writer.joinable())
        d->writer.join();
    {
        // Wake anyone still in flush(): everything has been processed.
        std::lock_guard lock(d->queueMutex);
        d->processedChanged.notify_all();
    }
    d->closeConnections();
    qCInfo(lcStore).noquote() << "closed" << QDir::toNativeSeparators(d->path);
}

bool Store::isOpen() const { return d->open; }

QString Store::path() const { return d->path; }

int Store::schemaVersion() { return store::latestSchemaVersion(); }

void Store::setBatchWindowMs(int ms)
{
    {
        std::lock_guard lock(d->queueMutex);
        d->batchWindowMs = std::max(0, ms);
    }
    d->queueChanged.notify_all();
}

void Store::appendRequest(const RequestRecord &record, std::function<void()> onDurable)
{
    std::unique_lock lock(d->queueMutex);
    if (!d->accepting) {
        lock.unlock();
        qCWarning(lcStore) << "request" << record.id << "not logged: the store is not open";
        if (onDurable)
            onDurable();
        return;
    }
    if (d->queue.empty())
        d->firstQueuedAt = Clock::now();
    // While the log cannot be written, nobody waits for a commit that is not coming: the record
    // waits in memory and the caller goes on at once.
    const bool releaseNow = onDurable && d->failing;
    if (onDurable && !releaseNow)
        ++d->urgent;
    d->queue.push_back(Private::Entry{record, releaseNow ? std::function<void()>() : std::move(onDurable)});
    ++d->enqueued;
    const bool wake = d->queue.size() == 1 || d->queue.size() >= kMaxBatch || d->urgent == 1;
    const bool changed = d->updateHealth();
    lock.unlock();
    if (wake)
        d->queueChanged.notify_one();
    if (releaseNow)
        onDurable();
    if (changed)
        Q_EMIT logHealthChanged();
}

void Store::flush()
{
    std::unique_lock lock(d->queueMutex);
    if (!d->accepting || d->failing)
        return;
    const quint64 target = d->enqueued;
    if (d->processed >= target)
        return;
    ++d->flushWaiters;
    d->queueChanged.notify_one();
    d->processedChanged.wait(lock, [&] { return d->processed >= target || !d->accepting || d->failing; });
    --d->flushWaiters;
}

Store::LogHealth Store::logHealth() const
{
    std::lock_guard lock(d->queueMutex);
    LogHealth h;
    h.failing = d->failing;
    h.error = d->failure;
    h.waiting = int(d->queue.size() + d->writing);
    h.capacity = d->capacity;
    h.full = d->full;
    return h;
}

bool Store::isBufferFull() const { return d->full.load(std::memory_order_relaxed); }

void Store::setBufferCapacity(int rows)
{
    bool changed = false;
    {
        std::lock_guard lock(d->queueMutex);
        d->capacity = std::max(1, rows);
        changed = d->updateHealth();
    }
    if (changed)
        Q_EMIT logHealthChanged();
}

// --- reads ---

std::optional<RequestRecord> Store::request(const QString &id) const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return std::nullopt;
    Statement s(d->readDb, QByteArray("SELECT ") + store::kRequestColumns + " FROM requests WHERE id = ?1");
    s.bindText(1, id);
    const int rc = s.step();
    if (rc == SQLITE_ROW) {
        RequestRecord r = store::readRequest(s);
        r.attemptLog = d->readAttempts(id);
        return r;
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading request" << id << "failed:" << s.error();
    return std::nullopt;
}

QList<AttemptRecord> Store::attempts(const QString &requestId) const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return {};
    return d->readAttempts(requestId);
}

qint64 Store::requestCount() const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return 0;
    Statement s(d->readDb, "SELECT count(*) FROM requests");
    if (s.step() != SQLITE_ROW) {
        qCWarning(lcStore) << "counting requests failed:" << s.error();
        return 0;
    }
    return s.integer(0);
}

QList<RequestRecord> Store::recentRequests(int limit, int offset) const
{
    QList<RequestRecord> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb || limit <= 0)
        return out;
    Statement s(d->readDb, QByteArray("SELECT ") + store::kRequestColumns
                               + " FROM requests ORDER BY started_at_ms DESC, seq DESC LIMIT ?1 OFFSET ?2");
    s.bindInt(1, limit);
    s.bindInt(2, std::max(0, offset));
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.append(store::readRequest(s));
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading recent requests failed:" << s.error();
    return out;
}

NanoUsd Store::spendSince(qint64 keyId, qint64 sinceMs) const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return 0;
    // SUM skips NULL (unpriced) costs.
    Statement s(d->readDb, "SELECT COALESCE(SUM(cost_nano_usd), 0) FROM requests WHERE key_id = ?1 AND started_at_ms >= ?2");
    s.bindInt(1, keyId);
    s.bindInt(2, sinceMs);
    if (s.step() != SQLITE_ROW) {
        qCWarning(lcStore) << "summing the spend of key" << keyId << "failed:" << s.error();
        return 0;
    }
    return s.integer(0);
}

QStringList Store::logTables()
{
    return {QStringLiteral("requests"), QStringLiteral("attempts"), QStringLiteral("prompt_prefixes"),
            QStringLiteral("rollups"), QStringLiteral("rollup_latency")};
}

QStringList Store::keptTables()
{
    // pending_requests: the rows of streams still in flight. Their final rows come after the clear
    // (and delete them); deleting them here would lose the charge of one answered when the process dies.
    // latency_buckets: the histogram bounds, fixed data of migration 4.
    return {QStringLiteral("keys"), QStringLiteral("providers"), QStringLiteral("models"), QStringLiteral("settings"),
            QStringLiteral("routes"), QStringLiteral("votes"), QStringLiteral("conversations"),
            QStringLiteral("messages"), QStringLiteral("latency_buckets"), QStringLiteral("pending_requests")};
}

bool Store::clearLog(QString *error)
{
    auto failed = [&](const QString &why) {
        qCWarning(lcStore) << "clearing the request log failed:" << why;
        if (error)
            *error = why;
        return false;
    };
    if (!d->open)
        return failed(QStringLiteral("the store is not open"));
    flush(); // rows still queued are deleted too
    // A connection of its own: the control-plane one (and its mutex) stays free for the window while
    // a large log is deleted.
    QString why;
    sqlite3 *db = sqlite::open(d->path, sqlite::Access::ReadWrite, 10'000, &why);
    if (!db)
        return failed(why);
    // Everything that belongs to the log goes with it, in one transaction. The per-row delete
    // trigger of migration 4 would make this take minutes on a large log, and the rollups are
    // emptied anyway: it is dropped for the delete and put back as it was.
    QByteArray trigger;
    {
        Statement s(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'requests_rollup_delete'");
        if (s.next())
            trigger = s.text(0).toUtf8();
    }
    QByteArray sql = "BEGIN IMMEDIATE;";
    if (!trigger.isEmpty())
        sql += "DROP TRIGGER requests_rollup_delete;";
    for (const QString &table : logTables())
        sql += "DELETE FROM " + table.toUtf8() + ';';
    if (!trigger.isEmpty())
        sql += trigger + ';';
    sql += "COMMIT;";
    const bool ok = exec(db, sql.constData(), &why);
    if (!ok)
        exec(db, "ROLLBACK");
    sqlite::close(db);
    if (!ok)
        return failed(why);
    qCInfo(lcStore) << "the request log was cleared";
    return true;
}

// --- keys ---

namespace {

constexpr const char *kKeyColumns = "id, name, secret_hash, secret_hint, allow_models, limit_day, limit_week, limit_month, "
                                    "limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, on_short_budget, "
                                    "min_output_tokens";

// A row that cannot be read back exactly (a damaged allow-list, a hash of the wrong size) is left out:
// an unreadable allow-list must not turn into "every model allowed".
std::optional<StoredKey> readKey(const Statement &s)
{
    StoredKey k;
    k.id = s.integer(0);
    k.name = s.text(1);
    k.secretHash = s.blob(2);
    k.secretHint = s.text(3);
    QJsonParseError parseError;
    const QJsonDocument allow = QJsonDocument::fromJson(s.text(4).toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !allow.isArray()) {
        qCWarning(lcStore) << "key" << k.name << "ignored: its model allow-list is not a JSON array";
        return std::nullopt;
    }
    for (const QJsonValue &v : allow.array()) {
        if (!v.isString()) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its model allow-list holds a non-string";
            return std::nullopt;
        }
        k.allowModels.append(v.toString());
    }
    if (k.secretHash.size() != 32) {
        qCWarning(lcStore) << "key" << k.name << "ignored: its stored hash is not 32 bytes";
        return std::nullopt;
    }
    k.limits.dayUsd = s.optReal(5);
    k.limits.weekUsd = s.optReal(6);
    k.limits.monthUsd = s.optReal(7);
    k.limits.totalUsd = s.optReal(8);
    k.allowUnpriced = s.boolean(9);
    k.paused = s.boolean(10);
    k.revoked = s.boolean(11);
    k.createdAtMs = s.integer(12);
    if (const auto rpm = s.optInteger(13)) {
        if (*rpm < 1 || *rpm > std::numeric_limits<int>::max()) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its rpm" << *rpm << "is out of range";
            return std::nullopt; // a broken limit must not turn into "no limit"
        }
        k.rpm = int(*rpm);
    }
    if (const auto tpm = s.optInteger(14)) {
        if (*tpm < 1) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its tpm" << *tpm << "is out of range";
            return std::nullopt;
        }
        k.tpm = *tpm;
    }
    // An unreadable policy falls back to refusing: never a clamp the user did not ask for.
    const auto policy = shortBudgetFromName(s.text(15));
    k.budget.onShortBudget = policy.value_or(ShortBudget::Refuse);
    const qint64 minOutput = s.integer(16);
    k.budget.minOutputTokens = minOutput >= 1 && minOutput <= BudgetPolicy::kMaxMinOutputTokens ? minOutput : BudgetPolicy{}.minOutputTokens;
    if (!policy)
        qCWarning(lcStore) << "key" << k.name << "has an unknown on_short_budget; treated as refuse";
    return k;
}

} // namespace

QList<StoredKey> Store::keys() const
{
    QList<StoredKey> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return out;
    Statement s(d->readDb, QByteArray("SELECT ") + kKeyColumns + " FROM keys ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        if (auto k = readKey(s))
            out.append(*k);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading keys failed:" << s.error();
    return out;
}

std::optional<StoredKey> Store::keyByName(const QString &name) const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return std::nullopt;
    Statement s(d->readDb, QByteArray("SELECT ") + kKeyColumns + " FROM keys WHERE name = ?1");
    s.bindText(1, name);
    const int rc = s.step();
    if (rc == SQLITE_ROW)
        return readKey(s);
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading key" << name << "failed:" << s.error();
    return std::nullopt;
}

qint64 Store::saveKey(const StoredKey &key)
{
    if (key.name.trimmed().isEmpty()) {
        qCWarning(lcStore) << "key not saved: empty name";
        return 0;
    }
    if (key.secretHash.size() != 32) {
        qCWarning(lcStore) << "key" << key.name << "not saved: the secret hash must be 32 bytes of SHA-256";
        return 0;
    }
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return 0;
    const bool insert = key.id == 0;
    Statement s(d->readDb,
                insert ? "INSERT INTO keys (name, secret_hash, secret_hint, allow_models, limit_day, limit_week, limit_month, "
                         "limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, on_short_budget, "
                         "min_output_tokens) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14, ?15, ?16, ?17)"
                       : "UPDATE keys SET name = ?1, secret_hash = ?2, secret_hint = ?3, allow_models = ?4, limit_day = ?5, "
                         "limit_week = ?6, limit_month = ?7, limit_total = ?8, allow_unpriced = ?9, paused = ?10, "
                         "revoked = ?11, created_at_ms = ?12, rpm = ?14, tpm = ?15, on_short_budget = ?16, "
                         "min_output_tokens = ?17 WHERE id = ?13");
    s.bindText(1, key.name);
    s.bindBlob(2, key.secretHash);
    s.bindText(3, key.secretHint);
    s.bindText(4, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(key.allowModels)).toJson(QJsonDocument::Compact)));
    s.bindReal(5, key.limits.dayUsd);
    s.bindReal(6, key.limits.weekUsd);
    s.bindReal(7, key.limits.monthUsd);
    s.bindReal(8, key.limits.totalUsd);
    s.bindBool(9, key.allowUnpriced);
    s.bindBool(10, key.paused);
    s.bindBool(11, key.revoked);
    s.bindInt(12, key.createdAtMs);
    if (!insert)
        s.bindInt(13, key.id);
    s.bindOptInt(14, key.rpm ? std::optional<qint64>(*key.rpm) : std::nullopt);
    s.bindOptInt(15, key.tpm);
    s.bindText(16, shortBudgetName(key.budget.onShortBudget));
    s.bindInt(17, key.budget.minOutputTokens);
    if (!s.exec()) {
        qCWarning(lcStore) << "key" << key.name << "not saved:" << s.error();
        return 0;
    }
    if (insert)
        return sqlite3_last_insert_rowid(d->readDb);
    if (sqlite3_changes(d->readDb) != 1) {
        qCWarning(lcStore) << "key" << key.name << "not saved: no key with id" << key.id;
        return 0;
    }
    return key.id;
}

// --- providers and models ---

QList<ProviderConfig> Store::providers() const
{
    QList<ProviderConfig> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return out;
    Statement s(d->readDb, "SELECT id, format, base_url, api_key_env, catalog, enabled, rpm, tpm FROM providers ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        ProviderConfig p;
        p.id = s.text(0);
        const auto format = formatFromDb(s.text(1));
        if (!format) {
            qCWarning(lcStore) << "provider" << p.id << "ignored: unknown format" << s.text(1);
            continue;
        }
        p.format = *format;
        p.baseUrl = QUrl(s.text(2));
        p.apiKeyEnv = s.text(3);
        p.catalog = s.text(4);
        p.enabled = s.boolean(5);
        if (const auto rpm = s.optInteger(6); rpm && *rpm >= 1 && *rpm <= std::numeric_limits<int>::max())
            p.rpm = int(*rpm);
        else if (rpm)
            qCWarning(lcStore) << "provider" << p.id << ": its rpm" << *rpm << "is out of range; no limit";
        if (const auto tpm = s.optInteger(7); tpm && *tpm >= 1)
            p.tpm = *tpm;
        else if (tpm)
            qCWarning(lcStore) << "provider" << p.id << ": its tpm" << *tpm << "is out of range; no limit";
        out.append(p);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading providers failed:" << s.error();
    return out;
}

bool Store::saveProvider(const ProviderConfig &provider)
{
    if (provider.id.isEmpty()) {
        qCWarning(lcStore) << "provider not saved: empty id";
        return false;
    }
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    Statement s(d->readDb, "INSERT INTO providers (id, format, base_url, api_key_env, catalog, enabled, rpm, tpm) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET format = excluded.format, "
                           "base_url = excluded.base_url, api_key_env = excluded.api_key_env, "
                           "catalog = excluded.catalog, enabled = excluded.enabled, rpm = excluded.rpm, tpm = excluded.tpm");
    s.bindText(1, provider.id);
    s.bindText(2, formatToDb(provider.format));
    s.bindText(3, provider.baseUrl.toString(QUrl::FullyEncoded));
    s.bindText(4, provider.apiKeyEnv);
    s.bindText(5, provider.catalog);
    s.bindBool(6, provider.enabled);
    s.bindOptInt(7, provider.rpm ? std::optional<qint64>(*provider.rpm) : std::nullopt);
    s.bindOptInt(8, provider.tpm);
    if (!s.exec()) {
        qCWarning(lcStore) << "provider" << provider.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool Store::removeProvider(const QString &id)
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    Statement s(d->readDb, "DELETE FROM providers WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "provider" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(d->readDb) > 0;
}

QList<ModelConfig> Store::models() const
{
    QList<ModelConfig> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return out;
    Statement s(d->readDb, "SELECT id, provider, upstream_model, price_input, price_output, price_cache_read, "
                           "price_cache_write, price_cache_write_1h, context_window, max_output_tokens, from_catalog, "
                           "capabilities FROM models ORDER BY id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        ModelConfig m;
        m.id = s.text(0);
        m.provider = s.text(1);
        m.upstreamModel = s.text(2);
        m.price.input = s.optReal(3);
        m.price.output = s.optReal(4);
        m.price.cacheRead = s.optReal(5);
        m.price.cacheWrite = s.optReal(6);
        m.price.cacheWrite1h = s.optReal(7);
        m.contextWindow = s.integer(8);
        m.maxOutputTokens = s.integer(9);
        m.fromCatalog = s.boolean(10);
        if (!s.isNull(11)) {
            // Unreadable capabilities are unknown ones: the model is then assumed to serve anything.
            QJsonParseError parseError;
            const QJsonDocument doc = QJsonDocument::fromJson(s.text(11).toUtf8(), &parseError);
            QStringList capabilities;
            bool ok = parseError.error == QJsonParseError::NoError && doc.isArray();
            for (const QJsonValue &v : doc.array()) {
                ok = ok && v.isString();
                capabilities.append(v.toString());
            }
            if (ok)
                m.capabilities = capabilities;
            else
                qCWarning(lcStore) << "model" << m.id << ": its capabilities are not a JSON array of strings; unknown";
        }
        out.append(m);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading models failed:" << s.error();
    return out;
}

bool Store::saveModel(const ModelConfig &model)
{
    if (model.id.isEmpty()) {
        qCWarning(lcStore) << "model not saved: empty id";
        return false;
    }
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    Statement s(d->readDb,
                "INSERT INTO models (id, provider, upstream_model, price_input, price_output, price_cache_read, "
                "price_cache_write, price_cache_write_1h, context_window, max_output_tokens, from_catalog, capabilities) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE SET "
                "provider = excluded.provider, upstream_model = excluded.upstream_model, price_input = excluded.price_input, "
                "price_output = excluded.price_output, price_cache_read = excluded.price_cache_read, "
                "price_cache_write = excluded.price_cache_write, price_cache_write_1h = excluded.price_cache_write_1h, "
                "context_window = excluded.context_window, max_output_tokens = excluded.max_output_tokens, "
                "from_catalog = excluded.from_catalog, capabilities = excluded.capabilities");
    s.bindText(1, model.id);
    s.bindText(2, model.provider);
    s.bindText(3, model.upstreamModel);
    s.bindReal(4, model.price.input);
    s.bindReal(5, model.price.output);
    s.bindReal(6, model.price.cacheRead);
    s.bindReal(7, model.price.cacheWrite);
    s.bindReal(8, model.price.cacheWrite1h);
    s.bindInt(9, model.contextWindow);
    s.bindInt(10, model.maxOutputTokens);
    s.bindBool(11, model.fromCatalog);
    if (model.capabilities)
        s.bindText(12, QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(*model.capabilities)).toJson(QJsonDocument::Compact)));
    else
        s.bindNull(12);
    if (!s.exec()) {
        qCWarning(lcStore) << "model" << model.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool Store::removeModel(const QString &id)
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    Statement s(d->readDb, "DELETE FROM models WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "model" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(d->readDb) > 0;
}

// --- routes ---

namespace {

QString routeTargetsToJson(const QList<RouteTarget> &targets)
{
    QJsonArray list;
    for (const RouteTarget &t : targets)
        list.append(QJsonObject{{QStringLiteral("model"), t.model}, {QStringLiteral("weight"), t.weight}});
    return QString::fromUtf8(QJsonDocument(list).toJson(QJsonDocument::Compact));
}

std::optional<QList<RouteTarget>> routeTargetsFromJson(const QString &text)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray())
        return std::nullopt;
    QList<RouteTarget> out;
    for (const QJsonValue &v : doc.array()) {
        const QJsonObject o = v.toObject();
        const QJsonValue model = o.value(QStringLiteral("model"));
        const QJsonValue weight = o.value(QStringLiteral("weight"));
        if (!v.isObject() || !model.isString() || model.toString().isEmpty() || !weight.isDouble())
            return std::nullopt;
        const double w = weight.toDouble();
        if (std::floor(w) != w || w < 0 || w > 1000)
            return std::nullopt;
        out.append(RouteTarget{model.toString(), int(w)});
    }
    return out;
}

} // namespace

QList<RouteConfig> Store::routes() const
{
    QList<RouteConfig> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return out;
    Statement s(d->readDb, "SELECT id, strategy, targets FROM routes ORDER BY position, id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        RouteConfig r;
        r.id = s.text(0);
        const auto strategy = strategyFromName(s.text(1));
        if (!strategy) {
            qCWarning(lcStore) << "route" << r.id << "ignored: unknown strategy" << s.text(1);
            continue;
        }
        r.strategy = *strategy;
        auto targets = routeTargetsFromJson(s.text(2));
        if (!targets) {
            qCWarning(lcStore) << "route" << r.id << "ignored: its targets are not a JSON array of {model, weight}";
            continue;
        }
        r.targets = std::move(*targets);
        out.append(r);
    }
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading routes failed:" << s.error();
    return out;
}

bool Store::saveRoute(const RouteConfig &route)
{
    if (route.id.isEmpty()) {
        qCWarning(lcStore) << "route not saved: empty id";
        return false;
    }
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    // A new route goes last; an updated one keeps its place.
    Statement s(d->readDb, "INSERT INTO routes (id, strategy, targets, position) "
                           "VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position), -1) + 1 FROM routes)) "
                           "ON CONFLICT (id) DO UPDATE SET strategy = excluded.strategy, targets = excluded.targets");
    s.bindText(1, route.id);
    s.bindText(2, strategyName(route.strategy));
    s.bindText(3, routeTargetsToJson(route.targets));
    if (!s.exec()) {
        qCWarning(lcStore) << "route" << route.id << "not saved:" << s.error();
        return false;
    }
    return true;
}

bool Store::removeRoute(const QString &id)
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    Statement s(d->readDb, "DELETE FROM routes WHERE id = ?1");
    s.bindText(1, id);
    if (!s.exec()) {
        qCWarning(lcStore) << "route" << id << "not removed:" << s.error();
        return false;
    }
    return sqlite3_changes(d->readDb) > 0;
}

// --- Compare votes ---

bool Store::saveRoundVotes(const QString &roundId, const QList<Vote> &votes)
{
    if (roundId.isEmpty()) {
        qCWarning(lcStore) << "votes not saved: empty round id";
        return false;
    }
    for (const Vote &v : votes) {
        if (v.modelId.isEmpty() || v.result < -1 || v.result > 1) {
            qCWarning(lcStore) << "votes of round" << roundId << "not saved: a vote has no model or a result other than -1, 0, 1";
            return false;
        }
    }
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return false;
    QString why;
    if (!exec(d->readDb, "BEGIN IMMEDIATE", &why)) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << why;
        return false;
    }
    auto rollback = [&](const QString &error) {
        qCWarning(lcStore) << "votes of round" << roundId << "not saved:" << error;
        exec(d->readDb, "ROLLBACK");
        return false;
    };
    {
        Statement del(d->readDb, "DELETE FROM votes WHERE round_id = ?1");
        del.bindText(1, roundId);
        if (!del.exec())
            return rollback(del.error());
        Statement ins(d->readDb, "INSERT INTO votes (round_id, model_id, result, created_at_ms) VALUES (?1, ?2, ?3, ?4)");
        for (const Vote &v : votes) {
            ins.bindText(1, roundId);
            ins.bindText(2, v.modelId);
            ins.bindInt(3, v.result);
            ins.bindInt(4, v.createdAtMs);
            const bool ok = ins.exec(); // a model twice in one round fails here
            const QString error = ok ? QString() : ins.error();
            ins.reset();
            if (!ok)
                return rollback(error);
        }
    }
    if (!exec(d->readDb, "COMMIT", &why))
        return rollback(why);
    return true;
}

QHash<QString, VoteStats> Store::voteStats() const
{
    QHash<QString, VoteStats> out;
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return out;
    Statement s(d->readDb, "SELECT model_id, count(*), COALESCE(SUM(result = 1), 0), COALESCE(SUM(result = -1), 0) "
                           "FROM votes WHERE result BETWEEN -1 AND 1 GROUP BY model_id");
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out.insert(s.text(0), VoteStats{int(s.integer(1)), int(s.integer(2)), int(s.integer(3))});
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading vote statistics failed:" << s.error();
    return out;
}

// --- settings ---

QString Store::setting(const QString &key, const QString &fallback) const
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb)
        return fallback;
    Statement s(d->readDb, "SELECT value FROM settings WHERE key = ?1");
    s.bindText(1, key);
    const int rc = s.step();
    if (rc == SQLITE_ROW)
        return s.text(0);
    if (rc != SQLITE_DONE)
        qCWarning(lcStore) << "reading setting" << key << "failed:" << s.error();
    return fallback;
}

void Store::setSetting(const QString &key, const QString &value)
{
    std::lock_guard lock(d->readMutex);
    if (!d->readDb) {
        qCWarning(lcStore) << "setting" << key << "not saved: the store is not open";
        return;
    }
    Statement s(d->readDb, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    s.bindText(1, key);
    s.bindText(2, value);
    if (!s.exec())
        qCWarning(lcStore) << "setting" << key << "not saved:" << s.error();
}

} // namespace gh
