// Exchange: its lifecycle, the admission stage (admission.h), the control endpoints and count_tokens.
// The other stages are in exchangeplan.cpp (key, body, planning), exchangereserve.cpp (budget),
// exchangeforward.cpp (attempts and failover), exchangerelay.cpp (the answer) and exchangesettle.cpp.
#include "gateway/exchange.h"
#include "gateway/exchangeshared.h"
#include "budget/reservation.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/admission.h"
#include "gateway/controlendpoints.h"
#include "gateway/gatewaycontext.h"
#include "gateway/refusal.h"
#include "formats/gemini/geminiinbound.h"
#include "formats/openai_chat/openaistream.h"
#include "gateway/secretscangate.h" // [secretscan]
#include "gateway/settlement.h"
#include "pricing/price.h"
#include "routing/datapolicycheck.h"
#include "routing/retrypolicy.h"
#include "store/requestjournal.h"
#include "gateway/capturegate.h"
#include "store/store.h"
#include "telemetry/telemetry.h"
#include "version.h"
#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QUrl>

namespace gh {

using namespace exchangedetail;

Exchange::Exchange(ClientConnection *connection, QByteArray method, QByteArray url, HttpHeaders headers, QByteArray body,
                   QElapsedTimer arrival, qint64 arrivalMs)
    : m_conn(connection)
    , m_ctx(connection->context())
    , m_method(std::move(method))
    , m_url(std::move(url))
    , m_headers(std::move(headers))
    , m_body(std::move(body))
    , m_arrival(arrival)
{
    m_record.id = newRequestId(arrivalMs);
    m_record.startedAtMs = arrivalMs;
    const qsizetype q = m_url.indexOf('?');
    m_path = q >= 0 ? m_url.left(q) : m_url;
    m_record.endpoint = QString::fromLatin1(m_path);
    m_record.sessionId = sessionIdFrom(m_headers.value("x-claude-code-session-id"));
    if (const QByteArray traceparent = m_headers.value("traceparent"); !traceparent.isEmpty()) {
        if (auto trace = traceContextFrom(traceparent)) {
            m_record.traceId = std::move(trace->traceId);
            m_record.parentSpanId = std::move(trace->parentSpanId);
        }
    }
    m_ctx->inFlight.fetch_add(1);
    m_counted = true;
}

Exchange::~Exchange()
{
    m_call.reset();
    if (!m_finished && m_model) {
        // Destroyed without an outcome (should not happen): never leave a reservation behind.
        if (m_reservation)
            m_ctx->ledger.release(m_reservation);
    }
    uncount();
}

void Exchange::uncount()
{
    if (m_counted)
        m_ctx->inFlight.fetch_sub(1);
    m_counted = false;
}

QList<QPair<QByteArray, QByteArray>> Exchange::baseHeaders() const
{
    // Literal names (no allocation each) and room for the caller's content-type: this runs for every
    // response.
    QList<QPair<QByteArray, QByteArray>> h;
    h.reserve(8);
    h.emplaceBack(QByteArrayLiteral("x-gatehouse-request-id"), m_record.id.toLatin1());
    if (m_model) {
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-provider"), m_model->config.provider.toUtf8());
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-model"), m_model->config.id.toUtf8());
    }
    if (!m_routeId.isEmpty())
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-route"), m_routeId.toUtf8());
    if (m_attemptsMade > 1)
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-attempts"), QByteArray::number(m_attemptsMade));
    if (!m_cache.status.isEmpty()) // [response cache]
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-cache"), m_cache.status);
    if (m_clamp)
        h.emplaceBack(QByteArrayLiteral("x-gatehouse-max-tokens-clamped"),
                      QByteArray::number(m_clamp->first) + "->" + QByteArray::number(m_clamp->second));
    const QByteArray origin = m_headers.value("origin");
    if (!origin.isEmpty()) {
        h.emplaceBack(QByteArrayLiteral("access-control-allow-origin"), origin);
        h.emplaceBack(QByteArrayLiteral("vary"), QByteArrayLiteral("Origin"));
    }
    return h;
}

void Exchange::respondJson(int status, const QByteArray &json)
{
    auto h = baseHeaders();
    h.emplaceBack(QByteArrayLiteral("content-type"), QByteArrayLiteral("application/json"));
    m_conn->sendResponse(status, h, json);
    done();
}

void Exchange::respondError(const GatewayError &error)
{
    auto h = baseHeaders();
    h.emplaceBack(QByteArrayLiteral("content-type"), QByteArrayLiteral("application/json"));
    h.append(error.extraHeaders);
    m_conn->sendResponse(error.status, h, errorBody(error));
    done();
}

QByteArray Exchange::errorBody(const GatewayError &error) const
{
    return m_client->errorBody(errorInfo(error));
}

void Exchange::done()
{
    // Answered: no longer in flight, though the object itself is deleted on the next turn of the
    // event loop. The client may already have the response (writes are flushed at once) and send
    // its next request, which must not count this one.
    uncount();
    captureEnd(*m_ctx, m_key, m_record, m_body, m_conn); // [capture]
    if (m_conn)
        m_conn->exchangeFinished();
}

std::optional<GatewayError> Exchange::admit()
{
    return admitRequest(m_headers, m_ctx->shuttingDown.load(), m_ctx->settings()->allowedOrigins);
}

void Exchange::start()
{
    if (auto error = admit()) {
        m_headers = HttpHeaders(); // never echo a refused origin
        respondError(*error);
        return;
    }
    const bool isGet = m_method == "GET" || m_method == "HEAD";
    const bool isPost = m_method == "POST";
    if (m_method == "OPTIONS") {
        auto h = baseHeaders();
        h.emplaceBack("access-control-allow-methods", "GET, POST, OPTIONS");
        h.emplaceBack("access-control-allow-headers", "authorization, content-type, x-api-key, openai-beta, anthropic-version, anthropic-beta");
        h.emplaceBack("access-control-max-age", "600");
        m_conn->sendResponse(204, h, {});
        done();
        return;
    }
    const std::optional<Route> route = matchRoute(m_path);
    if (!route) {
        respondError(GatewayError::notFound(QStringLiteral("Unknown endpoint %1 %2.").arg(QString::fromLatin1(m_method), QString::fromLatin1(m_path)), "unknown_endpoint"));
        return;
    }
    m_client = &adapterFor(route->client);
    if ((route->post && !isPost) || (!route->post && !isGet)) {
        GatewayError e = GatewayError::badRequest(QStringLiteral("Method %1 is not allowed on %2; use %3.")
                                                      .arg(QString::fromLatin1(m_method), QLatin1String(route->path), QLatin1String(route->post ? "POST" : "GET")),
                                                  "method_not_allowed");
        e.status = 405;
        e.extraHeaders.emplaceBack("allow", route->post ? "POST" : "GET");
        respondError(e);
        return;
    }
    switch (route->handler) {
    case Handler::Proxy: handleModelRequest(*route); return;
    case Handler::CountTokens: handleCountTokens(*route); return;
    default: handleControl(route->handler); return;
    }
}

void Exchange::handleControl(Handler handler)
{
    if (handler == Handler::Root) {
        respondJson(200, rootBody());
        return;
    }
    if (handler == Handler::Health) {
        respondJson(200, healthBody(*m_ctx));
        return;
    }
    if (handler == Handler::Metrics) { // its own token, not a key
        handleMetrics();
        return;
    }
    GatewayError error;
    const KeyEntry *key = authenticate(&error);
    if (!key) {
        respondError(error);
        return;
    }
    switch (handler) {
    case Handler::Models: respondJson(200, modelsBody(*m_ctx, *m_registry, *key)); return;
    case Handler::GeminiModels: respondJson(200, geminiModelsBody(*m_registry, *key)); return;
    case Handler::KeyInfo: respondJson(200, keyInfoBody(*m_ctx, *key)); return;
    case Handler::KeyResume: {
        QString why;
        if (const auto body = keyResumeBody(*m_ctx, *key, m_body, &why))
            respondJson(200, *body);
        else
            respondError(GatewayError::badRequest(why));
        return;
    }
    default: respondError(GatewayError::internal(QStringLiteral("No control endpoint here."))); return;
    }
}

const KeyEntry *Exchange::authenticate(GatewayError *error)
{
    QByteArray secret;
    const QByteArray auth = m_headers.value("authorization");
    if (auth.size() > 7 && auth.left(7).toLower() == "bearer ")
        secret = auth.mid(7).trimmed();
    else if (m_headers.contains("x-api-key"))
        secret = m_headers.value("x-api-key").trimmed();
    else if (m_headers.contains("x-goog-api-key"))
        secret = m_headers.value("x-goog-api-key").trimmed(); // Gemini clients
    else if (m_client->format() == WireFormat::Gemini)
        secret = queryValue(m_url, "key").trimmed(); // Gemini's ?key=
    if (secret.isEmpty()) {
        *error = GatewayError::unauthorized(QStringLiteral("Missing API key: send your Gatehouse key as 'Authorization: Bearer <key>', 'x-api-key: <key>' or (Gemini clients) 'x-goog-api-key: <key>'."));
        return nullptr;
    }
    m_registry = m_ctx->registry.snapshot();
    // A small per-thread memo of secret -> SHA-256: a tool sends the same key on every request.
    thread_local QHash<QByteArray, QByteArray> memo;
    auto memoIt = memo.constFind(secret);
    if (memoIt == memo.cend()) {
        if (memo.size() >= 256)
            memo.clear();
        memoIt = memo.insert(secret, hashSecret(QByteArrayView(secret)));
    }
    const KeyEntry *key = m_registry->keyByHash(*memoIt);
    if (!key || key->revoked) {
        *error = GatewayError::unauthorized(QStringLiteral("Invalid Gatehouse key%1.").arg(key ? QStringLiteral(" (revoked)") : QString()));
        return nullptr;
    }
    m_record.keyId = key->id;
    m_record.keyName = key->name;
    return key;
}

// Telemetry: GET /metrics, the Prometheus exposition of app/telemetry, behind its own token.
void Exchange::handleMetrics()
{
    const ScrapeAccess access = m_ctx->telemetry ? scrapeAccess(m_ctx->settings()->metrics, m_headers.value("authorization"))
                                                 : ScrapeAccess::Off;
    if (access == ScrapeAccess::Off) {
        respondError(GatewayError::notFound(QStringLiteral("GET /metrics is off: set settings.metrics.token in the config to turn it on."),
                                            "unknown_endpoint"));
        return;
    }
    if (access == ScrapeAccess::Unauthorized) {
        GatewayError e = GatewayError::unauthorized(QStringLiteral("GET /metrics needs 'Authorization: Bearer <settings.metrics.token>'."));
        e.extraHeaders.emplaceBack("www-authenticate", "Bearer realm=\"gatehouse-metrics\"");
        respondError(e);
        return;
    }
    MetricsRegistry::Live live;
    live.inFlight = m_ctx->inFlight.load() - 1; // not this scrape
    live.openConnections = m_ctx->openConnections.load();
    m_ctx->telemetry->fillLive(live);
    const QByteArray body = m_ctx->telemetry->metrics().render(*m_ctx->registry.snapshot(), m_ctx->ledger, m_ctx->health, live,
                                                               QDateTime::currentMSecsSinceEpoch());
    auto h = baseHeaders();
    h.emplaceBack(QByteArrayLiteral("content-type"), QByteArray(kPrometheusContentType));
    m_conn->sendResponse(200, h, body);
    done();
}

void Exchange::handleCountTokens(const Route &route)
{
    // Not a billed request: no reservation and no log row. A provider of the client's own format
    // counts for real; for the others Gatehouse estimates, in the client's shape.
    m_noLog = true;
    m_endpoint = Endpoint::CountTokens;
    GatewayError error;
    m_key = authenticate(&error);
    if (!m_key) {
        respondError(error);
        return;
    }
    const bool gemini = m_client->format() == WireFormat::Gemini;
    const QByteArray original = m_body;
    QByteArray counted = m_body;
    if (gemini) {
        // countTokens wraps the request: {"contents": [...]} or {"generateContentRequest": {...}}.
        const QJsonObject o = QJsonDocument::fromJson(m_body).object();
        const QJsonObject inner = o.value(QLatin1String("generateContentRequest")).toObject();
        if (!inner.isEmpty())
            counted = QJsonDocument(inner).toJson(QJsonDocument::Compact);
        Route asGenerate = route;
        asGenerate.endpoint = Endpoint::ChatCompletions;
        m_body = counted;
        if (auto bad = admitBody(asGenerate)) {
            respondError(*bad);
            return;
        }
        m_endpoint = Endpoint::CountTokens;
    } else if (auto bad = admitBody(route)) {
        respondError(*bad);
        return;
    }
    QString name = m_registry->applyAliases(m_fields.model);
    if (auto r = m_registry->routes.constFind(name); r != m_registry->routes.cend() && !r->targets.isEmpty())
        name = r->targets.first().model; // a route counts with its first target
    auto model = m_registry->resolve(name, nullptr, nullptr, QString::fromUtf8(m_headers.value("x-gatehouse-provider")).trimmed());
    if (!model) {
        respondError(GatewayError::notFound(QStringLiteral("The model '%1' does not exist: use provider/model or a route (see GET /v1/models).").arg(m_fields.model)));
        return;
    }
    if (!m_key->allows(model->config.id)) {
        respondError(GatewayError::badRequest(QStringLiteral("Key '%1' may not use model '%2': add it to the key's allow_models.").arg(m_key->name, model->config.id), "model_not_allowed"));
        return;
    }
    m_model = model;
    if (m_client->nativeProvider() == model->provider->config.format && (gemini || m_client->format() == WireFormat::Anthropic)) {
        UpstreamRequest r;
        if (!prepareUpstreamBody(&r.body, &r.path, &error)) {
            respondError(error);
            return;
        }
        if (gemini)
            r.body = original; // countTokens' own body, as the client sent it
        forward(std::move(r));
        return;
    }
    const qint64 tokens = estimateTokens(counted.size());
    respondJson(200, gemini ? geminiCountTokensBody(tokens) : "{\"input_tokens\":" + QByteArray::number(tokens) + "}");
}

void Exchange::onOutputDrained()
{
    if (m_call)
        m_call->setPaused(false);
}

void Exchange::clientGone()
{
    const bool forwarded = m_call != nullptr || m_headSent;
    m_call.reset();
    if (m_retryTimer)
        m_retryTimer->stop();
    if (!m_finished && m_model) {
        if (forwarded) {
            // The provider saw the request: charge what it produced (estimated when it said nothing).
            estimateMissingUsage();
            finalize(499, QStringLiteral("client closed the connection before the response was complete"), true);
        } else {
            finalize(499, QStringLiteral("client closed the connection"), false);
        }
    }
    captureEnd(*m_ctx, m_key, m_record, m_body, m_conn); // [capture]
    m_conn = nullptr;
}

void Exchange::abortForShutdown()
{
    m_call.reset();
    if (m_retryTimer)
        m_retryTimer->stop();
    if (m_finished)
        return;
    const GatewayError e = GatewayError::unavailable(QStringLiteral("Gatehouse is shutting down; the request was cut."), "shutting_down");
    if (m_relay)
        bodyRelayFailed(e.message);
    else if (m_headSent)
        failMidStream(e);
    else if (m_model)
        failBeforeResponse(e);
    else
        respondError(e);
}

} // namespace gh
