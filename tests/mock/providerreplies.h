#pragma once

#include "mockreplies.h"
#include "requestlog.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

#include <optional>

// The Anthropic Messages and Gemini generateContent wire formats as the mock writes them (reply
// bodies, SSE events, error bodies), and the tool calls the mock makes in every format. Pure
// functions, no I/O. Shapes follow the providers' API references:
//   https://docs.anthropic.com/en/api/messages, .../messages-streaming, .../errors
//   https://ai.google.dev/api/generate-content, https://ai.google.dev/gemini-api/docs/troubleshooting
namespace gh::mock {

// A tool call the mock makes when the request offers tools.
struct ToolCall {
    QByteArray id; // call_mock_N (OpenAI), toolu_mock_N (Anthropic); Gemini has none
    QByteArray name;
    QByteArray arguments; // a JSON object as text
};

// The arguments of every mock tool call.
inline constexpr char kToolArguments[] = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";

// `text` cut into `count` consecutive pieces (streamed tool arguments); count >= 1.
[[nodiscard]] QList<QByteArray> splitText(const QByteArray &text, qsizetype count);

namespace openai {
// A chat.completion whose message has content null, one tool call, finish_reason "tool_calls".
[[nodiscard]] QByteArray toolCallBody(
    const ReplyContext &ctx, const ToolCall &call, const std::optional<Billed> &usage);
// The chunks of a streamed tool call: the first names the call (id, type, name, empty arguments),
// then the arguments in pieces, the finish chunk ("tool_calls"), the usage chunk when `usage` is set,
// and [DONE].
[[nodiscard]] QList<QByteArray> toolCallEvents(
    const ReplyContext &ctx, const ToolCall &call, const std::optional<Billed> &usage, bool includeUsageField);
} // namespace openai

namespace anthropic {
// {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation":
//  {"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}, "output_tokens", "service_tier"}
[[nodiscard]] QByteArray usageJson(const Billed &b, qint64 outputTokens);
// A complete message: a text block, then a tool_use block when `tool` is set (stop_reason
// "tool_use", else "end_turn"). `usage` absent: no usage object.
[[nodiscard]] QByteArray messageBody(const ReplyContext &ctx, const QByteArray &text,
    const std::optional<ToolCall> &tool, const std::optional<Billed> &usage);
// message_start (input usage, output_tokens 1), content_block_start (text, index 0), ping.
[[nodiscard]] QList<QByteArray> streamHead(const ReplyContext &ctx, const std::optional<Billed> &usage);
// content_block_delta (text_delta) of block 0.
[[nodiscard]] QByteArray textDelta(const QByteArray &piece);
// content_block_stop 0, [content_block_start tool_use 1, input_json_delta pieces, content_block_stop 1],
// message_delta (stop_reason, usage {output_tokens}), message_stop.
[[nodiscard]] QList<QByteArray> streamTail(const std::optional<ToolCall> &tool, const std::optional<Billed> &usage);
// 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error,
// 413 request_too_large, 429 rate_limit_error, 529 (and 503) overloaded_error, other 5xx api_error.
[[nodiscard]] QByteArray errorType(int status);
// {"type":"error","error":{"type","message"},"request_id"}
[[nodiscard]] QByteArray errorBody(QByteArrayView type, QByteArrayView message, QByteArrayView requestId);
// event: error (what Anthropic sends inside a 200 stream, e.g. overloaded_error).
[[nodiscard]] QByteArray streamError(QByteArrayView type, QByteArrayView message);
// {"input_tokens": N}
[[nodiscard]] QByteArray countTokensBody(qint64 inputTokens);
} // namespace anthropic

namespace gemini {
// usageMetadata: promptTokenCount (includes cachedContentTokenCount), candidatesTokenCount,
// thoughtsTokenCount, totalTokenCount, promptTokensDetails (and cacheTokensDetails when cached).
[[nodiscard]] QByteArray usageJson(const Billed &b);
// A GenerateContentResponse with one candidate: text parts, or one functionCall part when `tool` is set.
[[nodiscard]] QByteArray generateBody(const ReplyContext &ctx, const QByteArray &text,
    const std::optional<ToolCall> &tool, const std::optional<Billed> &usage);
// One streamGenerateContent?alt=sse event ("data: {...}\r\n\r\n", as Google sends it): a text piece
// with the running usage so far, or the last one: the last piece (or the functionCall part when
// `tool` is set), finishReason STOP and the final usageMetadata.
[[nodiscard]] QByteArray textChunk(
    const ReplyContext &ctx, const QByteArray &piece, const std::optional<Billed> &runningUsage);
[[nodiscard]] QByteArray lastChunk(const ReplyContext &ctx, const QByteArray &piece,
    const std::optional<ToolCall> &tool, const std::optional<Billed> &usage);
// 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 NOT_FOUND,
// 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED.
[[nodiscard]] QByteArray statusName(int status);
// {"error":{"code","message","status"}}
[[nodiscard]] QByteArray errorBody(int status, QByteArrayView message);
// The same object as an SSE event inside a 200 stream.
[[nodiscard]] QByteArray streamError(int status, QByteArrayView message);
// {"totalTokens": N}
[[nodiscard]] QByteArray countTokensBody(qint64 totalTokens);
} // namespace gemini

} // namespace gh::mock
