#include "markdownblocks.h"
#include <QRegularExpression>

namespace gh::ui {

namespace {

// "```lang" / "~~~" with at most three spaces of indentation: the fence and the info string.
bool openingFence(QStringView line, QString *fence, QString *info)
{
    qsizetype i = 0;
    while (i < line.size() && i < 3 && line.at(i) == u' ')
        ++i;
    if (i >= line.size() || (line.at(i) != u'`' && line.at(i) != u'~'))
        return false;
    const QChar c = line.at(i);
    qsizetype n = 0;
    while (i + n < line.size() && line.at(i + n) == c)
        ++n;
    if (n < 3)
        return false;
    const QStringView rest = line.mid(i + n).trimmed();
    if (c == u'`' && rest.contains(u'`'))
        return false; // inline code, not a fence
    *fence = QString(n, c);
    *info = rest.toString().section(u' ', 0, 0);
    return true;
}

bool closingFence(QStringView line, const QString &fence)
{
    qsizetype i = 0;
    while (i < line.size() && i < 3 && line.at(i) == u' ')
        ++i;
    const QStringView t = line.mid(i).trimmed();
    if (t.size() < fence.size())
        return false;
    for (QChar ch : t) {
        if (ch != fence.at(0))
            return false;
    }
    return true;
}

bool isListLine(QStringView line)
{
    static const QRegularExpression marker(QStringLiteral("^\\s*([-*+]|\\d{1,9}[.)])\\s"));
    return marker.match(line).hasMatch();
}

} // namespace

QList<MarkdownBlocksModel::Block> MarkdownBlocksModel::split(QStringView markdown)
{
    QList<Block> blocks;
    QStringList prose; // lines of the paragraph being collected
    bool proseHasList = false;
    bool pendingBlank = false;
    const auto flushProse = [&] {
        while (!prose.isEmpty() && prose.constLast().trimmed().isEmpty())
            prose.removeLast();
        if (!prose.isEmpty())
            blocks << Block{Block::Kind::Text, prose.join(u'\n'), {}};
        prose.clear();
        proseHasList = false;
        pendingBlank = false;
    };

    const QList<QStringView> lines = markdown.split(u'\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QStringView line = lines.at(i);
        if (line.endsWith(u'\r'))
            line.chop(1);
        QString fence, info;
        if (openingFence(line, &fence, &info)) {
            flushProse();
            QStringList code;
            qsizetype j = i + 1;
            for (; j < lines.size(); ++j) {
                QStringView l = lines.at(j);
                if (l.endsWith(u'\r'))
                    l.chop(1);
                if (closingFence(l, fence))
                    break;
                code << l.toString();
            }
            blocks << Block{Block::Kind::Code, code.join(u'\n'), info};
            i = j; // the closing fence (or the end)
            continue;
        }
        if (line.trimmed().isEmpty()) {
            if (!prose.isEmpty())
                pendingBlank = true;
            continue;
        }
        if (pendingBlank) {
            // A blank line ends the paragraph, unless a list goes on (a loose list stays one block,
            // so its numbering holds).
            const bool continuesList = proseHasList && (isListLine(line) || line.startsWith(u' ') || line.startsWith(u'\t'));
            if (continuesList)
                prose << QString();
            else
                flushProse();
            pendingBlank = false;
        }
        proseHasList = proseHasList || isListLine(line);
        prose << line.toString();
    }
    flushProse();
    return blocks;
}

int MarkdownBlocksModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_blocks.size());
}

QVariant MarkdownBlocksModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Block &b = m_blocks.at(index.row());
    switch (role) {
    case KindRole:
        return b.kind == Block::Kind::Code ? QStringLiteral("code") : QStringLiteral("text");
    case Qt::DisplayRole:
    case TextRole:
        return b.text;
    case LanguageRole:
        return b.language;
    default:
        return {};
    }
}

QHash<int, QByteArray> MarkdownBlocksModel::roleNames() const
{
    return {{KindRole, "kind"}, {TextRole, "text"}, {LanguageRole, "language"}};
}

void MarkdownBlocksModel::setText(const QString &markdown)
{
    QList<Block> next = split(markdown);
    const qsizetype common = qMin(next.size(), m_blocks.size());
    for (qsizetype i = 0; i < common; ++i) {
        if (next.at(i) == m_blocks.at(i))
            continue;
        // A block that changed kind is replaced (its delegate differs); text changes are updates.
        if (next.at(i).kind != m_blocks.at(i).kind) {
            beginRemoveRows({}, int(i), int(i));
            m_blocks.removeAt(i);
            endRemoveRows();
            beginInsertRows({}, int(i), int(i));
            m_blocks.insert(i, next.at(i));
            endInsertRows();
        } else {
            m_blocks[i] = next.at(i);
            const QModelIndex at = index(int(i));
            Q_EMIT dataChanged(at, at, {TextRole, LanguageRole, Qt::DisplayRole});
        }
    }
    if (next.size() > m_blocks.size()) {
        beginInsertRows({}, int(m_blocks.size()), int(next.size() - 1));
        for (qsizetype i = m_blocks.size(); i < next.size(); ++i)
            m_blocks << next.at(i);
        endInsertRows();
    } else if (next.size() < m_blocks.size()) {
        beginRemoveRows({}, int(next.size()), int(m_blocks.size() - 1));
        m_blocks.resize(next.size());
        endRemoveRows();
    }
}

} // namespace gh::ui
