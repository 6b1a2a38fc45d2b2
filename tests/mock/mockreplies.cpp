#include "mockreplies.h"

#include <cmath>

namespace gh::mock {

namespace {

bool endsWith(QByteArrayView path, QByteArrayView suffix)
{
    return path.size() >= suffix.size() && path.sliced(path.size() - suffix.size()) == suffix;
}

QByteArray num(qint64 v)
{
    return QByteArray::number(v);
}

QByteArray usageJson(Endpoint endpoint, const Billed &b)
{
    if (endpoint == Endpoint::Responses) {
        return "{\"input_tokens\":" + num(b.promptTokens) + ",\"input_tokens_details\":{\"cached_tokens\":"
            + num(b.cachedTokens) + "},\"output_tokens\":" + num(b.completionTokens)
            + ",\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":"
            + num(b.promptTokens + b.completionTokens) + '}';
    }
    if (endpoint == Endpoint::Embeddings)
        return "{\"prompt_tokens\":" + num(b.promptTokens) + ",\"total_tokens\":" + num(b.promptTokens) + '}';
    return "{\"prompt_tokens\":" + num(b.promptTokens) + ",\"completion_tokens\":" + num(b.completionTokens)
        + ",\"total_tokens\":" + num(b.promptTokens + b.completionTokens)
        + ",\"prompt_tokens_details\":{\"cached_tokens\":" + num(b.cachedTokens)
        + ",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
          "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";
}

QByteArray dataEvent(const QByteArray &json)
{
    return "data: " + json + "\n\n";
}

QByteArray namedEvent(QByteArrayView name, const QByteArray &json)
{
    return "event: " + name.toByteArray() + "\ndata: " + json + "\n\n";
}

QByteArray messageId(const ReplyContext &ctx)
{
    return "msg_" + ctx.id;
}

// The Responses API's output message item; text == nullptr: no content yet.
QByteArray messageItem(const ReplyContext &ctx, QByteArrayView status, const QByteArray *text)
{
    QByteArray out = "{\"type\":\"message\",\"id\":" + jsonString(messageId(ctx)) + ",\"status\":\""
        + status.toByteArray() + "\",\"role\":\"assistant\",\"content\":[";
    if (text)
        out += "{\"type\":\"output_text\",\"text\":" + jsonString(*text) + ",\"annotations\":[]}";
    return out + "]}";
}

// The Responses API's response object, for response.created (no output yet) and the final reply.
QByteArray responseObject(const ReplyContext &ctx, QByteArrayView status, const QByteArray *text,
                          const std::optional<Billed> &usage)
{
    QByteArray out = "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"response\",\"created_at\":" + num(ctx.created)
        + ",\"status\":\"" + status.toByteArray() + "\",\"model\":" + jsonString(ctx.model) + ",\"output\":[";
    if (text)
        out += messageItem(ctx, "completed", text);
    out += "],\"usage\":" + (usage ? usageJson(Endpoint::Responses, *usage) : QByteArray("null")) + '}';
    return out;
}

QByteArray chatChunk(const ReplyContext &ctx, const QByteArray &delta, QByteArrayView finishReason,
                     bool includeUsageField)
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

QByteArray completionChunk(const ReplyContext &ctx, const QByteArray &text, QByteArrayView finishReason,
                           bool includeUsageField)
{
    QByteArray out = "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"text_completion\",\"created\":"
        + num(ctx.created) + ",\"model\":" + jsonString(ctx.model) + ",\"choices\":[{\"text\":" + jsonString(text)
        + ",\"index\":0,\"logprobs\":null,\"finish_reason\":"
        + (finishReason.isEmpty() ? QByteArray("null") : '"' + finishReason.toByteArray() + '"') + "}]";
    if (includeUsageField)
        out += ",\"usage\":null";
    out += '}';
    return out;
}

} // namespace

Endpoint endpointForPath(QByteArrayView path)
{
    const qsizetype query = path.indexOf('?');
    if (query >= 0)
        path = path.first(query);
    while (path.endsWith('/'))
        path.chop(1);
    if (endsWith(path, "/messages/count_tokens"))
        return Endpoint::AnthropicCountTokens;
    if (endsWith(path, "/messages"))
        return Endpoint::AnthropicMessages;
    if (path.contains("/models/")) {
        if (endsWith(path, ":generateContent"))
            return Endpoint::GeminiGenerate;
        if (endsWith(path, ":streamGenerateContent"))
            return Endpoint::GeminiStream;
        if (endsWith(path, ":countTokens"))
            return Endpoint::GeminiCountTokens;
    }
    if (endsWith(path, "/chat/completions"))
        return Endpoint::Chat;
    if (endsWith(path, "/completions"))
        return Endpoint::Completions;
    if (endsWith(path, "/embeddings"))
        return Endpoint::Embeddings;
    if (endsWith(path, "/responses"))
        return Endpoint::Responses;
    if (endsWith(path, "/models"))
        return Endpoint::Models;
    return Endpoint::Unknown;
}

Format formatOf(Endpoint endpoint)
{
    switch (endpoint) {
    case Endpoint::AnthropicMessages:
    case Endpoint::AnthropicCountTokens:
        return Format::Anthropic;
    case Endpoint::GeminiGenerate:
    case Endpoint::GeminiStream:
    case Endpoint::GeminiCountTokens:
        return Format::Gemini;
    default:
        return Format::OpenAI;
    }
}

QByteArray geminiModelFromPath(QByteArrayView path)
{
    const qsizetype query = path.indexOf('?');
    if (query >= 0)
        path = path.first(query);
    const qsizetype models = path.lastIndexOf("/models/");
    if (models < 0)
        return {};
    QByteArrayView rest = path.sliced(models + 8);
    const qsizetype colon = rest.lastIndexOf(':');
    if (colon >= 0)
        rest = rest.first(colon);
    return QByteArray::fromPercentEncoding(rest.toByteArray());
}

qint64 Params::integer(const char *name, qint64 fallback) const
{
    const auto it = values.constFind(QByteArray(name));
    if (it == values.cend())
        return fallback;
    bool ok = false;
    const qint64 v = it->toLongLong(&ok);
    return ok ? v : fallback;
}

double Params::number(const char *name, double fallback) const
{
    const auto it = values.constFind(QByteArray(name));
    if (it == values.cend())
        return fallback;
    bool ok = false;
    const double v = it->toDouble(&ok);
    return ok ? v : fallback;
}

bool Params::flag(const char *name) const
{
    const QByteArray v = values.value(QByteArray(name)).toLower();
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

Params parseModel(QByteArrayView model)
{
    Params p;
    const qsizetype at = model.indexOf('@');
    p.behaviour = (at < 0 ? model : model.first(at)).trimmed().toByteArray();
    if (at < 0)
        return p;
    const QByteArray rest = model.sliced(at + 1).toByteArray();
    for (const QByteArray &pair : rest.split(',')) {
        const qsizetype eq = pair.indexOf('=');
        if (eq <= 0)
            continue;
        p.values.insert(pair.first(eq).trimmed(), pair.sliced(eq + 1).trimmed());
    }
    return p;
}

QByteArray jsonString(QByteArrayView text)
{
    QByteArray out;
    out.reserve(text.size() + 2);
    out += '"';
    static const char hex[] = "0123456789abcdef";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
            } else {
                out += ch;
            }
        }
    }
    out += '"';
    return out;
}

QList<QByteArray> contentPieces(qint64 count, qint64 pad)
{
    static const char *const words[] = {"Hello", "from", "the", "mock", "upstream", "with", "a", "few", "more", "words"};
    QList<QByteArray> out;
    out.reserve(count);
    for (qint64 i = 0; i < count; ++i) {
        QByteArray piece = i == 0 ? QByteArray(words[0]) : ' ' + QByteArray(words[i % 10]);
        if (pad > 0)
            piece += QByteArray(pad, 'x');
        out.append(piece);
    }
    return out;
}

QByteArray nonStreamBody(const ReplyContext &ctx, const QByteArray &content, const std::optional<Billed> &usage)
{
    const QByteArray usageField = usage ? ",\"usage\":" + usageJson(ctx.endpoint, *usage) : QByteArray();
    switch (ctx.endpoint) {
    case Endpoint::Responses:
        return responseObject(ctx, "completed", &content, usage);
    case Endpoint::Completions:
        return "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"text_completion\",\"created\":" + num(ctx.created)
            + ",\"model\":" + jsonString(ctx.model) + ",\"choices\":[{\"text\":" + jsonString(content)
            + ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]" + usageField + '}';
    default:
        return "{\"id\":" + jsonString(ctx.id) + ",\"object\":\"chat.completion\",\"created\":" + num(ctx.created)
            + ",\"model\":" + jsonString(ctx.model)
            + ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
            + jsonString(content) + ",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}]" + usageField
            + '}';
    }
}

QByteArray embeddingsBody(const ReplyContext &ctx, qint64 vectors, qint64 dims, const std::optional<Billed> &usage)
{
    QByteArray out = "{\"object\":\"list\",\"data\":[";
    for (qint64 i = 0; i < vectors; ++i) {
        if (i)
            out += ',';
        out += "{\"object\":\"embedding\",\"index\":" + num(i) + ",\"embedding\":[";
        for (qint64 j = 0; j < dims; ++j) {
            if (j)
                out += ',';
            // Deterministic, distinct per input, within [-1, 1].
            out += QByteArray::number(std::sin(static_cast<double>(i * 31 + j + 1)), 'g', 6);
        }
        out += "]}";
    }
    out += "],\"model\":" + jsonString(ctx.model);
    if (usage)
        out += ",\"usage\":" + usageJson(Endpoint::Embeddings, *usage);
    out += '}';
    return out;
}

QByteArray modelsBody(const QList<QByteArray> &models, qint64 created)
{
    QByteArray out = "{\"object\":\"list\",\"data\":[";
    for (qsizetype i = 0; i < models.size(); ++i) {
        if (i)
            out += ',';
        out += "{\"id\":" + jsonString(models[i]) + ",\"object\":\"model\",\"created\":" + num(created)
            + ",\"owned_by\":\"mock\"}";
    }
    out += "]}";
    return out;
}

QByteArray errorBody(QByteArrayView message, QByteArrayView type, QByteArrayView code)
{
    return "{\"error\":{\"message\":" + jsonString(message) + ",\"type\":" + jsonString(type)
        + ",\"param\":null,\"code\":" + (code.isEmpty() ? QByteArray("null") : jsonString(code)) + "}}";
}

QList<QByteArray> streamHead(const ReplyContext &ctx, bool includeUsageField)
{
    switch (ctx.endpoint) {
    case Endpoint::Responses:
        // As OpenAI streams it: the message item and its text part are announced before any delta
        // (Codex CLI drops deltas that arrive without an active item).
        return {namedEvent("response.created",
                           "{\"type\":\"response.created\",\"response\":"
                               + responseObject(ctx, "in_progress", nullptr, std::nullopt) + '}'),
                namedEvent("response.in_progress",
                           "{\"type\":\"response.in_progress\",\"response\":"
                               + responseObject(ctx, "in_progress", nullptr, std::nullopt) + '}'),
                namedEvent("response.output_item.added",
                           "{\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":" + messageItem(ctx, "in_progress", nullptr) + '}'),
                namedEvent("response.content_part.added",
                           "{\"type\":\"response.content_part.added\",\"item_id\":" + jsonString(messageId(ctx))
                               + ",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}")};
    case Endpoint::Completions:
        return {};
    default:
        return {dataEvent(chatChunk(ctx, "{\"role\":\"assistant\",\"content\":\"\"}", {}, includeUsageField))};
    }
}

QByteArray streamDelta(const ReplyContext &ctx, const QByteArray &piece, bool includeUsageField)
{
    switch (ctx.endpoint) {
    case Endpoint::Responses:
        return namedEvent("response.output_text.delta",
                          "{\"type\":\"response.output_text.delta\",\"item_id\":" + jsonString(messageId(ctx))
                              + ",\"output_index\":0,\"content_index\":0,\"delta\":" + jsonString(piece) + '}');
    case Endpoint::Completions:
        return dataEvent(completionChunk(ctx, piece, {}, includeUsageField));
    default:
        return dataEvent(chatChunk(ctx, "{\"content\":" + jsonString(piece) + '}', {}, includeUsageField));
    }
}

QList<QByteArray> streamTail(const ReplyContext &ctx, const QByteArray &fullText, const std::optional<Billed> &usage,
                             bool includeUsageField)
{
    QList<QByteArray> out;
    switch (ctx.endpoint) {
    case Endpoint::Responses:
        out.append(namedEvent("response.output_text.done",
                              "{\"type\":\"response.output_text.done\",\"item_id\":" + jsonString(messageId(ctx))
                                  + ",\"output_index\":0,\"content_index\":0,\"text\":" + jsonString(fullText) + '}'));
        out.append(namedEvent("response.content_part.done",
                              "{\"type\":\"response.content_part.done\",\"item_id\":" + jsonString(messageId(ctx))
                                  + ",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":"
                                  + jsonString(fullText) + ",\"annotations\":[]}}"));
        out.append(namedEvent("response.output_item.done",
                              "{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":"
                                  + messageItem(ctx, "completed", &fullText) + '}'));
        out.append(namedEvent("response.completed", "{\"type\":\"response.completed\",\"response\":"
                                                        + responseObject(ctx, "completed", &fullText, usage) + '}'));
        return out;
    case Endpoint::Completions:
        out.append(dataEvent(completionChunk(ctx, {}, "stop", includeUsageField)));
        if (usage) {
            out.append(dataEvent("{\"id\":" + jsonString(ctx.id) + ",\"object\":\"text_completion\",\"created\":"
                                 + num(ctx.created) + ",\"model\":" + jsonString(ctx.model)
                                 + ",\"choices\":[],\"usage\":" + usageJson(ctx.endpoint, *usage) + '}'));
        }
        break;
    default:
        out.append(dataEvent(chatChunk(ctx, "{}", "stop", includeUsageField)));
        if (usage) {
            out.append(dataEvent("{\"id\":" + jsonString(ctx.id) + ",\"object\":\"chat.completion.chunk\",\"created\":"
                                 + num(ctx.created) + ",\"model\":" + jsonString(ctx.model)
                                 + ",\"system_fingerprint\":null,\"choices\":[],\"usage\":"
                                 + usageJson(ctx.endpoint, *usage) + '}'));
        }
        break;
    }
    out.append("data: [DONE]\n\n");
    return out;
}

QByteArray streamError(const ReplyContext &ctx, QByteArrayView message)
{
    if (ctx.endpoint == Endpoint::Responses) {
        return namedEvent("error", "{\"type\":\"error\",\"code\":\"server_error\",\"message\":" + jsonString(message)
                                       + ",\"param\":null}");
    }
    return dataEvent("{\"error\":{\"message\":" + jsonString(message) + ",\"type\":\"server_error\"}}");
}

} // namespace gh::mock
