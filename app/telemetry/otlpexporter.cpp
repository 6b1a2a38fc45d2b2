#include "telemetry/otlpexporter.h"
#include "core/money.h"
#include "version.h"
#include "telemetry/telemetrylog.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QTimer>

namespace gh {

namespace {

constexpr int kTransferTimeoutMs = 10'000;
constexpr int kMaxBackoffMs = 30'000;

// Spans a request becomes: its own and one per attempt that reached (or tried to reach) a target.
qint64 spanCount(const RequestRecord &r)
{
    qint64 n = 1;
    for (const AttemptRecord &a : r.attemptLog)
        n += a.outcome == AttemptRecord::Outcome::Skipped ? 0 : 1;
    return n;
}

QString hexId(int bytes)
{
    QByteArray id(bytes, Qt::Uninitialized);
    // All-zero ids are invalid in OTLP; 2^-64 odds, but a loop costs nothing.
    do {
        QRandomGenerator::global()->generate(id.begin(), id.end());
    } while (id.count('\0') == id.size());
    return QString::fromLatin1(id.toHex());
}

QString nanos(qint64 ms)
{
    return QString::number(ms * 1'000'000);
}

QJsonObject attr(const QString &key, const QJsonObject &value)
{
    return QJsonObject{{QStringLiteral("key"), key}, {QStringLiteral("value"), value}};
}
QJsonObject str(const QString &key, const QString &v)
{
    return attr(key, QJsonObject{{QStringLiteral("stringValue"), v}});
}
// OTLP/JSON carries 64-bit integers as decimal strings.
QJsonObject integer(const QString &key, qint64 v)
{
    return attr(key, QJsonObject{{QStringLiteral("intValue"), QString::number(v)}});
}
QJsonObject dbl(const QString &key, double v)
{
    return attr(key, QJsonObject{{QStringLiteral("doubleValue"), v}});
}
QJsonObject boolean(const QString &key, bool v)
{
    return attr(key, QJsonObject{{QStringLiteral("boolValue"), v}});
}

// Span kinds and status codes of the OTLP protobuf enums.
constexpr int kSpanKindServer = 2;
constexpr int kSpanKindClient = 3;
constexpr int kStatusOk = 1;
constexpr int kStatusError = 2;

void addUsage(QJsonArray &attributes, const Usage &u)
{
    // The conventions count cached input inside gen_ai.usage.input_tokens, and its cache reads and
    // writes apart as well; Usage::inputTokens is the uncached part only.
    attributes.append(integer(QStringLiteral("gen_ai.usage.input_tokens"), u.totalInput()));
    attributes.append(integer(QStringLiteral("gen_ai.usage.output_tokens"), u.outputTokens));
    attributes.append(integer(QStringLiteral("gen_ai.usage.cache_read.input_tokens"), u.cacheReadTokens));
    attributes.append(integer(QStringLiteral("gen_ai.usage.cache_creation.input_tokens"), u.cacheWriteTokens + u.cacheWrite1hTokens));
    if (u.reasoningTokens > 0)
        attributes.append(integer(QStringLiteral("gatehouse.usage.reasoning_tokens"), u.reasoningTokens));
    attributes.append(boolean(QStringLiteral("gatehouse.usage.estimated"), u.estimated));
}

QJsonObject status(bool ok, const QString &message)
{
    QJsonObject s{{QStringLiteral("code"), ok ? kStatusOk : kStatusError}};
    if (!ok && !message.isEmpty())
        s.insert(QStringLiteral("message"), message);
    return s;
}

} // namespace

OtlpExporter::OtlpExporter(std::function<QString(const QString &)> vendorOf, QObject *parent)
    : QObject(parent)
    , m_vendorOf(std::move(vendorOf))
    , m_timer(new QTimer(this))
{
    connect(m_timer, &QTimer::timeout, this, &OtlpExporter::flush);
}

OtlpExporter::~OtlpExporter() = default;

int OtlpExporter::queued() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_queue.size());
}

void OtlpExporter::setSettings(const OtlpSettings &settings)
{
    if (settings == m_settings && m_enabled == settings.enabled())
        return;
    m_settings = settings;
    m_headers.clear();
    for (const OtlpHeader &h : settings.headers) {
        QByteArray value = h.value.toUtf8();
        if (!h.env.isEmpty()) {
            value = qgetenv(h.env.toLocal8Bit().constData());
            if (value.isEmpty()) {
                // The variable's name only: its value is a credential.
                qCWarning(lcTelemetry) << "OTLP header" << h.name << "is read from" << h.env << "which is not set; it is not sent";
                continue;
            }
        }
        m_headers.append({h.name.toLatin1(), value});
    }
    {
        QMutexLocker lock(&m_mutex);
        m_maxQueue = settings.maxQueue;
        m_batchSize = settings.batchSize;
        if (!settings.enabled())
            m_queue.clear();
    }
    m_enabled = settings.enabled();
    if (settings.enabled()) {
        if (!m_nam)
            m_nam = new QNetworkAccessManager(this);
        m_timer->start(settings.flushIntervalMs);
        qCInfo(lcTelemetry) << "exporting request spans to" << settings.endpoint.toString(QUrl::RemoveUserInfo);
    } else {
        m_timer->stop();
    }
}

void OtlpExporter::enqueue(const RequestRecord &record)
{
    if (!m_enabled.load(std::memory_order_relaxed) || record.pending || operationName(record.endpoint).isEmpty())
        return;
    QMutexLocker lock(&m_mutex);
    m_queue.push_back(record);
    m_queue.back().promptBlocks.clear(); // not exported; no need to keep them waiting
    while (int(m_queue.size()) > m_maxQueue) {
        m_dropped += spanCount(m_queue.front());
        m_queue.pop_front();
    }
    if (int(m_queue.size()) >= m_batchSize && !m_wakePosted) {
        m_wakePosted = true;
        lock.unlock();
        QMetaObject::invokeMethod(this, &OtlpExporter::flush, Qt::QueuedConnection);
    }
}

void OtlpExporter::flush()
{
    QList<RequestRecord> batch;
    {
        QMutexLocker lock(&m_mutex);
        m_wakePosted = false;
        if (m_posting || m_backoffMs > 0 || m_queue.empty() || !m_enabled)
            return;
        const int n = qMin(int(m_queue.size()), m_batchSize);
        batch.reserve(n);
        for (int i = 0; i < n; ++i) {
            batch.append(std::move(m_queue.front()));
            m_queue.pop_front();
        }
    }
    post(std::move(batch));
}

void OtlpExporter::drain(int timeoutMs, std::function<void()> done)
{
    if (m_drainDone) // already draining: the first caller's deadline holds
        return;
    if (!m_enabled || (queued() == 0 && !m_posting)) {
        if (done)
            done();
        return;
    }
    m_drainDone = done ? std::move(done) : [] {};
    m_timer->stop();
    m_backoffMs = 0; // no waiting between batches now
    m_drainDeadline = new QTimer(this);
    m_drainDeadline->setSingleShot(true);
    connect(m_drainDeadline, &QTimer::timeout, this, [this] {
        if (m_inFlight)
            m_inFlight->abort(); // its finished handler counts its spans as dropped
        finishDrain();
    });
    m_drainDeadline->start(qMax(0, timeoutMs));
    if (!m_posting)
        flush();
}

void OtlpExporter::finishDrain()
{
    if (!m_drainDone)
        return;
    qint64 unsent = 0;
    {
        QMutexLocker lock(&m_mutex);
        for (const RequestRecord &r : m_queue)
            unsent += spanCount(r);
        m_queue.clear();
    }
    if (unsent > 0) {
        m_dropped += unsent;
        qCWarning(lcTelemetry) << "OTLP export: shutting down with" << unsent << "spans not sent (the collector did not take them in time)";
    }
    m_enabled = false; // nothing more is queued once the gateway is stopping
    m_drainDeadline->stop();
    m_drainDeadline->deleteLater(); // this may run inside its own timeout
    m_drainDeadline = nullptr;
    auto done = std::move(m_drainDone);
    m_drainDone = nullptr;
    done();
}

void OtlpExporter::post(QList<RequestRecord> batch)
{
    qint64 spans = 0;
    for (const RequestRecord &r : batch)
        spans += spanCount(r);
    QNetworkRequest request(m_settings.endpoint);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setHeader(QNetworkRequest::UserAgentHeader, QByteArrayLiteral("gatehouse/" GATEHOUSE_VERSION));
    request.setTransferTimeout(kTransferTimeoutMs);
    for (const auto &[name, value] : m_headers)
        request.setRawHeader(name, value);
    m_posting = true;
    QNetworkReply *reply = m_nam->post(request, QJsonDocument(exportRequest(batch)).toJson(QJsonDocument::Compact));
    m_inFlight = reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply, batch = std::move(batch), spans]() mutable {
        reply->deleteLater();
        m_inFlight = nullptr;
        m_posting = false;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const bool ok = reply->error() == QNetworkReply::NoError && status >= 200 && status < 300;
        if (ok) {
            m_backoffMs = 0;
            // A partial success names the spans the collector rejected.
            const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
            const qint64 rejected = qBound<qint64>(
                0, body.value(QStringLiteral("partialSuccess")).toObject().value(QStringLiteral("rejectedSpans")).toVariant().toLongLong(), spans);
            m_exported += spans - rejected;
            m_dropped += rejected;
        }
        if (m_drainDone) {
            // Shutting down: no retries and no back-off; the next batch, or done.
            if (!ok) {
                ++m_failures;
                m_dropped += spans;
                qCWarning(lcTelemetry) << "OTLP export: shutting down with" << spans << "spans not sent ("
                                       << (status ? QString::number(status) : reply->errorString()) << ")";
            }
            Q_EMIT batchFinished(reply->error() == QNetworkReply::NoError);
            if (queued() > 0 && m_drainDeadline && m_drainDeadline->isActive())
                flush();
            else
                finishDrain();
            return;
        }
        if (ok) {
            Q_EMIT batchFinished(true);
            if (queued() > 0)
                QMetaObject::invokeMethod(this, &OtlpExporter::flush, Qt::QueuedConnection);
            return;
        }
        ++m_failures;
        const bool retryable = status == 0 || status == 429 || status == 502 || status == 503 || status == 504;
        if (retryable && m_enabled) {
            {
                QMutexLocker lock(&m_mutex);
                for (auto it = batch.rbegin(); it != batch.rend(); ++it)
                    m_queue.push_front(std::move(*it));
                while (int(m_queue.size()) > m_maxQueue) {
                    m_dropped += spanCount(m_queue.front());
                    m_queue.pop_front();
                }
            }
            m_backoffMs = qBound(1'000, m_backoffMs * 2, kMaxBackoffMs);
            qCWarning(lcTelemetry) << "OTLP export failed (" << (status ? QString::number(status) : reply->errorString())
                                   << "); retrying in" << m_backoffMs << "ms";
            QTimer::singleShot(m_backoffMs, this, [this] {
                m_backoffMs = 0;
                flush();
            });
        } else {
            m_dropped += spans;
            qCWarning(lcTelemetry) << "OTLP export refused with HTTP" << status << "; dropped" << spans << "spans";
        }
        Q_EMIT batchFinished(false);
    });
}

QString OtlpExporter::operationName(const QString &endpoint)
{
    if (endpoint.startsWith(QLatin1String("/v1/chat/completions")) || endpoint.startsWith(QLatin1String("/v1/responses")))
        return QStringLiteral("chat");
    if (endpoint.startsWith(QLatin1String("/v1/messages/count_tokens")))
        return {};
    if (endpoint.startsWith(QLatin1String("/v1/messages")))
        return QStringLiteral("chat");
    if (endpoint.startsWith(QLatin1String("/v1/completions")))
        return QStringLiteral("text_completion");
    if (endpoint.startsWith(QLatin1String("/v1/embeddings")))
        return QStringLiteral("embeddings");
    return {};
}

QString OtlpExporter::providerName(const QString &vendor, const QString &providerId)
{
    static const QHash<QString, QString> wellKnown{
        {QStringLiteral("openai"), QStringLiteral("openai")},       {QStringLiteral("anthropic"), QStringLiteral("anthropic")},
        {QStringLiteral("google"), QStringLiteral("gcp.gemini")},   {QStringLiteral("gemini"), QStringLiteral("gcp.gemini")},
        {QStringLiteral("mistral"), QStringLiteral("mistral_ai")},  {QStringLiteral("x-ai"), QStringLiteral("x_ai")},
        {QStringLiteral("xai"), QStringLiteral("x_ai")},            {QStringLiteral("deepseek"), QStringLiteral("deepseek")},
        {QStringLiteral("groq"), QStringLiteral("groq")},           {QStringLiteral("perplexity"), QStringLiteral("perplexity")},
        {QStringLiteral("cohere"), QStringLiteral("cohere")},
    };
    const QString v = vendor.isEmpty() ? providerId : vendor;
    return wellKnown.value(v.toLower(), v);
}

namespace {

// The request span's attributes (GenAI semantic conventions, then Gatehouse's own).
QJsonArray requestAttributes(const RequestRecord &r, const QString &op, const QString &provider, bool ok)
{
    QJsonArray a;
    a.append(str(QStringLiteral("gen_ai.operation.name"), op));
    if (!provider.isEmpty())
        a.append(str(QStringLiteral("gen_ai.provider.name"), provider));
    a.append(str(QStringLiteral("gen_ai.request.model"), r.requestedModel));
    if (!r.upstreamModel.isEmpty() && ok)
        a.append(str(QStringLiteral("gen_ai.response.model"), r.upstreamModel));
    addUsage(a, r.usage);
    if (r.cost)
        a.append(dbl(QStringLiteral("gatehouse.cost_usd"), toUsd(*r.cost)));
    a.append(boolean(QStringLiteral("gatehouse.priced"), r.cost.has_value()));
    a.append(str(QStringLiteral("gatehouse.request.id"), r.id));
    const std::pair<const char *, const QString *> optional[] = {{"gatehouse.key", &r.keyName},
                                                                 {"gatehouse.model_id", &r.modelId},
                                                                 {"gatehouse.provider.id", &r.provider},
                                                                 {"gatehouse.route", &r.route},
                                                                 {"gatehouse.session.id", &r.sessionId}};
    for (const auto &[name, value] : optional) {
        if (!value->isEmpty())
            a.append(str(QLatin1String(name), *value));
    }
    a.append(boolean(QStringLiteral("gatehouse.stream"), r.stream));
    if (r.ttftMs >= 0)
        a.append(integer(QStringLiteral("gatehouse.ttft_ms"), r.ttftMs));
    a.append(integer(QStringLiteral("gatehouse.attempts"), r.attempts));
    a.append(str(QStringLiteral("url.path"), r.endpoint));
    a.append(integer(QStringLiteral("http.response.status_code"), r.status));
    if (!ok)
        a.append(str(QStringLiteral("error.type"), QString::number(r.status)));
    return a;
}

// One event per target the request skipped, with why.
QJsonArray skippedTargetEvents(const RequestRecord &r)
{
    QJsonArray events;
    for (const AttemptRecord &at : r.attemptLog) {
        if (at.outcome != AttemptRecord::Outcome::Skipped)
            continue;
        events.append(QJsonObject{{QStringLiteral("timeUnixNano"), nanos(at.startedAtMs ? at.startedAtMs : r.startedAtMs)},
                                  {QStringLiteral("name"), QStringLiteral("gatehouse.target_skipped")},
                                  {QStringLiteral("attributes"), QJsonArray{str(QStringLiteral("gatehouse.model_id"), at.modelId),
                                                                            str(QStringLiteral("gatehouse.reason"), at.error)}}});
    }
    return events;
}

// The client span of one upstream attempt, a child of the request span `parentSpanId`.
QJsonObject attemptSpan(const RequestRecord &r, const AttemptRecord &at, const QString &op, const QString &provider,
                        const QString &traceId, const QString &parentSpanId)
{
    const bool attemptOk = at.outcome == AttemptRecord::Outcome::Ok;
    // The model as the provider knows it: the record has it for the attempt that served.
    const QString upstream = attemptOk && at.modelId == r.modelId && !r.upstreamModel.isEmpty()
                                 ? r.upstreamModel
                                 : at.modelId.mid(at.modelId.indexOf(QLatin1Char('/')) + 1);
    QJsonArray aa;
    aa.append(str(QStringLiteral("gen_ai.operation.name"), op));
    aa.append(str(QStringLiteral("gen_ai.provider.name"), provider));
    aa.append(str(QStringLiteral("gen_ai.request.model"), upstream));
    if (attemptOk) {
        aa.append(str(QStringLiteral("gen_ai.response.model"), upstream));
        addUsage(aa, r.usage);
        if (r.cost)
            aa.append(dbl(QStringLiteral("gatehouse.cost_usd"), toUsd(*r.cost)));
    }
    aa.append(str(QStringLiteral("gatehouse.model_id"), at.modelId));
    aa.append(str(QStringLiteral("gatehouse.provider.id"), at.provider));
    aa.append(integer(QStringLiteral("gatehouse.attempt.index"), at.index));
    aa.append(str(QStringLiteral("gatehouse.attempt.outcome"), QLatin1String(outcomeName(at.outcome))));
    if (at.status > 0)
        aa.append(integer(QStringLiteral("http.response.status_code"), at.status));
    if (!attemptOk)
        aa.append(str(QStringLiteral("error.type"), at.status > 0 ? QString::number(at.status) : QStringLiteral("connection")));
    const qint64 start = at.startedAtMs ? at.startedAtMs : r.startedAtMs;
    return QJsonObject{{QStringLiteral("traceId"), traceId},
                       {QStringLiteral("spanId"), hexId(8)},
                       {QStringLiteral("parentSpanId"), parentSpanId},
                       {QStringLiteral("name"), op + QLatin1Char(' ') + upstream},
                       {QStringLiteral("kind"), kSpanKindClient},
                       {QStringLiteral("startTimeUnixNano"), nanos(start)},
                       {QStringLiteral("endTimeUnixNano"), nanos(start + qMax<qint64>(0, at.latencyMs))},
                       {QStringLiteral("attributes"), aa},
                       {QStringLiteral("status"), status(attemptOk, at.error)}};
}

} // namespace

QJsonObject OtlpExporter::exportRequest(const QList<RequestRecord> &records) const
{
    const auto providerOf = [this](const QString &providerId) {
        return providerName(m_vendorOf ? m_vendorOf(providerId) : QString(), providerId);
    };
    QJsonArray spans;
    for (const RequestRecord &r : records) {
        const QString op = operationName(r.endpoint);
        // A caller that sent a valid traceparent gets this request's spans in its own trace.
        const QString traceId = r.traceId.isEmpty() ? hexId(16) : QString::fromLatin1(r.traceId);
        const QString requestSpanId = hexId(8);
        const bool ok = r.status >= 200 && r.status < 400;
        const QString provider = r.provider.isEmpty() ? QString() : providerOf(r.provider);
        const QString requested = r.requestedModel.isEmpty() ? QString() : QLatin1Char(' ') + r.requestedModel;
        QJsonObject span{{QStringLiteral("traceId"), traceId},
                         {QStringLiteral("spanId"), requestSpanId},
                         {QStringLiteral("name"), op + requested},
                         {QStringLiteral("kind"), kSpanKindServer},
                         {QStringLiteral("startTimeUnixNano"), nanos(r.startedAtMs)},
                         {QStringLiteral("endTimeUnixNano"), nanos(r.startedAtMs + qMax<qint64>(0, r.latencyMs))},
                         {QStringLiteral("attributes"), requestAttributes(r, op, provider, ok)},
                         {QStringLiteral("status"), status(ok, r.error)}};
        if (const QJsonArray events = skippedTargetEvents(r); !events.isEmpty())
            span.insert(QStringLiteral("events"), events);
        if (!r.parentSpanId.isEmpty())
            span.insert(QStringLiteral("parentSpanId"), QString::fromLatin1(r.parentSpanId));
        spans.append(span);
        for (const AttemptRecord &at : r.attemptLog) {
            if (at.outcome != AttemptRecord::Outcome::Skipped)
                spans.append(attemptSpan(r, at, op, providerOf(at.provider), traceId, requestSpanId));
        }
    }
    const QJsonObject resource{{QStringLiteral("attributes"),
                                QJsonArray{str(QStringLiteral("service.name"), QStringLiteral("gatehouse")),
                                           str(QStringLiteral("service.version"), QStringLiteral(GATEHOUSE_VERSION))}}};
    const QJsonObject scope{{QStringLiteral("name"), QStringLiteral("gatehouse")}, {QStringLiteral("version"), QStringLiteral(GATEHOUSE_VERSION)}};
    return QJsonObject{{QStringLiteral("resourceSpans"),
                        QJsonArray{QJsonObject{{QStringLiteral("resource"), resource},
                                               {QStringLiteral("scopeSpans"),
                                                QJsonArray{QJsonObject{{QStringLiteral("scope"), scope}, {QStringLiteral("spans"), spans}}}}}}}};
}

} // namespace gh
