// Gatehouse: the executable. Parses the command line, then runs the gateway headless or with the
// desktop window.
#include "gateway/gateway.h"
#include "gateway/shutdownsignals.h"
#include "state/catalogcommand.h"
#include "version.h"
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>
#include <cstdio>
#include <memory>

#ifdef GATEHOUSE_WITH_UI
#include "gatehouseui.h"
#include <QApplication>
#endif

namespace {

bool hasFlag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; ++i)
        if (qstrcmp(argv[i], flag) == 0)
            return true;
    return false;
}

void printLine(FILE *stream, const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stream);
    std::fflush(stream);
}

} // namespace

int main(int argc, char **argv)
{
    // `gatehouse catalog ...`: a command that runs and exits, without the gateway.
    if (argc > 1 && qstrcmp(argv[1], "catalog") == 0) {
        qputenv("QT_NO_GLIB", "1");
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral(GATEHOUSE_NAME));
        QCoreApplication::setOrganizationName(QStringLiteral(GATEHOUSE_NAME));
        return gh::runCatalogCommand(app.arguments().mid(2), QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    }
    bool headless = hasFlag(argc, argv, "--headless") || hasFlag(argc, argv, "--version") || hasFlag(argc, argv, "-v")
        || hasFlag(argc, argv, "--help") || hasFlag(argc, argv, "-h");
#ifndef GATEHOUSE_WITH_UI
    headless = true;
#endif
    // Headless, Qt's own event dispatcher is leaner than GLib's on the request path.
    if (headless && qEnvironmentVariableIsEmpty("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", "1");
    std::unique_ptr<QCoreApplication> app;
#ifdef GATEHOUSE_WITH_UI
    if (!headless)
        app = std::make_unique<QApplication>(argc, argv);
    else
#endif
        app = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral(GATEHOUSE_NAME));
    QCoreApplication::setOrganizationName(QStringLiteral(GATEHOUSE_NAME));
    QCoreApplication::setApplicationVersion(QStringLiteral(GATEHOUSE_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Gatehouse: one local gateway between your AI tools and every model provider."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption headlessOption(QStringLiteral("headless"), QStringLiteral("Run the gateway without a window."));
    const QCommandLineOption portOption(QStringLiteral("port"), QStringLiteral("Listen on port N of 127.0.0.1 (0 picks a free port)."), QStringLiteral("N"));
    const QCommandLineOption dataOption(QStringLiteral("data-dir"), QStringLiteral("Folder for the database and settings."), QStringLiteral("DIR"));
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Apply a declarative JSON config at start-up (docs/config.md)."), QStringLiteral("FILE"));
    parser.addOptions({headlessOption, portOption, dataOption, configOption});
    parser.process(*app);

    gh::GatewayOptions options;
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int port = parser.value(portOption).toInt(&ok);
        if (!ok || port < 0 || port > 65535) {
            printLine(stderr, QStringLiteral("gatehouse: --port: '%1' is not a port number (0-65535)").arg(parser.value(portOption)));
            return 2;
        }
        options.port = port;
    }
    options.dataDir = parser.isSet(dataOption) ? parser.value(dataOption)
                                               : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    options.configPath = parser.value(configOption);
    options.workers = qEnvironmentVariableIntValue("GATEHOUSE_WORKERS");
    options.useKeychain = qEnvironmentVariableIntValue("GATEHOUSE_NO_KEYCHAIN") == 0;
#ifdef Q_OS_LINUX
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        options.useKeychain = false; // no session bus: no Secret Service to ask
#endif

#ifdef GATEHOUSE_WITH_UI
    // One window per data folder: a second launch raises the first and leaves.
    if (!headless && gh::ui::raiseRunningInstance(options.dataDir))
        return 0;
#endif
    gh::Gateway gateway;
    const auto started = gateway.start(options);
    for (const QString &w : started.warnings)
        printLine(stderr, QStringLiteral("gatehouse: warning: %1").arg(w));
    if (!started.ok) {
        printLine(stderr, QStringLiteral("gatehouse: %1").arg(started.error));
        return started.exitCode;
    }
    for (const gh::GeneratedKey &k : started.generatedKeys)
        printLine(stdout, QStringLiteral("Generated key for '%1': %2  (shown once: store it now)").arg(k.name, k.secret));
    printLine(stdout, QStringLiteral("Gatehouse gateway listening on http://127.0.0.1:%1").arg(gateway.port()));

    gh::ShutdownSignals signals;
    QObject::connect(&signals, &gh::ShutdownSignals::shutdownRequested, &gateway, [&gateway] {
        gateway.shutdown([] { QCoreApplication::exit(0); });
    });

#ifdef GATEHOUSE_WITH_UI
    if (!headless) {
        if (!gh::ui::showMainWindow(gateway))
            return 1;
    }
#endif
    return app->exec();
}
