#pragma once
#include "store/pg.h"
#include <functional>
#include <QObject>
#include <QSet>
#include <QString>

class QSocketNotifier;
class QTimer;

namespace gh {

// Tells this instance when another one changed the team configuration (keys, providers, models,
// routes, settings). Migration 19's triggers send NOTIFY gatehouse_config with the table's name at
// each commit that changes one of those tables; this object LISTENs on a connection of its own,
// woken by a QSocketNotifier on its socket in its thread's event loop (no thread, no polling while
// connected). Measured on the test machine: a change shows on another process within tens of ms
// (tst_team_config prints the figure).
//
// A notification from `ownBackendPid()` (this instance's own control connection) is ignored: the
// instance reloads after its own changes already. While the connection is down notifications are
// lost, so after each reconnection `changed` reports every table once: a change made meanwhile is
// never missed, only reloaded late (the reconnection is tried every kRetryMs).
class PgConfigWatcher final : public QObject
{
    Q_OBJECT
public:
    static constexpr int kRetryMs = 2'000;
    // Notifications closer than this are reported together (a config file applied at another
    // instance's start is one reload here, not one per row).
    static constexpr int kCoalesceMs = 100;

    explicit PgConfigWatcher(std::function<int()> ownBackendPid, QObject *parent = nullptr);
    ~PgConfigWatcher() override;

    // Starts listening on `url`; false and *error when the first connection fails (it is then
    // retried in the background).
    bool start(const QString &url, QString *error);
    void stop();
    [[nodiscard]] bool isListening() const { return m_notifier != nullptr; }

    // The tables whose change is listened for.
    [[nodiscard]] static QStringList tables();

Q_SIGNALS:
    // Tables another instance changed (a subset of tables()).
    void changed(const QSet<QString> &tables);

private:
    bool connectAndListen(QString *error);
    void onReadable();
    void dropConnection();
    void report();

    std::function<int()> m_ownBackendPid;
    pg::Connection m_conn;
    QString m_url;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_retry = nullptr;
    QTimer *m_coalesce = nullptr;
    QSet<QString> m_pending;
};

} // namespace gh
