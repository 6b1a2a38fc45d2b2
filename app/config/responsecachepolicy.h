#pragma once
#include <QJsonObject>
#include <QString>

namespace gh {

// A key's or a route's "response_cache" (docs/response-cache.md): exact-match answers replayed for
// `ttl_s` seconds without asking the provider. Absent on both the key and the route: off.
//   {"ttl_s": 3600, "sampled": false, "tool_calls": false, "shared": false}
struct ResponseCachePolicy {
    static constexpr qint64 kMaxTtlS = 30LL * 24 * 3600; // a month: past that an answer is stale by any measure
    qint64 ttlS = 0;
    // Answers to requests without temperature 0 are cached too (the user accepts one sample for all).
    bool sampled = false;
    // Answers that call tools are cached too (by default an agent's tool call is never replayed).
    bool toolCalls = false;
    // Only read on a key: its answers are stored in, and served from, the entries every other
    // sharing key uses. Otherwise a key only ever sees its own entries.
    bool shared = false;
    [[nodiscard]] QJsonObject toJson() const;
    // false with *error naming the member when one is wrong; ttl_s is required.
    static bool fromJson(const QJsonObject &o, ResponseCachePolicy *out, QString *error);
    friend bool operator==(const ResponseCachePolicy &, const ResponseCachePolicy &) = default;
};

} // namespace gh
