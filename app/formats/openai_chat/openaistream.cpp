#include "formats/openai_chat/openaistream.h"
#include "providers/usagejson.h"
#include <simdjson.h>

namespace gh {

using namespace simdjson;

namespace {

qint64 stringBytes(ondemand::value v)
{
    std::string_view s;
    if (v.get_string().get(s))
        return 0;
    return qint64(s.size());
}

// Generated text inside a choice's delta/message: content, reasoning and tool-call arguments.
// *toolCall is set when it carries a tool call with a name or arguments (its first delta may have
// the name alone).
qint64 messageBytes(ondemand::object obj, bool *toolCall)
{
    qint64 n = 0;
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            break;
        ondemand::value v;
        if (field.value().get(v))
            break;
        if (key == "content" || key == "reasoning_content" || key == "reasoning" || key == "refusal") {
            n += stringBytes(v);
        } else if (key == "tool_calls") {
            ondemand::array calls;
            if (v.get_array().get(calls))
                continue;
            for (auto call : calls) {
                ondemand::object co;
                if (call.get_object().get(co))
                    continue;
                ondemand::object fn;
                if (co["function"].get_object().get(fn))
                    continue;
                for (auto ff : fn) {
                    std::string_view fk;
                    if (ff.unescaped_key().get(fk))
                        break;
                    ondemand::value fv;
                    if (ff.value().get(fv))
                        break;
                    if (fk == "arguments") {
                        const qint64 b = stringBytes(fv);
                        n += b;
                        *toolCall = *toolCall || b > 0;
                    } else if (fk == "name") {
                        *toolCall = *toolCall || stringBytes(fv) > 0;
                    }
                }
            }
        }
    }
    return n;
}

qint64 choicesBytes(ondemand::array choices, bool *empty, bool *toolCall)
{
    qint64 n = 0;
    *empty = true;
    for (auto choice : choices) {
        *empty = false;
        ondemand::object co;
        if (choice.get_object().get(co))
            continue;
        for (auto field : co) {
            std::string_view key;
            if (field.unescaped_key().get(key))
                break;
            ondemand::value v;
            if (field.value().get(v))
                break;
            if (key == "delta" || key == "message") {
                ondemand::object m;
                if (!v.get_object().get(m))
                    n += messageBytes(m, toolCall);
            } else if (key == "text") {
                n += stringBytes(v);
            }
        }
    }
    return n;
}

QString errorMessageOf(ondemand::value v)
{
    ondemand::object e;
    if (v.get_object().get(e)) {
        std::string_view s;
        if (!v.get_string().get(s))
            return QString::fromUtf8(s.data(), qsizetype(s.size()));
        return QStringLiteral("upstream error");
    }
    std::string_view msg;
    if (!e["message"].get_string().get(msg))
        return QString::fromUtf8(msg.data(), qsizetype(msg.size()));
    return QStringLiteral("upstream error");
}

// Never convert a simdjson_result to its value: that throws on error (e.g. is_null() on `nul`).
// Null, or not a valid null (an error): no usage, no error object.
bool isNullOrBroken(ondemand::value &v)
{
    bool isNull = false;
    return v.is_null().get(isNull) != SUCCESS || isNull;
}

bool readUsage(ondemand::value v, Usage *usage)
{
    if (isNullOrBroken(v))
        return false;
    ondemand::object o;
    // Read in place (no second parse of the usage text); *usage is left as it was on failure.
    return !v.get_object().get(o) && parseOpenAIUsage(o, *usage);
}

} // namespace

OpenAIEventInfo inspectOpenAIEvent(QByteArrayView data, Usage *usage)
{
    OpenAIEventInfo info;
    QByteArrayView trimmed = data.trimmed();
    if (trimmed == "[DONE]") {
        info.done = true;
        return info;
    }
    thread_local ondemand::parser parser;
    padded_string padded(trimmed.data(), size_t(trimmed.size()));
    ondemand::document doc;
    ondemand::object root;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(root)) {
        info.malformed = true;
        return info;
    }
    bool choicesEmpty = false;
    bool sawChoices = false;
    bool toolCall = false;
    std::string_view type;
    QString topMessage;
    for (auto field : root) {
        std::string_view key;
        if (field.unescaped_key().get(key)) {
            info.malformed = true;
            break;
        }
        ondemand::value v;
        if (field.value().get(v)) {
            info.malformed = true;
            break;
        }
        if (key == "usage") {
            Usage u;
            if (readUsage(v, &u)) {
                info.hasUsage = true;
                if (usage)
                    *usage = u;
            }
        } else if (key == "choices") {
            ondemand::array arr;
            if (!v.get_array().get(arr)) {
                sawChoices = true;
                info.outputBytes += choicesBytes(arr, &choicesEmpty, &toolCall);
            }
        } else if (key == "error") {
            if (!isNullOrBroken(v)) {
                info.error = true;
                info.errorMessage = errorMessageOf(v);
            }
        } else if (key == "type") {
            if (v.get_string().get(type))
                type = {};
        } else if (key == "message") {
            // The Responses API's error event: {"type":"error","code":...,"message":...}.
            std::string_view m;
            if (!v.get_string().get(m))
                topMessage = QString::fromUtf8(m.data(), qsizetype(m.size()));
        } else if (key == "delta") {
            // Responses API text deltas.
            info.outputBytes += stringBytes(v);
        } else if (key == "response") {
            // Responses API: response.completed / response.incomplete / response.failed carry usage.
            ondemand::object r;
            if (v.get_object().get(r))
                continue;
            for (auto rf : r) {
                std::string_view rk;
                if (rf.unescaped_key().get(rk))
                    break;
                ondemand::value rv;
                if (rf.value().get(rv))
                    break;
                if (rk == "usage") {
                    Usage u;
                    if (readUsage(rv, &u)) {
                        info.hasUsage = true;
                        if (usage)
                            *usage = u;
                    }
                } else if (rk == "error" && !isNullOrBroken(rv)) {
                    info.error = true;
                    info.errorMessage = errorMessageOf(rv);
                }
            }
        }
    }
    if (type == "error" && !info.error) {
        info.error = true;
        info.errorMessage = topMessage.isEmpty() ? QStringLiteral("upstream error event") : topMessage;
    }
    info.usageOnly = info.hasUsage && sawChoices && choicesEmpty;
    // Responses API: output_text, reasoning and function-call argument deltas all use "delta".
    info.content = !info.error && (info.outputBytes > 0 || toolCall);
    return info;
}

bool usageFromOpenAIResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes)
{
    thread_local ondemand::parser parser;
    padded_string padded(body.data(), size_t(body.size()));
    ondemand::document doc;
    ondemand::object root;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(root))
        return false;
    bool found = false;
    qint64 bytes = 0;
    for (auto field : root) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return false;
        ondemand::value v;
        if (field.value().get(v))
            return false;
        if (key == "usage") {
            Usage u;
            if (readUsage(v, &u)) {
                found = true;
                if (usage)
                    *usage = u;
            }
        } else if (key == "choices" && outputBytes) {
            ondemand::array arr;
            bool empty = false;
            bool toolCall = false;
            if (!v.get_array().get(arr))
                bytes += choicesBytes(arr, &empty, &toolCall);
        } else if (key == "output_text" && outputBytes) {
            bytes += stringBytes(v);
        }
    }
    if (outputBytes)
        *outputBytes = bytes;
    return found;
}

bool isValidJson(QByteArrayView body)
{
    thread_local dom::parser parser;
    dom::element root;
    return !parser.parse(body.data(), size_t(body.size())).get(root);
}

QString upstreamErrorMessage(QByteArrayView body)
{
    thread_local ondemand::parser parser;
    padded_string padded(body.data(), size_t(body.size()));
    ondemand::document doc;
    ondemand::object root;
    if (!parser.iterate(padded).get(doc) && !doc.get_object().get(root)) {
        for (auto field : root) {
            std::string_view key;
            if (field.unescaped_key().get(key))
                break;
            ondemand::value v;
            if (field.value().get(v))
                break;
            if (key == "error")
                return errorMessageOf(v);
            if (key == "message") {
                std::string_view s;
                if (!v.get_string().get(s))
                    return QString::fromUtf8(s.data(), qsizetype(s.size()));
            }
        }
    }
    QString text = QString::fromUtf8(body.sliced(0, qMin<qsizetype>(300, body.size())).toByteArray()).simplified();
    return text.isEmpty() ? QStringLiteral("(empty response body)") : text;
}

} // namespace gh
