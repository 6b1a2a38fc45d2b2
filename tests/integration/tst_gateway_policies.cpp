// Provider data policies and refusals through the real gateway binary against the mock provider:
// a key's "require_policy" makes routing skip the targets whose "data_policy" (the provider's, or a
// model's own) does not meet it, and the attempt log names the rule; a request naming such a model
// is refused in the caller's own error format (OpenAI chat, Responses, Anthropic, Gemini) naming the
// rule; and every refusal kind Gatehouse makes (policy, budget, secret) is a request-log row with
// its kind and reason.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>

using namespace gh::test;

namespace {

const QByteArray kEuSecret = "gk-itest-policy-eu-0001";
const QByteArray kAnySecret = "gk-itest-policy-any-0001";
const QByteArray kNarrowSecret = "gk-itest-policy-narrow-0001";
const QByteArray kPoorSecret = "gk-itest-policy-poor-0001";
const QByteArray kBlockSecret = "gk-itest-policy-block-0001";

QByteArray chat(const QString &model)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), model},
                                     {QStringLiteral("max_tokens"), 32},
                                     {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                                         {QStringLiteral("content"), QStringLiteral("Hello")}}}}})
        .toJson(QJsonDocument::Compact);
}

// Made up at run time (a real-looking literal in the source would itself be a leaked secret).
QByteArray randomFrom(const char *alphabet, int n)
{
    const int size = int(qstrlen(alphabet));
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out.append(alphabet[QRandomGenerator::global()->bounded(size)]);
    return out;
}

QJsonObject withPolicy(QJsonObject o, const QJsonObject &policy)
{
    o.insert(QStringLiteral("data_policy"), policy);
    return o;
}

} // namespace

class TestGatewayPolicies : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const QByteArray &secret, const QByteArray &body, const QByteArray &path = "/v1/chat/completions", Headers extra = {})
    {
        HttpClient client(m_h.gateway->port());
        Headers h = bearer(secret);
        h.append(extra);
        return client.post(path, body, h);
    }

    // The request's row, waited for.
    std::optional<LoggedRequest> rowOf(const HttpResponse &r)
    {
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        if (id.isEmpty())
            return std::nullopt;
        return m_h.db->waitFor(id);
    }
    // The request's refusal kind, once its row is written.
    QString refusalOf(const HttpResponse &r)
    {
        if (!rowOf(r))
            return QStringLiteral("(no row)");
        return m_h.db->refusalOf(QString::fromLatin1(r.headers.value("x-gatehouse-request-id"))).value_or(QStringLiteral("(no row)"));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        // "eu": an EU provider with zero data retention and no training; "us": a US one that keeps
        // prompts 30 days. Neither id is a catalog vendor, so only these settings count: an unstated
        // field is unknown.
        const QJsonObject eu = withPolicy(mockProvider(*m_h.mock, QStringLiteral("eu")),
                                          {{QStringLiteral("region"), QStringLiteral("EU")},
                                           {QStringLiteral("zdr"), true},
                                           {QStringLiteral("trains_on_data"), QStringLiteral("no")},
                                           {QStringLiteral("retains_prompts"), QStringLiteral("none")}});
        const QJsonObject us = withPolicy(mockProvider(*m_h.mock, QStringLiteral("us")),
                                          {{QStringLiteral("region"), QStringLiteral("us")},
                                           {QStringLiteral("zdr"), false},
                                           {QStringLiteral("trains_on_data"), QStringLiteral("no")},
                                           {QStringLiteral("retains_prompts"), 30}});
        // A model of the EU provider whose own policy differs: it trains on what it is sent.
        const QJsonObject trainer = withPolicy(mockModel(QStringLiteral("eu/trainer"), QStringLiteral("eu"), QStringLiteral("ok"), 3.0, 15.0),
                                               {{QStringLiteral("trains_on_data"), QStringLiteral("yes")}});
        QJsonObject euKey = testKey(QStringLiteral("eu-only"), QString::fromLatin1(kEuSecret));
        euKey.insert(QStringLiteral("require_policy"), QJsonObject{{QStringLiteral("zdr"), true},
                                                                   {QStringLiteral("trains_on_data"), QStringLiteral("no")},
                                                                   {QStringLiteral("regions"), QJsonArray{QStringLiteral("eu")}}});
        QJsonObject narrow = testKey(QStringLiteral("narrow"), QString::fromLatin1(kNarrowSecret), {QStringLiteral("eu/*")});
        QJsonObject poor = testKey(QStringLiteral("poor"), QString::fromLatin1(kPoorSecret), {}, {{QStringLiteral("day_usd"), 0.000001}});
        QJsonObject block = testKey(QStringLiteral("block"), QString::fromLatin1(kBlockSecret));
        block.insert(QStringLiteral("secret_scan"), QStringLiteral("block"));
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{eu, us}},
            {QStringLiteral("models"), QJsonArray{mockModel(QStringLiteral("eu/chat"), QStringLiteral("eu"), QStringLiteral("ok"), 3.0, 15.0),
                                                  mockModel(QStringLiteral("us/chat"), QStringLiteral("us"), QStringLiteral("ok"), 3.0, 15.0), trainer}},
            {QStringLiteral("routes"), QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("us-first")},
                                                              {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), QStringLiteral("us/chat")}}, QJsonObject{{QStringLiteral("model"), QStringLiteral("eu/chat")}}}}},
                                                  QJsonObject{{QStringLiteral("id"), QStringLiteral("us-only")},
                                                              {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), QStringLiteral("us/chat")}}, QJsonObject{{QStringLiteral("model"), QStringLiteral("eu/trainer")}}}}}}},
            {QStringLiteral("keys"), QJsonArray{euKey, testKey(QStringLiteral("any"), QString::fromLatin1(kAnySecret)), narrow, poor, block}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QVERIFY(m_h.mock->reset());
    }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void routingSkipsTargetsThatDoNotMeetTheKeysPolicy()
    {
        const HttpResponse r = post(kEuSecret, chat(QStringLiteral("us-first")));
        QCOMPARE(r.status, 200);
        const auto row = rowOf(r);
        QVERIFY(row);
        QCOMPARE(row->modelId, QStringLiteral("eu/chat"));
        QCOMPARE(row->attemptLog.size(), 2);
        const LoggedAttempt &skip = row->attemptLog.at(0);
        QCOMPARE(skip.outcome, QStringLiteral("skipped"));
        QCOMPARE(skip.modelId, QStringLiteral("us/chat"));
        QCOMPARE(skip.error, QStringLiteral("data policy: key 'eu-only' requires zdr; zdr is off"));
        QCOMPARE(row->attemptLog.at(1).outcome, QStringLiteral("ok"));
        QCOMPARE(refusalOf(r), QString()); // served: not a refusal

        // A key without a requirement takes the route's first target.
        const HttpResponse any = post(kAnySecret, chat(QStringLiteral("us-first")));
        QCOMPARE(any.status, 200);
        QCOMPARE(rowOf(any)->modelId, QStringLiteral("us/chat"));
    }

    void aRouteWithNoTargetMeetingThePolicyIsRefused()
    {
        QVERIFY(m_h.mock->reset());
        const HttpResponse r = post(kEuSecret, chat(QStringLiteral("us-only")));
        QCOMPARE(r.status, 400);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(errorCode(r), QStringLiteral("data_policy_refused"));
        const QString message = errorMessage(r);
        // Each target and the rule it breaks; the model's own policy wins over its provider's.
        QVERIFY2(message.contains(QLatin1String("us/chat: data policy: key 'eu-only' requires zdr; zdr is off")), qPrintable(message));
        QVERIFY2(message.contains(QLatin1String("eu/trainer: data policy: key 'eu-only' requires no training; trains_on_data is yes")), qPrintable(message));
        QCOMPARE(r.headers.value("x-should-retry"), QByteArray("false"));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0);
        const auto row = rowOf(r);
        QVERIFY(row);
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));
        QCOMPARE(row->attemptLog.size(), 2);
        QCOMPARE(row->attemptLog.at(0).outcome, QStringLiteral("skipped"));
    }

    void aNamedModelIsRefusedInEachCallersFormat()
    {
        QVERIFY(m_h.mock->reset());
        const QString rule = QStringLiteral("requires zdr; zdr is off");

        // OpenAI chat completions.
        HttpResponse r = post(kEuSecret, chat(QStringLiteral("us/chat")));
        QCOMPARE(r.status, 400);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(errorCode(r), QStringLiteral("data_policy_refused"));
        QVERIFY2(errorMessage(r).contains(QLatin1String("Model 'us/chat' is refused by a data policy (data policy: key 'eu-only' ") + rule),
                 qPrintable(errorMessage(r)));
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));

        // OpenAI Responses.
        const QByteArray responses = QJsonDocument(QJsonObject{{QStringLiteral("model"), QStringLiteral("us/chat")},
                                                               {QStringLiteral("input"), QStringLiteral("Hello")}})
                                         .toJson(QJsonDocument::Compact);
        r = post(kEuSecret, responses, "/v1/responses");
        QCOMPARE(r.status, 400);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(errorCode(r), QStringLiteral("data_policy_refused"));
        QVERIFY2(errorMessage(r).contains(rule), qPrintable(errorMessage(r)));
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));

        // Anthropic messages: Anthropic's error shape.
        r = post(kEuSecret, chat(QStringLiteral("us/chat")), "/v1/messages", {qMakePair(QByteArray("anthropic-version"), QByteArray("2023-06-01"))});
        QCOMPARE(r.status, 400);
        QJsonObject err = r.json();
        QCOMPARE(err.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(err.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
        QVERIFY2(err.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(rule), r.body.constData());
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));

        // Gemini generateContent: Google's error shape {"error": {"code", "message", "status"}}.
        const QByteArray gemini = QJsonDocument(QJsonObject{{QStringLiteral("contents"), QJsonArray{QJsonObject{
                                                    {QStringLiteral("role"), QStringLiteral("user")},
                                                    {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("Hello")}}}}}}}})
                                      .toJson(QJsonDocument::Compact);
        r = post(kEuSecret, gemini, "/v1beta/models/us/chat:generateContent");
        QCOMPARE(r.status, 400);
        err = r.json().value(QStringLiteral("error")).toObject();
        QCOMPARE(err.value(QStringLiteral("code")).toInt(), 400);
        QCOMPARE(err.value(QStringLiteral("status")).toString(), QStringLiteral("INVALID_ARGUMENT"));
        QVERIFY2(err.value(QStringLiteral("message")).toString().contains(rule), r.body.constData());
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));

        // A model whose own policy breaks the rule, under a provider that meets it.
        r = post(kEuSecret, chat(QStringLiteral("eu/trainer")));
        QCOMPARE(r.status, 400);
        QVERIFY2(errorMessage(r).contains(QLatin1String("requires no training; trains_on_data is yes")), qPrintable(errorMessage(r)));

        QCOMPARE(m_h.mock->receivedRequests().size(), 0); // nothing left the machine
        // And the model that meets it is served.
        QCOMPARE(post(kEuSecret, chat(QStringLiteral("eu/chat"))).status, 200);
    }

    void everyRefusalKindIsALoggedRowWithItsReason()
    {
        // policy: the key's allow_models.
        HttpResponse r = post(kNarrowSecret, chat(QStringLiteral("us/chat")));
        QCOMPARE(r.status, 400);
        QCOMPARE(refusalOf(r), QStringLiteral("policy"));
        QVERIFY(rowOf(r)->error.contains(QLatin1String("may not use model 'us/chat'")));

        // budget: the worst case does not fit a tiny day limit.
        r = post(kPoorSecret, chat(QStringLiteral("eu/chat")));
        QCOMPARE(r.status, 402);
        QCOMPARE(refusalOf(r), QStringLiteral("budget"));
        QVERIFY(!rowOf(r)->error.isEmpty());

        // secret: a GitHub token in the prompt of a blocking key; the row names the rule, never the secret.
        const QByteArray secret = "ghp_" + randomFrom("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 36);
        r = post(kBlockSecret, chat(QStringLiteral("eu/chat")).replace("Hello", "token " + secret));
        QCOMPARE(r.status, 400);
        QCOMPARE(refusalOf(r), QStringLiteral("secret"));
        const auto row = rowOf(r);
        QVERIFY(row && row->error.contains(QLatin1String("github-pat")));
        QVERIFY(!row->error.toUtf8().contains(secret));

        // A request that is served, or that fails for another reason, is not a refusal.
        r = post(kAnySecret, chat(QStringLiteral("eu/chat")));
        QCOMPARE(r.status, 200);
        QCOMPARE(refusalOf(r), QString());
        r = post(kAnySecret, chat(QStringLiteral("nowhere/model")));
        QCOMPARE(r.status, 404);
        QCOMPARE(refusalOf(r), QString());
    }
};

QTEST_GUILESS_MAIN(TestGatewayPolicies)
#include "tst_gateway_policies.moc"
