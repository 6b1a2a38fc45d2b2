#pragma once
#include "formats/common/translate.h"
#include <QByteArray>
#include <QString>
#include <memory>
#include <optional>

// The Gemini API as a client's format: its requests into the internal form (OpenAI chat) and the
// internal responses, streams and errors back into Google's shapes. Pure functions and a stream
// state machine, like translate/.
namespace gh {

// generateContent / streamGenerateContent body -> OpenAI chat completions. The model and the
// stream flag come from the URL (Gemini's body has neither). Function calls without an id get
// call_<n> ids, and a functionResponse takes the id of the earliest unanswered call of its name.
[[nodiscard]] std::optional<QByteArray> geminiToOpenAIChat(
    const QByteArray &body, const QString &model, bool stream, TranslateError *err);

// chat.completion -> GenerateContentResponse (candidates, usageMetadata, modelVersion, responseId).
[[nodiscard]] QByteArray openAIResponseToGemini(const QByteArray &body, const QString &clientModel);
// OpenAI chunks (with the usage chunk) -> streamGenerateContent?alt=sse chunks. Text deltas go out
// as they come; a function call goes out whole once its arguments are complete (Gemini sends calls
// whole); the last chunk carries finishReason and usageMetadata.
[[nodiscard]] std::unique_ptr<StreamTranslator> openAIToGeminiStream(const QString &clientModel);

// Google's error shape {"error":{"code","message","status"}}; status is the canonical code name
// for the HTTP status (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
// RESOURCE_EXHAUSTED, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED, ...).
[[nodiscard]] QByteArray geminiErrorBody(int status, const QString &message);
[[nodiscard]] QByteArray openAIErrorToGemini(int status, const QByteArray &body);

// countTokens' answer {"totalTokens": n}.
[[nodiscard]] QByteArray geminiCountTokensBody(qint64 tokens);

} // namespace gh
