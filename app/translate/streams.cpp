// Streams translated event by event.
#include "translate/jsonkit.h"
#include "translate/translate.h"
#include <QDateTime>
#include <QMap>
#include <QSet>

namespace gh {

using namespace tx;

namespace {

const QLatin1String kType("type");
const QLatin1String kText("text");
const QByteArray kDone = "data: [DONE]\n\n";

Usage usageFrom(const QJsonValue &v, bool (*parse)(std::string_view, Usage &))
{
    Usage u;
    if (!v.isObject())
        return u;
    const QByteArray raw = compact(v.toObject());
    if (!parse(std::string_view(raw.constData(), size_t(raw.size())), u))
        return Usage();
    return u;
}

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
        QByteArray out;
        if (type == QLatin1String("error") || eventName == "error") {
            const QJsonObject e = event->value(QLatin1String("error")).toObject();
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
        if (type == QLatin1String("message_start")) {
            const QJsonObject message = event->value(QLatin1String("message")).toObject();
            m_writer.setId(message.value(QLatin1String("id")).toString());
            mergeAnthropicUsage(m_usage, usageFrom(message.value(QLatin1String("usage")), parseAnthropicUsage));
            out += roleChunk();
        } else if (type == QLatin1String("content_block_start")) {
            out += roleChunk();
            const int index = event->value(QLatin1String("index")).toInt();
            const QJsonObject block = event->value(QLatin1String("content_block")).toObject();
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
                QString id = block.value(QLatin1String("id")).toString();
                if (id.isEmpty())
                    id = randomId("call_");
                const QJsonObject input = block.value(QLatin1String("input")).toObject();
                const QJsonObject call{{QLatin1String("index"), b.toolIndex}, {QLatin1String("id"), id},
                    {kType, QStringLiteral("function")},
                    {QLatin1String("function"),
                        QJsonObject{{QLatin1String("name"), block.value(QLatin1String("name")).toString()},
                            {QLatin1String("arguments"),
                                input.isEmpty() ? QString() : QString::fromUtf8(compact(input))}}}};
                out += m_writer.chunk(0, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
            }
            m_blocks.insert(index, b);
        } else if (type == QLatin1String("content_block_delta")) {
            out += roleChunk();
            const Block b = m_blocks.value(event->value(QLatin1String("index")).toInt());
            const QJsonObject delta = event->value(QLatin1String("delta")).toObject();
            const QString dtype = delta.value(kType).toString();
            if (dtype == QLatin1String("text_delta")) {
                out += content(delta.value(kText).toString());
            } else if (dtype == QLatin1String("thinking_delta")) {
                out += reasoning(delta.value(QLatin1String("thinking")).toString());
            } else if (dtype == QLatin1String("input_json_delta")) {
                const QString fragment = delta.value(QLatin1String("partial_json")).toString();
                if (b.kind == Kind::ResponseFormat) {
                    out += content(fragment);
                } else if (b.kind == Kind::Tool && !fragment.isEmpty()) {
                    const QJsonObject call{{QLatin1String("index"), b.toolIndex},
                        {QLatin1String("function"), QJsonObject{{QLatin1String("arguments"), fragment}}}};
                    out += m_writer.chunk(0, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
                }
            }
            // signature_delta and citations_delta have no OpenAI counterpart in a chunk.
        } else if (type == QLatin1String("message_delta")) {
            const QJsonValue stop = event->value(QLatin1String("delta")).toObject().value(QLatin1String("stop_reason"));
            if (stop.isString())
                m_stopReason = stop.toString();
            mergeAnthropicUsage(m_usage, usageFrom(event->value(QLatin1String("usage")), parseAnthropicUsage));
        } else if (type == QLatin1String("message_stop")) {
            out += close();
        }
        return out;
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
            const QJsonObject delta = choice.value(QLatin1String("delta")).toObject();
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
            for (qsizetype i = 0; i < calls.size(); ++i) {
                const QJsonObject call = calls.at(i).toObject();
                const int index = call.value(QLatin1String("index")).toInt(int(i));
                const QJsonObject fn = call.value(QLatin1String("function")).toObject();
                if (m_kind != Kind::Tool || index != m_toolIndex) {
                    if (m_toolsSeen.contains(index)) {
                        // Anthropic blocks cannot be reopened; providers send tool calls one after another.
                        qCWarning(lcTranslate)
                            << "tool call" << index << "continued after another one started; fragment dropped";
                        continue;
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
                    out += blockDelta(QJsonObject{
                        {kType, QStringLiteral("input_json_delta")}, {QLatin1String("partial_json"), args}});
            }
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

// ---- Gemini -> OpenAI --------------------------------------------------------------------------

class GeminiToOpenAI final : public StreamTranslator
{
public:
    GeminiToOpenAI(const QString &model, bool includeUsage)
        : m_writer(model)
        , m_includeUsage(includeUsage)
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
        if (error.isObject()) {
            m_sawError = true;
            const QJsonObject e = error.toObject();
            m_errorMessage = e.value(QLatin1String("message"))
                                 .toString(QStringLiteral("The provider reported an error inside the stream."));
            m_ended = true;
            const int code = e.value(QLatin1String("code")).toInt(500);
            return ChunkWriter::errorEvents(m_errorMessage, openAIErrorType(code),
                e.value(QLatin1String("status")).toString(QStringLiteral("upstream_error")).toUtf8());
        }
        m_writer.setId(chunk->value(QLatin1String("responseId")).toString());
        if (chunk->value(QLatin1String("usageMetadata")).isObject())
            m_usage = usageFrom(chunk->value(QLatin1String("usageMetadata")), parseGeminiUsage);

        QByteArray out;
        const QJsonArray candidates = chunk->value(QLatin1String("candidates")).toArray();
        std::unique_ptr<OrderedSource> src; // for function call arguments in their key order
        for (qsizetype c = 0; c < candidates.size(); ++c) {
            const QJsonObject cand = candidates.at(c).toObject();
            const int index = cand.value(QLatin1String("index")).toInt(int(c));
            Candidate &state = m_candidates[index];
            if (state.finished)
                continue;
            out += roleChunk(index, state);
            const QJsonArray parts
                = cand.value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
            for (qsizetype p = 0; p < parts.size(); ++p) {
                const QJsonObject part = parts.at(p).toObject();
                if (part.value(QLatin1String("functionCall")).isObject()) {
                    const QJsonObject fc = part.value(QLatin1String("functionCall")).toObject();
                    QByteArray args = "{}";
                    if (fc.value(QLatin1String("args")).isObject()) {
                        if (!src)
                            src = std::make_unique<OrderedSource>(data);
                        args = src->raw(
                                      QStringLiteral("/candidates/%1/content/parts/%2/functionCall/args").arg(c).arg(p))
                                   .value_or(compact(fc.value(QLatin1String("args")).toObject()));
                    }
                    QJsonObject call{{QLatin1String("index"), state.tools++},
                        {QLatin1String("id"), idOr(fc.value(QLatin1String("id")), "call_")},
                        {kType, QStringLiteral("function")},
                        {QLatin1String("function"),
                            QJsonObject{{QLatin1String("name"), fc.value(QLatin1String("name")).toString()},
                                {QLatin1String("arguments"), QString::fromUtf8(args)}}}};
                    if (part.value(QLatin1String("thoughtSignature")).isString())
                        call.insert(QLatin1String("extra_content"),
                            QJsonObject{{QLatin1String("google"),
                                QJsonObject{{QLatin1String("thought_signature"),
                                    part.value(QLatin1String("thoughtSignature"))}}}});
                    out += m_writer.chunk(index, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
                } else if (part.value(kText).isString() && !part.value(kText).toString().isEmpty()) {
                    const bool thought = part.value(QLatin1String("thought")).toBool();
                    out += m_writer.chunk(index,
                        QJsonObject{{thought ? QLatin1String("reasoning_content") : QLatin1String("content"),
                            part.value(kText)}});
                }
            }
            const QJsonValue finish = cand.value(QLatin1String("finishReason"));
            if (finish.isString() && finish.toString() != QLatin1String("FINISH_REASON_UNSPECIFIED")) {
                state.finished = true;
                out += m_writer.chunk(index, QJsonObject{}, geminiFinishToOpenAI(finish.toString(), state.tools > 0));
            }
        }
        if (candidates.isEmpty()
            && chunk->value(QLatin1String("promptFeedback"))
                   .toObject()
                   .value(QLatin1String("blockReason"))
                   .isString()) {
            Candidate &state = m_candidates[0];
            if (!state.finished) {
                out += roleChunk(0, state);
                state.finished = true;
                out += m_writer.chunk(0, QJsonObject{}, QStringLiteral("content_filter"));
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
        return ChunkWriter::errorEvents(message, openAIErrorType(status),
            status == 504 ? QByteArray("upstream_timeout") : QByteArray("upstream_error"));
    }

    [[nodiscard]] bool sawError() const override { return m_sawError; }
    [[nodiscard]] QString errorMessage() const override { return m_errorMessage; }
    [[nodiscard]] bool ended() const override { return m_ended; }
    [[nodiscard]] Usage usage() const override { return m_usage; }

private:
    struct Candidate {
        bool roleSent = false;
        bool finished = false;
        int tools = 0;
    };
    QByteArray roleChunk(int index, Candidate &state)
    {
        if (state.roleSent)
            return {};
        state.roleSent = true;
        return m_writer.chunk(index,
            QJsonObject{{QLatin1String("role"), QStringLiteral("assistant")}, {QLatin1String("content"), QString()}});
    }
    QByteArray close()
    {
        QByteArray out;
        if (m_candidates.isEmpty())
            m_candidates[0];
        for (auto it = m_candidates.begin(); it != m_candidates.end(); ++it) {
            out += roleChunk(it.key(), it.value());
            if (!it->finished) {
                it->finished = true;
                out += m_writer.chunk(
                    it.key(), QJsonObject{}, it->tools > 0 ? QStringLiteral("tool_calls") : QStringLiteral("stop"));
            }
        }
        if (m_includeUsage)
            out += m_writer.usageChunk(m_usage);
        out += kDone;
        m_ended = true;
        return out;
    }

    ChunkWriter m_writer;
    bool m_includeUsage;
    bool m_ended = false;
    bool m_sawError = false;
    QString m_errorMessage;
    QMap<int, Candidate> m_candidates;
    Usage m_usage;
};

// ---- Chains ------------------------------------------------------------------------------------

class Chain final : public StreamTranslator
{
public:
    Chain(std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second)
        : m_first(std::move(first))
        , m_second(std::move(second))
    { }
    QByteArray feed(QByteArrayView eventName, QByteArrayView data) override
    {
        return pipe(m_first->feed(eventName, data));
    }
    QByteArray finish() override
    {
        QByteArray out = pipe(m_first->finish());
        return out + m_second->finish();
    }
    QByteArray fail(int status, const QString &message) override { return m_second->fail(status, message); }
    [[nodiscard]] bool sawError() const override { return m_first->sawError() || m_second->sawError(); }
    [[nodiscard]] QString errorMessage() const override
    {
        return m_first->sawError() ? m_first->errorMessage() : m_second->errorMessage();
    }
    [[nodiscard]] bool ended() const override { return m_second->ended(); }
    [[nodiscard]] Usage usage() const override { return m_first->usage(); }

private:
    // The first translator's own output: whole events separated by blank lines.
    QByteArray pipe(const QByteArray &events)
    {
        QByteArray out;
        for (const QByteArray &event : splitEvents(events)) {
            QByteArray name;
            QByteArray data;
            for (const QByteArray &line : event.split('\n')) {
                if (line.startsWith("event: "))
                    name = line.mid(7);
                else if (line.startsWith("data: "))
                    data += (data.isEmpty() ? QByteArray() : QByteArray("\n")) + line.mid(6);
            }
            out += m_second->feed(name, data);
        }
        return out;
    }
    static QList<QByteArray> splitEvents(const QByteArray &events)
    {
        QList<QByteArray> list;
        qsizetype pos = 0;
        while (pos < events.size()) {
            const qsizetype end = events.indexOf("\n\n", pos);
            if (end < 0) {
                list.append(events.mid(pos));
                break;
            }
            list.append(events.mid(pos, end - pos));
            pos = end + 2;
        }
        return list;
    }

    std::unique_ptr<StreamTranslator> m_first;
    std::unique_ptr<StreamTranslator> m_second;
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

std::unique_ptr<StreamTranslator> geminiToOpenAIStream(const QString &clientModel, bool includeUsage)
{
    return std::make_unique<GeminiToOpenAI>(clientModel, includeUsage);
}

std::unique_ptr<StreamTranslator> chainStreams(
    std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second)
{
    return std::make_unique<Chain>(std::move(first), std::move(second));
}

} // namespace gh
