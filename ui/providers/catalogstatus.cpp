#include "catalogstatus.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "pricing/catalogupdater.h"
#include "store/store.h"

namespace gh::ui {

CatalogStatus::CatalogStatus(QObject *parent)
    : QObject(parent)
{
}

CatalogStatus::CatalogStatus(Backend *backend, QObject *parent)
    : CatalogStatus(parent)
{
    setBackend(backend);
}

void CatalogStatus::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "CatalogStatus"))
        return;
    announceBackend(this);
}

CatalogStatus::~CatalogStatus() = default;

QString CatalogStatus::source() const
{
    return PriceCatalog::current()->source();
}

QString CatalogStatus::takenOn() const
{
    return PriceCatalog::current()->takenOn().toString(Qt::ISODate);
}

int CatalogStatus::modelCount() const
{
    return PriceCatalog::current()->size();
}

bool CatalogStatus::refreshEnabled() const
{
    return !m_backend || m_backend->store().setting(QLatin1String(CatalogUpdater::kRefreshSettingKey)) != u"off";
}

void CatalogStatus::setRefreshEnabled(bool enabled)
{
    if (!m_backend || enabled == refreshEnabled())
        return;
    m_backend->store().setSetting(QLatin1String(CatalogUpdater::kRefreshSettingKey), enabled ? QStringLiteral("on") : QStringLiteral("off"));
    Q_EMIT refreshEnabledChanged();
}

void CatalogStatus::update()
{
    if (!m_backend || m_busy)
        return;
    if (!refreshEnabled()) {
        m_lastFailed = true;
        m_message = tr("Network refreshes are turned off.");
        Q_EMIT messageChanged();
        return;
    }
    if (!m_updater) {
        m_updater = std::make_unique<CatalogUpdater>(m_backend->gateway().dataDir());
        connect(m_updater.get(), &CatalogUpdater::finished, this, [this](const CatalogUpdater::Result &result) {
            m_busy = false;
            m_lastFailed = !result.ok;
            m_message = result.ok ? tr("Updated: %1.").arg(result.diff.summary()) : result.message;
            if (result.ok && m_backend)
                m_backend->routesEdited(); // the gateway re-prices its models from the new catalog
            Q_EMIT busyChanged();
            Q_EMIT messageChanged();
            Q_EMIT changed();
        });
    }
    m_busy = true;
    m_message = tr("Fetching the newest prices…");
    m_lastFailed = false;
    Q_EMIT busyChanged();
    Q_EMIT messageChanged();
    m_updater->update(CatalogUpdater::defaultSource());
}

} // namespace gh::ui
