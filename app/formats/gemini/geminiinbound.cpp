// The Gemini API as a client's format (geminiinbound.h).
#include "formats/gemini/geminiinbound.h"
#include "formats/gemini/geminitranslate.h"
#include "formats/common/jsonkit.h"
#include "formats/common/openaichunkstream.h"
#include <QDateTime>
#include <QHash>
#include <QJsonDocument>
#include <QMap>

namespace gh {

using namespace tx;

namespace {

const QLatin1String kParts("parts");

// Gemini's `parameters` / `responseSchema` are OpenAPI schemas whose types may be upper case
// ("OBJECT") and whose nullability is a flag; JSON Schema (what the internal form carries) wants
// lower-case types and "null" in the type list. Everything else is the same vocabulary.
QJsonValue jsonSchemaFromOpenApi(const QJsonValue &v)
{
    if (v.isArray()) {
        QJsonArray out;
        for (const QJsonValue &e : v.toArray())
            out.append(jsonSchemaFromOpenApi(e));
        return out;
    }
    if (!v.isObject())
        return v;
    QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (it.key() == QLatin1String("properties") && it.value().isObject()) {
            QJsonObject props = it.value().toObject();
            for (auto p = props.begin(); p != props.end(); ++p)
                p.value() = jsonSchemaFromOpenApi(p.value());
            it.value() = props;
        } else if (it.key() != QLatin1String("enum") && it.key() != QLatin1String("required") && it.key() != QLatin1String("example")) {
            it.value() = jsonSchemaFromOpenApi(it.value());
        }
    }
    if (o.value(kType).isString())
        o.insert(kType, o.value(kType).toString().toLower());
    if (o.value(QLatin1String("nullable")).toBool() && o.value(kType).isString())
        o.insert(kType, QJsonArray{o.value(kType), QStringLiteral("null")});
    o.remove(QLatin1String("nullable"));
    return o;
}

// A schema of the request as the internal form carries it: `jsonSchemaKey`'s value (already JSON
// Schema) copied in its key order; else the OpenAPI `schemaKey`'s, converted (copied in key order
// when the conversion changes nothing).
std::optional<QJsonValue> schemaOf(const QJsonObject &o, const char *jsonSchemaKey, const char *schemaKey,
                                   const OrderedSource &src, RawSplicer &out, const QString &pointer)
{
    if (o.value(QLatin1String(jsonSchemaKey)).isObject())
        return ordered(src, out, pointer + QLatin1Char('/') + QLatin1String(jsonSchemaKey), o.value(QLatin1String(jsonSchemaKey)));
    const QJsonValue schema = o.value(QLatin1String(schemaKey));
    if (!schema.isObject())
        return std::nullopt;
    const QJsonValue converted = jsonSchemaFromOpenApi(schema);
    if (converted == schema)
        return ordered(src, out, pointer + QLatin1Char('/') + QLatin1String(schemaKey), schema);
    return converted;
}

class FromGemini
{
public:
    FromGemini(const QByteArray &body, TranslateError *err)
        : m_src(body)
        , m_err(err)
    { }
    std::optional<QByteArray> run(const QJsonObject &req, const QString &model, bool stream);

private:
    bool refuseUnknown(const QJsonObject &req);
    bool system(const QJsonValue &instruction);
    bool contents(const QJsonArray &contents);
    bool modelTurn(const QJsonArray &parts, qsizetype index);
    bool userTurn(const QJsonArray &parts, const QString &path);
    std::optional<QJsonObject> mediaPart(const QJsonObject &part, const QString &path);
    bool tools(const QJsonObject &req, QJsonObject *out);
    bool generationConfig(const QJsonObject &gc, QJsonObject *out);
    bool refuse(const QString &feature, const QString &message)
    {
        tx::refuse(m_err, feature, message);
        return false;
    }

    OrderedSource m_src;
    RawSplicer m_out;
    TranslateError *m_err;
    QJsonArray m_messages;
    int m_nextCall = 0;
    // Calls not yet answered, by function name, oldest first: a functionResponse without an id
    // answers the earliest one of its name (the order Gemini clients send them back in).
    QHash<QString, QStringList> m_pending;
};

bool FromGemini::refuseUnknown(const QJsonObject &req)
{
    // safetySettings are Google's own content filters: other providers have theirs, so they are
    // not carried (nothing the model sees changes). labels are Google billing tags. model appears
    // in countTokens' generateContentRequest.
    static const QStringList known = {QStringLiteral("contents"), QStringLiteral("systemInstruction"), QStringLiteral("tools"),
                                      QStringLiteral("toolConfig"), QStringLiteral("generationConfig"),
                                      QStringLiteral("safetySettings"), QStringLiteral("labels"), QStringLiteral("model")};
    for (auto it = req.begin(); it != req.end(); ++it) {
        if (!known.contains(it.key()))
            return refuse(it.key(), QStringLiteral("The Gemini request field '%1' cannot be carried to this model.").arg(it.key()));
    }
    return true;
}

bool FromGemini::system(const QJsonValue &instruction)
{
    if (instruction.isUndefined() || instruction.isNull())
        return true;
    QStringList texts;
    if (instruction.isString()) {
        texts.append(instruction.toString());
    } else if (instruction.isObject()) {
        const QJsonArray parts = instruction.toObject().value(kParts).toArray();
        for (qsizetype i = 0; i < parts.size(); ++i) {
            const QJsonObject part = parts.at(i).toObject();
            if (!part.value(kText).isString())
                return refuse(QStringLiteral("systemInstruction.parts[%1]").arg(i), QStringLiteral("A system instruction can only hold text."));
            texts.append(part.value(kText).toString());
        }
    } else {
        return refuse(QStringLiteral("systemInstruction"), QStringLiteral("systemInstruction must be a Content object."));
    }
    m_messages.append(QJsonObject{{QLatin1String("role"), QStringLiteral("system")}, {QLatin1String("content"), texts.join(QLatin1Char('\n'))}});
    return true;
}

bool FromGemini::contents(const QJsonArray &contents)
{
    for (qsizetype i = 0; i < contents.size(); ++i) {
        const QString path = QStringLiteral("contents[%1]").arg(i);
        if (!contents.at(i).isObject())
            return refuse(path, QStringLiteral("Each content must be an object with role and parts."));
        const QJsonObject c = contents.at(i).toObject();
        const QString role = c.value(QLatin1String("role")).toString(QStringLiteral("user"));
        const QJsonArray parts = c.value(kParts).toArray();
        if (role == QLatin1String("model")) {
            if (!modelTurn(parts, i))
                return false;
        } else if (role == QLatin1String("user") || role == QLatin1String("function") || role.isEmpty()) {
            if (!userTurn(parts, path))
                return false;
        } else {
            return refuse(path + QStringLiteral(".role"), QStringLiteral("Unknown role '%1' (user or model).").arg(role));
        }
    }
    return true;
}

bool FromGemini::modelTurn(const QJsonArray &parts, qsizetype index)
{
    const QString path = QStringLiteral("contents[%1]").arg(index);
    QString text;
    QString reasoning;
    QJsonArray calls;
    for (qsizetype j = 0; j < parts.size(); ++j) {
        const QJsonObject part = parts.at(j).toObject();
        const QString where = QStringLiteral("%1.parts[%2]").arg(path).arg(j);
        if (part.value(QLatin1String("functionCall")).isObject()) {
            const QJsonObject fc = part.value(QLatin1String("functionCall")).toObject();
            const QString name = fc.value(QLatin1String("name")).toString();
            const QString id = fc.value(QLatin1String("id")).toString(QStringLiteral("call_%1").arg(++m_nextCall));
            m_pending[name].append(id);
            const QString pointer = QStringLiteral("/contents/%1/parts/%2/functionCall/args").arg(index).arg(j);
            const QByteArray args = fc.value(QLatin1String("args")).isObject()
                ? m_src.raw(pointer).value_or(compact(fc.value(QLatin1String("args")).toObject()))
                : QByteArray("{}");
            QJsonObject call{{QLatin1String("id"), id},
                             {kType, QStringLiteral("function")},
                             {QLatin1String("function"), QJsonObject{{QLatin1String("name"), name}, {QLatin1String("arguments"), QString::fromUtf8(args)}}}};
            if (part.value(QLatin1String("thoughtSignature")).isString())
                call.insert(QLatin1String("extra_content"),
                            QJsonObject{{QLatin1String("google"), QJsonObject{{QLatin1String("thought_signature"), part.value(QLatin1String("thoughtSignature"))}}}});
            calls.append(call);
        } else if (part.value(kText).isString()) {
            (part.value(QLatin1String("thought")).toBool() ? reasoning : text) += part.value(kText).toString();
        } else if (!part.value(QLatin1String("thoughtSignature")).isString()) {
            return refuse(where, QStringLiteral("A model turn can hold text and function calls only."));
        }
    }
    QJsonObject m{{QLatin1String("role"), QStringLiteral("assistant")},
                  {QLatin1String("content"), text.isEmpty() && !calls.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text)}};
    if (!reasoning.isEmpty())
        m.insert(QLatin1String("reasoning_content"), reasoning);
    if (!calls.isEmpty())
        m.insert(QLatin1String("tool_calls"), calls);
    m_messages.append(m);
    return true;
}

std::optional<QJsonObject> FromGemini::mediaPart(const QJsonObject &part, const QString &path)
{
    if (part.value(QLatin1String("inlineData")).isObject()) {
        const QJsonObject d = part.value(QLatin1String("inlineData")).toObject();
        const QString mime = d.value(QLatin1String("mimeType")).toString();
        const QString url = QStringLiteral("data:%1;base64,%2").arg(mime, d.value(QLatin1String("data")).toString());
        if (mime.startsWith(QLatin1String("image/")))
            return QJsonObject{{kType, QStringLiteral("image_url")}, {QLatin1String("image_url"), QJsonObject{{QLatin1String("url"), url}}}};
        if (mime == QLatin1String("application/pdf"))
            return QJsonObject{{kType, QStringLiteral("file")},
                               {QLatin1String("file"), QJsonObject{{QLatin1String("filename"), QStringLiteral("document.pdf")}, {QLatin1String("file_data"), url}}}};
        tx::refuse(m_err, path + QStringLiteral(".inlineData"), QStringLiteral("Inline data of type '%1' cannot be carried (images and PDF can).").arg(mime));
        return std::nullopt;
    }
    if (part.value(QLatin1String("fileData")).isObject()) {
        const QJsonObject d = part.value(QLatin1String("fileData")).toObject();
        const QString uri = d.value(QLatin1String("fileUri")).toString();
        if (d.value(QLatin1String("mimeType")).toString().startsWith(QLatin1String("image/")) && isHttpUrl(uri))
            return QJsonObject{{kType, QStringLiteral("image_url")}, {QLatin1String("image_url"), QJsonObject{{QLatin1String("url"), uri}}}};
        tx::refuse(m_err, path + QStringLiteral(".fileData"), QStringLiteral("Only images at http(s) URLs can be carried from fileData (Google Files API URIs cannot)."));
        return std::nullopt;
    }
    tx::refuse(m_err, path, QStringLiteral("This kind of part cannot be carried (text, images, PDF, function calls and responses can)."));
    return std::nullopt;
}

bool FromGemini::userTurn(const QJsonArray &parts, const QString &path)
{
    QJsonArray content;
    bool onlyText = true;
    for (qsizetype j = 0; j < parts.size(); ++j) {
        const QJsonObject part = parts.at(j).toObject();
        const QString where = QStringLiteral("%1.parts[%2]").arg(path).arg(j);
        if (part.value(QLatin1String("functionResponse")).isObject()) {
            // Tool results answer the assistant turn just before: they come first.
            const QJsonObject fr = part.value(QLatin1String("functionResponse")).toObject();
            const QString name = fr.value(QLatin1String("name")).toString();
            QString id = fr.value(QLatin1String("id")).toString();
            QStringList &pending = m_pending[name];
            if (id.isEmpty())
                id = pending.isEmpty() ? QStringLiteral("call_%1").arg(++m_nextCall) : pending.first();
            pending.removeOne(id);
            const QByteArray response = compact(fr.value(QLatin1String("response")).toObject());
            m_messages.append(QJsonObject{{QLatin1String("role"), QStringLiteral("tool")},
                                          {QLatin1String("tool_call_id"), id},
                                          {QLatin1String("content"), QString::fromUtf8(response)}});
        } else if (part.value(kText).isString()) {
            content.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, part.value(kText)}});
        } else {
            auto media = mediaPart(part, where);
            if (!media)
                return false;
            onlyText = false;
            content.append(*media);
        }
    }
    if (content.isEmpty())
        return true;
    QJsonValue value = content;
    if (onlyText) {
        QString text;
        for (const QJsonValue &c : content)
            text += c.toObject().value(kText).toString();
        value = text;
    }
    m_messages.append(QJsonObject{{QLatin1String("role"), QStringLiteral("user")}, {QLatin1String("content"), value}});
    return true;
}

bool FromGemini::tools(const QJsonObject &req, QJsonObject *out)
{
    QJsonArray tools;
    const QJsonArray groups = req.value(QLatin1String("tools")).toArray();
    for (qsizetype g = 0; g < groups.size(); ++g) {
        const QJsonObject group = groups.at(g).toObject();
        for (auto it = group.begin(); it != group.end(); ++it) {
            if (it.key() != QLatin1String("functionDeclarations"))
                return refuse(QStringLiteral("tools[%1].%2").arg(g).arg(it.key()),
                              QStringLiteral("Google's built-in tool '%1' exists only on Gemini models.").arg(it.key()));
        }
        const QJsonArray decls = group.value(QLatin1String("functionDeclarations")).toArray();
        for (qsizetype d = 0; d < decls.size(); ++d) {
            const QJsonObject decl = decls.at(d).toObject();
            QJsonObject fn{{QLatin1String("name"), decl.value(QLatin1String("name"))}};
            if (decl.value(QLatin1String("description")).isString())
                fn.insert(QLatin1String("description"), decl.value(QLatin1String("description")));
            const QString pointer = QStringLiteral("/tools/%1/functionDeclarations/%2").arg(g).arg(d);
            fn.insert(QLatin1String("parameters"),
                      schemaOf(decl, "parametersJsonSchema", "parameters", m_src, m_out, pointer)
                          .value_or(QJsonObject{{kType, QStringLiteral("object")}, {QLatin1String("properties"), QJsonObject{}}}));
            tools.append(QJsonObject{{kType, QStringLiteral("function")}, {QLatin1String("function"), fn}});
        }
    }
    if (tools.isEmpty())
        return true;
    out->insert(QLatin1String("tools"), tools);
    const QJsonObject fcc = req.value(QLatin1String("toolConfig")).toObject().value(QLatin1String("functionCallingConfig")).toObject();
    const QString mode = fcc.value(QLatin1String("mode")).toString();
    const QJsonArray allowed = fcc.value(QLatin1String("allowedFunctionNames")).toArray();
    if (mode == QLatin1String("NONE"))
        out->insert(QLatin1String("tool_choice"), QStringLiteral("none"));
    else if (mode == QLatin1String("ANY") && allowed.size() == 1)
        out->insert(QLatin1String("tool_choice"), QJsonObject{{kType, QStringLiteral("function")},
                                                              {QLatin1String("function"), QJsonObject{{QLatin1String("name"), allowed.first()}}}});
    else if (mode == QLatin1String("ANY"))
        out->insert(QLatin1String("tool_choice"), QStringLiteral("required"));
    else if (mode == QLatin1String("AUTO") || mode == QLatin1String("VALIDATED"))
        out->insert(QLatin1String("tool_choice"), QStringLiteral("auto"));
    else if (!mode.isEmpty() && mode != QLatin1String("MODE_UNSPECIFIED"))
        return refuse(QStringLiteral("toolConfig.functionCallingConfig.mode"), QStringLiteral("Unknown function calling mode '%1'.").arg(mode));
    return true;
}

bool FromGemini::generationConfig(const QJsonObject &gc, QJsonObject *out)
{
    const struct {
        const char *from;
        const char *to;
    } numeric[] = {{"temperature", "temperature"}, {"topP", "top_p"}, {"topK", "top_k"}, {"maxOutputTokens", "max_tokens"},
                   {"presencePenalty", "presence_penalty"}, {"frequencyPenalty", "frequency_penalty"}, {"seed", "seed"},
                   {"candidateCount", "n"}};
    for (const auto &f : numeric) {
        if (gc.value(QLatin1String(f.from)).isDouble())
            out->insert(QLatin1String(f.to), gc.value(QLatin1String(f.from)));
    }
    if (gc.value(QLatin1String("stopSequences")).isArray() && !gc.value(QLatin1String("stopSequences")).toArray().isEmpty())
        out->insert(QLatin1String("stop"), gc.value(QLatin1String("stopSequences")));
    for (const char *unsupported : {"responseLogprobs", "logprobs", "speechConfig", "audioTimestamp"}) {
        if (gc.contains(QLatin1String(unsupported)) && !gc.value(QLatin1String(unsupported)).isNull() && gc.value(QLatin1String(unsupported)) != QJsonValue(false))
            return refuse(QStringLiteral("generationConfig.%1").arg(QLatin1String(unsupported)), QStringLiteral("This generation option exists only on Gemini models."));
    }
    for (const QJsonValue &m : gc.value(QLatin1String("responseModalities")).toArray()) {
        if (m.toString().compare(QLatin1String("TEXT"), Qt::CaseInsensitive) != 0)
            return refuse(QStringLiteral("generationConfig.responseModalities"), QStringLiteral("Only text responses can be asked of this model."));
    }
    const QString pointer = QStringLiteral("/generationConfig");
    if (auto schema = schemaOf(gc, "responseJsonSchema", "responseSchema", m_src, m_out, pointer)) {
        out->insert(QLatin1String("response_format"),
                    QJsonObject{{kType, QStringLiteral("json_schema")},
                                {QLatin1String("json_schema"), QJsonObject{{QLatin1String("name"), QStringLiteral("response")}, {QLatin1String("schema"), *schema}}}});
    } else if (gc.value(QLatin1String("responseMimeType")).toString() == QLatin1String("application/json")) {
        out->insert(QLatin1String("response_format"), QJsonObject{{kType, QStringLiteral("json_object")}});
    }
    // thinkingBudget -1 is "let the model decide" and includeThoughts only asks to see thoughts: both
    // leave the target's default. A positive budget or a level becomes reasoning_effort (the
    // buckets openAIChatToGemini maps back: 1024 low, 8192 medium, 24576 high).
    const QJsonObject thinking = gc.value(QLatin1String("thinkingConfig")).toObject();
    const qint64 budget = thinking.value(QLatin1String("thinkingBudget")).toInteger(-1);
    const QString level = thinking.value(QLatin1String("thinkingLevel")).toString().toLower();
    if (budget == 0)
        out->insert(QLatin1String("reasoning_effort"), QStringLiteral("none"));
    else if (budget > 0)
        out->insert(QLatin1String("reasoning_effort"), budget <= 1024 ? QStringLiteral("low") : budget <= 8192 ? QStringLiteral("medium") : QStringLiteral("high"));
    else if (level == QLatin1String("low") || level == QLatin1String("medium") || level == QLatin1String("high") || level == QLatin1String("minimal"))
        out->insert(QLatin1String("reasoning_effort"), level);
    return true;
}

std::optional<QByteArray> FromGemini::run(const QJsonObject &req, const QString &model, bool stream)
{
    if (!refuseUnknown(req) || !system(req.value(QLatin1String("systemInstruction"))))
        return std::nullopt;
    if (!req.value(QLatin1String("contents")).isArray())
        return tx::refuse(m_err, QStringLiteral("contents"), QStringLiteral("The request needs a contents array."));
    if (!contents(req.value(QLatin1String("contents")).toArray()))
        return std::nullopt;
    QJsonObject out{{QLatin1String("model"), model}, {QLatin1String("messages"), m_messages}};
    if (!tools(req, &out) || !generationConfig(req.value(QLatin1String("generationConfig")).toObject(), &out))
        return std::nullopt;
    if (stream) {
        out.insert(QLatin1String("stream"), true);
        out.insert(QLatin1String("stream_options"), QJsonObject{{QLatin1String("include_usage"), true}});
    }
    return m_out.toJson(out);
}

QString geminiFinishReason(const QString &finish)
{
    if (finish == QLatin1String("length"))
        return QStringLiteral("MAX_TOKENS");
    if (finish == QLatin1String("content_filter"))
        return QStringLiteral("SAFETY");
    return QStringLiteral("STOP"); // stop, tool_calls, function_call
}

QJsonObject usageMetadata(const Usage &u)
{
    // Gemini counts cached tokens inside promptTokenCount and thoughts apart from the candidates.
    const qint64 prompt = u.totalInput();
    const qint64 candidates = qMax<qint64>(0, u.outputTokens - u.reasoningTokens);
    QJsonObject o{{QLatin1String("promptTokenCount"), prompt},
                  {QLatin1String("candidatesTokenCount"), candidates},
                  {QLatin1String("totalTokenCount"), prompt + u.outputTokens}};
    if (u.cacheReadTokens > 0)
        o.insert(QLatin1String("cachedContentTokenCount"), u.cacheReadTokens);
    if (u.reasoningTokens > 0)
        o.insert(QLatin1String("thoughtsTokenCount"), u.reasoningTokens);
    return o;
}

// An OpenAI tool call as a Gemini functionCall part; the arguments must be a JSON object.
std::optional<QJsonObject> functionCallPart(const QString &id, const QString &name, const QString &arguments, const QJsonValue &signature)
{
    const QByteArray args = arguments.trimmed().isEmpty() ? QByteArray("{}") : arguments.toUtf8();
    const auto parsed = parseObject(args);
    if (!parsed)
        return std::nullopt;
    QJsonObject fc{{QLatin1String("name"), name}, {QLatin1String("args"), *parsed}};
    if (!id.isEmpty())
        fc.insert(QLatin1String("id"), id);
    QJsonObject part{{QLatin1String("functionCall"), fc}};
    if (signature.isString())
        part.insert(QLatin1String("thoughtSignature"), signature);
    return part;
}

QString errorStatusName(int status)
{
    switch (status) {
    case 400: case 405: case 413: case 422: return QStringLiteral("INVALID_ARGUMENT");
    case 401: return QStringLiteral("UNAUTHENTICATED");
    case 402: return QStringLiteral("FAILED_PRECONDITION");
    case 403: return QStringLiteral("PERMISSION_DENIED");
    case 404: return QStringLiteral("NOT_FOUND");
    case 408: case 504: return QStringLiteral("DEADLINE_EXCEEDED");
    case 409: return QStringLiteral("ABORTED");
    case 429: return QStringLiteral("RESOURCE_EXHAUSTED");
    case 499: return QStringLiteral("CANCELLED");
    case 501: return QStringLiteral("UNIMPLEMENTED");
    case 502: case 503: case 529: return QStringLiteral("UNAVAILABLE");
    default: return status >= 500 ? QStringLiteral("INTERNAL") : QStringLiteral("FAILED_PRECONDITION");
    }
}

// OpenAI chunks -> Gemini chunks.
class OpenAIToGemini final : public OpenAIChunkStream
{
public:
    explicit OpenAIToGemini(const QString &model)
        : m_model(model)
    { }

    QByteArray fail(int status, const QString &message) override
    {
        if (m_ended)
            return {};
        m_ended = true;
        return sseData(geminiErrorBody(status, message));
    }

private:
    struct Call {
        QString id;
        QString name;
        QString arguments;
        QJsonValue signature;
    };

    QByteArray begin(const QJsonObject &chunk) override
    {
        if (m_id.isEmpty())
            m_id = chunk.value(QLatin1String("id")).toString();
        return {};
    }

    QByteArray streamError(const QString &message) override
    {
        m_ended = true;
        return sseData(geminiErrorBody(500, message));
    }

    QByteArray delta(const QJsonObject &d) override
    {
        QJsonArray parts;
        QString reasoning = d.value(QLatin1String("reasoning_content")).toString();
        if (reasoning.isEmpty())
            reasoning = d.value(QLatin1String("reasoning")).toString();
        if (!reasoning.isEmpty())
            parts.append(QJsonObject{{kText, reasoning}, {QLatin1String("thought"), true}});
        const QString text = d.value(QLatin1String("content")).toString() + d.value(QLatin1String("refusal")).toString();
        if (!text.isEmpty())
            parts.append(QJsonObject{{kText, text}});
        // Gemini sends a call whole: the fragments are gathered until the stream's end.
        for (const QJsonValue &cv : d.value(QLatin1String("tool_calls")).toArray()) {
            const QJsonObject call = cv.toObject();
            Call &c = m_calls[call.value(QLatin1String("index")).toInt()];
            const QJsonObject fn = call.value(QLatin1String("function")).toObject();
            if (c.id.isEmpty())
                c.id = call.value(QLatin1String("id")).toString();
            c.name += fn.value(QLatin1String("name")).toString();
            c.arguments += fn.value(QLatin1String("arguments")).toString();
            const QJsonValue sig = call.value(QLatin1String("extra_content")).toObject().value(QLatin1String("google")).toObject().value(QLatin1String("thought_signature"));
            if (sig.isString())
                c.signature = sig;
        }
        return parts.isEmpty() ? QByteArray() : chunk(parts, QJsonObject());
    }

    QByteArray chunk(const QJsonArray &parts, const QJsonObject &extra)
    {
        QJsonObject candidate{{QLatin1String("content"), QJsonObject{{QLatin1String("role"), QStringLiteral("model")}, {kParts, parts}}},
                              {QLatin1String("index"), 0}};
        for (auto it = extra.begin(); it != extra.end(); ++it)
            candidate.insert(it.key(), it.value());
        QJsonObject o{{QLatin1String("candidates"), QJsonArray{candidate}}, {QLatin1String("modelVersion"), m_model}};
        if (!m_id.isEmpty())
            o.insert(QLatin1String("responseId"), m_id);
        if (extra.contains(QLatin1String("finishReason")))
            o.insert(QLatin1String("usageMetadata"), usageMetadata(m_usage));
        return sseData(compact(o));
    }

    QByteArray close() override
    {
        m_ended = true;
        QJsonArray parts;
        for (const Call &c : std::as_const(m_calls)) {
            auto part = functionCallPart(c.id, c.name, c.arguments, c.signature);
            if (!part) {
                m_sawError = true;
                m_errorMessage = QStringLiteral("The model's call of '%1' has arguments that are not a JSON object.").arg(c.name);
                return sseData(geminiErrorBody(502, m_errorMessage));
            }
            parts.append(*part);
        }
        if (parts.isEmpty())
            parts.append(QJsonObject{{kText, QString()}});
        return chunk(parts, QJsonObject{{QLatin1String("finishReason"), geminiFinishReason(m_finish)}});
    }

    QString m_model;
    QString m_id;
    QMap<int, Call> m_calls;
};

} // namespace

std::optional<QByteArray> geminiToOpenAIChat(const QByteArray &body, const QString &model, bool stream, TranslateError *err)
{
    const auto req = parseObject(body);
    if (!req)
        return tx::refuse(err, QString(), QStringLiteral("The request body must be a JSON object."));
    FromGemini t(body, err);
    return t.run(*req, model, stream);
}

QByteArray openAIResponseToGemini(const QByteArray &body, const QString &clientModel)
{
    const auto resp = parseObject(body);
    if (!resp || !resp->value(QLatin1String("choices")).isArray())
        return openAIErrorToGemini(502, body);
    QJsonArray candidates;
    const QJsonArray choices = resp->value(QLatin1String("choices")).toArray();
    for (qsizetype c = 0; c < choices.size(); ++c) {
        const QJsonObject choice = choices.at(c).toObject();
        const QJsonObject message = choice.value(QLatin1String("message")).toObject();
        QJsonArray parts;
        const QString reasoning = message.value(QLatin1String("reasoning_content")).toString();
        if (!reasoning.isEmpty())
            parts.append(QJsonObject{{kText, reasoning}, {QLatin1String("thought"), true}});
        const QString text = message.value(QLatin1String("content")).toString() + message.value(QLatin1String("refusal")).toString();
        if (!text.isEmpty())
            parts.append(QJsonObject{{kText, text}});
        for (const QJsonValue &cv : message.value(QLatin1String("tool_calls")).toArray()) {
            const QJsonObject call = cv.toObject();
            const QJsonObject fn = call.value(QLatin1String("function")).toObject();
            const QJsonValue sig = call.value(QLatin1String("extra_content")).toObject().value(QLatin1String("google")).toObject().value(QLatin1String("thought_signature"));
            auto part = functionCallPart(call.value(QLatin1String("id")).toString(), fn.value(QLatin1String("name")).toString(),
                                         fn.value(QLatin1String("arguments")).toString(), sig);
            if (!part)
                return geminiErrorBody(502, QStringLiteral("The model's call of '%1' has arguments that are not a JSON object.").arg(fn.value(QLatin1String("name")).toString()));
            parts.append(*part);
        }
        if (parts.isEmpty())
            parts.append(QJsonObject{{kText, QString()}});
        candidates.append(QJsonObject{{QLatin1String("content"), QJsonObject{{QLatin1String("role"), QStringLiteral("model")}, {kParts, parts}}},
                                      {QLatin1String("finishReason"), geminiFinishReason(choice.value(QLatin1String("finish_reason")).toString())},
                                      {QLatin1String("index"), choice.value(QLatin1String("index")).toInt(int(c))}});
    }
    QJsonObject out{{QLatin1String("candidates"), candidates},
                    {QLatin1String("usageMetadata"), usageMetadata(usageFrom(resp->value(QLatin1String("usage")), parseOpenAIUsage))},
                    {QLatin1String("modelVersion"), clientModel}};
    if (resp->value(QLatin1String("id")).isString())
        out.insert(QLatin1String("responseId"), resp->value(QLatin1String("id")));
    return compact(out);
}

std::unique_ptr<StreamTranslator> openAIToGeminiStream(const QString &clientModel)
{
    return std::make_unique<OpenAIToGemini>(clientModel);
}

QByteArray geminiErrorBody(int status, const QString &message)
{
    return compact(QJsonObject{{QLatin1String("error"), QJsonObject{{QLatin1String("code"), status},
                                                                    {QLatin1String("message"), message},
                                                                    {QLatin1String("status"), errorStatusName(status)}}}});
}

QByteArray openAIErrorToGemini(int status, const QByteArray &body)
{
    const auto o = parseObject(body);
    QString message = o ? openAIErrorMessage(*o) : QString::fromUtf8(body.left(500)).trimmed();
    if (message.isEmpty())
        message = QStringLiteral("The provider answered with HTTP %1.").arg(status);
    return geminiErrorBody(status, message);
}

QByteArray geminiCountTokensBody(qint64 tokens)
{
    return "{\"totalTokens\":" + QByteArray::number(tokens) + "}";
}

} // namespace gh
