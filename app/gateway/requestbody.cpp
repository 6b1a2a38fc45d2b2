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
    case Endpoint::Messages: return "/messages";
    case Endpoint::CountTokens: return "/messages/count_tokens";
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
    case Endpoint::Messages: return "messages";
    case Endpoint::CountTokens: return "messages";
    }
    return nullptr;
}

// On-Demand skips the values it is not asked for by counting brackets, without checking them; walk
// them so that invalid JSON is refused here (400) rather than forwarded.
simdjson::error_code validateValue(simdjson::ondemand::value value, int depth = 0)
{
    using namespace simdjson;
    constexpr int kMaxDepth = 512;
    if (depth > kMaxDepth)
        return DEPTH_ERROR;
    ondemand::json_type type;
    if (auto err = value.type().get(type))
        return err;
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (auto err = value.get_object().get(object))
            return err;
        for (auto field : object) {
            std::string_view key;
            if (auto err = field.unescaped_key().get(key))
                return err;
            ondemand::value v;
            if (auto err = field.value().get(v))
                return err;
            if (auto err = validateValue(v, depth + 1))
                return err;
        }
        return SUCCESS;
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (auto err = value.get_array().get(array))
            return err;
        for (auto element : array) {
            ondemand::value v;
            if (auto err = element.get(v))
                return err;
            if (auto err = validateValue(v, depth + 1))
                return err;
        }
        return SUCCESS;
    }
    case ondemand::json_type::string: {
        std::string_view s;
        return value.get_string().get(s);
    }
    case ondemand::json_type::number: {
        ondemand::number n;
        return value.get_number().get(n);
    }
    case ondemand::json_type::boolean: {
        bool b = false;
        return value.get_bool().get(b);
    }
    case ondemand::json_type::null: {
        bool isNull = false;
        if (auto err = value.is_null().get(isNull))
            return err;
        return isNull ? SUCCESS : INCORRECT_TYPE;
    }
    }
    return TAPE_ERROR;
}

} // namespace

std::optional<RequestFields> inspectRequestBody(QByteArray &body, Endpoint endpoint, QString *error)
{
    // Note: every simdjson_result is read with .get(); converting one to a value throws on error
    // (e.g. is_null() on the broken literal `nul`), which would take the gateway down.
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

    auto invalid = [&](error_code err) {
        return fail(QStringLiteral("Invalid JSON in request body: %1").arg(QString::fromLatin1(error_message(err))));
    };
    ondemand::document doc;
    if (auto err = parser.iterate(view).get(doc))
        return invalid(err);
    ondemand::object root;
    if (doc.get_object().get(root))
        return fail(QStringLiteral("Invalid request body: expected a JSON object."));
    const char *base = body.constData();
    auto fieldError = [&](std::string_view key, const char *what) {
        return fail(QStringLiteral("Invalid request: field '%1' %2.").arg(QString::fromUtf8(key.data(), qsizetype(key.size())), QLatin1String(what)));
    };
    for (auto field : root) {
        std::string_view key;
        if (auto err = field.unescaped_key().get(key))
            return invalid(err);
        ondemand::value value;
        if (auto err = field.value().get(value))
            return invalid(err);
        bool isNull = false;
        if (key == "model") {
            const std::string_view token = value.raw_json_token();
            std::string_view s;
            if (value.get_string().get(s))
                return fieldError(key, "must be a string");
            f.model = QString::fromUtf8(s.data(), qsizetype(s.size()));
            f.modelOffset = token.data() - base;
            f.modelLength = tokenLength(token);
            hasModel = true;
        } else if (key == "stream") {
            bool b = false;
            if (value.get_bool().get(b) && (value.is_null().get(isNull) || !isNull))
                return fieldError(key, "must be a boolean");
            f.stream = b;
        } else if (key == "max_tokens" || key == "max_completion_tokens" || key == "max_output_tokens") {
            int64_t n = 0;
            if (value.get_int64().get(n)) {
                if (value.is_null().get(isNull) || !isNull)
                    return fieldError(key, "must be a non-negative integer");
                continue;
            }
            if (n < 0)
                return fieldError(key, "must be a non-negative integer");
            // max_completion_tokens wins over the deprecated max_tokens when both are present.
            if (!f.maxTokens || key != "max_tokens")
                f.maxTokens = n;
        } else if (key == "stream_options") {
            const std::string_view token = value.raw_json_token();
            if (value.is_null().get(isNull) == SUCCESS && isNull) {
                f.streamOptionsOffset = token.data() - base;
                f.streamOptionsNullLength = tokenLength(token);
                continue;
            }
            ondemand::object opts;
            if (value.get_object().get(opts))
                return fieldError(key, "must be an object");
            f.streamOptionsOffset = token.data() - base; // the '{'
            f.streamOptionsNullLength = 0;
            qsizetype i = f.streamOptionsOffset + 1;
            while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
                ++i;
            f.streamOptionsEmpty = i < body.size() && body[i] == '}';
            for (auto option : opts) {
                std::string_view ok;
                if (auto err = option.unescaped_key().get(ok))
                    return invalid(err);
                ondemand::value iv;
                if (auto err = option.value().get(iv))
                    return invalid(err);
                if (ok != "include_usage") {
                    if (auto err = validateValue(iv))
                        return invalid(err);
                    continue;
                }
                const std::string_view itoken = iv.raw_json_token();
                f.includeUsageOffset = itoken.data() - base;
                f.includeUsageLength = tokenLength(itoken);
                bool b = false;
                if (iv.get_bool().get(b) && (iv.is_null().get(isNull) || !isNull))
                    return fail(QStringLiteral("Invalid request: field 'stream_options.include_usage' must be a boolean."));
                f.clientWantsUsage = b;
            }
        } else {
            if (required && key == required) {
                if (auto err = value.is_null().get(isNull))
                    return invalid(err);
                hasRequired = !isNull;
            }
            if (auto err = validateValue(value))
                return invalid(err);
        }
    }
    // Nothing may follow the object (on-demand stops reading at its closing brace).
    const char *trailing = nullptr;
    if (doc.current_location().get(trailing) != OUT_OF_BOUNDS)
        return fail(QStringLiteral("Invalid JSON in request body: trailing content after the object."));
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
        else if (f.streamOptionsNullLength > 0) // "stream_options": null
            edits.push_back({f.streamOptionsOffset, f.streamOptionsNullLength, "{\"include_usage\":true}"});
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
