#pragma once
#include "routing/affinity.h"
#include "routing/health.h"
#include "routing/registry.h"
#include <QList>
#include <QString>
#include <functional>

namespace gh {

// What the router needs to know of a request (read once from the body by the gateway).
struct RequestTraits {
    qint64 estimatedInputTokens = 0;
    qint64 expectedOutputTokens = 0; // max_tokens when given, else a typical answer (kTypicalOutputTokens)
    bool tools = false;              // tools / functions are sent
    bool images = false;             // an image part is in the messages
    bool jsonSchema = false;         // response_format json_schema (structured output)
    // Hashes of the prompt's leading blocks, most specific first: system + tools + first message,
    // then system + tools alone when that part is long enough to be cached. Empty: no prefix.
    QList<quint64> prefixHashes;
};

// A target the router did not try, and why (logged as a skipped attempt).
struct SkippedTarget {
    QString modelId;
    QString provider;
    QString reason; // "context window 8192 tokens < ~12000 estimated input tokens", "circuit open", ...
};

// The order in which a request tries the targets of a route (or the one model it named).
struct RoutePlan {
    QList<ModelEntry> targets;   // in order; the first is tried first
    QList<SkippedTarget> skipped;
    bool affinityHit = false;    // targets[0] came from prompt-cache affinity
    QString decidedBy;           // a short human explanation: "affinity", "ordered", "cheapest: $0.0012", ...
};

// Decides the order of targets for one request. Strategies (docs/routing.md):
// - ordered: the configured order.
// - cheapest: by the request's estimated cost (estimated input tokens at the input price plus the
//   expected output tokens at the output price); unpriced targets last; ties keep the configured order.
// - fastest: by expected time = EWMA time to first token + expected output tokens / EWMA tokens per
//   second; targets never measured go first (each is measured once), in the configured order.
// - weighted: a weighted random draw without replacement (weight 0 targets only after the others).
// - quality: by the Bayesian mean of Compare wins, (wins + 1) / (rounds + 2), times (1 - error rate);
//   when fewer than kMinQualityVotes voted rounds cover the route's targets, the configured order.
// Then, for every strategy: targets that cannot serve the request are skipped (unknown model, provider
// disabled, the key may not use it, its data policy does not meet the key's require_policy, unpriced on a limited key, context window too small for the
// estimated input, no tool calling when tools are sent, no vision when images are sent, no JSON schema
// when response_format asks for one); targets whose circuit is open or that are rate limited move
// behind the available ones (kept as a last resort, the soonest available first); and a warm affinity
// target, when available, moves to the front.
class Router
{
public:
    static constexpr qint64 kTypicalOutputTokens = 512;
    static constexpr int kMinQualityVotes = 5;

    Router(HealthTracker &health, AffinityTable &affinity);

    // `route` is the alias (empty for a request that named one model or a `models` list);
    // `targets` and `strategy` come from the route, or from the request's model / `models` list
    // (ordered). `random` returns a uniform double in [0, 1) (tests pass a fixed sequence).
    // `providerHasRoom(providerId)` says whether the provider's own rate limit has room now; targets
    // whose provider is full move behind those with room (spreading the load).
    [[nodiscard]] RoutePlan plan(const RegistrySnapshot &registry, const QString &route, RouteStrategy strategy,
                                 const QList<RouteTarget> &targets, const RequestTraits &traits, const KeyEntry &key,
                                 qint64 nowMs, const std::function<double()> &random,
                                 const std::function<bool(const QString &)> &providerHasRoom = {}) const;

    // After a target served a request of a route: remember it for the request's prefixes.
    void rememberAffinity(qint64 keyId, const QString &route, const RequestTraits &traits, const QString &modelId,
                          qint64 nowMs);

    [[nodiscard]] HealthTracker &health() const { return m_health; }
    [[nodiscard]] AffinityTable &affinity() const { return m_affinity; }

private:
    HealthTracker &m_health;
    AffinityTable &m_affinity;
};

} // namespace gh
