#include "state/configapply.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "store/store.h"
#include <QDateTime>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <cmath>
#include <limits>

namespace gh {

namespace {

QString prefixed(const QString &fileName, const QString &path, const QString &message)
{
    QString out;
    if (!fileName.isEmpty())
        out += fileName + QStringLiteral(": ");
    if (!path.isEmpty())
        out += path + QStringLiteral(": ");
    return out + message;
}

// The URL is compared in the form the store keeps it in, so a round trip through the database never
// counts as a change.
bool sameProvider(const ProviderConfig &a, const ProviderConfig &b)
{
    return a.id == b.id && a.format == b.format && a.apiKeyEnv == b.apiKeyEnv && a.catalog == b.catalog
        && a.enabled == b.enabled && a.rpm == b.rpm && a.tpm == b.tpm && a.local == b.local && a.dataPolicy == b.dataPolicy
        && a.baseUrl.toString(QUrl::FullyEncoded) == b.baseUrl.toString(QUrl::FullyEncoded);
}

struct PlannedKey {
    qsizetype index = 0; // in config.keys
    StoredKey key;
    bool write = false;
    std::optional<QString> generatedSecret;
};

// An int from a JSON value, or `fallback` (logged) when it is not an integer in [min, max].
int intField(const QJsonObject &obj, const char *name, int fallback, qint64 min,
             qint64 max = std::numeric_limits<int>::max())
{
    const QJsonValue v = obj.value(QLatin1String(name));
    if (v.isUndefined())
        return fallback;
    const double d = v.toDouble(std::numeric_limits<double>::quiet_NaN());
    if (!v.isDouble() || std::floor(d) != d || d < double(min) || d > double(max)) {
        qCWarning(lcConfig) << "stored gateway setting" << name << "is invalid; using the default" << fallback;
        return fallback;
    }
    return int(d);
}

} // namespace

QJsonObject gatewaySettingsToJson(const GatewaySettings &settings)
{
    QJsonObject o;
    if (settings.port)
        o.insert(QStringLiteral("port"), *settings.port);
    o.insert(QStringLiteral("max_body_bytes"), double(settings.maxBodyBytes));
    o.insert(QStringLiteral("allowed_origins"), QJsonArray::fromStringList(settings.allowedOrigins));
    o.insert(QStringLiteral("timeouts"), QJsonObject{{QStringLiteral("connect_ms"), settings.timeouts.connectMs},
                                                     {QStringLiteral("first_byte_ms"), settings.timeouts.firstByteMs},
                                                     {QStringLiteral("idle_ms"), settings.timeouts.idleMs}});
    o.insert(QStringLiteral("shutdown_grace_ms"), settings.shutdownGraceMs);
    o.insert(QStringLiteral("retry"), QJsonObject{{QStringLiteral("max_attempts"), settings.retry.maxAttempts},
                                                  {QStringLiteral("backoff_base_ms"), settings.retry.backoffBaseMs},
                                                  {QStringLiteral("backoff_max_ms"), settings.retry.backoffMaxMs},
                                                  {QStringLiteral("max_retry_after_ms"), settings.retry.maxRetryAfterMs}});
    o.insert(QStringLiteral("breaker"), QJsonObject{{QStringLiteral("failure_threshold"), settings.breaker.failureThreshold},
                                                    {QStringLiteral("cooldown_ms"), settings.breaker.cooldownMs}});
    o.insert(QStringLiteral("connections"), QJsonObject{{QStringLiteral("header_timeout_ms"), settings.connections.headerTimeoutMs},
                                                        {QStringLiteral("idle_timeout_ms"), settings.connections.idleTimeoutMs},
                                                        {QStringLiteral("max_connections"), settings.connections.maxConnections}});
    o.insert(QStringLiteral("response_cache_max_mb"), double(settings.responseCacheMaxBytes / (1024 * 1024)));
    if (settings.workers > 0)
        o.insert(QStringLiteral("workers"), settings.workers);
    o.insert(QStringLiteral("guardrails"), settings.guardrails.toJson());
    if (settings.metrics.enabled())
        o.insert(QStringLiteral("metrics"), QJsonObject{{QStringLiteral("token_sha256"), QString::fromLatin1(settings.metrics.tokenHash.toHex())}});
    if (settings.otlp.enabled() || !settings.otlp.headers.isEmpty()) {
        QJsonObject headers;
        for (const OtlpHeader &h : settings.otlp.headers)
            headers.insert(h.name, h.env.isEmpty() ? QJsonValue(h.value) : QJsonValue(QJsonObject{{QStringLiteral("env"), h.env}}));
        o.insert(QStringLiteral("otlp"), QJsonObject{{QStringLiteral("endpoint"), settings.otlp.endpoint.toString()},
                                                     {QStringLiteral("headers"), headers},
                                                     {QStringLiteral("max_queue"), settings.otlp.maxQueue},
                                                     {QStringLiteral("batch_size"), settings.otlp.batchSize},
                                                     {QStringLiteral("flush_interval_ms"), settings.otlp.flushIntervalMs}});
    }
    return o;
}

namespace {

// The listener's settings: port, body limit, browser origins. An invalid value is logged and left out.
void readStoredListener(const QJsonObject &json, GatewaySettings &s)
{
    if (json.contains(QStringLiteral("port"))) {
        const QJsonValue v = json.value(QStringLiteral("port"));
        const double d = v.toDouble(-1);
        if (v.isDouble() && std::floor(d) == d && d >= 0 && d <= 65535)
            s.port = int(d);
        else if (!v.isNull())
            qCWarning(lcConfig) << "stored gateway setting port is invalid; ignored";
    }
    if (json.contains(QStringLiteral("max_body_bytes"))) {
        const QJsonValue v = json.value(QStringLiteral("max_body_bytes"));
        const double d = v.toDouble(-1);
        if (v.isDouble() && std::floor(d) == d && d >= 1 && d <= 9.0e15)
            s.maxBodyBytes = qint64(d);
        else
            qCWarning(lcConfig) << "stored gateway setting max_body_bytes is invalid; using the default";
    }
    if (json.contains(QStringLiteral("allowed_origins"))) {
        const QJsonValue v = json.value(QStringLiteral("allowed_origins"));
        bool ok = v.isArray();
        QStringList origins;
        for (const QJsonValue &o : v.toArray()) {
            ok = ok && o.isString() && !o.toString().isEmpty();
            origins.append(o.toString());
        }
        if (ok)
            s.allowedOrigins = origins;
        else
            qCWarning(lcConfig) << "stored gateway setting allowed_origins is invalid; no origin is allowed";
    }
}

// Timeouts, retries, the circuit breaker and the connection limits; an invalid number is the default.
void readStoredUpstream(const QJsonObject &json, GatewaySettings &s)
{
    const QJsonObject t = json.value(QStringLiteral("timeouts")).toObject();
    s.timeouts.connectMs = intField(t, "connect_ms", s.timeouts.connectMs, 1);
    s.timeouts.firstByteMs = intField(t, "first_byte_ms", s.timeouts.firstByteMs, 1);
    s.timeouts.idleMs = intField(t, "idle_ms", s.timeouts.idleMs, 1);
    s.shutdownGraceMs = intField(json, "shutdown_grace_ms", s.shutdownGraceMs, 0);
    // Stored before retries and breakers existed: the defaults.
    const QJsonObject r = json.value(QStringLiteral("retry")).toObject();
    s.retry.maxAttempts = intField(r, "max_attempts", s.retry.maxAttempts, 1, 10);
    s.retry.backoffBaseMs = intField(r, "backoff_base_ms", s.retry.backoffBaseMs, 0);
    s.retry.backoffMaxMs = intField(r, "backoff_max_ms", s.retry.backoffMaxMs, 0);
    s.retry.maxRetryAfterMs = intField(r, "max_retry_after_ms", s.retry.maxRetryAfterMs, 0);
    if (s.retry.backoffMaxMs < s.retry.backoffBaseMs) {
        qCWarning(lcConfig) << "stored gateway setting retry.backoff_max_ms is below backoff_base_ms; using backoff_base_ms";
        s.retry.backoffMaxMs = s.retry.backoffBaseMs;
    }
    const QJsonObject b = json.value(QStringLiteral("breaker")).toObject();
    s.breaker.failureThreshold = intField(b, "failure_threshold", s.breaker.failureThreshold, 1, 100);
    s.breaker.cooldownMs = intField(b, "cooldown_ms", s.breaker.cooldownMs, 1);
    const QJsonObject c = json.value(QStringLiteral("connections")).toObject();
    s.connections.headerTimeoutMs = intField(c, "header_timeout_ms", s.connections.headerTimeoutMs, 100, 3'600'000);
    s.connections.idleTimeoutMs = intField(c, "idle_timeout_ms", s.connections.idleTimeoutMs, 100, 3'600'000);
    s.connections.maxConnections = intField(c, "max_connections", s.connections.maxConnections, 8, 1'000'000);
}

// The OpenTelemetry export; an endpoint that is not an http(s) URL leaves it off.
void readStoredOtlp(const QJsonObject &otlp, OtlpSettings &out)
{
    const QUrl endpoint(otlp.value(QStringLiteral("endpoint")).toString(), QUrl::StrictMode);
    const QString scheme = endpoint.scheme();
    if (endpoint.isValid() && !endpoint.host().isEmpty() && (scheme == u"http" || scheme == u"https"))
        out.endpoint = endpoint;
    else if (!otlp.value(QStringLiteral("endpoint")).toString().isEmpty())
        qCWarning(lcConfig) << "stored gateway setting otlp.endpoint is not an http(s) URL; the export stays off";
    const QJsonObject headers = otlp.value(QStringLiteral("headers")).toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        OtlpHeader h;
        h.name = it.key();
        if (it.value().isObject())
            h.env = it.value().toObject().value(QStringLiteral("env")).toString();
        else
            h.value = it.value().toString();
        out.headers.append(h);
    }
    out.maxQueue = intField(otlp, "max_queue", out.maxQueue, 16, 1'000'000);
    out.batchSize = intField(otlp, "batch_size", out.batchSize, 1, 10'000);
    out.flushIntervalMs = intField(otlp, "flush_interval_ms", out.flushIntervalMs, 50, 600'000);
}

} // namespace

GatewaySettings gatewaySettingsFromJson(const QJsonObject &json)
{
    GatewaySettings s;
    readStoredListener(json, s);
    readStoredUpstream(json, s);
    s.responseCacheMaxBytes = qint64(intField(json, "response_cache_max_mb", int(s.responseCacheMaxBytes / (1024 * 1024)), 1, 1'000'000)) * 1024 * 1024;
    s.workers = intField(json, "workers", 0, 0, kMaxWorkers);
    if (json.contains(QStringLiteral("guardrails"))) {
        QString why;
        if (!GuardrailThresholds::fromJson(json.value(QStringLiteral("guardrails")).toObject(), &s.guardrails, &why)) {
            qCWarning(lcConfig) << "stored guardrail thresholds are invalid (" << why << "); using the defaults";
            s.guardrails = GuardrailThresholds{};
        }
    }
    const QByteArray tokenHash =
        QByteArray::fromHex(json.value(QStringLiteral("metrics")).toObject().value(QStringLiteral("token_sha256")).toString().toLatin1());
    if (tokenHash.size() == 32)
        s.metrics.tokenHash = tokenHash;
    else if (json.contains(QStringLiteral("metrics")))
        qCWarning(lcConfig) << "stored gateway setting metrics.token_sha256 is invalid; /metrics stays off";
    readStoredOtlp(json.value(QStringLiteral("otlp")).toObject(), s.otlp);
    return s;
}

QString aliasesToJson(const QList<ModelAlias> &aliases)
{
    QJsonArray list;
    for (const ModelAlias &a : aliases)
        list.append(QJsonObject{{QStringLiteral("match"), a.match}, {QStringLiteral("to"), a.to}});
    return QString::fromUtf8(QJsonDocument(list).toJson(QJsonDocument::Compact));
}

QList<ModelAlias> loadAliases(const Store &store)
{
    QList<ModelAlias> out;
    const QString text = store.setting(QLatin1String(kAliasesKey));
    if (text.isEmpty())
        return out;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    if (!doc.isArray()) {
        qCWarning(lcConfig) << "the stored aliases are not a JSON list; none are used";
        return out;
    }
    for (const QJsonValue &v : doc.array()) {
        const QJsonObject o = v.toObject();
        ModelAlias a{o.value(QLatin1String("match")).toString(), o.value(QLatin1String("to")).toString()};
        if (a.match.isEmpty() || a.to.isEmpty()) {
            qCWarning(lcConfig) << "a stored alias without match or to is skipped";
            continue;
        }
        out.append(a);
    }
    return out;
}

bool saveAliases(Store &store, const QList<ModelAlias> &aliases)
{
    const QString json = aliasesToJson(aliases);
    store.setSetting(QLatin1String(kAliasesKey), json);
    return store.setting(QLatin1String(kAliasesKey)) == json;
}

QHash<QString, GuardrailPolicy> loadKeyGuardrails(const Store &store)
{
    QHash<QString, GuardrailPolicy> out;
    const QString text = store.setting(QLatin1String(kKeyGuardrailsKey));
    if (text.isEmpty())
        return out;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    if (!doc.isObject()) {
        qCWarning(lcConfig) << "the stored key guardrails are not a JSON object; every key has the defaults";
        return out;
    }
    const QJsonObject o = doc.object();
    for (auto it = o.begin(); it != o.end(); ++it) {
        GuardrailPolicy p;
        QString why;
        if (!GuardrailPolicy::fromJson(it.value().toObject(), &p, &why)) {
            qCWarning(lcConfig) << "the stored guardrails of key" << it.key() << "are not valid (" << why << "); it has the defaults";
            continue;
        }
        out.insert(it.key(), p);
    }
    return out;
}

ResponseCachePolicies loadResponseCachePolicies(const Store &store)
{
    ResponseCachePolicies out;
    const QString text = store.setting(QLatin1String(kResponseCacheKey));
    if (text.isEmpty())
        return out;
    const QJsonObject o = QJsonDocument::fromJson(text.toUtf8()).object();
    auto read = [](const QJsonObject &from, QHash<QString, ResponseCachePolicy> *to, const char *what) {
        for (auto it = from.begin(); it != from.end(); ++it) {
            ResponseCachePolicy p;
            QString why;
            if (!ResponseCachePolicy::fromJson(it.value().toObject(), &p, &why)) {
                // Off rather than guessed: a cache that serves what it should not is worse than none.
                qCWarning(lcConfig) << "the stored response_cache of" << what << it.key() << "is not valid (" << why << "); it is off";
                continue;
            }
            to->insert(it.key(), p);
        }
    };
    read(o.value(QLatin1String("keys")).toObject(), &out.keys, "key");
    read(o.value(QLatin1String("routes")).toObject(), &out.routes, "route");
    const QJsonArray noBodies = o.value(QLatin1String("no_bodies")).toArray();
    for (const QJsonValue &v : noBodies)
        out.noBodies.insert(v.toString());
    const QJsonObject capture = o.value(QLatin1String("capture")).toObject();
    for (auto it = capture.begin(); it != capture.end(); ++it) {
        const int days = it.value().toInt();
        if (days > 0 && !out.noBodies.contains(it.key()))
            out.captureDays.insert(it.key(), days);
    }
    return out;
}

GatewaySettings loadGatewaySettings(const Store &store)
{
    const QString text = store.setting(QLatin1String(kGatewaySettingsKey));
    if (text.isEmpty())
        return {};
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject()) {
        qCWarning(lcConfig) << "stored gateway settings are not a JSON object; using the defaults";
        return {};
    }
    return gatewaySettingsFromJson(doc.object());
}

void saveGatewaySettings(Store &store, const GatewaySettings &settings)
{
    store.setSetting(QLatin1String(kGatewaySettingsKey),
                     QString::fromUtf8(QJsonDocument(gatewaySettingsToJson(settings)).toJson(QJsonDocument::Compact)));
}

namespace {

// Every write applyConfig() will make, planned before the first one (an error leaves the store untouched).
struct ApplyPlan {
    QHash<QString, ProviderConfig> storedProviders;
    QHash<QString, ModelConfig> storedModels;
    QHash<QString, RouteConfig> storedRoutes;
    QList<const ProviderConfig *> providerWrites;
    QList<const ModelConfig *> modelWrites;
    QList<const RouteConfig *> routeWrites;
    QList<PlannedKey> keys;
    QHash<QString, qsizetype> fileKeyNames; // the file's key names, to their index in config.keys
    // The settings to store, each empty when unchanged.
    QString settingsJson;
    QString aliasesJson;
    QString guardrailsJson;
    QString responseCacheJson;
};

// The providers and models of the file that are new or differ from the stored ones.
void planProvidersAndModels(const Config &config, const Store &store, ApplyPlan &plan)
{
    for (const ProviderConfig &p : store.providers())
        plan.storedProviders.insert(p.id, p);
    for (const ProviderConfig &p : config.providers) {
        const auto it = plan.storedProviders.constFind(p.id);
        if (it == plan.storedProviders.cend() || !sameProvider(*it, p))
            plan.providerWrites.append(&p);
    }
    for (const ModelConfig &m : store.models())
        plan.storedModels.insert(m.id, m);
    for (const ModelConfig &m : config.models) {
        const auto it = plan.storedModels.constFind(m.id);
        if (it == plan.storedModels.cend() || !(*it == m))
            plan.modelWrites.append(&m);
    }
}

// Routes: upserted by id like models. A route id must never equal a model id, neither one in the file
// nor one already stored: the alias would hide the model (or the other way round). Returns the error.
QString planRoutes(const Config &config, const Store &store, const QString &fileName, ApplyPlan &plan)
{
    for (const RouteConfig &r : store.routes())
        plan.storedRoutes.insert(r.id, r);
    QHash<QString, qsizetype> fileRouteIds;
    for (qsizetype i = 0; i < config.routes.size(); ++i)
        fileRouteIds.insert(config.routes.at(i).id, i);
    for (qsizetype i = 0; i < config.models.size(); ++i) {
        const QString &id = config.models.at(i).id;
        if (const auto it = fileRouteIds.constFind(id); it != fileRouteIds.cend())
            return prefixed(fileName, QStringLiteral("routes[%1].id").arg(*it),
                            QStringLiteral("\"%1\" is also a model id (models[%2]); a route must not shadow a model")
                                .arg(id)
                                .arg(i));
        if (plan.storedRoutes.contains(id))
            return prefixed(fileName, QStringLiteral("models[%1].id").arg(i),
                            QStringLiteral("\"%1\" is already the id of a stored route; a route and a model cannot share an id")
                                .arg(id));
    }
    for (qsizetype i = 0; i < config.routes.size(); ++i) {
        const RouteConfig &r = config.routes.at(i);
        if (plan.storedModels.contains(r.id))
            return prefixed(fileName, QStringLiteral("routes[%1].id").arg(i),
                            QStringLiteral("\"%1\" is already the id of a stored model; a route must not shadow a model")
                                .arg(r.id));
        const auto it = plan.storedRoutes.constFind(r.id);
        // The routes table does not hold response_cache (the response_cache setting does, below).
        RouteConfig withoutCache = r;
        withoutCache.responseCache.reset();
        if (it == plan.storedRoutes.cend() || !(*it == withoutCache))
            plan.routeWrites.append(&r);
    }
    return {};
}

// The stored key the file's key `kc` becomes: a new one gets the file's secret or a generated one; an
// existing one keeps what the UI owns and its secret unless the file gives another.
PlannedKey planKey(const KeyConfig &kc, qsizetype index, const QHash<QString, StoredKey> &storedByName, qint64 now)
{
    PlannedKey plan;
    plan.index = index;
    const auto existing = storedByName.constFind(kc.name);
    if (existing == storedByName.cend()) {
        const QString secret = kc.secret ? *kc.secret : generateSecret();
        if (!kc.secret)
            plan.generatedSecret = secret;
        plan.key.name = kc.name;
        plan.key.secretHash = hashSecret(QStringView(secret));
        plan.key.secretHint = secretHint(secret);
        plan.key.createdAtMs = now;
        plan.write = true;
    } else {
        plan.key = *existing; // paused, revoked and the creation time are the UI's: kept
        if (kc.secret) {
            const QByteArray hash = hashSecret(QStringView(*kc.secret));
            if (hash != plan.key.secretHash) {
                plan.key.secretHash = hash;
                plan.key.secretHint = secretHint(*kc.secret);
            }
        }
    }
    plan.key.allowModels = kc.allowModels;
    plan.key.limits = kc.limits;
    plan.key.allowUnpriced = kc.allowUnpriced;
    plan.key.rpm = kc.rpm;
    plan.key.tpm = kc.tpm;
    plan.key.budget = kc.budget;
    plan.key.secretScan = kc.secretScan;
    plan.key.requirePolicy = kc.requirePolicy;
    if (existing != storedByName.cend())
        plan.write = !(plan.key == *existing);
    return plan;
}

// Every key must keep a secret of its own: a shared one would make authentication ambiguous.
// Returns the error, at the key whose secret clashes.
QString checkOwnSecrets(const Config &config, const QList<StoredKey> &storedKeys, const QString &fileName,
                        const ApplyPlan &plan)
{
    QHash<QByteArray, QString> ownerOfHash; // the hashes of the stored keys the file does not mention
    for (const StoredKey &k : storedKeys) {
        if (!plan.fileKeyNames.contains(k.name))
            ownerOfHash.insert(k.secretHash, k.name);
    }
    // Keys whose secret the file does not set first, so a clash is reported at the file's secret.
    for (int pass = 0; pass < 2; ++pass) {
        for (const PlannedKey &key : plan.keys) {
            const bool fileSecret = config.keys.at(key.index).secret.has_value();
            if (fileSecret != (pass == 1))
                continue;
            const auto it = ownerOfHash.constFind(key.key.secretHash);
            if (it != ownerOfHash.cend()) {
                const QString message = plan.fileKeyNames.contains(*it)
                    ? QStringLiteral("same secret as key \"%1\"; every key needs its own secret").arg(*it)
                    : QStringLiteral("same secret as the existing key \"%1\"; every key needs its own secret").arg(*it);
                return prefixed(fileName, QStringLiteral("keys[%1].secret").arg(key.index), message);
            }
            ownerOfHash.insert(key.key.secretHash, key.key.name);
        }
    }
    return {};
}

// Keys: upserted by name, each with a secret of its own. Returns the error.
QString planKeys(const Config &config, const Store &store, const QString &fileName, ApplyPlan &plan)
{
    const QList<StoredKey> storedKeys = store.keys();
    QHash<QString, StoredKey> storedByName;
    for (const StoredKey &k : storedKeys)
        storedByName.insert(k.name, k);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (qsizetype i = 0; i < config.keys.size(); ++i) {
        const KeyConfig &kc = config.keys.at(i);
        if (plan.fileKeyNames.contains(kc.name))
            return prefixed(fileName, QStringLiteral("keys[%1].name").arg(i), QStringLiteral("duplicate key name \"%1\"").arg(kc.name));
        plan.fileKeyNames.insert(kc.name, i);
        plan.keys.append(planKey(kc, i, storedByName, now));
    }
    return checkOwnSecrets(config, storedKeys, fileName, plan);
}

// Each key of the file gets its guardrails (the defaults are not stored); keys the file does not
// mention keep theirs. The setting's new JSON, or an empty string when it does not change.
QString changedGuardrailsJson(const Config &config, const Store &store)
{
    const QString stored = store.setting(QLatin1String(kKeyGuardrailsKey));
    QJsonObject all = QJsonDocument::fromJson(stored.toUtf8()).object();
    for (const KeyConfig &kc : config.keys) {
        if (kc.guardrails == GuardrailPolicy{})
            all.remove(kc.name);
        else
            all.insert(kc.name, kc.guardrails.toJson());
    }
    const QString wanted = QString::fromUtf8(QJsonDocument(all).toJson(QJsonDocument::Compact));
    return wanted != stored && !(stored.isEmpty() && all.isEmpty()) ? wanted : QString();
}

// The keys' and routes' response_cache and the keys' store_bodies, like the guardrails: the file's
// keys and routes get what it says (absent: off), the others keep theirs. The setting's new JSON, or
// an empty string when it does not change.
QString changedResponseCacheJson(const Config &config, const Store &store)
{
    const QString stored = store.setting(QLatin1String(kResponseCacheKey));
    QJsonObject all = QJsonDocument::fromJson(stored.toUtf8()).object();
    QJsonObject keys = all.value(QLatin1String("keys")).toObject();
    QJsonObject routes = all.value(QLatin1String("routes")).toObject();
    QSet<QString> noBodies;
    for (const QJsonValue &v : all.value(QLatin1String("no_bodies")).toArray())
        noBodies.insert(v.toString());
    QJsonObject capture = all.value(QLatin1String("capture")).toObject();
    for (const KeyConfig &kc : config.keys) {
        if (kc.captureRetentionDays > 0)
            capture.insert(kc.name, kc.captureRetentionDays);
        else
            capture.remove(kc.name);
        if (kc.responseCache)
            keys.insert(kc.name, kc.responseCache->toJson());
        else
            keys.remove(kc.name);
        if (kc.storeBodies)
            noBodies.remove(kc.name);
        else
            noBodies.insert(kc.name);
    }
    for (const RouteConfig &rc : config.routes) {
        if (rc.responseCache)
            routes.insert(rc.id, rc.responseCache->toJson());
        else
            routes.remove(rc.id);
    }
    QStringList sortedNoBodies(noBodies.begin(), noBodies.end());
    sortedNoBodies.sort();
    QJsonObject next;
    if (!keys.isEmpty())
        next.insert(QStringLiteral("keys"), keys);
    if (!routes.isEmpty())
        next.insert(QStringLiteral("routes"), routes);
    if (!sortedNoBodies.isEmpty())
        next.insert(QStringLiteral("no_bodies"), QJsonArray::fromStringList(sortedNoBodies));
    if (!capture.isEmpty())
        next.insert(QStringLiteral("capture"), capture);
    const QString wanted = QString::fromUtf8(QJsonDocument(next).toJson(QJsonDocument::Compact));
    return wanted != stored && !(stored.isEmpty() && next.isEmpty()) ? wanted : QString();
}

// The settings the file changes: the gateway settings and aliases when it has them, the keys'
// guardrails and response cache policies always.
void planSettings(const Config &config, const Store &store, ApplyPlan &plan)
{
    if (config.settings) {
        const QString stored = store.setting(QLatin1String(kGatewaySettingsKey));
        const QString wanted =
            QString::fromUtf8(QJsonDocument(gatewaySettingsToJson(*config.settings)).toJson(QJsonDocument::Compact));
        if (stored != wanted)
            plan.settingsJson = wanted;
    }
    if (config.aliases && aliasesToJson(*config.aliases) != aliasesToJson(loadAliases(store)))
        plan.aliasesJson = aliasesToJson(*config.aliases);
    plan.guardrailsJson = changedGuardrailsJson(config, store);
    plan.responseCacheJson = changedResponseCacheJson(config, store);
}

// Saves the planned providers, models, routes and keys, counting them in `result`. Returns the error.
QString writeRecords(const ApplyPlan &plan, Store &store, const QString &fileName, ApplyResult &result)
{
    for (const ProviderConfig *p : plan.providerWrites) {
        if (!store.saveProvider(*p))
            return prefixed(fileName, QString(), QStringLiteral("could not save provider \"%1\" in the store").arg(p->id));
        qCInfo(lcConfig) << (plan.storedProviders.contains(p->id) ? "updated provider" : "added provider") << p->id;
        ++result.changes;
    }
    for (const ModelConfig *m : plan.modelWrites) {
        if (!store.saveModel(*m))
            return prefixed(fileName, QString(), QStringLiteral("could not save model \"%1\" in the store").arg(m->id));
        qCInfo(lcConfig) << (plan.storedModels.contains(m->id) ? "updated model" : "added model") << m->id;
        ++result.changes;
    }
    for (const RouteConfig *r : plan.routeWrites) {
        if (!store.saveRoute(*r))
            return prefixed(fileName, QString(), QStringLiteral("could not save route \"%1\" in the store").arg(r->id));
        qCInfo(lcConfig) << (plan.storedRoutes.contains(r->id) ? "updated route" : "added route") << r->id;
        ++result.changes;
    }
    for (const PlannedKey &key : plan.keys) {
        if (!key.write)
            continue;
        if (store.saveKey(key.key) == 0)
            return prefixed(fileName, QString(), QStringLiteral("could not save key \"%1\" in the store").arg(key.key.name));
        qCInfo(lcConfig) << (key.key.id == 0 ? "added key" : "updated key") << key.key.name; // never the secret
        if (key.generatedSecret)
            result.generated.append(GeneratedKey{key.key.name, *key.generatedSecret});
        ++result.changes;
    }
    return {};
}

// Stores one setting's new JSON (nothing when empty) and reads it back. False when it did not stick.
bool writeSetting(Store &store, const char *name, const QString &json, const char *logLine, int &changes)
{
    if (json.isEmpty())
        return true;
    store.setSetting(QLatin1String(name), json);
    if (store.setting(QLatin1String(name)) != json)
        return false;
    qCInfo(lcConfig) << logLine;
    ++changes;
    return true;
}

// Saves the planned settings, counting them in `result`. Returns the error.
QString writeSettings(const Config &config, const ApplyPlan &plan, Store &store, const QString &fileName,
                      ApplyResult &result)
{
    if (!writeSetting(store, kGatewaySettingsKey, plan.settingsJson, "updated the gateway settings", result.changes))
        return prefixed(fileName, QStringLiteral("settings"), QStringLiteral("could not be saved in the store"));
    if (!writeSetting(store, kKeyGuardrailsKey, plan.guardrailsJson, "updated the keys' guardrails", result.changes))
        return prefixed(fileName, QStringLiteral("keys"), QStringLiteral("guardrails could not be saved in the store"));
    if (!writeSetting(store, kResponseCacheKey, plan.responseCacheJson, "updated the response cache policies", result.changes))
        return prefixed(fileName, QString(), QStringLiteral("the response_cache policies could not be saved in the store"));
    if (!plan.aliasesJson.isEmpty()) {
        if (!saveAliases(store, *config.aliases))
            return prefixed(fileName, QStringLiteral("aliases"), QStringLiteral("could not be saved in the store"));
        qCInfo(lcConfig) << "updated the model aliases:" << config.aliases->size();
        ++result.changes;
    }
    return {};
}

} // namespace

ApplyResult applyConfig(const Config &config, Store &store, const QString &fileName)
{
    const AuditOriginScope origin(AuditOrigin::Config); // what it changes is recorded as the config file's
    ApplyResult result;
    if (!store.isOpen()) {
        result.error = prefixed(fileName, QString(), QStringLiteral("cannot apply: the store is not open"));
        return result;
    }

    // 1. Plan every write first, so an error (a secret already in use) leaves the store untouched.
    ApplyPlan plan;
    planProvidersAndModels(config, store, plan);
    result.error = planRoutes(config, store, fileName, plan);
    if (result.error.isEmpty())
        result.error = planKeys(config, store, fileName, plan);
    if (!result.error.isEmpty())
        return result;
    planSettings(config, store, plan);

    // 2. Write.
    result.error = writeRecords(plan, store, fileName, result);
    if (result.error.isEmpty())
        result.error = writeSettings(config, plan, store, fileName, result);
    result.ok = result.error.isEmpty();
    return result;
}

} // namespace gh
