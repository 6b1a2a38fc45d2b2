#pragma once
#include "store/conversationstore.h"
#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The saved Compare conversations, newest first (the side list). Filled by CompareSession.
class CompareConversationsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("CompareConversationsModel belongs to a CompareSession")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        ConversationIdRole = Qt::UserRole + 1, // the conversation's id
        TitleRole, // its title (the first message, or what the user renamed it to)
        UpdatedAtRole, // ms since the epoch of the last message
        ModelsRole, // the panes' models, comma-separated
        CurrentRole, // the one the page shows
    };
    Q_ENUM(Roles)

    using QAbstractListModel::QAbstractListModel;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    void setConversations(const QList<Conversation> &conversations, const QString &currentId);
    [[nodiscard]] const QList<Conversation> &conversations() const { return m_conversations; }

Q_SIGNALS:
    void countChanged();

private:
    QList<Conversation> m_conversations;
    QString m_currentId;
};

} // namespace gh::ui
