#pragma once
#include "formats/openai_chat/openaichatadapter.h"

namespace gh {

// OpenAI's Responses API (/v1/responses) as a client's format. OpenAI-format providers take it as
// it is (passed through, like chat); its errors have OpenAI's shape. No provider speaks it as its
// only format, so the provider side is OpenAI chat's.
class OpenAIResponsesAdapter : public OpenAIChatAdapter
{
public:
    [[nodiscard]] WireFormat format() const override { return WireFormat::OpenAIResponses; }
    // Not translated into the internal form yet: a Responses request reaches OpenAI-format providers only.
    [[nodiscard]] std::optional<QByteArray> toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                              TranslateError *err) const override;
};

} // namespace gh
