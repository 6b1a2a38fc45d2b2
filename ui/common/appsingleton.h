#pragma once
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

class QQmlEngine;
class QJSEngine;

namespace gh::ui {

class Backend;

// `App` in QML: the gateway's address, the kill switch and a few desktop services.
class AppSingleton : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(App)
    QML_SINGLETON
    Q_PROPERTY(int port READ port NOTIFY portChanged)
    Q_PROPERTY(QString baseUrl READ baseUrl NOTIFY portChanged)
    Q_PROPERTY(QString version READ version CONSTANT)
    Q_PROPERTY(QString dataDir READ dataDir CONSTANT)
    Q_PROPERTY(bool pausedAll READ pausedAll WRITE setPausedAll NOTIFY pausedAllChanged)
    Q_PROPERTY(bool keychainAvailable READ keychainAvailable NOTIFY keychainAvailableChanged)
    Q_PROPERTY(bool firstRun READ firstRun NOTIFY firstRunChanged)
    Q_PROPERTY(QString themeOverride READ themeOverride CONSTANT)
    Q_PROPERTY(QString theme READ theme WRITE setTheme NOTIFY themeChanged)
    Q_PROPERTY(double todaySpend READ todaySpend NOTIFY todaySpendChanged)
public:
    explicit AppSingleton(Backend *backend, QObject *parent = nullptr);

    static AppSingleton *create(QQmlEngine *, QJSEngine *);
    [[nodiscard]] static AppSingleton *instance();

    [[nodiscard]] int port() const;
    [[nodiscard]] QString baseUrl() const;
    [[nodiscard]] static QString version();
    [[nodiscard]] QString dataDir() const;
    [[nodiscard]] bool pausedAll() const;
    void setPausedAll(bool paused);
    [[nodiscard]] bool keychainAvailable() const;
    [[nodiscard]] bool firstRun() const { return m_firstRun; }
    // "light" or "dark" from GATEHOUSE_THEME (screenshots, tests); "" follows the system.
    [[nodiscard]] static QString themeOverride();
    // The user's choice in Settings: "system" (follow the desktop), "light" or "dark"; kept in the
    // store's ui settings. GATEHOUSE_THEME, when set, wins over it.
    [[nodiscard]] QString theme() const;
    void setTheme(const QString &theme);
    [[nodiscard]] double todaySpend() const { return m_todaySpend; }

    Q_INVOKABLE void copyToClipboard(const QString &text) const;
    Q_INVOKABLE bool openUrl(const QString &url) const;

Q_SIGNALS:
    void portChanged();
    void pausedAllChanged();
    void keychainAvailableChanged();
    void firstRunChanged();
    void todaySpendChanged();
    void themeChanged();
    // The window should come to the front (tray "Open", a second launch).
    void raiseRequested();

private:
    void updateFirstRun();
    void updateTodaySpend();
    QPointer<Backend> m_backend;
    bool m_firstRun = false;
    double m_todaySpend = 0;
};

} // namespace gh::ui
