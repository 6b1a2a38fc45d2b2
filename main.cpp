// Gatehouse: the executable. Parses the command line, then runs the gateway headless or with the
// desktop window.
#include "config/config.h"
#include "connect/connectcommand.h"
#include "gateway/forgetkey.h"
#include "gateway/gateway.h"
#include "gateway/shutdownsignals.h"
#include "reports/exportcommand.h"
#include "state/catalogcommand.h"
#include "store/storelocation.h"
#include "version.h"
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QLoggingCategory>
#include <QStandardPaths>
#include <cstdio>
#include <memory>

#ifdef GATEHOUSE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

#ifdef GATEHOUSE_WITH_UI
#include "gatehouseui.h"
#include <QApplication>
#if defined(Q_OS_LINUX)
#include <climits>
#include <cstdlib>
#include <string>
#include <unistd.h>
#endif
#endif

namespace {

#if defined(GATEHOUSE_WITH_UI) && defined(Q_OS_LINUX)
// Runs the headless gateway as `gatehoused` from beside this executable, in this process (exec: same
// pid, arguments, environment and descriptors), so that it never maps the window's libraries.
// Returns only when there is none (a build without it, or GATEHOUSE_NO_HANDOVER=1): the caller then
// runs headless itself.
void handOverToHeadless(char **argv)
{
    if (qEnvironmentVariableIntValue("GATEHOUSE_NO_HANDOVER") == 1)
        return;
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return;
    std::string path(self, size_t(n));
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos)
        return;
    path.replace(slash + 1, std::string::npos, "gatehoused");
    if (access(path.c_str(), X_OK) != 0)
        return;
    execv(path.c_str(), argv);
    // execv failed (it returned): run headless here; nothing is lost but the memory saving.
    std::fprintf(stderr, "gatehouse: cannot start %s, running headless in this process\n", path.c_str());
}
#endif

// The allocator's settings, before the program's own allocations. mimalloc keeps the pages it frees
// committed for decommit_delay (25 ms by default) and decommits them only when the same thread
// allocates again: the start-up's burst (the price catalog's document, the secret-scan database,
// the migrations; 41 MiB committed at its peak) stayed resident on the main thread, which is idle
// from then on. Decommitting at once cut 5 MB of RSS idle and after 1M requests and cost no
// measurable CPU per request (bench/rss.sh, BENCHMARKS.md "Memory after 1M requests"). An option
// set in the environment (MIMALLOC_DECOMMIT_DELAY) still wins, for measuring.
void tuneAllocator()
{
#ifdef GATEHOUSE_WITH_MIMALLOC
    if (qEnvironmentVariableIsEmpty("MIMALLOC_DECOMMIT_DELAY"))
        mi_option_set(mi_option_decommit_delay, 0);
#endif
}

bool hasFlag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; ++i)
        if (qstrcmp(argv[i], flag) == 0)
            return true;
    return false;
}

// Whether the command line asks only for the window (and its options): anything else (connect, a
// mistake to refuse) runs without a QApplication, so it works and fails the same without a display.
bool onlyWindowArguments(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--port" || a == "--data-dir" || a == "--config" || a == "--store") {
            ++i; // its value
            continue;
        }
        if (a.startsWith("--port=") || a.startsWith("--data-dir=") || a.startsWith("--config=") || a.startsWith("--store="))
            continue;
        return false;
    }
    return true;
}

void printLine(FILE *stream, const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stream);
    std::fflush(stream);
}

} // namespace

int main(int argc, char **argv)
{
    tuneAllocator();
    // `gatehouse catalog ...`: a command that runs and exits, without the gateway.
    if (argc > 1 && qstrcmp(argv[1], "catalog") == 0) {
        qputenv("QT_NO_GLIB", "1");
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral(GATEHOUSE_NAME));
        QCoreApplication::setOrganizationName(QStringLiteral(GATEHOUSE_NAME));
        return gh::runCatalogCommand(app.arguments().mid(2), QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    }
    // `gatehouse export ...`: the request log or a spend report to a file, without the gateway.
    if (argc > 1 && qstrcmp(argv[1], "export") == 0) {
        qputenv("QT_NO_GLIB", "1");
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral(GATEHOUSE_NAME));
        QCoreApplication::setOrganizationName(QStringLiteral(GATEHOUSE_NAME));
        return gh::runExportCommand(app.arguments().mid(2), QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    }
    // `gatehouse forget-key NAME --yes`: delete everything about a key, with the gateway stopped.
    if (argc > 1 && qstrcmp(argv[1], "forget-key") == 0) {
        qputenv("QT_NO_GLIB", "1");
        QCoreApplication app(argc, argv);
        QCoreApplication::setApplicationName(QStringLiteral(GATEHOUSE_NAME));
        QCoreApplication::setOrganizationName(QStringLiteral(GATEHOUSE_NAME));
        return gh::runForgetKeyCommand(app.arguments().mid(2), QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
    }
    bool headless = hasFlag(argc, argv, "--headless") || !onlyWindowArguments(argc, argv);
#ifndef GATEHOUSE_WITH_UI
    headless = true;
#elif defined(Q_OS_LINUX)
    if (headless)
        handOverToHeadless(argv);
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
    const QCommandLineOption storeOption(QStringLiteral("store"),
        QStringLiteral("Where keys, routes, budgets and the request log live: 'sqlite' (the default, a file in the data folder) "
                       "or postgres://USER@HOST:PORT/DB, a team store shared by several instances (docs/team.md)."),
        QStringLiteral("URL"));
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Apply a declarative JSON config at start-up (docs/config.md)."), QStringLiteral("FILE"));
    const QCommandLineOption keyOption(QStringLiteral("key"), QStringLiteral("connect: the key the snippet is for."), QStringLiteral("NAME"));
    const QCommandLineOption modelOption(QStringLiteral("model"), QStringLiteral("connect: the model the snippet names."), QStringLiteral("M"));
    const QCommandLineOption pausedOption(QStringLiteral("paused"),
        QStringLiteral("Start with every key paused, as the window's \"Pause all\": model requests are refused (gateway_paused) "
                       "until resumed in the window (headless: until restarted without --paused)."));
    const QCommandLineOption workersOption(QStringLiteral("workers"),
        QStringLiteral("Worker threads serving connections, 1-%1 (default: the stored setting, else one per core).").arg(gh::kMaxWorkers),
        QStringLiteral("N"));
    parser.addOptions({headlessOption, portOption, dataOption, storeOption, configOption, keyOption, modelOption, pausedOption, workersOption});
    parser.addPositionalArgument(QStringLiteral("connect"),
        QStringLiteral("connect TOOL [--key NAME] [--model M]: print the snippet that connects TOOL (%1), as the window's "
                       "\"Connect a tool\" shows it.").arg(gh::snippetTools().join(QLatin1String(", "))),
        QStringLiteral("[connect TOOL]"));
    parser.addPositionalArgument(QStringLiteral("export"),
        QStringLiteral("export requests|spend [--format ...] [--out FILE] [--from DATE] [--to DATE] ...: the request log "
                       "(csv, jsonl) or a spend report (csv, html) to a file; 'gatehouse export' alone lists the options."),
        QStringLiteral("[export ...]"));
    // What the command line does not understand is refused (exit code 2), never ignored: a mistyped
    // option must not silently start the window.
    auto usageError = [](const QString &message) {
        printLine(stderr, QStringLiteral("gatehouse: %1").arg(message));
        printLine(stderr, QStringLiteral("Try 'gatehouse --help'."));
        return 2;
    };
    if (!parser.parse(QCoreApplication::arguments()))
        return usageError(parser.errorText());
    if (parser.isSet(QStringLiteral("help")))
        parser.showHelp(0);
    if (parser.isSet(QStringLiteral("version")))
        parser.showVersion();
    const QStringList positional = parser.positionalArguments();
    const bool connectCommand = !positional.isEmpty() && positional.first() == QLatin1String("connect");
    if (!positional.isEmpty() && !connectCommand)
        return usageError(QStringLiteral("unknown command '%1' (the commands are 'connect TOOL', 'catalog update|refresh|show', 'export requests|spend' and 'forget-key NAME')").arg(positional.first()));
    if (!connectCommand && (parser.isSet(keyOption) || parser.isSet(modelOption)))
        return usageError(QStringLiteral("--key and --model belong to 'gatehouse connect TOOL'"));

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
    if (connectCommand) {
        if (positional.size() != 2)
            return usageError(positional.size() < 2 ? QStringLiteral("connect: which tool? One of: %1").arg(gh::snippetTools().join(QLatin1String(", ")))
                                                    : QStringLiteral("connect: unexpected argument '%1'").arg(positional.at(2)));
        if (parser.isSet(headlessOption) || parser.isSet(configOption) || parser.isSet(pausedOption) || parser.isSet(workersOption))
            return usageError(QStringLiteral("connect: --headless, --config, --paused and --workers start a gateway; connect only prints a snippet"));
        // The snippet is the output; the store's open/close notes would only be noise around it.
        if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
            QLoggingCategory::setFilterRules(QStringLiteral("gatehouse.*.info=false"));
        gh::ConnectCommand command;
        command.tool = positional.at(1);
        command.dataDir = options.dataDir;
        command.port = options.port;
        command.keyName = parser.value(keyOption);
        command.model = parser.value(modelOption);
        const gh::ConnectCommandResult result = gh::runConnectCommand(command);
        if (!result.error.isEmpty())
            printLine(stderr, QStringLiteral("gatehouse connect: %1").arg(result.error));
        if (result.exitCode == 0) {
            std::fputs(qPrintable(result.output), stdout);
            std::fflush(stdout);
        }
        return result.exitCode;
    }
    options.configPath = parser.value(configOption);
    if (parser.isSet(storeOption)) {
        const QString store = parser.value(storeOption).trimmed();
        if (store != QLatin1String("sqlite") && !store.startsWith(QLatin1String("postgres://"))
            && !store.startsWith(QLatin1String("postgresql://")))
            return usageError(QStringLiteral("--store: 'sqlite' or a postgres:// (postgresql://) URL"));
        options.store = store;
    }
    // The store chosen in the window's Settings, when --store does not name one.
    const bool storeFromSettings = !parser.isSet(storeOption) && !gh::storelocation::saved(options.dataDir).isEmpty();
    if (storeFromSettings)
        options.store = gh::storelocation::saved(options.dataDir);
    options.paused = parser.isSet(pausedOption);
    // --workers, else GATEHOUSE_WORKERS (the tests' way to pin it); each refused when it is not a count.
    const auto workerCount = [](const QString &text, int *out) {
        bool ok = false;
        const int n = text.trimmed().toInt(&ok);
        if (!ok || n < 1 || n > gh::kMaxWorkers)
            return false;
        *out = n;
        return true;
    };
    if (parser.isSet(workersOption)) {
        if (!workerCount(parser.value(workersOption), &options.workers))
            return usageError(QStringLiteral("--workers: '%1' is not a worker count (1-%2)").arg(parser.value(workersOption)).arg(gh::kMaxWorkers));
    } else if (const QString env = qEnvironmentVariable("GATEHOUSE_WORKERS"); !env.isEmpty() && env != QLatin1String("0")) {
        if (!workerCount(env, &options.workers))
            return usageError(QStringLiteral("GATEHOUSE_WORKERS: '%1' is not a worker count (1-%2)").arg(env).arg(gh::kMaxWorkers));
    }
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
    auto gatewayOwner = std::make_unique<gh::Gateway>();
    auto started = gatewayOwner->start(options);
    if (!started.ok && storeFromSettings) {
        // The team store chosen in Settings cannot be opened (the server is down, the password
        // changed): start on this machine's file instead of not at all, so the window can still be
        // opened to fix or leave the team; Settings says why. --store given on the command line
        // fails as before.
        const QString reason = QStringLiteral("the team store %1 could not be opened (%2); using this machine's own store")
                                   .arg(gh::storelocation::redacted(options.store), started.error);
        gh::storelocation::setFallbackReason(reason);
        options.store = QStringLiteral("sqlite");
        gatewayOwner = std::make_unique<gh::Gateway>();
        started = gatewayOwner->start(options);
        started.warnings.prepend(reason);
    }
    gh::Gateway &gateway = *gatewayOwner;
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
