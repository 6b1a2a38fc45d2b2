// The gatehouse process from start to stop: --version, command-line and config errors (exit 2),
// applying a config twice, SIGTERM (503 for late requests, in-flight requests finished or cut,
// exit 0, log flushed), kill -9 (finished requests survive), spend that survives restarts, and no
// provider API key in any output or file.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QDir>
#include <QFile>
#include <QTest>

#include <memory>
#include <thread>

#include <csignal>
#include <sys/types.h>

using namespace gh::test;

namespace {

const QByteArray kLifeSecret = "gk-itest-life-0001";

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

struct RunResult {
    int exitCode = -1;
    QString out;
    QString err;
};

// Runs gatehouse to completion with the given arguments (for options that make it exit at once).
RunResult runGatehouse(const QStringList &args, int timeoutMs = 15000)
{
    RunResult result;
    const QString bin = binaryFromEnv("GATEHOUSE_BIN", &result.err);
    if (bin.isEmpty())
        return result;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(bin, args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        result.err = QStringLiteral("did not exit within %1 ms").arg(timeoutMs);
        return result;
    }
    result.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    result.out = QString::fromUtf8(p.readAllStandardOutput());
    result.err = QString::fromUtf8(p.readAllStandardError());
    return result;
}

// Reads one response from a raw socket: its status and body (Content-Length framed).
struct RawResponse {
    int status = 0;
    QByteArray head;
    QByteArray body;
};

RawResponse readRawResponse(QTcpSocket &socket, int timeoutMs)
{
    RawResponse r;
    QByteArray data;
    QElapsedTimer timer;
    timer.start();
    static const QRegularExpression statusLine(QStringLiteral("^HTTP/1\\.1 (\\d{3}) "));
    static const QRegularExpression contentLength(QStringLiteral("(?im)^content-length:\\s*(\\d+)\\s*$"));
    while (timer.elapsed() < timeoutMs) {
        data += socket.readAll();
        const qsizetype end = data.indexOf("\r\n\r\n");
        if (end >= 0) {
            r.head = data.left(end);
            const auto length = contentLength.match(QString::fromLatin1(r.head));
            const qsizetype size = length.hasMatch() ? length.captured(1).toLongLong() : 0;
            if (data.size() >= end + 4 + size) {
                r.body = data.mid(end + 4, size);
                const auto m = statusLine.match(QString::fromLatin1(r.head));
                r.status = m.hasMatch() ? m.captured(1).toInt() : -1;
                return r;
            }
        }
        if (socket.state() != QAbstractSocket::ConnectedState && socket.bytesAvailable() == 0)
            break;
        socket.waitForReadyRead(50);
    }
    r.head = data;
    return r;
}

} // namespace

class TestGatewayLifecycle : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;

    // A config with the mock provider, a few models and one key with a total limit.
    QJsonObject baseConfig(const QJsonObject &settings = {}) const
    {
        const QString mock = QStringLiteral("mock");
        QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_mock)}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/chat"), mock, QStringLiteral("ok@p=100,c=20"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/slowstream"), mock, QStringLiteral("stream-slow@delay=100,chunks=6"),
                        1.0, 2.0),
                    mockModel(QStringLiteral("mock/longstream"), mock,
                        QStringLiteral("stream-slow@delay=100,chunks=60"), 1.0, 2.0),
                }},
            {QStringLiteral("keys"),
                QJsonArray{testKey(QStringLiteral("life"), QString::fromLatin1(kLifeSecret), {},
                    QJsonObject{{QStringLiteral("total_usd"), 100.0}})}},
        };
        if (!settings.isEmpty())
            config.insert(QStringLiteral("settings"), settings);
        return config;
    }

    // Sends `count` finished requests (every third one streamed); returns their request ids.
    QStringList sendRequests(quint16 port, int count)
    {
        QStringList ids;
        HttpClient client(port);
        client.setKeepAlive(true);
        client.setBearer(kLifeSecret);
        for (int i = 0; i < count; ++i) {
            const bool stream = i % 3 == 2;
            const HttpResponse r = client.post("/v1/chat/completions",
                compact(chatRequest(QStringLiteral("mock/chat"), QStringLiteral("n%1").arg(i), stream)));
            if (r.status != 200 || !r.complete) {
                qWarning("request %d failed: %s", i, qPrintable(r.describe()));
                return {};
            }
            ids.append(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        }
        return ids;
    }

    double totalSpend(quint16 port)
    {
        HttpClient client(port);
        const HttpResponse r = client.get("/v1/key", bearer(kLifeSecret));
        if (r.status != 200)
            return -1;
        return r.json().value(QStringLiteral("spend")).toObject().value(QStringLiteral("total_usd")).toDouble();
    }

    static void checkNoProviderKeyAnywhere(const GatewayProcess &gateway)
    {
        // The work folder holds the data folder, the configs and every run's stdout and stderr.
        QCOMPARE(filesContaining(gateway.workDir(), kProviderKey), QStringList());
        QVERIFY(!gateway.stdoutText().contains(QLatin1String(kProviderKey)));
        QVERIFY(!gateway.stderrText().contains(QLatin1String(kProviderKey)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
    }

    void version()
    {
        const RunResult r = runGatehouse({QStringLiteral("--version")});
        QCOMPARE(r.exitCode, 0);
        static const QRegularExpression versionRe(QStringLiteral("\\b(\\d+\\.\\d+\\.\\d+)\\b"));
        const auto m = versionRe.match(r.out);
        QVERIFY2(m.hasMatch(), qPrintable(r.out));

        // The running gateway reports the same version.
        GatewayProcess gateway;
        QVERIFY2(startGateway(gateway, baseConfig()), qPrintable(gateway.errorString()));
        HttpClient client(gateway.port());
        QCOMPARE(client.get("/healthz").json().value(QStringLiteral("version")).toString(), m.captured(1));
        QCOMPARE(gateway.terminate(), 0);
    }

    // The headless gateway's memory (BENCHMARKS.md, "Memory after 1M requests"): on the SQLite store
    // it maps neither the window's libraries nor libpq and its dependency tree (GnuTLS through
    // libldap), which are loaded only for a team store. Read from the running process's own maps,
    // after it served a request.
    void headlessMapsNeitherWindowNorTeamLibraries()
    {
#ifndef Q_OS_LINUX
        QSKIP("reads /proc/PID/maps");
#else
        GatewayProcess gateway;
        QVERIFY2(startGateway(gateway, baseConfig()), qPrintable(gateway.errorString()));
        QCOMPARE(sendRequests(gateway.port(), 3).size(), 3);
        QFile maps(QStringLiteral("/proc/%1/maps").arg(gateway.pid()));
        QVERIFY(maps.open(QIODevice::ReadOnly));
        const QByteArray mapped = maps.readAll();
        QVERIFY(mapped.contains("libsqlite3")); // the right process, and its libraries are listed
        for (const char *library :
            {"libQt6Gui", "libQt6Qml", "libQt6Quick", "libQt6Widgets", "libpq.so", "libgnutls", "libldap"})
            QVERIFY2(!mapped.contains(library), library);
        QCOMPARE(gateway.terminate(), 0);
#endif
    }

    void portOutOfRange_data()
    {
        QTest::addColumn<QString>("port");
        QTest::newRow("65536") << QStringLiteral("65536");
        QTest::newRow("70000") << QStringLiteral("70000");
        QTest::newRow("-1") << QStringLiteral("-1");
        QTest::newRow("abc") << QStringLiteral("abc");
    }

    void portOutOfRange()
    {
        QFETCH(QString, port);
        QTemporaryDir dir;
        const RunResult r = runGatehouse(
            {QStringLiteral("--headless"), QStringLiteral("--port"), port, QStringLiteral("--data-dir"), dir.path()});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(QLatin1String("--port")), qPrintable(r.err));
        QVERIFY(!r.out.contains(QLatin1String("listening")));
    }

    // The worker pool: --workers, else GATEHOUSE_WORKERS, else settings.workers, else one per core.
    // The count is checked three ways: /healthz, the start-up log line and the process's own threads.
    void workerCount_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("env");       // GATEHOUSE_WORKERS ("" unset)
        QTest::addColumn<QJsonValue>("setting"); // settings.workers (undefined: not in the config)
        QTest::addColumn<int>("expected");      // 0: one per core
        const int cores = QThread::idealThreadCount();
        QTest::newRow("default: one per core") << QStringList() << QString() << QJsonValue(QJsonValue::Undefined) << 0;
        QTest::newRow("setting auto") << QStringList() << QString() << QJsonValue(QStringLiteral("auto")) << 0;
        QTest::newRow("setting 3") << QStringList() << QString() << QJsonValue(3) << 3;
        QTest::newRow("--workers 5 over the setting") << QStringList{QStringLiteral("--workers"), QStringLiteral("5")} << QString()
                                                      << QJsonValue(3) << 5;
        QTest::newRow("env 2 over the setting") << QStringList() << QStringLiteral("2") << QJsonValue(3) << 2;
        QTest::newRow("--workers over the env") << QStringList{QStringLiteral("--workers=1")} << QStringLiteral("2")
                                                << QJsonValue(QJsonValue::Undefined) << 1;
        QTest::newRow("more than the cores") << QStringList{QStringLiteral("--workers"), QString::number(cores + 2)} << QString()
                                             << QJsonValue(QJsonValue::Undefined) << cores + 2;
    }

    void workerCount()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, env);
        QFETCH(QJsonValue, setting);
        QFETCH(int, expected);
        if (expected == 0)
            expected = QThread::idealThreadCount(); // the gateway inherits this process's affinity
        GatewayProcess gateway;
        prepareGatewayEnvironment(gateway);
        gateway.setEnv(QStringLiteral("GATEHOUSE_WORKERS"), env);
        QJsonObject settings;
        if (!setting.isUndefined())
            settings.insert(QStringLiteral("workers"), setting);
        const QString path = gateway.writeConfig(baseConfig(settings));
        QVERIFY2(gateway.start(args, path), qPrintable(gateway.errorString() + gateway.stderrText()));
        HttpClient client(gateway.port());
        QCOMPARE(client.get("/healthz").json().value(QStringLiteral("workers")).toInt(), expected);
        QVERIFY2(gateway.stderrText().contains(QStringLiteral("serving with %1 worker thread(s)").arg(expected)), qPrintable(gateway.stderrText()));
        // Each thread names itself once it runs, a moment after the gateway is up: polled.
        const auto workerThreads = [pid = gateway.pid()] {
            int threads = 0;
            const QString tasks = QStringLiteral("/proc/%1/task").arg(pid);
            for (const QString &task : QDir(tasks).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
                QFile comm(tasks + QLatin1Char('/') + task + QStringLiteral("/comm"));
                if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("gateway-worker"))
                    ++threads;
            }
            return threads;
        };
        QTRY_COMPARE_WITH_TIMEOUT(workerThreads(), expected, 10'000);
        QCOMPARE(gateway.terminate(), 0);
    }

    void badWorkerCount_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("env");
        QTest::addColumn<QString>("expected"); // in stderr
        for (const char *bad : {"0", "-1", "abc", "257", "2.5", ""})
            QTest::addRow("--workers '%s'", bad) << QStringList{QStringLiteral("--workers"), QLatin1String(bad)} << QString()
                                                 << QStringLiteral("--workers: '%1' is not a worker count (1-256)").arg(QLatin1String(bad));
        QTest::newRow("env abc") << QStringList() << QStringLiteral("abc") << QStringLiteral("GATEHOUSE_WORKERS: 'abc' is not a worker count");
        QTest::newRow("env -3") << QStringList() << QStringLiteral("-3") << QStringLiteral("GATEHOUSE_WORKERS: '-3' is not a worker count");
    }

    void badWorkerCount()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, env);
        QFETCH(QString, expected);
        GatewayProcess gateway;
        prepareGatewayEnvironment(gateway);
        gateway.setEnv(QStringLiteral("GATEHOUSE_WORKERS"), env);
        QVERIFY(!gateway.start(args, gateway.writeConfig(baseConfig())));
        QCOMPARE(gateway.exitCode(), 2);
        QVERIFY2(gateway.stderrText().contains(expected), qPrintable(gateway.stderrText()));
        QVERIFY(!gateway.stdoutText().contains(QLatin1String("listening")));
    }

    void badWorkerSetting_data()
    {
        QTest::addColumn<QJsonValue>("value");
        QTest::newRow("0") << QJsonValue(0);
        QTest::newRow("257") << QJsonValue(257);
        QTest::newRow("1.5") << QJsonValue(1.5);
        QTest::newRow("\"many\"") << QJsonValue(QStringLiteral("many"));
        QTest::newRow("null") << QJsonValue(QJsonValue::Null);
    }

    void badWorkerSetting()
    {
        QFETCH(QJsonValue, value);
        GatewayProcess gateway;
        prepareGatewayEnvironment(gateway);
        QVERIFY(!gateway.start({}, gateway.writeConfig(baseConfig(QJsonObject{{QStringLiteral("workers"), value}}))));
        QCOMPARE(gateway.exitCode(), 2);
        QVERIFY2(gateway.stderrText().contains(QLatin1String("settings.workers: must be \"auto\" (one per core) or an integer from 1 to 256")),
                 qPrintable(gateway.stderrText()));
    }

    void badConfig_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expected"); // after "FILE: "
        const QByteArray provider0 = "{\"id\":\"a\",\"base_url\":\"http://127.0.0.1:1/v1\"}";
        QTest::newRow("base_url not a URL")
            << QByteArray("{\"providers\":[" + provider0 + ",{\"id\":\"b\",\"base_url\":\"not a url\"}]}")
            << QStringLiteral("providers[1].base_url: ");
        QTest::newRow("unknown field") << QByteArray("{\"keys\":[{\"name\":\"k\",\"limts\":{}}]}")
                                       << QStringLiteral("keys[0].limts: unknown field");
        QTest::newRow("unknown provider")
            << QByteArray("{\"providers\":[" + provider0 + "],\"models\":[{\"id\":\"x/y\",\"provider\":\"x\"}]}")
            << QStringLiteral("models[0].provider: unknown provider");
        QTest::newRow("negative limit") << QByteArray("{\"keys\":[{\"name\":\"k\",\"limits\":{\"day_usd\":-1}}]}")
                                        << QStringLiteral("keys[0].limits.day_usd: ");
        QTest::newRow("syntax error") << QByteArray("{\n  \"providers\": [\n") << QString();
    }

    void badConfig()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expected);
        GatewayProcess gateway;
        prepareGatewayEnvironment(gateway);
        const QString path = QDir(gateway.workDir()).filePath(QStringLiteral("bad-config.json"));
        {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(json);
        }
        QVERIFY(!gateway.start({}, path));
        QCOMPARE(gateway.exitCode(), 2);
        const QString err = gateway.stderrText();
        if (expected.isEmpty()) {
            // A JSON syntax error: FILE:LINE:COLUMN: ...
            static const QRegularExpression syntax(QStringLiteral("bad-config\\.json:\\d+:\\d+: "));
            QVERIFY2(syntax.match(err).hasMatch(), qPrintable(err));
        } else {
            QVERIFY2(err.contains(QStringLiteral("bad-config.json: ") + expected), qPrintable(err));
        }
        QVERIFY(!gateway.stdoutText().contains(QLatin1String("listening")));
    }

    // A key without a secret gets one generated and printed once; applying the same file again
    // generates nothing and the first secret keeps working.
    void applyingTheSameConfigTwice()
    {
        GatewayProcess gateway;
        QJsonObject config = baseConfig();
        QJsonArray keys = config.value(QStringLiteral("keys")).toArray();
        keys.append(testKey(QStringLiteral("auto"), QString()));
        config.insert(QStringLiteral("keys"), keys);
        QString path;
        QVERIFY2(startGateway(gateway, config, 2, &path), qPrintable(gateway.errorString()));
        static const QRegularExpression generated(
            QStringLiteral("^Generated key for 'auto': (gk-\\S+)  \\(shown once: store it now\\)$"));
        const QStringList before = gateway.linesBeforeListening();
        QCOMPARE(before.size(), 1);
        const auto m = generated.match(before.first());
        QVERIFY2(m.hasMatch(), qPrintable(before.first()));
        const QByteArray secret = m.captured(1).toLatin1();
        HttpClient client(gateway.port());
        HttpResponse key = client.get("/v1/key", bearer(secret));
        QVERIFY2(key.status == 200, qPrintable(key.describe()));
        QCOMPARE(key.json().value(QStringLiteral("name")).toString(), QStringLiteral("auto"));
        QCOMPARE(gateway.terminate(), 0);

        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        QCOMPARE(gateway.linesBeforeListening(), QStringList());
        QVERIFY(!gateway.stdoutText().contains(QLatin1String("Generated key")));
        HttpClient again(gateway.port());
        key = again.get("/v1/key", bearer(secret));
        QVERIFY2(key.status == 200, qPrintable(key.describe()));
        QCOMPARE(gateway.terminate(), 0);
        // Stored only as a hash.
        QCOMPARE(filesContaining(gateway.dataDir(), secret), QStringList());
        checkNoProviderKeyAnywhere(gateway);
    }

    // SIGTERM: a request still arriving gets 503, the listener closes, the request in flight
    // finishes, every finished request is in the log, and the exit code is 0. Spend survives.
    void sigtermFinishesInFlightAndFlushes()
    {
        GatewayProcess gateway;
        QString path;
        QVERIFY2(startGateway(gateway, baseConfig(), 2, &path), qPrintable(gateway.errorString()));
        const quint16 port = gateway.port();
        QVERIFY(m_mock->reset());
        const QStringList ids = sendRequests(port, 20);
        QCOMPARE(ids.size(), 20);
        const double spendBefore = totalSpend(port);
        QVERIFY(spendBefore > 0);

        // A stream of about 0.7 s, in flight when the signal comes.
        HttpResponse inFlight;
        std::thread streamer([&] {
            HttpClient client(port);
            inFlight = client.post("/v1/chat/completions",
                compact(chatRequest(QStringLiteral("mock/slowstream"), QStringLiteral("late"), true)),
                bearer(kLifeSecret));
        });
        const bool forwarded = m_mock->waitForRequests(21);

        // A request whose body is still on its way.
        QTcpSocket late;
        late.connectToHost(QStringLiteral("127.0.0.1"), port);
        const bool lateConnected = late.waitForConnected(3000);
        const QByteArray body = compact(chatRequest(QStringLiteral("mock/chat")));
        late.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + kLifeSecret
            + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n"
            + body.left(10));
        late.waitForBytesWritten(1000);
        QTest::qWait(300); // let the gateway read the partial request

        QVERIFY(::kill(pid_t(gateway.pid()), SIGTERM) == 0);
        const RawResponse refused = readRawResponse(late, 5000);

        // The listener is closed by then: new connections are refused.
        QTcpSocket newcomer;
        newcomer.connectToHost(QStringLiteral("127.0.0.1"), port);
        const bool newcomerConnected
            = newcomer.waitForConnected(1000) && newcomer.state() == QAbstractSocket::ConnectedState;
        newcomer.abort();

        streamer.join();
        QVERIFY(gateway.waitForExit(15000));
        QVERIFY(forwarded);
        QVERIFY(lateConnected);
        QCOMPARE(gateway.exitCode(), 0);

        QVERIFY2(refused.status == 503, refused.head.constData());
        const QJsonObject error
            = QJsonDocument::fromJson(refused.body).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("shutting_down"));
        QVERIFY(!error.value(QStringLiteral("message")).toString().isEmpty());
        QVERIFY(!newcomerConnected);

        // The stream in flight was allowed to finish.
        QVERIFY2(inFlight.complete && inFlight.status == 200, qPrintable(inFlight.describe()));
        QCOMPARE(inFlight.eventData().last(), QByteArray("[DONE]"));
        QVERIFY(!inFlight.body.contains("\"error\""));

        // Every finished request is in the log, without waiting for anything.
        RequestLogDb db(gateway.dataDir());
        const auto rows = db.all();
        QVERIFY2(rows, qPrintable(db.errorString()));
        QStringList logged;
        double loggedCost = 0;
        for (const LoggedRequest &row : *rows) {
            logged.append(row.id);
            loggedCost += row.costUsd();
        }
        for (const QString &id : ids)
            QVERIFY2(logged.contains(id), qPrintable(id));
        const QString streamId = QString::fromLatin1(inFlight.header("x-gatehouse-request-id"));
        QVERIFY(logged.contains(streamId));
        QCOMPARE(rows->size(), 21);

        // Spend is rebuilt from the log after a restart.
        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        const double spendAfter = totalSpend(gateway.port());
        QVERIFY2(qAbs(spendAfter - loggedCost) < 1e-9,
            qPrintable(QStringLiteral("%1 vs %2").arg(spendAfter).arg(loggedCost)));
        QVERIFY(spendAfter > spendBefore);
        QCOMPARE(gateway.terminate(), 0);
        checkNoProviderKeyAnywhere(gateway);
    }

    // A stream longer than the shutdown grace is cut: an error event, [DONE], the end of the
    // stream; logged as 503 and charged for what was produced.
    void sigtermCutsLongStreamAfterGrace()
    {
        GatewayProcess gateway;
        QVERIFY2(startGateway(gateway, baseConfig(QJsonObject{{QStringLiteral("shutdown_grace_ms"), 500}})),
            qPrintable(gateway.errorString()));
        const quint16 port = gateway.port();
        QVERIFY(m_mock->reset());
        HttpResponse cut;
        std::thread streamer([&] {
            HttpClient client(port);
            cut = client.post("/v1/chat/completions",
                compact(chatRequest(QStringLiteral("mock/longstream"), QStringLiteral("long"), true)),
                bearer(kLifeSecret));
        });
        const bool forwarded = m_mock->waitForRequests(1);
        QTest::qWait(250); // a few chunks reach the client
        QElapsedTimer timer;
        timer.start();
        QVERIFY(::kill(pid_t(gateway.pid()), SIGTERM) == 0);
        streamer.join();
        QVERIFY(gateway.waitForExit(15000));
        QVERIFY(forwarded);
        QCOMPARE(gateway.exitCode(), 0);
        QVERIFY2(timer.elapsed() < 4000, qPrintable(QString::number(timer.elapsed())));

        QVERIFY2(cut.complete && cut.status == 200, qPrintable(cut.describe()));
        const QList<QByteArray> data = cut.eventData();
        QVERIFY(data.size() >= 3);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        const QJsonObject error
            = QJsonDocument::fromJson(data.at(data.size() - 2)).object().value(QStringLiteral("error")).toObject();
        QCOMPARE(error.value(QStringLiteral("code")).toString(), QStringLiteral("shutting_down"));
        QVERIFY(!streamContent(cut).isEmpty());

        RequestLogDb db(gateway.dataDir());
        const auto row = db.find(QString::fromLatin1(cut.header("x-gatehouse-request-id")));
        QVERIFY2(row, qPrintable(db.errorString()));
        QCOMPARE(row->status, 503);
        QVERIFY(row->estimated);
        QVERIFY(row->costNanoUsd && *row->costNanoUsd > 0);
        checkNoProviderKeyAnywhere(gateway);
    }

    // kill -9 at least 300 ms after the last request finished: all of them are in the log after a
    // restart (the writer's batch window is 200 ms), and the key's spend is the same.
    void kill9KeepsFinishedRequests()
    {
        GatewayProcess gateway;
        QString path;
        QVERIFY2(startGateway(gateway, baseConfig(), 2, &path), qPrintable(gateway.errorString()));
        const QStringList ids = sendRequests(gateway.port(), 30);
        QCOMPARE(ids.size(), 30);
        const double spendBefore = totalSpend(gateway.port());
        QVERIFY(spendBefore > 0);
        QTest::qSleep(300);
        gateway.kill();
        QCOMPARE(gateway.exitCode(), -1); // died of the signal

        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        RequestLogDb db(gateway.dataDir());
        const auto rows = db.all();
        QVERIFY2(rows, qPrintable(db.errorString()));
        QStringList logged;
        for (const LoggedRequest &row : *rows)
            logged.append(row.id);
        for (const QString &id : ids)
            QVERIFY2(logged.contains(id), qPrintable(id));
        const double spendAfter = totalSpend(gateway.port());
        QVERIFY2(qAbs(spendAfter - spendBefore) < 1e-9,
            qPrintable(QStringLiteral("%1 vs %2").arg(spendAfter).arg(spendBefore)));
        QCOMPARE(gateway.terminate(), 0);
        checkNoProviderKeyAnywhere(gateway);
    }
};

QTEST_GUILESS_MAIN(TestGatewayLifecycle)
#include "tst_gateway_lifecycle.moc"
