#include "reports/spendreport.h"
#include "reports/requestexport.h"
#include <QDateTime>
#include <QHash>
#include <algorithm>

namespace gh {

namespace {

constexpr qint64 kBucketMs = 900'000; // the spend scan's 15-minute buckets
constexpr qint64 kDayMs = 86'400'000;

QString usd(NanoUsd v, int decimals = 2)
{
    return QStringLiteral("$") + QString::number(toUsd(v), 'f', decimals);
}

QString html(const QString &s)
{
    return s.toHtmlEscaped();
}

QString day(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd"));
}

// A horizontal bar list (name, value) as SVG, the longest bar the largest value.
QString barList(const QList<QPair<QString, NanoUsd>> &items)
{
    const int rowH = 22, width = 640, labelW = 220, valueW = 90;
    NanoUsd max = 1;
    for (const auto &i : items)
        max = qMax(max, i.second);
    QString svg = QStringLiteral("<svg xmlns='http://www.w3.org/2000/svg' width='%1' height='%2' role='img'>")
                      .arg(width)
                      .arg(qMax(1, int(items.size())) * rowH);
    for (qsizetype i = 0; i < items.size(); ++i) {
        const int y = int(i) * rowH;
        const double w = double(width - labelW - valueW) * double(items[i].second) / double(max);
        svg += QStringLiteral("<text x='0' y='%1' font-size='12'>%2</text>").arg(y + 15).arg(html(items[i].first.left(32)));
        svg += QStringLiteral("<rect x='%1' y='%2' width='%3' height='14' fill='#4f6bed'/>").arg(labelW).arg(y + 4).arg(qMax(1.0, w), 0, 'f', 1);
        svg += QStringLiteral("<text x='%1' y='%2' font-size='12' text-anchor='end'>%3</text>").arg(width).arg(y + 15).arg(usd(items[i].second));
    }
    return svg + QStringLiteral("</svg>");
}

} // namespace

NanoUsd SpendReport::total() const
{
    NanoUsd t = 0;
    for (const Line &l : lines)
        t += l.cost;
    return t;
}

qint64 SpendReport::requests() const
{
    qint64 n = 0;
    for (const Line &l : lines)
        n += l.requests;
    return n;
}

qint64 SpendReport::unpriced() const
{
    qint64 n = 0;
    for (const Line &l : lines)
        n += l.unpriced;
    return n;
}

SpendReport buildSpendReport(LogQueries &queries, qint64 fromMs, qint64 toMs)
{
    SpendReport report;
    report.fromMs = fromMs;
    report.toMs = toMs;
    // The scan's buckets are 15 minutes: a period is taken from bucket boundaries (the CLI and the
    // window pass whole days).
    const SpendScan scan = queries.scanSpend(fromMs, 0, true);
    if (!scan.ok)
        return report;
    QHash<QString, qsizetype> index;
    QHash<qint64, NanoUsd> byDay;
    for (const SpendRow &row : scan.rows) {
        const qint64 at = row.bucket * kBucketMs;
        if (at < fromMs || at >= toMs)
            continue;
        const QString id = row.keyName + QChar(0) + row.model + QChar(0) + row.provider;
        auto it = index.constFind(id);
        if (it == index.cend()) {
            it = index.insert(id, report.lines.size());
            report.lines.append(SpendReport::Line{row.keyName, row.model, row.provider});
        }
        SpendReport::Line &l = report.lines[*it];
        l.requests += row.cell.requests;
        l.answered += row.cell.answered;
        l.unpriced += row.cell.unpriced;
        l.tokens += row.cell.tokens;
        l.cost += row.cell.cost;
        byDay[at - at % kDayMs] += row.cell.cost;
    }
    std::sort(report.lines.begin(), report.lines.end(), [](const SpendReport::Line &a, const SpendReport::Line &b) {
        return std::tie(b.cost, b.requests, a.key, a.model, a.provider) < std::tie(a.cost, a.requests, b.key, b.model, b.provider);
    });
    for (qint64 d = fromMs - fromMs % kDayMs; d < toMs; d += kDayMs)
        report.days.append({d, byDay.value(d)});
    report.ok = true;
    return report;
}

QByteArray spendReportCsv(const SpendReport &report)
{
    QByteArray out = "period_start,period_end,key,model,provider,requests,answered,unpriced_answered,tokens,cost_usd\r\n";
    const QString from = QDateTime::fromMSecsSinceEpoch(report.fromMs, Qt::UTC).toString(Qt::ISODate);
    const QString to = QDateTime::fromMSecsSinceEpoch(report.toMs, Qt::UTC).toString(Qt::ISODate);
    for (const SpendReport::Line &l : report.lines) {
        out += QStringList{from, to, csvText(l.key), csvText(l.model), csvText(l.provider), QString::number(l.requests),
                           QString::number(l.answered), QString::number(l.unpriced), QString::number(l.tokens),
                           QString::number(toUsd(l.cost), 'f', 9)}
                   .join(u',')
                   .toUtf8();
        out += "\r\n";
    }
    return out;
}

QByteArray spendReportHtml(const SpendReport &report)
{
    QHash<QString, NanoUsd> byKey, byModel, byProvider;
    for (const SpendReport::Line &l : report.lines) {
        byKey[l.key.isEmpty() ? QStringLiteral("(no key)") : l.key] += l.cost;
        byModel[l.model.isEmpty() ? QStringLiteral("(none)") : l.model] += l.cost;
        byProvider[l.provider.isEmpty() ? QStringLiteral("(none)") : l.provider] += l.cost;
    }
    auto top = [](const QHash<QString, NanoUsd> &h) {
        QList<QPair<QString, NanoUsd>> items;
        for (auto it = h.cbegin(); it != h.cend(); ++it)
            items.append({it.key(), it.value()});
        std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) { return std::tie(b.second, a.first) < std::tie(a.second, b.first); });
        return items.mid(0, 10);
    };

    // Spend per day: columns, as on the dashboard.
    const int chartW = 680, chartH = 180, axis = 20;
    NanoUsd maxDay = 1;
    for (const auto &d : report.days)
        maxDay = qMax(maxDay, d.second);
    const int n = qMax(1, int(report.days.size()));
    const double colW = double(chartW) / n;
    QString days = QStringLiteral("<svg xmlns='http://www.w3.org/2000/svg' width='%1' height='%2' role='img'>").arg(chartW).arg(chartH + axis);
    for (int i = 0; i < report.days.size(); ++i) {
        const double h = double(chartH - 14) * double(report.days[i].second) / double(maxDay);
        days += QStringLiteral("<rect x='%1' y='%2' width='%3' height='%4' fill='#4f6bed'><title>%5: %6</title></rect>")
                    .arg(i * colW + 1, 0, 'f', 1)
                    .arg(chartH - h, 0, 'f', 1)
                    .arg(qMax(1.0, colW - 2), 0, 'f', 1)
                    .arg(h, 0, 'f', 1)
                    .arg(day(report.days[i].first), usd(report.days[i].second));
        if (n <= 14 || i % ((n + 6) / 7) == 0)
            days += QStringLiteral("<text x='%1' y='%2' font-size='10'>%3</text>").arg(i * colW + 1, 0, 'f', 1).arg(chartH + 14).arg(day(report.days[i].first).mid(5));
    }
    days += QStringLiteral("<text x='0' y='10' font-size='10' fill='#666'>max %1/day</text></svg>").arg(usd(maxDay));

    QString rows;
    for (const SpendReport::Line &l : report.lines)
        rows += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td class=n>%4</td><td class=n>%5</td><td class=n>%6</td><td class=n>%7</td></tr>")
                    .arg(html(l.key), html(l.model), html(l.provider))
                    .arg(l.requests)
                    .arg(l.tokens)
                    .arg(l.unpriced ? QString::number(l.unpriced) : QString())
                    .arg(usd(l.cost, 4));
    const QString period = day(report.fromMs) + QStringLiteral(" – ") + day(report.toMs - 1);
    const QString unpricedNote = report.unpriced() > 0
                                     ? QStringLiteral("<p class=warn>%1 answered request(s) had no price: their cost is unknown and not in these totals.</p>").arg(report.unpriced())
                                     : QString();
    const QString page = QStringLiteral(
                             "<!doctype html><html><head><meta charset='utf-8'><title>Gatehouse spend %1</title><style>"
                             "body{font:14px system-ui,sans-serif;margin:32px;color:#1d1d1f}h1{font-size:22px;margin:0}"
                             ".sub{color:#666;margin:4px 0 24px}.cards{display:flex;gap:32px;margin-bottom:24px}.card b{display:block;font-size:22px}"
                             "h2{font-size:15px;margin:24px 0 8px}table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}"
                             ".n{text-align:right;font-variant-numeric:tabular-nums}.warn{color:#a15c00}"
                             "@media print{body{margin:12mm}h2{break-after:avoid}svg,tr{break-inside:avoid}}</style></head><body>"
                             "<h1>Spend report</h1><div class=sub>%1 (UTC) · generated by Gatehouse</div>"
                             "<div class=cards><div class=card>Spend<b>%2</b></div><div class=card>Requests<b>%3</b></div></div>%4"
                             "<h2>Spend per day</h2>%5<h2>Top keys</h2>%6<h2>Top models</h2>%7<h2>Providers</h2>%8"
                             "<h2>Per key, model and provider</h2><table><tr><th>Key</th><th>Model</th><th>Provider</th><th class=n>Requests</th>"
                             "<th class=n>Tokens</th><th class=n>Unpriced</th><th class=n>Cost</th></tr>%9</table></body></html>")
                             .arg(html(period), usd(report.total()), QString::number(report.requests()), unpricedNote, days,
                                  barList(top(byKey)), barList(top(byModel)), barList(top(byProvider)), rows);
    return page.toUtf8();
}

} // namespace gh
