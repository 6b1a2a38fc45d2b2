// The window's guardrails against a real in-process gateway: a loop tripped through the engine
// the request path uses shows in GuardrailTripsModel with its evidence, rate curve and status;
// Resume and Keep paused are recorded; a key's mode is stored and applied; the notifier offers
// Resume / Keep paused through the freedesktop Notifications service when one is on the session
// bus (a stand-in registered by this test, under dbus-run-session) and falls back otherwise.
#include "guardrailcenter.h"
#include "guardrailnotifier.h"
#include "guardrailtripsmodel.h"
#include "state/configapply.h"
#include "store/queryrunner.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

const QString kTask = QStringLiteral("Fix the failing test in tests/test_parser.py. ") + QString(1100, u'c');

// A notification server that records what it is asked to show and answers GetCapabilities.
class NotificationServer : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")
public:
    struct Shown {
        QString summary, body;
        QStringList actions;
    };
    QList<Shown> shown;
    uint lastId = 0;

public Q_SLOTS:
    QStringList GetCapabilities() { return {QStringLiteral("body"), QStringLiteral("actions")}; }
    uint Notify(const QString &, uint, const QString &, const QString &summary, const QString &body,
        const QStringList &actions, const QVariantMap &, int)
    {
        shown.append({summary, body, actions});
        return ++lastId;
    }
    void CloseNotification(uint) { }
    QString GetServerInformation(QString &vendor, QString &version, QString &spec)
    {
        vendor = QStringLiteral("gatehouse-test");
        version = QStringLiteral("1");
        spec = QStringLiteral("1.2");
        return QStringLiteral("stand-in");
    }
};

} // namespace

class TestGuardrailsView : public QObject
{
    Q_OBJECT

    // Sends the same long message list `times` times through the guardrails of key 1, settling each
    // with a cost: the 5th is refused and pauses session "s1".
    static void loop(Gateway &gateway, int times, const QString &requestPrefix)
    {
        QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("messages"),
                                            QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                                {QStringLiteral("content"), kTask}}}}})
                              .toJson(QJsonDocument::Compact);
        for (int i = 0; i < times; ++i) {
            GuardrailTicket t;
            t.keyId = 1;
            t.keyName = QStringLiteral("agent");
            QByteArray copy = body; // readRequestShape() may pad the buffer
            t.shape = readRequestShape(copy);
            t.session = QStringLiteral("s1");
            const QString id = requestPrefix + QString::number(i);
            if (gateway.context().guardrails.admit(t, id))
                return;
            gateway.context().guardrails.settle(
                t, GuardrailOutcome{200, kNanoPerUsd / 100, 2000, 20, 200'000, std::nullopt}, id);
        }
    }

private Q_SLOTS:
    void tripShowsAndResumes()
    {
        UiFixture fx;
        QVERIFY(fx.prepare({key(1, QStringLiteral("agent"))}, {}));
        // A few logged requests of the session in the minutes before: the rate curve.
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        QList<RequestRecord> log;
        for (int i = 0; i < 4; ++i) {
            log << record(QStringLiteral("req_loop_%1").arg(i), now - qint64(3 - i) * 60'000, 1,
                QStringLiteral("agent"), QStringLiteral("mock/agent"), QStringLiteral("mock"), 0.25);
            log.last().sessionId = QStringLiteral("s1");
        }
        QVERIFY(fx.start());
        fx.append(log);

        GuardrailCenter center(*fx.gateway, fx.backend->queries());
        GuardrailTripsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy refreshed(&model, &GuardrailTripsModel::refreshed);
        model.setCenter(&center);
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(model.rowCount(), 0);

        QSignalSpy tripped(&center, &GuardrailCenter::tripped);
        loop(*fx.gateway, 6, QStringLiteral("req_g_"));
        QTRY_COMPARE(tripped.size(), 1); // queued from the tripping thread to the gateway's
        QCOMPARE(center.activePauses(), 1);
        QVERIFY(center.trippedBy(QStringLiteral("req_g_4")));
        QTRY_COMPARE(model.rowCount(), 1);
        const QModelIndex row = model.index(0);
        QCOMPARE(row.data(GuardrailTripsModel::KeyNameRole).toString(), QStringLiteral("agent"));
        QCOMPARE(row.data(GuardrailTripsModel::SessionRole).toString(), QStringLiteral("s1"));
        QCOMPARE(row.data(GuardrailTripsModel::DetectorRole).toString(), QStringLiteral("repetition"));
        QCOMPARE(row.data(GuardrailTripsModel::PausedRole).toBool(), true);
        QCOMPARE(row.data(GuardrailTripsModel::ActiveRole).toBool(), true);
        QCOMPARE(row.data(GuardrailTripsModel::KindRole).toString(), QStringLiteral("same_request"));
        QCOMPARE(row.data(GuardrailTripsModel::RequestIdRole).toString(), QStringLiteral("req_g_4"));
        QVERIFY(!row.data(GuardrailTripsModel::HashesRole).toStringList().isEmpty());
        QVERIFY(
            row.data(GuardrailTripsModel::EvidenceRole).toStringList().contains(QStringLiteral("answered before: 4")));
        QCOMPARE(row.data(GuardrailTripsModel::CostSoFarRole).toDouble(), 0.04); // four answered sends at $0.01
        const QList<double> curve = row.data(GuardrailTripsModel::CurveRole).value<QList<double>>();
        QCOMPARE(curve.size(), GuardrailTripsModel::kCurveBefore + 1 + GuardrailTripsModel::kCurveAfter);
        double logged = 0;
        for (const double v : curve)
            logged += v;
        QCOMPARE(logged, 1.0); // the four logged requests of the session, $0.25 each

        // Keep paused: recorded, still paused.
        const qint64 tripId = row.data(GuardrailTripsModel::TripIdRole).toLongLong();
        QVERIFY(center.keepPaused(tripId));
        QTRY_VERIFY(model.index(0).data(GuardrailTripsModel::KeptAtRole).toLongLong() > 0);
        QCOMPARE(center.activePauses(), 1);
        // Resume from the window: lifted, recorded as by the window.
        QCOMPARE(center.resume(1, QStringLiteral("s1")), 1);
        QCOMPARE(center.activePauses(), 0);
        QTRY_COMPARE(model.index(0).data(GuardrailTripsModel::EndedByRole).toString(), QStringLiteral("window"));
        QCOMPARE(model.index(0).data(GuardrailTripsModel::ActiveRole).toBool(), false);
    }

    void keyModesAreStoredAndApplied()
    {
        UiFixture fx;
        QVERIFY(fx.prepare({key(1, QStringLiteral("agent")), key(2, QStringLiteral("scripts"))}, {}));
        QVERIFY(fx.start());
        GuardrailCenter center(*fx.gateway, fx.backend->queries());
        QVariantList modes = center.keyModes();
        QCOMPARE(modes.size(), 2);
        QCOMPARE(modes.first().toMap().value(QStringLiteral("repetition")).toString(), QStringLiteral("pause"));
        QVERIFY(center.setKeyMode(QStringLiteral("scripts"), QStringLiteral("repetition"), QStringLiteral("alert")));
        QVERIFY(!center.setKeyMode(QStringLiteral("scripts"), QStringLiteral("loops"), QStringLiteral("alert")));
        QVERIFY(!center.setKeyMode(QStringLiteral("nobody"), QStringLiteral("velocity"), QStringLiteral("alert")));
        QVERIFY(!center.setKeyMode(QStringLiteral("scripts"), QStringLiteral("velocity"), QStringLiteral("stop")));
        modes = center.keyModes();
        QCOMPARE(modes.at(1).toMap().value(QStringLiteral("repetition")).toString(), QStringLiteral("alert"));
        QCOMPARE(loadKeyGuardrails(fx.gateway->store()).value(QStringLiteral("scripts")).repetition, GuardMode::Alert);
        // Applied to the running gateway's registry.
        const auto snapshot = fx.gateway->context().registry.snapshot();
        bool found = false;
        for (const KeyEntry &k : std::as_const(snapshot->keysByHash)) {
            if (k.name == QLatin1String("scripts")) {
                found = true;
                QCOMPARE(k.guardrails.repetition, GuardMode::Alert);
            }
        }
        QVERIFY(found);
        // Back to the defaults: the entry is dropped.
        QVERIFY(center.setKeyMode(QStringLiteral("scripts"), QStringLiteral("repetition"), QStringLiteral("pause")));
        QVERIFY(!loadKeyGuardrails(fx.gateway->store()).contains(QStringLiteral("scripts")));
    }

    void notificationActionsResumeOrKeep()
    {
        QDBusConnection bus = QDBusConnection::sessionBus();
        if (!bus.isConnected())
            QSKIP("no session bus (unit.ui.guardrails_dbus runs this under dbus-run-session)");
        if (bus.interface()->isServiceRegistered(QStringLiteral("org.freedesktop.Notifications")))
            QSKIP("a real notification server is running on this bus; not replacing it");
        NotificationServer server;
        QVERIFY(bus.registerObject(
            QStringLiteral("/org/freedesktop/Notifications"), &server, QDBusConnection::ExportAllSlots));
        QVERIFY(bus.registerService(QStringLiteral("org.freedesktop.Notifications")));
        const auto unregister = qScopeGuard([&bus] {
            bus.unregisterService(QStringLiteral("org.freedesktop.Notifications"));
            bus.unregisterObject(QStringLiteral("/org/freedesktop/Notifications"));
        });

        UiFixture fx;
        QVERIFY(fx.prepare({key(1, QStringLiteral("agent"))}, {}));
        QVERIFY(fx.start());
        GuardrailCenter center(*fx.gateway, fx.backend->queries());
        GuardrailNotifier notifier(center, nullptr, [] { return true; });
        QSignalSpy notified(&notifier, &GuardrailNotifier::notified);

        // The same process is both sides of the bus: the calls are answered while the notifier
        // waits, because QtDBus dispatches calls to this connection's own objects directly.
        loop(*fx.gateway, 6, QStringLiteral("req_n_"));
        QTRY_COMPARE(notified.size(), 1);
        QCOMPARE(notified.first().at(1).toBool(), true);
        QCOMPARE(server.shown.size(), 1);
        QVERIFY2(
            server.shown.first().summary.contains(QLatin1String("paused")), qPrintable(server.shown.first().summary));
        QVERIFY(server.shown.first().actions.contains(QStringLiteral("resume")));
        QVERIFY(server.shown.first().actions.contains(QStringLiteral("keep")));

        // "Resume" clicked: the server emits ActionInvoked for its id.
        QDBusMessage signal = QDBusMessage::createSignal(QStringLiteral("/org/freedesktop/Notifications"),
            QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("ActionInvoked"));
        signal << server.lastId << QStringLiteral("resume");
        QVERIFY(bus.send(signal));
        QTRY_COMPARE(center.activePauses(), 0);
        qint64 maxId = 0;
        QTRY_COMPARE(
            fx.gateway->store().guardrailTripsToRestore(10, &maxId).value(0).endedBy, QStringLiteral("window"));
    }

    void badgeCountsPauses()
    {
        const QIcon base(QStringLiteral(":/qt/qml/Gatehouse/resources/icons/gatehouse.svg"));
        QCOMPARE(GuardrailNotifier::badged(base, 0).cacheKey(), base.cacheKey());
        const QImage two = GuardrailNotifier::badged(base, 2).pixmap(64, 64).toImage();
        QVERIFY(!two.isNull());
        // The badge's red in its lower right corner.
        const QColor c = two.pixelColor(47, 56);
        QVERIFY2(c.red() > 180 && c.green() < 120, qPrintable(c.name()));
    }
};

QTEST_MAIN(TestGuardrailsView)
#include "tst_guardrailsview.moc"
