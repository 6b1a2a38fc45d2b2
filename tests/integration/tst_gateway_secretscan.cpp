// Secret scanning through the real gateway binary against the mock provider: per key
// "secret_scan": warn forwards the prompt and logs rule and position, redact forwards it with each
// secret replaced by a stable placeholder, block refuses in the client's own error format naming the
// rule, off does not scan. After all of them, the secrets' bytes are nowhere in the data folder
// (database, WAL, journal) nor in the gateway's output, though every key captures its bodies
// (docs/capture.md): the captures, decompressed, hold only placeholders.
#include "capture/bodycapture.h"
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTest>
#include <sqlite3.h>

using namespace gh::test;

namespace {

const QByteArray kWarnSecret = "gk-itest-scan-warn-0001";
const QByteArray kRedactSecret = "gk-itest-scan-redact-0001";
const QByteArray kBlockSecret = "gk-itest-scan-block-0001";
const QByteArray kOffSecret = "gk-itest-scan-off-0001";
const QString kModel = QStringLiteral("mock/chat");

// Made up at run time (a real-looking literal in the source would itself be a leaked secret).
QByteArray randomFrom(const char *alphabet, int n)
{
    const int size = int(qstrlen(alphabet));
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out.append(alphabet[QRandomGenerator::global()->bounded(size)]);
    return out;
}

QByteArray chat(const QString &content)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), kModel},
                                     {QStringLiteral("max_tokens"), 32},
                                     {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                                                                                         {QStringLiteral("content"), QStringLiteral("You review config files.")}},
                                                                             QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                                         {QStringLiteral("content"), content}}}}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestGatewaySecretScan : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;
    QByteArray m_aws;
    QByteArray m_github;
    QByteArray m_dbPassword;
    QString m_prompt;

    HttpResponse post(const QByteArray &secret, const QByteArray &body, const QByteArray &path = "/v1/chat/completions")
    {
        HttpClient client(m_h.gateway->port());
        return client.post(path, body, bearer(secret));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_aws = "AKIA" + randomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
        m_github = "ghp_" + randomFrom("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 36);
        m_dbPassword = randomFrom("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 20);
        // A tool result the way an agent pastes a file: the same AWS key twice.
        m_prompt = QStringLiteral("Here is .env:\nAWS_ACCESS_KEY_ID=%1\nGITHUB=%2\nDATABASE_URL=postgres://app:%3@db:5432/app\n"
                                  "and the CI file uses %1 again.")
                       .arg(QString::fromLatin1(m_aws), QString::fromLatin1(m_github), QString::fromLatin1(m_dbPassword));
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        QJsonObject redact = testKey(QStringLiteral("redact"), QString::fromLatin1(kRedactSecret));
        redact.insert(QStringLiteral("secret_scan"), QStringLiteral("redact"));
        QJsonObject block = testKey(QStringLiteral("block"), QString::fromLatin1(kBlockSecret));
        block.insert(QStringLiteral("secret_scan"), QStringLiteral("block"));
        QJsonObject off = testKey(QStringLiteral("off"), QString::fromLatin1(kOffSecret));
        off.insert(QStringLiteral("secret_scan"), QStringLiteral("off"));
        QJsonObject warn = testKey(QStringLiteral("warn"), QString::fromLatin1(kWarnSecret));
        // Every key captures its bodies: the captures must not hold the secrets either.
        const QJsonObject capture{{QStringLiteral("bodies"), true}, {QStringLiteral("retention_days"), 1}};
        for (QJsonObject *k : {&warn, &redact, &block, &off})
            k->insert(QStringLiteral("capture"), capture);
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_h.mock)}},
            {QStringLiteral("models"), QJsonArray{mockModel(kModel, QStringLiteral("mock"), QStringLiteral("ok"), 3.0, 15.0)}},
            // "warn" has no secret_scan: warn is the default.
            {QStringLiteral("keys"), QJsonArray{warn, redact, block, off}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
        QVERIFY(m_h.mock->reset());
    }

    void cleanupTestCase()
    {
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void warnForwardsAndLogsRuleAndPosition()
    {
        const QByteArray body = chat(m_prompt);
        const HttpResponse r = post(kWarnSecret, body);
        QCOMPARE(r.status, 200);
        QVERIFY(m_h.mock->waitForRequests(1));
        // The prompt is forwarded as it is (the model name is the provider's, the rest untouched).
        const QByteArray sent = m_h.mock->lastRequest().value(QStringLiteral("body")).toString().toUtf8();
        QVERIFY(sent.contains(m_aws) && sent.contains(m_github) && sent.contains(m_dbPassword));
        QVERIFY(!sent.contains("REDACTED"));
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        QVERIFY(m_h.db->waitFor(id));
        const QString findings = m_h.db->secretFindingsOf(id).value_or(QString());
        // Each finding's position points at its secret in the body as sent.
        const qsizetype aws = body.indexOf(m_aws);
        QVERIFY2(findings.contains(QStringLiteral("aws-access-token@%1+%2").arg(aws).arg(m_aws.size())), qPrintable(findings));
        QVERIFY2(findings.contains(QStringLiteral("aws-access-token@%1+%2").arg(body.indexOf(m_aws, aws + 1)).arg(m_aws.size())), qPrintable(findings));
        QVERIFY2(findings.contains(QStringLiteral("github-pat@%1+%2").arg(body.indexOf(m_github)).arg(m_github.size())), qPrintable(findings));
        QVERIFY2(findings.contains(QStringLiteral("gatehouse-connection-string-password@%1+%2").arg(body.indexOf(m_dbPassword)).arg(m_dbPassword.size())),
                 qPrintable(findings));
    }

    void redactReplacesEachSecretWithAStablePlaceholder()
    {
        QVERIFY(m_h.mock->reset());
        const HttpResponse r = post(kRedactSecret, chat(m_prompt));
        QCOMPARE(r.status, 200);
        QVERIFY(m_h.mock->waitForRequests(1));
        const QByteArray sent = m_h.mock->lastRequest().value(QStringLiteral("body")).toString().toUtf8();
        QVERIFY(!sent.contains(m_aws) && !sent.contains(m_github) && !sent.contains(m_dbPassword));
        const QJsonObject doc = QJsonDocument::fromJson(sent).object();
        const QString content = doc.value(QStringLiteral("messages")).toArray().at(1).toObject().value(QStringLiteral("content")).toString();
        QCOMPARE(content, QStringLiteral("Here is .env:\nAWS_ACCESS_KEY_ID=[REDACTED:aws-access-token#1]\nGITHUB=[REDACTED:github-pat#1]\n"
                                         "DATABASE_URL=postgres://app:[REDACTED:gatehouse-connection-string-password#1]@db:5432/app\n"
                                         "and the CI file uses [REDACTED:aws-access-token#1] again."));
        // The rest of the request is as the client sent it.
        QCOMPARE(doc.value(QStringLiteral("messages")).toArray().at(0).toObject().value(QStringLiteral("content")).toString(),
                 QStringLiteral("You review config files."));
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        QVERIFY(m_h.db->waitFor(id));
        QVERIFY(m_h.db->secretFindingsOf(id).value_or(QString()).contains(QLatin1String("github-pat@")));
    }

    void blockRefusesInTheClientsFormatNamingTheRule()
    {
        QVERIFY(m_h.mock->reset());
        HttpResponse r = post(kBlockSecret, chat(m_prompt));
        QCOMPARE(r.status, 400);
        QCOMPARE(openAIErrorProblem(r), QString());
        QCOMPARE(errorCode(r), QStringLiteral("secret_detected"));
        QCOMPARE(r.headers.value("x-gatehouse-secret-rule"), QByteArray("aws-access-token"));
        QCOMPARE(r.headers.value("x-should-retry"), QByteArray("false"));
        const QString message = errorMessage(r);
        QVERIFY2(message.contains(QLatin1String("rule aws-access-token")) && message.contains(QLatin1String("secret_scan: \"block\"")), qPrintable(message));
        QVERIFY(!message.toUtf8().contains(m_aws) && !r.body.contains(m_aws));
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        const auto row = m_h.db->waitFor(id);
        QVERIFY(row);
        QCOMPARE(row->status, 400);
        QVERIFY(m_h.db->secretFindingsOf(id).value_or(QString()).startsWith(QLatin1String("aws-access-token@")));

        // An Anthropic-format client gets Anthropic's error shape.
        const QByteArray messages = QJsonDocument(QJsonObject{{QStringLiteral("model"), kModel},
                                                              {QStringLiteral("max_tokens"), 32},
                                                              {QStringLiteral("messages"), QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                                                                                  {QStringLiteral("content"), m_prompt}}}}})
                                        .toJson(QJsonDocument::Compact);
        Headers h = bearer(kBlockSecret);
        h.append(qMakePair(QByteArray("anthropic-version"), QByteArray("2023-06-01")));
        HttpClient client(m_h.gateway->port());
        r = client.post("/v1/messages", messages, h);
        QCOMPARE(r.status, 400);
        const QJsonObject err = r.json();
        QCOMPARE(err.value(QStringLiteral("type")).toString(), QStringLiteral("error"));
        QCOMPARE(err.value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(), QStringLiteral("invalid_request_error"));
        QVERIFY(err.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(QLatin1String("aws-access-token")));
        QCOMPARE(m_h.mock->receivedRequests().size(), 0); // nothing left the machine
    }

    void offDoesNotScan()
    {
        QVERIFY(m_h.mock->reset());
        const HttpResponse r = post(kOffSecret, chat(m_prompt));
        QCOMPARE(r.status, 200);
        const QString id = QString::fromLatin1(r.headers.value("x-gatehouse-request-id"));
        QVERIFY(m_h.db->waitFor(id));
        QCOMPARE(m_h.db->secretFindingsOf(id), std::optional<QString>(QString()));
    }

    void noSecretReachesTheDataFolderOrTheOutput()
    {
        // Every row above is written (the last request's row was waited for).
        const QString dir = m_h.gateway->dataDir();
        for (const QByteArray &secret : {m_aws, m_github, m_dbPassword}) {
            QVERIFY2(filesContaining(dir, secret).isEmpty(), qPrintable(filesContaining(dir, secret).join(u',')));
            QVERIFY(!m_h.gateway->stderrText().toUtf8().contains(secret));
            QVERIFY(!m_h.gateway->stdoutText().toUtf8().contains(secret));
        }
        // And after a clean stop (the WAL checkpointed, the journal closed).
        QVERIFY2(m_h.stop(), qPrintable(m_h.error));
        for (const QByteArray &secret : {m_aws, m_github, m_dbPassword})
            QVERIFY2(filesContaining(dir, secret).isEmpty(), qPrintable(filesContaining(dir, secret).join(u',')));
        // The search itself works: the request log is in that folder and holds a finding's rule name.
        QVERIFY(!filesContaining(dir, "aws-access-token@").isEmpty());
        // The captures are compressed, so the search above cannot see into them: each one read back.
        const QString captures = gh::BodyCapture::pathIn(dir);
        QStringList ids;
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open_v2(captures.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt *st = nullptr;
        QCOMPARE(sqlite3_prepare_v2(db, "SELECT request_id FROM captures", -1, &st, nullptr), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
            ids.append(QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(st, 0))));
        sqlite3_finalize(st);
        sqlite3_close(db);
        QVERIFY2(ids.size() >= 4, qPrintable(QString::number(ids.size()))); // one per key at least
        int placeholders = 0;
        for (const QString &id : std::as_const(ids)) {
            const auto b = gh::BodyCapture::read(captures, id);
            QVERIFY(b);
            for (const QByteArray &secret : {m_aws, m_github, m_dbPassword}) {
                QVERIFY2(!b->request.contains(secret), qPrintable(id));
                QVERIFY2(!b->response.contains(secret), qPrintable(id));
            }
            placeholders += b->request.contains("[REDACTED:aws-access-token#1]") ? 1 : 0;
        }
        QVERIFY(placeholders >= 4); // the keys' prompts were captured, secrets replaced
    }
};

QTEST_GUILESS_MAIN(TestGatewaySecretScan)
#include "tst_gateway_secretscan.moc"
