#include "gateway/admission.h"
#include <QHostAddress>

namespace gh {

bool isLoopbackHost(QByteArrayView hostHeader)
{
    // What local clients send ("127.0.0.1:PORT", "localhost:PORT") is answered without a copy or an
    // address parse: QHostAddress's was 2,600 instructions a request, 1.3 % of the worker (callgrind,
    // BENCHMARKS.md issue 19). Anything else takes the general path below.
    {
        QByteArrayView name = hostHeader.trimmed();
        if (const qsizetype colon = name.lastIndexOf(':'); colon >= 0 && name.count(':') == 1)
            name.truncate(colon);
        if (name == "127.0.0.1" || name.compare("localhost", Qt::CaseInsensitive) == 0)
            return true;
    }
    QByteArray host = hostHeader.toByteArray().trimmed().toLower();
    if (host.startsWith('[')) {
        const qsizetype close = host.indexOf(']');
        if (close < 0)
            return false;
        host = host.mid(1, close - 1);
    } else if (const qsizetype colon = host.lastIndexOf(':'); colon >= 0 && host.count(':') == 1) {
        host.truncate(colon);
    }
    if (host == "localhost" || host.endsWith(".localhost"))
        return true;
    QHostAddress address;
    return address.setAddress(QString::fromLatin1(host)) && address.isLoopback();
}

QString sessionIdFrom(const QByteArray &value)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty() || v.size() > 128)
        return {};
    for (const char c : v) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
            || c == '_' || c == ':' || c == '-';
        if (!ok)
            return {};
    }
    return QString::fromLatin1(v);
}

std::optional<TraceContext> traceContextFrom(const QByteArray &value)
{
    const QByteArray v = value.trimmed();
    auto hex = [&](qsizetype from, qsizetype n) {
        bool nonZero = false;
        for (qsizetype i = from; i < from + n; ++i) {
            const char c = v.at(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return false;
            nonZero = nonZero || c != '0';
        }
        return nonZero || n == 2; // the version and the flags may be 00; the ids may not
    };
    if (v.size() < 55 || v.at(2) != '-' || v.at(35) != '-' || v.at(52) != '-')
        return std::nullopt;
    if (!hex(0, 2) || v.startsWith("ff") || !hex(3, 32) || !hex(36, 16) || !hex(53, 2))
        return std::nullopt;
    if (v.startsWith("00") ? v.size() != 55 : (v.size() > 55 && v.at(55) != '-'))
        return std::nullopt;
    return TraceContext{v.mid(3, 32), v.mid(36, 16)};
}

std::optional<GatewayError> admitRequest(
    const HttpHeaders &headers, bool shuttingDown, const QStringList &allowedOrigins)
{
    if (shuttingDown)
        return GatewayError::unavailable(
            QStringLiteral("Gatehouse is shutting down; retry in a moment."), "shutting_down");
    const QByteArray host = headers.value("host");
    int hostCount = 0;
    for (const auto &h : headers.list())
        hostCount += h.first == "host";
    if (hostCount > 1)
        return GatewayError::badRequest(QStringLiteral("More than one Host header."), "duplicate_host");
    if (host.isEmpty())
        return GatewayError::badRequest(QStringLiteral("Missing Host header."), "missing_host");
    if (!isLoopbackHost(host))
        return GatewayError::forbidden(QStringLiteral("Host '%1' is not allowed: Gatehouse only answers requests "
                                                      "addressed to localhost or a loopback address.")
                                           .arg(QString::fromLatin1(host)),
            "host_not_allowed");
    if (headers.contains("origin")) {
        const QString origin = QString::fromLatin1(headers.value("origin"));
        // An origin is scheme://host[:port], all of it case-insensitive; the settings hold it in lower case.
        if (!allowedOrigins.contains(origin.toLower()))
            return GatewayError::forbidden(QStringLiteral("Requests from the browser origin '%1' are not allowed; add "
                                                          "it to settings.allowed_origins to allow them.")
                                               .arg(origin),
                "origin_not_allowed");
    }
    return std::nullopt;
}

} // namespace gh
