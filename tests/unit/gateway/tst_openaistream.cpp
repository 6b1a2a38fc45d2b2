// The side parser of OpenAI-format streams, fed with the chunks OpenAI documents.
// Note: no raw string literals with \" or odd quote counts here: moc 6.4 mis-lexes them and then
// finds no class in the file.
#include "formats/openai_chat/openaistream.h"
#include "formats/providerevents.h"
#include "http/sseframer.h"
#include <QTest>

using gh::OpenAIEventInfo;
using gh::Usage;

namespace gh {
char *toString(const Usage &u)
{
    return qstrdup(QStringLiteral("{in %1, cacheRead %2, cacheWrite %3, out %4, reasoning %5, reported %6}")
                       .arg(u.inputTokens)
                       .arg(u.cacheReadTokens)
                       .arg(u.cacheWriteTokens)
                       .arg(u.outputTokens)
                       .arg(u.reasoningTokens)
                       .arg(u.reported)
                       .toUtf8()
                       .constData());
}
} // namespace gh

namespace {

Usage usage(qint64 in, qint64 cacheRead, qint64 out, qint64 reasoning)
{
    Usage u;
    u.inputTokens = in;
    u.cacheReadTokens = cacheRead;
    u.outputTokens = out;
    u.reasoningTokens = reasoning;
    u.reported = true;
    return u;
}

// Chat Completions chunks, as in OpenAI's API reference and streaming guide.
const QByteArray kRoleChunk
    = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null})";
const QByteArray kContentChunk
    = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null})";
const QByteArray kFinishChunk
    = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})";
const QByteArray kUsageChunk
    = R"({"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":128,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})";
const QByteArray kToolStart
    = R"({"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_current_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]})";
// arguments: {"location": (12 bytes once unescaped)
const QByteArray kToolArgs
    = "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{"
      "\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"location\\\":\"}},{"
      "\"index\":1,\"function\":{\"arguments\":\"ab\"}}]},\"logprobs\":null,\"finish_reason\":null}]}";

// Responses API stream events.
const QByteArray kResponseCreated
    = R"({"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}})";
const QByteArray kResponseDelta
    = R"({"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi there","logprobs":[]})";
const QByteArray kResponseTextDone
    = R"({"type":"response.output_text.done","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Hi there","logprobs":[]})";
const QByteArray kResponseCompleted
    = R"({"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","object":"response","created_at":1741290958,"status":"completed","error":null,"incomplete_details":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there! How can I assist you today?","annotations":[]}]}],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}})";
const QByteArray kResponseFailed
    = R"({"type":"response.failed","sequence_number":3,"response":{"id":"resp_1","object":"response","status":"failed","error":{"code":"server_error","message":"The model failed to generate a response."},"usage":null}})";
const QByteArray kErrorEvent
    = R"({"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null,"sequence_number":1})";

} // namespace

class TestOpenAIStream : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void chatChunks_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<qint64>("outputBytes");
        QTest::addColumn<bool>("hasUsage");
        QTest::addColumn<bool>("usageOnly");
        QTest::addColumn<bool>("content"); // counts as the first token
        QTest::newRow("role") << kRoleChunk << qint64(0) << false << false << false;
        QTest::newRow("content") << kContentChunk << qint64(5) << false << false << true;
        QTest::newRow("finish") << kFinishChunk << qint64(0) << false << false << false;
        QTest::newRow("tool call start") << kToolStart << qint64(0) << false << false << true;
        QTest::newRow("tool call arguments") << kToolArgs << qint64(14) << false << false << true;
        QTest::newRow("usage chunk") << kUsageChunk << qint64(0) << true << true << false;
        QTest::newRow("utf-8 content") << QByteArray(
            "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"h\xc3\xa9llo\"}}]}")
                                       << qint64(6) << false << false << true;
        QTest::newRow("escaped content") << QByteArray(R"({"choices":[{"index":0,"delta":{"content":"\u00e9\n"}}]})")
                                         << qint64(3) << false << false << true;
        QTest::newRow("reasoning_content (DeepSeek)")
            << QByteArray(R"({"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Think"}}]})")
            << qint64(5) << false << false << true;
        QTest::newRow("refusal") << QByteArray(R"({"choices":[{"index":0,"delta":{"refusal":"No."}}]})") << qint64(3)
                                 << false << false << true;
        QTest::newRow("two choices (n=2)")
            << QByteArray(R"({"choices":[{"index":0,"delta":{"content":"ab"}},{"index":1,"delta":{"content":"cde"}}]})")
            << qint64(5) << false << false << true;
        QTest::newRow("legacy completions") << QByteArray(
            R"({"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"Hello","index":0,"logprobs":null,"finish_reason":null}],"model":"gpt-3.5-turbo-instruct"})")
                                            << qint64(5) << false << false << true;
        QTest::newRow("usage with content (vLLM continuous usage)") << QByteArray(
            R"({"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})")
                                                                    << qint64(1) << true << false << true;
        QTest::newRow("empty choices without usage (Azure prompt filter)") << QByteArray(
            R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]})")
                                                                           << qint64(0) << false << false << false;
        QTest::newRow("usage before choices")
            << QByteArray(R"({"usage":{"prompt_tokens":1,"completion_tokens":2},"choices":[]})") << qint64(0) << true
            << true << false;
        QTest::newRow("usage without choices key")
            << QByteArray(R"({"usage":{"prompt_tokens":1,"completion_tokens":2}})") << qint64(0) << true << false << false;
        QTest::newRow("responses text delta") << kResponseDelta << qint64(8) << false << false << true;
        QTest::newRow("responses arguments delta") << QByteArray(
            R"({"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"[1,2]"})")
                                                   << qint64(5) << false << false << true;
        QTest::newRow("responses text done (not counted twice)") << kResponseTextDone << qint64(0) << false << false << false;
        QTest::newRow("responses created") << kResponseCreated << qint64(0) << false << false << false;
        QTest::newRow("whitespace around")
            << QByteArray("  \n" + kContentChunk + " \r\n") << qint64(5) << false << false << true;
    }
    void chatChunks()
    {
        QFETCH(QByteArray, data);
        QFETCH(qint64, outputBytes);
        QFETCH(bool, hasUsage);
        QFETCH(bool, usageOnly);
        QFETCH(bool, content);
        Usage u;
        u.inputTokens = -7; // untouched unless usage is found
        const OpenAIEventInfo info = gh::inspectOpenAIEvent(data, &u);
        QVERIFY(!info.malformed);
        QVERIFY(!info.done);
        QVERIFY2(!info.error, qPrintable(info.errorMessage));
        QCOMPARE(info.outputBytes, outputBytes);
        QCOMPARE(info.hasUsage, hasUsage);
        QCOMPARE(info.usageOnly, usageOnly);
        QCOMPARE(info.content, content);
        if (!hasUsage)
            QCOMPARE(u.inputTokens, qint64(-7));
        // A null usage pointer is fine.
        QCOMPARE(gh::inspectOpenAIEvent(data, nullptr).outputBytes, outputBytes);
    }

    void usageValues()
    {
        Usage u;
        OpenAIEventInfo info = gh::inspectOpenAIEvent(kUsageChunk, &u);
        QVERIFY(info.hasUsage && info.usageOnly);
        // prompt_tokens includes the cached ones; completion_tokens includes reasoning.
        QCOMPARE(u, usage(2006 - 1920, 1920, 300, 128));

        Usage r;
        info = gh::inspectOpenAIEvent(kResponseCompleted, &r);
        QVERIFY(info.hasUsage);
        QVERIFY(!info.usageOnly);
        QVERIFY(!info.error);
        QCOMPARE(info.outputBytes, 0); // the completed response repeats the text; the deltas counted it
        QCOMPARE(r, usage(37, 0, 11, 0));

        Usage incomplete;
        info = gh::inspectOpenAIEvent(
            R"({"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":4},"output_tokens":16,"output_tokens_details":{"reasoning_tokens":16}}}})",
            &incomplete);
        QVERIFY(info.hasUsage);
        QCOMPARE(incomplete, usage(6, 4, 16, 16));

        Usage none;
        info = gh::inspectOpenAIEvent(R"({"choices":[],"usage":null})", &none);
        QVERIFY(!info.hasUsage);
        QVERIFY(!info.usageOnly);
        QCOMPARE(none, Usage());
    }

    void done()
    {
        for (const QByteArray &d : {QByteArray("[DONE]"), QByteArray(" [DONE]\n"), QByteArray("\t[DONE]\r\n")}) {
            const OpenAIEventInfo info = gh::inspectOpenAIEvent(d, nullptr);
            QVERIFY(info.done);
            QVERIFY(!info.malformed);
            QVERIFY(!info.hasUsage);
        }
        QVERIFY(!gh::inspectOpenAIEvent("[DONE]x", nullptr).done);
        QVERIFY(gh::inspectOpenAIEvent("[DONE]x", nullptr).malformed);
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("message");
        QTest::newRow("error object") << QByteArray(
            R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})")
                                      << QStringLiteral("The server had an error while processing your request. Sorry "
                                                        "about that!");
        QTest::newRow("error string") << QByteArray(R"({"error":"Rate limit reached"})")
                                      << QStringLiteral("Rate limit reached");
        QTest::newRow("error without message")
            << QByteArray(R"({"error":{"code":500}})") << QStringLiteral("upstream error");
        QTest::newRow("error with escaped message")
            << QByteArray("{\"error\":{\"message\":\"caf\\u00e9 \\\"x\\\"\"}}") << QStringLiteral("caf\u00e9 \"x\"");
        QTest::newRow("responses failed")
            << kResponseFailed << QStringLiteral("The model failed to generate a response.");
        QTest::newRow("responses error event") << kErrorEvent << QStringLiteral("Something went wrong");
        QTest::newRow("responses error event, no message")
            << QByteArray(R"({"type":"error","code":"x"})") << QStringLiteral("upstream error event");
        QTest::newRow("error after content")
            << QByteArray(R"({"choices":[{"delta":{"content":"ab"}}],"error":{"message":"cut"}})")
            << QStringLiteral("cut");
    }
    void errors()
    {
        QFETCH(QByteArray, data);
        QFETCH(QString, message);
        const OpenAIEventInfo info = gh::inspectOpenAIEvent(data, nullptr);
        QVERIFY(info.error);
        QVERIFY(!info.malformed);
        QCOMPARE(info.errorMessage, message);
    }

    void notErrors()
    {
        for (const QByteArray &d : {QByteArray(R"({"error":null,"choices":[]})"), kResponseCreated, kResponseCompleted,
                 QByteArray(R"({"type":"response.in_progress","response":{"error":null}})")}) {
            const OpenAIEventInfo info = gh::inspectOpenAIEvent(d, nullptr);
            QVERIFY2(!info.error, d.constData());
            QVERIFY(!info.malformed);
        }
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("blank") << QByteArray("  ");
        QTest::newRow("text") << QByteArray("hello");
        QTest::newRow("truncated") << QByteArray("{\"choices\":[{\"delta\":{\"content\":\"a");
        QTest::newRow("truncated object") << QByteArray(R"({"choices":[])");
        QTest::newRow("array") << QByteArray("[1,2]");
        QTest::newRow("number") << QByteArray("42");
        QTest::newRow("string") << QByteArray(R"("x")");
        // Broken literals where a null is expected must not throw out of simdjson.
        QTest::newRow("usage nul") << QByteArray(R"({"choices":[],"usage":nul})");
        QTest::newRow("error nul") << QByteArray(R"({"error":nul})");
        QTest::newRow("response error nul") << QByteArray(R"({"type":"response.failed","response":{"error":nul}})");
        QTest::newRow("response usage nul") << QByteArray(R"({"type":"response.completed","response":{"usage":nul}})");
    }
    void malformed()
    {
        QFETCH(QByteArray, data);
        Usage u;
        const OpenAIEventInfo info = gh::inspectOpenAIEvent(data, &u);
        QVERIFY(!info.done);
        QVERIFY(!info.hasUsage);
        if (QByteArray(QTest::currentDataTag()).contains("nul") && !info.malformed)
            QVERIFY(!info.error); // read as "no usage / no error" is acceptable too
        else
            QVERIFY(info.malformed);
        QCOMPARE(u, Usage());
    }

    // Odd shapes inside valid JSON are skipped, not fatal.
    void oddShapes()
    {
        const QByteArray d
            = R"({"choices":[1,null,{"delta":"x"},{"delta":{"content":5,"tool_calls":{"a":1}}},{"delta":{"tool_calls":[1,{"function":null},{"function":{"arguments":7}},{"function":{"arguments":"ok"}}]}}],"usage":{"prompt_tokens":"many"}})";
        Usage u;
        const OpenAIEventInfo info = gh::inspectOpenAIEvent(d, &u);
        QVERIFY(!info.error);
        QCOMPARE(info.outputBytes, 2);
    }

    // A whole stream through the framer, the way the exchange reads it, split at every byte.
    // The first token in the other formats (providerevents.h), from the events Anthropic and Google
    // document: the head events (message_start, an empty text block, ping) are not content.
    void firstTokenOtherFormats_data()
    {
        QTest::addColumn<bool>("anthropic");
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<bool>("content");
        QTest::newRow("anthropic message_start") << true << QByteArray(
            R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}})")
                                                 << false;
        QTest::newRow("anthropic empty text block")
            << true << QByteArray(R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") << false;
        QTest::newRow("anthropic empty thinking block") << true << QByteArray(
            R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})")
                                                        << false;
        QTest::newRow("anthropic ping") << true << QByteArray(R"({"type":"ping"})") << false;
        QTest::newRow("anthropic text delta")
            << true << QByteArray(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})") << true;
        QTest::newRow("anthropic thinking delta") << true << QByteArray(
            R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me"}})")
                                                  << true;
        QTest::newRow("anthropic signature delta") << true << QByteArray(
            R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}})")
                                                   << false;
        QTest::newRow("anthropic tool_use block") << true << QByteArray(
            R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}})")
                                                  << true;
        QTest::newRow("anthropic empty input_json delta") << true << QByteArray(
            R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})")
                                                          << false;
        QTest::newRow("anthropic input_json delta") << true << QByteArray(
            R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"loc"}})")
                                                    << true;
        QTest::newRow("anthropic message_delta") << true << QByteArray(
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}})")
                                                 << false;
        QTest::newRow("anthropic error") << true << QByteArray(
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")
                                         << false;
        QTest::newRow("gemini text") << false << QByteArray(
            R"({"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"modelVersion":"gemini-2.5-flash"})")
                                     << true;
        QTest::newRow("gemini function call") << false << QByteArray(
            R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{}}}],"role":"model"},"index":0}]})")
                                              << true;
        QTest::newRow("gemini usage only") << false << QByteArray(
            R"({"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":5,"totalTokenCount":14}})")
                                           << false;
    }
    void firstTokenOtherFormats()
    {
        QFETCH(bool, anthropic);
        QFETCH(QByteArray, data);
        QFETCH(bool, content);
        Usage u;
        const OpenAIEventInfo info = anthropic ? gh::inspectAnthropicEvent({}, data, &u) : gh::inspectGeminiEvent(data, &u);
        QVERIFY(!info.malformed);
        QCOMPARE(info.content, content);
    }

    void wholeStreamThroughFramer()
    {
        QByteArray stream;
        for (const QByteArray &chunk : {kRoleChunk, kContentChunk, kToolArgs, kFinishChunk, kUsageChunk})
            stream += "data: " + chunk + "\n\n";
        stream += ": keep-alive\n\n";
        stream += "data: [DONE]\n\n";
        for (qsizetype step : {qsizetype(1), qsizetype(7), stream.size()}) {
            gh::SseFramer framer;
            qint64 bytes = 0;
            int usageOnly = 0, done = 0, malformed = 0, events = 0;
            Usage u;
            for (qsizetype pos = 0; pos < stream.size(); pos += step) {
                framer.feed(
                    QByteArrayView(stream).sliced(pos, qMin(step, stream.size() - pos)), [&](QByteArrayView event) {
                        ++events;
                        const QByteArray data = gh::SseFramer::eventData(event);
                        if (data.isEmpty())
                            return; // a comment
                        const OpenAIEventInfo info = gh::inspectOpenAIEvent(data, &u);
                        bytes += info.outputBytes;
                        usageOnly += info.usageOnly;
                        done += info.done;
                        malformed += info.malformed;
                    });
            }
            QCOMPARE(events, 7);
            QCOMPARE(bytes, 5 + 14);
            QCOMPARE(usageOnly, 1);
            QCOMPARE(done, 1);
            QCOMPARE(malformed, 0);
            QCOMPARE(u, usage(86, 1920, 300, 128));
        }
    }

    void nonStreamingResponses()
    {
        const QByteArray chat
            = R"({"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The image shows a wooden boardwalk.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"})";
        Usage u;
        qint64 bytes = -1;
        QVERIFY(gh::usageFromOpenAIResponse(chat, &u, &bytes));
        QCOMPARE(u, usage(1117 - 1024, 1024, 46, 0));
        QCOMPARE(bytes, qint64(QByteArray("The image shows a wooden boardwalk.").size()));

        const QByteArray tools = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
                                 "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
                                 "\"{\\\"a\\\":1}\"}}]}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3}}";
        QVERIFY(gh::usageFromOpenAIResponse(tools, &u, &bytes));
        QCOMPARE(bytes, 7);
        QCOMPARE(u, usage(5, 0, 3, 0));

        const QByteArray embeddings
            = R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,-0.0028842222]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}})";
        QVERIFY(gh::usageFromOpenAIResponse(embeddings, &u, &bytes));
        QCOMPARE(u, usage(8, 0, 0, 0));
        QCOMPARE(bytes, 0);

        const QByteArray responses
            = R"({"id":"resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41","object":"response","created_at":1741476777,"status":"completed","error":null,"model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"In a peaceful grove beneath a silver moon.","annotations":[]}]}],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":0},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":380}})";
        QVERIFY(gh::usageFromOpenAIResponse(responses, &u, nullptr));
        QCOMPARE(u, usage(328, 0, 52, 0));

        Usage untouched;
        untouched.inputTokens = 99;
        QVERIFY(!gh::usageFromOpenAIResponse(R"({"choices":[{"message":{"content":"abc"}}]})", &untouched, &bytes));
        QCOMPARE(bytes, 3);
        QVERIFY(!gh::usageFromOpenAIResponse(R"({"usage":null})", &untouched));
        QVERIFY(!gh::usageFromOpenAIResponse(R"({"usage":nul})", &untouched));
        QVERIFY(!gh::usageFromOpenAIResponse("<html>502</html>", &untouched));
        QVERIFY(!gh::usageFromOpenAIResponse("", &untouched));
        QVERIFY(!gh::usageFromOpenAIResponse(R"([{"usage":{"prompt_tokens":1}}])", &untouched));
        QCOMPARE(untouched.inputTokens, 99);
    }

    void upstreamErrorMessages_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("openai") << QByteArray(
            R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})")
                                << QStringLiteral(
                                       "You exceeded your current quota, please check your plan and billing details.");
        QTest::newRow("top-level message") << QByteArray(R"({"object":"error","message":"model not found","code":404})")
                                           << QStringLiteral("model not found");
        QTest::newRow("error string") << QByteArray(R"({"error":"Invalid model"})") << QStringLiteral("Invalid model");
        QTest::newRow("error without message")
            << QByteArray(R"({"error":{"code":1}})") << QStringLiteral("upstream error");
        QTest::newRow("html") << QByteArray("<html>\r\n<body>502   Bad Gateway</body>\n</html>")
                              << QStringLiteral("<html> <body>502 Bad Gateway</body> </html>");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("(empty response body)");
        QTest::newRow("blank") << QByteArray(" \n ") << QStringLiteral("(empty response body)");
        QTest::newRow("gemini array") << QByteArray(R"([{"error":{"code":400,"message":"x"}}])")
                                      << QStringLiteral("[{\"error\":{\"code\":400,\"message\":\"x\"}}]");
        QTest::newRow("fastapi detail") << QByteArray(R"({"detail":"Not Found"})")
                                        << QStringLiteral("{\"detail\":\"Not Found\"}");
        QTest::newRow("error nul") << QByteArray(R"({"error":nul})") << QStringLiteral("{\"error\":nul}");
    }
    void upstreamErrorMessages()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        const QString got = gh::upstreamErrorMessage(body);
        if (QTest::currentDataTag() == QByteArray("error nul"))
            QVERIFY(!got.isEmpty()); // any message, as long as it does not throw
        else
            QCOMPARE(got, message);
    }

    void upstreamErrorExcerptIsShort()
    {
        const QByteArray body = QByteArray(1000, 'x') + "\xc3\xa9";
        const QString m = gh::upstreamErrorMessage(body);
        QCOMPARE(m.size(), 300);
        // A cut in the middle of a UTF-8 sequence does not produce garbage beyond a replacement char.
        const QByteArray utf8 = QByteArray(299, 'a') + "\xc3\xa9" + "tail";
        const QString m2 = gh::upstreamErrorMessage(utf8);
        QVERIFY(m2.size() <= 300);
        QVERIFY(m2.startsWith(QString(299, u'a')));
    }
};

QTEST_GUILESS_MAIN(TestOpenAIStream)
#include "tst_openaistream.moc"
