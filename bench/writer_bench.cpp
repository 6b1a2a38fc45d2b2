// The request-log writer's throughput for rows shaped like the gateway's own: what each part of a
// logged request costs the writer thread (BENCHMARKS.md, "Routing (issue 5)").
//   writer_bench [ROWS]   (default 200,000; WB_RANDOM_IDS=1: wholly random request ids)
// Variants, each into a fresh database: the bare request row; with one attempt row (what a request
// served by its first target logs); with the prompt's block hashes (prompt_prefixes); with both. Rows fall within the last minutes, like live traffic.
#include "store/store.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <cstdio>

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
    r.keyId = 1 + i % 4;
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

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int rows = argc > 1 ? std::max(1000, QByteArray(argv[1]).toInt()) : 200'000;
    QTemporaryDir dir;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    std::printf("| rows shaped like | rows/s |\n|---|---:|\n");
    const struct { const char *name; bool attempt; bool blocks; } variants[] = {
        {"request row only", false, false},
        {"+ one attempt row", true, false},
        {"+ prompt block hashes", false, true},
        {"+ both", true, true},
    };
    for (const auto &v : variants) {
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
    return 0;
}
