#pragma once
#include <QAbstractListModel>
#include <QList>
#include <QString>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// A Markdown answer cut into blocks the view renders one by one: prose paragraphs (rendered as
// Markdown) and fenced code blocks (shown as code with a copy button). While an answer streams only
// its last block changes, so setText() re-renders only that block, not the whole answer.
class MarkdownBlocksModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("MarkdownBlocksModel belongs to a chat message")
public:
    enum Roles {
        KindRole = Qt::UserRole + 1, // "text" (Markdown prose) or "code"
        TextRole, // the Markdown of a prose block, or the code without its fences
        LanguageRole, // the info string of a code fence ("" when none)
    };
    Q_ENUM(Roles)

    struct Block {
        enum class Kind { Text, Code };
        Kind kind = Kind::Text;
        QString text;
        QString language;
        friend bool operator==(const Block &, const Block &) = default;
    };

    using QAbstractListModel::QAbstractListModel;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    // Replaces the text: rows that did not change are left alone.
    void setText(const QString &markdown);
    [[nodiscard]] const QList<Block> &blocks() const { return m_blocks; }

    // Prose paragraphs (split at blank lines, a list kept together) and fenced code blocks (``` or
    // ~~~; an unclosed fence runs to the end, as while it streams).
    [[nodiscard]] static QList<Block> split(QStringView markdown);

private:
    QList<Block> m_blocks;
};

} // namespace gh::ui
