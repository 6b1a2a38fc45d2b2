#include "store/batchedlogwriter.h"
#include "core/logging.h"
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace gh {

namespace {

using Clock = std::chrono::steady_clock;

// A batch is written at once, without waiting for the rest of the window, once this many are queued.
constexpr std::size_t kMaxBatch = 4'096;
// A batch that cannot be written (disk full, read-only, database locked, server unreachable) goes back
// to the front of the queue and is retried, with the delay doubling from the first to the last value.
// It is never dropped while the store is open; at close() it is retried for kCloseGiveUp, then dropped
// with a critical log line rather than blocking shutdown forever.
constexpr auto kRetryDelayFirst = std::chrono::milliseconds(100);
constexpr auto kRetryDelayLast = std::chrono::milliseconds(2'000);
constexpr auto kCloseGiveUp = std::chrono::seconds(5);
// Rows that may wait in memory while the log cannot be written before the gateway stops admitting
// metered requests (Store::isBufferFull()). A row is about 1 KiB with its attempts and prompt block
// hashes: the default is about 20 MiB.
constexpr int kDefaultBufferRows = 20'000;

} // namespace

struct BatchedLogWriter::Impl {
    Events events;

    Sink *sink = nullptr; // the back-end's, used only by the writer thread
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
    // For the journals (RequestJournal::LogProgress): records accepted and records committed since
    // the process started; never reset, never counting records given up on.
    std::atomic<quint64> acceptedTotal{0};
    std::atomic<quint64> committedTotal{0};
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

    // The writer's retry state while batches fail.
    struct Retry {
        std::chrono::milliseconds delay = kRetryDelayFirst;
        Clock::time_point giveUpAt{}; // stopping while the log cannot be written: when to drop
        bool givingUp = false;
    };

    void runWriter();
    // The steps of runWriter, each called with queueMutex held.
    void waitForBatchWindow(std::unique_lock<std::mutex> &lock);
    // Moves the queue into a batch (and the callbacks waiting for its commit into *waiting).
    std::vector<RequestRecord> takeQueue(std::vector<std::function<void()>> *waiting);
    void settleWritten(std::size_t count, Retry &retry);
    // Puts a failed batch back at the front of the queue; true when, stopping past kCloseGiveUp,
    // the queue was dropped instead.
    bool requeueFailed(std::vector<RequestRecord> &batch, const QString &error, Retry &retry,
                       std::vector<std::function<void()>> *alsoWaiting);
};

void BatchedLogWriter::Impl::runWriter()
{
    std::unique_lock lock(queueMutex);
    Retry retry;
    for (;;) {
        queueChanged.wait(lock, [this] { return !queue.empty() || stopping; });
        if (queue.empty())
            break; // stopping with nothing left
        waitForBatchWindow(lock);

        std::vector<std::function<void()>> waiting;
        std::vector<RequestRecord> batch = takeQueue(&waiting);
        lock.unlock(); // appendRequest() never waits for the disk

        int written = 0;
        QString error;
        const bool ok = sink->writeBatch(batch, &written, &error);
        // Committed, or (failed) kept in memory and retried: either way the held responses go out
        // now. While the log cannot be written, an answered request is only in memory: the window
        // says so, and new metered requests are refused once the buffer is full.
        for (const auto &release : waiting)
            release();

        lock.lock();
        writing = 0;
        bool dropped = false;
        std::vector<std::function<void()>> alsoWaiting; // queued meanwhile, for a commit not coming
        if (ok)
            settleWritten(batch.size(), retry);
        else
            dropped = requeueFailed(batch, error, retry, &alsoWaiting);
        const bool changed = updateHealth();
        processedChanged.notify_all();
        lock.unlock();
        for (const auto &release : alsoWaiting)
            release();
        if (written > 0)
            events.committed(written);
        if (changed)
            events.healthChanged();
        lock.lock();
        if (!ok && !dropped) {
            queueChanged.wait_for(lock, retry.delay);
            retry.delay = std::min<std::chrono::milliseconds>(retry.delay * 2, kRetryDelayLast);
        }
    }
}

void BatchedLogWriter::Impl::waitForBatchWindow(std::unique_lock<std::mutex> &lock)
{
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
}

std::vector<RequestRecord> BatchedLogWriter::Impl::takeQueue(std::vector<std::function<void()>> *waiting)
{
    std::vector<RequestRecord> batch;
    batch.reserve(queue.size());
    for (Entry &e : queue) {
        batch.push_back(std::move(e.record));
        if (e.onDurable)
            waiting->push_back(std::move(e.onDurable));
    }
    queue.clear();
    urgent = 0;
    writing = batch.size();
    return batch;
}

void BatchedLogWriter::Impl::settleWritten(std::size_t count, Retry &retry)
{
    processed += count;
    committedTotal += count;
    retry.delay = kRetryDelayFirst;
    retry.givingUp = false;
    if (failing) {
        failing = false;
        failure.clear();
        qCInfo(lcStore) << "the request log is written again;" << count << "waiting requests saved";
    }
}

bool BatchedLogWriter::Impl::requeueFailed(std::vector<RequestRecord> &batch, const QString &error, Retry &retry,
                                           std::vector<std::function<void()>> *alsoWaiting)
{
    for (Entry &e : queue) {
        if (e.onDurable)
            alsoWaiting->push_back(std::exchange(e.onDurable, {}));
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
    if (!stopping)
        return false;
    if (!retry.givingUp) {
        retry.givingUp = true;
        retry.giveUpAt = Clock::now() + kCloseGiveUp;
    }
    if (Clock::now() < retry.giveUpAt)
        return false;
    qCCritical(lcStore) << "closing: dropped" << queue.size() << "requests from the log:" << error;
    processed += queue.size();
    queue.clear();
    return true;
}

BatchedLogWriter::BatchedLogWriter(Events events) : d(std::make_unique<Impl>())
{
    d->events = std::move(events);
}

BatchedLogWriter::~BatchedLogWriter() { stop(); }

bool BatchedLogWriter::running() const { return d->open.load(); }

void BatchedLogWriter::start(Sink *sink)
{
    stop();
    {
        std::lock_guard lock(d->queueMutex);
        d->sink = sink;
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
}

void BatchedLogWriter::stop()
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
}

void BatchedLogWriter::setBatchWindowMs(int ms)
{
    {
        std::lock_guard lock(d->queueMutex);
        d->batchWindowMs = std::max(0, ms);
    }
    d->queueChanged.notify_all();
}

void BatchedLogWriter::append(const RequestRecord &record, std::function<void()> onDurable)
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
    d->queue.push_back(Impl::Entry{record, releaseNow ? std::function<void()>() : std::move(onDurable)});
    ++d->enqueued;
    ++d->acceptedTotal;
    const bool wake = d->queue.size() == 1 || d->queue.size() >= kMaxBatch || d->urgent == 1;
    const bool changed = d->updateHealth();
    lock.unlock();
    if (wake)
        d->queueChanged.notify_one();
    if (releaseNow)
        onDurable();
    if (changed)
        d->events.healthChanged();
}

quint64 BatchedLogWriter::acceptedCount() const { return d->acceptedTotal.load(); }

quint64 BatchedLogWriter::committedCount() const { return d->committedTotal.load(); }

void BatchedLogWriter::flush()
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

LogHealth BatchedLogWriter::health() const
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

bool BatchedLogWriter::isBufferFull() const { return d->full.load(std::memory_order_relaxed); }

void BatchedLogWriter::setBufferCapacity(int rows)
{
    bool changed = false;
    {
        std::lock_guard lock(d->queueMutex);
        d->capacity = std::max(1, rows);
        changed = d->updateHealth();
    }
    if (changed)
        d->events.healthChanged();
}

} // namespace gh
