// WorkersSetting (Settings › Gateway workers): the choice is range-checked, stored with the gateway
// settings and, as the gateway is not resized while it serves, flagged for the next start.
#include "config/config.h"
#include "state/configapply.h"
#include "uitestfixture.h"
#include "workerssetting.h"
#include <QSignalSpy>
#include <QThread>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestWorkersSetting : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({}, {}));
        QVERIFY(m_fx.start()); // options.workers = 1: as --workers 1
    }

    void readsTheRunningGateway()
    {
        WorkersSetting w;
        w.setBackend(m_fx.backend.get());
        QCOMPARE(w.cores(), QThread::idealThreadCount());
        QCOMPARE(w.serving(), 1);
        QCOMPARE(m_fx.gateway->workerCount(), 1);
        QVERIFY(w.fromCommandLine());
        QCOMPARE(w.stored(), 0); // automatic
        QVERIFY(!w.restartNeeded()); // the command line wins, whatever is saved
    }

    void savesAChoiceInRange()
    {
        WorkersSetting w;
        w.setBackend(m_fx.backend.get());
        QSignalSpy stored(&w, &WorkersSetting::storedChanged);
        QVERIFY2(w.apply(w.cores()), qPrintable(w.error()));
        QCOMPARE(w.stored(), w.cores());
        QCOMPARE(stored.size(), 1);
        QCOMPARE(loadGatewaySettings(m_fx.gateway->store()).workers, w.cores());
        // Other settings are kept.
        QCOMPARE(loadGatewaySettings(m_fx.gateway->store()).responseCacheMaxBytes, GatewaySettings{}.responseCacheMaxBytes);
        // Another view of the same store sees it.
        WorkersSetting other;
        other.setBackend(m_fx.backend.get());
        QCOMPARE(other.stored(), w.cores());
        QVERIFY(w.apply(0));
        QCOMPARE(loadGatewaySettings(m_fx.gateway->store()).workers, 0);
        QCOMPARE(stored.size(), 2);
    }

    void refusesOutOfRange_data()
    {
        QTest::addColumn<int>("count");
        QTest::newRow("-1") << -1;
        QTest::newRow("cores + 1") << QThread::idealThreadCount() + 1;
        QTest::newRow("1000") << 1000;
    }

    void refusesOutOfRange()
    {
        QFETCH(int, count);
        WorkersSetting w;
        w.setBackend(m_fx.backend.get());
        QVERIFY(w.apply(2 <= w.cores() ? 2 : 1));
        const int before = w.stored();
        QSignalSpy error(&w, &WorkersSetting::errorChanged);
        QVERIFY(!w.apply(count));
        QVERIFY2(w.error().contains(QStringLiteral("from 1 to %1").arg(w.cores())), qPrintable(w.error()));
        QCOMPARE(error.size(), 1);
        QCOMPARE(w.stored(), before);
        QCOMPARE(loadGatewaySettings(m_fx.gateway->store()).workers, before);
        QVERIFY(w.apply(0)); // a good value clears the message
        QVERIFY(w.error().isEmpty());
    }

    // How the choice is stored (a gateway started without --workers reads it: tst_gateway_lifecycle).
    void storedForm()
    {
        GatewaySettings s = loadGatewaySettings(m_fx.gateway->store());
        s.workers = 3;
        QCOMPARE(gatewaySettingsFromJson(gatewaySettingsToJson(s)).workers, 3);
        s.workers = 0;
        QVERIFY(!gatewaySettingsToJson(s).contains(QStringLiteral("workers")));
        QJsonObject bad = gatewaySettingsToJson(s);
        bad.insert(QStringLiteral("workers"), 1000);
        QCOMPARE(gatewaySettingsFromJson(bad).workers, 0); // an invalid stored value falls back to automatic
    }
};

QTEST_MAIN(TestWorkersSetting)
#include "tst_workerssetting.moc"
