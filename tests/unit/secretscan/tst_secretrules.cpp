#include "secretscan/secretredact.h"
#include "secretscan/secretrules.h"
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTest>

using namespace gh;

namespace {

// Secrets are made up at run time from a fixed seed: none is written in the source tree, where a
// real-looking literal would itself be a leaked-secret finding.
QByteArray randomFrom(QRandomGenerator &rng, const char *alphabet, int n)
{
    const int size = int(qstrlen(alphabet));
    QByteArray out;
    for (int i = 0; i < n; ++i)
        out.append(alphabet[rng.bounded(size)]);
    return out;
}
constexpr char kUpper32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
constexpr char kDigits[] = "0123456789";

// Completes a card number's check digit so that it passes Luhn.
QByteArray withLuhnDigit(QByteArray digits)
{
    for (char c = '0'; c <= '9'; ++c)
        if (passesLuhn(digits + c))
            return digits + c;
    return {};
}

QStringList ruleIds(const QList<SecretFinding> &findings)
{
    QStringList out;
    for (const SecretFinding &f : findings)
        out.append(f.ruleId);
    return out;
}

QByteArray chatBody(const QByteArray &content)
{
    return QJsonDocument(QJsonObject{{"model", "m"},
                                     {"messages", QJsonArray{QJsonObject{{"role", "system"}, {"content", "be brief"}},
                                                             QJsonObject{{"role", "user"}, {"content", QString::fromUtf8(content)}}}}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestSecretRules : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void builtinLoadsTheRuleSet()
    {
        const auto rules = SecretRules::builtin();
        QVERIFY(rules);
        QFile f(QStringLiteral(GH_SOURCE_DIR "/resources/secret-rules.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject doc = QJsonDocument::fromJson(f.readAll()).object();
        const int total = int(doc.value("rules").toArray().size());
        // Every rule of the data is either in use or reported as skipped, with a reason.
        QCOMPARE(rules->ruleCount() + int(rules->skipped().size()), total);
        QVERIFY2(total > 200, "gitleaks publishes over 200 rules");
        // RE2 compiles all of gitleaks' rules at this commit but these (Go regexp features RE2 lacks):
        // a change of the data that breaks more shows up here.
        QCOMPARE(rules->skipped().size(), kExpectedSkipped);
        QCOMPARE(rules->source().value("commit").toString(), QStringLiteral("b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b"));
        QCOMPARE(rules->source().value("date").toString(), QStringLiteral("2026-07-22"));
        QVERIFY(QFile::exists(QStringLiteral(GH_SOURCE_DIR "/resources/secret-rules.LICENSE")));
    }

    void rulesThatDoNotCompileAreSkippedAndCounted()
    {
        QString error;
        const auto rules = SecretRules::fromJson(R"json({"rules": [
            {"id": "ok", "regex": "abc[0-9]{4}", "keywords": ["abc"]},
            {"id": "backref", "regex": "(a)\\1", "keywords": []},
            {"id": "lookahead", "regex": "x(?=y)", "keywords": []},
            {"id": "badgroup", "regex": "q([0-9])", "secretGroup": 3}
        ]})json", &error);
        QVERIFY(rules);
        QCOMPARE(rules->ruleCount(), 1);
        QCOMPARE(rules->skipped().size(), 3);
        QVERIFY(rules->skipped().at(0).startsWith("backref: "));
        QCOMPARE(ruleIds(rules->scan("zz abc1234 zz")), QStringList{"ok"});
        QVERIFY(!SecretRules::fromJson("not json", &error));
        QVERIFY(!error.isEmpty());
    }

    void findsCredentialsOfEachKind()
    {
        QRandomGenerator rng(18);
        const auto rules = SecretRules::builtin();
        struct Case {
            const char *rule;
            QByteArray secret;
        };
        const QList<Case> cases = {
            {"aws-access-token", "AKIA" + randomFrom(rng, kUpper32, 16)},
            {"github-pat", "ghp_" + randomFrom(rng, kAlnum, 36)},
            {"gitlab-pat", "glpat-" + randomFrom(rng, kAlnum, 20)},
            {"slack-bot-token", "xoxb-" + randomFrom(rng, kDigits, 12) + "-" + randomFrom(rng, kDigits, 12) + "-" + randomFrom(rng, kAlnum, 24)},
            {"stripe-access-token", "sk_live_" + randomFrom(rng, kAlnum, 32)},
            {"openai-api-key", "sk-proj-" + randomFrom(rng, kAlnum, 74) + "T3BlbkFJ" + randomFrom(rng, kAlnum, 74)},
            {"anthropic-api-key", "sk-ant-api03-" + randomFrom(rng, kAlnum, 93) + "AA"},
            {"gcp-api-key", "AIza" + randomFrom(rng, kAlnum, 35)},
        };
        for (const Case &c : cases) {
            const QByteArray body = chatBody("here is my config: " + c.secret + " thanks");
            const QList<SecretFinding> found = rules->scan(body);
            QVERIFY2(found.size() == 1, qPrintable(QStringLiteral("%1: %2").arg(c.rule, ruleIds(found).join(','))));
            QCOMPARE(found.first().ruleId, QString::fromLatin1(c.rule));
            QCOMPARE(body.mid(found.first().offset, found.first().length), c.secret);
        }
    }

    void findsPrivateKeysJwtsEnvAndConnectionStrings()
    {
        QRandomGenerator rng(7);
        const auto rules = SecretRules::builtin();
        // A PEM key as a tool result carries it: JSON-escaped, its line breaks as \n.
        const QByteArray pem = "-----BEGIN RSA PRIVATE KEY-----\n" + randomFrom(rng, kAlnum, 64) + "\n" + randomFrom(rng, kAlnum, 64)
            + "\n-----END RSA PRIVATE KEY-----";
        QList<SecretFinding> found = rules->scan(chatBody("cat id_rsa:\n" + pem));
        QCOMPARE(ruleIds(found), QStringList{"private-key"});

        const QByteArray jwt = "eyJ" + randomFrom(rng, kAlnum, 30) + ".eyJ" + randomFrom(rng, kAlnum, 40) + "." + randomFrom(rng, kAlnum, 43);
        found = rules->scan(chatBody("token " + jwt + " end"));
        QCOMPARE(ruleIds(found), QStringList{"jwt"});

        // .env-style assignments of a secret-looking name, the way a tool result shows a file.
        const QByteArray password = randomFrom(rng, kAlnum, 24);
        const QByteArray env = "NODE_ENV=production\nPORT=8080\nDATABASE_PASSWORD=" + password + "\nLOG_LEVEL=info\n";
        QByteArray body = chatBody(env);
        found = rules->scan(body);
        QCOMPARE(found.size(), 1);
        QCOMPARE(body.mid(found.first().offset, found.first().length), password);

        const QByteArray dbPassword = randomFrom(rng, kAlnum, 16);
        body = chatBody("connect with postgresql://app_user:" + dbPassword + "@db.internal:5432/orders please");
        found = rules->scan(body);
        QCOMPARE(ruleIds(found), QStringList{"gatehouse-connection-string-password"});
        QCOMPARE(body.mid(found.first().offset, found.first().length), dbPassword);
        // Without a password, or with a placeholder, nothing.
        QVERIFY(rules->scan(chatBody("postgresql://app_user@db.internal:5432/orders")).isEmpty());
        QVERIFY(rules->scan(chatBody("postgresql://app_user:${DB_PASSWORD}@db.internal:5432/orders")).isEmpty());
    }

    void cardNumbersNeedTheLuhnCheck()
    {
        const auto rules = SecretRules::builtin();
        const QByteArray valid = withLuhnDigit("411111111111111");
        QCOMPARE(valid.size(), 16);
        QVERIFY(passesLuhn(valid));
        QList<SecretFinding> found = rules->scan(chatBody("card " + valid + " exp 12/29"));
        QCOMPARE(ruleIds(found), QStringList{"gatehouse-card-number"});
        // Grouped by spaces or dashes.
        const QByteArray grouped = valid.left(4) + ' ' + valid.mid(4, 4) + ' ' + valid.mid(8, 4) + ' ' + valid.mid(12);
        QCOMPARE(ruleIds(rules->scan(chatBody("card " + grouped))), QStringList{"gatehouse-card-number"});
        // The same digits with a wrong check digit, and long digit runs that are not cards: nothing.
        QByteArray wrong = valid;
        wrong[15] = wrong[15] == '9' ? '0' : char(wrong[15] + 1);
        QVERIFY(!passesLuhn(wrong));
        QVERIFY(rules->scan(chatBody("card " + wrong)).isEmpty());
        QVERIFY(rules->scan(chatBody("id 1234567890123456789012345 and time 1700000000000")).isEmpty());
        QVERIFY(!passesLuhn("4111"));
        QVERIFY(!passesLuhn("4111x111111111111"));
    }

    void ordinaryPromptsHaveNoFindings()
    {
        const auto rules = SecretRules::builtin();
        const QByteArray text = chatBody(
            "Please refactor the function below. It reads the API key from the environment (OPENAI_API_KEY) "
            "and passes the token to the client.\n\nconst apiKey = process.env.OPENAI_API_KEY;\n"
            "if (!apiKey) throw new Error('missing key');\nconst password = getPassword();\n");
        QCOMPARE(ruleIds(rules->scan(text)), QStringList{});
    }

    void redactionIsStablePerSecretAndKeepsJson()
    {
        QRandomGenerator rng(3);
        const auto rules = SecretRules::builtin();
        const QByteArray a = "AKIA" + randomFrom(rng, kUpper32, 16);
        const QByteArray b = "AKIA" + randomFrom(rng, kUpper32, 16);
        const QByteArray gh = "ghp_" + randomFrom(rng, kAlnum, 36);
        QByteArray body = chatBody("first " + a + " then " + gh + " then " + b + " and again " + a);
        const QList<SecretFinding> found = rules->scan(body);
        QCOMPARE(ruleIds(found), (QStringList{"aws-access-token", "github-pat", "aws-access-token", "aws-access-token"}));
        QString rule;
        QVERIFY(redactSecrets(&body, found, &rule));
        QVERIFY(!body.contains(a) && !body.contains(b) && !body.contains(gh));
        const QString content = QJsonDocument::fromJson(body).object().value("messages").toArray().at(1).toObject().value("content").toString();
        QCOMPARE(content, QStringLiteral("first [REDACTED:aws-access-token#1] then [REDACTED:github-pat#1] then "
                                         "[REDACTED:aws-access-token#2] and again [REDACTED:aws-access-token#1]"));
        QVERIFY(rules->scan(body).isEmpty());
    }

    void redactionNeverLeavesHalfAnEscape()
    {
        // A span that ends inside "\n" or starts inside "\u00e9" is widened over the escape.
        QByteArray body = R"({"a":"xx\nSECRET\u00e9yy"})";
        const qsizetype s = body.indexOf("SECRET");
        QString rule;
        QVERIFY(redactSecrets(&body, {SecretFinding{"r", s - 1, 7}}, &rule)); // "nSECRET": cuts "\n"
        QVERIFY2(QJsonDocument::fromJson(body).isObject(), body.constData());
        QCOMPARE(QJsonDocument::fromJson(body).object().value("a").toString(), QStringLiteral("xx[REDACTED:r#1]\u00e9yy"));
        body = R"({"a":"xx\u00e9SECRETyy"})";
        QVERIFY(redactSecrets(&body, {SecretFinding{"r", body.indexOf("00e9"), 8}}, &rule));
        QVERIFY2(QJsonDocument::fromJson(body).isObject(), body.constData());
        body = R"({"a":"xxSEC\u00e9yy"})";
        QVERIFY(redactSecrets(&body, {SecretFinding{"r", body.indexOf("SEC"), 6}}, &rule)); // ends in "\u00"
        QVERIFY2(QJsonDocument::fromJson(body).isObject(), body.constData());
        // A span over a string boundary cannot be replaced: nothing changes.
        body = R"({"a":"x","b":"y"})";
        const QByteArray before = body;
        QVERIFY(!redactSecrets(&body, {SecretFinding{"cross", 6, 7}}, &rule));
        QCOMPARE(rule, QStringLiteral("cross"));
        QCOMPARE(body, before);
    }

    void hostileTextsStayBounded()
    {
        const auto rules = SecretRules::builtin();
        // Inputs that make backtracking engines explode; RE2 is linear, and none holds a secret.
        QCOMPARE(rules->scan(QByteArray(200'000, 'a')).size(), 0);
        QCOMPARE(rules->scan("key=" + QByteArray(100'000, '=')).size(), 0);
        QByteArray binary(65'536, '\0');
        for (int i = 0; i < binary.size(); ++i)
            binary[i] = char(i * 31);
        (void)rules->scan(binary); // anything, but no crash on invalid UTF-8
        QCOMPARE(rules->scan({}).size(), 0);
    }

private:
    static constexpr int kExpectedSkipped = 0;
};

QTEST_GUILESS_MAIN(TestSecretRules)
#include "tst_secretrules.moc"
