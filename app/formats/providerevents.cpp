#include "formats/providerevents.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace gh {

// These formats are parsed with QJsonDocument: their events are small and only the side parser
// reads them (the bytes are relayed untouched or translated elsewhere).

namespace {

QByteArray usageJson(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

qint64 anthropicBlockBytes(const QJsonObject &block)
{
    qint64 n = 0;
    for (const char *field : {"text", "thinking", "partial_json"})
        n += block.value(QLatin1String(field)).toString().toUtf8().size();
    if (block.contains(QLatin1String("input")) && block.value(QLatin1String("input")).isObject())
        n += QJsonDocument(block.value(QLatin1String("input")).toObject()).toJson(QJsonDocument::Compact).size();
    return n;
}

qint64 geminiCandidateBytes(const QJsonArray &candidates)
{
    qint64 n = 0;
    for (const QJsonValue &c : candidates) {
        const QJsonArray parts = c.toObject().value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
        for (const QJsonValue &p : parts) {
            const QJsonObject part = p.toObject();
            n += part.value(QLatin1String("text")).toString().toUtf8().size();
            if (part.contains(QLatin1String("functionCall")))
                n += QJsonDocument(part.value(QLatin1String("functionCall")).toObject()).toJson(QJsonDocument::Compact).size();
        }
    }
    return n;
}

bool geminiHasCall(const QJsonArray &candidates)
{
    for (const QJsonValue &c : candidates) {
        const QJsonArray parts = c.toObject().value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
        for (const QJsonValue &p : parts) {
            if (p.toObject().contains(QLatin1String("functionCall")))
                return true;
        }
    }
    return false;
}

QString errorMessageOf(const QJsonValue &v)
{
    if (v.isObject()) {
        const QString m = v.toObject().value(QLatin1String("message")).toString();
        return m.isEmpty() ? QStringLiteral("upstream error") : m;
    }
    return v.isString() ? v.toString() : QStringLiteral("upstream error");
}

} // namespace

OpenAIEventInfo inspectAnthropicEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage)
{
    OpenAIEventInfo info;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data.toByteArray(), &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        info.malformed = true;
        return info;
    }
    const QJsonObject o = doc.object();
    QString type = o.value(QLatin1String("type")).toString();
    if (type.isEmpty())
        type = QString::fromLatin1(eventName.toByteArray());
    if (type == u"error") {
        info.error = true;
        info.errorMessage = errorMessageOf(o.value(QLatin1String("error")));
    } else if (type == u"message_start") {
        const QJsonObject u = o.value(QLatin1String("message")).toObject().value(QLatin1String("usage")).toObject();
        Usage parsed;
        if (!u.isEmpty() && parseAnthropicUsage(usageJson(u).toStdString(), parsed)) {
            info.hasUsage = true;
            if (usage)
                mergeAnthropicUsage(*usage, parsed);
        }
    } else if (type == u"message_delta") {
        const QJsonObject u = o.value(QLatin1String("usage")).toObject();
        Usage parsed;
        if (!u.isEmpty() && parseAnthropicUsage(usageJson(u).toStdString(), parsed)) {
            info.hasUsage = true;
            if (usage)
                mergeAnthropicUsage(*usage, parsed);
        }
    } else if (type == u"content_block_delta") {
        info.outputBytes = anthropicBlockBytes(o.value(QLatin1String("delta")).toObject());
        info.content = info.outputBytes > 0; // text, thinking or input_json; not a signature_delta
    } else if (type == u"content_block_start") {
        const QJsonObject block = o.value(QLatin1String("content_block")).toObject();
        info.outputBytes = anthropicBlockBytes(block);
        // A text or thinking block opens empty; a tool_use block already names the tool.
        const QString blockType = block.value(QLatin1String("type")).toString();
        info.content = info.outputBytes > 0 || blockType == u"tool_use" || blockType == u"server_tool_use"
            || blockType == u"redacted_thinking";
    } else if (type == u"message_stop") {
        info.done = true;
    }
    return info;
}

bool usageFromAnthropicResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body.toByteArray());
    if (!doc.isObject())
        return false;
    const QJsonObject o = doc.object();
    if (outputBytes) {
        qint64 n = 0;
        for (const QJsonValue &b : o.value(QLatin1String("content")).toArray())
            n += anthropicBlockBytes(b.toObject());
        *outputBytes = n;
    }
    const QJsonObject u = o.value(QLatin1String("usage")).toObject();
    Usage parsed;
    if (u.isEmpty() || !parseAnthropicUsage(usageJson(u).toStdString(), parsed))
        return false;
    if (usage)
        *usage = parsed;
    return true;
}

OpenAIEventInfo inspectGeminiEvent(QByteArrayView data, Usage *usage)
{
    OpenAIEventInfo info;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data.toByteArray(), &pe);
    if (pe.error != QJsonParseError::NoError) {
        info.malformed = true;
        return info;
    }
    // A stream may deliver an array of responses when alt=sse is not honoured.
    QJsonArray items = doc.isArray() ? doc.array() : QJsonArray{doc.object()};
    for (const QJsonValue &item : items) {
        const QJsonObject o = item.toObject();
        if (o.contains(QLatin1String("error"))) {
            info.error = true;
            info.errorMessage = errorMessageOf(o.value(QLatin1String("error")));
        }
        const QJsonArray candidates = o.value(QLatin1String("candidates")).toArray();
        info.outputBytes += geminiCandidateBytes(candidates);
        info.content = info.content || geminiHasCall(candidates);
        const QJsonObject u = o.value(QLatin1String("usageMetadata")).toObject();
        Usage parsed;
        if (!u.isEmpty() && parseGeminiUsage(usageJson(u).toStdString(), parsed)) {
            info.hasUsage = true;
            if (usage)
                *usage = parsed;
        }
    }
    info.content = !info.error && (info.content || info.outputBytes > 0);
    return info;
}

bool usageFromGeminiResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes)
{
    Usage parsed;
    const OpenAIEventInfo info = inspectGeminiEvent(body, &parsed);
    if (outputBytes)
        *outputBytes = info.outputBytes;
    if (!info.hasUsage)
        return false;
    if (usage)
        *usage = parsed;
    return true;
}

} // namespace gh
