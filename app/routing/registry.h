#pragma once
#include "config/config.h"
#include "pricing/pricecatalog.h"
#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <memory>

namespace gh {

// A Gatehouse key as the request path sees it (no secret, only its hash as the lookup key).
struct KeyEntry {
    qint64 id = 0;
    QString name;
    QStringList allowModels; // glob patterns; empty = every model
    KeyLimits limits;
    bool allowUnpriced = false;
    bool paused = false;
    bool revoked = false;
    std::optional<int> rpm;     // requests per minute (rate limiter); std::nullopt: none
    std::optional<qint64> tpm;  // tokens per minute
    BudgetPolicy budget;        // clamp or refuse a request that does not fit what remains
    GuardrailPolicy guardrails; // what a guardrail trip does (guardrails/guardrails.h)
    std::optional<ResponseCachePolicy> responseCache; // cache/responsecache.h; std::nullopt: off
    bool storeBodies = true;    // false: nothing of its requests is stored (the response cache is bypassed)
    int captureDays = 0;        // > 0: its bodies are captured and kept that many days (capture/bodycapture.h)
    SecretScanMode secretScan = SecretScanMode::Warn; // what a secret in its prompts does (secretscan/)
    PolicyRequirement requirePolicy; // the data policy its targets must meet (routing/datapolicycheck.h)
    [[nodiscard]] bool allows(const QString &modelId) const;
};

// A provider ready for forwarding: where to connect and how to authenticate.
struct ProviderEntry {
    ProviderConfig config;
    QByteArray host;
    quint16 port = 0;
    bool tls = false;
    QByteArray poolKey;      // "https://host:port": the upstream client's connection pool
    QByteArray basePath;     // "/v1" (no trailing slash)
    QByteArray authName;     // "authorization" / "x-api-key" / ""; never logged
    QByteArray authValue;    // "Bearer sk-..."; never logged
    QString keySource;       // "keychain", "env:NAME" or "" (no key: local providers)
};

struct ModelEntry {
    ModelConfig config;
    std::shared_ptr<const ProviderEntry> provider;
    bool listed = true;      // false: a provider/name the config and catalog do not list (unpriced)
    // The catalog's dated or time-of-day prices when config.price came from the catalog and they
    // change over time; empty otherwise (config.price is then the price at any time).
    QList<ScheduledPrice> schedule;
    [[nodiscard]] ModelPrice priceAt(const QDateTime &when) const;
};



// What the request path reads: an immutable snapshot, swapped atomically when anything changes.
class RegistrySnapshot
{
public:
    QHash<QByteArray, KeyEntry> keysByHash;              // SHA-256(secret) -> key
    QHash<QString, std::shared_ptr<const ProviderEntry>> providers;
    QHash<QString, ModelEntry> models;                   // by model id
    QHash<QString, QStringList> idsByUpstream;           // upstream name -> model ids offering it
    QStringList modelOrder;                              // ids, sorted, for /v1/models
    QHash<QString, RouteConfig> routes;                  // aliases by id
    QStringList routeOrder;                              // alias ids, sorted
    QHash<QString, VoteStats> votes;                     // Compare votes by model id (quality strategy)
    QStringList providerOrder;                           // provider ids in the order given to build()
    QList<ModelAlias> aliases;                           // in the config's order: the first match wins
    std::shared_ptr<const PriceCatalog> catalog;         // the catalog the snapshot was priced from

    enum class ResolveError { None, Unknown, Ambiguous, ProviderDisabled };
    // In this order: `provider/model` (a listed id, or any model of a known provider, priced by the
    // catalog's match rules when they know it, else unpriced); a bare upstream name that exactly one
    // provider lists; a bare name of a vendor's family (claude-*, gpt-*, gemini-*... by the catalog's
    // model_match rules), served by the first enabled provider in providerOrder (the store lists
    // them by id) whose catalog vendor is that vendor, else by an aggregator (OpenRouter) as
    // `vendor/name`.
    // `pinnedProvider` (the x-gatehouse-provider request header) names the provider to use for a
    // bare name instead of that rule.
    [[nodiscard]] std::optional<ModelEntry> resolve(const QString &name, ResolveError *error = nullptr,
                                                    QStringList *candidates = nullptr,
                                                    const QString &pinnedProvider = QString()) const;
    // The target of the first alias whose glob matches `name`, or `name` itself.
    [[nodiscard]] QString applyAliases(const QString &name) const;
    // The catalog vendor of a provider (its `catalog` setting, else its id); empty when unknown.
    [[nodiscard]] QString vendorOf(const ProviderConfig &provider) const;
    // The id an aggregator (OpenRouter) serves a family's bare name as: anthropic/claude-opus-4.8.
    [[nodiscard]] QString aggregatorUpstream(const QString &family, const QString &name) const;
    // Families a bare name can name here: catalog vendors that some enabled provider serves.
    [[nodiscard]] QStringList servedFamilies() const;
    [[nodiscard]] const KeyEntry *keyByHash(const QByteArray &hash) const;
};

// Builds snapshots from the stored configuration, the price catalog and the provider secrets.
class Registry
{
public:
    [[nodiscard]] std::shared_ptr<const RegistrySnapshot> snapshot() const;
    void setSnapshot(std::shared_ptr<const RegistrySnapshot> snapshot);

    // Provider secrets by provider id (from the keychain or the environment), kept in memory only.
    struct ProviderSecret { QString value; QString source; };
    // `routes` become the snapshot's aliases (one whose id is also a model id is dropped with a
    // warning: the model wins); `votes` are the Compare vote statistics by model id.
    [[nodiscard]] static std::shared_ptr<const RegistrySnapshot>
    build(const QList<ProviderConfig> &providers, const QList<ModelConfig> &models, const QList<KeyEntry> &keysWithHash,
          const QList<QByteArray> &keyHashes, const QHash<QString, ProviderSecret> &secrets, QStringList *warnings = nullptr,
          const QList<RouteConfig> &routes = {}, const QHash<QString, VoteStats> &votes = {},
          const QList<ModelAlias> &aliases = {}, std::shared_ptr<const PriceCatalog> catalog = nullptr);

private:
    mutable QMutex m_mutex;
    std::shared_ptr<const RegistrySnapshot> m_snapshot = std::make_shared<RegistrySnapshot>();
};

// Glob match of a model id against an allow pattern ('*' any run of characters, '?' one).
[[nodiscard]] bool globMatch(QStringView pattern, QStringView text);

} // namespace gh
