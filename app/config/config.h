#pragma once
#include "config/datapolicy.h"
#include "config/guardrailpolicy.h"
#include "config/responsecachepolicy.h"
#include "pricing/price.h"
#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace gh {

// The wire format a provider speaks.
enum class ProviderFormat { OpenAI, Anthropic, Gemini };
[[nodiscard]] QString formatName(ProviderFormat f);
[[nodiscard]] std::optional<ProviderFormat> formatFromName(const QString &name);

struct ProviderConfig {
    QString id;           // "openai"; also the keychain account name and the model prefix
    ProviderFormat format = ProviderFormat::OpenAI;
    QUrl baseUrl;         // e.g. https://api.openai.com/v1 (the path prefix is kept)
    QString apiKeyEnv;    // environment variable that holds the API key (headless), may be empty
    QString catalog;      // catalog vendor for bundled models; defaults to id when the catalog knows it
    bool enabled = true;
    // Optional own limits, below the provider's, so the gateway spreads or queues load before the
    // provider answers 429 ("rpm", "tpm" in the config file).
    std::optional<int> rpm;
    std::optional<qint64> tpm;
    // A server on this machine (Ollama, LM Studio, llama.cpp, vLLM, Jan; "local": true): its models
    // cost nothing per token, so the ones without a price of their own are priced $0, never unpriced.
    bool local = false;
    // "data_policy": what the provider does with prompts, over its published terms (datapolicy.h).
    DataPolicy dataPolicy;
    friend bool operator==(const ProviderConfig &, const ProviderConfig &) = default;
};

struct ModelConfig {
    QString id;            // "openai/gpt-4.1-mini": what clients ask for
    QString provider;      // provider id
    QString upstreamModel; // what the provider calls it
    ModelPrice price;      // may be unpriced
    qint64 contextWindow = 0;   // 0: unknown
    qint64 maxOutputTokens = 0; // 0: unknown
    bool fromCatalog = false;   // filled in from the bundled catalog rather than the config file
    // "tools", "vision", "json_schema", "reasoning", "embeddings" (the catalog's names).
    // std::nullopt: unknown, and the model is assumed to be able to serve any request.
    std::optional<QStringList> capabilities;
    [[nodiscard]] bool can(QStringView capability) const { return !capabilities || capabilities->contains(capability); }
    // "data_policy" where this model differs from its provider (datapolicy.h).
    DataPolicy dataPolicy;
    friend bool operator==(const ModelConfig &, const ModelConfig &) = default;
};

// Spending limits of a key in USD; std::nullopt means no limit for that period.
struct KeyLimits {
    std::optional<double> dayUsd;
    std::optional<double> weekUsd;
    std::optional<double> monthUsd;
    std::optional<double> totalUsd;
    [[nodiscard]] bool any() const { return dayUsd || weekUsd || monthUsd || totalUsd; }
    friend bool operator==(const KeyLimits &, const KeyLimits &) = default;
};

// What a key does when a request's worst case does not fit what remains of its budget.
enum class ShortBudget { Clamp, Refuse };
[[nodiscard]] QString shortBudgetName(ShortBudget s); // "clamp", "refuse"
[[nodiscard]] std::optional<ShortBudget> shortBudgetFromName(const QString &name);
// What a key's requests do when their prompt holds a secret (app/secretscan, docs/config.md):
// off: not scanned; warn: logged (rule and position, never the secret); redact: each secret replaced
// by [REDACTED:<rule-id>#n] before the request leaves; block: refused, naming the rule.
enum class SecretScanMode { Off, Warn, Redact, Block };
[[nodiscard]] QString secretScanName(SecretScanMode m); // "off", "warn", "redact", "block"
[[nodiscard]] std::optional<SecretScanMode> secretScanFromName(const QString &name);
struct BudgetPolicy {
    // Clamp: lower the request's output limit to what fits, when at least minOutputTokens fit.
    ShortBudget onShortBudget = ShortBudget::Clamp;
    qint64 minOutputTokens = 1024; // the smallest useful answer; a clamp never goes below it
    static constexpr qint64 kMaxMinOutputTokens = 1'000'000;
    friend bool operator==(const BudgetPolicy &, const BudgetPolicy &) = default;
};

struct KeyConfig {
    QString name;               // unique, e.g. "scripts"
    std::optional<QString> secret; // plain secret from the file; hashed before it is stored
    QStringList allowModels;    // glob patterns on model ids ("openai/*"); empty = every model
    KeyLimits limits;
    bool allowUnpriced = false; // a key with limits refuses unpriced models unless this is set
    std::optional<int> rpm;     // requests per minute (rolling 60 s); std::nullopt: no limit
    std::optional<qint64> tpm;  // tokens per minute (input + output, rolling 60 s)
    BudgetPolicy budget;        // "on_short_budget", "min_output_tokens"
    GuardrailPolicy guardrails; // "guardrails": what each detector's trip does (docs/guardrails.md)
    std::optional<ResponseCachePolicy> responseCache; // "response_cache"; std::nullopt: off for the key
    // "store_bodies": false forbids keeping any prompt or answer of the key on disk: its requests
    // neither fill nor read the response cache, whatever the key or route says.
    bool storeBodies = true;
    SecretScanMode secretScan = SecretScanMode::Warn; // "secret_scan"
    PolicyRequirement requirePolicy; // "require_policy": the data policy its targets must meet
    // "capture": {"bodies": true, "retention_days": N}: the key's request and response bodies are
    // kept in captures.db for N days (docs/capture.md); 0: not captured (the default). Needs
    // store_bodies (a key that forbids storing bodies cannot capture them).
    int captureRetentionDays = 0;
    static constexpr int kDefaultCaptureRetentionDays = 7;
    static constexpr int kMaxCaptureRetentionDays = 3650;
    friend bool operator==(const KeyConfig &, const KeyConfig &) = default;
};

// How a route picks among its targets (docs/routing.md says exactly how each decides).
enum class RouteStrategy { Ordered, Cheapest, Fastest, Weighted, Quality };
[[nodiscard]] QString strategyName(RouteStrategy s);
[[nodiscard]] std::optional<RouteStrategy> strategyFromName(const QString &name);

struct RouteTarget {
    QString model;   // a model id ("anthropic/claude-sonnet-4-5"), as a client would name it
    int weight = 1;  // for "weighted": relative share, 0..1000 (0: only when the others fail)
    friend bool operator==(const RouteTarget &, const RouteTarget &) = default;
};

// A named alias: clients send `id` as the model name.
struct RouteConfig {
    QString id;      // "smart"; must not contain '/' (model ids do) and must not be a model id
    RouteStrategy strategy = RouteStrategy::Ordered;
    QList<RouteTarget> targets; // at least one
    std::optional<ResponseCachePolicy> responseCache; // "response_cache"; wins over the key's ttl and flags
    friend bool operator==(const RouteConfig &, const RouteConfig &) = default;
};

// Retries and failover before the first byte reached the client.
struct RetrySettings {
    int maxAttempts = 3;         // per request, over all targets; a route always gets one try per target
    int backoffBaseMs = 250;     // before trying a target again: full jitter in [0, base * 2^pass]
    int backoffMaxMs = 4'000;
    int maxRetryAfterMs = 10'000; // a provider's Retry-After longer than this is not waited for
    friend bool operator==(const RetrySettings &, const RetrySettings &) = default;
};

// Per provider-model circuit breakers.
struct BreakerSettings {
    int failureThreshold = 3;    // consecutive failures that open the circuit
    int cooldownMs = 30'000;     // open -> half-open (one probe request) after this long
    friend bool operator==(const BreakerSettings &, const BreakerSettings &) = default;
};

struct UpstreamTimeouts {
    int connectMs = 10'000;
    int firstByteMs = 120'000;
    int idleMs = 120'000;
    friend bool operator==(const UpstreamTimeouts &, const UpstreamTimeouts &) = default;
};

// Limits on client connections (settings.connections). Every connection is from this machine, but
// not every local process is friendly: these keep slow or idle clients from holding the gateway.
struct ConnectionSettings {
    int headerTimeoutMs = 10'000; // from a request's first byte until its headers are complete
    int idleTimeoutMs = 60'000;   // keep-alive between requests, and silence while a body arrives
    int maxConnections = 4096;    // open at once (also bounded by the process's file limit)
    friend bool operator==(const ConnectionSettings &, const ConnectionSettings &) = default;
};

// Prometheus scraping (settings.metrics): GET /metrics answers only with this token. The config gives
// the token; only its SHA-256 is kept (like Gatehouse keys), so no row holds the secret.
struct MetricsSettings {
    QByteArray tokenHash; // SHA-256 of the scrape token; empty: /metrics is off (404)
    [[nodiscard]] bool enabled() const { return !tokenHash.isEmpty(); }
    friend bool operator==(const MetricsSettings &, const MetricsSettings &) = default;
};

// One header sent with every OTLP export: a literal value, or the value of an environment variable
// read when the exporter starts (for credentials, which are then never stored).
struct OtlpHeader {
    QString name;  // lower-case HTTP header name
    QString value; // literal; empty when `env` is set
    QString env;   // environment variable holding the value; empty for a literal
    friend bool operator==(const OtlpHeader &, const OtlpHeader &) = default;
};

// OpenTelemetry export of request spans (settings.otlp): off while endpoint is empty.
struct OtlpSettings {
    QUrl endpoint;               // the OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces
    QList<OtlpHeader> headers;
    int maxQueue = 4096;         // requests waiting to be exported; beyond it the oldest are dropped (counted)
    int batchSize = 256;         // requests per POST
    int flushIntervalMs = 2'000; // a partial batch waits at most this long
    [[nodiscard]] bool enabled() const { return endpoint.isValid() && !endpoint.isEmpty(); }
    friend bool operator==(const OtlpSettings &, const OtlpSettings &) = default;
};

inline constexpr int kMaxWorkers = 256; // more threads than this only adds switches

struct GatewaySettings {
    std::optional<int> port;           // the config's preferred port; --port wins
    qint64 maxBodyBytes = 32ll * 1024 * 1024;
    QStringList allowedOrigins;        // browser origins allowed to call the gateway
    UpstreamTimeouts timeouts;
    int shutdownGraceMs = 5'000;       // how long in-flight requests may finish on SIGTERM
    RetrySettings retry;
    BreakerSettings breaker;
    ConnectionSettings connections;
    // The response cache's size on disk (compressed answers), "response_cache_max_mb"; the least
    // recently used answers are dropped past it.
    qint64 responseCacheMaxBytes = 256LL * 1024 * 1024;
    // Worker threads serving connections, "workers": 0 is one per core (the cores this process may
    // run on). Read at start: --workers and GATEHOUSE_WORKERS win over it.
    int workers = 0;
    GuardrailThresholds guardrails;    // "guardrails": the detectors' numbers (docs/guardrails.md)
    MetricsSettings metrics;
    OtlpSettings otlp;
    friend bool operator==(const GatewaySettings &, const GatewaySettings &) = default;
};

// What the user's Compare votes say of one model (read by the `quality` strategy and Rankings).
struct VoteStats {
    int rounds = 0; // voted rounds the model took part in
    int wins = 0;   // rounds where it was chosen as the best answer
    int allBad = 0; // rounds judged "all bad"
    friend bool operator==(const VoteStats &, const VoteStats &) = default;
};

// A model alias (config top-level "aliases"): a requested model name matching the glob `match`
// ('*' any run, '?' one character) is served as `to` (a route, a provider/model id or a bare name).
// In the config's order, the first match wins.
struct ModelAlias {
    QString match;
    QString to;
    friend bool operator==(const ModelAlias &, const ModelAlias &) = default;
};

// A declarative configuration file (docs/config.md).
struct Config {
    QList<ProviderConfig> providers;
    QList<ModelConfig> models;
    QList<KeyConfig> keys;
    QList<RouteConfig> routes;
    std::optional<QList<ModelAlias>> aliases; // only when the file has an "aliases" list: it replaces the stored one
    std::optional<GatewaySettings> settings; // only when the file has a "settings" object
    // "store": where this instance keeps its keys, routes and log: "sqlite" (the default, a file in
    // the data folder) or a postgres:// URL (a team store shared by several instances). --store wins.
    QString store;
    // "lease_ttl_ms": on a team store, how long a budget lease lasts unless renewed (budgetlease.h):
    // an instance that dies holds its unspent part of a key's budget at most this long.
    std::optional<qint64> leaseTtlMs;
};

// Where a config file is wrong: the file, the JSON path and the problem.
struct ConfigError {
    QString file;
    QString path;    // "providers[1].base_url"; empty for a file-level problem
    QString message; // "not a URL"
    int line = 0;    // 1-based position of a JSON syntax error; 0 for every other error
    int column = 0;  // 1-based, in characters
    // "FILE: providers[1].base_url: not a URL", "FILE: MESSAGE" when path is empty,
    // "FILE:LINE:COLUMN: invalid JSON: ..." for syntax errors.
    [[nodiscard]] QString toString() const;
};

// Reads and validates a config file. Unknown fields are errors (they are usually typos).
// On failure returns std::nullopt and fills *error.
[[nodiscard]] std::optional<Config> loadConfigFile(const QString &path, ConfigError *error);
[[nodiscard]] std::optional<Config> parseConfig(const QByteArray &json, const QString &fileName, ConfigError *error);

} // namespace gh
