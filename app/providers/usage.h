#pragma once
#include <QtGlobal>
#include <string_view>

namespace gh {

// Token usage of one request, normalized once in the provider adapter. Everything downstream
// (pricing, budgets, the log, the UI) reads only this struct.
//
// inputTokens is the *uncached* input: OpenAI's prompt_tokens and Gemini's promptTokenCount include
// their cached tokens and are reduced by them here; Anthropic's input_tokens already excludes cache
// reads and writes.
struct Usage {
    qint64 inputTokens = 0;        // uncached input tokens, billed at the input price
    qint64 cacheReadTokens = 0;    // input tokens read from the provider's prompt cache
    qint64 cacheWriteTokens = 0;   // input tokens written to the cache (default / 5-minute TTL)
    qint64 cacheWrite1hTokens = 0; // input tokens written to the cache with a 1-hour TTL (Anthropic)
    qint64 outputTokens = 0;       // all output tokens, reasoning included
    qint64 reasoningTokens = 0;    // the reasoning part of outputTokens (informational)
    bool reported = false;         // the provider reported usage (false: nothing seen yet)
    bool estimated = false;        // some or all counts are Gatehouse's estimate

    [[nodiscard]] qint64 totalInput() const { return inputTokens + cacheReadTokens + cacheWriteTokens + cacheWrite1hTokens; }
    [[nodiscard]] bool isEmpty() const { return totalInput() == 0 && outputTokens == 0; }
    friend bool operator==(const Usage &, const Usage &) = default;
};

// Parsers of each provider's usage object. `json` is the text of the usage object itself
// (`{"prompt_tokens": ...}`), not the whole response. They return false when the text is not a
// JSON object (usage stays untouched); unknown fields are ignored, missing ones count as 0.

// OpenAI chat/completions/embeddings usage: prompt_tokens (includes prompt_tokens_details.cached_tokens),
// completion_tokens (includes completion_tokens_details.reasoning_tokens). Also accepts the Responses
// API shape: input_tokens (includes input_tokens_details.cached_tokens), output_tokens
// (includes output_tokens_details.reasoning_tokens). DeepSeek's prompt_cache_hit_tokens /
// prompt_cache_miss_tokens are understood too.
[[nodiscard]] bool parseOpenAIUsage(std::string_view json, Usage &out);

// Anthropic Messages usage: input_tokens (excludes cache), cache_read_input_tokens,
// cache_creation_input_tokens, cache_creation.ephemeral_5m_input_tokens / ephemeral_1h_input_tokens,
// output_tokens. In a stream, message_start carries input and message_delta the cumulative output:
// `mergeAnthropicUsage` folds a later usage object into an earlier one (max of each count).
[[nodiscard]] bool parseAnthropicUsage(std::string_view json, Usage &out);
void mergeAnthropicUsage(Usage &into, const Usage &later);

// Gemini usageMetadata: promptTokenCount (includes cachedContentTokenCount), candidatesTokenCount,
// thoughtsTokenCount (reasoning, billed as output).
[[nodiscard]] bool parseGeminiUsage(std::string_view json, Usage &out);

// A rough token estimate for text Gatehouse has to count itself (cut streams, budget reservations):
// never zero for non-empty text, and biased upwards (about one token per 3 bytes of UTF-8).
[[nodiscard]] qint64 estimateTokens(qint64 utf8Bytes);

} // namespace gh
