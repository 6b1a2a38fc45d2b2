#pragma once
#include <QByteArray>
#include <QList>
#include <QPair>

namespace gh {

// Header fields in arrival order; names are stored lower-case.
class HttpHeaders
{
public:
    void add(QByteArray nameLower, QByteArray value) { m_list.append({std::move(nameLower), std::move(value)}); }
    // The first value of a header (name in lower case), or an empty array.
    [[nodiscard]] QByteArray value(QByteArrayView nameLower) const;
    [[nodiscard]] bool contains(QByteArrayView nameLower) const;
    [[nodiscard]] const QList<QPair<QByteArray, QByteArray>> &list() const { return m_list; }
    void clear() { m_list.clear(); }
    [[nodiscard]] qsizetype size() const { return m_list.size(); }

private:
    QList<QPair<QByteArray, QByteArray>> m_list;
};

} // namespace gh
