#pragma once
#include <QHash>
#include <QString>
#include <QStringList>
#include <functional>
#include <optional>

class QObject;

namespace gh {

// Provider API keys in the OS keychain (QtKeychain, service "Gatehouse", account = provider id),
// with the environment as the headless fallback. The synchronous calls wait (with a timeout) for the
// keychain thread and are for start-up, headless mode and tests; the window uses the *Async calls,
// which never wait: a keyring that first asks the user to unlock it simply answers later.
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

    // The same without waiting: `done` runs later on the main thread (not at all when `context`, an
    // object of the main thread, is gone by then), whenever the keychain answers. There is no
    // timeout: an unlock prompt may sit on the screen for a while, and nothing waits for it.
    static void writeAsync(const QString &providerId, const QString &secret, QObject *context,
                           std::function<void(Result)> done);
    static void removeAsync(const QString &providerId, QObject *context, std::function<void(Result)> done);
    // Reads the keys of several providers: `found` has those stored, `errors` one line per provider
    // whose read failed (for the log; no secret in them).
    static void readAllAsync(const QStringList &providerIds, QObject *context,
                             std::function<void(QHash<QString, QString> found, QStringList errors)> done);

    // The key for a provider: the keychain first, then the environment variable `envName` (when set).
    // `source` receives "keychain", "env:NAME" or "" (none found).
    [[nodiscard]] static std::optional<QString> resolve(const QString &providerId, const QString &envName,
                                                        QString *source = nullptr, bool tryKeychain = true);
};

} // namespace gh
