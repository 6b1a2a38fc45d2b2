#include "gateway/gatewayerror.h"
#include "core/money.h"
#include <algorithm>
#include <cstdio>

namespace gh {

QByteArray jsonString(QByteArrayView s)
{
    // The usual case (a model name, an error code): nothing to escape, one copy.
    const bool plain = std::none_of(s.begin(), s.end(), [](char c) {
        return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
    QByteArray out;
    out.reserve(s.size() + 2);
    out.append('"');
    if (plain)
        return out.append(s).append('"');
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out.append(buf);
            } else {
                out.append(c);
            }
        }
    }
    out.append('"');
    return out;
}

QByteArray jsonString(const QString &s)
{
    return jsonString(QByteArrayView(s.toUtf8()));
}

static GatewayError make(int status, QByteArray type, QByteArray code, const QString &message)
{
    GatewayError e;
    e.status = status;
    e.type = std::move(type);
    e.code = std::move(code);
    e.message = message;
    return e;
}

GatewayError GatewayError::badRequest(const QString &m, QByteArray code) { return make(400, "invalid_request_error", std::move(code), m); }
GatewayError GatewayError::unauthorized(const QString &m) { return make(401, "authentication_error", "invalid_api_key", m); }
GatewayError GatewayError::forbidden(const QString &m, QByteArray code) { return make(403, "permission_error", std::move(code), m); }
GatewayError GatewayError::notFound(const QString &m, QByteArray code) { return make(404, "invalid_request_error", std::move(code), m); }
GatewayError GatewayError::tooLarge(qint64 limit)
{
    return make(413, "invalid_request_error", "request_too_large",
                QStringLiteral("Request body too large: the limit is %1 bytes (%2 MiB); raise settings.max_body_mb to allow more.")
                    .arg(limit)
                    .arg(double(limit) / (1024.0 * 1024.0), 0, 'g', 4));
}
GatewayError GatewayError::rateLimited(const QString &m, qint64 retryAfterMs, QByteArray code)
{
    GatewayError e = make(429, "rate_limit_error", std::move(code), m);
    const qint64 seconds = qMax<qint64>(1, (retryAfterMs + 999) / 1000);
    e.extraHeaders.emplaceBack("retry-after", QByteArray::number(seconds));
    return e;
}
GatewayError GatewayError::paused(const QString &m, bool anthropicClient, QByteArray code)
{
    GatewayError e = anthropicClient ? make(403, "permission_error", code, m) : make(400, "invalid_request_error", code, m);
    e.extraHeaders.emplaceBack("x-should-retry", "false");
    return e;
}
GatewayError GatewayError::budgetExhausted(const QString &m) { return make(402, "insufficient_quota", "budget_exceeded", m); }
GatewayError GatewayError::upstream(const QString &m, QByteArray code) { return make(502, "upstream_error", std::move(code), m); }
GatewayError GatewayError::timeout(const QString &m) { return make(504, "upstream_error", "upstream_timeout", m); }
GatewayError GatewayError::unavailable(const QString &m, QByteArray code) { return make(503, "service_unavailable", std::move(code), m); }
GatewayError GatewayError::internal(const QString &m) { return make(500, "server_error", "internal_error", m); }

QByteArray GatewayError::toOpenAIJson() const
{
    QByteArray out = "{\"error\":{\"message\":";
    out.append(jsonString(message));
    out.append(",\"type\":").append(jsonString(QByteArrayView(type)));
    out.append(",\"param\":null,\"code\":").append(jsonString(QByteArrayView(code)));
    out.append("}}");
    return out;
}

QByteArray GatewayError::toOpenAIStreamEvent() const
{
    return "data: " + toOpenAIJson() + "\n\n";
}

} // namespace gh
