#include "http/sseframer.h"
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>

using gh::SseFramer;

namespace {

// Feeds `stream` in the given pieces and returns the raw events in order.
QList<QByteArray> frame(const QByteArray &stream, const QList<qsizetype> &cuts, QByteArray *pending = nullptr)
{
    SseFramer framer;
    QList<QByteArray> events;
    qsizetype from = 0;
    QList<qsizetype> bounds = cuts;
    bounds.append(stream.size());
    for (qsizetype to : bounds) {
        framer.feed(QByteArrayView(stream.constData() + from, to - from),
            [&](QByteArrayView event) { events.append(event.toByteArray()); });
        from = to;
    }
    if (pending)
        *pending = framer.pending();
    return events;
}

QList<qsizetype> everyN(qsizetype size, qsizetype n)
{
    QList<qsizetype> cuts;
    for (qsizetype pos = n; pos < size; pos += n)
        cuts.append(pos);
    return cuts;
}

// The SSE specification's line rules on a complete stream: lines end at CRLF, LF or CR; an empty line
// ends the event. Returns the raw events (each up to and including its empty line) and the rest.
QList<QByteArray> referenceFrame(const QByteArray &s, QByteArray *rest)
{
    QList<QByteArray> events;
    qsizetype eventStart = 0;
    qsizetype lineStart = 0;
    qsizetype i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c != '\r' && c != '\n') {
            ++i;
            continue;
        }
        // A blank line ends the event, except one at its very start: the framer keeps such lines with
        // the event that follows (same bytes relayed, same data: the specification dispatches nothing
        // for an event without data).
        const bool endsEvent = i == lineStart && lineStart != eventStart;
        i += (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ? 2 : 1;
        lineStart = i;
        if (endsEvent) {
            events.append(s.mid(eventStart, i - eventStart));
            eventStart = i;
        }
    }
    *rest = s.mid(eventStart);
    return events;
}

} // namespace

class TestSseFramer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void lineEndings_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<QList<QByteArray>>("events");
        QTest::addColumn<QByteArray>("pending");
        QTest::newRow("lf") << QByteArray("data: a\n\ndata: b\n\n") << QList<QByteArray>{"data: a\n\n", "data: b\n\n"}
                            << QByteArray();
        QTest::newRow("crlf") << QByteArray("data: a\r\n\r\ndata: b\r\n\r\n")
                              << QList<QByteArray>{"data: a\r\n\r\n", "data: b\r\n\r\n"} << QByteArray();
        QTest::newRow("cr") << QByteArray("data: a\r\rdata: b\r\rx") << QList<QByteArray>{"data: a\r\r", "data: b\r\r"}
                            << QByteArray("x");
        QTest::newRow("mixed") << QByteArray("data: a\n\r\ndata: b\r\n\ndata: c\r\n\rdata: d\n\rZ")
                               << QList<QByteArray>{"data: a\n\r\n", "data: b\r\n\n", "data: c\r\n\r", "data: d\n\r"}
                               << QByteArray("Z");
        QTest::newRow("incomplete") << QByteArray("data: a\n\ndata: b\n") << QList<QByteArray>{"data: a\n\n"}
                                    << QByteArray("data: b\n");
        QTest::newRow("multi-line event") << QByteArray("event: x\ndata: 1\ndata: 2\nid: 7\n\n")
                                          << QList<QByteArray>{"event: x\ndata: 1\ndata: 2\nid: 7\n\n"} << QByteArray();
        QTest::newRow("comment") << QByteArray(": keep-alive\n\ndata: {}\n\n")
                                 << QList<QByteArray>{": keep-alive\n\n", "data: {}\n\n"} << QByteArray();
        QTest::newRow("leading blank line") << QByteArray("\ndata: a\n\n\r\ndata: b\n\n")
                                            << QList<QByteArray>{"\ndata: a\n\n", "\r\ndata: b\n\n"} << QByteArray();
        QTest::newRow("crlf then cr line") << QByteArray("data: a\r\n\rdata: b\r\n\r\n")
                                           << QList<QByteArray>{"data: a\r\n\r", "data: b\r\n\r\n"} << QByteArray();
    }
    // The same events at every split: whole, one byte at a time, and one cut at every position.
    void lineEndings()
    {
        QFETCH(QByteArray, stream);
        QFETCH(QList<QByteArray>, events);
        QFETCH(QByteArray, pending);
        QByteArray rest;
        QCOMPARE(frame(stream, {}, &rest), events);
        QCOMPARE(rest, pending);
        QCOMPARE(frame(stream, everyN(stream.size(), 1), &rest), events);
        QCOMPARE(rest, pending);
        for (qsizetype cut = 1; cut < stream.size(); ++cut) {
            QCOMPARE(frame(stream, {cut}, &rest), events);
            QCOMPARE(rest, pending);
        }
        for (qsizetype a = 1; a < stream.size(); ++a)
            for (qsizetype b = a + 1; b < stream.size(); ++b)
                QCOMPARE(frame(stream, {a, b}), events);
    }

    // A CR at the end of what arrived may be the first half of a CRLF: the event is not cut there.
    void carriageReturnAtTheEdge()
    {
        SseFramer framer;
        QList<QByteArray> events;
        auto collect = [&](QByteArrayView e) { events.append(e.toByteArray()); };
        framer.feed("data: a\r\n\r", collect);
        QVERIFY(events.isEmpty());
        framer.feed("\n", collect);
        QCOMPARE(events, QList<QByteArray>{"data: a\r\n\r\n"});
        QVERIFY(framer.pending().isEmpty());
        framer.feed("data: b\r", collect);
        framer.feed("\r", collect);
        QCOMPARE(events.size(), 1);
        framer.feed("data: c\n\n", collect);
        QCOMPARE(events, (QList<QByteArray>{"data: a\r\n\r\n", "data: b\r\r", "data: c\n\n"}));
    }

    void emptyFeedsAndClear()
    {
        SseFramer framer;
        int calls = 0;
        auto count = [&](QByteArrayView) { ++calls; };
        framer.feed(QByteArrayView(), count);
        framer.feed("data: partial", count);
        framer.feed(QByteArrayView(), count);
        QCOMPARE(calls, 0);
        QCOMPARE(framer.pending(), QByteArray("data: partial"));
        framer.clear();
        QVERIFY(framer.pending().isEmpty());
        framer.feed("\n\n", count); // a lone blank line after clear is an (empty) event
        QCOMPARE(calls, 1);
        framer.feed("data: x\n\n", count);
        QCOMPARE(calls, 2);
    }

    // Random streams with every kind of line end, framed at random splits, against the specification.
    void randomStreamsAgainstReference()
    {
        QRandomGenerator rng(20251015);
        const QByteArray alphabet = "ab: {}\"d";
        for (int round = 0; round < 300; ++round) {
            QByteArray s;
            const int pieces = int(rng.bounded(1, 40));
            for (int i = 0; i < pieces; ++i) {
                switch (rng.bounded(5)) {
                case 0:
                    s.append('\n');
                    break;
                case 1:
                    s.append('\r');
                    break;
                case 2:
                    s.append("\r\n");
                    break;
                default:
                    for (int k = int(rng.bounded(1, 6)); k > 0; --k)
                        s.append(alphabet[rng.bounded(alphabet.size())]);
                }
            }
            s.append("x\n\n"); // an unambiguous end
            QByteArray expectedRest;
            const QList<QByteArray> expected = referenceFrame(s, &expectedRest);
            QVERIFY(expectedRest.isEmpty());
            for (int trial = 0; trial < 5; ++trial) {
                QList<qsizetype> cuts;
                qsizetype pos = 0;
                while (true) {
                    pos += qsizetype(rng.bounded(1, 5));
                    if (pos >= s.size())
                        break;
                    cuts.append(pos);
                }
                QByteArray rest;
                const QList<QByteArray> got = frame(s, cuts, &rest);
                QCOMPARE(got, expected);
                QVERIFY(rest.isEmpty());
                QCOMPARE(got.join(), s);
            }
        }
    }

    // A large event in small pieces must not be rescanned from its start each time.
    void largeEventInSmallPieces()
    {
        const QByteArray data(8 * 1024 * 1024, 'q');
        const QByteArray stream = "data: " + data + "\n\n";
        SseFramer framer;
        QList<QByteArray> events;
        QElapsedTimer timer;
        timer.start();
        for (qsizetype pos = 0; pos < stream.size(); pos += 64)
            framer.feed(QByteArrayView(stream).sliced(pos, qMin<qsizetype>(64, stream.size() - pos)),
                [&](QByteArrayView e) { events.append(e.toByteArray()); });
        QCOMPARE(events.size(), 1);
        QCOMPARE(events[0], stream);
        QCOMPARE(SseFramer::eventData(events[0]), data);
        QVERIFY2(timer.elapsed() < 10000, "framing is quadratic");
    }

    void eventData_data()
    {
        QTest::addColumn<QByteArray>("event");
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QByteArray>("name");
        QTest::newRow("simple") << QByteArray("data: {\"a\":1}\n\n") << QByteArray("{\"a\":1}") << QByteArray();
        QTest::newRow("no space") << QByteArray("data:{\"a\":1}\n\n") << QByteArray("{\"a\":1}") << QByteArray();
        QTest::newRow("two spaces keep one") << QByteArray("data:  x\n\n") << QByteArray(" x") << QByteArray();
        QTest::newRow("multi-line") << QByteArray("data: line1\ndata: line2\r\ndata:line3\r\r")
                                    << QByteArray("line1\nline2\nline3") << QByteArray();
        QTest::newRow("empty data line") << QByteArray("data:\ndata: b\n\n") << QByteArray("\nb") << QByteArray();
        QTest::newRow("data without colon") << QByteArray("data: a\ndata\n\n") << QByteArray("a\n") << QByteArray();
        QTest::newRow("comment only") << QByteArray(": ping\n\n") << QByteArray() << QByteArray();
        QTest::newRow("comment between data")
            << QByteArray("data: a\n: data: not data\ndata: b\n\n") << QByteArray("a\nb") << QByteArray();
        QTest::newRow("named") << QByteArray("event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n")
                               << QByteArray("{\"type\":\"response.completed\"}") << QByteArray("response.completed");
        QTest::newRow("name after data, crlf")
            << QByteArray("data: 1\r\nevent:error\r\n\r\n") << QByteArray("1") << QByteArray("error");
        QTest::newRow("similar field names")
            << QByteArray("dataset: no\ndata2: no\nevents: no\nevent: yes\ndata: ok\n\n") << QByteArray("ok")
            << QByteArray("yes");
        QTest::newRow("id and retry ignored")
            << QByteArray("id: 5\nretry: 100\ndata: d\n\n") << QByteArray("d") << QByteArray();
        QTest::newRow("colon in value") << QByteArray("data: a: b\n\n") << QByteArray("a: b") << QByteArray();
        QTest::newRow("no trailing blank line") << QByteArray("data: tail") << QByteArray("tail") << QByteArray();
        QTest::newRow("done") << QByteArray("data: [DONE]\n\n") << QByteArray("[DONE]") << QByteArray();
    }
    void eventData()
    {
        QFETCH(QByteArray, event);
        QFETCH(QByteArray, data);
        QFETCH(QByteArray, name);
        QCOMPARE(SseFramer::eventData(event), data);
        QCOMPARE(SseFramer::eventName(event), name);
    }
};

QTEST_GUILESS_MAIN(TestSseFramer)
#include "tst_sseframer.moc"
