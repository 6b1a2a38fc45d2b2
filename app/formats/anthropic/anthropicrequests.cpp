// Request bodies between OpenAI chat/completions (the internal form) and Anthropic Messages, both ways.
#include "formats/anthropic/anthropictranslate.h"
#include "formats/common/jsonkit.h"
#include <algorithm>
#include <QHash>
#include <QJsonDocument>
#include <QSet>

namespace gh {

using namespace tx;

bool isClaudeCodeBillingBlock(const QString &text)
{
    return text.startsWith(QLatin1String("x-anthropic-billing-header:"));
}

namespace {

// ---- OpenAI -> Anthropic ---------------------------------------------------------------------

class ToAnthropic
{
public:
    ToAnthropic(const QByteArray &body, TranslateError *err)
        : m_src(body)
        , m_err(err)
    { }

    std::optional<QByteArray> run(const QJsonObject &req, const QString &model, qint64 defaultMaxTokens);

private:
    // The tools sent, built from `tools`, `tool_choice` and `response_format`.
    struct Tools {
        QJsonArray list;
        QSet<QString> names; // the client's function tools
        QJsonObject choice; // Anthropic's tool_choice; empty: none given
        bool responseFormat = false; // the response_format tool was added
    };
    bool messages(const QJsonArray &messages, QJsonObject *out);
    bool systemMessage(const QJsonValue &content, const QString &path, const QString &pointer, QJsonArray *system);
    bool turn(const QJsonObject &m, const QString &role, const QString &path, const QString &pointer);
    bool toolResult(const QJsonObject &m, const QString &path, const QString &pointer);
    bool thinking(
        const QJsonObject &req, bool clientMax, qint64 fallbackMax, qint64 *maxTokens, bool *on, QJsonObject *out);
    bool tools(const QJsonObject &req, bool thinkingOn, QJsonObject *out);
    bool functionTools(const QJsonObject &req, Tools *tools);
    bool toolChoice(const QJsonObject &req, Tools *tools);
    bool responseFormat(const QJsonObject &req, Tools *tools);
    bool schemaTool(const QJsonObject &js, QJsonObject *tool);
    bool sampling(const QJsonObject &req, QJsonObject *out);
    std::optional<QJsonArray> userBlocks(const QJsonValue &content, const QString &path, const QString &pointer);
    std::optional<QJsonObject> imageBlock(const QJsonObject &part, const QString &path);
    std::optional<QJsonObject> fileBlock(const QJsonObject &part, const QString &path);
    std::optional<QJsonArray> assistantBlocks(const QJsonObject &m, const QString &path, const QString &pointer);
    bool assistantText(const QJsonValue &content, const QString &path, const QString &pointer, QJsonArray *blocks);
    bool toolUses(const QJsonObject &m, const QString &path, QJsonArray *blocks);
    void appendTurn(const QString &role, const QJsonValue &content);
    void copyCacheControl(const QJsonObject &from, QJsonObject &to, const QString &pointer)
    {
        const QJsonValue cc = from.value(QLatin1String("cache_control"));
        if (cc.isObject())
            to.insert(QLatin1String("cache_control"), ordered(m_src, m_out, ptr(pointer, "cache_control"), cc));
    }

    OrderedSource m_src;
    RawSplicer m_out;
    TranslateError *m_err;
    QJsonArray m_messages;
};

void ToAnthropic::appendTurn(const QString &role, const QJsonValue &content)
{
    // Anthropic merges consecutive turns of one role; doing it here keeps tool results together.
    if (!m_messages.isEmpty()) {
        QJsonObject last = m_messages.last().toObject();
        if (last.value(kRole).toString() == role) {
            auto blocks = [](const QJsonValue &c) {
                if (c.isArray())
                    return c.toArray();
                return QJsonArray{QJsonObject{{kType, QStringLiteral("text")}, {kText, c.toString()}}};
            };
            QJsonArray merged = blocks(last.value(kContent));
            for (const QJsonValue &b : blocks(content))
                merged.append(b);
            last.insert(kContent, merged);
            m_messages.replace(m_messages.size() - 1, last);
            return;
        }
    }
    m_messages.append(QJsonObject{{kRole, role}, {kContent, content}});
}

std::optional<QJsonObject> ToAnthropic::imageBlock(const QJsonObject &part, const QString &path)
{
    const QJsonValue iu = part.value(QLatin1String("image_url"));
    const QString url = iu.isString() ? iu.toString() : iu.toObject().value(QLatin1String("url")).toString();
    QJsonObject source;
    if (auto d = parseDataUrl(url)) {
        source = {{kType, QStringLiteral("base64")}, {QLatin1String("media_type"), d->mimeType},
            {QLatin1String("data"), d->data}};
    } else if (isHttpUrl(url)) {
        source = {{kType, QStringLiteral("url")}, {QLatin1String("url"), url}};
    } else {
        return refuse(m_err, path + QLatin1String(".image_url"),
            QStringLiteral("Images must be base64 data: URLs or http(s) URLs."));
    }
    return QJsonObject{{kType, QStringLiteral("image")}, {QLatin1String("source"), source}};
}

std::optional<QJsonObject> ToAnthropic::fileBlock(const QJsonObject &part, const QString &path)
{
    const QJsonObject file = part.value(QLatin1String("file")).toObject();
    if (present(file, "file_id"))
        return refuse(m_err, path + QLatin1String(".file.file_id"),
            QStringLiteral("OpenAI file ids cannot be read by Anthropic; send the file inline as file_data."));
    const auto d = parseDataUrl(file.value(QLatin1String("file_data")).toString());
    if (!d || d->mimeType != QLatin1String("application/pdf"))
        return refuse(m_err, path + QLatin1String(".file"),
            QStringLiteral("Only PDF files given as base64 data: URLs can be sent to Anthropic."));
    QJsonObject block{{kType, QStringLiteral("document")},
        {QLatin1String("source"),
            QJsonObject{{kType, QStringLiteral("base64")}, {QLatin1String("media_type"), d->mimeType},
                {QLatin1String("data"), d->data}}}};
    if (file.value(QLatin1String("filename")).isString())
        block.insert(QLatin1String("title"), file.value(QLatin1String("filename")));
    return block;
}

std::optional<QJsonArray> ToAnthropic::userBlocks(
    const QJsonValue &content, const QString &path, const QString &pointer)
{
    QJsonArray blocks;
    const QJsonArray parts = content.toArray();
    for (qsizetype j = 0; j < parts.size(); ++j) {
        const QJsonObject part = parts.at(j).toObject();
        const QString type = part.value(kType).toString();
        const QString p = at(path, j);
        QJsonObject block;
        if (type == QLatin1String("text")) {
            block = {{kType, QStringLiteral("text")}, {kText, part.value(kText).toString()}};
        } else if (type == QLatin1String("image_url")) {
            auto b = imageBlock(part, p);
            if (!b)
                return std::nullopt;
            block = *b;
        } else if (type == QLatin1String("file")) {
            auto b = fileBlock(part, p);
            if (!b)
                return std::nullopt;
            block = *b;
        } else if (type == QLatin1String("input_audio")) {
            return refuse(
                m_err, p + QLatin1String(".input_audio"), QStringLiteral("Anthropic does not accept audio input."));
        } else {
            return refuse(m_err, p + QLatin1String(".type"),
                QStringLiteral("Content part type '%1' cannot be sent to Anthropic.").arg(type));
        }
        copyCacheControl(part, block, ptr(pointer, j));
        blocks.append(block);
    }
    return blocks;
}

std::optional<QJsonArray> ToAnthropic::assistantBlocks(
    const QJsonObject &m, const QString &path, const QString &pointer)
{
    QJsonArray blocks;
    // Thinking blocks given back with their signatures (as this module returns them in responses).
    const QJsonArray thinking = m.value(QLatin1String("thinking_blocks")).toArray();
    for (qsizetype j = 0; j < thinking.size(); ++j) {
        const QJsonObject t = thinking.at(j).toObject();
        const QString type = t.value(kType).toString();
        if (type == QLatin1String("thinking") && t.value(QLatin1String("signature")).isString())
            blocks.append(
                QJsonObject{{kType, type}, {QLatin1String("thinking"), t.value(QLatin1String("thinking")).toString()},
                    {QLatin1String("signature"), t.value(QLatin1String("signature"))}});
        else if (type == QLatin1String("redacted_thinking"))
            blocks.append(
                QJsonObject{{kType, type}, {QLatin1String("data"), t.value(QLatin1String("data")).toString()}});
    }
    return assistantText(m.value(kContent), path, pointer, &blocks) && toolUses(m, path, &blocks)
        ? std::optional<QJsonArray>(blocks)
        : std::nullopt;
}

bool ToAnthropic::assistantText(
    const QJsonValue &content, const QString &path, const QString &pointer, QJsonArray *blocks)
{
    if (content.isString()) {
        if (!content.toString().isEmpty())
            blocks->append(QJsonObject{{kType, QStringLiteral("text")}, {kText, content.toString()}});
        return true;
    }
    if (!content.isArray()) {
        if (content.isNull() || content.isUndefined())
            return true;
        return refused(m_err, path + QLatin1String(".content"),
            QStringLiteral("Assistant content must be a string, an array or null."));
    }
    const QJsonArray parts = content.toArray();
    for (qsizetype j = 0; j < parts.size(); ++j) {
        const QJsonObject part = parts.at(j).toObject();
        const QString type = part.value(kType).toString();
        const QString text = type == QLatin1String("refusal") ? part.value(QLatin1String("refusal")).toString()
                                                              : part.value(kText).toString();
        if (type != QLatin1String("text") && type != QLatin1String("refusal"))
            return refused(m_err, at(path + QLatin1String(".content"), j) + QLatin1String(".type"),
                QStringLiteral("Assistant content part type '%1' cannot be sent to Anthropic.").arg(type));
        if (text.isEmpty())
            continue;
        QJsonObject block{{kType, QStringLiteral("text")}, {kText, text}};
        copyCacheControl(part, block, ptr(ptr(pointer, "content"), j));
        blocks->append(block);
    }
    return true;
}

bool ToAnthropic::toolUses(const QJsonObject &m, const QString &path, QJsonArray *blocks)
{
    const QJsonArray calls = m.value(QLatin1String("tool_calls")).toArray();
    for (qsizetype j = 0; j < calls.size(); ++j) {
        const QJsonObject call = calls.at(j).toObject();
        const QString p = at(path + QLatin1String(".tool_calls"), j);
        if (call.value(kType).toString(QStringLiteral("function")) != QLatin1String("function"))
            return refused(m_err, p + QLatin1String(".type"),
                QStringLiteral("Only function tool calls can be sent to Anthropic."));
        const QJsonObject fn = call.value(QLatin1String("function")).toObject();
        const QString args = fn.value(QLatin1String("arguments")).toString();
        QByteArray input = "{}";
        if (!args.trimmed().isEmpty()) {
            auto minified = minifyJson(args.toUtf8());
            if (!minified || !minified->startsWith('{'))
                return refused(m_err, p + QLatin1String(".function.arguments"),
                    QStringLiteral("Tool call arguments must be a JSON object for Anthropic."));
            input = *minified;
        }
        blocks->append(QJsonObject{{kType, QStringLiteral("tool_use")},
            {QLatin1String("id"), call.value(QLatin1String("id")).toString()},
            {QLatin1String("name"), fn.value(QLatin1String("name")).toString()},
            {QLatin1String("input"), m_out.raw(input)}});
    }
    return true;
}

// The request, section by section: each returns false (with m_err set) on a refusal.
std::optional<QByteArray> ToAnthropic::run(const QJsonObject &req, const QString &model, qint64 defaultMaxTokens)
{
    if (!refuseOpenAIOnly(req, QStringLiteral("Anthropic"), false, m_err))
        return std::nullopt;
    for (const char *key : {"presence_penalty", "frequency_penalty"}) {
        if (nonZeroNumber(req.value(QLatin1String(key))))
            return refuse(
                m_err, QString::fromLatin1(key), QStringLiteral("Anthropic has no %1.").arg(QLatin1String(key)));
    }
    const QJsonValue messagesValue = req.value(QLatin1String("messages"));
    if (!messagesValue.isArray())
        return refuse(m_err, QStringLiteral("messages"), QStringLiteral("Missing field 'messages' (an array)."));

    QJsonObject out;
    out.insert(QLatin1String("model"), model);

    bool badMax = false;
    const auto clientMax = openAIMaxTokens(req, m_err, &badMax);
    if (badMax)
        return std::nullopt;
    const qint64 fallbackMax = defaultMaxTokens > 0 ? defaultMaxTokens : 4096;
    qint64 maxTokens = clientMax.value_or(fallbackMax);

    if (!messages(messagesValue.toArray(), &out))
        return std::nullopt;
    bool thinkingOn = false;
    if (!thinking(req, clientMax.has_value(), fallbackMax, &maxTokens, &thinkingOn, &out))
        return std::nullopt;
    out.insert(QLatin1String("max_tokens"), maxTokens);

    if (!tools(req, thinkingOn, &out) || !sampling(req, &out))
        return std::nullopt;
    out.insert(QLatin1String("messages"), m_messages);
    return m_out.toJson(out);
}

// Tools, tool_choice and response_format (a forced tool), checked against extended thinking.
bool ToAnthropic::tools(const QJsonObject &req, bool thinkingOn, QJsonObject *out)
{
    Tools tools;
    if (!functionTools(req, &tools) || !toolChoice(req, &tools) || !responseFormat(req, &tools))
        return false;
    const QString forced = tools.choice.value(kType).toString();
    if (thinkingOn && (forced == QLatin1String("any") || forced == QLatin1String("tool")))
        return refused(m_err, tools.responseFormat ? QStringLiteral("response_format") : QStringLiteral("tool_choice"),
            QStringLiteral(
                "Anthropic cannot force a tool (needed for %1) while extended thinking (reasoning_effort) is on.")
                .arg(tools.responseFormat ? QStringLiteral("response_format") : QStringLiteral("tool_choice")));
    const QJsonValue parallel = req.value(QLatin1String("parallel_tool_calls"));
    if (parallel.isBool() && !parallel.toBool() && !tools.list.isEmpty()) {
        if (tools.choice.isEmpty())
            tools.choice = {{kType, QStringLiteral("auto")}};
        if (tools.choice.value(kType).toString() != QLatin1String("none"))
            tools.choice.insert(QLatin1String("disable_parallel_tool_use"), true);
    }
    if (!tools.list.isEmpty())
        out->insert(QLatin1String("tools"), tools.list);
    if (!tools.choice.isEmpty() && !tools.list.isEmpty())
        out->insert(QLatin1String("tool_choice"), tools.choice);
    return true;
}

// System and developer messages become the top-level system prompt, in order; the others turns.
bool ToAnthropic::messages(const QJsonArray &messages, QJsonObject *out)
{
    QJsonArray system;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QString path = at(QStringLiteral("messages"), i);
        const QString pointer = ptr(QStringLiteral("/messages"), i);
        if (!messages.at(i).isObject())
            return refused(m_err, path, QStringLiteral("Each message must be an object."));
        const QJsonObject m = messages.at(i).toObject();
        const QString role = m.value(kRole).toString();
        const bool ok = role == QLatin1String("system") || role == QLatin1String("developer")
            ? systemMessage(m.value(kContent), path, pointer, &system)
            : turn(m, role, path, pointer);
        if (!ok)
            return false;
    }
    if (m_messages.isEmpty())
        return refused(m_err, QStringLiteral("messages"),
            QStringLiteral("Anthropic needs at least one user or assistant message."));
    if (system.size() == 1 && system.at(0).toObject().size() == 2)
        out->insert(QLatin1String("system"), system.at(0).toObject().value(kText));
    else if (!system.isEmpty())
        out->insert(QLatin1String("system"), system);
    return true;
}

bool ToAnthropic::systemMessage(
    const QJsonValue &content, const QString &path, const QString &pointer, QJsonArray *system)
{
    if (content.isString()) {
        system->append(QJsonObject{{kType, QStringLiteral("text")}, {kText, content.toString()}});
        return true;
    }
    const QJsonArray parts = content.toArray();
    for (qsizetype j = 0; j < parts.size(); ++j) {
        const QJsonObject part = parts.at(j).toObject();
        if (part.value(kType).toString() != QLatin1String("text"))
            return refused(m_err, at(path + QLatin1String(".content"), j) + QLatin1String(".type"),
                QStringLiteral("System prompts can only hold text for Anthropic."));
        QJsonObject block{{kType, QStringLiteral("text")}, {kText, part.value(kText).toString()}};
        copyCacheControl(part, block, ptr(ptr(pointer, "content"), j));
        system->append(block);
    }
    return true;
}

// A user, assistant or tool message as a turn (a tool result is a user turn for Anthropic).
bool ToAnthropic::turn(const QJsonObject &m, const QString &role, const QString &path, const QString &pointer)
{
    const QJsonValue content = m.value(kContent);
    if (role == QLatin1String("user")) {
        if (content.isString()) {
            appendTurn(QStringLiteral("user"), content);
            return true;
        }
        if (!content.isArray())
            return refused(m_err, path + QLatin1String(".content"),
                QStringLiteral("User content must be a string or an array of parts."));
        auto blocks = userBlocks(content, path + QLatin1String(".content"), ptr(pointer, "content"));
        if (blocks)
            appendTurn(QStringLiteral("user"), *blocks);
        return blocks.has_value();
    }
    if (role == QLatin1String("assistant")) {
        auto blocks = assistantBlocks(m, path, pointer);
        if (blocks && !blocks->isEmpty())
            appendTurn(QStringLiteral("assistant"), *blocks);
        return blocks.has_value();
    }
    if (role == QLatin1String("tool"))
        return toolResult(m, path, pointer);
    if (role == QLatin1String("function"))
        return refused(m_err, path + QLatin1String(".role"),
            QStringLiteral("Deprecated 'function' messages are not translated; use 'tool' messages."));
    return refused(m_err, path + QLatin1String(".role"), QStringLiteral("Unknown message role '%1'.").arg(role));
}

bool ToAnthropic::toolResult(const QJsonObject &m, const QString &path, const QString &pointer)
{
    const QJsonValue content = m.value(kContent);
    const QJsonValue id = m.value(QLatin1String("tool_call_id"));
    if (!id.isString())
        return refused(
            m_err, path + QLatin1String(".tool_call_id"), QStringLiteral("A tool message needs its 'tool_call_id'."));
    QJsonObject result{{kType, QStringLiteral("tool_result")}, {QLatin1String("tool_use_id"), id}};
    if (content.isArray()) {
        auto blocks = userBlocks(content, path + QLatin1String(".content"), ptr(pointer, "content"));
        if (!blocks)
            return false;
        result.insert(kContent, *blocks);
    } else {
        result.insert(kContent, content.toString());
    }
    appendTurn(QStringLiteral("user"), QJsonArray{result});
    return true;
}

// Thinking: an explicit Anthropic `thinking` object, else reasoning_effort as a budget. max_tokens
// includes the thinking budget on both sides: without a client limit, *maxTokens makes room for it.
bool ToAnthropic::thinking(
    const QJsonObject &req, bool clientMax, qint64 fallbackMax, qint64 *maxTokens, bool *on, QJsonObject *out)
{
    if (req.value(QLatin1String("thinking")).isObject()) {
        const QJsonObject t = req.value(QLatin1String("thinking")).toObject();
        out->insert(QLatin1String("thinking"), ordered(m_src, m_out, QStringLiteral("/thinking"), t));
        *on = t.value(kType).toString() != QLatin1String("disabled");
        return true;
    }
    if (!present(req, "reasoning_effort"))
        return true;
    const QString effort = req.value(QLatin1String("reasoning_effort")).toString();
    static const QHash<QString, qint64> budgets{{QStringLiteral("low"), 1024}, {QStringLiteral("medium"), 4096},
        {QStringLiteral("high"), 16384}, {QStringLiteral("minimal"), 0}, {QStringLiteral("none"), 0}};
    const auto known = budgets.constFind(effort);
    if (known == budgets.cend())
        return refused(
            m_err, QStringLiteral("reasoning_effort"), QStringLiteral("Unknown reasoning_effort '%1'.").arg(effort));
    qint64 budget = *known;
    if (budget <= 0)
        return true;
    if (!clientMax && *maxTokens <= budget)
        *maxTokens = budget + fallbackMax;
    budget = qMin(budget, *maxTokens - 1);
    if (budget < 1024)
        return refused(m_err, QStringLiteral("reasoning_effort"),
            QStringLiteral("Anthropic's smallest thinking budget is 1024 tokens, which needs max_tokens above 1024."));
    out->insert(QLatin1String("thinking"),
        QJsonObject{{kType, QStringLiteral("enabled")}, {QLatin1String("budget_tokens"), budget}});
    *on = true;
    return true;
}

bool ToAnthropic::functionTools(const QJsonObject &req, Tools *tools)
{
    const QJsonArray toolsIn = req.value(QLatin1String("tools")).toArray();
    for (qsizetype i = 0; i < toolsIn.size(); ++i) {
        const QJsonObject t = toolsIn.at(i).toObject();
        const QString path = at(QStringLiteral("tools"), i);
        if (t.value(kType).toString() != QLatin1String("function"))
            return refused(m_err, path + QLatin1String(".type"),
                QStringLiteral("Tool type '%1' cannot be sent to Anthropic; only function tools can.")
                    .arg(t.value(kType).toString()));
        const QJsonObject fn = t.value(QLatin1String("function")).toObject();
        const QString name = fn.value(QLatin1String("name")).toString();
        if (name.isEmpty())
            return refused(
                m_err, path + QLatin1String(".function.name"), QStringLiteral("A function tool needs a name."));
        QJsonObject tool{{QLatin1String("name"), name}};
        if (fn.value(QLatin1String("description")).isString())
            tool.insert(QLatin1String("description"), fn.value(QLatin1String("description")));
        const QJsonValue params = fn.value(QLatin1String("parameters"));
        tool.insert(QLatin1String("input_schema"),
            params.isObject() ? ordered(m_src, m_out, QStringLiteral("/tools/%1/function/parameters").arg(i), params)
                              : m_out.raw(R"({"type":"object","properties":{}})"));
        copyCacheControl(t, tool, ptr(QStringLiteral("/tools"), i));
        tools->list.append(tool);
        tools->names.insert(name);
    }
    return true;
}

// tool_choice: auto / none / required / {"type":"function","function":{"name"}}.
bool ToAnthropic::toolChoice(const QJsonObject &req, Tools *tools)
{
    QJsonObject &choice = tools->choice;
    const QJsonValue tc = req.value(QLatin1String("tool_choice"));
    if (tc.isString()) {
        static const QHash<QString, QString> types{{QStringLiteral("auto"), QStringLiteral("auto")},
            {QStringLiteral("none"), QStringLiteral("none")}, {QStringLiteral("required"), QStringLiteral("any")}};
        const auto type = types.constFind(tc.toString());
        if (type == types.cend())
            return refused(
                m_err, QStringLiteral("tool_choice"), QStringLiteral("Unknown tool_choice '%1'.").arg(tc.toString()));
        choice = {{kType, *type}};
    } else if (tc.isObject()) {
        const QJsonObject o = tc.toObject();
        const QString name = o.value(QLatin1String("function")).toObject().value(QLatin1String("name")).toString();
        if (o.value(kType).toString() != QLatin1String("function") || name.isEmpty())
            return refused(m_err, QStringLiteral("tool_choice"),
                QStringLiteral("tool_choice must name a function tool for Anthropic."));
        choice = {{kType, QStringLiteral("tool")}, {QLatin1String("name"), name}};
    } else if (!tc.isUndefined() && !tc.isNull()) {
        return refused(
            m_err, QStringLiteral("tool_choice"), QStringLiteral("tool_choice must be a string or an object."));
    }
    const QString type = choice.value(kType).toString();
    if (tools->list.isEmpty() && !choice.isEmpty() && type != QLatin1String("auto") && type != QLatin1String("none"))
        return refused(m_err, QStringLiteral("tool_choice"), QStringLiteral("tool_choice requires tools."));
    if (type == QLatin1String("tool") && !tools->names.contains(choice.value(QLatin1String("name")).toString()))
        return refused(m_err, QStringLiteral("tool_choice"),
            QStringLiteral("tool_choice names a function that is not among the tools."));
    return true;
}

// response_format via a forced tool whose input is the answer.
bool ToAnthropic::responseFormat(const QJsonObject &req, Tools *tools)
{
    const QJsonObject rf = req.value(QLatin1String("response_format")).toObject();
    const QString rfType = rf.value(kType).toString();
    if (rfType != QLatin1String("json_object") && rfType != QLatin1String("json_schema")) {
        if (!rf.isEmpty() && rfType != QLatin1String("text"))
            return refused(m_err, QStringLiteral("response_format"),
                QStringLiteral("response_format type '%1' cannot be expressed for Anthropic.").arg(rfType));
        return true;
    }
    QJsonObject tool{{QLatin1String("name"), QString::fromLatin1(kResponseFormatToolName)}};
    if (rfType == QLatin1String("json_object")) {
        tool.insert(QLatin1String("description"),
            QStringLiteral("Respond with your final answer as a JSON object: the input of this tool is the answer."));
        tool.insert(QLatin1String("input_schema"), QJsonObject{{kType, QStringLiteral("object")}});
    } else if (!schemaTool(rf.value(QLatin1String("json_schema")).toObject(), &tool)) {
        return false;
    }
    tools->list.append(tool);
    tools->responseFormat = true;
    QJsonObject &choice = tools->choice;
    const QString type = choice.value(kType).toString();
    if (tools->names.isEmpty() || type == QLatin1String("none"))
        choice
            = {{kType, QStringLiteral("tool")}, {QLatin1String("name"), QString::fromLatin1(kResponseFormatToolName)}};
    else if (choice.isEmpty() || type == QLatin1String("auto"))
        choice = {{kType, QStringLiteral("any")}}; // call a tool or answer with the JSON
    // required (any) and a named tool stay as the client asked.
    return true;
}

bool ToAnthropic::schemaTool(const QJsonObject &js, QJsonObject *tool)
{
    const QJsonValue schema = js.value(QLatin1String("schema"));
    if (!schema.isObject() || schema.toObject().value(kType).toString() != QLatin1String("object"))
        return refused(m_err, QStringLiteral("response_format.json_schema.schema"),
            QStringLiteral("For Anthropic the response schema must describe a JSON object (type \"object\")."));
    QString description = js.value(QLatin1String("description")).toString();
    if (description.isEmpty())
        description = QStringLiteral("Respond with your final answer as a JSON object matching the '%1' "
                                     "schema: the input of this tool is the answer.")
                          .arg(js.value(QLatin1String("name")).toString(QStringLiteral("response")));
    tool->insert(QLatin1String("description"), description);
    tool->insert(QLatin1String("input_schema"),
        ordered(m_src, m_out, QStringLiteral("/response_format/json_schema/schema"), schema));
    return true;
}

// Stop sequences, sampling, streaming and the end user.
bool ToAnthropic::sampling(const QJsonObject &req, QJsonObject *out)
{
    const QJsonValue stop = req.value(QLatin1String("stop"));
    const auto badStop = [this] {
        return refused(
            m_err, QStringLiteral("stop"), QStringLiteral("'stop' must be a string or an array of strings."));
    };
    if (stop.isString()) {
        out->insert(QLatin1String("stop_sequences"), QJsonArray{stop});
    } else if (stop.isArray()) {
        const QJsonArray list = stop.toArray();
        if (!std::all_of(list.begin(), list.end(), [](const QJsonValue &s) { return s.isString(); }))
            return badStop();
        if (!list.isEmpty())
            out->insert(QLatin1String("stop_sequences"), stop);
    } else if (!stop.isUndefined() && !stop.isNull()) {
        return badStop();
    }
    const QJsonValue temperature = req.value(QLatin1String("temperature"));
    if (temperature.isDouble()) {
        if (temperature.toDouble() > 1.0 || temperature.toDouble() < 0.0)
            return refused(m_err, QStringLiteral("temperature"),
                QStringLiteral("Anthropic accepts a temperature between 0 and 1."));
        out->insert(QLatin1String("temperature"), temperature);
    }
    if (req.value(QLatin1String("top_p")).isDouble())
        out->insert(QLatin1String("top_p"), req.value(QLatin1String("top_p")));
    if (req.value(QLatin1String("top_k")).isDouble())
        out->insert(QLatin1String("top_k"), req.value(QLatin1String("top_k")));
    if (req.value(QLatin1String("stream")).toBool())
        out->insert(QLatin1String("stream"), true);
    const QString user
        = req.value(QLatin1String("user")).toString(req.value(QLatin1String("safety_identifier")).toString());
    if (!user.isEmpty())
        out->insert(QLatin1String("metadata"), QJsonObject{{QLatin1String("user_id"), user}});
    return true;
}

// ---- Anthropic -> OpenAI ---------------------------------------------------------------------

class ToOpenAI
{
public:
    ToOpenAI(const QByteArray &body, TranslateError *err)
        : m_src(body)
        , m_err(err)
    { }
    std::optional<QByteArray> run(const QJsonObject &req, const QString &model);

private:
    std::optional<QJsonObject> mediaPart(const QJsonObject &block, const QString &path);
    bool userTurn(const QJsonValue &content, const QString &path);
    bool systemTurn(const QJsonValue &system, const QString &path);
    bool toolResult(const QJsonObject &b, const QString &p, QJsonArray *toolImages);
    bool turns(const QJsonArray &messages);
    bool tools(const QJsonObject &req, QJsonObject *out);
    void sampling(const QJsonObject &req, QJsonObject *out);
    bool thinking(const QJsonObject &req, QJsonObject *out);
    bool outputFormat(const QJsonObject &req, QJsonObject *out);
    bool assistantTurn(const QJsonValue &content, const QString &path, const QString &pointer);

    OrderedSource m_src;
    RawSplicer m_out;
    TranslateError *m_err;
    QJsonArray m_messages;
};

std::optional<QJsonObject> ToOpenAI::mediaPart(const QJsonObject &block, const QString &path)
{
    const QString type = block.value(kType).toString();
    const QJsonObject source = block.value(QLatin1String("source")).toObject();
    const QString sourceType = source.value(kType).toString();
    if (type == QLatin1String("image")) {
        if (sourceType == QLatin1String("base64"))
            return QJsonObject{{kType, QStringLiteral("image_url")},
                {QLatin1String("image_url"),
                    QJsonObject{{QLatin1String("url"),
                        QStringLiteral("data:%1;base64,%2")
                            .arg(source.value(QLatin1String("media_type")).toString(),
                                source.value(QLatin1String("data")).toString())}}}};
        if (sourceType == QLatin1String("url"))
            return QJsonObject{{kType, QStringLiteral("image_url")},
                {QLatin1String("image_url"),
                    QJsonObject{{QLatin1String("url"), source.value(QLatin1String("url")).toString()}}}};
        return refuse(m_err, path + QLatin1String(".source.type"),
            QStringLiteral("Image source type '%1' cannot be sent to an OpenAI-format provider.").arg(sourceType));
    }
    // document
    if (sourceType == QLatin1String("base64")
        && source.value(QLatin1String("media_type")).toString() == QLatin1String("application/pdf")) {
        const QString name = block.value(QLatin1String("title")).toString(QStringLiteral("document.pdf"));
        return QJsonObject{{kType, QStringLiteral("file")},
            {QLatin1String("file"),
                QJsonObject{{QLatin1String("filename"), name},
                    {QLatin1String("file_data"),
                        QStringLiteral("data:application/pdf;base64,")
                            + source.value(QLatin1String("data")).toString()}}}};
    }
    if (sourceType == QLatin1String("text"))
        return QJsonObject{{kType, QStringLiteral("text")}, {kText, source.value(QLatin1String("data")).toString()}};
    return refuse(m_err, path + QLatin1String(".source.type"),
        QStringLiteral("Document source type '%1' cannot be sent to an OpenAI-format provider.").arg(sourceType));
}

// A tool_result block as a tool message; the images it returned go to *toolImages (a tool message
// holds only text).
bool ToOpenAI::toolResult(const QJsonObject &b, const QString &p, QJsonArray *toolImages)
{
    const QJsonValue rc = b.value(kContent);
    QStringList texts;
    if (rc.isString())
        texts.append(rc.toString());
    const QJsonArray inner = rc.toArray();
    for (qsizetype k = 0; k < inner.size(); ++k) {
        const QJsonObject ib = inner.at(k).toObject();
        const QString itype = ib.value(kType).toString();
        if (itype == QLatin1String("text")) {
            texts.append(ib.value(kText).toString());
            continue;
        }
        if (itype != QLatin1String("image") && itype != QLatin1String("document"))
            return refused(m_err, at(p + QLatin1String(".content"), k) + QLatin1String(".type"),
                QStringLiteral("Tool result block type '%1' cannot be sent to an OpenAI-format provider.").arg(itype));
        auto part = mediaPart(ib, at(p + QLatin1String(".content"), k));
        if (!part)
            return false;
        toolImages->append(*part);
    }
    QString text = texts.join(QLatin1Char('\n'));
    if (b.value(QLatin1String("is_error")).toBool())
        text.prepend(QStringLiteral("Error: "));
    m_messages.append(QJsonObject{{kRole, QStringLiteral("tool")},
        {QLatin1String("tool_call_id"), b.value(QLatin1String("tool_use_id")).toString()}, {kContent, text}});
    return true;
}

bool ToOpenAI::userTurn(const QJsonValue &content, const QString &path)
{
    if (content.isString()) {
        m_messages.append(QJsonObject{{kRole, QStringLiteral("user")}, {kContent, content}});
        return true;
    }
    if (!content.isArray()) {
        refuse(m_err, path, QStringLiteral("Message content must be a string or an array of content blocks."));
        return false;
    }
    // Tool results become tool messages, which must directly follow the assistant's tool calls; the
    // rest of the turn (and images returned by tools, which tool messages cannot hold) follows them.
    QJsonArray parts;
    QJsonArray toolImages;
    const QJsonArray blocks = content.toArray();
    for (qsizetype j = 0; j < blocks.size(); ++j) {
        const QJsonObject b = blocks.at(j).toObject();
        const QString type = b.value(kType).toString();
        const QString p = at(path, j);
        if (type == QLatin1String("text")) {
            parts.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, b.value(kText).toString()}});
        } else if (type == QLatin1String("image") || type == QLatin1String("document")) {
            auto part = mediaPart(b, p);
            if (!part)
                return false;
            parts.append(*part);
        } else if (type == QLatin1String("tool_result")) {
            if (!toolResult(b, p, &toolImages))
                return false;
        } else {
            refuse(m_err, p + QLatin1String(".type"),
                QStringLiteral("Content block type '%1' cannot be sent to an OpenAI-format provider.").arg(type));
            return false;
        }
    }
    for (const QJsonValue &part : parts)
        toolImages.append(part);
    if (!toolImages.isEmpty())
        m_messages.append(QJsonObject{{kRole, QStringLiteral("user")}, {kContent, toolImages}});
    return true;
}

bool ToOpenAI::assistantTurn(const QJsonValue &content, const QString &path, const QString &pointer)
{
    if (content.isString()) {
        m_messages.append(QJsonObject{{kRole, QStringLiteral("assistant")}, {kContent, content}});
        return true;
    }
    if (!content.isArray()) {
        refuse(m_err, path, QStringLiteral("Message content must be a string or an array of content blocks."));
        return false;
    }
    QString text;
    QJsonArray calls;
    const QJsonArray blocks = content.toArray();
    for (qsizetype j = 0; j < blocks.size(); ++j) {
        const QJsonObject b = blocks.at(j).toObject();
        const QString type = b.value(kType).toString();
        if (type == QLatin1String("text")) {
            text += b.value(kText).toString();
        } else if (type == QLatin1String("tool_use")) {
            const QJsonValue input = b.value(QLatin1String("input"));
            QByteArray args = "{}";
            if (input.isObject())
                args = m_src.raw(QStringLiteral("%1/%2/input").arg(pointer).arg(j)).value_or(compact(input.toObject()));
            calls.append(QJsonObject{{QLatin1String("id"), b.value(QLatin1String("id")).toString()},
                {kType, QStringLiteral("function")},
                {QLatin1String("function"),
                    QJsonObject{{QLatin1String("name"), b.value(QLatin1String("name")).toString()},
                        {QLatin1String("arguments"), QString::fromUtf8(args)}}}});
        } else if (type == QLatin1String("thinking") || type == QLatin1String("redacted_thinking")) {
            // Earlier turns' reasoning: OpenAI-format providers take no reasoning input (Anthropic
            // itself ignores thinking blocks of earlier turns), so it is not sent.
            continue;
        } else {
            refuse(m_err, at(path, j) + QLatin1String(".type"),
                QStringLiteral("Content block type '%1' cannot be sent to an OpenAI-format provider.").arg(type));
            return false;
        }
    }
    QJsonObject m{{kRole, QStringLiteral("assistant")}};
    m.insert(kContent, text.isEmpty() && !calls.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text));
    if (!calls.isEmpty())
        m.insert(QLatin1String("tool_calls"), calls);
    m_messages.append(m);
    return true;
}

// The request, section by section: each returns false (with m_err set) on a refusal.
std::optional<QByteArray> ToOpenAI::run(const QJsonObject &req, const QString &model)
{
    const QJsonValue messagesValue = req.value(QLatin1String("messages"));
    if (!messagesValue.isArray())
        return refuse(m_err, QStringLiteral("messages"), QStringLiteral("Missing field 'messages' (an array)."));
    if (present(req, "top_k"))
        return refuse(m_err, QStringLiteral("top_k"), QStringLiteral("OpenAI-format providers have no top_k."));
    for (const char *key : {"mcp_servers", "container"}) {
        if (present(req, key))
            return refuse(m_err, QString::fromLatin1(key),
                QStringLiteral("'%1' cannot be sent to an OpenAI-format provider.").arg(QLatin1String(key)));
    }

    QJsonObject out;
    out.insert(QLatin1String("model"), model);
    const QJsonValue system = req.value(QLatin1String("system"));
    if (!system.isUndefined() && !system.isNull() && !systemTurn(system, QStringLiteral("system")))
        return std::nullopt;
    if (!turns(messagesValue.toArray()))
        return std::nullopt;
    out.insert(QLatin1String("messages"), m_messages);

    const QJsonValue maxTokens = req.value(QLatin1String("max_tokens"));
    if (isInteger(maxTokens) && maxTokens.toDouble() > 0)
        out.insert(QLatin1String("max_completion_tokens"), maxTokens);
    else if (!maxTokens.isUndefined() && !maxTokens.isNull())
        return refuse(m_err, QStringLiteral("max_tokens"), QStringLiteral("'max_tokens' must be a positive integer."));

    if (!tools(req, &out))
        return std::nullopt;
    sampling(req, &out);
    if (!thinking(req, &out) || !outputFormat(req, &out))
        return std::nullopt;
    return m_out.toJson(out);
}

// A system prompt (the top-level one, or a mid-conversation `role: "system"` message as Claude
// Code sends with the mid-conversation-system beta) becomes an OpenAI system message in place.
bool ToOpenAI::systemTurn(const QJsonValue &system, const QString &path)
{
    if (system.isString()) {
        if (!system.toString().isEmpty())
            m_messages.append(QJsonObject{{kRole, QStringLiteral("system")}, {kContent, system}});
        return true;
    }
    if (!system.isArray())
        return refused(m_err, path, QStringLiteral("'%1' must be a string or an array of text blocks.").arg(path));
    QJsonArray parts;
    const QJsonArray blocks = system.toArray();
    for (qsizetype j = 0; j < blocks.size(); ++j) {
        const QJsonObject b = blocks.at(j).toObject();
        if (b.value(kType).toString() != QLatin1String("text"))
            return refused(
                m_err, at(path, j) + QLatin1String(".type"), QStringLiteral("System prompt blocks must be text."));
        // Claude Code sends a per-request "x-anthropic-billing-header: ...; cch=<random>;" block
        // first. Anthropic strips it before caching; carried into another format it would change
        // the prompt prefix on every request and defeat the provider's prefix cache.
        if (isClaudeCodeBillingBlock(b.value(kText).toString()))
            continue;
        parts.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, b.value(kText).toString()}});
    }
    if (parts.size() == 1)
        m_messages.append(
            QJsonObject{{kRole, QStringLiteral("system")}, {kContent, parts.at(0).toObject().value(kText)}});
    else if (!parts.isEmpty())
        m_messages.append(QJsonObject{{kRole, QStringLiteral("system")}, {kContent, parts}});
    return true;
}

bool ToOpenAI::turns(const QJsonArray &messages)
{
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        const QString role = m.value(kRole).toString();
        const QString path = at(QStringLiteral("messages"), i) + QLatin1String(".content");
        bool ok = false;
        if (role == QLatin1String("user"))
            ok = userTurn(m.value(kContent), path);
        else if (role == QLatin1String("assistant"))
            ok = assistantTurn(m.value(kContent), path, QStringLiteral("/messages/%1/content").arg(i));
        else if (role == QLatin1String("system"))
            ok = systemTurn(m.value(kContent), path);
        else
            ok = refused(m_err, at(QStringLiteral("messages"), i) + QLatin1String(".role"),
                QStringLiteral("Unknown message role '%1'.").arg(role));
        if (!ok)
            return false;
    }
    return true;
}

// Tools and tool_choice (with disable_parallel_tool_use).
bool ToOpenAI::tools(const QJsonObject &req, QJsonObject *out)
{
    QJsonArray tools;
    const QJsonArray toolsIn = req.value(QLatin1String("tools")).toArray();
    for (qsizetype i = 0; i < toolsIn.size(); ++i) {
        const QJsonObject t = toolsIn.at(i).toObject();
        const QString type = t.value(kType).toString(QStringLiteral("custom"));
        if (type != QLatin1String("custom"))
            return refused(m_err, at(QStringLiteral("tools"), i) + QLatin1String(".type"),
                QStringLiteral("Anthropic's server tool '%1' cannot be used with an OpenAI-format provider.")
                    .arg(type));
        QJsonObject fn{{QLatin1String("name"), t.value(QLatin1String("name")).toString()}};
        if (t.value(QLatin1String("description")).isString())
            fn.insert(QLatin1String("description"), t.value(QLatin1String("description")));
        const QJsonValue schema = t.value(QLatin1String("input_schema"));
        if (schema.isObject())
            fn.insert(QLatin1String("parameters"),
                ordered(m_src, m_out, QStringLiteral("/tools/%1/input_schema").arg(i), schema));
        tools.append(QJsonObject{{kType, QStringLiteral("function")}, {QLatin1String("function"), fn}});
    }
    if (!tools.isEmpty())
        out->insert(QLatin1String("tools"), tools);

    const QJsonObject tc = req.value(QLatin1String("tool_choice")).toObject();
    if (tc.isEmpty())
        return true;
    const QString type = tc.value(kType).toString();
    static const QHash<QString, QString> choices{{QStringLiteral("auto"), QStringLiteral("auto")},
        {QStringLiteral("any"), QStringLiteral("required")}, {QStringLiteral("none"), QStringLiteral("none")}};
    if (const auto choice = choices.constFind(type); choice != choices.cend())
        out->insert(QLatin1String("tool_choice"), *choice);
    else if (type == QLatin1String("tool"))
        out->insert(QLatin1String("tool_choice"),
            QJsonObject{{kType, QStringLiteral("function")},
                {QLatin1String("function"),
                    QJsonObject{{QLatin1String("name"), tc.value(QLatin1String("name")).toString()}}}});
    else
        return refused(
            m_err, QStringLiteral("tool_choice.type"), QStringLiteral("Unknown tool_choice type '%1'.").arg(type));
    if (tc.value(QLatin1String("disable_parallel_tool_use")).toBool() && !tools.isEmpty())
        out->insert(QLatin1String("parallel_tool_calls"), false);
    return true;
}

// Stop sequences, sampling, streaming and the end user.
void ToOpenAI::sampling(const QJsonObject &req, QJsonObject *out)
{
    const QJsonValue stop = req.value(QLatin1String("stop_sequences"));
    if (stop.isArray() && !stop.toArray().isEmpty())
        out->insert(QLatin1String("stop"), stop);
    for (const char *key : {"temperature", "top_p"}) {
        if (req.value(QLatin1String(key)).isDouble())
            out->insert(QLatin1String(key), req.value(QLatin1String(key)));
    }
    if (req.value(QLatin1String("stream")).toBool()) {
        out->insert(QLatin1String("stream"), true);
        out->insert(QLatin1String("stream_options"), QJsonObject{{QLatin1String("include_usage"), true}});
    }
    const QString user = req.value(QLatin1String("metadata")).toObject().value(QLatin1String("user_id")).toString();
    if (!user.isEmpty())
        out->insert(QLatin1String("user"), user);
}

// Extended thinking as a reasoning effort.
bool ToOpenAI::thinking(const QJsonObject &req, QJsonObject *out)
{
    const QJsonObject thinking = req.value(QLatin1String("thinking")).toObject();
    if (thinking.isEmpty())
        return true;
    const QString type = thinking.value(kType).toString();
    if (type == QLatin1String("enabled")) {
        const double budget = thinking.value(QLatin1String("budget_tokens")).toDouble();
        out->insert(QLatin1String("reasoning_effort"),
            budget < 4096        ? QStringLiteral("low")
                : budget < 16384 ? QStringLiteral("medium")
                                 : QStringLiteral("high"));
    } else if (type == QLatin1String("adaptive")) {
        out->insert(QLatin1String("reasoning_effort"), QStringLiteral("medium"));
    } else if (type != QLatin1String("disabled")) {
        return refused(m_err, QStringLiteral("thinking.type"), QStringLiteral("Unknown thinking type '%1'.").arg(type));
    }
    return true;
}

// Structured outputs (output_format) -> response_format json_schema.
bool ToOpenAI::outputFormat(const QJsonObject &req, QJsonObject *out)
{
    const QJsonObject of = req.value(QLatin1String("output_format")).toObject();
    if (of.isEmpty())
        return true;
    if (of.value(kType).toString() != QLatin1String("json_schema") || !of.value(QLatin1String("schema")).isObject())
        return refused(m_err, QStringLiteral("output_format"),
            QStringLiteral("Only a json_schema output_format can be translated."));
    out->insert(QLatin1String("response_format"),
        QJsonObject{{kType, QStringLiteral("json_schema")},
            {QLatin1String("json_schema"),
                QJsonObject{{QLatin1String("name"), QStringLiteral("output")}, {QLatin1String("strict"), true},
                    {QLatin1String("schema"),
                        ordered(m_src, m_out, QStringLiteral("/output_format/schema"),
                            of.value(QLatin1String("schema")))}}}});
    return true;
}

} // namespace

std::optional<QByteArray> openAIChatToAnthropic(
    const QByteArray &body, const QString &upstreamModel, qint64 defaultMaxTokens, TranslateError *err)
{
    const auto req = parseObject(body);
    if (!req)
        return refuse(err, QStringLiteral("body"), QStringLiteral("The request body is not a JSON object."));
    return ToAnthropic(body, err).run(*req, upstreamModel, defaultMaxTokens);
}

std::optional<QByteArray> anthropicToOpenAIChat(
    const QByteArray &body, const QString &upstreamModel, TranslateError *err)
{
    const auto req = parseObject(body);
    if (!req)
        return refuse(err, QStringLiteral("body"), QStringLiteral("The request body is not a JSON object."));
    return ToOpenAI(body, err).run(*req, upstreamModel);
}

} // namespace gh
