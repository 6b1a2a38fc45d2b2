#pragma once
#include <QByteArray>
#include <QByteArrayView>
#include <algorithm>
#include <charconv>
#include <cstring>

namespace gh {

// Builds a message head (status line, header fields, chunk framing) into a QByteArray through a raw
// pointer: QByteArray::append is an out-of-line call with its own checks per piece, and a response
// head is some thirty pieces. The array is sized once from a hint; a piece that does not fit grows it.
class ByteWriter
{
public:
    explicit ByteWriter(qsizetype sizeHint) : m_out(sizeHint, Qt::Uninitialized), m_p(m_out.data()) { }

    ByteWriter &operator<<(QByteArrayView v)
    {
        if (v.isEmpty())
            return *this;
        room(v.size());
        std::memcpy(m_p, v.data(), size_t(v.size()));
        m_p += v.size();
        return *this;
    }
    ByteWriter &operator<<(char c)
    {
        room(1);
        *m_p++ = c;
        return *this;
    }
    // Decimal (or base-16 with base = 16), like QByteArray::number.
    ByteWriter &number(qint64 n, int base = 10)
    {
        room(24);
        m_p = std::to_chars(m_p, m_p + 24, n, base).ptr;
        return *this;
    }
    // The bytes written; the writer is empty afterwards.
    [[nodiscard]] QByteArray take()
    {
        m_out.resize(m_p - m_out.data());
        m_p = nullptr;
        return std::move(m_out);
    }

private:
    void room(qsizetype n)
    {
        const qsizetype used = m_p - m_out.data();
        if (used + n <= m_out.size())
            return;
        m_out.resize(std::max(used + n, m_out.size() * 2));
        m_p = m_out.data() + used;
    }

    QByteArray m_out;
    char *m_p;
};

} // namespace gh
