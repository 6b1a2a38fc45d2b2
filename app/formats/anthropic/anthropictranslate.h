#pragma once
#include "formats/common/translate.h"
#include <memory>
#include <optional>
#include <QByteArray>
#include <QString>

// Anthropic Messages <-> the internal form (OpenAI chat completions): requests, responses, errors
// and streams, both ways (formats/common/translate.h has the conventions).
namespace gh {

// Claude Code's per-request system block "x-anthropic-billing-header: cc_version=...; cch=<random>;".
// anthropicToOpenAIChat drops it (its random part would change the translated prompt prefix on every
// request and defeat the provider's prefix cache); a passthrough body keeps it byte for byte.
[[nodiscard]] bool isClaudeCodeBillingBlock(const QString &text);

// `upstreamModel` is written into the output's model field.
// OpenAI chat/completions -> Anthropic Messages. Anthropic requires max_tokens: defaultMaxTokens is
// used when the client gave none (4096 when defaultMaxTokens <= 0).
[[nodiscard]] std::optional<QByteArray> openAIChatToAnthropic(
    const QByteArray &body, const QString &upstreamModel, qint64 defaultMaxTokens, TranslateError *err);
// Anthropic Messages -> OpenAI chat/completions. Sets stream_options.include_usage when streaming.
[[nodiscard]] std::optional<QByteArray> anthropicToOpenAIChat(
    const QByteArray &body, const QString &upstreamModel, TranslateError *err);
// ---- Non-streaming responses and errors ------------------------------------------------------
// A body that is not a response of the expected shape (not JSON, an error object) gives an error
// body in the client's shape and sets *err when given.
[[nodiscard]] QByteArray anthropicResponseToOpenAI(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);
[[nodiscard]] QByteArray openAIResponseToAnthropic(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);
// OpenAI {"error":{"message","type","param","code"}} <-> Anthropic {"type":"error","error":{"type","message"}}.
// The HTTP status decides Anthropic's error type (anthropicErrorType).
[[nodiscard]] QByteArray openAIErrorToAnthropic(int status, const QByteArray &body);
[[nodiscard]] QByteArray anthropicErrorToOpenAI(int status, const QByteArray &body);
// Gatehouse's own errors in Anthropic's shape.
[[nodiscard]] QByteArray anthropicErrorBody(int status, const QString &message);
// 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
// 404 not_found_error, 408/504 timeout_error, 413 request_too_large, 429 rate_limit_error,
// 529 (and 503) overloaded_error, other 4xx invalid_request_error, other 5xx api_error.
[[nodiscard]] QByteArray anthropicErrorType(int status);
// ---- Streams -----------------------------------------------------------------------------------
// Anthropic events (message_start ... message_stop, ping, error) -> OpenAI chat.completion.chunk
// events; the usage chunk (choices []) is sent before [DONE] when includeUsage.
[[nodiscard]] std::unique_ptr<StreamTranslator> anthropicToOpenAIStream(const QString &clientModel, bool includeUsage);
// OpenAI chunks (with or without the usage chunk) -> a well-formed Anthropic event sequence.
[[nodiscard]] std::unique_ptr<StreamTranslator> openAIToAnthropicStream(const QString &clientModel);

} // namespace gh
