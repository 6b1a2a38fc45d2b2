#pragma once
// The writer of OpenAI chat.completion.chunk SSE events, shared by the stream translators whose
// client side is the internal (OpenAI chat) form.
#include "formats/common/jsonkit.h"
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

namespace gh::tx {

inline const QByteArray kDone = "data: [DONE]\n\n";

// chat.completion.chunk events.
class ChunkWriter
{
public:
    explicit ChunkWriter(const QString &model)
        : m_model(model)
        , m_created(QDateTime::currentSecsSinceEpoch())
    { }
    void setId(const QString &id)
    {
        if (m_id.isEmpty() && !id.isEmpty())
            m_id = id;
    }
    [[nodiscard]] QByteArray chunk(
        int index, const QJsonObject &delta, const QJsonValue &finish = QJsonValue(QJsonValue::Null))
    {
        const QJsonObject choice{{QLatin1String("index"), index}, {QLatin1String("delta"), delta},
            {QLatin1String("logprobs"), QJsonValue::Null}, {QLatin1String("finish_reason"), finish}};
        return sseData(compact(base(QJsonArray{choice})));
    }
    [[nodiscard]] QByteArray usageChunk(const Usage &u)
    {
        QJsonObject o = base(QJsonArray{});
        o.insert(QLatin1String("usage"), openAIUsageJson(u));
        return sseData(compact(o));
    }
    [[nodiscard]] static QByteArray errorEvents(const QString &message, const QByteArray &type, const QByteArray &code)
    {
        return sseData(openAIErrorJson(message, type, code)) + kDone;
    }

private:
    QJsonObject base(const QJsonArray &choices)
    {
        if (m_id.isEmpty())
            m_id = randomId("chatcmpl-");
        return QJsonObject{{QLatin1String("id"), m_id},
            {QLatin1String("object"), QStringLiteral("chat.completion.chunk")}, {QLatin1String("created"), m_created},
            {QLatin1String("model"), m_model}, {QLatin1String("choices"), choices}};
    }
    QString m_model;
    QString m_id;
    qint64 m_created;
};

} // namespace gh::tx
