#pragma once
#include "budget/budgetlease.h"
#include "core/money.h"
#include <QAbstractListModel>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <array>
#include <optional>
#include <QtQml/qqmlregistration.h>

namespace gh {
class PgTeamReader;
}

namespace gh::ui {

class Backend;

// The leases this instance holds, one row per key (BudgetLease::held()).
class TeamLeasesModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("TeamState.leases")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        KeyIdRole = Qt::UserRole + 1, // the key's database id
        KeyNameRole, // its name ("key 7" when it is not in the key list)
        LeftUsdRole, // what is left of the lease, USD
        AmountUsdRole, // the lease's whole amount, USD
        UsableUntilRole, // ms since the epoch: no new request on it after this unless renewed
        LiveRole, // new requests may use it
    };
    Q_ENUM(Roles)
    struct Row {
        BudgetLease::Held held;
        QString keyName;
    };
    using QAbstractListModel::QAbstractListModel;
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    void setRows(QList<Row> rows);
Q_SIGNALS:
    void countChanged();

private:
    QList<Row> m_rows;
};

// The instances of the team seen recently (PgTeamReader::readPeers), this one included.
class TeamPeersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("TeamState.peers")
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int others READ others NOTIFY countChanged)
public:
    enum Roles {
        InstanceIdRole = Qt::UserRole + 1, // "<host>-<8 hex digits>"
        SelfRole, // this instance
        LastSeenRole, // ms since the epoch: the latest of the two below
        LastLeaseRole, // ms since the epoch: its latest lease taken or renewed, 0 when none in the window
        LastRequestRole, // ms since the epoch: its newest logged request, 0 when none in the window
        LeasedUsdRole, // the unspent part of its live leases, USD
    };
    Q_ENUM(Roles)
    struct Row {
        QString instanceId;
        bool self = false;
        qint64 lastLeaseMs = 0;
        qint64 lastRequestMs = 0;
        NanoUsd leased = 0;
    };
    using QAbstractListModel::QAbstractListModel;
    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;
    [[nodiscard]] int others() const;
    void setRows(QList<Row> rows);
    [[nodiscard]] const QList<Row> &rows() const { return m_rows; }
Q_SIGNALS:
    void countChanged();

private:
    QList<Row> m_rows;
};

// The team store as the window shows it: its state (connected / degraded / offline), the leases
// this instance holds, the other instances seen recently, the keys' spend across the team, and
// which instances' rows the Dashboard and Activity read (the scope). Made by the Backend; QML reads
// it as backend.team. On a SQLite store isTeam is false and nothing is read.
//
// PostgreSQL is read on a thread of this object's own (PgTeamReader, its own connection), every
// kPollMs and after a change; the leases and the lease store's health come from the in-process
// BudgetLease (memory only, never waiting), re-read when it reports a change. The UI thread never
// waits for PostgreSQL.
class TeamState : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("the window's TeamState is backend.team")
    Q_PROPERTY(bool isTeam READ isTeam CONSTANT)
    Q_PROPERTY(QString state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString stateLabel READ stateLabel NOTIFY stateChanged)
    Q_PROPERTY(QString stateDetail READ stateDetail NOTIFY stateChanged)
    Q_PROPERTY(double checkedAt READ checkedAt NOTIFY stateChanged) // ms since the epoch, 0: not yet
    Q_PROPERTY(QString instanceId READ instanceId CONSTANT)
    Q_PROPERTY(QString storeLocation READ storeLocation CONSTANT)
    Q_PROPERTY(QString scope READ scope WRITE setScope NOTIFY scopeChanged)
    Q_PROPERTY(QString scopeLabel READ scopeLabel NOTIFY scopeChanged)
    Q_PROPERTY(gh::ui::TeamLeasesModel *leases READ leases CONSTANT)
    Q_PROPERTY(gh::ui::TeamPeersModel *peers READ peers CONSTANT)
public:
    static constexpr int kPollMs = 5'000;
    static constexpr int kSoonMs = 1'500;
    static constexpr qint64 kSeenWindowMs = 15 * 60'000; // "seen recently"

    explicit TeamState(Backend &backend, QObject *parent = nullptr);
    ~TeamState() override;

    [[nodiscard]] bool isTeam() const { return m_isTeam; }
    // "" (not a team store), "connecting" (no answer yet), "connected", "degraded", "offline".
    [[nodiscard]] QString state() const { return m_state; }
    [[nodiscard]] QString stateLabel() const;
    [[nodiscard]] QString stateDetail() const { return m_detail; }
    [[nodiscard]] double checkedAt() const;
    [[nodiscard]] QString instanceId() const;
    [[nodiscard]] QString storeLocation() const; // the password redacted

    // "team" (every instance's rows), "machine" (this instance's), or another instance's id.
    // Persisted (ui.teamScope); always "team" on a SQLite store (one instance).
    [[nodiscard]] QString scope() const { return m_scope; }
    void setScope(const QString &scope);
    [[nodiscard]] QString scopeLabel() const;
    // The LogQueries instance scope of `scope`: "" every instance, else an instance id.
    [[nodiscard]] QString scopeInstance() const;

    [[nodiscard]] TeamLeasesModel *leases() { return &m_leases; }
    [[nodiscard]] TeamPeersModel *peers() { return &m_peers; }

    // A key's spend across the team per period (NanoUsd, by Period), from the latest read; nullopt
    // on a SQLite store or before the first read.
    [[nodiscard]] std::optional<std::array<NanoUsd, kPeriodCount>> teamSpend(qint64 keyId) const;

    // Reads PostgreSQL again now (after one in flight, if any).
    Q_INVOKABLE void refresh();
    // Blocks until the reads submitted so far are done and their results applied (tests).
    void waitForIdleForTesting();

Q_SIGNALS:
    void stateChanged();
    void scopeChanged();
    void teamSpendChanged();

private:
    struct Poll {
        bool ok = false;
        QString error;
        QList<TeamPeersModel::Row> peers;
        QHash<qint64, std::array<NanoUsd, kPeriodCount>> spend;
        qint64 atMs = 0;
    };
    void poll();
    void applyPoll(const Poll &poll);
    void readLeases();
    void updateState();
    void applyScope();

    Backend &m_backend;
    bool m_isTeam = false;
    QString m_state;
    QString m_detail;
    QString m_scope = QStringLiteral("team");
    TeamLeasesModel m_leases;
    TeamPeersModel m_peers;
    QHash<qint64, std::array<NanoUsd, kPeriodCount>> m_spend;
    bool m_readOk = false;
    bool m_readDone = false;
    QString m_readError;
    qint64 m_checkedAtMs = 0;
    QTimer m_pollTimer;
    QTimer m_soon;
    bool m_polling = false;
    bool m_pollAgain = false;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread
    std::unique_ptr<PgTeamReader> m_reader; // m_thread only
};

} // namespace gh::ui
