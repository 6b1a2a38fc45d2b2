#pragma once
#include <QString>
#include <optional>

namespace gh {

// Provider API keys in the OS keychain (QtKeychain, service "Gatehouse", account = provider id),
// with the environment as the headless fallback. Calls are synchronous (they spin a local event loop
// with a timeout) and are made on the control plane only, never on the request path.
// Secrets are never logged: errors carry only the provider id and the keychain's message.
class SecretStore
{
public:
    static constexpr const char *kService = "Gatehouse";

    struct Result {
        bool ok = false;
        QString error; // e.g. "keychain unavailable (...)": starts so whenever the keychain cannot be used
    };

    // Whether a working keychain backend can be reached (tries a harmless read).
    [[nodiscard]] static bool keychainAvailable(int timeoutMs = 3000);
    [[nodiscard]] static Result write(const QString &providerId, const QString &secret, int timeoutMs = 5000);
    // The stored secret, std::nullopt when there is none (*error empty) or the keychain is unavailable
    // (*error says).
    [[nodiscard]] static std::optional<QString> read(const QString &providerId, QString *error = nullptr, int timeoutMs = 5000);
    [[nodiscard]] static Result remove(const QString &providerId, int timeoutMs = 5000);

    // The key for a provider: the keychain first, then the environment variable `envName` (when set).
    // `source` receives "keychain", "env:NAME" or "" (none found).
    [[nodiscard]] static std::optional<QString> resolve(const QString &providerId, const QString &envName,
                                                        QString *source = nullptr, bool tryKeychain = true);
};

} // namespace gh
