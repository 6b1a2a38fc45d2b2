#include "gateway/controlendpoints.h"
#include "gateway/gatewaycontext.h"
#include "gateway/guardrailgate.h"
#include "pricing/price.h"
#include "version.h"
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace gh {

namespace {

QJsonValue usdOrNull(std::optional<NanoUsd> v)
{
    return v ? QJsonValue(toUsd(*v)) : QJsonValue(QJsonValue::Null);
}

QJsonValue optionalDouble(std::optional<double> v)
{
    return v ? QJsonValue(*v) : QJsonValue(QJsonValue::Null);
}

QJsonObject healthJson(const TargetHealth &h, qint64 nowMs)
{
    const bool measured = h.successes + h.failures > 0;
    return QJsonObject{
        {QStringLiteral("state"), QLatin1String(TargetHealth::stateName(h.state))},
        {QStringLiteral("available"), h.availableAtMs <= nowMs},
        {QStringLiteral("error_rate"), measured ? QJsonValue(h.errorRate) : QJsonValue()},
        {QStringLiteral("ttft_ms"), h.ttftMs >= 0 ? QJsonValue(qRound64(h.ttftMs)) : QJsonValue()},
        {QStringLiteral("tokens_per_second"), h.tokensPerSecond >= 0 ? QJsonValue(h.tokensPerSecond) : QJsonValue()},
        {QStringLiteral("requests"), h.successes + h.failures},
    };
}

} // namespace

QByteArray healthBody(const GatewayContext &ctx)
{
    QJsonObject o{{QStringLiteral("status"), QStringLiteral("ok")},
                  {QStringLiteral("version"), QStringLiteral(GATEHOUSE_VERSION)},
                  {QStringLiteral("in_flight"), ctx.inFlight.load() - 1}, // not counting this request
                  {QStringLiteral("paused"), ctx.pausedAll.load()},
                  {QStringLiteral("workers"), ctx.workers.load()}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray rootBody()
{
    // Tools probe the base URL (Claude Code sends HEAD /) before their first request: answer that
    // something is here, without a key. (A HEAD answer goes without its body: ClientConnection.)
    QJsonObject o{{QStringLiteral("status"), QStringLiteral("ok")},
                  {QStringLiteral("service"), QStringLiteral("gatehouse")},
                  {QStringLiteral("version"), QStringLiteral(GATEHOUSE_VERSION)},
                  {QStringLiteral("api"), QStringLiteral("/v1")}};
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray modelsBody(const GatewayContext &ctx, const RegistrySnapshot &registry, const KeyEntry &keyEntry)
{
    const KeyEntry *key = &keyEntry;
    QJsonArray data;
    const QHash<QString, TargetHealth> health = ctx.health.snapshot();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const QString &id : registry.modelOrder) {
        const ModelEntry &m = registry.models.value(id);
        if (!key->allows(id) || !m.provider->config.enabled)
            continue;
        QJsonObject pricing;
        const ModelPrice p = m.priceAt(QDateTime::currentDateTimeUtc());
        pricing.insert(QStringLiteral("input"), optionalDouble(p.input));
        pricing.insert(QStringLiteral("output"), optionalDouble(p.output));
        pricing.insert(QStringLiteral("cache_read"), optionalDouble(p.cacheRead));
        pricing.insert(QStringLiteral("cache_write"), optionalDouble(p.cacheWrite));
        data.append(QJsonObject{
            {QStringLiteral("id"), id},
            {QStringLiteral("object"), QStringLiteral("model")},
            {QStringLiteral("created"), 0},
            {QStringLiteral("owned_by"), m.config.provider},
            {QStringLiteral("gatehouse"), QJsonObject{
                 {QStringLiteral("provider"), m.config.provider},
                 {QStringLiteral("upstream_model"), m.config.upstreamModel},
                 {QStringLiteral("priced"), p.isPriced()},
                 {QStringLiteral("pricing_usd_per_million_tokens"), pricing},
                 {QStringLiteral("context_window"), m.config.contextWindow > 0 ? QJsonValue(m.config.contextWindow) : QJsonValue()},
                 {QStringLiteral("max_output_tokens"), m.config.maxOutputTokens > 0 ? QJsonValue(m.config.maxOutputTokens) : QJsonValue()},
                 {QStringLiteral("capabilities"), m.config.capabilities ? QJsonValue(QJsonArray::fromStringList(*m.config.capabilities)) : QJsonValue()},
                 {QStringLiteral("health"), healthJson(health.value(id), now)},
             }},
        });
    }
    // Routes: aliases a client can name like a model.
    for (const QString &id : registry.routeOrder) {
        const RouteConfig &route = registry.routes.value(id);
        QJsonArray targets;
        bool anyAllowed = false;
        for (const RouteTarget &t : route.targets) {
            anyAllowed = anyAllowed || key->allows(t.model);
            targets.append(QJsonObject{{QStringLiteral("model"), t.model},
                                       {QStringLiteral("weight"), t.weight},
                                       {QStringLiteral("health"), healthJson(health.value(t.model), now)}});
        }
        if (!anyAllowed)
            continue;
        data.append(QJsonObject{
            {QStringLiteral("id"), id},
            {QStringLiteral("object"), QStringLiteral("model")},
            {QStringLiteral("created"), 0},
            {QStringLiteral("owned_by"), QStringLiteral("gatehouse")},
            {QStringLiteral("gatehouse"), QJsonObject{
                 {QStringLiteral("route"), true},
                 {QStringLiteral("strategy"), strategyName(route.strategy)},
                 {QStringLiteral("targets"), targets},
             }},
        });
    }
    // Aliases: glob patterns a requested name may match, and what they are served as.
    for (const ModelAlias &a : registry.aliases) {
        data.append(QJsonObject{
            {QStringLiteral("id"), a.match},
            {QStringLiteral("object"), QStringLiteral("model")},
            {QStringLiteral("created"), 0},
            {QStringLiteral("owned_by"), QStringLiteral("gatehouse")},
            {QStringLiteral("gatehouse"), QJsonObject{{QStringLiteral("alias"), true}, {QStringLiteral("to"), a.to}}},
        });
    }
    // Families: bare names of these vendors resolve whether or not the catalog lists the model.
    QJsonArray families;
    for (const QString &vendor : registry.servedFamilies()) {
        const CatalogProvider *cp = registry.catalog ? registry.catalog->provider(vendor) : nullptr;
        families.append(QJsonObject{{QStringLiteral("vendor"), vendor},
                                    {QStringLiteral("name"), cp ? cp->name : vendor}});
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                                     {QStringLiteral("data"), data},
                                     {QStringLiteral("gatehouse_families"), families}})
        .toJson(QJsonDocument::Compact);
}

QByteArray keyInfoBody(GatewayContext &ctx, const KeyEntry &keyEntry)
{
    const KeyEntry *key = &keyEntry;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const auto status = ctx.ledger.status(key->id, now);
    const BudgetLedger::Overshoots overshoots = ctx.ledger.overshoots(key->id);
    QJsonObject limits, spend, remaining, periodStart;
    for (int i = 0; i < kPeriodCount; ++i) {
        const auto p = Period(i);
        const QString name = QLatin1String(periodName(p)) + QStringLiteral("_usd");
        limits.insert(name, usdOrNull(status[i].limit));
        spend.insert(name, toUsd(status[i].spent));
        remaining.insert(name, usdOrNull(status[i].remaining()));
        periodStart.insert(QLatin1String(periodName(p)), QDateTime::fromMSecsSinceEpoch(periodStartMs(p, now)).toString(Qt::ISODate));
    }
    QJsonObject o{
        {QStringLiteral("object"), QStringLiteral("gatehouse.key")},
        {QStringLiteral("name"), key->name},
        {QStringLiteral("allow_models"), QJsonArray::fromStringList(key->allowModels)},
        {QStringLiteral("paused"), key->paused},
        {QStringLiteral("limits"), limits},
        {QStringLiteral("spend"), spend},
        {QStringLiteral("reserved_usd"), toUsd(status[0].reserved)},
        {QStringLiteral("remaining"), remaining},
        {QStringLiteral("period_start"), periodStart},
        {QStringLiteral("on_short_budget"), shortBudgetName(key->budget.onShortBudget)},
        {QStringLiteral("min_output_tokens"), key->budget.minOutputTokens},
        {QStringLiteral("overshoots"), QJsonObject{{QStringLiteral("count"), overshoots.count},
                                                   {QStringLiteral("usd"), toUsd(overshoots.amount)}}},
        {QStringLiteral("guardrails"), guardrailKeyJson(ctx, *key)},
    };
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<QByteArray> keyResumeBody(GatewayContext &ctx, const KeyEntry &keyEntry, const QByteArray &body, QString *error)
{
    const KeyEntry *key = &keyEntry;
    // {} or no body: every pause of the key; {"session": "..."}: that session's.
    QString session;
    if (!body.trimmed().isEmpty()) {
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(body, &parseError);
        const QJsonValue s = doc.object().value(QLatin1String("session"));
        if (parseError.error != QJsonParseError::NoError || !doc.isObject() || !(s.isUndefined() || s.isNull() || s.isString())) {
            *error = QStringLiteral("Expected no body, {} or {\"session\": \"<session id>\"}.");
            return std::nullopt;
        }
        session = s.toString();
    }
    const int lifted = ctx.guardrails.resume(key->id, session);
    return QJsonDocument(QJsonObject{{QStringLiteral("object"), QStringLiteral("gatehouse.key.resume")},
                                     {QStringLiteral("resumed"), lifted},
                                     {QStringLiteral("guardrails"), guardrailKeyJson(ctx, *key)}})
        .toJson(QJsonDocument::Compact);
}


QByteArray geminiModelsBody(const RegistrySnapshot &registry, const KeyEntry &key)
{
    // Google's ListModelsResponse: the models and routes the key may use, named as a Gemini client
    // then sends them back (models/<id>).
    QJsonArray models;
    auto add = [&](const QString &id, const QString &displayName, qint64 inputLimit, qint64 outputLimit) {
        QJsonObject m{{QStringLiteral("name"), QStringLiteral("models/") + id},
                      {QStringLiteral("displayName"), displayName},
                      {QStringLiteral("supportedGenerationMethods"),
                       QJsonArray{QStringLiteral("generateContent"), QStringLiteral("streamGenerateContent"), QStringLiteral("countTokens")}}};
        if (inputLimit > 0)
            m.insert(QStringLiteral("inputTokenLimit"), inputLimit);
        if (outputLimit > 0)
            m.insert(QStringLiteral("outputTokenLimit"), outputLimit);
        models.append(m);
    };
    for (const QString &id : registry.modelOrder) {
        const ModelEntry &m = registry.models.value(id);
        if (key.allows(id) && m.provider->config.enabled)
            add(id, id, m.config.contextWindow, m.config.maxOutputTokens);
    }
    for (const QString &id : registry.routeOrder) {
        const RouteConfig &route = registry.routes.value(id);
        const bool allowed = std::any_of(route.targets.cbegin(), route.targets.cend(), [&](const RouteTarget &t) { return key.allows(t.model); });
        if (allowed)
            add(id, id, 0, 0);
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("models"), models}}).toJson(QJsonDocument::Compact);
}

} // namespace gh
