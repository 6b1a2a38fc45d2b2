#pragma once
#include "store/conversationstore.h"
#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

class ChatModel;
class ChatStream;

// One pane of the Compare page: its settings, its transcript and its answer in progress.
struct ComparePane {
    ConversationPane config;
    ChatModel *chat = nullptr;     // owned by the ComparePanesModel
    ChatStream *stream = nullptr;  // the answer being streamed, nullptr when idle
    QString pending;               // streamed text not shown yet (flushed ~30 times a second)
    int answerRow = -1;            // the row of the answer being streamed in `chat`
};

// The 1 to 4 panes of the Compare page, side by side. Changed through CompareSession.
class ComparePanesModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ComparePanesModel belongs to a CompareSession")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    static constexpr int kMaxPanes = 4;

    enum Roles {
        PaneIndexRole = Qt::UserRole + 1, // 0-based position
        ModelRole, // the model id or route alias it asks
        SystemRole, // the system prompt ("" = none)
        TemperatureRole, // -1 = the model's default
        StreamingRole, // an answer is arriving
        ChatRole, // ChatModel: the pane's transcript
    };
    Q_ENUM(Roles)

    using QAbstractListModel::QAbstractListModel;
    ~ComparePanesModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int count() const { return int(m_panes.size()); }
    [[nodiscard]] ComparePane &pane(int i) { return m_panes[i]; }
    [[nodiscard]] const ComparePane &pane(int i) const { return m_panes.at(i); }
    // Adds a pane with an empty transcript (its ChatModel is created here).
    void append(const ConversationPane &config);
    // Removes a pane (its answer in progress must be stopped first).
    void removeAt(int i);
    // After pane(i) was changed.
    void paneChanged(int i);

Q_SIGNALS:
    void countChanged();

private:
    QList<ComparePane> m_panes;
};

} // namespace gh::ui
