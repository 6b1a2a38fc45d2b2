#pragma once
#include "formats/common/translate.h"
#include <memory>
#include <optional>
#include <QByteArray>
#include <QString>

// Gemini generateContent as a provider's format: the internal form (OpenAI chat completions) ->
// Gemini requests, Gemini responses, errors and streams -> the internal form. The other direction
// (a Gemini client) is geminiinbound.h.
namespace gh {

// OpenAI chat/completions -> Gemini generateContent / streamGenerateContent body (the `stream` field
// is not carried: the caller picks the URL). Schemas go to parametersJsonSchema / responseJsonSchema
// (full JSON Schema, passed through unchanged).
[[nodiscard]] std::optional<QByteArray> openAIChatToGemini(const QByteArray &body, TranslateError *err);

// ---- Non-streaming responses and errors ------------------------------------------------------
// A body that is not a response of the expected shape (not JSON, an error object) gives an error
// body in the client's shape and sets *err when given.
[[nodiscard]] QByteArray geminiResponseToOpenAI(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);

// Gemini {"error":{"code","message","status"}} -> OpenAI's shape.
[[nodiscard]] QByteArray geminiErrorToOpenAI(int status, const QByteArray &body);
// ---- Streams -----------------------------------------------------------------------------------
// Gemini streamGenerateContent?alt=sse chunks -> OpenAI chunks.
[[nodiscard]] std::unique_ptr<StreamTranslator> geminiToOpenAIStream(const QString &clientModel, bool includeUsage);

} // namespace gh
