// The request path's read of a body (gateway/requestbody.h, inspectRequestBody), over bodies that
// exercise each top-level member it reads: an OpenAI chat request with tools, stream_options and a
// per-request fallback list, an Anthropic request with thinking and a system prompt, and a 100 KB
// agent conversation. Single-threaded; prints ns per call. For instruction counts (BENCHMARKS.md,
// "Request body"), run it under callgrind with a small count:
//   valgrind --tool=callgrind build/bench/requestbody_bench 2000
#include "gateway/requestbody.h"
#include <QByteArray>
#include <QElapsedTimer>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

using namespace gh;

namespace {

QByteArray chatWithTools()
{
    return QByteArrayLiteral(
        R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false},"max_completion_tokens":512,)"
        R"("models":["claude-haiku","gemini-flash"],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}},)"
        R"("tools":[{"type":"function","function":{"name":"read","description":"Read a file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}}],)"
        R"("messages":[{"role":"system","content":"You are a careful engineer."},)"
        R"({"role":"user","content":[{"type":"text","text":"What is in this picture?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},)"
        R"({"role":"assistant","content":"A parser."},{"role":"user","content":"Refactor it."}]})");
}

QByteArray messagesWithThinking()
{
    return QByteArrayLiteral(
        R"({"model":"claude-sonnet","max_tokens":4096,"thinking":{"type":"enabled","budget_tokens":2048},)"
        R"("system":[{"type":"text","text":"You are a careful engineer.","cache_control":{"type":"ephemeral"}}],)"
        R"("messages":[{"role":"user","content":"Refactor the parser."},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Read","input":{"path":"a.py"}}]},)"
        R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"def f(): pass"}]}]})");
}

QByteArray longConversation()
{
    QByteArray body = R"({"model":"claude-sonnet","max_tokens":1024,"messages":[{"role":"user","content":"Refactor the parser."})";
    for (int i = 0; body.size() < 100 * 1024; ++i) {
        const QByteArray id = "toolu_" + QByteArray::number(i);
        body += R"(,{"role":"assistant","content":[{"type":"tool_use","id":")" + id
            + R"(","name":"Read","input":{"path":"src/f.py"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":")" + id
            + R"(","content":")" + QByteArray(300, char('a' + i % 26)) + R"("}]})";
    }
    body += "]}";
    return body;
}

void run(const char *label, QByteArray body, Endpoint endpoint, int iterations)
{
    QElapsedTimer t;
    quint64 sink = 0;
    t.start();
    for (int i = 0; i < iterations; ++i) {
        const auto fields = inspectRequestBody(body, endpoint, nullptr);
        if (!fields) {
            std::fprintf(stderr, "%s: the body was refused\n", label);
            std::exit(1);
        }
        sink += fields->prefixHash;
    }
    std::printf("%-22s %7lld B: inspectRequestBody %8.0f ns (%d iterations, %llu)\n", label,
                static_cast<long long>(body.size()), double(t.nsecsElapsed()) / iterations, iterations,
                static_cast<unsigned long long>(sink & 1));
}

} // namespace

int main(int argc, char **argv)
{
    const int n = argc > 1 ? std::atoi(argv[1]) : 100'000;
    run("chat, tools, stream", chatWithTools(), Endpoint::ChatCompletions, n);
    run("messages, thinking", messagesWithThinking(), Endpoint::Messages, n);
    run("100 KB conversation", longConversation(), Endpoint::Messages, std::max(1, n / 20));
    return 0;
}
