// The mock upstream and the test-support library, checked against each other: every behaviour of
// mock_upstream through the raw HttpClient, and GatewayProcess against a scripted stand-in.
#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace gh::test;

namespace {

QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QByteArray chatBody(const QString &model, bool stream = false, bool includeUsage = false)
{
    return QJsonDocument(chatRequest(model, QStringLiteral("Say hello"), stream, includeUsage)).toJson(QJsonDocument::Compact);
}

} // namespace

class TestMockUpstream : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;

    HttpResponse chat(const QString &model, bool stream = false, bool includeUsage = false, RequestOptions options = {})
    {
        HttpClient client(m_mock->port());
        return client.post("/v1/chat/completions", chatBody(model, stream, includeUsage), {}, options);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
        QVERIFY(m_mock->port() != 0);
        QCOMPARE(m_mock->baseUrl(), QStringLiteral("http://127.0.0.1:%1/v1").arg(m_mock->port()));
    }
    void init() { QVERIFY2(m_mock->reset(), qPrintable(m_mock->errorString())); }
    void cleanupTestCase() { m_mock.reset(); }

    // ---- the SSE helper, offline -----------------------------------------------------------
    void sseSplitting()
    {
        const QByteArray body = ": comment\r\n"
                                "data: {\"a\":1}\r\n\r\n"
                                "event: ping\n"
                                "data: line1\n"
                                "data:line2\n\n"
                                "event: empty\n\n"
                                "data: [DONE]\n\n"
                                "data: unterminated";
        const QList<QByteArray> data = sseEvents(body);
        QCOMPARE(data, (QList<QByteArray>{"{\"a\":1}", "line1\nline2", "[DONE]"}));
        const QList<SseEvent> events = parseSse(body);
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[1].event, QByteArray("ping"));
        QVERIFY(events[0].event.isEmpty());
    }

    // ---- non-streaming replies -------------------------------------------------------------
    void nonStreamOkWithParameters()
    {
        const HttpResponse r = chat(QStringLiteral("ok@p=12,c=7,cached=3"));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Type").startsWith("application/json"));
        QCOMPARE(r.header("content-length").toLongLong(), r.body.size());
        const QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("chat.completion"));
        QCOMPARE(o.value("model").toString(), QStringLiteral("ok@p=12,c=7,cached=3"));
        const QJsonObject choice = o.value("choices").toArray().at(0).toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("stop"));
        QCOMPARE(choice.value("message").toObject().value("content").toString().split(u' ').size(), 7);
        const QJsonObject usage = o.value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), 12);
        QCOMPARE(usage.value("completion_tokens").toInt(), 7);
        QCOMPARE(usage.value("total_tokens").toInt(), 19);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 3);
    }
    void defaultPromptTokensFromBodySize()
    {
        const QByteArray body = chatBody(QStringLiteral("ok"));
        HttpClient client(m_mock->port());
        const HttpResponse r = client.post("/openai/v1/chat/completions", body); // any prefix
        QCOMPARE(r.status, 200);
        const QJsonObject usage = r.json().value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), static_cast<int>((body.size() + 3) / 4));
        QCOMPARE(usage.value("completion_tokens").toInt(), 10);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 0);
    }
    void failures_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("500") << "fail-500" << 500 << "server_error";
        QTest::newRow("502") << "fail-502" << 502 << "server_error";
        QTest::newRow("503") << "fail-503" << 503 << "server_error";
        QTest::newRow("400") << "fail-400" << 400 << "invalid_request_error";
        QTest::newRow("401") << "fail-401" << 401 << "invalid_request_error";
        QTest::newRow("429") << "fail-429" << 429 << "requests";
    }
    void failures()
    {
        QFETCH(QString, model);
        QFETCH(int, status);
        QFETCH(QString, type);
        const HttpResponse r = chat(model);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, status);
        const QJsonObject error = r.json().value("error").toObject();
        QCOMPARE(error.value("type").toString(), type);
        QVERIFY(!error.value("message").toString().isEmpty());
        QVERIFY(error.contains("code"));
        // Nothing was billed for a failure.
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
    }
    void rateLimitHeaders()
    {
        const HttpResponse r = chat(QStringLiteral("fail-429@retry_after=7"));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("7"));
        QCOMPARE(r.json().value("error").toObject().value("code").toString(), QStringLiteral("rate_limit_exceeded"));
        QCOMPARE(chat(QStringLiteral("fail-429")).header("retry-after"), QByteArray("1"));
    }
    void badJsonReply()
    {
        const HttpResponse r = chat(QStringLiteral("bad-json"));
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        QJsonParseError err{};
        QJsonDocument::fromJson(r.body, &err);
        QVERIFY(err.error != QJsonParseError::NoError);
    }
    void noUsage()
    {
        const HttpResponse r = chat(QStringLiteral("no-usage"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.json().contains("usage"));
        QVERIFY(!r.json().value("choices").toArray().isEmpty());
        QVERIFY(m_mock->lastRequest().value("billed").isNull());

        const HttpResponse s = chat(QStringLiteral("no-usage"), true, true);
        QCOMPARE(s.status, 200);
        for (const QByteArray &d : s.eventData()) {
            if (d != "[DONE]")
                QVERIFY2(parseObject(d).value("usage").isNull(), d.constData());
        }
        QCOMPARE(s.eventData().last(), QByteArray("[DONE]"));
    }
    void invalidRequests()
    {
        HttpClient client(m_mock->port());
        HttpResponse r = client.post("/v1/chat/completions", "{not json");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value("error").toObject().value("type").toString(), QStringLiteral("invalid_request_error"));
        r = client.post("/v1/chat/completions", "{\"messages\":[]}");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value("error").toObject().value("message").toString().contains("model"));
        r = client.post("/v1/nothing-here", chatBody(QStringLiteral("ok")));
        QCOMPARE(r.status, 404);
        r = client.get("/v1/chat/completions");
        QCOMPARE(r.status, 405);
    }

    // ---- streams ---------------------------------------------------------------------------
    void streamWithoutUsage()
    {
        const HttpResponse r = chat(QStringLiteral("ok"), true, false);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QCOMPARE(r.header("transfer-encoding"), QByteArray("chunked"));
        const QList<QByteArray> data = r.eventData();
        // role chunk, 5 content chunks, the finish chunk, [DONE]
        QCOMPARE(data.size(), 8);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QString text;
        for (qsizetype i = 0; i + 1 < data.size(); ++i) {
            const QJsonObject chunk = parseObject(data[i]);
            QCOMPARE(chunk.value("object").toString(), QStringLiteral("chat.completion.chunk"));
            QVERIFY(!chunk.contains("usage"));
            const QJsonObject choice = chunk.value("choices").toArray().at(0).toObject();
            text += choice.value("delta").toObject().value("content").toString();
            QCOMPARE(choice.value("finish_reason").toString(), i == data.size() - 2 ? QStringLiteral("stop") : QString());
        }
        QCOMPARE(text, QStringLiteral("Hello from the mock upstream"));
        // Every SSE event was its own HTTP chunk.
        QCOMPARE(r.chunks.size(), data.size());
        QCOMPARE(sseEvents(r.body), data);
        // A provider bills the stream even though it did not report usage: the mock records what it reported.
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
    }
    void streamWithUsage()
    {
        const HttpResponse r = chat(QStringLiteral("ok@chunks=3,p=40,cached=8"), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 1 + 3 + 1 + 1 + 1);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        const QJsonObject usageChunk = parseObject(data[data.size() - 2]);
        QVERIFY(usageChunk.value("choices").toArray().isEmpty());
        const QJsonObject usage = usageChunk.value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), 40);
        QCOMPARE(usage.value("completion_tokens").toInt(), 3);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 8);
        // The other chunks carry "usage": null, as OpenAI's do.
        const QJsonObject first = parseObject(data.first());
        QVERIFY(first.contains("usage") && first.value("usage").isNull());
        const QJsonObject billed = m_mock->lastRequest().value("billed").toObject();
        QCOMPARE(billed.value("prompt_tokens").toInt(), 40);
        QCOMPARE(billed.value("completion_tokens").toInt(), 3);
        QCOMPARE(billed.value("cached_tokens").toInt(), 8);
    }
    void streamChunksArriveAsSent()
    {
        const int delay = 150;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=%1,chunks=4").arg(delay), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        const QList<SseEvent> events = r.events;
        QCOMPARE(events.size(), 1 + 4 + 1 + 1 + 1);
        // The first event comes with the headers; event i is sent i * delay later, and each one
        // arrives on its own (two events read together would show a gap near 0).
        QVERIFY2(events.first().atMs < delay, qPrintable(QString::number(events.first().atMs)));
        for (qsizetype i = 1; i < events.size(); ++i) {
            const double gap = events[i].atMs - events[i - 1].atMs;
            QVERIFY2(events[i].atMs >= i * delay * 0.95, qPrintable(QStringLiteral("event %1 at %2 ms").arg(i).arg(events[i].atMs)));
            QVERIFY2(gap >= delay * 0.4, qPrintable(QStringLiteral("gap %1 ms before event %2").arg(gap).arg(i)));
        }
        QVERIFY2(r.elapsedMs < (events.size() + 1) * delay * 3, qPrintable(QString::number(r.elapsedMs)));
    }
    void resetMidStream()
    {
        const HttpResponse r = chat(QStringLiteral("reset-mid-stream@after=2"), true, true);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.peerClosed);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 3); // the role chunk and two content chunks, then nothing
        QVERIFY(!data.contains("[DONE]"));
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
        // The mock itself is fine afterwards.
        QCOMPARE(chat(QStringLiteral("ok")).status, 200);
    }
    void resetMidBody()
    {
        const HttpResponse r = chat(QStringLiteral("reset-mid-stream"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.peerClosed);
        QVERIFY(!r.body.isEmpty());
        QVERIFY(r.body.size() < r.header("content-length").toLongLong());
    }
    void resetBefore()
    {
        const HttpResponse r = chat(QStringLiteral("reset-before"));
        QCOMPARE(r.status, 0);
        QVERIFY(r.raw.isEmpty());
        QVERIFY(r.peerClosed);
        QVERIFY(!r.error.isEmpty());
    }
    void errorInStream()
    {
        const HttpResponse r = chat(QStringLiteral("error-in-stream"), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 3); // role, one content chunk, the error
        const QJsonObject error = parseObject(data.last()).value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("server_error"));
        QVERIFY(!error.value("message").toString().isEmpty());
        QVERIFY(!data.contains("[DONE]"));
    }
    void hangTimesOut()
    {
        RequestOptions options;
        options.timeoutMs = 300;
        const HttpResponse r = chat(QStringLiteral("hang"), false, false, options);
        QVERIFY(r.timedOut);
        QCOMPARE(r.status, 0);
        QVERIFY(r.elapsedMs >= 290);
        QVERIFY(m_mock->waitForRequests(1));
    }
    void slowHeaders()
    {
        const HttpResponse r = chat(QStringLiteral("slow-headers@delay=300"));
        QCOMPARE(r.status, 200);
        QVERIFY2(r.headersAtMs >= 280, qPrintable(QString::number(r.headersAtMs)));
        QVERIFY(r.json().contains("usage"));
    }
    void badJsonInStream()
    {
        const HttpResponse r = chat(QStringLiteral("bad-json"), true);
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        const QList<QByteArray> data = r.eventData();
        QVERIFY(!data.isEmpty());
        QJsonParseError err{};
        QJsonDocument::fromJson(data.first(), &err);
        QVERIFY(err.error != QJsonParseError::NoError);
    }

    // ---- other endpoints -------------------------------------------------------------------
    void embeddings()
    {
        HttpClient client(m_mock->port());
        QJsonObject body{{"model", "text-embedding-3-small@p=9"}, {"input", QJsonArray{"a", "b", "c"}}};
        HttpResponse r = client.postJson("/v1/embeddings", body);
        QCOMPARE(r.status, 200);
        QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("list"));
        const QJsonArray data = o.value("data").toArray();
        QCOMPARE(data.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject e = data[i].toObject();
            QCOMPARE(e.value("index").toInt(), i);
            QCOMPARE(e.value("embedding").toArray().size(), 8);
            QVERIFY(e.value("embedding").toArray().at(0).isDouble());
        }
        QVERIFY(data[0].toObject().value("embedding") != data[1].toObject().value("embedding"));
        QCOMPARE(o.value("usage").toObject().value("prompt_tokens").toInt(), 9);
        QCOMPARE(m_mock->lastRequest().value("billed").toObject().value("prompt_tokens").toInt(), 9);

        body = {{"model", "e@dims=3"}, {"input", "one string"}};
        r = client.postJson("/v1/embeddings", body);
        o = r.json();
        QCOMPARE(o.value("data").toArray().size(), 1);
        QCOMPARE(o.value("data").toArray().at(0).toObject().value("embedding").toArray().size(), 3);

        r = client.postJson("/v1/embeddings", QJsonObject{{"model", "e"}});
        QCOMPARE(r.status, 400);
    }
    void models()
    {
        HttpClient client(m_mock->port());
        const HttpResponse r = client.get("/v1/models");
        QCOMPARE(r.status, 200);
        const QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("list"));
        QStringList ids;
        for (const QJsonValue &m : o.value("data").toArray()) {
            QCOMPARE(m.toObject().value("object").toString(), QStringLiteral("model"));
            ids << m.toObject().value("id").toString();
        }
        QVERIFY(ids.contains(QStringLiteral("ok")));
    }
    void legacyCompletions()
    {
        HttpClient client(m_mock->port());
        const QJsonObject body{{"model", "ok@c=4"}, {"prompt", "Once upon"}};
        HttpResponse r = client.postJson("/v1/completions", body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("object").toString(), QStringLiteral("text_completion"));
        QCOMPARE(r.json().value("choices").toArray().at(0).toObject().value("text").toString(),
                 QStringLiteral("Hello from the mock"));
        QCOMPARE(r.json().value("usage").toObject().value("completion_tokens").toInt(), 4);

        QJsonObject streaming = body;
        streaming.insert("stream", true);
        streaming.insert("stream_options", QJsonObject{{"include_usage", true}});
        r = client.postJson("/v1/completions", streaming);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 5 + 1 + 1 + 1); // content, finish, usage, [DONE]
        QCOMPARE(parseObject(data.first()).value("choices").toArray().at(0).toObject().value("text").toString(),
                 QStringLiteral("Hello"));
    }
    void responsesApi()
    {
        HttpClient client(m_mock->port());
        QJsonObject body{{"model", "ok@c=3,p=11,cached=2"}, {"input", "Hi"}};
        HttpResponse r = client.postJson("/v1/responses", body);
        QCOMPARE(r.status, 200);
        QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("response"));
        QCOMPARE(o.value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(o.value("usage").toObject().value("input_tokens").toInt(), 11);
        QCOMPARE(o.value("usage").toObject().value("output_tokens").toInt(), 3);
        QCOMPARE(o.value("usage").toObject().value("input_tokens_details").toObject().value("cached_tokens").toInt(), 2);

        body.insert("stream", true);
        r = client.postJson("/v1/responses", body);
        QVERIFY(r.complete);
        const QList<SseEvent> events = r.events;
        QVERIFY(events.size() >= 3);
        QCOMPARE(events.first().event, QByteArray("response.created"));
        QCOMPARE(events.last().event, QByteArray("response.completed"));
        QCOMPARE(parseObject(events.last().data).value("response").toObject().value("usage").toObject().value("output_tokens").toInt(), 3);
    }

    // ---- recording -------------------------------------------------------------------------
    void recordingAndReset()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok@p=5,c=2"));
        QCOMPARE(client.post("/v1/chat/completions?x=1", body, {{"X-Test-Header", "abc"}, {"Authorization", "Bearer sk-up"}}).status, 200);
        QCOMPARE(client.get("/v1/models").status, 200);
        const QJsonArray requests = m_mock->receivedRequests();
        QCOMPARE(requests.size(), 2);
        const QJsonObject first = requests[0].toObject();
        QCOMPARE(first.value("method").toString(), QStringLiteral("POST"));
        QCOMPARE(first.value("path").toString(), QStringLiteral("/v1/chat/completions?x=1"));
        QCOMPARE(first.value("body").toString().toUtf8(), body);
        const QJsonObject headers = first.value("headers").toObject();
        QCOMPARE(headers.value("x-test-header").toString(), QStringLiteral("abc"));
        QCOMPARE(headers.value("authorization").toString(), QStringLiteral("Bearer sk-up"));
        QVERIFY(!headers.contains("X-Test-Header"));
        const QJsonObject billed = first.value("billed").toObject();
        QCOMPARE(billed.value("prompt_tokens").toInt(), 5);
        QCOMPARE(billed.value("completion_tokens").toInt(), 2);
        QCOMPARE(billed.value("cached_tokens").toInt(), 0);
        QCOMPARE(requests[1].toObject().value("method").toString(), QStringLiteral("GET"));
        QVERIFY(requests[1].toObject().value("billed").isNull());

        QVERIFY(m_mock->reset());
        QCOMPARE(m_mock->receivedRequests().size(), 0);
    }

    // ---- HTTP handling and the client's modes ----------------------------------------------
    void keepAliveReuse()
    {
        HttpClient client(m_mock->port());
        client.setKeepAlive(true);
        for (int i = 0; i < 20; ++i)
            QCOMPARE(client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"), i % 2 == 1, true)).status, 200);
        QCOMPARE(client.connectionsOpened(), 1);
        QCOMPARE(m_mock->receivedRequests().size(), 20);
    }
    void pipelinedRequests()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok"));
        const QByteArray one = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        const HttpResponse r = client.sendRaw(one + one + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(r.status, 200);
        QVERIFY(m_mock->waitForRequests(3));
    }
    void chunkedRequestBody()
    {
        HttpClient client(m_mock->port());
        RequestOptions options;
        options.chunkedUpload = true;
        options.uploadChunkBytes = 1024;
        QString prompt;
        for (int i = 0; i < 1000; ++i)
            prompt += QStringLiteral("word%1 ").arg(i);
        const QByteArray body = QJsonDocument(chatRequest(QStringLiteral("ok"), prompt)).toJson(QJsonDocument::Compact);
        QVERIFY(body.size() > 4096);
        const HttpResponse r = client.post("/v1/chat/completions", body, {}, options);
        QCOMPARE(r.status, 200);
        const QJsonObject rec = m_mock->lastRequest();
        QCOMPARE(rec.value("body").toString().toUtf8(), body);
        QCOMPARE(rec.value("headers").toObject().value("transfer-encoding").toString(), QStringLiteral("chunked"));
        QCOMPARE(rec.value("billed").toObject().value("prompt_tokens").toInt(), static_cast<int>((body.size() + 3) / 4));
    }
    void expectContinue()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok"));
        const HttpResponse r = client.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                              "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(r.raw.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
        QCOMPARE(r.status, 200); // the interim response is skipped
        QVERIFY(r.complete);
        QVERIFY(r.json().contains("choices"));
    }
    void malformedRequest()
    {
        HttpClient client(m_mock->port());
        const HttpResponse r = client.sendRaw("NOT HTTP AT ALL\r\n\r\n");
        QCOMPARE(r.status, 400);
        QVERIFY(r.complete);
        QCOMPARE(r.header("connection").toLower(), QByteArray("close"));
    }
    void largeBodyUpload()
    {
        HttpClient client(m_mock->port());
        const qint64 size = 8 * 1024 * 1024;
        const HttpResponse r = client.requestLargeBody("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, size);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 400); // not JSON, but all of it was read
        QCOMPARE(r.uploadedBytes, size);
        QCOMPARE(m_mock->lastRequest().value("body_size").toInteger(), size);
    }
    void hugeBodyAnsweredEarly()
    {
        // The server refuses the body after its headers and closes: the client still gets the 413
        // while it is sending, and stops sending.
        MockUpstream limited({QStringLiteral("--max-body"), QStringLiteral("1048576")});
        QVERIFY2(limited.isRunning(), qPrintable(limited.errorString()));
        HttpClient client(limited.port());
        const qint64 size = 50 * 1024 * 1024;
        const HttpResponse r = client.requestLargeBody("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, size);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json().value("error").toObject().value("code").toString(), QStringLiteral("request_too_large"));
        QVERIFY2(r.uploadedBytes < size, qPrintable(QString::number(r.uploadedBytes)));
        // A body under the limit is served normally.
        QCOMPARE(client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"))).status, 200);
    }
    void slowReader()
    {
        RequestOptions options;
        options.readChunkBytes = 1024;
        options.readIntervalMs = 20;
        const HttpResponse r = chat(QStringLiteral("ok@chunks=20,pad=1000"), true, true, options);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.eventData().size(), 1 + 20 + 1 + 1 + 1);
        // More than 20 KB read 1 KB at a time, 20 ms apart.
        QVERIFY(r.body.size() > 20 * 1000);
        QVERIFY2(r.elapsedMs >= 20 * 18, qPrintable(QString::number(r.elapsedMs)));
    }
    void disconnectAfterSomeBytes()
    {
        RequestOptions options;
        options.disconnectAfterBodyBytes = 1;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=100,chunks=20"), true, true, options);
        QVERIFY(r.aborted);
        QVERIFY(!r.complete);
        QVERIFY(!r.body.isEmpty());
        QVERIFY2(r.elapsedMs < 1000, qPrintable(QString::number(r.elapsedMs)));
        QTest::qWait(250); // the mock notices the client left and keeps serving others
        QCOMPARE(chat(QStringLiteral("ok")).status, 200);
    }
    void headersOnly()
    {
        RequestOptions options;
        options.headersOnly = true;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=500,chunks=10"), true, false, options);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.elapsedMs < 1000);
    }
    void concurrentClients()
    {
        MockUpstream threaded({QStringLiteral("--threads"), QStringLiteral("2")});
        QVERIFY2(threaded.isRunning(), qPrintable(threaded.errorString()));
        const int clients = 32;
        const int perClient = 25;
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < clients; ++t) {
            threads.emplace_back([&, t] {
                HttpClient client(threaded.port());
                client.setKeepAlive(t % 2 == 0);
                for (int i = 0; i < perClient; ++i) {
                    const HttpResponse r = client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"), i % 3 == 0, true));
                    if (r.status == 200 && r.complete)
                        ++ok;
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(ok.load(), clients * perClient);
        QCOMPARE(threaded.receivedRequests().size(), clients * perClient);
    }
    void stoppedMockRefusesConnections()
    {
        MockUpstream other;
        QVERIFY(other.isRunning());
        const quint16 port = other.port();
        other.stop();
        QVERIFY(!other.isRunning());
        HttpClient client(port);
        const HttpResponse r = client.get("/v1/models");
        QCOMPARE(r.status, 0);
        QVERIFY(r.error.contains("cannot connect"));
    }

    // ---- GatewayProcess, against a scripted stand-in for gatehouse --------------------------
    void gatewayProcessLifecycle()
    {
#ifndef Q_OS_UNIX
        QSKIP("uses a shell script as a stand-in gateway");
#else
        QTemporaryDir dir;
        const QString script = dir.filePath("fake-gatehouse.sh");
        QFile f(script);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\n"
                "echo \"args: $*\" >&2\n"
                "echo \"env: $FAKE_VAR\" >&2\n"
                "case \"$*\" in *bad.json*) echo 'bad.json: providers[0].base_url: not a URL' >&2; exit 2;; esac\n"
                "trap 'echo stopping >&2; exit 0' TERM\n"
                "echo 'Generated key scripts: gk-secret-1'\n"
                "echo 'Generated key other: gk-secret-2'\n"
                "echo 'Gatehouse gateway listening on http://127.0.0.1:45678'\n"
                "while :; do sleep 0.05; done\n");
        f.close();
        QVERIFY(f.setPermissions(f.permissions() | QFileDevice::ExeOwner));
        const QByteArray saved = qgetenv("GATEHOUSE_BIN");
        qputenv("GATEHOUSE_BIN", script.toLocal8Bit());
        auto restore = qScopeGuard([&] {
            if (saved.isNull())
                qunsetenv("GATEHOUSE_BIN");
            else
                qputenv("GATEHOUSE_BIN", saved);
        });

        GatewayProcess gw;
        gw.setEnv("FAKE_VAR", "42");
        const QString config = gw.writeConfig(QJsonObject{{"providers", QJsonArray{}}});
        QVERIFY(!config.isEmpty());
        QCOMPARE(QJsonDocument::fromJson([&] { QFile c(config); c.open(QIODevice::ReadOnly); return c.readAll(); }())
                     .object().value("providers").toArray().size(), 0);
        QVERIFY2(gw.start({"--verbose"}, config), qPrintable(gw.errorString()));
        QCOMPARE(gw.port(), quint16(45678));
        QCOMPARE(gw.baseUrl(), QStringLiteral("http://127.0.0.1:45678"));
        QCOMPARE(gw.linesBeforeListening(),
                 (QStringList{"Generated key scripts: gk-secret-1", "Generated key other: gk-secret-2"}));
        QVERIFY(gw.waitForOutput("env: 42"));
        QVERIFY2(gw.stderrText().contains(QStringLiteral("args: --verbose --headless --port 0 --data-dir %1 --config %2")
                                              .arg(gw.dataDir(), config)),
                 qPrintable(gw.stderrText()));
        QVERIFY(gw.isRunning());
        QCOMPARE(gw.terminate(), 0);
        QVERIFY(!gw.isRunning());
        QVERIFY(gw.stderrText().contains("stopping"));

        // A start-up failure: start() says so and keeps the exit code and the message.
        const QString bad = gw.writeConfig(QJsonObject{}, "bad.json");
        QVERIFY(!gw.start({}, bad));
        QCOMPARE(gw.exitCode(), 2);
        QVERIFY(gw.stderrText().contains("providers[0].base_url"));
        QVERIFY(gw.errorString().contains("code 2"));

        // kill() ends it at once.
        QVERIFY(gw.start());
        gw.kill();
        QVERIFY(!gw.isRunning());
        QCOMPARE(gw.exitCode(), -1);
#endif
    }
};

QTEST_GUILESS_MAIN(TestMockUpstream)
#include "tst_mockupstream.moc"
