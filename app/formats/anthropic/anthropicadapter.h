#pragma once
#include "formats/formatadapter.h"

namespace gh {

// Anthropic Messages (/v1/messages, /v1/messages/count_tokens).
class AnthropicAdapter : public FormatAdapter
{
public:
    [[nodiscard]] WireFormat format() const override { return WireFormat::Anthropic; }
    [[nodiscard]] ProviderFormat nativeProvider() const override { return ProviderFormat::Anthropic; }

    [[nodiscard]] std::optional<QByteArray> toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                              TranslateError *err) const override;
    [[nodiscard]] QByteArray fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const override;
    [[nodiscard]] QByteArray fromInternalError(int status, const QByteArray &openAIErrorBody) const override;
    [[nodiscard]] std::unique_ptr<StreamTranslator> fromInternalStream(const QString &clientModel) const override;
    [[nodiscard]] QByteArray errorBody(const ErrorInfo &error) const override;
    [[nodiscard]] QByteArray streamErrorEvents(const ErrorInfo &error) const override;
    [[nodiscard]] bool pausesWith403() const override { return true; }

    [[nodiscard]] std::optional<QByteArray> fromInternalRequest(const QByteArray &openAIBody, const QString &upstreamModel,
                                                                qint64 defaultMaxTokens, TranslateError *err) const override;
    [[nodiscard]] QByteArray upstreamPath(const PathRequest &request) const override;
    void addUpstreamHeaders(const HttpHeaders &client, bool passthrough, QList<QPair<QByteArray, QByteArray>> *out) const override;
    [[nodiscard]] QByteArray toInternalResponse(const QByteArray &body, const QString &clientModel) const override;
    [[nodiscard]] QByteArray toInternalError(int status, const QByteArray &body) const override;
    [[nodiscard]] std::unique_ptr<StreamTranslator> toInternalStream(const QString &clientModel, bool includeUsage) const override;
    [[nodiscard]] OpenAIEventInfo inspectEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage) const override;
    [[nodiscard]] bool usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const override;
    [[nodiscard]] UsageReader usageReader() const override;
};

} // namespace gh
