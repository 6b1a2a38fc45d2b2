// What the guardrails add to a request on the worker (BENCHMARKS.md, "Guardrails"): reading the
// request's shape (one simdjson pass over the body, the message list hashed with its volatile
// parts left out) and admit() + settle() on the shared engine, for an agent-like body of 2 KB and
// of 100 KB (a long conversation of tool results). Single-threaded; prints ns per request.
#include "gateway/requestbody.h"
#include "guardrails/guardrails.h"
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace gh;

namespace {

QByteArray conversation(int targetBytes)
{
    QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("Refactor the parser.")}}};
    int i = 0;
    while (QJsonDocument(messages).toJson(QJsonDocument::Compact).size() < targetBytes) {
        const QString id = QStringLiteral("toolu_%1").arg(i);
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                    {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                                                                                       {QStringLiteral("id"), id},
                                                                                       {QStringLiteral("name"), QStringLiteral("Read")},
                                                                                       {QStringLiteral("input"), QJsonObject{{QStringLiteral("path"), QStringLiteral("src/f%1.py").arg(i)}}}}}}});
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                    {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                                                                       {QStringLiteral("tool_use_id"), id},
                                                                                       {QStringLiteral("content"), QString(300, QChar(u'a' + i % 26))}}}}});
        ++i;
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("model"), QStringLiteral("m")}, {QStringLiteral("max_tokens"), 1024}, {QStringLiteral("messages"), messages}})
        .toJson(QJsonDocument::Compact);
}

void run(const char *label, QByteArray body, int iterations)
{
    Guardrails g;
    QElapsedTimer t;
    quint64 sink = 0;
    t.start();
    for (int i = 0; i < iterations; ++i)
        sink += readRequestShape(body).contentHash;
    const double shapeNs = double(t.nsecsElapsed()) / iterations;
    // For scale: the request path's own read of the same body (gateway/requestbody.h).
    t.restart();
    for (int i = 0; i < iterations; ++i)
        sink += inspectRequestBody(body, Endpoint::Messages, nullptr)->prefixHash;
    const double inspectNs = double(t.nsecsElapsed()) / iterations;
    const RequestShape shape = readRequestShape(body);
    t.restart();
    for (int i = 0; i < iterations; ++i) {
        GuardrailTicket ticket;
        ticket.keyId = 1;
        ticket.keyName = QStringLiteral("bench");
        ticket.policy.repetition = GuardMode::Alert;
        ticket.shape = shape;
        ticket.shape.contentHash += quint64(i); // distinct lists: the steady state of normal work
        ticket.session = QStringLiteral("session-%1").arg(i % 64);
        if (!g.admit(ticket, QStringLiteral("r")))
            g.settle(ticket, GuardrailOutcome{200, 1000, 2000, 100, 200'000, std::nullopt}, QStringLiteral("r"));
    }
    const double engineNs = double(t.nsecsElapsed()) / iterations;
    std::printf("%-8s body %7lld B: readRequestShape %8.0f ns, admit+settle %6.0f ns; inspectRequestBody %8.0f ns (%d iterations, %llu)\n",
                label, static_cast<long long>(body.size()), shapeNs, engineNs, inspectNs, iterations,
                static_cast<unsigned long long>(sink & 1));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    // An optional divisor of the iteration counts, for a run under callgrind (e.g. 100).
    const int divisor = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1;
    run("2 KB", conversation(2 * 1024), 200'000 / divisor);
    run("100 KB", conversation(100 * 1024), std::max(1, 5'000 / divisor));
    return 0;
}
