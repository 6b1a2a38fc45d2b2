#include "storesettings.h"
#include "gateway/gateway.h"
#include "store/pgleasestore.h"
#include "store/storelocation.h"
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QThread>
#include <QUrl>

namespace gh::ui {

namespace {

// The server's message as it is, with the URL's password taken out should it appear in it.
QString withoutPassword(QString message, const QString &url)
{
    const QString password = QUrl(url.trimmed()).password();
    if (!password.isEmpty())
        message.replace(password, QStringLiteral("***"));
    return message;
}

} // namespace

StoreSettings::StoreSettings(QObject *parent)
    : QObject(parent)
{ }

StoreSettings::StoreSettings(Backend *backend, QObject *parent)
    : QObject(parent)
{
    setBackend(backend);
}

StoreSettings::~StoreSettings() = default;

void StoreSettings::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "StoreSettings"))
        return;
    m_savedRaw = storelocation::saved(m_backend->gateway().dataDir());
    announceBackend(this);
}

bool StoreSettings::isTeam() const
{
    return m_backend && m_backend->store().isTeamStore();
}

QString StoreSettings::inUse() const
{
    return m_backend ? storelocation::redacted(m_backend->store().path()) : QString();
}

QString StoreSettings::saved() const
{
    return storelocation::redacted(m_savedRaw);
}

bool StoreSettings::restartNeeded() const
{
    if (!m_backend)
        return false;
    if (m_savedRaw.isEmpty()) // the SQLite file: a team store in use came from "Join", --store or the config
        return isTeam() && m_leftThisRun;
    return m_savedRaw != m_backend->store().path();
}

QString StoreSettings::fallbackReason() const
{
    return storelocation::fallbackReason();
}

void StoreSettings::testConnection(const QString &url)
{
    run(url, false);
}

void StoreSettings::join(const QString &url)
{
    run(url, true);
}

bool StoreSettings::leave()
{
    if (!m_backend || m_busy)
        return false;
    QString error;
    if (!storelocation::save(m_backend->gateway().dataDir(), QString(), &error)) {
        finish(false, error);
        return false;
    }
    m_savedRaw.clear();
    m_leftThisRun = true;
    Q_EMIT savedChanged();
    finish(true,
        isTeam() ? tr("Saved: Gatehouse uses this machine's own store (%1) from its next start. Restart it to leave the team.")
                       .arg(QDir::toNativeSeparators(QDir(m_backend->gateway().dataDir()).filePath(QStringLiteral("gatehouse.db"))))
                 : tr("This machine's own store stays in use."));
    return true;
}

void StoreSettings::run(const QString &url, bool save)
{
    if (!m_backend || m_busy)
        return;
    const QString trimmed = url.trimmed();
    if (trimmed.isEmpty()) {
        finish(false, tr("Enter the team's PostgreSQL URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE"));
        return;
    }
    m_busy = true;
    m_result = save ? tr("Joining…") : tr("Connecting…");
    m_resultOk = false;
    Q_EMIT resultChanged();
    QPointer<StoreSettings> self(this);
    const QString dataDir = m_backend->gateway().dataDir();
    // A thread of its own: a server that does not answer holds it up to libpq's connect timeout (5 s).
    QThread *thread = QThread::create([self, trimmed, save, dataDir] {
        QString summary;
        QString error;
        bool ok = PgTeamReader::testConnection(trimmed, &summary, &error);
        if (ok && save && !storelocation::save(dataDir, trimmed, &error))
            ok = false;
        const QString message = withoutPassword(ok ? summary : error, trimmed);
        // Checked on the UI thread, where the object would be deleted.
        QMetaObject::invokeMethod(qApp, [self, ok, message, save, trimmed] {
            if (!self)
                return;
            if (ok && save) {
                self->m_savedRaw = trimmed;
                self->m_leftThisRun = false;
                Q_EMIT self->savedChanged();
            }
            self->finish(ok, ok && save ? tr("%1. Saved: Gatehouse joins this team at its next start. Restart it to apply.").arg(message)
                                        : message);
        }, Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    m_thread = thread;
    thread->start();
}

void StoreSettings::finish(bool ok, const QString &message)
{
    m_busy = false;
    m_resultOk = ok;
    m_result = message;
    Q_EMIT resultChanged();
}

void StoreSettings::waitForIdleForTesting()
{
    QElapsedTimer clock;
    clock.start();
    while (m_busy && clock.elapsed() < 30'000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
}

} // namespace gh::ui
