#pragma once
#include "store/store.h"
#include <functional>
#include <memory>
#include <QDate>
#include <QJsonValue>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace gh {
class Gateway;
struct GatewayContext;
class QueryRunner;
struct RequestRecord;
} // namespace gh

namespace gh::ui {

class SpendAggregates;
class TeamState;

// What every view model of the window shares: the in-process gateway, the query thread, the spend
// aggregates, the clock, the window's own settings and the change notifications. Created by
// showMainWindow() (or a test) before any model and handed down: Main.qml's `backend`, each page's,
// then each model's `backend` property (a test passes it to the model's constructor).
class Backend : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("the window's Backend comes from showMainWindow(), through Main.qml's backend property")
    // The team store's state and the Dashboard/Activity scope (isTeam false on SQLite).
    Q_PROPERTY(gh::ui::TeamState *team READ team CONSTANT)
    Q_MOC_INCLUDE("teamstate.h")
public:
    explicit Backend(Gateway &gateway, QObject *parent = nullptr);
    ~Backend() override;

    [[nodiscard]] Gateway &gateway() const { return m_gateway; }
    [[nodiscard]] Store &store() const;
    [[nodiscard]] GatewayContext &context() const;
    [[nodiscard]] QueryRunner &queries() const { return *m_queries; }
    [[nodiscard]] SpendAggregates &aggregates() const { return *m_aggregates; }
    [[nodiscard]] TeamState *team() const { return m_team; }

    // The clock of the dashboard's periods; a test may fix it (0: the real clock again).
    [[nodiscard]] qint64 nowMs() const;
    [[nodiscard]] QDate today() const;
    void setNowForTesting(qint64 ms) { m_fixedNowMs = ms; }

    // The window's settings live in the store's settings table as "ui.NAME" (JSON values), so they
    // follow the data folder.
    [[nodiscard]] QJsonValue uiSetting(const QString &name, const QJsonValue &fallback = {}) const;
    void setUiSetting(const QString &name, const QJsonValue &value);

    // Keys as stored (revoked ones included), re-read after every change made through the window.
    [[nodiscard]] const QList<StoredKey> &keys() const { return m_keys; }
    [[nodiscard]] QString keyName(qint64 keyId, const QString &fallback = {}) const;

    // After a key was written to the store: re-reads the keys and applies them to the running
    // gateway (at once, or coalesced within 250 ms when `coalesce`, for slider drags).
    void keysEdited(bool coalesce = false);
    // After a provider was written (or its API key): the gateway re-reads providers and secrets.
    // Applies provider edits to the gateway: at once with the keys it already has, then again
    // once the keychain has answered (read on the keychain thread: a locked keyring asking for
    // its password must not stall this thread, where the gateway accepts connections).
    // `applied` runs once the gateway has the keychain's answer (at once without a keychain).
    void providersEdited(std::function<void()> applied = {});
    // After a route was written or removed: the gateway re-reads its registry (routes included).
    void routesEdited();

    // The built-in key of the Compare chat. The first call in a process creates it when missing and
    // gives it a fresh random secret (the store keeps only its hash; the secret stays in memory),
    // then applies the keys to the gateway. Its spend is budgeted and logged like any key's.
    // "" when the key could not be saved.
    static constexpr QLatin1StringView kChatKeyName{"Gatehouse Chat"};
    [[nodiscard]] QString chatSecret();
    [[nodiscard]] qint64 chatKeyId() const { return m_chatKeyId; }

    // Deletes the request log (keys, providers and settings stay) on the query thread; spend
    // counted by the budgets starts again from zero. `done(ok, error)` runs on this thread.
    void clearLog(std::function<void(bool, QString)> done);

    // Whether provider API keys can be kept in the OS keychain: false when the gateway does not use
    // it; otherwise probed once on a thread of its own (probeKeychain), true until it says no.
    [[nodiscard]] bool keychainAvailable() const { return m_keychainAvailable; }
    void probeKeychain();

    // Whether the dashboard can say anything yet / at all.
    [[nodiscard]] bool hasRequests() const;

Q_SIGNALS:
    void logChanged(); // rows were committed to the log (at most every 400 ms)
    void logCleared(); // the log was emptied
    // The team scope changed (TeamState::scope): the log's views read their rows again.
    void instanceScopeChanged();
    void keysChanged();
    void providersChanged();
    void routesChanged();
    void activityTick(); // once a second, when requests finished during that second
    void uiSettingChanged(const QString &name);
    void dayChanged();
    void keychainAvailableChanged(); // the local date moved on (periods roll over)

private:
    void onCommitted();
    Gateway &m_gateway;
    std::unique_ptr<QueryRunner> m_queries;
    SpendAggregates *m_aggregates = nullptr;
    TeamState *m_team = nullptr;
    QList<StoredKey> m_keys;
    QHash<QString, QJsonValue> m_settingsCache;
    QTimer m_logThrottle;
    QTimer m_second;
    QTimer m_keysReload;
    QString m_chatSecret; // memory only
    qint64 m_chatKeyId = 0;
    qint64 m_fixedNowMs = 0;
    QDate m_today;
    bool m_finishedThisSecond = false;
    bool m_keychainAvailable = false;
    int m_secretsGeneration = 0; // the latest keychain read started by providersEdited()
    bool m_committedPending = false;
};

// What each model's setBackend() does first: takes `backend` into `slot` when the slot is empty and
// `backend` is not null (true: the caller connects and loads now). The backend is set once, by
// the constructor or by QML at creation; another one later is refused with a warning.
[[nodiscard]] bool adoptBackend(QPointer<Backend> &slot, Backend *backend, const char *owner);
// What it does last: emits every notify signal (without arguments) of `object`'s properties,
// backendChanged among them. Any property may read the backend, and QML may have evaluated a
// binding to it before the backend was set.
void announceBackend(QObject *object);

} // namespace gh::ui
