// The request-log writer's throughput for rows shaped like the gateway's own: what each part of a
// logged request costs the writer thread (BENCHMARKS.md, "Routing (issue 5)").
//   writer_bench [ROWS]   (default 200,000; WB_RANDOM_IDS=1: wholly random request ids)
//   WB_BATCH=7,64,256 writer_bench [ROWS]
//                         fixed batches instead (BENCHMARKS.md, issue 19, seventh session): each
//                         variant written in batches of exactly B rows (B appends, then flush()), and
//                         the writer thread's CPU time per row besides rows/s. The writer's cost per row
//                         follows the batch size (a commit and a batch's rollup upserts are shared by
//                         its rows), so compare figures only at the same B. WB_VARIANT=both (or
//                         request, attempt, blocks) runs one variant, for callgrind:
//   WB_BATCH=64 WB_VARIANT=both valgrind --tool=callgrind \
//     --toggle-collect='gh::SqliteLogWriter::Impl::writeBatch(std::vector*' writer_bench 20000
//                         (instructions of the writer's batches only; divide by ROWS). WB_KEYS=N: rows
//                         of N keys (default 4).
// Variants, each into a fresh database: the bare request row; with one attempt row (what a request
// served by its first target logs); with the prompt's block hashes (prompt_prefixes); with both. Rows fall within the last minutes, like live traffic.
#include "store/store.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <algorithm>
#include <ctime>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

using namespace gh;

namespace {

RequestRecord row(int i, qint64 now, bool attempt, bool blocks)
{
    RequestRecord r;
    // Ids shaped like the gateway's: arrival time in ms (9 base-36 digits), then random digits. With
    // WB_RANDOM_IDS=1, wholly random ids, as the gateway made them before (the unique index's cost).
    static const bool randomIds = qEnvironmentVariableIntValue("WB_RANDOM_IDS") == 1;
    const quint64 noise = quint64(i) * 2654435761u % 1000000007u;
    r.id = randomIds ? QStringLiteral("req_%1").arg(noise, 20, 36, QLatin1Char('0'))
                     : QStringLiteral("req_%1%2").arg(quint64(now + i / 10), 9, 36, QLatin1Char('0')).arg(noise, 11, 36, QLatin1Char('0'));
    r.startedAtMs = now + i / 10;
    // Four keys by default; WB_KEYS=1 is the one key of bench/run.sh and callgrind_request.sh (a batch's
    // rollup upserts and prompt-prefix trims are per key).
    static const int keys = std::max(1, qEnvironmentVariableIntValue("WB_KEYS") ?: 4);
    r.keyId = 1 + i % keys;
    r.keyName = QStringLiteral("key%1").arg(r.keyId);
    r.endpoint = QStringLiteral("/v1/chat/completions");
    r.requestedModel = QStringLiteral("mock/bench-model");
    r.modelId = r.requestedModel;
    r.provider = QStringLiteral("mock");
    r.upstreamModel = QStringLiteral("bench-model");
    r.status = 200;
    r.latencyMs = 2;
    r.ttftMs = 1;
    r.usage.inputTokens = 700;
    r.usage.outputTokens = 12;
    r.usage.reported = true;
    r.cost = 300'000;
    r.attempts = 1;
    if (attempt) {
        AttemptRecord a;
        a.index = 1;
        a.modelId = r.modelId;
        a.provider = r.provider;
        a.outcome = AttemptRecord::Outcome::Ok;
        a.status = 200;
        a.startedAtMs = r.startedAtMs;
        a.latencyMs = 2;
        r.attemptLog = {a};
    }
    if (blocks) {
        r.promptBlocks = {quint64(i) * 11, quint64(i) * 13};
        r.promptSystemBytes = 100;
    }
    return r;
}

// CPU time of the process and of the calling thread, in ns: their difference is the store's threads
// (the log writer; nothing else runs while it writes).
qint64 cpuNs(clockid_t clock)
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Variant {
    const char *name;
    const char *tag; // WB_VARIANT
    bool attempt;
    bool blocks;
};
constexpr Variant kVariants[] = {
    {"request row only", "request", false, false},
    {"+ one attempt row", "attempt", true, false},
    {"+ prompt block hashes", "blocks", false, true},
    {"+ both", "both", true, true},
};

// WB_BATCH: every variant (or WB_VARIANT's) in batches of exactly B rows, for each B listed.
int fixedBatches(const QByteArray &batches, int rows, const QString &dirPath, qint64 now)
{
    const QByteArray only = qgetenv("WB_VARIANT");
    std::printf("| rows shaped like | batch | rows/s | writer CPU us / row |\n|---|---:|---:|---:|\n");
    int run = 0;
    for (const QByteArray &b : batches.split(',')) {
        const int batch = std::clamp(b.trimmed().toInt(), 1, 4'096); // BatchedLogWriter's largest batch
        for (const Variant &v : kVariants) {
            if (!only.isEmpty() && only != v.tag)
                continue;
            Store store;
            QString error;
            if (!store.open(QDir(dirPath).filePath(QStringLiteral("batch%1.db").arg(++run)), &error)) {
                std::fprintf(stderr, "writer_bench: %s\n", qPrintable(error));
                return 1;
            }
            store.setBatchWindowMs(60'000); // the writer wakes only for flush(): batches of exactly `batch`
            std::vector<RequestRecord> records;
            records.reserve(std::size_t(rows));
            for (int i = 0; i < rows; ++i)
                records.push_back(row(i, now, v.attempt, v.blocks));
            QElapsedTimer t;
            t.start();
            const qint64 process0 = cpuNs(CLOCK_PROCESS_CPUTIME_ID);
            const qint64 self0 = cpuNs(CLOCK_THREAD_CPUTIME_ID);
            for (int i = 0; i < rows; ++i) {
                store.appendRequest(records[std::size_t(i)]);
                if ((i + 1) % batch == 0 || i + 1 == rows)
                    store.flush();
            }
            const qint64 writerNs = (cpuNs(CLOCK_PROCESS_CPUTIME_ID) - process0) - (cpuNs(CLOCK_THREAD_CPUTIME_ID) - self0);
            std::printf("| %s | %d | %.0f | %.2f |\n", v.name, batch, rows * 1000.0 / double(std::max<qint64>(1, t.elapsed())),
                        double(writerNs) / 1000.0 / rows);
            std::fflush(stdout);
            if (store.requestCount() != rows) {
                std::fprintf(stderr, "writer_bench: %lld rows logged, %d appended\n", qint64(store.requestCount()), rows);
                return 1;
            }
            store.close();
        }
    }
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int rows = argc > 1 ? std::max(1000, QByteArray(argv[1]).toInt()) : 200'000;
    QTemporaryDir dir;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (const QByteArray batches = qgetenv("WB_BATCH"); !batches.isEmpty())
        return fixedBatches(batches, rows, dir.path(), now);
    std::printf("| rows shaped like | rows/s |\n|---|---:|\n");
    for (const auto &v : kVariants) {
        Store store;
        QString error;
        const QString path = QDir(dir.path()).filePath(QString::fromLatin1(v.name).remove(u' ').remove(u'+') + QStringLiteral(".db"));
        if (!store.open(path, &error)) {
            std::fprintf(stderr, "writer_bench: %s\n", qPrintable(error));
            return 1;
        }
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < rows; ++i)
            store.appendRequest(row(i, now, v.attempt, v.blocks));
        store.flush();
        std::printf("| %s | %.0f |\n", v.name, rows * 1000.0 / double(std::max<qint64>(1, t.elapsed())));
        std::fflush(stdout);
        store.close();
    }

    // What a held response waits for: one row appended with onDurable at a time, from its append to
    // the callback (the writer's wake-up and one commit), as the gateway does for each response.
    {
        Store store;
        QString error;
        if (!store.open(QDir(dir.path()).filePath(QStringLiteral("held.db")), &error)) {
            std::fprintf(stderr, "writer_bench: %s\n", qPrintable(error));
            return 1;
        }
        const int n = std::min(rows, 5'000);
        std::vector<qint64> waits;
        waits.reserve(std::size_t(n));
        std::mutex mutex;
        std::condition_variable done;
        for (int i = 0; i < n; ++i) {
            bool committed = false;
            QElapsedTimer t;
            t.start();
            store.appendRequest(row(i, now, true, false), [&] {
                std::lock_guard lock(mutex);
                committed = true;
                done.notify_one();
            });
            std::unique_lock lock(mutex);
            done.wait(lock, [&] { return committed; });
            waits.push_back(t.nsecsElapsed());
        }
        std::sort(waits.begin(), waits.end());
        std::printf("\n| held response, %d one at a time | median us | p99 us |\n|---|---:|---:|\n| append to commit callback | %.1f | %.1f |\n",
                    n, double(waits[waits.size() / 2]) / 1000.0, double(waits[waits.size() * 99 / 100]) / 1000.0);
        store.close();
    }
    return 0;
}
