// Streams that break, across formats: an upstream that resets in the middle of a stream, or sends
// an event that is not JSON, must end the client's stream with an error event in the client's own
// format (never a stream that looks complete with content missing) and be logged as a failure;
// a provider that reports no usage is charged an estimate, marked as such.
#include "providerstestkit.h"

#include <memory>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-providers-failures-0001";

} // namespace

class TestProvidersFailures : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse send(bool anthropicClient, const QString &model, bool stream)
    {
        HttpClient client(m_h.gateway->port());
        if (anthropicClient)
            return client.post("/v1/messages", compact(messagesRequest(model, stream)), anthropicHeaders(kSecret));
        return client.post("/v1/chat/completions", compact(chatCompletionRequest(model, stream)), bearer(kSecret));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        // Models are named provider/behaviour: "anth/reset-mid-stream" reaches the mock as
        // "reset-mid-stream" (a provider/anything name the config does not list), priced by nothing.
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, QStringLiteral("anth"), QStringLiteral("anthropic")),
                    provider(*m_h.mock, QStringLiteral("oai"), QStringLiteral("openai")),
                    provider(*m_h.mock, QStringLiteral("gem"), QStringLiteral("gemini"))}},
            {QStringLiteral("models"),
                QJsonArray{
                    pricedModel(QStringLiteral("anth/nousage"), QStringLiteral("anth"), QStringLiteral("no-usage")),
                    pricedModel(QStringLiteral("gem/nousage"), QStringLiteral("gem"), QStringLiteral("no-usage"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("failures"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void brokenStreamEndsWithClientFormatError_data()
    {
        QTest::addColumn<bool>("anthropicClient");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("logged"); // in the log's error text
        QTest::addColumn<QString>("text"); // what reached the client before the error
        const QString reset = QStringLiteral("middle of the stream");
        const QString notJson = QStringLiteral("not valid JSON");
        QTest::newRow("openai client, anthropic provider, reset")
            << false << "anth/reset-mid-stream" << reset << "Hello from";
        QTest::newRow("openai client, gemini provider, reset")
            << false << "gem/reset-mid-stream" << reset << "Hello from";
        QTest::newRow("anthropic client, openai provider, reset")
            << true << "oai/reset-mid-stream" << reset << "Hello from";
        QTest::newRow("anthropic client, gemini provider, reset")
            << true << "gem/reset-mid-stream" << reset << "Hello from";
        QTest::newRow("anthropic client, anthropic provider, reset")
            << true << "anth/reset-mid-stream" << reset << "Hello from";
        // Anthropic's message_start is fine, the next event is not JSON: the stream was already
        // committed, so it ends with an error event.
        QTest::newRow("openai client, anthropic provider, bad json")
            << false << "anth/bad-json" << QStringLiteral("not valid JSON") << "";
    }
    void brokenStreamEndsWithClientFormatError()
    {
        QFETCH(bool, anthropicClient);
        QFETCH(QString, model);
        QFETCH(QString, logged);
        QFETCH(QString, text);
        const HttpResponse r = send(anthropicClient, model, true);
        QVERIFY2(r.status == 200 && r.complete, qPrintable(r.describe()));
        QVERIFY(!r.events.isEmpty());
        if (anthropicClient) {
            QCOMPARE(r.events.last().event, QByteArray("error"));
            const QJsonObject error = parseObject(r.events.last().data);
            QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
            QVERIFY2(error.value(QStringLiteral("error"))
                         .toObject()
                         .value(QStringLiteral("message"))
                         .toString()
                         .contains(logged),
                r.events.last().data.constData());
            QVERIFY(!eventNames(r).contains(QStringLiteral("message_stop")));
            QVERIFY(!r.body.contains("[DONE]"));
            QCOMPARE(anthropicStreamText(r), text);
        } else {
            const QList<QByteArray> data = r.eventData();
            QCOMPARE(data.last(), QByteArray("[DONE]"));
            QVERIFY(data.size() >= 2);
            const QJsonObject error = parseObject(data.at(data.size() - 2)).value(QStringLiteral("error")).toObject();
            QVERIFY2(error.value(QStringLiteral("message")).toString().contains(logged),
                data.at(data.size() - 2).constData());
            QCOMPARE(streamContent(r), text);
            QVERIFY2(openAIFinishReason(r).isEmpty(), "a broken stream must not finish as if complete");
        }
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->status, 502);
        QVERIFY2(row->error.contains(logged), qPrintable(row->describe()));
        QVERIFY(row->stream);
    }

    // A stream whose first event is not JSON: nothing has reached the client yet, so it gets a clean
    // 502 in its own format (no half stream), and the failure is logged.
    void brokenFirstEventFailsBeforeAnyByte_data()
    {
        QTest::addColumn<bool>("anthropicClient");
        QTest::addColumn<QString>("model");
        QTest::newRow("openai client, gemini provider") << false << "gem/bad-json";
        QTest::newRow("anthropic client, openai provider") << true << "oai/bad-json";
        QTest::newRow("anthropic client, gemini provider") << true << "gem/bad-json";
    }
    void brokenFirstEventFailsBeforeAnyByte()
    {
        QFETCH(bool, anthropicClient);
        QFETCH(QString, model);
        const HttpResponse r = send(anthropicClient, model, true);
        QVERIFY2(r.status == 502 && r.complete, qPrintable(r.describe()));
        QVERIFY(r.header("content-type").startsWith("application/json"));
        const QJsonObject body = r.json();
        if (anthropicClient) {
            QCOMPARE(body.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
            QVERIFY(body.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QStringLiteral("not valid JSON")));
        } else {
            QVERIFY(openAIErrorProblem(r).isEmpty());
            QVERIFY(errorMessage(r).contains(QStringLiteral("not valid JSON")));
        }
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->status, 502);
        QVERIFY2(row->error.contains(QStringLiteral("not valid JSON")), qPrintable(row->describe()));
    }

    void missingUsageIsEstimated_data()
    {
        QTest::addColumn<bool>("anthropicClient");
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("stream");
        QTest::newRow("openai client, anthropic provider, stream") << false << "anth/nousage" << true;
        QTest::newRow("openai client, anthropic provider") << false << "anth/nousage" << false;
        QTest::newRow("anthropic client, gemini provider, stream") << true << "gem/nousage" << true;
        QTest::newRow("anthropic client, gemini provider") << true << "gem/nousage" << false;
    }
    void missingUsageIsEstimated()
    {
        QFETCH(bool, anthropicClient);
        QFETCH(QString, model);
        QFETCH(bool, stream);
        const HttpResponse r = send(anthropicClient, model, stream);
        QVERIFY2(r.status == 200 && r.complete, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QCOMPARE(row->status, 200);
        QVERIFY2(row->estimated, qPrintable(row->describe()));
        QVERIFY2(row->inputTokens > 0 && row->outputTokens > 0, qPrintable(row->describe()));
        QVERIFY(row->costNanoUsd.value_or(0) > 0);
        if (!stream)
            QCOMPARE(r.header("x-gatehouse-usage"), QByteArray("estimated"));
    }
};

QTEST_GUILESS_MAIN(TestProvidersFailures)
#include "tst_providers_failures.moc"
