#include "cache/requestkey.h"
#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QStringView>

namespace gh {

namespace {

// Bumped when the normalization changes: older entries then never match.
constexpr char kKeyVersion[] = "gatehouse-response-cache-1";

void addField(QCryptographicHash &h, QByteArrayView v)
{
    // Length-prefixed, so that no two different field lists hash the same bytes.
    const quint64 n = quint64(v.size());
    h.addData(QByteArrayView(reinterpret_cast<const char *>(&n), sizeof n));
    h.addData(v);
}

} // namespace

namespace {
bool deterministicBody(QByteArrayView endpoint, const QJsonObject &o)
{
    if (endpoint == QByteArrayView("/v1/embeddings"))
        return true;
    const QJsonValue t = o.value(QLatin1String("temperature"));
    return t.isDouble() && t.toDouble() == 0.0;
}
} // namespace

std::optional<QByteArray> responseCacheKey(const CacheKeyInput &in, QString *why, bool *deterministic)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromRawData(in.body.data(), in.body.size()), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        if (why)
            *why = QStringLiteral("the body is not a JSON object");
        return std::nullopt;
    }
    QJsonObject body = doc.object();
    if (deterministic)
        *deterministic = deterministicBody(in.endpoint, body);
    body.remove(QStringLiteral("stream_options")); // usage chunks are the gateway's business, not the answer's
    // QJsonObject keeps its members sorted by name: the compact form is canonical.
    const QByteArray normalized = QJsonDocument(body).toJson(QJsonDocument::Compact);
    QCryptographicHash h(QCryptographicHash::Sha256);
    addField(h, kKeyVersion);
    addField(h, in.scope.toUtf8());
    addField(h, in.endpoint);
    addField(h, in.target.toUtf8());
    for (const auto &header : in.headers) {
        addField(h, header.first);
        addField(h, header.second);
    }
    addField(h, normalized);
    return h.result();
}

bool isDeterministicRequest(QByteArrayView endpoint, QByteArrayView body)
{
    return deterministicBody(endpoint, QJsonDocument::fromJson(body.toByteArray()).object());
}

bool answerCallsTools(QByteArrayView answer)
{
    // A member name or a type value is a quoted token in the JSON; inside a string value its quotes
    // would be escaped (\"tool_use\"), so the quoted token only matches the structure.
    auto skipSpace = [&](qsizetype i) {
        while (i < answer.size() && (answer[i] == ' ' || answer[i] == '\t' || answer[i] == '\n' || answer[i] == '\r'))
            ++i;
        return i;
    };
    // As a value ("type":"tool_use"), the token is a call. As a member name, only when it holds
    // something: some servers send "tool_calls": [] or "function_call": null with plain text.
    for (const char *token : {"\"tool_use\"", "\"server_tool_use\"", "\"function_call\"", "\"custom_tool_call\"", "\"tool_calls\""}) {
        const QByteArrayView t(token);
        for (qsizetype at = answer.indexOf(t); at >= 0; at = answer.indexOf(t, at + 1)) {
            qsizetype i = skipSpace(at + t.size());
            if (i >= answer.size() || answer[i] != ':')
                return true; // a value
            i = skipSpace(i + 1);
            if (i >= answer.size())
                continue;
            if (answer[i] == '{')
                return true;
            if (answer[i] == '[') {
                i = skipSpace(i + 1);
                if (i < answer.size() && answer[i] != ']')
                    return true;
            }
        }
    }
    return false;
}

bool isCompleteStream(QByteArrayView sse)
{
    // The end marker is in the last event; 4 KB holds it with room (a response.completed event
    // repeats the whole response, so look for the event's type near the start of that event too).
    const QByteArrayView tail = sse.size() > 4096 ? sse.last(4096) : sse;
    const QByteArrayView trimmed = tail.trimmed();
    if (trimmed.endsWith("data: [DONE]"))
        return true;
    const qsizetype lastEvent = trimmed.lastIndexOf("\n\n");
    const QByteArrayView last = lastEvent >= 0 ? trimmed.sliced(lastEvent) : trimmed;
    if (last.contains("event: message_stop") || last.contains("\"type\":\"message_stop\""))
        return true;
    if (last.contains("event: response.completed"))
        return true;
    // The Gemini API's stream has no end marker: its last chunk is the one with a finishReason.
    if (last.contains("\"finishReason\""))
        return true;
    // A long response.completed event: its start may be before the tail.
    const qsizetype start = sse.lastIndexOf("\n\nevent: response.completed");
    return start >= 0 && sse.indexOf("\n\n", start + 2) >= sse.size() - 2;
}

} // namespace gh
