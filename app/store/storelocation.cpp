#include "store/storelocation.h"
#include "store/pg.h"
#include <QDir>
#include <QFile>
#include <QMutex>
#include <QSaveFile>

namespace gh::storelocation {

namespace {

QString fileIn(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("store-location"));
}

QMutex g_mutex;
QString g_fallbackReason; // under g_mutex

} // namespace

QString saved(const QString &dataDir)
{
    QFile file(fileIn(dataDir));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QString location = QString::fromUtf8(file.read(64 * 1024)).trimmed();
    return pg::isPostgresUrl(location) ? location : QString(); // anything else: the SQLite file
}

bool save(const QString &dataDir, const QString &location, QString *error)
{
    const QString trimmed = location.trimmed();
    const QString path = fileIn(dataDir);
    if (trimmed.isEmpty() || trimmed == QLatin1String("sqlite")) {
        if (QFile::exists(path) && !QFile::remove(path)) {
            *error = QStringLiteral("cannot remove %1").arg(path);
            return false;
        }
        return true;
    }
    if (!pg::isPostgresUrl(trimmed)) {
        *error = QStringLiteral("not a PostgreSQL URL: it starts with postgres:// or postgresql://");
        return false;
    }
    if (!QDir().mkpath(dataDir)) {
        *error = QStringLiteral("cannot create the data folder %1").arg(dataDir);
        return false;
    }
    QSaveFile file(path);
    // Owner-only before a byte is written: the URL may hold the team's password.
    if (!file.open(QIODevice::WriteOnly)
        || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(trimmed.toUtf8() + '\n') < 0 || !file.commit()) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString redacted(const QString &location)
{
    return pg::isPostgresUrl(location) ? pg::redactedUrl(location) : location;
}

void setFallbackReason(const QString &reason)
{
    QMutexLocker lock(&g_mutex);
    g_fallbackReason = reason;
}

QString fallbackReason()
{
    QMutexLocker lock(&g_mutex);
    return g_fallbackReason;
}

} // namespace gh::storelocation
