// Request bodies: OpenAI chat/completions (the internal form) -> Gemini generateContent.
#include "formats/common/jsonkit.h"
#include "formats/gemini/geminitranslate.h"
#include <QHash>
#include <QJsonDocument>
#include <QSet>

namespace gh {

using namespace tx;

namespace {

// ---- OpenAI -> Gemini ------------------------------------------------------------------------

class ToGemini
{
public:
    ToGemini(const QByteArray &body, TranslateError *err)
        : m_src(body)
        , m_err(err)
    { }
    std::optional<QByteArray> run(const QJsonObject &req);

private:
    bool messages(const QJsonArray &messages, QJsonObject *out);
    bool systemMessage(const QJsonValue &content, const QString &path, QJsonArray *systemParts);
    bool userTurn(const QJsonValue &content, const QString &path);
    bool modelTurn(const QJsonObject &m, const QString &path);
    std::optional<QJsonObject> functionCall(const QJsonObject &call, const QString &path);
    bool toolResult(const QJsonObject &m, const QString &path);
    bool tools(const QJsonObject &req, QJsonObject *out);
    bool generationConfig(const QJsonObject &req, QJsonObject *gc);
    bool responseFormat(const QJsonObject &req, QJsonObject *gc);
    bool thinking(const QJsonObject &req, QJsonObject *gc);
    std::optional<QJsonArray> userParts(const QJsonValue &content, const QString &path);
    void appendTurn(const QString &role, const QJsonArray &parts);

    OrderedSource m_src;
    RawSplicer m_out;
    TranslateError *m_err;
    QJsonArray m_contents;
    QHash<QString, QString> m_toolNames; // tool call id -> function name
};

void ToGemini::appendTurn(const QString &role, const QJsonArray &parts)
{
    if (parts.isEmpty())
        return;
    if (!m_contents.isEmpty()) {
        QJsonObject last = m_contents.last().toObject();
        if (last.value(kRole).toString() == role) {
            QJsonArray merged = last.value(QLatin1String("parts")).toArray();
            for (const QJsonValue &p : parts)
                merged.append(p);
            last.insert(QLatin1String("parts"), merged);
            m_contents.replace(m_contents.size() - 1, last);
            return;
        }
    }
    m_contents.append(QJsonObject{{kRole, role}, {QLatin1String("parts"), parts}});
}

std::optional<QJsonArray> ToGemini::userParts(const QJsonValue &content, const QString &path)
{
    if (content.isString())
        return QJsonArray{QJsonObject{{kText, content.toString()}}};
    if (!content.isArray())
        return refuse(m_err, path, QStringLiteral("Message content must be a string or an array of parts."));
    QJsonArray parts;
    const QJsonArray in = content.toArray();
    for (qsizetype j = 0; j < in.size(); ++j) {
        const QJsonObject part = in.at(j).toObject();
        const QString type = part.value(kType).toString();
        const QString p = at(path, j);
        auto inlineData = [](const QString &mime, const QString &data) {
            return QJsonObject{{QLatin1String("inlineData"),
                QJsonObject{{QLatin1String("mimeType"), mime}, {QLatin1String("data"), data}}}};
        };
        if (type == QLatin1String("text")) {
            parts.append(QJsonObject{{kText, part.value(kText).toString()}});
        } else if (type == QLatin1String("image_url")) {
            const QJsonValue iu = part.value(QLatin1String("image_url"));
            const QString url = iu.isString() ? iu.toString() : iu.toObject().value(QLatin1String("url")).toString();
            if (auto d = parseDataUrl(url))
                parts.append(inlineData(d->mimeType, d->data));
            else if (isHttpUrl(url))
                parts.append(QJsonObject{{QLatin1String("fileData"),
                    QJsonObject{
                        {QLatin1String("mimeType"), guessImageMimeType(url)}, {QLatin1String("fileUri"), url}}}});
            else
                return refuse(m_err, p + QLatin1String(".image_url"),
                    QStringLiteral("Images must be base64 data: URLs or http(s) URLs."));
        } else if (type == QLatin1String("input_audio")) {
            const QJsonObject a = part.value(QLatin1String("input_audio")).toObject();
            const QString format = a.value(QLatin1String("format")).toString();
            if (format != QLatin1String("wav") && format != QLatin1String("mp3"))
                return refuse(m_err, p + QLatin1String(".input_audio.format"),
                    QStringLiteral("Audio format must be wav or mp3."));
            parts.append(inlineData(QStringLiteral("audio/") + format, a.value(QLatin1String("data")).toString()));
        } else if (type == QLatin1String("file")) {
            const QJsonObject f = part.value(QLatin1String("file")).toObject();
            const auto d = parseDataUrl(f.value(QLatin1String("file_data")).toString());
            if (!d)
                return refuse(m_err, p + QLatin1String(".file"),
                    QStringLiteral(
                        "Files must be sent inline as base64 data: URLs (file ids cannot be read by Gemini)."));
            parts.append(inlineData(d->mimeType, d->data));
        } else {
            return refuse(m_err, p + QLatin1String(".type"),
                QStringLiteral("Content part type '%1' cannot be sent to Gemini.").arg(type));
        }
    }
    return parts;
}

// The request, section by section: each returns false (with m_err set) on a refusal.
std::optional<QByteArray> ToGemini::run(const QJsonObject &req)
{
    if (!refuseOpenAIOnly(req, QStringLiteral("Gemini"), true, m_err))
        return std::nullopt;
    const QJsonValue parallel = req.value(QLatin1String("parallel_tool_calls"));
    if (parallel.isBool() && !parallel.toBool() && !req.value(QLatin1String("tools")).toArray().isEmpty())
        return refuse(m_err, QStringLiteral("parallel_tool_calls"),
            QStringLiteral("Gemini cannot be limited to one tool call per turn."));
    const QJsonValue messagesValue = req.value(QLatin1String("messages"));
    if (!messagesValue.isArray())
        return refuse(m_err, QStringLiteral("messages"), QStringLiteral("Missing field 'messages' (an array)."));

    QJsonObject out;
    QJsonObject gc;
    if (!messages(messagesValue.toArray(), &out) || !tools(req, &out) || !generationConfig(req, &gc)
        || !responseFormat(req, &gc) || !thinking(req, &gc))
        return std::nullopt;
    if (!gc.isEmpty())
        out.insert(QLatin1String("generationConfig"), gc);
    return m_out.toJson(out);
}

bool ToGemini::messages(const QJsonArray &messages, QJsonObject *out)
{
    QJsonArray systemParts;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        const QString role = m.value(kRole).toString();
        const QString path = at(QStringLiteral("messages"), i);
        bool ok = false;
        if (role == QLatin1String("system") || role == QLatin1String("developer"))
            ok = systemMessage(m.value(kContent), path, &systemParts);
        else if (role == QLatin1String("user"))
            ok = userTurn(m.value(kContent), path);
        else if (role == QLatin1String("assistant"))
            ok = modelTurn(m, path);
        else if (role == QLatin1String("tool"))
            ok = toolResult(m, path);
        else
            ok = refused(m_err, path + QLatin1String(".role"),
                QStringLiteral("Message role '%1' cannot be sent to Gemini.").arg(role));
        if (!ok)
            return false;
    }
    if (m_contents.isEmpty())
        return refused(
            m_err, QStringLiteral("messages"), QStringLiteral("Gemini needs at least one user or assistant message."));
    out->insert(QLatin1String("contents"), m_contents);
    if (!systemParts.isEmpty())
        out->insert(QLatin1String("systemInstruction"), QJsonObject{{QLatin1String("parts"), systemParts}});
    return true;
}

bool ToGemini::systemMessage(const QJsonValue &content, const QString &path, QJsonArray *systemParts)
{
    auto parts = userParts(content, path + QLatin1String(".content"));
    if (!parts)
        return false;
    for (const QJsonValue &p : *parts) {
        if (!p.toObject().contains(kText))
            return refused(m_err, path + QLatin1String(".content"),
                QStringLiteral("System prompts can only hold text for Gemini."));
        systemParts->append(p);
    }
    return true;
}

bool ToGemini::userTurn(const QJsonValue &content, const QString &path)
{
    auto parts = userParts(content, path + QLatin1String(".content"));
    if (parts)
        appendTurn(QStringLiteral("user"), *parts);
    return parts.has_value();
}

bool ToGemini::modelTurn(const QJsonObject &m, const QString &path)
{
    QJsonArray parts;
    const QString text = contentText(m.value(kContent));
    if (!text.isEmpty())
        parts.append(QJsonObject{{kText, text}});
    const QJsonArray calls = m.value(QLatin1String("tool_calls")).toArray();
    for (qsizetype j = 0; j < calls.size(); ++j) {
        auto part = functionCall(calls.at(j).toObject(), at(path + QLatin1String(".tool_calls"), j));
        if (!part)
            return false;
        parts.append(*part);
    }
    appendTurn(QStringLiteral("model"), parts);
    return true;
}

std::optional<QJsonObject> ToGemini::functionCall(const QJsonObject &call, const QString &path)
{
    const QJsonObject fn = call.value(QLatin1String("function")).toObject();
    const QString name = fn.value(QLatin1String("name")).toString();
    const QString args = fn.value(QLatin1String("arguments")).toString();
    QByteArray argsJson = "{}";
    if (!args.trimmed().isEmpty()) {
        auto minified = minifyJson(args.toUtf8());
        if (!minified || !minified->startsWith('{'))
            return refuse(m_err, path + QLatin1String(".function.arguments"),
                QStringLiteral("Tool call arguments must be a JSON object for Gemini."));
        argsJson = *minified;
    }
    m_toolNames.insert(call.value(QLatin1String("id")).toString(), name);
    QJsonObject part{{QLatin1String("functionCall"),
        QJsonObject{{QLatin1String("name"), name}, {QLatin1String("args"), m_out.raw(argsJson)}}}};
    // Gemini's thought signature, as its OpenAI-compatible endpoint carries it.
    const QJsonValue sig = call.value(QLatin1String("extra_content"))
                               .toObject()
                               .value(QLatin1String("google"))
                               .toObject()
                               .value(QLatin1String("thought_signature"));
    if (sig.isString())
        part.insert(QLatin1String("thoughtSignature"), sig);
    return part;
}

bool ToGemini::toolResult(const QJsonObject &m, const QString &path)
{
    const QString id = m.value(QLatin1String("tool_call_id")).toString();
    const auto name = m_toolNames.constFind(id);
    if (name == m_toolNames.constEnd())
        return refused(m_err, path + QLatin1String(".tool_call_id"),
            QStringLiteral(
                "Gemini needs the function name of a tool result: no earlier assistant tool call has id '%1'.")
                .arg(id));
    const QString text = contentText(m.value(kContent));
    QJsonValue response;
    if (auto minified = minifyJson(text.toUtf8()); minified && minified->startsWith('{'))
        response = m_out.raw(*minified);
    else
        response = QJsonObject{{QLatin1String("output"), text}};
    appendTurn(QStringLiteral("user"),
        QJsonArray{QJsonObject{{QLatin1String("functionResponse"),
            QJsonObject{{QLatin1String("name"), *name}, {QLatin1String("response"), response}}}}});
    return true;
}

// Tools and tool choice.
bool ToGemini::tools(const QJsonObject &req, QJsonObject *out)
{
    QJsonArray declarations;
    const QJsonArray toolsIn = req.value(QLatin1String("tools")).toArray();
    for (qsizetype i = 0; i < toolsIn.size(); ++i) {
        const QJsonObject t = toolsIn.at(i).toObject();
        if (t.value(kType).toString() != QLatin1String("function"))
            return refused(m_err, at(QStringLiteral("tools"), i) + QLatin1String(".type"),
                QStringLiteral("Tool type '%1' cannot be sent to Gemini; only function tools can.")
                    .arg(t.value(kType).toString()));
        const QJsonObject fn = t.value(QLatin1String("function")).toObject();
        QJsonObject decl{{QLatin1String("name"), fn.value(QLatin1String("name")).toString()}};
        if (fn.value(QLatin1String("description")).isString())
            decl.insert(QLatin1String("description"), fn.value(QLatin1String("description")));
        if (fn.value(QLatin1String("parameters")).isObject())
            decl.insert(QLatin1String("parametersJsonSchema"),
                ordered(m_src, m_out, QStringLiteral("/tools/%1/function/parameters").arg(i),
                    fn.value(QLatin1String("parameters"))));
        declarations.append(decl);
    }
    if (declarations.isEmpty())
        return true;
    out->insert(QLatin1String("tools"), QJsonArray{QJsonObject{{QLatin1String("functionDeclarations"), declarations}}});
    const QJsonValue tc = req.value(QLatin1String("tool_choice"));
    if (tc.isUndefined() || tc.isNull())
        return true;
    static const QHash<QString, QString> modes{{QStringLiteral("auto"), QStringLiteral("AUTO")},
        {QStringLiteral("none"), QStringLiteral("NONE")}, {QStringLiteral("required"), QStringLiteral("ANY")}};
    const QJsonValue named = tc.toObject().value(QLatin1String("function")).toObject().value(QLatin1String("name"));
    QJsonObject fcc;
    if (const auto mode = modes.constFind(tc.toString()); mode != modes.cend())
        fcc = {{QLatin1String("mode"), *mode}};
    else if (tc.isObject() && !named.toString().isEmpty())
        fcc = {
            {QLatin1String("mode"), QStringLiteral("ANY")}, {QLatin1String("allowedFunctionNames"), QJsonArray{named}}};
    else
        return refused(m_err, QStringLiteral("tool_choice"),
            QStringLiteral("tool_choice must be auto, none, required or name a function."));
    out->insert(QLatin1String("toolConfig"), QJsonObject{{QLatin1String("functionCallingConfig"), fcc}});
    return true;
}

// generationConfig: the output limit, sampling and stop sequences.
bool ToGemini::generationConfig(const QJsonObject &req, QJsonObject *gc)
{
    bool badMax = false;
    const auto maxTokens = openAIMaxTokens(req, m_err, &badMax);
    if (badMax)
        return false;
    if (maxTokens)
        gc->insert(QLatin1String("maxOutputTokens"), *maxTokens);
    const struct {
        const char *from;
        const char *to;
    } numeric[] = {{"temperature", "temperature"}, {"top_p", "topP"}, {"top_k", "topK"},
        {"presence_penalty", "presencePenalty"}, {"frequency_penalty", "frequencyPenalty"}, {"seed", "seed"},
        {"n", "candidateCount"}};
    for (const auto &f : numeric) {
        if (req.value(QLatin1String(f.from)).isDouble())
            gc->insert(QLatin1String(f.to), req.value(QLatin1String(f.from)));
    }
    const QJsonValue stop = req.value(QLatin1String("stop"));
    if (stop.isString())
        gc->insert(QLatin1String("stopSequences"), QJsonArray{stop});
    else if (stop.isArray() && !stop.toArray().isEmpty())
        gc->insert(QLatin1String("stopSequences"), stop);
    return true;
}

bool ToGemini::responseFormat(const QJsonObject &req, QJsonObject *gc)
{
    const QJsonObject rf = req.value(QLatin1String("response_format")).toObject();
    const QString rfType = rf.value(kType).toString();
    if (rfType == QLatin1String("json_object")) {
        gc->insert(QLatin1String("responseMimeType"), QStringLiteral("application/json"));
    } else if (rfType == QLatin1String("json_schema")) {
        const QJsonValue schema = rf.value(QLatin1String("json_schema")).toObject().value(QLatin1String("schema"));
        if (!schema.isObject())
            return refused(m_err, QStringLiteral("response_format.json_schema.schema"),
                QStringLiteral("A json_schema response_format needs a schema object."));
        gc->insert(QLatin1String("responseMimeType"), QStringLiteral("application/json"));
        gc->insert(QLatin1String("responseJsonSchema"),
            ordered(m_src, m_out, QStringLiteral("/response_format/json_schema/schema"), schema));
    } else if (!rf.isEmpty() && rfType != QLatin1String("text")) {
        return refused(m_err, QStringLiteral("response_format"),
            QStringLiteral("response_format type '%1' cannot be expressed for Gemini.").arg(rfType));
    }
    return true;
}

// reasoning_effort as a thinking budget.
bool ToGemini::thinking(const QJsonObject &req, QJsonObject *gc)
{
    if (!present(req, "reasoning_effort"))
        return true;
    const QString effort = req.value(QLatin1String("reasoning_effort")).toString();
    static const QHash<QString, int> budgets{{QStringLiteral("none"), 0}, {QStringLiteral("minimal"), 1024},
        {QStringLiteral("low"), 1024}, {QStringLiteral("medium"), 8192}, {QStringLiteral("high"), 24576}};
    const auto budget = budgets.constFind(effort);
    if (budget == budgets.cend())
        return refused(
            m_err, QStringLiteral("reasoning_effort"), QStringLiteral("Unknown reasoning_effort '%1'.").arg(effort));
    QJsonObject thinking{{QLatin1String("thinkingBudget"), *budget}};
    if (*budget > 0)
        thinking.insert(QLatin1String("includeThoughts"), true);
    gc->insert(QLatin1String("thinkingConfig"), thinking);
    return true;
}

} // namespace

std::optional<QByteArray> openAIChatToGemini(const QByteArray &body, TranslateError *err)
{
    const auto req = parseObject(body);
    if (!req)
        return refuse(err, QStringLiteral("body"), QStringLiteral("The request body is not a JSON object."));
    return ToGemini(body, err).run(*req);
}

} // namespace gh
