// The gateway's request path over real sockets: the gatehouse binary in front of mock_upstream.
// Non-streaming and streaming chat, embeddings, what the upstream receives (byte for byte), cost
// headers against hand-computed prices, /v1/models, /v1/key, /healthz, and the request log.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <memory>

using namespace gh::test;

namespace {

const QByteArray kProxySecret = "gk-itest-proxy-0001";
const QByteArray kLimitedSecret = "gk-itest-limited-0002";
const QByteArray kMeterSecret = "gk-itest-meter-0003";

// Prices of mock/priced, USD per million tokens.
constexpr double kPricedInput = 2.0;
constexpr double kPricedOutput = 8.0;
constexpr double kPricedCacheRead = 0.5;
// Prices of mock/stream.
constexpr double kStreamInput = 3.0;
constexpr double kStreamOutput = 5.0;

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// The recorded request's billed usage: {prompt_tokens, completion_tokens, cached_tokens}.
QJsonObject billedOf(const QJsonObject &recorded)
{
    return recorded.value(QStringLiteral("billed")).toObject();
}

QByteArray recordedBody(const QJsonObject &recorded)
{
    return recorded.value(QStringLiteral("body")).toString().toUtf8();
}

} // namespace

class TestGatewayProxy : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse chat(const QByteArray &body, const QByteArray &secret = kProxySecret, RequestOptions options = {})
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", body, bearer(secret), options);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString mock = QStringLiteral("mock");
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{mockProvider(*m_h.mock), mockProvider(*m_h.mock, QStringLiteral("other"))}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/priced"), mock, QStringLiteral("ok@p=1000,c=500,cached=200"),
                        kPricedInput, kPricedOutput, kPricedCacheRead),
                    mockModel(QStringLiteral("mock/chat"), mock, QStringLiteral("ok"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/stream"), mock, QStringLiteral("ok@p=40,c=7"), kStreamInput,
                        kStreamOutput),
                    mockModel(
                        QStringLiteral("mock/slow"), mock, QStringLiteral("stream-slow@delay=200,chunks=5"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/embed"), mock, QStringLiteral("ok@p=12"), 0.1, 0.0),
                    mockModel(QStringLiteral("mock/nousage"), mock, QStringLiteral("no-usage"), 1.0, 2.0),
                    mockModel(QStringLiteral("other/x"), QStringLiteral("other"), QStringLiteral("ok"), 1.0, 1.0),
                }},
            {QStringLiteral("keys"),
                QJsonArray{
                    testKey(QStringLiteral("proxy"), QString::fromLatin1(kProxySecret), {QStringLiteral("mock/*")}),
                    testKey(
                        QStringLiteral("limited"), QString::fromLatin1(kLimitedSecret), {QStringLiteral("mock/chat")}),
                    testKey(QStringLiteral("meter"), QString::fromLatin1(kMeterSecret), {},
                        QJsonObject{{QStringLiteral("day_usd"), 1.0}, {QStringLiteral("week_usd"), 2.0},
                            {QStringLiteral("total_usd"), 10.0}}),
                }},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (!m_h.gatewayRunning())
            return;
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        // The provider's API key never leaves memory: not in the output, not in the data folder.
        QVERIFY(!m_h.gateway->stdoutText().contains(QLatin1String(kProviderKey)));
        QVERIFY(!m_h.gateway->stderrText().contains(QLatin1String(kProviderKey)));
        QCOMPARE(filesContaining(m_h.gateway->dataDir(), kProviderKey), QStringList());
        // Gatehouse keys are stored as hashes only.
        QCOMPARE(filesContaining(m_h.gateway->dataDir(), kProxySecret), QStringList());
        QCOMPARE(filesContaining(m_h.gateway->dataDir(), kMeterSecret), QStringList());
    }

    void nonStreamingChatCostAndHeaders()
    {
        const HttpResponse r = chat(compact(chatRequest(QStringLiteral("mock/priced"))));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("application/json"));
        const QByteArray requestId = r.header("x-gatehouse-request-id");
        QVERIFY2(requestId.startsWith("req_") && requestId.size() > 8, requestId.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("mock"));
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("mock/priced"));
        QVERIFY(!chatContent(r).isEmpty());

        // What the mock billed, priced by hand with the config's prices.
        const QJsonObject recorded = m_h.mock->lastRequest();
        const QJsonObject billed = billedOf(recorded);
        const qint64 prompt = billed.value(QStringLiteral("prompt_tokens")).toInteger();
        const qint64 completion = billed.value(QStringLiteral("completion_tokens")).toInteger();
        const qint64 cached = billed.value(QStringLiteral("cached_tokens")).toInteger();
        QCOMPARE(prompt, 1000);
        QCOMPARE(completion, 500);
        QCOMPARE(cached, 200);
        // (1000 - 200) × $2/M + 200 × $0.5/M + 500 × $8/M = $0.0016 + $0.0001 + $0.004 = $0.0057
        const double expected = (double(prompt - cached) * kPricedInput + double(cached) * kPricedCacheRead
                                    + double(completion) * kPricedOutput)
            / 1e6;
        QCOMPARE(expected, 0.0057);
        bool ok = false;
        const double cost = r.header("x-gatehouse-cost-usd").toDouble(&ok);
        QVERIFY2(ok, r.header("x-gatehouse-cost-usd").constData());
        QVERIFY2(qAbs(cost - expected) < 1e-9, r.header("x-gatehouse-cost-usd").constData());
        QVERIFY(!r.hasHeader("x-gatehouse-usage")); // reported, not estimated

        const auto row = m_h.db->waitFor(QString::fromLatin1(requestId));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
        QCOMPARE(row->keyName, QStringLiteral("proxy"));
        QCOMPARE(row->endpoint, QStringLiteral("/v1/chat/completions"));
        QCOMPARE(row->requestedModel, QStringLiteral("mock/priced"));
        QCOMPARE(row->provider, QStringLiteral("mock"));
        QCOMPARE(row->upstreamModel, QStringLiteral("ok@p=1000,c=500,cached=200"));
        QCOMPARE(row->inputTokens, 800); // uncached input
        QCOMPARE(row->cacheReadTokens, 200);
        QCOMPARE(row->outputTokens, 500);
        QVERIFY(row->usageReported);
        QVERIFY(!row->estimated);
        QVERIFY(!row->stream);
        QCOMPARE(row->attempts, 1);
        QVERIFY(row->costNanoUsd.has_value());
        QCOMPARE(*row->costNanoUsd, qint64(5'700'000));
        QVERIFY(row->error.isEmpty());
    }

    // Claude Code's x-claude-code-session-id goes on the log row (Activity filters on it, the Dashboard
    // sums spend per session); a value that is not a short token is not stored.
    void sessionIdOnTheRow_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QString>("stored");
        QTest::newRow("uuid") << QByteArray("013e4a3b-985c-45ae-ad81-59b621cbeb7e")
                              << QStringLiteral("013e4a3b-985c-45ae-ad81-59b621cbeb7e");
        QTest::newRow("none") << QByteArray() << QString();
        QTest::newRow("too long") << QByteArray(129, 'a') << QString();
        QTest::newRow("longest") << QByteArray(128, 'b') << QString(128, u'b');
        QTest::newRow("markup") << QByteArray("<script>x</script>") << QString();
        QTest::newRow("spaces") << QByteArray("a b") << QString();
    }
    void sessionIdOnTheRow()
    {
        QFETCH(QByteArray, header);
        QFETCH(QString, stored);
        Headers headers = bearer(kProxySecret);
        if (!header.isEmpty())
            headers.append({"X-Claude-Code-Session-Id", header});
        HttpClient client(m_h.gateway->port());
        const HttpResponse r
            = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))), headers);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->sessionId, stored);
        QVERIFY(!QJsonDocument(m_h.mock->lastRequest()).toJson().contains(kProxySecret));
    }

    void upstreamGetsProviderKeyAndUnchangedBody_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("expected");
        QTest::addColumn<bool>("xApiKey");
        // Odd spacing, escapes, non-ASCII text, cache_control, a nested "model" that is not the
        // request's: only the top-level model value may change.
        const QByteArray tail
            = "\"messages\" : [ {\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"Be brief "
              "\\\"please\\\" \\u00e9 ☃\",\"cache_control\":{\"type\":\"ephemeral\"}}]},"
              "{\"role\":\"user\",\"content\":\"hi\"} ],  "
              "\"temperature\":0.25,\"metadata\":{\"model\":\"mock/chat\"},\"zeta\":[1,2.50,{\"a\":null}]}";
        QTest::newRow("model first") << QByteArray("{ \"model\" : \"mock/chat\", ") + tail + "\n"
                                     << QByteArray("{ \"model\" : \"ok\", ") + tail + "\n"
                                     << false;
        QTest::newRow("model last")
            << QByteArray(
                   "{\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"mock/chat\"}")
            << QByteArray("{\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"ok\"}")
            << false;
        QTest::newRow("x-api-key")
            << QByteArray(
                   "{\"model\":\"mock/chat\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":false}")
            << QByteArray("{\"model\":\"ok\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":false}")
            << true;
    }

    void upstreamGetsProviderKeyAndUnchangedBody()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, expected);
        QFETCH(bool, xApiKey);
        HttpClient client(m_h.gateway->port());
        const Headers auth = xApiKey ? Headers{{"x-api-key", kProxySecret}} : bearer(kProxySecret);
        const HttpResponse r = client.post("/v1/chat/completions", body, auth);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY(m_h.mock->waitForRequests(1));
        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/chat/completions"));
        QCOMPARE(recordedBody(recorded), expected);
        QCOMPARE(recorded.value(QStringLiteral("body_size")).toInteger(), qint64(expected.size()));
        const QJsonObject headers = recorded.value(QStringLiteral("headers")).toObject();
        QCOMPARE(headers.value(QStringLiteral("authorization")).toString(),
            QStringLiteral("Bearer ") + QLatin1String(kProviderKey));
        QVERIFY(!headers.contains(QStringLiteral("x-api-key")));
        for (auto it = headers.begin(); it != headers.end(); ++it)
            QVERIFY2(!it.value().toString().contains(QLatin1String("gk-itest")), qPrintable(it.key()));
    }

    void streamingRequestRewrite_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
        QTest::newRow("no stream_options") << QByteArray("{\"model\":\"mock/chat\",\"stream\":true,") + msgs + "}"
                                           << QByteArray("{\"model\":\"ok\",\"stream\":true,") + msgs
                + ",\"stream_options\":{\"include_usage\":true}}";
        QTest::newRow("empty stream_options")
            << QByteArray("{\"model\":\"mock/chat\",\"stream\":true,\"stream_options\":{},") + msgs + "}"
            << QByteArray("{\"model\":\"ok\",\"stream\":true,\"stream_options\":{\"include_usage\":true},") + msgs
                + "}";
        QTest::newRow("include_usage false")
            << QByteArray("{\"model\":\"mock/chat\",\"stream\":true,\"stream_options\": {\"include_usage\": false},")
                + msgs + "}"
            << QByteArray("{\"model\":\"ok\",\"stream\":true,\"stream_options\": {\"include_usage\": true},") + msgs
                + "}";
        QTest::newRow("include_usage true")
            << QByteArray("{\"model\":\"mock/chat\",\"stream\":true,\"stream_options\":{\"include_usage\":true},")
                + msgs + "}"
            << QByteArray("{\"model\":\"ok\",\"stream\":true,\"stream_options\":{\"include_usage\":true},") + msgs
                + "}";
    }

    void streamingRequestRewrite()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, expected);
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QVERIFY(m_h.mock->waitForRequests(1));
        QCOMPARE(recordedBody(m_h.mock->lastRequest()), expected);
        QCOMPARE(r.eventData().last(), QByteArray("[DONE]"));
    }

    // Chunks reach the client as the upstream sends them, not all at the end.
    void streamingChunksArriveAsSent()
    {
        const HttpResponse r = chat(compact(chatRequest(QStringLiteral("mock/slow"), QStringLiteral("hi"), true)));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY(r.hasHeader("x-gatehouse-request-id"));
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("mock/slow"));
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("mock"));
        QVERIFY(!r.hasHeader("x-gatehouse-cost-usd")); // not known when the head is sent
        QList<double> contentTimes;
        for (const SseEvent &e : r.events) {
            const QJsonObject o = QJsonDocument::fromJson(e.data).object();
            const QString piece = o.value(QStringLiteral("choices"))
                                      .toArray()
                                      .at(0)
                                      .toObject()
                                      .value(QStringLiteral("delta"))
                                      .toObject()
                                      .value(QStringLiteral("content"))
                                      .toString();
            if (!piece.isEmpty())
                contentTimes.append(e.atMs);
        }
        QCOMPARE(contentTimes.size(), 5);
        QString gaps;
        for (qsizetype i = 1; i < contentTimes.size(); ++i)
            gaps += QString::number(contentTimes[i] - contentTimes[i - 1], 'f', 0) + QLatin1Char(' ');
        for (qsizetype i = 1; i < contentTimes.size(); ++i) {
            const double gap = contentTimes[i] - contentTimes[i - 1];
            // 200 ms between upstream events; a buffering gateway would deliver them together.
            QVERIFY2(gap > 120 && gap < 1000, qPrintable(QStringLiteral("gaps (ms): ") + gaps));
        }
        // The first content event comes 200 ms after the role event, long before the end.
        QVERIFY2(r.headersAtMs >= 0 && r.headersAtMs < 150, qPrintable(QString::number(r.headersAtMs)));
        QVERIFY2(contentTimes.first() < 700, qPrintable(QString::number(contentTimes.first())));
        QVERIFY2(r.elapsedMs - contentTimes.first() > 900, qPrintable(QString::number(r.elapsedMs)));
    }

    void streamingUsageChunkStripped()
    {
        const HttpResponse r
            = chat(compact(chatRequest(QStringLiteral("mock/stream"), QStringLiteral("hi"), true, false)));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QVERIFY(!data.isEmpty());
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QCOMPARE(data.count(QByteArray("[DONE]")), 1);
        for (const QByteArray &d : data.first(data.size() - 1)) {
            const QJsonObject o = QJsonDocument::fromJson(d).object();
            QVERIFY2(!o.isEmpty(), d.constData());
            QVERIFY2(!o.value(QStringLiteral("usage")).isObject(), d.constData());
            QVERIFY2(!o.value(QStringLiteral("choices")).toArray().isEmpty(), d.constData()); // no usage-only chunk
        }
        QCOMPARE(streamContent(r), QStringLiteral("Hello from the mock upstream"));

        // The gateway still learned the usage it asked for, and priced it.
        const QJsonObject billed = billedOf(m_h.mock->lastRequest());
        QCOMPARE(billed.value(QStringLiteral("prompt_tokens")).toInteger(), 40);
        QCOMPARE(billed.value(QStringLiteral("completion_tokens")).toInteger(), 7);
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
        QVERIFY(row->stream);
        QVERIFY(row->usageReported);
        QVERIFY(!row->estimated);
        QCOMPARE(row->inputTokens, 40);
        QCOMPARE(row->outputTokens, 7);
        // 40 × $3/M + 7 × $5/M = $0.000155
        QCOMPARE(*row->costNanoUsd, qint64((40 * kStreamInput + 7 * kStreamOutput) * 1000));
        QVERIFY(row->ttftMs >= 0 && row->ttftMs <= row->latencyMs);
    }

    void streamingUsageChunkKeptWhenAsked()
    {
        const HttpResponse r
            = chat(compact(chatRequest(QStringLiteral("mock/stream"), QStringLiteral("hi"), true, true)));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        int usageChunks = 0;
        for (const QByteArray &d : data.first(data.size() - 1)) {
            const QJsonObject usage = QJsonDocument::fromJson(d).object().value(QStringLiteral("usage")).toObject();
            if (usage.isEmpty())
                continue;
            ++usageChunks;
            QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInteger(), 40);
            QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInteger(), 7);
        }
        QCOMPARE(usageChunks, 1);
        QCOMPARE(streamContent(r), QStringLiteral("Hello from the mock upstream"));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(*row->costNanoUsd, qint64((40 * kStreamInput + 7 * kStreamOutput) * 1000));
    }

    // A provider that reports no usage: the response still goes out, with an estimated cost.
    void noUsageReportedIsEstimated()
    {
        const QByteArray body = compact(chatRequest(QStringLiteral("mock/nousage"), QStringLiteral("Say hello")));
        const HttpResponse r = chat(body);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-usage"), QByteArray("estimated"));
        QVERIFY(
            r.json().value(QStringLiteral("usage")).isUndefined() || r.json().value(QStringLiteral("usage")).isNull());
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY(row->estimated);
        QVERIFY(!row->usageReported);
        QCOMPARE(row->inputTokens, (body.size() + 2) / 3); // about one token per 3 bytes, rounded up
        QVERIFY(row->outputTokens > 0);
        bool ok = false;
        const double cost = r.header("x-gatehouse-cost-usd").toDouble(&ok);
        QVERIFY(ok);
        QVERIFY(qAbs(cost - row->costUsd()) < 1e-9);
        QVERIFY(cost > 0);
    }

    void embeddings()
    {
        HttpClient client(m_h.gateway->port());
        const QByteArray body = "{\"model\":\"mock/embed\",\"input\":[\"first text\",\"second text\"]}";
        const HttpResponse r = client.post("/v1/embeddings", body, bearer(kProxySecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("mock/embed"));
        const QJsonArray data = r.json().value(QStringLiteral("data")).toArray();
        QCOMPARE(data.size(), 2);
        QCOMPARE(data.at(0).toObject().value(QStringLiteral("embedding")).toArray().size(), 8);
        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/embeddings"));
        QCOMPARE(
            recordedBody(recorded), QByteArray("{\"model\":\"ok@p=12\",\"input\":[\"first text\",\"second text\"]}"));
        // 12 prompt tokens × $0.1/M = $0.0000012
        QCOMPARE(billedOf(recorded).value(QStringLiteral("prompt_tokens")).toInteger(), 12);
        bool ok = false;
        const double cost = r.header("x-gatehouse-cost-usd").toDouble(&ok);
        QVERIFY(ok);
        QVERIFY2(qAbs(cost - 12 * 0.1 / 1e6) < 1e-12, r.header("x-gatehouse-cost-usd").constData());
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->endpoint, QStringLiteral("/v1/embeddings"));
        QCOMPARE(row->inputTokens, 12);
        QCOMPARE(row->outputTokens, 0);
        QCOMPARE(*row->costNanoUsd, qint64(1200));
    }

    void modelsListOnlyAllowedModels_data()
    {
        QTest::addColumn<QByteArray>("secret");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("mock/*") << kProxySecret
                                << QStringList{QStringLiteral("mock/chat"), QStringLiteral("mock/embed"),
                                       QStringLiteral("mock/nousage"), QStringLiteral("mock/priced"),
                                       QStringLiteral("mock/slow"), QStringLiteral("mock/stream")};
        QTest::newRow("one model") << kLimitedSecret << QStringList{QStringLiteral("mock/chat")};
        QTest::newRow("every model") << kMeterSecret
                                     << QStringList{QStringLiteral("mock/chat"), QStringLiteral("mock/embed"),
                                            QStringLiteral("mock/nousage"), QStringLiteral("mock/priced"),
                                            QStringLiteral("mock/slow"), QStringLiteral("mock/stream"),
                                            QStringLiteral("other/x")};
    }

    void modelsListOnlyAllowedModels()
    {
        QFETCH(QByteArray, secret);
        QFETCH(QStringList, expected);
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.get("/v1/models", bearer(secret));
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        const QJsonObject list = r.json();
        QCOMPARE(list.value(QStringLiteral("object")).toString(), QStringLiteral("list"));
        QStringList ids;
        for (const QJsonValue &m : list.value(QStringLiteral("data")).toArray()) {
            QCOMPARE(m.toObject().value(QStringLiteral("object")).toString(), QStringLiteral("model"));
            ids.append(m.toObject().value(QStringLiteral("id")).toString());
        }
        ids.sort();
        QCOMPARE(ids, expected);
        QCOMPARE(m_h.mock->receivedRequests().size(), 0); // answered by the gateway itself
    }

    void keyInfoLimitsSpendRemaining()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse before = client.get("/v1/key", bearer(kMeterSecret));
        QVERIFY2(before.status == 200, qPrintable(before.describe()));
        const QJsonObject b = before.json();
        QCOMPARE(b.value(QStringLiteral("name")).toString(), QStringLiteral("meter"));
        const QJsonObject limits = b.value(QStringLiteral("limits")).toObject();
        QCOMPARE(limits.value(QStringLiteral("day_usd")).toDouble(), 1.0);
        QCOMPARE(limits.value(QStringLiteral("week_usd")).toDouble(), 2.0);
        QVERIFY(limits.value(QStringLiteral("month_usd")).isNull());
        QCOMPARE(limits.value(QStringLiteral("total_usd")).toDouble(), 10.0);
        QCOMPARE(b.value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble(), 0.0);

        const HttpResponse r = chat(compact(chatRequest(QStringLiteral("mock/priced"))), kMeterSecret);
        QVERIFY2(r.status == 200, qPrintable(r.describe()));

        const HttpResponse after = client.get("/v1/key", bearer(kMeterSecret));
        QVERIFY2(after.status == 200, qPrintable(after.describe()));
        const QJsonObject a = after.json();
        const QJsonObject spend = a.value(QStringLiteral("spend")).toObject();
        const QJsonObject remaining = a.value(QStringLiteral("remaining")).toObject();
        for (const char *period : {"day_usd", "week_usd", "month_usd", "total_usd"})
            QVERIFY2(qAbs(spend.value(QLatin1String(period)).toDouble() - 0.0057) < 1e-9, period);
        QVERIFY(qAbs(remaining.value(QStringLiteral("day_usd")).toDouble() - (1.0 - 0.0057)) < 1e-9);
        QVERIFY(qAbs(remaining.value(QStringLiteral("week_usd")).toDouble() - (2.0 - 0.0057)) < 1e-9);
        QVERIFY(remaining.value(QStringLiteral("month_usd")).isNull());
        QVERIFY(qAbs(remaining.value(QStringLiteral("total_usd")).toDouble() - (10.0 - 0.0057)) < 1e-9);
        QCOMPARE(a.value(QStringLiteral("reserved_usd")).toDouble(), 0.0);

        // Another key's view is its own.
        const HttpResponse other = client.get("/v1/key", bearer(kLimitedSecret));
        QCOMPARE(other.json().value(QStringLiteral("name")).toString(), QStringLiteral("limited"));
        QVERIFY(other.json().value(QStringLiteral("limits")).toObject().value(QStringLiteral("day_usd")).isNull());
    }

    void healthz()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.get("/healthz");
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QCOMPARE(r.json().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QVERIFY(!r.json().value(QStringLiteral("version")).toString().isEmpty());
        QVERIFY(r.hasHeader("x-gatehouse-request-id"));
    }

    void keepAliveConnectionServesManyRequests()
    {
        HttpClient client(m_h.gateway->port());
        client.setKeepAlive(true);
        client.setBearer(kProxySecret);
        for (int i = 0; i < 5; ++i) {
            const HttpResponse r
                = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))));
            QVERIFY2(r.status == 200, qPrintable(r.describe()));
            const HttpResponse s = client.post(
                "/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/stream"), QStringLiteral("x"), true)));
            QVERIFY2(s.complete && s.status == 200, qPrintable(s.describe()));
        }
        QCOMPARE(client.connectionsOpened(), 1);
    }
};

QTEST_GUILESS_MAIN(TestGatewayProxy)
#include "tst_gateway_proxy.moc"
