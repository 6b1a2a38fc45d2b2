#pragma once
#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace gh {

// The one error type of the gateway boundary, mapped to the caller's format in one place.
struct GatewayError {
    int status = 500;
    QByteArray type;   // OpenAI error type, e.g. "invalid_request_error"
    QByteArray code;   // machine-readable code, e.g. "model_not_found"
    QString message;   // for people; never contains a secret
    QList<QPair<QByteArray, QByteArray>> extraHeaders; // e.g. retry-after

    static GatewayError badRequest(const QString &message, QByteArray code = "invalid_request");
    static GatewayError unauthorized(const QString &message);
    static GatewayError forbidden(const QString &message, QByteArray code = "model_not_allowed");
    static GatewayError notFound(const QString &message, QByteArray code = "model_not_found");
    static GatewayError tooLarge(qint64 limit);
    static GatewayError budgetExhausted(const QString &message);
    static GatewayError upstream(const QString &message, QByteArray code = "upstream_error");
    static GatewayError timeout(const QString &message);
    static GatewayError unavailable(const QString &message, QByteArray code = "service_unavailable");
    static GatewayError internal(const QString &message);
    // Every key stopped by "Pause all": code gateway_paused with `x-should-retry: false`, in the
    // status each client family stops on (measured with the clients in tests/sdk/node_modules):
    // - not 5xx: the OpenAI and Anthropic SDKs retry 408/409/429/5xx twice (3 requests), the
    //   Vercel AI SDK twice whatever the headers say, Codex CLI five times;
    // - OpenAI-format clients get 400: Codex CLI also retries a 403 (and 402, 409, 422) five
    //   times, and stops at once only on 400 and 404;
    // - Anthropic-format clients get 403 permission_error: Claude Code sends a 400 again with
    //   fewer messages (7 requests), while a 403 with x-should-retry: false is sent once.
    // No Retry-After: the pause has no known end.
    // A pause (Pause all, a guardrail): a status and header each client format stops on, not retries.
    static GatewayError paused(const QString &message, bool anthropicClient, QByteArray code = "gateway_paused");
    // 429 with Retry-After (whole seconds, rounded up; at least 1).
    static GatewayError rateLimited(const QString &message, qint64 retryAfterMs, QByteArray code = "rate_limit_exceeded");

    // {"error": {"message", "type", "code", "param": null}} (OpenAI's shape).
    [[nodiscard]] QByteArray toOpenAIJson() const;
    // The same error as a server-sent event in an OpenAI stream: `data: {"error": ...}\n\n`.
    [[nodiscard]] QByteArray toOpenAIStreamEvent() const;
};

// JSON string literal (with quotes) for a QString / UTF-8 bytes.
[[nodiscard]] QByteArray jsonString(const QString &s);
[[nodiscard]] QByteArray jsonString(QByteArrayView utf8);

} // namespace gh
