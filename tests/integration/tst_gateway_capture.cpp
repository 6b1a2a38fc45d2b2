// Opt-in body capture (docs/capture.md) through the real gateway binary against the mock provider:
// a key without "capture" keeps no body; a key with it keeps the request as forwarded and the
// response as the client received it (a whole answer, a stream's events, a refusal), compressed in
// captures.db; a secret in a prompt is kept only as its placeholder, whatever the key's secret_scan;
// the retention sweep deletes what is older than the key's retention at the next start.
#include "capture/bodycapture.h"
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testhelpers.h"
#include "testsupport.h"

#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QProcess>
#include <QTest>
#include <sqlite3.h>

using namespace gh::test;

namespace {

const QByteArray kCapture = "gk-itest-capture-0001";
const QByteArray kPlain = "gk-itest-capture-plain1";
const QByteArray kDoomed = "gk-itest-capture-doomed";
const QString kModel = QStringLiteral("mock/chat");

QByteArray chat(const QString &content, bool stream = false)
{
    QJsonObject o{{QStringLiteral("model"), kModel},
                  {QStringLiteral("max_tokens"), 32},
                  {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                      {QStringLiteral("content"), content}}}}};
    if (stream)
        o.insert(QStringLiteral("stream"), true);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A request the response cache may answer (temperature 0).
QByteArray cacheable(const QString &content)
{
    QJsonObject o = QJsonDocument::fromJson(chat(content)).object();
    o.insert(QStringLiteral("temperature"), 0);
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray randomFrom(const char *alphabet, int n)
{
    const int size = int(qstrlen(alphabet));
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out.append(alphabet[QRandomGenerator::global()->bounded(size)]);
    return out;
}

// Runs one statement on a SQLite file; an empty string when it worked.
QString execSql(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const QString e = QString::fromUtf8(sqlite3_errmsg(db));
        sqlite3_close(db);
        return e;
    }
    sqlite3_busy_timeout(db, 5000);
    char *msg = nullptr;
    QString error;
    if (sqlite3_exec(db, sql.constData(), nullptr, nullptr, &msg) != SQLITE_OK)
        error = QString::fromUtf8(msg ? msg : "error");
    sqlite3_free(msg);
    sqlite3_close(db);
    return error;
}

// The first column of the first row of `sql` as an integer; -1 on error.
qint64 scalar(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    qint64 out = -1;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *st = nullptr;
        if (sqlite3_prepare_v2(db, sql.constData(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            out = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

QString text(const QString &path, const QByteArray &sql)
{
    sqlite3 *db = nullptr;
    QString out;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt *st = nullptr;
        if (sqlite3_prepare_v2(db, sql.constData(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            out = QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

struct Run {
    int exitCode = -1;
    QByteArray out, err;
};

Run runGatehouse(const QStringList &args)
{
    Run r;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(binaryFromEnv("GATEHOUSE_BIN"), args);
    if (!p.waitForStarted() || !p.waitForFinished(60'000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestGatewayCapture : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;
    QString m_configPath;
    QJsonObject m_config;

    HttpResponse post(const QByteArray &secret, const QByteArray &body)
    {
        HttpClient client(m_h.gateway->port());
        return client.post("/v1/chat/completions", body, bearer(secret));
    }
    [[nodiscard]] QString capturePath() const { return gh::BodyCapture::pathIn(m_h.gateway->dataDir()); }
    // The capture of a request, once the gateway wrote it (its writer batches for 200 ms).
    std::optional<gh::CapturedBodies> waitForCapture(const QString &id)
    {
        QElapsedTimer t;
        t.start();
        for (;;) {
            if (auto b = gh::BodyCapture::read(capturePath(), id))
                return b;
            if (t.elapsed() > 5000)
                return std::nullopt;
            QTest::qWait(50);
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        QJsonObject capture = testKey(QStringLiteral("debug"), QString::fromLatin1(kCapture));
        capture.insert(QStringLiteral("capture"), QJsonObject{{QStringLiteral("bodies"), true}, {QStringLiteral("retention_days"), 3}});
        QJsonObject doomed = testKey(QStringLiteral("doomed"), QString::fromLatin1(kDoomed));
        doomed.insert(QStringLiteral("capture"), QJsonObject{{QStringLiteral("bodies"), true}});
        doomed.insert(QStringLiteral("response_cache"), QJsonObject{{QStringLiteral("ttl_s"), 3600}});
        QJsonObject plain = testKey(QStringLiteral("plain"), QString::fromLatin1(kPlain));
        plain.insert(QStringLiteral("response_cache"), QJsonObject{{QStringLiteral("ttl_s"), 3600}});
        plain.insert(QStringLiteral("limits"), QJsonObject{{QStringLiteral("day_usd"), 5}});
        m_config = QJsonObject{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"), QJsonArray{mockModel(kModel, QStringLiteral("mock"), QStringLiteral("ok"), 3.0, 15.0)}},
            {QStringLiteral("keys"), QJsonArray{capture, plain, doomed}},
            // An OTLP header is a credential: the audit trail must not record its value.
            {QStringLiteral("settings"), QJsonObject{{QStringLiteral("otlp"), QJsonObject{{QStringLiteral("endpoint"), QStringLiteral("http://127.0.0.1:9/v1/traces")},
                                                                                         {QStringLiteral("headers"), QJsonObject{{QStringLiteral("authorization"), QStringLiteral("Bearer otlp-itest-secret-77")}}}}}}},
        };
        const QJsonObject config = m_config;
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        m_configPath = QDir(m_h.gateway->workDir()).filePath(QStringLiteral("config.json"));
    }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void aKeyWithoutCaptureKeepsNoBody()
    {
        const QByteArray body = chat(QStringLiteral("plain question 7731"));
        const HttpResponse r = post(kPlain, body);
        QCOMPARE(r.status, 200);
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        QVERIFY(m_h.db->waitFor(id));
        // A capture of the other key, sent after, is written: this one would be by then.
        const HttpResponse later = post(kCapture, chat(QStringLiteral("after the plain one")));
        QVERIFY(waitForCapture(QString::fromLatin1(later.headers.value("x-gatehouse-request-id"))));
        QVERIFY(!gh::BodyCapture::read(capturePath(), id));
        QVERIFY(!fileContains(capturePath(), "plain question 7731"));
    }

    void aCapturingKeyKeepsTheRequestAndTheAnswer()
    {
        const QByteArray body = chat(QStringLiteral("what is in a capture?"));
        const HttpResponse r = post(kCapture, body);
        QCOMPARE(r.status, 200);
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        const auto b = waitForCapture(id);
        QVERIFY(b);
        QCOMPARE(b->request, body);
        QCOMPARE(b->response, r.body);
        QCOMPARE(b->responseType, QStringLiteral("application/json"));
        QCOMPARE(b->keyName, QStringLiteral("debug"));
        // Kept for the key's retention (3 days) from the request's arrival.
        QCOMPARE(b->expiresAtMs - b->startedAtMs, 3 * 86'400'000LL);
        QVERIFY(b->note.isEmpty());
    }

    void aStreamIsKeptAsTheClientReceivedIt()
    {
        const QByteArray body = chat(QStringLiteral("stream me"), true);
        const HttpResponse r = post(kCapture, body);
        QCOMPARE(r.status, 200);
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        const auto b = waitForCapture(id);
        QVERIFY(b);
        QCOMPARE(b->request, body);
        QCOMPARE(b->response, r.body); // the events, de-chunked
        QVERIFY(b->response.contains("data: [DONE]"));
        QVERIFY2(b->responseType.startsWith(QLatin1String("text/event-stream")), qPrintable(b->responseType));
    }

    void aRefusalIsKeptToo()
    {
        // Not JSON: Gatehouse refuses it itself (400), after the key was known.
        const QByteArray body = chat(QStringLiteral("cut short")).left(30);
        const HttpResponse r = post(kCapture, body);
        QCOMPARE(r.status, 400);
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        const auto b = waitForCapture(id);
        QVERIFY(b);
        QCOMPARE(b->request, body);
        QCOMPARE(b->response, r.body);
    }

    void aSecretIsKeptOnlyAsItsPlaceholder()
    {
        // The key's secret_scan is the default, warn: the prompt goes out as it is, but the capture
        // never holds the secret.
        const QByteArray github = "ghp_" + randomFrom("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 36);
        const HttpResponse r = post(kCapture, chat(QStringLiteral("token: %1").arg(QString::fromLatin1(github))));
        QCOMPARE(r.status, 200);
        QVERIFY(m_h.mock->lastRequest().value(QStringLiteral("body")).toString().toUtf8().contains(github));
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        const auto b = waitForCapture(id);
        QVERIFY(b);
        QVERIFY(!b->request.contains(github));
        QVERIFY2(b->request.contains("[REDACTED:github-pat#1]"), b->request.constData());
        QVERIFY(filesContaining(m_h.gateway->dataDir(), github).isEmpty());
    }

    void theSweepDeletesWhatIsOlderThanTheRetention()
    {
        const HttpResponse fresh = post(kCapture, chat(QStringLiteral("fresh")));
        const HttpResponse old = post(kCapture, chat(QStringLiteral("old")));
        const QString freshId = QString::fromLatin1(fresh.headers.value("x-gatehouse-request-id"));
        const QString oldId = QString::fromLatin1(old.headers.value("x-gatehouse-request-id"));
        QVERIFY(waitForCapture(freshId) && waitForCapture(oldId));
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        // One captured 4 days ago (its own expiry not reached yet, as if the retention had been
        // longer then): the key's 3 days apply now. Another whose own expiry has passed.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const QString e = execSql(capturePath(), QStringLiteral("UPDATE captures SET started_at_ms = %1, expires_at_ms = %2 WHERE request_id = '%3'")
                                                     .arg(now - 4 * 86'400'000LL).arg(now + 86'400'000LL).arg(oldId).toUtf8());
        QVERIFY2(e.isEmpty(), qPrintable(e));
        QVERIFY(m_h.gateway->start({}, m_configPath));
        QTRY_VERIFY_WITH_TIMEOUT(!gh::BodyCapture::read(capturePath(), oldId), 5000);
        QVERIFY(gh::BodyCapture::read(capturePath(), freshId));
    }

    void theAuditTrailRecordsTheConfigsChangesWithoutSecrets()
    {
        const QString db = m_h.db->path();
        // The first start created the keys, provider and model from the config file.
        QCOMPARE(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'key.create' AND origin = 'config' AND subject = 'plain'"), 1);
        QCOMPARE(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'provider.create' AND origin = 'config' AND subject = 'mock'"), 1);
        QCOMPARE(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'model.create' AND subject = 'mock/chat'"), 1);
        // A restart on the same file changed nothing: nothing more recorded.
        QCOMPARE(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'key.create' AND subject = 'plain'"), 1);
        // A limit changed in the file: old -> new.
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        QJsonArray keys = m_config.value(QStringLiteral("keys")).toArray();
        QJsonObject plain = keys.at(1).toObject();
        plain.insert(QStringLiteral("limits"), QJsonObject{{QStringLiteral("day_usd"), 9}});
        keys[1] = plain;
        m_config.insert(QStringLiteral("keys"), keys);
        m_configPath = m_h.gateway->writeConfig(m_config);
        QVERIFY(m_h.gateway->start({}, m_configPath));
        QCOMPARE(text(db, "SELECT old_value || ' -> ' || new_value FROM audit_log WHERE action = 'key.limits' AND subject = 'plain'"),
                 QStringLiteral(R"({"day_usd":5} -> {"day_usd":9})"));
        QCOMPARE(text(db, "SELECT origin FROM audit_log WHERE action = 'key.limits'"), QStringLiteral("config"));
        // The telemetry settings were recorded, their header's value not.
        QVERIFY(scalar(db, "SELECT count(*) FROM audit_log WHERE action = 'setting.gateway'") >= 1);
        QVERIFY(text(db, "SELECT new_value FROM audit_log WHERE action = 'setting.gateway' ORDER BY id LIMIT 1").contains(QLatin1String("(redacted)")));
        for (const QByteArray &secret : {QByteArray("otlp-itest-secret-77"), kPlain, kCapture, kDoomed})
            QCOMPARE(scalar(db, "SELECT count(*) FROM audit_log WHERE old_value LIKE '%" + secret + "%' OR new_value LIKE '%" + secret + "%'"), 0);
    }

    void forgetKeyDeletesEverythingAboutTheKey()
    {
        const QString dir = m_h.gateway->dataDir();
        const QString db = m_h.db->path();
        // The doomed key: a cached answer, a capture, a session; the plain key: a cached answer too.
        HttpClient client(m_h.gateway->port());
        const HttpResponse d1 = client.post("/v1/chat/completions", cacheable(QStringLiteral("doomed question 1")),
                                            Headers{{"authorization", "Bearer " + kDoomed}, {"x-claude-code-session-id", "sess-doomed-1"}});
        QCOMPARE(d1.status, 200);
        const QString doomedId = QString::fromLatin1(d1.headers.value("x-gatehouse-request-id"));
        const HttpResponse p1 = post(kPlain, cacheable(QStringLiteral("kept question 1")));
        QCOMPARE(p1.status, 200);
        const QString keptId = QString::fromLatin1(p1.headers.value("x-gatehouse-request-id"));
        QVERIFY(m_h.db->waitFor(doomedId) && m_h.db->waitFor(keptId));
        QVERIFY(waitForCapture(doomedId));
        const qint64 doomedKey = scalar(db, "SELECT id FROM keys WHERE name = 'doomed'");
        QVERIFY(doomedKey > 0);
        QVERIFY(scalar(db, "SELECT sum(requests) FROM rollups WHERE key_id = " + QByteArray::number(doomedKey)) > 0);
        const qint64 keptRollup = scalar(db, "SELECT sum(requests) FROM rollups r JOIN keys k ON k.id = r.key_id WHERE k.name = 'plain'");
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        const QString cacheDb = QDir(dir).filePath(QStringLiteral("response-cache.db"));
        const qint64 answers = scalar(cacheDb, "SELECT count(*) FROM answers");
        QVERIFY(answers >= 2);

        // Without --yes nothing happens.
        Run r = runGatehouse({QStringLiteral("forget-key"), QStringLiteral("doomed"), QStringLiteral("--data-dir"), dir});
        QCOMPARE(r.exitCode, 2);
        QVERIFY(m_h.db->find(doomedId));
        // An unknown key: a clear error.
        r = runGatehouse({QStringLiteral("forget-key"), QStringLiteral("nobody"), QStringLiteral("--data-dir"), dir, QStringLiteral("--yes")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("no key is named 'nobody'"), r.err.constData());

        r = runGatehouse({QStringLiteral("forget-key"), QStringLiteral("doomed"), QStringLiteral("--data-dir"), dir, QStringLiteral("--yes")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("Deleted key 'doomed'") && r.out.contains("1 session(s)") && r.out.contains("1 cached answer(s)"), r.out.constData());
        const QByteArray k = QByteArray::number(doomedKey);
        QVERIFY(!m_h.db->find(doomedId));
        QCOMPARE(scalar(db, "SELECT count(*) FROM requests WHERE key_id = " + k), 0);
        QCOMPARE(scalar(db, "SELECT count(*) FROM rollups WHERE key_id = " + k), 0);
        QCOMPARE(scalar(db, "SELECT count(*) FROM rollup_latency WHERE key_id = " + k), 0);
        QCOMPARE(scalar(db, "SELECT count(*) FROM prompt_prefixes WHERE key_id = " + k), 0);
        QCOMPARE(scalar(db, "SELECT count(*) FROM requests WHERE session_id = 'sess-doomed-1'"), 0);
        QCOMPARE(scalar(db, "SELECT count(*) FROM keys WHERE name = 'doomed'"), 0);
        QVERIFY(!text(db, "SELECT value FROM settings WHERE key = 'response_cache'").contains(QLatin1String("doomed")));
        QVERIFY(!gh::BodyCapture::read(capturePath(), doomedId));
        QCOMPARE(scalar(cacheDb, "SELECT count(*) FROM answers"), answers - 1);
        // What is kept: the other key's rows, rollups and answers; the record of the deletion.
        QVERIFY(m_h.db->find(keptId));
        QCOMPARE(scalar(db, "SELECT sum(requests) FROM rollups r JOIN keys k ON k.id = r.key_id WHERE k.name = 'plain' AND grain = 0"),
                 scalar(db, "SELECT count(*) FROM requests r JOIN keys k ON k.id = r.key_id WHERE k.name = 'plain'"));
        QVERIFY(keptRollup > 0);
        QCOMPARE(text(db, "SELECT origin FROM audit_log WHERE action = 'key.delete' AND subject = 'doomed'"), QStringLiteral("cli"));
        QVERIFY(text(db, "SELECT new_value FROM audit_log WHERE action = 'key.delete'").contains(QLatin1String("\"deleted_requests\":1")));
        QCOMPARE(m_h.db->integrityCheck(), QStringLiteral("ok"));
        QVERIFY(m_h.gateway->start({}, m_configPath)); // for cleanupTestCase
    }
};

QTEST_GUILESS_MAIN(TestGatewayCapture)
#include "tst_gateway_capture.moc"
