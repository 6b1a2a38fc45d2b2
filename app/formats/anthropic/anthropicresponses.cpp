// Non-streaming response bodies and error bodies between OpenAI (the internal form) and Anthropic.
#include "formats/anthropic/anthropictranslate.h"
#include "formats/common/jsonkit.h"
#include <QDateTime>
#include <QJsonDocument>

namespace gh {

using namespace tx;

namespace {

QByteArray failAnthropic(TranslateError *err, const QString &message)
{
    refuse(err, QStringLiteral("response"), message);
    return anthropicErrorJson("api_error", message);
}

// An Anthropic message's content blocks, as an OpenAI message holds them.
struct AssistantContent {
    QString text;
    QString reasoning;
    QJsonArray thinkingBlocks;
    QJsonArray toolCalls;
    bool responseFormat = false; // the response_format tool's input is the text
};

AssistantContent assistantContent(const QJsonArray &content, const OrderedSource &src)
{
    AssistantContent c;
    for (qsizetype i = 0; i < content.size(); ++i) {
        const QJsonObject b = content.at(i).toObject();
        const QString type = b.value(kType).toString();
        if (type == QLatin1String("text")) {
            c.text += b.value(kText).toString();
        } else if (type == QLatin1String("thinking")) {
            c.reasoning += b.value(QLatin1String("thinking")).toString();
            c.thinkingBlocks.append(
                QJsonObject{{kType, type}, {QLatin1String("thinking"), b.value(QLatin1String("thinking")).toString()},
                    {QLatin1String("signature"), b.value(QLatin1String("signature")).toString()}});
        } else if (type == QLatin1String("redacted_thinking")) {
            c.thinkingBlocks.append(
                QJsonObject{{kType, type}, {QLatin1String("data"), b.value(QLatin1String("data")).toString()}});
        } else if (type == QLatin1String("tool_use")) {
            const QByteArray input = b.value(QLatin1String("input")).isObject()
                ? src.raw(QStringLiteral("/content/%1/input").arg(i))
                      .value_or(compact(b.value(QLatin1String("input")).toObject()))
                : QByteArray("{}");
            if (b.value(QLatin1String("name")).toString() == QLatin1String(kResponseFormatToolName)) {
                c.text += QString::fromUtf8(input); // the JSON answer of response_format
                c.responseFormat = true;
                continue;
            }
            const QString id = b.value(QLatin1String("id")).toString();
            c.toolCalls.append(QJsonObject{{QLatin1String("id"), id.isEmpty() ? randomId("call_") : id},
                {kType, QStringLiteral("function")},
                {QLatin1String("function"),
                    QJsonObject{{QLatin1String("name"), b.value(QLatin1String("name")).toString()},
                        {QLatin1String("arguments"), QString::fromUtf8(input)}}}});
        }
        // Server tool blocks (web search results, ...) only follow server tools, which are refused.
    }
    return c;
}

QJsonObject openAIMessage(const AssistantContent &c)
{
    QJsonObject message{
        {QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("refusal"), QJsonValue::Null}};
    message.insert(QLatin1String("content"),
        c.text.isEmpty() && !c.toolCalls.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(c.text));
    if (!c.toolCalls.isEmpty())
        message.insert(QLatin1String("tool_calls"), c.toolCalls);
    if (!c.reasoning.isEmpty())
        message.insert(QLatin1String("reasoning_content"), c.reasoning);
    if (!c.thinkingBlocks.isEmpty())
        message.insert(QLatin1String("thinking_blocks"), c.thinkingBlocks);
    return message;
}

// Reasoning first, as Anthropic orders thinking before the answer. thinking_blocks (from this
// module's own translation) keep their signatures.
QJsonArray thinkingContent(const QJsonObject &message)
{
    QJsonArray content;
    const QJsonArray thinking = message.value(QLatin1String("thinking_blocks")).toArray();
    if (!thinking.isEmpty()) {
        for (const QJsonValue &t : thinking)
            content.append(t);
        return content;
    }
    QString reasoning = message.value(QLatin1String("reasoning_content")).toString();
    if (reasoning.isEmpty())
        reasoning = message.value(QLatin1String("reasoning")).toString();
    if (!reasoning.isEmpty())
        content.append(QJsonObject{{kType, QStringLiteral("thinking")}, {QLatin1String("thinking"), reasoning},
            {QLatin1String("signature"), QString()}});
    return content;
}

// An OpenAI tool call as a tool_use block; arguments that are not a JSON object are kept as text
// rather than lost.
QJsonObject toolUseBlock(const QJsonObject &call, RawSplicer &out)
{
    const QJsonObject fn = call.value(QLatin1String("function")).toObject();
    const QString args = fn.value(QLatin1String("arguments")).toString();
    QJsonValue input = QJsonObject{};
    if (!args.trimmed().isEmpty()) {
        const auto minified = minifyJson(args.toUtf8());
        if (minified && minified->startsWith('{'))
            input = out.raw(*minified);
        else
            input = QJsonObject{{QLatin1String("_raw_arguments"), args}};
    }
    return QJsonObject{{kType, QStringLiteral("tool_use")},
        {QLatin1String("id"), idOr(call.value(QLatin1String("id")), "toolu_")},
        {QLatin1String("name"), fn.value(QLatin1String("name")).toString()}, {QLatin1String("input"), input}};
}

} // namespace

// ---- Anthropic -> OpenAI -----------------------------------------------------------------------

QByteArray anthropicResponseToOpenAI(const QByteArray &body, const QString &clientModel, TranslateError *err)
{
    const auto resp = parseObject(body);
    if (!resp)
        return failOpenAI(err, QStringLiteral("The provider's response is not JSON: %1").arg(excerpt(body)));
    if (resp->value(kType).toString() == QLatin1String("error")) {
        refuse(err, QStringLiteral("response"),
            resp->value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString());
        return anthropicErrorToOpenAI(502, body);
    }
    const QJsonValue contentValue = resp->value(QLatin1String("content"));
    if (!contentValue.isArray())
        return failOpenAI(err, QStringLiteral("The provider's response has no content array."));

    OrderedSource src(body);
    RawSplicer out;
    const AssistantContent c = assistantContent(contentValue.toArray(), src);
    const QJsonValue stop = resp->value(QLatin1String("stop_reason"));
    QJsonObject choice{{QLatin1String("index"), 0}, {QLatin1String("message"), openAIMessage(c)},
        {QLatin1String("logprobs"), QJsonValue::Null}};
    choice.insert(QLatin1String("finish_reason"),
        stop.isString()
            ? QJsonValue(anthropicStopToOpenAIFinish(stop.toString(), c.responseFormat && c.toolCalls.isEmpty()))
            : QJsonValue(QJsonValue::Null));

    QJsonObject o;
    o.insert(QLatin1String("id"), resp->value(QLatin1String("id")).toString(randomId("chatcmpl-")));
    o.insert(QLatin1String("object"), QStringLiteral("chat.completion"));
    o.insert(QLatin1String("created"), QDateTime::currentSecsSinceEpoch());
    o.insert(QLatin1String("model"), clientModel);
    o.insert(QLatin1String("choices"), QJsonArray{choice});
    Usage usage;
    if (const auto raw = src.raw(QStringLiteral("/usage"));
        raw && parseAnthropicUsage(std::string_view(raw->constData(), size_t(raw->size())), usage))
        o.insert(QLatin1String("usage"), openAIUsageJson(usage));
    return out.toJson(o);
}

// ---- OpenAI -> Anthropic -----------------------------------------------------------------------

QByteArray openAIResponseToAnthropic(const QByteArray &body, const QString &clientModel, TranslateError *err)
{
    const auto resp = parseObject(body);
    if (!resp)
        return failAnthropic(err, QStringLiteral("The provider's response is not JSON: %1").arg(excerpt(body)));
    if (resp->value(QLatin1String("error")).isObject()) {
        refuse(err, QStringLiteral("response"),
            resp->value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString());
        return openAIErrorToAnthropic(502, body);
    }
    const QJsonArray choices = resp->value(QLatin1String("choices")).toArray();
    if (choices.isEmpty() || !choices.at(0).isObject())
        return failAnthropic(err, QStringLiteral("The provider's response has no choices."));
    const QJsonObject choice = choices.at(0).toObject();
    const QJsonObject message = choice.value(QLatin1String("message")).toObject();

    RawSplicer out;
    QJsonArray content = thinkingContent(message);
    const QString text = contentText(message.value(QLatin1String("content")));
    if (!text.isEmpty())
        content.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, text}});
    const QString refusal = message.value(QLatin1String("refusal")).toString();
    if (!refusal.isEmpty())
        content.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, refusal}});
    const QJsonArray calls = message.value(QLatin1String("tool_calls")).toArray();
    for (const QJsonValue &cv : calls)
        content.append(toolUseBlock(cv.toObject(), out));
    const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
    QString stop = finish.isString() ? openAIFinishToAnthropicStop(finish.toString()) : QString();
    if (!calls.isEmpty() && (stop.isEmpty() || stop == QLatin1String("end_turn")))
        stop = QStringLiteral("tool_use");
    if (!refusal.isEmpty())
        stop = QStringLiteral("refusal");

    QJsonObject o;
    QString id = resp->value(QLatin1String("id")).toString();
    o.insert(QLatin1String("id"), id.isEmpty() ? randomId("msg_") : id);
    o.insert(kType, QStringLiteral("message"));
    o.insert(QLatin1String("role"), QStringLiteral("assistant"));
    o.insert(QLatin1String("model"), clientModel);
    o.insert(QLatin1String("content"), content);
    o.insert(QLatin1String("stop_reason"), stop.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(stop));
    o.insert(QLatin1String("stop_sequence"), QJsonValue::Null);
    o.insert(
        QLatin1String("usage"), anthropicUsageJson(usageFrom(resp->value(QLatin1String("usage")), parseOpenAIUsage)));
    return out.toJson(o);
}

// ---- Errors ------------------------------------------------------------------------------------

QByteArray anthropicErrorType(int status)
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
    case 408:
    case 504:
        return "timeout_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 503:
    case 529:
        return "overloaded_error";
    default:
        return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    }
}

QByteArray anthropicErrorBody(int status, const QString &message)
{
    return anthropicErrorJson(anthropicErrorType(status), message);
}

QByteArray openAIErrorToAnthropic(int status, const QByteArray &body)
{
    const auto o = parseObject(body);
    QString message;
    if (o) {
        const QJsonValue e = o->value(QLatin1String("error"));
        message = e.isObject() ? e.toObject().value(QLatin1String("message")).toString() : e.toString();
        if (message.isEmpty())
            message = o->value(QLatin1String("message")).toString();
    }
    if (message.isEmpty())
        message = body.trimmed().isEmpty() ? reasonPhrase(status) : excerpt(body);
    return anthropicErrorBody(status, message);
}

QByteArray anthropicErrorToOpenAI(int status, const QByteArray &body)
{
    const auto o = parseObject(body);
    QString message;
    QByteArray code;
    if (o) {
        const QJsonObject e = o->value(QLatin1String("error")).toObject();
        message = e.value(QLatin1String("message")).toString();
        code = e.value(kType).toString().toUtf8();
    }
    if (message.isEmpty())
        message = body.trimmed().isEmpty() ? reasonPhrase(status) : excerpt(body);
    if (code.isEmpty())
        code = anthropicErrorType(status);
    return openAIErrorJson(message, openAIErrorType(status), code);
}

} // namespace gh
