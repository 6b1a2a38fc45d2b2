#include "formats/common/openaichunkstream.h"
#include "formats/common/jsonkit.h"
#include <QJsonArray>

namespace gh::tx {

QByteArray OpenAIChunkStream::feed(QByteArrayView, QByteArrayView data)
{
    if (m_ended)
        return {};
    if (data.trimmed() == "[DONE]")
        return close();
    const auto chunk = parseObject(data);
    if (!chunk)
        return {};
    const QJsonValue error = chunk->value(QLatin1String("error"));
    if (!error.isUndefined() && !error.isNull()) {
        m_sawError = true;
        m_errorMessage = openAIErrorMessage(*chunk);
        return streamError(m_errorMessage);
    }
    QByteArray out = begin(*chunk);
    if (chunk->value(QLatin1String("usage")).isObject())
        m_usage = usageFrom(chunk->value(QLatin1String("usage")), parseOpenAIUsage);
    for (const QJsonValue &cv : chunk->value(QLatin1String("choices")).toArray()) {
        const QJsonObject choice = cv.toObject();
        if (choice.value(QLatin1String("index")).toInt() != 0)
            continue;
        out += delta(choice.value(QLatin1String("delta")).toObject());
        if (choice.value(QLatin1String("finish_reason")).isString())
            m_finish = choice.value(QLatin1String("finish_reason")).toString();
    }
    return out;
}

} // namespace gh::tx
