#include "providerreplies.h"

namespace gh::mock {

namespace {

QByteArray num(qint64 v)
{
    return QByteArray::number(v);
}

QByteArray namedEvent(QByteArrayView name, const QByteArray &json)
{
    return "event: " + name.toByteArray() + "\ndata: " + json + "\n\n";
}

QByteArray openAIUsage(const Billed &b)
{
    return "{\"prompt_tokens\":" + num(b.promptTokens) + ",\"completion_tokens\":" + num(b.completionTokens)
        + ",\"total_tokens\":" + num(b.promptTokens + b.completionTokens)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":" + num(b.cachedTokens)
        + ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":" + num(b.reasoningTokens)
        + ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";
}

QByteArray openAIChunk(
    const ReplyContext &ctx, const QByteArray &delta, QByteArrayView finishReason, bool includeUsageField)
{
    QByteArray out = "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"chat.completion.chunk\",\"created\":"
        + num(ctx.created) + ",\"model\":" + jsonString(ctx.model)
        + ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":" + delta
        + ",\"logprobs\":null,\"finish_reason\":"
        + (finishReason.isEmpty() ? QByteArray("null") : '"' + finishReason.toByteArray() + '"') + "}]";
    if (includeUsageField)
        out += ",\"usage\":null";
    out += '}';
    return out;
}

QByteArray anthropicContent(const QByteArray &text, const std::optional<ToolCall> &tool)
{
    QByteArray out = "[{\"type\":\"text\",\"text\":" + jsonString(text) + '}';
    if (tool) {
        out += ",{\"type\":\"tool_use\",\"id\":" + jsonString(tool->id) + ",\"name\":" + jsonString(tool->name)
            + ",\"input\":" + tool->arguments + '}';
    }
    out += ']';
    return out;
}

QByteArray geminiCandidate(const QByteArray &parts, QByteArrayView finishReason)
{
    QByteArray out = "{\"content\":{\"parts\":" + parts + ",\"role\":\"model\"}";
    if (!finishReason.isEmpty())
        out += ",\"finishReason\":\"" + finishReason.toByteArray() + '"';
    out += ",\"index\":0}";
    return out;
}

QByteArray geminiResponse(const ReplyContext &ctx, const QByteArray &candidate, const std::optional<Billed> &usage)
{
    QByteArray out = "{\"candidates\":[" + candidate + ']';
    if (usage)
        out += ",\"usageMetadata\":" + gemini::usageJson(*usage);
    out += ",\"modelVersion\":" + jsonString(ctx.model) + ",\"responseId\":" + jsonString(ctx.id) + '}';
    return out;
}

QByteArray geminiFunctionCallPart(const ToolCall &tool)
{
    return "{\"functionCall\":{\"name\":" + jsonString(tool.name) + ",\"args\":" + tool.arguments + "}}";
}

} // namespace

QList<QByteArray> splitText(const QByteArray &text, qsizetype count)
{
    count = qBound<qsizetype>(1, count, qMax<qsizetype>(1, text.size()));
    QList<QByteArray> out;
    const qsizetype step = (text.size() + count - 1) / count;
    for (qsizetype at = 0; at < text.size(); at += step)
        out.append(text.mid(at, step));
    if (out.isEmpty())
        out.append(QByteArray());
    return out;
}

// ---- OpenAI tool calls ------------------------------------------------------------------------

namespace openai {

QByteArray toolCallBody(const ReplyContext &ctx, const ToolCall &call, const std::optional<Billed> &usage)
{
    QByteArray out = "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"chat.completion\",\"created\":" + num(ctx.created)
        + ",\"model\":" + jsonString(ctx.model)
        + ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
          "\"tool_calls\":[{\"id\":"
        + jsonString(call.id) + ",\"type\":\"function\",\"function\":{\"name\":" + jsonString(call.name)
        + ",\"arguments\":" + jsonString(call.arguments)
        + "}}],\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]";
    if (usage)
        out += ",\"usage\":" + openAIUsage(*usage);
    out += '}';
    return out;
}

QList<QByteArray> toolCallEvents(
    const ReplyContext &ctx, const ToolCall &call, const std::optional<Billed> &usage, bool includeUsageField)
{
    QList<QByteArray> out;
    auto data = [](const QByteArray &json) { return "data: " + json + "\n\n"; };
    out.append(data(openAIChunk(ctx,
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":" + jsonString(call.id)
            + ",\"type\":\"function\",\"function\":{\"name\":" + jsonString(call.name)
            + ",\"arguments\":\"\"}}],\"refusal\":null}",
        {}, includeUsageField)));
    for (const QByteArray &piece : splitText(call.arguments, 3)) {
        out.append(data(
            openAIChunk(ctx, "{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":" + jsonString(piece) + "}}]}",
                {}, includeUsageField)));
    }
    out.append(data(openAIChunk(ctx, "{}", "tool_calls", includeUsageField)));
    if (usage) {
        out.append(data("{\"id\":" + jsonString(ctx.id) + ",\"object\":\"chat.completion.chunk\",\"created\":"
            + num(ctx.created) + ",\"model\":" + jsonString(ctx.model)
            + ",\"system_fingerprint\":null,\"choices\":[],\"usage\":" + openAIUsage(*usage) + '}'));
    }
    out.append("data: [DONE]\n\n");
    return out;
}

} // namespace openai

// ---- Anthropic Messages ------------------------------------------------------------------------

namespace anthropic {

QByteArray usageJson(const Billed &b, qint64 outputTokens)
{
    return "{\"input_tokens\":" + num(b.promptTokens) + ",\"cache_creation_input_tokens\":"
        + num(b.cacheWriteTokens + b.cacheWrite1hTokens) + ",\"cache_read_input_tokens\":" + num(b.cacheReadTokens)
        + ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":" + num(b.cacheWriteTokens)
        + ",\"ephemeral_1h_input_tokens\":" + num(b.cacheWrite1hTokens) + "},\"output_tokens\":" + num(outputTokens)
        + ",\"service_tier\":\"standard\"}";
}

QByteArray messageBody(const ReplyContext &ctx, const QByteArray &text, const std::optional<ToolCall> &tool,
    const std::optional<Billed> &usage)
{
    QByteArray out = "{\"id\":" + jsonString(ctx.id) + ",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        + jsonString(ctx.model) + ",\"content\":" + anthropicContent(text, tool)
        + ",\"stop_reason\":" + (tool ? "\"tool_use\"" : "\"end_turn\"") + ",\"stop_sequence\":null";
    if (usage)
        out += ",\"usage\":" + usageJson(*usage, usage->completionTokens);
    out += '}';
    return out;
}

QList<QByteArray> streamHead(const ReplyContext &ctx, const std::optional<Billed> &usage)
{
    QByteArray message = "{\"id\":" + jsonString(ctx.id)
        + ",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":" + jsonString(ctx.model)
        + ",\"stop_reason\":null,\"stop_sequence\":null";
    if (usage)
        message += ",\"usage\":" + usageJson(*usage, 1);
    message += '}';
    return {namedEvent("message_start", "{\"type\":\"message_start\",\"message\":" + message + '}'),
        namedEvent("content_block_start",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
        namedEvent("ping", "{\"type\": \"ping\"}")};
}

QByteArray textDelta(const QByteArray &piece)
{
    return namedEvent("content_block_delta",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + jsonString(piece)
            + "}}");
}

QList<QByteArray> streamTail(const std::optional<ToolCall> &tool, const std::optional<Billed> &usage)
{
    QList<QByteArray> out;
    out.append(namedEvent("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
    if (tool) {
        out.append(namedEvent("content_block_start",
            "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
            "\"id\":"
                + jsonString(tool->id) + ",\"name\":" + jsonString(tool->name) + ",\"input\":{}}}"));
        out.append(namedEvent("content_block_delta",
            "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
            "\"partial_json\":\"\"}}"));
        for (const QByteArray &piece : splitText(tool->arguments, 3)) {
            out.append(namedEvent("content_block_delta",
                "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
                "\"partial_json\":"
                    + jsonString(piece) + "}}"));
        }
        out.append(namedEvent("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"));
    }
    QByteArray delta = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        + QByteArray(tool ? "\"tool_use\"" : "\"end_turn\"") + ",\"stop_sequence\":null}";
    if (usage)
        delta += ",\"usage\":{\"output_tokens\":" + num(usage->completionTokens) + '}';
    delta += '}';
    out.append(namedEvent("message_delta", delta));
    out.append(namedEvent("message_stop", "{\"type\":\"message_stop\"}"));
    return out;
}

QByteArray errorType(int status)
{
    switch (status) {
    case 400:
        return "invalid_request_error";
    case 401:
        return "authentication_error";
    case 402:
        return "billing_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 503:
    case 529:
        return "overloaded_error";
    case 504:
        return "timeout_error";
    default:
        return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

QByteArray errorBody(QByteArrayView type, QByteArrayView message, QByteArrayView requestId)
{
    QByteArray out
        = "{\"type\":\"error\",\"error\":{\"type\":" + jsonString(type) + ",\"message\":" + jsonString(message) + '}';
    if (!requestId.isEmpty())
        out += ",\"request_id\":" + jsonString(requestId);
    out += '}';
    return out;
}

QByteArray streamError(QByteArrayView type, QByteArrayView message)
{
    return namedEvent("error",
        "{\"type\":\"error\",\"error\":{\"type\":" + jsonString(type) + ",\"message\":" + jsonString(message) + "}}");
}

QByteArray countTokensBody(qint64 inputTokens)
{
    return "{\"input_tokens\":" + num(inputTokens) + '}';
}

} // namespace anthropic

// ---- Gemini generateContent ---------------------------------------------------------------------

namespace gemini {

QByteArray usageJson(const Billed &b)
{
    QByteArray out = "{\"promptTokenCount\":" + num(b.promptTokens)
        + ",\"candidatesTokenCount\":" + num(b.completionTokens)
        + ",\"totalTokenCount\":" + num(b.promptTokens + b.completionTokens + b.reasoningTokens);
    if (b.cachedTokens > 0)
        out += ",\"cachedContentTokenCount\":" + num(b.cachedTokens);
    out += ",\"promptTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":" + num(b.promptTokens) + "}]";
    if (b.cachedTokens > 0)
        out += ",\"cacheTokensDetails\":[{\"modality\":\"TEXT\",\"tokenCount\":" + num(b.cachedTokens) + "}]";
    if (b.reasoningTokens > 0)
        out += ",\"thoughtsTokenCount\":" + num(b.reasoningTokens);
    out += '}';
    return out;
}

QByteArray generateBody(const ReplyContext &ctx, const QByteArray &text, const std::optional<ToolCall> &tool,
    const std::optional<Billed> &usage)
{
    const QByteArray parts = tool ? '[' + geminiFunctionCallPart(*tool) + ']' : "[{\"text\":" + jsonString(text) + "}]";
    return geminiResponse(ctx, geminiCandidate(parts, "STOP"), usage);
}

QByteArray textChunk(const ReplyContext &ctx, const QByteArray &piece, const std::optional<Billed> &runningUsage)
{
    return "data: " + geminiResponse(ctx, geminiCandidate("[{\"text\":" + jsonString(piece) + "}]", {}), runningUsage)
        + "\r\n\r\n";
}

QByteArray lastChunk(const ReplyContext &ctx, const QByteArray &piece, const std::optional<ToolCall> &tool,
    const std::optional<Billed> &usage)
{
    const QByteArray parts
        = tool ? '[' + geminiFunctionCallPart(*tool) + ']' : "[{\"text\":" + jsonString(piece) + "}]";
    return "data: " + geminiResponse(ctx, geminiCandidate(parts, "STOP"), usage) + "\r\n\r\n";
}

QByteArray statusName(int status)
{
    switch (status) {
    case 400:
        return "INVALID_ARGUMENT";
    case 401:
        return "UNAUTHENTICATED";
    case 403:
        return "PERMISSION_DENIED";
    case 404:
        return "NOT_FOUND";
    case 429:
        return "RESOURCE_EXHAUSTED";
    case 503:
        return "UNAVAILABLE";
    case 504:
        return "DEADLINE_EXCEEDED";
    default:
        return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    }
}

QByteArray errorBody(int status, QByteArrayView message)
{
    return "{\"error\":{\"code\":" + num(status) + ",\"message\":" + jsonString(message) + ",\"status\":\""
        + statusName(status) + "\"}}";
}

QByteArray streamError(int status, QByteArrayView message)
{
    return "data: " + errorBody(status, message) + "\r\n\r\n";
}

QByteArray countTokensBody(qint64 totalTokens)
{
    return "{\"totalTokens\":" + num(totalTokens) + '}';
}

} // namespace gemini

} // namespace gh::mock
