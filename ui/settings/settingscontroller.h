#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The Settings page: gateway port (applyPort() moves the listener), start minimized, launch at
// login, data folder, display currency, the close-to-tray notice and clearing the request log.
class SettingsController : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int port READ port WRITE setPort NOTIFY portChanged)
    Q_PROPERTY(int listeningPort READ listeningPort NOTIFY listeningPortChanged)
    Q_PROPERTY(QString portError READ portError NOTIFY portErrorChanged)
    Q_PROPERTY(bool startMinimized READ startMinimized WRITE setStartMinimized NOTIFY startMinimizedChanged)
    Q_PROPERTY(bool launchAtLogin READ launchAtLogin WRITE setLaunchAtLogin NOTIFY launchAtLoginChanged)
    Q_PROPERTY(QString launchAtLoginError READ launchAtLoginError NOTIFY launchAtLoginChanged)
    Q_PROPERTY(QString dataDir READ dataDir NOTIFY backendChanged)
    Q_PROPERTY(QString databasePath READ databasePath NOTIFY backendChanged)
    Q_PROPERTY(QString currency READ currency WRITE setCurrency NOTIFY currencyChanged)
    Q_PROPERTY(double currencyRate READ currencyRate WRITE setCurrencyRate NOTIFY currencyChanged)
    Q_PROPERTY(QStringList currencies READ currencies CONSTANT)
    Q_PROPERTY(bool closeToTrayNoticeShown READ closeToTrayNoticeShown WRITE setCloseToTrayNoticeShown NOTIFY
            closeToTrayNoticeShownChanged)
    Q_PROPERTY(bool notificationsEnabled READ notificationsEnabled WRITE setNotificationsEnabled NOTIFY
            notificationsEnabledChanged)
    Q_PROPERTY(bool clearing READ clearing NOTIFY clearingChanged)
    // Telemetry (docs/telemetry.md): the OTLP traces URL ("" when off), its headers as
    // "name=value, name=$VARIABLE" (a $ value is read from that environment variable), and whether
    // GET /metrics is on.
    Q_PROPERTY(QString otlpEndpoint READ otlpEndpoint NOTIFY telemetryChanged)
    Q_PROPERTY(QString otlpHeaders READ otlpHeaders NOTIFY telemetryChanged)
    Q_PROPERTY(QString telemetryError READ telemetryError NOTIFY telemetryChanged)
    Q_PROPERTY(bool metricsEnabled READ metricsEnabled NOTIFY telemetryChanged)
public:
    explicit SettingsController(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // object reads nothing before it has one.
    explicit SettingsController(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int port() const { return m_port; }
    void setPort(int port);
    [[nodiscard]] int listeningPort() const;
    [[nodiscard]] QString portError() const { return m_portError; }
    // Moves the gateway's listener to `port` and remembers it; false (portError says why) when the
    // port cannot be bound, and the gateway keeps its old port then.
    Q_INVOKABLE bool applyPort();

    [[nodiscard]] bool startMinimized() const;
    void setStartMinimized(bool v);
    [[nodiscard]] bool launchAtLogin() const;
    void setLaunchAtLogin(bool v);
    [[nodiscard]] QString launchAtLoginError() const { return m_launchError; }
    [[nodiscard]] QString dataDir() const;
    [[nodiscard]] QString databasePath() const;
    [[nodiscard]] QString currency() const;
    void setCurrency(const QString &code);
    [[nodiscard]] double currencyRate() const;
    void setCurrencyRate(double rate);
    [[nodiscard]] static QStringList currencies();
    [[nodiscard]] bool closeToTrayNoticeShown() const;
    void setCloseToTrayNoticeShown(bool v);
    [[nodiscard]] bool notificationsEnabled() const;
    void setNotificationsEnabled(bool v);
    [[nodiscard]] bool clearing() const { return m_clearing; }
    [[nodiscard]] QString otlpEndpoint() const;
    [[nodiscard]] QString otlpHeaders() const;
    [[nodiscard]] QString telemetryError() const { return m_telemetryError; }
    [[nodiscard]] bool metricsEnabled() const;
    // Validates as the config does (settings.otlp), stores and applies at once; false and
    // telemetryError say what is wrong. An empty endpoint turns the export off.
    Q_INVOKABLE bool applyOtlp(const QString &endpoint, const QString &headers);
    // Turns GET /metrics on with a new random token and returns it, to show once: only its hash is kept.
    Q_INVOKABLE QString newMetricsToken();
    Q_INVOKABLE void disableMetrics();

    // Deletes the request log (keys, providers and settings stay); clearFinished() reports.
    Q_INVOKABLE void clearData();
    Q_INVOKABLE void openDataDir() const;

    // Applies the stored currency to Format (at start-up).
    static void applyCurrency(Backend &backend);

Q_SIGNALS:
    void backendChanged();
    void portChanged();
    void listeningPortChanged();
    void portErrorChanged();
    void startMinimizedChanged();
    void launchAtLoginChanged();
    void currencyChanged();
    void closeToTrayNoticeShownChanged();
    void notificationsEnabledChanged();
    void clearingChanged();
    void clearFinished(bool ok, const QString &message);
    void telemetryChanged();

private:
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    int m_port = 0;
    QString m_portError;
    QString m_launchError;
    bool m_clearing = false;
    QString m_telemetryError;
};

} // namespace gh::ui
