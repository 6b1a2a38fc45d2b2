#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QThread>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// Settings' "Store" section: which store this instance uses (the SQLite file, or a team's
// PostgreSQL URL shown without its password), and the switch between them. "Test connection"
// and "Join" talk to the server on a thread of their own; the choice is saved in the data folder
// (store/storelocation.h) and takes effect at the next start (--store on the command line wins).
class StoreSettings : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(bool isTeam READ isTeam NOTIFY backendChanged)
    Q_PROPERTY(QString inUse READ inUse NOTIFY backendChanged)
    Q_PROPERTY(QString saved READ saved NOTIFY savedChanged)
    Q_PROPERTY(bool restartNeeded READ restartNeeded NOTIFY savedChanged)
    Q_PROPERTY(QString fallbackReason READ fallbackReason CONSTANT)
    Q_PROPERTY(bool busy READ busy NOTIFY resultChanged)
    Q_PROPERTY(bool resultOk READ resultOk NOTIFY resultChanged)
    Q_PROPERTY(QString result READ result NOTIFY resultChanged)
public:
    explicit StoreSettings(QObject *parent = nullptr);
    explicit StoreSettings(Backend *backend, QObject *parent = nullptr);
    ~StoreSettings() override;
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] bool isTeam() const;
    [[nodiscard]] QString inUse() const; // redacted
    [[nodiscard]] QString saved() const; // redacted; "" for the SQLite file
    // The saved choice differs from the store in use: it applies at the next start (or --store
    // overrides it on this run's command line).
    [[nodiscard]] bool restartNeeded() const;
    [[nodiscard]] QString fallbackReason() const;
    [[nodiscard]] bool busy() const { return m_busy; }
    [[nodiscard]] bool resultOk() const { return m_resultOk; }
    [[nodiscard]] QString result() const { return m_result; }

    // Connects to `url` off this thread: result says what the server is, or its error (never the
    // password). Ignored while busy.
    Q_INVOKABLE void testConnection(const QString &url);
    // Tests `url` the same way, then, when it answers, saves it for the next start.
    Q_INVOKABLE void join(const QString &url);
    // Saves the SQLite file of the data folder for the next start.
    Q_INVOKABLE bool leave();

    // Blocks until a test or join in progress has finished and its result is applied (tests).
    void waitForIdleForTesting();

Q_SIGNALS:
    void backendChanged();
    void savedChanged();
    void resultChanged();

private:
    void run(const QString &url, bool save);
    void finish(bool ok, const QString &message);
    QPointer<Backend> m_backend;
    bool m_busy = false;
    bool m_resultOk = false;
    QString m_result;
    QString m_savedRaw; // as read from the data folder (may hold a password: never shown)
    bool m_leftThisRun = false; // "Leave team" was chosen while on a team store
    QPointer<QThread> m_thread; // the test or join in progress
};

} // namespace gh::ui
