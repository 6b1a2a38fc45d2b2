#pragma once
#include "providers/usage.h"
#include <memory>
#include <optional>
#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// Translation between the providers' wire formats: OpenAI chat completions, Anthropic Messages and
// Gemini generateContent. Pure functions and stream state machines: no I/O, no gateway state.
//
// Passthrough content whose key order matters to the model (tool parameter schemas, JSON schemas,
// tool-call arguments) is copied in its original key order; the envelope around it is rebuilt.
// A request feature the target cannot express is refused (TranslateError naming it), never dropped.
//
// Two conventions keep multi-turn state that OpenAI's format has no field for:
// - Anthropic thinking blocks come back in an OpenAI message as `reasoning_content` (text) plus
//   `thinking_blocks` [{type, thinking, signature} | {type: redacted_thinking, data}]; a client that
//   sends the message back gets the signed blocks restored for Anthropic (needed with tool use).
// - Gemini's thought signature on a function call travels as
//   tool_calls[].extra_content.google.thought_signature, as Google's OpenAI-compatible endpoint does.
namespace gh {

// Why a request cannot be translated: the gateway answers 400 naming `feature`.
struct TranslateError {
    QString feature; // the request field or feature, e.g. "n", "logprobs", "messages[2].content[0].input_audio"
    QString message; // a sentence for people
};

// The forced tool that carries OpenAI's response_format (json_object / json_schema) on Anthropic.
// Its tool_use input is turned back into the message content (JSON text) in responses and streams.
inline constexpr char kResponseFormatToolName[] = "gatehouse_json_response";

// ---- Requests ----------------------------------------------------------------------------------
// `upstreamModel` is written into the output's model field (Gemini: the model goes in the URL).

// Claude Code's per-request system block "x-anthropic-billing-header: cc_version=...; cch=<random>;".
// anthropicToOpenAIChat drops it (its random part would change the translated prompt prefix on every
// request and defeat the provider's prefix cache); a passthrough body keeps it byte for byte.
[[nodiscard]] bool isClaudeCodeBillingBlock(const QString &text);

// OpenAI chat/completions -> Anthropic Messages. Anthropic requires max_tokens: defaultMaxTokens is
// used when the client gave none (4096 when defaultMaxTokens <= 0).
[[nodiscard]] std::optional<QByteArray> openAIChatToAnthropic(
    const QByteArray &body, const QString &upstreamModel, qint64 defaultMaxTokens, TranslateError *err);
// Anthropic Messages -> OpenAI chat/completions. Sets stream_options.include_usage when streaming.
[[nodiscard]] std::optional<QByteArray> anthropicToOpenAIChat(
    const QByteArray &body, const QString &upstreamModel, TranslateError *err);
// OpenAI chat/completions -> Gemini generateContent / streamGenerateContent body (the `stream` field
// is not carried: the caller picks the URL). Schemas go to parametersJsonSchema / responseJsonSchema
// (full JSON Schema, passed through unchanged).
[[nodiscard]] std::optional<QByteArray> openAIChatToGemini(const QByteArray &body, TranslateError *err);

// ---- Non-streaming responses -------------------------------------------------------------------
// A body that is not a response of the expected shape (not JSON, an error object) gives an error
// body in the client's shape and sets *err when given.
[[nodiscard]] QByteArray anthropicResponseToOpenAI(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);
[[nodiscard]] QByteArray openAIResponseToAnthropic(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);
[[nodiscard]] QByteArray geminiResponseToOpenAI(
    const QByteArray &body, const QString &clientModel, TranslateError *err = nullptr);

// ---- Error bodies ------------------------------------------------------------------------------
// OpenAI {"error":{"message","type","param","code"}} <-> Anthropic {"type":"error","error":{"type","message"}}.
// The HTTP status decides Anthropic's error type (anthropicErrorType).
[[nodiscard]] QByteArray openAIErrorToAnthropic(int status, const QByteArray &body);
[[nodiscard]] QByteArray anthropicErrorToOpenAI(int status, const QByteArray &body);
// Gemini {"error":{"code","message","status"}} -> OpenAI's shape.
[[nodiscard]] QByteArray geminiErrorToOpenAI(int status, const QByteArray &body);
// Gatehouse's own errors in Anthropic's shape.
[[nodiscard]] QByteArray anthropicErrorBody(int status, const QString &message);
// 400 invalid_request_error, 401 authentication_error, 402 billing_error, 403 permission_error,
// 404 not_found_error, 408/504 timeout_error, 413 request_too_large, 429 rate_limit_error,
// 529 (and 503) overloaded_error, other 4xx invalid_request_error, other 5xx api_error.
[[nodiscard]] QByteArray anthropicErrorType(int status);
// The OpenAI error type the gateway uses for a status (invalid_request_error, authentication_error, ...).
[[nodiscard]] QByteArray openAIErrorType(int status);

// ---- Streams -----------------------------------------------------------------------------------
// Stateful translators fed one upstream SSE event at a time (eventName may be empty; data is the
// event's data lines joined), returning the client-format SSE bytes to send (possibly empty).
class StreamTranslator
{
public:
    virtual ~StreamTranslator() = default;
    virtual QByteArray feed(QByteArrayView eventName, QByteArrayView data) = 0;
    // The upstream ended cleanly: close the client stream properly (empty when already closed).
    virtual QByteArray finish() = 0;
    // The upstream broke: an error event in the client's format and the end of its stream.
    virtual QByteArray fail(int status, const QString &message) = 0;
    // An error arrived inside the (200) upstream stream; it was passed on to the client.
    [[nodiscard]] virtual bool sawError() const = 0;
    [[nodiscard]] virtual QString errorMessage() const = 0;
    // The client stream has been closed ([DONE] / message_stop / error event sent).
    [[nodiscard]] virtual bool ended() const = 0;
    // The upstream's usage as reported so far, normalized (reported=false when none was seen).
    [[nodiscard]] virtual Usage usage() const = 0;
};

// Anthropic events (message_start ... message_stop, ping, error) -> OpenAI chat.completion.chunk
// events; the usage chunk (choices []) is sent before [DONE] when includeUsage.
[[nodiscard]] std::unique_ptr<StreamTranslator> anthropicToOpenAIStream(const QString &clientModel, bool includeUsage);
// OpenAI chunks (with or without the usage chunk) -> a well-formed Anthropic event sequence.
[[nodiscard]] std::unique_ptr<StreamTranslator> openAIToAnthropicStream(const QString &clientModel);
// Gemini streamGenerateContent?alt=sse chunks -> OpenAI chunks.
[[nodiscard]] std::unique_ptr<StreamTranslator> geminiToOpenAIStream(const QString &clientModel, bool includeUsage);
// `first`'s output fed event by event into `second` (e.g. Gemini -> OpenAI -> Anthropic: create the
// first with includeUsage = true so the second sees usage). usage() is the first's (the upstream's).
[[nodiscard]] std::unique_ptr<StreamTranslator> chainStreams(
    std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second);

} // namespace gh
