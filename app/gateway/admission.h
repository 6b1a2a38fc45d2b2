#pragma once
#include "gateway/gatewayerror.h"
#include "http/httpheaders.h"
#include <optional>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

namespace gh {

// The admission stage of an exchange, before its route is looked at: whether Gatehouse takes the
// request at all. Pure: the caller passes the shutdown flag and the settings' allowed origins.
//   - shutting down: 503 shutting_down;
//   - exactly one Host header, naming a loopback name or address (a DNS-rebinding page sends its
//     own host name): 400 duplicate_host / missing_host, 403 host_not_allowed;
//   - an Origin header only when allowed (allowedOrigins holds lower-case scheme://host[:port]):
//     403 origin_not_allowed.
[[nodiscard]] std::optional<GatewayError> admitRequest(
    const HttpHeaders &headers, bool shuttingDown, const QStringList &allowedOrigins);

// Loopback names (localhost, *.localhost) and loopback addresses, with or without a port.
[[nodiscard]] bool isLoopbackHost(QByteArrayView hostHeader);

// Claude Code's x-claude-code-session-id (a UUID) for the log. Anything else a client puts there is
// kept only if it is a short token (at most 128 of [A-Za-z0-9._:-]); otherwise the row has none.
[[nodiscard]] QString sessionIdFrom(const QByteArray &value);

// A W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header):
// version-traceid-parentid-flags in lower-case hex. Version 00 is exactly 55 characters; a later
// version may append fields after a '-'; version ff, an all-zero id, upper case or any other shape
// is invalid and gives std::nullopt (the request then starts its own trace, as the spec says).
struct TraceContext {
    QByteArray traceId;      // 32 hex digits
    QByteArray parentSpanId; // 16 hex digits
};
[[nodiscard]] std::optional<TraceContext> traceContextFrom(const QByteArray &value);

} // namespace gh
