// The Gemini API as a client's format, through the gateway over real sockets: a Gemini client's
// bytes reach a Gemini provider untouched but the URL's model; the same conversation costs the same
// through an Anthropic, OpenAI or Gemini provider, streamed or not; the key is taken from
// x-goog-api-key, ?key= or Bearer; errors come back in Google's shape; countTokens is forwarded to
// a Gemini provider and estimated for the others; GET /v1beta/models lists what the key may use.
#include "providerstestkit.h"

#include <QUrl>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-providers-gemini-0001";
const QString kGeminiSame = QStringLiteral("ok@p=1100,cached=300,thoughts=20,c=30");

Headers googKey(const QByteArray &secret = kSecret)
{
    return Headers{{"x-goog-api-key", secret}, {"content-type", "application/json"}};
}

// The conversation of providerstestkit.h's chatCompletionRequest, as a Gemini client sends it.
QByteArray geminiRequest(qint64 maxTokens = 512)
{
    return compact(QJsonObject{
        {QStringLiteral("systemInstruction"), QJsonObject{{QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("You are terse.")}}}}}},
        {QStringLiteral("contents"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                            {QStringLiteral("parts"), QJsonArray{QJsonObject{{QStringLiteral("text"), QStringLiteral("What is the weather in Paris?")}}}}}}},
        {QStringLiteral("generationConfig"), QJsonObject{{QStringLiteral("maxOutputTokens"), maxTokens}}}});
}

QJsonObject googleError(const HttpResponse &r)
{
    return r.json().value(QStringLiteral("error")).toObject();
}

} // namespace

class TestProvidersGemini : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse generate(const QString &model, const QByteArray &body, bool stream = false, const Headers &headers = googKey(),
                          const QByteArray &query = {})
    {
        HttpClient client(m_h.gateway->port());
        const QByteArray path = "/v1beta/models/" + model.toUtf8() + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        return client.post(path + (query.isEmpty() ? QByteArray() : (stream ? "&" : "?") + query), body, headers);
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
             QJsonArray{provider(*m_h.mock, anth, QStringLiteral("anthropic")), provider(*m_h.mock, oai, QStringLiteral("openai")),
                        provider(*m_h.mock, gem, QStringLiteral("gemini"))}},
            {QStringLiteral("models"),
             QJsonArray{pricedModel(QStringLiteral("anth/same"), anth, QStringLiteral("ok@p=700,c=50,cache_read=300,cache_write=100")),
                        pricedModel(QStringLiteral("oai/same"), oai, QStringLiteral("ok@p=1100,c=50,cached=300")),
                        pricedModel(QStringLiteral("gem/same"), gem, kGeminiSame),
                        pricedModel(QStringLiteral("oai/fail429"), oai, QStringLiteral("fail-429@retry_after=4")),
                        pricedModel(QStringLiteral("oai/errstream"), oai, QStringLiteral("error-in-stream@after=2"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("gemini-client"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase() { QVERIFY2(m_h.stop(), qPrintable(m_h.error)); }

    void geminiProviderGetsTheClientsBytes()
    {
        // Key order, spacing and a field Gatehouse does not translate: all kept (prompt caches key on bytes).
        const QByteArray body = R"({ "generationConfig": {"maxOutputTokens": 64, "temperature": 0},
  "contents": [{"parts": [{"text": "hi"}], "role": "user"}], "tools": [{"googleSearch": {}}] })";
        for (const bool stream : {false, true}) {
            const HttpResponse r = generate(QStringLiteral("gem/same"), body, stream);
            QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
            const QJsonObject recorded = m_h.mock->lastRequest();
            QCOMPARE(recorded.value(QStringLiteral("body")).toString().toUtf8(), body);
            const QString path = recorded.value(QStringLiteral("path")).toString();
            QVERIFY2(path.contains(QUrl::toPercentEncoding(kGeminiSame)), qPrintable(path));
            QVERIFY2(path.endsWith(stream ? QStringLiteral(":streamGenerateContent?alt=sse") : QStringLiteral(":generateContent")), qPrintable(path));
            const QJsonObject headers = recordedHeaders(recorded);
            QCOMPARE(headers.value(QStringLiteral("x-goog-api-key")).toString(), QString::fromLatin1(kProviderKey));
            QVERIFY(!QJsonDocument(recorded).toJson().contains(kSecret));
        }
        // Another provider cannot take Google's own search tool: refused, naming it, in Google's shape.
        const HttpResponse refused = generate(QStringLiteral("oai/same"), body);
        QCOMPARE(refused.status, 400);
        QCOMPARE(googleError(refused).value(QStringLiteral("status")).toString(), QStringLiteral("INVALID_ARGUMENT"));
        QVERIFY2(googleError(refused).value(QStringLiteral("message")).toString().contains(QStringLiteral("googleSearch")), qPrintable(refused.describe()));
    }

    void sameConversationSameCost_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("input");
        QTest::addColumn<qint64>("cacheRead");
        QTest::addColumn<qint64>("cacheWrite");
        QTest::addColumn<qint64>("output");
        // The figures of tst_providers_translate's sameConversationSameCost: the same usage costs the
        // same whichever client format asked.
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
        for (const bool stream : {false, true}) {
            const HttpResponse r = generate(model, geminiRequest(), stream);
            QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
            QJsonObject usage;
            QString text;
            if (stream) {
                QVERIFY(!r.events.isEmpty());
                for (const SseEvent &e : r.events) {
                    const QJsonObject chunk = parseObject(e.data);
                    QVERIFY2(chunk.contains(QStringLiteral("candidates")), e.data.constData());
                    for (const QJsonValue &p : chunk.value(QStringLiteral("candidates")).toArray()[0].toObject().value(QStringLiteral("content")).toObject().value(QStringLiteral("parts")).toArray())
                        text += p.toObject().value(QStringLiteral("text")).toString();
                    if (chunk.contains(QStringLiteral("usageMetadata")))
                        usage = chunk.value(QStringLiteral("usageMetadata")).toObject();
                }
            } else {
                for (const QJsonValue &p : r.json().value(QStringLiteral("candidates")).toArray()[0].toObject().value(QStringLiteral("content")).toObject().value(QStringLiteral("parts")).toArray())
                    text += p.toObject().value(QStringLiteral("text")).toString();
                usage = r.json().value(QStringLiteral("usageMetadata")).toObject();
            }
            QVERIFY2(text.startsWith(QStringLiteral("Hello")), qPrintable(r.describe()));
            // Google counts cached tokens inside the prompt.
            QCOMPARE(usage.value(QStringLiteral("promptTokenCount")).toInteger(), input + cacheRead + cacheWrite);
            QCOMPARE(usage.value(QStringLiteral("cachedContentTokenCount")).toInteger(), cacheRead);
            const auto row = logged(r);
            QVERIFY(row);
            const QString what = row->describe();
            QVERIFY2(row->status == 200 && !row->estimated, qPrintable(what));
            QVERIFY2(row->inputTokens == input && row->cacheReadTokens == cacheRead && row->cacheWriteTokens == cacheWrite, qPrintable(what));
            QVERIFY2(row->outputTokens == output, qPrintable(what));
            QVERIFY2(row->costNanoUsd.value_or(-1) == expected, qPrintable(what + QStringLiteral(" expected %1").arg(expected)));
            QCOMPARE(row->endpoint, QStringLiteral("/v1beta/models/%1:%2").arg(model, stream ? QStringLiteral("streamGenerateContent") : QStringLiteral("generateContent")));
        }
    }

    void keyFromHeaderQueryOrBearer()
    {
        const QByteArray body = geminiRequest();
        QCOMPARE(generate(QStringLiteral("oai/same"), body, false, Headers{{"authorization", "Bearer " + kSecret}}).status, 200);
        QCOMPARE(generate(QStringLiteral("oai/same"), body, false, Headers{}, "key=" + kSecret).status, 200);
        QCOMPARE(generate(QStringLiteral("oai/same"), body, true, Headers{}, "key=" + kSecret).status, 200);
        const HttpResponse bad = generate(QStringLiteral("oai/same"), body, false, googKey("gk-wrong"));
        QCOMPARE(bad.status, 401);
        QCOMPARE(googleError(bad).value(QStringLiteral("status")).toString(), QStringLiteral("UNAUTHENTICATED"));
        QCOMPARE(googleError(bad).value(QStringLiteral("code")).toInt(), 401);
        const HttpResponse none = generate(QStringLiteral("oai/same"), body, false, Headers{});
        QCOMPARE(none.status, 401);
        QVERIFY(!m_h.mock->lastRequest().value(QStringLiteral("body")).toString().isEmpty()); // the three good ones went out
    }

    void errorsInGoogleShape()
    {
        const HttpResponse unknown = generate(QStringLiteral("nope/none"), geminiRequest());
        QCOMPARE(unknown.status, 404);
        QCOMPARE(googleError(unknown).value(QStringLiteral("status")).toString(), QStringLiteral("NOT_FOUND"));

        const HttpResponse notJson = generate(QStringLiteral("oai/same"), "{not json");
        QCOMPARE(notJson.status, 400);
        QCOMPARE(googleError(notJson).value(QStringLiteral("status")).toString(), QStringLiteral("INVALID_ARGUMENT"));

        const HttpResponse noContents = generate(QStringLiteral("oai/same"), "{}");
        QCOMPARE(noContents.status, 400);
        QVERIFY2(googleError(noContents).value(QStringLiteral("message")).toString().contains(QStringLiteral("contents")), qPrintable(noContents.describe()));

        // The provider's own error, translated: a 429 with its Retry-After.
        const HttpResponse limited = generate(QStringLiteral("oai/fail429"), geminiRequest());
        QCOMPARE(limited.status, 429);
        QCOMPARE(googleError(limited).value(QStringLiteral("status")).toString(), QStringLiteral("RESOURCE_EXHAUSTED"));
        QCOMPARE(limited.header("retry-after"), QByteArray("4"));

        // An error inside the provider's stream ends the client's stream with Google's error chunk.
        const HttpResponse broken = generate(QStringLiteral("oai/errstream"), geminiRequest(), true);
        QCOMPARE(broken.status, 200);
        QVERIFY(!broken.events.isEmpty());
        const QJsonObject last = parseObject(broken.events.last().data);
        QVERIFY2(last.value(QStringLiteral("error")).toObject().contains(QStringLiteral("status")), broken.events.last().data.constData());

        HttpClient client(m_h.gateway->port());
        const HttpResponse unknownCall = client.post("/v1beta/models/oai/same:embedContent", geminiRequest(), googKey());
        QCOMPARE(unknownCall.status, 404);
    }

    void countTokensForwardedOrEstimated()
    {
        HttpClient client(m_h.gateway->port());
        const QByteArray body = R"({"contents": [{"role": "user", "parts": [{"text": "What is the weather in Paris?"}]}]})";
        const HttpResponse native = client.post("/v1beta/models/gem/same:countTokens", body, googKey());
        QVERIFY2(native.status == 200, qPrintable(native.describe()));
        QCOMPARE(native.json().value(QStringLiteral("totalTokens")).toInteger(), 1100); // the mock's count for this model
        const QJsonObject recorded = m_h.mock->lastRequest();
        QVERIFY(recorded.value(QStringLiteral("path")).toString().endsWith(QStringLiteral(":countTokens")));
        QCOMPARE(recorded.value(QStringLiteral("body")).toString().toUtf8(), body);

        QVERIFY(m_h.mock->reset());
        const HttpResponse estimated = client.post("/v1beta/models/oai/same:countTokens", body, googKey());
        QVERIFY2(estimated.status == 200, qPrintable(estimated.describe()));
        QVERIFY(estimated.json().value(QStringLiteral("totalTokens")).toInteger() > 0);
        QVERIFY2(m_h.mock->lastRequest().isEmpty(), "an estimate asks no provider");
        // generateContentRequest wraps the request in the SDK's form.
        const HttpResponse wrapped = client.post("/v1beta/models/oai/same:countTokens",
                                                 R"({"generateContentRequest": {"model": "models/oai/same", "contents": [{"parts": [{"text": "hi"}]}]}})", googKey());
        QVERIFY2(wrapped.status == 200, qPrintable(wrapped.describe()));
    }

    void modelsList()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.get("/v1beta/models", googKey());
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QStringList names;
        for (const QJsonValue &m : r.json().value(QStringLiteral("models")).toArray())
            names.append(m.toObject().value(QStringLiteral("name")).toString());
        QVERIFY2(names.contains(QStringLiteral("models/gem/same")) && names.contains(QStringLiteral("models/oai/same")), qPrintable(names.join(u',')));
        QCOMPARE(client.get("/v1beta/models", googKey("gk-wrong")).status, 401);
    }
};

QTEST_GUILESS_MAIN(TestProvidersGemini)
#include "tst_providers_gemini.moc"
