// Exchange, the forward stage: one attempt per target (its circuit, the provider's limit, the
// upstream body, the reservation), and what happens when an attempt fails (RetryPolicy).
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
#include "routing/retrypolicy.h"
#include "store/requestjournal.h"
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

} // namespace gh
