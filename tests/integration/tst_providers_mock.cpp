// The mock upstream's Anthropic Messages and Gemini generateContent dialects (and its OpenAI tool
// calls), checked over sockets with the raw HttpClient against the shapes of the providers' API
// references, so that the gateway tests built on them test against the real formats.
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>
#include <QUrl>

#include <memory>

using namespace gh::test;

namespace {

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QJsonObject userText(const QString &text)
{
    return QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), text}};
}

QJsonObject anthropicRequest(const QString &model, bool stream = false)
{
    QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), 256},
        {QStringLiteral("messages"), QJsonArray{userText(QStringLiteral("What is the weather in Paris?"))}}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return body;
}

QJsonArray anthropicTools()
{
    const QJsonObject schema{{QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"),
            QJsonObject{{QStringLiteral("city"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}}}};
    return QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                          {QStringLiteral("description"), QStringLiteral("Weather by city")},
                          {QStringLiteral("input_schema"), schema}},
        QJsonObject{{QStringLiteral("name"), QStringLiteral("get_time")},
            {QStringLiteral("input_schema"), QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}}};
}

QJsonObject geminiRequest(const QString &text = QStringLiteral("Hello"))
{
    return QJsonObject{{QStringLiteral("contents"),
        QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
            {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), text}}}}}}}};
}

// .../models/<percent-encoded model>:<method>
QByteArray geminiPath(const QString &model, const char *method)
{
    return "/v1beta/models/" + QUrl::toPercentEncoding(model) + ':' + method;
}

QJsonObject eventJson(const SseEvent &e)
{
    return parseObject(e.data);
}

QStringList eventNames(const HttpResponse &r)
{
    QStringList names;
    for (const SseEvent &e : r.events)
        names.append(QString::fromLatin1(e.event));
    return names;
}

qint64 intAt(const QJsonObject &o, const QString &name)
{
    return o.value(name).toInteger(-1);
}

} // namespace

class TestProvidersMock : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;

    HttpResponse messages(const QJsonObject &body, const Headers &headers = {}, RequestOptions options = {})
    {
        HttpClient client(m_mock->port());
        return client.post("/v1/messages", compact(body), headers, options);
    }
    HttpResponse gemini(const QString &model, const char *method, const QJsonObject &body)
    {
        HttpClient client(m_mock->port());
        return client.post(geminiPath(model, method), compact(body));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
    }
    void init() { QVERIFY2(m_mock->reset(), qPrintable(m_mock->errorString())); }
    void cleanupTestCase() { m_mock.reset(); }

    // ---- Anthropic Messages -----------------------------------------------------------------
    void anthropicMessageWithCacheUsage()
    {
        const HttpResponse r
            = messages(anthropicRequest(QStringLiteral("ok@p=100,c=4,cache_read=30,cache_write=20,cache_write_1h=5")),
                {{"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"},
                    {"anthropic-beta", "prompt-caching-2024-07-31,other-beta"}});
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("application/json"));
        QVERIFY(r.header("request-id").startsWith("req_mock_"));
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("type")).toString(), QStringLiteral("message"));
        QCOMPARE(o.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
        QVERIFY(o.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("msg_")));
        QCOMPARE(o.value(QStringLiteral("stop_reason")).toString(), QStringLiteral("end_turn"));
        const QJsonArray content = o.value(QStringLiteral("content")).toArray();
        QCOMPARE(content.size(), 1);
        QCOMPARE(content[0].toObject().value(QStringLiteral("type")).toString(), QStringLiteral("text"));
        QVERIFY(content[0].toObject().value(QStringLiteral("text")).toString().startsWith(QStringLiteral("Hello")));
        const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
        QCOMPARE(intAt(usage, QStringLiteral("input_tokens")), 100);
        QCOMPARE(intAt(usage, QStringLiteral("output_tokens")), 4);
        QCOMPARE(intAt(usage, QStringLiteral("cache_read_input_tokens")), 30);
        QCOMPARE(intAt(usage, QStringLiteral("cache_creation_input_tokens")), 25); // 5-minute + 1-hour writes
        const QJsonObject creation = usage.value(QStringLiteral("cache_creation")).toObject();
        QCOMPARE(intAt(creation, QStringLiteral("ephemeral_5m_input_tokens")), 20);
        QCOMPARE(intAt(creation, QStringLiteral("ephemeral_1h_input_tokens")), 5);

        // What the mock recorded: the headers (for the gateway tests) and the billed usage.
        const QJsonObject recorded = m_mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/messages"));
        const QJsonObject headers = recorded.value(QStringLiteral("headers")).toObject();
        QCOMPARE(headers.value(QStringLiteral("x-api-key")).toString(), QStringLiteral("sk-ant-test"));
        QCOMPARE(headers.value(QStringLiteral("anthropic-version")).toString(), QStringLiteral("2023-06-01"));
        QCOMPARE(headers.value(QStringLiteral("anthropic-beta")).toString(),
            QStringLiteral("prompt-caching-2024-07-31,other-beta"));
        const QJsonObject billed = recorded.value(QStringLiteral("billed")).toObject();
        QCOMPARE(intAt(billed, QStringLiteral("prompt_tokens")), 100);
        QCOMPARE(intAt(billed, QStringLiteral("completion_tokens")), 4);
        QCOMPARE(intAt(billed, QStringLiteral("cache_read_tokens")), 30);
        QCOMPARE(intAt(billed, QStringLiteral("cache_write_tokens")), 20);
        QCOMPARE(intAt(billed, QStringLiteral("cache_write_1h_tokens")), 5);
    }

    void anthropicToolUse()
    {
        QJsonObject body = anthropicRequest(QStringLiteral("ok"));
        body.insert(QStringLiteral("tools"), anthropicTools());
        HttpResponse r = messages(body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("stop_reason")).toString(), QStringLiteral("tool_use"));
        QJsonArray content = o.value(QStringLiteral("content")).toArray();
        QCOMPARE(content.size(), 2);
        const QJsonObject use = content[1].toObject();
        QCOMPARE(use.value(QStringLiteral("type")).toString(), QStringLiteral("tool_use"));
        QVERIFY(use.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("toolu_")));
        QCOMPARE(use.value(QStringLiteral("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(use.value(QStringLiteral("input")).toObject().value(QStringLiteral("city")).toString(),
            QStringLiteral("Paris"));

        // tool_choice forces another tool; "none" and the tools=0 parameter answer with text.
        body.insert(QStringLiteral("tool_choice"),
            QJsonObject{{QStringLiteral("type"), QStringLiteral("tool")},
                {QStringLiteral("name"), QStringLiteral("get_time")}});
        r = messages(body);
        QCOMPARE(
            r.json().value(QStringLiteral("content")).toArray()[1].toObject().value(QStringLiteral("name")).toString(),
            QStringLiteral("get_time"));
        body.insert(QStringLiteral("tool_choice"), QJsonObject{{QStringLiteral("type"), QStringLiteral("none")}});
        r = messages(body);
        QCOMPARE(r.json().value(QStringLiteral("stop_reason")).toString(), QStringLiteral("end_turn"));
        body.remove(QStringLiteral("tool_choice"));
        body.insert(QStringLiteral("model"), QStringLiteral("ok@tools=0"));
        r = messages(body);
        QCOMPARE(r.json().value(QStringLiteral("content")).toArray().size(), 1);
    }

    void anthropicStreamEventSequence()
    {
        QJsonObject body = anthropicRequest(QStringLiteral("ok@p=40,c=3,chunks=3,cache_read=8,cache_write=6"), true);
        body.insert(QStringLiteral("tools"), anthropicTools());
        const HttpResponse r = messages(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        const QStringList expected{QStringLiteral("message_start"), QStringLiteral("content_block_start"),
            QStringLiteral("ping"), QStringLiteral("content_block_delta"), QStringLiteral("content_block_delta"),
            QStringLiteral("content_block_delta"), QStringLiteral("content_block_stop"),
            QStringLiteral("content_block_start"), QStringLiteral("content_block_delta"),
            QStringLiteral("content_block_delta"), QStringLiteral("content_block_delta"),
            QStringLiteral("content_block_delta"), QStringLiteral("content_block_stop"),
            QStringLiteral("message_delta"), QStringLiteral("message_stop")};
        QCOMPARE(eventNames(r), expected);
        for (const SseEvent &e : r.events) // every event's data names its own type
            QCOMPARE(eventJson(e).value(QStringLiteral("type")).toString(), QString::fromLatin1(e.event));

        const QJsonObject start = eventJson(r.events[0]).value(QStringLiteral("message")).toObject();
        const QJsonObject startUsage = start.value(QStringLiteral("usage")).toObject();
        QCOMPARE(intAt(startUsage, QStringLiteral("input_tokens")), 40);
        QCOMPARE(intAt(startUsage, QStringLiteral("cache_read_input_tokens")), 8);
        QCOMPARE(intAt(startUsage, QStringLiteral("cache_creation_input_tokens")), 6);
        QString text;
        QString json;
        QString toolId;
        for (const SseEvent &e : r.events) {
            const QJsonObject o = eventJson(e);
            const QJsonObject delta = o.value(QStringLiteral("delta")).toObject();
            if (delta.value(QStringLiteral("type")) == QStringLiteral("text_delta"))
                text += delta.value(QStringLiteral("text")).toString();
            if (delta.value(QStringLiteral("type")) == QStringLiteral("input_json_delta")) {
                QCOMPARE(intAt(o, QStringLiteral("index")), 1);
                json += delta.value(QStringLiteral("partial_json")).toString();
            }
            const QJsonObject block = o.value(QStringLiteral("content_block")).toObject();
            if (block.value(QStringLiteral("type")) == QStringLiteral("tool_use"))
                toolId = block.value(QStringLiteral("id")).toString();
        }
        QCOMPARE(text, QStringLiteral("Hello from the"));
        QVERIFY(toolId.startsWith(QStringLiteral("toolu_")));
        QCOMPARE(QJsonDocument::fromJson(json.toUtf8()).object().value(QStringLiteral("unit")).toString(),
            QStringLiteral("celsius"));
        const QJsonObject messageDelta = eventJson(r.events[r.events.size() - 2]);
        QCOMPARE(messageDelta.value(QStringLiteral("delta")).toObject().value(QStringLiteral("stop_reason")).toString(),
            QStringLiteral("tool_use"));
        QCOMPARE(intAt(messageDelta.value(QStringLiteral("usage")).toObject(), QStringLiteral("output_tokens")), 3);
    }

    void anthropicErrorInsideStream()
    {
        const HttpResponse r = messages(anthropicRequest(QStringLiteral("error-in-stream@after=2"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QStringList names = eventNames(r);
        QCOMPARE(names.last(), QStringLiteral("error"));
        QVERIFY(!names.contains(QStringLiteral("message_stop")));
        QCOMPARE(names.count(QStringLiteral("content_block_delta")), 2);
        const QJsonObject error = eventJson(r.events.last());
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(error.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
            QStringLiteral("overloaded_error"));

        // Asked without streaming, the same behaviour is a plain 529.
        const HttpResponse plain = messages(anthropicRequest(QStringLiteral("error-in-stream")));
        QCOMPARE(plain.status, 529);
    }

    void anthropicErrorShapes_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("400") << "fail-400" << 400 << "invalid_request_error";
        QTest::newRow("401") << "fail-401" << 401 << "authentication_error";
        QTest::newRow("403") << "fail-403" << 403 << "permission_error";
        QTest::newRow("404") << "fail-404" << 404 << "not_found_error";
        QTest::newRow("429") << "fail-429@retry_after=7" << 429 << "rate_limit_error";
        QTest::newRow("500") << "fail-500" << 500 << "api_error";
        QTest::newRow("529") << "fail-529" << 529 << "overloaded_error";
    }
    void anthropicErrorShapes()
    {
        QFETCH(QString, model);
        QFETCH(int, status);
        QFETCH(QString, type);
        const HttpResponse r = messages(anthropicRequest(model));
        QCOMPARE(r.status, status);
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(o.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(), type);
        QVERIFY(!o.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().isEmpty());
        if (status == 429)
            QCOMPARE(r.header("retry-after"), QByteArray("7"));
    }

    void anthropicRequestChecks()
    {
        // Anthropic requires max_tokens.
        QJsonObject body = anthropicRequest(QStringLiteral("ok"));
        body.remove(QStringLiteral("max_tokens"));
        HttpResponse r = messages(body);
        QCOMPARE(r.status, 400);
        QVERIFY(r.json()
                    .value(QStringLiteral("error"))
                    .toObject()
                    .value(QStringLiteral("message"))
                    .toString()
                    .contains(QStringLiteral("max_tokens")));

        // No "system" role inside messages.
        body = anthropicRequest(QStringLiteral("ok"));
        body.insert(QStringLiteral("messages"),
            QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                           {QStringLiteral("content"), QStringLiteral("Be brief")}},
                userText(QStringLiteral("Hi"))});
        r = messages(body);
        QCOMPARE(r.status, 400);
        QVERIFY(r.body.contains("messages.0.role"));

        // tool_result must answer a tool_use of the previous message, and every tool_use needs its result.
        const QJsonObject toolUse{{QStringLiteral("type"), QStringLiteral("tool_use")},
            {QStringLiteral("id"), QStringLiteral("toolu_A")}, {QStringLiteral("name"), QStringLiteral("get_weather")},
            {QStringLiteral("input"), QJsonObject{}}};
        const auto result = [](const QString &id) {
            return QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                {QStringLiteral("tool_use_id"), id}, {QStringLiteral("content"), QStringLiteral("18 C")}};
        };
        const auto conversation = [&](const QString &answeredId) {
            QJsonObject b = anthropicRequest(QStringLiteral("ok"));
            b.insert(QStringLiteral("tools"), anthropicTools());
            b.insert(QStringLiteral("messages"),
                QJsonArray{userText(QStringLiteral("Weather?")),
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                        {QStringLiteral("content"), QJsonArray{toolUse}}},
                    QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                        {QStringLiteral("content"), QJsonArray{result(answeredId)}}}});
            return b;
        };
        r = messages(conversation(QStringLiteral("toolu_B")));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.body.contains("unexpected `tool_use_id`") && r.body.contains("toolu_B"), r.body.constData());
        r = messages(conversation(QStringLiteral("toolu_A")));
        QVERIFY2(r.status == 200, qPrintable(r.describe()));

        QJsonObject unanswered = conversation(QStringLiteral("toolu_A"));
        QJsonArray msgs = unanswered.value(QStringLiteral("messages")).toArray();
        msgs[2] = userText(QStringLiteral("never mind"));
        unanswered.insert(QStringLiteral("messages"), msgs);
        r = messages(unanswered);
        QCOMPARE(r.status, 400);
        QVERIFY2(r.body.contains("without `tool_result`"), r.body.constData());

        // A custom tool needs an input_schema.
        body = anthropicRequest(QStringLiteral("ok"));
        body.insert(QStringLiteral("tools"), QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("x")}}});
        r = messages(body);
        QCOMPARE(r.status, 400);
        QVERIFY(r.body.contains("input_schema"));
    }

    void anthropicCountTokens()
    {
        HttpClient client(m_mock->port());
        QJsonObject body = anthropicRequest(QStringLiteral("ok@p=77"));
        body.remove(QStringLiteral("max_tokens")); // count_tokens has none
        HttpResponse r = client.post("/v1/messages/count_tokens", compact(body));
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json(), QJsonObject({{QStringLiteral("input_tokens"), 77}}));
        body.insert(QStringLiteral("model"), QStringLiteral("ok"));
        const QByteArray bytes = compact(body);
        r = client.post("/v1/messages/count_tokens", bytes);
        QCOMPARE(intAt(r.json(), QStringLiteral("input_tokens")), (bytes.size() + 3) / 4);
        body.insert(QStringLiteral("model"), QStringLiteral("fail-401"));
        r = client.post("/v1/messages/count_tokens", compact(body));
        QCOMPARE(r.status, 401);
    }

    void anthropicResetMidStream()
    {
        const HttpResponse r = messages(anthropicRequest(QStringLiteral("reset-mid-stream@after=2"), true));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.peerClosed);
        QCOMPARE(eventNames(r).count(QStringLiteral("content_block_delta")), 2);
    }

    // ---- Gemini ------------------------------------------------------------------------------
    void geminiGenerateWithCachedAndThoughts()
    {
        const HttpResponse r
            = gemini(QStringLiteral("ok@p=50,cached=20,thoughts=7,c=3"), "generateContent", geminiRequest());
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject o = r.json();
        const QJsonObject candidate = o.value(QStringLiteral("candidates")).toArray()[0].toObject();
        QCOMPARE(candidate.value(QStringLiteral("finishReason")).toString(), QStringLiteral("STOP"));
        const QJsonObject content = candidate.value(QStringLiteral("content")).toObject();
        QCOMPARE(content.value(QStringLiteral("role")).toString(), QStringLiteral("model"));
        QCOMPARE(
            content.value(QStringLiteral("parts")).toArray()[0].toObject().value(QStringLiteral("text")).toString(),
            QStringLiteral("Hello from the"));
        const QJsonObject usage = o.value(QStringLiteral("usageMetadata")).toObject();
        QCOMPARE(intAt(usage, QStringLiteral("promptTokenCount")), 50);
        QCOMPARE(intAt(usage, QStringLiteral("cachedContentTokenCount")), 20);
        QCOMPARE(intAt(usage, QStringLiteral("thoughtsTokenCount")), 7);
        QCOMPARE(intAt(usage, QStringLiteral("candidatesTokenCount")), 3);
        QCOMPARE(intAt(usage, QStringLiteral("totalTokenCount")), 60);
        // The behaviour came from the URL; the mock recorded the path as sent.
        QVERIFY(m_mock->lastRequest().value(QStringLiteral("path")).toString().contains(QStringLiteral("ok%40p%3D50")));
        const QJsonObject billed = m_mock->lastRequest().value(QStringLiteral("billed")).toObject();
        QCOMPARE(intAt(billed, QStringLiteral("cached_tokens")), 20);
        QCOMPARE(intAt(billed, QStringLiteral("reasoning_tokens")), 7);
    }

    void geminiFunctionCall()
    {
        QJsonObject body = geminiRequest();
        body.insert(QStringLiteral("tools"),
            QJsonArray{QJsonObject{{QStringLiteral("functionDeclarations"),
                QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                    {QStringLiteral("parameters"),
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}}}}}});
        HttpResponse r = gemini(QStringLiteral("ok"), "generateContent", body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject part = r.json()
                                     .value(QStringLiteral("candidates"))
                                     .toArray()[0]
                                     .toObject()
                                     .value(QStringLiteral("content"))
                                     .toObject()
                                     .value(QStringLiteral("parts"))
                                     .toArray()[0]
                                     .toObject();
        const QJsonObject call = part.value(QStringLiteral("functionCall")).toObject();
        QCOMPARE(call.value(QStringLiteral("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(call.value(QStringLiteral("args")).toObject().value(QStringLiteral("city")).toString(),
            QStringLiteral("Paris"));

        body.insert(QStringLiteral("toolConfig"),
            QJsonObject{{QStringLiteral("functionCallingConfig"),
                QJsonObject{{QStringLiteral("mode"), QStringLiteral("NONE")}}}});
        r = gemini(QStringLiteral("ok"), "generateContent", body);
        QVERIFY(r.body.contains("\"text\""));
        QVERIFY(!r.body.contains("functionCall"));

        // Streamed: the call arrives whole in the last chunk.
        body.remove(QStringLiteral("toolConfig"));
        HttpClient client(m_mock->port());
        r = client.post(geminiPath(QStringLiteral("ok"), "streamGenerateContent") + "?alt=sse", compact(body));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.events.size(), 1);
        QVERIFY(r.events[0].data.contains("\"functionCall\""));
    }

    void geminiStream()
    {
        HttpClient client(m_mock->port());
        const HttpResponse r = client.post(
            geminiPath(QStringLiteral("ok@p=30,cached=10,thoughts=4,chunks=4"), "streamGenerateContent") + "?alt=sse",
            compact(geminiRequest()));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QVERIFY2(r.body.contains("}\r\n\r\ndata: "), "Gemini ends its SSE events with CRLF CRLF");
        QCOMPARE(r.events.size(), 4);
        QString text;
        for (const SseEvent &e : r.events) {
            QVERIFY(e.event.isEmpty());
            text += eventJson(e)
                        .value(QStringLiteral("candidates"))
                        .toArray()[0]
                        .toObject()
                        .value(QStringLiteral("content"))
                        .toObject()
                        .value(QStringLiteral("parts"))
                        .toArray()[0]
                        .toObject()
                        .value(QStringLiteral("text"))
                        .toString();
        }
        QCOMPARE(text, QStringLiteral("Hello from the mock"));
        const QJsonObject last = eventJson(r.events.last());
        QCOMPARE(last.value(QStringLiteral("candidates"))
                     .toArray()[0]
                     .toObject()
                     .value(QStringLiteral("finishReason"))
                     .toString(),
            QStringLiteral("STOP"));
        const QJsonObject usage = last.value(QStringLiteral("usageMetadata")).toObject();
        QCOMPARE(intAt(usage, QStringLiteral("promptTokenCount")), 30);
        QCOMPARE(intAt(usage, QStringLiteral("cachedContentTokenCount")), 10);
        QCOMPARE(intAt(usage, QStringLiteral("thoughtsTokenCount")), 4);
        QCOMPARE(intAt(usage, QStringLiteral("candidatesTokenCount")), 4);
    }

    void geminiErrors()
    {
        HttpResponse r = gemini(QStringLiteral("fail-429"), "generateContent", geminiRequest());
        QCOMPARE(r.status, 429);
        QJsonObject error = r.json().value(QStringLiteral("error")).toObject();
        QCOMPARE(intAt(error, QStringLiteral("code")), 429);
        QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("RESOURCE_EXHAUSTED"));
        QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
        r = gemini(QStringLiteral("fail-404"), "generateContent", geminiRequest());
        QCOMPARE(r.status, 404);
        QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
            QStringLiteral("NOT_FOUND"));

        HttpClient client(m_mock->port());
        r = client.post(geminiPath(QStringLiteral("error-in-stream@after=2"), "streamGenerateContent") + "?alt=sse",
            compact(geminiRequest()));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.events.size(), 3);
        error = eventJson(r.events.last()).value(QStringLiteral("error")).toObject();
        QCOMPARE(intAt(error, QStringLiteral("code")), 503);
        QCOMPARE(error.value(QStringLiteral("status")).toString(), QStringLiteral("UNAVAILABLE"));
    }

    void geminiRequestChecks()
    {
        // Google refuses fields it does not know, at the top level and in generationConfig.
        QJsonObject body = geminiRequest();
        body.insert(QStringLiteral("stream"), true);
        HttpResponse r = gemini(QStringLiteral("ok"), "generateContent", body);
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("status")).toString(),
            QStringLiteral("INVALID_ARGUMENT"));
        QVERIFY(r.body.contains("Unknown name \\\"stream\\\""));
        body = geminiRequest();
        body.insert(QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("max_tokens"), 5}});
        r = gemini(QStringLiteral("ok"), "generateContent", body);
        QCOMPARE(r.status, 400);
        // snake_case names are the proto's own and accepted.
        body.insert(QStringLiteral("generation_config"), QJsonObject{{QStringLiteral("max_output_tokens"), 5}});
        body.remove(QStringLiteral("generationConfig"));
        r = gemini(QStringLiteral("ok"), "generateContent", body);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        // Roles are user and model.
        body = geminiRequest();
        QJsonArray contents = body.value(QStringLiteral("contents")).toArray();
        QJsonObject first = contents[0].toObject();
        first.insert(QStringLiteral("role"), QStringLiteral("assistant"));
        contents[0] = first;
        body.insert(QStringLiteral("contents"), contents);
        r = gemini(QStringLiteral("ok"), "generateContent", body);
        QCOMPARE(r.status, 400);
        r = gemini(QStringLiteral("ok"), "generateContent", QJsonObject{{QStringLiteral("contents"), QJsonArray{}}});
        QCOMPARE(r.status, 400);
        r = gemini(QStringLiteral("ok@p=9"), "countTokens", geminiRequest());
        QCOMPARE(r.json(), QJsonObject({{QStringLiteral("totalTokens"), 9}}));
    }

    // ---- OpenAI tool calls ------------------------------------------------------------------
    void openAIToolCalls()
    {
        QJsonObject body = chatRequest(QStringLiteral("ok@c=6"));
        body.insert(QStringLiteral("tools"),
            QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                {QStringLiteral("function"),
                    QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                        {QStringLiteral("parameters"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}}}}});
        HttpClient client(m_mock->port());
        HttpResponse r = client.post("/v1/chat/completions", compact(body));
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject choice = r.json().value(QStringLiteral("choices")).toArray()[0].toObject();
        QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("tool_calls"));
        const QJsonObject message = choice.value(QStringLiteral("message")).toObject();
        QVERIFY(message.value(QStringLiteral("content")).isNull());
        const QJsonObject call = message.value(QStringLiteral("tool_calls")).toArray()[0].toObject();
        QVERIFY(call.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("call_")));
        QCOMPARE(call.value(QStringLiteral("function")).toObject().value(QStringLiteral("name")).toString(),
            QStringLiteral("get_weather"));
        QCOMPARE(QJsonDocument::fromJson(call.value(QStringLiteral("function"))
                                             .toObject()
                                             .value(QStringLiteral("arguments"))
                                             .toString()
                                             .toUtf8())
                     .object()
                     .value(QStringLiteral("city"))
                     .toString(),
            QStringLiteral("Paris"));

        body.insert(QStringLiteral("stream"), true);
        body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
        r = client.post("/v1/chat/completions", compact(body));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QString id;
        QString arguments;
        QString finish;
        bool sawUsage = false;
        for (const QByteArray &d : data) {
            const QJsonObject o = parseObject(d);
            if (o.value(QStringLiteral("usage")).isObject())
                sawUsage = true;
            const QJsonObject c = o.value(QStringLiteral("choices")).toArray().at(0).toObject();
            if (c.value(QStringLiteral("finish_reason")).isString())
                finish = c.value(QStringLiteral("finish_reason")).toString();
            const QJsonObject tc = c.value(QStringLiteral("delta"))
                                       .toObject()
                                       .value(QStringLiteral("tool_calls"))
                                       .toArray()
                                       .at(0)
                                       .toObject();
            if (tc.contains(QStringLiteral("id")))
                id = tc.value(QStringLiteral("id")).toString();
            arguments += tc.value(QStringLiteral("function")).toObject().value(QStringLiteral("arguments")).toString();
        }
        QVERIFY(id.startsWith(QStringLiteral("call_")));
        QCOMPARE(QJsonDocument::fromJson(arguments.toUtf8()).object().value(QStringLiteral("unit")).toString(),
            QStringLiteral("celsius"));
        QCOMPARE(finish, QStringLiteral("tool_calls"));
        QVERIFY(sawUsage);
    }
};

QTEST_GUILESS_MAIN(TestProvidersMock)
#include "tst_providers_mock.moc"
