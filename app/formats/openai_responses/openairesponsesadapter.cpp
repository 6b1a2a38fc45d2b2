#include "formats/openai_responses/openairesponsesadapter.h"
#include "formats/openai_responses/responsesinbound.h"

namespace gh {

std::optional<QByteArray> OpenAIResponsesAdapter::toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                                    TranslateError *err) const
{
    return responsesToOpenAIChat(body, upstreamModel, err);
}

QByteArray OpenAIResponsesAdapter::fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const
{
    return openAIResponseToResponses(openAIBody, clientModel);
}

std::unique_ptr<StreamTranslator> OpenAIResponsesAdapter::fromInternalStream(const QString &clientModel) const
{
    return openAIToResponsesStream(clientModel);
}

QByteArray OpenAIResponsesAdapter::streamErrorEvents(const ErrorInfo &error) const
{
    return responsesErrorEvent(error.code.toByteArray(), error.message);
}

} // namespace gh
