#include "cache/cachegate.h"
#include "cache/requestkey.h"
#include "http/httpheaders.h"
#include "routing/registry.h"
#include "store/requestrecord.h"

namespace gh {

void CacheTicket::capture(QByteArrayView bytes)
{
    if (!filling())
        return;
    if (captured.size() + bytes.size() > kMaxEntryBytes) {
        overflow = true;
        captured.clear();
        return;
    }
    captured.append(bytes);
}

std::optional<CachedAnswer> responseCacheLookup(ResponseCache *cache, const KeyEntry &key, const RouteConfig *route,
                                                const HttpHeaders &headers, QByteArrayView path, const QByteArray &body,
                                                const QString &target, CacheTicket *ticket)
{
    const ResponseCachePolicy *policy = route && route->responseCache ? &*route->responseCache
        : key.responseCache                                           ? &*key.responseCache
                                                                      : nullptr;
    if (!cache || !policy)
        return std::nullopt;
    auto bypass = [&](const QString &why) {
        ticket->status = "bypass";
        ticket->reason = why;
        return std::nullopt;
    };
    if (!key.storeBodies)
        return bypass(QStringLiteral("the key does not allow storing bodies"));
    const QByteArray cacheControl = headers.value("cache-control").toLower();
    if (cacheControl.contains("no-store") || headers.value("x-gatehouse-cache").trimmed().toLower() == "off")
        return bypass(QStringLiteral("the client asked not to store"));
    CacheKeyInput in;
    in.endpoint = path;
    in.body = body;
    const bool shared = key.responseCache && key.responseCache->shared;
    in.scope = shared ? QStringLiteral("shared") : QStringLiteral("key:%1").arg(key.id);
    in.target = target;
    for (const char *name : {"anthropic-version", "anthropic-beta", "openai-beta"}) {
        const QByteArray v = headers.value(name);
        if (!v.isEmpty())
            in.headers.append({QByteArray(name), v});
    }
    QString why;
    bool deterministic = false;
    const std::optional<QByteArray> k = responseCacheKey(in, &why, &deterministic); // one parse for both
    if (!k)
        return bypass(why);
    if (!policy->sampled && !deterministic)
        return bypass(QStringLiteral("sampled (temperature is not 0)"));
    if (std::optional<CachedAnswer> hit = cache->lookup(*k)) {
        ticket->status = "hit";
        return hit;
    }
    ticket->status = "miss";
    ticket->key = *k;
    ticket->ttlMs = policy->ttlS * 1000;
    ticket->allowToolCalls = policy->toolCalls;
    return std::nullopt;
}

void responseCacheFill(ResponseCache *cache, CacheTicket *ticket, bool stream, const QByteArray &contentType,
                       const QByteArray &body, const RequestRecord &record)
{
    if (!cache || !ticket->filling() || body.size() > CacheTicket::kMaxEntryBytes)
        return;
    const QByteArray key = std::exchange(ticket->key, QByteArray()); // filled once
    if (stream && !isCompleteStream(body))
        return; // cut: never replayed
    if (!ticket->allowToolCalls && answerCallsTools(body))
        return;
    CachedAnswer a;
    a.stream = stream;
    a.contentType = contentType;
    a.body = body;
    a.modelId = record.modelId;
    a.provider = record.provider;
    a.upstreamModel = record.upstreamModel;
    a.cost = record.cost;
    a.keyId = record.keyId;
    cache->insert(key, a, ticket->ttlMs);
    ticket->captured.clear(); // `body` may be it: only now
}

} // namespace gh
