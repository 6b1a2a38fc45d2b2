// Routes over HTTP against fault-injecting mock upstreams: every failover trigger (connection reset,
// first-byte and idle timeouts, 408, 429 with Retry-After, 500, 502, 503, 504, 529, an error as the
// first event of a 200 stream, provider credentials refused) moves the request to the next target
// before anything reached the client; a 400 and a reset after bytes reached the client do not. Every
// attempt is in the log. Also: circuit breakers, capability skips, the per-request `models` list,
// aliases in /v1/models, cache_control kept byte for byte across a failover.
#include "providerstestkit.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QJsonArray>

#include <memory>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-routing-failover-0001";

QJsonObject route(const QString &id, const QStringList &targets, const QString &strategy = QStringLiteral("ordered"))
{
    QJsonArray t;
    for (const QString &m : targets)
        t.append(QJsonObject{{QStringLiteral("model"), m}});
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("strategy"), strategy}, {QStringLiteral("targets"), t}};
}

QJsonObject withCapabilities(QJsonObject model, const QStringList &caps, qint64 contextWindow = 0)
{
    model.insert(QStringLiteral("capabilities"), QJsonArray::fromStringList(caps));
    if (contextWindow > 0)
        model.insert(QStringLiteral("context_window"), contextWindow);
    return model;
}

} // namespace

class TestRoutingFailover : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;
    int m_sequence = 0;
    quint16 m_closedPort = 0;

    // Each request has a conversation of its own: the same prompt twice would go to the target that
    // served it first (prompt-cache affinity), whatever the route's order.
    HttpResponse chat(const QString &model, bool stream = false, QJsonObject extra = {})
    {
        QJsonObject body = chatCompletionRequest(model, stream);
        body.insert(QStringLiteral("messages"),
            QJsonArray{text(QStringLiteral("user"), QStringLiteral("Question %1: what is the weather in Paris?").arg(++m_sequence))});
        for (auto it = extra.begin(); it != extra.end(); ++it)
            body.insert(it.key(), it.value());
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", compact(body), bearer(kSecret));
    }

    // The served response of a failover: 200 from `served`, after `attempts` attempts, logged with
    // the failed attempt first.
    void checkFailedOver(const HttpResponse &r, const QString &failedModel, int failedStatus, const QString &served = QStringLiteral("oai/ok"))
    {
        QVERIFY2(r.complete, qPrintable(r.error));
        QCOMPARE(r.status, 200);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), served);
        QCOMPARE(r.header("x-gatehouse-attempts"), QByteArray("2"));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
        QCOMPARE(row->modelId, served);
        // A send on a pooled keep-alive connection that closed without answering (left by an earlier
        // case) is sent again on a fresh connection, and that first send has an attempt record too.
        QList<LoggedAttempt> log;
        for (const LoggedAttempt &a : row->attemptLog) {
            if (!a.error.contains(QLatin1String("sent again on a fresh connection")))
                log.append(a);
        }
        QCOMPARE(row->attempts, 2 + int(row->attemptLog.size() - log.size()));
        QVERIFY2(log.size() == 2, qPrintable(row->describe()));
        QCOMPARE(log.at(0).modelId, failedModel);
        QCOMPARE(log.at(0).outcome, QStringLiteral("failed"));
        QCOMPARE(log.at(0).status, failedStatus);
        QVERIFY(!log.at(0).error.isEmpty());
        QCOMPARE(log.at(1).modelId, served);
        QCOMPARE(log.at(1).outcome, QStringLiteral("ok"));
        QVERIFY(row->costNanoUsd && *row->costNanoUsd > 0);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        {
            // A port that was free a moment ago and that nothing listens on now.
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            m_closedPort = probe.serverPort();
        }
        const QString oai = QStringLiteral("oai");
        const QString anth = QStringLiteral("anth");
        QJsonArray models{
            pricedModel(QStringLiteral("oai/ok"), oai, QStringLiteral("ok")),
            pricedModel(QStringLiteral("dead/ok"), QStringLiteral("dead"), QStringLiteral("ok")),
            pricedModel(QStringLiteral("anth/ok"), anth, QStringLiteral("ok")),
            pricedModel(QStringLiteral("oai/reset"), oai, QStringLiteral("reset-before")),
            pricedModel(QStringLiteral("oai/hang"), oai, QStringLiteral("hang")),
            pricedModel(QStringLiteral("oai/idle"), oai, QStringLiteral("idle-stream@after=0,delay=4000")),
            pricedModel(QStringLiteral("oai/errfirst"), oai, QStringLiteral("error-in-stream@after=0")),
            pricedModel(QStringLiteral("anth/errfirst"), anth, QStringLiteral("error-in-stream@after=0")),
            pricedModel(QStringLiteral("oai/midreset"), oai, QStringLiteral("reset-mid-stream@after=2")),
            pricedModel(QStringLiteral("oai/f400"), oai, QStringLiteral("fail-400")),
            pricedModel(QStringLiteral("oai/f401"), oai, QStringLiteral("fail-401")),
            pricedModel(QStringLiteral("oai/f429long"), oai, QStringLiteral("fail-429@retry_after=60")),
            pricedModel(QStringLiteral("oai/f429solo"), oai, QStringLiteral("fail-429@retry_after=1")),
            pricedModel(QStringLiteral("oai/breaker"), oai, QStringLiteral("fail-500")),
            withCapabilities(pricedModel(QStringLiteral("oai/textonly"), oai, QStringLiteral("ok")), {QStringLiteral("json_schema")}),
            withCapabilities(pricedModel(QStringLiteral("oai/tiny"), oai, QStringLiteral("ok")), {QStringLiteral("tools"), QStringLiteral("vision"), QStringLiteral("json_schema")}, 50),
        };
        QJsonArray routes{
            route(QStringLiteral("via-reset"), {QStringLiteral("oai/reset"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-hang"), {QStringLiteral("oai/hang"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-idle"), {QStringLiteral("oai/idle"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-errfirst"), {QStringLiteral("oai/errfirst"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-anth-errfirst"), {QStringLiteral("anth/errfirst"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-midreset"), {QStringLiteral("oai/midreset"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-400"), {QStringLiteral("oai/f400"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-401"), {QStringLiteral("oai/f401"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-429long"), {QStringLiteral("oai/f429long")}),
            route(QStringLiteral("via-429solo"), {QStringLiteral("oai/f429solo")}),
            route(QStringLiteral("via-breaker"), {QStringLiteral("oai/breaker"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-textonly"), {QStringLiteral("oai/textonly"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("via-tiny"), {QStringLiteral("oai/tiny"), QStringLiteral("oai/ok")}),
            route(QStringLiteral("to-anthropic"), {QStringLiteral("anth/errfirst"), QStringLiteral("anth/ok")}),
            route(QStringLiteral("via-refused"), {QStringLiteral("dead/ok"), QStringLiteral("oai/ok")}),
        };
        // One model and one route per failing status.
        for (const int status : {408, 429, 500, 502, 503, 504, 529}) {
            const QString id = QStringLiteral("oai/f%1").arg(status);
            const QString upstream = status == 429 ? QStringLiteral("fail-429@retry_after=0") : QStringLiteral("fail-%1").arg(status);
            models.append(pricedModel(id, oai, upstream));
            routes.append(route(QStringLiteral("via-%1").arg(status), {id, QStringLiteral("oai/ok")}));
        }
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, oai, QStringLiteral("openai")), provider(*m_h.mock, anth, QStringLiteral("anthropic")),
                    // A provider whose port nobody listens on: every connection is refused.
                    QJsonObject{{QStringLiteral("id"), QStringLiteral("dead")}, {QStringLiteral("format"), QStringLiteral("openai")},
                        {QStringLiteral("base_url"), QStringLiteral("http://127.0.0.1:%1/v1").arg(m_closedPort)},
                        {QStringLiteral("api_key_env"), QString::fromLatin1(kProviderKeyEnv)}}}},
            {QStringLiteral("models"), models},
            {QStringLiteral("routes"), routes},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("routing"), QString::fromLatin1(kSecret))}},
            {QStringLiteral("settings"),
                QJsonObject{{QStringLiteral("timeouts"),
                                QJsonObject{{QStringLiteral("first_byte_ms"), 1500}, {QStringLiteral("idle_ms"), 1000}}},
                    {QStringLiteral("retry"), QJsonObject{{QStringLiteral("max_attempts"), 3}, {QStringLiteral("backoff_base_ms"), 100}}},
                    {QStringLiteral("breaker"),
                        QJsonObject{{QStringLiteral("failure_threshold"), 3}, {QStringLiteral("cooldown_ms"), 1500}}}}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void failsOverOnStatus_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("stream");
        for (const int status : {408, 429, 500, 502, 503, 504, 529}) {
            QTest::addRow("%d", status) << status << false;
            QTest::addRow("%d stream", status) << status << true;
        }
    }
    void failsOverOnStatus()
    {
        QFETCH(int, status);
        QFETCH(bool, stream);
        const HttpResponse r = chat(QStringLiteral("via-%1").arg(status), stream);
        checkFailedOver(r, QStringLiteral("oai/f%1").arg(status), status);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-route")), QStringLiteral("via-%1").arg(status));
        if (stream)
            QVERIFY(!streamContent(r).isEmpty());
        else
            QVERIFY(!chatContent(r).isEmpty());
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok")), 1);
    }

    void failsOverOnConnectionRefused()
    {
        checkFailedOver(chat(QStringLiteral("via-refused"), true), QStringLiteral("dead/ok"), 0);
    }

    void failsOverOnConnectionReset()
    {
        checkFailedOver(chat(QStringLiteral("via-reset")), QStringLiteral("oai/reset"), 0);
    }

    void failsOverOnFirstByteTimeout()
    {
        QElapsedTimer t;
        t.start();
        checkFailedOver(chat(QStringLiteral("via-hang"), true), QStringLiteral("oai/hang"), 0);
        QVERIFY2(t.elapsed() >= 1400 && t.elapsed() < 6000, qPrintable(QString::number(t.elapsed())));
    }

    void failsOverOnIdleTimeoutBeforeContent()
    {
        checkFailedOver(chat(QStringLiteral("via-idle"), true), QStringLiteral("oai/idle"), 0);
    }

    void failsOverOnErrorAsFirstStreamEvent()
    {
        const HttpResponse r = chat(QStringLiteral("via-errfirst"), true);
        checkFailedOver(r, QStringLiteral("oai/errfirst"), 0);
        // The client saw nothing of the failed attempt: no error event, one complete stream.
        QVERIFY(!r.body.contains("error"));
        QVERIFY(r.body.contains("[DONE]"));
    }

    void failsOverFromAnthropicErrorEventToOpenAI()
    {
        const HttpResponse r = chat(QStringLiteral("via-anth-errfirst"), true);
        checkFailedOver(r, QStringLiteral("anth/errfirst"), 0);
        QVERIFY(!r.body.contains("error"));
    }

    void failsOverOnRefusedCredentials()
    {
        checkFailedOver(chat(QStringLiteral("via-401")), QStringLiteral("oai/f401"), 401);
    }

    void doesNotFailOverOnTheRequestsOwnError()
    {
        const HttpResponse r = chat(QStringLiteral("via-400"));
        QCOMPARE(r.status, 400);
        QVERIFY(openAIErrorProblem(r).isEmpty());
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->attempts, 1);
        QCOMPARE(row->attemptLog.size(), 1);
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok")), 0);
    }

    void noFailoverAfterBytesReachedTheClient()
    {
        const HttpResponse r = chat(QStringLiteral("via-midreset"), true);
        QCOMPARE(r.status, 200); // the head was already sent
        QVERIFY(r.complete);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("oai/midreset"));
        // Content from the first target, then a clean error event and [DONE].
        QVERIFY(!streamContent(r).isEmpty());
        QVERIFY(r.body.contains("\"error\""));
        QVERIFY(r.body.trimmed().endsWith("data: [DONE]"));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok")), 0);
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QVERIFY(row->status >= 500);
        QCOMPARE(row->attempts, 1);
        QCOMPARE(row->attemptLog.size(), 1);
        QCOMPARE(row->attemptLog.at(0).outcome, QStringLiteral("failed"));
    }

    void retryAfterLongerThanTheLimitIsPassedToTheClient()
    {
        QElapsedTimer t;
        t.start();
        const HttpResponse r = chat(QStringLiteral("via-429long"));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("retry-after"), QByteArray("60"));
        QVERIFY2(t.elapsed() < 2000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-429@retry_after=60")), 1);
    }

    void retryAfterIsHonouredBeforeTryingAgain()
    {
        // One target answering 429 with Retry-After: 1: each retry waits at least a second.
        QElapsedTimer t;
        t.start();
        const HttpResponse r = chat(QStringLiteral("via-429solo"));
        QCOMPARE(r.status, 429);
        const qint64 elapsed = t.elapsed();
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-429@retry_after=1")), 3);
        QVERIFY2(elapsed >= 2000 && elapsed < 8000, qPrintable(QString::number(elapsed)));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->attempts, 3);
    }

    void circuitBreakerOpensAndHalfOpens()
    {
        // Three failures open the circuit of oai/breaker (threshold 3).
        for (int i = 0; i < 3; ++i)
            checkFailedOver(chat(QStringLiteral("via-breaker")), QStringLiteral("oai/breaker"), 500);
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-500")), 3);
        // Open: the next request goes straight to the healthy target.
        HttpResponse r = chat(QStringLiteral("via-breaker"));
        QCOMPARE(r.status, 200);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("oai/ok"));
        QVERIFY(!r.hasHeader("x-gatehouse-attempts"));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-500")), 3);
        // Health is visible in /v1/models.
        HttpClient client(m_h.gateway->port());
        const QJsonArray data = client.get("/v1/models", bearer(kSecret)).json().value(QStringLiteral("data")).toArray();
        QString state;
        for (const QJsonValue &v : data) {
            if (v[QStringLiteral("id")].toString() == QLatin1String("oai/breaker"))
                state = v[QStringLiteral("gatehouse")][QStringLiteral("health")][QStringLiteral("state")].toString();
        }
        QCOMPARE(state, QStringLiteral("open"));
        // After the cooldown one probe goes to the broken target again; it fails, the circuit reopens.
        QTest::qWait(1700);
        checkFailedOver(chat(QStringLiteral("via-breaker")), QStringLiteral("oai/breaker"), 500);
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-500")), 4);
        r = chat(QStringLiteral("via-breaker"));
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("oai/ok"));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-500")), 4);
    }

    void skipsTargetsThatCannotServeTheRequest_data()
    {
        QTest::addColumn<QString>("route");
        QTest::addColumn<QJsonObject>("extra");
        QTest::addColumn<QString>("reason");
        const QJsonArray imageMessage{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
            {QStringLiteral("content"),
                QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("text")}, {QStringLiteral("text"), QStringLiteral("What is this?")}},
                    QJsonObject{{QStringLiteral("type"), QStringLiteral("image_url")},
                        {QStringLiteral("image_url"), QJsonObject{{QStringLiteral("url"), QStringLiteral("data:image/png;base64,iVBORw0KGgo=")}}}}}}}};
        QTest::addRow("vision") << QStringLiteral("via-textonly") << QJsonObject{{QStringLiteral("messages"), imageMessage}} << QStringLiteral("vision");
        QTest::addRow("tools") << QStringLiteral("via-textonly") << QJsonObject{{QStringLiteral("tools"), openAITools()}} << QStringLiteral("tool");
        QTest::addRow("context") << QStringLiteral("via-tiny")
                                 << QJsonObject{{QStringLiteral("messages"),
                                        QJsonArray{text(QStringLiteral("user"), QString(2000, u'x'))}}}
                                 << QStringLiteral("context");
    }
    void skipsTargetsThatCannotServeTheRequest()
    {
        QFETCH(QString, route);
        QFETCH(QJsonObject, extra);
        QFETCH(QString, reason);
        const HttpResponse r = chat(route, false, extra);
        QCOMPARE(r.status, 200);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("oai/ok"));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->attempts, 1);
        QVERIFY2(row->attemptLog.size() == 2, qPrintable(row->describe()));
        QCOMPARE(row->attemptLog.at(0).outcome, QStringLiteral("skipped"));
        QVERIFY2(row->attemptLog.at(0).error.contains(reason, Qt::CaseInsensitive), qPrintable(row->attemptLog.at(0).error));
        QCOMPARE(row->attemptLog.at(1).outcome, QStringLiteral("ok"));
    }

    void perRequestModelsList()
    {
        const HttpResponse r = chat(QStringLiteral("oai/f500"), false,
            QJsonObject{{QStringLiteral("models"), QJsonArray{QStringLiteral("oai/ok")}}});
        checkFailedOver(r, QStringLiteral("oai/f500"), 500);
        // The gateway's own field never reaches a provider.
        const QJsonObject last = m_h.mock->lastRequest();
        QVERIFY2(!last.value(QStringLiteral("body")).toString().contains(QStringLiteral("\"models\"")),
            qPrintable(last.value(QStringLiteral("body")).toString()));
    }

    void modelsListsAliasesWithTargetHealth()
    {
        HttpClient client(m_h.gateway->port());
        const QJsonArray data = client.get("/v1/models", bearer(kSecret)).json().value(QStringLiteral("data")).toArray();
        QJsonObject alias;
        for (const QJsonValue &v : data) {
            if (v[QStringLiteral("id")].toString() == QLatin1String("via-500"))
                alias = v.toObject();
        }
        QVERIFY(!alias.isEmpty());
        const QJsonObject g = alias.value(QStringLiteral("gatehouse")).toObject();
        QCOMPARE(g.value(QStringLiteral("strategy")).toString(), QStringLiteral("ordered"));
        const QJsonArray targets = g.value(QStringLiteral("targets")).toArray();
        QCOMPARE(targets.size(), 2);
        QCOMPARE(targets.at(0)[QStringLiteral("model")].toString(), QStringLiteral("oai/f500"));
        QVERIFY(targets.at(0)[QStringLiteral("health")][QStringLiteral("state")].isString());
    }

    void affinityKeepsAConversationOnTheTargetThatServedIt()
    {
        // The same prompt again: it goes straight to the target that served it (its cache is warm),
        // not to the first target of the ordered route.
        const QJsonObject same{{QStringLiteral("messages"), QJsonArray{text(QStringLiteral("user"), QStringLiteral("A conversation about caching"))}}};
        checkFailedOver(chat(QStringLiteral("via-502"), false, same), QStringLiteral("oai/f502"), 502);
        const HttpResponse again = chat(QStringLiteral("via-502"), true, same);
        QCOMPARE(again.status, 200);
        QCOMPARE(QString::fromUtf8(again.header("x-gatehouse-model")), QStringLiteral("oai/ok"));
        QVERIFY(!again.hasHeader("x-gatehouse-attempts"));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-502")), 1);
    }

    void cacheControlSurvivesFailoverByteForByte()
    {
        // An Anthropic client's request with cache_control markers fails over from one Anthropic
        // target to another: what reaches the second is the client's bytes with only the model changed.
        const QByteArray body = R"({"model":"to-anthropic","max_tokens":64,"stream":true,)"
                                R"("system":[{"type":"text","text":"Long stable instructions.","cache_control":{"type":"ephemeral"}}],)"
                                R"("messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"type":"ephemeral","ttl":"1h"}}]}]})";
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.post("/v1/messages", body, anthropicHeaders(kSecret));
        QCOMPARE(r.status, 200);
        QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("anth/ok"));
        QVERIFY(!r.body.contains("event: error"));
        const QJsonObject last = m_h.mock->lastRequest();
        QByteArray expected = body;
        expected.replace(R"("model":"to-anthropic")", R"("model":"ok")");
        QCOMPARE(last.value(QStringLiteral("body")).toString().toUtf8(), expected);
    }
};

QTEST_GUILESS_MAIN(TestRoutingFailover)
#include "tst_routing_failover.moc"
