#include "formats/openai_chat/openaistream.h"
#include "providers/usagejson.h"
#include <simdjson.h>

namespace gh {

using namespace simdjson;

namespace {

// Every object here is read the same way: its fields in document order, stopping at the first
// malformed one. f(key, value) is called for each; false when the walk stopped on an error.
template <typename F> bool forEachField(ondemand::object obj, F &&f)
{
    for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            return false;
        ondemand::value v;
        if (field.value().get(v))
            return false;
        f(key, v);
    }
    return true;
}

// The root object of `text`; false when it is not JSON or not an object. `padded` and `doc` must
// outlive the use of *root (On-Demand reads lazily from them).
bool rootObject(ondemand::parser &parser, const padded_string &padded, ondemand::document &doc, ondemand::object *root)
{
    return !parser.iterate(padded).get(doc) && !doc.get_object().get(*root);
}

qint64 stringBytes(ondemand::value v)
{
    std::string_view s;
    if (v.get_string().get(s))
        return 0;
    return qint64(s.size());
}

QString stringOf(ondemand::value v, bool *ok)
{
    std::string_view s;
    *ok = !v.get_string().get(s);
    return *ok ? QString::fromUtf8(s.data(), qsizetype(s.size())) : QString();
}

// A tool call's function: its argument bytes; *toolCall when it has a name or arguments (its first
// delta may have the name alone).
qint64 functionBytes(ondemand::value call, bool *toolCall)
{
    ondemand::object co;
    ondemand::object fn;
    if (call.get_object().get(co) || co["function"].get_object().get(fn))
        return 0;
    qint64 n = 0;
    forEachField(fn, [&](std::string_view key, ondemand::value v) {
        if (key == "arguments") {
            const qint64 b = stringBytes(v);
            n += b;
            *toolCall = *toolCall || b > 0;
        } else if (key == "name") {
            *toolCall = *toolCall || stringBytes(v) > 0;
        }
    });
    return n;
}

// Generated text inside a choice's delta/message: content, reasoning and tool-call arguments.
qint64 messageBytes(ondemand::object obj, bool *toolCall)
{
    qint64 n = 0;
    forEachField(obj, [&](std::string_view key, ondemand::value v) {
        if (key == "content" || key == "reasoning_content" || key == "reasoning" || key == "refusal") {
            n += stringBytes(v);
            return;
        }
        ondemand::array calls;
        if (key != "tool_calls" || v.get_array().get(calls))
            return;
        for (auto call : calls) {
            ondemand::value cv;
            if (!call.get(cv))
                n += functionBytes(cv, toolCall);
        }
    });
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
        forEachField(co, [&](std::string_view key, ondemand::value v) {
            ondemand::object m;
            if ((key == "delta" || key == "message") && !v.get_object().get(m))
                n += messageBytes(m, toolCall);
            else if (key == "text")
                n += stringBytes(v);
        });
    }
    return n;
}

QString errorMessageOf(ondemand::value v)
{
    bool ok = false;
    ondemand::object e;
    if (v.get_object().get(e)) {
        const QString s = stringOf(v, &ok);
        return ok ? s : QStringLiteral("upstream error");
    }
    ondemand::value msg;
    if (!e["message"].get(msg)) {
        const QString s = stringOf(msg, &ok);
        if (ok)
            return s;
    }
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

// A usage object into info (and *usage when given).
void takeUsage(ondemand::value v, OpenAIEventInfo *info, Usage *usage)
{
    Usage u;
    if (!readUsage(v, &u))
        return;
    info->hasUsage = true;
    if (usage)
        *usage = u;
}

void takeError(ondemand::value v, OpenAIEventInfo *info)
{
    if (isNullOrBroken(v))
        return;
    info->error = true;
    info->errorMessage = errorMessageOf(v);
}

// The Responses API's response.completed / response.incomplete / response.failed carry usage and
// the error in a `response` object.
void readResponsesObject(ondemand::value v, OpenAIEventInfo *info, Usage *usage)
{
    ondemand::object r;
    if (v.get_object().get(r))
        return;
    forEachField(r, [&](std::string_view key, ondemand::value rv) {
        if (key == "usage")
            takeUsage(rv, info, usage);
        else if (key == "error")
            takeError(rv, info);
    });
}

// What one event's top-level fields said, before the info is completed from it.
struct EventScan {
    bool choicesEmpty = false;
    bool sawChoices = false;
    bool toolCall = false;
    bool errorType = false; // "type": "error" (the Responses API's error event)
    QString topMessage; // its "message"
};

void scanEventField(std::string_view key, ondemand::value v, OpenAIEventInfo *info, Usage *usage, EventScan *scan)
{
    ondemand::array arr;
    bool ok = false;
    if (key == "usage") {
        takeUsage(v, info, usage);
    } else if (key == "choices") {
        if (!v.get_array().get(arr)) {
            scan->sawChoices = true;
            info->outputBytes += choicesBytes(arr, &scan->choicesEmpty, &scan->toolCall);
        }
    } else if (key == "error") {
        takeError(v, info);
    } else if (key == "type") {
        scan->errorType = stringOf(v, &ok) == QLatin1String("error");
    } else if (key == "message") {
        // The Responses API's error event: {"type":"error","code":...,"message":...}.
        const QString m = stringOf(v, &ok);
        if (ok)
            scan->topMessage = m;
    } else if (key == "delta") {
        // Responses API: output_text, reasoning and function-call argument deltas all use "delta".
        info->outputBytes += stringBytes(v);
    } else if (key == "response") {
        readResponsesObject(v, info, usage);
    }
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
    if (!rootObject(parser, padded, doc, &root)) {
        info.malformed = true;
        return info;
    }
    EventScan scan;
    info.malformed = !forEachField(
        root, [&](std::string_view key, ondemand::value v) { scanEventField(key, v, &info, usage, &scan); });
    if (scan.errorType && !info.error) {
        info.error = true;
        info.errorMessage = scan.topMessage.isEmpty() ? QStringLiteral("upstream error event") : scan.topMessage;
    }
    info.usageOnly = info.hasUsage && scan.sawChoices && scan.choicesEmpty;
    info.content = !info.error && (info.outputBytes > 0 || scan.toolCall);
    return info;
}

bool usageFromOpenAIResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes)
{
    thread_local ondemand::parser parser;
    padded_string padded(body.data(), size_t(body.size()));
    ondemand::document doc;
    ondemand::object root;
    if (!rootObject(parser, padded, doc, &root))
        return false;
    OpenAIEventInfo info;
    qint64 bytes = 0;
    const bool whole = forEachField(root, [&](std::string_view key, ondemand::value v) {
        ondemand::array arr;
        bool empty = false;
        bool toolCall = false;
        if (key == "usage")
            takeUsage(v, &info, usage);
        else if (key == "choices" && outputBytes && !v.get_array().get(arr))
            bytes += choicesBytes(arr, &empty, &toolCall);
        else if (key == "output_text" && outputBytes)
            bytes += stringBytes(v);
    });
    if (!whole)
        return false;
    if (outputBytes)
        *outputBytes = bytes;
    return info.hasUsage;
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
    if (rootObject(parser, padded, doc, &root)) {
        std::optional<QString> found;
        forEachField(root, [&](std::string_view key, ondemand::value v) {
            bool ok = false;
            if (found)
                return;
            if (key == "error") {
                found = errorMessageOf(v);
            } else if (key == "message") {
                const QString s = stringOf(v, &ok);
                if (ok)
                    found = s;
            }
        });
        if (found)
            return *found;
    }
    QString text = QString::fromUtf8(body.sliced(0, qMin<qsizetype>(300, body.size())).toByteArray()).simplified();
    return text.isEmpty() ? QStringLiteral("(empty response body)") : text;
}

} // namespace gh
