// The what-if re-pricing over a large request log (BENCHMARKS.md, "What-if"):
//
//   whatif_bench [ROWS=1000000] [DIR]
//
// ROWS synthetic requests over 90 days (8 keys, 10 models, 2,000 client sessions, cache reads and
// writes) written through gh::Store (the gateway's own writer, rollup triggers included), then
// whatif::compute on a read-only connection of its own for the slices the page offers: everything,
// one key, one model, one session, a candidate with long-context tiers (from the request-size
// histogram of migration 18) and one whose tier is not a bound of it (which reads the rows).
// Each: the first (cold) run and the median / worst of 7 more; then whatif::countOverContext (the
// requests too long for a 32k window: the histogram, or the rows for a session): cold and the
// median of 3. Prices are synthetic: they change the numbers, not the time.
#include "store/analytics.h"
#include "store/store.h"
#include "store/whatif.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>

using namespace gh;

namespace {

constexpr qint64 kDay = 86'400'000;

double runMs(const std::function<void()> &f)
{
    QElapsedTimer t;
    t.start();
    f();
    return double(t.nsecsElapsed()) / 1e6;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int rows = args.size() > 1 ? args.at(1).toInt() : 1'000'000;
    QTemporaryDir tmp;
    const QString dir = args.size() > 2 ? args.at(2) : tmp.path();
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(QStringLiteral("whatif.db"));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 start = now - 90 * kDay;
    if (!QFile::exists(path)) {
        Store store;
        QString error;
        if (!store.open(path, &error)) {
            std::fprintf(stderr, "whatif_bench: %s\n", qPrintable(error));
            return 1;
        }
        QElapsedTimer clock;
        clock.start();
        for (int i = 0; i < rows; ++i) {
            RequestRecord r;
            r.id = QStringLiteral("req_w_%1").arg(i, 8, 10, QLatin1Char('0'));
            r.startedAtMs = start + qint64(double(i) / rows * 90 * kDay);
            r.keyId = 1 + i % 8;
            r.keyName = QStringLiteral("key-%1").arg(r.keyId);
            r.modelId = QStringLiteral("vendor%1/model-%2").arg(i % 5).arg(i % 10);
            r.requestedModel = r.modelId;
            r.provider = QStringLiteral("vendor%1").arg(i % 5);
            r.upstreamModel = QStringLiteral("model-%1").arg(i % 10);
            r.sessionId = QStringLiteral("sess-%1").arg((i / 37) % 2000);
            r.endpoint = QStringLiteral("/v1/chat/completions");
            r.status = i % 23 == 5 ? 502 : 200;
            if (r.status == 200) {
                r.usage.inputTokens = 200 + i % 30'000;
                r.usage.cacheReadTokens = (i % 3) * 20'000;
                r.usage.cacheWriteTokens = i % 7 == 0 ? 4'000 : 0;
                r.usage.outputTokens = 50 + i % 3'000;
                r.usage.reported = true;
                r.cost = NanoUsd(r.usage.inputTokens) * 2'000 + NanoUsd(r.usage.outputTokens) * 8'000;
            } else {
                r.error = QStringLiteral("upstream answered 502");
            }
            r.attempts = 1;
            store.appendRequest(r);
        }
        store.flush();
        store.close();
        std::printf("wrote %d rows in %lld ms\n", rows, clock.elapsed());
    }

    Analytics db;
    QString error;
    if (!db.open(path, &error)) {
        std::fprintf(stderr, "whatif_bench: %s\n", qPrintable(error));
        return 1;
    }
    whatif::Candidate flat;
    flat.price.input = 0.4;
    flat.price.output = 1.6;
    flat.price.cacheRead = 0.1;
    constexpr qint64 kWindow = 32'000;
    whatif::Candidate tiered = flat;
    tiered.price.inputTiers = {PriceTier{20'000, 0.8}};
    tiered.price.outputTiers = {PriceTier{20'000, 3.2}};
    // 20,001 is no bound of the size histogram (migration 18): priced from the rows.
    whatif::Candidate offBounds = tiered;
    offBounds.price.inputTiers = {PriceTier{20'001, 0.8}};
    offBounds.price.outputTiers = {PriceTier{20'001, 3.2}};
    const qint64 from = start - start % kDay;
    const qint64 to = now - now % kDay + kDay;
    struct Case {
        const char *name;
        whatif::Slice slice;
        whatif::Candidate candidate;
    };
    const Case cases[] = {
        {"90 days, every key and model", {from, to, 0, {}, {}}, flat},
        {"90 days, one key", {from, to, 3, {}, {}}, flat},
        {"90 days, one model", {from, to, 0, QStringLiteral("vendor2/model-7"), {}}, flat},
        {"7 days, every key and model", {to - 7 * kDay, to, 0, {}, {}}, flat},
        {"one session", {from, to, 0, {}, QStringLiteral("sess-123")}, flat},
        {"90 days, tiered candidate (histogram)", {from, to, 0, {}, {}}, tiered},
        {"7 days, tiered candidate (histogram)", {to - 7 * kDay, to, 0, {}, {}}, tiered},
        {"90 days, one key, tiered (histogram)", {from, to, 3, {}, {}}, tiered},
        {"90 days, tier off the bounds (rows)", {from, to, 0, {}, {}}, offBounds},
    };
    std::printf("%-40s %10s %10s %10s %10s | %12s %10s %10s\n", "slice", "cold ms", "median ms", "worst ms", "requests",
                "over window", "cold ms", "median ms");
    for (const Case &c : cases) {
        whatif::Result r;
        const double cold = runMs([&] { r = whatif::compute(db.handle(), c.slice, c.candidate); });
        if (!r.ok) {
            std::fprintf(stderr, "whatif_bench: %s: %s\n", c.name, qPrintable(r.error));
            return 1;
        }
        QList<double> warm;
        for (int i = 0; i < 7; ++i)
            warm.append(runMs([&] { r = whatif::compute(db.handle(), c.slice, c.candidate); }));
        std::sort(warm.begin(), warm.end());
        std::optional<qint64> over;
        const double overCold = runMs([&] { over = whatif::countOverContext(db.handle(), c.slice, kWindow); });
        QList<double> overWarm;
        for (int i = 0; i < 3; ++i)
            overWarm.append(runMs([&] { over = whatif::countOverContext(db.handle(), c.slice, kWindow); }));
        std::sort(overWarm.begin(), overWarm.end());
        std::printf("%-40s %10.1f %10.1f %10.1f %10lld | %12lld %10.1f %10.1f\n", c.name, cold, warm.at(3), warm.last(), r.requests,
                    over.value_or(-1), overCold, overWarm.at(1));
    }
    return 0;
}
