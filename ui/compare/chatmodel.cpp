#include "chatmodel.h"
#include "markdownblocks.h"

namespace gh::ui {

ChatModel::ChatModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

ChatModel::~ChatModel() = default; // the blocks models are children

int ChatModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_entries.size());
}

QVariant ChatModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Entry &e = m_entries.at(index.row());
    const ConversationMessage &m = e.message;
    switch (role) {
    case RoleRole:
        return m.role;
    case Qt::DisplayRole:
    case TextRole:
        return m.content;
    case BlocksRole:
        return QVariant::fromValue<QObject *>(e.blocks);
    case RoundRole:
        return m.round;
    case ModelIdRole:
        return m.modelId;
    case RequestIdRole:
        return m.requestId;
    case InputTokensRole:
        return m.inputTokens + m.cacheReadTokens;
    case CachedTokensRole:
        return m.cacheReadTokens;
    case OutputTokensRole:
        return m.outputTokens;
    case CostRole:
        return m.cost ? toUsd(*m.cost) : -1.0;
    case CostStateRole:
        return m.cost ? QStringLiteral("priced") : e.costKnown ? QStringLiteral("unpriced") : QStringLiteral("pending");
    case TtftMsRole:
        return m.ttftMs;
    case TokensPerSecondRole:
        return m.tokensPerSecond;
    case ErrorRole:
        return m.error;
    case StreamingRole:
        return e.streaming;
    case FastestRole:
        return e.fastest;
    case CheapestRole:
        return e.cheapest;
    case VoteRole:
        return m.vote;
    case ImageCountRole:
        return int(m.images.size());
    default:
        return {};
    }
}

QHash<int, QByteArray> ChatModel::roleNames() const
{
    return {
        {RoleRole, "role"},
        {TextRole, "text"},
        {BlocksRole, "blocks"},
        {RoundRole, "round"},
        {ModelIdRole, "modelId"},
        {RequestIdRole, "requestId"},
        {InputTokensRole, "inputTokens"},
        {CachedTokensRole, "cachedTokens"},
        {OutputTokensRole, "outputTokens"},
        {CostRole, "cost"},
        {CostStateRole, "costState"},
        {TtftMsRole, "ttftMs"},
        {TokensPerSecondRole, "tokensPerSecond"},
        {ErrorRole, "error"},
        {StreamingRole, "streaming"},
        {FastestRole, "fastest"},
        {CheapestRole, "cheapest"},
        {VoteRole, "vote"},
        {ImageCountRole, "imageCount"},
    };
}

void ChatModel::clear()
{
    if (m_entries.isEmpty())
        return;
    beginResetModel();
    for (const Entry &e : std::as_const(m_entries))
        e.blocks->deleteLater(); // a delegate may still hold it until the reset is processed
    m_entries.clear();
    endResetModel();
    Q_EMIT countChanged();
}

int ChatModel::append(const ConversationMessage &message, bool streaming, bool costKnown)
{
    const int row = int(m_entries.size());
    Entry e;
    e.message = message;
    e.blocks = new MarkdownBlocksModel(this);
    e.blocks->setText(message.content);
    e.streaming = streaming;
    e.costKnown = costKnown || message.cost.has_value();
    beginInsertRows({}, row, row);
    m_entries << e;
    endInsertRows();
    Q_EMIT countChanged();
    return row;
}

int ChatModel::answerRow(int round) const
{
    for (int row = int(m_entries.size()) - 1; row >= 0; --row) {
        const ConversationMessage &m = m_entries.at(row).message;
        if (m.round == round && m.role == QLatin1String("assistant"))
            return row;
    }
    return -1;
}

void ChatModel::changed(int row, const QList<int> &roles)
{
    const QModelIndex at = index(row);
    Q_EMIT dataChanged(at, at, roles);
}

void ChatModel::update(int row, const ConversationMessage &message, bool streaming)
{
    if (row < 0 || row >= m_entries.size())
        return;
    Entry &e = m_entries[row];
    const bool textChanged = e.message.content != message.content;
    e.message = message;
    e.streaming = streaming;
    e.costKnown = e.costKnown || message.cost.has_value();
    if (textChanged)
        e.blocks->setText(message.content);
    changed(row, {});
}

void ChatModel::appendText(int row, const QString &text)
{
    if (row < 0 || row >= m_entries.size() || text.isEmpty())
        return;
    Entry &e = m_entries[row];
    e.message.content += text;
    e.blocks->setText(e.message.content);
    changed(row, {TextRole, Qt::DisplayRole});
}

void ChatModel::setCost(int row, std::optional<NanoUsd> cost)
{
    if (row < 0 || row >= m_entries.size())
        return;
    Entry &e = m_entries[row];
    e.message.cost = cost;
    e.costKnown = true;
    changed(row, {CostRole, CostStateRole});
}

void ChatModel::setMarks(int row, bool fastest, bool cheapest)
{
    if (row < 0 || row >= m_entries.size())
        return;
    Entry &e = m_entries[row];
    if (e.fastest == fastest && e.cheapest == cheapest)
        return;
    e.fastest = fastest;
    e.cheapest = cheapest;
    changed(row, {FastestRole, CheapestRole});
}

void ChatModel::setVote(int row, int vote)
{
    if (row < 0 || row >= m_entries.size() || m_entries.at(row).message.vote == vote)
        return;
    m_entries[row].message.vote = vote;
    changed(row, {VoteRole});
}

QString ChatModel::textAt(int row) const
{
    return row >= 0 && row < m_entries.size() ? m_entries.at(row).message.content : QString();
}

} // namespace gh::ui
