#include "formats/anthropic/anthropicadapter.h"
#include "formats/anthropic/anthropictranslate.h"
#include "formats/providerevents.h"
#include "http/httpheaders.h"

namespace gh {

std::optional<QByteArray> AnthropicAdapter::toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                              TranslateError *err) const
{
    return anthropicToOpenAIChat(body, upstreamModel, err);
}

QByteArray AnthropicAdapter::fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const
{
    return openAIResponseToAnthropic(openAIBody, clientModel);
}

QByteArray AnthropicAdapter::fromInternalError(int status, const QByteArray &openAIErrorBody) const
{
    return openAIErrorToAnthropic(status, openAIErrorBody);
}

std::unique_ptr<StreamTranslator> AnthropicAdapter::fromInternalStream(const QString &clientModel) const
{
    return openAIToAnthropicStream(clientModel);
}

QByteArray AnthropicAdapter::errorBody(const ErrorInfo &error) const
{
    return anthropicErrorBody(error.status, error.message);
}

QByteArray AnthropicAdapter::streamErrorEvents(const ErrorInfo &error) const
{
    return "event: error\ndata: " + errorBody(error) + "\n\n";
}

std::optional<QByteArray> AnthropicAdapter::fromInternalRequest(const QByteArray &openAIBody, const QString &upstreamModel,
                                                                qint64 defaultMaxTokens, TranslateError *err) const
{
    return openAIChatToAnthropic(openAIBody, upstreamModel, defaultMaxTokens, err);
}

QByteArray AnthropicAdapter::upstreamPath(const PathRequest &request) const
{
    return request.countTokens ? QByteArrayLiteral("/messages/count_tokens") : QByteArrayLiteral("/messages");
}

void AnthropicAdapter::addUpstreamHeaders(const HttpHeaders &client, bool passthrough, QList<QPair<QByteArray, QByteArray>> *out) const
{
    const QByteArray version = client.value("anthropic-version");
    out->emplaceBack("anthropic-version", version.isEmpty() ? QByteArray("2023-06-01") : version);
    // Betas name features of the client's own Anthropic request; a translated body has none.
    const QByteArray beta = client.value("anthropic-beta");
    if (!beta.isEmpty() && passthrough)
        out->emplaceBack("anthropic-beta", beta);
}

QByteArray AnthropicAdapter::toInternalResponse(const QByteArray &body, const QString &clientModel) const
{
    return anthropicResponseToOpenAI(body, clientModel);
}

QByteArray AnthropicAdapter::toInternalError(int status, const QByteArray &body) const
{
    return anthropicErrorToOpenAI(status, body);
}

std::unique_ptr<StreamTranslator> AnthropicAdapter::toInternalStream(const QString &clientModel, bool includeUsage) const
{
    return anthropicToOpenAIStream(clientModel, includeUsage);
}

OpenAIEventInfo AnthropicAdapter::inspectEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage) const
{
    return inspectAnthropicEvent(eventName, data, usage);
}

bool AnthropicAdapter::usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const
{
    return usageFromAnthropicResponse(body, usage, outputBytes);
}

FormatAdapter::UsageReader AnthropicAdapter::usageReader() const
{
    return &usageFromAnthropicResponse;
}

} // namespace gh
