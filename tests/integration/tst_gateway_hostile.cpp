// Hostile or careless local clients against the real gateway process, over raw sockets: oversized
// heads (431 / 400, closed, memory bounded), the connection closed after a 400, slowloris heads and
// idle keep-alive connections closed by their timeouts, file-descriptor exhaustion under a lowered
// limit (accept backs off, the oldest idle connections make room, real requests still pass, the CPU
// stays idle), slow readers of large non-streamed responses (memory bounded: backpressure), a
// provider that echoes Gatehouse's key (scrubbed everywhere) and a 401 not retried on its target.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QDir>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#include <unistd.h>
#endif

using namespace gh::test;

namespace {

const QByteArray kSecret = "gk-itest-hostile-0001";
constexpr int kHeaderTimeoutMs = 1000;
constexpr int kIdleTimeoutMs = 1500;

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A field of /proc/PID/status in KiB (VmRSS, VmHWM), or -1.
qint64 procStatusKiB(qint64 pid, const char *field)
{
    QFile f(QStringLiteral("/proc/%1/status").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(field)) {
            const QByteArray v = line.mid(qsizetype(qstrlen(field)) + 1).trimmed();
            return v.left(v.indexOf(' ')).toLongLong();
        }
    }
    return -1;
}

// User + system CPU time of a process, in clock ticks, or -1.
qint64 cpuTicks(qint64 pid)
{
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray stat = f.readAll();
    // The fields after the command name (which may contain spaces), from ")".
    const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.size() < 13)
        return -1;
    return fields.at(11).toLongLong() + fields.at(12).toLongLong(); // utime, stime (fields 14, 15)
}

int openFds(qint64 pid)
{
    return int(QDir(QStringLiteral("/proc/%1/fd").arg(pid)).entryList(QDir::NoDotAndDotDot | QDir::AllEntries | QDir::System).size());
}

// Sockets connected to the gateway, driven by the test's event loop.
struct Sockets {
    std::vector<std::unique_ptr<QTcpSocket>> list;
    QList<QByteArray> received;

    int open(quint16 port, int count, int timeoutMs = 5000)
    {
        for (int i = 0; i < count; ++i) {
            auto s = std::make_unique<QTcpSocket>();
            s->connectToHost(QHostAddress::LocalHost, port);
            list.push_back(std::move(s));
            received.append(QByteArray());
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs && connected() < int(list.size()))
            QTest::qWait(20);
        return connected();
    }
    int connected() const
    {
        int n = 0;
        for (const auto &s : list)
            n += s->state() == QAbstractSocket::ConnectedState;
        return n;
    }
    void readAll()
    {
        for (size_t i = 0; i < list.size(); ++i)
            received[qsizetype(i)] += list[i]->readAll();
    }
};

} // namespace

class TestGatewayHostile : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    QJsonObject config(const QJsonObject &connections = {}) const
    {
        const QString mock = QStringLiteral("mock");
        QJsonObject settings{{QStringLiteral("allowed_origins"), QJsonArray{QStringLiteral("http://localhost:3000")}},
                             {QStringLiteral("connections"),
                              connections.isEmpty() ? QJsonObject{{QStringLiteral("header_timeout_ms"), kHeaderTimeoutMs},
                                                                  {QStringLiteral("idle_timeout_ms"), kIdleTimeoutMs}}
                                                    : connections}};
        return QJsonObject{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"),
             QJsonArray{
                 mockModel(QStringLiteral("mock/chat"), mock, QStringLiteral("ok"), 1.0, 2.0),
                 // 50 MiB of content in one non-streamed answer, with its usage at the end.
                 mockModel(QStringLiteral("mock/big"), mock, QStringLiteral("ok@c=1,pad=52428800"), 1.0, 2.0),
                 mockModel(QStringLiteral("mock/echo401"), mock, QStringLiteral("fail-401@echo_auth=1"), 1.0, 2.0),
                 mockModel(QStringLiteral("mock/echo403"), mock, QStringLiteral("fail-403"), 1.0, 2.0),
                 mockModel(QStringLiteral("mock/echo500"), mock, QStringLiteral("fail-500@echo_auth=1"), 1.0, 2.0),
                 // Successes whose content ends with the key: streamed, and relayed past 1 MiB.
                 mockModel(QStringLiteral("mock/echook"), mock, QStringLiteral("ok@echo_auth=1"), 1.0, 2.0),
                 mockModel(QStringLiteral("mock/echobig"), mock, QStringLiteral("ok@c=3,pad=1500007,echo_auth=1"), 1.0, 2.0),
             }},
            {QStringLiteral("routes"),
             QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("via-403")},
                                    {QStringLiteral("targets"), QJsonArray{QJsonObject{{QStringLiteral("model"), QStringLiteral("mock/echo403")}},
                                                                                           QJsonObject{{QStringLiteral("model"), QStringLiteral("mock/chat")}}}}}}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("hostile"), QString::fromLatin1(kSecret), {},
                                                        QJsonObject{{QStringLiteral("day_usd"), 100.0}})}},
            {QStringLiteral("settings"), settings},
        };
    }

    HttpResponse chat(const QString &model)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", compact(chatRequest(model)), bearer(kSecret));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        QVERIFY2(m_h.startGateway(config()), qPrintable(m_h.error));
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

    // A head over a limit is refused as soon as the limit is passed (431, or 400 for the request
    // line), the socket is closed, and the gateway never holds more than the limit of it.
    void oversizedHeads_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("256 KiB header value") << ("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + QByteArray(256 * 1024, 'v') + "\r\n\r\n")
                                              << 431 << QByteArray("headers_too_large");
        QByteArray many = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n";
        for (int i = 0; i < 1000; ++i)
            many += "X-" + QByteArray::number(i) + ": 1\r\n";
        QTest::newRow("1000 header fields") << (many + "\r\n") << 431 << QByteArray("headers_too_large");
        QTest::newRow("64 KiB request target") << ("GET /" + QByteArray(64 * 1024, 'a') + " HTTP/1.1\r\nHost: localhost\r\n\r\n") << 400
                                               << QByteArray("request_line_too_long");
    }
    void oversizedHeads()
    {
        QFETCH(QByteArray, head);
        QFETCH(int, status);
        QFETCH(QByteArray, code);
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.sendRaw(head);
        QCOMPARE(r.status, status);
        QCOMPARE(errorCode(r), QString::fromLatin1(code));
        QCOMPARE(r.header("connection"), QByteArray("close"));
        // And the socket really closes (sendRaw stops at the end of the response).
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_h.gateway->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(head);
        QByteArray all;
        QElapsedTimer t;
        t.start();
        while (socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < 5000)
            if (socket.waitForReadyRead(100))
                all += socket.readAll();
        all += socket.readAll();
        QVERIFY2(all.startsWith("HTTP/1.1 " + QByteArray::number(status) + ' '), all.left(200).constData());
        QVERIFY2(socket.state() != QAbstractSocket::ConnectedState, "still open 5 s after the error");
    }

    // One header of 256 MiB sent as fast as the gateway takes it: refused after its first 64 KiB,
    // the connection closed, and the gateway's peak memory does not move (it went from 32 to 313 MB).
    void hugeHeaderMemoryBounded()
    {
#ifndef Q_OS_LINUX
        QSKIP("reads /proc");
#endif
        const qint64 pid = m_h.gateway->pid();
        const qint64 hwmBefore = procStatusKiB(pid, "VmHWM:");
        QVERIFY(hwmBefore > 0);
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_h.gateway->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nX-Huge: ");
        const QByteArray piece(1024 * 1024, 'h');
        qint64 sent = 0;
        QByteArray answer;
        QElapsedTimer t;
        t.start();
        while (sent < 256ll * 1024 * 1024 && socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < 30000) {
            if (socket.bytesToWrite() < 4 * 1024 * 1024) {
                socket.write(piece);
                sent += piece.size();
            }
            socket.waitForBytesWritten(50);
            answer += socket.readAll();
        }
        while (socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < 30000 && socket.waitForReadyRead(200))
            answer += socket.readAll();
        answer += socket.readAll();
        qInfo() << "sent" << (sent >> 20) << "MiB of one header before the gateway closed; its peak RSS" << hwmBefore / 1024 << "->"
                << procStatusKiB(pid, "VmHWM:") / 1024 << "MiB";
        QVERIFY2(sent < 256ll * 1024 * 1024, "the gateway kept reading the header");
        QVERIFY2(answer.startsWith("HTTP/1.1 431 "), answer.left(200).constData());
        QVERIFY(procStatusKiB(pid, "VmHWM:") - hwmBefore < 16 * 1024);
        QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200); // and it still serves
    }

    // After a 400 the connection is closed: a request sent behind the bad one on the same socket is
    // never answered, whether the 400 is the parser's or the gateway's own.
    void closedAfter400_data()
    {
        QTest::addColumn<QByteArray>("bad");
        QTest::newRow("malformed HTTP") << QByteArray("GET / HTTP/1.1\r\nHost : evil\r\n\r\n");
        const QByteArray notJson = "{\"model\": ";
        QTest::newRow("body not JSON") << ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kSecret
                                           + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(notJson.size())
                                           + "\r\n\r\n" + notJson);
        QTest::newRow("no version (HTTP/0.9)") << QByteArray("GET /healthz\r\n\r\n");
    }
    void closedAfter400()
    {
        QFETCH(QByteArray, bad);
        const QByteArray good = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_h.gateway->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write(bad + good);
        QByteArray all;
        QElapsedTimer t;
        t.start();
        while (socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < 5000) {
            if (socket.waitForReadyRead(100))
                all += socket.readAll();
            if (all.contains("HTTP/1.1 400") && socket.state() == QAbstractSocket::ConnectedState && t.elapsed() > 500) {
                socket.write("x"); // a write on the half-closed socket gets no second 400
                socket.waitForBytesWritten(100);
            }
        }
        all += socket.readAll();
        QVERIFY2(all.startsWith("HTTP/1.1 400 "), all.left(300).constData());
        QVERIFY2(all.toLower().contains("\r\nconnection: close\r\n"), all.left(600).constData());
        QCOMPARE(all.count("\r\n\r\n{"), 1); // one response (its body may quote "HTTP/1.1")
        QVERIFY(!all.contains("HTTP/1.1 200"));
        QVERIFY2(socket.state() != QAbstractSocket::ConnectedState, "the gateway kept the connection open after a 400");
    }

    void contentLengthBeyondAnyLimit()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kSecret
                                              + "\r\nContent-Length: 18446744073709551615\r\n\r\n{");
        QCOMPARE(r.status, 413);
        QCOMPARE(errorCode(r), QStringLiteral("request_too_large"));
    }

    void originComparedCaseInsensitively()
    {
        HttpClient client(m_h.gateway->port());
        HttpResponse r = client.get("/v1/models", Headers{{"Authorization", "Bearer " + kSecret}, {"Origin", "HTTP://LocalHost:3000"}});
        QCOMPARE(r.status, 200);
        r = client.get("/v1/models", Headers{{"Authorization", "Bearer " + kSecret}, {"Origin", "http://localhost:3001"}});
        QCOMPARE(r.status, 403);
    }

    // Slowloris: connections that send their head a byte at a time, and connections that send
    // nothing, are closed by the header and idle timeouts, while real requests pass.
    void slowloris()
    {
        const quint16 port = m_h.gateway->port();
        Sockets slow, idle;
        QCOMPARE(slow.open(port, 150), 150);
        QCOMPARE(idle.open(port, 50), 50);
        for (auto &s : slow.list)
            s->write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n");
        QElapsedTimer t;
        t.start();
        int wave = 0;
        while (t.elapsed() < kHeaderTimeoutMs + 1500) {
            for (auto &s : slow.list)
                if (s->state() == QAbstractSocket::ConnectedState)
                    s->write(QByteArray("X-Drip-") + QByteArray::number(wave) + ": 1\r\n");
            ++wave;
            QTest::qWait(200);
            slow.readAll();
            if (wave == 3)
                QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200);
        }
        QTRY_COMPARE_WITH_TIMEOUT(slow.connected(), 0, 3000);
        slow.readAll();
        for (const QByteArray &answer : std::as_const(slow.received))
            QVERIFY2(answer.startsWith("HTTP/1.1 408 "), answer.left(200).constData());
        QVERIFY(slow.received.first().contains("request_timeout"));
        // The idle ones are closed silently once the idle timeout has passed.
        QTRY_COMPARE_WITH_TIMEOUT(idle.connected(), 0, kIdleTimeoutMs + 3000);
        idle.readAll();
        for (const QByteArray &answer : std::as_const(idle.received))
            QCOMPARE(answer, QByteArray());
        QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200);
    }

    // A keep-alive connection survives between requests while under the idle timeout.
    void keepAliveWithinIdleTimeout()
    {
        HttpClient client(m_h.gateway->port());
        client.setKeepAlive(true);
        QCOMPARE(client.get("/healthz").status, 200);
        QTest::qWait(kIdleTimeoutMs / 2);
        QCOMPARE(client.get("/healthz").status, 200);
        QCOMPARE(client.connectionsOpened(), 1);
    }

    // Ten clients that read 50 MiB non-streamed answers slowly: the gateway relays each as it reads
    // it from the provider (backpressure) instead of holding it; its peak memory stays far below the
    // 10 x 50 MiB it took before (653 MB). Every byte arrives, and the usage is read from the body.
    void slowReadersOfLargeResponses()
    {
#ifndef Q_OS_LINUX
        QSKIP("reads /proc");
#endif
        const qint64 pid = m_h.gateway->pid();
        const qint64 rssBefore = procStatusKiB(pid, "VmRSS:");
        const qint64 hwmBefore = procStatusKiB(pid, "VmHWM:");
        constexpr int kClients = 10;
        Sockets clients;
        QCOMPARE(clients.open(m_h.gateway->port(), kClients), kClients);
        const QByteArray body = compact(chatRequest(QStringLiteral("mock/big")));
        for (auto &s : clients.list) {
            s->setReadBufferSize(64 * 1024); // the test itself reads slowly: let TCP hold the rest
            s->write("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kSecret
                     + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + QByteArray::number(body.size())
                     + "\r\n\r\n" + body);
        }
        std::vector<qint64> got(kClients, 0);
        std::vector<QByteArray> heads(kClients), tails(kClients);
        auto drain = [&](qint64 maxEach) {
            for (int i = 0; i < kClients; ++i) {
                QByteArray data = clients.list[size_t(i)]->read(maxEach);
                if (data.isEmpty())
                    continue;
                if (heads[size_t(i)].size() < 4096)
                    heads[size_t(i)] += data.left(4096);
                tails[size_t(i)] = (tails[size_t(i)] + data).right(4096);
                got[size_t(i)] += data.size();
            }
        };
        // Slowly for 3 s (about 1.3 MB/s each), then as fast as possible.
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 3000) {
            drain(64 * 1024);
            QTest::qWait(50);
        }
        const qint64 hwmSlow = procStatusKiB(pid, "VmHWM:");
        while (t.elapsed() < 120000) {
            drain(16 * 1024 * 1024);
            bool all = true;
            for (int i = 0; i < kClients; ++i)
                all = all && clients.list[size_t(i)]->state() != QAbstractSocket::ConnectedState && clients.list[size_t(i)]->bytesAvailable() == 0;
            if (all)
                break;
            QTest::qWait(5);
        }
        drain(std::numeric_limits<int>::max());
        const qint64 hwmAfter = procStatusKiB(pid, "VmHWM:");
        qInfo() << "gateway RSS before" << rssBefore / 1024 << "MiB, peak before" << hwmBefore / 1024 << "MiB, peak while slow"
                << hwmSlow / 1024 << "MiB, peak after" << hwmAfter / 1024 << "MiB, in" << t.elapsed() << "ms";
        for (int i = 0; i < kClients; ++i) {
            const QByteArray &head = heads[size_t(i)];
            QVERIFY2(head.startsWith("HTTP/1.1 200 "), head.left(300).constData());
            const qsizetype headEnd = head.indexOf("\r\n\r\n") + 4;
            const qsizetype clAt = head.toLower().indexOf("content-length: ");
            QVERIFY(clAt > 0 && clAt < headEnd);
            const qint64 length = head.mid(clAt + 16, head.indexOf("\r\n", clAt) - clAt - 16).toLongLong();
            QVERIFY(length > 50ll * 1024 * 1024);
            QCOMPARE(got[size_t(i)], headEnd + length);
            QVERIFY2(tails[size_t(i)].contains("\"usage\""), tails[size_t(i)].right(200).constData());
        }
        // 10 x 50 MiB went through; the gateway's peak grew by far less than one of them.
        QVERIFY2(hwmAfter - hwmBefore < 48 * 1024, qPrintable(QStringLiteral("peak RSS grew by %1 MiB").arg((hwmAfter - hwmBefore) / 1024)));
        auto bigRows = [this] {
            QList<LoggedRequest> out;
            for (const LoggedRequest &row : m_h.db->all().value_or(QList<LoggedRequest>()))
                if (row.requestedModel == QLatin1String("mock/big"))
                    out.append(row);
            return out;
        };
        QTRY_COMPARE_WITH_TIMEOUT(bigRows().size(), kClients, 5000);
        for (const LoggedRequest &row : bigRows()) {
            QCOMPARE(row.status, 200);
            QCOMPARE(row.outputTokens, 1); // from the usage at the end of the body, not estimated
        }
    }

    // A provider whose error echoes the Authorization header it received: the key reaches neither
    // the client, nor the log database, nor stderr; and a 401 is not retried on the same target.
    void providerEchoingTheKey()
    {
        const HttpResponse r = chat(QStringLiteral("mock/echo401"));
        QCOMPARE(r.status, 502);
        QCOMPARE(errorCode(r), QStringLiteral("upstream_auth_failed"));
        QVERIFY2(!r.raw.contains(kProviderKey), r.body.constData());
        QVERIFY2(r.body.contains("[REDACTED]"), r.body.constData());
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-401@echo_auth=1")), 1); // not retried
        QVERIFY(!r.hasHeader("x-gatehouse-attempts"));
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        QVERIFY(row);
        QVERIFY(!row->error.contains(QLatin1String(kProviderKey)));
        QVERIFY(row->error.contains(QLatin1String("[REDACTED]")));

        // A 5xx echo is retried (another attempt may work) and scrubbed the same way.
        const HttpResponse r500 = chat(QStringLiteral("mock/echo500"));
        QCOMPARE(r500.status, 502);
        QVERIFY2(!r500.raw.contains(kProviderKey), r500.body.constData());
        QVERIFY(m_h.mock->requestCount(QStringLiteral("fail-500@echo_auth=1")) > 1);

        QVERIFY(!m_h.gateway->stderrText().contains(QLatin1String(kProviderKey)));
        QTRY_COMPARE_WITH_TIMEOUT(filesContaining(m_h.gateway->dataDir(), kProviderKey), QStringList(), 3000);
    }

    // A success that carries the key in its content (a provider or proxy echoing it): masked in a
    // stream, in a small answer, and in an answer relayed part by part past 1 MiB, where the key may
    // fall across two parts; the relayed answer keeps its announced length.
    void successEchoingTheKey()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse small = chat(QStringLiteral("mock/echook"));
        QCOMPARE(small.status, 200);
        QVERIFY2(!small.raw.contains(kProviderKey), small.body.constData());

        QJsonObject streamed = chatRequest(QStringLiteral("mock/echook"));
        streamed.insert(QStringLiteral("stream"), true);
        const HttpResponse s = client.post("/v1/chat/completions", compact(streamed), bearer(kSecret));
        QCOMPARE(s.status, 200);
        QVERIFY(s.body.contains("[DONE]"));
        QVERIFY2(!s.raw.contains(kProviderKey), s.body.right(400).constData());
        QVERIFY(s.body.contains("[REDACTED]"));

        const HttpResponse big = chat(QStringLiteral("mock/echobig"));
        QCOMPARE(big.status, 200);
        QVERIFY(big.body.size() > 4 * 1024 * 1024);
        QCOMPARE(big.header("content-length").toLongLong(), qint64(big.body.size()));
        QVERIFY(!big.raw.contains(kProviderKey));
        QVERIFY(big.body.contains(QByteArray(qsizetype(qstrlen(kProviderKey)), '*')));
        QVERIFY(QJsonDocument::fromJson(big.body).isObject());
    }

    // 403 on a route's first target: failover to the next one, and the first is asked only once.
    void forbiddenFailsOverWithoutRetry()
    {
        const HttpResponse r = chat(QStringLiteral("via-403"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("mock/chat"));
        QCOMPARE(m_h.mock->requestCount(QStringLiteral("fail-403")), 1);
    }

    // Out of file descriptors: with the gateway's limit lowered under it and more idle connections
    // than descriptors, accept backs off instead of spinning (it failed 29,381 times in 3 s at 99%
    // CPU before), the oldest idle connections are closed to make room, and a real request passes.
    void fdExhaustion()
    {
#ifndef Q_OS_LINUX
        QSKIP("lowers the gateway's limit with prlimit(2) and reads /proc");
#else
        const qint64 pid = m_h.gateway->pid();
        const int base = openFds(pid);
        QVERIFY(base > 0);
        const rlim_t limit = rlim_t(base + 80);
        struct rlimit rl {limit, limit};
        struct rlimit old {};
        if (prlimit(pid_t(pid), RLIMIT_NOFILE, &rl, &old) != 0)
            QSKIP("cannot lower the gateway's file limit here (prlimit)");
        auto restore = qScopeGuard([&] { prlimit(pid_t(pid), RLIMIT_NOFILE, &old, nullptr); });
        Sockets idle;
        idle.open(m_h.gateway->port(), 300, 10000); // connected in the kernel's backlog, accepted or not
        QTest::qWait(1000);
        const long hz = sysconf(_SC_CLK_TCK);
        const qint64 ticks0 = cpuTicks(pid);
        QTest::qWait(2000);
        const qint64 ticks1 = cpuTicks(pid);
        const double cpu = double(ticks1 - ticks0) / double(hz) / 2.0;
        qInfo() << "with 300 idle connections and" << limit << "descriptors:" << openFds(pid) << "open, CPU" << cpu * 100 << "% of a core";
        QVERIFY2(cpu < 0.2, qPrintable(QStringLiteral("the gateway used %1% of a core while out of descriptors").arg(cpu * 100)));
        QVERIFY(openFds(pid) <= int(limit));
        QElapsedTimer t;
        t.start();
        HttpClient client(m_h.gateway->port());
        RequestOptions options;
        options.timeoutMs = 15000;
        const HttpResponse r = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))), bearer(kSecret), options);
        qInfo() << "a real request among them:" << r.status << "in" << t.elapsed() << "ms";
        QCOMPARE(r.status, 200);
        QVERIFY(m_h.gateway->stderrText().contains(QLatin1String("accept failed")));
        idle.list.clear();
        QTest::qWait(300);
        QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200);
#endif
    }

    // A read-only data folder (a read-only tmpfs: permissions do not stop root) is named as such.
    void readOnlyDataDir()
    {
#ifndef Q_OS_LINUX
        QSKIP("mounts a read-only tmpfs");
#else
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ro = dir.filePath(QStringLiteral("ro"));
        QVERIFY(QDir().mkpath(ro));
        if (QProcess::execute(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                                                       QStringLiteral("ro,size=1m"), QStringLiteral("tmpfs"), ro}) != 0)
            QSKIP("cannot mount a read-only tmpfs here (needs root)");
        auto unmount = qScopeGuard([&] { QProcess::execute(QStringLiteral("umount"), {ro}); });
        for (const QString &dataDir : {ro, ro + QStringLiteral("/sub")}) {
            GatewayProcess gateway;
            prepareGatewayEnvironment(gateway);
            gateway.setDataDir(dataDir);
            QVERIFY(!gateway.start());
            QCOMPARE(gateway.exitCode(), 1);
            QVERIFY2(gateway.stderrText().contains(QLatin1String("read-only")), qPrintable(gateway.stderrText()));
        }
#endif
    }

    // The connection cap: more idle connections than allowed close the oldest ones; requests pass.
    void connectionCap()
    {
        QVERIFY(m_h.stop());
        QVERIFY2(m_h.startGateway(config(QJsonObject{{QStringLiteral("max_connections"), 20}})), qPrintable(m_h.error));
        Sockets idle;
        idle.open(m_h.gateway->port(), 60); // the oldest are closed while the last ones connect
        QTRY_VERIFY_WITH_TIMEOUT(idle.connected() <= 20 + 2, 5000);
        // Each connection over the cap closes one other, never more: a burst of accepts queued to
        // the workers must not each make room for the same excess (under load that left a handful).
        QVERIFY2(idle.connected() >= 20 - 2, qPrintable(QString::number(idle.connected())));
        // The oldest went first: the last ones opened are still there.
        QVERIFY(idle.list.back()->state() == QAbstractSocket::ConnectedState);
        QVERIFY(idle.list.front()->state() != QAbstractSocket::ConnectedState);
        QCOMPARE(chat(QStringLiteral("mock/chat")).status, 200);
#ifdef Q_OS_LINUX
        QVERIFY(openFds(m_h.gateway->pid()) < 20 + 64);
#endif
    }
};

QTEST_GUILESS_MAIN(TestGatewayHostile)
#include "tst_gateway_hostile.moc"
