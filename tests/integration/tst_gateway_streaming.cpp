// Streams that do not go to plan, over real sockets: an upstream that resets in the middle of a
// stream, an error event inside a 200 stream, a client that reads slowly, a client that goes away.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <memory>

using namespace gh::test;

namespace {

const QByteArray kStreamSecret = "gk-itest-stream-0001";
const QByteArray kDropperSecret = "gk-itest-dropper-0002";

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QJsonObject errorObject(const QByteArray &eventData)
{
    return QJsonDocument::fromJson(eventData).object().value(QStringLiteral("error")).toObject();
}

} // namespace

class TestGatewayStreaming : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse chat(const QByteArray &body, const QByteArray &secret = kStreamSecret, RequestOptions options = {})
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", body, bearer(secret), options);
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
                    mockModel(QStringLiteral("mock/reset"), mock, QStringLiteral("reset-mid-stream@after=2"), 1.0, 2.0),
                    mockModel(
                        QStringLiteral("mock/errstream"), mock, QStringLiteral("error-in-stream@after=1"), 1.0, 2.0),
                    mockModel(
                        QStringLiteral("mock/long"), mock, QStringLiteral("stream-slow@delay=100,chunks=30"), 1.0, 2.0),
                }},
            {QStringLiteral("keys"),
                QJsonArray{
                    testKey(QStringLiteral("stream"), QString::fromLatin1(kStreamSecret)),
                    testKey(QStringLiteral("dropper"), QString::fromLatin1(kDropperSecret), {},
                        QJsonObject{{QStringLiteral("day_usd"), 5.0}}),
                }},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (m_h.gatewayRunning()) {
            QVERIFY2(m_h.stop(), qPrintable(m_h.error));
            QVERIFY(!m_h.gateway->stderrText().contains(QLatin1String(kProviderKey)));
            QCOMPARE(filesContaining(m_h.gateway->dataDir(), kProviderKey), QStringList());
        }
    }

    // The upstream resets after two content events: the client gets them, then an error event in
    // its own format, then [DONE], then the proper end of the chunked body.
    void upstreamResetMidStream()
    {
        const HttpResponse r = chat(compact(chatRequest(QStringLiteral("mock/reset"), QStringLiteral("hi"), true)));
        QVERIFY2(r.status == 200, qPrintable(r.describe()));
        QVERIFY2(r.complete, qPrintable(r.describe())); // the terminating chunk arrived
        QVERIFY(r.error.isEmpty());
        const QList<QByteArray> data = r.eventData();
        QVERIFY2(data.size() >= 3, qPrintable(r.describe()));
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        const QJsonObject error = errorObject(data.at(data.size() - 2));
        QVERIFY2(!error.isEmpty(), data.at(data.size() - 2).constData());
        QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("upstream_stream_interrupted"));
        QCOMPARE(streamContent(r), QStringLiteral("Hello from"));
        QVERIFY(r.body.endsWith("data: [DONE]\n\n"));
        QVERIFY(r.raw.endsWith("0\r\n\r\n"));

        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 502);
        QVERIFY(row->stream);
        QVERIFY(row->estimated); // the upstream never reported usage: Gatehouse estimated it
        QVERIFY(row->outputTokens > 0);
        QVERIFY(row->costNanoUsd && *row->costNanoUsd > 0);
        QVERIFY(!row->error.isEmpty());
    }

    // An error event inside a 200 stream is passed on, the stream is ended with [DONE], and the
    // request is logged as a failure with the provider's message.
    void errorInsideStream()
    {
        const HttpResponse r = chat(compact(chatRequest(QStringLiteral("mock/errstream"), QStringLiteral("hi"), true)));
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QVERIFY2(data.size() >= 3, qPrintable(r.describe()));
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QCOMPARE(data.count(QByteArray("[DONE]")), 1);
        const QJsonObject error = errorObject(data.at(data.size() - 2));
        QCOMPARE(error.value(QStringLiteral("message")).toString(),
            QStringLiteral("mock: the upstream failed in the middle of the stream"));
        QCOMPARE(streamContent(r), QStringLiteral("Hello"));

        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QVERIFY2(row->status >= 500, qPrintable(row->describe()));
        QVERIFY2(row->error.contains(QLatin1String("mock: the upstream failed in the middle of the stream")),
            qPrintable(row->describe()));
        QVERIFY(row->stream);
    }

    // A client that reads slowly (the gateway has to hold back the upstream) still gets every byte.
    void slowClientGetsEveryByte_data()
    {
        QTest::addColumn<bool>("stream");
        QTest::addColumn<QString>("model");
        // About 3 MB each: well beyond the socket buffers and the gateway's 1 MiB high-water mark.
        QTest::newRow("stream") << true << QStringLiteral("mock/ok@chunks=100,pad=30000");
        QTest::newRow("whole") << false << QStringLiteral("mock/ok@c=100,pad=30000");
    }

    void slowClientGetsEveryByte()
    {
        QFETCH(bool, stream);
        QFETCH(QString, model);
        const QByteArray body = compact(chatRequest(model, QStringLiteral("hi"), stream));
        const HttpResponse fast = chat(body);
        QVERIFY2(fast.complete && fast.status == 200, qPrintable(fast.describe()));
        QVERIFY2(fast.body.size() > 3'000'000, qPrintable(QString::number(fast.body.size())));

        RequestOptions slow;
        slow.readChunkBytes = 64 * 1024;
        slow.readIntervalMs = 15;
        slow.timeoutMs = 60000;
        const HttpResponse r = chat(body, kStreamSecret, slow);
        QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        // Ids and timestamps differ between the two replies; the content and the size may not.
        QCOMPARE(r.body.size(), fast.body.size());
        if (stream) {
            QCOMPARE(r.eventData().size(), fast.eventData().size());
            QCOMPARE(r.eventData().last(), QByteArray("[DONE]"));
            QCOMPARE(streamContent(r), streamContent(fast));
            QVERIFY(streamContent(r).size() > 100 * 30000);
        } else {
            QCOMPARE(chatContent(r), chatContent(fast));
        }
        // It took a while: the client really was slow (3 MB at 64 KiB per 15 ms).
        QVERIFY2(r.elapsedMs > 400, qPrintable(QString::number(r.elapsedMs)));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 200);
    }

    // A client that disconnects in the middle of a stream: logged as 499 and charged an estimate
    // of what was produced, which the key's spend includes.
    void clientDisconnectsMidStream()
    {
        RequestOptions options;
        options.disconnectAfterBodyBytes = 800; // the role event and a few content events
        const HttpResponse r = chat(
            compact(chatRequest(QStringLiteral("mock/long"), QStringLiteral("hi"), true)), kDropperSecret, options);
        QVERIFY2(r.aborted && r.status == 200, qPrintable(r.describe()));
        const QString id = QString::fromLatin1(r.header("x-gatehouse-request-id"));
        QVERIFY(!id.isEmpty());
        const auto row = m_h.db->waitFor(id);
        QVERIFY2(row, qPrintable(m_h.db->errorString()));
        QCOMPARE(row->status, 499);
        QVERIFY(row->stream);
        QVERIFY(row->estimated);
        QVERIFY2(row->inputTokens > 0 && row->outputTokens > 0, qPrintable(row->describe()));
        QVERIFY2(row->costNanoUsd && *row->costNanoUsd > 0, qPrintable(row->describe()));
        // Cut early: far less output than the 30 chunks the stream would have had.
        QVERIFY2(row->latencyMs < 2500, qPrintable(row->describe()));

        HttpClient client(m_h.gateway->port());
        const HttpResponse key = client.get("/v1/key", bearer(kDropperSecret));
        QVERIFY2(key.status == 200, qPrintable(key.describe()));
        const double spent
            = key.json().value(QStringLiteral("spend")).toObject().value(QStringLiteral("day_usd")).toDouble();
        QVERIFY2(qAbs(spent - row->costUsd()) < 1e-9, qPrintable(QString::number(spent, 'g', 12)));
        QCOMPARE(key.json().value(QStringLiteral("reserved_usd")).toDouble(), 0.0);

        // The gateway stopped reading the upstream stream: the mock's connection was closed and
        // the gateway still serves requests.
        const HttpResponse health = client.get("/healthz");
        QCOMPARE(health.status, 200);
        QCOMPARE(health.json().value(QStringLiteral("in_flight")).toInt(), 0);
    }
};

QTEST_GUILESS_MAIN(TestGatewayStreaming)
#include "tst_gateway_streaming.moc"
