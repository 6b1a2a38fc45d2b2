#include "comparepanesmodel.h"
#include "chatmodel.h"

namespace gh::ui {

ComparePanesModel::~ComparePanesModel() = default; // chats are children

int ComparePanesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_panes.size());
}

QVariant ComparePanesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ComparePane &p = m_panes.at(index.row());
    switch (role) {
    case PaneIndexRole:
        return index.row();
    case Qt::DisplayRole:
    case ModelRole:
        return p.config.model;
    case SystemRole:
        return p.config.system;
    case TemperatureRole:
        return p.config.temperature.value_or(-1.0);
    case StreamingRole:
        return p.stream != nullptr;
    case ChatRole:
        return QVariant::fromValue<QObject *>(p.chat);
    default:
        return {};
    }
}

QHash<int, QByteArray> ComparePanesModel::roleNames() const
{
    return {
        {PaneIndexRole, "paneIndex"},
        {ModelRole, "paneModel"},
        {SystemRole, "system"},
        {TemperatureRole, "temperature"},
        {StreamingRole, "streaming"},
        {ChatRole, "chat"},
    };
}

void ComparePanesModel::append(const ConversationPane &config)
{
    const int row = int(m_panes.size());
    ComparePane p;
    p.config = config;
    p.chat = new ChatModel(this);
    beginInsertRows({}, row, row);
    m_panes << p;
    endInsertRows();
    Q_EMIT countChanged();
}

void ComparePanesModel::removeAt(int i)
{
    if (i < 0 || i >= m_panes.size())
        return;
    beginRemoveRows({}, i, i);
    ComparePane p = m_panes.takeAt(i);
    endRemoveRows();
    p.chat->deleteLater();
    // Later panes moved: their index changed.
    if (i < m_panes.size())
        Q_EMIT dataChanged(index(i), index(int(m_panes.size()) - 1), {PaneIndexRole});
    Q_EMIT countChanged();
}

void ComparePanesModel::paneChanged(int i)
{
    if (i >= 0 && i < m_panes.size())
        Q_EMIT dataChanged(index(i), index(i));
}

} // namespace gh::ui
