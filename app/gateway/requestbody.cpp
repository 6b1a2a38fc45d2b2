#include "gateway/requestbody.h"
#include "gateway/gatewayerror.h"
#include <simdjson.h>
#include <algorithm>
#include <vector>

namespace gh {

const char *endpointPath(Endpoint e)
{
    switch (e) {
    case Endpoint::ChatCompletions: return "/chat/completions";
    case Endpoint::Completions: return "/completions";
    case Endpoint::Embeddings: return "/embeddings";
    case Endpoint::Responses: return "/responses";
    }
    return "";
}

namespace {

// simdjson's raw tokens run up to the next structural character; drop trailing white space.
qsizetype tokenLength(std::string_view token)
{
    qsizetype n = qsizetype(token.size());
    while (n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == '\t'))
        --n;
    return n;
}

const char *requiredField(Endpoint e)
{
    switch (e) {
    case Endpoint::ChatCompletions: return "messages";
    case Endpoint::Completions: return "prompt";
    case Endpoint::Embeddings: return "input";
    case Endpoint::Responses: return "input";
    }
    return nullptr;
}

} // namespace

std::optional<RequestFields> inspectRequestBody(QByteArray &body, Endpoint endpoint, QString *error)
{
    using namespace simdjson;
    auto fail = [&](const QString &message) -> std::optional<RequestFields> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (body.trimmed().isEmpty())
        return fail(QStringLiteral("Request body is empty: expected a JSON object."));
    if (body.capacity() - body.size() < qsizetype(SIMDJSON_PADDING))
        body.reserve(body.size() + SIMDJSON_PADDING);
    thread_local ondemand::parser parser;
    padded_string_view view(body.constData(), size_t(body.size()), size_t(body.capacity()));
    RequestFields f;
    bool hasRequired = false;
    bool hasModel = false;
    const char *required = requiredField(endpoint);

    ondemand::document doc;
    if (auto err = parser.iterate(view).get(doc))
        return fail(QStringLiteral("Invalid JSON in request body: %1").arg(QString::fromLatin1(error_message(err))));
    ondemand::object root;
    if (doc.get_object().get(root))
        return fail(QStringLiteral("Invalid request body: expected a JSON object."));
    const char *base = body.constData();
    auto invalid = [&](error_code err) {
        return fail(QStringLiteral("Invalid JSON in request body: %1").arg(QString::fromLatin1(error_message(err))));
    };
    for (auto field : root) {
        std::string_view key;
        if (auto err = field.unescaped_key().get(key))
            return invalid(err);
        ondemand::value value;
        if (auto err = field.value().get(value))
            return invalid(err);
        if (key == "model") {
            std::string_view token = value.raw_json_token();
            std::string_view s;
            if (value.get_string().get(s))
                return fail(QStringLiteral("Invalid request: field 'model' must be a string."));
            f.model = QString::fromUtf8(s.data(), qsizetype(s.size()));
            f.modelOffset = token.data() - base;
            f.modelLength = tokenLength(token);
            hasModel = true;
        } else if (key == "stream") {
            bool b = false;
            if (value.get_bool().get(b)) {
                if (!value.is_null())
                    return fail(QStringLiteral("Invalid request: field 'stream' must be a boolean."));
            }
            f.stream = b;
        } else if (key == "max_tokens" || key == "max_completion_tokens" || key == "max_output_tokens") {
            if (value.is_null())
                continue;
            int64_t n = 0;
            if (value.get_int64().get(n) || n < 0)
                return fail(QStringLiteral("Invalid request: field '%1' must be a non-negative integer.").arg(QString::fromUtf8(key.data(), qsizetype(key.size()))));
            // max_completion_tokens wins over the deprecated max_tokens when both are present.
            if (!f.maxTokens || key != "max_tokens")
                f.maxTokens = n;
        } else if (key == "stream_options") {
            if (value.is_null())
                continue;
            ondemand::object opts;
            if (value.get_object().get(opts))
                return fail(QStringLiteral("Invalid request: field 'stream_options' must be an object."));
            std::string_view raw = opts.raw_json(); // whole object text, from '{'
            f.streamOptionsOffset = raw.data() - base;
            // Re-iterate a fresh view of the same bytes to find include_usage: raw_json consumed the object.
            qsizetype i = f.streamOptionsOffset + 1;
            while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
                ++i;
            f.streamOptionsEmpty = i < body.size() && body[i] == '}';
            thread_local ondemand::parser inner;
            padded_string padded(raw.data(), raw.size());
            ondemand::document idoc;
            if (inner.iterate(padded).get(idoc))
                return fail(QStringLiteral("Invalid request: field 'stream_options' is not valid JSON."));
            ondemand::object iobj;
            if (idoc.get_object().get(iobj))
                return fail(QStringLiteral("Invalid request: field 'stream_options' must be an object."));
            for (auto of : iobj) {
                std::string_view ok;
                if (of.unescaped_key().get(ok))
                    return invalid(simdjson::TAPE_ERROR);
                if (ok != "include_usage")
                    continue;
                ondemand::value iv;
                if (of.value().get(iv))
                    return invalid(simdjson::TAPE_ERROR);
                std::string_view itoken = iv.raw_json_token();
                f.includeUsageOffset = f.streamOptionsOffset + (itoken.data() - padded.data());
                f.includeUsageLength = tokenLength(itoken);
                bool b = false;
                if (iv.get_bool().get(b) && !iv.is_null())
                    return fail(QStringLiteral("Invalid request: field 'stream_options.include_usage' must be a boolean."));
                f.clientWantsUsage = b;
            }
        } else if (required && key == required) {
            hasRequired = !value.is_null();
        }
    }
    if (!hasModel)
        return fail(QStringLiteral("Missing required field: 'model'."));
    if (required && !hasRequired)
        return fail(QStringLiteral("Missing required field: '%1'.").arg(QLatin1String(required)));
    // The closing brace of the top-level object.
    qsizetype end = body.size() - 1;
    while (end >= 0 && (body[end] == ' ' || body[end] == '\n' || body[end] == '\r' || body[end] == '\t'))
        --end;
    if (end < 0 || body[end] != '}')
        return fail(QStringLiteral("Invalid JSON in request body: trailing content after the object."));
    f.objectEnd = end;
    return f;
}

QByteArray rewriteRequestBody(const QByteArray &body, const RequestFields &f, const QString &upstreamModel, bool requireUsage)
{
    struct Edit {
        qsizetype offset;
        qsizetype length;
        QByteArray text;
    };
    std::vector<Edit> edits;
    if (f.modelOffset >= 0 && upstreamModel != f.model)
        edits.push_back({f.modelOffset, f.modelLength, jsonString(upstreamModel)});
    if (requireUsage && f.stream && !f.clientWantsUsage) {
        if (f.includeUsageOffset >= 0)
            edits.push_back({f.includeUsageOffset, f.includeUsageLength, "true"});
        else if (f.streamOptionsOffset >= 0)
            edits.push_back({f.streamOptionsOffset + 1, 0, f.streamOptionsEmpty ? QByteArray("\"include_usage\":true") : QByteArray("\"include_usage\":true,")});
        else if (f.objectEnd >= 0)
            edits.push_back({f.objectEnd, 0, ",\"stream_options\":{\"include_usage\":true}"});
    }
    if (edits.empty())
        return body;
    std::sort(edits.begin(), edits.end(), [](const Edit &a, const Edit &b) { return a.offset < b.offset; });
    QByteArray out;
    out.reserve(body.size() + 64);
    qsizetype pos = 0;
    for (const Edit &e : edits) {
        out.append(body.constData() + pos, e.offset - pos);
        out.append(e.text);
        pos = e.offset + e.length;
    }
    out.append(body.constData() + pos, body.size() - pos);
    return out;
}

} // namespace gh
