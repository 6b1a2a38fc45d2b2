#include "secrets/secretstore.h"
#include <QRandomGenerator>
#include <QTest>
#include <atomic>
#include <thread>
#include <vector>

using gh::SecretStore;

// QSKIP returns from the calling function, so this has to be a macro.
#define REQUIRE_KEYCHAIN()                                                                                                \
    if (!m_keychain)                                                                                                      \
    QSKIP("no Secret Service on the D-Bus session bus (run under tests/support/with-keyring.sh)")

// Runs against the real keychain (a Secret Service on the D-Bus session bus). Without one, the
// keychain cases skip; with GATEHOUSE_REQUIRE_KEYCHAIN=1 (set by tests/support/with-keyring.sh, which
// starts a private gnome-keyring) they fail instead, so that run proves the keychain really works.
// Every account is unique to this run and removed at the end.
class TestSecretStore : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        m_prefix = QStringLiteral("gatehouse-test-%1").arg(QRandomGenerator::global()->generate64(), 0, 36);
        m_keychain = SecretStore::keychainAvailable();
        if (m_keychain) {
            // A Secret Service that answers reads may still be unable to store anything (one started
            // on demand without an unlocked default collection): only a real write counts.
            const QString probe = account(QStringLiteral("probe"));
            const SecretStore::Result written = SecretStore::write(probe, QStringLiteral("probe-secret"));
            if (written.ok) {
                QVERIFY(SecretStore::remove(probe).ok);
            } else {
                qWarning("the keychain answers but cannot store secrets: %s", qPrintable(written.error));
                m_keychain = false;
            }
        }
        if (!m_keychain && qEnvironmentVariableIntValue("GATEHOUSE_REQUIRE_KEYCHAIN") == 1)
            QFAIL("GATEHOUSE_REQUIRE_KEYCHAIN=1 but no working keychain on the session bus");
    }

    void cleanupTestCase()
    {
        if (!m_keychain)
            return;
        for (const QString &id : std::as_const(m_used))
            QVERIFY(SecretStore::remove(id).ok);
    }

    void writeReadOverwriteRemove()
    {
        REQUIRE_KEYCHAIN();
        const QString id = account(QStringLiteral("openai"));
        const SecretStore::Result written = SecretStore::write(id, QStringLiteral("sk-first-secret"));
        QVERIFY2(written.ok, qPrintable(written.error));
        QString error;
        QCOMPARE(SecretStore::read(id, &error), std::optional<QString>(QStringLiteral("sk-first-secret")));
        QVERIFY(error.isEmpty());

        QVERIFY(SecretStore::write(id, QStringLiteral("sk-second-secret")).ok);
        QCOMPARE(SecretStore::read(id, &error), std::optional<QString>(QStringLiteral("sk-second-secret")));

        const SecretStore::Result removed = SecretStore::remove(id);
        QVERIFY2(removed.ok, qPrintable(removed.error));
        QCOMPARE(SecretStore::read(id, &error), std::nullopt);
        QVERIFY2(error.isEmpty(), qPrintable(error)); // none stored is not an error
        // Removing again leaves the keychain as asked.
        QVERIFY(SecretStore::remove(id).ok);
    }

    void accountsAreSeparate()
    {
        REQUIRE_KEYCHAIN();
        const QString a = account(QStringLiteral("a"));
        const QString b = account(QStringLiteral("b"));
        QVERIFY(SecretStore::write(a, QStringLiteral("secret-of-a")).ok);
        QVERIFY(SecretStore::write(b, QStringLiteral("secret-of-b")).ok);
        QCOMPARE(SecretStore::read(a), std::optional<QString>(QStringLiteral("secret-of-a")));
        QCOMPARE(SecretStore::read(b), std::optional<QString>(QStringLiteral("secret-of-b")));
        QVERIFY(SecretStore::remove(a).ok);
        QCOMPARE(SecretStore::read(a), std::nullopt);
        QCOMPARE(SecretStore::read(b), std::optional<QString>(QStringLiteral("secret-of-b")));
    }

    void unicodeAndLongSecrets()
    {
        REQUIRE_KEYCHAIN();
        const QString id = account(QStringLiteral("unicode"));
        const QString secret = QStringLiteral("clé-🔑-") + QString(4096, u'x');
        QVERIFY(SecretStore::write(id, secret).ok);
        QCOMPARE(SecretStore::read(id), std::optional<QString>(secret));
    }

    void missingSecret()
    {
        REQUIRE_KEYCHAIN();
        QString error = QStringLiteral("stale");
        QCOMPARE(SecretStore::read(account(QStringLiteral("never-written")), &error), std::nullopt);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void invalidArguments()
    {
        QString error;
        QCOMPARE(SecretStore::read(QString(), &error), std::nullopt);
        QVERIFY(!error.isEmpty());
        const SecretStore::Result noId = SecretStore::write(QString(), QStringLiteral("x"));
        QVERIFY(!noId.ok);
        QVERIFY(!noId.error.isEmpty());
        const SecretStore::Result noSecret = SecretStore::write(QStringLiteral("openai"), QString());
        QVERIFY(!noSecret.ok);
        QVERIFY(!SecretStore::remove(QString()).ok);
    }

    void resolvePrefersKeychainOverEnvironment()
    {
        REQUIRE_KEYCHAIN();
        const QString id = account(QStringLiteral("resolve"));
        const QByteArray env = envName("RESOLVE");
        qputenv(env.constData(), "sk-from-env");
        QVERIFY(SecretStore::write(id, QStringLiteral("sk-from-keychain")).ok);

        QString source;
        QCOMPARE(SecretStore::resolve(id, QString::fromLatin1(env), &source), std::optional<QString>(QStringLiteral("sk-from-keychain")));
        QCOMPARE(source, QStringLiteral("keychain"));

        // Headless callers may skip the keychain.
        QCOMPARE(SecretStore::resolve(id, QString::fromLatin1(env), &source, false), std::optional<QString>(QStringLiteral("sk-from-env")));
        QCOMPARE(source, QStringLiteral("env:") + QString::fromLatin1(env));

        // Without a keychain entry the environment is the fallback.
        QVERIFY(SecretStore::remove(id).ok);
        QCOMPARE(SecretStore::resolve(id, QString::fromLatin1(env), &source), std::optional<QString>(QStringLiteral("sk-from-env")));
        QCOMPARE(source, QStringLiteral("env:") + QString::fromLatin1(env));

        qunsetenv(env.constData());
        source = QStringLiteral("stale");
        QCOMPARE(SecretStore::resolve(id, QString::fromLatin1(env), &source), std::nullopt);
        QVERIFY(source.isEmpty());
    }

    void resolveFromEnvironmentOnly()
    {
        // Needs no keychain: tryKeychain = false never touches it.
        const QByteArray env = envName("ENVONLY");
        QString source = QStringLiteral("stale");
        QCOMPARE(SecretStore::resolve(QStringLiteral("openai"), QString::fromLatin1(env), &source, false), std::nullopt);
        QVERIFY(source.isEmpty());
        qputenv(env.constData(), "sk-env-only");
        QCOMPARE(SecretStore::resolve(QStringLiteral("openai"), QString::fromLatin1(env), &source, false),
                 std::optional<QString>(QStringLiteral("sk-env-only")));
        QCOMPARE(source, QStringLiteral("env:") + QString::fromLatin1(env));
        // An empty variable is no key.
        qputenv(env.constData(), "");
        QCOMPARE(SecretStore::resolve(QStringLiteral("openai"), QString::fromLatin1(env), &source, false), std::nullopt);
        qunsetenv(env.constData());
        // No variable named: nothing to fall back on.
        QCOMPARE(SecretStore::resolve(QStringLiteral("openai"), QString(), &source, false), std::nullopt);
    }

    void missingKeychainIsReported()
    {
        if (m_keychain || SecretStore::keychainAvailable())
            QSKIP("a keychain answers here");
        QString error;
        QCOMPARE(SecretStore::read(QStringLiteral("openai"), &error, 2000), std::nullopt);
        QVERIFY2(error.startsWith(u"keychain unavailable"), qPrintable(error));
        const SecretStore::Result written = SecretStore::write(QStringLiteral("openai"), QStringLiteral("sk-x"), 2000);
        QVERIFY(!written.ok);
        QVERIFY2(written.error.startsWith(u"keychain unavailable"), qPrintable(written.error));
        QVERIFY(!written.error.contains(u"sk-x"));
        // resolve() still falls back to the environment.
        const QByteArray env = envName("NOKEYCHAIN");
        qputenv(env.constData(), "sk-env");
        QString source;
        QCOMPARE(SecretStore::resolve(QStringLiteral("openai"), QString::fromLatin1(env), &source),
                 std::optional<QString>(QStringLiteral("sk-env")));
        QCOMPARE(source, QStringLiteral("env:") + QString::fromLatin1(env));
        qunsetenv(env.constData());
    }

    void worksFromThreadsWithoutEventLoop()
    {
        REQUIRE_KEYCHAIN();
        // Plain std::threads: no QThread, no event loop. Several at once, each with its own account.
        constexpr int kThreads = 4;
        QStringList ids;
        for (int i = 0; i < kThreads; ++i)
            ids.append(account(QStringLiteral("thread%1").arg(i)));
        std::atomic<int> good{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                const QString secret = QStringLiteral("secret-from-thread-%1").arg(i);
                if (!SecretStore::write(ids[i], secret).ok)
                    return;
                if (SecretStore::read(ids[i]) != std::optional<QString>(secret))
                    return;
                if (!SecretStore::remove(ids[i]).ok)
                    return;
                if (SecretStore::read(ids[i]).has_value())
                    return;
                ++good;
            });
        }
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(good.load(), kThreads);
    }

private:
    QString account(const QString &name)
    {
        const QString id = m_prefix + u'-' + name;
        m_used.append(id);
        return id;
    }

    QByteArray envName(const char *name) const
    {
        return "GATEHOUSE_TEST_" + m_prefix.toUpper().replace(u'-', u'_').toLatin1() + '_' + name;
    }

    QString m_prefix;
    QStringList m_used;
    bool m_keychain = false;
};

QTEST_GUILESS_MAIN(TestSecretStore)
#include "tst_secretstore.moc"
