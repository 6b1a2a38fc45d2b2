// The two ways SecretRules scans (RE2 alone, and Hyperscan in front of RE2) must find the same
// secrets at the same offsets: both run over one corpus (the planted secrets of tst_secretrules,
// the bench's code-heavy bodies, and texts made to stress what the Hyperscan path adds: many match
// ends, long matches, matches at the text's edges). Plus the regex reversal that finds where an
// unbounded rule's match starts, against brute force, and the database cache.
#include "secretscan/hyperscanindex.h"
#include "secretscan/regexreverse.h"
#include "secretscan/scanmemo.h"
#include "secretscan/secretrules.h"
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <re2/re2.h>
#include <algorithm>
#include <thread>

using namespace gh;

namespace {

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
constexpr char kHex[] = "0123456789abcdef";

QByteArray ruleSetJson()
{
    QFile f(QStringLiteral(GH_SOURCE_DIR "/resources/secret-rules.json"));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QByteArray withLuhnDigit(QByteArray digits)
{
    for (char c = '0'; c <= '9'; ++c)
        if (passesLuhn(digits + c))
            return digits + c;
    return {};
}

// Secrets of many rules, made up from a seed (none is written in the tree).
QList<QByteArray> plantedSecrets(QRandomGenerator &rng)
{
    const QByteArray pem = "-----BEGIN RSA PRIVATE KEY-----\n" + randomFrom(rng, kAlnum, 64) + "\n" + randomFrom(rng, kAlnum, 64)
        + "\n-----END RSA PRIVATE KEY-----";
    const QByteArray longPem = "-----BEGIN PRIVATE KEY-----\\n" + randomFrom(rng, kAlnum, 3200) + "\\n-----END PRIVATE KEY-----";
    return {
        "AKIA" + randomFrom(rng, kUpper32, 16),
        "ghp_" + randomFrom(rng, kAlnum, 36),
        "glpat-" + randomFrom(rng, kAlnum, 20),
        "xoxb-" + randomFrom(rng, kDigits, 12) + "-" + randomFrom(rng, kDigits, 12) + "-" + randomFrom(rng, kAlnum, 24),
        "sk_live_" + randomFrom(rng, kAlnum, 32),
        "sk-proj-" + randomFrom(rng, kAlnum, 74) + "T3BlbkFJ" + randomFrom(rng, kAlnum, 74),
        "sk-ant-api03-" + randomFrom(rng, kAlnum, 93) + "AA",
        "AIza" + randomFrom(rng, kAlnum, 35),
        pem,
        longPem,
        "eyJ" + randomFrom(rng, kAlnum, 30) + ".eyJ" + randomFrom(rng, kAlnum, 40) + "." + randomFrom(rng, kAlnum, 43),
        "DATABASE_PASSWORD=" + randomFrom(rng, kAlnum, 24),
        "export STRIPE_SECRET_KEY=" + randomFrom(rng, kAlnum, 200),
        "postgresql://app_user:" + randomFrom(rng, kAlnum, 16) + "@db.internal:5432/orders",
        "card " + withLuhnDigit("411111111111111"),
        "curl -H \"Authorization: Bearer " + randomFrom(rng, kAlnum, 40) + "\" https://api.example.com",
        "curl --user admin:" + randomFrom(rng, kAlnum, 12) + " https://example.com",
        "api_key = \"" + randomFrom(rng, kAlnum, 32) + "\"",
        "token: " + randomFrom(rng, kAlnum, 20) + randomFrom(rng, "+/", 1) + randomFrom(rng, kAlnum, 300) + "==",
        "hvs." + randomFrom(rng, kAlnum, 100),
        "EAAC" + randomFrom(rng, kAlnum, 150),
        randomFrom(rng, kHex, 40),
        "<add key=\"ClearTextPassword\" value=\"" + randomFrom(rng, kAlnum, 12) + "\" />",
        "kind: Secret\ndata:\n  password: " + randomFrom(rng, kAlnum, 24) + "==\n",
    };
}

QStringList sourceTexts()
{
    QStringList files;
    QDirIterator it(QStringLiteral(GH_SOURCE_DIR "/app"), {QStringLiteral("*.cpp"), QStringLiteral("*.h")}, QDir::Files,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        files.append(it.next());
    files.sort();
    QStringList out;
    for (const QString &f : files) {
        QFile file(f);
        if (file.open(QIODevice::ReadOnly))
            out.append(QString::fromUtf8(file.readAll()));
    }
    return out;
}

// The bench's body (bench/secretscan_bench.cpp): tool results holding this repository's sources.
QByteArray conversation(const QStringList &texts, int targetBytes, const QList<QByteArray> &planted)
{
    QJsonArray messages{QJsonObject{{"role", "user"}, {"content", "Review this code base."}}};
    qsizetype size = 0;
    for (int i = 0; size < targetBytes; ++i) {
        QString text = texts.at(i % texts.size()).left(8000);
        if (!planted.isEmpty() && i % 7 == 3)
            text += QStringLiteral("\n# .env\n") + QString::fromLatin1(planted.at((i / 7) % planted.size())) + u'\n';
        messages.append(QJsonObject{{"role", "user"},
                                    {"content", QJsonArray{QJsonObject{{"type", "tool_result"}, {"tool_use_id", QStringLiteral("toolu_%1").arg(i)},
                                                                       {"content", text}}}}});
        size += text.size() + 80;
    }
    QByteArray body = QJsonDocument(QJsonObject{{"model", "m"}, {"messages", messages}}).toJson(QJsonDocument::Compact);
    body.truncate(targetBytes);
    return body;
}

QString describe(const QList<SecretFinding> &findings)
{
    QStringList out;
    for (const SecretFinding &f : findings)
        out.append(QStringLiteral("%1@%2+%3").arg(f.ruleId).arg(f.offset).arg(f.length));
    return out.join(u' ');
}

// The leftmost start of a match of `re` that ends exactly at `end`, by trying every start.
qsizetype bruteForceStart(const re2::RE2 &re, const std::string &text, size_t end)
{
    for (size_t s = 0; s <= end; ++s)
        if (re.Match(text, s, end, re2::RE2::ANCHOR_BOTH, nullptr, 0))
            return qsizetype(s);
    return -1;
}

// An agent's conversation as the client resends it: turn n's body holds turns 0..n, each a message
// of the corpus (some with a secret), in one of several JSON shapes.
QByteArray agentBody(const QList<QByteArray> &turns, int upTo, int shape)
{
    QJsonArray messages;
    for (int i = 0; i <= upTo; ++i) {
        const QString text = QString::fromLatin1(turns.at(i));
        if (shape == 0)
            messages.append(QJsonObject{{"role", i % 2 ? "assistant" : "user"}, {"content", text}});
        else
            messages.append(QJsonObject{{"role", "user"},
                                        {"content", QJsonArray{QJsonObject{{"type", "tool_result"}, {"tool_use_id", QStringLiteral("toolu_%1").arg(i)},
                                                                           {"content", text}}}}});
    }
    return QJsonDocument(QJsonObject{{"model", "m"}, {"max_tokens", 1024}, {"messages", messages}}).toJson(QJsonDocument::Compact);
}

} // namespace

class TestSecretEngines : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void reversedRegexesFindTheLeftmostStart_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QStringList>("pieces"); // the random texts are made of these
        QTest::addColumn<int>("rounds");
        const auto chars = [](const char *alphabet) {
            QStringList out;
            for (const char *c = alphabet; *c; ++c)
                out.append(QString(QLatin1Char(*c)));
            return out;
        };
        QTest::newRow("sequence") << "ab+c" << chars("abc") << 400;
        QTest::newRow("alternation and groups") << "(?:ab|a)(b*)c|ca+" << chars("abc") << 400;
        QTest::newRow("counted and lazy") << "a{2,3}?b{1,}c?" << chars("abc") << 400;
        QTest::newRow("anchors") << "^a+b|b+a$|\\Aab|ba\\z" << chars("ab") << 400;
        QTest::newRow("word boundaries") << "\\ba[a-c]+\\b|\\Bb+" << chars("ab c") << 400;
        QTest::newRow("flags in a branch carry to the next") << "x(?i)a+|b" << chars("aAbBx") << 400;
        QTest::newRow("flags in a group end with it") << "(?:x(?i)a|y)B" << chars("aAbBxy") << 400;
        QTest::newRow("scoped flags") << "(?i:ab)+B" << chars("aAbB") << 400;
        QTest::newRow("classes with brackets") << "[]a]+[^]b]|[\\]x]b" << chars("]abx") << 400;
        QTest::newRow("named groups and escapes") << "(?P<k>a\\x62)+\\.[\\w.-]{0,3}" << chars("ab.-") << 400;
        QTest::newRow("any byte incl. newline") << "a(?s:.){2,}b" << chars("ab\n") << 400;
        QTest::newRow("literal brace") << "a{b}+|\\{\\{a}}" << chars("a{b}") << 400;
        // The gitleaks rules that have unbounded matches, over texts made of the pieces they match.
        const QStringList common{" ", "\n", "\\n", "\"", "'", "=", ":", ";", "`", "x", "Z9", "-", "_", ".", "/", "+", "=="};
        const QList<QPair<const char *, QStringList>> rulePieces{
            {"generic-api-key", {"key", "token", "api_key", "Secret", "aB3dE5gH7jK9", "x7Q2pL9vR4tY8wZ1", "=>", ":="}},
            {"gatehouse-env-assignment", {"export ", "DB_PASSWORD", "API_KEY", "MY_TOKEN", "aB3dE5gH7jK9", "#"}},
            {"curl-auth-header", {"curl", " -H ", "--header=", "Authorization: Bearer ", "Authorization: Basic ", "X-Api-Key: ", "aB3dE5gH7jK9",
                                  "curl -H \"Authorization: Bearer aB3dE5gH7jK9\"", "curl x\n --header='X-Api-Key: aB3dE5gH7jK9'"}},
            {"jwt", {"eyJ", "eyJhbGciOiJIUzI1NiIsInR5", "abcdefghijKLMNOPQRST", "\\",
                     "eyJhbGciOiJIUzI1NiIsInR5.eyJzdWIiOiIxMjM0NTY3ODkw.abcdefghijKL"}},
            {"private-key", {"-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", "KEY-----", "-----END PRIVATE KEY-----",
                             "aB3dE5gH7jK9aB3dE5gH7jK9aB3dE5gH7jK9"}},
            {"kubernetes-secret-yaml", {"kind: secret", "kind: 'Secret'", "data:", "  ", "password: ", "aB3dE5gH7jK9aB3d", "{{ .pw }}"}},
        };
        const QJsonArray rules = QJsonDocument::fromJson(ruleSetJson()).object().value("rules").toArray();
        for (const auto &[id, own] : rulePieces) {
            for (const QJsonValue &v : rules) {
                if (v.toObject().value("id").toString() == QLatin1String(id))
                    QTest::newRow(id) << v.toObject().value("regex").toString() << (own + common) << 200;
            }
        }
    }
    void reversedRegexesFindTheLeftmostStart()
    {
        QFETCH(QString, pattern);
        QFETCH(QStringList, pieces);
        QFETCH(int, rounds);
        const std::string forwardPattern = pattern.toStdString();
        const std::optional<std::string> reversedPattern = reverseRegex(forwardPattern);
        QVERIFY2(reversedPattern, qPrintable(pattern));
        re2::RE2::Options o;
        o.set_encoding(re2::RE2::Options::EncodingLatin1);
        o.set_log_errors(false);
        const re2::RE2 forward(forwardPattern, o);
        QVERIFY(forward.ok());
        o.set_longest_match(true);
        const re2::RE2 backward(*reversedPattern, o);
        QVERIFY2(backward.ok(), reversedPattern->c_str());
        QRandomGenerator rng(42);
        int ends = 0;
        for (int round = 0; round < rounds; ++round) {
            std::string text;
            const int length = 1 + rng.bounded(pieces.size() == 1 ? 48 : 24);
            for (int i = 0; i < length; ++i)
                text += pieces.at(rng.bounded(int(pieces.size()))).toStdString();
            const std::string reversed(text.rbegin(), text.rend());
            for (size_t end = 0; end <= text.size(); ++end) {
                const qsizetype expected = bruteForceStart(forward, text, end);
                re2::StringPiece m;
                const bool found = backward.Match(reversed, text.size() - end, reversed.size(), re2::RE2::ANCHOR_START, &m, 1);
                const qsizetype got = found ? qsizetype(end - m.size()) : -1;
                if (expected != got)
                    QFAIL(qPrintable(QStringLiteral("%1 over \"%2\" ending at %3: start %4, reversed says %5")
                                         .arg(pattern, QString::fromStdString(text))
                                         .arg(end)
                                         .arg(expected)
                                         .arg(got)));
                ends += expected >= 0 ? 1 : 0;
            }
        }
        QVERIFY2(ends > 0, "the corpus never matched: the comparison proved nothing");
    }

    void reversalRefusesWhatItDoesNotKnow()
    {
        QVERIFY(!reverseRegex("a\\Qb*\\E"));
        QVERIFY(!reverseRegex("(a)\\1"));
        QVERIFY(!reverseRegex("x(?=y)"));
        QVERIFY(!reverseRegex("(?<=x)y"));
        QVERIFY(!reverseRegex("(ab"));
        QVERIFY(!reverseRegex("ab)"));
        QVERIFY(!reverseRegex("*a"));
        QVERIFY(!reverseRegex("[ab"));
        QCOMPARE(reverseRegex("ab(?:c|de)f"), std::optional<std::string>("f(?:c|ed)ba"));
    }

    void bothEnginesFindTheSame()
    {
        const QByteArray json = ruleSetJson();
        const auto re2 = SecretRules::fromJson(json, nullptr, SecretRules::Engine::Re2);
        const auto fast = SecretRules::fromJson(json, nullptr);
        QVERIFY(re2 && fast);
        QCOMPARE(re2->engine(), QStringLiteral("re2"));
#ifdef GATEHOUSE_HYPERSCAN
        QVERIFY2(fast->waitForEngine(300'000), "the Hyperscan database was not built");
        QCOMPARE(fast->engine(), QStringLiteral("hyperscan"));
#else
        QSKIP("built without Hyperscan: one engine only");
#endif
        QRandomGenerator rng(18);
        const QList<QByteArray> secrets = plantedSecrets(rng);
        const QStringList texts = sourceTexts();
        QVERIFY(!texts.isEmpty());

        QList<QPair<QString, QByteArray>> corpus;
        for (const QByteArray &s : secrets) {
            corpus.append({QStringLiteral("alone: ") + QString::fromLatin1(s.left(16)), s});
            corpus.append({QStringLiteral("in a sentence: ") + QString::fromLatin1(s.left(16)), "here is my config: " + s + " thanks"});
        }
        corpus.append({"bench 2 KB", conversation(texts, 2 * 1024, {})});
        corpus.append({"bench 100 KB", conversation(texts, 100 * 1024, {})});
        corpus.append({"bench 100 KB planted", conversation(texts, 100 * 1024, secrets)});
        corpus.append({"bench 1 MB planted", conversation(texts, 1024 * 1024, secrets)});
        QByteArray stripe;
        for (int i = 0; i < 60; ++i)
            stripe += "\nSTRIPE_API_KEY=sk_live_" + randomFrom(rng, kAlnum, 32 + rng.bounded(200));
        corpus.append({"a storm of match ends (.env values)", conversation(texts, 64 * 1024, {stripe})});
        QByteArray keys;
        for (int i = 0; i < 3000; ++i)
            keys += "key=" + randomFrom(rng, kAlnum, 12 + rng.bounded(30)) + (i % 2 ? "\n" : " ");
        corpus.append({"thousands of generic keys", keys});
        corpus.append({"a secret at the very start and end", secrets.at(0) + " middle " + secrets.at(1)});
        corpus.append({"a 20 KB base64 run after a key", "secret=" + randomFrom(rng, kAlnum, 20'000) + "=="});
        QByteArray binary(65'536, '\0');
        for (int i = 0; i < binary.size(); ++i)
            binary[i] = char(rng.bounded(256));
        corpus.append({"random bytes", binary});
        corpus.append({"hostile: 200k a", QByteArray(200'000, 'a')});
        corpus.append({"hostile: key then '='", "key=" + QByteArray(100'000, '=')});

        int findings = 0;
        for (const auto &[label, text] : corpus) {
            const QList<SecretFinding> expected = re2->scan(text, SecretRules::Memo::Bypass);
            const QList<SecretFinding> got = fast->scan(text, SecretRules::Memo::Bypass);
            QVERIFY2(got == expected, qPrintable(QStringLiteral("%1:\n re2:       %2\n hyperscan: %3").arg(label, describe(expected), describe(got))));
            findings += int(expected.size());
        }
        // The corpus holds secrets the scanners find: equality over empty results would prove nothing.
        QVERIFY2(findings > 100, qPrintable(QString::number(findings)));
    }

    // The memo keeps the findings of whole texts; a scan through it answers what the scan without it
    // answers, for texts seen before and new ones, in any order, on each engine.
    void theMemoAnswersAsTheScanDoes()
    {
        const QByteArray json = ruleSetJson();
        std::vector<std::shared_ptr<const SecretRules>> sets{SecretRules::fromJson(json, nullptr, SecretRules::Engine::Re2)};
#ifdef GATEHOUSE_HYPERSCAN
        sets.push_back(SecretRules::fromJson(json, nullptr));
        QVERIFY2(sets.back()->waitForEngine(300'000), "the Hyperscan database was not built");
#endif
        QRandomGenerator rng(19);
        const QList<QByteArray> secrets = plantedSecrets(rng);
        const QStringList texts = sourceTexts();
        // Turns: source files (code says key/token/auth everywhere), some holding a planted secret,
        // some a secret alone, some random bytes.
        QList<QByteArray> turns;
        for (int i = 0; i < 40; ++i) {
            QByteArray t = texts.at(rng.bounded(int(texts.size()))).left(200 + rng.bounded(3000)).toUtf8();
            if (i % 3 == 1)
                t.insert(rng.bounded(int(t.size()) + 1), " " + secrets.at(rng.bounded(int(secrets.size()))) + " ");
            if (i % 11 == 5)
                t = secrets.at(rng.bounded(int(secrets.size())));
            if (i % 13 == 7)
                t = randomFrom(rng, kAlnum, 500);
            turns.append(t);
        }
        int findings = 0;
        int checked = 0;
        for (const auto &rules : sets) {
            for (int shape = 0; shape < 2; ++shape) {
                // Several orders of resent conversations: growing one turn at a time, the same turn
                // resent (a retry), an older turn of the conversation again, another conversation in
                // between.
                QList<int> order;
                for (int n = 0; n < turns.size(); ++n) {
                    order.append(n);
                    if (n % 4 == 3)
                        order.append(n);                          // resent unchanged
                    if (n % 6 == 5)
                        order.append(rng.bounded(n + 1));         // an earlier state of it
                }
                for (int k = 0; k < 30; ++k)
                    order.append(rng.bounded(int(turns.size()))); // random resends
                for (int n : order) {
                    const QByteArray body = agentBody(turns, n, shape);
                    const QList<SecretFinding> expected = rules->scan(body, SecretRules::Memo::Bypass);
                    const QList<SecretFinding> got = rules->scan(body, SecretRules::Memo::Use);
                    QVERIFY2(got == expected, qPrintable(QStringLiteral("%1, shape %2, turn %3:\n scan: %4\n memo: %5")
                                                             .arg(rules->engine()).arg(shape).arg(n).arg(describe(expected), describe(got))));
                    findings += int(expected.size());
                    ++checked;
                }
            }
            // Random bodies, each scanned twice through the memo (a miss, then a hit), against the scan.
            for (int i = 0; i < 60; ++i) {
                QByteArray body = randomFrom(rng, kAlnum, 100 + rng.bounded(4000));
                if (i % 2)
                    body.insert(rng.bounded(int(body.size()) + 1), " " + secrets.at(rng.bounded(int(secrets.size()))) + "\n");
                const QList<SecretFinding> expected = rules->scan(body, SecretRules::Memo::Bypass);
                QCOMPARE(rules->scan(body), expected);
                QCOMPARE(rules->scan(body), expected);
                findings += int(expected.size());
            }
        }
        QVERIFY2(checked > 200, qPrintable(QString::number(checked)));
        QVERIFY2(findings > 200, qPrintable(QString::number(findings))); // not equality over empty results
    }

    // Why the memo keeps whole texts and not messages (BENCHMARKS.md, "The scan of resent
    // conversations"): the scan of a body finds secrets that no message holds alone, so the findings
    // of a body are not the findings of its messages put together.
    void aSecretCanSpanTwoMessages()
    {
        const auto rules = SecretRules::fromJson(ruleSetJson(), nullptr, SecretRules::Engine::Re2);
        QRandomGenerator rng(20);
        const QByteArray first = "here is the key: -----BEGIN RSA PRIVATE KEY-----\n" + randomFrom(rng, kAlnum, 64);
        const QByteArray second = randomFrom(rng, kAlnum, 64) + "\n-----END RSA PRIVATE KEY----- thanks";
        const QByteArray body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + first
            + "\"},{\"role\":\"user\",\"content\":\"" + second + "\"}]}";
        const qsizetype boundary = body.indexOf(second);
        const QList<SecretFinding> whole = rules->scan(body, SecretRules::Memo::Bypass);
        QCOMPARE(whole.size(), 1);
        QCOMPARE(whole.first().ruleId, QStringLiteral("private-key"));
        QVERIFY(whole.first().offset < boundary && whole.first().offset + whole.first().length > boundary);
        QCOMPARE(rules->scan(first, SecretRules::Memo::Bypass).size(), 0);
        QCOMPARE(rules->scan(second, SecretRules::Memo::Bypass).size(), 0);
    }

    // Two rule sets that scan the same text on the same thread each get their own findings: the
    // memo's key holds which rule set (and engine) found them.
    void theMemoDoesNotMixRuleSets()
    {
        const QByteArray text = "zz ab1234 and cd5678 " + QByteArray(400, 'x');
        const auto ab = SecretRules::fromJson(R"({"rules": [{"id": "ab", "regex": "ab[0-9]{4}"}]})", nullptr, SecretRules::Engine::Re2);
        const auto cd = SecretRules::fromJson(R"({"rules": [{"id": "cd", "regex": "cd[0-9]{4}"}]})", nullptr, SecretRules::Engine::Re2);
        QVERIFY(ab && cd);
        for (int round = 0; round < 2; ++round) {
            const QList<SecretFinding> a = ab->scan(text);
            const QList<SecretFinding> c = cd->scan(text);
            QCOMPARE(a.size(), 1);
            QCOMPARE(c.size(), 1);
            QCOMPARE(a.first(), (SecretFinding{QStringLiteral("ab"), 3, 6}));
            QCOMPARE(c.first(), (SecretFinding{QStringLiteral("cd"), 14, 6}));
        }
        // A rule set made after another is freed (possibly at its address) does not see its findings.
        const QByteArray other = "zz ab9999 " + QByteArray(400, 'y');
        {
            const auto first = SecretRules::fromJson(R"({"rules": [{"id": "ab", "regex": "ab[0-9]{4}"}]})", nullptr, SecretRules::Engine::Re2);
            QCOMPARE(first->scan(other).size(), 1);
        }
        const auto second = SecretRules::fromJson(R"({"rules": [{"id": "zz", "regex": "zz[0-9]{4}"}]})", nullptr, SecretRules::Engine::Re2);
        QCOMPARE(second->scan(other).size(), 0);
    }

    // Workers scan through their own memos at the same time: each thread's answers are the scan's.
    void theMemoIsPerThread()
    {
        const auto rules = SecretRules::fromJson(ruleSetJson(), nullptr, SecretRules::Engine::Re2);
        QRandomGenerator rng(7);
        const QList<QByteArray> secrets = plantedSecrets(rng);
        QList<QByteArray> bodies;
        QList<QList<SecretFinding>> expected;
        for (int i = 0; i < 24; ++i) {
            bodies.append("request " + QByteArray::number(i) + ": " + randomFrom(rng, kAlnum, 300) + " " + secrets.at(i % secrets.size()) + "\n");
            expected.append(rules->scan(bodies.last(), SecretRules::Memo::Bypass));
        }
        std::atomic<int> wrong{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int round = 0; round < 20; ++round)
                    for (int i = 0; i < bodies.size(); ++i) {
                        const int b = (i * (t + 1) + round) % int(bodies.size());
                        if (rules->scan(bodies.at(b)) != expected.at(b))
                            ++wrong;
                    }
            });
        }
        for (auto &th : threads)
            th.join();
        QCOMPARE(wrong.load(), 0);
    }

    // The memo itself: least recently used first out, never over its byte budget, no text kept.
    void theMemoStaysWithinItsBudget()
    {
        const QList<SecretFinding> one{{QStringLiteral("r"), 5, 10}};
        const size_t entry = ScanMemo::entryBytes(one);
        ScanMemo memo(entry * 3);
        const auto key = [](const QByteArray &text) { return ScanMemo::keyOf(text, 1); };
        memo.insert(key("a"), one);
        memo.insert(key("b"), one);
        memo.insert(key("c"), one);
        QCOMPARE(memo.size(), size_t(3));
        QVERIFY(memo.find(key("a"))); // now the most recently used
        memo.insert(key("d"), one);   // "b" goes
        QCOMPARE(memo.size(), size_t(3));
        QVERIFY(!memo.find(key("b")));
        QVERIFY(memo.find(key("a")) && memo.find(key("c")) && memo.find(key("d")));
        QCOMPARE(*memo.find(key("a")), one);
        QVERIFY(memo.bytes() <= memo.budget());
        // Inserting a key again replaces its entry, not adds one.
        memo.insert(key("a"), {});
        QCOMPARE(memo.size(), size_t(3));
        QCOMPARE(memo.find(key("a"))->size(), 0);
        // A text's key depends on its bytes, length and scanner, nothing else.
        QVERIFY(!(ScanMemo::keyOf("abc", 1) == ScanMemo::keyOf("abd", 1)));
        QVERIFY(!(ScanMemo::keyOf("abc", 1) == ScanMemo::keyOf("abc", 2)));
        QVERIFY(ScanMemo::keyOf(QByteArray("abc"), 1) == ScanMemo::keyOf(QByteArrayView("abc"), 1));
        // An entry larger than the whole budget is not kept (and evicts nothing).
        QList<SecretFinding> many(1000, one.first());
        memo.insert(key("huge"), many);
        QVERIFY(!memo.find(key("huge")));
        QCOMPARE(memo.size(), size_t(3));
        // Many distinct texts: the memo stays within its budget.
        ScanMemo big(64 * 1024);
        for (int i = 0; i < 20'000; ++i)
            big.insert(key(QByteArray::number(i)), i % 5 ? QList<SecretFinding>{} : one);
        QVERIFY(big.bytes() <= big.budget());
        QVERIFY(big.size() > 100);
        QVERIFY(big.find(key("19999")));
        QVERIFY(!big.find(key("0")));
    }

    void theDatabaseIsCachedAndABadCacheIsRecompiled()
    {
#ifndef GATEHOUSE_HYPERSCAN
        QSKIP("built without Hyperscan");
#else
        QTemporaryDir dir;
        const std::vector<QByteArray> regexes{"ab[0-9]{4}", "x[a-z]+y", "(?:foo|bar)baz"};
        const std::vector<QByteArray> keywords{"ab", "foo"};
        QStringList notes;
        auto first = HyperscanIndex::build(regexes, keywords, dir.path(), &notes);
        QVERIFY(first);
        QVERIFY(!first->fromCache());
        const QStringList files = QDir(dir.path()).entryList({"secretscan-*.hsdb"}, QDir::Files);
        QCOMPARE(files.size(), 1);
        auto second = HyperscanIndex::build(regexes, keywords, dir.path(), &notes);
        QVERIFY(second && second->fromCache());
        HyperscanIndex::Matches m;
        QVERIFY(second->scan("zz ab1234 xqqy foobaz", &m));
        QCOMPARE(m.rules.at(0).size(), size_t(1));
        QCOMPARE(m.unboundedEnds.at(1), std::vector<size_t>{14});
        QCOMPARE(m.keywordStarts.at(1), std::vector<size_t>{15});
        // Another pattern list: another file. A damaged file: compiled again, and it still works.
        QFile f(dir.filePath(files.first()));
        QVERIFY(f.open(QIODevice::ReadWrite));
        QByteArray bytes = f.readAll();
        for (qsizetype i = 40; i < bytes.size(); i += 7)
            bytes[i] = char(bytes[i] ^ 0x5a);
        QVERIFY(f.seek(0));
        QCOMPARE(f.write(bytes), bytes.size());
        f.close();
        auto third = HyperscanIndex::build(regexes, keywords, dir.path(), &notes);
        QVERIFY(third && !third->fromCache());
        QVERIFY(third->scan("zz ab1234 xqqy foobaz", &m));
        QCOMPARE(m.unboundedEnds.at(1), std::vector<size_t>{14});
        // A pattern Hyperscan refuses (it matches the empty string) is left out and named.
        notes.clear();
        auto refusing = HyperscanIndex::build({"ab[0-9]{4}", "x*"}, {}, QString(), &notes);
        QVERIFY(refusing);
        QVERIFY(refusing->coversRule(0));
        QVERIFY(!refusing->coversRule(1));
        QVERIFY2(notes.join(' ').contains("rule 1"), qPrintable(notes.join(' ')));
#endif
    }
};

QTEST_GUILESS_MAIN(TestSecretEngines)
#include "tst_secretengines.moc"
