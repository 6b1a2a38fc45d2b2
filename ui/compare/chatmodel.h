#pragma once
#include "store/conversationstore.h"
#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

class MarkdownBlocksModel;

// The transcript of one Compare pane: for each round the user's message and this pane's answer,
// with the answer's figures (time to first token, tokens/s, tokens, cost) and marks (fastest,
// cheapest, vote). Filled by CompareSession.
class ChatModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("ChatModel belongs to a Compare pane")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        RoleRole = Qt::UserRole + 1, // "user" | "assistant"
        TextRole, // the whole Markdown text (as streamed so far)
        BlocksRole, // MarkdownBlocksModel: the text cut into prose and code blocks
        RoundRole, // 1-based round
        ModelIdRole, // the model that answered (the served model of a route)
        RequestIdRole, // the gateway's request id
        InputTokensRole, // all input tokens (cached included)
        CachedTokensRole, // input tokens read from the provider's cache
        OutputTokensRole,
        CostRole, // USD from the request log row; -1 while unknown or unpriced
        CostStateRole, // "pending" (no log row yet), "priced", "unpriced"
        TtftMsRole, // time to first token as the chat saw it, -1 when none
        TokensPerSecondRole, // output tokens per second of generation
        ErrorRole, // "" on success
        StreamingRole, // the answer is still arriving
        FastestRole, // the fastest finished answer of its round
        CheapestRole, // the cheapest priced answer of its round
        VoteRole, // 1 chosen, 0 not chosen, -1 all bad, -2 no vote yet
        ImageCountRole, // images attached to a user message
    };
    Q_ENUM(Roles)

    struct Entry {
        ConversationMessage message;
        MarkdownBlocksModel *blocks = nullptr; // owned by the ChatModel
        bool streaming = false;
        bool costKnown = false; // the log row was seen (cost set, or unpriced)
        bool fastest = false;
        bool cheapest = false;
    };

    explicit ChatModel(QObject *parent = nullptr);
    ~ChatModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    void clear();
    // Returns the new row.
    int append(const ConversationMessage &message, bool streaming = false, bool costKnown = false);
    [[nodiscard]] const Entry &entry(int row) const { return m_entries.at(row); }
    // The assistant row of a round, -1 when this pane has none.
    [[nodiscard]] int answerRow(int round) const;
    // Replaces a row's message (figures, error, text) and its streaming state.
    void update(int row, const ConversationMessage &message, bool streaming);
    // Appends streamed text to a row (one view update per call: the caller batches).
    void appendText(int row, const QString &text);
    void setCost(int row, std::optional<NanoUsd> cost);
    void setMarks(int row, bool fastest, bool cheapest);
    void setVote(int row, int vote);
    // The text streamed so far of a row (for tests and the copy button).
    Q_INVOKABLE [[nodiscard]] QString textAt(int row) const;

Q_SIGNALS:
    void countChanged();

private:
    void changed(int row, const QList<int> &roles);
    QList<Entry> m_entries;
};

} // namespace gh::ui
