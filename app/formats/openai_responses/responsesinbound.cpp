// OpenAI's Responses API as a client's format (responsesinbound.h).
#include "formats/openai_responses/responsesinbound.h"
#include "formats/common/jsonkit.h"
#include "formats/common/openaichunkstream.h"
#include <QDateTime>
#include <QJsonDocument>
#include <QMap>

namespace gh {

using namespace tx;

namespace {

class FromResponses
{
public:
    FromResponses(const QByteArray &body, TranslateError *err)
        : m_src(body)
        , m_err(err)
    { }
    std::optional<QByteArray> run(const QJsonObject &req, const QString &model);

private:
    bool refuseUnsupported(const QJsonObject &req);
    bool input(const QJsonValue &input);
    bool message(const QJsonObject &item, const QString &path);
    std::optional<QJsonValue> content(const QJsonValue &content, const QString &path, bool *onlyText);
    void functionCall(const QJsonObject &item, qsizetype index);
    bool tools(const QJsonObject &req, QJsonObject *out);
    bool addFunction(const QJsonObject &tool, const QString &pointer, QJsonArray *out);
    bool options(const QJsonObject &req, QJsonObject *out);
    bool refuse(const QString &feature, const QString &message)
    {
        tx::refuse(m_err, feature, message);
        return false;
    }

    OrderedSource m_src;
    RawSplicer m_out;
    TranslateError *m_err;
    QJsonArray m_messages;
};

bool FromResponses::refuseUnsupported(const QJsonObject &req)
{
    if (req.value(QLatin1String("previous_response_id")).isString())
        return refuse(QStringLiteral("previous_response_id"),
                      QStringLiteral("previous_response_id names a conversation only OpenAI keeps; send the whole conversation as input (with store: false) to use this model."));
    if (req.value(QLatin1String("background")).toBool())
        return refuse(QStringLiteral("background"), QStringLiteral("Background responses are OpenAI's own."));
    if (req.contains(QLatin1String("conversation")) && !req.value(QLatin1String("conversation")).isNull())
        return refuse(QStringLiteral("conversation"), QStringLiteral("Stored conversations are OpenAI's own; send the whole conversation as input."));
    if (req.contains(QLatin1String("prompt")) && !req.value(QLatin1String("prompt")).isNull())
        return refuse(QStringLiteral("prompt"), QStringLiteral("Prompt templates are stored at OpenAI."));
    return true;
}

std::optional<QJsonValue> FromResponses::content(const QJsonValue &value, const QString &path, bool *onlyText)
{
    *onlyText = true;
    if (value.isString())
        return value;
    QJsonArray parts;
    const QJsonArray items = value.toArray();
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonObject part = items.at(i).toObject();
        const QString type = part.value(kType).toString();
        const QString where = QStringLiteral("%1.content[%2]").arg(path).arg(i);
        if (type == QLatin1String("input_text") || type == QLatin1String("output_text") || type == QLatin1String("text")) {
            parts.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, part.value(kText).toString()}});
        } else if (type == QLatin1String("refusal")) {
            parts.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, part.value(QLatin1String("refusal")).toString()}});
        } else if (type == QLatin1String("input_image") && part.value(QLatin1String("image_url")).isString()) {
            QJsonObject image{{QLatin1String("url"), part.value(QLatin1String("image_url"))}};
            if (part.value(QLatin1String("detail")).isString())
                image.insert(QLatin1String("detail"), part.value(QLatin1String("detail")));
            parts.append(QJsonObject{{kType, QStringLiteral("image_url")}, {QLatin1String("image_url"), image}});
            *onlyText = false;
        } else {
            tx::refuse(m_err, where, QStringLiteral("Content of type '%1' cannot be carried to this model (text and images by URL can).").arg(type));
            return std::nullopt;
        }
    }
    return parts;
}

bool FromResponses::message(const QJsonObject &item, const QString &path)
{
    QString role = item.value(kRole).toString(QStringLiteral("user"));
    if (role == QLatin1String("developer"))
        role = QStringLiteral("system");
    if (role != QLatin1String("user") && role != QLatin1String("assistant") && role != QLatin1String("system"))
        return refuse(path + QStringLiteral(".role"), QStringLiteral("Unknown role '%1'.").arg(role));
    bool onlyText = true;
    auto value = content(item.value(kContent), path, &onlyText);
    if (!value)
        return false;
    if (value->isArray() && onlyText && role != QLatin1String("user")) {
        QString text;
        for (const QJsonValue &p : value->toArray())
            text += p.toObject().value(kText).toString();
        value = QJsonValue(text);
    }
    m_messages.append(QJsonObject{{kRole, role}, {kContent, *value}});
    return true;
}

void FromResponses::functionCall(const QJsonObject &item, qsizetype index)
{
    const QString args = item.value(QLatin1String("arguments")).toString();
    const QJsonObject call{{QLatin1String("id"), idOr(item.value(QLatin1String("call_id")), "call_")},
                           {kType, QStringLiteral("function")},
                           {QLatin1String("function"), QJsonObject{{QLatin1String("name"), item.value(QLatin1String("name")).toString()},
                                                                   {QLatin1String("arguments"), args.isEmpty() ? QStringLiteral("{}") : args}}}};
    Q_UNUSED(index)
    // Consecutive calls belong to one assistant turn (the one just before, when it has no calls
    // answered yet).
    if (!m_messages.isEmpty()) {
        QJsonObject last = m_messages.last().toObject();
        if (last.value(kRole).toString() == QLatin1String("assistant")) {
            QJsonArray calls = last.value(QLatin1String("tool_calls")).toArray();
            calls.append(call);
            last.insert(QLatin1String("tool_calls"), calls);
            m_messages[m_messages.size() - 1] = last;
            return;
        }
    }
    m_messages.append(QJsonObject{{kRole, QStringLiteral("assistant")}, {kContent, QJsonValue(QJsonValue::Null)},
                                  {QLatin1String("tool_calls"), QJsonArray{call}}});
}

bool FromResponses::input(const QJsonValue &input)
{
    if (input.isString()) {
        m_messages.append(QJsonObject{{kRole, QStringLiteral("user")}, {kContent, input}});
        return true;
    }
    if (!input.isArray())
        return refuse(QStringLiteral("input"), QStringLiteral("input must be a string or an array of items."));
    const QJsonArray items = input.toArray();
    for (qsizetype i = 0; i < items.size(); ++i) {
        const QJsonObject item = items.at(i).toObject();
        const QString path = QStringLiteral("input[%1]").arg(i);
        const QString type = item.value(kType).toString(QStringLiteral("message"));
        if (type == QLatin1String("message")) {
            if (!message(item, path))
                return false;
        } else if (type == QLatin1String("function_call")) {
            functionCall(item, i);
        } else if (type == QLatin1String("function_call_output")) {
            const QJsonValue output = item.value(QLatin1String("output"));
            QString text = output.toString();
            if (output.isArray()) {
                for (const QJsonValue &p : output.toArray())
                    text += p.toObject().value(kText).toString();
            }
            m_messages.append(QJsonObject{{kRole, QStringLiteral("tool")},
                                          {QLatin1String("tool_call_id"), item.value(QLatin1String("call_id")).toString()},
                                          {kContent, text}});
        } else if (type == QLatin1String("reasoning")) {
            continue; // OpenAI's encrypted reasoning state: only OpenAI can read it
        } else {
            return refuse(path, QStringLiteral("Input items of type '%1' cannot be carried to this model.").arg(type));
        }
    }
    return true;
}

bool FromResponses::addFunction(const QJsonObject &tool, const QString &pointer, QJsonArray *out)
{
    QJsonObject fn{{QLatin1String("name"), tool.value(QLatin1String("name"))}};
    if (tool.value(QLatin1String("description")).isString())
        fn.insert(QLatin1String("description"), tool.value(QLatin1String("description")));
    if (tool.value(QLatin1String("parameters")).isObject())
        fn.insert(QLatin1String("parameters"), ordered(m_src, m_out, pointer + QStringLiteral("/parameters"), tool.value(QLatin1String("parameters"))));
    if (tool.value(QLatin1String("strict")).isBool())
        fn.insert(QLatin1String("strict"), tool.value(QLatin1String("strict")));
    out->append(QJsonObject{{kType, QStringLiteral("function")}, {QLatin1String("function"), fn}});
    return true;
}

bool FromResponses::tools(const QJsonObject &req, QJsonObject *out)
{
    QJsonArray chatTools;
    const QJsonArray tools = req.value(QLatin1String("tools")).toArray();
    for (qsizetype i = 0; i < tools.size(); ++i) {
        const QJsonObject tool = tools.at(i).toObject();
        const QString type = tool.value(kType).toString();
        const QString pointer = QStringLiteral("/tools/%1").arg(i);
        if (type == QLatin1String("function")) {
            addFunction(tool, pointer, &chatTools);
        } else if (type == QLatin1String("namespace")) {
            const QJsonArray inner = tool.value(QLatin1String("tools")).toArray();
            for (qsizetype j = 0; j < inner.size(); ++j) {
                if (inner.at(j).toObject().value(kType).toString() == QLatin1String("function"))
                    addFunction(inner.at(j).toObject(), pointer + QStringLiteral("/tools/%1").arg(j), &chatTools);
            }
        } else if (type == QLatin1String("custom")) {
            return refuse(QStringLiteral("tools[%1]").arg(i), QStringLiteral("Free-form (custom) tools cannot be offered to this model."));
        }
        // Hosted tools (web_search, file_search, code_interpreter, ...) run at OpenAI: not offered.
    }
    if (chatTools.isEmpty())
        return true;
    out->insert(QLatin1String("tools"), chatTools);
    const QJsonValue choice = req.value(QLatin1String("tool_choice"));
    if (choice.isString())
        out->insert(QLatin1String("tool_choice"), choice);
    else if (choice.isObject() && choice.toObject().value(kType).toString() == QLatin1String("function"))
        out->insert(QLatin1String("tool_choice"), QJsonObject{{kType, QStringLiteral("function")},
                                                              {QLatin1String("function"), QJsonObject{{QLatin1String("name"), choice.toObject().value(QLatin1String("name"))}}}});
    if (req.value(QLatin1String("parallel_tool_calls")).isBool())
        out->insert(QLatin1String("parallel_tool_calls"), req.value(QLatin1String("parallel_tool_calls")));
    return true;
}

bool FromResponses::options(const QJsonObject &req, QJsonObject *out)
{
    if (req.value(QLatin1String("max_output_tokens")).isDouble())
        out->insert(QLatin1String("max_tokens"), req.value(QLatin1String("max_output_tokens")));
    for (const char *k : {"temperature", "top_p"}) {
        if (req.value(QLatin1String(k)).isDouble())
            out->insert(QLatin1String(k), req.value(QLatin1String(k)));
    }
    const QString effort = req.value(QLatin1String("reasoning")).toObject().value(QLatin1String("effort")).toString();
    if (!effort.isEmpty())
        out->insert(QLatin1String("reasoning_effort"), effort);
    const QJsonObject format = req.value(QLatin1String("text")).toObject().value(QLatin1String("format")).toObject();
    const QString type = format.value(kType).toString();
    if (type == QLatin1String("json_schema")) {
        QJsonObject schema{{QLatin1String("name"), format.value(QLatin1String("name")).toString(QStringLiteral("response"))},
                           {QLatin1String("schema"), ordered(m_src, m_out, QStringLiteral("/text/format/schema"), format.value(QLatin1String("schema")))}};
        if (format.value(QLatin1String("strict")).isBool())
            schema.insert(QLatin1String("strict"), format.value(QLatin1String("strict")));
        out->insert(QLatin1String("response_format"), QJsonObject{{kType, type}, {QLatin1String("json_schema"), schema}});
    } else if (type == QLatin1String("json_object")) {
        out->insert(QLatin1String("response_format"), QJsonObject{{kType, type}});
    } else if (!type.isEmpty() && type != QLatin1String("text")) {
        return refuse(QStringLiteral("text.format"), QStringLiteral("Unknown text format '%1'.").arg(type));
    }
    if (req.value(QLatin1String("stream")).toBool()) {
        out->insert(QLatin1String("stream"), true);
        out->insert(QLatin1String("stream_options"), QJsonObject{{QLatin1String("include_usage"), true}});
    }
    return true;
}

std::optional<QByteArray> FromResponses::run(const QJsonObject &req, const QString &model)
{
    if (!refuseUnsupported(req))
        return std::nullopt;
    if (req.value(QLatin1String("instructions")).isString())
        m_messages.append(QJsonObject{{kRole, QStringLiteral("system")}, {kContent, req.value(QLatin1String("instructions"))}});
    if (!input(req.value(QLatin1String("input"))))
        return std::nullopt;
    QJsonObject out{{QLatin1String("model"), model}, {QLatin1String("messages"), m_messages}};
    if (!tools(req, &out) || !options(req, &out))
        return std::nullopt;
    return m_out.toJson(out);
}

QJsonObject responsesUsage(const Usage &u)
{
    return QJsonObject{{QLatin1String("input_tokens"), u.totalInput()},
                       {QLatin1String("input_tokens_details"), QJsonObject{{QLatin1String("cached_tokens"), u.cacheReadTokens}}},
                       {QLatin1String("output_tokens"), u.outputTokens},
                       {QLatin1String("output_tokens_details"), QJsonObject{{QLatin1String("reasoning_tokens"), u.reasoningTokens}}},
                       {QLatin1String("total_tokens"), u.totalInput() + u.outputTokens}};
}

QJsonObject messageItem(const QString &id, const QString &text, const QString &status)
{
    return QJsonObject{{QLatin1String("type"), QStringLiteral("message")}, {QLatin1String("id"), id},
                       {QLatin1String("status"), status}, {kRole, QStringLiteral("assistant")},
                       {kContent, QJsonArray{QJsonObject{{kType, QStringLiteral("output_text")}, {kText, text}, {QLatin1String("annotations"), QJsonArray{}}}}}};
}

QJsonObject functionItem(const QString &id, const QString &callId, const QString &name, const QString &arguments, const QString &status)
{
    return QJsonObject{{kType, QStringLiteral("function_call")}, {QLatin1String("id"), id}, {QLatin1String("call_id"), callId},
                       {QLatin1String("name"), name}, {QLatin1String("arguments"), arguments}, {QLatin1String("status"), status}};
}

QJsonObject responseObject(const QString &id, const QString &model, qint64 created, const QString &status, const QJsonArray &output)
{
    return QJsonObject{{QLatin1String("id"), id}, {QLatin1String("object"), QStringLiteral("response")},
                       {QLatin1String("created_at"), created}, {QLatin1String("status"), status},
                       {QLatin1String("model"), model}, {QLatin1String("output"), output},
                       {QLatin1String("error"), QJsonValue::Null}, {QLatin1String("incomplete_details"), QJsonValue::Null}};
}

// OpenAI chunks -> Responses events.
class OpenAIToResponses final : public OpenAIChunkStream
{
public:
    explicit OpenAIToResponses(const QString &model)
        : m_model(model)
        , m_id(randomId("resp_"))
        , m_created(QDateTime::currentSecsSinceEpoch())
    { }

    QByteArray fail(int, const QString &message) override
    {
        if (m_ended)
            return {};
        return failed("server_error", message);
    }

private:
    enum class Open { None, Text, Call };

    QByteArray event(const char *type, QJsonObject o)
    {
        o.insert(kType, QLatin1String(type));
        o.insert(QLatin1String("sequence_number"), m_sequence++);
        return sseEvent(type, compact(o));
    }
    QByteArray begin(const QJsonObject &) override { return start(); }
    QByteArray streamError(const QString &message) override { return failed("server_error", message); }
    QByteArray start()
    {
        if (m_started)
            return {};
        m_started = true;
        const QJsonObject r = responseObject(m_id, m_model, m_created, QStringLiteral("in_progress"), QJsonArray{});
        QByteArray out = event("response.created", {{QLatin1String("response"), r}}); // in order: numbered as they go
        out += event("response.in_progress", {{QLatin1String("response"), r}});
        return out;
    }
    QByteArray delta(const QJsonObject &d) override
    {
        QByteArray out;
        const QString text = d.value(QLatin1String("content")).toString() + d.value(QLatin1String("refusal")).toString();
        if (!text.isEmpty()) {
            if (m_open != Open::Text)
                out += openText();
            m_text += text;
            out += event("response.output_text.delta", {{QLatin1String("item_id"), m_itemId}, {QLatin1String("output_index"), m_output.size()},
                                                         {QLatin1String("content_index"), 0}, {QLatin1String("delta"), text}});
        }
        for (const QJsonValue &cv : d.value(QLatin1String("tool_calls")).toArray()) {
            const QJsonObject call = cv.toObject();
            const int index = call.value(QLatin1String("index")).toInt();
            const QJsonObject fn = call.value(QLatin1String("function")).toObject();
            if (m_open != Open::Call || index != m_callIndex)
                out += openCall(index, call.value(QLatin1String("id")).toString(), fn.value(QLatin1String("name")).toString());
            const QString args = fn.value(QLatin1String("arguments")).toString();
            if (!args.isEmpty()) {
                m_arguments += args;
                out += event("response.function_call_arguments.delta", {{QLatin1String("item_id"), m_itemId},
                                                                         {QLatin1String("output_index"), m_output.size()}, {QLatin1String("delta"), args}});
            }
        }
        return out;
    }
    QByteArray openText()
    {
        QByteArray out = closeItem();
        m_open = Open::Text;
        m_itemId = randomId("msg_");
        m_text.clear();
        out += event("response.output_item.added", {{QLatin1String("output_index"), m_output.size()},
                                                     {QLatin1String("item"), QJsonObject{{kType, QStringLiteral("message")}, {QLatin1String("id"), m_itemId},
                                                                                         {QLatin1String("status"), QStringLiteral("in_progress")},
                                                                                         {kRole, QStringLiteral("assistant")}, {kContent, QJsonArray{}}}}});
        out += event("response.content_part.added", {{QLatin1String("item_id"), m_itemId}, {QLatin1String("output_index"), m_output.size()},
                                                      {QLatin1String("content_index"), 0},
                                                      {QLatin1String("part"), QJsonObject{{kType, QStringLiteral("output_text")}, {kText, QString()}, {QLatin1String("annotations"), QJsonArray{}}}}});
        return out;
    }
    QByteArray openCall(int index, const QString &callId, const QString &name)
    {
        QByteArray out = closeItem();
        m_open = Open::Call;
        m_callIndex = index;
        m_itemId = randomId("fc_");
        m_callId = callId.isEmpty() ? randomId("call_") : callId;
        m_name = name;
        m_arguments.clear();
        out += event("response.output_item.added", {{QLatin1String("output_index"), m_output.size()},
                                                     {QLatin1String("item"), functionItem(m_itemId, m_callId, m_name, QString(), QStringLiteral("in_progress"))}});
        return out;
    }
    QByteArray closeItem()
    {
        QByteArray out;
        const qsizetype index = m_output.size();
        if (m_open == Open::Text) {
            const QJsonObject part{{kType, QStringLiteral("output_text")}, {kText, m_text}, {QLatin1String("annotations"), QJsonArray{}}};
            out += event("response.output_text.done", {{QLatin1String("item_id"), m_itemId}, {QLatin1String("output_index"), index},
                                                        {QLatin1String("content_index"), 0}, {kText, m_text}});
            out += event("response.content_part.done", {{QLatin1String("item_id"), m_itemId}, {QLatin1String("output_index"), index},
                                                         {QLatin1String("content_index"), 0}, {QLatin1String("part"), part}});
            m_output.append(messageItem(m_itemId, m_text, QStringLiteral("completed")));
        } else if (m_open == Open::Call) {
            out += event("response.function_call_arguments.done", {{QLatin1String("item_id"), m_itemId}, {QLatin1String("output_index"), index},
                                                                    {QLatin1String("arguments"), m_arguments}});
            m_output.append(functionItem(m_itemId, m_callId, m_name, m_arguments, QStringLiteral("completed")));
        } else {
            return out;
        }
        m_open = Open::None;
        out += event("response.output_item.done", {{QLatin1String("output_index"), index}, {QLatin1String("item"), m_output.last()}});
        return out;
    }
    QByteArray close() override
    {
        QByteArray out = start();
        out += closeItem();
        m_ended = true;
        const bool incomplete = m_finish == QLatin1String("length");
        QJsonObject r = responseObject(m_id, m_model, m_created, incomplete ? QStringLiteral("incomplete") : QStringLiteral("completed"), m_output);
        r.insert(QLatin1String("usage"), responsesUsage(m_usage));
        if (incomplete)
            r.insert(QLatin1String("incomplete_details"), QJsonObject{{QLatin1String("reason"), QStringLiteral("max_output_tokens")}});
        out += event(incomplete ? "response.incomplete" : "response.completed", {{QLatin1String("response"), r}});
        return out;
    }
    QByteArray failed(const char *code, const QString &message)
    {
        QByteArray out = start();
        m_ended = true;
        QJsonObject r = responseObject(m_id, m_model, m_created, QStringLiteral("failed"), m_output);
        r.insert(QLatin1String("error"), QJsonObject{{QLatin1String("code"), QLatin1String(code)}, {QLatin1String("message"), message}});
        out += event("response.failed", {{QLatin1String("response"), r}});
        return out;
    }

    QString m_model;
    QString m_id;
    qint64 m_created;
    int m_sequence = 0;
    bool m_started = false;
    Open m_open = Open::None;
    QString m_itemId;
    QString m_text;
    int m_callIndex = -1;
    QString m_callId;
    QString m_name;
    QString m_arguments;
    QJsonArray m_output;
};

} // namespace

std::optional<QByteArray> responsesToOpenAIChat(const QByteArray &body, const QString &upstreamModel, TranslateError *err)
{
    const auto req = parseObject(body);
    if (!req)
        return tx::refuse(err, QString(), QStringLiteral("The request body must be a JSON object."));
    FromResponses t(body, err);
    return t.run(*req, upstreamModel);
}

QByteArray openAIResponseToResponses(const QByteArray &body, const QString &clientModel)
{
    const auto resp = parseObject(body);
    if (!resp || !resp->value(QLatin1String("choices")).isArray())
        return openAIErrorJson(resp ? openAIErrorMessage(*resp) : QStringLiteral("The provider's response is not JSON."), "server_error", "upstream_invalid_response");
    const QJsonObject choice = resp->value(QLatin1String("choices")).toArray().first().toObject();
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();
    QJsonArray output;
    const QString text = message.value(kContent).toString() + message.value(QLatin1String("refusal")).toString();
    if (!text.isEmpty())
        output.append(messageItem(randomId("msg_"), text, QStringLiteral("completed")));
    for (const QJsonValue &cv : message.value(QLatin1String("tool_calls")).toArray()) {
        const QJsonObject call = cv.toObject();
        const QJsonObject fn = call.value(QLatin1String("function")).toObject();
        output.append(functionItem(randomId("fc_"), idOr(call.value(QLatin1String("id")), "call_"), fn.value(QLatin1String("name")).toString(),
                                   fn.value(QLatin1String("arguments")).toString(), QStringLiteral("completed")));
    }
    const bool incomplete = choice.value(QLatin1String("finish_reason")).toString() == QLatin1String("length");
    QJsonObject r = responseObject(idOr(QJsonValue(), "resp_"), clientModel, resp->value(QLatin1String("created")).toInteger(QDateTime::currentSecsSinceEpoch()),
                                   incomplete ? QStringLiteral("incomplete") : QStringLiteral("completed"), output);
    r.insert(QLatin1String("usage"), responsesUsage(usageFrom(resp->value(QLatin1String("usage")), parseOpenAIUsage)));
    if (incomplete)
        r.insert(QLatin1String("incomplete_details"), QJsonObject{{QLatin1String("reason"), QStringLiteral("max_output_tokens")}});
    return compact(r);
}

std::unique_ptr<StreamTranslator> openAIToResponsesStream(const QString &clientModel)
{
    return std::make_unique<OpenAIToResponses>(clientModel);
}

QByteArray responsesErrorEvent(const QByteArray &code, const QString &message)
{
    return sseEvent("error", compact(QJsonObject{{kType, QStringLiteral("error")}, {QLatin1String("code"), QString::fromUtf8(code)},
                                                 {QLatin1String("message"), message}, {QLatin1String("param"), QJsonValue::Null}}));
}

} // namespace gh
