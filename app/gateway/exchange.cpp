#include "gateway/exchange.h"
#include "budget/reservation.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/controlendpoints.h"
#include "gateway/gatewaycontext.h"
#include "gateway/refusal.h"
#include "formats/gemini/geminiinbound.h"
#include "formats/openai_chat/openaistream.h"
#include "gateway/secretscangate.h" // [secretscan]
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

namespace {

// Claude Code's x-claude-code-session-id (a UUID) for the log. Anything else a client puts there is
// kept only if it is a short token (at most 128 of [A-Za-z0-9._:-]); otherwise the row has none.
QString sessionIdFrom(const QByteArray &value)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty() || v.size() > 128)
        return {};
    for (const char c : v) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == ':' || c == '-';
        if (!ok)
            return {};
    }
    return QString::fromLatin1(v);
}

constexpr qint64 kDefaultMaxOutput = 16'384;            // when neither the request nor the model says
// Non-streamed responses: a success the client takes as it is (no translation) is relayed as it
// arrives once it outgrows kRelayThreshold (bodyrelay.h); below that it is held so that a body that is
// not JSON can still fail over. What must be held whole is bounded: a translated success (the
// translators need the whole document) and count_tokens by kMaxBufferedBody, an error by kMaxErrorBody.
constexpr qint64 kRelayThreshold = 1024 * 1024;
constexpr qint64 kMaxBufferedBody = 64ll * 1024 * 1024;
constexpr qint64 kMaxErrorBody = 4ll * 1024 * 1024;
constexpr qint64 kHighWater = 1024 * 1024;
// Room in the input bound for the output-limit field a clamp may add to the body.
constexpr qint64 kClampEditBytes = 48;
// Anthropic's smallest thinking budget (budget_tokens >= 1024, and below max_tokens).
constexpr qint64 kMinThinkingBudget = 1024;
// System prompt + tools at least this long (about 1,000 tokens, the providers' smallest cacheable
// prefix) get an affinity entry of their own, shared by every conversation that starts with them.
constexpr qsizetype kAffinityHeadBytes = 4096;

// A per-thread generator seeded from the system CSPRNG, for request ids, weighted draws and backoff
// jitter: none of them is secret, and the global generator takes a lock for every number.
QRandomGenerator &threadRng()
{
    thread_local QRandomGenerator rng(QRandomGenerator::system()->generate());
    return rng;
}

// "req_", 9 base-36 digits of the arrival time in ms (good until the year 5188), 11 random ones
// (56 bits). Ids that grow with time are appended at the end of the log's unique index instead of
// inserted at random places in it: with random ids the writer touched one index page per row, which
// cost more than the row itself once the log outgrew SQLite's page cache (writer_bench).
QString newRequestId(qint64 arrivalMs)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char id[24] = {'r', 'e', 'q', '_'};
    quint64 t = quint64(qMax<qint64>(0, arrivalMs));
    for (int i = 12; i >= 4; --i, t /= 36)
        id[i] = digits[t % 36];
    QRandomGenerator &rng = threadRng();
    for (int i = 13; i < 24; ++i)
        id[i] = digits[rng.bounded(36)];
    return QString::fromLatin1(id, 24);
}

QString usd(NanoUsd v)
{
    const double d = toUsd(v);
    return QStringLiteral("$") + QString::number(d, 'f', d < 0.01 ? 6 : 4);
}

// Loopback names and addresses only: a DNS-rebinding page sends its own host name.
bool isLoopbackHost(QByteArrayView hostHeader)
{
    QByteArray host = hostHeader.toByteArray().trimmed().toLower();
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        host = host.mid(1, close - 1);
    } else if (const qsizetype colon = host.lastIndexOf(':'); colon >= 0 && host.count(':') == 1) {
        host.truncate(colon);
    }
    if (host == "localhost" || host.endsWith(".localhost"))
        return true;
    QHostAddress address;
    return address.setAddress(QString::fromLatin1(host)) && address.isLoopback();
}

ErrorInfo errorInfo(const GatewayError &e)
{
    return ErrorInfo{e.status, e.type, e.code, e.message};
}

} // namespace

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
    GatewayContext *ctx = m_ctx;
    if (ctx->shuttingDown.load())
        return GatewayError::unavailable(QStringLiteral("Gatehouse is shutting down; retry in a moment."), "shutting_down");
    const QByteArray host = m_headers.value("host");
    int hostCount = 0;
    for (const auto &h : m_headers.list())
        hostCount += h.first == "host";
    if (hostCount > 1)
        return GatewayError::badRequest(QStringLiteral("More than one Host header."), "duplicate_host");
    if (host.isEmpty())
        return GatewayError::badRequest(QStringLiteral("Missing Host header."), "missing_host");
    if (!isLoopbackHost(host))
        return GatewayError::forbidden(QStringLiteral("Host '%1' is not allowed: Gatehouse only answers requests addressed to localhost or a loopback address.").arg(QString::fromLatin1(host)), "host_not_allowed");
    if (m_headers.contains("origin")) {
        const QString origin = QString::fromLatin1(m_headers.value("origin"));
        // An origin is scheme://host[:port], all of it case-insensitive; the settings hold it in lower case.
        if (!ctx->settings()->allowedOrigins.contains(origin.toLower()))
            return GatewayError::forbidden(QStringLiteral("Requests from the browser origin '%1' are not allowed; add it to settings.allowed_origins to allow them.").arg(origin), "origin_not_allowed");
    }
    return std::nullopt;
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

void Exchange::handleModelRequest(const Route &route)
{
    GatewayContext *ctx = m_ctx;
    const Endpoint endpoint = route.endpoint;
    m_endpoint = endpoint;
    GatewayError error;
    m_key = authenticate(&error);
    auto refuse = [&](const GatewayError &e) {
        m_record.refusal = refusalKind(e);
        finalize(e.status, e.message, false);
        respondError(e);
    };
    if (!m_key) {
        refuse(error);
        return;
    }
    captureBegin(*ctx, *m_key, m_conn); // [capture]
    if (ctx->pausedAll.load()) {
        refuse(GatewayError::paused(QStringLiteral("Gatehouse is paused: every key is stopped until it is resumed in the Gatehouse window. Retrying will not help."),
                                    m_client->pausesWith403()));
        return;
    }
    if (ctx->store && ctx->store->isBufferFull()) {
        // Not logged: the log is what cannot take it. Nothing was forwarded or charged.
        m_finished = true;
        const Store::LogHealth health = ctx->store->logHealth();
        respondError(GatewayError::unavailable(
            QStringLiteral("Gatehouse cannot write its request log (%1): %2 answered requests wait in memory, so new "
                           "requests are refused until it can write again.").arg(health.error).arg(health.waiting),
            "request_log_unavailable"));
        return;
    }
    if (m_key->paused) {
        refuse(GatewayError::forbidden(QStringLiteral("Key '%1' is paused.").arg(m_key->name), "key_paused"));
        return;
    }
    if (auto bad = admitBody(route)) {
        refuse(*bad);
        return;
    }
    m_record.requestedModel = m_fields.model;
    m_record.stream = m_fields.stream;

    m_estimatedInput = estimateTokens(m_body.size());
    m_traits.estimatedInputTokens = m_estimatedInput;
    m_traits.expectedOutputTokens = m_fields.maxTokens.value_or(Router::kTypicalOutputTokens);
    m_traits.tools = m_fields.hasTools;
    m_traits.images = m_fields.hasImages;
    m_traits.jsonSchema = m_fields.wantsJsonSchema;
    if (m_fields.prefixHash)
        m_traits.prefixHashes.append(m_fields.prefixHash);
    if (m_fields.headHash && m_fields.headBytes >= kAffinityHeadBytes)
        m_traits.prefixHashes.append(m_fields.headHash);
    m_record.promptBlocks = m_fields.promptBlocks;
    m_record.promptSystemBytes = m_fields.systemBytes;
    m_record.promptToolsBytes = m_fields.toolsBytes;
    if (auto paused = guardrailAdmit(*ctx, *m_key, m_record.sessionId, m_body, m_fields.prefixHash, m_record.id, m_client->pausesWith403(), &m_guard)) {
        refuse(*paused);
        return;
    }

    if (!planTargets(&error)) {
        refuse(error);
        return;
    }
    // [response cache] lookup: after the key's model and budget checks, before rate limits and any
    // reservation (a hit is not forwarded and costs nothing).
    const auto cachedRoute = m_registry->routes.constFind(m_routeId);
    if (auto hit = responseCacheLookup(ctx->responseCache, *m_key, cachedRoute != m_registry->routes.cend() ? &*cachedRoute : nullptr,
                                       m_headers, m_path, m_body, m_direct ? m_plan.targets.constFirst().config.id : m_routeId.isEmpty() ? m_fields.model : m_routeId,
                                       &m_cache)) {
        answerFromCache(*hit);
        return;
    }
    m_record.cacheStatus = QString::fromLatin1(m_cache.status);

    // The key's own rate limits, checked and recorded atomically.
    if (m_key->rpm || m_key->tpm) {
        const RateLimiter::Limits limits{m_key->rpm, m_key->tpm};
        const qint64 tokens = m_estimatedInput + (endpoint == Endpoint::Embeddings ? 0 : m_traits.expectedOutputTokens);
        const auto r = ctx->keyLimits.acquire(QString::number(m_key->id), limits, tokens, QDateTime::currentMSecsSinceEpoch());
        if (!r.admitted) {
            if (r.retryAfterMs < 0) {
                refuse(GatewayError::badRequest(QStringLiteral("This request (about %1 tokens) is larger than key '%2''s limit of %3 tokens per minute.")
                                                    .arg(tokens).arg(m_key->name).arg(r.limitValue), "rate_limit_too_large"));
                return;
            }
            GatewayError e = GatewayError::rateLimited(
                QStringLiteral("Rate limit reached for key '%1': %2 %3 per minute. Retry in %4 s.")
                    .arg(m_key->name)
                    .arg(r.limitValue)
                    .arg(r.limit == QLatin1String("rpm") ? QStringLiteral("requests") : QStringLiteral("tokens"))
                    .arg((r.retryAfterMs + 999) / 1000),
                r.retryAfterMs);
            e.extraHeaders.emplaceBack("x-ratelimit-limit-" + QByteArray(r.limit == QLatin1String("rpm") ? "requests" : "tokens"),
                                       QByteArray::number(r.limitValue));
            refuse(e);
            return;
        }
        m_keyTicket = r.ticket;
    }

    m_maxAttempts = qMax(ctx->settings()->retry.maxAttempts, int(m_plan.targets.size()));
    startAttempt();
}

std::optional<GatewayError> Exchange::admitBody(const Route &route)
{
    // [secretscan] The prompt is scanned (and redacted) as the client sent it, before anything reads
    // or forwards it.
    if (auto secret = secretScanAdmit(*m_key, &m_body, &m_record))
        return secret;
    // m_body ends up in m_bodyFormat: the client's own format, or, for a client whose format is not
    // read natively by the gateway (Gemini), the internal form, translated once here; the client's
    // bytes are kept for a provider of its own format (prepareUpstreamBody()).
    m_bodyFormat = m_client;
    if (m_client->format() == WireFormat::Gemini) {
        TranslateError terr;
        auto internal = geminiToOpenAIChat(m_body, route.model, route.stream, &terr);
        if (!internal && terr.feature.isEmpty())
            return GatewayError::badRequest(terr.message); // not a request at all
        if (!internal) {
            // Something only Gemini can do (a built-in tool, audio): a Gemini target still takes the
            // request as it is; any other target refuses it (prepareUpstreamBody()).
            m_untranslatable = terr;
            QJsonObject stand{{QStringLiteral("model"), route.model}, {QStringLiteral("messages"), QJsonArray{}}};
            if (route.stream)
                stand.insert(QStringLiteral("stream"), true);
            internal = QJsonDocument(stand).toJson(QJsonDocument::Compact);
        }
        m_nativeBody = std::exchange(m_body, *internal);
        m_bodyFormat = &adapterFor(WireFormat::OpenAIChat);
    }
    QString bodyError;
    auto fields = inspectRequestBody(m_body, route.endpoint, &bodyError);
    if (!fields)
        return GatewayError::badRequest(bodyError);
    m_fields = *fields;
    return std::nullopt;
}

bool Exchange::planTargets(GatewayError *error)
{
    const RegistrySnapshot &registry = *m_registry;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QList<RouteTarget> targets;
    RouteStrategy strategy = RouteStrategy::Ordered;
    const QString requested = registry.applyAliases(m_fields.model);
    const QString pinned = QString::fromUtf8(m_headers.value("x-gatehouse-provider")).trimmed();
    if (auto route = registry.routes.constFind(requested); route != registry.routes.cend()) {
        m_routeId = route->id;
        m_record.route = route->id;
        targets = route->targets;
        strategy = route->strategy;
    } else {
        RegistrySnapshot::ResolveError resolveError;
        QStringList candidates;
        auto model = registry.resolve(requested, &resolveError, &candidates, pinned);
        const QString shown = requested == m_fields.model ? m_fields.model : QStringLiteral("%1 (alias of %2)").arg(requested, m_fields.model);
        if (!model) {
            if (!pinned.isEmpty() && !registry.providers.contains(pinned)) {
                *error = GatewayError::badRequest(QStringLiteral("The x-gatehouse-provider header names '%1', which is not a configured provider.").arg(pinned), "unknown_provider");
                return false;
            }
            switch (resolveError) {
            case RegistrySnapshot::ResolveError::Ambiguous:
                *error = GatewayError::badRequest(QStringLiteral("Model '%1' is offered by several providers; name one of: %2 (or send the header x-gatehouse-provider: <provider id>).").arg(shown, candidates.join(QStringLiteral(", "))), "ambiguous_model");
                return false;
            case RegistrySnapshot::ResolveError::ProviderDisabled:
                *error = GatewayError::notFound(QStringLiteral("The provider of model '%1' is disabled.").arg(shown));
                return false;
            default:
                *error = GatewayError::notFound(QStringLiteral("The model '%1' does not exist: no enabled provider serves it. Use provider/model, a route or an alias (see GET /v1/models).").arg(shown));
                return false;
            }
        }
        if (m_fields.fallbackModels.isEmpty()) {
            // One model named: it is the only target, with no capability guessing (the provider decides).
            if (!m_key->allows(model->config.id)) {
                // A policy refusal, not an authentication failure: clients show 401/403 as "log in again".
                *error = GatewayError::badRequest(QStringLiteral("Key '%1' may not use model '%2': add it to the key's allow_models (or pick a model the key allows, see GET /v1/models).").arg(m_key->name, model->config.id), "model_not_allowed");
                return false;
            }
            if (const QString why = dataPolicyRefusal(*model, *m_key); !why.isEmpty()) {
                *error = dataPolicyError(model->config.id, why);
                return false;
            }
            if (!model->priceAt(QDateTime::currentDateTimeUtc()).isPriced() && m_key->limits.any() && !m_key->allowUnpriced) {
                *error = GatewayError::budgetExhausted(QStringLiteral("Model '%1' has no known price, so key '%2' cannot keep its spending limits with it. Set a price for the model (Providers page, or \"price\" in the config), or set allow_unpriced on the key.").arg(model->config.id, m_key->name));
                error->code = "model_unpriced";
                return false;
            }
            m_direct = true;
            m_plan.targets = {*model};
            m_plan.decidedBy = QStringLiteral("named");
            return true;
        }
        targets.append(RouteTarget{model->config.id, 1});
        for (const QString &name : m_fields.fallbackModels) {
            if (auto m = registry.resolve(registry.applyAliases(name), nullptr, nullptr, pinned))
                targets.append(RouteTarget{m->config.id, 1});
            else
                targets.append(RouteTarget{name, 1}); // the planner skips it and says why
        }
    }
    GatewayContext *ctx = m_ctx;
    const Router router(ctx->health, ctx->affinity);
    const QHash<QString, std::shared_ptr<const ProviderEntry>> &providers = registry.providers;
    const qint64 tokens = m_estimatedInput + m_traits.expectedOutputTokens;
    m_plan = router.plan(registry, m_routeId, strategy, targets, m_traits, *m_key, now, [] { return threadRng().generateDouble(); },
                         [&](const QString &providerId) {
                             const auto p = providers.value(providerId);
                             if (!p || (!p->config.rpm && !p->config.tpm))
                                 return true;
                             return ctx->providerLimits.hasRoom(providerId, {p->config.rpm, p->config.tpm}, tokens, now);
                         });
    for (const SkippedTarget &s : m_plan.skipped)
        logSkip(s.modelId, s.provider, s.reason, now);
    if (m_plan.targets.isEmpty()) {
        QStringList reasons;
        for (const SkippedTarget &s : m_plan.skipped)
            reasons.append(QStringLiteral("%1: %2").arg(s.modelId, s.reason));
        const QString what = m_routeId.isEmpty() ? QStringLiteral("the models listed") : QStringLiteral("route '%1'").arg(m_routeId);
        *error = GatewayError::badRequest(QStringLiteral("No target of %1 can serve this request (%2).").arg(what, reasons.join(QStringLiteral("; "))), "no_capable_target");
        // Every target refused by the key's require_policy: a policy refusal, not a capability gap.
        if (!m_plan.skipped.isEmpty()
            && std::all_of(m_plan.skipped.cbegin(), m_plan.skipped.cend(), [](const SkippedTarget &s) { return isDataPolicyReason(s.reason); })) {
            error->code = "data_policy_refused";
            error->extraHeaders.emplaceBack("x-should-retry", "false");
        }
        return false;
    }
    return true;
}

void Exchange::logSkip(const QString &modelId, const QString &provider, const QString &reason, qint64 nowMs)
{
    AttemptRecord a;
    a.index = int(m_record.attemptLog.size()) + 1;
    a.modelId = modelId;
    a.provider = provider;
    a.outcome = AttemptRecord::Outcome::Skipped;
    a.error = reason;
    a.startedAtMs = nowMs;
    m_record.attemptLog.append(a);
}

void Exchange::skipTarget(const ModelEntry &model, const QString &reason)
{
    logSkip(model.config.id, model.config.provider, reason, QDateTime::currentMSecsSinceEpoch());
}

void Exchange::scheduleAttempt(qint64 delayMs)
{
    // Created only when a request retries or waits: most requests never need it.
    if (!m_retryTimer) {
        m_retryTimer = std::make_unique<QTimer>();
        m_retryTimer->setSingleShot(true);
        m_retryTimer->setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5% early: before a Retry-After
        QObject::connect(m_retryTimer.get(), &QTimer::timeout, [this] { startAttempt(); });
    }
    m_retryTimer->start(int(qMin<qint64>(delayMs, INT_MAX)));
}

bool Exchange::reserveFor(const ModelEntry &model, UpstreamRequest *request, GatewayError *error)
{
    // The worst case: the input bound (see budget/reservation.h) at the highest input-side price,
    // plus the most output the request allows.
    const ModelPrice price = model.priceAt(QDateTime::currentDateTimeUtc()); // the price in force now
    const qint64 modelMax = model.config.maxOutputTokens;
    qint64 asked = 0;
    if (m_endpoint != Endpoint::Embeddings) {
        asked = m_fields.maxTokens.value_or(modelMax > 0 ? modelMax : kDefaultMaxOutput);
        if (modelMax > 0)
            asked = qMin(asked, modelMax);
    }
    m_outputLimit = asked;
    m_inputBound = inputTokenBound({qMax(m_body.size(), request->body.size()) + kClampEditBytes, m_fields.imageCount, m_fields.hasTools},
                                   model.provider->config.format, model.config.upstreamModel);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    std::optional<qint64> thinkingBudget;
    // Two passes at most: the full request, then the clamped one. Another request may take what
    // remained between them; the clamp is then computed again from the new refusal (a third pass).
    for (int pass = 0; pass < 3; ++pass) {
        const NanoUsd worstCase = price.isPriced() ? worstCaseCost(m_inputBound, m_outputLimit, price).value_or(0) : 0;
        auto reservation = m_ctx->ledger.reserve(m_key->id, worstCase, now);
        if (auto *granted = std::get_if<BudgetLedger::Reservation>(&reservation)) {
            m_reservation = *granted;
            if (m_outputLimit == asked)
                return true;
            if (!clampOutputLimit(model, asked, m_outputLimit, thinkingBudget, request, error)) {
                m_ctx->ledger.release(m_reservation);
                m_reservation = {};
                return false;
            }
            return true;
        }
        const auto &refusal = std::get<BudgetLedger::Refusal>(reservation);
        const BudgetPolicy &policy = m_key->budget;
        const qint64 fits = price.isPriced() ? outputTokensThatFit(refusal.remaining, m_inputBound, m_outputLimit, price) : -1;
        if (m_endpoint == Endpoint::Embeddings || !price.isPriced()) {
            *error = budgetRefusal(refusal, model, -1, QString());
            return false;
        }
        if (policy.onShortBudget == ShortBudget::Refuse) {
            *error = budgetRefusal(refusal, model, fits, QStringLiteral("The key refuses such requests instead of lowering their output limit (on_short_budget: \"refuse\")."));
            return false;
        }
        if (fits < policy.minOutputTokens) {
            *error = budgetRefusal(refusal, model, fits,
                                   fits < 0 ? QString()
                                            : QStringLiteral("Gatehouse lowers the output limit only down to the key's min_output_tokens (%1).").arg(policy.minOutputTokens));
            return false;
        }
        if (m_fields.thinkingBudget && *m_fields.thinkingBudget >= fits) {
            // budget_tokens must stay below max_tokens: keep min_output_tokens for the answer when
            // possible, never below the provider's smallest thinking budget.
            const qint64 budget = qMax(kMinThinkingBudget, fits - policy.minOutputTokens);
            if (budget >= fits) {
                *error = budgetRefusal(refusal, model, fits,
                                       QStringLiteral("Lowering max_tokens to %1 leaves no room for thinking.budget_tokens (%2; at least %3 and below max_tokens).")
                                           .arg(fits).arg(*m_fields.thinkingBudget).arg(kMinThinkingBudget));
                return false;
            }
            thinkingBudget = budget;
        } else {
            thinkingBudget.reset();
        }
        m_outputLimit = qMin(fits, asked);
    }
    *error = GatewayError::budgetExhausted(QStringLiteral("Key '%1''s budget is being taken by concurrent requests; retry in a moment.").arg(m_key->name));
    return false;
}

bool Exchange::clampOutputLimit(const ModelEntry &model, qint64 asked, qint64 limit, std::optional<qint64> thinkingBudget,
                                UpstreamRequest *request, GatewayError *error)
{
    // The field a body without one gets: OpenAI's own API wants max_completion_tokens on chat
    // (reasoning models refuse max_tokens); compatible servers and the other endpoints use their
    // documented names.
    QByteArrayView name = "max_tokens";
    if (m_endpoint == Endpoint::Responses)
        name = "max_output_tokens";
    else if (m_endpoint == Endpoint::ChatCompletions && model.provider->host.endsWith("api.openai.com"))
        name = "max_completion_tokens";
    QByteArray edited = rewriteOutputLimit(m_body, m_fields, limit, thinkingBudget, name);
    QString why;
    auto fields = inspectRequestBody(edited, m_endpoint, &why);
    if (!fields || fields->maxTokens != limit) {
        *error = GatewayError::internal(QStringLiteral("Gatehouse could not lower the request's output limit: %1").arg(why));
        return false;
    }
    m_body = std::move(edited);
    m_fields = *fields;
    m_nativeBody.clear(); // the client's own bytes no longer carry the limit: the edited body is translated
    if (!prepareUpstreamBody(&request->body, &request->path, error))
        return false;
    // A failover that clamps again still reports what the client asked for.
    m_clamp = std::make_pair(m_clamp ? m_clamp->first : asked, limit);
    return true;
}

GatewayError Exchange::budgetRefusal(const BudgetLedger::Refusal &refusal, const ModelEntry &model, qint64 fits, const QString &why) const
{
    const QString period = QLatin1String(periodName(refusal.period));
    if (refusal.exhausted()) {
        return GatewayError::budgetExhausted(
            QStringLiteral("Budget exhausted for key '%1': %2 of its %3 limit of %4 is spent. Raise the limit or wait for the next %3.")
                .arg(m_key->name, usd(refusal.spent), period, usd(refusal.limit)));
    }
    QString hint;
    if (fits > 0)
        hint = QStringLiteral(" An output limit (max_tokens) of at most %1 would fit.").arg(fits);
    else if (fits == 0)
        hint = QStringLiteral(" Not even max_tokens 1 fits; raise the limit or wait for the next %1.").arg(period);
    else
        hint = QStringLiteral(" Even its input alone does not fit; raise the limit or wait for the next %1.").arg(period);
    if (!why.isEmpty())
        hint += QLatin1Char(' ') + why;
    const NanoUsd over = refusal.worstCase - refusal.remaining;
    return GatewayError::budgetExhausted(
        QStringLiteral("This request is too large for what remains of key '%1''s %2 budget, by %3: it could cost up to %4 with %5 "
                       "(at most %6 input tokens and %7 output tokens), and %8 remains (limit %9, %10 spent, %11 reserved by requests in flight).%12")
            .arg(m_key->name, period, usd(over), usd(refusal.worstCase), model.config.id)
            .arg(m_inputBound)
            .arg(m_outputLimit)
            .arg(usd(refusal.remaining), usd(refusal.limit), usd(refusal.spent), usd(refusal.reserved), hint));
}

void Exchange::noteOnServedAttempt(const QString &note)
{
    if (m_record.attemptLog.isEmpty())
        return;
    QString &error = m_record.attemptLog.last().error;
    error = error.isEmpty() ? note : error + QStringLiteral("; ") + note;
}

void Exchange::startAttempt()
{
    GatewayContext *ctx = m_ctx;
    if (m_finished || !m_conn)
        return;
    while (m_targetIndex < m_plan.targets.size()) {
        const ModelEntry target = m_plan.targets.at(m_targetIndex);
        const bool last = m_targetIndex + 1 >= m_plan.targets.size();
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        m_model = target;
        m_record.provider = target.config.provider;
        m_record.upstreamModel = target.config.upstreamModel;
        m_record.modelId = target.config.id;

        // Its circuit: closed, or open with the cooldown over (this request is the half-open probe).
        // An open circuit is skipped while other targets remain; the last one is tried anyway.
        if (!m_direct && ctx->health.admit(target.config.id, now) == HealthTracker::Admission::Refused && !last) {
            skipTarget(target, QStringLiteral("circuit open after repeated failures"));
            ++m_targetIndex;
            continue;
        }

        // The provider's own limit: spread to another target, or wait for room when none is left.
        const ProviderConfig &pc = target.provider->config;
        if (pc.rpm || pc.tpm) {
            const qint64 tokens = m_estimatedInput + m_traits.expectedOutputTokens;
            const auto r = ctx->providerLimits.acquire(pc.id, {pc.rpm, pc.tpm}, tokens, now);
            if (!r.admitted) {
                const QString why = QStringLiteral("provider '%1' is at its own limit of %2 %3 per minute").arg(pc.id).arg(r.limitValue).arg(r.limit);
                if (!last || r.retryAfterMs < 0) {
                    skipTarget(target, why);
                    m_lastSkipError = GatewayError::rateLimited(QStringLiteral("Every target is at its rate limit: %1.").arg(why), qMax<qint64>(r.retryAfterMs, 1000), "provider_rate_limited");
                    ++m_targetIndex;
                    continue;
                }
                // The last target: queue until the provider's window has room (within the first-byte timeout).
                const qint64 waited = m_arrival.elapsed();
                if (waited + r.retryAfterMs > ctx->settings()->timeouts.firstByteMs) {
                    skipTarget(target, why);
                    m_lastSkipError = GatewayError::rateLimited(QStringLiteral("Every target is at its rate limit: %1.").arg(why), r.retryAfterMs, "provider_rate_limited");
                    ++m_targetIndex;
                    continue;
                }
                scheduleAttempt(r.retryAfterMs);
                return;
            }
            m_providerTicket = r.ticket;
        }

        GatewayError error;
        UpstreamRequest r;
        if (!prepareUpstreamBody(&r.body, &r.path, &error)) {
            skipTarget(target, error.message);
            m_lastSkipError = error;
            ++m_targetIndex;
            continue;
        }
        // After the body is built: the reservation bounds the larger of what the client sent and
        // what goes upstream (a translation can grow it).
        if (!reserveFor(target, &r, &error)) {
            skipTarget(target, QStringLiteral("budget: the request could cost more than remains"));
            m_lastSkipError = error;
            ++m_targetIndex;
            continue;
        }
        forward(std::move(r));
        return;
    }
    // Every remaining target was skipped.
    const GatewayError e = m_lastSkipError.value_or(GatewayError::unavailable(QStringLiteral("No target could take the request.")));
    m_record.refusal = refusalKind(e);
    finalize(e.status, e.message, false);
    respondError(e);
}

bool Exchange::prepareUpstreamBody(QByteArray *body, QByteArray *path, GatewayError *error)
{
    // Three cases, in order: the client's own bytes to a provider of its format (a Gemini client's
    // body, kept aside when it was translated at admission); m_body to a provider of its format
    // (the byte-precise model rewrite); or a translation through the internal form.
    const ProviderEntry &provider = *m_model->provider;
    const QString upstream = m_model->config.upstreamModel;
    m_provider = &adapterFor(provider.config.format);
    const bool native = m_client->nativeProvider() == provider.config.format;
    const bool bodyNative = m_bodyFormat->nativeProvider() == provider.config.format && !m_untranslatable;
    m_translate = !native;
    const bool translatable = m_endpoint == Endpoint::ChatCompletions || m_endpoint == Endpoint::Messages || m_endpoint == Endpoint::CountTokens
        || m_endpoint == Endpoint::Responses;
    if (!bodyNative && !translatable) {
        *error = GatewayError::badRequest(QStringLiteral("%1 is not available for model '%2': its provider '%3' speaks the %4 format, which has no such endpoint.")
                                              .arg(QString::fromLatin1(m_path), m_model->config.id, provider.config.id, formatName(provider.config.format)),
                                          "unsupported_endpoint");
        return false;
    }
    FormatAdapter::PathRequest pathRequest{QByteArray(endpointPath(m_endpoint)), upstream, m_fields.stream, m_endpoint == Endpoint::CountTokens};
    if (native && !m_nativeBody.isEmpty()) {
        // (A clamp clears m_nativeBody: its limit is written into the translation instead.)
        *path = provider.basePath + m_provider->upstreamPath(pathRequest);
        *body = m_nativeBody;
        return true;
    }
    if (bodyNative) {
        *path = provider.basePath + m_provider->upstreamPath(pathRequest);
        const bool usageOption = m_endpoint == Endpoint::ChatCompletions || m_endpoint == Endpoint::Completions;
        m_stripUsage = m_fields.stream && usageOption && !m_fields.clientWantsUsage;
        *body = rewriteRequestBody(m_body, m_fields, upstream, usageOption);
        if (m_translate && m_fields.stream)
            m_translator = composeStreams(*m_provider, *m_client, m_fields.model, m_fields.clientWantsUsage);
        return true;
    }
    pathRequest.clientPath = QByteArrayLiteral("/chat/completions");
    *path = provider.basePath + m_provider->upstreamPath(pathRequest);
    TranslateError terr = m_untranslatable.value_or(TranslateError{});
    const qint64 defaultMax = m_model->config.maxOutputTokens > 0 ? m_model->config.maxOutputTokens : 4096;
    std::optional<QByteArray> translated;
    if (!m_untranslatable)
        translated = m_bodyFormat->toInternalRequest(m_body, upstream, &terr);
    if (translated)
        translated = m_provider->fromInternalRequest(*translated, upstream, defaultMax, &terr);
    if (!translated) {
        *error = GatewayError::badRequest(QStringLiteral("Model '%1' (provider '%2', %3 format) cannot serve this request: %4")
                                              .arg(m_model->config.id, provider.config.id, formatName(provider.config.format), terr.message),
                                          "unsupported_feature");
        error->message += QStringLiteral(" [feature: %1]").arg(terr.feature);
        return false;
    }
    if (m_fields.stream)
        m_translator = composeStreams(*m_provider, *m_client, m_fields.model, m_fields.clientWantsUsage);
    *body = *translated;
    return true;
}

void Exchange::forward(UpstreamRequest r)
{
    GatewayContext *ctx = m_ctx;
    const ProviderEntry &provider = *m_model->provider;
    const auto settings = ctx->settings();
    r.host = provider.host;
    r.poolKey = provider.poolKey;
    r.port = provider.port;
    r.tls = provider.tls;
    r.method = "POST";
    r.connectTimeoutMs = settings->timeouts.connectMs;
    r.firstByteTimeoutMs = settings->timeouts.firstByteMs;
    r.idleTimeoutMs = settings->timeouts.idleMs;
    r.headers.emplaceBack("Content-Type", "application/json");
    const QByteArray accept = m_headers.value("accept");
    r.headers.emplaceBack("Accept", (accept.isEmpty() || m_translate) ? (m_fields.stream ? QByteArray("text/event-stream") : QByteArray("application/json")) : accept);
    r.headers.emplaceBack("Accept-Encoding", "identity");
    r.headers.emplaceBack("User-Agent", "Gatehouse/" GATEHOUSE_VERSION);
    if (!provider.authName.isEmpty())
        r.headers.emplaceBack(provider.authName, provider.authValue);
    m_provider->addUpstreamHeaders(m_headers, !m_translate, &r.headers);
    ++m_attemptsMade;
    ++m_record.attempts; // resends on a fresh connection count too (upstreamResent())
    openAttempt();
    m_call = m_conn->upstream()->start(std::move(r), this);
}

void Exchange::openAttempt()
{
    m_attemptStartMs = QDateTime::currentMSecsSinceEpoch();
    m_attemptTimer.start();
    m_attemptTtftMs = -1;
    AttemptRecord a;
    a.index = int(m_record.attemptLog.size()) + 1;
    a.modelId = m_model->config.id;
    a.provider = m_model->config.provider;
    a.outcome = AttemptRecord::Outcome::Failed; // until it succeeds
    a.startedAtMs = m_attemptStartMs;
    m_record.attemptLog.append(a);
    m_attemptOpen = true;
}

void Exchange::upstreamResent(const QString &reason)
{
    // Every send the provider may have seen has its attempt record: the first one failed, the resend
    // is a new attempt on the same target. It does not use up a retry (m_attemptsMade).
    if (!m_attemptOpen || !m_model)
        return;
    closeAttempt(AttemptRecord::Outcome::Failed, 0, reason);
    ++m_record.attempts;
    openAttempt();
}

void Exchange::closeAttempt(AttemptRecord::Outcome outcome, int status, const QString &error)
{
    if (m_record.attemptLog.isEmpty())
        return;
    if (!m_attemptOpen)
        return;
    m_attemptOpen = false;
    AttemptRecord &a = m_record.attemptLog.last();
    a.outcome = outcome;
    a.status = status;
    a.error = error;
    a.latencyMs = qMax<qint64>(1, m_attemptTimer.isValid() ? m_attemptTimer.elapsed() : 0);
}

void Exchange::resetAttemptState()
{
    m_call.reset();
    m_upstreamStatus = 0;
    m_upstreamContentType.clear();
    m_upstreamHeaders = HttpHeaders();
    m_upstreamBody.clear();
    m_relay.reset();
    m_streaming = false;
    m_stripUsage = false;
    m_sawDone = false;
    m_streamError = false;
    m_streamErrorMessage.clear();
    m_outputBytes = 0;
    m_framer.clear();
    m_translator.reset();
    m_translate = false;
    m_pendingStream.clear();
    m_record.usage = Usage{};
    m_record.ttftMs = -1;
}

void Exchange::attemptFailed(AttemptFailure f)
{
    GatewayContext *ctx = m_ctx;
    m_call.reset();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    closeAttempt(AttemptRecord::Outcome::Failed, f.status, f.message);
    const QString target = m_model ? m_model->config.id : QString();
    if (f.credentials && !target.isEmpty())
        m_credentialFailures.insert(target);
    const qint64 retryAt = f.retryAfterMs >= 0 ? now + f.retryAfterMs : 0;
    if (!target.isEmpty()) {
        if (f.status == 429)
            ctx->health.recordRateLimited(target, now, retryAt > 0 ? retryAt : now + 1000);
        else if (f.countsForHealth)
            ctx->health.recordFailure(target, now, f.message, retryAt);
    }
    if (m_reservation) {
        ctx->ledger.release(m_reservation); // nothing reached the client and nothing was billed
        m_reservation = {};
    }
    auto giveUp = [&] {
        resetAttemptState();
        f.respond();
    };
    if (m_finished || !m_conn) {
        giveUp();
        return;
    }
    RetryPolicy::State state{m_attemptsMade, m_maxAttempts, m_targetIndex, m_pass, {}, m_credentialFailures};
    state.targets.reserve(m_plan.targets.size());
    for (const ModelEntry &t : std::as_const(m_plan.targets))
        state.targets.append(t.config.id);
    const RetryPolicy policy(ctx->settings()->retry);
    const RetryPolicy::Decision d = policy.decide({target, f.retriable, f.timeout, f.retryAfterMs}, state, now,
                                                  [ctx](const QString &id) { return ctx->health.availableAtMs(id); },
                                                  threadRng().generateDouble());
    if (!d.retry) {
        giveUp();
        return;
    }
    qCInfo(lcGateway).noquote() << m_record.id << "attempt" << m_attemptsMade << "on" << target << "failed:" << f.message
                                << "- next:" << state.targets.at(d.next) << "in" << d.delayMs << "ms";
    resetAttemptState();
    m_targetIndex = d.next;
    m_pass = d.pass;
    scheduleAttempt(d.delayMs);
}

void Exchange::recordSuccessHealth()
{
    if (!m_model)
        return;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 elapsed = m_attemptTimer.isValid() ? m_attemptTimer.elapsed() : 0;
    double tps = -1;
    if (m_streaming && m_attemptTtftMs >= 0 && m_record.usage.outputTokens > 0 && elapsed > m_attemptTtftMs)
        tps = double(m_record.usage.outputTokens) * 1000.0 / double(elapsed - m_attemptTtftMs);
    m_ctx->health.recordSuccess(m_model->config.id, now, m_streaming ? m_attemptTtftMs : -1, tps);
    if (!m_routeId.isEmpty())
        Router(m_ctx->health, m_ctx->affinity).rememberAffinity(m_key->id, m_routeId, m_traits, m_model->config.id, now);
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

void Exchange::upstreamHead(int status, const HttpHeaders &headers)
{
    m_upstreamStatus = status;
    m_upstreamHeaders = headers;
    m_upstreamContentType = headers.value("content-type");
    // A stream is relayed once its first event arrives (commitStream): an error that comes as the
    // first event of the 200 stream can still fail over to another target.
    if (status >= 200 && status < 300 && m_fields.stream && m_upstreamContentType.startsWith("text/event-stream"))
        m_streaming = true;
}

QByteArray Exchange::upstreamRequestId() const
{
    QByteArray id = m_upstreamHeaders.value("x-request-id");
    if (id.isEmpty())
        id = m_upstreamHeaders.value("request-id"); // Anthropic
    return id;
}

void Exchange::holdForPendingRow()
{
    // Nothing answered is lost: before the stream's first byte reaches the client, a pending row with
    // the reservation is committed (the upstream request is already on its way; only the relay
    // waits, about one group commit). If the process dies before the final row, the next start
    // charges the reservation (Store's recovery pass). Non-streamed responses held whole wait for their final
    // row instead (finalize()).
    GatewayContext *ctx = m_ctx;
    if (!ctx->store || m_noLog || !m_conn->canWrite() || ctx->shuttingDown.load())
        return;
    RequestRecord pending;
    pending.pending = true;
    pending.id = m_record.id;
    pending.startedAtMs = m_record.startedAtMs;
    pending.keyId = m_record.keyId;
    pending.keyName = m_record.keyName;
    pending.endpoint = m_record.endpoint;
    pending.requestedModel = m_record.requestedModel;
    pending.route = m_record.route;
    pending.modelId = m_record.modelId;
    pending.provider = m_record.provider;
    pending.upstreamModel = m_record.upstreamModel;
    pending.stream = true;
    pending.attempts = m_record.attempts;
    // -1: an unpriced model, whose recovered row must say unpriced rather than $0.
    pending.reserved = m_model && m_model->config.price.isPriced() ? m_reservation.amount : -1;
    m_record.settlesPending = true;
    // In the worker's journal, the pending row survives the process at once, and only the next
    // start needs it (RequestJournal): the log is spared the row. Without a journal (its folder
    // cannot be written), the stream's first byte waits for the row's commit.
    if (RequestJournal *journal = m_conn->journal(); journal && journal->append(pending))
        return;
    ctx->store->appendRequest(pending, m_conn->holdOutput());
}

void Exchange::commitStream()
{
    auto h = baseHeaders();
    h.emplaceBack("content-type", m_upstreamContentType);
    h.emplaceBack("cache-control", "no-cache");
    h.emplaceBack("x-accel-buffering", "no");
    const QByteArray upstreamId = upstreamRequestId();
    if (!upstreamId.isEmpty())
        h.emplaceBack("x-upstream-request-id", upstreamId);
    holdForPendingRow();
    m_conn->beginStream(200, h);
    m_headSent = true;
    if (!m_pendingStream.isEmpty()) {
        m_conn->sendChunk(m_pendingStream);
        m_cache.capture(m_pendingStream); // [response cache]
        m_pendingStream.clear();
    }
}

void Exchange::markFirstToken()
{
    // Time to first token is the first generated content of a stream (OpenAIEventInfo::content),
    // not its first byte: the head events (role chunk, message_start, response.created) come at
    // once, before the model produced anything. A non-streamed answer has no first token the client
    // sees: its ttft stays -1 (not shown), and its latency is the whole answer.
    if (m_record.ttftMs < 0)
        m_record.ttftMs = m_arrival.elapsed();
    if (m_attemptTtftMs < 0 && m_attemptTimer.isValid())
        m_attemptTtftMs = m_attemptTimer.elapsed();
}

void Exchange::upstreamBody(const char *data, size_t length)
{
    if (m_streaming) {
        relayEvents(QByteArrayView(data, qsizetype(length)));
        return;
    }
    if (m_relay) {
        relayBodyPart(QByteArrayView(data, qsizetype(length)));
        return;
    }
    const bool success = m_upstreamStatus >= 200 && m_upstreamStatus < 300;
    if (success && canRelayBody() && m_upstreamBody.size() + qint64(length) > kRelayThreshold) {
        startBodyRelay();
        relayBodyPart(QByteArrayView(data, qsizetype(length)));
        return;
    }
    const qint64 limit = success ? kMaxBufferedBody : kMaxErrorBody;
    if (m_upstreamBody.size() + qint64(length) > limit) {
        m_call.reset();
        failBeforeResponse(GatewayError::upstream(QStringLiteral("The provider's %1 is larger than %2 MiB.")
                                                      .arg(success ? QStringLiteral("response") : QStringLiteral("error response"))
                                                      .arg(limit >> 20)));
        return;
    }
    m_upstreamBody.append(data, qsizetype(length));
}

void Exchange::relayEvents(QByteArrayView bytes)
{
    QByteArray out;
    bool broken = false;       // translating, and the provider sent an event that is not JSON
    bool errorFirst = false;   // an error event before any content: the attempt failed, fail over
    bool content = false;      // a data event that is not an error was seen in this batch
    QString errorFirstMessage;
    m_framer.feed(bytes, [&](QByteArrayView rawEvent) {
        if (broken || errorFirst)
            return;
        QByteArrayView event = rawEvent;
        QByteArray data = SseFramer::eventData(event);
        if (data.isEmpty()) {
            if (!m_translator)
                out.append(event); // comments and keep-alives pass through
            return;
        }
        // The side parser reads usage, errors and output size in the provider's own format.
        OpenAIEventInfo info = m_provider->inspectEvent(SseFramer::eventName(event), data, &m_record.usage);
        QByteArray scrubbedEvent;
        if (info.error) {
            // An error event may echo the request's credentials, like an error response.
            const SecretScrubber &scrub = scrubber();
            info.errorMessage = scrub.scrubbed(info.errorMessage);
            scrubbedEvent = event.toByteArray();
            if (scrub.scrub(&scrubbedEvent)) {
                event = scrubbedEvent;
                data = SseFramer::eventData(event);
            }
        } else if (scrubber().containsSecret(event)) {
            // Content is searched only for the configured keys themselves (as a success body is).
            scrubbedEvent = event.toByteArray();
            scrubber().scrubExact(&scrubbedEvent);
            event = scrubbedEvent;
            data = SseFramer::eventData(event);
        }
        if (info.error && !m_headSent && !content) {
            errorFirst = true;
            errorFirstMessage = info.errorMessage;
            return;
        }
        m_outputBytes += info.outputBytes;
        if (info.content)
            markFirstToken();
        content = true; // the first event that is not an error commits the stream (headers go out)
        if (info.done)
            m_sawDone = true;
        if (info.error && !m_streamError) {
            m_streamError = true;
            m_streamErrorMessage = info.errorMessage;
        }
        if (m_translator) {
            // A translator skips what it cannot parse: the client would get a stream that looks
            // complete with content missing. Fail it instead. (The OpenAI side parser reads lazily
            // and may not notice, so its events are checked in full here.)
            if (info.malformed || (!m_provider->inspectsEventsFully() && !info.done && !isValidJson(data))) {
                broken = true;
                return;
            }
            out.append(m_translator->feed(SseFramer::eventName(event), data));
            return;
        }
        if (m_stripUsage && info.usageOnly)
            return; // the client did not ask for the usage chunk: Gatehouse asked for itself
        out.append(event);
    });
    const QString providerId = m_model->config.provider;
    if (errorFirst && !m_headSent) {
        const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' sent an error at the start of its stream: %2").arg(providerId, errorFirstMessage),
                                                      "upstream_stream_error");
        attemptFailed({0, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }});
        return;
    }
    if (broken && !m_headSent) {
        const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' sent a stream event that is not valid JSON.").arg(providerId), "upstream_invalid_response");
        attemptFailed({0, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }});
        return;
    }
    if (!m_headSent) {
        m_pendingStream.append(out);
        out.clear();
        if (content)
            commitStream();
    }
    if (!out.isEmpty()) {
        m_conn->sendChunk(out);
        m_cache.capture(out); // [response cache]
    }
    if (broken) {
        m_call.reset();
        m_framer.clear();
        failMidStream(GatewayError::upstream(QStringLiteral("Provider '%1' sent a stream event that is not valid JSON.").arg(providerId),
                                             "upstream_invalid_response"));
        return;
    }
    if (m_call && m_headSent && m_conn->pendingOutput() > kHighWater)
        m_call->setPaused(true);
}

bool Exchange::canRelayBody() const
{
    return !m_translate && !m_noLog && !m_streaming && m_conn && m_model;
}

void Exchange::startBodyRelay()
{
    m_relay = std::make_unique<BodyRelay>();
    auto h = baseHeaders();
    h.emplaceBack("content-type", m_upstreamContentType.isEmpty() ? QByteArray("application/json") : m_upstreamContentType);
    // The cost is known only once the body is complete: no x-gatehouse-cost-usd header here.
    const QByteArray upstreamId = upstreamRequestId();
    if (!upstreamId.isEmpty())
        h.emplaceBack("x-upstream-request-id", upstreamId);
    bool ok = false;
    const qint64 length = m_upstreamHeaders.value("content-length").trimmed().toLongLong(&ok);
    m_relayChunked = !ok || length < 0;
    // Relayed like a stream: its first bytes wait for a pending row with the reservation, so an
    // answer cut by a crash is still charged (the final row then settles it).
    holdForPendingRow();
    if (m_relayChunked)
        m_conn->beginStream(m_upstreamStatus, h);
    else
        m_conn->beginBody(m_upstreamStatus, h, length);
    m_headSent = true;
    const QByteArray prefix = std::exchange(m_upstreamBody, QByteArray());
    relayBodyPart(prefix);
}

void Exchange::relayBodyPart(QByteArrayView data, bool last)
{
    if ((data.isEmpty() && !last) || !m_conn)
        return;
    m_relay->feed(data);
    // The configured keys are masked byte for byte ('*', so an announced Content-Length holds); the
    // tail that could start a key split across two parts waits for the next part (or the end).
    const SecretScrubber &scrub = scrubber();
    const qsizetype keep = last ? 0 : qMax<qsizetype>(0, scrub.longestSecret() - 1);
    QByteArray out = std::exchange(m_relayCarry, QByteArray());
    out.append(data);
    scrub.maskExact(&out);
    if (keep > 0) {
        const qsizetype cut = qMax<qsizetype>(0, out.size() - keep);
        m_relayCarry = out.mid(cut);
        out.truncate(cut);
    }
    if (out.isEmpty())
        return;
    if (m_relayChunked)
        m_conn->sendChunk(out);
    else
        m_conn->sendBodyPart(out);
    // Read the provider only as fast as the client reads us.
    if (m_call && m_conn->pendingOutput() > kHighWater)
        m_call->setPaused(true);
}

void Exchange::finishBodyRelay()
{
    relayBodyPart({}, true); // what was held back for the key mask
    Usage usage;
    const bool found = m_relay->usage(m_provider->usageReader(), &usage, m_provider->usageMember());
    m_outputBytes = m_relay->bytes();
    if (found)
        m_record.usage = usage;
    else
        estimateMissingUsage();
    if (m_relayChunked)
        m_conn->endStream();
    finalize(m_upstreamStatus, QString(), true);
    done();
}

void Exchange::bodyRelayFailed(const QString &message)
{
    // Part of the body reached the client: it cannot be answered otherwise now. The connection is
    // closed short of the length it announced (or without the last chunk), which every client
    // reports as an incomplete response; what the provider produced is charged.
    m_outputBytes = m_relay->bytes();
    estimateMissingUsage();
    finalize(502, message, true);
    if (m_conn)
        m_conn->cutResponse();
    done();
}

const SecretScrubber &Exchange::scrubber()
{
    if (m_scrubber)
        return *m_scrubber;
    // One scrubber per registry snapshot and worker thread, not one per request (building it cost
    // about 3,600 instructions): a snapshot never changes, and neither do its providers' keys.
    thread_local std::weak_ptr<const RegistrySnapshot> s_snapshot;
    thread_local std::shared_ptr<const SecretScrubber> s_scrubber;
    const bool providerKnown = !m_model || !m_model->provider
        || (m_registry && m_registry->providers.value(m_model->provider->config.id) == m_model->provider);
    if (m_registry && providerKnown) {
        if (!s_scrubber || s_snapshot.lock() != m_registry) {
            s_scrubber = std::make_shared<const SecretScrubber>(*m_registry);
            s_snapshot = m_registry;
        }
        m_scrubber = s_scrubber;
        return *m_scrubber;
    }
    auto own = std::make_shared<SecretScrubber>(m_registry ? SecretScrubber(*m_registry) : SecretScrubber());
    if (m_model && m_model->provider)
        own->addSecret(m_model->provider->authValue);
    m_scrubber = std::move(own);
    return *m_scrubber;
}

void Exchange::onOutputDrained()
{
    if (m_call)
        m_call->setPaused(false);
}

void Exchange::estimateMissingUsage()
{
    if (m_record.usage.reported)
        return;
    Usage u;
    u.inputTokens = m_estimatedInput;
    u.outputTokens = estimateTokens(m_outputBytes);
    // A provider stops at the output limit: bytes past it (an upstream that kept streaming, a
    // verbose translation) are not billed output.
    if (m_outputLimit >= 0)
        u.outputTokens = qMin(u.outputTokens, m_outputLimit);
    u.estimated = true;
    m_record.usage = u;
}

namespace {

// Retry-After as milliseconds: delay-seconds (possibly fractional) or an HTTP date; OpenAI's
// retry-after-ms wins when present. -1 when absent or unreadable.
qint64 retryAfterMs(const HttpHeaders &headers, qint64 nowMs)
{
    bool ok = false;
    const QByteArray ms = headers.value("retry-after-ms").trimmed();
    if (!ms.isEmpty()) {
        const double v = ms.toDouble(&ok);
        if (ok && v >= 0 && v < 1e9)
            return qint64(v);
    }
    const QByteArray ra = headers.value("retry-after").trimmed();
    if (ra.isEmpty())
        return -1;
    const double seconds = ra.toDouble(&ok);
    if (ok)
        return seconds >= 0 && seconds < 1e7 ? qint64(seconds * 1000) : -1;
    const QDateTime at = QDateTime::fromString(QString::fromLatin1(ra), Qt::RFC2822Date);
    if (!at.isValid())
        return -1;
    return qMax<qint64>(0, at.toMSecsSinceEpoch() - nowMs);
}

} // namespace

void Exchange::upstreamDone()
{
    m_call.reset();
    if (m_streaming) {
        if (!m_headSent) {
            if (m_translator && !m_framer.pending().trimmed().isEmpty()) {
                relayEvents("\n\n");
                if (m_finished || !m_streaming)
                    return; // failed over or failed
            }
            if (!m_headSent)
                commitStream(); // a stream without content (an empty answer): relay what there is
        }
        if (m_translator) {
            if (!m_framer.pending().trimmed().isEmpty()) { // a last event without its blank line
                relayEvents("\n\n");
                if (m_finished)
                    return; // it was broken: the stream already ended with an error
            }
            const QByteArray tail = m_translator->finish();
            m_conn->sendChunk(tail);
            m_cache.capture(tail); // [response cache]
            if (m_translator->sawError() && !m_streamError) {
                m_streamError = true;
                m_streamErrorMessage = m_translator->errorMessage();
            }
        } else {
            if (!m_framer.pending().isEmpty()) {
                m_conn->sendChunk(m_framer.pending());
                m_cache.capture(m_framer.pending()); // [response cache]
                m_framer.clear();
            }
            if (m_streamError && !m_sawDone)
                m_conn->sendChunk(m_client->streamEndAfterError());
        }
        estimateMissingUsage();
        finalize(m_streamError ? 502 : 200, m_streamError ? QStringLiteral("error inside the stream: %1").arg(m_streamErrorMessage) : QString(), true);
        // [response cache] fill: a stream that ended whole, without an error event and unclamped;
        // stored before the client sees the end, so its next request finds it.
        if (!m_streamError && !m_clamp)
            responseCacheFill(m_ctx->responseCache, &m_cache, true, m_upstreamContentType, m_cache.captured, m_record);
        m_conn->endStream();
        done();
        return;
    }
    if (m_relay) {
        finishBodyRelay();
        return;
    }
    const QString providerId = m_model->config.provider;
    if (m_upstreamStatus >= 200 && m_upstreamStatus < 300) {
        // A success is not searched by shape (a model writing `api_key = "..."` in code is content),
        // only for the configured keys themselves.
        scrubber().scrubExact(&m_upstreamBody);
        if (m_noLog) {
            // count_tokens: relayed as it is, nothing billed.
            finalize(m_upstreamStatus, QString(), false);
            respondJson(m_upstreamStatus, m_upstreamBody);
            return;
        }
        Usage usage;
        const bool found = m_provider->usageFromResponse(m_upstreamBody, &usage, &m_outputBytes);
        if (found) {
            m_record.usage = usage;
        } else {
            // No usage found: either the provider reported none, or the body is broken (truncated,
            // not JSON), which the client must not receive as a success.
            if (!isValidJson(m_upstreamBody)) {
                const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' returned a response that is not JSON.").arg(providerId), "upstream_invalid_response");
                attemptFailed({m_upstreamStatus, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }});
                return;
            }
            estimateMissingUsage();
        }
        finishSuccess();
        return;
    }
    // An error from the provider. It may echo the request's credentials: scrubbed before anything
    // reads it (the message logged, the body relayed).
    scrubber().scrub(&m_upstreamBody);
    const QString message = upstreamErrorMessage(m_upstreamBody);
    const int s = m_upstreamStatus;
    if (RetryPolicy::refusedCredentials(s)) {
        // Gatehouse's credentials for this provider: another target's may work; this one is not
        // asked again (the same key would be refused again).
        const QString source = m_model->provider->keySource.isEmpty() ? QStringLiteral("no API key is configured for it") : QStringLiteral("key from %1").arg(m_model->provider->keySource);
        const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' rejected Gatehouse's credentials (HTTP %2, %3): %4").arg(providerId).arg(s).arg(source, message), "upstream_auth_failed");
        AttemptFailure f{s, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }};
        f.credentials = true;
        attemptFailed(std::move(f));
        return;
    }
    const qint64 retryAfter = retryAfterMs(m_upstreamHeaders, QDateTime::currentMSecsSinceEpoch());
    if (s >= 400 && s < 500) {
        // The request's own problem (or a rate limit / timeout when nothing else is left): the
        // provider's status and error pass through, in the client's format.
        GatewayError passed = GatewayError::badRequest(message, "upstream_error");
        passed.status = s;
        const bool json = m_upstreamBody.trimmed().startsWith('{');
        const QByteArray body = !json ? errorBody(passed)
            : m_translate ? translateErrorBody(s, m_upstreamBody)
                          : m_upstreamBody;
        const QByteArray contentType = (m_translate || !json || m_upstreamContentType.isEmpty()) ? QByteArray("application/json") : m_upstreamContentType;
        const QByteArray retryAfterHeader = m_upstreamHeaders.value("retry-after");
        const QString logged = QStringLiteral("provider returned HTTP %1: %2").arg(s).arg(message);
        auto respond = [this, s, body, contentType, retryAfterHeader, logged] {
            finalize(s, logged, false);
            auto h = baseHeaders();
            h.emplaceBack("content-type", contentType);
            if (!retryAfterHeader.isEmpty())
                h.emplaceBack("retry-after", retryAfterHeader);
            m_conn->sendResponse(s, h, body);
            done();
        };
        attemptFailed({s, logged, RetryPolicy::failsOver(s), RetryPolicy::failsOver(s), retryAfter, respond});
        return;
    }
    const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' failed (HTTP %2): %3").arg(providerId).arg(s).arg(message));
    attemptFailed({s, e.message, RetryPolicy::failsOver(s), true, retryAfter, [this, e] { failBeforeResponse(e); }});
}

void Exchange::finishSuccess()
{
    finalize(m_upstreamStatus, QString(), true);
    auto h = baseHeaders();
    const QByteArray contentType = (m_upstreamContentType.isEmpty() || m_translate) ? QByteArray("application/json") : m_upstreamContentType;
    h.emplaceBack("content-type", contentType);
    h.emplaceBack("x-gatehouse-cost-usd", m_record.cost ? QByteArray::number(toUsd(*m_record.cost), 'f', 9) : QByteArray("unpriced"));
    if (m_record.usage.estimated)
        h.emplaceBack("x-gatehouse-usage", "estimated");
    const QByteArray upstreamId = upstreamRequestId();
    if (!upstreamId.isEmpty())
        h.emplaceBack("x-upstream-request-id", upstreamId);
    const QByteArray body = m_translate ? translateResponse(m_upstreamBody) : m_upstreamBody;
    if (!m_clamp) // [response cache] fill: a whole 2xx answer, stored before the client has it
        responseCacheFill(m_ctx->responseCache, &m_cache, false, contentType, body, m_record);
    m_conn->sendResponse(m_upstreamStatus, h, body);
    done();
}

// [response cache] A hit: the stored answer replayed as the client first received it (a stream's
// events byte for byte), logged as served by the model that produced it, charged $0 with the cost it
// saved. No reservation was taken and no rate limit counted: nothing is forwarded.
void Exchange::answerFromCache(const CachedAnswer &answer)
{
    m_record.cacheStatus = QStringLiteral("hit");
    m_record.cacheSaved = answer.cost.value_or(0);
    m_record.modelId = answer.modelId;
    m_record.provider = answer.provider;
    m_record.upstreamModel = answer.upstreamModel;
    m_record.usage = Usage{};
    if (answer.stream)
        m_record.ttftMs = m_arrival.elapsed();
    finalize(200, QString(), false);
    auto h = baseHeaders();
    h.emplaceBack("x-gatehouse-provider", answer.provider.toUtf8());
    h.emplaceBack("x-gatehouse-model", answer.modelId.toUtf8());
    h.emplaceBack("content-type", answer.contentType.isEmpty() ? QByteArray("application/json") : answer.contentType);
    h.emplaceBack("x-gatehouse-cost-usd", "0.000000000");
    h.emplaceBack("x-gatehouse-cache-age-s", QByteArray::number(qMax<qint64>(0, (QDateTime::currentMSecsSinceEpoch() - answer.createdMs) / 1000)));
    if (!answer.stream) {
        m_conn->sendResponse(200, h, answer.body);
    } else {
        h.emplaceBack("cache-control", "no-cache");
        h.emplaceBack("x-accel-buffering", "no");
        m_conn->beginStream(200, h);
        m_headSent = true;
        m_conn->sendChunk(answer.body);
        m_conn->endStream();
    }
    done();
}

QByteArray Exchange::translateResponse(const QByteArray &body) const
{
    return m_client->fromInternalResponse(m_provider->toInternalResponse(body, m_fields.model), m_fields.model);
}

QByteArray Exchange::translateErrorBody(int status, const QByteArray &body) const
{
    return m_client->fromInternalError(status, m_provider->toInternalError(status, body));
}

void Exchange::upstreamFailed(UpstreamFailure failure, const QString &message)
{
    m_call.reset();
    const QString providerId = m_model ? m_model->config.provider : QString();
    if (m_relay) {
        bodyRelayFailed(QStringLiteral("Provider '%1' failed in the middle of the response: %2").arg(providerId, message));
        return;
    }
    if (m_headSent) {
        failMidStream(GatewayError::upstream(QStringLiteral("Provider '%1' failed in the middle of the stream: %2").arg(providerId, message),
                                             isTimeout(failure) ? QByteArray("upstream_timeout") : QByteArray("upstream_stream_interrupted")));
        return;
    }
    const GatewayError e = isTimeout(failure)
        ? GatewayError::timeout(QStringLiteral("Provider '%1' timed out: %2").arg(providerId, message))
        : GatewayError::upstream(QStringLiteral("Provider '%1' could not be reached: %2").arg(providerId, message), failureName(failure));
    if (m_noLog) {
        failBeforeResponse(e);
        return;
    }
    attemptFailed({0, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }, isTimeout(failure)});
}

void Exchange::failBeforeResponse(const GatewayError &error)
{
    // Nothing reached the client. Output already produced (a stalled stream) is still charged.
    const bool produced = m_record.usage.reported || m_outputBytes > 0;
    if (produced)
        estimateMissingUsage();
    finalize(error.status, error.message, produced);
    respondError(error);
}

void Exchange::failMidStream(const GatewayError &error)
{
    // Bytes already reached the client: end its stream with an error event in its own format.
    if (!m_framer.pending().isEmpty()) {
        // An incomplete event cannot be finished; end it so the error event parses on its own.
        m_conn->sendChunk(m_framer.pending());
        m_conn->sendChunk("\n\n");
        m_framer.clear();
    }
    if (m_translator) {
        m_conn->sendChunk(m_translator->fail(error.status, error.message));
    } else {
        m_conn->sendChunk(m_client->streamErrorEvents(errorInfo(error)));
    }
    m_conn->endStream();
    estimateMissingUsage();
    finalize(error.status, error.message, true);
    done();
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

void Exchange::finalize(int status, const QString &error, bool charge)
{
    if (m_finished)
        return;
    m_finished = true;
    GatewayContext *ctx = m_ctx;
    if (m_retryTimer)
        m_retryTimer->stop();
    if (m_attemptOpen) {
        const bool ok = status >= 200 && status < 400;
        closeAttempt(ok ? AttemptRecord::Outcome::Ok : AttemptRecord::Outcome::Failed, m_upstreamStatus, ok ? QString() : error);
        if (ok)
            recordSuccessHealth();
        else if (status >= 500 && m_model)
            ctx->health.recordFailure(m_model->config.id, QDateTime::currentMSecsSinceEpoch(), error);
    }
    if (m_noLog) {
        if (m_reservation)
            ctx->ledger.release(m_reservation);
        m_reservation = {};
        return;
    }
    m_record.status = status;
    m_record.error = error;
    m_record.latencyMs = m_arrival.elapsed();
    if (m_clamp)
        noteOnServedAttempt(QStringLiteral("max_tokens clamped %1->%2 to fit the key's budget").arg(m_clamp->first).arg(m_clamp->second));
    if (!charge && !m_record.usage.reported)
        m_record.usage = Usage{};
    const ModelPrice settledPrice = m_model ? m_model->priceAt(QDateTime::currentDateTimeUtc()) : ModelPrice();
    if (m_model && settledPrice.isPriced())
        m_record.cost = costOf(m_record.usage, settledPrice);
    else if (m_model)
        m_record.cost = std::nullopt; // unpriced: unknown, never $0
    else
        m_record.cost = NanoUsd(0);
    // An estimate never exceeds the reservation, which bounds what the provider can bill.
    if (m_record.usage.estimated && m_reservation && m_record.cost && *m_record.cost > m_reservation.amount)
        m_record.cost = m_reservation.amount;
    const qint64 tokens = m_record.usage.inputTokens + m_record.usage.cacheReadTokens + m_record.usage.cacheWriteTokens
        + m_record.usage.outputTokens;
    if (m_keyTicket)
        ctx->keyLimits.adjust(m_keyTicket, tokens);
    if (m_providerTicket)
        ctx->providerLimits.adjust(m_providerTicket, tokens);
    if (m_reservation) {
        if (charge) {
            const NanoUsd reserved = m_reservation.amount;
            const NanoUsd over = ctx->ledger.settle(m_reservation, m_record.cost.value_or(0), QDateTime::currentMSecsSinceEpoch());
            m_record.overshoot = over;
            if (over > 0) {
                qCWarning(lcGateway) << "overshoot: request" << m_record.id << "of key" << m_record.keyName << "cost"
                                     << toUsd(over) << "USD more than its reservation";
                noteOnServedAttempt(QStringLiteral("overshoot: cost %1 exceeded the reservation %2 by %3")
                                        .arg(usd(m_record.cost.value_or(0)), usd(reserved), usd(over)));
            }
        } else
            ctx->ledger.release(m_reservation);
        m_reservation = {};
    }
    guardrailSettle(*ctx, m_guard, m_record, m_model ? &*m_model : nullptr);
    ctx->requestsServed.fetch_add(1);
    if (ctx->store) {
        // A response not yet started goes out once its row is safe: written to the worker's journal
        // (one write(), RequestJournal), or else committed to the log. A stream's row settles its
        // pending row (holdForPendingRow()); journaled too, a stream cut by a crash is logged at its
        // cost rather than at its reservation.
        const bool waits = !m_headSent && m_conn && m_conn->canWrite() && !ctx->shuttingDown.load();
        RequestJournal *journal = m_conn ? m_conn->journal() : nullptr;
        const bool journaled = journal && journal->append(m_record);
        if (waits && !journaled)
            ctx->store->appendRequest(m_record, m_conn->holdOutput());
        else
            ctx->store->appendRequest(m_record);
    }
    if (ctx->events)
        ctx->events->publish(m_record);
}

} // namespace gh
