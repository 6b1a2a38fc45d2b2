#pragma once
#include "core/money.h"
#include "store/logqueries.h"
#include <QByteArray>
#include <QList>
#include <QString>

namespace gh {

// Spend of a period per key, model (as the client asked for it) and provider, from the dashboard's
// spend scan: as CSV for a spreadsheet, or as a self-contained printable HTML page with the
// dashboard's charts (spend per day, top keys and models) drawn in SVG.
struct SpendReport {
    struct Line {
        QString key, model, provider;
        qint64 requests = 0; // every logged request, errors included
        qint64 answered = 0; // 2xx from a provider
        qint64 unpriced = 0; // answered without a price: their cost is unknown, not zero
        qint64 tokens = 0;
        NanoUsd cost = 0;
    };
    bool ok = false;
    qint64 fromMs = 0, toMs = 0; // [fromMs, toMs)
    QList<Line> lines;            // most spent first
    QList<QPair<qint64, NanoUsd>> days; // UTC day start (ms) -> cost, every day of the period
    [[nodiscard]] NanoUsd total() const;
    [[nodiscard]] qint64 requests() const;
    [[nodiscard]] qint64 unpriced() const;
};

// The report of the requests that started in [fromMs, toMs), read with `queries`.
[[nodiscard]] SpendReport buildSpendReport(LogQueries &queries, qint64 fromMs, qint64 toMs);
[[nodiscard]] QByteArray spendReportCsv(const SpendReport &report);
[[nodiscard]] QByteArray spendReportHtml(const SpendReport &report);

} // namespace gh
