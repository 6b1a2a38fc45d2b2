#pragma once
#include <functional>
#include <QHash>
#include <QIcon>
#include <QObject>
#include <QPointer>

class QSystemTrayIcon;

namespace gh::ui {

class GuardrailCenter;

// A desktop notification for every guardrail trip, and the count of pauses in force as a badge on
// the tray icon. A pause's notification offers "Resume" and "Keep paused": through the freedesktop
// Notifications service on the session bus (org.freedesktop.Notifications, its Notify call with
// actions and its ActionInvoked signal) when it is there and says it has "actions"; otherwise the
// tray's balloon message (QSystemTrayIcon has no actions on Linux), whose click opens the window
// on the Guardrails page.
class GuardrailNotifier : public QObject
{
    Q_OBJECT
public:
    // `tray` may be null (no tray); `enabled` says whether notifications are on (the window's setting).
    GuardrailNotifier(
        GuardrailCenter &center, QSystemTrayIcon *tray, std::function<bool()> enabled, QObject *parent = nullptr);

    // The tray icon with the badge for `count` pauses drawn on `base` (count 0: `base` itself).
    [[nodiscard]] static QIcon badged(const QIcon &base, int count);
    // Whether the last notification went through the Notifications service (tests).
    [[nodiscard]] bool usedDBus() const { return m_usedDBus; }

Q_SIGNALS:
    // A notification was shown (tests); viaDBus: through the Notifications service.
    void notified(const QString &title, bool viaDBus);
    // The person asked to see the Guardrails page (a notification's body or the balloon clicked).
    void showRequested();

private Q_SLOTS:
    void onActionInvoked(uint id, const QString &action);
    void onClosed(uint id, uint reason);

private:
    struct Pending {
        qint64 tripId = 0;
        qint64 keyId = 0;
        QString session;
    };
    void onTripped(qint64 tripId, qint64 keyId, const QString &keyName, const QString &session, const QString &detector,
        bool paused, const QString &summary);
    void updateBadge();
    bool notifyDBus(const QString &title, const QString &body, bool withActions, const Pending &pending);
    GuardrailCenter &m_center;
    QPointer<QSystemTrayIcon> m_tray;
    QIcon m_baseIcon;
    std::function<bool()> m_enabled;
    QHash<uint, Pending> m_pending; // notification id -> the pause it offers to resume
    bool m_dbusChecked = false;
    bool m_dbusActions = false;
    bool m_usedDBus = false;
};

} // namespace gh::ui
