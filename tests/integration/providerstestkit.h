#pragma once

// Shared by tests/integration/tst_providers_*.cpp: config entries for Anthropic- and Gemini-format
// providers on the mock upstream, fully priced models, request bodies in each client format, and
// readers for what the mock recorded and what the client received.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>

namespace gh::test::providers {

// Prices (USD per million tokens) of the provider-format tests: Claude Sonnet 4.5's from the bundled
// catalog, where a 5-minute cache write costs 1.25 × input and a 1-hour write 2 × input.
inline constexpr double kInput = 3.0;
inline constexpr double kOutput = 15.0;
inline constexpr double kCacheRead = 0.30;
inline constexpr double kCacheWrite = 3.75;
inline constexpr double kCacheWrite1h = 6.0;

inline QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

inline QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

// {"id", "format", "base_url", "api_key_env"}; Gemini's base_url ends in /v1beta.
inline QJsonObject provider(const MockUpstream &mock, const QString &id, const QString &format)
{
    const QString base
        = format == QLatin1String("gemini") ? mock.rootUrl() + QStringLiteral("/v1beta") : mock.baseUrl();
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("format"), format},
        {QStringLiteral("base_url"), base}, {QStringLiteral("api_key_env"), QString::fromLatin1(kProviderKeyEnv)}};
}

// A model priced with every field (the constants above).
inline QJsonObject pricedModel(
    const QString &id, const QString &providerId, const QString &upstream, qint64 maxOutput = 8192)
{
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("provider"), providerId},
        {QStringLiteral("upstream_model"), upstream},
        {QStringLiteral("pricing"),
            QJsonObject{{QStringLiteral("input"), kInput}, {QStringLiteral("output"), kOutput},
                {QStringLiteral("cache_read"), kCacheRead}, {QStringLiteral("cache_write"), kCacheWrite},
                {QStringLiteral("cache_write_1h"), kCacheWrite1h}}},
        {QStringLiteral("max_output_tokens"), maxOutput}};
}

// Hand-computed cost in nano-USD (the log's unit; the gateway rounds up to the next nano-dollar).
inline qint64 expectedNano(qint64 input, qint64 cacheRead, qint64 cacheWrite, qint64 cacheWrite1h, qint64 output)
{
    // USD per million tokens × tokens = micro-USD; × 1000 = nano-USD. Exact for these prices.
    const double nano = (double(input) * kInput + double(cacheRead) * kCacheRead + double(cacheWrite) * kCacheWrite
                            + double(cacheWrite1h) * kCacheWrite1h + double(output) * kOutput)
        * 1000.0;
    return qint64(std::ceil(nano - 1e-6));
}

inline Headers anthropicHeaders(const QByteArray &secret, const QByteArray &beta = {})
{
    Headers h{{"x-api-key", secret}, {"anthropic-version", "2023-06-01"}};
    if (!beta.isEmpty())
        h.append({"anthropic-beta", beta});
    return h;
}

inline QJsonObject text(const QString &role, const QString &content)
{
    return QJsonObject{{QStringLiteral("role"), role}, {QStringLiteral("content"), content}};
}

// An Anthropic Messages request.
inline QJsonObject messagesRequest(const QString &model, bool stream = false, qint64 maxTokens = 512)
{
    QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), maxTokens},
        {QStringLiteral("system"), QStringLiteral("You are terse.")},
        {QStringLiteral("messages"),
            QJsonArray{text(QStringLiteral("user"), QStringLiteral("What is the weather in Paris?"))}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return body;
}

// The same conversation as an OpenAI chat request.
inline QJsonObject chatCompletionRequest(const QString &model, bool stream = false, qint64 maxTokens = 512)
{
    QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), maxTokens},
        {QStringLiteral("messages"),
            QJsonArray{text(QStringLiteral("system"), QStringLiteral("You are terse.")),
                text(QStringLiteral("user"), QStringLiteral("What is the weather in Paris?"))}}};
    if (stream) {
        body.insert(QStringLiteral("stream"), true);
        body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
    }
    return body;
}

inline QJsonObject weatherSchema()
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"),
            QJsonObject{{QStringLiteral("city"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}},
                {QStringLiteral("unit"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("city")}}};
}

inline QJsonArray openAITools()
{
    return QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
        {QStringLiteral("function"),
            QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                {QStringLiteral("description"), QStringLiteral("Current weather for a city")},
                {QStringLiteral("parameters"), weatherSchema()}}}}};
}

inline QJsonArray anthropicTools()
{
    return QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
        {QStringLiteral("description"), QStringLiteral("Current weather for a city")},
        {QStringLiteral("input_schema"), weatherSchema()}}};
}

inline QJsonObject recordedBody(const QJsonObject &recorded)
{
    return parseObject(recorded.value(QStringLiteral("body")).toString().toUtf8());
}

inline QJsonObject recordedHeaders(const QJsonObject &recorded)
{
    return recorded.value(QStringLiteral("headers")).toObject();
}

inline QStringList eventNames(const HttpResponse &r)
{
    QStringList names;
    for (const SseEvent &e : r.events)
        names.append(QString::fromLatin1(e.event));
    return names;
}

// The text of an Anthropic message (its text blocks joined) and of an Anthropic stream.
inline QString anthropicText(const QJsonObject &message)
{
    QString out;
    for (const QJsonValue &b : message.value(QStringLiteral("content")).toArray()) {
        if (b.toObject().value(QStringLiteral("type")) == QStringLiteral("text"))
            out += b.toObject().value(QStringLiteral("text")).toString();
    }
    return out;
}

inline QString anthropicStreamText(const HttpResponse &r)
{
    QString out;
    for (const SseEvent &e : r.events) {
        const QJsonObject delta = parseObject(e.data).value(QStringLiteral("delta")).toObject();
        if (delta.value(QStringLiteral("type")) == QStringLiteral("text_delta"))
            out += delta.value(QStringLiteral("text")).toString();
    }
    return out;
}

// An OpenAI stream's chunks (without [DONE]) parsed.
inline QList<QJsonObject> openAIChunks(const HttpResponse &r)
{
    QList<QJsonObject> out;
    for (const QByteArray &d : r.eventData()) {
        if (d != "[DONE]")
            out.append(parseObject(d));
    }
    return out;
}

// One tool call reassembled from an OpenAI stream (index 0).
struct StreamedToolCall {
    QString id;
    QString name;
    QString arguments;
    int idCount = 0; // chunks that carried an id
};

inline StreamedToolCall openAIStreamToolCall(const HttpResponse &r)
{
    StreamedToolCall call;
    for (const QJsonObject &chunk : openAIChunks(r)) {
        const QJsonArray calls = chunk.value(QStringLiteral("choices"))
                                     .toArray()
                                     .at(0)
                                     .toObject()
                                     .value(QStringLiteral("delta"))
                                     .toObject()
                                     .value(QStringLiteral("tool_calls"))
                                     .toArray();
        for (const QJsonValue &v : calls) {
            const QJsonObject c = v.toObject();
            if (c.value(QStringLiteral("index")).toInt(-1) != 0)
                continue;
            if (c.contains(QStringLiteral("id"))) {
                call.id = c.value(QStringLiteral("id")).toString();
                ++call.idCount;
            }
            const QJsonObject f = c.value(QStringLiteral("function")).toObject();
            if (f.contains(QStringLiteral("name")))
                call.name = f.value(QStringLiteral("name")).toString();
            call.arguments += f.value(QStringLiteral("arguments")).toString();
        }
    }
    return call;
}

inline QString openAIFinishReason(const HttpResponse &r)
{
    QString finish;
    for (const QJsonObject &chunk : openAIChunks(r)) {
        const QJsonValue f
            = chunk.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("finish_reason"));
        if (f.isString())
            finish = f.toString();
    }
    return finish;
}

// Anthropic's error shape {"type":"error","error":{"type","message"}}: empty when it fits.
inline QString anthropicErrorProblem(const HttpResponse &r)
{
    const QJsonObject o = r.json();
    if (o.value(QStringLiteral("type")) != QStringLiteral("error"))
        return QStringLiteral("type is not \"error\": ") + r.describe();
    const QJsonObject e = o.value(QStringLiteral("error")).toObject();
    if (e.value(QStringLiteral("type")).toString().isEmpty())
        return QStringLiteral("error.type is missing: ") + r.describe();
    if (e.value(QStringLiteral("message")).toString().isEmpty())
        return QStringLiteral("error.message is missing: ") + r.describe();
    return {};
}

inline QString anthropicErrorType(const HttpResponse &r)
{
    return r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString();
}

inline QString anthropicErrorMessage(const HttpResponse &r)
{
    return r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

} // namespace gh::test::providers
