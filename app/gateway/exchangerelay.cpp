// Exchange, the relay stage: the provider's answer as it arrives (a stream event by event, a large
// body as it comes, a small one held whole), and what it means when it ends.
#include "gateway/exchange.h"
#include "gateway/exchangeshared.h"
#include "budget/reservation.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/admission.h"
#include "gateway/controlendpoints.h"
#include "gateway/gatewaycontext.h"
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
    RelayBatch batch;
    m_framer.feed(bytes, [&](QByteArrayView rawEvent) {
        if (!batch.broken && !batch.errorFirst)
            relayEvent(rawEvent, &batch);
    });
    sendBatch(batch);
}

// An event may echo the request's credentials (an error event, like an error response) or carry
// a configured key in its content: scrubbed before it goes on. *storage holds the scrubbed copy.
void Exchange::scrubEvent(QByteArrayView *event, QByteArray *data, QByteArray *storage, OpenAIEventInfo *info)
{
    const SecretScrubber &scrub = scrubber();
    if (info->error) {
        info->errorMessage = scrub.scrubbed(info->errorMessage);
        *storage = event->toByteArray();
        if (!scrub.scrub(storage))
            return;
    } else if (scrub.containsSecret(*event)) {
        // Content is searched only for the configured keys themselves (as a success body is).
        *storage = event->toByteArray();
        scrub.scrubExact(storage);
    } else {
        return;
    }
    *event = *storage;
    *data = SseFramer::eventData(*event);
}

void Exchange::relayEvent(QByteArrayView event, RelayBatch *batch)
{
    QByteArray data = SseFramer::eventData(event);
    if (data.isEmpty()) {
        if (!m_translator)
            batch->out.append(event); // comments and keep-alives pass through
        return;
    }
    // The side parser reads usage, errors and output size in the provider's own format.
    OpenAIEventInfo info = m_provider->inspectEvent(SseFramer::eventName(event), data, &m_record.usage);
    QByteArray scrubbedEvent;
    scrubEvent(&event, &data, &scrubbedEvent, &info);
    if (info.error && !m_headSent && !batch->content) {
        batch->errorFirst = true;
        batch->errorFirstMessage = info.errorMessage;
        return;
    }
    m_outputBytes += info.outputBytes;
    if (info.content)
        markFirstToken();
    batch->content = true; // the first event that is not an error commits the stream (headers go out)
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
            batch->broken = true;
            return;
        }
        batch->out.append(m_translator->feed(SseFramer::eventName(event), data));
        return;
    }
    if (m_stripUsage && info.usageOnly)
        return; // the client did not ask for the usage chunk: Gatehouse asked for itself
    batch->out.append(event);
}

// What one read of the stream produced: a failover (an error or a broken event before anything
// reached the client), held back until the first content, or sent; the upstream paused when the
// client reads slower than the provider writes.
void Exchange::sendBatch(RelayBatch &batch)
{
    QByteArray &out = batch.out;
    const QString providerId = m_model->config.provider;
    if (batch.errorFirst && !m_headSent) {
        const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' sent an error at the start of its stream: %2").arg(providerId, batch.errorFirstMessage),
                                                      "upstream_stream_error");
        attemptFailed({0, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }});
        return;
    }
    if (batch.broken && !m_headSent) {
        const GatewayError e = GatewayError::upstream(QStringLiteral("Provider '%1' sent a stream event that is not valid JSON.").arg(providerId), "upstream_invalid_response");
        attemptFailed({0, e.message, true, true, -1, [this, e] { failBeforeResponse(e); }});
        return;
    }
    if (!m_headSent) {
        m_pendingStream.append(out);
        out.clear();
        if (batch.content)
            commitStream();
    }
    if (!out.isEmpty()) {
        m_conn->sendChunk(out);
        m_cache.capture(out); // [response cache]
    }
    if (batch.broken) {
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

void Exchange::upstreamDone()
{
    m_call.reset();
    if (m_streaming)
        streamDone();
    else if (m_relay)
        finishBodyRelay();
    else if (m_upstreamStatus >= 200 && m_upstreamStatus < 300)
        bodyDone();
    else
        providerError();
}

// A relayed stream ended: its last events, the settlement, then the end of the client's stream.
void Exchange::streamDone()
{
    if (!m_headSent) {
        if (m_translator && !m_framer.pending().trimmed().isEmpty()) {
            relayEvents("\n\n");
            if (m_finished || !m_streaming)
                return; // failed over or failed
        }
        if (!m_headSent)
            commitStream(); // a stream without content (an empty answer): relay what there is
    }
    if (!(m_translator ? endTranslatedStream() : endRelayedStream()))
        return; // it was broken: the stream already ended with an error
    estimateMissingUsage();
    finalize(m_streamError ? 502 : 200, m_streamError ? QStringLiteral("error inside the stream: %1").arg(m_streamErrorMessage) : QString(), true);
    // [response cache] fill: a stream that ended whole, without an error event and unclamped;
    // stored before the client sees the end, so its next request finds it.
    if (!m_streamError && !m_clamp)
        responseCacheFill(m_ctx->responseCache, &m_cache, true, m_upstreamContentType, m_cache.captured, m_record);
    m_conn->endStream();
    done();
}

// The translator's last events (its closing ones). False when the last event was broken and the
// stream already ended with an error.
bool Exchange::endTranslatedStream()
{
    if (!m_framer.pending().trimmed().isEmpty()) { // a last event without its blank line
        relayEvents("\n\n");
        if (m_finished)
            return false;
    }
    const QByteArray tail = m_translator->finish();
    m_conn->sendChunk(tail);
    m_cache.capture(tail); // [response cache]
    if (m_translator->sawError() && !m_streamError) {
        m_streamError = true;
        m_streamErrorMessage = m_translator->errorMessage();
    }
    return true;
}

// The provider's own last bytes as they are, and its format's end after an in-stream error.
bool Exchange::endRelayedStream()
{
    if (!m_framer.pending().isEmpty()) {
        m_conn->sendChunk(m_framer.pending());
        m_cache.capture(m_framer.pending()); // [response cache]
        m_framer.clear();
    }
    if (m_streamError && !m_sawDone)
        m_conn->sendChunk(m_client->streamEndAfterError());
    return true;
}

// A whole (held) success: its usage, or a failover when it is not JSON.
void Exchange::bodyDone()
{
    const QString providerId = m_model->config.provider;
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
}

// An error status from the provider: fail over, or pass it on in the client's format.
void Exchange::providerError()
{
    const QString providerId = m_model->config.provider;
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

QByteArray Exchange::translateResponse(const QByteArray &body) const
{
    return m_client->fromInternalResponse(m_provider->toInternalResponse(body, m_fields.model), m_fields.model);
}

QByteArray Exchange::translateErrorBody(int status, const QByteArray &body) const
{
    return m_client->fromInternalError(status, m_provider->toInternalError(status, body));
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

} // namespace gh
