#pragma once
#include "pricing/price.h"
#include <QList>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

namespace gh {

// The wire format a provider speaks. Only OpenAI-compatible for now.
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

struct KeyConfig {
    QString name;               // unique, e.g. "scripts"
    std::optional<QString> secret; // plain secret from the file; hashed before it is stored
    QStringList allowModels;    // glob patterns on model ids ("openai/*"); empty = every model
    KeyLimits limits;
    bool allowUnpriced = false; // a key with limits refuses unpriced models unless this is set
    friend bool operator==(const KeyConfig &, const KeyConfig &) = default;
};

struct UpstreamTimeouts {
    int connectMs = 10'000;
    int firstByteMs = 120'000;
    int idleMs = 120'000;
    friend bool operator==(const UpstreamTimeouts &, const UpstreamTimeouts &) = default;
};

struct GatewaySettings {
    std::optional<int> port;           // the config's preferred port; --port wins
    qint64 maxBodyBytes = 32ll * 1024 * 1024;
    QStringList allowedOrigins;        // browser origins allowed to call the gateway
    UpstreamTimeouts timeouts;
    int shutdownGraceMs = 5'000;       // how long in-flight requests may finish on SIGTERM
    friend bool operator==(const GatewaySettings &, const GatewaySettings &) = default;
};

// A declarative configuration file (docs/config.md).
struct Config {
    QList<ProviderConfig> providers;
    QList<ModelConfig> models;
    QList<KeyConfig> keys;
    std::optional<GatewaySettings> settings; // only when the file has a "settings" object
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
