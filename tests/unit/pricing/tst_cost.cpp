// Cost of normalized usage, with hand-computed nano-dollar values. Prices are per million tokens, so
// a price of P USD per million is P × 1000 nano-USD per token.
#include "pricing/price.h"
#include <QTest>
#include <cmath>
#include <limits>

using gh::ModelPrice;
using gh::NanoUsd;
using gh::Usage;

namespace {
ModelPrice price(double input, double output, std::optional<double> cacheRead = {},
                 std::optional<double> cacheWrite = {}, std::optional<double> cacheWrite1h = {})
{
    ModelPrice p;
    p.input = input;
    p.output = output;
    p.cacheRead = cacheRead;
    p.cacheWrite = cacheWrite;
    p.cacheWrite1h = cacheWrite1h;
    return p;
}
Usage usage(qint64 in, qint64 cacheRead, qint64 cacheWrite, qint64 cacheWrite1h, qint64 out)
{
    Usage u;
    u.inputTokens = in;
    u.cacheReadTokens = cacheRead;
    u.cacheWriteTokens = cacheWrite;
    u.cacheWrite1hTokens = cacheWrite1h;
    u.outputTokens = out;
    u.reported = true;
    return u;
}
Usage parsed(bool (*parse)(std::string_view, Usage &), const char *json)
{
    Usage u;
    if (!parse(json, u))
        qFatal("test usage did not parse: %s", json);
    return u;
}

const ModelPrice gpt41mini = price(0.40, 1.60, 0.10);
const ModelPrice sonnet45 = price(3.00, 15.00, 0.30, 3.75, 6.00);
const ModelPrice gemini25flash = price(0.30, 2.50, 0.03);
const ModelPrice gemini25pro = price(1.25, 10.00, 0.125);
const ModelPrice deepseekChat = price(0.28, 0.42, 0.028);
} // namespace

class TestCost : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void exactAtTheMillion()
    {
        // 0.40 is not exact in binary floating point; the cost must still be exactly $0.40.
        QCOMPARE(gh::costOf(usage(1'000'000, 0, 0, 0, 0), gpt41mini), std::optional<NanoUsd>(400'000'000));
        QCOMPARE(gh::costOf(usage(0, 0, 0, 0, 1'000'000), gpt41mini), std::optional<NanoUsd>(1'600'000'000));
        QCOMPARE(gh::costOf(usage(0, 1'000'000, 0, 0, 0), gpt41mini), std::optional<NanoUsd>(100'000'000));
        QCOMPARE(gh::costOf(usage(1, 0, 0, 0, 0), gpt41mini), std::optional<NanoUsd>(400));
        QCOMPARE(gh::costOf(usage(3, 0, 0, 0, 0), price(0.1, 0.3)), std::optional<NanoUsd>(300));
        QCOMPARE(gh::costOf(usage(7'000'000, 0, 0, 0, 0), price(0.07, 0.07)), std::optional<NanoUsd>(490'000'000));
        QCOMPARE(gh::costOf(usage(0, 0, 0, 0, 0), gpt41mini), std::optional<NanoUsd>(0));
    }

    void roundsUpOnlyTheTotal()
    {
        // 1 token at $0.0005 per million is half a nano-dollar: rounded up to 1.
        QCOMPARE(gh::costOf(usage(1, 0, 0, 0, 0), price(0.0005, 0.0005)), std::optional<NanoUsd>(1));
        // Two halves are one nano-dollar, not two.
        QCOMPARE(gh::costOf(usage(1, 0, 0, 0, 1), price(0.0005, 0.0005)), std::optional<NanoUsd>(1));
        // 3 tokens at $0.0005/M = 1.5 -> 2.
        QCOMPARE(gh::costOf(usage(3, 0, 0, 0, 0), price(0.0005, 0.0005)), std::optional<NanoUsd>(2));
        // Nine decimals of a price are kept: 1e6 tokens at $0.000000001/M = 1 nano-dollar... 
        QCOMPARE(gh::costOf(usage(1'000'000, 0, 0, 0, 0), price(0.000000001, 0)), std::optional<NanoUsd>(1));
        // ...and 1 token at that price is a trillionth of a nano-dollar, still charged as 1.
        QCOMPARE(gh::costOf(usage(1, 0, 0, 0, 0), price(0.000000001, 0)), std::optional<NanoUsd>(1));
    }

    void openAIPromptCachingExample()
    {
        // prompt 2006 with 1920 cached, 300 completion at gpt-4.1-mini:
        //   86 × 400 + 1920 × 100 + 300 × 1600 = 34,400 + 192,000 + 480,000
        const Usage u = parsed(gh::parseOpenAIUsage, R"({"prompt_tokens": 2006, "completion_tokens": 300,
            "total_tokens": 2306, "prompt_tokens_details": {"cached_tokens": 1920},
            "completion_tokens_details": {"reasoning_tokens": 0}})");
        QCOMPARE(gh::costOf(u, gpt41mini), std::optional<NanoUsd>(706'400));
        // Had the cached tokens been billed as plain input (the classic bug): 2006 × 400 + 480,000.
        QVERIFY(*gh::costOf(u, gpt41mini) < 2006 * 400 + 480'000);
    }

    void openAIReasoningIsBilledAsOutput()
    {
        // o4-mini ($1.10 / $4.40): 75 × 1100 + 1186 × 4400 (1024 of them reasoning) = 82,500 + 5,218,400.
        const Usage u = parsed(gh::parseOpenAIUsage, R"({"input_tokens": 75, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 1186, "output_tokens_details": {"reasoning_tokens": 1024}, "total_tokens": 1261})");
        QCOMPARE(gh::costOf(u, price(1.10, 4.40, 0.275)), std::optional<NanoUsd>(5'300'900));
    }

    void anthropicCacheExample()
    {
        // 50 × 3000 + 100,000 × 300 + 248 × 3750 + 503 × 15000
        //   = 150,000 + 30,000,000 + 930,000 + 7,545,000
        const Usage u = parsed(gh::parseAnthropicUsage, R"({"input_tokens": 50, "cache_creation_input_tokens": 248,
            "cache_read_input_tokens": 100000, "output_tokens": 503})");
        QCOMPARE(gh::costOf(u, sonnet45), std::optional<NanoUsd>(38'625'000));
    }

    void anthropicOneHourWrites()
    {
        // 2048 × 3000 + 1800 × 300 + 456 × 3750 + 100 × 6000 + 503 × 15000
        //   = 6,144,000 + 540,000 + 1,710,000 + 600,000 + 7,545,000
        const Usage u = parsed(gh::parseAnthropicUsage, R"({"input_tokens": 2048, "cache_read_input_tokens": 1800,
            "cache_creation_input_tokens": 556, "output_tokens": 503,
            "cache_creation": {"ephemeral_5m_input_tokens": 456, "ephemeral_1h_input_tokens": 100}})");
        QCOMPARE(gh::costOf(u, sonnet45), std::optional<NanoUsd>(16'539'000));
    }

    void cacheWriteCostsMoreThanInput()
    {
        const Usage plain = usage(1000, 0, 0, 0, 0);
        const Usage written = usage(0, 0, 1000, 0, 0);
        const Usage written1h = usage(0, 0, 0, 1000, 0);
        QCOMPARE(gh::costOf(plain, sonnet45), std::optional<NanoUsd>(3'000'000));
        QCOMPARE(gh::costOf(written, sonnet45), std::optional<NanoUsd>(3'750'000));
        QCOMPARE(gh::costOf(written1h, sonnet45), std::optional<NanoUsd>(6'000'000));
    }

    void geminiExamples()
    {
        // Cached content at gemini-2.5-flash: 29 × 300 + 696,190 × 30 + 214 × 2500
        //   = 8,700 + 20,885,700 + 535,000
        const Usage cached = parsed(gh::parseGeminiUsage, R"({"promptTokenCount": 696219,
            "cachedContentTokenCount": 696190, "candidatesTokenCount": 214, "totalTokenCount": 696433})");
        QCOMPARE(gh::costOf(cached, gemini25flash), std::optional<NanoUsd>(21'429'400));
        // Thinking at gemini-2.5-pro: 10 × 1250 + (50 + 900) × 10000 = 12,500 + 9,500,000.
        const Usage thinking = parsed(gh::parseGeminiUsage, R"({"promptTokenCount": 10, "candidatesTokenCount": 50,
            "thoughtsTokenCount": 900, "totalTokenCount": 960})");
        QCOMPARE(gh::costOf(thinking, gemini25pro), std::optional<NanoUsd>(9'512'500));
    }

    void deepSeekHitMiss()
    {
        // 4 × 280 + 1024 × 28 + 12 × 420 = 1,120 + 28,672 + 5,040.
        const Usage u = parsed(gh::parseOpenAIUsage, R"({"completion_tokens": 12, "prompt_tokens": 1028,
            "prompt_cache_hit_tokens": 1024, "prompt_cache_miss_tokens": 4, "total_tokens": 1040})");
        QCOMPARE(gh::costOf(u, deepseekChat), std::optional<NanoUsd>(34'832));
    }

    void defaults()
    {
        // No cache prices: reads and writes cost the input price.
        const ModelPrice noCache = price(2.00, 8.00);
        QCOMPARE(gh::costOf(usage(0, 1000, 0, 0, 0), noCache), std::optional<NanoUsd>(2'000'000));
        QCOMPARE(gh::costOf(usage(0, 0, 1000, 0, 0), noCache), std::optional<NanoUsd>(2'000'000));
        QCOMPARE(gh::costOf(usage(0, 0, 0, 1000, 0), noCache), std::optional<NanoUsd>(2'000'000));
        // No 1h price: the (5m) write price.
        const ModelPrice writeOnly = price(1.00, 5.00, 0.10, 1.25);
        QCOMPARE(gh::costOf(usage(0, 0, 0, 1000, 0), writeOnly), std::optional<NanoUsd>(1'250'000));
        // A cache price of 0 is a price (free), not "unknown".
        QCOMPARE(gh::costOf(usage(0, 1000, 1000, 0, 0), price(1.00, 1.00, 0.0, 0.0)), std::optional<NanoUsd>(0));
    }

    void unpriced()
    {
        const Usage u = usage(10, 0, 0, 0, 10);
        QCOMPARE(gh::costOf(u, ModelPrice{}), std::nullopt);
        ModelPrice inputOnly;
        inputOnly.input = 1.0;
        QCOMPARE(gh::costOf(u, inputOnly), std::nullopt);
        ModelPrice outputOnly;
        outputOnly.output = 1.0;
        QCOMPARE(gh::costOf(u, outputOnly), std::nullopt);
        QCOMPARE(gh::worstCaseCost(10, 10, inputOnly), std::nullopt);
        // Unpriced is unknown even for no tokens: never $0.
        QCOMPARE(gh::costOf(Usage{}, ModelPrice{}), std::nullopt);
        // Nonsense prices are not prices.
        QCOMPARE(gh::costOf(u, price(-1.0, 1.0)), std::nullopt);
        QCOMPARE(gh::costOf(u, price(1.0, std::nan(""))), std::nullopt);
        QCOMPARE(gh::costOf(u, price(1.0, std::numeric_limits<double>::infinity())), std::nullopt);
        QCOMPARE(gh::costOf(u, price(1.0, 1.0, -0.5)), std::nullopt);
        QCOMPARE(gh::costOf(u, price(1.0, 1.0, {}, {}, std::nan(""))), std::nullopt);
    }

    void negativeCountsCostNothing()
    {
        QCOMPARE(gh::costOf(usage(-1000, -5, 0, 0, 10), gpt41mini), std::optional<NanoUsd>(16'000));
    }

    void saturatesInsteadOfOverflowing()
    {
        const qint64 big = std::numeric_limits<qint64>::max() / 2;
        const auto c = gh::costOf(usage(big, big, big, big, big), price(1e9, 1e9));
        QCOMPARE(c, std::optional<NanoUsd>(std::numeric_limits<qint64>::max()));
        const auto w = gh::worstCaseCost(big, big, price(1e9, 1e9));
        QCOMPARE(w, std::optional<NanoUsd>(std::numeric_limits<qint64>::max()));
    }

    void worstCase()
    {
        // Input at the highest input-side price (the 1h write, $6) plus max output at $15:
        //   1000 × 6000 + 500 × 15000 = 6,000,000 + 7,500,000.
        QCOMPARE(gh::worstCaseCost(1000, 500, sonnet45), std::optional<NanoUsd>(13'500'000));
        // Only a 5m write price: that one.  1000 × 3750 + 500 × 15000.
        QCOMPARE(gh::worstCaseCost(1000, 500, price(3.00, 15.00, 0.30, 3.75)), std::optional<NanoUsd>(11'250'000));
        // No cache prices: plain input. 1,000,000 × 400 + 32,768 × 1600.
        QCOMPARE(gh::worstCaseCost(1'000'000, 32'768, price(0.40, 1.60)), std::optional<NanoUsd>(452'428'800));
        // A cheaper cache read never lowers the reservation.
        QCOMPARE(gh::worstCaseCost(1'000'000, 0, gpt41mini), std::optional<NanoUsd>(400'000'000));
        QCOMPARE(gh::worstCaseCost(0, 0, gpt41mini), std::optional<NanoUsd>(0));
        // The worst case bounds every way the same tokens can be billed.
        for (const Usage &u : {usage(1000, 0, 0, 0, 500), usage(0, 1000, 0, 0, 500), usage(0, 0, 1000, 0, 500),
                               usage(0, 0, 0, 1000, 500), usage(250, 250, 250, 250, 500)})
            QVERIFY(*gh::costOf(u, sonnet45) <= *gh::worstCaseCost(1000, 500, sonnet45));
    }
};

QTEST_GUILESS_MAIN(TestCost)
#include "tst_cost.moc"
