// Every error status of the gateway over real sockets, each with an OpenAI-shaped JSON body:
// 400, 401, 403, 404, 405, 413, 429 (passed through), 502 and 504. 402 is in tst_gateway_budget,
// 503 in tst_gateway_lifecycle.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <memory>

using namespace gh::test;

namespace {

const QByteArray kErrorsSecret = "gk-itest-errors-0001";
const QByteArray kNarrowSecret = "gk-itest-narrow-0002";
const QByteArray kAllowedOrigin = "http://localhost:3000";
constexpr int kFirstByteTimeoutMs = 1000;

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

} // namespace

class TestGatewayErrors : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const QByteArray &path, const QByteArray &body, const Headers &headers)
    {
        HttpClient client(m_h.gateway->port());
        return client.post(path, body, headers);
    }
    HttpResponse chat(const QString &model, const QByteArray &secret = kErrorsSecret, bool stream = false)
    {
        return post("/v1/chat/completions", compact(chatRequest(model, QStringLiteral("hi"), stream)), bearer(secret));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString mock = QStringLiteral("mock");
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/chat"), mock, QStringLiteral("ok"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/fail500"), mock, QStringLiteral("fail-500"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/fail429"), mock, QStringLiteral("fail-429@retry_after=7"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/resetbefore"), mock, QStringLiteral("reset-before"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/hang"), mock, QStringLiteral("hang"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/badjson"), mock, QStringLiteral("bad-json"), 1.0, 2.0),
                }},
            {QStringLiteral("keys"),
                QJsonArray{
                    testKey(QStringLiteral("errors"), QString::fromLatin1(kErrorsSecret), {QStringLiteral("mock/*")},
                        QJsonObject{{QStringLiteral("day_usd"), 50.0}}),
                    testKey(
                        QStringLiteral("narrow"), QString::fromLatin1(kNarrowSecret), {QStringLiteral("mock/chat")}),
                }},
            {QStringLiteral("settings"),
                QJsonObject{{QStringLiteral("allowed_origins"), QJsonArray{QString::fromLatin1(kAllowedOrigin)}},
                    {QStringLiteral("timeouts"), QJsonObject{{QStringLiteral("first_byte_ms"), kFirstByteTimeoutMs}}}}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (m_h.gatewayRunning()) {
            QVERIFY2(m_h.stop(), qPrintable(m_h.error));
            QVERIFY(!m_h.gateway->stdoutText().contains(QLatin1String(kProviderKey)));
            QVERIFY(!m_h.gateway->stderrText().contains(QLatin1String(kProviderKey)));
            QCOMPARE(filesContaining(m_h.gateway->dataDir(), kProviderKey), QStringList());
        }
    }

    void unauthorized_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<Headers>("headers");
        const Headers none;
        const Headers wrong = bearer("gk-wrong-secret-4711");
        const Headers wrongXApiKey{{"x-api-key", "gk-wrong-secret-4711"}};
        const Headers notBearer{{"Authorization", "Basic " + QByteArray(kErrorsSecret).toBase64()}};
        QTest::newRow("chat, no key") << QByteArray("POST") << QByteArray("/v1/chat/completions") << none;
        QTest::newRow("chat, wrong key") << QByteArray("POST") << QByteArray("/v1/chat/completions") << wrong;
        QTest::newRow("chat, wrong x-api-key")
            << QByteArray("POST") << QByteArray("/v1/chat/completions") << wrongXApiKey;
        QTest::newRow("chat, basic auth") << QByteArray("POST") << QByteArray("/v1/chat/completions") << notBearer;
        QTest::newRow("embeddings, no key") << QByteArray("POST") << QByteArray("/v1/embeddings") << none;
        QTest::newRow("models, no key") << QByteArray("GET") << QByteArray("/v1/models") << none;
        QTest::newRow("models, wrong key") << QByteArray("GET") << QByteArray("/v1/models") << wrong;
        QTest::newRow("key, wrong key") << QByteArray("GET") << QByteArray("/v1/key") << wrong;
    }

    void unauthorized()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(Headers, headers);
        HttpClient client(m_h.gateway->port());
        Headers h = headers;
        h.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
        const HttpResponse r = client.request(
            method, path, h, method == "POST" ? compact(chatRequest(QStringLiteral("mock/chat"))) : QByteArray());
        QCOMPARE(r.status, 401);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
            QStringLiteral("authentication_error"));
        QVERIFY(!r.body.contains("gk-wrong-secret-4711")); // never echo a secret
        QVERIFY(!r.body.contains(kErrorsSecret));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }

    void modelNotAllowed()
    {
        const HttpResponse r = chat(QStringLiteral("mock/fail500"), kNarrowSecret);
        QCOMPARE(r.status, 400); // a policy refusal, not a failed login (which is what clients make of 403)
        QCOMPARE(errorCode(r), QStringLiteral("model_not_allowed"));
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(errorMessage(r).contains(QLatin1String("mock/fail500")), qPrintable(errorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
        // The same key may use its allowed model.
        QCOMPARE(chat(QStringLiteral("mock/chat"), kNarrowSecret).status, 200);
    }

    void hostHeader_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<int>("status");
        QTest::newRow("evil.example") << QByteArray("evil.example") << 403;
        QTest::newRow("evil.example:port") << QByteArray("evil.example:8787") << 403;
        QTest::newRow("rebinding to 127.0.0.1.nip.io") << QByteArray("127.0.0.1.nip.io") << 403;
        QTest::newRow("localhost") << QByteArray("localhost") << 200;
        QTest::newRow("localhost:port") << QByteArray("localhost:8787") << 200;
        QTest::newRow("127.0.0.1") << QByteArray("127.0.0.1:8787") << 200;
        QTest::newRow("[::1]") << QByteArray("[::1]:8787") << 200;
    }

    // DNS-rebinding defence: a request addressed to another host name is refused before anything else.
    void hostHeader()
    {
        QFETCH(QByteArray, host);
        QFETCH(int, status);
        Headers h = bearer(kErrorsSecret);
        h.append({"Host", host});
        const HttpResponse r = post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))), h);
        QCOMPARE(r.status, status);
        if (status == 403) {
            const QString problem = openAIErrorProblem(r);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            QCOMPARE(errorCode(r), QStringLiteral("host_not_allowed"));
            QCOMPARE(m_h.mock->receivedRequests().size(), 0);
            // Refused even where no key is needed.
            HttpClient client(m_h.gateway->port());
            QCOMPARE(client.get("/healthz", {{"Host", host}}).status, 403);
        }
    }

    void origin_data()
    {
        QTest::addColumn<QByteArray>("origin");
        QTest::addColumn<int>("status");
        QTest::newRow("evil origin") << QByteArray("http://evil.example") << 403;
        QTest::newRow("other port") << QByteArray("http://localhost:3001") << 403;
        QTest::newRow("null") << QByteArray("null") << 403;
        QTest::newRow("allowed") << kAllowedOrigin << 200;
    }

    void origin()
    {
        QFETCH(QByteArray, origin);
        QFETCH(int, status);
        Headers h = bearer(kErrorsSecret);
        h.append({"Origin", origin});
        const HttpResponse r = post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))), h);
        QCOMPARE(r.status, status);
        if (status == 403) {
            const QString problem = openAIErrorProblem(r);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            QCOMPARE(errorCode(r), QStringLiteral("origin_not_allowed"));
            QVERIFY(!r.hasHeader("access-control-allow-origin"));
            QCOMPARE(m_h.mock->receivedRequests().size(), 0);
        } else {
            QCOMPARE(r.header("access-control-allow-origin"), origin);
        }
    }

    void unknownModel_data()
    {
        QTest::addColumn<QString>("model");
        QTest::newRow("unknown provider") << QStringLiteral("nosuch/model");
        QTest::newRow("bare name nobody offers") << QStringLiteral("gpt-does-not-exist");
    }

    void unknownModel()
    {
        QFETCH(QString, model);
        const HttpResponse r = chat(model);
        QCOMPARE(r.status, 404);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(errorMessage(r).contains(model), qPrintable(errorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 404);
        QCOMPARE(row->costNanoUsd.value_or(-1), 0);
    }

    void badRequest_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("truncated JSON") << QByteArray("/v1/chat/completions")
                                        << QByteArray("{\"model\":\"mock/chat\",\"messages\":[")
                                        << QStringLiteral("JSON");
        QTest::newRow("not JSON") << QByteArray("/v1/chat/completions") << QByteArray("model=mock/chat")
                                  << QStringLiteral("JSON");
        QTest::newRow("trailing garbage")
            << QByteArray("/v1/chat/completions") << QByteArray("{\"model\":\"mock/chat\",\"messages\":[]} x")
            << QStringLiteral("JSON");
        QTest::newRow("array") << QByteArray("/v1/chat/completions") << QByteArray("[1,2]") << QStringLiteral("object");
        QTest::newRow("empty body") << QByteArray("/v1/chat/completions") << QByteArray() << QStringLiteral("empty");
        QTest::newRow("missing messages") << QByteArray("/v1/chat/completions")
                                          << QByteArray("{\"model\":\"mock/chat\"}") << QStringLiteral("'messages'");
        QTest::newRow("missing model") << QByteArray("/v1/chat/completions")
                                       << QByteArray("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")
                                       << QStringLiteral("'model'");
        QTest::newRow("model not a string")
            << QByteArray("/v1/chat/completions") << QByteArray("{\"model\":42,\"messages\":[]}")
            << QStringLiteral("'model'");
        QTest::newRow("negative max_tokens")
            << QByteArray("/v1/chat/completions")
            << QByteArray("{\"model\":\"mock/chat\",\"messages\":[],\"max_tokens\":-5}")
            << QStringLiteral("max_tokens");
        QTest::newRow("embeddings without input")
            << QByteArray("/v1/embeddings") << QByteArray("{\"model\":\"mock/chat\"}") << QStringLiteral("'input'");
    }

    void badRequest()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, body);
        QFETCH(QString, mentions);
        const HttpResponse r = post(path, body, bearer(kErrorsSecret));
        QCOMPARE(r.status, 400);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
            QStringLiteral("invalid_request_error"));
        QVERIFY2(errorMessage(r).contains(mentions), qPrintable(errorMessage(r)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
    }

    void malformedHttp()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.sendRaw("NOT HTTP AT ALL\r\n\r\n");
        QCOMPARE(r.status, 400);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(client.get("/healthz").status, 200);
    }

    void wrongMethodAndUnknownEndpoint()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse get = client.get("/v1/chat/completions", bearer(kErrorsSecret));
        QCOMPARE(get.status, 405);
        QCOMPARE(get.header("allow"), QByteArray("POST"));
        QVERIFY(openAIErrorProblem(get).isEmpty());
        const HttpResponse unknown = client.get("/v1/nothing-here", bearer(kErrorsSecret));
        QCOMPARE(unknown.status, 404);
        QVERIFY(openAIErrorProblem(unknown).isEmpty());
    }

    // A 50 MiB body (over the 32 MiB default): the client gets its 413 while it is still sending.
    void bodyTooLarge_data()
    {
        QTest::addColumn<bool>("chunked");
        QTest::newRow("content-length") << false;
        QTest::newRow("chunked") << true;
    }

    void bodyTooLarge()
    {
        QFETCH(bool, chunked);
        constexpr qint64 size = 50ll * 1024 * 1024;
        HttpClient client(m_h.gateway->port());
        RequestOptions options;
        options.chunkedUpload = chunked;
        options.timeoutMs = 30000;
        Headers h = bearer(kErrorsSecret);
        h.append({QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")});
        QElapsedTimer timer;
        timer.start();
        const HttpResponse r = client.requestLargeBody("POST", "/v1/chat/completions", h, size, 'x', options);
        QVERIFY2(r.status == 413, qPrintable(r.describe()));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(
            errorMessage(r).contains(QLatin1String("32 MiB")) || errorMessage(r).contains(QLatin1String("33554432")),
            qPrintable(errorMessage(r)));
        // The answer came before the whole body had to be sent (the gateway did not buffer 50 MiB first).
        QVERIFY2(r.uploadedBytes < size || r.headersAtMs < r.elapsedMs, qPrintable(QString::number(r.uploadedBytes)));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
        // And it still serves everyone else.
        HttpClient other(m_h.gateway->port());
        QCOMPARE(other.get("/healthz").status, 200);
        QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200);
    }

    void upstream500Becomes502()
    {
        for (const bool stream : {false, true}) {
            const HttpResponse r = chat(QStringLiteral("mock/fail500"), kErrorsSecret, stream);
            QCOMPARE(r.status, 502);
            const QString problem = openAIErrorProblem(r);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
            // The provider's own message is passed on.
            QVERIFY2(errorMessage(r).contains(QLatin1String("mock: the upstream failed (fail-500)")),
                qPrintable(errorMessage(r)));
            QVERIFY(!errorMessage(r).contains(QLatin1String(kProviderKey)));
            QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("mock"));
            const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
            QVERIFY2(row, qPrintable(m_h.db->errorString()));
            QCOMPARE(row->status, 502);
            QCOMPARE(row->costNanoUsd.value_or(-1), 0); // nothing billed, nothing charged
        }
        // The reservation was released: nothing is held or spent.
        HttpClient client(m_h.gateway->port());
        const QJsonObject key = client.get("/v1/key", bearer(kErrorsSecret)).json();
        QCOMPARE(key.value(QStringLiteral("reserved_usd")).toDouble(), 0.0);
    }

    void upstream429PassedThrough()
    {
        const HttpResponse r = chat(QStringLiteral("mock/fail429"));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("retry-after"), QByteArray("7"));
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(errorMessage(r).contains(QLatin1String("rate limit")), qPrintable(errorMessage(r)));
    }

    void upstreamResetBeforeAnswer()
    {
        const HttpResponse r = chat(QStringLiteral("mock/resetbefore"));
        QCOMPARE(r.status, 502);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(m_h.mock->receivedRequests().size() >= 1);
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 502);
        QVERIFY(!row->error.isEmpty());
    }

    void upstreamNotJson()
    {
        // A 200 whose body is cut-off JSON must not reach the client as a success.
        const HttpResponse r = chat(QStringLiteral("mock/badjson"));
        QCOMPARE(r.status, 502);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(errorCode(r), QStringLiteral("upstream_invalid_response"));
    }

    // settings.timeouts.first_byte_ms = 1000 and an upstream that never answers: 504 after about 1 s.
    void upstreamTimeout()
    {
        QElapsedTimer timer;
        timer.start();
        const HttpResponse r = chat(QStringLiteral("mock/hang"));
        const qint64 elapsed = timer.elapsed();
        QCOMPARE(r.status, 504);
        const QString problem = openAIErrorProblem(r);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(errorCode(r), QStringLiteral("upstream_timeout"));
        QVERIFY2(elapsed >= kFirstByteTimeoutMs - 50 && elapsed < kFirstByteTimeoutMs + 3000,
            qPrintable(QString::number(elapsed)));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 504);
    }
};

QTEST_GUILESS_MAIN(TestGatewayErrors)
#include "tst_gateway_errors.moc"
