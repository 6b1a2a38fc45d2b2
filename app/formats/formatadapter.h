#pragma once
#include "config/config.h"
#include "formats/openai_chat/openaistream.h"
#include "providers/usage.h"
#include "formats/common/translate.h"
#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <memory>
#include <optional>

namespace gh {

class HttpHeaders;

// The wire formats Gatehouse speaks. A client speaks one of them; a provider speaks OpenAI chat
// (and, natively, the other OpenAI endpoints), Anthropic Messages or Gemini generateContent.
enum class WireFormat { OpenAIChat, OpenAIResponses, Anthropic, Gemini };
[[nodiscard]] const char *wireFormatName(WireFormat f);

// An error of Gatehouse's own, to be rendered in a client's format.
struct ErrorInfo {
    int status = 500;
    QByteArrayView type; // OpenAI error type ("invalid_request_error")
    QByteArrayView code; // machine-readable code ("model_not_found")
    QString message;
};

// One adapter per wire format, covering both directions. The internal form between two formats is
// OpenAI chat completions JSON: a request from format A to provider format B goes
// A.toInternalRequest -> B.fromInternalRequest, a response B.toInternalResponse ->
// A.fromInternalResponse, a stream through B.toInternalStream then A.fromInternalStream (either may be
// absent: OpenAI chat needs no translator). Same-format traffic never goes through the internal form:
// the gateway forwards the client's bytes with only the model changed (prompt caches depend on it).
//
// Adapters are stateless singletons (adapterFor()); per-stream state lives in the StreamTranslators
// they create.
class FormatAdapter
{
public:
    virtual ~FormatAdapter() = default;
    [[nodiscard]] virtual WireFormat format() const = 0;
    // The provider format that takes this format's requests without translation.
    [[nodiscard]] virtual ProviderFormat nativeProvider() const = 0;

    // ---- The client's side --------------------------------------------------------------------
    // The client body (in this format, already validated by the gateway) as the internal request.
    // `upstreamModel` goes into its model field. nullopt with *err when it uses something the
    // internal form cannot carry.
    [[nodiscard]] virtual std::optional<QByteArray> toInternalRequest(
        const QByteArray &body, const QString &upstreamModel, TranslateError *err) const = 0;
    // An internal (OpenAI chat) response, stream or error as this format's client expects it.
    [[nodiscard]] virtual QByteArray fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const = 0;
    [[nodiscard]] virtual QByteArray fromInternalError(int status, const QByteArray &openAIErrorBody) const = 0;
    // nullptr: the internal chunks are this format's own (OpenAI chat).
    [[nodiscard]] virtual std::unique_ptr<StreamTranslator> fromInternalStream(const QString &clientModel) const = 0;
    // Gatehouse's own error, as a body and as the events that end a stream already under way.
    [[nodiscard]] virtual QByteArray errorBody(const ErrorInfo &error) const = 0;
    [[nodiscard]] virtual QByteArray streamErrorEvents(const ErrorInfo &error) const = 0;
    // What a passed-through stream of this format needs after an error event the provider sent
    // inside it ("data: [DONE]" for OpenAI clients, nothing for the others).
    [[nodiscard]] virtual QByteArray streamEndAfterError() const { return {}; }
    // A pause refuses with 403 (Anthropic clients stop on it; OpenAI-family clients retry it, and get 400).
    [[nodiscard]] virtual bool pausesWith403() const { return false; }

    // ---- The provider's side ------------------------------------------------------------------
    // The internal request in this format, for `upstreamModel`. defaultMaxTokens: for formats that
    // require an output limit (Anthropic) when the request has none.
    [[nodiscard]] virtual std::optional<QByteArray> fromInternalRequest(
        const QByteArray &openAIBody, const QString &upstreamModel, qint64 defaultMaxTokens, TranslateError *err) const = 0;
    // The path after the provider's base path. `clientPath` is the OpenAI endpoint path
    // ("/chat/completions") for OpenAI providers; countTokens asks for the format's counting call.
    struct PathRequest {
        QByteArray clientPath;
        QString upstreamModel;
        bool stream = false;
        bool countTokens = false;
    };
    [[nodiscard]] virtual QByteArray upstreamPath(const PathRequest &request) const = 0;
    // Headers this format's provider needs besides content type and authentication; `passthrough`:
    // the client speaks this format too, so its own protocol headers (versions, betas) are carried.
    virtual void addUpstreamHeaders(const HttpHeaders &client, bool passthrough, QList<QPair<QByteArray, QByteArray>> *out) const = 0;
    // A provider response, stream or error in the internal form.
    [[nodiscard]] virtual QByteArray toInternalResponse(const QByteArray &body, const QString &clientModel) const = 0;
    [[nodiscard]] virtual QByteArray toInternalError(int status, const QByteArray &body) const = 0;
    // nullptr: the provider's chunks are already internal (OpenAI chat). includeUsage: send the usage chunk.
    [[nodiscard]] virtual std::unique_ptr<StreamTranslator> toInternalStream(const QString &clientModel, bool includeUsage) const = 0;
    // The side parser of a provider stream: usage (merged into *usage, which holds what the stream
    // reported so far), errors and output size of one event, read without changing it.
    [[nodiscard]] virtual OpenAIEventInfo inspectEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage) const = 0;
    // False when inspectEvent() reads lazily and may miss a malformed event (OpenAI's fast path): a
    // translated stream then checks each event in full.
    [[nodiscard]] virtual bool inspectsEventsFully() const { return true; }
    // The usage and generated size of a complete (non-streamed) response.
    [[nodiscard]] virtual bool usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const = 0;
    // The same as a plain function, for BodyRelay.
    using UsageReader = bool (*)(QByteArrayView, Usage *, qint64 *);
    [[nodiscard]] virtual UsageReader usageReader() const = 0;
    // The top-level member that holds a response's usage ("usage"; Gemini: "usageMetadata").
    [[nodiscard]] virtual QByteArrayView usageMember() const { return "usage"; }
};

[[nodiscard]] const FormatAdapter &adapterFor(WireFormat format);
[[nodiscard]] const FormatAdapter &adapterFor(ProviderFormat format);

// A stream translated by `provider` into the internal form and then by `client` out of it; nullptr
// when neither needs a translator. includeUsage: the client asked for OpenAI's usage chunk (formats
// other than OpenAI chat always get their usage, in their own shape).
[[nodiscard]] std::unique_ptr<StreamTranslator> composeStreams(
    const FormatAdapter &provider, const FormatAdapter &client, const QString &clientModel, bool clientWantsUsage);

} // namespace gh
