#pragma once
#include "config/config.h"
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QSet>
#include <QString>

namespace gh {

class Store;

// A key created by applyConfig() without a secret in the file: its generated secret, to be shown
// once (it is stored only as a hash and cannot be recovered later).
struct GeneratedKey {
    QString name;
    QString secret;
};

struct ApplyResult {
    bool ok = false;
    QString error;                 // "FILE: keys[1].secret: ..." when ok is false
    QList<GeneratedKey> generated; // keys created with a generated secret
    int changes = 0;               // providers, models, routes and keys inserted or updated, +1 for settings
};

// Applies a declarative configuration to the store (docs/config.md):
// - providers, models and routes are upserted by id, keys by name; the settings object (when
//   present) replaces the stored gateway settings, and the aliases list (when present) the stored
//   aliases;
// - a route id equal to a model id (in the file or in the store) is an error, and so is a model id
//   equal to a stored route id;
// - whatever the store holds that the file does not mention is left alone;
// - a new key without a secret gets a generated one (returned in `generated`); an existing key keeps
//   its secret unless the file gives a different one; secrets are stored only as hashes;
// - a secret that another key already uses is an error, and nothing is written then;
// - applying the same configuration again changes nothing (changes == 0, no generated secrets).
// `fileName` only prefixes error messages.
[[nodiscard]] ApplyResult applyConfig(const Config &config, Store &store, const QString &fileName = {});

// The store's settings key that holds the gateway settings as JSON.
inline constexpr const char *kGatewaySettingsKey = "gateway";

// The store's settings key that holds the model aliases as a JSON list of {"match", "to"}.
inline constexpr const char *kAliasesKey = "aliases";
// The store setting that holds each key's "guardrails" (by key name) as one JSON object; a key not in
// it has the defaults. A setting rather than a column: the keys table is left as it is.
inline constexpr const char *kKeyGuardrailsKey = "key_guardrails";
[[nodiscard]] QHash<QString, GuardrailPolicy> loadKeyGuardrails(const Store &store);
// The store setting that holds the keys' and routes' "response_cache" and the keys that forbid
// storing bodies: {"keys": {name: policy}, "routes": {id: policy}, "no_bodies": [key names],
// "capture": {name: retention days}}. A
// setting rather than columns, as the guardrails: the keys and routes tables are left as they are.
inline constexpr const char *kResponseCacheKey = "response_cache";
struct ResponseCachePolicies {
    QHash<QString, ResponseCachePolicy> keys;   // by key name
    QHash<QString, ResponseCachePolicy> routes; // by route id
    QSet<QString> noBodies;                     // key names with store_bodies: false
    QHash<QString, int> captureDays;            // key names with "capture": retention in days (docs/capture.md)
};
[[nodiscard]] ResponseCachePolicies loadResponseCachePolicies(const Store &store);
[[nodiscard]] QList<ModelAlias> loadAliases(const Store &store);
[[nodiscard]] bool saveAliases(Store &store, const QList<ModelAlias> &aliases);
[[nodiscard]] QString aliasesToJson(const QList<ModelAlias> &aliases);

// The gateway settings saved in the store; the defaults of GatewaySettings when there are none.
// Fields that cannot be read keep their default (and are logged).
[[nodiscard]] GatewaySettings loadGatewaySettings(const Store &store);
void saveGatewaySettings(Store &store, const GatewaySettings &settings);

// The JSON form used in the store: {"port", "max_body_bytes", "allowed_origins",
// "timeouts": {"connect_ms", "first_byte_ms", "idle_ms"}, "shutdown_grace_ms",
// "retry": {"max_attempts", "backoff_base_ms", "backoff_max_ms", "max_retry_after_ms"},
// "breaker": {"failure_threshold", "cooldown_ms"},
// "connections": {"header_timeout_ms", "idle_timeout_ms", "max_connections"}}. Missing members take their defaults.
[[nodiscard]] QJsonObject gatewaySettingsToJson(const GatewaySettings &settings);
[[nodiscard]] GatewaySettings gatewaySettingsFromJson(const QJsonObject &json);

} // namespace gh
