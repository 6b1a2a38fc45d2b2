#pragma once
#include "budget/budgetledger.h"
#include "gateway/gatewayerror.h"
#include "gateway/requestbody.h"
#include "http/httpheaders.h"
#include "http/sseframer.h"
#include "routing/registry.h"
#include "store/requestrecord.h"
#include "translate/translate.h"
#include "upstream/upstreamclient.h"
#include <QElapsedTimer>
#include <memory>

namespace gh {

class ClientConnection;
struct GatewayContext;

// One request through the gateway, as a sequence of named stages:
//   admit (shutdown, Host, Origin) → route → authenticate → inspect body → resolve model →
//   check price → reserve budget → forward → relay (streamed or whole) → settle → log.
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
    void handleModelRequest(Endpoint endpoint);
    void handleModels();
    void handleKeyInfo();
    void handleHealth();
    void handleCountTokens();
    // Gatehouse's own error in the client's format (OpenAI JSON, or Anthropic's for /v1/messages).
    [[nodiscard]] QByteArray errorBody(const GatewayError &error) const;
    // Builds the upstream body for the client/provider format pair; false with *error when the request
    // uses something the provider's format cannot express.
    bool prepareUpstreamBody(QByteArray *body, QByteArray *path, GatewayError *error);
    [[nodiscard]] QByteArray translateResponse(const QByteArray &body) const;
    [[nodiscard]] QByteArray translateErrorBody(int status, const QByteArray &body) const;
    const KeyEntry *authenticate(GatewayError *error);
    void forward();

    // upstream events
    void upstreamHead(int status, const HttpHeaders &headers) override;
    void upstreamBody(const char *data, size_t length) override;
    void upstreamDone() override;
    void upstreamFailed(UpstreamFailure failure, const QString &message) override;

    void relayEvents(QByteArrayView bytes);
    void failBeforeResponse(const GatewayError &error);
    void failMidStream(const GatewayError &error);
    void finishSuccess();
    // Logs the request and settles or releases the reservation. `charge` is false when nothing was billed.
    void finalize(int status, const QString &error, bool charge);
    void respondError(const GatewayError &error);
    void respondJson(int status, const QByteArray &json);
    [[nodiscard]] QList<QPair<QByteArray, QByteArray>> baseHeaders() const;
    void estimateMissingUsage();
    void done();

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
    std::optional<ModelEntry> m_model;
    RequestFields m_fields;
    Endpoint m_endpoint = Endpoint::ChatCompletions;
    BudgetLedger::Reservation m_reservation;
    qint64 m_estimatedInput = 0;
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
    bool m_anthropicClient = false; // /v1/messages: Anthropic's format on the client side
    bool m_noLog = false;           // count_tokens: not a billed request, not logged
    ProviderFormat m_providerFormat = ProviderFormat::OpenAI;
    bool m_translate = false;       // client and provider formats differ
    std::unique_ptr<StreamTranslator> m_translator;
    bool m_counted = false;
};

} // namespace gh
