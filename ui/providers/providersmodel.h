#pragma once
#include "backend.h"
#include "config/config.h"
#include <QAbstractListModel>
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QtQml/qqmlregistration.h>
#include <QVariantList>

class QNetworkAccessManager;

namespace gh {
struct RequestRecord;
}

namespace gh::ui {

// A data policy at a glance: "keeps 30 days · no training · ZDR off · region unknown".
[[nodiscard]] QString dataPolicySummary(const DataPolicy &policy);
// A provider's data policy for the window: the values in force ("" when unknown), its own settings
// ("own…", "" where the published terms apply) and the published terms' source, date and note.
[[nodiscard]] QVariantMap dataPolicyMap(const ProviderConfig &provider);

// The configured providers: where they are, where their API key comes from (the OS keychain or an
// environment variable; the key itself is never shown), how many models they offer, a connection
// test and their recent health (from the requests of the last five minutes).
class ProvidersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool keychainAvailable READ keychainAvailable NOTIFY keychainAvailableChanged)
public:
    static constexpr int kHealthWindowMs = 5 * 60 * 1000;

    enum Roles {
        ProviderIdRole = Qt::UserRole + 1, // "openai"; also the model prefix
        DisplayNameRole, // "OpenAI"
        FormatRole, // "openai" | "anthropic" | "gemini"
        BaseUrlRole, // "https://api.openai.com/v1"
        KeySourceRole, // "keychain", "env:NAME" or "" (none found)
        HasKeyRole, // an API key was found
        EnabledRole, // used for routing
        ModelCountRole, // models known (the test's count once tested)
        TestStateRole, // "idle" | "testing" | "ok" | "error"
        TestMessageRole, // the test's outcome in a sentence
        HealthRole, // "unknown" | "ok" | "degraded" | "down" (last 5 minutes)
        ApiKeyEnvRole, // environment variable named in the config, may be ""
        NeedsKeyRole, // the provider expects an API key
        TestModelsRole, // model ids the last successful test listed
        KeyStateRole, // the API key typed in the window: "" (stored or none), "saving" (the keychain has not answered yet), "failed"
        KeyMessageRole, // why the key is not stored yet, "" otherwise
        PolicySummaryRole, // the data policy at a glance: "keeps 30 days · no training · ZDR off · region unknown"
        PolicyRole, // the data policy in force and where it comes from (dataPolicyMap())
    };
    Q_ENUM(Roles)

    explicit ProvidersModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit ProvidersModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    ~ProvidersModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] bool keychainAvailable() const;

    // {id, name, format, baseUrl, needsKey, keyEnv} for each provider Gatehouse knows how to reach.
    Q_INVOKABLE [[nodiscard]] QVariantList knownProviders() const;
    // "" when added, else the error; the connection test follows on its own (once the key is stored).
    // The API key (optional for local servers) goes to the keychain without waiting for it: keyState
    // says "saving" until it answers (an unlock prompt may come first), and on failure the typed key is
    // kept in memory for retryApiKey(). apiKeyEnv names an environment variable read when the keychain
    // has none.
    Q_INVOKABLE QString addProvider(const QString &id, const QString &format, const QString &baseUrl,
        const QString &apiKey, const QString &apiKeyEnv);
    // A model server found on this machine (LocalServersModel): a provider marked local, so its models
    // are priced $0 as local, with the models its own API listed. The id gets a suffix ("ollama-2")
    // when taken. "" when added, else the error.
    Q_INVOKABLE QString addLocalProvider(const QString &id, const QString &baseUrl, const QStringList &models);
    // Whether a configured provider's base URL is `baseUrl` (trailing slashes aside).
    [[nodiscard]] bool hasBaseUrl(const QString &baseUrl) const;
    // Changes a provider's address, wire format and key variable (its id stays: model names start
    // with it). "" when saved, else the error.
    Q_INVOKABLE QString updateProvider(
        const QString &providerId, const QString &format, const QString &baseUrl, const QString &apiKeyEnv);
    // Replaces (or with "" removes) the provider's key in the keychain, then tests the connection.
    // "" when under way (keyState follows it), else the error.
    Q_INVOKABLE QString setApiKey(const QString &providerId, const QString &apiKey);
    // Tries again to store a key the keychain refused (kept in memory since it was typed).
    Q_INVOKABLE void retryApiKey(const QString &providerId);
    Q_INVOKABLE bool setEnabled(const QString &providerId, bool enabled);
    // Sets the provider's own data policy (config "data_policy"): a map of retains_prompts ("" for
    // the published terms, "none" or a number of days), trains_on_data ("", "yes", "no", "opt-out"),
    // zdr ("", "true", "false") and region ("" or a name). "" when saved, else the error.
    Q_INVOKABLE QString setDataPolicy(const QString &providerId, const QVariantMap &policy);
    Q_INVOKABLE bool remove(const QString &providerId);
    // Lists the provider's models (GET {baseUrl}/models) and reports in testState / testMessage.
    Q_INVOKABLE void testConnection(const QString &providerId);
    Q_INVOKABLE [[nodiscard]] int indexOf(const QString &providerId) const;

    // Prices, per 1M tokens in USD. The models of a provider the window can price: those its last
    // test listed and those the gateway knows (catalog, config, prices set here), sorted.
    Q_INVOKABLE [[nodiscard]] QStringList pricedModelNames(const QString &providerId) const;
    // {modelId, priced, input, output, cacheRead (-1: none), source: "catalog" | "yours" | ""} of
    // a provider's model by its upstream name.
    Q_INVOKABLE [[nodiscard]] QVariantMap modelPrice(const QString &providerId, const QString &upstreamModel) const;
    // Saves the user's price for a model ("provider/upstream"), which then is priced everywhere (keys
    // with limits may use it). cacheRead < 0: no cache discount known. "" when saved, else the error.
    Q_INVOKABLE QString setModelPrice(const QString &providerId, const QString &upstreamModel, double input,
        double output, double cacheRead);

    // Health from a finished request (also fed by the gateway's events).
    void recordRequest(const gh::RequestRecord &record, qint64 nowMs);

Q_SIGNALS:
    void backendChanged();
    void countChanged();
    void keychainAvailableChanged();
    void testFinished(const QString &providerId, bool ok, const QString &message);

private:
    struct Test {
        QString state = QStringLiteral("idle");
        QString message;
        int modelCount = -1;
        QStringList models;
    };
    struct Outcome {
        qint64 atMs = 0;
        bool failed = false;
    };
    void reloadProviders();
    void setTest(const QString &providerId, const Test &test);
    void storeKey(const QString &providerId);
    void setKeyState(const QString &providerId, const QString &state, const QString &message);
    [[nodiscard]] QString health(const QString &providerId, qint64 nowMs) const;
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QList<ProviderConfig> m_providers;
    QHash<QString, Test> m_tests;
    // Keys typed in the window that the keychain has not stored yet (memory only, never logged).
    QHash<QString, QString> m_pendingKeys;
    QSet<QString> m_testAfterKey; // a connection test asked for while the key was being stored
    QHash<QString, QPair<QString, QString>> m_keyStates; // provider -> (state, message)
    QHash<QString, QList<Outcome>> m_outcomes;
    QHash<QString, QString> m_health; // as last shown
    QNetworkAccessManager *m_network = nullptr;
    QTimer m_healthTimer;
};

} // namespace gh::ui
