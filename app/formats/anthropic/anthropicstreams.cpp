// Streams between OpenAI chat.completion.chunk events (the internal form) and Anthropic's events,
// translated event by event.
#include "formats/anthropic/anthropictranslate.h"
#include "formats/common/chunkwriter.h"
#include "formats/common/jsonkit.h"
#include <QDateTime>
#include <QMap>
#include <QSet>

namespace gh {

using namespace tx;

namespace {

// ---- Anthropic -> OpenAI -----------------------------------------------------------------------

class AnthropicToOpenAI final : public StreamTranslator
{
public:
    AnthropicToOpenAI(const QString &model, bool includeUsage)
        : m_writer(model)
        , m_includeUsage(includeUsage)
    { }

    QByteArray feed(QByteArrayView eventName, QByteArrayView data) override
    {
        if (m_ended)
            return {};
        const auto event = parseObject(data);
        if (!event)
            return {}; // a ping without data, a comment: nothing to say
        QString type = event->value(kType).toString();
        if (type.isEmpty())
            type = QString::fromUtf8(eventName.toByteArray());
        if (type == QLatin1String("error") || eventName == "error")
            return error(event->value(QLatin1String("error")).toObject());
        if (type == QLatin1String("message_start")) {
            const QJsonObject message = event->value(QLatin1String("message")).toObject();
            m_writer.setId(message.value(QLatin1String("id")).toString());
            mergeAnthropicUsage(m_usage, usageFrom(message.value(QLatin1String("usage")), parseAnthropicUsage));
            return roleChunk();
        }
        if (type == QLatin1String("content_block_start"))
            return roleChunk() + blockStart(*event);
        if (type == QLatin1String("content_block_delta"))
            return roleChunk() + blockDelta(*event);
        if (type == QLatin1String("message_delta")) {
            const QJsonValue stop = event->value(QLatin1String("delta")).toObject().value(QLatin1String("stop_reason"));
            if (stop.isString())
                m_stopReason = stop.toString();
            mergeAnthropicUsage(m_usage, usageFrom(event->value(QLatin1String("usage")), parseAnthropicUsage));
        } else if (type == QLatin1String("message_stop")) {
            return close();
        }
        return {};
    }

    QByteArray finish() override { return m_ended ? QByteArray() : close(); }

    QByteArray fail(int status, const QString &message) override
    {
        if (m_ended)
            return {};
        m_ended = true;
        return ChunkWriter::errorEvents(message, openAIErrorType(status),
            status == 504 ? QByteArray("upstream_timeout") : QByteArray("upstream_error"));
    }

    [[nodiscard]] bool sawError() const override { return m_sawError; }
    [[nodiscard]] QString errorMessage() const override { return m_errorMessage; }
    [[nodiscard]] bool ended() const override { return m_ended; }
    [[nodiscard]] Usage usage() const override { return m_usage; }

private:
    enum class Kind { Other, Text, Thinking, Tool, ResponseFormat };
    struct Block {
        Kind kind = Kind::Other;
        int toolIndex = -1;
    };

    QByteArray error(const QJsonObject &e)
    {
        m_sawError = true;
        m_errorMessage = e.value(QLatin1String("message")).toString();
        if (m_errorMessage.isEmpty())
            m_errorMessage = QStringLiteral("The provider reported an error inside the stream.");
        const QString etype = e.value(kType).toString();
        m_ended = true;
        return ChunkWriter::errorEvents(m_errorMessage,
            etype == QLatin1String("overloaded_error") || etype == QLatin1String("api_error")
                ? QByteArray("server_error")
                : QByteArray("upstream_error"),
            etype.isEmpty() ? QByteArray("upstream_error") : etype.toUtf8());
    }

    QByteArray blockStart(const QJsonObject &event)
    {
        QByteArray out;
        const int index = event.value(QLatin1String("index")).toInt();
        const QJsonObject block = event.value(QLatin1String("content_block")).toObject();
        const QString btype = block.value(kType).toString();
        Block b;
        if (btype == QLatin1String("text")) {
            b.kind = Kind::Text;
            out += content(block.value(kText).toString());
        } else if (btype == QLatin1String("thinking")) {
            b.kind = Kind::Thinking;
            out += reasoning(block.value(QLatin1String("thinking")).toString());
        } else if (btype == QLatin1String("tool_use")
            && block.value(QLatin1String("name")).toString() == QLatin1String(kResponseFormatToolName)) {
            b.kind = Kind::ResponseFormat;
            m_responseFormat = true;
        } else if (btype == QLatin1String("tool_use")) {
            b.kind = Kind::Tool;
            b.toolIndex = m_toolCount++;
            out += toolStart(block, b.toolIndex);
        }
        m_blocks.insert(index, b);
        return out;
    }

    QByteArray toolStart(const QJsonObject &block, int toolIndex)
    {
        QString id = block.value(QLatin1String("id")).toString();
        if (id.isEmpty())
            id = randomId("call_");
        const QJsonObject input = block.value(QLatin1String("input")).toObject();
        const QJsonObject call{{QLatin1String("index"), toolIndex}, {QLatin1String("id"), id},
            {kType, QStringLiteral("function")},
            {QLatin1String("function"),
                QJsonObject{{QLatin1String("name"), block.value(QLatin1String("name")).toString()},
                    {QLatin1String("arguments"), input.isEmpty() ? QString() : QString::fromUtf8(compact(input))}}}};
        return m_writer.chunk(0, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
    }

    // signature_delta and citations_delta have no OpenAI counterpart in a chunk.
    QByteArray blockDelta(const QJsonObject &event)
    {
        const Block b = m_blocks.value(event.value(QLatin1String("index")).toInt());
        const QJsonObject delta = event.value(QLatin1String("delta")).toObject();
        const QString dtype = delta.value(kType).toString();
        if (dtype == QLatin1String("text_delta"))
            return content(delta.value(kText).toString());
        if (dtype == QLatin1String("thinking_delta"))
            return reasoning(delta.value(QLatin1String("thinking")).toString());
        if (dtype != QLatin1String("input_json_delta"))
            return {};
        const QString fragment = delta.value(QLatin1String("partial_json")).toString();
        if (b.kind == Kind::ResponseFormat)
            return content(fragment);
        if (b.kind != Kind::Tool || fragment.isEmpty())
            return {};
        const QJsonObject call{{QLatin1String("index"), b.toolIndex},
            {QLatin1String("function"), QJsonObject{{QLatin1String("arguments"), fragment}}}};
        return m_writer.chunk(0, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
    }

    QByteArray roleChunk()
    {
        if (m_roleSent)
            return {};
        m_roleSent = true;
        return m_writer.chunk(0,
            QJsonObject{{QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("content"), QString()}});
    }
    QByteArray content(const QString &text)
    {
        return text.isEmpty() ? QByteArray() : m_writer.chunk(0, QJsonObject{{QLatin1String("content"), text}});
    }
    QByteArray reasoning(const QString &text)
    {
        return text.isEmpty() ? QByteArray()
                              : m_writer.chunk(0, QJsonObject{{QLatin1String("reasoning_content"), text}});
    }
    QByteArray close()
    {
        QByteArray out = roleChunk();
        const QString finish = m_stopReason.isEmpty()
            ? QStringLiteral("stop")
            : anthropicStopToOpenAIFinish(m_stopReason, m_responseFormat && m_toolCount == 0);
        out += m_writer.chunk(0, QJsonObject{}, finish);
        if (m_includeUsage)
            out += m_writer.usageChunk(m_usage);
        out += kDone;
        m_ended = true;
        return out;
    }

    ChunkWriter m_writer;
    bool m_includeUsage;
    bool m_roleSent = false;
    bool m_ended = false;
    bool m_sawError = false;
    bool m_responseFormat = false;
    QString m_errorMessage;
    QString m_stopReason;
    QHash<int, Block> m_blocks;
    int m_toolCount = 0;
    Usage m_usage;
};

// ---- OpenAI -> Anthropic -----------------------------------------------------------------------

class OpenAIToAnthropic final : public StreamTranslator
{
public:
    explicit OpenAIToAnthropic(const QString &model)
        : m_model(model)
    { }

    QByteArray feed(QByteArrayView, QByteArrayView data) override
    {
        if (m_ended)
            return {};
        if (QByteArrayView(data).trimmed() == "[DONE]")
            return close();
        const auto chunk = parseObject(data);
        if (!chunk)
            return {};
        const QJsonValue error = chunk->value(QLatin1String("error"));
        if (!error.isUndefined() && !error.isNull()) {
            m_sawError = true;
            m_errorMessage
                = error.isObject() ? error.toObject().value(QLatin1String("message")).toString() : error.toString();
            if (m_errorMessage.isEmpty())
                m_errorMessage = QStringLiteral("The provider reported an error inside the stream.");
            m_ended = true;
            return sseEvent("error", anthropicErrorJson("api_error", m_errorMessage));
        }
        QByteArray out = start(chunk->value(QLatin1String("id")).toString());
        if (chunk->value(QLatin1String("usage")).isObject())
            m_usage = usageFrom(chunk->value(QLatin1String("usage")), parseOpenAIUsage);
        const QJsonArray choices = chunk->value(QLatin1String("choices")).toArray();
        for (const QJsonValue &cv : choices) {
            const QJsonObject choice = cv.toObject();
            if (choice.value(QLatin1String("index")).toInt() != 0)
                continue; // the Anthropic client asked for one answer
            out += delta(choice.value(QLatin1String("delta")).toObject());
            const QJsonValue finish = choice.value(QLatin1String("finish_reason"));
            if (finish.isString()) {
                m_stopReason = openAIFinishToAnthropicStop(finish.toString());
                out += closeBlock();
            }
        }
        return out;
    }

    QByteArray finish() override { return m_ended ? QByteArray() : close(); }

    QByteArray fail(int status, const QString &message) override
    {
        if (m_ended)
            return {};
        m_ended = true;
        return sseEvent("error", anthropicErrorBody(status, message));
    }

    [[nodiscard]] bool sawError() const override { return m_sawError; }
    [[nodiscard]] QString errorMessage() const override { return m_errorMessage; }
    [[nodiscard]] bool ended() const override { return m_ended; }
    [[nodiscard]] Usage usage() const override { return m_usage; }

private:
    enum class Kind { None, Text, Thinking, Tool };

    QByteArray delta(const QJsonObject &delta)
    {
        QByteArray out;
        QString reasoning = delta.value(QLatin1String("reasoning_content")).toString();
        if (reasoning.isEmpty())
            reasoning = delta.value(QLatin1String("reasoning")).toString();
        if (!reasoning.isEmpty()) {
            if (m_kind != Kind::Thinking)
                out += open(Kind::Thinking,
                    QJsonObject{{kType, QStringLiteral("thinking")}, {QLatin1String("thinking"), QString()}});
            out += blockDelta(
                QJsonObject{{kType, QStringLiteral("thinking_delta")}, {QLatin1String("thinking"), reasoning}});
        }
        QString text = delta.value(QLatin1String("content")).toString();
        text += delta.value(QLatin1String("refusal")).toString();
        if (!text.isEmpty()) {
            if (m_kind != Kind::Text)
                out += open(Kind::Text, QJsonObject{{kType, QStringLiteral("text")}, {kText, QString()}});
            out += blockDelta(QJsonObject{{kType, QStringLiteral("text_delta")}, {kText, text}});
        }
        const QJsonArray calls = delta.value(QLatin1String("tool_calls")).toArray();
        for (qsizetype i = 0; i < calls.size(); ++i)
            out += toolCallDelta(calls.at(i).toObject(), i);
        return out;
    }

    QByteArray toolCallDelta(const QJsonObject &call, qsizetype position)
    {
        QByteArray out;
        const int index = call.value(QLatin1String("index")).toInt(int(position));
        const QJsonObject fn = call.value(QLatin1String("function")).toObject();
        if (m_kind != Kind::Tool || index != m_toolIndex) {
            if (m_toolsSeen.contains(index)) {
                // Anthropic blocks cannot be reopened; providers send tool calls one after another.
                qCWarning(lcTranslate) << "tool call" << index
                                       << "continued after another one started; fragment dropped";
                return {};
            }
            m_toolsSeen.insert(index);
            m_toolIndex = index;
            const QString id = call.value(QLatin1String("id")).toString();
            out += open(Kind::Tool,
                QJsonObject{{kType, QStringLiteral("tool_use")},
                    {QLatin1String("id"), id.isEmpty() ? randomId("toolu_") : id},
                    {QLatin1String("name"), fn.value(QLatin1String("name")).toString()},
                    {QLatin1String("input"), QJsonObject{}}});
        }
        const QString args = fn.value(QLatin1String("arguments")).toString();
        if (!args.isEmpty())
            out += blockDelta(
                QJsonObject{{kType, QStringLiteral("input_json_delta")}, {QLatin1String("partial_json"), args}});
        return out;
    }

    QByteArray start(const QString &id)
    {
        if (m_started)
            return {};
        m_started = true;
        const QJsonObject message{{QLatin1String("id"), id.isEmpty() ? randomId("msg_") : id},
            {kType, QStringLiteral("message")}, {QLatin1String("role"), QStringLiteral("assistant")},
            {QLatin1String("model"), m_model}, {QLatin1String("content"), QJsonArray{}},
            {QLatin1String("stop_reason"), QJsonValue::Null}, {QLatin1String("stop_sequence"), QJsonValue::Null},
            {QLatin1String("usage"),
                QJsonObject{{QLatin1String("input_tokens"), 0}, {QLatin1String("output_tokens"), 0}}}};
        return sseEvent("message_start",
            compact(QJsonObject{{kType, QStringLiteral("message_start")}, {QLatin1String("message"), message}}));
    }
    QByteArray open(Kind kind, const QJsonObject &block)
    {
        QByteArray out = closeBlock();
        m_kind = kind;
        m_index = m_nextIndex++;
        out += sseEvent("content_block_start",
            compact(QJsonObject{{kType, QStringLiteral("content_block_start")}, {QLatin1String("index"), m_index},
                {QLatin1String("content_block"), block}}));
        return out;
    }
    QByteArray blockDelta(const QJsonObject &delta)
    {
        return sseEvent("content_block_delta",
            compact(QJsonObject{{kType, QStringLiteral("content_block_delta")}, {QLatin1String("index"), m_index},
                {QLatin1String("delta"), delta}}));
    }
    QByteArray closeBlock()
    {
        if (m_kind == Kind::None)
            return {};
        m_kind = Kind::None;
        return sseEvent("content_block_stop",
            compact(QJsonObject{{kType, QStringLiteral("content_block_stop")}, {QLatin1String("index"), m_index}}));
    }
    QByteArray close()
    {
        QByteArray out = start(QString());
        out += closeBlock();
        QString stop = m_stopReason.isEmpty() ? QStringLiteral("end_turn") : m_stopReason;
        if (!m_toolsSeen.isEmpty() && stop == QLatin1String("end_turn"))
            stop = QStringLiteral("tool_use");
        out += sseEvent("message_delta",
            compact(QJsonObject{{kType, QStringLiteral("message_delta")},
                {QLatin1String("delta"),
                    QJsonObject{
                        {QLatin1String("stop_reason"), stop}, {QLatin1String("stop_sequence"), QJsonValue::Null}}},
                {QLatin1String("usage"), anthropicUsageJson(m_usage)}}));
        out += sseEvent("message_stop", R"({"type":"message_stop"})");
        m_ended = true;
        return out;
    }

    QString m_model;
    bool m_started = false;
    bool m_ended = false;
    bool m_sawError = false;
    QString m_errorMessage;
    Kind m_kind = Kind::None;
    int m_index = -1;
    int m_nextIndex = 0;
    int m_toolIndex = -1;
    QSet<int> m_toolsSeen;
    QString m_stopReason;
    Usage m_usage;
};

} // namespace

std::unique_ptr<StreamTranslator> anthropicToOpenAIStream(const QString &clientModel, bool includeUsage)
{
    return std::make_unique<AnthropicToOpenAI>(clientModel, includeUsage);
}

std::unique_ptr<StreamTranslator> openAIToAnthropicStream(const QString &clientModel)
{
    return std::make_unique<OpenAIToAnthropic>(clientModel);
}

} // namespace gh
