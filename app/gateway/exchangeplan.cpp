// Exchange, the planning stages: the key's admission, the body, the traits the router reads, the
// plan (Router::plan) and the key's rate limit; a response-cache hit answers here.
#include "gateway/exchange.h"
#include "gateway/exchangeshared.h"
#include "budget/reservation.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/admission.h"
#include "gateway/controlendpoints.h"
#include "gateway/capturegate.h"
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
#include "store/store.h"
#include "telemetry/telemetry.h"
#include "version.h"
#include <QDateTime>
#include <algorithm>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QUrl>

namespace gh {

using namespace exchangedetail;

void Exchange::handleModelRequest(const Route &route)
{
    GatewayContext *ctx = m_ctx;
    m_endpoint = route.endpoint;
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
    if (!admitKey(refuse))
        return;
    if (auto bad = admitBody(route)) {
        refuse(*bad);
        return;
    }
    readTraits();
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
    if (auto limited = takeKeyRateLimit()) {
        refuse(*limited);
        return;
    }
    m_maxAttempts = qMax(ctx->settings()->retry.maxAttempts, int(m_plan.targets.size()));
    startAttempt();
}

// The key's own rate limits, checked and recorded atomically: the refusal, or nothing with
// m_keyTicket taken.
std::optional<GatewayError> Exchange::takeKeyRateLimit()
{
    GatewayContext *ctx = m_ctx;
    if (m_key->rpm || m_key->tpm) {
        const RateLimiter::Limits limits{m_key->rpm, m_key->tpm};
        const qint64 tokens = m_estimatedInput + (m_endpoint == Endpoint::Embeddings ? 0 : m_traits.expectedOutputTokens);
        const auto r = ctx->keyLimits.acquire(QString::number(m_key->id), limits, tokens, QDateTime::currentMSecsSinceEpoch());
        if (!r.admitted) {
            if (r.retryAfterMs < 0)
                return GatewayError::badRequest(QStringLiteral("This request (about %1 tokens) is larger than key '%2''s limit of %3 tokens per minute.")
                                                    .arg(tokens).arg(m_key->name).arg(r.limitValue), "rate_limit_too_large");
            GatewayError e = GatewayError::rateLimited(
                QStringLiteral("Rate limit reached for key '%1': %2 %3 per minute. Retry in %4 s.")
                    .arg(m_key->name)
                    .arg(r.limitValue)
                    .arg(r.limit == QLatin1String("rpm") ? QStringLiteral("requests") : QStringLiteral("tokens"))
                    .arg((r.retryAfterMs + 999) / 1000),
                r.retryAfterMs);
            e.extraHeaders.emplaceBack("x-ratelimit-limit-" + QByteArray(r.limit == QLatin1String("rpm") ? "requests" : "tokens"),
                                       QByteArray::number(r.limitValue));
            return e;
        }
        m_keyTicket = r.ticket;
    }
    return std::nullopt;
}

// Gatehouse paused, its log full, the key paused: false when refused (answered already).
bool Exchange::admitKey(const std::function<void(const GatewayError &)> &refuse)
{
    GatewayContext *ctx = m_ctx;
    if (ctx->pausedAll.load()) {
        refuse(GatewayError::paused(QStringLiteral("Gatehouse is paused: every key is stopped until it is resumed in the Gatehouse window. Retrying will not help."),
                                    m_client->pausesWith403()));
        return false;
    }
    if (ctx->store && ctx->store->isBufferFull()) {
        // Not logged: the log is what cannot take it. Nothing was forwarded or charged.
        m_finished = true;
        const Store::LogHealth health = ctx->store->logHealth();
        respondError(GatewayError::unavailable(
            QStringLiteral("Gatehouse cannot write its request log (%1): %2 answered requests wait in memory, so new "
                           "requests are refused until it can write again.").arg(health.error).arg(health.waiting),
            "request_log_unavailable"));
        return false;
    }
    if (m_key->paused) {
        refuse(GatewayError::forbidden(QStringLiteral("Key '%1' is paused.").arg(m_key->name), "key_paused"));
        return false;
    }
    return true;
}

// What the planner and the log read from the admitted body.
void Exchange::readTraits()
{
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
        if (m_fields.fallbackModels.isEmpty())
            return planNamed(*model, error);
        targets.append(RouteTarget{model->config.id, 1});
        for (const QString &name : m_fields.fallbackModels) {
            if (auto m = registry.resolve(registry.applyAliases(name), nullptr, nullptr, pinned))
                targets.append(RouteTarget{m->config.id, 1});
            else
                targets.append(RouteTarget{name, 1}); // the planner skips it and says why
        }
    }
    return planRoute(targets, strategy, error);
}

// One model named: it is the only target, with no capability guessing (the provider decides).
bool Exchange::planNamed(const ModelEntry &model, GatewayError *error)
{
    if (!m_key->allows(model.config.id)) {
        // A policy refusal, not an authentication failure: clients show 401/403 as "log in again".
        *error = GatewayError::badRequest(QStringLiteral("Key '%1' may not use model '%2': add it to the key's allow_models (or pick a model the key allows, see GET /v1/models).").arg(m_key->name, model.config.id), "model_not_allowed");
        return false;
    }
    if (const QString why = dataPolicyRefusal(model, *m_key); !why.isEmpty()) {
        *error = dataPolicyError(model.config.id, why);
        return false;
    }
    if (!model.priceAt(QDateTime::currentDateTimeUtc()).isPriced() && m_key->limits.any() && !m_key->allowUnpriced) {
        *error = GatewayError::budgetExhausted(QStringLiteral("Model '%1' has no known price, so key '%2' cannot keep its spending limits with it. Set a price for the model (Providers page, or \"price\" in the config), or set allow_unpriced on the key.").arg(model.config.id, m_key->name));
        error->code = "model_unpriced";
        return false;
    }
    m_direct = true;
    m_plan.targets = {model};
    m_plan.decidedBy = QStringLiteral("named");
    return true;
}

// A route's targets, or a `models` list: Router::plan orders them and says which it skipped.
bool Exchange::planRoute(const QList<RouteTarget> &targets, RouteStrategy strategy, GatewayError *error)
{
    const RegistrySnapshot &registry = *m_registry;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
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

} // namespace gh
