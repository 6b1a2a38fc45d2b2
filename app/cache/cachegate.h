#pragma once
#include "cache/responsecache.h"
#include <QByteArray>
#include <QString>
#include <optional>

namespace gh {

class HttpHeaders;
struct KeyEntry;
struct RouteConfig;
struct RequestRecord;

// One request's dealings with the response cache, from its lookup to the fill of a miss.
struct CacheTicket {
    QByteArray status;         // x-gatehouse-cache: "" (no policy applies), "hit", "miss", "bypass"
    QString reason;            // why a bypass (for the log)
    QByteArray key;            // a miss that may be filled; empty otherwise
    qint64 ttlMs = 0;
    bool allowToolCalls = false;
    QByteArray captured;       // a stream's bytes as the client received them
    bool overflow = false;     // larger than one entry may be: not stored
    [[nodiscard]] bool filling() const { return !key.isEmpty() && !overflow; }
    // Appends relayed stream bytes (nothing once it is not filling).
    void capture(QByteArrayView bytes);
    static constexpr qsizetype kMaxEntryBytes = 16 * 1024 * 1024; // uncompressed
};

// The lookup stage, after the request was authenticated and planned (so a key's allow_models and
// budget-free refusals come first). The policy is the route's when the request named a route that
// has one, else the key's; none: off (ticket status empty, nothing looked up). A bypass when the
// key forbids storing bodies, the client said no-store (`Cache-Control: no-store`,
// `x-gatehouse-cache: off`), or the request is sampled without the policy's `sampled`. Otherwise the
// answer stored for it (status "hit"), or std::nullopt with a ticket ready to fill (status "miss").
[[nodiscard]] std::optional<CachedAnswer> responseCacheLookup(ResponseCache *cache, const KeyEntry &key,
                                                              const RouteConfig *route, const HttpHeaders &headers,
                                                              QByteArrayView path, const QByteArray &body,
                                                              const QString &target, CacheTicket *ticket);

// The fill stage, on a completed 2xx answer (a whole JSON body, or a stream that ended without an
// error): stored unless it calls tools and the policy does not allow it. `record` gives the model,
// provider and cost.
void responseCacheFill(ResponseCache *cache, CacheTicket *ticket, bool stream, const QByteArray &contentType,
                       const QByteArray &body, const RequestRecord &record);

} // namespace gh
