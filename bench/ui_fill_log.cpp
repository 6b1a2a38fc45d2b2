// Fills a data folder's request log with N rows through gh::Store (the gateway's own writer), for
// the desktop benchmarks (BENCHMARKS.md, "Desktop app"): the Activity page over 1,000,000 rows.
//
//   ui_fill_log DATA_DIR [ROWS=1000000]
//
// Rows: one every 2.5 s ending now (so today / this week / this month all have data), four models
// on two providers and two keys, every 13th an upstream error, every 17th unpriced. Fails (exit 1)
// when the database cannot be opened or the folder already has requests.
#include "core/money.h"
#include "store/store.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <cstdio>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: ui_fill_log DATA_DIR [ROWS]\n");
        return 2;
    }
    bool ok = true;
    const int rows = args.size() > 2 ? args.at(2).toInt(&ok) : 1'000'000;
    if (!ok || rows <= 0) {
        std::fprintf(stderr, "ui_fill_log: ROWS must be a positive number\n");
        return 2;
    }
    if (!QDir().mkpath(args.at(1))) {
        std::fprintf(stderr, "ui_fill_log: cannot create %s\n", qPrintable(args.at(1)));
        return 1;
    }
    gh::Store store;
    QString error;
    if (!store.open(QDir(args.at(1)).filePath(QStringLiteral("gatehouse.db")), &error)) {
        std::fprintf(stderr, "ui_fill_log: %s\n", qPrintable(error));
        return 1;
    }
    const QString models[] = {QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai/gpt-4.1-mini"),
        QStringLiteral("anthropic/claude-sonnet-4"), QStringLiteral("anthropic/claude-haiku-4")};
    const QString keys[] = {QStringLiteral("claude-code"), QStringLiteral("scripts")};
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QElapsedTimer clock;
    clock.start();
    for (int i = 0; i < rows; ++i) {
        gh::RequestRecord r;
        r.id = QStringLiteral("req_bench_%1").arg(i, 8, 10, QLatin1Char('0'));
        r.startedAtMs = now - qint64(rows - 1 - i) * 2500;
        r.keyId = 1 + i % 2;
        r.keyName = keys[i % 2];
        r.endpoint = QStringLiteral("/v1/chat/completions");
        r.requestedModel = models[i % 4];
        r.provider = r.requestedModel.section(u'/', 0, 0);
        r.upstreamModel = r.requestedModel.section(u'/', 1);
        r.status = i % 13 == 7 ? 502 : 200;
        if (r.status != 200)
            r.error = QStringLiteral("upstream answered 502");
        r.latencyMs = 200 + i % 900;
        r.ttftMs = 80 + i % 300;
        r.usage.inputTokens = 100 + i % 4000;
        r.usage.outputTokens = 20 + i % 800;
        r.usage.reported = true;
        if (r.status == 200 && i % 17 != 3)
            r.cost = gh::fromUsd(double(r.usage.inputTokens) * 2e-6 + double(r.usage.outputTokens) * 8e-6);
        r.attempts = 1;
        store.appendRequest(r);
    }
    store.flush();
    store.close();
    std::printf("wrote %d rows in %lld ms\n", rows, clock.elapsed());
    return 0;
}
