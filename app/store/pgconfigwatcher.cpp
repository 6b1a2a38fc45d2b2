#include "store/pgconfigwatcher.h"
#include "core/logging.h"
#include <libpq-fe.h>
#include <QSocketNotifier>
#include <QTimer>

namespace gh {

PgConfigWatcher::PgConfigWatcher(std::function<int()> ownBackendPid, QObject *parent)
    : QObject(parent)
    , m_ownBackendPid(std::move(ownBackendPid))
    , m_retry(new QTimer(this))
    , m_coalesce(new QTimer(this))
{
    m_retry->setInterval(kRetryMs);
    connect(m_retry, &QTimer::timeout, this, [this] {
        QString why;
        if (!connectAndListen(&why))
            return; // tried again at the next tick
        m_retry->stop();
        qCInfo(lcStore).noquote() << "listening for the team's configuration changes again";
        // What changed while the connection was down sent notifications nobody received.
        for (const QString &t : tables())
            m_pending.insert(t);
        report();
    });
    m_coalesce->setSingleShot(true);
    m_coalesce->setInterval(kCoalesceMs);
    connect(m_coalesce, &QTimer::timeout, this, &PgConfigWatcher::report);
}

PgConfigWatcher::~PgConfigWatcher()
{
    stop();
}

QStringList PgConfigWatcher::tables()
{
    return {QStringLiteral("keys"), QStringLiteral("providers"), QStringLiteral("models"), QStringLiteral("routes"),
        QStringLiteral("settings")};
}

bool PgConfigWatcher::start(const QString &url, QString *error)
{
    stop();
    m_url = url;
    if (connectAndListen(error))
        return true;
    m_retry->start();
    return false;
}

void PgConfigWatcher::stop()
{
    m_retry->stop();
    m_coalesce->stop();
    m_pending.clear();
    dropConnection();
}

bool PgConfigWatcher::connectAndListen(QString *error)
{
    dropConnection();
    if (!m_conn.open(m_url, error) || !m_conn.exec("LISTEN gatehouse_config", error)) {
        m_conn.close();
        return false;
    }
    const int socket = PQsocket(m_conn.handle());
    if (socket < 0) {
        *error = QStringLiteral("the connection has no socket");
        m_conn.close();
        return false;
    }
    m_notifier = new QSocketNotifier(qintptr(socket), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &PgConfigWatcher::onReadable);
    return true;
}

void PgConfigWatcher::dropConnection()
{
    delete m_notifier; // before the socket it watches is closed
    m_notifier = nullptr;
    m_conn.close();
}

void PgConfigWatcher::onReadable()
{
    pg_conn *c = m_conn.handle();
    if (!c || PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
        qCWarning(lcStore).noquote()
            << "lost the connection that listens for the team's configuration changes; retrying every" << kRetryMs
            << "ms";
        dropConnection();
        m_retry->start();
        return;
    }
    const int own = m_ownBackendPid ? m_ownBackendPid() : 0;
    while (PGnotify *n = PQnotifies(c)) {
        if (n->be_pid != own)
            m_pending.insert(QString::fromUtf8(n->extra));
        PQfreemem(n);
    }
    if (!m_pending.isEmpty() && !m_coalesce->isActive())
        m_coalesce->start();
}

void PgConfigWatcher::report()
{
    if (m_pending.isEmpty())
        return;
    const QSet<QString> tables = std::exchange(m_pending, {});
    qCDebug(lcStore) << "another instance changed" << tables;
    Q_EMIT changed(tables);
}

} // namespace gh
