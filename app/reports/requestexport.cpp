#include "reports/requestexport.h"
#include "core/money.h"
#include <QDateTime>
#include <QIODevice>
#include <QJsonDocument>
#include <QJsonObject>

namespace gh {

namespace {

constexpr qsizetype kChunkBytes = 1 << 20;

QString csvQuoted(const QString &v)
{
    if (!v.contains(u',') && !v.contains(u'"') && !v.contains(u'\n') && !v.contains(u'\r'))
        return v;
    QString q = v;
    q.replace(u'"', QStringLiteral("\"\""));
    return u'"' + q + u'"';
}

QString iso(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

} // namespace

std::optional<ExportFormat> exportFormatFromName(const QString &name)
{
    const QString n = name.toLower();
    if (n == u"csv")
        return ExportFormat::Csv;
    if (n == u"jsonl" || n == u"ndjson" || n == u"json-lines")
        return ExportFormat::JsonLines;
    return std::nullopt;
}

QString exportFormatExtension(ExportFormat format)
{
    return format == ExportFormat::Csv ? QStringLiteral("csv") : QStringLiteral("jsonl");
}

QString csvText(const QString &value)
{
    if (!value.isEmpty() && (value.front() == u'=' || value.front() == u'+' || value.front() == u'-' || value.front() == u'@'))
        return csvQuoted(u'\'' + value);
    return csvQuoted(value);
}

QByteArray csvHeader()
{
    return QByteArrayLiteral("request_id,started_at,key,model,provider,upstream_model,status,error,latency_ms,ttft_ms,"
                             "input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost_usd,"
                             "estimated,stream,attempts,endpoint,route,model_id,session_id,refusal\r\n");
}

QByteArray csvLine(const RequestRecord &r)
{
    const QString fields[] = {csvText(r.id),
                              iso(r.startedAtMs),
                              csvText(r.keyName),
                              csvText(r.requestedModel),
                              csvText(r.provider),
                              csvText(r.upstreamModel),
                              QString::number(r.status),
                              csvText(r.error),
                              QString::number(r.latencyMs),
                              QString::number(r.ttftMs),
                              QString::number(r.usage.inputTokens),
                              QString::number(r.usage.cacheReadTokens),
                              QString::number(r.usage.cacheWriteTokens + r.usage.cacheWrite1hTokens),
                              QString::number(r.usage.outputTokens),
                              QString::number(r.usage.reasoningTokens),
                              r.cost ? QString::number(toUsd(*r.cost), 'f', 9) : QString(),
                              r.usage.estimated ? QStringLiteral("1") : QStringLiteral("0"),
                              r.stream ? QStringLiteral("1") : QStringLiteral("0"),
                              QString::number(r.attempts),
                              csvText(r.endpoint),
                              csvText(r.route),
                              csvText(r.modelId),
                              csvText(r.sessionId),
                              csvText(r.refusal)};
    QString line;
    for (const QString &f : fields) {
        if (!line.isEmpty() || &f != &fields[0])
            line += u',';
        line += f;
    }
    return line.toUtf8() + "\r\n";
}

QByteArray jsonLine(const RequestRecord &r)
{
    auto text = [](const QString &s) { return s.isEmpty() ? QJsonValue() : QJsonValue(s); };
    QJsonObject usage{{QStringLiteral("input_tokens"), r.usage.inputTokens},
                      {QStringLiteral("cache_read_tokens"), r.usage.cacheReadTokens},
                      {QStringLiteral("cache_write_tokens"), r.usage.cacheWriteTokens},
                      {QStringLiteral("cache_write_1h_tokens"), r.usage.cacheWrite1hTokens},
                      {QStringLiteral("output_tokens"), r.usage.outputTokens},
                      {QStringLiteral("reasoning_tokens"), r.usage.reasoningTokens},
                      {QStringLiteral("estimated"), r.usage.estimated}};
    const QJsonObject o{{QStringLiteral("request_id"), r.id},
                        {QStringLiteral("started_at"), iso(r.startedAtMs)},
                        {QStringLiteral("started_at_ms"), r.startedAtMs},
                        {QStringLiteral("key"), text(r.keyName)},
                        {QStringLiteral("endpoint"), r.endpoint},
                        {QStringLiteral("model"), text(r.requestedModel)},
                        {QStringLiteral("route"), text(r.route)},
                        {QStringLiteral("model_id"), text(r.modelId)},
                        {QStringLiteral("provider"), text(r.provider)},
                        {QStringLiteral("upstream_model"), text(r.upstreamModel)},
                        {QStringLiteral("session_id"), text(r.sessionId)},
                        {QStringLiteral("status"), r.status},
                        {QStringLiteral("error"), text(r.error)},
                        // Why Gatehouse refused it itself (gateway/refusal.h); null when it did not.
                        {QStringLiteral("refusal"), text(r.refusal)},
                        {QStringLiteral("latency_ms"), r.latencyMs},
                        {QStringLiteral("ttft_ms"), r.ttftMs >= 0 ? QJsonValue(r.ttftMs) : QJsonValue()},
                        {QStringLiteral("usage"), usage},
                        // Exact to the nano-dollar, as text; null when the model has no price.
                        {QStringLiteral("cost_usd"), r.cost ? QJsonValue(QString::number(toUsd(*r.cost), 'f', 9)) : QJsonValue()},
                        {QStringLiteral("stream"), r.stream},
                        {QStringLiteral("attempts"), r.attempts}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
}

ExportOutcome exportRequests(LogQueries &queries, const ActivityFilter &filter, ExportFormat format, QIODevice &out,
                             const std::function<bool(qint64, qint64)> &progress)
{
    ExportOutcome outcome;
    const ActivityCount count = queries.countActivity(filter, QString());
    if (!count.ok) {
        outcome.error = QStringLiteral("the request log cannot be read");
        return outcome;
    }
    outcome.total = count.total;
    QByteArray buffer;
    buffer.reserve(kChunkBytes + 64 * 1024);
    if (format == ExportFormat::Csv)
        buffer += csvHeader();
    const qint64 step = qMax<qint64>(1, count.total / 100);
    bool writeFailed = false;
    QString readError;
    const bool read = queries.forEachActivityRow(
        filter, count.maxSeq,
        [&](const RequestRecord &r) {
            buffer += format == ExportFormat::Csv ? csvLine(r) : jsonLine(r);
            ++outcome.rows;
            if (buffer.size() >= kChunkBytes) {
                if (out.write(buffer) != buffer.size()) {
                    writeFailed = true;
                    return false;
                }
                buffer.clear();
            }
            if (progress && outcome.rows % step == 0 && !progress(outcome.rows, outcome.total)) {
                outcome.cancelled = true;
                return false;
            }
            return true;
        },
        &readError);
    if (!writeFailed && out.write(buffer) != buffer.size())
        writeFailed = true;
    if (writeFailed) {
        outcome.error = out.errorString();
        return outcome;
    }
    if (!read && !outcome.cancelled) {
        outcome.error = readError.isEmpty() ? QStringLiteral("the request log cannot be read") : readError;
        return outcome;
    }
    if (progress && !outcome.cancelled)
        progress(outcome.rows, outcome.total);
    outcome.ok = !outcome.cancelled;
    return outcome;
}

} // namespace gh
