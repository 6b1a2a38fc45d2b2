#include "gatehouseui.h"
#include "appsingleton.h"
#include "backend.h"
#include "desktopintegration.h"
#include "format.h"
#include "guardrailcenter.h"
#include "guardrailnotifier.h"
#include "gateway/gateway.h"
#include "livestats.h"
#include "settingscontroller.h"
#include "singleinstance.h"
#include "uiprobe.h"
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QQmlApplicationEngine>
#include <QQuickWindow>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

// Everything the window owns, deleted in order (QML first, the query thread last) on aboutToQuit.
class Session : public QObject
{
public:
    explicit Session(Gateway &gateway)
        : backend(new Backend(gateway))
    {
        SettingsController::applyCurrency(*backend);
        app = new AppSingleton(backend);
        stats = new LiveStats(nullptr);
        LiveStats::setInstance(stats);
        stats->attach(gateway.events());
        stats->watchStore(&gateway.store());
        guardrails = new GuardrailCenter(gateway, backend->queries());
        backend->probeKeychain();
    }
    ~Session() override
    {
        delete engine;
        delete guardNotifier;
        delete desktop;
        delete guardrails;
        delete instance;
        delete stats;
        delete app;
        delete backend;
    }
    Backend *backend;
    AppSingleton *app = nullptr;
    LiveStats *stats = nullptr;
    QQmlApplicationEngine *engine = nullptr;
    DesktopIntegration *desktop = nullptr;
    GuardrailCenter *guardrails = nullptr;
    GuardrailNotifier *guardNotifier = nullptr;
    SingleInstance *instance = nullptr;
};

} // namespace

bool raiseRunningInstance(const QString &dataDir)
{
    return SingleInstance::raiseRunning(dataDir);
}

bool showMainWindow(Gateway &gateway)
{
    QElapsedTimer clock;
    clock.start();
    auto *session = new Session(gateway);
    QObject::connect(
        QCoreApplication::instance(), &QCoreApplication::aboutToQuit, session, [session] { delete session; });

    session->instance = new SingleInstance;
    session->instance->listen(gateway.dataDir());
    QObject::connect(session->instance, &SingleInstance::raiseRequested, session->app, &AppSingleton::raiseRequested);

    session->desktop = new DesktopIntegration(*session->backend, *session->app);
    const bool startHidden = session->backend->uiSetting(QStringLiteral("startMinimized"), false).toBool()
        && session->desktop->trayAvailable();

    session->engine = new QQmlApplicationEngine;
    session->engine->addImportPath(QStringLiteral("qrc:/qt/qml"));
    // The window hands its backend down to every page and every model (Main.qml's backend property).
    QVariantMap initial{{QStringLiteral("backend"), QVariant::fromValue(session->backend)}};
    if (startHidden)
        initial.insert(QStringLiteral("visible"), false);
    session->engine->setInitialProperties(initial);
    const QUrl main(QStringLiteral("qrc:/qt/qml/Gatehouse/ui/shell/Main.qml"));
    session->engine->load(main);
    QQuickWindow *window = nullptr;
    for (QObject *root : session->engine->rootObjects()) {
        if ((window = qobject_cast<QQuickWindow *>(root)))
            break;
    }
    if (!window) {
        qCCritical(lcUi) << "the window could not be loaded from" << main;
        delete session;
        return false;
    }
    session->desktop->setWindow(window);
    Backend *backend = session->backend;
    session->guardNotifier = new GuardrailNotifier(*session->guardrails, session->desktop->tray(), [backend] {
        return backend->uiSetting(QStringLiteral("notifications"), true).toBool();
    });
    QObject::connect(session->guardNotifier, &GuardrailNotifier::showRequested, window, [session, window] {
        session->desktop->showWindow();
        QMetaObject::invokeMethod(window, "openPage", Q_ARG(QString, QStringLiteral("guardrails")));
    });
    UiProbe::attachIfRequested(window, session); // test-only, GATEHOUSE_UI_PROBE (uiprobe.h)
    qCInfo(lcUi) << "window loaded in" << clock.elapsed() << "ms" << (startHidden ? "(hidden in the tray)" : "");
    QObject::connect(
        window, &QQuickWindow::frameSwapped, window,
        [clock] { qCInfo(lcUi) << "first frame" << clock.elapsed() << "ms after the window was asked for"; },
        Qt::SingleShotConnection);
    return true;
}

} // namespace gh::ui
