#include "config/responsecachepolicy.h"
#include <QJsonValue>
#include <QStringList>

namespace gh {

QJsonObject ResponseCachePolicy::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("ttl_s"), ttlS);
    if (sampled)
        o.insert(QStringLiteral("sampled"), true);
    if (toolCalls)
        o.insert(QStringLiteral("tool_calls"), true);
    if (shared)
        o.insert(QStringLiteral("shared"), true);
    return o;
}

bool ResponseCachePolicy::fromJson(const QJsonObject &o, ResponseCachePolicy *out, QString *error)
{
    static const QStringList known{QStringLiteral("ttl_s"), QStringLiteral("sampled"), QStringLiteral("tool_calls"),
                                   QStringLiteral("shared")};
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!known.contains(it.key())) {
            *error = QStringLiteral("unknown field \"%1\" (known: %2)").arg(it.key(), known.join(QStringLiteral(", ")));
            return false;
        }
    }
    ResponseCachePolicy p;
    const QJsonValue ttl = o.value(QStringLiteral("ttl_s"));
    const double t = ttl.toDouble(-1);
    if (!ttl.isDouble() || t != double(qint64(t)) || t < 1 || t > double(kMaxTtlS)) {
        *error = QStringLiteral("ttl_s: must be an integer from 1 to %1 (seconds)").arg(kMaxTtlS);
        return false;
    }
    p.ttlS = qint64(t);
    for (auto [name, flag] : {std::pair{"sampled", &p.sampled}, std::pair{"tool_calls", &p.toolCalls}, std::pair{"shared", &p.shared}}) {
        const QJsonValue v = o.value(QLatin1String(name));
        if (v.isUndefined())
            continue;
        if (!v.isBool()) {
            *error = QStringLiteral("%1: must be true or false").arg(QLatin1String(name));
            return false;
        }
        *flag = v.toBool();
    }
    *out = p;
    return true;
}

} // namespace gh
