// The Rankings and Cache pages over a large request log (BENCHMARKS.md, "Rankings and Cache"):
//
//   analytics_bench [ROWS=1000000] [DIR]
//
// 1. The writer's cost of migration 4's rollup triggers: 200,000 rows appended through gh::Store
//    (the gateway's own batching writer) into a fresh database without the triggers, then into one
//    with them; rows per second of each.
// 2. ROWS synthetic requests over 90 days (8 keys, 10 models on 5 providers, streams, errors,
//    cache reads and writes, prompt block hashes) written the same way, then every query the two
//    pages run, on a read-only connection of their own (store/analytics.h), for each period and with
//    a key filter: the first (cold) run and the median / worst of 7 more.
// 3. Migration 4's backfill of the same log (a copy at schema version 3, migrated by gh::Store).
// DIR (default: a temporary folder) keeps the databases.
#include "store/analytics.h"
#include "store/migrations.h"
#include "store/store.h"
#include <algorithm>
#include <cstdio>
#include <functional>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <sqlite3.h>

using namespace gh;

namespace {

constexpr qint64 kHour = 3'600'000;
constexpr qint64 kDay = 24 * kHour;

const QString kModels[] = {QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai/gpt-4.1-mini"),
    QStringLiteral("openai/o4-mini"), QStringLiteral("anthropic/claude-sonnet-4"),
    QStringLiteral("anthropic/claude-haiku-4"), QStringLiteral("google/gemini-2.5-pro"),
    QStringLiteral("google/gemini-2.5-flash"), QStringLiteral("deepseek/deepseek-chat"),
    QStringLiteral("groq/llama-3.3-70b"), QStringLiteral("openrouter/qwen3-coder")};
const QString kKeys[]
    = {QStringLiteral("Claude Code"), QStringLiteral("Cursor"), QStringLiteral("scripts"), QStringLiteral("CI bot"),
        QStringLiteral("aider"), QStringLiteral("Gatehouse Chat"), QStringLiteral("notebook"), QStringLiteral("batch")};

// A deterministic pseudo-random request `i` of `rows` spread over the 90 days before `now`.
RequestRecord synthetic(int i, int rows, qint64 now)
{
    quint64 h = quint64(i) * 0x9E3779B97F4A7C15ULL;
    auto next = [&h](int mod) {
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 29;
        return int(h % quint64(mod));
    };
    RequestRecord r;
    r.id = QStringLiteral("req_bench_%1").arg(i, 8, 10, QLatin1Char('0'));
    r.startedAtMs = now - 90 * kDay + qint64(double(i) / rows * 90 * kDay);
    const int key = next(8);
    r.keyId = key + 1;
    r.keyName = kKeys[key];
    r.endpoint = QStringLiteral("/v1/chat/completions");
    const QString &model = kModels[(key * 3 + next(4)) % 10];
    r.requestedModel = model;
    r.modelId = model;
    r.provider = model.section(u'/', 0, 0);
    r.upstreamModel = model.section(u'/', 1);
    const int roll = next(100);
    r.status = roll < 3 ? 502 : roll < 4 ? 429 : roll < 5 ? 499 : 200;
    if (r.status != 200)
        r.error = QStringLiteral("upstream answered %1").arg(r.status);
    r.stream = next(3) != 0;
    r.latencyMs = 150 + next(400) * next(40) / 4;
    r.ttftMs = r.stream ? 60 + next(900) : -1;
    r.usage.inputTokens = 50 + next(6000);
    r.usage.cacheReadTokens = next(2) ? next(40000) : 0;
    r.usage.cacheWriteTokens = next(5) == 0 ? next(8000) : 0;
    r.usage.outputTokens = r.status == 200 ? 10 + next(1500) : 0;
    r.usage.reported = true;
    if (r.status == 200 && roll % 17 != 3)
        r.cost = 1000 * (r.usage.inputTokens * 2 + r.usage.cacheReadTokens / 2 + r.usage.outputTokens * 8);
    r.attempts = 1;
    const int blocks = 4 + next(20);
    for (int b = 0; b < blocks; ++b)
        r.promptBlocks.append(b == 1 && next(3) == 0 ? quint64(i) : quint64(key * 1000 + b));
    r.promptSystemBytes = 3000;
    r.promptToolsBytes = 2000;
    return r;
}

bool exec(const QString &path, const char *sql)
{
    sqlite3 *db = nullptr;
    bool ok = sqlite3_open(QFile::encodeName(path).constData(), &db) == SQLITE_OK
        && sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
    if (!ok)
        std::fprintf(stderr, "analytics_bench: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return ok;
}

// Appends rows [from, to) through a Store; returns the elapsed ms (open and close excluded).
qint64 append(const QString &path, int from, int to, int rows, qint64 now, const char *beforeSql = nullptr)
{
    Store store;
    QString error;
    if (!store.open(path, &error)) {
        std::fprintf(stderr, "analytics_bench: %s\n", qPrintable(error));
        return -1;
    }
    if (beforeSql && !exec(path, beforeSql))
        return -1;
    QElapsedTimer t;
    t.start();
    for (int i = from; i < to; ++i)
        store.appendRequest(synthetic(i, rows, now));
    store.flush();
    const qint64 ms = t.elapsed();
    store.close();
    return ms;
}

struct Timing {
    double cold = 0, median = 0, worst = 0;
};

Timing measure(const std::function<void()> &f)
{
    QElapsedTimer t;
    t.start();
    f();
    Timing out;
    out.cold = double(t.nsecsElapsed()) / 1e6;
    QList<double> runs;
    for (int i = 0; i < 7; ++i) {
        t.restart();
        f();
        runs.append(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(runs.begin(), runs.end());
    out.median = runs.at(runs.size() / 2);
    out.worst = runs.last();
    return out;
}

QList<qint64> localDays(qint64 now, int days)
{
    QList<qint64> edges;
    const QDate today = QDateTime::fromMSecsSinceEpoch(now).date();
    for (int d = days - 1; d >= -1; --d)
        edges.append(today.addDays(-d).startOfDay().toMSecsSinceEpoch());
    return edges;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    bool ok = true;
    const int rows = args.size() > 1 ? args.at(1).toInt(&ok) : 1'000'000;
    if (!ok || rows < 1000) {
        std::fprintf(stderr, "usage: analytics_bench [ROWS>=1000] [DIR]\n");
        return 2;
    }
    QTemporaryDir tmp;
    const QString dir = args.size() > 2 ? args.at(2) : tmp.path();
    if (!QDir().mkpath(dir)) {
        std::fprintf(stderr, "analytics_bench: cannot create %s\n", qPrintable(dir));
        return 1;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    auto fresh = [&dir](const char *name) {
        const QString p = QDir(dir).filePath(QString::fromLatin1(name));
        for (const char *suffix : {"", "-wal", "-shm"})
            QFile::remove(p + QLatin1String(suffix));
        return p;
    };

    // 1. The triggers' cost on the writer.
    const int writes = std::min(rows, 200'000);
    const qint64 without = append(fresh("without.db"), 0, writes, writes, now,
        "DROP TRIGGER IF EXISTS requests_rollup_insert; DROP TRIGGER requests_rollup_delete");
    const qint64 with = append(fresh("with.db"), 0, writes, writes, now);
    if (without < 0 || with < 0)
        return 1;
    std::printf("## writer: %d rows through gh::Store\n\n| | ms | rows/s |\n|---|---|---|\n", writes);
    std::printf("| without the rollup triggers | %lld | %.0f |\n", without,
        writes * 1000.0 / double(std::max<qint64>(1, without)));
    std::printf(
        "| with the rollup triggers | %lld | %.0f |\n\n", with, writes * 1000.0 / double(std::max<qint64>(1, with)));
    std::fflush(stdout);

    // 2. The pages over ROWS rows.
    const QString path = fresh("gatehouse.db");
    const qint64 fillMs = append(path, 0, rows, rows, now);
    if (fillMs < 0)
        return 1;
    std::printf("## %d rows over 90 days written in %lld ms (%.0f rows/s, triggers on)\n\n", rows, fillMs,
        rows * 1000.0 / double(std::max<qint64>(1, fillMs)));
    Analytics a;
    QString error;
    if (!a.open(path, &error)) {
        std::fprintf(stderr, "analytics_bench: %s\n", qPrintable(error));
        return 1;
    }
    {
        sqlite3_stmt *s = nullptr;
        sqlite3_prepare_v2(a.handle(), "SELECT (SELECT count(*) FROM rollups), (SELECT count(*) FROM rollup_latency)",
            -1, &s, nullptr);
        if (sqlite3_step(s) == SQLITE_ROW)
            std::printf("rollups: %lld rows, rollup_latency: %lld rows\n\n", sqlite3_column_int64(s, 0),
                sqlite3_column_int64(s, 1));
        sqlite3_finalize(s);
    }
    std::printf("| page query | period | cold ms | median ms | worst ms |\n|---|---|---|---|---|\n");
    struct Period {
        const char *name;
        qint64 span; // 0: all
        int slices, chartDays;
    };
    const Period periods[]
        = {{"24 h", kDay, 24, 0}, {"7 days", 7 * kDay, 7, 7}, {"30 days", 30 * kDay, 30, 30}, {"all", 0, 30, 90}};
    bool allOk = true;
    for (const Period &p : periods) {
        for (const bool filtered : {false, true}) {
            analytics::RankingsQuery q;
            q.period = {p.span ? now - p.span : 0, now + 1, filtered ? std::optional<qint64>(3) : std::nullopt};
            q.slices = p.slices;
            int models = 0;
            const Timing t = measure([&] {
                const auto r = a.rankings(q);
                allOk = allOk && r.ok;
                models = int(r.models.size());
            });
            std::printf("| Rankings (%d models)%s | %s | %.1f | %.1f | %.1f |\n", models, filtered ? ", one key" : "",
                p.name, t.cold, t.median, t.worst);
        }
        analytics::CacheQuery q;
        q.period = {p.span ? now - p.span : 0, now + 1, std::nullopt};
        if (p.chartDays == 0) {
            for (int h = 24; h >= -1; --h)
                q.chartEdges.append((now / kHour - h) * kHour);
        } else {
            q.chartEdges = localDays(now, p.chartDays);
        }
        const Timing t = measure([&] {
            const auto c = a.cache(q);
            allOk = allOk && c.ok;
            for (const auto &k : c.byKey)
                (void)a.prefixes(k.keyId);
        });
        std::printf("| Cache (figures, chart, 8 prefix diagnoses) | %s | %.1f | %.1f | %.1f |\n", p.name, t.cold,
            t.median, t.worst);
        std::fflush(stdout);
    }
    a.close();
    if (!allOk) {
        std::fprintf(stderr, "analytics_bench: a query failed\n");
        return 1;
    }

    // 3. Migration 4's backfill of the same rows.
    const QString old = fresh("v3.db");
    {
        sqlite3 *db = nullptr;
        sqlite3_open(QFile::encodeName(old).constData(), &db);
        bool good = true;
        for (const store::Migration &m : store::migrations()) {
            if (m.version <= 3)
                good = good && sqlite3_exec(db, m.sql, nullptr, nullptr, nullptr) == SQLITE_OK;
        }
        // The columns a version-3 table has (later migrations add some, e.g. session_id).
        QByteArray columns;
        sqlite3_stmt *st = nullptr;
        if (good && sqlite3_prepare_v2(db, "SELECT group_concat(name, ', ') FROM pragma_table_info('requests')", -1, &st,
                        nullptr) == SQLITE_OK
            && sqlite3_step(st) == SQLITE_ROW)
            columns = reinterpret_cast<const char *>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        good = good && !columns.isEmpty();
        const QByteArray attach = "PRAGMA user_version = 3; ATTACH '" + QFile::encodeName(path) + "' AS src; "
            + "INSERT INTO main.requests (" + columns + ") SELECT " + columns + " FROM src.requests; DETACH src;";
        good = good && sqlite3_exec(db, attach.constData(), nullptr, nullptr, nullptr) == SQLITE_OK;
        sqlite3_close(db);
        if (!good) {
            std::fprintf(stderr, "analytics_bench: cannot build the version-3 copy\n");
            return 1;
        }
    }
    QElapsedTimer t;
    t.start();
    Store store;
    if (!store.open(old, &error)) {
        std::fprintf(stderr, "analytics_bench: %s\n", qPrintable(error));
        return 1;
    }
    std::printf("\nmigration 4 backfill of %d rows: %lld ms\n", rows, t.elapsed());
    store.close();
    return 0;
}
