// The window's team views against a real PostgreSQL server (tests/support/postgresserver.h): the
// team state (connected, then offline while the server is stopped, connected again), the other
// instances seen, the keys' spend across the team, the Dashboard/Activity scope handed to the query
// thread and kept across starts, and Settings' store switch (test, join, leave, wrong URLs). On a
// SQLite store: nothing of it shows and the scope stays the whole log.
#include "backend.h"
#include "budget/budgetlease.h"
#include "gateway/gateway.h"
#include "keysmodel.h"
#include "postgresserver.h"
#include "store/queryrunner.h"
#include "store/storelocation.h"
#include "storesettings.h"
#include "teamstate.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QDir>
#include <QFile>
#include <QSemaphore>
#include <QTest>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

// The scope the query thread reads with now (after every scope change queued before).
QString queryScope(Backend &backend)
{
    QString scope;
    QSemaphore done;
    backend.queries().run<QString>(
        &backend, [](LogQueries &q) { return q.instanceScope(); },
        [&scope, &done](QString s) {
            scope = s;
            done.release();
        });
    QElapsedTimer clock;
    clock.start();
    while (done.available() == 0 && clock.elapsed() < 5000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return done.available() > 0 ? scope : QStringLiteral("<no answer>");
}

} // namespace

class TestTeamState : public QObject
{
    Q_OBJECT

    std::unique_ptr<gh::test::PostgresServer> m_server;
    QString m_why;

    struct Team {
        QTemporaryDir dir;
        QString url;
        std::unique_ptr<Gateway> gateway;
        std::unique_ptr<Backend> backend;
    };
    // A gateway on a new team database (or `url`'s) in a fresh data folder, and its Backend.
    bool startTeam(Team &team, const QString &url = {})
    {
        QString error;
        team.url = url.isEmpty() ? m_server->createDatabase(&error) : url;
        if (team.url.isEmpty()) {
            qWarning() << "no database:" << error;
            return false;
        }
        team.gateway = std::make_unique<Gateway>();
        GatewayOptions options;
        options.dataDir = team.dir.path();
        options.store = team.url;
        options.port = 0;
        options.workers = 1;
        options.useKeychain = false;
        const auto started = team.gateway->start(options);
        if (!started.ok) {
            qWarning() << "gateway did not start:" << started.error;
            return false;
        }
        team.backend = std::make_unique<Backend>(*team.gateway);
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!gh::test::PostgresServer::installed(&m_why))
            return; // the SQLite case runs; the team cases skip
        m_server = std::make_unique<gh::test::PostgresServer>();
        QVERIFY2(m_server->start(&m_why), qPrintable(m_why));
    }

    void sqliteShowsNoTeam()
    {
        UiFixture f;
        QVERIFY(f.prepare({}, {}));
        QVERIFY(f.start());
        TeamState *team = f.backend->team();
        QVERIFY(!team->isTeam());
        QCOMPARE(team->state(), QString());
        team->setScope(QStringLiteral("machine")); // nothing to choose on one instance
        QCOMPARE(team->scope(), QStringLiteral("team"));
        QCOMPARE(queryScope(*f.backend), QString());
        QVERIFY(!team->teamSpend(1).has_value());
        QCOMPARE(team->peers()->rowCount(), 0);

        StoreSettings store(f.backend.get());
        QVERIFY(!store.isTeam());
        QCOMPARE(store.inUse(), f.dbPath());
        QVERIFY(!store.restartNeeded());
        // Not a PostgreSQL URL: said at once, nothing saved.
        store.join(QStringLiteral("mysql://root@localhost/db"));
        store.waitForIdleForTesting();
        QVERIFY(!store.resultOk());
        QVERIFY2(store.result().contains(QLatin1String("postgres://")), qPrintable(store.result()));
        QVERIFY(storelocation::saved(f.dataDir()).isEmpty());
        // Nothing listens there: the connection error, without the password, and nothing saved.
        store.join(QStringLiteral("postgres://alice:hunter2secret@127.0.0.1:1/gatehouse"));
        QVERIFY(store.busy());
        store.waitForIdleForTesting();
        QVERIFY(!store.busy());
        QVERIFY(!store.resultOk());
        QVERIFY2(store.result().contains(QLatin1String("127.0.0.1")), qPrintable(store.result()));
        QVERIFY2(!store.result().contains(QLatin1String("hunter2secret")), qPrintable(store.result()));
        QVERIFY(storelocation::saved(f.dataDir()).isEmpty());
        QVERIFY(!store.restartNeeded());
    }

    void teamStateLeasesAndPeers()
    {
        if (!m_server)
            QSKIP(qPrintable(QStringLiteral("PostgreSQL is not installed: %1").arg(m_why)));
        Team t;
        QVERIFY(startTeam(t));
        TeamState *team = t.backend->team();
        QVERIFY(team->isTeam());
        QAbstractItemModelTester peersTester(team->peers(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester leasesTester(team->leases(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(!team->storeLocation().contains(QLatin1String("password")));
        QTRY_COMPARE_WITH_TIMEOUT(team->state(), QStringLiteral("connected"), 10000);
        QVERIFY(team->checkedAt() > 0);
        // Only this instance so far.
        QCOMPARE(team->peers()->rowCount(), 1);
        QCOMPARE(team->peers()->data(team->peers()->index(0), TeamPeersModel::InstanceIdRole).toString(),
            t.gateway->store().instanceId());
        QVERIFY(team->peers()->data(team->peers()->index(0), TeamPeersModel::SelfRole).toBool());
        QCOMPARE(team->peers()->others(), 0);

        // A key with a day limit, and requests logged by this instance and by another one.
        StoredKey k = key(0, QStringLiteral("shared"), KeyLimits{5.0, {}, {}, {}});
        k.secretHash = QByteArray(32, 's');
        k.createdAtMs = 1;
        const qint64 keyId = t.gateway->store().saveKey(k);
        QVERIFY(keyId > 0);
        t.backend->keysEdited();
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        RequestRecord mine = record(QStringLiteral("req_mine"), now - 2'000, keyId, k.name, QStringLiteral("m/a"),
            QStringLiteral("p"), 0.25);
        RequestRecord theirs = record(QStringLiteral("req_theirs"), now - 1'000, keyId, k.name, QStringLiteral("m/a"),
            QStringLiteral("p"), 0.5);
        theirs.instanceId = QStringLiteral("otherhost-0badcafe");
        // A row of another instance goes in with its own instance id (as that instance's store writes it).
        {
            Store other;
            other.setInstanceId(theirs.instanceId);
            QString error;
            QVERIFY2(other.open(t.url, &error), qPrintable(error));
            other.appendRequest(theirs);
            other.flush();
            other.close();
        }
        t.gateway->store().appendRequest(mine);
        t.gateway->store().flush();
        team->refresh();
        QTRY_COMPARE_WITH_TIMEOUT(team->peers()->rowCount(), 2, 10000);
        QCOMPARE(team->peers()->others(), 1);
        bool sawOther = false;
        for (int i = 0; i < team->peers()->rowCount(); ++i) {
            const QModelIndex row = team->peers()->index(i);
            if (row.data(TeamPeersModel::InstanceIdRole).toString() == theirs.instanceId) {
                sawOther = true;
                QCOMPARE(qint64(row.data(TeamPeersModel::LastRequestRole).toDouble()), theirs.startedAtMs);
                QVERIFY(!row.data(TeamPeersModel::SelfRole).toBool());
            }
        }
        QVERIFY(sawOther);

        // The key's spend across the team: both instances' requests, on the key card too.
        QTRY_VERIFY_WITH_TIMEOUT(team->teamSpend(keyId).has_value()
                && (*team->teamSpend(keyId))[int(Period::Day)] == fromUsd(0.75),
            10000);
        KeysModel keys(t.backend.get());
        int row = -1;
        for (int i = 0; i < keys.rowCount(); ++i)
            if (keys.data(keys.index(i), KeysModel::KeyIdRole).toLongLong() == keyId)
                row = i;
        QVERIFY(row >= 0);
        QVERIFY(keys.data(keys.index(row), KeysModel::TeamSpendRole).toBool());
        QCOMPARE(keys.data(keys.index(row), KeysModel::DaySpentRole).toDouble(), 0.75);
        QCOMPARE(keys.data(keys.index(row), KeysModel::DayUsageRole).toDouble(), 0.75 / 5.0);

        // The scope: this machine's rows, handed to the query thread, kept across starts.
        QSignalSpy scopeSpy(t.backend.get(), &Backend::instanceScopeChanged);
        team->setScope(QStringLiteral("machine"));
        QCOMPARE(scopeSpy.size(), 1);
        QCOMPARE(team->scopeInstance(), t.gateway->store().instanceId());
        QCOMPARE(queryScope(*t.backend), t.gateway->store().instanceId());
        team->setScope(theirs.instanceId); // one other instance (Activity's instance column)
        QCOMPARE(queryScope(*t.backend), theirs.instanceId);
        QCOMPARE(team->scopeLabel(), QStringLiteral("Instance %1").arg(theirs.instanceId));
        team->setScope(QStringLiteral("machine"));
        t.backend.reset();
        t.backend = std::make_unique<Backend>(*t.gateway);
        QCOMPARE(t.backend->team()->scope(), QStringLiteral("machine"));
        QCOMPARE(queryScope(*t.backend), t.gateway->store().instanceId());
        t.backend->team()->setScope(QStringLiteral("team"));
        QCOMPARE(queryScope(*t.backend), QString());
        team = t.backend->team();

        // The server goes away: offline, with the server's reason; back: connected again.
        QTRY_COMPARE_WITH_TIMEOUT(team->state(), QStringLiteral("connected"), 10000);
        QVERIFY(m_server->stopServer(&m_why));
        team->refresh();
        QTRY_COMPARE_WITH_TIMEOUT(team->state(), QStringLiteral("offline"), 15000);
        QVERIFY(team->stateDetail().contains(QLatin1String("served from the budget leases")));
        QVERIFY(m_server->restartServer(&m_why));
        team->refresh();
        QTRY_COMPARE_WITH_TIMEOUT(team->state(), QStringLiteral("connected"), 20000);
    }

    void storeSwitchOnATeam()
    {
        if (!m_server)
            QSKIP(qPrintable(QStringLiteral("PostgreSQL is not installed: %1").arg(m_why)));
        Team t;
        QVERIFY(startTeam(t));
        StoreSettings store(t.backend.get());
        QVERIFY(store.isTeam());
        QVERIFY(store.inUse().startsWith(QLatin1String("postgres")));
        // Came from the command line (options.store): nothing saved, no restart pending.
        QVERIFY(store.saved().isEmpty());
        QVERIFY(!store.restartNeeded());

        // Test: the server's version, nothing saved.
        store.testConnection(t.url);
        store.waitForIdleForTesting();
        QVERIFY2(store.resultOk(), qPrintable(store.result()));
        QVERIFY2(store.result().contains(QLatin1String("PostgreSQL")), qPrintable(store.result()));
        QVERIFY2(store.result().contains(QLatin1String("team store")), qPrintable(store.result()));
        QVERIFY(storelocation::saved(t.dir.path()).isEmpty());

        // A database that is not there: the server's own words, never the password.
        QString wrong = t.url;
        wrong.replace(QLatin1String("gatehouse@"), QLatin1String("gatehouse:pa55w0rdXYZ@"));
        wrong = wrong.section(u'/', 0, -2) + QStringLiteral("/no_such_db");
        store.testConnection(wrong);
        store.waitForIdleForTesting();
        QVERIFY(!store.resultOk());
        QVERIFY2(store.result().contains(QLatin1String("no_such_db")), qPrintable(store.result()));
        QVERIFY2(!store.result().contains(QLatin1String("pa55w0rdXYZ")), qPrintable(store.result()));

        // Leave: the SQLite file at the next start.
        QVERIFY(store.leave());
        QVERIFY(store.restartNeeded());
        QVERIFY(storelocation::saved(t.dir.path()).isEmpty());

        // Join (another team database): tested, then saved owner-only, a restart pending.
        QString error;
        const QString other = m_server->createDatabase(&error);
        QVERIFY2(!other.isEmpty(), qPrintable(error));
        store.join(other);
        store.waitForIdleForTesting();
        QVERIFY2(store.resultOk(), qPrintable(store.result()));
        QVERIFY(store.result().contains(QLatin1String("next start")));
        QCOMPARE(storelocation::saved(t.dir.path()), other);
        QVERIFY(store.restartNeeded());
        const QFile::Permissions perms = QFile::permissions(QDir(t.dir.path()).filePath(QStringLiteral("store-location")));
        QVERIFY(perms & QFile::ReadOwner);
        QVERIFY(!(perms & (QFile::ReadGroup | QFile::ReadOther)));
        // Joining the team already in use: nothing pending.
        store.join(t.url);
        store.waitForIdleForTesting();
        QVERIFY(store.resultOk());
        QVERIFY(!store.restartNeeded());
    }
};

QTEST_MAIN(TestTeamState)
#include "tst_teamstate.moc"
