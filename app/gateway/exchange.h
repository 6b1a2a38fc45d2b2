#pragma once
#include "budget/budgetledger.h"
#include "cache/cachegate.h"
#include "budget/ratelimiter.h"
#include "formats/formatadapter.h"
#include "formats/openai_chat/openaistream.h"
#include "gateway/bodyrelay.h"
#include "gateway/gatewayerror.h"
#include "gateway/guardrailgate.h"
#include "gateway/secretscrubber.h"
#include "gateway/requestbody.h"
#include "gateway/routes.h"
#include "http/httpheaders.h"
#include "http/sseframer.h"
#include "routing/registry.h"
#include "routing/router.h"
#include "store/requestrecord.h"
#include "formats/common/translate.h"
#include "upstream/upstreamclient.h"
#include <QElapsedTimer>
#include <QSet>
#include <QTimer>
#include <functional>
#include <memory>

namespace gh {

class ClientConnection;
struct GatewayContext;

// One request through the gateway, as a sequence of named stages, one source file each:
//   admit (admission.h: shutdown, Host, Origin) → route (routes.h) → authenticate   [exchange.cpp]
//   → key checks → inspect body → plan targets (Router::plan) → key rate limit       [exchangeplan.cpp]
//   → attempt: (provider limit → reserve budget [exchangereserve.cpp] → forward)    [exchangeforward.cpp]
//     with failover to the next target (RetryPolicy) until the first byte reached the client
//   → relay (stream events, large bodies, held bodies)                             [exchangerelay.cpp]
//   → settle (settlement.h) → log                                                  [exchangesettle.cpp]
// The wire formats are adapters (formats/formatadapter.h): m_client renders what the client gets,
// m_provider builds what the current target gets and reads its answer; neither is switched on here.
// Seams for other stages: forward() is the one place a request leaves for a provider (its body,
// path and target are final there); finalize() the one place every exchange ends, with m_record
// complete (GatewayEvents::requestFinished carries it to whoever watches). Control endpoints are
// not exchanges with a provider: handleControl() and controlendpoints.h.
class Exchange : private UpstreamObserver
{
public:
    Exchange(ClientConnection *connection, QByteArray method, QByteArray url, HttpHeaders headers, QByteArray body,
             QElapsedTimer arrival, qint64 arrivalMs);
    ~Exchange() override;

    void start();
    // The client disconnected: stop the upstream, charge what was produced, log.
    void clientGone();
    // Shutdown grace is over: cut the exchange, telling the client when possible.
    void abortForShutdown();
    void onOutputDrained();

private:
    // stages
    std::optional<GatewayError> admit();
    void handleModelRequest(const Route &route);
    // Gatehouse paused, its log full, the key paused: false when refused (answered already).
    bool admitKey(const std::function<void(const GatewayError &)> &refuse);
    void readTraits(); // the router's RequestTraits and the log's prompt shape, from m_fields
    [[nodiscard]] std::optional<GatewayError> takeKeyRateLimit();
    // The control endpoints (controlendpoints.h): authenticated where they need a key, never forwarded.
    void handleControl(Handler handler);
    void handleCountTokens(const Route &route);
    void handleMetrics(); // telemetry: GET /metrics
    // Reads the request body into m_fields (translating a Gemini client's body into the internal
    // form first); the refusal when it is not a valid request.
    std::optional<GatewayError> admitBody(const Route &route);
    // Gatehouse's own error in the client's format (m_client).
    [[nodiscard]] QByteArray errorBody(const GatewayError &error) const;
    // Builds the upstream body for the client/provider format pair; false with *error when the request
    // uses something the provider's format cannot express.
    bool prepareUpstreamBody(QByteArray *body, QByteArray *path, GatewayError *error);
    [[nodiscard]] QByteArray translateResponse(const QByteArray &body) const;
    [[nodiscard]] QByteArray translateErrorBody(int status, const QByteArray &body) const;
    const KeyEntry *authenticate(GatewayError *error);
    // Chooses the targets: a route alias, a `models` fallback list, or the one model named.
    bool planTargets(GatewayError *error);
    bool planNamed(const ModelEntry &model, GatewayError *error);
    bool planRoute(const QList<RouteTarget> &targets, RouteStrategy strategy, GatewayError *error);
    // Starts the attempt on m_plan.targets[m_targetIndex], skipping targets that cannot take it now.
    void startAttempt();
    // Reserves the request's worst case on the key's budget for `model`, whose upstream body is in
    // `request`. When it does not fit and the key clamps, lowers the output limit to what fits (the
    // client's body edited byte-precisely, `request` rebuilt from it); false with *error otherwise.
    bool reserveFor(const ModelEntry &model, UpstreamRequest *request, GatewayError *error);
    bool lowerAfterRefusal(const BudgetLedger::Refusal &refusal, const ModelEntry &model, const ModelPrice &price,
                           qint64 asked, std::optional<qint64> *thinkingBudget, GatewayError *error);
    bool clampOutputLimit(const ModelEntry &model, qint64 asked, qint64 limit, std::optional<qint64> thinkingBudget,
                          UpstreamRequest *request, GatewayError *error);
    [[nodiscard]] GatewayError budgetRefusal(const BudgetLedger::Refusal &refusal, const ModelEntry &model,
                                             qint64 fits, const QString &why) const;
    void forward(UpstreamRequest request);
    // The current attempt failed before anything reached the client: fail over / retry, or answer.
    struct AttemptFailure {
        int status = 0;             // the provider's HTTP status; 0 for connection errors and timeouts
        QString message;            // for the log and the client
        bool retriable = true;
        bool countsForHealth = true;
        qint64 retryAfterMs = -1;   // the provider's Retry-After
        std::function<void()> respond; // the answer to the client when no other attempt is made
        bool timeout = false;       // a timeout is never retried on the same target (it would double the wait)
        bool credentials = false;   // 401/403/407: the target refused Gatehouse's key; never tried again
    };
    void attemptFailed(AttemptFailure failure);
    void closeAttempt(AttemptRecord::Outcome outcome, int status, const QString &error);
    void skipTarget(const ModelEntry &model, const QString &reason);
    void logSkip(const QString &modelId, const QString &provider, const QString &reason, qint64 nowMs);
    // Starts the next attempt after delayMs, on this worker's event loop.
    void scheduleAttempt(qint64 delayMs);
    void resetAttemptState();
    void commitStream();
    void holdForPendingRow(); // commitStream(): the pending row, committed before the first byte
    [[nodiscard]] QByteArray upstreamRequestId() const;
    void recordSuccessHealth();

    // upstream events
    void upstreamHead(int status, const HttpHeaders &headers) override;
    void upstreamBody(const char *data, size_t length) override;
    void upstreamDone() override;
    void upstreamFailed(UpstreamFailure failure, const QString &message) override;
    void upstreamResent(const QString &reason) override;

    void relayEvents(QByteArrayView bytes);
    // What one read of a stream produced (relayEvents()).
    struct RelayBatch {
        QByteArray out;
        bool broken = false;     // translating, and the provider sent an event that is not JSON
        bool errorFirst = false; // an error event before any content: the attempt failed, fail over
        bool content = false;    // a data event that is not an error was seen in this batch
        QString errorFirstMessage;
    };
    void relayEvent(QByteArrayView event, RelayBatch *batch);
    void scrubEvent(QByteArrayView *event, QByteArray *data, QByteArray *storage, OpenAIEventInfo *info);
    void sendBatch(RelayBatch &batch);
    void streamDone();    // upstreamDone() of a relayed stream
    bool endTranslatedStream();
    bool endRelayedStream();
    void bodyDone();      // ... of a held 2xx body
    void providerError(); // ... of an error status
    // The stream's first content event arrived: the request's and the attempt's time to first token.
    void markFirstToken();
    // A large non-streamed success relayed as it arrives (bodyrelay.h).
    [[nodiscard]] bool canRelayBody() const;
    void startBodyRelay();
    void relayBodyPart(QByteArrayView data, bool last = false); // last: flush what the key mask held back
    void finishBodyRelay();
    void bodyRelayFailed(const QString &message);
    // Provider secrets out of what a provider sent (secretscrubber.h).
    [[nodiscard]] const SecretScrubber &scrubber();
    void failBeforeResponse(const GatewayError &error);
    void failMidStream(const GatewayError &error);
    void finishSuccess();
    // Logs the request and settles or releases the reservation. `charge` is false when nothing was billed.
    void finalize(int status, const QString &error, bool charge);
    void settleReservation(bool charge);
    void logRecord();
    void respondError(const GatewayError &error);
    void respondJson(int status, const QByteArray &json);
    [[nodiscard]] QList<QPair<QByteArray, QByteArray>> baseHeaders() const;
    void estimateMissingUsage();
    // Adds a note (a clamp, an overshoot) to the log's record of the attempt that was forwarded last.
    void noteOnServedAttempt(const QString &note);
    void done();
    void uncount(); // leaves GatewayContext::inFlight (once)
    void openAttempt(); // starts the attempt record (and its timers) of a send to m_model
    void answerFromCache(const CachedAnswer &answer); // response cache hit: replayed, charged $0

    ClientConnection *m_conn;
    GatewayContext *m_ctx;
    QByteArray m_method;
    QByteArray m_url;
    QByteArray m_path;
    HttpHeaders m_headers;
    QByteArray m_body;
    QElapsedTimer m_arrival;
    RequestRecord m_record;
    std::shared_ptr<const RegistrySnapshot> m_registry;
    const KeyEntry *m_key = nullptr;
    std::optional<ModelEntry> m_model;   // the target of the current attempt
    RoutePlan m_plan;
    QString m_routeId;                  // the alias asked for; empty for a model or a `models` list
    RequestTraits m_traits;
    int m_targetIndex = 0;
    int m_pass = 0;                     // how many times the target list was gone through already
    int m_attemptsMade = 0;
    int m_maxAttempts = 1;
    qint64 m_attemptStartMs = 0;
    QElapsedTimer m_attemptTimer;
    qint64 m_attemptTtftMs = -1;
    std::unique_ptr<QTimer> m_retryTimer; // see scheduleAttempt()
    RateLimiter::Ticket m_keyTicket;
    RateLimiter::Ticket m_providerTicket;
    std::optional<GatewayError> m_lastSkipError; // the answer when every remaining target was skipped
    QByteArray m_pendingStream;         // events before the first content: held back until commit
    bool m_attemptOpen = false;
    bool m_direct = false;              // one model named: no planner, no capability skips
    RequestFields m_fields;
    Endpoint m_endpoint = Endpoint::ChatCompletions;
    BudgetLedger::Reservation m_reservation;
    qint64 m_estimatedInput = 0;
    qint64 m_inputBound = 0;            // the reservation's input tokens: an upper bound of what is billed
    qint64 m_outputLimit = -1;          // the output limit the reservation covers (after a clamp); -1: none yet
    std::optional<std::pair<qint64, qint64>> m_clamp; // the output limit asked for -> the one forwarded
    std::unique_ptr<UpstreamCall> m_call;
    int m_upstreamStatus = 0;
    QByteArray m_upstreamContentType;
    HttpHeaders m_upstreamHeaders;
    QByteArray m_upstreamBody;     // whole body (non-streaming, errors)
    bool m_streaming = false;      // relaying an SSE stream to the client
    bool m_headSent = false;
    bool m_stripUsage = false;
    bool m_sawDone = false;
    bool m_streamError = false;
    QString m_streamErrorMessage;
    qint64 m_outputBytes = 0;
    SseFramer m_framer;
    bool m_finished = false;
    const FormatAdapter *m_client = &adapterFor(WireFormat::OpenAIChat);     // the client's wire format
    const FormatAdapter *m_bodyFormat = &adapterFor(WireFormat::OpenAIChat); // the format m_body is in
    const FormatAdapter *m_provider = &adapterFor(WireFormat::OpenAIChat);   // the current target's format
    QByteArray m_nativeBody;        // the client's own bytes when m_body is their translation (Gemini)
    std::optional<TranslateError> m_untranslatable; // why m_nativeBody has no translation (only its own format takes it)
    bool m_noLog = false;           // count_tokens: not a billed request, not logged
    bool m_translate = false;       // client and provider formats differ
    std::unique_ptr<StreamTranslator> m_translator;
    bool m_counted = false; // in GatewayContext::inFlight until answered (uncount())
    std::unique_ptr<BodyRelay> m_relay;  // relaying a large non-streamed body (bodyrelay.h)
    bool m_relayChunked = false;         // ...without a Content-Length from the provider
    QByteArray m_relayCarry;             // the relayed tail held back by the key mask (relayBodyPart)
    std::shared_ptr<const SecretScrubber> m_scrubber; // shared by the requests of one registry snapshot
    QSet<QString> m_credentialFailures;  // targets that refused Gatehouse's key: not tried again
    GuardrailTicket m_guard;             // admitted by the guardrails; told the outcome in finalize()
    CacheTicket m_cache;                 // the response cache's verdict, and a miss's captured answer
};

} // namespace gh
