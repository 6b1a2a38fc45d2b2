#pragma once
// Checks that a translated stream is well formed for its client, whatever the upstream sent.
// Used by the unit tests and by the fuzz targets (fuzz/ includes this header).
#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>

namespace streamcheck {

struct Event {
    QByteArray name;
    QByteArray data;
};

// Splits SSE text made of whole events ("field: value" lines, blank-line separated).
inline bool split(const QByteArray &text, QList<Event> *events, QString *why)
{
    if (!text.isEmpty() && !text.endsWith("\n\n")) {
        *why = QStringLiteral("the stream does not end with a blank line");
        return false;
    }
    qsizetype pos = 0;
    while (pos < text.size()) {
        const qsizetype end = text.indexOf("\n\n", pos);
        Event e;
        for (const QByteArray &line : text.mid(pos, end - pos).split('\n')) {
            if (line.startsWith("event: ")) {
                e.name = line.mid(7);
            } else if (line.startsWith("data: ")) {
                if (!e.data.isEmpty()) {
                    *why = QStringLiteral("an event with two data lines");
                    return false;
                }
                e.data = line.mid(6);
            } else {
                *why = QStringLiteral("unexpected line: ") + QString::fromUtf8(line.left(80));
                return false;
            }
        }
        events->append(e);
        pos = end + 2;
    }
    return true;
}

inline QJsonObject object(const QByteArray &data, bool *ok)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    *ok = pe.error == QJsonParseError::NoError && doc.isObject();
    return doc.object();
}

// OpenAI chat.completion.chunk stream: JSON chunks (or one error object), then exactly one
// `data: [DONE]` as the last event; a tool call's first delta carries its id and name; at most one
// finish_reason per choice, and no delta for a choice after it.
inline bool checkOpenAI(const QByteArray &text, QString *why)
{
    QList<Event> events;
    if (!split(text, &events, why))
        return false;
    if (events.isEmpty() || events.last().data != "[DONE]") {
        *why = QStringLiteral("the stream does not end with [DONE]");
        return false;
    }
    QSet<int> finished;
    QSet<QPair<int, int>> tools;
    for (qsizetype i = 0; i + 1 < events.size(); ++i) {
        const Event &e = events.at(i);
        bool ok = false;
        const QJsonObject o = object(e.data, &ok);
        if (!e.name.isEmpty() || !ok) {
            *why = QStringLiteral("event %1 is not a JSON chunk").arg(i);
            return false;
        }
        if (o.contains(QLatin1String("error"))) {
            if (i + 2 != events.size()
                || o.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString().isEmpty()) {
                *why = QStringLiteral("an error event must carry a message and be followed by [DONE] only");
                return false;
            }
            continue;
        }
        if (o.value(QLatin1String("object")).toString() != QLatin1String("chat.completion.chunk")
            || !o.value(QLatin1String("id")).isString()) {
            *why = QStringLiteral("event %1 is not a chat.completion.chunk").arg(i);
            return false;
        }
        for (const QJsonValue &cv : o.value(QLatin1String("choices")).toArray()) {
            const QJsonObject c = cv.toObject();
            const int index = c.value(QLatin1String("index")).toInt(-1);
            if (index < 0 || finished.contains(index)) {
                *why = QStringLiteral("event %1: a choice after its finish_reason").arg(i);
                return false;
            }
            for (const QJsonValue &tv :
                c.value(QLatin1String("delta")).toObject().value(QLatin1String("tool_calls")).toArray()) {
                const QJsonObject t = tv.toObject();
                const QPair<int, int> key(index, t.value(QLatin1String("index")).toInt(-1));
                if (key.second < 0) {
                    *why = QStringLiteral("event %1: a tool call without index").arg(i);
                    return false;
                }
                if (!tools.contains(key)) {
                    if (t.value(QLatin1String("id")).toString().isEmpty()
                        || !t.value(QLatin1String("function")).toObject().value(QLatin1String("name")).isString()) {
                        *why = QStringLiteral("event %1: a tool call's first delta lacks id or name").arg(i);
                        return false;
                    }
                    tools.insert(key);
                }
            }
            if (c.value(QLatin1String("finish_reason")).isString())
                finished.insert(index);
        }
    }
    return true;
}

// Anthropic Messages stream: message_start first; content blocks opened with increasing indexes
// from 0, deltas only for the open block and of its kind, each closed; message_delta then
// message_stop last; or an error event as the last event.
inline bool checkAnthropic(const QByteArray &text, QString *why)
{
    QList<Event> events;
    if (!split(text, &events, why))
        return false;
    if (events.isEmpty()) {
        *why = QStringLiteral("empty stream");
        return false;
    }
    int open = -1;
    QString openType;
    int next = 0;
    bool started = false;
    bool delta = false;
    for (qsizetype i = 0; i < events.size(); ++i) {
        const Event &e = events.at(i);
        bool ok = false;
        const QJsonObject o = object(e.data, &ok);
        const QString type = o.value(QLatin1String("type")).toString();
        if (!ok || type.toUtf8() != e.name) {
            *why = QStringLiteral("event %1: the name and the data's type differ").arg(i);
            return false;
        }
        auto fail = [&](const QString &w) {
            *why = QStringLiteral("event %1 (%2): ").arg(i).arg(type) + w;
            return false;
        };
        if (type == QLatin1String("error")) {
            if (i + 1 != events.size()
                || o.value(QLatin1String("error")).toObject().value(QLatin1String("message")).toString().isEmpty()
                || o.value(QLatin1String("error")).toObject().value(QLatin1String("type")).toString().isEmpty())
                return fail(QStringLiteral("an error must be the last event and carry a type and a message"));
            return true;
        }
        if (!started && type != QLatin1String("message_start"))
            return fail(QStringLiteral("message_start must come first"));
        if (type == QLatin1String("message_start")) {
            if (started)
                return fail(QStringLiteral("a second message_start"));
            started = true;
        } else if (type == QLatin1String("content_block_start")) {
            if (open >= 0 || delta)
                return fail(QStringLiteral("a block opened while another is open or after message_delta"));
            if (o.value(QLatin1String("index")).toInt(-1) != next)
                return fail(QStringLiteral("block indexes must count up from 0"));
            open = next++;
            openType = o.value(QLatin1String("content_block")).toObject().value(QLatin1String("type")).toString();
            if (openType == QLatin1String("tool_use")
                && o.value(QLatin1String("content_block")).toObject().value(QLatin1String("id")).toString().isEmpty())
                return fail(QStringLiteral("a tool_use block without id"));
        } else if (type == QLatin1String("content_block_delta")) {
            if (open < 0 || o.value(QLatin1String("index")).toInt(-1) != open)
                return fail(QStringLiteral("a delta outside the open block"));
            const QString dt = o.value(QLatin1String("delta")).toObject().value(QLatin1String("type")).toString();
            const bool fits = (openType == QLatin1String("text") && dt == QLatin1String("text_delta"))
                || (openType == QLatin1String("thinking")
                    && (dt == QLatin1String("thinking_delta") || dt == QLatin1String("signature_delta")))
                || (openType == QLatin1String("tool_use") && dt == QLatin1String("input_json_delta"));
            if (!fits)
                return fail(QStringLiteral("a %1 in a %2 block").arg(dt, openType));
        } else if (type == QLatin1String("content_block_stop")) {
            if (open < 0 || o.value(QLatin1String("index")).toInt(-1) != open)
                return fail(QStringLiteral("closing a block that is not open"));
            open = -1;
        } else if (type == QLatin1String("message_delta")) {
            if (open >= 0 || delta)
                return fail(QStringLiteral("message_delta with an open block, or twice"));
            if (!o.value(QLatin1String("delta")).toObject().value(QLatin1String("stop_reason")).isString()
                || !o.value(QLatin1String("usage")).toObject().value(QLatin1String("output_tokens")).isDouble())
                return fail(QStringLiteral("message_delta needs a stop_reason and usage.output_tokens"));
            delta = true;
        } else if (type == QLatin1String("message_stop")) {
            if (!delta || i + 1 != events.size())
                return fail(QStringLiteral("message_stop must follow message_delta and end the stream"));
            return true;
        } else if (type != QLatin1String("ping")) {
            return fail(QStringLiteral("unknown event"));
        }
    }
    *why = QStringLiteral("the stream ends without message_stop or error");
    return false;
}

} // namespace streamcheck
