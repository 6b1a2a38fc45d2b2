// Non-streaming response bodies and error bodies: Gemini -> OpenAI (the internal form).
#include "formats/common/jsonkit.h"
#include "formats/gemini/geminitranslate.h"
#include <QDateTime>
#include <QJsonDocument>

namespace gh {

using namespace tx;

namespace {

// One Gemini candidate as an OpenAI choice. Function calls keep their args' key order and their
// thought signature (extra_content.google.thought_signature).
QJsonObject openAIChoice(const QJsonObject &cand, qsizetype c, const OrderedSource &src)
{
    QString text;
    QString reasoning;
    QJsonArray toolCalls;
    const QJsonArray parts = cand.value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
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
    return QJsonObject{{QLatin1String("index"), cand.value(QLatin1String("index")).toInt(int(c))},
        {QLatin1String("message"), message}, {QLatin1String("logprobs"), QJsonValue::Null},
        {QLatin1String("finish_reason"),
            finish.isString() ? QJsonValue(geminiFinishToOpenAI(finish.toString(), !toolCalls.isEmpty()))
                              : QJsonValue(QJsonValue::Null)}};
}

} // namespace

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
    for (qsizetype c = 0; c < candidates.size(); ++c)
        choices.append(openAIChoice(candidates.at(c).toObject(), c, src));
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
