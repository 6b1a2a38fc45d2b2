// What the response cache adds to a request on the worker (BENCHMARKS.md, "Response cache"): the
// key of a request (its body parsed, re-serialized with sorted members, SHA-256), a lookup that
// hits (the entry found, its zstd frame decompressed) and a fill (compressed, inserted), for a
// 2.5 KB and a 100 KB chat body and a 2 KB and a 20 KB streamed answer. Single-threaded, memory
// only (the file is written by the cache's own thread); prints µs per operation.
#include "cache/requestkey.h"
#include "cache/responsecache.h"
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>

using namespace gh;

namespace {

QByteArray chatBody(int targetBytes)
{
    QJsonArray messages;
    int i = 0;
    while (QJsonDocument(messages).toJson(QJsonDocument::Compact).size() < targetBytes) {
        messages.append(QJsonObject{{QStringLiteral("role"), i % 2 ? QStringLiteral("assistant") : QStringLiteral("user")},
                                    {QStringLiteral("content"), QStringLiteral("Step %1: ").arg(i) + QString(300, QChar(u'a' + i % 26))}});
        ++i;
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), QStringLiteral("openai/gpt-4.1")}, {QStringLiteral("temperature"), 0},
                                     {QStringLiteral("messages"), messages}})
        .toJson(QJsonDocument::Compact);
}

QByteArray streamAnswer(int targetBytes)
{
    QByteArray out;
    int i = 0;
    while (out.size() < targetBytes)
        out += "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4.1\","
               "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word" + QByteArray::number(i++) + " \"},\"finish_reason\":null}]}\n\n";
    return out + "data: [DONE]\n\n";
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    for (int size : {2'500, 100'000}) {
        const QByteArray body = chatBody(size);
        CacheKeyInput in;
        in.endpoint = "/v1/chat/completions";
        in.body = body;
        in.scope = QStringLiteral("key:1");
        in.target = QStringLiteral("openai/gpt-4.1");
        const int n = size > 10'000 ? 500 : 5'000;
        QElapsedTimer t;
        t.start();
        qsizetype sink = 0;
        bool deterministic = false;
        for (int i = 0; i < n; ++i)
            sink += responseCacheKey(in, nullptr, &deterministic)->size() + deterministic;
        std::printf("key + temperature check, %6lld-byte body: %8.1f us%s\n", qlonglong(body.size()),
                    double(t.nsecsElapsed()) / n / 1000, sink ? "" : " ");
    }
    for (int size : {2'000, 20'000}) {
        const QByteArray answer = streamAnswer(size);
        ResponseCache cache;
        cache.open(QString(), 1LL << 30);
        CachedAnswer a;
        a.stream = true;
        a.contentType = "text/event-stream";
        a.body = answer;
        a.cost = 1000;
        const int n = 2'000;
        QElapsedTimer t;
        t.start();
        for (int i = 0; i < n; ++i)
            cache.insert(QByteArray::number(i), a, 3'600'000);
        const double fillUs = double(t.nsecsElapsed()) / n / 1000;
        t.restart();
        qsizetype sink = 0;
        for (int i = 0; i < n; ++i)
            sink += cache.lookup(QByteArray::number(i))->body.size();
        const double hitUs = double(t.nsecsElapsed()) / n / 1000;
        const auto stats = cache.stats();
        std::printf("%6lld-byte stream answer: fill %6.1f us, hit %6.1f us, %5.1f%% of its size stored%s\n",
                    qlonglong(answer.size()), fillUs, hitUs, 100.0 * double(stats.bytes) / double(stats.rawBytes), sink ? "" : " ");
    }
    return 0;
}
