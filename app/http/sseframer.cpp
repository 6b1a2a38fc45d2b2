#include "http/sseframer.h"

namespace gh {

qsizetype SseFramer::findEventEnd(qsizetype from)
{
    const char *p = m_buffer.constData();
    const qsizetype n = m_buffer.size();
    // A blank line: "\n\n", "\r\n\r\n", "\r\r" or mixtures; scan for a line break followed by another.
    for (qsizetype i = from; i < n; ++i) {
        if (p[i] != '\n' && p[i] != '\r')
            continue;
        qsizetype j = i + 1;
        if (p[i] == '\r' && j < n && p[j] == '\n')
            ++j;
        if (j >= n)
            return -1; // need more to decide
        if (p[j] == '\n')
            return j + 1;
        if (p[j] == '\r') {
            if (j + 1 < n && p[j + 1] == '\n')
                return j + 2;
            if (j + 1 >= n)
                return -1;
            return j + 1;
        }
        i = j - 1;
    }
    return -1;
}

static void forEachLine(QByteArrayView raw, auto &&fn)
{
    qsizetype start = 0;
    const qsizetype n = raw.size();
    for (qsizetype i = 0; i <= n; ++i) {
        if (i == n || raw[i] == '\n' || raw[i] == '\r') {
            if (i > start)
                fn(raw.sliced(start, i - start));
            if (i < n && raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n')
                ++i;
            start = i + 1;
        }
    }
}

static QByteArrayView fieldValue(QByteArrayView line, QByteArrayView field)
{
    if (!line.startsWith(field) || line.size() < field.size() + 1 || line[field.size()] != ':')
        return {};
    QByteArrayView v = line.sliced(field.size() + 1);
    if (v.startsWith(' '))
        v = v.sliced(1);
    return v;
}

QByteArray SseFramer::eventData(QByteArrayView rawEvent)
{
    QByteArray out;
    bool first = true;
    forEachLine(rawEvent, [&](QByteArrayView line) {
        if (line.startsWith("data:") || line == "data") { // a field name alone has an empty value
            if (!first)
                out.append('\n');
            first = false;
            out.append(fieldValue(line, "data"));
        }
    });
    return out;
}

QByteArray SseFramer::eventName(QByteArrayView rawEvent)
{
    QByteArray out;
    forEachLine(rawEvent, [&](QByteArrayView line) {
        if (out.isEmpty() && line.startsWith("event:"))
            out = fieldValue(line, "event").toByteArray();
    });
    return out;
}

} // namespace gh
