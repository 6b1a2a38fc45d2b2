// Usage normalization, checked against the usage objects shown in each provider's documentation.
#include "providers/usage.h"
#include <QTest>

namespace gh {
// Readable QCOMPARE failures.
char *toString(const Usage &u)
{
    return qstrdup(QStringLiteral("{in %1, cacheRead %2, cacheWrite %3, cacheWrite1h %4, out %5, reasoning %6, reported %7, estimated %8}")
                       .arg(u.inputTokens).arg(u.cacheReadTokens).arg(u.cacheWriteTokens).arg(u.cacheWrite1hTokens)
                       .arg(u.outputTokens).arg(u.reasoningTokens).arg(u.reported).arg(u.estimated)
                       .toUtf8().constData());
}
} // namespace gh

using gh::Usage;

namespace {
Usage reported(qint64 in, qint64 cacheRead, qint64 cacheWrite, qint64 cacheWrite1h, qint64 out, qint64 reasoning)
{
    Usage u;
    u.inputTokens = in;
    u.cacheReadTokens = cacheRead;
    u.cacheWriteTokens = cacheWrite;
    u.cacheWrite1hTokens = cacheWrite1h;
    u.outputTokens = out;
    u.reasoningTokens = reasoning;
    u.reported = true;
    return u;
}
} // namespace

class TestUsage : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void openAIChat_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<Usage>("expected");

        // The chat/completions response example of OpenAI's API reference.
        QTest::newRow("chat reference") << QByteArray(R"({"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}})")
                                        << reported(19, 0, 0, 0, 10, 0);
        // The prompt caching guide's example: 1920 of the 2006 prompt tokens were cache hits.
        QTest::newRow("prompt caching guide") << QByteArray(R"({"prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
            "prompt_tokens_details": {"cached_tokens": 1920},
            "completion_tokens_details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}})")
                                              << reported(86, 1920, 0, 0, 300, 0);
        // A reasoning model: completion_tokens includes the reasoning tokens, which stay in outputTokens.
        QTest::newRow("reasoning") << QByteArray(R"({"prompt_tokens": 75, "completion_tokens": 1186, "total_tokens": 1261,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 1024}})")
                                   << reported(75, 0, 0, 0, 1186, 1024);
        // Embeddings report prompt_tokens and total_tokens only.
        QTest::newRow("embeddings") << QByteArray(R"({"prompt_tokens": 8, "total_tokens": 8})") << reported(8, 0, 0, 0, 0, 0);
        // The Responses API's shape, from its reasoning guide.
        QTest::newRow("responses") << QByteArray(R"({"input_tokens": 75, "input_tokens_details": {"cached_tokens": 64},
            "output_tokens": 1186, "output_tokens_details": {"reasoning_tokens": 1024}, "total_tokens": 1261})")
                                   << reported(11, 64, 0, 0, 1186, 1024);
        // DeepSeek's context caching guide: prompt_tokens = hit + miss.
        QTest::newRow("deepseek hit/miss") << QByteArray(R"({"completion_tokens": 12, "prompt_tokens": 1028,
            "prompt_cache_hit_tokens": 1024, "prompt_cache_miss_tokens": 4, "total_tokens": 1040})")
                                           << reported(4, 1024, 0, 0, 12, 0);
        // Newer DeepSeek responses also carry prompt_tokens_details.cached_tokens (= the hits).
        QTest::newRow("deepseek with details") << QByteArray(R"({"prompt_tokens": 1028, "completion_tokens": 300,
            "prompt_cache_hit_tokens": 1024, "prompt_cache_miss_tokens": 4,
            "prompt_tokens_details": {"cached_tokens": 1024}, "completion_tokens_details": {"reasoning_tokens": 250}})")
                                               << reported(4, 1024, 0, 0, 300, 250);
        QTest::newRow("deepseek without prompt_tokens") << QByteArray(R"({"prompt_cache_hit_tokens": 10, "prompt_cache_miss_tokens": 5,
            "completion_tokens": 2})") << reported(5, 10, 0, 0, 2, 0);
        // A compatible server reporting more cached tokens than prompt tokens: nothing goes negative.
        QTest::newRow("cached > prompt") << QByteArray(R"({"prompt_tokens": 10, "completion_tokens": 1,
            "prompt_tokens_details": {"cached_tokens": 50}})") << reported(0, 10, 0, 0, 1, 0);
        QTest::newRow("negative counts") << QByteArray(R"({"prompt_tokens": -5, "completion_tokens": -1})")
                                         << reported(0, 0, 0, 0, 0, 0);
        // Null details and counts (seen from some OpenAI-compatible servers), floats, unknown fields.
        QTest::newRow("nulls and floats") << QByteArray(R"({"prompt_tokens": 12.0, "completion_tokens": null,
            "prompt_tokens_details": null, "completion_tokens_details": null, "cost": 0.0012,
            "server_tool_use": {"web_search_requests": 1}, "models": ["a", {"b": [1, 2]}]})")
                                          << reported(12, 0, 0, 0, 0, 0);
        QTest::newRow("empty object") << QByteArray("{}") << reported(0, 0, 0, 0, 0, 0);
        QTest::newRow("escaped key") << QByteArray(R"({"prompt\u005ftokens": 7})") << reported(7, 0, 0, 0, 0, 0);
    }
    void openAIChat()
    {
        QFETCH(QByteArray, json);
        QFETCH(Usage, expected);
        Usage u;
        u.estimated = true; // a successful parse replaces everything
        QVERIFY(gh::parseOpenAIUsage(std::string_view(json.constData(), size_t(json.size())), u));
        QCOMPARE(u, expected);
        QVERIFY(!u.estimated);
    }

    void anthropic_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<Usage>("expected");
        // The Messages API reference's example response.
        QTest::newRow("messages reference") << QByteArray(R"({"input_tokens": 2095, "output_tokens": 503})")
                                            << reported(2095, 0, 0, 0, 503, 0);
        // The prompt caching guide: input_tokens counts only what came after the last cache breakpoint.
        QTest::newRow("prompt caching guide") << QByteArray(R"({"input_tokens": 50, "cache_creation_input_tokens": 248,
            "cache_read_input_tokens": 100000, "output_tokens": 503})")
                                              << reported(50, 100000, 248, 0, 503, 0);
        // With the 5m/1h breakdown the writes are split by TTL.
        QTest::newRow("ttl breakdown") << QByteArray(R"({"input_tokens": 2048, "cache_read_input_tokens": 1800,
            "cache_creation_input_tokens": 556, "output_tokens": 503,
            "cache_creation": {"ephemeral_5m_input_tokens": 456, "ephemeral_1h_input_tokens": 100},
            "service_tier": "standard"})") << reported(2048, 1800, 456, 100, 503, 0);
        // The guide's own 1h example reports a total (248) below its breakdown (556): the breakdown wins.
        QTest::newRow("inconsistent total") << QByteArray(R"({"input_tokens": 2048, "cache_read_input_tokens": 1800,
            "cache_creation_input_tokens": 248, "output_tokens": 503,
            "cache_creation": {"ephemeral_5m_input_tokens": 456, "ephemeral_1h_input_tokens": 100}})")
                                            << reported(2048, 1800, 456, 100, 503, 0);
        // Part of the total unexplained by the breakdown is billed as 5-minute writes.
        QTest::newRow("partial breakdown") << QByteArray(R"({"input_tokens": 1, "cache_creation_input_tokens": 300,
            "cache_creation": {"ephemeral_1h_input_tokens": 100}, "output_tokens": 2})")
                                           << reported(1, 0, 200, 100, 2, 0);
        QTest::newRow("null breakdown") << QByteArray(R"({"input_tokens": 3, "cache_creation_input_tokens": 40,
            "cache_creation": null, "cache_read_input_tokens": null, "output_tokens": 1,
            "server_tool_use": {"web_search_requests": 0}})") << reported(3, 0, 40, 0, 1, 0);
        // message_start of the streaming guide.
        QTest::newRow("stream message_start") << QByteArray(R"({"input_tokens": 25, "output_tokens": 1})")
                                              << reported(25, 0, 0, 0, 1, 0);
    }
    void anthropic()
    {
        QFETCH(QByteArray, json);
        QFETCH(Usage, expected);
        Usage u;
        QVERIFY(gh::parseAnthropicUsage(std::string_view(json.constData(), size_t(json.size())), u));
        QCOMPARE(u, expected);
    }

    void anthropicStreamMerge()
    {
        // message_start carries the input side, message_delta the cumulative output.
        Usage start, delta, later;
        QVERIFY(gh::parseAnthropicUsage(R"({"input_tokens": 25, "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 30, "output_tokens": 1})", start));
        QVERIFY(gh::parseAnthropicUsage(R"({"output_tokens": 15})", delta));
        gh::mergeAnthropicUsage(start, delta);
        QCOMPARE(start, reported(25, 1000, 30, 0, 15, 0));
        // Newer message_delta events repeat the (cumulative) input counts too.
        QVERIFY(gh::parseAnthropicUsage(R"({"input_tokens": 25, "cache_read_input_tokens": 1000,
            "cache_creation_input_tokens": 30, "output_tokens": 40})", later));
        gh::mergeAnthropicUsage(start, later);
        QCOMPARE(start, reported(25, 1000, 30, 0, 40, 0));
        // Folding into nothing seen yet takes the later counts and their flags.
        Usage empty;
        gh::mergeAnthropicUsage(empty, delta);
        QCOMPARE(empty, reported(0, 0, 0, 0, 15, 0));
        Usage estimate;
        estimate.outputTokens = 100;
        estimate.estimated = true;
        gh::mergeAnthropicUsage(estimate, delta);
        QCOMPARE(estimate.outputTokens, qint64(100));
        QVERIFY(estimate.estimated);
        QVERIFY(estimate.reported);
    }

    void gemini_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<Usage>("expected");
        QTest::newRow("plain") << QByteArray(R"({"promptTokenCount": 4, "candidatesTokenCount": 1, "totalTokenCount": 5,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]})") << reported(4, 0, 0, 0, 1, 0);
        // Context caching: promptTokenCount includes cachedContentTokenCount.
        QTest::newRow("cached content") << QByteArray(R"({"promptTokenCount": 696219, "cachedContentTokenCount": 696190,
            "candidatesTokenCount": 214, "totalTokenCount": 696433,
            "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 696190}]})")
                                        << reported(29, 696190, 0, 0, 214, 0);
        // Thinking: thoughts are billed as output, on top of the candidates.
        QTest::newRow("thinking") << QByteArray(R"({"promptTokenCount": 10, "candidatesTokenCount": 50,
            "thoughtsTokenCount": 900, "totalTokenCount": 960})") << reported(10, 0, 0, 0, 950, 900);
        QTest::newRow("tool use prompt") << QByteArray(R"({"promptTokenCount": 10, "toolUsePromptTokenCount": 300,
            "candidatesTokenCount": 20, "totalTokenCount": 330})") << reported(310, 0, 0, 0, 20, 0);
        QTest::newRow("cached > prompt") << QByteArray(R"({"promptTokenCount": 5, "cachedContentTokenCount": 9})")
                                         << reported(0, 5, 0, 0, 0, 0);
        // An early stream chunk may carry only the prompt count.
        QTest::newRow("prompt only") << QByteArray(R"({"promptTokenCount": 12})") << reported(12, 0, 0, 0, 0, 0);
    }
    void gemini()
    {
        QFETCH(QByteArray, json);
        QFETCH(Usage, expected);
        Usage u;
        QVERIFY(gh::parseGeminiUsage(std::string_view(json.constData(), size_t(json.size())), u));
        QCOMPARE(u, expected);
    }

    void rejectsWhatIsNotAUsageObject_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("null") << QByteArray("null");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("blank") << QByteArray("  \n");
        QTest::newRow("array") << QByteArray("[1, 2]");
        QTest::newRow("number") << QByteArray("42");
        QTest::newRow("string") << QByteArray(R"("usage")");
        QTest::newRow("truncated") << QByteArray("{\"prompt_tokens\": 12, \"completion_tok"); // (no raw string: moc miscounts its quotes)
        QTest::newRow("unclosed") << QByteArray(R"({"prompt_tokens": 12)");
        QTest::newRow("trailing garbage") << QByteArray(R"({"prompt_tokens": 12} x)");
        QTest::newRow("two objects") << QByteArray(R"({"prompt_tokens": 12} {"prompt_tokens": 1})");
        QTest::newRow("string count") << QByteArray(R"({"prompt_tokens": "12", "input_tokens": "12", "promptTokenCount": "12"})");
        QTest::newRow("object count") << QByteArray(R"({"prompt_tokens": {}, "input_tokens": {}, "promptTokenCount": {}})");
        QTest::newRow("bad nested") << QByteArray(R"({"prompt_tokens_details": {"cached_tokens": tru}, "cache_creation": {"ephemeral_1h_input_tokens": tru}, "promptTokenCount": tru})");
        QTest::newRow("details not object") << QByteArray(R"({"prompt_tokens_details": 5, "cache_creation": 5, "promptTokenCount": [1]})");
    }
    void rejectsWhatIsNotAUsageObject()
    {
        QFETCH(QByteArray, json);
        const std::string_view text(json.constData(), size_t(json.size()));
        const Usage before = reported(1, 2, 3, 4, 5, 6);
        Usage u = before;
        QVERIFY(!gh::parseOpenAIUsage(text, u));
        QCOMPARE(u, before);
        QVERIFY(!gh::parseAnthropicUsage(text, u));
        QCOMPARE(u, before);
        QVERIFY(!gh::parseGeminiUsage(text, u));
        QCOMPARE(u, before);
    }

    void viewIsNotReadPastItsEnd()
    {
        // The view is copied into padded storage: a view into a larger buffer parses only its part.
        const QByteArray buffer = R"({"prompt_tokens": 3}{"prompt_tokens": 99})";
        Usage u;
        QVERIFY(gh::parseOpenAIUsage(std::string_view(buffer.constData(), 20), u));
        QCOMPARE(u.inputTokens, qint64(3));
    }

    void hugeCountsAreCapped()
    {
        Usage u;
        QVERIFY(gh::parseOpenAIUsage(R"({"prompt_tokens": 18446744073709551615, "completion_tokens": 1e300})", u));
        QVERIFY(u.inputTokens > 0);
        QVERIFY(u.outputTokens > 0);
        // Summing every count cannot overflow.
        QVERIFY(u.totalInput() + u.outputTokens > 0);
        QVERIFY(u.inputTokens <= (qint64(1) << 40));
    }

    void estimate()
    {
        QCOMPARE(gh::estimateTokens(0), qint64(0));
        QCOMPARE(gh::estimateTokens(-4), qint64(0));
        QCOMPARE(gh::estimateTokens(1), qint64(1));
        QCOMPARE(gh::estimateTokens(2), qint64(1));
        QCOMPARE(gh::estimateTokens(3), qint64(1));
        QCOMPARE(gh::estimateTokens(4), qint64(2));
        QCOMPARE(gh::estimateTokens(3000), qint64(1000));
        QCOMPARE(gh::estimateTokens(3001), qint64(1001));
        QCOMPARE(gh::estimateTokens(qint64(1) << 50), ((qint64(1) << 50) + 2) / 3);
    }
};

QTEST_GUILESS_MAIN(TestUsage)
#include "tst_usage.moc"
