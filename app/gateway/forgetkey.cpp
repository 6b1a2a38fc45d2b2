#include "gateway/forgetkey.h"
#include "cache/responsecache.h"
#include "capture/bodycapture.h"
#include "store/store.h"
#include <cstdio>
#include <limits>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>

namespace gh {

namespace {

void say(FILE *stream, const QString &line)
{
    std::fputs(qPrintable(line + u'\n'), stream);
    std::fflush(stream);
}

} // namespace

QString ForgetKeyReport::summary(const QString &name) const
{
    return QStringLiteral(
        "Deleted key '%1': %2 request(s) of the log (%3 attempt(s), %4 session(s)), %5 guardrail trip(s), "
        "%6 captured exchange(s), %7 cached answer(s). The audit trail keeps a record of the deletion.")
        .arg(name)
        .arg(log.requests)
        .arg(log.attempts)
        .arg(log.sessions)
        .arg(log.trips)
        .arg(captures)
        .arg(cachedAnswers);
}

bool forgetKey(Store &store, ResponseCache *cache, BodyCapture *capture, const QString &dataDir, const QString &name,
    ForgetKeyReport *report, QString *error)
{
    const auto key = store.keyByName(name);
    if (!key) {
        if (error)
            *error = QStringLiteral("no key is named '%1'").arg(name);
        return false;
    }
    ForgetKeyReport r;
    if (capture)
        capture->flush(); // its captures still queued go too
    if (!store.forgetKey(name, &r.log, error))
        return false;
    QString why;
    const QString capturePath = BodyCapture::pathIn(dataDir);
    if (capture || QFileInfo::exists(capturePath)) {
        r.captures = BodyCapture::deleteKey(capturePath, key->id, &why);
        if (r.captures < 0) {
            if (error)
                *error = QStringLiteral("the key's log rows were deleted, but not its captured bodies: %1").arg(why);
            return false;
        }
    }
    if (cache) {
        r.cachedAnswers = cache->removeKey(key->id);
        cache->flush();
    } else if (const QString cachePath = QDir(dataDir).filePath(QStringLiteral("response-cache.db"));
               QFileInfo::exists(cachePath)) {
        ResponseCache file;
        if (!file.open(cachePath, std::numeric_limits<qint64>::max() / 4, &why)) {
            if (error)
                *error = QStringLiteral("the key's log rows were deleted, but not its cached answers: %1").arg(why);
            return false;
        }
        r.cachedAnswers = file.removeKey(key->id);
        file.flush();
    }
    if (report)
        *report = r;
    return true;
}

int runForgetKeyCommand(const QStringList &arguments, const QString &defaultDataDir)
{
    QCommandLineParser parser;
    const QCommandLineOption dataOption(
        QStringLiteral("data-dir"), QStringLiteral("The data folder."), QStringLiteral("DIR"));
    const QCommandLineOption yesOption(QStringLiteral("yes"), QStringLiteral("Delete without asking."));
    parser.addOptions({dataOption, yesOption});
    const QString usage = QStringLiteral("usage: gatehouse forget-key NAME [--data-dir DIR] --yes");
    if (!parser.parse(QStringList{QStringLiteral("gatehouse")} + arguments)) {
        say(stderr, QStringLiteral("gatehouse forget-key: %1\n%2").arg(parser.errorText(), usage));
        return 2;
    }
    if (parser.positionalArguments().size() != 1) {
        say(stderr, usage);
        return 2;
    }
    const QString name = parser.positionalArguments().first();
    if (!parser.isSet(yesOption)) {
        say(stderr,
            QStringLiteral(
                "gatehouse forget-key: this deletes key '%1', its request log, captured bodies, cached answers and "
                "guardrail trips for good; stop Gatehouse first, then run it again with --yes")
                .arg(name));
        return 2;
    }
    const QString dataDir = parser.value(dataOption).isEmpty() ? defaultDataDir : parser.value(dataOption);
    const QString dbPath = QDir(dataDir).filePath(QStringLiteral("gatehouse.db"));
    if (!QFileInfo::exists(dbPath)) {
        say(stderr,
            QStringLiteral("gatehouse forget-key: no database at %1 (see --data-dir)")
                .arg(QDir::toNativeSeparators(dbPath)));
        return 1;
    }
    Store store;
    QString error;
    if (!store.open(dbPath, &error)) {
        say(stderr, QStringLiteral("gatehouse forget-key: %1").arg(error));
        return 1;
    }
    const AuditOriginScope origin(AuditOrigin::Cli);
    ForgetKeyReport report;
    if (!forgetKey(store, nullptr, nullptr, dataDir, name, &report, &error)) {
        say(stderr, QStringLiteral("gatehouse forget-key: %1").arg(error));
        return 1;
    }
    store.close();
    say(stdout, report.summary(name));
    return 0;
}

} // namespace gh
