#include "formats/openai_chat/openaichatadapter.h"
#include "http/httpheaders.h"
#include <QJsonArray>
#include <QJsonDocument>

namespace gh {

std::optional<QByteArray> OpenAIChatAdapter::toInternalRequest(const QByteArray &body, const QString &, TranslateError *) const
{
    // Already internal; the provider side writes the upstream model (the gateway's byte-precise
    // rewrite keeps the rest of the client's bytes).
    return body;
}

namespace {

QByteArray quoted(const QString &s)
{
    const QByteArray array = QJsonDocument(QJsonArray{s}).toJson(QJsonDocument::Compact);
    return array.mid(1, array.size() - 2);
}

} // namespace

QByteArray OpenAIChatAdapter::errorBody(const ErrorInfo &error) const
{
    // Built by hand in OpenAI's own key order (message, type, param, code).
    QByteArray out = "{\"error\":{\"message\":";
    out.append(quoted(error.message));
    out.append(",\"type\":").append(quoted(QString::fromUtf8(error.type)));
    out.append(",\"param\":null,\"code\":").append(quoted(QString::fromUtf8(error.code)));
    out.append("}}");
    return out;
}

QByteArray OpenAIChatAdapter::streamErrorEvents(const ErrorInfo &error) const
{
    return "data: " + errorBody(error) + "\n\ndata: [DONE]\n\n";
}

void OpenAIChatAdapter::addUpstreamHeaders(const HttpHeaders &client, bool passthrough, QList<QPair<QByteArray, QByteArray>> *out) const
{
    if (!passthrough)
        return;
    for (const char *name : {"openai-beta", "idempotency-key"}) {
        const QByteArray v = client.value(name);
        if (!v.isEmpty())
            out->emplaceBack(name, v);
    }
}

OpenAIEventInfo OpenAIChatAdapter::inspectEvent(QByteArrayView, QByteArrayView data, Usage *usage) const
{
    Usage u;
    OpenAIEventInfo info = inspectOpenAIEvent(data, &u);
    if (info.hasUsage)
        *usage = u;
    return info;
}

bool OpenAIChatAdapter::usageFromResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes) const
{
    return usageFromOpenAIResponse(body, usage, outputBytes);
}

} // namespace gh
