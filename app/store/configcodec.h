#pragma once
#include "config/config.h"
#include "core/logging.h"
#include "store/storeinterfaces.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUrl>
#include <cmath>
#include <limits>
#include <optional>

// The configuration rows' codec for both back-ends: column lists and how a row is read back, as
// templates over the back-end's statement class (sqlite::Statement, pg::Statement share their column
// method names). A row that cannot be read back exactly is left out with a warning.
namespace gh::store {

// Same mapping as config's formatName()/formatFromName(), kept here so the stored text cannot change
// underneath the database when display names change.
inline QString formatToDb(ProviderFormat f)
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

inline std::optional<ProviderFormat> formatFromDb(const QString &s)
{
    if (s == QLatin1String("openai"))
        return ProviderFormat::OpenAI;
    if (s == QLatin1String("anthropic"))
        return ProviderFormat::Anthropic;
    if (s == QLatin1String("gemini"))
        return ProviderFormat::Gemini;
    return std::nullopt;
}

// A policy object as stored: compact JSON, '' when it states nothing.
inline QString policyJson(const QJsonObject &o)
{
    return o.isEmpty() ? QString() : QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

// A stored data_policy; an unreadable one states nothing (the published terms, else unknown: an
// unknown never meets a requirement, so nothing is let through by the damage).
inline DataPolicy readDataPolicy(const QString &text, const QString &what)
{
    if (text.isEmpty())
        return {};
    QString field, message;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    const auto policy = doc.isObject() ? dataPolicyFromJson(doc.object(), &field, &message) : std::nullopt;
    if (!policy) {
        qCWarning(lcStore) << what << ": its data_policy cannot be read" << field << message << "; unknown";
        return {};
    }
    return *policy;
}

// A stored require_policy into k.requirePolicy; false when it cannot be read (the key is then left
// out like a damaged allow-list: an unreadable requirement must not become "anywhere").
inline bool readRequirePolicy(const QString &text, StoredKey &k)
{
    if (text.isEmpty())
        return true;
    QString field, message;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8());
    const auto required = doc.isObject() ? policyRequirementFromJson(doc.object(), &field, &message) : std::nullopt;
    if (!required) {
        qCWarning(lcStore) << "key" << k.name << "ignored: its require_policy cannot be read:" << field << message;
        return false;
    }
    k.requirePolicy = *required;
    return true;
}

inline constexpr char kKeyColumns[]
    = "id, name, secret_hash, secret_hint, allow_models, limit_day, limit_week, limit_month, "
      "limit_total, allow_unpriced, paused, revoked, created_at_ms, rpm, tpm, on_short_budget, "
      "min_output_tokens, secret_scan, require_policy";

// A row that cannot be read back exactly (a damaged allow-list, a hash of the wrong size) is left out:
// an unreadable allow-list must not turn into "every model allowed".
template<class S>
std::optional<StoredKey> readKey(const S &s)
{
    StoredKey k;
    k.id = s.integer(0);
    k.name = s.text(1);
    k.secretHash = s.blob(2);
    k.secretHint = s.text(3);
    QJsonParseError parseError;
    const QJsonDocument allow = QJsonDocument::fromJson(s.text(4).toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !allow.isArray()) {
        qCWarning(lcStore) << "key" << k.name << "ignored: its model allow-list is not a JSON array";
        return std::nullopt;
    }
    for (const QJsonValue &v : allow.array()) {
        if (!v.isString()) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its model allow-list holds a non-string";
            return std::nullopt;
        }
        k.allowModels.append(v.toString());
    }
    if (k.secretHash.size() != 32) {
        qCWarning(lcStore) << "key" << k.name << "ignored: its stored hash is not 32 bytes";
        return std::nullopt;
    }
    k.limits.dayUsd = s.optReal(5);
    k.limits.weekUsd = s.optReal(6);
    k.limits.monthUsd = s.optReal(7);
    k.limits.totalUsd = s.optReal(8);
    k.allowUnpriced = s.boolean(9);
    k.paused = s.boolean(10);
    k.revoked = s.boolean(11);
    k.createdAtMs = s.integer(12);
    if (const auto rpm = s.optInteger(13)) {
        if (*rpm < 1 || *rpm > std::numeric_limits<int>::max()) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its rpm" << *rpm << "is out of range";
            return std::nullopt; // a broken limit must not turn into "no limit"
        }
        k.rpm = int(*rpm);
    }
    if (const auto tpm = s.optInteger(14)) {
        if (*tpm < 1) {
            qCWarning(lcStore) << "key" << k.name << "ignored: its tpm" << *tpm << "is out of range";
            return std::nullopt;
        }
        k.tpm = *tpm;
    }
    // An unreadable policy falls back to refusing: never a clamp the user did not ask for.
    const auto policy = shortBudgetFromName(s.text(15));
    k.budget.onShortBudget = policy.value_or(ShortBudget::Refuse);
    const qint64 minOutput = s.integer(16);
    k.budget.minOutputTokens = minOutput >= 1 && minOutput <= BudgetPolicy::kMaxMinOutputTokens ? minOutput : BudgetPolicy{}.minOutputTokens;
    if (!policy)
        qCWarning(lcStore) << "key" << k.name << "has an unknown on_short_budget; treated as refuse";
    // An unreadable scan mode falls back to blocking: never a secret sent the user did not allow.
    const auto scan = secretScanFromName(s.text(17));
    k.secretScan = scan.value_or(SecretScanMode::Block);
    if (!scan)
        qCWarning(lcStore) << "key" << k.name << "has an unknown secret_scan; treated as block";
    if (!readRequirePolicy(s.text(18), k))
        return std::nullopt;
    return k;
}

inline constexpr char kProviderColumns[] = "id, format, base_url, api_key_env, catalog, enabled, rpm, tpm, local, data_policy";
// A providers row: kProviderColumns.
template<class S>
std::optional<ProviderConfig> readProvider(const S &s)
{
    ProviderConfig p;
    p.id = s.text(0);
    const auto format = formatFromDb(s.text(1));
    if (!format) {
        qCWarning(lcStore) << "provider" << p.id << "ignored: unknown format" << s.text(1);
        return std::nullopt;
    }
    p.format = *format;
    p.baseUrl = QUrl(s.text(2));
    p.apiKeyEnv = s.text(3);
    p.catalog = s.text(4);
    p.enabled = s.boolean(5);
    if (const auto rpm = s.optInteger(6); rpm && *rpm >= 1 && *rpm <= std::numeric_limits<int>::max())
        p.rpm = int(*rpm);
    else if (rpm)
        qCWarning(lcStore) << "provider" << p.id << ": its rpm" << *rpm << "is out of range; no limit";
    if (const auto tpm = s.optInteger(7); tpm && *tpm >= 1)
        p.tpm = *tpm;
    else if (tpm)
        qCWarning(lcStore) << "provider" << p.id << ": its tpm" << *tpm << "is out of range; no limit";
    p.local = s.boolean(8);
    p.dataPolicy = readDataPolicy(s.text(9), QStringLiteral("provider ") + p.id);
    return p;
}

inline constexpr char kModelColumns[] = "id, provider, upstream_model, price_input, price_output, price_cache_read, "
                                        "price_cache_write, price_cache_write_1h, context_window, max_output_tokens, "
                                        "from_catalog, capabilities, data_policy";
template<class S>
ModelConfig readModel(const S &s)
{
    ModelConfig m;
    m.id = s.text(0);
    m.provider = s.text(1);
    m.upstreamModel = s.text(2);
    m.price.input = s.optReal(3);
    m.price.output = s.optReal(4);
    m.price.cacheRead = s.optReal(5);
    m.price.cacheWrite = s.optReal(6);
    m.price.cacheWrite1h = s.optReal(7);
    m.contextWindow = s.integer(8);
    m.maxOutputTokens = s.integer(9);
    m.fromCatalog = s.boolean(10);
    if (!s.isNull(11)) {
        // Unreadable capabilities are unknown ones: the model is then assumed to serve anything.
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(s.text(11).toUtf8(), &parseError);
        QStringList capabilities;
        bool ok = parseError.error == QJsonParseError::NoError && doc.isArray();
        for (const QJsonValue &v : doc.array()) {
            ok = ok && v.isString();
            capabilities.append(v.toString());
        }
        if (ok)
            m.capabilities = capabilities;
        else
            qCWarning(lcStore) << "model" << m.id << ": its capabilities are not a JSON array of strings; unknown";
    }
    m.dataPolicy = readDataPolicy(s.text(12), QStringLiteral("model ") + m.id);
    return m;
}

inline QString routeTargetsToJson(const QList<RouteTarget> &targets)
{
    QJsonArray list;
    for (const RouteTarget &t : targets)
        list.append(QJsonObject{{QStringLiteral("model"), t.model}, {QStringLiteral("weight"), t.weight}});
    return QString::fromUtf8(QJsonDocument(list).toJson(QJsonDocument::Compact));
}

inline std::optional<QList<RouteTarget>> routeTargetsFromJson(const QString &text)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(text.toUtf8(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !doc.isArray())
        return std::nullopt;
    QList<RouteTarget> out;
    for (const QJsonValue &v : doc.array()) {
        const QJsonObject o = v.toObject();
        const QJsonValue model = o.value(QStringLiteral("model"));
        const QJsonValue weight = o.value(QStringLiteral("weight"));
        if (!v.isObject() || !model.isString() || model.toString().isEmpty() || !weight.isDouble())
            return std::nullopt;
        const double w = weight.toDouble();
        if (std::floor(w) != w || w < 0 || w > 1000)
            return std::nullopt;
        out.append(RouteTarget{model.toString(), int(w)});
    }
    return out;
}

inline constexpr char kTripColumns[]
    = "id, at_ms, key_id, key_name, session_id, detector, action, request_id, summary, evidence, "
                                     "cost_nano_usd, active, ended_at_ms, ended_by, kept_at_ms";

template<class S>
GuardrailTripRow readGuardrailTrip(const S &s)
{
    GuardrailTripRow t;
    t.id = s.integer(0);
    t.atMs = s.integer(1);
    t.keyId = s.integer(2);
    t.keyName = s.text(3);
    t.session = s.text(4);
    t.detector = s.text(5);
    t.action = s.text(6);
    t.requestId = s.text(7);
    t.summary = s.text(8);
    t.evidence = s.text(9).toUtf8(); // a copy: rawText() is only valid until the next step
    t.costSoFar = s.integer(10);
    t.active = s.boolean(11);
    t.endedAtMs = s.integer(12);
    t.endedBy = s.text(13);
    t.keptAtMs = s.integer(14);
    return t;
}

// "SELECT <the guardrail_trips columns> FROM guardrail_trips <tail>".
inline QByteArray guardrailTripSelect(const char *tail)
{
    return QByteArray("SELECT ") + kTripColumns + " FROM guardrail_trips " + tail;
}

} // namespace gh::store
