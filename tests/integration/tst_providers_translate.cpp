// Translation across formats through the gateway, over real sockets: Anthropic clients in front of
// an OpenAI-format provider (streaming and not, tools with consistent ids), OpenAI clients in front
// of a native Gemini provider (usage with cached and thinking tokens, streaming, function calls,
// errors), and the same conversation costing the same whichever client format it arrives in.
#include "providerstestkit.h"

#include <QUrl>

#include <memory>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-providers-translate-0001";

const QString kGeminiFlash = QStringLiteral("ok@p=200,cached=120,thoughts=30,c=10");
const QString kGeminiStream = QStringLiteral("ok@p=200,cached=120,thoughts=30,c=4,chunks=4");

// The model named in a recorded Gemini path: /v1beta/models/<percent-encoded>:method
QString geminiModelOf(const QString &path)
{
    const qsizetype start = path.indexOf(QLatin1String("/models/")) + 8;
    const qsizetype colon = path.lastIndexOf(u':');
    return QUrl::fromPercentEncoding(path.mid(start, colon - start).toUtf8());
}

} // namespace

class TestProvidersTranslate : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse messages(const QJsonObject &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/messages", compact(body), anthropicHeaders(kSecret));
    }
    HttpResponse chat(const QJsonObject &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", compact(body), bearer(kSecret));
    }
    std::optional<LoggedRequest> logged(const HttpResponse &r)
    {
        return m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString anth = QStringLiteral("anth");
        const QString oai = QStringLiteral("oai");
        const QString gem = QStringLiteral("gem");
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, anth, QStringLiteral("anthropic")),
                    provider(*m_h.mock, oai, QStringLiteral("openai")),
                    provider(*m_h.mock, gem, QStringLiteral("gemini"))}},
            {QStringLiteral("models"),
                QJsonArray{pricedModel(QStringLiteral("oai/chat"), oai, QStringLiteral("ok@p=120,c=8,cached=20")),
                    pricedModel(QStringLiteral("oai/stream"), oai, QStringLiteral("ok@p=120,cached=20,chunks=5")),
                    pricedModel(QStringLiteral("oai/errstream"), oai, QStringLiteral("error-in-stream@after=2")),
                    pricedModel(QStringLiteral("oai/fail400"), oai, QStringLiteral("fail-400")),
                    pricedModel(QStringLiteral("gem/flash"), gem, kGeminiFlash),
                    pricedModel(QStringLiteral("gem/stream"), gem, kGeminiStream),
                    pricedModel(QStringLiteral("gem/errstream"), gem, QStringLiteral("error-in-stream@after=2")),
                    pricedModel(QStringLiteral("gem/fail429"), gem, QStringLiteral("fail-429@retry_after=4")),
                    // The same conversation through each provider format.
                    pricedModel(QStringLiteral("anth/same"), anth,
                        QStringLiteral("ok@p=700,c=50,cache_read=300,cache_write=100")),
                    pricedModel(QStringLiteral("oai/same"), oai, QStringLiteral("ok@p=1100,c=50,cached=300")),
                    pricedModel(
                        QStringLiteral("gem/same"), gem, QStringLiteral("ok@p=1100,cached=300,thoughts=20,c=30"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("translate"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    // ---- Anthropic client -> OpenAI provider ----------------------------------------------------
    void anthropicClientToOpenAINonStreaming()
    {
        QJsonObject body = messagesRequest(QStringLiteral("oai/chat"), false, 300);
        body.insert(QStringLiteral("temperature"), 0.25);
        body.insert(QStringLiteral("stop_sequences"), QJsonArray{QStringLiteral("END")});
        const HttpResponse r = messages(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("application/json"));
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("type")).toString(), QStringLiteral("message"));
        QCOMPARE(o.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
        QCOMPARE(o.value(QStringLiteral("model")).toString(), QStringLiteral("oai/chat"));
        QCOMPARE(o.value(QStringLiteral("stop_reason")).toString(), QStringLiteral("end_turn"));
        QCOMPARE(anthropicText(o), QStringLiteral("Hello from the mock upstream with a few")); // c=8 words
        // Anthropic's input_tokens excludes the cached tokens OpenAI counts in prompt_tokens.
        const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("input_tokens")).toInteger(), 100);
        QCOMPARE(usage.value(QStringLiteral("cache_read_input_tokens")).toInteger(), 20);
        QCOMPARE(usage.value(QStringLiteral("output_tokens")).toInteger(), 8);

        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/chat/completions"));
        const QJsonObject headers = recordedHeaders(recorded);
        QCOMPARE(headers.value(QStringLiteral("authorization")).toString(),
            QStringLiteral("Bearer ") + QString::fromLatin1(kProviderKey));
        QVERIFY(!headers.contains(QStringLiteral("x-api-key")));
        QVERIFY(!recorded.value(QStringLiteral("body")).toString().contains(QString::fromLatin1(kSecret)));
        const QJsonObject sent = recordedBody(recorded);
        QCOMPARE(sent.value(QStringLiteral("model")).toString(), QStringLiteral("ok@p=120,c=8,cached=20"));
        QVERIFY(!sent.contains(QStringLiteral("system")));
        QVERIFY(!sent.value(QStringLiteral("stream")).toBool());
        const QJsonArray msgs = sent.value(QStringLiteral("messages")).toArray();
        QCOMPARE(msgs.size(), 2);
        QCOMPARE(msgs[0].toObject().value(QStringLiteral("role")).toString(), QStringLiteral("system"));
        QCOMPARE(msgs[1].toObject().value(QStringLiteral("role")).toString(), QStringLiteral("user"));
        const qint64 maxTokens = sent.contains(QStringLiteral("max_completion_tokens"))
            ? sent.value(QStringLiteral("max_completion_tokens")).toInteger()
            : sent.value(QStringLiteral("max_tokens")).toInteger();
        QCOMPARE(maxTokens, 300);
        QCOMPARE(sent.value(QStringLiteral("temperature")).toDouble(), 0.25);
        QCOMPARE(sent.value(QStringLiteral("stop")).toVariant().toStringList(), QStringList{QStringLiteral("END")});

        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QCOMPARE(row->endpoint, QStringLiteral("/v1/messages"));
        QCOMPARE(row->inputTokens, 100);
        QCOMPARE(row->cacheReadTokens, 20);
        QCOMPARE(row->outputTokens, 8);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(100, 20, 0, 0, 8));
    }

    void anthropicClientToOpenAIStreaming()
    {
        const HttpResponse r = messages(messagesRequest(QStringLiteral("oai/stream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        const QStringList names = eventNames(r);
        QVERIFY2(names.size() >= 6, qPrintable(names.join(u',')));
        QCOMPARE(names.first(), QStringLiteral("message_start"));
        QCOMPARE(names.last(), QStringLiteral("message_stop"));
        QCOMPARE(names.at(names.size() - 2), QStringLiteral("message_delta"));
        QVERIFY(names.contains(QStringLiteral("content_block_start")));
        QVERIFY(names.contains(QStringLiteral("content_block_stop")));
        for (const SseEvent &e : r.events) // each event's data names its own type
            QCOMPARE(parseObject(e.data).value(QStringLiteral("type")).toString(), QString::fromLatin1(e.event));
        QCOMPARE(anthropicStreamText(r), QStringLiteral("Hello from the mock upstream"));
        const QJsonObject messageDelta = parseObject(r.events.at(r.events.size() - 2).data);
        QCOMPARE(messageDelta.value(QStringLiteral("delta")).toObject().value(QStringLiteral("stop_reason")).toString(),
            QStringLiteral("end_turn"));
        QCOMPARE(
            messageDelta.value(QStringLiteral("usage")).toObject().value(QStringLiteral("output_tokens")).toInteger(),
            5);
        // No OpenAI leftovers in an Anthropic stream.
        QVERIFY(!r.body.contains("[DONE]"));
        QVERIFY(!r.body.contains("chat.completion.chunk"));

        // The OpenAI provider was asked for the usage chunk.
        const QJsonObject sent = recordedBody(m_h.mock->lastRequest());
        QCOMPARE(sent.value(QStringLiteral("stream")).toBool(), true);
        QCOMPARE(
            sent.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")).toBool(),
            true);

        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QVERIFY(row->stream);
        QVERIFY(!row->estimated);
        QCOMPARE(row->inputTokens, 100);
        QCOMPARE(row->cacheReadTokens, 20);
        QCOMPARE(row->outputTokens, 5);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(100, 20, 0, 0, 5));
    }

    void anthropicClientToOpenAIToolsStreamingAndNextTurn()
    {
        QJsonObject body = messagesRequest(QStringLiteral("oai/stream"), true);
        body.insert(QStringLiteral("tools"), anthropicTools());
        const HttpResponse r = messages(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));

        // OpenAI got the tool in its own shape, the schema unchanged.
        const QJsonObject sentTool
            = recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("tools")).toArray()[0].toObject();
        QCOMPARE(sentTool.value(QStringLiteral("type")).toString(), QStringLiteral("function"));
        QCOMPARE(sentTool.value(QStringLiteral("function")).toObject().value(QStringLiteral("name")).toString(),
            QStringLiteral("get_weather"));
        QCOMPARE(sentTool.value(QStringLiteral("function")).toObject().value(QStringLiteral("parameters")).toObject(),
            weatherSchema());

        // The client sees a tool_use block with OpenAI's call id, its input in pieces, stop_reason tool_use.
        QString id;
        QString name;
        QString json;
        int toolIndex = -1;
        for (const SseEvent &e : r.events) {
            const QJsonObject o = parseObject(e.data);
            const QJsonObject block = o.value(QStringLiteral("content_block")).toObject();
            if (e.event == "content_block_start" && block.value(QStringLiteral("type")) == QStringLiteral("tool_use")) {
                id = block.value(QStringLiteral("id")).toString();
                name = block.value(QStringLiteral("name")).toString();
                toolIndex = o.value(QStringLiteral("index")).toInt();
            }
            const QJsonObject delta = o.value(QStringLiteral("delta")).toObject();
            if (delta.value(QStringLiteral("type")) == QStringLiteral("input_json_delta")) {
                QCOMPARE(o.value(QStringLiteral("index")).toInt(), toolIndex);
                json += delta.value(QStringLiteral("partial_json")).toString();
            }
        }
        QVERIFY2(id.startsWith(QStringLiteral("call_mock_")), qPrintable(id));
        QCOMPARE(name, QStringLiteral("get_weather"));
        QCOMPARE(parseObject(json.toUtf8()), parseObject("{\"city\":\"Paris\",\"unit\":\"celsius\"}"));
        const QJsonObject messageDelta = parseObject(r.events.at(r.events.size() - 2).data);
        QCOMPARE(messageDelta.value(QStringLiteral("delta")).toObject().value(QStringLiteral("stop_reason")).toString(),
            QStringLiteral("tool_use"));

        // Next turn: the tool_use and its tool_result reach OpenAI under the same id.
        QJsonObject next = messagesRequest(QStringLiteral("oai/chat"));
        next.insert(QStringLiteral("tools"), anthropicTools());
        QJsonArray msgs = next.value(QStringLiteral("messages")).toArray();
        msgs.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"),
                QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")}, {QStringLiteral("id"), id},
                    {QStringLiteral("name"), name}, {QStringLiteral("input"), parseObject(json.toUtf8())}}}}});
        msgs.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
            {QStringLiteral("content"),
                QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                    {QStringLiteral("tool_use_id"), id}, {QStringLiteral("content"), QStringLiteral("18 degrees")}}}}});
        next.insert(QStringLiteral("messages"), msgs);
        const HttpResponse second = messages(next);
        QVERIFY2(second.status == 200, qPrintable(second.describe()));
        const QJsonArray sent = recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("messages")).toArray();
        QJsonObject assistant;
        QJsonObject toolMessage;
        for (const QJsonValue &m : sent) {
            if (m.toObject().value(QStringLiteral("role")) == QStringLiteral("assistant"))
                assistant = m.toObject();
            if (m.toObject().value(QStringLiteral("role")) == QStringLiteral("tool"))
                toolMessage = m.toObject();
        }
        const QJsonObject call = assistant.value(QStringLiteral("tool_calls")).toArray()[0].toObject();
        QCOMPARE(call.value(QStringLiteral("id")).toString(), id);
        QCOMPARE(call.value(QStringLiteral("function")).toObject().value(QStringLiteral("name")).toString(), name);
        QCOMPARE(parseObject(call.value(QStringLiteral("function"))
                                 .toObject()
                                 .value(QStringLiteral("arguments"))
                                 .toString()
                                 .toUtf8()),
            parseObject(json.toUtf8()));
        QCOMPARE(toolMessage.value(QStringLiteral("tool_call_id")).toString(), id);
        QVERIFY(QJsonDocument(toolMessage).toJson().contains("18 degrees"));
    }

    void anthropicClientOpenAIErrorsInAnthropicShape()
    {
        // An upstream 400 in OpenAI's shape reaches the Anthropic client in Anthropic's.
        HttpResponse r = messages(messagesRequest(QStringLiteral("oai/fail400")));
        QCOMPARE(r.status, 400);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QCOMPARE(anthropicErrorType(r), QStringLiteral("invalid_request_error"));
        QVERIFY(anthropicErrorMessage(r).contains(QStringLiteral("fail-400")));

        // An OpenAI error chunk inside a 200 stream becomes Anthropic's `event: error`.
        r = messages(messagesRequest(QStringLiteral("oai/errstream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QStringList names = eventNames(r);
        QCOMPARE(names.first(), QStringLiteral("message_start"));
        QCOMPARE(names.last(), QStringLiteral("error"));
        QVERIFY(!r.body.contains("[DONE]"));
        const QJsonObject error = parseObject(r.events.last().data);
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QVERIFY(error.value(QStringLiteral("error"))
                    .toObject()
                    .value(QStringLiteral("message"))
                    .toString()
                    .contains(QStringLiteral("middle of the stream")));
        const auto row = logged(r);
        QVERIFY(row);
        QVERIFY2(row->status >= 500, qPrintable(row->describe()));
        QVERIFY(row->error.contains(QStringLiteral("middle of the stream")));
    }

    void anthropicClientUnexpressibleFeature_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("feature");
        QTest::newRow("top_k") << "top_k" << QJsonValue(40) << "top_k";
        QTest::newRow("server tool") << "tools"
                                     << QJsonValue(QJsonArray{
                                            QJsonObject{{QStringLiteral("type"), QStringLiteral("web_search_20250305")},
                                                {QStringLiteral("name"), QStringLiteral("web_search")}}})
                                     << "tools[0].type";
        QTest::newRow("mcp_servers") << "mcp_servers"
                                     << QJsonValue(
                                            QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("url")},
                                                {QStringLiteral("url"), QStringLiteral("https://example.com/sse")},
                                                {QStringLiteral("name"), QStringLiteral("x")}}})
                                     << "mcp_servers";
    }
    void anthropicClientUnexpressibleFeature()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QFETCH(QString, feature);
        QJsonObject body = messagesRequest(QStringLiteral("oai/chat"));
        body.insert(field, value);
        const HttpResponse r = messages(body);
        QCOMPARE(r.status, 400);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QCOMPARE(anthropicErrorType(r), QStringLiteral("invalid_request_error"));
        QVERIFY2(anthropicErrorMessage(r).contains(QStringLiteral("[feature: %1]").arg(feature)),
            qPrintable(anthropicErrorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }

    // ---- OpenAI client -> Gemini provider -------------------------------------------------------
    void openAIClientToGeminiNonStreaming()
    {
        const HttpResponse r = chat(chatCompletionRequest(QStringLiteral("gem/flash")));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
        QCOMPARE(o.value(QStringLiteral("model")).toString(), QStringLiteral("gem/flash"));
        QCOMPARE(chatContent(r), QStringLiteral("Hello from the mock upstream with a few more words"));
        QCOMPARE(o.value(QStringLiteral("choices"))
                     .toArray()[0]
                     .toObject()
                     .value(QStringLiteral("finish_reason"))
                     .toString(),
            QStringLiteral("stop"));
        // promptTokenCount includes cachedContentTokenCount; thoughts are output.
        const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInteger(), 200);
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens_details"))
                     .toObject()
                     .value(QStringLiteral("cached_tokens"))
                     .toInteger(),
            120);
        QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInteger(), 40);
        QCOMPARE(usage.value(QStringLiteral("completion_tokens_details"))
                     .toObject()
                     .value(QStringLiteral("reasoning_tokens"))
                     .toInteger(),
            30);

        const QJsonObject recorded = m_h.mock->lastRequest();
        const QString path = recorded.value(QStringLiteral("path")).toString();
        QVERIFY2(
            path.startsWith(QStringLiteral("/v1beta/models/")) && path.endsWith(QStringLiteral(":generateContent")),
            qPrintable(path));
        QCOMPARE(geminiModelOf(path), kGeminiFlash);
        const QJsonObject headers = recordedHeaders(recorded);
        QCOMPARE(headers.value(QStringLiteral("x-goog-api-key")).toString(), QString::fromLatin1(kProviderKey));
        QVERIFY(!headers.contains(QStringLiteral("authorization")));
        QVERIFY(!headers.contains(QStringLiteral("x-api-key")));
        const QJsonObject sent = recordedBody(recorded);
        QVERIFY(sent.contains(QStringLiteral("contents")));
        QVERIFY(!sent.contains(QStringLiteral("messages")));
        QVERIFY(QJsonDocument(sent.value(QStringLiteral("systemInstruction")).toObject())
                    .toJson()
                    .contains("You are terse."));
        QCOMPARE(sent.value(QStringLiteral("generationConfig"))
                     .toObject()
                     .value(QStringLiteral("maxOutputTokens"))
                     .toInteger(),
            512);

        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QCOMPARE(row->provider, QStringLiteral("gem"));
        QCOMPARE(row->inputTokens, 80);
        QCOMPARE(row->cacheReadTokens, 120);
        QCOMPARE(row->cacheWriteTokens, 0);
        QCOMPARE(row->outputTokens, 40);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(80, 120, 0, 0, 40));
    }

    void openAIClientToGeminiStreaming()
    {
        const HttpResponse r = chat(chatCompletionRequest(QStringLiteral("gem/stream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QCOMPARE(r.eventData().last(), QByteArray("[DONE]"));
        QCOMPARE(streamContent(r), QStringLiteral("Hello from the mock"));
        QCOMPARE(openAIFinishReason(r), QStringLiteral("stop"));
        QJsonObject usage;
        for (const QJsonObject &chunk : openAIChunks(r)) {
            QCOMPARE(chunk.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion.chunk"));
            if (chunk.value(QStringLiteral("usage")).isObject())
                usage = chunk.value(QStringLiteral("usage")).toObject();
        }
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInteger(), 200);
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens_details"))
                     .toObject()
                     .value(QStringLiteral("cached_tokens"))
                     .toInteger(),
            120);
        QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInteger(), 34);

        const QString path = m_h.mock->lastRequest().value(QStringLiteral("path")).toString();
        QVERIFY2(path.endsWith(QStringLiteral(":streamGenerateContent?alt=sse")), qPrintable(path));
        QCOMPARE(geminiModelOf(path.left(path.indexOf(u'?'))), kGeminiStream);

        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QVERIFY(row->stream);
        QVERIFY(!row->estimated);
        QCOMPARE(row->inputTokens, 80);
        QCOMPARE(row->cacheReadTokens, 120);
        QCOMPARE(row->outputTokens, 34);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(80, 120, 0, 0, 34));
    }

    void openAIClientToGeminiFunctionCalls()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("gem/flash"));
        body.insert(QStringLiteral("tools"), openAITools());
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject declaration = recordedBody(m_h.mock->lastRequest())
                                            .value(QStringLiteral("tools"))
                                            .toArray()[0]
                                            .toObject()
                                            .value(QStringLiteral("functionDeclarations"))
                                            .toArray()[0]
                                            .toObject();
        QCOMPARE(declaration.value(QStringLiteral("name")).toString(), QStringLiteral("get_weather"));
        const QJsonObject choice = r.json().value(QStringLiteral("choices")).toArray()[0].toObject();
        QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("tool_calls"));
        const QJsonObject call = choice.value(QStringLiteral("message"))
                                     .toObject()
                                     .value(QStringLiteral("tool_calls"))
                                     .toArray()[0]
                                     .toObject();
        const QString id = call.value(QStringLiteral("id")).toString();
        QVERIFY(!id.isEmpty()); // Gemini gives none: the gateway makes one up
        QCOMPARE(call.value(QStringLiteral("function")).toObject().value(QStringLiteral("name")).toString(),
            QStringLiteral("get_weather"));
        const QString arguments
            = call.value(QStringLiteral("function")).toObject().value(QStringLiteral("arguments")).toString();
        QCOMPARE(parseObject(arguments.toUtf8()), parseObject("{\"city\":\"Paris\",\"unit\":\"celsius\"}"));

        // Next turn: the call and its result go back as functionCall / functionResponse (the mock
        // checks Gemini's roles and fields; a 200 means it accepted them).
        QJsonObject next = chatCompletionRequest(QStringLiteral("gem/flash"));
        next.insert(QStringLiteral("tools"), openAITools());
        QJsonArray msgs = next.value(QStringLiteral("messages")).toArray();
        msgs.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), QJsonValue::Null}, {QStringLiteral("tool_calls"), QJsonArray{call}}});
        msgs.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")}, {QStringLiteral("tool_call_id"), id},
            {QStringLiteral("content"), QStringLiteral("{\"temperature\": 18}")}});
        next.insert(QStringLiteral("messages"), msgs);
        const HttpResponse second = chat(next);
        QVERIFY2(second.status == 200, qPrintable(second.describe()));
        const QByteArray sent
            = QJsonDocument(recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("contents")).toArray())
                  .toJson(QJsonDocument::Compact);
        QVERIFY2(sent.contains("\"functionCall\"") && sent.contains("\"functionResponse\""), sent.constData());
        QVERIFY(sent.contains("get_weather"));
    }

    void geminiErrorsInOpenAIShape()
    {
        HttpResponse r = chat(chatCompletionRequest(QStringLiteral("gem/fail429")));
        QCOMPARE(r.status, 429);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(r.header("retry-after"), QByteArray("4"));

        r = chat(chatCompletionRequest(QStringLiteral("gem/errstream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QCOMPARE(streamContent(r), QStringLiteral("Hello from"));
        const QJsonObject error = parseObject(data.at(data.size() - 2)).value(QStringLiteral("error")).toObject();
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("overloaded")),
            data.at(data.size() - 2).constData());
        const auto row = logged(r);
        QVERIFY(row);
        QVERIFY2(row->status >= 500, qPrintable(row->describe()));
        QVERIFY(row->error.contains(QStringLiteral("overloaded")));
    }

    void anthropicClientToGemini()
    {
        const HttpResponse r = messages(messagesRequest(QStringLiteral("gem/stream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QStringList names = eventNames(r);
        QCOMPARE(names.first(), QStringLiteral("message_start"));
        QCOMPARE(names.last(), QStringLiteral("message_stop"));
        QCOMPARE(anthropicStreamText(r), QStringLiteral("Hello from the mock"));
        QVERIFY(m_h.mock->lastRequest()
                    .value(QStringLiteral("path"))
                    .toString()
                    .endsWith(QStringLiteral(":streamGenerateContent?alt=sse")));
        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QCOMPARE(row->inputTokens, 80);
        QCOMPARE(row->cacheReadTokens, 120);
        QCOMPARE(row->outputTokens, 34);
    }

    // ---- The same conversation costs the same in every client format ---------------------------
    void sameConversationSameCost_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("input");
        QTest::addColumn<qint64>("cacheRead");
        QTest::addColumn<qint64>("cacheWrite");
        QTest::addColumn<qint64>("output");
        QTest::newRow("anthropic provider") << "anth/same" << qint64(700) << qint64(300) << qint64(100) << qint64(50);
        QTest::newRow("openai provider") << "oai/same" << qint64(800) << qint64(300) << qint64(0) << qint64(50);
        QTest::newRow("gemini provider") << "gem/same" << qint64(800) << qint64(300) << qint64(0) << qint64(50);
    }
    void sameConversationSameCost()
    {
        QFETCH(QString, model);
        QFETCH(qint64, input);
        QFETCH(qint64, cacheRead);
        QFETCH(qint64, cacheWrite);
        QFETCH(qint64, output);
        const qint64 expected = expectedNano(input, cacheRead, cacheWrite, 0, output);
        struct Attempt {
            const char *name;
            HttpResponse response;
        };
        const QList<Attempt> attempts{
            {"openai", chat(chatCompletionRequest(model))},
            {"openai stream", chat(chatCompletionRequest(model, true))},
            {"anthropic", messages(messagesRequest(model))},
            {"anthropic stream", messages(messagesRequest(model, true))},
        };
        for (const Attempt &a : attempts) {
            QVERIFY2(a.response.complete && a.response.status == 200,
                qPrintable(QString::fromLatin1(a.name) + u' ' + a.response.describe()));
            const auto row = logged(a.response);
            QVERIFY2(row, a.name);
            const QString what = QString::fromLatin1(a.name) + u' ' + row->describe();
            QVERIFY2(row->status == 200 && !row->estimated, qPrintable(what));
            QVERIFY2(row->inputTokens == input, qPrintable(what));
            QVERIFY2(row->cacheReadTokens == cacheRead, qPrintable(what));
            QVERIFY2(row->cacheWriteTokens == cacheWrite, qPrintable(what));
            QVERIFY2(row->outputTokens == output, qPrintable(what));
            QVERIFY2(row->costNanoUsd.value_or(-1) == expected,
                qPrintable(what + QStringLiteral(" expected %1").arg(expected)));
        }
    }
};

QTEST_GUILESS_MAIN(TestProvidersTranslate)
#include "tst_providers_translate.moc"
