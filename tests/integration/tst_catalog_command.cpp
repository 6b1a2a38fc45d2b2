// `gatehouse catalog`: its arguments, the refresh switch, show, and update from a local file, run
// as the real binary on a fresh data folder (no network: a network update is refused while
// refreshes are off, and the file is the repository's own genai-prices data).
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct Run {
    int exitCode = -1;
    QString out, err;
};

// Runs `gatehouse catalog args`; `home` stands in for the user's data folders, so that a run that
// misses --data-dir never touches the real one.
Run catalog(const QStringList &args, const QString &home)
{
    Run r;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
    env.insert(QStringLiteral("HOME"), home);
    env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/.local/share"));
    p.setProcessEnvironment(env);
    p.start(qEnvironmentVariable("GATEHOUSE_BIN"), QStringList{QStringLiteral("catalog")} + args);
    if (!p.waitForFinished(60'000)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

} // namespace

class TestCatalogCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY2(QFile::exists(qEnvironmentVariable("GATEHOUSE_BIN")), "GATEHOUSE_BIN is not set"); }

    void wrongArgumentsAreUsageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("nothing") << QStringList{} << QStringLiteral("missing command");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("--bogus"), QStringLiteral("show")}
                                        << QStringLiteral("unknown option --bogus");
        QTest::newRow("option without value") << QStringList{QStringLiteral("show"), QStringLiteral("--from")}
                                              << QStringLiteral("--from needs a value");
        QTest::newRow("refresh maybe") << QStringList{QStringLiteral("refresh"), QStringLiteral("maybe")}
                                       << QStringLiteral("refresh takes on or off");
        QTest::newRow("show with --from") << QStringList{QStringLiteral("show"), QStringLiteral("--from=x.json")}
                                          << QStringLiteral("show takes no arguments");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("fetch"), QStringLiteral("now")}
                                         << QStringLiteral("unknown command fetch now");
        QTest::newRow("empty --from") << QStringList{QStringLiteral("update"), QStringLiteral("--from=")}
                                      << QStringLiteral("--from needs a file or URL");
    }
    void wrongArgumentsAreUsageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QTemporaryDir dir;
        const Run r = catalog(QStringList{QStringLiteral("--data-dir"), dir.path()} + args, dir.path());
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY2(r.err.contains(QLatin1String("usage:")), qPrintable(r.err));
    }

    void refreshSwitchShowAndUpdate()
    {
        QTemporaryDir dir;
        const QStringList dataDir{QStringLiteral("--data-dir=") + dir.path()};
        const QString home = dir.path();

        Run r = catalog(QStringList{QStringLiteral("refresh"), QStringLiteral("off")} + dataDir, home);
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(QLatin1String("price catalog refreshes over the network: off")), qPrintable(r.out));

        r = catalog(QStringList{QStringLiteral("show")} + dataDir, home);
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains(QLatin1String("network refresh: off")), qPrintable(r.out));
        QVERIFY2(r.out.contains(QLatin1String("models: ")), qPrintable(r.out));

        // Refreshes off: the default source (the network) is refused, a local file is not.
        r = catalog(QStringList{QStringLiteral("update")} + dataDir, home);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains(QLatin1String("network refreshes are off")), qPrintable(r.err));

        const QString file = QStringLiteral(GH_SOURCE_DIR "/resources/genai-prices.json");
        r = catalog(QStringList{QStringLiteral("update"), QStringLiteral("--from"), file} + dataDir, home);
        QVERIFY2(r.exitCode == 0, qPrintable(r.out + r.err));

        r = catalog(QStringList{QStringLiteral("update"), QStringLiteral("--from"), dir.filePath(QStringLiteral("missing.json"))} + dataDir, home);
        QCOMPARE(r.exitCode, 1);
        QVERIFY(!r.err.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCatalogCommand)
#include "tst_catalog_command.moc"
