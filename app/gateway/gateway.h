#pragma once
#include "gateway/gatewaycontext.h"
#include "state/configapply.h"
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <optional>

namespace gh {

class Store;
class LeaseStore;
class BudgetLease;
class ResponseCache;
class BodyCapture;
class GatewayServer;
class Telemetry;

struct GatewayOptions {
    QString dataDir;               // holds gatehouse.db
    QString configPath;            // optional declarative config applied at start-up
    // --store: "sqlite" (gatehouse.db in dataDir) or a postgres:// URL (a team store). Empty: the
    // config file's "store", else SQLite.
    QString store;
    std::optional<int> port;       // --port; wins over the config and the stored settings
    int workers = 0;               // --workers / GATEHOUSE_WORKERS; 0: the stored setting, else one per core
    bool useKeychain = true;       // read provider keys from the OS keychain
    bool paused = false;           // --paused: start with every key stopped (the window's "Pause all")
};

// The engine as one object: the store, the registry, the ledger and the listener, started from the
// options and stopped gracefully. The desktop window and the headless mode both drive this.
class Gateway : public QObject
{
    Q_OBJECT
public:
    static constexpr int kDefaultPort = 8484;

    struct StartResult {
        bool ok = false;
        int exitCode = 0;                 // 2: bad config or command line, 1: anything else
        QString error;
        QList<GeneratedKey> generatedKeys; // secrets to show once
        QStringList warnings;
    };

    explicit Gateway(QObject *parent = nullptr);
    ~Gateway() override;

    [[nodiscard]] StartResult start(const GatewayOptions &options);
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] Store &store() const { return *m_store; }
    [[nodiscard]] GatewayContext &context() { return m_context; }
    [[nodiscard]] GatewayEvents *events() const { return m_events; }
    [[nodiscard]] QString dataDir() const { return m_options.dataDir; }
    [[nodiscard]] ResponseCache *responseCache() const { return m_responseCache.get(); }
    [[nodiscard]] BodyCapture *capture() const { return m_capture.get(); }
    // A team store's budget leases (the window's team state reads their status); null on SQLite
    // and once stopped.
    [[nodiscard]] const BudgetLease *leases() const { return m_leases.get(); }
    [[nodiscard]] BudgetLease *leases() { return m_leases.get(); }
    // The worker threads serving connections since start, and whether the command line (or
    // GATEHOUSE_WORKERS) chose that number: then the stored setting does not apply.
    [[nodiscard]] int workerCount() const { return m_workerCount; }
    [[nodiscard]] bool workerCountFromCommandLine() const { return m_options.workers > 0; }

    // Re-reads providers, models, keys and settings from the store (after the UI changed them).
    void reload(QStringList *warnings = nullptr);
    // The same with the provider keys already read from the keychain (SecretStore::readAllAsync):
    // the window reads them without blocking its thread, where this gateway accepts connections.
    void reloadWith(const QHash<QString, QString> &fromKeychain, QStringList *warnings = nullptr);
    // The same without asking the keychain again: reuses the provider secrets the last reload() read
    // (for key and limit changes, which must apply at once and cheaply).
    void reloadKeys();
    // Whether provider keys are read from the OS keychain (false with GATEHOUSE_NO_KEYCHAIN or no
    // session bus).
    [[nodiscard]] bool usesKeychain() const { return m_options.useKeychain; }
    // Moves the listener to another port (0: any free port). The new port is bound first, so on
    // failure (*error says why) the gateway keeps listening where it was; requests in flight on the
    // old listener finish within the shutdown grace period. Returns true when listening on `port`.
    bool restartListener(quint16 port, QString *error = nullptr);
    // Lifts the guardrail pauses of a key (every session when `session` is empty); `by` is recorded
    // with the trips it ends ("window"). Returns how many pauses were lifted.
    int resumeGuardrails(qint64 keyId, const QString &session, const QString &by);
    // A person saw the pause of trip `tripId` and keeps it: recorded, nothing else changes.
    bool keepGuardrailPaused(qint64 tripId);

    // "Delete everything about key X" (gateway/forgetkey.h) while the gateway runs: its captured
    // bodies and cached answers too, then the registry and the ledger without it. *summary says what went.
    bool forgetKey(const QString &name, QString *summary, QString *error);

    // Stops accepting, lets requests finish within the grace period, flushes the log, then calls done.
    void shutdown(std::function<void()> done);

Q_SIGNALS:
    void stopped();
    // A team store: another instance changed the shared configuration and this gateway reloaded it
    // (the window's pages can refresh on it).
    void configChangedElsewhere();
    void portChanged(quint16 port);
    // A guardrail tripped (alert or pause) / pauses were lifted; on this object's thread, after
    // the trip or the end was written to the store.
    void guardrailTripped(const gh::GuardrailTrip &trip);
    void guardrailsResumed(const QList<qint64> &tripIds);

private:
    void rebuildLedger();
    // Restores the persisted guardrail trips and persists new ones and their ends from now on.
    void startGuardrails();
    // On a team store: budget leases taken from it for every limited key (lease TTL from the config).
    void startLeases(qint64 ttlMs);
    void stopLeases(); // hands the leases back; after the workers stopped
    // A new registry snapshot from the stored keys and models and the provider secrets read last.
    void reloadProviders(const QHash<QString, QString> *fromKeychain, QStringList *warnings);
    void rebuildRegistry(const QList<ProviderConfig> &providers, QStringList *warnings);
    // Store::configChangedElsewhere: reloads what changed, without waiting on the keychain.
    void applyTeamConfigChange(const QSet<QString> &tables);
    GatewayOptions m_options;
    GatewayContext m_context;
    GatewayEvents *m_events;
    Telemetry *m_telemetry;
    std::unique_ptr<Store> m_store;
    // A team store's budget leases (budget/budgetlease.h), the ledger's gate; none on SQLite.
    std::unique_ptr<LeaseStore> m_leaseStore;
    std::unique_ptr<BudgetLease> m_leases;
    std::unique_ptr<ResponseCache> m_responseCache; // response-cache.db in the data folder
    std::unique_ptr<BodyCapture> m_capture;         // captures.db in the data folder
    QHash<qint64, int> m_captureRetention;          // key id → days, from the last registry rebuild
    GatewayServer *m_server = nullptr;
    QList<GatewayServer *> m_retired; // old listeners draining after restartListener()
    QHash<QString, Registry::ProviderSecret> m_secrets; // from the last reload(), memory only
    int m_workerCount = 1;
    bool m_stopping = false;
};

} // namespace gh
