// ByteWriter: the message-head builder of the request path. Checked against QByteArray's own
// appends, including pieces that do not fit the size hint (the array must grow, never overrun).
#include "http/bytewriter.h"
#include <QTest>
#include <limits>

using namespace gh;

class TestByteWriter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void headLikeTheAppendsItReplaces()
    {
        const QList<QPair<QByteArray, QByteArray>> headers{{"content-type", "application/json"},
                                                          {"x-gatehouse-request-id", "req_0123456789"}};
        const QByteArray body = "{\"ok\":true}";
        ByteWriter w(8); // far too small: every piece after the first few grows the array
        w << "HTTP/1.1 ";
        w.number(200) << ' ' << QByteArrayView("OK") << "\r\n";
        for (const auto &[name, value] : headers)
            w << name << ": " << value << "\r\n";
        w << "content-length: ";
        w.number(body.size()) << "\r\n\r\n" << body;

        QByteArray expected;
        expected.append("HTTP/1.1 ").append(QByteArray::number(200)).append(' ').append("OK").append("\r\n");
        for (const auto &[name, value] : headers)
            expected.append(name).append(": ").append(value).append("\r\n");
        expected.append("content-length: ").append(QByteArray::number(body.size())).append("\r\n\r\n").append(body);
        QCOMPARE(w.take(), expected);
    }

    void numbers_data()
    {
        QTest::addColumn<qint64>("n");
        QTest::addColumn<int>("base");
        QTest::newRow("zero") << qint64(0) << 10;
        QTest::newRow("negative") << qint64(-42) << 10;
        QTest::newRow("max") << std::numeric_limits<qint64>::max() << 10;
        QTest::newRow("min") << std::numeric_limits<qint64>::min() << 10;
        QTest::newRow("chunk size, hex") << qint64(0xbeef) << 16;
        QTest::newRow("max, hex") << std::numeric_limits<qint64>::max() << 16;
    }
    void numbers()
    {
        QFETCH(qint64, n);
        QFETCH(int, base);
        for (qsizetype hint : {qsizetype(0), qsizetype(1), qsizetype(64)}) {
            ByteWriter w(hint);
            w << "x";
            w.number(n, base) << "y";
            QCOMPARE(w.take(), "x" + QByteArray::number(n, base) + "y");
        }
    }

    void largePieceAndEmptyPieces()
    {
        const QByteArray big(100'000, 'b');
        ByteWriter w(16);
        w << QByteArrayView() << "a" << big << QByteArrayView("") << 'c';
        const QByteArray out = w.take();
        QCOMPARE(out.size(), big.size() + 2);
        QVERIFY(out.startsWith('a'));
        QVERIFY(out.endsWith('c'));
        QCOMPARE(out.mid(1, big.size()), big);
    }
};

QTEST_APPLESS_MAIN(TestByteWriter)
#include "tst_bytewriter.moc"
