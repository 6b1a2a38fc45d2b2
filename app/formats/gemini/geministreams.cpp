// Gemini streamGenerateContent?alt=sse chunks -> OpenAI chat.completion.chunk events (the internal form).
#include "formats/common/chunkwriter.h"
#include "formats/common/jsonkit.h"
#include "formats/gemini/geminitranslate.h"
#include <QDateTime>
#include <QMap>
#include <QSet>

namespace gh {

using namespace tx;

namespace {

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
        for (qsizetype c = 0; c < candidates.size(); ++c)
            out += candidate(candidates.at(c).toObject(), c, data, &src);
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
    // One candidate of a chunk: its parts as deltas, then its finish reason.
    QByteArray candidate(const QJsonObject &cand, qsizetype c, QByteArrayView data, std::unique_ptr<OrderedSource> *src)
    {
        const int index = cand.value(QLatin1String("index")).toInt(int(c));
        Candidate &state = m_candidates[index];
        if (state.finished)
            return {};
        QByteArray out = roleChunk(index, state);
        const QJsonArray parts
            = cand.value(QLatin1String("content")).toObject().value(QLatin1String("parts")).toArray();
        for (qsizetype p = 0; p < parts.size(); ++p) {
            const QJsonObject part = parts.at(p).toObject();
            if (part.value(QLatin1String("functionCall")).isObject()) {
                const QString pointer
                    = QStringLiteral("/candidates/%1/content/parts/%2/functionCall/args").arg(c).arg(p);
                out += functionCall(part, index, state, pointer, data, src);
            } else if (part.value(kText).isString() && !part.value(kText).toString().isEmpty()) {
                const bool thought = part.value(QLatin1String("thought")).toBool();
                out += m_writer.chunk(index,
                    QJsonObject{
                        {thought ? QLatin1String("reasoning_content") : QLatin1String("content"), part.value(kText)}});
            }
        }
        const QJsonValue finish = cand.value(QLatin1String("finishReason"));
        if (finish.isString() && finish.toString() != QLatin1String("FINISH_REASON_UNSPECIFIED")) {
            state.finished = true;
            out += m_writer.chunk(index, QJsonObject{}, geminiFinishToOpenAI(finish.toString(), state.tools > 0));
        }
        return out;
    }

    // Gemini sends a call whole: one tool_calls chunk with its arguments (in their key order, read
    // from the chunk's own text) and its thought signature.
    QByteArray functionCall(const QJsonObject &part, int index, Candidate &state, const QString &pointer,
        QByteArrayView data, std::unique_ptr<OrderedSource> *src)
    {
        const QJsonObject fc = part.value(QLatin1String("functionCall")).toObject();
        QByteArray args = "{}";
        if (fc.value(QLatin1String("args")).isObject()) {
            if (!*src)
                *src = std::make_unique<OrderedSource>(data);
            args = (*src)->raw(pointer).value_or(compact(fc.value(QLatin1String("args")).toObject()));
        }
        QJsonObject call{{QLatin1String("index"), state.tools++},
            {QLatin1String("id"), idOr(fc.value(QLatin1String("id")), "call_")}, {kType, QStringLiteral("function")},
            {QLatin1String("function"),
                QJsonObject{{QLatin1String("name"), fc.value(QLatin1String("name")).toString()},
                    {QLatin1String("arguments"), QString::fromUtf8(args)}}}};
        if (part.value(QLatin1String("thoughtSignature")).isString())
            call.insert(QLatin1String("extra_content"),
                QJsonObject{{QLatin1String("google"),
                    QJsonObject{{QLatin1String("thought_signature"), part.value(QLatin1String("thoughtSignature"))}}}});
        return m_writer.chunk(index, QJsonObject{{QLatin1String("tool_calls"), QJsonArray{call}}});
    }

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

} // namespace

std::unique_ptr<StreamTranslator> geminiToOpenAIStream(const QString &clientModel, bool includeUsage)
{
    return std::make_unique<GeminiToOpenAI>(clientModel, includeUsage);
}

} // namespace gh
