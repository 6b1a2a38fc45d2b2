#include "localserversmodel.h"
#include "providersmodel.h"
#include <QTimer>

namespace gh::ui {

LocalServersModel::LocalServersModel(QObject *parent)
    : QAbstractListModel(parent)
{
    connect(&m_discovery, &LocalDiscovery::finished, this, [this] {
        const int before = int(m_servers.size());
        beginResetModel();
        m_servers = m_discovery.servers();
        endResetModel();
        if (before != m_servers.size())
            Q_EMIT countChanged();
        Q_EMIT scanningChanged();
    });
    // At start-up: once QML has set the properties (ports), on the next turn of the event loop.
    QTimer::singleShot(0, this, &LocalServersModel::scan);
}

LocalServersModel::~LocalServersModel() = default;

int LocalServersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_servers.size());
}

QVariant LocalServersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LocalServer &s = m_servers.at(index.row());
    switch (role) {
    case NameRole: return s.name;
    case KindRole: return s.kind;
    case ProviderIdRole: return s.providerId;
    case BaseUrlRole: return s.baseUrl.toString();
    case PortRole: return int(s.port);
    case ModelsRole: return s.models;
    case NeedsKeyRole: return s.needsKey;
    case AddedRole: return m_providers && m_providers->hasBaseUrl(s.baseUrl.toString());
    default: return {};
    }
}

QHash<int, QByteArray> LocalServersModel::roleNames() const
{
    return {{NameRole, "name"}, {KindRole, "kind"}, {ProviderIdRole, "providerId"}, {BaseUrlRole, "baseUrl"},
            {PortRole, "port"}, {ModelsRole, "models"}, {NeedsKeyRole, "needsKey"}, {AddedRole, "added"}};
}

void LocalServersModel::setProviders(ProvidersModel *providers)
{
    if (m_providers == providers)
        return;
    if (m_providers)
        disconnect(m_providers, nullptr, this, nullptr);
    m_providers = providers;
    if (m_providers)
        connect(m_providers, &ProvidersModel::countChanged, this, &LocalServersModel::refreshAdded);
    refreshAdded();
    Q_EMIT providersChanged();
}

QList<int> LocalServersModel::ports() const
{
    QList<int> out;
    for (quint16 p : LocalDiscovery::defaultPorts())
        out.append(p);
    return m_portsSet ? m_ports : out;
}

void LocalServersModel::setPorts(const QList<int> &ports)
{
    QList<quint16> list;
    for (int p : ports) {
        if (p > 0 && p <= 65535)
            list.append(quint16(p));
    }
    m_discovery.setPorts(list);
    m_ports = ports;
    m_portsSet = true;
    Q_EMIT portsChanged();
}

void LocalServersModel::scan()
{
    if (m_discovery.isProbing())
        return;
    m_discovery.probe();
    Q_EMIT scanningChanged();
}

QStringList LocalServersModel::unaddedNames() const
{
    QStringList out;
    for (int row = 0; row < m_servers.size(); ++row) {
        if (!data(index(row), AddedRole).toBool())
            out << m_servers.at(row).name;
    }
    return out;
}

QString LocalServersModel::add(int row)
{
    if (row < 0 || row >= m_servers.size())
        return tr("No such server.");
    if (!m_providers)
        return tr("The gateway is not running.");
    const LocalServer &s = m_servers.at(row);
    const QString error = m_providers->addLocalProvider(s.providerId, s.baseUrl.toString(), s.models);
    refreshAdded();
    return error;
}

void LocalServersModel::refreshAdded()
{
    if (!m_servers.isEmpty())
        Q_EMIT dataChanged(index(0), index(int(m_servers.size()) - 1), {AddedRole});
}

} // namespace gh::ui
