#pragma once

#include "mockreplies.h"
#include "requestlog.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QJsonObject>
#include <QMutex>

#include <deque>
#include <optional>

// What the mock keeps across requests, shared by all connection threads: how many requests each
// model received, the chaos counters, the prompts seen (prompt-cache simulation) and the billing.
// Everything is keyed by the upstream model name exactly as received ("ok@cache=1", ...).
// POST /_mock/reset clears it all.
namespace gh::mock {

// A prompt that shares at least this many leading bytes with an earlier one (same model) hits the cache.
inline constexpr qint64 kMinCachedPrefixBytes = 1024;
// Cached tokens are reported in blocks of this many tokens (as OpenAI does).
inline constexpr qint64 kCacheBlockTokens = 128;

// The number of leading bytes `a` and `b` have in common.
[[nodiscard]] qint64 commonPrefixBytes(QByteArrayView a, QByteArrayView b);
// The cached tokens reported for a common prefix of `prefixBytes`: 0 below kMinCachedPrefixBytes,
// else prefixBytes / 4 rounded down to a multiple of kCacheBlockTokens.
[[nodiscard]] qint64 cachedTokensForPrefix(qint64 prefixBytes);

// Tokens billed, normalized as gh::Usage is: inputTokens excludes cache reads (OpenAI prompt_tokens
// and Gemini promptTokenCount minus their cached tokens; Anthropic input_tokens as is); outputTokens
// includes reasoning (Gemini candidatesTokenCount + thoughtsTokenCount).
struct BillingTotals {
    qint64 requests = 0; // completed successful responses (with or without usage)
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0; // 5-minute (default) cache writes
    qint64 cacheWrite1hTokens = 0; // 1-hour cache writes (Anthropic)
    qint64 reasoningTokens = 0; // part of outputTokens

    [[nodiscard]] QJsonObject toJson() const;
};

class MockState
{
public:
    // Keeps at most `promptsPerModel` prompts per model for the cache simulation (oldest dropped).
    explicit MockState(qsizetype promptsPerModel = 256);

    // Counts a request for `model` (any outcome).
    void received(const QByteArray &model);
    // The 0-based index of this chaos draw for `model` (a per-model counter).
    [[nodiscard]] quint64 nextChaosIndex(const QByteArray &model);
    // The cached tokens for `prompt` (see cachedTokensForPrefix, against every earlier prompt of
    // `model` in `format`: each format has its own cache); remembers `prompt`. An empty prompt caches
    // nothing and is not remembered.
    [[nodiscard]] qint64 cachedTokens(Format format, const QByteArray &model, const QByteArray &prompt);
    // Bills one completed successful response of `model` in `format`; `usage` is what the response
    // reported (nothing: counts the request, no tokens).
    void bill(const QByteArray &model, Format format, const std::optional<Billed> &usage);
    void clear();

    // {"requests": N, "by_model": {model: BillingTotals}, "totals": BillingTotals,
    //  "received": {model: N}, "received_total": N}
    [[nodiscard]] QJsonObject billingJson() const;

private:
    mutable QMutex m_mutex;
    qsizetype m_promptsPerModel;
    QHash<QByteArray, qint64> m_received;
    QHash<QByteArray, quint64> m_chaos;
    QHash<QByteArray, std::deque<QByteArray>> m_prompts; // by format + model
    QHash<QByteArray, BillingTotals> m_billing;
};

} // namespace gh::mock
