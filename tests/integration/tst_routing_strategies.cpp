// Strategies, prompt-cache affinity and rate limits over HTTP. A conversation of 20 growing turns
// through a `weighted` and a `cheapest` route with two equal targets stays on one target and reads
// the provider's prompt cache from the second turn on (the mock simulates the cache); unrelated
// requests spread by weight; the cheapest target wins; per-key rpm/tpm refuse with a Retry-After
// that is right; a provider's own rpm spreads load to the other target.
#include "providerstestkit.h"

#include <QJsonArray>

#include <memory>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-routing-strategies-001";
const QByteArray kLimitedSecret = "gk-itest-routing-rpm-limited-01";
const QByteArray kTpmSecret = "gk-itest-routing-tpm-limited-01";

QJsonObject route(const QString &id, const QString &strategy, const QList<QPair<QString, int>> &targets)
{
    QJsonArray t;
    for (const auto &[model, weight] : targets)
        t.append(QJsonObject{{QStringLiteral("model"), model}, {QStringLiteral("weight"), weight}});
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("strategy"), strategy}, {QStringLiteral("targets"), t}};
}

QJsonObject model(const QString &id, const QString &provider, const QString &upstream, double input, double output)
{
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("provider"), provider},
        {QStringLiteral("upstream_model"), upstream},
        {QStringLiteral("pricing"), QJsonObject{{QStringLiteral("input"), input}, {QStringLiteral("output"), output},
                                         {QStringLiteral("cache_read"), input / 10}}}};
}

// A long, stable system prompt (the part a provider caches).
QString systemPrompt()
{
    QString s = QStringLiteral("You are the release assistant of a large project. ");
    while (s.size() < 3000)
        s += QStringLiteral("Follow the style guide, cite file names, answer tersely, never invent APIs. ");
    return s;
}

} // namespace

class TestRoutingStrategies : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const QJsonObject &body, const QByteArray &secret = kSecret)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", compact(body), bearer(secret));
    }

    // A conversation through `route`: turn n sends the system prompt and n user/assistant exchanges.
    void conversationStaysOnOneTarget(const QString &routeId, bool stream)
    {
        QJsonArray messages{text(QStringLiteral("system"), systemPrompt())};
        QStringList served;
        QList<qint64> cacheRead;
        for (int turn = 1; turn <= 20; ++turn) {
            messages.append(text(QStringLiteral("user"), QStringLiteral("Turn %1 (%2): what changed in release %1?").arg(turn).arg(routeId)));
            QJsonObject body{{QStringLiteral("model"), routeId}, {QStringLiteral("messages"), messages},
                {QStringLiteral("max_tokens"), 64}};
            if (stream) {
                body.insert(QStringLiteral("stream"), true);
                body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
            }
            const HttpResponse r = post(body);
            QCOMPARE(r.status, 200);
            served.append(QString::fromUtf8(r.header("x-gatehouse-model")));
            const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
            QVERIFY(row);
            QCOMPARE(row->route, routeId);
            cacheRead.append(row->cacheReadTokens);
            const QString answer = stream ? streamContent(r) : chatContent(r);
            messages.append(text(QStringLiteral("assistant"), answer));
        }
        qInfo().noquote() << routeId << "cache read tokens per turn:" << cacheRead;
        QCOMPARE(served.count(served.first()), 20); // every turn on the first turn's target
        QCOMPARE(cacheRead.first(), 0);
        for (int i = 1; i < cacheRead.size(); ++i)
            QVERIFY2(cacheRead.at(i) > 0, qPrintable(QStringLiteral("turn %1 read no cache").arg(i + 1)));
        // The cache grows with the conversation.
        QVERIFY(cacheRead.last() > cacheRead.at(1));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString a = QStringLiteral("pa");
        const QString b = QStringLiteral("pb");
        const QString limited = QStringLiteral("plim");
        QJsonObject limitedProvider = provider(*m_h.mock, limited, QStringLiteral("openai"));
        limitedProvider.insert(QStringLiteral("rpm"), 2);
        QJsonObject rpmKey = testKey(QStringLiteral("rpm-limited"), QString::fromLatin1(kLimitedSecret));
        rpmKey.insert(QStringLiteral("rpm"), 3);
        QJsonObject tpmKey = testKey(QStringLiteral("tpm-limited"), QString::fromLatin1(kTpmSecret));
        tpmKey.insert(QStringLiteral("tpm"), 1000);
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, a, QStringLiteral("openai")), provider(*m_h.mock, b, QStringLiteral("anthropic")), limitedProvider}},
            {QStringLiteral("models"),
                QJsonArray{
                    model(QStringLiteral("pa/one"), a, QStringLiteral("ok@cache=1,tag=a"), 1.0, 2.0),
                    model(QStringLiteral("pb/two"), b, QStringLiteral("ok@cache=1,tag=b"), 1.0, 2.0),
                    model(QStringLiteral("pa/cheap"), a, QStringLiteral("ok@tag=cheap"), 0.1, 0.4),
                    model(QStringLiteral("pb/pricey"), b, QStringLiteral("ok@tag=pricey"), 3.0, 15.0),
                    model(QStringLiteral("pa/w3"), a, QStringLiteral("ok@tag=w3"), 1.0, 2.0),
                    model(QStringLiteral("pa/w1"), a, QStringLiteral("ok@tag=w1"), 1.0, 2.0),
                    model(QStringLiteral("plim/ok"), limited, QStringLiteral("ok@tag=lim"), 1.0, 2.0),
                    model(QStringLiteral("pa/spill"), a, QStringLiteral("ok@tag=spill"), 1.0, 2.0),
                    model(QStringLiteral("pa/p300"), a, QStringLiteral("ok@p=300,tag=p300"), 1.0, 2.0),
                }},
            {QStringLiteral("routes"),
                QJsonArray{
                    route(QStringLiteral("sticky-weighted"), QStringLiteral("weighted"), {{QStringLiteral("pa/one"), 1}, {QStringLiteral("pb/two"), 1}}),
                    route(QStringLiteral("sticky-cheapest"), QStringLiteral("cheapest"), {{QStringLiteral("pb/two"), 1}, {QStringLiteral("pa/one"), 1}}),
                    route(QStringLiteral("cheap"), QStringLiteral("cheapest"), {{QStringLiteral("pb/pricey"), 1}, {QStringLiteral("pa/cheap"), 1}}),
                    route(QStringLiteral("spread"), QStringLiteral("weighted"), {{QStringLiteral("pa/w3"), 3}, {QStringLiteral("pa/w1"), 1}}),
                    route(QStringLiteral("limited"), QStringLiteral("ordered"), {{QStringLiteral("plim/ok"), 1}, {QStringLiteral("pa/spill"), 1}}),
                }},
            {QStringLiteral("keys"),
                QJsonArray{testKey(QStringLiteral("strategies"), QString::fromLatin1(kSecret)), rpmKey, tpmKey}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void affinityKeepsAConversationOnOneTargetWeighted() { conversationStaysOnOneTarget(QStringLiteral("sticky-weighted"), false); }
    void affinityKeepsAConversationOnOneTargetCheapestStreamed() { conversationStaysOnOneTarget(QStringLiteral("sticky-cheapest"), true); }

    void cheapestPicksTheCheaperTarget()
    {
        for (int i = 0; i < 5; ++i) {
            const HttpResponse r = post(chatCompletionRequest(QStringLiteral("cheap")));
            QCOMPARE(r.status, 200);
            QCOMPARE(QString::fromUtf8(r.header("x-gatehouse-model")), QStringLiteral("pa/cheap"));
        }
    }

    void weightedSpreadsUnrelatedRequestsByWeight()
    {
        // Different first messages: no shared prefix, no affinity.
        QMap<QString, int> served;
        const int n = 200;
        for (int i = 0; i < n; ++i) {
            QJsonObject body{{QStringLiteral("model"), QStringLiteral("spread")}, {QStringLiteral("max_tokens"), 16},
                {QStringLiteral("messages"), QJsonArray{text(QStringLiteral("user"), QStringLiteral("Question number %1").arg(i))}}};
            const HttpResponse r = post(body);
            QCOMPARE(r.status, 200);
            served[QString::fromUtf8(r.header("x-gatehouse-model"))]++;
        }
        qInfo() << "weighted 3:1 over" << n << "requests:" << served;
        // Expected 150 / 50; binomial standard deviation ~6.1: allow 4 sigma.
        QVERIFY2(qAbs(served.value(QStringLiteral("pa/w3")) - 150) <= 25, qPrintable(QString::number(served.value(QStringLiteral("pa/w3")))));
        QCOMPARE(served.value(QStringLiteral("pa/w3")) + served.value(QStringLiteral("pa/w1")), n);
    }

    void keyRequestsPerMinuteWithRightRetryAfter()
    {
        for (int i = 0; i < 3; ++i)
            QCOMPARE(post(chatCompletionRequest(QStringLiteral("pa/cheap")), kLimitedSecret).status, 200);
        QTest::qWait(2100);
        const HttpResponse r = post(chatCompletionRequest(QStringLiteral("pa/cheap")), kLimitedSecret);
        QCOMPARE(r.status, 429);
        QVERIFY(openAIErrorProblem(r).isEmpty());
        QCOMPARE(errorCode(r), QStringLiteral("rate_limit_exceeded"));
        // The first request leaves the window 60 s after it was made: about 57-58 s from now.
        const int retryAfter = r.header("retry-after").toInt();
        QVERIFY2(retryAfter >= 56 && retryAfter <= 58, r.header("retry-after").constData());
        // Refused requests are logged but never reach the provider.
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok@tag=cheap")), 3);
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->status, 429);
    }

    void keyTokensPerMinute()
    {
        // The first request really uses 300+ tokens (the mock reports 300 prompt tokens); the second
        // asks for up to 900 output tokens on top of its ~60 input tokens: more than the 1000 left.
        const HttpResponse first = post(chatCompletionRequest(QStringLiteral("pa/p300"), false, 64), kTpmSecret);
        QCOMPARE(first.status, 200);
        const HttpResponse second = post(chatCompletionRequest(QStringLiteral("pa/p300"), false, 900), kTpmSecret);
        QCOMPARE(second.status, 429);
        const int retryAfter = second.header("retry-after").toInt();
        QVERIFY2(retryAfter >= 58 && retryAfter <= 60, second.header("retry-after").constData());
        QVERIFY(errorMessage(second).contains(QStringLiteral("tokens per minute")));
    }

    void providerLimitSpreadsToTheOtherTarget()
    {
        QStringList served;
        for (int i = 0; i < 4; ++i) {
            const HttpResponse r = post(chatCompletionRequest(QStringLiteral("limited")));
            QCOMPARE(r.status, 200);
            served.append(QString::fromUtf8(r.header("x-gatehouse-model")));
        }
        QCOMPARE(served, (QStringList{QStringLiteral("plim/ok"), QStringLiteral("plim/ok"), QStringLiteral("pa/spill"), QStringLiteral("pa/spill")}));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("ok@tag=lim")), 2);
    }
};

QTEST_GUILESS_MAIN(TestRoutingStrategies)
#include "tst_routing_strategies.moc"
