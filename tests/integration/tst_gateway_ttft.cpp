// Time to first token as the log records it: the first generated content of a stream (text,
// reasoning, a tool call), not the first byte. The mock's slow-first-token behaviour sends the head
// events at once (role chunk, response.created.., message_start..) and the first content after a
// pause, so a first-byte clock would read about 0 ms where the client waited the whole pause.
#include "providerstestkit.h"

#include <QJsonArray>
#include <QTest>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-ttft-0001";
constexpr qint64 kPauseMs = 300;

} // namespace

class TestGatewayTtft : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse post(const QByteArray &path, const QJsonObject &body, bool anthropicClient)
    {
        HttpClient client(m_h.gateway->port());
        return client.post(path, compact(body), anthropicClient ? anthropicHeaders(kSecret) : bearer(kSecret));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        const QString slow = QStringLiteral("slow-first-token@delay=%1").arg(kPauseMs);
        const QJsonObject config{
            {QStringLiteral("providers"),
                QJsonArray{provider(*m_h.mock, QStringLiteral("oai"), QStringLiteral("openai")),
                    provider(*m_h.mock, QStringLiteral("anth"), QStringLiteral("anthropic")),
                    provider(*m_h.mock, QStringLiteral("gem"), QStringLiteral("gemini"))}},
            {QStringLiteral("models"),
                QJsonArray{pricedModel(QStringLiteral("oai/slow"), QStringLiteral("oai"), slow),
                    pricedModel(QStringLiteral("anth/slow"), QStringLiteral("anth"), slow),
                    pricedModel(QStringLiteral("gem/slow"), QStringLiteral("gem"), slow),
                    pricedModel(QStringLiteral("oai/fast"), QStringLiteral("oai"), QStringLiteral("ok"))}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("ttft"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (m_h.gatewayRunning())
            QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    // Each provider format's stream, relayed as is or translated: the logged ttft is at least the
    // pause before the first content event, and no more than the whole request.
    void streamedTtftIsFirstContent_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<bool>("anthropicClient");
        QTest::addColumn<QString>("model");
        QTest::addColumn<bool>("tools");
        QTest::newRow("openai chat") << QByteArray("/v1/chat/completions") << false << "oai/slow" << false;
        QTest::newRow("openai chat, tool call") << QByteArray("/v1/chat/completions") << false << "oai/slow" << true;
        QTest::newRow("openai responses") << QByteArray("/v1/responses") << false << "oai/slow" << false;
        QTest::newRow("anthropic") << QByteArray("/v1/messages") << true << "anth/slow" << false;
        QTest::newRow("anthropic, tool call") << QByteArray("/v1/messages") << true << "anth/slow" << true;
        QTest::newRow("gemini, to an openai client") << QByteArray("/v1/chat/completions") << false << "gem/slow" << false;
        QTest::newRow("openai, to an anthropic client") << QByteArray("/v1/messages") << true << "oai/slow" << false;
    }
    void streamedTtftIsFirstContent()
    {
        QFETCH(QByteArray, path);
        QFETCH(bool, anthropicClient);
        QFETCH(QString, model);
        QFETCH(bool, tools);
        QJsonObject body;
        if (path == "/v1/responses") {
            body = QJsonObject{{QStringLiteral("model"), model}, {QStringLiteral("input"), QStringLiteral("Hello")},
                {QStringLiteral("stream"), true}};
        } else if (anthropicClient) {
            body = messagesRequest(model, true);
            if (tools)
                body.insert(QStringLiteral("tools"), anthropicTools());
        } else {
            body = chatCompletionRequest(model, true);
            if (tools)
                body.insert(QStringLiteral("tools"), openAITools());
        }
        const HttpResponse r = post(path, body, anthropicClient);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        QVERIFY2(!r.events.isEmpty(), qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
        QVERIFY(row->stream);
        QVERIFY2(row->ttftMs >= kPauseMs, qPrintable(QStringLiteral("ttft %1 ms").arg(row->ttftMs)));
        QVERIFY2(row->ttftMs <= row->latencyMs,
            qPrintable(QStringLiteral("ttft %1 ms, latency %2 ms").arg(row->ttftMs).arg(row->latencyMs)));
    }

    // A stream whose content comes at once has a small ttft: the clock is not the whole request.
    void fastStreamHasSmallTtft()
    {
        QJsonObject body = chatCompletionRequest(QStringLiteral("oai/fast"), true);
        const HttpResponse r = post("/v1/chat/completions", body, false);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY(row->stream);
        QVERIFY2(row->ttftMs >= 0 && row->ttftMs < kPauseMs, qPrintable(QStringLiteral("ttft %1 ms").arg(row->ttftMs)));
    }

    // A non-streamed answer has no first token the client sees: ttft is not recorded (-1, shown as
    // "—"), in Rankings as in Compare (which always streams). Its latency is the whole answer.
    void nonStreamedHasNoTtft_data()
    {
        QTest::addColumn<bool>("anthropicClient");
        QTest::addColumn<QString>("model");
        QTest::newRow("openai") << false << "oai/slow";
        QTest::newRow("anthropic") << true << "anth/slow";
        QTest::newRow("gemini") << false << "gem/slow";
    }
    void nonStreamedHasNoTtft()
    {
        QFETCH(bool, anthropicClient);
        QFETCH(QString, model);
        const QJsonObject body = anthropicClient ? messagesRequest(model, false) : chatCompletionRequest(model, false);
        const HttpResponse r = post(anthropicClient ? "/v1/messages" : "/v1/chat/completions", body, anthropicClient);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY(!row->stream);
        QCOMPARE(row->ttftMs, qint64(-1));
        QVERIFY2(row->latencyMs >= kPauseMs, qPrintable(QStringLiteral("latency %1 ms").arg(row->latencyMs)));
    }
};

QTEST_GUILESS_MAIN(TestGatewayTtft)
#include "tst_gateway_ttft.moc"
