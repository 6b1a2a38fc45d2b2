// Nothing answered is lost: every request whose response reached the client, in whole or in part,
// is in the log after kill -9 at random points of a burst (logged, or charged at its reservation by
// the start-up recovery pass), while another connection holds the database locked for 60 s, and
// while the disk is full (rows wait in memory, new requests get 503 once the buffer is full, and all
// of it is written once there is room). Every upstream send, a resend on a fresh connection
// included, has an attempt record.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

using namespace gh::test;

namespace {

const QByteArray kSecret = "gk-itest-durable-0001";

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A response that reached the client: at least its head, which carries the request id.
struct Answered {
    QString id;
    int status = 0;
    bool complete = false;
    bool stream = false;
    QByteArray cost; // x-gatehouse-cost-usd (complete non-streamed answers)
};

// Sends requests from `threads` connections (every other one streamed) until `stop` is set or the
// gateway stops answering; returns what was answered.
QList<Answered> burst(quint16 port, int threads, const std::atomic<bool> &stop, int maxPerThread = 1'000'000)
{
    QMutex mutex;
    QList<Answered> answered;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            HttpClient client(port);
            client.setKeepAlive(true);
            client.setBearer(kSecret);
            RequestOptions options;
            options.timeoutMs = 10'000;
            for (int i = 0; i < maxPerThread && !stop.load(); ++i) {
                const bool stream = (i + t) % 2 == 1;
                const HttpResponse r = client.post("/v1/chat/completions",
                    compact(chatRequest(stream ? QStringLiteral("mock/stream") : QStringLiteral("mock/chat"),
                        QStringLiteral("t%1 n%2").arg(t).arg(i), stream, true)),
                    {}, options);
                const QByteArray id = r.header("x-gatehouse-request-id");
                if (r.status > 0 && !id.isEmpty()) {
                    QMutexLocker lock(&mutex);
                    answered.append({QString::fromLatin1(id), r.status, r.complete && !r.peerClosed, stream,
                        r.header("x-gatehouse-cost-usd")});
                }
                if (r.status == 0 || r.timedOut)
                    break; // the gateway is gone
                if (!r.complete || r.peerClosed)
                    client.close();
            }
        });
    }
    for (auto &w : workers)
        w.join();
    return answered;
}

// Checks after a (re)start: every answered request is logged, the file is sound, no pending row is
// left, recovered rows are charged, the costs sent to clients are the logged ones, and the key's
// spend is the sum of the log. Returns the number of recovered rows among `answered`.
int checkLog(GatewayProcess &gateway, const QList<Answered> &answered)
{
    RequestLogDb db(gateway.dataDir());
    const auto rows = db.all();
    if (!rows) {
        QTest::qFail(qPrintable(db.errorString()), __FILE__, __LINE__);
        return -1;
    }
    QHash<QString, LoggedRequest> byId;
    qint64 total = 0;
    for (const LoggedRequest &row : *rows) {
        byId.insert(row.id, row);
        total += row.costNanoUsd.value_or(0);
    }
    const auto recovered = db.recoveredIds();
    if (!recovered) {
        QTest::qFail(qPrintable(db.errorString()), __FILE__, __LINE__);
        return -1;
    }
    int missing = 0;
    int recoveredAnswered = 0;
    for (const Answered &a : answered) {
        const auto it = byId.constFind(a.id);
        if (it == byId.cend()) {
            ++missing;
            qWarning("answered but not logged: %s (status %d, stream %d, complete %d)", qPrintable(a.id), a.status,
                     a.stream, a.complete);
            continue;
        }
        if (recovered->contains(a.id)) {
            ++recoveredAnswered;
            if (!a.stream || it->status != 200 || it->costNanoUsd.value_or(0) <= 0) {
                QTest::qFail(qPrintable(QStringLiteral("recovered row not charged: %1").arg(it->describe())), __FILE__, __LINE__);
                return -1;
            }
        } else if (a.complete && !a.stream && a.status == 200 && !a.cost.isEmpty() && a.cost != "unpriced") {
            const qint64 sent = qRound64(a.cost.toDouble() * 1e9);
            if (qAbs(sent - it->costNanoUsd.value_or(-1)) > 1) {
                QTest::qFail(qPrintable(QStringLiteral("cost sent %1, logged %2").arg(QString::fromLatin1(a.cost), it->describe())),
                             __FILE__, __LINE__);
                return -1;
            }
        }
    }
    if (missing != 0) {
        QTest::qFail(qPrintable(QStringLiteral("%1 of %2 answered requests missing from the log").arg(missing).arg(answered.size())),
                     __FILE__, __LINE__);
        return -1;
    }
    if (db.integrityCheck() != QLatin1String("ok")) {
        QTest::qFail(qPrintable(QStringLiteral("integrity_check: %1").arg(db.integrityCheck())), __FILE__, __LINE__);
        return -1;
    }
    if (db.pendingCount() != 0) {
        QTest::qFail(qPrintable(QStringLiteral("%1 pending rows left after start-up").arg(db.pendingCount())), __FILE__, __LINE__);
        return -1;
    }
    HttpClient client(gateway.port());
    const HttpResponse key = client.get("/v1/key", bearer(kSecret));
    const double spend = key.json().value(QStringLiteral("spend")).toObject().value(QStringLiteral("total_usd")).toDouble(-1);
    if (qAbs(spend - double(total) / 1e9) > 1e-9) {
        QTest::qFail(qPrintable(QStringLiteral("spend %1 USD, log %2 USD (%3)").arg(spend).arg(double(total) / 1e9).arg(key.describe())),
                     __FILE__, __LINE__);
        return -1;
    }
    return recoveredAnswered;
}

} // namespace

class TestGatewayDurability : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;

    QJsonObject config() const
    {
        const QString mock = QStringLiteral("mock");
        return QJsonObject{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_mock)}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/chat"), mock, QStringLiteral("ok@p=100,c=20"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/stream"), mock, QStringLiteral("stream-slow@delay=15,chunks=8"), 1.0, 2.0),
                    mockModel(QStringLiteral("mock/close"), mock, QStringLiteral("close-before"), 1.0, 2.0),
                }},
            {QStringLiteral("keys"),
                QJsonArray{testKey(QStringLiteral("durable"), QString::fromLatin1(kSecret), {},
                    QJsonObject{{QStringLiteral("total_usd"), 1000.0}})}},
        };
    }

    // A tmpfs of `size` mounted on a fresh folder (root only); empty with *why when it cannot be.
    static QString mountTmpfs(QTemporaryDir &dir, const QString &size, QString *why)
    {
        if (::geteuid() != 0) {
            *why = QStringLiteral("mounting a small tmpfs needs root");
            return {};
        }
        QProcess mount;
        mount.start(QStringLiteral("mount"), {QStringLiteral("-t"), QStringLiteral("tmpfs"), QStringLiteral("-o"),
                                              QStringLiteral("size=%1").arg(size), QStringLiteral("tmpfs"), dir.path()});
        if (!mount.waitForFinished(10'000) || mount.exitStatus() != QProcess::NormalExit || mount.exitCode() != 0) {
            *why = QStringLiteral("cannot mount a tmpfs here: %1").arg(QString::fromLocal8Bit(mount.readAllStandardError()).trimmed());
            return {};
        }
        return dir.path();
    }
    static void unmount(const QString &path)
    {
        QProcess::execute(QStringLiteral("umount"), {path});
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
    }

    // kill -9 at a random moment of a burst of streamed and non-streamed requests, 20 times.
    void kill9DuringBurstLosesNothingAnswered()
    {
        const quint32 seed = QRandomGenerator::global()->generate();
        qInfo("seed %u", seed);
        QRandomGenerator random(seed);
        GatewayProcess gateway;
        QString path;
        QVERIFY2(startGateway(gateway, config(), 2, &path), qPrintable(gateway.errorString()));
        int answeredTotal = 0;
        int recoveredTotal = 0;
        QElapsedTimer timer;
        timer.start();
        for (int run = 0; run < 20; ++run) {
            std::atomic<bool> stop{false};
            const int killAfterMs = 30 + int(random.bounded(400));
            const pid_t pid = pid_t(gateway.pid());
            std::thread killer([pid, killAfterMs] {
                QThread::msleep(ulong(killAfterMs));
                ::kill(pid, SIGKILL);
            });
            const QList<Answered> answered = burst(gateway.port(), 6, stop);
            killer.join();
            gateway.kill(); // reaps it
            QCOMPARE(gateway.exitCode(), -1);
            QVERIFY2(!answered.isEmpty(), qPrintable(QStringLiteral("run %1: nothing answered in %2 ms").arg(run).arg(killAfterMs)));

            QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
            const int recovered = checkLog(gateway, answered);
            if (QTest::currentTestFailed())
                QFAIL(qPrintable(QStringLiteral("run %1 (kill after %2 ms, seed %3)").arg(run).arg(killAfterMs).arg(seed)));
            answeredTotal += int(answered.size());
            recoveredTotal += recovered;
        }
        qInfo("20 runs in %lld ms: %d answered requests, 0 missing, %d recovered at their reservation",
              timer.elapsed(), answeredTotal, recoveredTotal);
        QVERIFY(gateway.stderrText().isEmpty() || !gateway.stderrText().contains(QLatin1String("not logged")));
        QCOMPARE(gateway.terminate(), 0);
    }

    // Another connection holds BEGIN EXCLUSIVE for 60 s while requests keep coming: all are served,
    // none is lost, and the log catches up by itself once the lock is gone.
    void exclusiveLockHeld60sLosesNothing()
    {
        GatewayProcess gateway;
        QString path;
        QVERIFY2(startGateway(gateway, config(), 2, &path), qPrintable(gateway.errorString()));
        RequestLogDb db(gateway.dataDir());
        QList<Answered> answered;
        {
            std::atomic<bool> stop{false};
            answered = burst(gateway.port(), 2, stop, 3);
        }
        QCOMPARE(answered.size(), 6);
        for (const Answered &a : answered)
            QVERIFY2(db.waitFor(a.id), qPrintable(a.id));

        auto lock = std::make_unique<ExclusiveLock>(db.path());
        QVERIFY2(lock->isHeld(), qPrintable(lock->errorString()));
        std::atomic<bool> stop{false};
        QList<Answered> during;
        std::thread clients([&] { during = burst(gateway.port(), 2, stop); });
        QThread::sleep(60);
        stop = true;
        clients.join();
        QVERIFY2(during.size() > 20, qPrintable(QString::number(during.size())));
        qInfo("%lld requests answered while the database was locked for 60 s", qint64(during.size()));
        for (const Answered &a : during)
            QVERIFY2(a.status == 200 && a.complete, qPrintable(a.id));
        QVERIFY2(gateway.waitForOutput(QStringLiteral("cannot write the request log"), 1000), qPrintable(gateway.stderrText()));
        lock.reset();

        answered += during;
        for (const Answered &a : std::as_const(answered))
            QVERIFY2(db.waitFor(a.id, 20'000), qPrintable(a.id));
        QVERIFY(gateway.waitForOutput(QStringLiteral("the request log is written again"), 5000));
        checkLog(gateway, answered);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(gateway.terminate(), 0);
        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        checkLog(gateway, answered);
        QCOMPARE(gateway.terminate(), 0);
    }

    // kill -9 while another connection holds the database locked: the answered rows that waited in
    // memory for the lock were in the workers' journals, and the next start writes them with their
    // exact cost (a complete answer is never "recovered at its reservation").
    void kill9WhileLockedLosesNothing()
    {
        GatewayProcess gateway;
        QString path;
        QVERIFY2(startGateway(gateway, config(), 2, &path), qPrintable(gateway.errorString()));
        RequestLogDb db(gateway.dataDir());
        {
            std::atomic<bool> stop{false};
            const QList<Answered> first = burst(gateway.port(), 1, stop, 1);
            QCOMPARE(first.size(), 1);
            QVERIFY2(db.waitFor(first.first().id), qPrintable(first.first().id));
        }
        auto lock = std::make_unique<ExclusiveLock>(db.path());
        QVERIFY2(lock->isHeld(), qPrintable(lock->errorString()));
        std::atomic<bool> stop{false};
        QList<Answered> during;
        std::thread clients([&] { during = burst(gateway.port(), 3, stop); });
        QVERIFY2(gateway.waitForOutput(QStringLiteral("cannot write the request log"), 15'000), qPrintable(gateway.stderrText()));
        QThread::msleep(1500);
        ::kill(pid_t(gateway.pid()), SIGKILL);
        clients.join();
        gateway.kill(); // reaps it
        lock.reset();
        int complete = 0;
        for (const Answered &a : std::as_const(during))
            complete += a.complete;
        QVERIFY2(complete > 20, qPrintable(QString::number(complete)));

        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        checkLog(gateway, during);
        if (QTest::currentTestFailed())
            return;
        const auto recovered = db.recoveredIds();
        QVERIFY(recovered);
        for (const Answered &a : std::as_const(during))
            QVERIFY2(!a.complete || !recovered->contains(a.id), qPrintable(a.id + QStringLiteral(" was charged at its reservation")));
        QVERIFY2(gateway.stderrText().contains(QLatin1String("from the journal")), qPrintable(gateway.stderrText()));
        qInfo("%d complete answers while locked, all logged at their cost after kill -9", complete);
        QCOMPARE(gateway.terminate(), 0);
    }

    // The data folder on a 2 MiB tmpfs, filled up: answers keep coming while rows wait in memory,
    // then (buffer full) new requests get a 503 in the client's format; once space is freed the
    // rows are written and requests are served again.
    void fullDiskBuffersThenRefusesThenRecovers()
    {
        QTemporaryDir mountPoint;
        QVERIFY(mountPoint.isValid());
        QString why;
        const QString mounted = mountTmpfs(mountPoint, QStringLiteral("2m"), &why);
        if (mounted.isEmpty())
            QSKIP(qPrintable(why));
        struct Unmount {
            QString path;
            ~Unmount() { unmount(path); }
        } unmountLater{mounted};

        GatewayProcess gateway;
        gateway.setDataDir(mounted + QStringLiteral("/data"));
        gateway.setEnv(QStringLiteral("GATEHOUSE_LOG_BUFFER_ROWS"), QStringLiteral("40"));
        QString path;
        QVERIFY2(startGateway(gateway, config(), 2, &path), qPrintable(gateway.errorString()));
        RequestLogDb db(gateway.dataDir());
        QList<Answered> answered;
        {
            std::atomic<bool> stop{false};
            answered = burst(gateway.port(), 1, stop, 4);
        }
        for (const Answered &a : std::as_const(answered))
            QVERIFY2(db.waitFor(a.id), qPrintable(a.id));

        // Fill the file system to the last block.
        const QString fillPath = mounted + QStringLiteral("/fill");
        {
            QFile fill(fillPath);
            QVERIFY(fill.open(QIODevice::WriteOnly));
            const QByteArray block(4096, '\0');
            while (fill.write(block) == block.size() && fill.flush()) { }
        }

        HttpClient client(gateway.port());
        client.setBearer(kSecret);
        int served = 0;
        HttpResponse refused;
        for (int i = 0; i < 400; ++i) {
            const bool stream = i % 2 == 1;
            const HttpResponse r = client.post("/v1/chat/completions",
                compact(chatRequest(stream ? QStringLiteral("mock/stream") : QStringLiteral("mock/chat"), QStringLiteral("full %1").arg(i), stream, true)));
            if (r.status == 503) {
                refused = r;
                break;
            }
            QVERIFY2(r.status == 200 && r.complete, qPrintable(r.describe()));
            answered.append({QString::fromLatin1(r.header("x-gatehouse-request-id")), r.status, true, stream, r.header("x-gatehouse-cost-usd")});
            ++served;
        }
        QVERIFY2(refused.status == 503, "the buffer never filled");
        // 40 rows: a non-streamed request takes one, a stream two (its pending row and its final row).
        QVERIFY2(served >= 40 / 2, qPrintable(QString::number(served)));
        QCOMPARE(openAIErrorProblem(refused), QString());
        QCOMPARE(errorCode(refused), QStringLiteral("request_log_unavailable"));
        QVERIFY2(errorMessage(refused).contains(QLatin1String("request log")), qPrintable(refused.describe()));
        // The Anthropic client gets Anthropic's error shape.
        const HttpResponse anthropic = client.post("/v1/messages",
            R"({"model":"mock/chat","max_tokens":16,"messages":[{"role":"user","content":"hi"}]})",
            {{"x-api-key", kSecret}, {"anthropic-version", "2023-06-01"}});
        QCOMPARE(anthropic.status, 503);
        QCOMPARE(anthropic.json().value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QVERIFY(!anthropic.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().isEmpty());
        QVERIFY2(gateway.waitForOutput(QStringLiteral("cannot write the request log"), 1000), qPrintable(gateway.stderrText()));

        // Room again: the waiting rows are written and requests are served again, by themselves.
        QVERIFY(QFile::remove(fillPath));
        for (const Answered &a : std::as_const(answered))
            QVERIFY2(db.waitFor(a.id, 20'000), qPrintable(a.id));
        QVERIFY(gateway.waitForOutput(QStringLiteral("the request log is written again"), 5000));
        QElapsedTimer admitted;
        admitted.start();
        HttpResponse again;
        do {
            again = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"), QStringLiteral("again"))));
        } while (again.status == 503 && admitted.elapsed() < 10'000);
        QVERIFY2(again.status == 200, qPrintable(again.describe()));
        answered.append({QString::fromLatin1(again.header("x-gatehouse-request-id")), 200, true, false, again.header("x-gatehouse-cost-usd")});
        QVERIFY(db.waitFor(answered.last().id));
        checkLog(gateway, answered);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(gateway.terminate(), 0);
        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        checkLog(gateway, answered);
        QCOMPARE(gateway.terminate(), 0);
    }

    // A read-only data folder: Gatehouse cannot log, so it serves nothing and says which folder is
    // the problem (not an SQLite message); made writable again, everything served before is there.
    void readOnlyDataDirIsRefusedClearly()
    {
        QTemporaryDir mountPoint;
        QVERIFY(mountPoint.isValid());
        QString why;
        const QString mounted = mountTmpfs(mountPoint, QStringLiteral("4m"), &why);
        if (mounted.isEmpty())
            QSKIP(qPrintable(why));
        struct Unmount {
            QString path;
            ~Unmount() { unmount(path); }
        } unmountLater{mounted};
        auto remount = [&](const char *mode) {
            return QProcess::execute(QStringLiteral("mount"), {QStringLiteral("-o"), QStringLiteral("remount,%1").arg(QLatin1String(mode)), mounted}) == 0;
        };

        GatewayProcess gateway;
        gateway.setDataDir(mounted + QStringLiteral("/data"));
        QString path;
        QVERIFY2(startGateway(gateway, config(), 1, &path), qPrintable(gateway.errorString()));
        QList<Answered> answered;
        {
            std::atomic<bool> stop{false};
            answered = burst(gateway.port(), 1, stop, 4);
        }
        QCOMPARE(answered.size(), 4);
        QCOMPARE(gateway.terminate(), 0);

        QVERIFY(remount("ro"));
        QVERIFY(!gateway.start({}, path, 10'000));
        QCOMPARE(gateway.exitCode(), 1);
        QVERIFY2(gateway.stderrText().contains(QLatin1String("is read-only")), qPrintable(gateway.stderrText()));
        QVERIFY2(gateway.stderrText().contains(QDir::toNativeSeparators(gateway.dataDir())), qPrintable(gateway.stderrText()));

        QVERIFY(remount("rw"));
        QVERIFY2(gateway.start({}, path), qPrintable(gateway.errorString()));
        checkLog(gateway, answered);
        QCOMPARE(gateway.terminate(), 0);
    }

    // A pooled keep-alive connection that the provider closes without answering: the request is
    // sent again on a fresh connection, and each send has its attempt record.
    void resendOnStaleConnectionHasAttemptRecords()
    {
        QVERIFY(m_mock->reset());
        GatewayProcess gateway;
        QVERIFY2(startGateway(gateway, config(), 1), qPrintable(gateway.errorString()));
        HttpClient client(gateway.port());
        client.setKeepAlive(true);
        client.setBearer(kSecret);
        const HttpResponse ok = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/chat"))));
        QCOMPARE(ok.status, 200); // leaves a pooled connection to the mock
        const HttpResponse closed = client.post("/v1/chat/completions", compact(chatRequest(QStringLiteral("mock/close"))));
        QVERIFY2(closed.status >= 500, qPrintable(closed.describe()));
        const QString id = QString::fromLatin1(closed.header("x-gatehouse-request-id"));

        RequestLogDb db(gateway.dataDir());
        const auto row = db.waitFor(id);
        QVERIFY2(row, qPrintable(db.errorString()));
        const qint64 sent = m_mock->requestCount(QStringLiteral("close-before"));
        QVERIFY2(sent >= 2, qPrintable(QString::number(sent))); // the resend at least
        int attempts = 0;
        bool resendNoted = false;
        for (const LoggedAttempt &a : row->attemptLog) {
            if (a.outcome == QLatin1String("skipped"))
                continue;
            ++attempts;
            resendNoted = resendNoted || a.error.contains(QLatin1String("sent again on a fresh connection"));
        }
        QCOMPARE(qint64(attempts), sent);
        QCOMPARE(qint64(row->attempts), sent);
        QVERIFY(resendNoted);
        QCOMPARE(gateway.terminate(), 0);
    }
};

QTEST_GUILESS_MAIN(TestGatewayDurability)
#include "tst_gateway_durability.moc"
