#pragma once
#include "formats/formatadapter.h"

namespace gh {

// OpenAI chat completions: the internal form itself, so every translation here is the identity.
// As a provider format it also carries the other OpenAI endpoints (completions, embeddings,
// responses), which are passed through.
class OpenAIChatAdapter : public FormatAdapter
{
public:
    [[nodiscard]] WireFormat format() const override { return WireFormat::OpenAIChat; }
    [[nodiscard]] ProviderFormat nativeProvider() const override { return ProviderFormat::OpenAI; }

    [[nodiscard]] std::optional<QByteArray> toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                              TranslateError *err) const override;
    [[nodiscard]] QByteArray fromInternalResponse(const QByteArray &openAIBody, const QString &) const override { return openAIBody; }
    [[nodiscard]] QByteArray fromInternalError(int, const QByteArray &openAIErrorBody) const override { return openAIErrorBody; }
    [[nodiscard]] std::unique_ptr<StreamTranslator> fromInternalStream(const QString &) const override { return nullptr; }
    [[nodiscard]] QByteArray errorBody(const ErrorInfo &error) const override;
    [[nodiscard]] QByteArray streamErrorEvents(const ErrorInfo &error) const override;
    [[nodiscard]] QByteArray streamEndAfterError() const override { return QByteArrayLiteral("data: [DONE]\n\n"); }

    [[nodiscard]] std::optional<QByteArray> fromInternalRequest(const QByteArray &openAIBody, const QString &,
                                                                qint64, TranslateError *) const override { return openAIBody; }
    [[nodiscard]] QByteArray upstreamPath(const PathRequest &request) const override { return request.clientPath; }
    void addUpstreamHeaders(const HttpHeaders &client, bool passthrough, QList<QPair<QByteArray, QByteArray>> *out) const override;
    [[nodiscard]] QByteArray toInternalResponse(const QByteArray &body, const QString &) const override { return body; }
    [[nodiscard]] QByteArray toInternalError(int, const QByteArray &body) const override { return body; }
    [[nodiscard]] std::unique_ptr<StreamTranslator> toInternalStream(const QString &, bool) const override { return nullptr; }
    [[nodiscard]] OpenAIEventInfo inspectEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage) const override;
    [[nodiscard]] bool inspectsEventsFully() const override { return false; }
    [[nodiscard]] bool usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const override;
    [[nodiscard]] UsageReader usageReader() const override { return &usageFromOpenAIResponse; }
};

} // namespace gh
