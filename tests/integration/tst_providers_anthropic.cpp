// The gateway in front of an Anthropic-format provider (mock_upstream's Anthropic dialect), over real
// sockets: Anthropic clients passed through byte for byte except the model (cache_control markers
// untouched), the provider key in x-api-key and never the Gatehouse key, anthropic-version/-beta
// passed on; OpenAI clients translated (non-streaming, streaming with tools and consistent tool
// ids across turns); usage and cost in the log with cache read and write tokens, priced by hand;
// an error event inside a 200 stream; features Anthropic cannot express; count_tokens; upstream
// errors in the client's own format.
#include "providerstestkit.h"

#include <memory>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-providers-anthropic-0001";

// Tokens the mock bills for anth/cached (see the model list below).
constexpr qint64 kCachedInput = 1000;
constexpr qint64 kCachedRead = 3000;
constexpr qint64 kCachedWrite = 400;
constexpr qint64 kCachedWrite1h = 100;
constexpr qint64 kCachedOutput = 200;

// A Messages request with cache_control markers everywhere a prompt prefix can hold them, odd
// spacing, key order and escapes: the gateway must not change a byte of it but the model.
const QByteArray kCachedPrompt = R"({
  "system": [
    {"type": "text", "text": "You are a careful assistant. caf\u00e9", "cache_control": {"type": "ephemeral"}},
    {"type": "text", "text": "Reference document: lorem ipsum dolor sit amet.", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
  ],
  "model":   "anth/chat",
  "max_tokens": 1024,
  "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"z": {"type": "string"}, "a": {"type": "number"}}}, "cache_control": {"type": "ephemeral"}}],
  "tool_choice": {"type": "none"},
  "messages": [
    {"role": "user", "content": [{"type": "text", "text": "First turn", "cache_control": {"type": "ephemeral"}}]},
    {"role": "assistant", "content": "Noted."},
    {"role": "user", "content": [{"type": "text", "text": "Second turn"}, {"type": "text", "text": "tail", "cache_control": {"type": "ephemeral"}}]}
  ],
  "temperature": 0.50,
  "metadata": {"user_id": "u-1"}
}
)";

} // namespace

class TestProvidersAnthropic : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse messages(const QByteArray &body, const Headers &headers)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/messages", body, headers);
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
    // The upstream never sees the Gatehouse key, in any header or in the body.
    void verifyNoGatehouseKey(const QJsonObject &recorded)
    {
        const QJsonObject headers = recordedHeaders(recorded);
        for (auto it = headers.begin(); it != headers.end(); ++it)
            QVERIFY2(!it.value().toString().contains(QString::fromLatin1(kSecret)), qPrintable(it.key()));
        QVERIFY(!headers.contains(QStringLiteral("authorization")));
        QVERIFY(!recorded.value(QStringLiteral("body")).toString().contains(QString::fromLatin1(kSecret)));
        QCOMPARE(headers.value(QStringLiteral("x-api-key")).toString(), QString::fromLatin1(kProviderKey));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString anth = QStringLiteral("anth");
        const QString cached = QStringLiteral("ok@p=%1,c=%2,cache_read=%3,cache_write=%4,cache_write_1h=%5")
                                   .arg(kCachedInput)
                                   .arg(kCachedOutput)
                                   .arg(kCachedRead)
                                   .arg(kCachedWrite)
                                   .arg(kCachedWrite1h);
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, anth, QStringLiteral("anthropic")),
                    provider(*m_h.mock, QStringLiteral("oai"), QStringLiteral("openai")),
                    provider(*m_h.mock, QStringLiteral("gem"), QStringLiteral("gemini"))}},
            {QStringLiteral("models"),
                QJsonArray{pricedModel(QStringLiteral("anth/chat"), anth, QStringLiteral("ok")),
                    pricedModel(QStringLiteral("anth/cached"), anth, cached),
                    pricedModel(QStringLiteral("anth/stream"), anth,
                        QStringLiteral("ok@p=50,chunks=5,cache_read=20,cache_write=10")),
                    pricedModel(QStringLiteral("anth/errstream"), anth, QStringLiteral("error-in-stream@after=2,p=30")),
                    pricedModel(QStringLiteral("anth/fail401"), anth, QStringLiteral("fail-401")),
                    pricedModel(QStringLiteral("anth/fail404"), anth, QStringLiteral("fail-404")),
                    pricedModel(QStringLiteral("anth/fail429"), anth, QStringLiteral("fail-429@retry_after=3")),
                    pricedModel(QStringLiteral("anth/count"), anth, QStringLiteral("ok@p=321")),
                    pricedModel(QStringLiteral("oai/count"), QStringLiteral("oai"), QStringLiteral("ok@p=321")),
                    pricedModel(QStringLiteral("gem/count"), QStringLiteral("gem"), QStringLiteral("ok@p=321"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("providers"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (!m_h.gatewayRunning())
            return;
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        QCOMPARE(filesContaining(m_h.gateway->dataDir(), kProviderKey), QStringList());
        QCOMPARE(filesContaining(m_h.gateway->dataDir(), kSecret), QStringList());
    }

    // ---- Anthropic client -> Anthropic provider: passthrough ------------------------------------
    void passthroughByteForByteExceptModel()
    {
        const QByteArray beta = "prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11";
        const HttpResponse r = messages(kCachedPrompt, anthropicHeaders(kSecret, beta));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("anth"));
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("anth/chat"));
        QCOMPARE(r.json().value(QStringLiteral("type")).toString(), QStringLiteral("message"));
        QVERIFY(!anthropicText(r.json()).isEmpty());

        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/messages"));
        // Byte for byte, the model name aside: every cache_control marker where and as it was.
        QByteArray expected = kCachedPrompt;
        QCOMPARE(expected.count("\"anth/chat\""), 1);
        expected.replace("\"anth/chat\"", "\"ok\"");
        const QByteArray upstream = recorded.value(QStringLiteral("body")).toString().toUtf8();
        QCOMPARE(upstream, expected);
        QCOMPARE(upstream.count("\"cache_control\""), 5);

        verifyNoGatehouseKey(recorded);
        const QJsonObject headers = recordedHeaders(recorded);
        QCOMPARE(headers.value(QStringLiteral("anthropic-version")).toString(), QStringLiteral("2023-06-01"));
        QCOMPARE(headers.value(QStringLiteral("anthropic-beta")).toString(), QString::fromLatin1(beta));
    }

    void passthroughWithBearerKeyAndDefaultVersion()
    {
        // Claude Code with ANTHROPIC_AUTH_TOKEN sends the key as a bearer token and may omit the version.
        const QByteArray body = compact(messagesRequest(QStringLiteral("anth/chat")));
        const HttpResponse r = messages(body, bearer(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject recorded = m_h.mock->lastRequest();
        verifyNoGatehouseKey(recorded);
        QCOMPARE(recordedHeaders(recorded).value(QStringLiteral("anthropic-version")).toString(),
            QStringLiteral("2023-06-01"));
        QVERIFY(!recordedHeaders(recorded).contains(QStringLiteral("anthropic-beta")));
    }

    void passthroughUsageAndCostInLog()
    {
        const HttpResponse r
            = messages(compact(messagesRequest(QStringLiteral("anth/cached"))), anthropicHeaders(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        // The client gets Anthropic's own usage object, as the provider sent it.
        const QJsonObject usage = r.json().value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("cache_read_input_tokens")).toInteger(), kCachedRead);
        const auto row = logged(r);
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
        QCOMPARE(row->inputTokens, kCachedInput);
        QCOMPARE(row->cacheReadTokens, kCachedRead);
        QCOMPARE(row->cacheWriteTokens, kCachedWrite);
        QCOMPARE(row->cacheWrite1hTokens, kCachedWrite1h);
        QCOMPARE(row->outputTokens, kCachedOutput);
        QVERIFY(!row->estimated);
        QCOMPARE(row->costNanoUsd.value_or(-1),
            expectedNano(kCachedInput, kCachedRead, kCachedWrite, kCachedWrite1h, kCachedOutput));
        QCOMPARE(r.header("x-gatehouse-cost-usd").toDouble(), double(*row->costNanoUsd) / 1e9);
    }

    void passthroughStream()
    {
        const HttpResponse r
            = messages(compact(messagesRequest(QStringLiteral("anth/stream"), true)), anthropicHeaders(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        const QStringList names = eventNames(r);
        QCOMPARE(names.first(), QStringLiteral("message_start"));
        QCOMPARE(names.last(), QStringLiteral("message_stop"));
        QVERIFY(names.contains(QStringLiteral("ping")));
        QCOMPARE(anthropicStreamText(r), QStringLiteral("Hello from the mock upstream"));
        // Streaming changes nothing in the body either: byte for byte but the model.
        QByteArray expected = compact(messagesRequest(QStringLiteral("anth/stream"), true));
        expected.replace("\"anth/stream\"", "\"ok@p=50,chunks=5,cache_read=20,cache_write=10\"");
        QCOMPARE(m_h.mock->lastRequest().value(QStringLiteral("body")).toString().toUtf8(), expected);
        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QVERIFY(row->stream);
        QCOMPARE(row->inputTokens, 50);
        QCOMPARE(row->cacheReadTokens, 20);
        QCOMPARE(row->cacheWriteTokens, 10);
        QCOMPARE(row->outputTokens, 5);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(50, 20, 10, 0, 5));
    }

    // ---- OpenAI client -> Anthropic provider: translated -----------------------------------------
    void openAIClientNonStreaming()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("anth/cached"));
        body.remove(QStringLiteral("max_tokens")); // Anthropic requires it: the model's maximum is sent
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject o = r.json();
        QCOMPARE(o.value(QStringLiteral("object")).toString(), QStringLiteral("chat.completion"));
        QCOMPARE(o.value(QStringLiteral("model")).toString(), QStringLiteral("anth/cached"));
        const QJsonObject choice = o.value(QStringLiteral("choices")).toArray()[0].toObject();
        QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("stop"));
        QVERIFY(choice.value(QStringLiteral("message"))
                    .toObject()
                    .value(QStringLiteral("content"))
                    .toString()
                    .startsWith(QStringLiteral("Hello")));
        // OpenAI's prompt_tokens includes every cached token.
        const QJsonObject usage = o.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInteger(),
            kCachedInput + kCachedRead + kCachedWrite + kCachedWrite1h);
        QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInteger(), kCachedOutput);
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens_details"))
                     .toObject()
                     .value(QStringLiteral("cached_tokens"))
                     .toInteger(),
            kCachedRead);

        // What Anthropic received: its own format, the system prompt on top, max_tokens set.
        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/messages"));
        verifyNoGatehouseKey(recorded);
        QCOMPARE(recordedHeaders(recorded).value(QStringLiteral("anthropic-version")).toString(),
            QStringLiteral("2023-06-01"));
        const QJsonObject sent = recordedBody(recorded);
        QVERIFY(sent.value(QStringLiteral("model")).toString().startsWith(QStringLiteral("ok@")));
        QCOMPARE(sent.value(QStringLiteral("max_tokens")).toInteger(), 8192);
        const QJsonValue system = sent.value(QStringLiteral("system"));
        QVERIFY2(system.isString()
                ? system.toString() == QStringLiteral("You are terse.")
                : system.toArray().at(0).toObject().value(QStringLiteral("text")) == QStringLiteral("You are terse."),
            qPrintable(recorded.value(QStringLiteral("body")).toString()));
        const QJsonArray msgs = sent.value(QStringLiteral("messages")).toArray();
        QCOMPARE(msgs.size(), 1);
        QCOMPARE(msgs[0].toObject().value(QStringLiteral("role")).toString(), QStringLiteral("user"));

        // The log: Anthropic's usage normalized, the cost priced by hand with 1.25x and 2x cache writes.
        QCOMPARE(kCacheWrite, 1.25 * kInput);
        QCOMPARE(kCacheWrite1h, 2.0 * kInput);
        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QCOMPARE(row->provider, QStringLiteral("anth"));
        QCOMPARE(row->inputTokens, kCachedInput);
        QCOMPARE(row->cacheReadTokens, kCachedRead);
        QCOMPARE(row->cacheWriteTokens, kCachedWrite);
        QCOMPARE(row->cacheWrite1hTokens, kCachedWrite1h);
        QCOMPARE(row->outputTokens, kCachedOutput);
        // 1000 × $3 + 3000 × $0.30 + 400 × $3.75 + 100 × $6 + 200 × $15 per million = $0.009
        QCOMPARE(row->costNanoUsd.value_or(-1), qint64(9'000'000));
        QCOMPARE(
            expectedNano(kCachedInput, kCachedRead, kCachedWrite, kCachedWrite1h, kCachedOutput), qint64(9'000'000));
        QCOMPARE(r.header("x-gatehouse-cost-usd").toDouble(), 0.009);
    }

    void openAIClientStreamWithToolsAndConsistentIds()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("anth/stream"), true);
        body.insert(QStringLiteral("tools"), openAITools());
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QCOMPARE(r.eventData().last(), QByteArray("[DONE]"));

        // The tools reached Anthropic in its shape, the schema as it was.
        const QJsonObject sent = recordedBody(m_h.mock->lastRequest());
        QCOMPARE(sent.value(QStringLiteral("stream")).toBool(), true);
        const QJsonObject tool = sent.value(QStringLiteral("tools")).toArray()[0].toObject();
        QCOMPARE(tool.value(QStringLiteral("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(tool.value(QStringLiteral("input_schema")).toObject(), weatherSchema());

        // Text first, then the tool call: one id, on the call's first chunk, Anthropic's own.
        QCOMPARE(streamContent(r), QStringLiteral("Hello from the mock upstream"));
        const StreamedToolCall call = openAIStreamToolCall(r);
        QVERIFY2(call.id.startsWith(QStringLiteral("toolu_mock_")), qPrintable(call.id));
        QCOMPARE(call.idCount, 1);
        QCOMPARE(call.name, QStringLiteral("get_weather"));
        QCOMPARE(parseObject(call.arguments.toUtf8()), parseObject("{\"city\":\"Paris\",\"unit\":\"celsius\"}"));
        QCOMPARE(openAIFinishReason(r), QStringLiteral("tool_calls"));
        // Usage chunk (the client asked for it), with the cached tokens counted in prompt_tokens.
        QJsonObject usage;
        for (const QJsonObject &chunk : openAIChunks(r)) {
            if (chunk.value(QStringLiteral("usage")).isObject())
                usage = chunk.value(QStringLiteral("usage")).toObject();
        }
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInteger(), 80);
        QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInteger(), 5);

        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QCOMPARE(row->inputTokens, 50);
        QCOMPARE(row->cacheReadTokens, 20);
        QCOMPARE(row->cacheWriteTokens, 10);
        QCOMPARE(row->outputTokens, 5);
        QCOMPARE(row->costNanoUsd.value_or(-1), expectedNano(50, 20, 10, 0, 5));

        // The next turn carries the call and its result back: Anthropic must see the same id in
        // tool_use and tool_result (the mock refuses a tool_result without its tool_use).
        QJsonObject next = chatCompletionRequest(QStringLiteral("anth/chat"));
        next.insert(QStringLiteral("tools"), openAITools());
        QJsonArray msgs = next.value(QStringLiteral("messages")).toArray();
        msgs.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), QJsonValue::Null},
            {QStringLiteral("tool_calls"),
                QJsonArray{
                    QJsonObject{{QStringLiteral("id"), call.id}, {QStringLiteral("type"), QStringLiteral("function")},
                        {QStringLiteral("function"),
                            QJsonObject{{QStringLiteral("name"), call.name},
                                {QStringLiteral("arguments"), call.arguments}}}}}}});
        msgs.append(
            QJsonObject{{QStringLiteral("role"), QStringLiteral("tool")}, {QStringLiteral("tool_call_id"), call.id},
                {QStringLiteral("content"), QStringLiteral("18 degrees, sunny")}});
        next.insert(QStringLiteral("messages"), msgs);
        const HttpResponse second = chat(next);
        QVERIFY2(second.status == 200, qPrintable(second.describe()));
        const QJsonArray sentMsgs = recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("messages")).toArray();
        QCOMPARE(sentMsgs.size(), 3);
        const QJsonObject use = sentMsgs[1].toObject().value(QStringLiteral("content")).toArray().last().toObject();
        QCOMPARE(use.value(QStringLiteral("type")).toString(), QStringLiteral("tool_use"));
        QCOMPARE(use.value(QStringLiteral("id")).toString(), call.id);
        QCOMPARE(use.value(QStringLiteral("input")).toObject().value(QStringLiteral("city")).toString(),
            QStringLiteral("Paris"));
        const QJsonObject result = sentMsgs[2].toObject().value(QStringLiteral("content")).toArray()[0].toObject();
        QCOMPARE(result.value(QStringLiteral("type")).toString(), QStringLiteral("tool_result"));
        QCOMPARE(result.value(QStringLiteral("tool_use_id")).toString(), call.id);
        // This turn's answer calls the tool again, with Anthropic's id passed on unchanged.
        const QJsonObject answer = second.json()
                                       .value(QStringLiteral("choices"))
                                       .toArray()[0]
                                       .toObject()
                                       .value(QStringLiteral("message"))
                                       .toObject();
        QVERIFY(answer.value(QStringLiteral("tool_calls"))
                    .toArray()[0]
                    .toObject()
                    .value(QStringLiteral("id"))
                    .toString()
                    .startsWith(QStringLiteral("toolu_mock_")));
    }

    void openAIClientStreamWithoutUsageOption()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("anth/stream"), true);
        body.remove(QStringLiteral("stream_options"));
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.eventData().last(), QByteArray("[DONE]"));
        for (const QJsonObject &chunk : openAIChunks(r)) {
            QVERIFY2(!chunk.value(QStringLiteral("usage")).isObject(), "the client did not ask for usage");
            QCOMPARE(chunk.value(QStringLiteral("choices")).toArray().size(), 1);
        }
        QCOMPARE(openAIFinishReason(r), QStringLiteral("stop"));
        // Gatehouse still knows the usage from Anthropic's own events.
        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->inputTokens, 50);
        QCOMPARE(row->cacheReadTokens, 20);
        QCOMPARE(row->outputTokens, 5);
        QVERIFY(!row->estimated);
    }

    // ---- An error event inside a 200 stream ---------------------------------------------------
    void errorEventInsideStreamToOpenAIClient()
    {
        const HttpResponse r = chat(chatCompletionRequest(QStringLiteral("anth/errstream"), true));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QCOMPARE(streamContent(r), QStringLiteral("Hello from"));
        // The error reaches the client as an OpenAI error chunk, before [DONE].
        const QJsonObject error = parseObject(data[data.size() - 2]).value(QStringLiteral("error")).toObject();
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QStringLiteral("Overloaded")),
            data[data.size() - 2].constData());
        const auto row = logged(r);
        QVERIFY(row);
        QVERIFY2(row->status >= 500, qPrintable(row->describe()));
        QVERIFY2(row->error.contains(QStringLiteral("Overloaded")), qPrintable(row->describe()));
        QCOMPARE(row->inputTokens, 30); // message_start's usage arrived before the error
    }

    void errorEventInsideStreamToAnthropicClient()
    {
        const HttpResponse r
            = messages(compact(messagesRequest(QStringLiteral("anth/errstream"), true)), anthropicHeaders(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QStringList names = eventNames(r);
        QCOMPARE(names.last(), QStringLiteral("error"));
        QVERIFY(!names.contains(QStringLiteral("message_stop")));
        const QJsonObject error = parseObject(r.events.last().data);
        QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(error.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
            QStringLiteral("overloaded_error"));
        const auto row = logged(r);
        QVERIFY(row);
        QVERIFY2(row->status >= 500, qPrintable(row->describe()));
        QVERIFY(row->error.contains(QStringLiteral("Overloaded")));
    }

    // ---- What Anthropic cannot express --------------------------------------------------------
    void unexpressibleFeatureIsRefused_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("feature");
        QTest::newRow("n") << "n" << QJsonValue(2) << "n";
        QTest::newRow("logprobs") << "logprobs" << QJsonValue(true) << "logprobs";
        QTest::newRow("audio") << "audio"
                               << QJsonValue(QJsonObject{{QStringLiteral("voice"), QStringLiteral("alloy")},
                                      {QStringLiteral("format"), QStringLiteral("wav")}})
                               << "audio";
        QTest::newRow("logit_bias") << "logit_bias" << QJsonValue(QJsonObject{{QStringLiteral("50256"), -100}})
                                    << "logit_bias";
    }
    void unexpressibleFeatureIsRefused()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        QFETCH(QString, feature);
        QJsonObject body = chatCompletionRequest(QStringLiteral("anth/chat"));
        body.insert(field, value);
        const HttpResponse r = chat(body);
        QCOMPARE(r.status, 400);
        QCOMPARE(openAIErrorProblem(r), QString());
        QVERIFY2(errorMessage(r).contains(QStringLiteral("[feature: %1]").arg(feature)), qPrintable(errorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0); // nothing was sent upstream
        const auto row = logged(r);
        QVERIFY(row);
        QCOMPARE(row->status, 400);
        QCOMPARE(row->costNanoUsd.value_or(-1), 0);
    }

    void unexpressibleContentPartIsRefused()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("anth/chat"));
        body.insert(QStringLiteral("messages"),
            QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                {QStringLiteral("content"),
                    QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                   {QStringLiteral("text"), QStringLiteral("Transcribe")}},
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("input_audio")},
                            {QStringLiteral("input_audio"),
                                QJsonObject{{QStringLiteral("data"), QStringLiteral("UklGRg==")},
                                    {QStringLiteral("format"), QStringLiteral("wav")}}}}}}}});
        const HttpResponse r = chat(body);
        QCOMPARE(r.status, 400);
        QVERIFY2(errorMessage(r).contains(QStringLiteral("input_audio")), qPrintable(errorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }

    // ---- count_tokens ------------------------------------------------------------------------
    void countTokensForwardedToAnthropic()
    {
        QJsonObject body = messagesRequest(QStringLiteral("anth/count"));
        body.remove(QStringLiteral("max_tokens"));
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.post(
            "/v1/messages/count_tokens", compact(body), anthropicHeaders(kSecret, "token-counting-2024-11-01"));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json(), QJsonObject({{QStringLiteral("input_tokens"), 321}}));
        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/messages/count_tokens"));
        verifyNoGatehouseKey(recorded);
        QCOMPARE(recordedHeaders(recorded).value(QStringLiteral("anthropic-beta")).toString(),
            QStringLiteral("token-counting-2024-11-01"));
        QByteArray expected = compact(body);
        expected.replace("\"anth/count\"", "\"ok@p=321\"");
        QCOMPARE(recorded.value(QStringLiteral("body")).toString().toUtf8(), expected);
        // Not a billed request: no row in the log (the writer batches every <= 200 ms).
        QTest::qWait(400);
        const auto rows = m_h.db->all();
        QVERIFY2(rows, qPrintable(m_h.db->errorString()));
        for (const LoggedRequest &row : *rows)
            QVERIFY2(!row.endpoint.contains(QStringLiteral("count_tokens")), qPrintable(row.describe()));
    }

    void countTokensEstimatedForOtherProviders_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("openai") << "oai/count";
        QTest::newRow("gemini") << "gem/count";
    }
    void countTokensEstimatedForOtherProviders()
    {
        QFETCH(QString, model);
        QJsonObject body = messagesRequest(model);
        body.remove(QStringLiteral("max_tokens"));
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.post("/v1/messages/count_tokens", compact(body), anthropicHeaders(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const qint64 estimate = r.json().value(QStringLiteral("input_tokens")).toInteger(-1);
        // An estimate from the request itself (never the mock's 321, since nothing went upstream).
        QVERIFY2(estimate > 0 && estimate != 321, qPrintable(r.describe()));
        QVERIFY(estimate >= compact(body).size() / 5);
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }

    void countTokensErrorsInAnthropicShape()
    {
        HttpClient client(m_h.gateway->port());
        QJsonObject body = messagesRequest(QStringLiteral("nowhere/nope")); // no such provider
        body.remove(QStringLiteral("max_tokens"));
        HttpResponse r = client.post("/v1/messages/count_tokens", compact(body), anthropicHeaders(kSecret));
        QCOMPARE(r.status, 404);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QCOMPARE(anthropicErrorType(r), QStringLiteral("not_found_error"));
        r = client.post("/v1/messages/count_tokens", compact(body), anthropicHeaders("gk-wrong"));
        QCOMPARE(r.status, 401);
        QCOMPARE(anthropicErrorType(r), QStringLiteral("authentication_error"));
    }

    // ---- Upstream errors in the client's format ----------------------------------------------
    void upstreamErrorsInClientFormat()
    {
        // 404 from Anthropic: an Anthropic client gets Anthropic's body, an OpenAI client OpenAI's shape.
        HttpResponse r = messages(compact(messagesRequest(QStringLiteral("anth/fail404"))), anthropicHeaders(kSecret));
        QCOMPARE(r.status, 404);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QCOMPARE(anthropicErrorType(r), QStringLiteral("not_found_error"));
        r = chat(chatCompletionRequest(QStringLiteral("anth/fail404")));
        QCOMPARE(r.status, 404);
        QCOMPARE(openAIErrorProblem(r), QString());
        QVERIFY2(errorMessage(r).contains(QStringLiteral("fail-404")), qPrintable(r.describe()));

        // 429 keeps its Retry-After.
        r = chat(chatCompletionRequest(QStringLiteral("anth/fail429")));
        QCOMPARE(r.status, 429);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(r.header("retry-after"), QByteArray("3"));
        r = messages(compact(messagesRequest(QStringLiteral("anth/fail429"))), anthropicHeaders(kSecret));
        QCOMPARE(r.status, 429);
        QCOMPARE(anthropicErrorType(r), QStringLiteral("rate_limit_error"));

        // The provider refusing Gatehouse's own credentials is a gateway failure (502), in each shape.
        r = messages(compact(messagesRequest(QStringLiteral("anth/fail401"))), anthropicHeaders(kSecret));
        QCOMPARE(r.status, 502);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QVERIFY(!anthropicErrorMessage(r).contains(QString::fromLatin1(kProviderKey)));
        r = chat(chatCompletionRequest(QStringLiteral("anth/fail401")));
        QCOMPARE(r.status, 502);
        QCOMPARE(openAIErrorProblem(r), QString());
    }

    void gatewayErrorsInAnthropicShape()
    {
        HttpResponse r
            = messages(compact(messagesRequest(QStringLiteral("anth/chat"))), anthropicHeaders("gk-not-a-key"));
        QCOMPARE(r.status, 401);
        QCOMPARE(anthropicErrorProblem(r), QString());
        QCOMPARE(anthropicErrorType(r), QStringLiteral("authentication_error"));
        r = messages("{\"model\": \"anth/chat\", \"max_tokens\": 5,", anthropicHeaders(kSecret));
        QCOMPARE(r.status, 400);
        QCOMPARE(anthropicErrorType(r), QStringLiteral("invalid_request_error"));
        r = messages(compact(messagesRequest(QStringLiteral("nowhere/missing"))), anthropicHeaders(kSecret));
        QCOMPARE(r.status, 404);
        QCOMPARE(anthropicErrorType(r), QStringLiteral("not_found_error"));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestProvidersAnthropic)
#include "tst_providers_anthropic.moc"
