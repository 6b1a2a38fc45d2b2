#include "config/config.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

namespace gh {

QString formatName(ProviderFormat f)
{
    switch (f) {
    case ProviderFormat::OpenAI:
        return QStringLiteral("openai");
    case ProviderFormat::Anthropic:
        return QStringLiteral("anthropic");
    case ProviderFormat::Gemini:
        return QStringLiteral("gemini");
    }
    return QStringLiteral("openai");
}

std::optional<ProviderFormat> formatFromName(const QString &name)
{
    for (ProviderFormat f : {ProviderFormat::OpenAI, ProviderFormat::Anthropic, ProviderFormat::Gemini}) {
        if (name == formatName(f))
            return f;
    }
    return std::nullopt;
}

QString shortBudgetName(ShortBudget s)
{
    return s == ShortBudget::Refuse ? QStringLiteral("refuse") : QStringLiteral("clamp");
}

QString secretScanName(SecretScanMode m)
{
    switch (m) {
    case SecretScanMode::Off: return QStringLiteral("off");
    case SecretScanMode::Redact: return QStringLiteral("redact");
    case SecretScanMode::Block: return QStringLiteral("block");
    case SecretScanMode::Warn: break;
    }
    return QStringLiteral("warn");
}

std::optional<SecretScanMode> secretScanFromName(const QString &name)
{
    for (SecretScanMode m : {SecretScanMode::Off, SecretScanMode::Warn, SecretScanMode::Redact, SecretScanMode::Block})
        if (name == secretScanName(m))
            return m;
    return std::nullopt;
}

std::optional<ShortBudget> shortBudgetFromName(const QString &name)
{
    if (name == QLatin1String("clamp"))
        return ShortBudget::Clamp;
    if (name == QLatin1String("refuse"))
        return ShortBudget::Refuse;
    return std::nullopt;
}

QString strategyName(RouteStrategy s)
{
    switch (s) {
    case RouteStrategy::Ordered:
        return QStringLiteral("ordered");
    case RouteStrategy::Cheapest:
        return QStringLiteral("cheapest");
    case RouteStrategy::Fastest:
        return QStringLiteral("fastest");
    case RouteStrategy::Weighted:
        return QStringLiteral("weighted");
    case RouteStrategy::Quality:
        return QStringLiteral("quality");
    }
    return QStringLiteral("ordered");
}

std::optional<RouteStrategy> strategyFromName(const QString &name)
{
    for (RouteStrategy s : {RouteStrategy::Ordered, RouteStrategy::Cheapest, RouteStrategy::Fastest, RouteStrategy::Weighted,
                            RouteStrategy::Quality}) {
        if (name == strategyName(s))
            return s;
    }
    return std::nullopt;
}

QString ConfigError::toString() const
{
    if (line > 0)
        return QStringLiteral("%1:%2:%3: %4").arg(file).arg(line).arg(column).arg(message);
    if (path.isEmpty())
        return QStringLiteral("%1: %2").arg(file, message);
    return QStringLiteral("%1: %2: %3").arg(file, path, message);
}

namespace {

// Thrown inside the validator only; parseConfig() turns it into a ConfigError.
struct Invalid {
    QString path;
    QString message;
};

[[noreturn]] void fail(const QString &path, const QString &message)
{
    throw Invalid{path, message};
}

QString member(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + u'.' + key;
}

QString element(const QString &path, qsizetype index)
{
    return path + u'[' + QString::number(index) + u']';
}

QString quoted(const QString &s)
{
    return u'"' + s + u'"';
}

// Levenshtein distance, for "did you mean" hints on misspelt field names.
int editDistance(const QString &a, const QString &b)
{
    QList<int> prev(b.size() + 1), cur(b.size() + 1);
    for (qsizetype j = 0; j <= b.size(); ++j)
        prev[j] = int(j);
    for (qsizetype i = 1; i <= a.size(); ++i) {
        cur[0] = int(i);
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

// Every key of `obj` must be one of `allowed`; the first one that is not is reported.
void checkFields(const QJsonObject &obj, const QString &path, std::initializer_list<const char *> allowed)
{
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const QString key = it.key();
        bool known = false;
        QString suggestion;
        // Suggest only names a typo away: one edit per four characters, at least one.
        int best = std::max<int>(1, int(key.size() / 4)) + 1;
        for (const char *a : allowed) {
            const QString name = QLatin1String(a);
            if (key == name) {
                known = true;
                break;
            }
            const int d = editDistance(key.toLower(), name);
            if (d < best) {
                best = d;
                suggestion = name;
            }
        }
        if (known)
            continue;
        if (!suggestion.isEmpty())
            fail(member(path, key), QStringLiteral("unknown field (did you mean \"%1\"?)").arg(suggestion));
        fail(member(path, key), QStringLiteral("unknown field"));
    }
}

QJsonObject requireObject(const QJsonValue &v, const QString &path)
{
    if (!v.isObject())
        fail(path, QStringLiteral("must be an object"));
    return v.toObject();
}

QJsonArray requireArray(const QJsonValue &v, const QString &path)
{
    if (!v.isArray())
        fail(path, QStringLiteral("must be an array"));
    return v.toArray();
}

bool hasControlChars(const QString &s)
{
    return std::any_of(s.begin(), s.end(), [](QChar c) { return c.category() == QChar::Other_Control; });
}

QString requireString(const QJsonObject &obj, const QString &path, const QString &key)
{
    const QString p = member(path, key);
    if (!obj.contains(key))
        fail(p, QStringLiteral("is required"));
    const QJsonValue v = obj.value(key);
    if (!v.isString())
        fail(p, QStringLiteral("must be a string"));
    const QString s = v.toString();
    if (s.isEmpty())
        fail(p, QStringLiteral("must not be empty"));
    if (hasControlChars(s))
        fail(p, QStringLiteral("must not contain control characters"));
    return s;
}

std::optional<QString> optionalString(const QJsonObject &obj, const QString &path, const QString &key)
{
    if (!obj.contains(key))
        return std::nullopt;
    return requireString(obj, path, key);
}

std::optional<bool> optionalBool(const QJsonObject &obj, const QString &path, const QString &key)
{
    if (!obj.contains(key))
        return std::nullopt;
    const QJsonValue v = obj.value(key);
    if (!v.isBool())
        fail(member(path, key), QStringLiteral("must be true or false"));
    return v.toBool();
}

// A non-negative price or budget. `allowNull`: null means "none" (returned as std::nullopt).
std::optional<double> optionalAmount(const QJsonObject &obj, const QString &path, const QString &key, bool allowNull)
{
    if (!obj.contains(key))
        return std::nullopt;
    const QJsonValue v = obj.value(key);
    if (allowNull && v.isNull())
        return std::nullopt;
    const QString message = allowNull ? QStringLiteral("must be a number >= 0 or null") : QStringLiteral("must be a number >= 0");
    if (!v.isDouble())
        fail(member(path, key), message);
    const double d = v.toDouble();
    if (!std::isfinite(d) || d < 0)
        fail(member(path, key), message);
    return d;
}

// An integer in [min, max]; `message` is the whole complaint when the value is anything else.
std::optional<qint64> optionalInteger(const QJsonObject &obj, const QString &path, const QString &key, qint64 min,
                                      qint64 max, const QString &message)
{
    if (!obj.contains(key))
        return std::nullopt;
    const QJsonValue v = obj.value(key);
    if (!v.isDouble())
        fail(member(path, key), message);
    const double d = v.toDouble();
    if (!std::isfinite(d) || std::floor(d) != d || d < double(min) || d > double(max))
        fail(member(path, key), message);
    return qint64(d);
}

// Optional "rpm" and "tpm" of a key or a provider; null means no limit.
constexpr qint64 kMaxRpm = 1'000'000;
constexpr qint64 kMaxTpm = 1'000'000'000'000;

template <typename T>
void parseRateLimits(const QJsonObject &obj, const QString &path, std::optional<int> *rpm, std::optional<T> *tpm)
{
    if (obj.contains(QStringLiteral("rpm")) && !obj.value(QStringLiteral("rpm")).isNull()) {
        if (const auto v = optionalInteger(obj, path, QStringLiteral("rpm"), 1, kMaxRpm,
                                           QStringLiteral("must be an integer from 1 to 1000000 (requests per minute) or null")))
            *rpm = int(*v);
    }
    if (obj.contains(QStringLiteral("tpm")) && !obj.value(QStringLiteral("tpm")).isNull()) {
        if (const auto v = optionalInteger(obj, path, QStringLiteral("tpm"), 1, kMaxTpm,
                                           QStringLiteral("must be an integer from 1 to 1000000000000 (tokens per minute) or null")))
            *tpm = T(*v);
    }
}

// The capability names of models (the catalog's names).
const QStringList &capabilityNames()
{
    static const QStringList names{QStringLiteral("tools"), QStringLiteral("vision"), QStringLiteral("json_schema"),
                                   QStringLiteral("reasoning"), QStringLiteral("embeddings")};
    return names;
}

const QRegularExpression &idPattern()
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9._-]+$"));
    return re;
}

const QRegularExpression &envNamePattern()
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    return re;
}

const QRegularExpression &originPattern()
{
    // scheme://host[:port] with nothing after it (browsers send origins without a path).
    static const QRegularExpression re(QStringLiteral(
        "^([A-Za-z][A-Za-z0-9+.-]*)://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9._~-]+)(?::([0-9]{1,5}))?$"));
    return re;
}

QUrl validateBaseUrl(const QString &text, const QString &path)
{
    const QUrl url(text, QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        fail(path, QStringLiteral("not a URL"));
    const QString scheme = url.scheme().toLower();
    if (scheme != u"http" && scheme != u"https")
        fail(path, QStringLiteral("must be an http:// or https:// URL"));
    if (url.hasQuery() || url.hasFragment())
        fail(path, QStringLiteral("must not have a query or fragment"));
    QUrl normalized = url;
    // "https://api.openai.com/v1/" and ".../v1" mean the same prefix: drop trailing slashes.
    QString p = url.path();
    while (p.endsWith(u'/'))
        p.chop(1);
    normalized.setPath(p);
    return normalized;
}

QString validateOrigin(const QString &text, const QString &path)
{
    const auto m = originPattern().match(text);
    bool ok = m.hasMatch();
    if (ok && m.hasCaptured(3)) {
        const int port = m.captured(3).toInt();
        ok = port >= 1 && port <= 65535;
    }
    if (!ok)
        fail(path, QStringLiteral("not an origin (scheme://host[:port], e.g. http://localhost:3000)"));
    // Browsers send scheme and host in lower case.
    QString origin = m.captured(1).toLower() + QStringLiteral("://") + m.captured(2).toLower();
    if (m.hasCaptured(3))
        origin += u':' + m.captured(3);
    return origin;
}

// "data_policy" of a provider or a model (config/datapolicy.h).
DataPolicy parseDataPolicy(const QJsonObject &obj, const QString &path)
{
    const QString p = member(path, QStringLiteral("data_policy"));
    QString field, message;
    const auto policy = dataPolicyFromJson(obj.value(QStringLiteral("data_policy")), &field, &message);
    if (!policy)
        fail(field.isEmpty() ? p : member(p, field), message);
    return *policy;
}

ProviderConfig parseProvider(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"id", "format", "base_url", "api_key_env", "catalog", "enabled", "rpm", "tpm", "local", "data_policy"});
    ProviderConfig p;
    p.id = requireString(obj, path, QStringLiteral("id"));
    if (!idPattern().match(p.id).hasMatch())
        fail(member(path, QStringLiteral("id")),
             QStringLiteral("must contain only lower-case letters, digits, '.', '_' and '-'"));
    if (const auto format = optionalString(obj, path, QStringLiteral("format"))) {
        const auto f = formatFromName(*format);
        if (!f)
            fail(member(path, QStringLiteral("format")),
                 QStringLiteral("unknown format %1 (expected openai, anthropic or gemini)").arg(quoted(*format)));
        p.format = *f;
    }
    p.baseUrl = validateBaseUrl(requireString(obj, path, QStringLiteral("base_url")), member(path, QStringLiteral("base_url")));
    if (obj.contains(QStringLiteral("api_key_env"))) {
        const QJsonValue v = obj.value(QStringLiteral("api_key_env"));
        if (!v.isString())
            fail(member(path, QStringLiteral("api_key_env")), QStringLiteral("must be a string"));
        if (!envNamePattern().match(v.toString()).hasMatch())
            fail(member(path, QStringLiteral("api_key_env")),
                 QStringLiteral("not a valid environment variable name (letters, digits and '_', not starting with a digit)"));
        p.apiKeyEnv = v.toString();
    }
    if (const auto catalog = optionalString(obj, path, QStringLiteral("catalog"))) {
        if (!idPattern().match(*catalog).hasMatch())
            fail(member(path, QStringLiteral("catalog")),
                 QStringLiteral("must contain only lower-case letters, digits, '.', '_' and '-'"));
        p.catalog = *catalog;
    }
    if (const auto enabled = optionalBool(obj, path, QStringLiteral("enabled")))
        p.enabled = *enabled;
    parseRateLimits(obj, path, &p.rpm, &p.tpm);
    if (const auto v = optionalBool(obj, path, QStringLiteral("local")))
        p.local = *v;
    if (obj.contains(QStringLiteral("data_policy")))
        p.dataPolicy = parseDataPolicy(obj, path);
    return p;
}

ModelPrice parsePricing(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"input", "output", "cache_read", "cache_write", "cache_write_1h"});
    ModelPrice price;
    price.input = optionalAmount(obj, path, QStringLiteral("input"), false);
    price.output = optionalAmount(obj, path, QStringLiteral("output"), false);
    price.cacheRead = optionalAmount(obj, path, QStringLiteral("cache_read"), false);
    price.cacheWrite = optionalAmount(obj, path, QStringLiteral("cache_write"), false);
    price.cacheWrite1h = optionalAmount(obj, path, QStringLiteral("cache_write_1h"), false);
    return price;
}

ModelConfig parseModel(const QJsonObject &obj, const QString &path, const QSet<QString> &providerIds)
{
    checkFields(obj, path,
                {"id", "provider", "upstream_model", "pricing", "context_window", "max_output_tokens", "capabilities", "data_policy"});
    ModelConfig m;
    m.id = requireString(obj, path, QStringLiteral("id"));
    if (std::any_of(m.id.begin(), m.id.end(), [](QChar c) { return c.isSpace(); }))
        fail(member(path, QStringLiteral("id")), QStringLiteral("must not contain spaces"));
    m.provider = requireString(obj, path, QStringLiteral("provider"));
    if (!providerIds.contains(m.provider))
        fail(member(path, QStringLiteral("provider")), QStringLiteral("unknown provider %1").arg(quoted(m.provider)));
    if (const auto upstream = optionalString(obj, path, QStringLiteral("upstream_model"))) {
        m.upstreamModel = *upstream;
    } else {
        const QString prefix = m.provider + u'/';
        m.upstreamModel = m.id.startsWith(prefix) ? m.id.mid(prefix.size()) : m.id;
        if (m.upstreamModel.isEmpty())
            fail(member(path, QStringLiteral("id")), QStringLiteral("has no model name after %1").arg(quoted(prefix)));
    }
    if (obj.contains(QStringLiteral("pricing")))
        m.price = parsePricing(requireObject(obj.value(QStringLiteral("pricing")), member(path, QStringLiteral("pricing"))),
                               member(path, QStringLiteral("pricing")));
    const QString positive = QStringLiteral("must be a positive integer");
    constexpr qint64 maxTokens = qint64(1) << 53;
    if (const auto v = optionalInteger(obj, path, QStringLiteral("context_window"), 1, maxTokens, positive))
        m.contextWindow = *v;
    if (const auto v = optionalInteger(obj, path, QStringLiteral("max_output_tokens"), 1, maxTokens, positive))
        m.maxOutputTokens = *v;
    if (obj.contains(QStringLiteral("capabilities"))) {
        const QString p = member(path, QStringLiteral("capabilities"));
        const QJsonArray list = requireArray(obj.value(QStringLiteral("capabilities")), p);
        QStringList capabilities;
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QJsonValue v = list.at(i);
            if (!v.isString() || !capabilityNames().contains(v.toString()))
                fail(element(p, i), QStringLiteral("must be one of \"tools\", \"vision\", \"json_schema\", \"reasoning\", "
                                                   "\"embeddings\""));
            if (capabilities.contains(v.toString()))
                fail(element(p, i), QStringLiteral("duplicate capability %1").arg(quoted(v.toString())));
            capabilities.append(v.toString());
        }
        m.capabilities = capabilities;
    }
    if (obj.contains(QStringLiteral("data_policy")))
        m.dataPolicy = parseDataPolicy(obj, path);
    return m;
}

KeyLimits parseLimits(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"day_usd", "week_usd", "month_usd", "total_usd"});
    KeyLimits limits;
    limits.dayUsd = optionalAmount(obj, path, QStringLiteral("day_usd"), true);
    limits.weekUsd = optionalAmount(obj, path, QStringLiteral("week_usd"), true);
    limits.monthUsd = optionalAmount(obj, path, QStringLiteral("month_usd"), true);
    limits.totalUsd = optionalAmount(obj, path, QStringLiteral("total_usd"), true);
    return limits;
}

// A key's own secret: at least 8 characters, no white space or control character.
QString parseKeySecret(const QJsonValue &v, const QString &p)
{
    if (!v.isString())
        fail(p, QStringLiteral("must be a string"));
    const QString secret = v.toString();
    if (secret.size() < 8)
        fail(p, QStringLiteral("must be at least 8 characters"));
    if (std::any_of(secret.begin(), secret.end(), [](QChar c) { return c.isSpace() || c.category() == QChar::Other_Control; }))
        fail(p, QStringLiteral("must not contain spaces or control characters"));
    return secret;
}

QStringList parseAllowModels(const QJsonArray &list, const QString &p)
{
    QStringList models;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonValue v = list.at(i);
        if (!v.isString() || v.toString().isEmpty())
            fail(element(p, i), QStringLiteral("must be a non-empty string (a model id, * matches anything)"));
        models.append(v.toString());
    }
    return models;
}

// How many days a key's captured bodies are kept; 0 when it captures none.
int parseCaptureRetentionDays(const QJsonObject &capture, const QString &p, bool storeBodies)
{
    checkFields(capture, p, {"bodies", "retention_days"});
    const bool bodies = optionalBool(capture, p, QStringLiteral("bodies")).value_or(false);
    const qint64 days = optionalInteger(capture, p, QStringLiteral("retention_days"), 1, KeyConfig::kMaxCaptureRetentionDays,
                                        QStringLiteral("must be an integer from 1 to 3650 (days)"))
                            .value_or(KeyConfig::kDefaultCaptureRetentionDays);
    if (bodies && !storeBodies)
        fail(member(p, QStringLiteral("bodies")), QStringLiteral("cannot be true on a key with \"store_bodies\": false"));
    return bodies ? int(days) : 0;
}

KeyConfig parseKey(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"name", "secret", "allow_models", "limits", "allow_unpriced", "rpm", "tpm", "on_short_budget", "min_output_tokens", "guardrails", "response_cache", "store_bodies", "secret_scan", "require_policy", "capture"});
    KeyConfig k;
    k.name = requireString(obj, path, QStringLiteral("name"));
    if (obj.contains(QStringLiteral("secret")))
        k.secret = parseKeySecret(obj.value(QStringLiteral("secret")), member(path, QStringLiteral("secret")));
    if (obj.contains(QStringLiteral("allow_models"))) {
        const QString p = member(path, QStringLiteral("allow_models"));
        k.allowModels = parseAllowModels(requireArray(obj.value(QStringLiteral("allow_models")), p), p);
    }
    if (obj.contains(QStringLiteral("limits")))
        k.limits = parseLimits(requireObject(obj.value(QStringLiteral("limits")), member(path, QStringLiteral("limits"))),
                               member(path, QStringLiteral("limits")));
    if (const auto v = optionalBool(obj, path, QStringLiteral("allow_unpriced")))
        k.allowUnpriced = *v;
    parseRateLimits(obj, path, &k.rpm, &k.tpm);
    if (const auto policy = optionalString(obj, path, QStringLiteral("on_short_budget"))) {
        const auto s = shortBudgetFromName(*policy);
        if (!s)
            fail(member(path, QStringLiteral("on_short_budget")), QStringLiteral("must be \"clamp\" or \"refuse\""));
        k.budget.onShortBudget = *s;
    }
    if (const auto v = optionalInteger(obj, path, QStringLiteral("min_output_tokens"), 1, BudgetPolicy::kMaxMinOutputTokens,
                                       QStringLiteral("must be an integer from 1 to 1000000 (tokens)")))
        k.budget.minOutputTokens = *v;
    if (obj.contains(QStringLiteral("guardrails"))) {
        const QString p = member(path, QStringLiteral("guardrails"));
        QString why;
        if (!GuardrailPolicy::fromJson(requireObject(obj.value(QStringLiteral("guardrails")), p), &k.guardrails, &why))
            fail(p, why);
    }
    if (obj.contains(QStringLiteral("response_cache"))) {
        const QString p = member(path, QStringLiteral("response_cache"));
        ResponseCachePolicy policy;
        QString why;
        if (!ResponseCachePolicy::fromJson(requireObject(obj.value(QStringLiteral("response_cache")), p), &policy, &why))
            fail(p, why);
        k.responseCache = policy;
    }
    if (const auto v = optionalBool(obj, path, QStringLiteral("store_bodies")))
        k.storeBodies = *v;
    if (const auto mode = optionalString(obj, path, QStringLiteral("secret_scan"))) {
        const auto m = secretScanFromName(*mode);
        if (!m)
            fail(member(path, QStringLiteral("secret_scan")), QStringLiteral("must be \"off\", \"warn\", \"redact\" or \"block\""));
        k.secretScan = *m;
    }
    if (obj.contains(QStringLiteral("require_policy"))) {
        const QString p = member(path, QStringLiteral("require_policy"));
        QString field, message;
        const auto required = policyRequirementFromJson(obj.value(QStringLiteral("require_policy")), &field, &message);
        if (!required)
            fail(field.isEmpty() ? p : member(p, field), message);
        k.requirePolicy = *required;
    }
    if (obj.contains(QStringLiteral("capture"))) {
        const QString p = member(path, QStringLiteral("capture"));
        k.captureRetentionDays = parseCaptureRetentionDays(requireObject(obj.value(QStringLiteral("capture")), p), p, k.storeBodies);
    }
    return k;
}


RouteConfig parseRoute(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"id", "strategy", "targets", "response_cache"});
    RouteConfig r;
    if (obj.contains(QStringLiteral("response_cache"))) {
        const QString p = member(path, QStringLiteral("response_cache"));
        ResponseCachePolicy policy;
        QString why;
        if (!ResponseCachePolicy::fromJson(requireObject(obj.value(QStringLiteral("response_cache")), p), &policy, &why))
            fail(p, why);
        if (policy.shared)
            fail(member(p, QStringLiteral("shared")), QStringLiteral("is a key's choice: set it in the key's response_cache"));
        r.responseCache = policy;
    }
    r.id = requireString(obj, path, QStringLiteral("id"));
    if (r.id.contains(u'/'))
        fail(member(path, QStringLiteral("id")), QStringLiteral("must not contain '/' (model ids do; a route is an alias)"));
    if (std::any_of(r.id.begin(), r.id.end(), [](QChar c) { return c.isSpace(); }))
        fail(member(path, QStringLiteral("id")), QStringLiteral("must not contain spaces"));
    if (const auto strategy = optionalString(obj, path, QStringLiteral("strategy"))) {
        const auto s = strategyFromName(*strategy);
        if (!s)
            fail(member(path, QStringLiteral("strategy")),
                 QStringLiteral("unknown strategy %1 (expected ordered, cheapest, fastest, weighted or quality)").arg(quoted(*strategy)));
        r.strategy = *s;
    }
    const QString targetsPath = member(path, QStringLiteral("targets"));
    if (!obj.contains(QStringLiteral("targets")))
        fail(targetsPath, QStringLiteral("is required"));
    const QJsonArray targets = requireArray(obj.value(QStringLiteral("targets")), targetsPath);
    if (targets.isEmpty())
        fail(targetsPath, QStringLiteral("must have at least one target"));
    for (qsizetype i = 0; i < targets.size(); ++i) {
        const QString p = element(targetsPath, i);
        const QJsonObject t = requireObject(targets.at(i), p);
        checkFields(t, p, {"model", "weight"});
        RouteTarget target;
        target.model = requireString(t, p, QStringLiteral("model"));
        const qsizetype slash = target.model.indexOf(u'/');
        if (slash <= 0 || slash + 1 >= target.model.size()
            || std::any_of(target.model.begin(), target.model.end(), [](QChar c) { return c.isSpace(); }))
            fail(member(p, QStringLiteral("model")),
                 QStringLiteral("must be a model id of the form provider/name (a route cannot target another route)"));
        if (const auto w = optionalInteger(t, p, QStringLiteral("weight"), 0, 1000,
                                           QStringLiteral("must be an integer from 0 to 1000")))
            target.weight = int(*w);
        for (qsizetype j = 0; j < r.targets.size(); ++j) {
            if (r.targets.at(j).model == target.model)
                fail(member(p, QStringLiteral("model")),
                     QStringLiteral("duplicate target %1 (also targets[%2])").arg(quoted(target.model)).arg(j));
        }
        r.targets.append(target);
    }
    return r;
}

qint64 parseMaxBodyBytes(const QJsonValue &v, const QString &p)
{
    constexpr double maxMb = 65536; // 64 GiB: anything above is a typo
    const QString message = QStringLiteral("must be a number > 0 and at most 65536");
    if (!v.isDouble() || !(v.toDouble() > 0) || v.toDouble() > maxMb)
        fail(p, message);
    const auto bytes = qint64(std::llround(v.toDouble() * 1024.0 * 1024.0));
    if (bytes < 1)
        fail(p, message);
    return bytes;
}

QStringList parseAllowedOrigins(const QJsonArray &list, const QString &p)
{
    QStringList origins;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QJsonValue v = list.at(i);
        if (!v.isString())
            fail(element(p, i), QStringLiteral("must be a string"));
        const QString origin = validateOrigin(v.toString(), element(p, i));
        if (!origins.contains(origin))
            origins.append(origin);
    }
    return origins;
}

void parseTimeouts(const QJsonObject &t, const QString &p, UpstreamTimeouts &timeouts)
{
    checkFields(t, p, {"connect_ms", "first_byte_ms", "idle_ms"});
    const QString message = QStringLiteral("must be a positive integer (milliseconds)");
    constexpr qint64 maxMs = std::numeric_limits<int>::max();
    if (const auto v = optionalInteger(t, p, QStringLiteral("connect_ms"), 1, maxMs, message))
        timeouts.connectMs = int(*v);
    if (const auto v = optionalInteger(t, p, QStringLiteral("first_byte_ms"), 1, maxMs, message))
        timeouts.firstByteMs = int(*v);
    if (const auto v = optionalInteger(t, p, QStringLiteral("idle_ms"), 1, maxMs, message))
        timeouts.idleMs = int(*v);
}

void parseRetry(const QJsonObject &r, const QString &p, RetrySettings &retry)
{
    checkFields(r, p, {"max_attempts", "backoff_base_ms", "backoff_max_ms", "max_retry_after_ms"});
    const QString message = QStringLiteral("must be an integer from 0 to 3600000 (milliseconds)");
    constexpr qint64 maxMs = 3'600'000; // an hour: anything longer is a typo
    if (const auto v = optionalInteger(r, p, QStringLiteral("max_attempts"), 1, 10,
                                       QStringLiteral("must be an integer from 1 to 10")))
        retry.maxAttempts = int(*v);
    if (const auto v = optionalInteger(r, p, QStringLiteral("backoff_base_ms"), 0, maxMs, message))
        retry.backoffBaseMs = int(*v);
    if (const auto v = optionalInteger(r, p, QStringLiteral("backoff_max_ms"), 0, maxMs, message))
        retry.backoffMaxMs = int(*v);
    if (const auto v = optionalInteger(r, p, QStringLiteral("max_retry_after_ms"), 0, maxMs, message))
        retry.maxRetryAfterMs = int(*v);
    if (retry.backoffMaxMs < retry.backoffBaseMs)
        fail(member(p, r.contains(QStringLiteral("backoff_max_ms")) ? QStringLiteral("backoff_max_ms")
                                                                     : QStringLiteral("backoff_base_ms")),
             QStringLiteral("backoff_max_ms (%1) must not be less than backoff_base_ms (%2)")
                 .arg(retry.backoffMaxMs)
                 .arg(retry.backoffBaseMs));
}

void parseBreaker(const QJsonObject &b, const QString &p, BreakerSettings &breaker)
{
    checkFields(b, p, {"failure_threshold", "cooldown_ms"});
    if (const auto v = optionalInteger(b, p, QStringLiteral("failure_threshold"), 1, 100,
                                       QStringLiteral("must be an integer from 1 to 100")))
        breaker.failureThreshold = int(*v);
    if (const auto v = optionalInteger(b, p, QStringLiteral("cooldown_ms"), 1, 86'400'000,
                                       QStringLiteral("must be an integer from 1 to 86400000 (milliseconds)")))
        breaker.cooldownMs = int(*v);
}

void parseConnections(const QJsonObject &c, const QString &p, ConnectionSettings &connections)
{
    checkFields(c, p, {"header_timeout_ms", "idle_timeout_ms", "max_connections"});
    const QString message = QStringLiteral("must be an integer from 100 to 3600000 (milliseconds)");
    if (const auto v = optionalInteger(c, p, QStringLiteral("header_timeout_ms"), 100, 3'600'000, message))
        connections.headerTimeoutMs = int(*v);
    if (const auto v = optionalInteger(c, p, QStringLiteral("idle_timeout_ms"), 100, 3'600'000, message))
        connections.idleTimeoutMs = int(*v);
    if (const auto v = optionalInteger(c, p, QStringLiteral("max_connections"), 8, 1'000'000,
                                       QStringLiteral("must be an integer from 8 to 1000000")))
        connections.maxConnections = int(*v);
}

// The metrics scrape token, kept only as its hash.
QByteArray parseMetricsTokenHash(const QJsonObject &m, const QString &p)
{
    checkFields(m, p, {"token"});
    const QString token = requireString(m, p, QStringLiteral("token"));
    // A scrape token guessable in a few tries would open spend and key names to any local process.
    if (token.size() < 16 || std::any_of(token.begin(), token.end(), [](QChar c) { return c.isSpace(); }))
        fail(member(p, QStringLiteral("token")), QStringLiteral("must be at least 16 characters without spaces"));
    return hashSecret(QStringView(token));
}

// The OTLP export's headers: each a literal value or {"env": "VARIABLE"}.
QList<OtlpHeader> parseOtlpHeaders(const QJsonObject &headers, const QString &hp)
{
    static const QRegularExpression token(QStringLiteral("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"));
    QList<OtlpHeader> out;
    for (auto it = headers.begin(); it != headers.end(); ++it) {
        const QString hn = member(hp, it.key());
        if (!token.match(it.key()).hasMatch())
            fail(hn, QStringLiteral("is not a valid HTTP header name"));
        OtlpHeader h;
        h.name = it.key().toLower();
        if (it.value().isString()) {
            h.value = it.value().toString();
            if (hasControlChars(h.value))
                fail(hn, QStringLiteral("must not contain control characters"));
        } else if (it.value().isObject()) {
            const QJsonObject e = it.value().toObject();
            checkFields(e, hn, {"env"});
            h.env = requireString(e, hn, QStringLiteral("env"));
            if (h.env.isEmpty())
                fail(member(hn, QStringLiteral("env")), QStringLiteral("must name an environment variable"));
        } else {
            fail(hn, QStringLiteral("must be a string or {\"env\": \"VARIABLE\"}"));
        }
        out.append(h);
    }
    return out;
}

void parseOtlp(const QJsonObject &o, const QString &p, OtlpSettings &otlp)
{
    checkFields(o, p, {"endpoint", "headers", "max_queue", "batch_size", "flush_interval_ms"});
    // An empty endpoint is the export turned off (the Settings page writes it so).
    const QJsonValue endpoint = o.value(QStringLiteral("endpoint"));
    if (!endpoint.isString())
        fail(member(p, QStringLiteral("endpoint")), QStringLiteral("must be an http:// or https:// URL, or \"\" for off"));
    if (!endpoint.toString().isEmpty())
        otlp.endpoint = validateBaseUrl(endpoint.toString(), member(p, QStringLiteral("endpoint")));
    if (o.contains(QStringLiteral("headers"))) {
        const QString hp = member(p, QStringLiteral("headers"));
        otlp.headers.append(parseOtlpHeaders(requireObject(o.value(QStringLiteral("headers")), hp), hp));
    }
    if (const auto v = optionalInteger(o, p, QStringLiteral("max_queue"), 16, 1'000'000,
                                       QStringLiteral("must be an integer from 16 to 1000000")))
        otlp.maxQueue = int(*v);
    if (const auto v = optionalInteger(o, p, QStringLiteral("batch_size"), 1, 10'000,
                                       QStringLiteral("must be an integer from 1 to 10000")))
        otlp.batchSize = int(*v);
    if (const auto v = optionalInteger(o, p, QStringLiteral("flush_interval_ms"), 50, 600'000,
                                       QStringLiteral("must be an integer from 50 to 600000 (milliseconds)")))
        otlp.flushIntervalMs = int(*v);
}

GatewaySettings parseSettings(const QJsonObject &obj, const QString &path)
{
    checkFields(obj, path, {"port", "max_body_mb", "allowed_origins", "timeouts", "shutdown_grace_ms", "retry", "breaker", "connections", "response_cache_max_mb",
                            "guardrails", "metrics", "otlp", "workers"});
    GatewaySettings s;
    // The object member `name` when present, with its path; the section parsers take it from there.
    const auto section = [&](const char *name, auto &&parse) {
        const QString key = QLatin1String(name);
        if (obj.contains(key))
            parse(obj.value(key), member(path, key));
    };
    if (const auto v = optionalInteger(obj, path, QStringLiteral("response_cache_max_mb"), 1, 1'000'000,
                                       QStringLiteral("must be an integer from 1 to 1000000 (MiB)")))
        s.responseCacheMaxBytes = *v * 1024 * 1024;
    if (obj.contains(QStringLiteral("workers")) && obj.value(QStringLiteral("workers")) != QJsonValue(QStringLiteral("auto"))) {
        const auto v = optionalInteger(obj, path, QStringLiteral("workers"), 1, kMaxWorkers,
                                       QStringLiteral("must be \"auto\" (one per core) or an integer from 1 to %1").arg(kMaxWorkers));
        s.workers = int(*v);
    }
    if (const auto port = optionalInteger(obj, path, QStringLiteral("port"), 0, 65535,
                                          QStringLiteral("must be an integer from 0 to 65535")))
        s.port = int(*port);
    section("max_body_mb", [&](const QJsonValue &v, const QString &p) { s.maxBodyBytes = parseMaxBodyBytes(v, p); });
    section("allowed_origins", [&](const QJsonValue &v, const QString &p) {
        s.allowedOrigins = parseAllowedOrigins(requireArray(v, p), p);
    });
    section("timeouts", [&](const QJsonValue &v, const QString &p) { parseTimeouts(requireObject(v, p), p, s.timeouts); });
    if (const auto v = optionalInteger(obj, path, QStringLiteral("shutdown_grace_ms"), 0, std::numeric_limits<int>::max(),
                                       QStringLiteral("must be an integer >= 0 (milliseconds)")))
        s.shutdownGraceMs = int(*v);
    section("retry", [&](const QJsonValue &v, const QString &p) { parseRetry(requireObject(v, p), p, s.retry); });
    section("breaker", [&](const QJsonValue &v, const QString &p) { parseBreaker(requireObject(v, p), p, s.breaker); });
    section("connections",
            [&](const QJsonValue &v, const QString &p) { parseConnections(requireObject(v, p), p, s.connections); });
    section("guardrails", [&](const QJsonValue &v, const QString &p) {
        QString why;
        if (!GuardrailThresholds::fromJson(requireObject(v, p), &s.guardrails, &why))
            fail(p, why);
    });
    section("metrics", [&](const QJsonValue &v, const QString &p) {
        s.metrics.tokenHash = parseMetricsTokenHash(requireObject(v, p), p);
    });
    section("otlp", [&](const QJsonValue &v, const QString &p) { parseOtlp(requireObject(v, p), p, s.otlp); });
    return s;
}

QList<ProviderConfig> parseProviders(const QJsonArray &list, const QString &path, QSet<QString> &providerIds)
{
    QList<ProviderConfig> providers;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString p = element(path, i);
        ProviderConfig provider = parseProvider(requireObject(list.at(i), p), p);
        if (providerIds.contains(provider.id))
            fail(member(p, QStringLiteral("id")), QStringLiteral("duplicate provider id %1").arg(quoted(provider.id)));
        providerIds.insert(provider.id);
        providers.append(std::move(provider));
    }
    return providers;
}

// `modelIndex` gets each model id's index in the list.
QList<ModelConfig> parseModels(const QJsonArray &list, const QString &path, const QSet<QString> &providerIds,
                               QHash<QString, qsizetype> &modelIndex)
{
    QList<ModelConfig> models;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString p = element(path, i);
        ModelConfig model = parseModel(requireObject(list.at(i), p), p, providerIds);
        if (modelIndex.contains(model.id))
            fail(member(p, QStringLiteral("id")), QStringLiteral("duplicate model id %1").arg(quoted(model.id)));
        modelIndex.insert(model.id, i);
        models.append(std::move(model));
    }
    return models;
}

// Each key with its own name and, when the file gives one, its own secret.
QList<KeyConfig> parseKeys(const QJsonArray &list, const QString &path)
{
    QList<KeyConfig> keys;
    QHash<QString, qsizetype> names;
    QHash<QString, qsizetype> secrets; // secret -> index of the first key that uses it
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString p = element(path, i);
        KeyConfig key = parseKey(requireObject(list.at(i), p), p);
        if (names.contains(key.name))
            fail(member(p, QStringLiteral("name")), QStringLiteral("duplicate key name %1").arg(quoted(key.name)));
        names.insert(key.name, i);
        if (key.secret) {
            // Never repeat the secret itself in the message.
            if (const auto it = secrets.constFind(*key.secret); it != secrets.cend())
                fail(member(p, QStringLiteral("secret")),
                     QStringLiteral("same secret as keys[%1] (%2); every key needs its own secret")
                         .arg(*it)
                         .arg(quoted(keys.at(*it).name)));
            secrets.insert(*key.secret, i);
        }
        keys.append(std::move(key));
    }
    return keys;
}

// Routes with ids of their own, none equal to a model id (the route would hide the model).
QList<RouteConfig> parseRoutes(const QJsonArray &list, const QString &path, const QHash<QString, qsizetype> &modelIndex)
{
    QList<RouteConfig> routes;
    QSet<QString> ids;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString p = element(path, i);
        RouteConfig route = parseRoute(requireObject(list.at(i), p), p);
        if (ids.contains(route.id))
            fail(member(p, QStringLiteral("id")), QStringLiteral("duplicate route id %1").arg(quoted(route.id)));
        if (const auto it = modelIndex.constFind(route.id); it != modelIndex.cend())
            fail(member(p, QStringLiteral("id")),
                 QStringLiteral("%1 is also a model id (models[%2]); a route must not shadow a model").arg(quoted(route.id)).arg(*it));
        ids.insert(route.id);
        routes.append(std::move(route));
    }
    return routes;
}

QList<ModelAlias> parseAliases(const QJsonArray &list, const QString &path)
{
    QList<ModelAlias> aliases;
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString p = element(path, i);
        const QJsonObject obj = requireObject(list.at(i), p);
        checkFields(obj, p, {"match", "to"});
        ModelAlias a;
        a.match = requireString(obj, p, QStringLiteral("match"));
        a.to = requireString(obj, p, QStringLiteral("to"));
        if (a.match.trimmed() != a.match || a.match.contains(u' '))
            fail(member(p, QStringLiteral("match")), QStringLiteral("must not contain spaces"));
        if (a.to.trimmed() != a.to || a.to.contains(u' '))
            fail(member(p, QStringLiteral("to")), QStringLiteral("must not contain spaces"));
        aliases.append(a);
    }
    return aliases;
}

Config parseRoot(const QJsonObject &root)
{
    checkFields(root, QString(), {"providers", "models", "keys", "routes", "aliases", "settings", "store", "lease_ttl_ms"});
    Config config;
    // The root's array `name`, when present, with its path.
    const auto list = [&](const QString &name) { return requireArray(root.value(name), name); };
    const QString providers = QStringLiteral("providers");
    const QString models = QStringLiteral("models");
    const QString keys = QStringLiteral("keys");
    const QString routes = QStringLiteral("routes");
    const QString aliases = QStringLiteral("aliases");
    const QString settings = QStringLiteral("settings");

    if (root.contains(QStringLiteral("store"))) {
        const QString path = QStringLiteral("store");
        const QJsonValue v = root.value(path);
        if (!v.isString())
            fail(path, QStringLiteral("must be a string: a postgres:// URL, or \"sqlite\" for this machine's file"));
        const QString store = v.toString().trimmed();
        if (store != QLatin1String("sqlite") && !store.startsWith(QLatin1String("postgres://"))
            && !store.startsWith(QLatin1String("postgresql://")))
            fail(path, QStringLiteral("must be a postgres:// (postgresql://) URL, or \"sqlite\" for this machine's file"));
        config.store = store;
    }
    if (root.contains(QStringLiteral("lease_ttl_ms"))) {
        const QJsonValue v = root.value(QStringLiteral("lease_ttl_ms"));
        const double ms = v.toDouble(-1);
        if (!v.isDouble() || ms != std::floor(ms) || ms < 1'000 || ms > 600'000)
            fail(QStringLiteral("lease_ttl_ms"), QStringLiteral("must be a whole number of milliseconds from 1000 to 600000"));
        config.leaseTtlMs = qint64(ms);
    }

    QSet<QString> providerIds;
    QHash<QString, qsizetype> modelIndex; // model id -> index in "models"
    if (root.contains(providers))
        config.providers = parseProviders(list(providers), providers, providerIds);
    if (root.contains(models))
        config.models = parseModels(list(models), models, providerIds, modelIndex);
    if (root.contains(keys))
        config.keys = parseKeys(list(keys), keys);
    if (root.contains(routes))
        config.routes = parseRoutes(list(routes), routes, modelIndex);
    if (root.contains(aliases))
        config.aliases = parseAliases(list(aliases), aliases);
    if (root.contains(settings))
        config.settings = parseSettings(requireObject(root.value(settings), settings), settings);
    return config;
}

// 1-based line and column (in characters) of a byte offset into UTF-8 text.
std::pair<int, int> lineAndColumn(const QByteArray &utf8, qsizetype offset)
{
    offset = std::clamp<qsizetype>(offset, 0, utf8.size());
    int line = 1;
    int column = 1;
    // A byte-order mark is not a visible column.
    const qsizetype start = utf8.startsWith("\xEF\xBB\xBF") ? 3 : 0;
    for (qsizetype i = start; i < offset; ++i) {
        const auto c = static_cast<unsigned char>(utf8.at(i));
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++column; // count code points, not UTF-8 continuation bytes
        }
    }
    return {line, column};
}

} // namespace

std::optional<Config> parseConfig(const QByteArray &json, const QString &fileName, ConfigError *error)
{
    ConfigError err;
    err.file = fileName;
    if (json.trimmed().isEmpty() || json == "\xEF\xBB\xBF") {
        err.message = QStringLiteral("the file is empty (expected a JSON object)");
        if (error)
            *error = err;
        return std::nullopt;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        const auto [line, column] = lineAndColumn(json, parseError.offset);
        err.line = line;
        err.column = column;
        err.message = QStringLiteral("invalid JSON: ") + parseError.errorString();
        if (error)
            *error = err;
        return std::nullopt;
    }
    if (!doc.isObject()) {
        err.message = QStringLiteral("the top level must be a JSON object");
        if (error)
            *error = err;
        return std::nullopt;
    }
    try {
        Config config = parseRoot(doc.object());
        qCDebug(lcConfig) << "parsed" << fileName << ":" << config.providers.size() << "providers," << config.models.size()
                          << "models," << config.keys.size() << "keys," << config.routes.size() << "routes";
        return config;
    } catch (const Invalid &invalid) {
        err.path = invalid.path;
        err.message = invalid.message;
        if (error)
            *error = err;
        return std::nullopt;
    }
}

std::optional<Config> loadConfigFile(const QString &path, ConfigError *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = ConfigError{path, QString(), QStringLiteral("cannot read the file: ") + file.errorString()};
        return std::nullopt;
    }
    constexpr qint64 maxSize = 64ll * 1024 * 1024;
    if (file.size() > maxSize) {
        if (error)
            *error = ConfigError{path, QString(), QStringLiteral("the file is larger than 64 MiB")};
        return std::nullopt;
    }
    const QByteArray data = file.readAll();
    if (file.error() != QFileDevice::NoError) {
        if (error)
            *error = ConfigError{path, QString(), QStringLiteral("cannot read the file: ") + file.errorString()};
        return std::nullopt;
    }
    return parseConfig(data, path, error);
}

} // namespace gh
