#include "gateway/bodyrelay.h"

namespace gh {

void BodyRelay::feed(QByteArrayView data)
{
    m_bytes += data.size();
    if (m_head.size() < kWindow)
        m_head.append(data.first(qMin(data.size(), kWindow - m_head.size())));
    m_tail.append(data.size() > kWindow ? data.last(kWindow) : data);
    if (m_tail.size() > 2 * kWindow)
        m_tail.remove(0, m_tail.size() - kWindow);
}

namespace {

bool isJsonSpace(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// The index of the object value after the key that ends at `i` ("key" : {), or -1 when the key is
// followed by something else.
qsizetype objectValueAfterKey(QByteArrayView text, qsizetype i)
{
    while (i < text.size() && isJsonSpace(text[i]))
        ++i;
    if (i >= text.size() || text[i] != ':')
        return -1;
    ++i;
    while (i < text.size() && isJsonSpace(text[i]))
        ++i;
    return i < text.size() && text[i] == '{' ? i : -1;
}

// The object that opens at `start`, through its closing brace (strings skipped); empty when the
// text ends first.
QByteArrayView objectAt(QByteArrayView text, qsizetype start)
{
    int depth = 0;
    bool inString = false;
    for (qsizetype i = start; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                inString = false;
        } else if (c == '"') {
            inString = true;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}' && --depth == 0) {
            return text.sliced(start, i - start + 1);
        }
    }
    return {};
}

} // namespace

QByteArrayView lastObjectMember(QByteArrayView text, QByteArrayView name)
{
    const QByteArray key = '"' + name.toByteArray() + '"';
    qsizetype from = text.size();
    while (from > 0) {
        const qsizetype at = text.lastIndexOf(QByteArrayView(key), from - 1);
        if (at < 0)
            break;
        from = at; // the next round looks before this one
        const qsizetype start = objectValueAfterKey(text, at + key.size());
        if (start < 0)
            continue;
        if (const QByteArrayView object = objectAt(text, start); !object.isEmpty())
            return object;
    }
    return {};
}

bool BodyRelay::usage(bool (*reader)(QByteArrayView, Usage *, qint64 *), Usage *out, QByteArrayView member) const
{
    for (const QByteArray *window : {&m_tail, &m_head}) {
        const QByteArrayView object = lastObjectMember(*window, member);
        if (object.isEmpty())
            continue;
        const QByteArray doc = "{\"" + member.toByteArray() + "\":" + object.toByteArray() + '}';
        if (reader(doc, out, nullptr))
            return true;
    }
    return false;
}

} // namespace gh
