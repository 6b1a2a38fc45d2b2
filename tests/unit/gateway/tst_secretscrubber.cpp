// SecretScrubber (provider secrets out of what providers send back) and the usage window of a
// relayed body (bodyrelay.h).
#include "gateway/bodyrelay.h"
#include "formats/openai_chat/openaistream.h"
#include "formats/providerevents.h"
#include "gateway/secretscrubber.h"
#include <QTest>

using namespace gh;

class TestSecretScrubber : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exactSecrets()
    {
        SecretScrubber s;
        s.addSecret("Bearer sk-test-Abc123xyz789QQ");
        s.addSecret("short"); // too short to be a key: ignored
        QByteArray text = "{\"error\":{\"message\":\"bad key sk-test-Abc123xyz789QQ\",\"echo\":\"Bearer sk-test-Abc123xyz789QQ\"}}";
        QVERIFY(s.scrubExact(&text));
        QVERIFY(!text.contains("sk-test-Abc123xyz789QQ"));
        QCOMPARE(text.count("[REDACTED]"), 2);
        QByteArray plain = "a short story";
        QVERIFY(!s.scrub(&plain));
        QCOMPARE(plain, QByteArray("a short story"));
    }

    void shapes_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QByteArray>("leaked");
        QTest::newRow("bearer in a message") << QByteArray("{\"message\":\"you sent Authorization: Bearer abcDEF1234567890\"}") << QByteArray("abcDEF1234567890");
        QTest::newRow("bearer lower case") << QByteArray("auth: bearer tok_9f8e7d6c5b4a") << QByteArray("tok_9f8e7d6c5b4a");
        QTest::newRow("x-api-key json") << QByteArray("{\"headers\":{\"x-api-key\":\"ant-key-0123456789\"}}") << QByteArray("ant-key-0123456789");
        QTest::newRow("x-api-key header echo") << QByteArray("x-api-key: ant-key-0123456789\r\n") << QByteArray("ant-key-0123456789");
        QTest::newRow("goog key") << QByteArray("{\"x-goog-api-key\": \"AIzaFAKEFAKE0123456789\"}") << QByteArray("AIzaFAKEFAKE0123456789");
        QTest::newRow("api_key field") << QByteArray("{\"api_key\":\"abcdefgh12345678\"}") << QByteArray("abcdefgh12345678");
        QTest::newRow("query key") << QByteArray("GET /v1beta/models?key=AIzaFAKE0123456789&alt=sse") << QByteArray("AIzaFAKE0123456789");
    }

    void shapes()
    {
        QFETCH(QByteArray, text);
        QFETCH(QByteArray, leaked);
        const SecretScrubber s;
        const QByteArray out = s.scrubbed(text);
        QVERIFY2(!out.contains(leaked), out.constData());
        QVERIFY2(out.contains("[REDACTED]"), out.constData());
    }

    void leavesOrdinaryTextAlone()
    {
        const SecretScrubber s;
        for (const QByteArray &text : {QByteArray("{\"error\":{\"message\":\"max_tokens is too large: 99999\",\"type\":\"invalid_request_error\"}}"),
                                       QByteArray("The token limit was reached."), QByteArray("")}) {
            QByteArray copy = text;
            QVERIFY(!s.scrub(&copy));
            QCOMPARE(copy, text);
        }
    }

    void usageFromTheTailOfARelayedBody()
    {
        BodyRelay relay;
        const QByteArray filler(300 * 1024, 'x');
        const QList<QByteArray> parts{
            "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"",
            filler.left(100 * 1024),
            filler.mid(100 * 1024) + " \\\"usage\\\": {fake} \"}}],",
            "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,\"total_tokens\":46}}",
        };
        qint64 total = 0;
        for (const QByteArray &part : parts) {
            relay.feed(part);
            total += part.size();
        }
        QCOMPARE(relay.bytes(), total);
        Usage u;
        QVERIFY(relay.usage(&usageFromOpenAIResponse, &u));
        QCOMPARE(u.inputTokens, 12);
        QCOMPARE(u.outputTokens, 34);
    }

    void usageOfAnAnthropicBody()
    {
        BodyRelay relay;
        relay.feed("{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"{\\\"usage\\\":{\\\"input_tokens\\\":999}}\"}],");
        relay.feed("\"usage\":{\"input_tokens\":7,\"output_tokens\":8,\"cache_read_input_tokens\":0}}");
        Usage u;
        QVERIFY(relay.usage(&usageFromAnthropicResponse, &u));
        QCOMPARE(u.inputTokens, 7);
        QCOMPARE(u.outputTokens, 8);
    }

    void noUsage()
    {
        BodyRelay relay;
        relay.feed("{\"id\":\"x\",\"choices\":[]}");
        Usage u;
        QVERIFY(!relay.usage(&usageFromOpenAIResponse, &u));
        QCOMPARE(lastObjectMember("{\"usage\": {\"a\": \"}\"}}", "usage").toByteArray(), QByteArray("{\"a\": \"}\"}"));
        QVERIFY(lastObjectMember("{\"usage\": {\"a\": 1", "usage").isEmpty()); // cut: incomplete
    }
};

QTEST_GUILESS_MAIN(TestSecretScrubber)
#include "tst_secretscrubber.moc"
