#pragma once
#include "backend.h"
#include "store/conversationstore.h"
#include <QHash>
#include <QJsonArray>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QUrl>
#include <QtQml/qqmlregistration.h>
#include <optional>

namespace gh {
struct RequestRecord;
}

namespace gh::ui {

class ChatStream;
class ComparePanesModel;
class CompareConversationsModel;

// The Compare page: 1 to 4 panes, each asking its own model (or route) the same message at once.
// Every pane streams its answer through the gateway itself over HTTP with the built-in key
// "Gatehouse Chat", so the chat is budgeted and logged like any tool. Usage comes from each
// stream's usage chunk, cost from the request's log row (GatewayEvents::requestFinished, matched by
// the x-gatehouse-request-id header). Conversations are saved (ConversationStore) and votes go to
// the store's votes table, where the quality routing strategy reads them.
class CompareSession : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(gh::ui::ComparePanesModel *panes READ panes CONSTANT)
    Q_PROPERTY(gh::ui::CompareConversationsModel *conversations READ conversations CONSTANT)
    Q_PROPERTY(QStringList availableModels READ availableModels NOTIFY availableModelsChanged)
    Q_PROPERTY(bool ready READ ready NOTIFY backendChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(int round READ round NOTIFY roundChanged)
    Q_PROPERTY(int lastRoundVote READ lastRoundVote NOTIFY roundChanged)
    Q_PROPERTY(QString conversationId READ conversationId NOTIFY conversationChanged)
    Q_PROPERTY(QString conversationTitle READ conversationTitle NOTIFY conversationChanged)
    Q_PROPERTY(QStringList attachments READ attachments NOTIFY attachmentsChanged)
public:
    static constexpr int kFlushIntervalMs = 33; // at most ~30 view updates a second per pane
    static constexpr qint64 kMaxImageBytes = 20 * 1024 * 1024;
    static inline const QString kStopped = QStringLiteral("stopped"); // the error of a stopped answer

    explicit CompareSession(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // object reads nothing before it has one.
    explicit CompareSession(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    ~CompareSession() override;

    [[nodiscard]] ComparePanesModel *panes() const { return m_panes; }
    [[nodiscard]] CompareConversationsModel *conversations() const { return m_conversationList; }
    [[nodiscard]] QStringList availableModels() const { return m_availableModels; }
    [[nodiscard]] bool ready() const { return !m_secret.isEmpty(); }
    [[nodiscard]] bool busy() const;
    [[nodiscard]] int round() const { return m_round; }
    // The vote of the last round: the chosen pane, -1 "all bad", -2 none.
    [[nodiscard]] int lastRoundVote() const;
    [[nodiscard]] QString conversationId() const { return m_conversation.id; }
    [[nodiscard]] QString conversationTitle() const { return m_conversation.title; }
    [[nodiscard]] QStringList attachments() const { return m_attachmentNames; }

    // Sends `text` (and the attached images) to every pane at once. False (and notify()) when a
    // pane is still answering, a pane has no model, or there is nothing to send.
    Q_INVOKABLE bool send(const QString &text);
    Q_INVOKABLE void stop(int pane);
    Q_INVOKABLE void stopAll();
    // Asks the pane's model again for its answer of the last round.
    Q_INVOKABLE bool regenerate(int pane);

    // Panes can be added or removed while the conversation has no rounds yet.
    Q_INVOKABLE bool addPane(const QString &model = {});
    Q_INVOKABLE bool removePane(int pane);
    Q_INVOKABLE void setPaneModel(int pane, const QString &model);
    Q_INVOKABLE void setPaneSystem(int pane, const QString &system);
    // temperature < 0: the model's default.
    Q_INVOKABLE void setPaneTemperature(int pane, double temperature);

    // The best answer of a round (pane), or pane -1: "all bad". One vote row per answering pane,
    // for the model that served it; then the gateway re-reads the votes (quality strategy).
    Q_INVOKABLE bool vote(int round, int pane);

    Q_INVOKABLE void newConversation();
    Q_INVOKABLE bool openConversation(const QString &id);
    Q_INVOKABLE bool renameConversation(const QString &id, const QString &title);
    Q_INVOKABLE bool deleteConversation(const QString &id);
    // Writes the conversation (id "" = the current one) as Markdown.
    Q_INVOKABLE bool exportMarkdown(const QString &id, const QUrl &file);

    // Attaches an image file to the next message (sent as a data: URL to every pane).
    Q_INVOKABLE bool attachImage(const QUrl &file);
    Q_INVOKABLE void removeAttachment(int index);

    Q_INVOKABLE void refreshModels();
    // What a pane's model picker lists: the available models, with `current` first when it is not
    // one of them (a remembered model that is gone, or one typed in).
    Q_INVOKABLE [[nodiscard]] QStringList pickerModels(const QString &current) const;

Q_SIGNALS:
    void backendChanged();
    void availableModelsChanged();
    void busyChanged();
    void roundChanged();
    void conversationChanged();
    void attachmentsChanged();
    void answerFinished(int pane); // a pane's answer ended (done, failed or stopped)
    void notify(const QString &message, bool isError);

private:
    void startAnswer(int pane, int round);
    void onHeaders(ChatStream *stream);
    void onStreamFinished(ChatStream *stream);
    void onRequestFinished(const gh::RequestRecord &record);
    void flushPending();
    void saveAnswer(int pane, int row);
    void recomputeMarks(int round);
    void refreshConversations();
    void rememberModels();
    [[nodiscard]] int paneOf(const ChatStream *stream) const;
    [[nodiscard]] QJsonArray requestMessages(int pane, int round) const;
    [[nodiscard]] QUrl chatUrl() const;
    bool fail(const QString &message);

    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QString m_secret; // the "Gatehouse Chat" key, memory only
    QNetworkAccessManager m_network;
    ConversationStore m_store;
    ComparePanesModel *m_panes;
    CompareConversationsModel *m_conversationList;
    QStringList m_availableModels;
    Conversation m_conversation; // id "" until the first message
    QList<ConversationMessage> m_userMessages; // the user's message of each round (index round - 1)
    int m_round = 0;
    QStringList m_attachmentNames;
    QStringList m_attachmentUrls;
    QTimer m_flush;
    // Costs of the chat key's finished requests by request id (the log row may come before or after
    // the stream's end), the most recent ones only.
    QHash<QString, std::optional<qint64>> m_costs;
    // Request to last byte of the answers streamed in this session, by request id (the marks'
    // "Finished first"); answers loaded from the store fall back to their figures.
    QHash<QString, qint64> m_totalMs;
    QStringList m_costOrder;
};

} // namespace gh::ui
