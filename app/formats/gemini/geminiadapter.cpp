#include "formats/gemini/geminiadapter.h"
#include "formats/gemini/geminiinbound.h"
#include "formats/gemini/geminitranslate.h"
#include "formats/providerevents.h"
#include <QUrl>

namespace gh {

std::optional<QByteArray> GeminiAdapter::toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                           TranslateError *err) const
{
    // The gateway translates a Gemini client's body once, at admission (the stream flag is in the
    // URL, not the body): this is for a body that was not.
    return geminiToOpenAIChat(body, upstreamModel, false, err);
}

QByteArray GeminiAdapter::fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const
{
    return openAIResponseToGemini(openAIBody, clientModel);
}

QByteArray GeminiAdapter::fromInternalError(int status, const QByteArray &openAIErrorBody) const
{
    return openAIErrorToGemini(status, openAIErrorBody);
}

std::unique_ptr<StreamTranslator> GeminiAdapter::fromInternalStream(const QString &clientModel) const
{
    return openAIToGeminiStream(clientModel);
}

QByteArray GeminiAdapter::errorBody(const ErrorInfo &error) const
{
    return geminiErrorBody(error.status, error.message);
}

QByteArray GeminiAdapter::streamErrorEvents(const ErrorInfo &error) const
{
    return "data: " + errorBody(error) + "\n\n";
}

std::optional<QByteArray> GeminiAdapter::fromInternalRequest(const QByteArray &openAIBody, const QString &, qint64,
                                                             TranslateError *err) const
{
    return openAIChatToGemini(openAIBody, err); // the model goes in the URL
}

QByteArray GeminiAdapter::upstreamPath(const PathRequest &request) const
{
    const QByteArray call = request.countTokens ? QByteArrayLiteral(":countTokens")
        : request.stream                        ? QByteArrayLiteral(":streamGenerateContent?alt=sse")
                                                : QByteArrayLiteral(":generateContent");
    return "/models/" + QUrl::toPercentEncoding(request.upstreamModel) + call;
}

QByteArray GeminiAdapter::toInternalResponse(const QByteArray &body, const QString &clientModel) const
{
    return geminiResponseToOpenAI(body, clientModel);
}

QByteArray GeminiAdapter::toInternalError(int status, const QByteArray &body) const
{
    return geminiErrorToOpenAI(status, body);
}

std::unique_ptr<StreamTranslator> GeminiAdapter::toInternalStream(const QString &clientModel, bool includeUsage) const
{
    return geminiToOpenAIStream(clientModel, includeUsage);
}

OpenAIEventInfo GeminiAdapter::inspectEvent(QByteArrayView, QByteArrayView data, Usage *usage) const
{
    Usage u;
    OpenAIEventInfo info = inspectGeminiEvent(data, &u);
    if (info.hasUsage)
        *usage = u; // usageMetadata is cumulative: the last one wins
    return info;
}

bool GeminiAdapter::usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const
{
    return usageFromGeminiResponse(body, usage, outputBytes);
}

FormatAdapter::UsageReader GeminiAdapter::usageReader() const
{
    return &usageFromGeminiResponse;
}

} // namespace gh
