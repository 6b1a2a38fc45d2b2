#pragma once
#include "core/money.h"
#include <QList>
#include <QString>
#include <QStringList>
#include <optional>

struct sqlite3;

namespace gh {

// One pane of a Compare conversation: what it asks and how.
struct ConversationPane {
    QString model;                     // a model id or a route alias
    QString system;                    // optional system prompt ("" = none)
    std::optional<double> temperature; // std::nullopt: the model's default
    friend bool operator==(const ConversationPane &, const ConversationPane &) = default;
};

// A saved Compare conversation (the conversations table of migration 3).
struct Conversation {
    QString id;
    QString title;
    qint64 createdAtMs = 0;
    qint64 updatedAtMs = 0;
    QList<ConversationPane> panes;
    friend bool operator==(const Conversation &, const Conversation &) = default;
};

// One message of a conversation. The user's message of a round is shared by every pane (pane -1);
// each pane's answer is an "assistant" row of that round and pane.
struct ConversationMessage {
    static constexpr int kAllPanes = -1;
    static constexpr int kNoVote = -2;

    QString conversationId;
    int round = 0;                 // 1-based
    int pane = kAllPanes;
    QString role;                  // "user" | "assistant"
    QString content;
    QStringList images;            // data: URLs attached to a user message
    QString modelId;               // the model that served (x-gatehouse-model), or the one asked for
    QString requestId;             // the gateway's request id (the log row)
    qint64 inputTokens = 0;        // uncached input tokens (as in the request log)
    qint64 outputTokens = 0;
    qint64 cacheReadTokens = 0;
    std::optional<NanoUsd> cost;   // from the request log row; std::nullopt: unpriced or not known
    qint64 ttftMs = -1;
    double tokensPerSecond = 0;
    QString error;                 // "" on success
    int vote = kNoVote;            // 1 chosen, 0 not chosen, -1 all bad, kNoVote: the round has no vote
    qint64 createdAtMs = 0;
    friend bool operator==(const ConversationMessage &, const ConversationMessage &) = default;
};

// The Compare page's conversations, on a SQLite connection of its own to the gateway's database
// file (WAL, so it never blocks the log writer for long). Synchronous; use from one thread.
class ConversationStore
{
public:
    ConversationStore() = default;
    ~ConversationStore();
    ConversationStore(const ConversationStore &) = delete;
    ConversationStore &operator=(const ConversationStore &) = delete;

    // Opens the database file (migrating it to the current schema when needed).
    [[nodiscard]] bool open(const QString &path, QString *error = nullptr);
    void close();
    [[nodiscard]] bool isOpen() const { return m_db != nullptr; }
    [[nodiscard]] QString lastError() const { return m_lastError; }

    // Newest (updated last) first.
    [[nodiscard]] QList<Conversation> conversations() const;
    [[nodiscard]] std::optional<Conversation> conversation(const QString &id) const;
    // Inserts or replaces by id.
    bool saveConversation(const Conversation &conversation);
    bool rename(const QString &id, const QString &title);
    // Also updates updated_at_ms.
    bool touch(const QString &id, qint64 nowMs);
    // Deletes the conversation and its messages.
    bool remove(const QString &id);

    // Ordered by round, then the user's message, then the panes in order.
    [[nodiscard]] QList<ConversationMessage> messages(const QString &conversationId) const;
    // Inserts or replaces by (conversation, round, pane, role).
    bool saveMessage(const ConversationMessage &message);
    // Sets the vote of every assistant message of a round: `chosenPane` gets 1, the others 0;
    // chosenPane -1 marks them all -1 ("all bad").
    bool setRoundVote(const QString &conversationId, int round, int chosenPane);

    // The conversation as a Markdown document (title, each round's message and every pane's answer
    // with its model and figures).
    [[nodiscard]] static QString toMarkdown(const Conversation &conversation, const QList<ConversationMessage> &messages);

private:
    bool fail(const char *what) const;
    sqlite3 *m_db = nullptr;
    mutable QString m_lastError;
};

} // namespace gh
