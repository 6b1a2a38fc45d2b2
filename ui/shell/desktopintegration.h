#pragma once
#include <QObject>
#include <QPointer>

class QAction;
class QMenu;
class QSystemTrayIcon;
class QWindow;

namespace gh::ui {

class AppSingleton;
class Backend;
class BudgetNotifier;

// The tray icon (today's spend in its tooltip; Open, Pause all keys / Resume, Quit), budget
// notifications, and closing the window into the tray (said once) instead of quitting.
class DesktopIntegration : public QObject
{
    Q_OBJECT
public:
    DesktopIntegration(Backend &backend, AppSingleton &app, QObject *parent = nullptr);
    ~DesktopIntegration() override;

    void setWindow(QWindow *window);
    [[nodiscard]] bool trayAvailable() const;
    void showWindow();
    void quit();
    [[nodiscard]] QString trayToolTip() const;
    // The tray icon, nullptr without a tray (GuardrailNotifier draws its badge on it).
    [[nodiscard]] QSystemTrayIcon *tray() const { return m_tray; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void updateTray();
    void notify(const QString &title, const QString &message, bool critical);
    Backend &m_backend;
    AppSingleton &m_app;
    QPointer<QWindow> m_window;
    QSystemTrayIcon *m_tray = nullptr;
    QMenu *m_menu = nullptr;
    QAction *m_pauseAction = nullptr;
    BudgetNotifier *m_notifier = nullptr;
    bool m_quitting = false;
};

} // namespace gh::ui
