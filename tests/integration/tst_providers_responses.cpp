// OpenAI's Responses API as a client's format, through the gateway over real sockets: passed through
// to an OpenAI-format provider byte for byte but the model; translated for the others, where the
// same conversation costs what it costs through any other client format, streamed or not, with the
// full event sequence; function calls and their outputs paired by call_id; errors in OpenAI's shape;
// previous_response_id refused for a provider that cannot know it.
#include "providerstestkit.h"

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-providers-responses-0001";

QJsonObject responsesRequest(const QString &model, bool stream = false)
{
    QJsonObject body{{QStringLiteral("model"), model},
                     {QStringLiteral("instructions"), QStringLiteral("You are terse.")},
                     {QStringLiteral("input"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                      {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("input_text")},
                                                                                                                         {QStringLiteral("text"), QStringLiteral("What is the weather in Paris?")}}}}}}},
                     {QStringLiteral("max_output_tokens"), 512},
                     {QStringLiteral("store"), false}};
    if (stream)
        body.insert(QStringLiteral("stream"), true);
    return body;
}

QString outputText(const QJsonObject &response)
{
    QString text;
    for (const QJsonValue &item : response.value(QStringLiteral("output")).toArray()) {
        for (const QJsonValue &part : item.toObject().value(QStringLiteral("content")).toArray())
            text += part.toObject().value(QStringLiteral("text")).toString();
    }
    return text;
}

} // namespace

class TestProvidersResponses : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse responses(const QJsonObject &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/responses", compact(body), bearer(kSecret));
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
                        pricedModel(QStringLiteral("gem/same"), gem, QStringLiteral("ok@p=1100,cached=300,thoughts=20,c=30")),
                        pricedModel(QStringLiteral("anth/tools"), anth, QStringLiteral("ok@p=100,c=5")),
                        pricedModel(QStringLiteral("anth/fail400"), anth, QStringLiteral("fail-400"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("responses-client"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase() { QVERIFY2(m_h.stop(), qPrintable(m_h.error)); }

    void openAIProviderGetsTheClientsBytes()
    {
        const QByteArray body = R"({"input": [{"role": "user", "content": "hi"}], "model": "oai/same",  "previous_response_id": "resp_1", "store": true})";
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.post("/v1/responses", body, bearer(kSecret));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QJsonObject recorded = m_h.mock->lastRequest();
        QCOMPARE(recorded.value(QStringLiteral("path")).toString(), QStringLiteral("/v1/responses"));
        QByteArray expected = body;
        expected.replace("\"oai/same\"", "\"ok@p=1100,c=50,cached=300\"");
        QCOMPARE(recorded.value(QStringLiteral("body")).toString().toUtf8(), expected);
    }

    void sameConversationSameCost_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<qint64>("input");
        QTest::addColumn<qint64>("cacheRead");
        QTest::addColumn<qint64>("cacheWrite");
        QTest::addColumn<qint64>("output");
        // tst_providers_translate's sameConversationSameCost figures.
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
            const HttpResponse r = responses(responsesRequest(model, stream));
            QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
            QJsonObject final;
            if (stream) {
                const QStringList names = eventNames(r);
                QVERIFY2(names.first() == QStringLiteral("response.created") && names.last() == QStringLiteral("response.completed"), qPrintable(names.join(u',')));
                QVERIFY(names.contains(QStringLiteral("response.output_text.delta")));
                QVERIFY(names.contains(QStringLiteral("response.output_item.done")));
                int sequence = 0;
                for (const SseEvent &e : r.events) {
                    const QJsonObject o = parseObject(e.data);
                    QCOMPARE(o.value(QStringLiteral("type")).toString().toUtf8(), e.event);
                    if (model != QLatin1String("oai/same")) // the mock's own OpenAI stream numbers its events its way
                        QCOMPARE(o.value(QStringLiteral("sequence_number")).toInt(), sequence++);
                }
                final = parseObject(r.events.last().data).value(QStringLiteral("response")).toObject();
            } else {
                final = r.json();
            }
            QCOMPARE(final.value(QStringLiteral("status")).toString(), QStringLiteral("completed"));
            QVERIFY2(outputText(final).startsWith(QStringLiteral("Hello")), qPrintable(r.describe()));
            const QJsonObject usage = final.value(QStringLiteral("usage")).toObject();
            QCOMPARE(usage.value(QStringLiteral("input_tokens")).toInteger(), input + cacheRead + cacheWrite);
            QCOMPARE(usage.value(QStringLiteral("input_tokens_details")).toObject().value(QStringLiteral("cached_tokens")).toInteger(), cacheRead);
            const auto row = logged(r);
            QVERIFY(row);
            const QString what = row->describe();
            QVERIFY2(row->status == 200 && !row->estimated, qPrintable(what));
            QVERIFY2(row->inputTokens == input && row->cacheReadTokens == cacheRead && row->cacheWriteTokens == cacheWrite, qPrintable(what));
            QVERIFY2(row->outputTokens == output, qPrintable(what));
            QVERIFY2(row->costNanoUsd.value_or(-1) == expected, qPrintable(what + QStringLiteral(" expected %1").arg(expected)));
        }
    }

    void functionCallsAndOutputsPairedByCallId()
    {
        QJsonObject body = responsesRequest(QStringLiteral("anth/tools"));
        body.insert(QStringLiteral("tools"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("function")},
                                                                    {QStringLiteral("name"), QStringLiteral("get_weather")},
                                                                    {QStringLiteral("parameters"), weatherSchema()}},
                                                        QJsonObject{{QStringLiteral("type"), QStringLiteral("web_search")}}});
        const HttpResponse first = responses(body);
        QVERIFY2(first.status == 200, qPrintable(first.describe()));
        QJsonObject call;
        for (const QJsonValue &item : first.json().value(QStringLiteral("output")).toArray()) {
            if (item.toObject().value(QStringLiteral("type")) == QStringLiteral("function_call"))
                call = item.toObject();
        }
        QCOMPARE(call.value(QStringLiteral("name")).toString(), QStringLiteral("get_weather"));
        QCOMPARE(parseObject(call.value(QStringLiteral("arguments")).toString().toUtf8()).value(QStringLiteral("city")).toString(), QStringLiteral("Paris"));
        const QJsonObject sent = recordedBody(m_h.mock->lastRequest());
        QCOMPARE(sent.value(QStringLiteral("tools")).toArray().size(), 1); // the hosted web_search is OpenAI's own
        QVERIFY2(QJsonDocument(sent).toJson().contains("You are terse."), "the instructions lead the prompt");

        // The call and its output sent back (stateless, store: false): tool_use and tool_result paired.
        QJsonArray input = body.value(QStringLiteral("input")).toArray();
        input.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("reasoning")}, {QStringLiteral("encrypted_content"), QStringLiteral("opaque")}});
        input.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("function_call")}, {QStringLiteral("call_id"), call.value(QStringLiteral("call_id"))},
                                 {QStringLiteral("name"), QStringLiteral("get_weather")}, {QStringLiteral("arguments"), call.value(QStringLiteral("arguments"))}});
        input.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("function_call_output")}, {QStringLiteral("call_id"), call.value(QStringLiteral("call_id"))},
                                 {QStringLiteral("output"), QStringLiteral("21 C")}});
        body.insert(QStringLiteral("input"), input);
        QVERIFY(m_h.mock->reset());
        const HttpResponse second = responses(body);
        QVERIFY2(second.status == 200, qPrintable(second.describe()));
        const QJsonArray messages = recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("messages")).toArray();
        QCOMPARE(messages.size(), 3);
        const QJsonObject use = messages[1].toObject().value(QStringLiteral("content")).toArray().last().toObject();
        const QJsonObject result = messages[2].toObject().value(QStringLiteral("content")).toArray().first().toObject();
        QCOMPARE(use.value(QStringLiteral("type")).toString(), QStringLiteral("tool_use"));
        QCOMPARE(result.value(QStringLiteral("type")).toString(), QStringLiteral("tool_result"));
        QCOMPARE(result.value(QStringLiteral("tool_use_id")), use.value(QStringLiteral("id")));
    }

    void refusalsAndErrorsInOpenAIShape()
    {
        QJsonObject body = responsesRequest(QStringLiteral("anth/same"));
        body.insert(QStringLiteral("previous_response_id"), QStringLiteral("resp_abc"));
        const HttpResponse refused = responses(body);
        QCOMPARE(refused.status, 400);
        QVERIFY2(openAIErrorProblem(refused).isEmpty(), qPrintable(refused.describe()));
        QVERIFY2(refused.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("previous_response_id")),
                 qPrintable(refused.describe()));
        QVERIFY2(m_h.mock->lastRequest().isEmpty(), "nothing was forwarded");

        const HttpResponse provider400 = responses(responsesRequest(QStringLiteral("anth/fail400")));
        QCOMPARE(provider400.status, 400);
        QVERIFY2(openAIErrorProblem(provider400).isEmpty(), qPrintable(provider400.describe()));
    }
};

QTEST_GUILESS_MAIN(TestProvidersResponses)
#include "tst_providers_responses.moc"
