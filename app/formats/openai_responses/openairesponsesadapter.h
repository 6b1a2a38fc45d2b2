#pragma once
#include "formats/openai_chat/openaichatadapter.h"

namespace gh {

// OpenAI's Responses API (/v1/responses) as a client's format. OpenAI-format providers take it as it
// is (passed through byte for byte but the model); the others through the internal form
// (responsesinbound.h). Its errors have OpenAI's shape; its streams end with their own events (no
// [DONE]). No provider speaks it as its only format, so the provider side is OpenAI chat's.
class OpenAIResponsesAdapter : public OpenAIChatAdapter
{
public:
    [[nodiscard]] WireFormat format() const override { return WireFormat::OpenAIResponses; }
    [[nodiscard]] std::optional<QByteArray> toInternalRequest(const QByteArray &body, const QString &upstreamModel,
                                                              TranslateError *err) const override;
    [[nodiscard]] QByteArray fromInternalResponse(const QByteArray &openAIBody, const QString &clientModel) const override;
    [[nodiscard]] std::unique_ptr<StreamTranslator> fromInternalStream(const QString &clientModel) const override;
    [[nodiscard]] QByteArray streamErrorEvents(const ErrorInfo &error) const override;
    [[nodiscard]] QByteArray streamEndAfterError() const override { return {}; }
};

} // namespace gh
