// The response cache alone: its key (what makes two requests the same), what is deterministic,
// what calls a tool, expiry with a fake clock, LRU eviction within the size cap, zstd frames, and
// the answers kept in response-cache.db across a reopen.
#include "cache/requestkey.h"
#include "cache/responsecache.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

namespace {

QByteArray keyOf(const QByteArray &body, const QString &scope = QStringLiteral("key:1"),
                 const QByteArray &endpoint = "/v1/chat/completions")
{
    CacheKeyInput in;
    in.endpoint = endpoint;
    in.body = body;
    in.scope = scope;
    in.target = QStringLiteral("mock/ok");
    QString why;
    return responseCacheKey(in, &why).value_or(QByteArray());
}

CachedAnswer answer(const QByteArray &body)
{
    CachedAnswer a;
    a.contentType = "application/json";
    a.body = body;
    a.modelId = QStringLiteral("mock/ok");
    a.provider = QStringLiteral("mock");
    a.upstreamModel = QStringLiteral("ok");
    a.cost = 12'345;
    return a;
}

// Incompressible bytes of a given size (the cap counts compressed bytes).
QByteArray noise(int size, quint32 seed)
{
    QByteArray out(size, Qt::Uninitialized);
    quint32 x = seed * 2654435761u + 1;
    for (int i = 0; i < size; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = char(x);
    }
    return out;
}

} // namespace

class TestResponseCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keyIgnoresMemberOrderAndSpacing()
    {
        const QByteArray a = "{\"model\":\"m\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        const QByteArray b = "{ \"messages\" : [ {\"content\":\"hi\", \"role\":\"user\"} ],\n \"temperature\": 0, \"model\": \"m\" }";
        QVERIFY(!keyOf(a).isEmpty());
        QCOMPARE(keyOf(a), keyOf(b));
        // stream_options only changes Gatehouse's usage chunk, not the answer.
        const QByteArray c = "{\"model\":\"m\",\"temperature\":0,\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        QCOMPARE(keyOf(a), keyOf(c));
    }

    void keySeparatesWhatChangesTheAnswer()
    {
        const QByteArray a = "{\"model\":\"m\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        QVERIFY(keyOf(a) != keyOf("{\"model\":\"m\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi!\"}]}"));
        QVERIFY(keyOf(a) != keyOf("{\"model\":\"m\",\"temperature\":0,\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        QVERIFY(keyOf(a) != keyOf("{\"model\":\"m\",\"temperature\":0,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"));
        QVERIFY(keyOf(a) != keyOf(a, QStringLiteral("key:2")));
        QVERIFY(keyOf(a) != keyOf(a, QStringLiteral("key:1"), "/v1/messages"));
        // Large integers stay exact (a seed is part of the request).
        QVERIFY(keyOf("{\"model\":\"m\",\"temperature\":0,\"seed\":9007199254740993}")
                != keyOf("{\"model\":\"m\",\"temperature\":0,\"seed\":9007199254740992}"));
        QString why;
        CacheKeyInput in;
        in.endpoint = "/v1/chat/completions";
        in.body = "[1,2]";
        QVERIFY(!responseCacheKey(in, &why));
        QVERIFY(!why.isEmpty());
    }

    void deterministicRequests()
    {
        QVERIFY(isDeterministicRequest("/v1/chat/completions", "{\"temperature\":0}"));
        QVERIFY(isDeterministicRequest("/v1/messages", "{\"temperature\":0.0}"));
        QVERIFY(!isDeterministicRequest("/v1/chat/completions", "{\"model\":\"m\"}")); // the default is 1
        QVERIFY(!isDeterministicRequest("/v1/chat/completions", "{\"temperature\":0.2}"));
        QVERIFY(!isDeterministicRequest("/v1/chat/completions", "{\"temperature\":\"0\"}"));
        QVERIFY(isDeterministicRequest("/v1/embeddings", "{\"input\":\"x\"}"));
    }

    void toolCallsInEveryFormat()
    {
        // OpenAI chat, JSON and stream; Anthropic; Responses.
        QVERIFY(answerCallsTools("{\"choices\":[{\"message\":{\"tool_calls\":[{\"id\":\"call_1\"}]}}]}"));
        QVERIFY(answerCallsTools("data: {\"choices\":[{\"delta\":{\"tool_calls\" : [ {\"index\":0}]}}]}\n\n"));
        QVERIFY(answerCallsTools("{\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\"}],\"stop_reason\":\"tool_use\"}"));
        QVERIFY(answerCallsTools("{\"output\":[{\"type\":\"function_call\",\"name\":\"f\"}]}"));
        QVERIFY(answerCallsTools("{\"choices\":[{\"message\":{\"function_call\":{\"name\":\"f\"}}}]}"));
        // Empty or null members, and the words inside text, are not calls.
        QVERIFY(!answerCallsTools("{\"choices\":[{\"message\":{\"content\":\"hi\",\"tool_calls\":[],\"function_call\":null}}]}"));
        QVERIFY(!answerCallsTools("{\"choices\":[{\"message\":{\"content\":\"use \\\"tool_use\\\" or \\\"tool_calls\\\": [1]\"}}]}"));
        QVERIFY(!answerCallsTools("{\"content\":[{\"type\":\"text\",\"text\":\"plain\"}],\"stop_reason\":\"end_turn\"}"));
    }

    void completeStreams()
    {
        QVERIFY(isCompleteStream("data: {\"choices\":[]}\n\ndata: [DONE]\n\n"));
        QVERIFY(isCompleteStream("event: message_start\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        QVERIFY(isCompleteStream("event: response.created\ndata: {}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\"}\n\n"));
        // A response.completed event larger than the tail that is searched.
        const QByteArray big = "event: response.created\ndata: {}\n\nevent: response.completed\ndata: {\"text\":\""
            + QByteArray(10'000, 'x') + "\"}\n\n";
        QVERIFY(isCompleteStream(big));
        // Cut anywhere else.
        QVERIFY(!isCompleteStream("data: {\"choices\":[]}\n\n"));
        QVERIFY(!isCompleteStream("event: message_start\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\n"));
        QVERIFY(!isCompleteStream("event: response.created\ndata: {}\n\nevent: response.output_text.delta\ndata: {}\n\n"));
        QVERIFY(!isCompleteStream(big.left(big.size() - 200)));
        QVERIFY(!isCompleteStream(""));
    }

    void compressRoundTrip()
    {
        const QByteArray raw = QByteArray("data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n").repeated(200);
        const QByteArray frame = ResponseCache::compress(raw);
        QVERIFY(!frame.isEmpty());
        QVERIFY(frame.size() < raw.size() / 10);
        QCOMPARE(ResponseCache::decompress(frame, raw.size()).value_or(QByteArray()), raw);
        QVERIFY(!ResponseCache::decompress(frame, raw.size() + 1)); // a size that does not match
        QVERIFY(!ResponseCache::decompress("not a zstd frame", 10));
    }

    void expiresWithAFakeClock()
    {
        qint64 now = 1'000'000;
        ResponseCache cache([&] { return now; });
        QVERIFY(cache.open(QString(), 1 << 20));
        QVERIFY(cache.insert("k", answer("{\"a\":1}"), 60'000));
        now += 59'999;
        const auto hit = cache.lookup("k");
        QVERIFY(hit);
        QCOMPARE(hit->body, QByteArray("{\"a\":1}"));
        QCOMPARE(hit->cost.value_or(-1), 12'345);
        QCOMPARE(hit->modelId, QStringLiteral("mock/ok"));
        QCOMPARE(hit->createdMs, 1'000'000);
        now += 1;
        QVERIFY(!cache.lookup("k")); // expired at exactly its TTL
        QCOMPARE(cache.stats().entries, 0);
    }

    void evictsTheLeastRecentlyUsedWithinTheCap()
    {
        qint64 now = 1;
        ResponseCache cache([&] { return now; });
        // Each entry is about 10 KB compressed (noise does not compress): the cap holds four.
        QVERIFY(cache.open(QString(), 45'000));
        for (int i = 0; i < 4; ++i) {
            ++now;
            QVERIFY(cache.insert(QByteArray::number(i), answer(noise(10'000, quint32(i))), 60'000));
        }
        QCOMPARE(cache.stats().entries, 4);
        ++now;
        QVERIFY(cache.lookup("0")); // 0 is now the most recently used; 1 the least
        ++now;
        QVERIFY(cache.insert("4", answer(noise(10'000, 4)), 60'000));
        QCOMPARE(cache.stats().entries, 4);
        QCOMPARE(cache.stats().evictions, 1);
        QVERIFY(!cache.lookup("1"));
        for (const char *k : {"0", "2", "3", "4"})
            QVERIFY2(cache.lookup(k), k);
        QVERIFY(cache.stats().bytes <= 45'000);
        // An answer larger than a quarter of the cap is not stored at all.
        QVERIFY(!cache.insert("big", answer(noise(20'000, 9)), 60'000));
        QVERIFY(!cache.lookup("big"));
        // A lowered cap evicts at once.
        cache.setMaxBytes(25'000);
        QCOMPARE(cache.stats().entries, 2);
    }

    void keptInItsFileAcrossAReopen()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("response-cache.db"));
        qint64 now = 5'000;
        {
            ResponseCache cache([&] { return now; });
            QVERIFY(cache.open(path, 1 << 20));
            QVERIFY(cache.insert("stays", answer("{\"kept\":true}"), 60'000));
            QVERIFY(cache.insert("expires", answer("{\"kept\":false}"), 1'000));
            QVERIFY(cache.insert("replaced", answer("{\"v\":1}"), 60'000));
            QVERIFY(cache.insert("replaced", answer("{\"v\":2}"), 60'000));
            cache.flush();
        }
        QVERIFY(QFile::exists(path));
        now += 2'000;
        ResponseCache again([&] { return now; });
        QVERIFY(again.open(path, 1 << 20));
        QCOMPARE(again.stats().entries, 2);
        QCOMPARE(again.lookup("stays").value_or(CachedAnswer{}).body, QByteArray("{\"kept\":true}"));
        QCOMPARE(again.lookup("replaced").value_or(CachedAnswer{}).body, QByteArray("{\"v\":2}"));
        QVERIFY(!again.lookup("expires"));
        again.clear();
        again.flush();
        ResponseCache third([&] { return now; });
        QVERIFY(third.open(path, 1 << 20));
        QCOMPARE(third.stats().entries, 0);
    }

    void anUnusableFileLeavesMemoryOnly()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("not-a-db"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(8192, 'x'));
        f.close();
        ResponseCache cache;
        QString error;
        QVERIFY(!cache.open(path, 1 << 20, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(cache.insert("k", answer("{}"), 60'000));
        QVERIFY(cache.lookup("k"));
    }
};

QTEST_GUILESS_MAIN(TestResponseCache)
#include "tst_responsecache.moc"
