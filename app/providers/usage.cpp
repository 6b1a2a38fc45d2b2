#include "providers/usage.h"
#include "providers/usagejson.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace gh {

namespace {

namespace od = simdjson::ondemand;

// No request has anywhere near this many tokens; capping keeps sums and costs far from overflow
// whatever a misbehaving upstream reports.
constexpr qint64 kMaxTokens = qint64(1) << 40;

qint64 clampTokens(qint64 v)
{
    return std::clamp<qint64>(v, 0, kMaxTokens);
}

// Reads a token count. Integers, integral floats (some compatible servers send 12.0) and null
// are understood; anything else is a malformed document. Negative counts become 0.
bool readCount(od::value value, qint64 &out)
{
    od::json_type type;
    if (value.type().get(type) != simdjson::SUCCESS)
        return false;
    switch (type) {
    case od::json_type::null:
        out = 0;
        return true;
    case od::json_type::number: {
        od::number_type nt;
        if (value.get_number_type().get(nt) != simdjson::SUCCESS)
            return false;
        if (nt == od::number_type::signed_integer) {
            int64_t v = 0;
            if (value.get_int64().get(v) != simdjson::SUCCESS)
                return false;
            out = clampTokens(v);
            return true;
        }
        if (nt == od::number_type::unsigned_integer) { // above INT64_MAX
            out = kMaxTokens;
            return true;
        }
        double d = 0;
        if (value.get_double().get(d) != simdjson::SUCCESS || !std::isfinite(d))
            return false;
        out = d <= 0 ? 0 : d >= double(kMaxTokens) ? kMaxTokens : qint64(std::ceil(d));
        return true;
    }
    default:
        return false;
    }
}

// Hands each field's key and value of `object` to `fn`, which returns false to report a malformed
// value. Returns false on malformed JSON too.
template<typename Fn>
bool eachFieldOf(od::object &object, Fn &&fn)
{
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS)
            return false;
        od::value v;
        if (field.value().get(v) != simdjson::SUCCESS)
            return false;
        if (!fn(key, v))
            return false;
    }
    return true;
}

// eachFieldOf() on `value`, which must be an object.
template<typename Fn>
bool forEachField(od::value value, Fn &&fn)
{
    od::object object;
    if (value.get_object().get(object) != simdjson::SUCCESS)
        return false;
    return eachFieldOf(object, std::forward<Fn>(fn));
}

// A nested details object ({"cached_tokens": 3}) may also be null or absent.
template<typename Fn>
bool forEachDetail(od::value value, Fn &&fn)
{
    bool isNull = false;
    if (value.is_null().get(isNull) == simdjson::SUCCESS && isNull)
        return true;
    return forEachField(value, std::forward<Fn>(fn));
}

// Parses the top-level usage object and calls `fn` for each field. The document must be exactly
// one JSON object: JSON `null`, arrays, scalars, syntax errors and trailing content all fail.
template<typename Fn>
bool parseUsageObject(std::string_view json, Fn &&fn)
{
    const simdjson::padded_string padded(json.data(), json.size());
    // One parser per thread: constructing one allocates its buffers, which cost more than parsing
    // a usage object. No caller nests these calls, so its document never outlives this function.
    thread_local od::parser parser;
    od::document doc;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS)
        return false;
    od::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS || !eachFieldOf(object, std::forward<Fn>(fn)))
        return false;
    // Anything after the closing brace means this was not one object.
    const char *rest = nullptr;
    return doc.current_location().get(rest) == simdjson::OUT_OF_BOUNDS;
}

// Visits and discards a value we do not need, so that a syntax error inside it is still noticed.
bool skip(od::value)
{
    return true;
}

} // namespace

namespace {

// The OpenAI usage fields read so far: Chat Completions (prompt_/completion_, DeepSeek's cache hit
// and miss counts) or Responses (input_/output_) names.
struct OpenAIUsageFields {
    std::optional<qint64> promptTokens, completionTokens, inputTokens, outputTokens;
    std::optional<qint64> promptCached, inputCached, cacheHit, cacheMiss;
    qint64 completionReasoning = 0, outputReasoning = 0;
    bool haveCompletionReasoning = false;
};

bool readCountInto(od::value v, std::optional<qint64> &slot)
{
    qint64 n = 0;
    if (!readCount(v, n))
        return false;
    slot = n;
    return true;
}

// One member of the usage object into `f`; false when its value is not what the field holds.
bool readOpenAIUsageField(std::string_view key, od::value v, OpenAIUsageFields &f)
{
    if (key == "prompt_tokens")
        return readCountInto(v, f.promptTokens);
    if (key == "completion_tokens")
        return readCountInto(v, f.completionTokens);
    if (key == "input_tokens")
        return readCountInto(v, f.inputTokens);
    if (key == "output_tokens")
        return readCountInto(v, f.outputTokens);
    if (key == "prompt_cache_hit_tokens")
        return readCountInto(v, f.cacheHit);
    if (key == "prompt_cache_miss_tokens")
        return readCountInto(v, f.cacheMiss);
    if (key == "prompt_tokens_details" || key == "input_tokens_details") {
        auto &slot = key == "prompt_tokens_details" ? f.promptCached : f.inputCached;
        return forEachDetail(v, [&](std::string_view k, od::value dv) {
            return k == "cached_tokens" ? readCountInto(dv, slot) : skip(dv);
        });
    }
    if (key == "completion_tokens_details") {
        return forEachDetail(v, [&](std::string_view k, od::value dv) {
            if (k != "reasoning_tokens")
                return skip(dv);
            f.haveCompletionReasoning = true;
            return readCount(dv, f.completionReasoning);
        });
    }
    if (key == "output_tokens_details") {
        return forEachDetail(v, [&](std::string_view k, od::value dv) {
            return k == "reasoning_tokens" ? readCount(dv, f.outputReasoning) : skip(dv);
        });
    }
    return skip(v);
}

// The usage of a Chat Completions-shaped object.
Usage chatShapeUsage(const OpenAIUsageFields &f)
{
    Usage u;
    // DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens. Its newer
    // responses also repeat the hit count as prompt_tokens_details.cached_tokens.
    const qint64 cached = f.cacheHit ? *f.cacheHit : f.promptCached.value_or(0);
    qint64 prompt = 0;
    if (f.promptTokens)
        prompt = *f.promptTokens;
    else if (f.cacheHit || f.cacheMiss)
        prompt = clampTokens(f.cacheHit.value_or(0) + f.cacheMiss.value_or(0));
    // A provider reporting more cached tokens than prompt tokens: trust neither beyond the prompt.
    u.cacheReadTokens = std::min(cached, prompt);
    u.inputTokens = prompt - u.cacheReadTokens;
    u.outputTokens = f.completionTokens.value_or(0);
    u.reasoningTokens = f.haveCompletionReasoning ? f.completionReasoning : f.outputReasoning;
    return u;
}

// The usage of a Responses API-shaped object.
Usage responsesShapeUsage(const OpenAIUsageFields &f)
{
    Usage u;
    const qint64 prompt = f.inputTokens.value_or(0);
    u.cacheReadTokens = std::min(f.inputCached.value_or(f.promptCached.value_or(0)), prompt);
    u.inputTokens = prompt - u.cacheReadTokens;
    u.outputTokens = f.outputTokens.value_or(0);
    u.reasoningTokens = f.outputReasoning;
    return u;
}

// The OpenAI usage figures from a usage object's fields, which `forEach(fn)` visits.
template<typename ForEach>
bool openAIUsageFrom(ForEach &&forEach, Usage &out)
{
    OpenAIUsageFields f;
    if (!forEach([&](std::string_view key, od::value v) { return readOpenAIUsageField(key, v, f); }))
        return false;
    const bool chatShape = f.promptTokens || f.completionTokens || f.cacheHit || f.cacheMiss;
    Usage u = chatShape ? chatShapeUsage(f) : responsesShapeUsage(f);
    u.reasoningTokens = std::min(u.reasoningTokens, u.outputTokens);
    u.reported = true;
    out = u;
    return true;
}

} // namespace

bool parseOpenAIUsage(std::string_view json, Usage &out)
{
    return openAIUsageFrom([&](auto &&fn) { return parseUsageObject(json, fn); }, out);
}

bool parseOpenAIUsage(simdjson::ondemand::object object, Usage &out)
{
    return openAIUsageFrom([&](auto &&fn) { return eachFieldOf(object, fn); }, out);
}

bool parseAnthropicUsage(std::string_view json, Usage &out)
{
    qint64 input = 0, output = 0, cacheRead = 0, cacheCreation = 0, eph5m = 0, eph1h = 0;
    bool haveBreakdown = false;

    const bool ok = parseUsageObject(json, [&](std::string_view key, od::value v) {
        if (key == "input_tokens")
            return readCount(v, input);
        if (key == "output_tokens")
            return readCount(v, output);
        if (key == "cache_read_input_tokens")
            return readCount(v, cacheRead);
        if (key == "cache_creation_input_tokens")
            return readCount(v, cacheCreation);
        if (key == "cache_creation") {
            return forEachDetail(v, [&](std::string_view k, od::value dv) {
                if (k == "ephemeral_5m_input_tokens") {
                    haveBreakdown = true;
                    return readCount(dv, eph5m);
                }
                if (k == "ephemeral_1h_input_tokens") {
                    haveBreakdown = true;
                    return readCount(dv, eph1h);
                }
                return skip(dv);
            });
        }
        return skip(v);
    });
    if (!ok)
        return false;

    Usage u;
    u.inputTokens = input;
    u.outputTokens = output;
    u.cacheReadTokens = cacheRead;
    if (haveBreakdown) {
        // The total is authoritative; any part of it the breakdown does not explain is billed at
        // the default (5-minute) write price.
        u.cacheWrite1hTokens = eph1h;
        u.cacheWriteTokens = eph5m + std::max<qint64>(0, cacheCreation - eph5m - eph1h);
    } else {
        u.cacheWriteTokens = cacheCreation;
    }
    u.reported = true;
    out = u;
    return true;
}

void mergeAnthropicUsage(Usage &into, const Usage &later)
{
    into.inputTokens = std::max(into.inputTokens, later.inputTokens);
    into.cacheReadTokens = std::max(into.cacheReadTokens, later.cacheReadTokens);
    into.cacheWriteTokens = std::max(into.cacheWriteTokens, later.cacheWriteTokens);
    into.cacheWrite1hTokens = std::max(into.cacheWrite1hTokens, later.cacheWrite1hTokens);
    into.outputTokens = std::max(into.outputTokens, later.outputTokens);
    into.reasoningTokens = std::max(into.reasoningTokens, later.reasoningTokens);
    into.reported = into.reported || later.reported;
    into.estimated = into.estimated || later.estimated;
}

bool parseGeminiUsage(std::string_view json, Usage &out)
{
    qint64 prompt = 0, cached = 0, candidates = 0, thoughts = 0, toolUse = 0;

    const bool ok = parseUsageObject(json, [&](std::string_view key, od::value v) {
        if (key == "promptTokenCount")
            return readCount(v, prompt);
        if (key == "cachedContentTokenCount")
            return readCount(v, cached);
        if (key == "candidatesTokenCount")
            return readCount(v, candidates);
        if (key == "thoughtsTokenCount")
            return readCount(v, thoughts);
        // Tokens of tool-use prompts (e.g. grounding, URL context) are counted apart from
        // promptTokenCount (totalTokenCount = prompt + candidates + toolUse + thoughts) and billed as input.
        if (key == "toolUsePromptTokenCount")
            return readCount(v, toolUse);
        return skip(v);
    });
    if (!ok)
        return false;

    Usage u;
    u.cacheReadTokens = std::min(cached, prompt);
    u.inputTokens = prompt - u.cacheReadTokens + toolUse;
    u.outputTokens = candidates + thoughts;
    u.reasoningTokens = thoughts;
    u.reported = true;
    out = u;
    return true;
}

qint64 estimateTokens(qint64 utf8Bytes)
{
    if (utf8Bytes <= 0)
        return 0;
    return utf8Bytes / 3 + (utf8Bytes % 3 != 0 ? 1 : 0);
}

} // namespace gh
