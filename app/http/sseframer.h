#pragma once
#include <QByteArray>
#include <QByteArrayView>

namespace gh {

// Splits a server-sent-events byte stream into whole events as bytes arrive. An event is the raw
// text up to and including its blank line, so it can be relayed byte for byte.
class SseFramer
{
public:
    // Appends bytes and calls onEvent(QByteArrayView rawEvent) for every event completed by them.
    template <typename F>
    void feed(QByteArrayView bytes, F &&onEvent)
    {
        m_buffer.append(bytes.data(), bytes.size());
        qsizetype start = 0;
        qsizetype scanFrom = m_scanFrom; // bytes before it were already searched for a blank line
        while (true) {
            const qsizetype end = findEventEnd(qMax(start, scanFrom));
            if (end < 0)
                break;
            onEvent(QByteArrayView(m_buffer.constData() + start, end - start));
            start = end;
            scanFrom = 0;
        }
        if (start > 0)
            m_buffer.remove(0, start);
        m_scanFrom = qMax<qsizetype>(0, m_buffer.size() - 3);
    }
    // Bytes of an incomplete event still waiting for its blank line.
    [[nodiscard]] const QByteArray &pending() const { return m_buffer; }
    void clear() { m_buffer.clear(); m_scanFrom = 0; }

    // The data of an event: its `data:` lines joined by '\n' (one leading space after the colon
    // removed), as the SSE specification says. Empty when the event has no data field.
    [[nodiscard]] static QByteArray eventData(QByteArrayView rawEvent);
    // The value of the event's `event:` field, empty when absent.
    [[nodiscard]] static QByteArray eventName(QByteArrayView rawEvent);

private:
    // End offset (exclusive) of the event starting at `from`, or -1.
    qsizetype findEventEnd(qsizetype from);
    QByteArray m_buffer;
    qsizetype m_scanFrom = 0;
};

} // namespace gh
