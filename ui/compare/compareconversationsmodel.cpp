#include "compareconversationsmodel.h"

namespace gh::ui {

int CompareConversationsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_conversations.size());
}

QVariant CompareConversationsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Conversation &c = m_conversations.at(index.row());
    switch (role) {
    case ConversationIdRole:
        return c.id;
    case Qt::DisplayRole:
    case TitleRole:
        return c.title;
    case UpdatedAtRole:
        return c.updatedAtMs;
    case ModelsRole: {
        QStringList models;
        for (const ConversationPane &p : c.panes)
            models << p.model;
        return models.join(QStringLiteral(", "));
    }
    case CurrentRole:
        return c.id == m_currentId;
    default:
        return {};
    }
}

QHash<int, QByteArray> CompareConversationsModel::roleNames() const
{
    return {
        {ConversationIdRole, "conversationId"},
        {TitleRole, "title"},
        {UpdatedAtRole, "updatedAt"},
        {ModelsRole, "models"},
        {CurrentRole, "current"},
    };
}

void CompareConversationsModel::setConversations(const QList<Conversation> &conversations, const QString &currentId)
{
    if (conversations == m_conversations) {
        if (currentId != m_currentId) {
            m_currentId = currentId;
            if (!m_conversations.isEmpty())
                Q_EMIT dataChanged(index(0), index(int(m_conversations.size()) - 1), {CurrentRole});
        }
        return;
    }
    const bool countChanges = conversations.size() != m_conversations.size();
    beginResetModel();
    m_conversations = conversations;
    m_currentId = currentId;
    endResetModel();
    if (countChanges)
        Q_EMIT countChanged();
}

} // namespace gh::ui
