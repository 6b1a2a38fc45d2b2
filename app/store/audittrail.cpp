#include "store/audittrail.h"
#include "store/storeinterfaces.h"
#include <QJsonArray>
#include <QJsonDocument>

namespace gh {

namespace {

thread_local AuditOrigin t_origin = AuditOrigin::Window;

QJsonValue optional(const std::optional<double> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}
QJsonValue optional(const std::optional<qint64> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}
QJsonValue optional(const std::optional<int> &v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

// Member names whose values are credentials: never recorded, only that they changed.
bool holdsCredential(const QString &name)
{
    const QString n = name.toLower();
    for (const char *word :
        {"header", "secret", "token", "password", "passwd", "api_key", "apikey", "authorization", "credential"})
        if (n.contains(QLatin1String(word)))
            return true;
    return false;
}

QJsonValue redacted(const QJsonValue &v)
{
    if (v.isObject()) {
        QJsonObject o = v.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            it.value() = holdsCredential(it.key()) ? QJsonValue(QStringLiteral("(redacted)")) : redacted(it.value());
        return o;
    }
    if (v.isArray()) {
        QJsonArray a = v.toArray();
        for (qsizetype i = 0; i < a.size(); ++i)
            a[i] = redacted(a.at(i));
        return a;
    }
    return v;
}

} // namespace

QString auditOriginName(AuditOrigin origin)
{
    switch (origin) {
    case AuditOrigin::Window:
        return QStringLiteral("window");
    case AuditOrigin::Config:
        return QStringLiteral("config");
    case AuditOrigin::Cli:
        return QStringLiteral("cli");
    case AuditOrigin::Api:
        return QStringLiteral("api");
    }
    return QStringLiteral("window");
}

AuditOriginScope::AuditOriginScope(AuditOrigin origin)
    : m_previous(t_origin)
{
    t_origin = origin;
}

AuditOriginScope::~AuditOriginScope()
{
    t_origin = m_previous;
}

AuditOrigin AuditOriginScope::current()
{
    return t_origin;
}

QJsonObject auditJson(const StoredKey &key)
{
    // Not secret_hash nor secret_hint: what identifies the secret stays out of the trail.
    return QJsonObject{
        {QStringLiteral("name"), key.name},
        {QStringLiteral("allow_models"), QJsonArray::fromStringList(key.allowModels)},
        {QStringLiteral("day_usd"), optional(key.limits.dayUsd)},
        {QStringLiteral("week_usd"), optional(key.limits.weekUsd)},
        {QStringLiteral("month_usd"), optional(key.limits.monthUsd)},
        {QStringLiteral("total_usd"), optional(key.limits.totalUsd)},
        {QStringLiteral("allow_unpriced"), key.allowUnpriced},
        {QStringLiteral("paused"), key.paused},
        {QStringLiteral("revoked"), key.revoked},
        {QStringLiteral("rpm"), optional(key.rpm)},
        {QStringLiteral("tpm"), optional(key.tpm)},
        {QStringLiteral("on_short_budget"), shortBudgetName(key.budget.onShortBudget)},
        {QStringLiteral("min_output_tokens"), key.budget.minOutputTokens},
        {QStringLiteral("secret_scan"), secretScanName(key.secretScan)},
    };
}

QJsonObject auditJson(const ProviderConfig &provider)
{
    // api_key_env is the name of a variable, not its value; the key itself lives in the keychain.
    return QJsonObject{
        {QStringLiteral("id"), provider.id},
        {QStringLiteral("format"), formatName(provider.format)},
        {QStringLiteral("base_url"), provider.baseUrl.toString(QUrl::RemoveUserInfo)},
        {QStringLiteral("api_key_env"), provider.apiKeyEnv},
        {QStringLiteral("catalog"), provider.catalog},
        {QStringLiteral("enabled"), provider.enabled},
        {QStringLiteral("rpm"), optional(provider.rpm)},
        {QStringLiteral("tpm"), optional(provider.tpm)},
        {QStringLiteral("local"), provider.local},
    };
}

QJsonObject auditJson(const ModelConfig &model)
{
    QJsonObject o{
        {QStringLiteral("id"), model.id},
        {QStringLiteral("provider"), model.provider},
        {QStringLiteral("upstream_model"), model.upstreamModel},
        {QStringLiteral("input"), optional(model.price.input)},
        {QStringLiteral("output"), optional(model.price.output)},
        {QStringLiteral("cache_read"), optional(model.price.cacheRead)},
        {QStringLiteral("cache_write"), optional(model.price.cacheWrite)},
        {QStringLiteral("context_window"), model.contextWindow},
        {QStringLiteral("max_output_tokens"), model.maxOutputTokens},
    };
    if (model.capabilities)
        o.insert(QStringLiteral("capabilities"), QJsonArray::fromStringList(*model.capabilities));
    return o;
}

QJsonObject auditJson(const RouteConfig &route)
{
    QJsonArray targets;
    for (const RouteTarget &t : route.targets)
        targets.append(QJsonObject{{QStringLiteral("model"), t.model}, {QStringLiteral("weight"), t.weight}});
    return QJsonObject{{QStringLiteral("id"), route.id}, {QStringLiteral("strategy"), strategyName(route.strategy)},
        {QStringLiteral("targets"), targets}};
}

QJsonObject auditSettingJson(const QString &value)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(value.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError)
        return QJsonObject{{QStringLiteral("value"), value}};
    if (doc.isObject())
        return redacted(doc.object()).toObject();
    return QJsonObject{{QStringLiteral("value"), redacted(doc.array())}};
}

bool auditDiff(const QJsonObject &before, const QJsonObject &after, QJsonObject *oldOut, QJsonObject *newOut)
{
    QJsonObject o;
    QJsonObject n;
    for (auto it = before.begin(); it != before.end(); ++it)
        if (after.value(it.key()) != it.value()) {
            o.insert(it.key(), it.value());
            if (after.contains(it.key()))
                n.insert(it.key(), after.value(it.key()));
        }
    for (auto it = after.begin(); it != after.end(); ++it)
        if (!before.contains(it.key()))
            n.insert(it.key(), it.value());
    *oldOut = o;
    *newOut = n;
    return !o.isEmpty() || !n.isEmpty();
}

QString keyAuditAction(const QJsonObject &changedOld, const QJsonObject &changedNew)
{
    if (changedNew.value(QLatin1String("revoked")).toBool() && changedOld.contains(QLatin1String("revoked")))
        return QStringLiteral("key.revoke");
    if (changedNew.contains(QLatin1String("paused")))
        return changedNew.value(QLatin1String("paused")).toBool() ? QStringLiteral("key.pause")
                                                                  : QStringLiteral("key.resume");
    for (const char *limit : {"day_usd", "week_usd", "month_usd", "total_usd", "rpm", "tpm"})
        if (changedNew.contains(QLatin1String(limit)))
            return QStringLiteral("key.limits");
    return QStringLiteral("key.update");
}

bool mergeAuditStep(const AuditEntry &last, const AuditEntry &next, AuditEntry *merged)
{
    if (next.action != QLatin1String("key.limits") || last.origin != next.origin || last.action != next.action
        || last.subject != next.subject || next.atMs - last.atMs > kAuditMergeMs)
        return false;
    QJsonObject before = QJsonDocument::fromJson(last.oldValue.toUtf8()).object();
    QJsonObject after = QJsonDocument::fromJson(last.newValue.toUtf8()).object();
    const QJsonObject nextBefore = QJsonDocument::fromJson(next.oldValue.toUtf8()).object();
    const QJsonObject nextAfter = QJsonDocument::fromJson(next.newValue.toUtf8()).object();
    for (auto it = nextBefore.begin(); it != nextBefore.end(); ++it)
        if (!before.contains(it.key()))
            before.insert(it.key(), it.value());
    for (auto it = nextAfter.begin(); it != nextAfter.end(); ++it)
        after.insert(it.key(), it.value());
    *merged = last;
    merged->atMs = next.atMs;
    merged->oldValue = QString::fromUtf8(QJsonDocument(before).toJson(QJsonDocument::Compact));
    merged->newValue = QString::fromUtf8(QJsonDocument(after).toJson(QJsonDocument::Compact));
    return true;
}

} // namespace gh
