#include "state/catalogcommand.h"

#include "pricing/catalogupdater.h"
#include "store/store.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <cstdio>

namespace gh {

namespace {

void say(FILE *stream, const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stream);
    std::fflush(stream);
}

int usage(const QString &problem)
{
    say(stderr, QStringLiteral("gatehouse catalog: %1").arg(problem));
    say(stderr, QStringLiteral("usage: gatehouse catalog update [--from FILE|URL] [--data-dir DIR]\n"
                               "       gatehouse catalog refresh on|off [--data-dir DIR]\n"
                               "       gatehouse catalog show [--data-dir DIR]"));
    return 2;
}

// The command line of `gatehouse catalog`.
struct CatalogArgs {
    QString dataDir;
    QString from;
    bool fromSet = false;
    QStringList positional;
};

// Reads --data-dir and --from (each as "--name value" or "--name=value") and the words; returns the
// problem with them, or an empty string.
QString parseCatalogArgs(const QStringList &args, CatalogArgs &out)
{
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &a = args.at(i);
        if (a == u"--data-dir" || a == u"--from") {
            if (i + 1 >= args.size())
                return QStringLiteral("%1 needs a value").arg(a);
            (a == u"--from" ? out.from : out.dataDir) = args.at(++i);
            out.fromSet = out.fromSet || a == u"--from";
        } else if (a.startsWith(QLatin1String("--data-dir="))) {
            out.dataDir = a.mid(11);
        } else if (a.startsWith(QLatin1String("--from="))) {
            out.from = a.mid(7);
            out.fromSet = true;
        } else if (a.startsWith(u'-')) {
            return QStringLiteral("unknown option %1").arg(a);
        } else {
            out.positional.append(a);
        }
    }
    return out.positional.isEmpty() ? QStringLiteral("missing command") : QString();
}

void showCatalog(const Store &store, const QString &dataDir)
{
    const auto catalog = CatalogUpdater::loadStored(dataDir);
    say(stdout, QStringLiteral("source: %1\ntaken on: %2\nproviders: %3\nmodels: %4\nnetwork refresh: %5")
                    .arg(catalog->source(), catalog->takenOn().toString(Qt::ISODate))
                    .arg(catalog->providers().size())
                    .arg(catalog->size())
                    .arg(store.setting(QLatin1String(CatalogUpdater::kRefreshSettingKey), QStringLiteral("on"))));
}

// Installs a new catalog from --from (a file or URL) or the default source, and waits for it.
int updateCatalog(const Store &store, const CatalogArgs &args)
{
    QUrl source = args.fromSet ? QUrl::fromUserInput(args.from, QDir::currentPath(), QUrl::AssumeLocalFile)
                               : CatalogUpdater::defaultSource();
    if (args.fromSet && args.from.isEmpty())
        return usage(QStringLiteral("--from needs a file or URL"));
    const bool network = !source.isLocalFile();
    if (network && store.setting(QLatin1String(CatalogUpdater::kRefreshSettingKey)) == u"off") {
        say(stderr, QStringLiteral("gatehouse catalog: network refreshes are off (gatehouse catalog refresh on); "
                                   "a local file can still be installed with --from FILE"));
        return 1;
    }
    // The running gateway keeps its catalog until it reloads; the new one is used from then on.
    PriceCatalog::setCurrent(CatalogUpdater::loadStored(args.dataDir));
    CatalogUpdater updater(args.dataDir);
    QEventLoop loop;
    CatalogUpdater::Result result;
    QObject::connect(&updater, &CatalogUpdater::finished, &loop, [&](const CatalogUpdater::Result &r) {
        result = r;
        loop.quit();
    });
    QMetaObject::invokeMethod(&updater, [&] { updater.update(source); }, Qt::QueuedConnection);
    loop.exec();
    say(result.ok ? stdout : stderr, result.message);
    return result.ok ? 0 : 1;
}

} // namespace

int runCatalogCommand(const QStringList &arguments, const QString &defaultDataDir)
{
    CatalogArgs args;
    args.dataDir = defaultDataDir;
    if (const QString problem = parseCatalogArgs(arguments, args); !problem.isEmpty())
        return usage(problem);
    if (!QDir().mkpath(args.dataDir)) {
        say(stderr, QStringLiteral("gatehouse catalog: cannot create the data folder %1").arg(args.dataDir));
        return 1;
    }
    Store store;
    QString error;
    if (!store.open(QDir(args.dataDir).filePath(QStringLiteral("gatehouse.db")), &error)) {
        say(stderr, QStringLiteral("gatehouse catalog: %1").arg(error));
        return 1;
    }
    QStringList &positional = args.positional;
    const QString command = positional.takeFirst();
    if (command == u"refresh") {
        if (positional.size() != 1 || (positional.first() != u"on" && positional.first() != u"off"))
            return usage(QStringLiteral("refresh takes on or off"));
        store.setSetting(QLatin1String(CatalogUpdater::kRefreshSettingKey), positional.first());
        say(stdout, QStringLiteral("price catalog refreshes over the network: %1").arg(positional.first()));
        return 0;
    }
    if (command == u"show") {
        if (!positional.isEmpty() || args.fromSet)
            return usage(QStringLiteral("show takes no arguments"));
        showCatalog(store, args.dataDir);
        return 0;
    }
    if (command != u"update" || !positional.isEmpty())
        return usage(QStringLiteral("unknown command %1").arg((QStringList{command} + positional).join(u' ')));
    return updateCatalog(store, args);
}

} // namespace gh
