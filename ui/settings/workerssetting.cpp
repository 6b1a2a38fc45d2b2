#include "workerssetting.h"
#include "config/config.h"
#include "gateway/gateway.h"
#include "state/configapply.h"
#include <QThread>

namespace gh::ui {

WorkersSetting::WorkersSetting(QObject *parent)
    : QObject(parent)
{
}

void WorkersSetting::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "WorkersSetting"))
        return;
    m_stored = loadGatewaySettings(m_backend->store()).workers;
    announceBackend(this);
}

int WorkersSetting::cores()
{
    return qMax(1, QThread::idealThreadCount());
}

int WorkersSetting::serving() const
{
    return m_backend ? m_backend->gateway().workerCount() : 0;
}

bool WorkersSetting::fromCommandLine() const
{
    return m_backend && m_backend->gateway().workerCountFromCommandLine();
}

bool WorkersSetting::restartNeeded() const
{
    if (!m_backend || fromCommandLine())
        return false;
    return (m_stored > 0 ? m_stored : cores()) != serving();
}

bool WorkersSetting::apply(int count)
{
    if (!m_backend)
        return false;
    if (count < 0 || count > cores()) {
        setError(tr("Choose Automatic or a number of workers from 1 to %1.").arg(cores()));
        return false;
    }
    GatewaySettings settings = loadGatewaySettings(m_backend->store());
    settings.workers = count;
    saveGatewaySettings(m_backend->store(), settings);
    setError({});
    if (m_stored != count) {
        m_stored = count;
        Q_EMIT storedChanged();
    }
    return true;
}

void WorkersSetting::setError(const QString &error)
{
    if (error == m_error)
        return;
    m_error = error;
    Q_EMIT errorChanged();
}

} // namespace gh::ui
