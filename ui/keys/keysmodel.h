#pragma once
#include "backend.h"
#include "store/store.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The Gatehouse keys with their limits and what they spent (from the running gateway's budget
// ledger, in memory; on a team store, the whole team's spend as the budget leases count it, read
// from the store by TeamState, once it has been read). Every change is written to the store and applied to the gateway at once.
class KeysModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int activeCount READ activeCount NOTIFY countChanged)
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
public:
    enum Roles {
        KeyIdRole = Qt::UserRole + 1, // database id
        NameRole, // unique name
        AllowModelsRole, // allowed model patterns, comma-separated ("" = every model)
        PausedRole, // refuses requests until resumed
        RevokedRole, // refuses requests for good
        SecretHintRole, // "…3f9a"
        CreatedAtRole, // ms since the epoch
        DayLimitRole, // USD, -1 = no limit
        WeekLimitRole,
        MonthLimitRole,
        TotalLimitRole,
        DaySpentRole, // USD spent in the current period
        WeekSpentRole,
        MonthSpentRole,
        TotalSpentRole,
        DayUsageRole, // spent / limit (may exceed 1), -1 = no limit
        WeekUsageRole,
        MonthUsageRole,
        TotalUsageRole,
        AllowUnpricedRole, // a key with limits may still use unpriced models
        InFlightRole, // requests of this key in flight
        BuiltInRole, // the window's own key for Compare ("Gatehouse Chat"): not the user's to revoke or rename
        RefusalRole, // why the key's latest request was refused for its budget (402), "" when it was not
        OnShortBudgetRole, // "clamp" (lower max_tokens to what fits) or "refuse"
        MinOutputTokensRole, // the smallest output limit a clamp may leave
        OvershootsRole, // requests that cost more than their reservation (since start)
        OvershootUsdRole, // by how much, in total
        SecretScanRole, // "off", "warn", "redact" or "block": what a secret in the key's prompts does
        RequirePolicyRole, // the data policy its targets must meet ("zdr, no training, region eu"), "" for none
        TrafficRole, // where its traffic may go: the providers that meet it, and why the others do not
        RequirePolicyMapRole, // the requirement for the editor: zdr, noTraining (bools), maxRetentionDays (-1: none), regions ("eu, us")
        TeamSpendRole, // the spent amounts are the whole team's (a team store, read from it), not this machine's
    };
    Q_ENUM(Roles)

    explicit KeysModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit KeysModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] int activeCount() const;
    [[nodiscard]] QString lastError() const { return m_lastError; }

    // Creates a key with a generated secret and returns the secret (shown once; only its hash is
    // stored). "" on failure (lastError says why). allowModels: comma-separated patterns.
    Q_INVOKABLE QString createKey(const QString &name, const QString &allowModels);
    Q_INVOKABLE bool rename(qint64 keyId, const QString &name);
    Q_INVOKABLE bool setAllowModels(qint64 keyId, const QString &allowModels);
    Q_INVOKABLE bool setPaused(qint64 keyId, bool paused);
    // A key with limits refuses models that have no price unless this is set (allow_unpriced).
    Q_INVOKABLE bool setAllowUnpriced(qint64 keyId, bool allow);
    Q_INVOKABLE bool revoke(qint64 keyId);
    // "Delete everything about this key" (gateway/forgetkey.h): its log rows, sessions, trips,
    // captured bodies, cached answers and the key itself; the audit trail records it. Returns what
    // was deleted, or "" (lastError says why).
    Q_INVOKABLE QString forgetKey(qint64 keyId);
    // period: "day", "week", "month" or "total"; usd < 0: no limit. Applies to the gateway at once.
    Q_INVOKABLE bool setLimit(qint64 keyId, const QString &period, double usd);
    // What a request that does not fit what remains gets: policy "clamp" or "refuse"; a clamp never
    // leaves less than minOutputTokens (1..1000000). Applies to the gateway at once.
    Q_INVOKABLE bool setBudgetPolicy(qint64 keyId, const QString &policy, int minOutputTokens);
    // "off", "warn", "redact" or "block" (secretscan/; docs/config.md "secret_scan").
    Q_INVOKABLE bool setSecretScan(qint64 keyId, const QString &mode);
    // The key's require_policy: zdr, no training, at most `maxRetentionDays` days kept (-1: any) and
    // one of `regions` (comma-separated, "" for any).
    Q_INVOKABLE bool setRequirePolicy(qint64 keyId, bool zdr, bool noTraining, int maxRetentionDays, const QString &regions);
    // Ready-to-paste configuration for a tool (one of snippetTools(): "claude-code", "codex", ...),
    // the text `gatehouse connect TOOL --key NAME` prints. With an empty secret, a placeholder stands
    // in for it. "" for an unknown key or tool.
    Q_INVOKABLE [[nodiscard]] QString snippet(qint64 keyId, const QString &tool, const QString &secret) const;
    Q_INVOKABLE [[nodiscard]] QStringList snippetTools() const;
    Q_INVOKABLE [[nodiscard]] QString snippetToolTitle(const QString &tool) const;
    Q_INVOKABLE [[nodiscard]] int indexOf(qint64 keyId) const;

Q_SIGNALS:
    void backendChanged();
    void countChanged();
    void lastErrorChanged();

private:
    [[nodiscard]] QString trafficOf(const PolicyRequirement &required) const;
    void reloadKeys();
    void refreshSpend();
    void requestFinished(qint64 keyId, int status, const QString &error);
    bool fail(const QString &message);
    bool save(StoredKey key, bool coalesce = false);
    [[nodiscard]] const StoredKey *find(qint64 keyId) const;
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QList<StoredKey> m_keys;
    QString m_lastError;
    // Keys whose latest request was refused for the budget, with the gateway's message. Cleared
    // by the key's next answered request and by any change of its limits.
    QHash<qint64, QString> m_refusals;
};

} // namespace gh::ui
