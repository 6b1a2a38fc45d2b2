// The store chosen in the window's Settings (store/storelocation.h), read by the gatehouse binary at
// start: a saved team store is used when --store names none; one that cannot be opened leaves the
// instance on its own SQLite file with a warning (never the password), while a --store given on the
// command line that cannot be opened still stops the start.
#include "gatewayprocess.h"
#include "postgresserver.h"
#include <QDir>
#include <QFile>
#include <QTest>

using namespace gh::test;

namespace {

bool saveLocation(const QString &dataDir, const QString &location)
{
    QDir().mkpath(dataDir);
    QFile file(QDir(dataDir).filePath(QStringLiteral("store-location")));
    return file.open(QIODevice::WriteOnly) && file.write(location.toUtf8() + '\n') > 0;
}

} // namespace

class TestStoreLocation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void unreachableSavedStoreFallsBackToTheLocalFile()
    {
        GatewayProcess gw;
        const QString url = QStringLiteral("postgres://alice:s3cretPassw0rd@127.0.0.1:1/gatehouse");
        QVERIFY(saveLocation(gw.dataDir(), url));
        QVERIFY2(gw.start(), qPrintable(gw.errorString() + gw.stderrText()));
        QVERIFY2(gw.stderrText().contains(QLatin1String("could not be opened")), qPrintable(gw.stderrText()));
        QVERIFY2(gw.stderrText().contains(QLatin1String("using this machine's own store")), qPrintable(gw.stderrText()));
        QVERIFY(!gw.stderrText().contains(QLatin1String("s3cretPassw0rd")));
        QVERIFY(!gw.stdoutText().contains(QLatin1String("s3cretPassw0rd")));
        QVERIFY(QFile::exists(QDir(gw.dataDir()).filePath(QStringLiteral("gatehouse.db"))));
        QCOMPARE(gw.terminate(), 0);

        // The same URL on the command line: refused, as before.
        GatewayProcess direct;
        QVERIFY(!direct.start({QStringLiteral("--store"), url}));
        QCOMPARE(direct.exitCode(), 1);
        QVERIFY(!direct.stderrText().contains(QLatin1String("s3cretPassw0rd")));
    }

    void savedTeamStoreIsUsedAndCommandLineWins()
    {
        QString why;
        if (!PostgresServer::installed(&why))
            QSKIP(qPrintable(QStringLiteral("PostgreSQL is not installed: %1").arg(why)));
        PostgresServer server;
        QVERIFY2(server.start(&why), qPrintable(why));
        const QString url = server.createDatabase(&why);
        QVERIFY2(!url.isEmpty(), qPrintable(why));

        GatewayProcess gw;
        QVERIFY(saveLocation(gw.dataDir(), url));
        gw.setEnv(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("gatehouse.store.info=true"));
        QVERIFY2(gw.start(), qPrintable(gw.errorString() + gw.stderrText()));
        QVERIFY2(gw.waitForOutput(QStringLiteral("opened the team database")), qPrintable(gw.stderrText()));
        QVERIFY(!QFile::exists(QDir(gw.dataDir()).filePath(QStringLiteral("gatehouse.db"))));
        QCOMPARE(gw.terminate(), 0);

        // --store sqlite on the command line wins over the saved team store.
        QVERIFY2(gw.start({QStringLiteral("--store"), QStringLiteral("sqlite")}), qPrintable(gw.errorString() + gw.stderrText()));
        QVERIFY(QFile::exists(QDir(gw.dataDir()).filePath(QStringLiteral("gatehouse.db"))));
        QCOMPARE(gw.terminate(), 0);
    }
};

QTEST_MAIN(TestStoreLocation)
#include "tst_store_location.moc"
