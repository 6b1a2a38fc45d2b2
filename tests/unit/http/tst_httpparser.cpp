#include "http/httpparser.h"
#include <QTest>

using gh::HttpHeaders;
using gh::HttpParser;
using Result = gh::HttpParser::Result;

namespace {

// One parsed message as the handler and the parser saw it.
struct Message {
    QByteArray method;
    QByteArray url;
    int status = 0;
    QList<QPair<QByteArray, QByteArray>> headers;
    std::optional<quint64> contentLength;
    QByteArray body;
    bool keepAlive = false;
    int httpMinor = -1;
    int headersCompleteCalls = 0;
};

class Recorder : public HttpParser::Handler
{
public:
    void onHeadersComplete(HttpParser &parser) override
    {
        current.method = parser.method();
        current.url = parser.url();
        current.status = parser.status();
        current.headers = parser.headers().list();
        current.contentLength = parser.contentLength();
        ++current.headersCompleteCalls;
        QVERIFY(parser.headersDone());
        QVERIFY(parser.messageStarted());
    }
    void onBody(HttpParser &parser, const char *data, size_t length) override
    {
        QVERIFY(parser.headersDone());
        QVERIFY(length > 0);
        current.body.append(data, qsizetype(length));
    }
    Message current;
};

struct Outcome {
    QList<Message> messages;
    bool error = false;
    QByteArray errorReason;
    QByteArray leftover; // bytes fed after the last complete message that did not complete one
};

// Feeds `input` in pieces of `chunk` bytes (the pieces given by `cuts` when non-empty), the way the
// gateway does: after MessageComplete the rest of the piece is fed again after startNext(), and
// each piece's buffer is gone after its feed.
Outcome parseAll(HttpParser::Type type, const QByteArray &input, qsizetype chunk, bool finishAtEnd = false,
    const QList<qsizetype> &cuts = {})
{
    Recorder recorder;
    HttpParser parser(type, &recorder);
    Outcome out;
    QList<qsizetype> bounds = cuts;
    if (bounds.isEmpty())
        for (qsizetype pos = chunk; pos < input.size(); pos += chunk)
            bounds.append(pos);
    bounds.append(input.size());
    qsizetype from = 0;
    auto completed = [&] {
        recorder.current.keepAlive = parser.keepAlive();
        recorder.current.httpMinor = parser.httpMinor();
        out.messages.append(std::exchange(recorder.current, Message{}));
        parser.startNext();
        out.leftover.clear();
    };
    for (qsizetype to : bounds) {
        qsizetype offset = from;
        while (offset < to) {
            size_t consumed = 0;
            // Each piece from a buffer of its own, scribbled over after the feed, as a socket read
            // would be reused or freed: the parser must keep whatever it still needs of it.
            QByteArray piece(input.constData() + offset, to - offset);
            const Result r = parser.feed(piece.constData(), size_t(piece.size()), &consumed);
            piece.fill('\xee');
            if (r == Result::Error) {
                out.error = true;
                out.errorReason = parser.errorReason();
                return out;
            }
            if (consumed > size_t(to - offset)) {
                qWarning("consumed more than fed");
                out.error = true;
                return out;
            }
            out.leftover.append(input.constData() + offset, qsizetype(consumed));
            offset += qsizetype(consumed);
            if (r == Result::MessageComplete) {
                completed();
            } else if (offset != to) {
                qWarning("NeedMore without consuming everything");
                out.error = true;
                return out;
            }
        }
        from = to;
    }
    if (finishAtEnd) {
        const Result r = parser.finish();
        if (r == Result::MessageComplete)
            completed();
        else if (r == Result::Error) {
            out.error = true;
            out.errorReason = parser.errorReason();
        }
    }
    return out;
}

const QByteArray kGet = "GET /v1/models HTTP/1.1\r\n"
                        "Host: 127.0.0.1:8080\r\n"
                        "Authorization:   Bearer gk-abc  \r\n"
                        "X-Custom: one\r\n"
                        "x-custom: two\r\n"
                        "\r\n";

const QByteArray kPost = "POST /v1/chat/completions?x=1 HTTP/1.1\r\n"
                         "Host: localhost\r\n"
                         "Content-Type: application/json\r\n"
                         "Content-Length: 44\r\n"
                         "\r\n"
                         R"({"model":"m","messages":[{"role":"user"}]}  )";

const QByteArray kChunkedPost = "POST /v1/embeddings HTTP/1.1\r\n"
                                "Host: [::1]:9\r\n"
                                "Transfer-Encoding: chunked\r\n"
                                "\r\n"
                                "5\r\n{\"mod\r\n"
                                "a;ext=1\r\nel\":\"x\",\"i\r\n"
                                "E\r\nnput\":\"hello\"}\r\n"
                                "0\r\n"
                                "\r\n";

QByteArray headerValue(const Message &m, const QByteArray &name)
{
    for (const auto &[n, v] : m.headers)
        if (n == name)
            return v;
    return "<missing>";
}

void checkGet(const Message &m)
{
    QCOMPARE(m.method, QByteArray("GET"));
    QCOMPARE(m.url, QByteArray("/v1/models"));
    QCOMPARE(m.headers.size(), 4);
    QCOMPARE(m.headers[0].first, QByteArray("host"));
    QCOMPARE(m.headers[0].second, QByteArray("127.0.0.1:8080"));
    QCOMPARE(m.headers[1].first, QByteArray("authorization"));
    QCOMPARE(m.headers[1].second, QByteArray("Bearer gk-abc"));
    QCOMPARE(m.headers[2], (QPair<QByteArray, QByteArray>("x-custom", "one")));
    QCOMPARE(m.headers[3], (QPair<QByteArray, QByteArray>("x-custom", "two")));
    QCOMPARE(m.contentLength, std::nullopt);
    QVERIFY(m.body.isEmpty());
    QVERIFY(m.keepAlive);
    QCOMPARE(m.httpMinor, 1);
    QCOMPARE(m.headersCompleteCalls, 1);
}

void checkPost(const Message &m)
{
    QCOMPARE(m.method, QByteArray("POST"));
    QCOMPARE(m.url, QByteArray("/v1/chat/completions?x=1"));
    QCOMPARE(m.contentLength, std::optional<quint64>(44));
    QCOMPARE(m.body, QByteArray(R"({"model":"m","messages":[{"role":"user"}]}  )"));
    QCOMPARE(headerValue(m, "content-type"), QByteArray("application/json"));
    QVERIFY(m.keepAlive);
}

void checkChunked(const Message &m)
{
    QCOMPARE(m.method, QByteArray("POST"));
    QCOMPARE(m.url, QByteArray("/v1/embeddings"));
    QCOMPARE(m.contentLength, std::nullopt);
    QCOMPARE(m.body, QByteArray(R"({"model":"x","input":"hello"})"));
    QCOMPARE(headerValue(m, "host"), QByteArray("[::1]:9"));
    QVERIFY(m.keepAlive);
}

} // namespace

class TestHttpParser : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void simpleGet()
    {
        const Outcome o = parseAll(HttpParser::Type::Request, kGet, kGet.size());
        QVERIFY2(!o.error, o.errorReason.constData());
        QCOMPARE(o.messages.size(), 1);
        checkGet(o.messages[0]);
    }

    void headersAccessor()
    {
        HttpHeaders h;
        h.add("a", "1");
        h.add("b", "2");
        h.add("a", "3");
        QCOMPARE(h.value("a"), QByteArray("1"));
        QCOMPARE(h.value("b"), QByteArray("2"));
        QVERIFY(h.value("c").isEmpty());
        QVERIFY(h.contains("b"));
        QVERIFY(!h.contains("B"));
        QCOMPARE(h.size(), 3);
        h.clear();
        QCOMPARE(h.size(), 0);
    }

    void everyChunkSize_data()
    {
        QTest::addColumn<int>("chunk");
        for (int c : {1, 2, 3, 5, 7, 13, 64, 4096})
            QTest::addRow("chunk %d", c) << c;
    }
    // Requests fed in pieces of every size, pipelined in one stream.
    void everyChunkSize()
    {
        QFETCH(int, chunk);
        const QByteArray all = kGet + kPost + kChunkedPost + kGet;
        const Outcome o = parseAll(HttpParser::Type::Request, all, chunk);
        QVERIFY2(!o.error, o.errorReason.constData());
        QCOMPARE(o.messages.size(), 4);
        checkGet(o.messages[0]);
        checkPost(o.messages[1]);
        checkChunked(o.messages[2]);
        checkGet(o.messages[3]);
        QVERIFY(o.leftover.isEmpty());
    }

    // One cut anywhere: covers a header name, a header value, the CRLFs and the body split in two.
    void everySplitPoint()
    {
        const QByteArray all = kPost + kChunkedPost;
        for (qsizetype cut = 1; cut < all.size(); ++cut) {
            const Outcome o = parseAll(HttpParser::Type::Request, all, 0, false, {cut});
            QVERIFY2(
                !o.error, qPrintable(QStringLiteral("cut %1: %2").arg(cut).arg(QString::fromLatin1(o.errorReason))));
            QCOMPARE(o.messages.size(), 2);
            checkPost(o.messages[0]);
            checkChunked(o.messages[1]);
        }
        for (qsizetype cut = 1; cut < kGet.size(); ++cut) {
            const Outcome o = parseAll(HttpParser::Type::Request, kGet, 0, false, {cut});
            QVERIFY(!o.error);
            QCOMPARE(o.messages.size(), 1);
            checkGet(o.messages[0]);
        }
    }

    // A pipelined buffer: feed() stops right after each message and says how much it used.
    void pipelinedConsumedCounts()
    {
        Recorder recorder;
        HttpParser parser(HttpParser::Type::Request, &recorder);
        const QByteArray all = kPost + kGet + "GET /x HTTP/1.1\r\nHost: a";
        size_t consumed = 0;
        QCOMPARE(parser.feed(all.constData(), size_t(all.size()), &consumed), Result::MessageComplete);
        QCOMPARE(qsizetype(consumed), kPost.size());
        recorder.current.keepAlive = parser.keepAlive();
        checkPost(recorder.current);
        recorder.current = {};
        parser.startNext();
        QVERIFY(!parser.messageStarted());
        qsizetype offset = qsizetype(consumed);
        QCOMPARE(
            parser.feed(all.constData() + offset, size_t(all.size() - offset), &consumed), Result::MessageComplete);
        QCOMPARE(qsizetype(consumed), kGet.size());
        QCOMPARE(parser.method(), QByteArray("GET"));
        QCOMPARE(parser.url(), QByteArray("/v1/models"));
        parser.startNext();
        offset += qsizetype(consumed);
        QCOMPARE(parser.feed(all.constData() + offset, size_t(all.size() - offset), &consumed), Result::NeedMore);
        QCOMPARE(qsizetype(consumed), all.size() - offset);
        QVERIFY(parser.messageStarted());
        QVERIFY(!parser.headersDone());
        // The header value continues in the next read.
        const QByteArray rest = "bc\r\nContent-Length: 0\r\n\r\n";
        QCOMPARE(parser.feed(rest.constData(), size_t(rest.size()), &consumed), Result::MessageComplete);
        QCOMPARE(qsizetype(consumed), rest.size());
        QCOMPARE(parser.headers().value("host"), QByteArray("abc"));
        QCOMPARE(parser.contentLength(), std::optional<quint64>(0));
        QCOMPARE(parser.url(), QByteArray("/x"));
    }

    void messageStartedAndHeadersDone()
    {
        Recorder recorder;
        HttpParser parser(HttpParser::Type::Request, &recorder);
        QVERIFY(!parser.messageStarted());
        QVERIFY(!parser.headersDone());
        size_t consumed = 0;
        QCOMPARE(parser.feed(kPost.constData(), 10, &consumed), Result::NeedMore);
        QCOMPARE(consumed, size_t(10));
        QVERIFY(parser.messageStarted());
        QVERIFY(!parser.headersDone());
        const qsizetype headerEnd = kPost.indexOf("\r\n\r\n") + 4;
        QCOMPARE(parser.feed(kPost.constData() + 10, size_t(headerEnd - 10), &consumed), Result::NeedMore);
        QVERIFY(parser.headersDone());
        QCOMPARE(recorder.current.headersCompleteCalls, 1);
        QCOMPARE(parser.feed(kPost.constData() + headerEnd, size_t(kPost.size() - headerEnd), &consumed),
            Result::MessageComplete);
        parser.startNext();
        QVERIFY(!parser.messageStarted());
        QVERIFY(!parser.headersDone());
        // Feeding nothing changes nothing.
        QCOMPARE(parser.feed("", 0, &consumed), Result::NeedMore);
        QCOMPARE(consumed, size_t(0));
        QVERIFY(!parser.messageStarted());
    }

    // The fields of the previous message are not mixed into the next one.
    void messagesDoNotLeakIntoEachOther()
    {
        const QByteArray a = "POST /a HTTP/1.1\r\nContent-Length: 3\r\nX-Only-A: 1\r\n\r\nabc";
        const QByteArray b = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        const Outcome o = parseAll(HttpParser::Type::Request, a + b, 1);
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 2);
        QCOMPARE(o.messages[1].method, QByteArray("GET"));
        QCOMPARE(o.messages[1].url, QByteArray("/b"));
        QCOMPARE(o.messages[1].headers.size(), 1);
        QCOMPARE(o.messages[1].contentLength, std::nullopt);
        QVERIFY(o.messages[1].body.isEmpty());
    }

    void keepAliveRules_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<bool>("keepAlive");
        QTest::addColumn<int>("minor");
        QTest::newRow("1.1 default") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << true << 1;
        QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") << false
                                   << 1;
        QTest::newRow("1.1 Close mixed case")
            << QByteArray("GET / HTTP/1.1\r\nconnection: Close\r\n\r\n") << false << 1;
        QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false << 0;
        QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") << true << 0;
    }
    void keepAliveRules()
    {
        QFETCH(QByteArray, request);
        QFETCH(bool, keepAlive);
        QFETCH(int, minor);
        const Outcome o = parseAll(HttpParser::Type::Request, request, request.size());
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 1);
        QCOMPARE(o.messages[0].keepAlive, keepAlive);
        QCOMPARE(o.messages[0].httpMinor, minor);
    }

    // Expect: 100-continue: the headers arrive alone; the body comes once the client is told to go on.
    void expectContinueRequest()
    {
        Recorder recorder;
        HttpParser parser(HttpParser::Type::Request, &recorder);
        const QByteArray head
            = "POST /v1/completions HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
        size_t consumed = 0;
        QCOMPARE(parser.feed(head.constData(), size_t(head.size()), &consumed), Result::NeedMore);
        QCOMPARE(qsizetype(consumed), head.size());
        QVERIFY(parser.headersDone());
        QCOMPARE(parser.headers().value("expect"), QByteArray("100-continue"));
        QCOMPARE(parser.contentLength(), std::optional<quint64>(4));
        QVERIFY(recorder.current.body.isEmpty());
        QCOMPARE(parser.feed("{}\r\n", 4, &consumed), Result::MessageComplete);
        QCOMPARE(recorder.current.body, QByteArray("{}\r\n"));
    }

    void invalidRequests_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::newRow("garbage") << QByteArray("HELLO THERE\r\n\r\n");
        QTest::newRow("binary") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11); // a TLS ClientHello
        QTest::newRow("bad version") << QByteArray("GET / HTTP/9.x\r\n\r\n");
        QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
        QTest::newRow("bad content-length") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n");
        QTest::newRow("two content-lengths")
            << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
        QTest::newRow("cl and te") << QByteArray(
            "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        QTest::newRow("bad chunk size") << QByteArray(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n");
        QTest::newRow("chunk too long") << QByteArray(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n");
        QTest::newRow("control char in header") << QByteArray("GET / HTTP/1.1\r\nX-A: a\x01"
                                                              "b\r\n\r\n");
        QTest::newRow("space in header name") << QByteArray("GET / HTTP/1.1\r\nHost a: b\r\n\r\n");
        QTest::newRow("separator in header name") << QByteArray("GET / HTTP/1.1\r\nHo(st): b\r\n\r\n");
        QTest::newRow("space before colon in trailer")
            << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nOrigin : x\r\n\r\n");
        QTest::newRow("bare CR in header value") << QByteArray("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n");
        QTest::newRow("HTTP/0.9 (no version)") << QByteArray("GET /healthz\r\n\r\n");
        QTest::newRow("HTTP/2.0 request line") << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n");
    }

    // The limits on a message head, at every chunk size: the error says which, and a head that is
    // just within them passes.
    void headLimits_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("kind");
        const HttpParser::Limits limits;
        QTest::newRow("long target") << ("GET /" + QByteArray(limits.maxUrlBytes, 'a') + " HTTP/1.1\r\n\r\n")
                                     << int(HttpParser::ErrorKind::RequestLineTooLong);
        QTest::newRow("one huge value") << ("GET / HTTP/1.1\r\nX-Big: " + QByteArray(limits.maxHeaderBytes, 'v') + "\r\n\r\n")
                                        << int(HttpParser::ErrorKind::HeadersTooLarge);
        QByteArray many = "GET / HTTP/1.1\r\n";
        for (int i = 0; i <= limits.maxHeaderCount; ++i)
            many += "X-" + QByteArray::number(i) + ": 1\r\n";
        QTest::newRow("too many fields") << (many + "\r\n") << int(HttpParser::ErrorKind::HeadersTooLarge);
        QTest::newRow("within") << ("GET /" + QByteArray(limits.maxUrlBytes - 1, 'a') + " HTTP/1.1\r\nX-Big: "
                                    + QByteArray(limits.maxHeaderBytes - 8, 'v') + "\r\n\r\n")
                                << int(HttpParser::ErrorKind::None);
    }
    void headLimits()
    {
        QFETCH(QByteArray, input);
        QFETCH(int, kind);
        for (qsizetype chunk : {qsizetype(1000), input.size()}) {
            Recorder recorder;
            HttpParser parser(HttpParser::Type::Request, &recorder);
            Result r = Result::NeedMore;
            for (qsizetype at = 0; at < input.size() && r == Result::NeedMore; at += chunk) {
                size_t consumed = 0;
                r = parser.feed(input.constData() + at, size_t(qMin(chunk, input.size() - at)), &consumed);
            }
            if (kind == int(HttpParser::ErrorKind::None)) {
                QCOMPARE(r, Result::MessageComplete);
            } else {
                QCOMPARE(r, Result::Error);
                QCOMPARE(int(parser.errorKind()), kind);
            }
        }
    }
    // Invalid HTTP is an Error at every chunk size, and the parser stays in error.
    void invalidRequests()
    {
        QFETCH(QByteArray, input);
        for (qsizetype chunk : {qsizetype(1), qsizetype(3), input.size()}) {
            const Outcome o = parseAll(HttpParser::Type::Request, input, chunk);
            QVERIFY2(o.error, qPrintable(QStringLiteral("chunk %1 accepted").arg(chunk)));
            QVERIFY(o.messages.isEmpty());
            QVERIFY(!o.errorReason.isEmpty());
        }
        Recorder recorder;
        HttpParser parser(HttpParser::Type::Request, &recorder);
        size_t consumed = 0;
        QCOMPARE(parser.feed(input.constData(), size_t(input.size()), &consumed), Result::Error);
        QVERIFY(consumed <= size_t(input.size()));
        QCOMPARE(parser.feed(kGet.constData(), size_t(kGet.size()), &consumed), Result::Error);
        QCOMPARE(consumed, size_t(0));
        QCOMPARE(parser.finish(), Result::Error);
    }

    // A valid request followed by garbage: the first is delivered, then the error.
    void errorAfterValidMessage()
    {
        const Outcome o = parseAll(HttpParser::Type::Request, kPost + "\x01\x02 nonsense\r\n\r\n", 1);
        QVERIFY(o.error);
        QCOMPARE(o.messages.size(), 1);
        checkPost(o.messages[0]);
    }

    void finishOnRequests()
    {
        // Nothing received: a clean close.
        {
            Recorder recorder;
            HttpParser parser(HttpParser::Type::Request, &recorder);
            QCOMPARE(parser.finish(), Result::NeedMore);
        }
        // Close after a complete message and startNext: clean too.
        {
            Recorder recorder;
            HttpParser parser(HttpParser::Type::Request, &recorder);
            size_t consumed = 0;
            QCOMPARE(parser.feed(kGet.constData(), size_t(kGet.size()), &consumed), Result::MessageComplete);
            parser.startNext();
            QCOMPARE(parser.finish(), Result::NeedMore);
        }
        // Close in the middle of the headers or of a Content-Length body: an error.
        for (qsizetype cut : {qsizetype(5), kPost.indexOf("\r\n\r\n"), kPost.size() - 1}) {
            Recorder recorder;
            HttpParser parser(HttpParser::Type::Request, &recorder);
            size_t consumed = 0;
            QCOMPARE(parser.feed(kPost.constData(), size_t(cut), &consumed), Result::NeedMore);
            QCOMPARE(parser.finish(), Result::Error);
            QVERIFY(!parser.errorReason().isEmpty());
        }
        // Close in a chunked body: an error.
        {
            Recorder recorder;
            HttpParser parser(HttpParser::Type::Request, &recorder);
            size_t consumed = 0;
            QCOMPARE(
                parser.feed(kChunkedPost.constData(), size_t(kChunkedPost.size() - 7), &consumed), Result::NeedMore);
            QCOMPARE(parser.finish(), Result::Error);
        }
    }

    // A response without Content-Length or chunked encoding ends when the server closes.
    void responseDelimitedByEof()
    {
        const QByteArray response = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/event-stream\r\n"
                                    "\r\n"
                                    "data: {\"a\":1}\n\n"
                                    "data: [DONE]\n\n";
        for (qsizetype chunk : {qsizetype(1), qsizetype(4), response.size()}) {
            const Outcome o = parseAll(HttpParser::Type::Response, response, chunk, true);
            QVERIFY2(!o.error, o.errorReason.constData());
            QCOMPARE(o.messages.size(), 1);
            const Message &m = o.messages[0];
            QCOMPARE(m.status, 200);
            QCOMPARE(m.body, QByteArray("data: {\"a\":1}\n\ndata: [DONE]\n\n"));
            QVERIFY(!m.keepAlive);
            QCOMPARE(headerValue(m, "content-type"), QByteArray("text/event-stream"));
        }
        // Without finish() it is not complete.
        const Outcome pending = parseAll(HttpParser::Type::Response, response, 3, false);
        QVERIFY(!pending.error);
        QVERIFY(pending.messages.isEmpty());
        // An HTTP/1.0 response with an empty EOF-delimited body.
        const Outcome empty = parseAll(HttpParser::Type::Response, "HTTP/1.0 502 Bad Gateway\r\n\r\n", 1, true);
        QVERIFY(!empty.error);
        QCOMPARE(empty.messages.size(), 1);
        QCOMPARE(empty.messages[0].status, 502);
        QVERIFY(empty.messages[0].body.isEmpty());
    }

    void chunkedResponseByteByByte()
    {
        const QByteArray response = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/event-stream; charset=utf-8\r\n"
                                    "Transfer-Encoding: chunked\r\n"
                                    "\r\n"
                                    "10\r\ndata: {\"x\":\"ab\"}\r\n"
                                    "2\r\n\n\n\r\n"
                                    "0\r\n\r\n";
        const QByteArray next = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        const Outcome o = parseAll(HttpParser::Type::Response, response + next, 1);
        QVERIFY2(!o.error, o.errorReason.constData());
        QCOMPARE(o.messages.size(), 2);
        QCOMPARE(o.messages[0].body, QByteArray("data: {\"x\":\"ab\"}\n\n"));
        QCOMPARE(headerValue(o.messages[0], "content-type"), QByteArray("text/event-stream; charset=utf-8"));
        QVERIFY(o.messages[0].keepAlive);
        QCOMPARE(o.messages[1].body, QByteArray("ok"));
        QCOMPARE(o.messages[1].contentLength, std::optional<quint64>(2));
    }

    // 100 Continue is a message of its own; the final response follows as the next message.
    void continueThenFinalResponse()
    {
        const QByteArray input
            = "HTTP/1.1 100 Continue\r\n\r\n"
              "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 11\r\n\r\n{\"error\":1}";
        for (qsizetype chunk : {qsizetype(1), input.size()}) {
            const Outcome o = parseAll(HttpParser::Type::Response, input, chunk);
            QVERIFY(!o.error);
            QCOMPARE(o.messages.size(), 2);
            QCOMPARE(o.messages[0].status, 100);
            QVERIFY(o.messages[0].body.isEmpty());
            QCOMPARE(o.messages[1].status, 429);
            QCOMPARE(headerValue(o.messages[1], "retry-after"), QByteArray("7"));
            QCOMPARE(o.messages[1].body, QByteArray("{\"error\":1}"));
        }
    }

    void bodylessResponses()
    {
        // 204 and 304 have no body even without Content-Length; the next response follows directly.
        const QByteArray input = "HTTP/1.1 204 No Content\r\n\r\n"
                                 "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"
                                 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        const Outcome o = parseAll(HttpParser::Type::Response, input, 1);
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 3);
        QCOMPARE(o.messages[0].status, 204);
        QCOMPARE(o.messages[1].status, 304);
        QCOMPARE(o.messages[2].status, 200);
        for (const Message &m : o.messages)
            QVERIFY(m.body.isEmpty());
    }

    // Upstreams are held to less: "Name : value" is read as "name".
    void lenientResponseHeaderNames()
    {
        const Outcome o = parseAll(HttpParser::Type::Response,
            "HTTP/1.1 200 OK\r\nContent-Type : application/json\r\nContent-Length: 2\r\n\r\n{}", 1);
        QVERIFY2(!o.error, o.errorReason.constData());
        QCOMPARE(o.messages.size(), 1);
        QCOMPARE(headerValue(o.messages[0], "content-type"), QByteArray("application/json"));
        QCOMPARE(o.messages[0].body, QByteArray("{}"));
    }

    // A close after a complete message (a 100 Continue, or a keep-alive response) is not an error.
    void finishBetweenResponses()
    {
        Recorder recorder;
        HttpParser parser(HttpParser::Type::Response, &recorder);
        const QByteArray interim = "HTTP/1.1 100 Continue\r\n\r\n";
        size_t consumed = 0;
        QCOMPARE(parser.feed(interim.constData(), size_t(interim.size()), &consumed), Result::MessageComplete);
        QCOMPARE(parser.finish(), Result::MessageComplete); // not yet started the next one
        parser.startNext();
        QCOMPARE(parser.finish(), Result::NeedMore);
    }

    void invalidResponses_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::newRow("not http") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n");
        QTest::newRow("bad status") << QByteArray("HTTP/1.1 2x0 OK\r\n\r\n");
        QTest::newRow("bad chunk") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n");
    }
    void invalidResponses()
    {
        QFETCH(QByteArray, input);
        const Outcome o = parseAll(HttpParser::Type::Response, input, 1, true);
        QVERIFY(o.error);
        QVERIFY(o.messages.isEmpty());
    }

    // A response cut before its Content-Length is reached is an error on close, not a message.
    void truncatedResponse()
    {
        const QByteArray input = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        const Outcome o = parseAll(HttpParser::Type::Response, input, 1, true);
        QVERIFY(o.error);
        QVERIFY(o.messages.isEmpty());
    }

    // Trailers of a chunked body do not replace the real header values.
    void trailersDoNotOverrideHeaders()
    {
        const QByteArray input = "POST /v1/embeddings HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "2\r\n{}\r\n0\r\nHost: evil.example\r\n\r\n";
        const Outcome o = parseAll(HttpParser::Type::Request, input, 1);
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 1);
        QCOMPARE(headerValue(o.messages[0], "host"), QByteArray("localhost"));
        QCOMPARE(o.messages[0].body, QByteArray("{}"));
    }

    void largeHeaderValueAcrossManyFeeds()
    {
        const QByteArray big(20000, 'k');
        const QByteArray input = "GET / HTTP/1.1\r\nX-Big: " + big + "\r\nHost: a\r\n\r\n";
        const Outcome o = parseAll(HttpParser::Type::Request, input, 999);
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 1);
        QCOMPARE(headerValue(o.messages[0], "x-big"), big);
        QCOMPARE(headerValue(o.messages[0], "host"), QByteArray("a"));
    }

    void emptyHeaderValue()
    {
        const Outcome o
            = parseAll(HttpParser::Type::Request, "GET / HTTP/1.1\r\nX-Empty:\r\nX-Spaces:    \r\nHost: a\r\n\r\n", 1);
        QVERIFY(!o.error);
        QCOMPARE(o.messages.size(), 1);
        QCOMPARE(o.messages[0].headers.size(), 3);
        QCOMPARE(o.messages[0].headers[0], (QPair<QByteArray, QByteArray>("x-empty", "")));
        QCOMPARE(o.messages[0].headers[1], (QPair<QByteArray, QByteArray>("x-spaces", "")));
        QCOMPARE(o.messages[0].headers[2], (QPair<QByteArray, QByteArray>("host", "a")));
    }
};

QTEST_GUILESS_MAIN(TestHttpParser)
#include "tst_httpparser.moc"
