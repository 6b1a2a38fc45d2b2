// Non-streaming response bodies and error bodies.
#include "translate/jsonkit.h"
#include "translate/translate.h"
#include <QDateTime>
#include <QJsonDocument>

namespace gh {

using namespace tx;

namespace {

const QLatin1String kType("type");
const QLatin1String kText("text");

QByteArray failOpenAI(TranslateError *err, const QString &message)
{
    refuse(err, QStringLiteral("response"), message);
    return openAIErrorJson(message, "upstream_error", "bad_upstream_response");
}

QByteArray failAnthropic(TranslateError *err, const QString &message)
{
    refuse(err, QStringLiteral("response"), message);
    return anthropicErrorJson("api_error", message);
}

QString excerpt(const QByteArray &body)
{
    QString s = QString::fromUtf8(body.left(300)).simplified();
    return s.isEmpty() ? QStringLiteral("(empty body)") : s;
}

QString reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return QStringLiteral("Bad request");
    case 401:
        return QStringLiteral("Authentication failed");
    case 402:
        return QStringLiteral("Payment required");
    case 403:
        return QStringLiteral("Permission denied");
    case 404:
        return QStringLiteral("Not found");
    case 408:
        return QStringLiteral("Request timeout");
    case 413:
        return QStringLiteral("Request too large");
    case 429:
        return QStringLiteral("Rate limited");
    case 500:
        return QStringLiteral("Internal server error");
    case 502:
        return QStringLiteral("Bad gateway");
    case 503:
        return QStringLiteral("Service unavailable");
    case 504:
        return QStringLiteral("Gateway timeout");
    case 529:
        return QStringLiteral("Overloaded");
    default:
        return QStringLiteral("HTTP error %1").arg(status);
    }
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
    QString text;
    QString reasoning;
    QJsonArray thinkingBlocks;
    QJsonArray toolCalls;
    bool responseFormat = false;
    const QJsonArray content = contentValue.toArray();
    for (qsizetype i = 0; i < content.size(); ++i) {
        const QJsonObject b = content.at(i).toObject();
        const QString type = b.value(kType).toString();
        if (type == QLatin1String("text")) {
            text += b.value(kText).toString();
        } else if (type == QLatin1String("thinking")) {
            reasoning += b.value(QLatin1String("thinking")).toString();
            thinkingBlocks.append(
                QJsonObject{{kType, type}, {QLatin1String("thinking"), b.value(QLatin1String("thinking")).toString()},
                    {QLatin1String("signature"), b.value(QLatin1String("signature")).toString()}});
        } else if (type == QLatin1String("redacted_thinking")) {
            thinkingBlocks.append(
                QJsonObject{{kType, type}, {QLatin1String("data"), b.value(QLatin1String("data")).toString()}});
        } else if (type == QLatin1String("tool_use")) {
            const QByteArray input = b.value(QLatin1String("input")).isObject()
                ? src.raw(QStringLiteral("/content/%1/input").arg(i))
                      .value_or(compact(b.value(QLatin1String("input")).toObject()))
                : QByteArray("{}");
            if (b.value(QLatin1String("name")).toString() == QLatin1String(kResponseFormatToolName)) {
                text += QString::fromUtf8(input); // the JSON answer of response_format
                responseFormat = true;
                continue;
            }
            const QString id = b.value(QLatin1String("id")).toString();
            toolCalls.append(QJsonObject{{QLatin1String("id"), id.isEmpty() ? randomId("call_") : id},
                {kType, QStringLiteral("function")},
                {QLatin1String("function"),
                    QJsonObject{{QLatin1String("name"), b.value(QLatin1String("name")).toString()},
                        {QLatin1String("arguments"), QString::fromUtf8(input)}}}});
        }
        // Server tool blocks (web search results, ...) only follow server tools, which are refused.
    }

    QJsonObject message{
        {QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("refusal"), QJsonValue::Null}};
    message.insert(QLatin1String("content"),
        text.isEmpty() && !toolCalls.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text));
    if (!toolCalls.isEmpty())
        message.insert(QLatin1String("tool_calls"), toolCalls);
    if (!reasoning.isEmpty())
        message.insert(QLatin1String("reasoning_content"), reasoning);
    if (!thinkingBlocks.isEmpty())
        message.insert(QLatin1String("thinking_blocks"), thinkingBlocks);

    const QJsonValue stop = resp->value(QLatin1String("stop_reason"));
    QJsonObject choice{{QLatin1String("index"), 0}, {QLatin1String("message"), message},
        {QLatin1String("logprobs"), QJsonValue::Null}};
    choice.insert(QLatin1String("finish_reason"),
        stop.isString()
            ? QJsonValue(anthropicStopToOpenAIFinish(stop.toString(), responseFormat && toolCalls.isEmpty()))
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
    QJsonArray content;
    // Reasoning first, as Anthropic orders thinking before the answer. thinking_blocks (from this
    // module's own translation) keep their signatures.
    const QJsonArray thinking = message.value(QLatin1String("thinking_blocks")).toArray();
    if (!thinking.isEmpty()) {
        for (const QJsonValue &t : thinking)
            content.append(t);
    } else {
        QString reasoning = message.value(QLatin1String("reasoning_content")).toString();
        if (reasoning.isEmpty())
            reasoning = message.value(QLatin1String("reasoning")).toString();
        if (!reasoning.isEmpty())
            content.append(QJsonObject{{kType, QStringLiteral("thinking")}, {QLatin1String("thinking"), reasoning},
                {QLatin1String("signature"), QString()}});
    }
    const QString text = contentText(message.value(QLatin1String("content")));
    if (!text.isEmpty())
        content.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, text}});
    const QString refusal = message.value(QLatin1String("refusal")).toString();
    if (!refusal.isEmpty())
        content.append(QJsonObject{{kType, QStringLiteral("text")}, {kText, refusal}});
    const QJsonArray calls = message.value(QLatin1String("tool_calls")).toArray();
    for (const QJsonValue &cv : calls) {
        const QJsonObject call = cv.toObject();
        const QJsonObject fn = call.value(QLatin1String("function")).toObject();
        const QString args = fn.value(QLatin1String("arguments")).toString();
        QJsonValue input = QJsonObject{};
        if (!args.trimmed().isEmpty()) {
            const auto minified = minifyJson(args.toUtf8());
            if (minified && minified->startsWith('{'))
                input = out.raw(*minified);
            else // not an object: keep the model's text rather than lose it
                input = QJsonObject{{QLatin1String("_raw_arguments"), args}};
        }
        content.append(QJsonObject{{kType, QStringLiteral("tool_use")},
            {QLatin1String("id"), idOr(call.value(QLatin1String("id")), "toolu_")},
            {QLatin1String("name"), fn.value(QLatin1String("name")).toString()}, {QLatin1String("input"), input}});
    }

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
    Usage usage;
    const QJsonValue u = resp->value(QLatin1String("usage"));
    if (u.isObject()) {
        const QByteArray raw = compact(u.toObject());
        if (!parseOpenAIUsage(std::string_view(raw.constData(), size_t(raw.size())), usage))
            usage = Usage();
    }
    o.insert(QLatin1String("usage"), anthropicUsageJson(usage));
    return out.toJson(o);
}

// ---- Gemini -> OpenAI --------------------------------------------------------------------------

QByteArray geminiResponseToOpenAI(const QByteArray &body, const QString &clientModel, TranslateError *err)
{
    const auto resp = parseObject(body);
    if (!resp)
        return failOpenAI(err, QStringLiteral("The provider's response is not JSON: %1").arg(excerpt(body)));
    if (resp->value(QLatin1String("error")).isObject()) {
        refuse(err, QStringLiteral("response"),
            resp->value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString());
        return geminiErrorToOpenAI(502, body);
    }
    OrderedSource src(body);
    RawSplicer out;
    QJsonArray choices;
    const QJsonArray candidates = resp->value(QLatin1String("candidates")).toArray();
    for (qsizetype c = 0; c < candidates.size(); ++c) {
        const QJsonObject cand = candidates.at(c).toObject();
        QString text;
        QString reasoning;
        QJsonArray toolCalls;
        const QJsonArray parts
            = cand.value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
        for (qsizetype p = 0; p < parts.size(); ++p) {
            const QJsonObject part = parts.at(p).toObject();
            if (part.value(QLatin1String("functionCall")).isObject()) {
                const QJsonObject fc = part.value(QLatin1String("functionCall")).toObject();
                const QByteArray args = fc.value(QLatin1String("args")).isObject()
                    ? src.raw(QStringLiteral("/candidates/%1/content/parts/%2/functionCall/args").arg(c).arg(p))
                          .value_or(compact(fc.value(QLatin1String("args")).toObject()))
                    : QByteArray("{}");
                QJsonObject call{{QLatin1String("id"), idOr(fc.value(QLatin1String("id")), "call_")},
                    {kType, QStringLiteral("function")},
                    {QLatin1String("function"),
                        QJsonObject{{QLatin1String("name"), fc.value(QLatin1String("name")).toString()},
                            {QLatin1String("arguments"), QString::fromUtf8(args)}}}};
                if (part.value(QLatin1String("thoughtSignature")).isString())
                    call.insert(QLatin1String("extra_content"),
                        QJsonObject{{QLatin1String("google"),
                            QJsonObject{
                                {QLatin1String("thought_signature"), part.value(QLatin1String("thoughtSignature"))}}}});
                toolCalls.append(call);
            } else if (part.value(kText).isString()) {
                if (part.value(QLatin1String("thought")).toBool())
                    reasoning += part.value(kText).toString();
                else
                    text += part.value(kText).toString();
            }
        }
        QJsonObject message{
            {QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("refusal"), QJsonValue::Null}};
        message.insert(QLatin1String("content"),
            text.isEmpty() && !toolCalls.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text));
        if (!toolCalls.isEmpty())
            message.insert(QLatin1String("tool_calls"), toolCalls);
        if (!reasoning.isEmpty())
            message.insert(QLatin1String("reasoning_content"), reasoning);
        const QJsonValue finish = cand.value(QLatin1String("finishReason"));
        choices.append(QJsonObject{{QLatin1String("index"), cand.value(QLatin1String("index")).toInt(int(c))},
            {QLatin1String("message"), message}, {QLatin1String("logprobs"), QJsonValue::Null},
            {QLatin1String("finish_reason"),
                finish.isString() ? QJsonValue(geminiFinishToOpenAI(finish.toString(), !toolCalls.isEmpty()))
                                  : QJsonValue(QJsonValue::Null)}});
    }
    if (choices.isEmpty()) {
        // A prompt blocked before generation: promptFeedback.blockReason and no candidates.
        if (!resp->value(QLatin1String("promptFeedback")).isObject()
            && !resp->value(QLatin1String("usageMetadata")).isObject())
            return failOpenAI(err, QStringLiteral("The provider's response has no candidates."));
        const bool blocked
            = resp->value(QLatin1String("promptFeedback")).toObject().value(QLatin1String("blockReason")).isString();
        choices.append(QJsonObject{{QLatin1String("index"), 0},
            {QLatin1String("message"),
                QJsonObject{{QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("content"), QString()},
                    {QLatin1String("refusal"), QJsonValue::Null}}},
            {QLatin1String("logprobs"), QJsonValue::Null},
            {QLatin1String("finish_reason"), blocked ? QStringLiteral("content_filter") : QStringLiteral("stop")}});
    }

    QJsonObject o;
    const QString responseId = resp->value(QLatin1String("responseId")).toString();
    o.insert(QLatin1String("id"), responseId.isEmpty() ? randomId("chatcmpl-") : responseId);
    o.insert(QLatin1String("object"), QStringLiteral("chat.completion"));
    o.insert(QLatin1String("created"), QDateTime::currentSecsSinceEpoch());
    o.insert(QLatin1String("model"), clientModel);
    o.insert(QLatin1String("choices"), choices);
    Usage usage;
    if (const auto raw = src.raw(QStringLiteral("/usageMetadata"));
        raw && parseGeminiUsage(std::string_view(raw->constData(), size_t(raw->size())), usage))
        o.insert(QLatin1String("usage"), openAIUsageJson(usage));
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

QByteArray openAIErrorType(int status)
{
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    case 502:
    case 504:
        return "upstream_error";
    case 503:
        return "service_unavailable";
    default:
        return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
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

QByteArray geminiErrorToOpenAI(int status, const QByteArray &body)
{
    const auto o = parseObject(body);
    QString message;
    QByteArray code;
    if (o) {
        // The REST error is an object; a stream may send the same object inside a one-element array.
        const QJsonObject e = o->value(QLatin1String("error")).toObject();
        message = e.value(QLatin1String("message")).toString();
        code = e.value(QLatin1String("status")).toString().toUtf8();
    } else {
        const QJsonDocument doc = QJsonDocument::fromJson(body);
        const QJsonObject e = doc.array().at(0).toObject().value(QLatin1String("error")).toObject();
        message = e.value(QLatin1String("message")).toString();
        code = e.value(QLatin1String("status")).toString().toUtf8();
    }
    if (message.isEmpty())
        message = body.trimmed().isEmpty() ? reasonPhrase(status) : excerpt(body);
    return openAIErrorJson(message, openAIErrorType(status), code);
}

} // namespace gh
