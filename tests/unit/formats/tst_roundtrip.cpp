// Round trips (OpenAI -> Anthropic -> OpenAI), compositions through Gemini, key order of passthrough
// content, usage consistency and stream well-formedness.
#include "goldenkit.h"
#include "streamcheck.h"
#include "formats/anthropic/anthropictranslate.h"
#include "formats/gemini/geminitranslate.h"
#include <QTest>

class TestRoundTrip : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void openAIRequestThroughAnthropic();
    void keyOrderKeptEverywhere();
    void stringsThatLookLikePlaceholdersStayStrings();
    void responseRoundTrip();
    void thinkingSignaturesRoundTrip();
    void anthropicClientToGeminiComposes();
    void chainedGeminiStreamToAnthropic();
    void streamRoundTrip();
    void goldenStreamsAreWellFormed();
    void checkersRejectBrokenStreams();
    void sawErrorOnlyForInStreamErrors();
};

// moc does not read raw string literals reliably: the definitions are hidden from it.
#ifndef Q_MOC_RUN
using namespace gh;

namespace {

QJsonObject obj(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

// Feeds SSE text event by event; returns everything written to the client.
QByteArray run(StreamTranslator &t, const QByteArray &sse, bool finish = true)
{
    QByteArray out;
    for (const golden::SseEvent &e : golden::parseSse(sse))
        out += t.feed(e.name, e.data);
    if (finish)
        out += t.finish();
    return out;
}

// What an OpenAI client assembles from a chunk stream.
struct Assembled {
    QString content;
    QString reasoning;
    QStringList toolIds, toolNames, toolArgs;
    QString finish;
    QJsonObject usage;
};
Assembled assemble(const QByteArray &sse)
{
    Assembled a;
    for (const golden::SseEvent &e : golden::parseSse(sse)) {
        if (e.data == "[DONE]")
            continue;
        const QJsonObject o = obj(e.data);
        if (o.value(QLatin1String("usage")).isObject())
            a.usage = o.value(QLatin1String("usage")).toObject();
        for (const QJsonValue &cv : o.value(QLatin1String("choices")).toArray()) {
            const QJsonObject d = cv.toObject().value(QLatin1String("delta")).toObject();
            a.content += d.value(QLatin1String("content")).toString();
            a.reasoning += d.value(QLatin1String("reasoning_content")).toString();
            for (const QJsonValue &tv : d.value(QLatin1String("tool_calls")).toArray()) {
                const QJsonObject t = tv.toObject();
                const int i = t.value(QLatin1String("index")).toInt();
                while (a.toolArgs.size() <= i) {
                    a.toolIds.append(QString());
                    a.toolNames.append(QString());
                    a.toolArgs.append(QString());
                }
                if (t.contains(QLatin1String("id")))
                    a.toolIds[i] = t.value(QLatin1String("id")).toString();
                const QJsonObject fn = t.value(QLatin1String("function")).toObject();
                if (fn.contains(QLatin1String("name")))
                    a.toolNames[i] = fn.value(QLatin1String("name")).toString();
                a.toolArgs[i] += fn.value(QLatin1String("arguments")).toString();
            }
            if (cv.toObject().value(QLatin1String("finish_reason")).isString())
                a.finish = cv.toObject().value(QLatin1String("finish_reason")).toString();
        }
    }
    return a;
}

const QByteArray kOrderedTool = R"({"type":"function","function":{"name":"lookup","description":"Find a record",
  "parameters":{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"integer"},"mid":{"type":"boolean"}},"required":["zeta"]}}})";

bool inOrder(const QByteArray &text, const QList<QByteArray> &keys)
{
    qsizetype last = -1;
    for (const QByteArray &k : keys) {
        const qsizetype at = text.indexOf("\"" + k + "\"", last + 1);
        if (at <= last)
            return false;
        last = at;
    }
    return true;
}

} // namespace

void TestRoundTrip::openAIRequestThroughAnthropic()
{
    const QByteArray original = R"({"model":"gpt-4o","messages":[
        {"role":"system","content":"Be brief."},
        {"role":"user","content":[{"type":"text","text":"What is in the picture, and the weather there?"},
                                 {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
        {"role":"assistant","content":"Let me look.","tool_calls":[{"id":"call_A1","type":"function","function":{"name":"lookup","arguments":"{\"zeta\":\"Paris\",\"alpha\":3}"}},
                                                         {"id":"call_B2","type":"function","function":{"name":"lookup","arguments":"{\"zeta\":\"Rome\"}"}}]},
        {"role":"tool","tool_call_id":"call_A1","content":"sunny"},
        {"role":"tool","tool_call_id":"call_B2","content":"rain"}],
      "tools":[)"
        + kOrderedTool
        + R"(],"tool_choice":"required","stop":["END"],"temperature":0.3,"max_completion_tokens":300,"stream":true})";
    TranslateError err;
    const auto anthropic = openAIChatToAnthropic(original, QStringLiteral("claude-x"), 1024, &err);
    QVERIFY2(anthropic, qPrintable(err.message));
    const auto back = anthropicToOpenAIChat(*anthropic, QStringLiteral("gpt-4o"), &err);
    QVERIFY2(back, qPrintable(err.message));

    const QJsonObject o = obj(original);
    const QJsonObject b = obj(*back);
    QCOMPARE(b.value(QLatin1String("tools")), o.value(QLatin1String("tools")));
    QCOMPARE(b.value(QLatin1String("tool_choice")).toString(), QStringLiteral("required"));
    QCOMPARE(b.value(QLatin1String("stop")).toArray(), QJsonArray{QStringLiteral("END")});
    QCOMPARE(b.value(QLatin1String("temperature")).toDouble(), 0.3);
    QCOMPARE(b.value(QLatin1String("max_completion_tokens")).toInt(), 300);
    QVERIFY(b.value(QLatin1String("stream_options")).toObject().value(QLatin1String("include_usage")).toBool());

    // Messages come back the same, tool ids and arguments included (arguments re-minified).
    const QJsonArray om = o.value(QLatin1String("messages")).toArray();
    const QJsonArray bm = b.value(QLatin1String("messages")).toArray();
    QCOMPARE(bm.size(), om.size());
    for (qsizetype i = 0; i < om.size(); ++i) {
        QJsonObject expected = om.at(i).toObject();
        QJsonObject actual = bm.at(i).toObject();
        QCOMPARE(actual.value(QLatin1String("role")), expected.value(QLatin1String("role")));
        if (expected.contains(QLatin1String("tool_calls"))) {
            QCOMPARE(actual.value(QLatin1String("tool_calls")), expected.value(QLatin1String("tool_calls")));
            QCOMPARE(actual.value(QLatin1String("content")), expected.value(QLatin1String("content")));
        } else {
            QCOMPARE(actual, expected);
        }
    }
    // The schema's key order survives both hops.
    QVERIFY(inOrder(*anthropic, {"zeta", "alpha", "mid", "required"}));
    QVERIFY(inOrder(*back, {"zeta", "alpha", "mid", "required"}));
    QVERIFY(back->contains(R"(\"zeta\":\"Paris\",\"alpha\":3)"));
}

void TestRoundTrip::keyOrderKeptEverywhere()
{
    const QByteArray req = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[)" + kOrderedTool
        + R"(],"response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object","properties":{"zz":{"type":"string"},"aa":{"type":"string"}}}}}})";
    TranslateError err;
    const auto a = openAIChatToAnthropic(req, QStringLiteral("c"), 100, &err);
    QVERIFY2(a, qPrintable(err.message));
    QVERIFY(inOrder(*a, {"zeta", "alpha", "mid"}));
    QVERIFY(inOrder(*a, {"zz", "aa"}));
    const auto g = openAIChatToGemini(req, &err);
    QVERIFY2(g, qPrintable(err.message));
    QVERIFY(inOrder(*g, {"zeta", "alpha", "mid"}));
    QVERIFY(inOrder(*g, {"zz", "aa"}));

    // Tool inputs in responses: Anthropic input object -> arguments text, in order.
    const QByteArray resp
        = R"({"id":"msg_1","type":"message","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"zeta":"x","alpha":1,"mid":true}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}})";
    const QJsonObject r = obj(anthropicResponseToOpenAI(resp, QStringLiteral("m")));
    const QString args = r.value(QLatin1String("choices"))
                             .toArray()
                             .at(0)
                             .toObject()
                             .value(QLatin1String("message"))
                             .toObject()
                             .value(QLatin1String("tool_calls"))
                             .toArray()
                             .at(0)
                             .toObject()
                             .value(QLatin1String("function"))
                             .toObject()
                             .value(QLatin1String("arguments"))
                             .toString();
    QCOMPARE(args, QStringLiteral(R"({"zeta":"x","alpha":1,"mid":true})"));
    // And back: arguments text -> Anthropic input, in order.
    const QByteArray anth
        = openAIResponseToAnthropic(anthropicResponseToOpenAI(resp, QStringLiteral("m")), QStringLiteral("m"));
    QVERIFY(anth.contains(R"("input":{"zeta":"x","alpha":1,"mid":true})"));
}

void TestRoundTrip::stringsThatLookLikePlaceholdersStayStrings()
{
    // User text cannot be mistaken for a splice placeholder.
    const QByteArray req
        = QByteArray(R"({"model":"m","messages":[{"role":"user","content":"\u0001abc:0\u0001"}],"tools":[)")
        + kOrderedTool + "]}";
    TranslateError err;
    const auto a = openAIChatToAnthropic(req, QStringLiteral("c"), 100, &err);
    QVERIFY(a);
    QCOMPARE(
        obj(*a).value(QLatin1String("messages")).toArray().at(0).toObject().value(QLatin1String("content")).toString(),
        QStringLiteral("\u0001abc:0\u0001"));
}

void TestRoundTrip::responseRoundTrip()
{
    const QByteArray openai
        = R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,
        "message":{"role":"assistant","content":"Calling.","tool_calls":[{"id":"call_Z","type":"function","function":{"name":"lookup","arguments":"{\"zeta\":\"q\"}"}}]},
        "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}})";
    const QByteArray anthropic = openAIResponseToAnthropic(openai, QStringLiteral("claude-client"));
    const QJsonObject a = obj(anthropic);
    QCOMPARE(a.value(QLatin1String("stop_reason")).toString(), QStringLiteral("tool_use"));
    const QJsonObject back = obj(anthropicResponseToOpenAI(anthropic, QStringLiteral("gpt-4o")));
    const QJsonObject choice = back.value(QLatin1String("choices")).toArray().at(0).toObject();
    QCOMPARE(choice.value(QLatin1String("finish_reason")).toString(), QStringLiteral("tool_calls"));
    const QJsonObject m = choice.value(QLatin1String("message")).toObject();
    QCOMPARE(m.value(QLatin1String("content")).toString(), QStringLiteral("Calling."));
    QCOMPARE(m.value(QLatin1String("tool_calls")),
        obj(openai)
            .value(QLatin1String("choices"))
            .toArray()
            .at(0)
            .toObject()
            .value(QLatin1String("message"))
            .toObject()
            .value(QLatin1String("tool_calls")));
    const QJsonObject u = back.value(QLatin1String("usage")).toObject();
    QCOMPARE(u.value(QLatin1String("prompt_tokens")).toInt(), 120);
    QCOMPARE(u.value(QLatin1String("completion_tokens")).toInt(), 30);
    QCOMPARE(
        u.value(QLatin1String("prompt_tokens_details")).toObject().value(QLatin1String("cached_tokens")).toInt(), 100);
}

void TestRoundTrip::thinkingSignaturesRoundTrip()
{
    // Anthropic thinking -> OpenAI response (thinking_blocks) -> the next OpenAI request -> Anthropic keeps the
    // signature.
    const QByteArray resp
        = R"({"id":"msg_t","type":"message","role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"SIG=="},
        {"type":"tool_use","id":"toolu_9","name":"lookup","input":{"zeta":"a"}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":5}})";
    const QJsonObject message = obj(anthropicResponseToOpenAI(resp, QStringLiteral("m")))
                                    .value(QLatin1String("choices"))
                                    .toArray()
                                    .at(0)
                                    .toObject()
                                    .value(QLatin1String("message"))
                                    .toObject();
    QJsonObject next{{QLatin1String("model"), QStringLiteral("m")},
        {QLatin1String("messages"),
            QJsonArray{QJsonObject{{QLatin1String("role"), QStringLiteral("user")},
                           {QLatin1String("content"), QStringLiteral("go")}},
                message,
                QJsonObject{{QLatin1String("role"), QStringLiteral("tool")},
                    {QLatin1String("tool_call_id"), QStringLiteral("toolu_9")},
                    {QLatin1String("content"), QStringLiteral("ok")}}}},
        {QLatin1String("tools"), QJsonArray{obj(kOrderedTool)}}};
    TranslateError err;
    const auto a = openAIChatToAnthropic(QJsonDocument(next).toJson(), QStringLiteral("c"), 4096, &err);
    QVERIFY2(a, qPrintable(err.message));
    const QJsonArray assistant
        = obj(*a).value(QLatin1String("messages")).toArray().at(1).toObject().value(QLatin1String("content")).toArray();
    QCOMPARE(assistant.size(), 2);
    QCOMPARE(assistant.at(0).toObject().value(QLatin1String("signature")).toString(), QStringLiteral("SIG=="));
    QCOMPARE(assistant.at(1).toObject().value(QLatin1String("id")).toString(), QStringLiteral("toolu_9"));
}

void TestRoundTrip::anthropicClientToGeminiComposes()
{
    // Anthropic request -> OpenAI -> Gemini: the tool result finds its function name through the kept id.
    const QByteArray req
        = R"({"model":"claude","max_tokens":500,"system":"Be brief.","tools":[{"name":"lookup","description":"d","input_schema":{"type":"object","properties":{"zeta":{"type":"string"}}}}],
        "messages":[{"role":"user","content":"find"},{"role":"assistant","content":[{"type":"tool_use","id":"toolu_7","name":"lookup","input":{"zeta":"b"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_7","content":"{\"found\":true}"}]}],"stream":true})";
    TranslateError err;
    const auto openai = anthropicToOpenAIChat(req, QStringLiteral("gemini-2.5-flash"), &err);
    QVERIFY2(openai, qPrintable(err.message));
    const auto gemini = openAIChatToGemini(*openai, &err);
    QVERIFY2(gemini, qPrintable(err.feature + err.message));
    QString why;
    QVERIFY2(golden::matchJson(R"({"contents":[{"role":"user","parts":[{"text":"find"}]},
            {"role":"model","parts":[{"functionCall":{"name":"lookup","args":{"zeta":"b"}}}]},
            {"role":"user","parts":[{"functionResponse":{"name":"lookup","response":{"found":true}}}]}],
          "systemInstruction":{"parts":[{"text":"Be brief."}]},
          "tools":[{"functionDeclarations":[{"name":"lookup","description":"d","parametersJsonSchema":{"type":"object","properties":{"zeta":{"type":"string"}}}}]}],
          "generationConfig":{"maxOutputTokens":500}})",
                 *gemini, &why),
        qPrintable(why));

    // Gemini response -> OpenAI -> Anthropic.
    const QByteArray gresp
        = R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Found it."}]},"finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":300,"cachedContentTokenCount":200,"candidatesTokenCount":10,"thoughtsTokenCount":5,"totalTokenCount":315}})";
    const QJsonObject a
        = obj(openAIResponseToAnthropic(geminiResponseToOpenAI(gresp, QStringLiteral("x")), QStringLiteral("claude")));
    QCOMPARE(a.value(QLatin1String("content")).toArray().at(0).toObject().value(QLatin1String("text")).toString(),
        QStringLiteral("Found it."));
    QCOMPARE(a.value(QLatin1String("stop_reason")).toString(), QStringLiteral("end_turn"));
    const QJsonObject u = a.value(QLatin1String("usage")).toObject();
    QCOMPARE(u.value(QLatin1String("input_tokens")).toInt(), 100);
    QCOMPARE(u.value(QLatin1String("cache_read_input_tokens")).toInt(), 200);
    QCOMPARE(u.value(QLatin1String("output_tokens")).toInt(), 15);
}

void TestRoundTrip::chainedGeminiStreamToAnthropic()
{
    const QByteArray gemini = golden::read(golden::dir(QStringLiteral("stream/gemini_to_openai/basic.in.sse")));
    auto chain = chainStreams(
        geminiToOpenAIStream(QStringLiteral("x"), true), openAIToAnthropicStream(QStringLiteral("claude-client")));
    const QByteArray out = run(*chain, gemini);
    QString why;
    QVERIFY2(streamcheck::checkAnthropic(out, &why), qPrintable(why + QLatin1Char('\n') + QString::fromUtf8(out)));
    QVERIFY(out.contains(R"("text":" quick brown fox")"));
    QVERIFY(out.contains(R"("cache_read_input_tokens":4)"));
    QVERIFY(out.contains(R"("input_tokens":5)"));
    QCOMPARE(chain->usage().cacheReadTokens, 4);
    QCOMPARE(chain->usage().outputTokens, 12);
    QVERIFY(chain->ended());
    // A failure mid-way ends the client's stream in its own format.
    auto broken
        = chainStreams(geminiToOpenAIStream(QStringLiteral("x"), true), openAIToAnthropicStream(QStringLiteral("c")));
    QByteArray partial = run(*broken, gemini.left(gemini.indexOf("data:", gemini.indexOf("data:") + 1)), false);
    partial += broken->fail(502, QStringLiteral("reset"));
    QVERIFY2(
        streamcheck::checkAnthropic(partial, &why), qPrintable(why + QLatin1Char('\n') + QString::fromUtf8(partial)));
    QVERIFY(partial.contains("event: error"));
}

void TestRoundTrip::streamRoundTrip()
{
    // OpenAI chunks -> Anthropic events -> OpenAI chunks: the client assembles the same answer.
    const QByteArray openai = golden::read(golden::dir(QStringLiteral("stream/openai_to_anthropic/tool_calls.in.sse")));
    auto toAnthropic = openAIToAnthropicStream(QStringLiteral("claude-client"));
    const QByteArray anthropic = run(*toAnthropic, openai);
    QString why;
    QVERIFY2(streamcheck::checkAnthropic(anthropic, &why), qPrintable(why));
    auto toOpenAI = anthropicToOpenAIStream(QStringLiteral("gpt-4o"), true);
    const QByteArray back = run(*toOpenAI, anthropic);
    QVERIFY2(streamcheck::checkOpenAI(back, &why), qPrintable(why));

    const Assembled before = assemble(openai);
    const Assembled after = assemble(back);
    QCOMPARE(after.content, before.content);
    QCOMPARE(after.toolIds, before.toolIds);
    QCOMPARE(after.toolNames, before.toolNames);
    QCOMPARE(after.toolArgs, before.toolArgs);
    QCOMPARE(after.finish, before.finish);
    QCOMPARE(after.usage.value(QLatin1String("prompt_tokens")).toInt(),
        before.usage.value(QLatin1String("prompt_tokens")).toInt());
    QCOMPARE(after.usage.value(QLatin1String("completion_tokens")).toInt(),
        before.usage.value(QLatin1String("completion_tokens")).toInt());
    QCOMPARE(after.usage.value(QLatin1String("prompt_tokens_details"))
                 .toObject()
                 .value(QLatin1String("cached_tokens"))
                 .toInt(),
        64);
    // The translators report the upstream's own usage, normalized.
    QCOMPARE(toAnthropic->usage().inputTokens, 36);
    QCOMPARE(toAnthropic->usage().cacheReadTokens, 64);
    QCOMPARE(toOpenAI->usage().cacheReadTokens, 64);
    QCOMPARE(toOpenAI->usage().outputTokens, 20);
}

void TestRoundTrip::goldenStreamsAreWellFormed()
{
    QString why;
    for (const QString &name : golden::cases(QStringLiteral("stream/openai_to_anthropic"), QStringLiteral(".in.sse"))) {
        auto t = openAIToAnthropicStream(QStringLiteral("c"));
        const QByteArray out = run(*t,
            golden::read(golden::dir(QStringLiteral("stream/openai_to_anthropic/") + name + QLatin1String(".in.sse"))));
        QVERIFY2(streamcheck::checkAnthropic(out, &why), qPrintable(name + QLatin1String(": ") + why));
    }
    for (const QString &dir : {QStringLiteral("anthropic_to_openai"), QStringLiteral("gemini_to_openai")}) {
        for (const QString &name : golden::cases(QStringLiteral("stream/") + dir, QStringLiteral(".in.sse"))) {
            auto t = dir.startsWith(QLatin1String("anthropic")) ? anthropicToOpenAIStream(QStringLiteral("c"), true)
                                                                : geminiToOpenAIStream(QStringLiteral("c"), true);
            const QByteArray out = run(*t,
                golden::read(
                    golden::dir(QStringLiteral("stream/") + dir + QLatin1Char('/') + name + QLatin1String(".in.sse"))));
            QVERIFY2(streamcheck::checkOpenAI(out, &why), qPrintable(name + QLatin1String(": ") + why));
        }
    }
    // An empty upstream stream still gives the client a complete one.
    auto a = openAIToAnthropicStream(QStringLiteral("c"));
    QVERIFY2(streamcheck::checkAnthropic(a->finish(), &why), qPrintable(why));
    auto o = anthropicToOpenAIStream(QStringLiteral("c"), true);
    QVERIFY2(streamcheck::checkOpenAI(o->finish(), &why), qPrintable(why));
    auto g = geminiToOpenAIStream(QStringLiteral("c"), false);
    QVERIFY2(streamcheck::checkOpenAI(g->finish(), &why), qPrintable(why));
}

void TestRoundTrip::checkersRejectBrokenStreams()
{
    // The checkers themselves must catch what they are for.
    QString why;
    QVERIFY(!streamcheck::checkAnthropic("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", &why));
    QVERIFY(!streamcheck::checkAnthropic(
        golden::read(golden::dir(QStringLiteral("stream/anthropic_to_openai/basic.in.sse"))).left(200), &why));
    QVERIFY(!streamcheck::checkOpenAI(
        "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[]}\n\n", &why));
}

void TestRoundTrip::sawErrorOnlyForInStreamErrors()
{
    auto t = anthropicToOpenAIStream(QStringLiteral("c"), false);
    QVERIFY(!t->sawError());
    QVERIFY(!t->feed("error", R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})")
                 .isEmpty());
    QVERIFY(t->sawError());
    QCOMPARE(t->errorMessage(), QStringLiteral("Internal server error"));
    QVERIFY(t->feed("message_stop", R"({"type":"message_stop"})").isEmpty()); // nothing after the end
    auto f = anthropicToOpenAIStream(QStringLiteral("c"), false);
    QVERIFY(!f->fail(502, QStringLiteral("reset")).isEmpty());
    QVERIFY(!f->sawError());
    QVERIFY(f->fail(502, QStringLiteral("again")).isEmpty());
}
#endif

QTEST_GUILESS_MAIN(TestRoundTrip)
#include "tst_roundtrip.moc"
