#include "formats/openai_responses/openairesponsesadapter.h"

namespace gh {

std::optional<QByteArray> OpenAIResponsesAdapter::toInternalRequest(const QByteArray &, const QString &, TranslateError *err) const
{
    if (err)
        *err = TranslateError{QStringLiteral("/v1/responses"),
                              QStringLiteral("the Responses API is forwarded to OpenAI-format providers only")};
    return std::nullopt;
}

} // namespace gh
