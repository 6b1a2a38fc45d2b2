// The response cache through the real gateway binary against the mock provider: a hit, a miss and
// a bypass in every client format (chat completions, completions, responses, messages, embeddings, Gemini),
// streamed hits replayed event for event, hits charged $0 and logged with what they saved, and
// what is never cached (errors, cut streams, tool calls unless allowed, other keys' answers unless
// shared, keys that forbid storing bodies). Two concurrent identical requests both reach the
// provider (no coalescing, docs/response-cache.md). The answers survive a restart.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QFile>
#include <QTest>
#include <thread>

using namespace gh::test;

namespace {

const QByteArray kCached = "gk-itest-cache-0001";
const QByteArray kOther = "gk-itest-cache-other-01";
const QByteArray kShareA = "gk-itest-cache-share-a1";
const QByteArray kShareB = "gk-itest-cache-share-b1";
const QByteArray kNoBodies = "gk-itest-cache-nobody-1";
const QByteArray kPlain = "gk-itest-cache-plain-01";
const QByteArray kLimited = "gk-itest-cache-limit-01";

QJsonObject cachePolicy(int ttl, bool shared = false)
{
    QJsonObject o{{QStringLiteral("ttl_s"), ttl}};
    if (shared)
        o.insert(QStringLiteral("shared"), true);
    return o;
}

QJsonObject withCache(QJsonObject key, const QJsonObject &policy)
{
    key.insert(QStringLiteral("response_cache"), policy);
    return key;
}

// A chat body with temperature 0 and a distinct question (each test its own, so entries do not mix).
QByteArray chatBody(const QString &model, const QString &question, bool stream = false, const QJsonValue &temperature = 0)
{
    QJsonObject o{{QStringLiteral("model"), model},
                  {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                      {QStringLiteral("content"), question}}}},
                  {QStringLiteral("max_tokens"), 64}};
    if (!temperature.isUndefined())
        o.insert(QStringLiteral("temperature"), temperature);
    if (stream)
        o.insert(QStringLiteral("stream"), true);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray messagesBody(const QString &model, const QString &question, bool stream)
{
    QJsonObject o{{QStringLiteral("model"), model},
                  {QStringLiteral("max_tokens"), 64},
                  {QStringLiteral("temperature"), 0},
                  {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                      {QStringLiteral("content"), question}}}}};
    if (stream)
        o.insert(QStringLiteral("stream"), true);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

Headers anthropicHeaders(const QByteArray &secret)
{
    return {{"x-api-key", secret}, {"anthropic-version", "2023-06-01"}};
}

// The events of a stream without their ids' differences: the replay must be the same events, in
// the same order, with the same names and data (it is the same bytes).
QList<QByteArray> eventShape(const HttpResponse &r)
{
    QList<QByteArray> out;
    for (const SseEvent &e : parseSse(r.body))
        out.append(e.event + '\n' + e.data);
    return out;
}

} // namespace

class TestGatewayResponseCache : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const QByteArray &path, const QByteArray &body, const Headers &headers)
    {
        HttpClient client(m_h.gateway->port());
        return client.post(path, body, headers);
    }

    qint64 received(const QString &upstream) { return m_h.mock->requestCount(upstream); }

    // The log's verdict of a response, once its row is written.
    QString loggedCache(const HttpResponse &r, qint64 *saved = nullptr)
    {
        const QString id = QString::fromLatin1(r.header("x-gatehouse-request-id"));
        if (!m_h.db->waitFor(id))
            return QStringLiteral("<no row>");
        const auto c = m_h.db->cacheOf(id);
        if (!c)
            return QStringLiteral("<unreadable>");
        if (saved)
            *saved = c->savedNanoUsd;
        return c->status;
    }

    QJsonObject config()
    {
        const QString mock = QStringLiteral("mock");
        QJsonObject cachedRoute{{QStringLiteral("id"), QStringLiteral("cached-tools")},
                                {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), QStringLiteral("mock/tools")}}}},
                                {QStringLiteral("response_cache"), QJsonObject{{QStringLiteral("ttl_s"), 600}, {QStringLiteral("tool_calls"), true}}}};
        QJsonObject noBodies = withCache(testKey(QStringLiteral("nobodies"), QString::fromLatin1(kNoBodies)), cachePolicy(600));
        noBodies.insert(QStringLiteral("store_bodies"), false);
        return QJsonObject{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"), QJsonArray{mockModel(QStringLiteral("mock/ok"), mock, QStringLiteral("ok"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/slow"), mock, QStringLiteral("stream-slow@delay=150"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/tools"), mock, QStringLiteral("tools-answer"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/bad"), mock, QStringLiteral("fail-400"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/cut"), mock, QStringLiteral("error-in-stream"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/reset"), mock, QStringLiteral("reset-mid-stream"), 1.0, 2.0),
                                                  mockModel(QStringLiteral("mock/embed"), mock, QStringLiteral("ok"), 1.0, 0.0)}},
            {QStringLiteral("keys"), QJsonArray{withCache(testKey(QStringLiteral("cached"), QString::fromLatin1(kCached)), cachePolicy(600)),
                                                withCache(testKey(QStringLiteral("other"), QString::fromLatin1(kOther)), cachePolicy(600)),
                                                withCache(testKey(QStringLiteral("share-a"), QString::fromLatin1(kShareA)), cachePolicy(600, true)),
                                                withCache(testKey(QStringLiteral("share-b"), QString::fromLatin1(kShareB)), cachePolicy(600, true)),
                                                noBodies,
                                                testKey(QStringLiteral("plain"), QString::fromLatin1(kPlain)),
                                                withCache(testKey(QStringLiteral("limited"), QString::fromLatin1(kLimited), {},
                                                                  QJsonObject{{QStringLiteral("day_usd"), 0.001}}),
                                                          cachePolicy(600))}},
            {QStringLiteral("routes"), QJsonArray{cachedRoute}},
        };
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        QVERIFY2(m_h.startGateway(config()), qPrintable(m_h.error));
    }

    void cleanupTestCase() { QVERIFY2(m_h.stop(), qPrintable(m_h.error)); }

    void chatMissThenHit()
    {
        const qint64 before = received(QStringLiteral("ok"));
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("chat: what is 2+2?"));
        const HttpResponse miss = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(miss.status, 200);
        QCOMPARE(miss.header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(received(QStringLiteral("ok")), before + 1);
        qint64 saved = -1;
        QCOMPARE(loggedCache(miss, &saved), QStringLiteral("miss"));
        QCOMPARE(saved, 0);
        const auto missRow = m_h.db->waitFor(QString::fromLatin1(miss.header("x-gatehouse-request-id")));
        QVERIFY(missRow && missRow->costNanoUsd && *missRow->costNanoUsd > 0);

        // The same request with its members in another order and other spacing: the same entry.
        QJsonObject reordered = QJsonDocument::fromJson(body).object();
        QByteArray spaced = QJsonDocument(reordered).toJson(QJsonDocument::Indented);
        const HttpResponse hit = post("/v1/chat/completions", spaced, bearer(kCached));
        QCOMPARE(hit.status, 200);
        QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(hit.body, miss.body); // the answer as first received, byte for byte
        QCOMPARE(hit.header("x-gatehouse-cost-usd"), QByteArray("0.000000000"));
        QCOMPARE(hit.header("x-gatehouse-model"), QByteArray("mock/ok"));
        QCOMPARE(received(QStringLiteral("ok")), before + 1); // not forwarded
        QCOMPARE(loggedCache(hit, &saved), QStringLiteral("hit"));
        QCOMPARE(saved, *missRow->costNanoUsd); // what it saved: what the same answer cost
        const auto hitRow = m_h.db->waitFor(QString::fromLatin1(hit.header("x-gatehouse-request-id")));
        QVERIFY(hitRow);
        QCOMPARE(hitRow->costNanoUsd.value_or(-1), 0);
        QCOMPARE(hitRow->inputTokens + hitRow->outputTokens, 0);
        QCOMPARE(hitRow->modelId, QStringLiteral("mock/ok"));
    }

    void chatStreamReplayedEventForEvent()
    {
        const qint64 before = received(QStringLiteral("ok"));
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("chat stream: name three colours"), true);
        const HttpResponse miss = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(miss.status, 200);
        QCOMPARE(miss.header("x-gatehouse-cache"), QByteArray("miss"));
        QVERIFY(miss.header("content-type").startsWith("text/event-stream"));
        const HttpResponse hit = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(hit.status, 200);
        QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        QVERIFY(hit.header("content-type").startsWith("text/event-stream"));
        QVERIFY(eventShape(miss).size() >= 3);
        QCOMPARE(eventShape(hit), eventShape(miss));
        QCOMPARE(hit.eventData().constLast(), QByteArray("[DONE]"));
        QCOMPARE(streamContent(hit), streamContent(miss));
        QCOMPARE(received(QStringLiteral("ok")), before + 1);
        // A JSON request of the same question is another entry: each form is replayed as it was received.
        const HttpResponse json = post("/v1/chat/completions", chatBody(QStringLiteral("mock/ok"), QStringLiteral("chat stream: name three colours")), bearer(kCached));
        QCOMPARE(json.header("x-gatehouse-cache"), QByteArray("miss"));
        QVERIFY(json.header("content-type").startsWith("application/json"));
    }

    void everyClientFormat_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("anthropic");
        QTest::addColumn<bool>("stream");
        const QJsonObject completion{{QStringLiteral("model"), QStringLiteral("mock/ok")}, {QStringLiteral("prompt"), QStringLiteral("completions: say hi")},
                                     {QStringLiteral("temperature"), 0}, {QStringLiteral("max_tokens"), 16}};
        QJsonObject responses{{QStringLiteral("model"), QStringLiteral("mock/ok")}, {QStringLiteral("input"), QStringLiteral("responses: say hi")},
                              {QStringLiteral("temperature"), 0}};
        QJsonObject responsesStream = responses;
        responsesStream.insert(QStringLiteral("stream"), true);
        const QJsonObject embeddings{{QStringLiteral("model"), QStringLiteral("mock/embed")}, {QStringLiteral("input"), QStringLiteral("embeddings: hi")}};
        auto json = [](const QJsonObject &o) { return QJsonDocument(o).toJson(QJsonDocument::Compact); };
        QTest::newRow("chat") << QByteArray("/v1/chat/completions") << chatBody(QStringLiteral("mock/ok"), QStringLiteral("formats: chat")) << false << false;
        QTest::newRow("chat stream") << QByteArray("/v1/chat/completions") << chatBody(QStringLiteral("mock/ok"), QStringLiteral("formats: chat"), true) << false << true;
        QTest::newRow("completions") << QByteArray("/v1/completions") << json(completion) << false << false;
        QTest::newRow("responses") << QByteArray("/v1/responses") << json(responses) << false << false;
        QTest::newRow("responses stream") << QByteArray("/v1/responses") << json(responsesStream) << false << true;
        QTest::newRow("messages") << QByteArray("/v1/messages") << messagesBody(QStringLiteral("mock/ok"), QStringLiteral("formats: messages"), false) << true << false;
        QTest::newRow("messages stream") << QByteArray("/v1/messages") << messagesBody(QStringLiteral("mock/ok"), QStringLiteral("formats: messages"), true) << true << true;
        QTest::newRow("embeddings") << QByteArray("/v1/embeddings") << json(embeddings) << false << false;
        // The Gemini API (generateContent and its SSE stream), translated to the OpenAI-format mock.
        const QJsonObject gemini{{QStringLiteral("contents"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                     {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("formats: gemini")}}}}}}},
                                 {QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("temperature"), 0}}}};
        QTest::newRow("gemini") << QByteArray("/v1beta/models/mock/ok:generateContent") << json(gemini) << false << false;
        QTest::newRow("gemini stream") << QByteArray("/v1beta/models/mock/ok:streamGenerateContent?alt=sse") << json(gemini) << false << true;
    }

    void everyClientFormat()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, body);
        QFETCH(bool, anthropic);
        QFETCH(bool, stream);
        const Headers auth = anthropic ? anthropicHeaders(kCached) : bearer(kCached);
        const qint64 before = m_h.mock->billedTotal().requests;
        const HttpResponse miss = post(path, body, auth);
        QVERIFY2(miss.status == 200, qPrintable(miss.describe()));
        QCOMPARE(miss.header("x-gatehouse-cache"), QByteArray("miss"));
        const HttpResponse hit = post(path, body, auth);
        QVERIFY2(hit.status == 200, qPrintable(hit.describe()));
        QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(hit.header("content-type"), miss.header("content-type"));
        if (stream)
            QCOMPARE(eventShape(hit), eventShape(miss));
        else
            QCOMPARE(hit.body, miss.body);
        QCOMPARE(m_h.mock->billedTotal().requests, before + 1);
        QCOMPARE(loggedCache(hit), QStringLiteral("hit"));

        // The same request marked no-store, either way: forwarded, and said so.
        for (const auto &header : {std::pair<QByteArray, QByteArray>{"Cache-Control", "no-store"},
                                   std::pair<QByteArray, QByteArray>{"x-gatehouse-cache", "off"}}) {
            Headers h = auth;
            h.append(header);
            const HttpResponse bypass = post(path, body, h);
            QVERIFY2(bypass.status == 200, qPrintable(bypass.describe()));
            QCOMPARE(bypass.header("x-gatehouse-cache"), QByteArray("bypass"));
            QCOMPARE(loggedCache(bypass), QStringLiteral("bypass"));
        }
        QCOMPARE(m_h.mock->billedTotal().requests, before + 3);
    }

    void sampledRequestsBypass()
    {
        const qint64 before = received(QStringLiteral("ok"));
        // No temperature (the provider's default, 1) and a sampled temperature: both bypass.
        for (const QJsonValue &t : {QJsonValue(QJsonValue::Undefined), QJsonValue(0.7)}) {
            const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("sampled: tell a story"), false, t);
            for (int i = 0; i < 2; ++i) {
                const HttpResponse r = post("/v1/chat/completions", body, bearer(kCached));
                QCOMPARE(r.status, 200);
                QCOMPARE(r.header("x-gatehouse-cache"), QByteArray("bypass"));
            }
        }
        QCOMPARE(received(QStringLiteral("ok")), before + 4);
    }

    void keyWithoutPolicyHasNoHeader()
    {
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("plain: hello"));
        const qint64 before = received(QStringLiteral("ok"));
        for (int i = 0; i < 2; ++i) {
            const HttpResponse r = post("/v1/chat/completions", body, bearer(kPlain));
            QCOMPARE(r.status, 200);
            QVERIFY(!r.hasHeader("x-gatehouse-cache"));
            QCOMPARE(loggedCache(r), QString());
        }
        QCOMPARE(received(QStringLiteral("ok")), before + 2);
    }

    void errorsAndCutStreamsAreNotCached_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("upstream");
        QTest::addColumn<bool>("stream");
        QTest::addColumn<int>("status");
        QTest::newRow("400") << QStringLiteral("mock/bad") << QStringLiteral("fail-400") << false << 400;
        QTest::newRow("error inside the stream") << QStringLiteral("mock/cut") << QStringLiteral("error-in-stream") << true << 200;
        QTest::newRow("reset mid-stream") << QStringLiteral("mock/reset") << QStringLiteral("reset-mid-stream") << true << 200;
    }

    void errorsAndCutStreamsAreNotCached()
    {
        QFETCH(QString, model);
        QFETCH(QString, upstream);
        QFETCH(bool, stream);
        QFETCH(int, status);
        const QByteArray body = chatBody(model, QStringLiteral("never cached: ") + model, stream);
        const qint64 before = received(upstream);
        for (int i = 0; i < 2; ++i) {
            const HttpResponse r = post("/v1/chat/completions", body, bearer(kCached));
            QCOMPARE(r.status, status);
            QCOMPARE(r.header("x-gatehouse-cache"), QByteArray("miss"));
        }
        QCOMPARE(received(upstream), before + 2);
    }

    void toolCallsOnlyWhenTheRouteAllows()
    {
        QJsonObject o = QJsonDocument::fromJson(chatBody(QStringLiteral("mock/tools"), QStringLiteral("tools: what is the weather?"))).object();
        o.insert(QStringLiteral("tools"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                                                                 {QStringLiteral("function"), QJsonObject{{QStringLiteral("name"), QStringLiteral("get_weather")},
                                                                                                          {QStringLiteral("parameters"), QJsonObject{{QStringLiteral("type"), QStringLiteral("object")}}}}}}});
        const QByteArray direct = QJsonDocument(o).toJson(QJsonDocument::Compact);
        const qint64 before = received(QStringLiteral("tools-answer"));
        for (int i = 0; i < 2; ++i) {
            const HttpResponse r = post("/v1/chat/completions", direct, bearer(kCached));
            QCOMPARE(r.status, 200);
            QVERIFY(r.body.contains("\"tool_calls\""));
            QCOMPARE(r.header("x-gatehouse-cache"), QByteArray("miss")); // a tool call is not stored
        }
        QCOMPARE(received(QStringLiteral("tools-answer")), before + 2);
        // Through the route whose response_cache allows tool calls: stored, then replayed.
        o.insert(QStringLiteral("model"), QStringLiteral("cached-tools"));
        const QByteArray routed = QJsonDocument(o).toJson(QJsonDocument::Compact);
        const HttpResponse miss = post("/v1/chat/completions", routed, bearer(kCached));
        QCOMPARE(miss.header("x-gatehouse-cache"), QByteArray("miss"));
        const HttpResponse hit = post("/v1/chat/completions", routed, bearer(kCached));
        QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(hit.body, miss.body);
        QCOMPARE(received(QStringLiteral("tools-answer")), before + 3);
    }

    void keysDoNotShareUnlessAllowed()
    {
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("keys: what is the capital of France?"));
        const qint64 before = received(QStringLiteral("ok"));
        QCOMPARE(post("/v1/chat/completions", body, bearer(kCached)).header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(post("/v1/chat/completions", body, bearer(kOther)).header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(post("/v1/chat/completions", body, bearer(kShareA)).header("x-gatehouse-cache"), QByteArray("miss"));
        // share-b shares with share-a: its answer, not the private ones of "cached" and "other".
        const HttpResponse shared = post("/v1/chat/completions", body, bearer(kShareB));
        QCOMPARE(shared.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(received(QStringLiteral("ok")), before + 3);
    }

    void keyThatForbidsBodiesStoresNothing()
    {
        const QString question = QStringLiteral("nobodies: a secret plan 7f3a9c");
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), question);
        const qint64 before = received(QStringLiteral("ok"));
        for (int i = 0; i < 2; ++i) {
            const HttpResponse r = post("/v1/chat/completions", body, bearer(kNoBodies));
            QCOMPARE(r.status, 200);
            QCOMPARE(r.header("x-gatehouse-cache"), QByteArray("bypass"));
        }
        QCOMPARE(received(QStringLiteral("ok")), before + 2);
    }

    void hitConsumesNoBudget()
    {
        HttpClient client(m_h.gateway->port());
        auto daySpend = [&] {
            return client.get("/v1/key", bearer(kLimited)).json().value(QLatin1String("spend")).toObject().value(QLatin1String("day_usd")).toDouble();
        };
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("budget: one answer"));
        const HttpResponse miss = post("/v1/chat/completions", body, bearer(kLimited));
        QCOMPARE(miss.status, 200);
        const double spent = daySpend();
        QVERIFY(spent > 0);
        for (int i = 0; i < 5; ++i) {
            const HttpResponse hit = post("/v1/chat/completions", body, bearer(kLimited));
            QCOMPARE(hit.status, 200);
            QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        }
        QCOMPARE(daySpend(), spent);
    }

    void concurrentIdenticalRequestsAreNotCoalesced()
    {
        // Documented choice: no coalescing. Both reach the provider, both are misses, and the
        // answer stored is then served to the next one.
        const QByteArray body = chatBody(QStringLiteral("mock/slow"), QStringLiteral("concurrent: count to five"), true);
        const qint64 before = received(QStringLiteral("stream-slow@delay=150"));
        HttpResponse a, b;
        std::thread first([&] { a = HttpClient(m_h.gateway->port()).post("/v1/chat/completions", body, bearer(kCached)); });
        std::thread second([&] { b = HttpClient(m_h.gateway->port()).post("/v1/chat/completions", body, bearer(kCached)); });
        first.join();
        second.join();
        QCOMPARE(a.status, 200);
        QCOMPARE(b.status, 200);
        QCOMPARE(a.header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(b.header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(received(QStringLiteral("stream-slow@delay=150")), before + 2);
        const HttpResponse third = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(third.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(received(QStringLiteral("stream-slow@delay=150")), before + 2);
    }

    void answersSurviveARestart()
    {
        const QByteArray body = chatBody(QStringLiteral("mock/ok"), QStringLiteral("restart: remember me"));
        const HttpResponse miss = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(miss.header("x-gatehouse-cache"), QByteArray("miss"));
        QCOMPARE(m_h.gateway->terminate(), 0);
        QVERIFY(QFile::exists(m_h.gateway->dataDir() + QStringLiteral("/response-cache.db")));
        QVERIFY2(m_h.gateway->start(), qPrintable(m_h.gateway->stderrText()));
        const qint64 before = received(QStringLiteral("ok"));
        const HttpResponse hit = post("/v1/chat/completions", body, bearer(kCached));
        QCOMPARE(hit.header("x-gatehouse-cache"), QByteArray("hit"));
        QCOMPARE(hit.body, miss.body);
        QCOMPARE(received(QStringLiteral("ok")), before);
    }
};

QTEST_GUILESS_MAIN(TestGatewayResponseCache)
#include "tst_gateway_responsecache.moc"
