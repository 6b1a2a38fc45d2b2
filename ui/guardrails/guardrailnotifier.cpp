#include "guardrailnotifier.h"
#include "guardrailcenter.h"
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusReply>
#include <QLoggingCategory>
#include <QPainter>
#include <QSystemTrayIcon>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kInterface = QStringLiteral("org.freedesktop.Notifications");
const QString kResume = QStringLiteral("resume");
const QString kKeep = QStringLiteral("keep");

QString scopeText(const QString &keyName, const QString &session)
{
    return session.isEmpty() ? GuardrailNotifier::tr("key “%1”").arg(keyName)
                             : GuardrailNotifier::tr("a session of “%1” (%2)").arg(keyName, session.left(12));
}

} // namespace

GuardrailNotifier::GuardrailNotifier(
    GuardrailCenter &center, QSystemTrayIcon *tray, std::function<bool()> enabled, QObject *parent)
    : QObject(parent)
    , m_center(center)
    , m_tray(tray)
    , m_enabled(std::move(enabled))
{
    if (m_tray) {
        m_baseIcon = m_tray->icon();
        connect(m_tray, &QSystemTrayIcon::messageClicked, this, &GuardrailNotifier::showRequested);
    }
    connect(&center, &GuardrailCenter::tripped, this, &GuardrailNotifier::onTripped);
    connect(&center, &GuardrailCenter::activePausesChanged, this, &GuardrailNotifier::updateBadge);
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (bus.isConnected()) {
        bus.connect(
            kService, kPath, kInterface, QStringLiteral("ActionInvoked"), this, SLOT(onActionInvoked(uint, QString)));
        bus.connect(
            kService, kPath, kInterface, QStringLiteral("NotificationClosed"), this, SLOT(onClosed(uint, uint)));
    }
    updateBadge();
}

QIcon GuardrailNotifier::badged(const QIcon &base, int count)
{
    if (count <= 0)
        return base;
    QPixmap pixmap = base.pixmap(64, 64);
    if (pixmap.isNull()) {
        pixmap = QPixmap(64, 64);
        pixmap.fill(Qt::transparent);
    }
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    const QRectF badge(30, 30, 34, 34);
    p.setPen(QPen(Qt::white, 3));
    p.setBrush(QColor(0xd9, 0x3b, 0x3b)); // the palette's danger red
    p.drawEllipse(badge.adjusted(1.5, 1.5, -1.5, -1.5));
    QFont f = p.font();
    f.setBold(true);
    f.setPixelSize(count > 9 ? 17 : 22);
    p.setFont(f);
    p.setPen(Qt::white);
    p.drawText(badge, Qt::AlignCenter, count > 9 ? QStringLiteral("9+") : QString::number(count));
    p.end();
    return QIcon(pixmap);
}

void GuardrailNotifier::updateBadge()
{
    if (!m_tray)
        return;
    const int n = m_center.activePauses();
    m_tray->setIcon(badged(m_baseIcon, n));
}

void GuardrailNotifier::onTripped(qint64 tripId, qint64 keyId, const QString &keyName, const QString &session,
    const QString &detector, bool paused, const QString &summary)
{
    if (m_enabled && !m_enabled())
        return;
    const QString title = paused ? tr("Gatehouse paused %1").arg(scopeText(keyName, session))
                                 : tr("Guardrail alert on %1").arg(scopeText(keyName, session));
    const QString body = tr("Its %1 guardrail detected that %2.").arg(detector, summary);
    qCInfo(lcUi).noquote() << "notification:" << title; // key names and sessions only, never a secret
    if (notifyDBus(title, body, paused, Pending{tripId, keyId, session})) {
        m_usedDBus = true;
        Q_EMIT notified(title, true);
        return;
    }
    m_usedDBus = false;
    if (m_tray && QSystemTrayIcon::supportsMessages())
        m_tray->showMessage(title, paused ? body + u' ' + tr("Open Gatehouse to resume it or keep it paused.") : body,
            paused ? QSystemTrayIcon::Critical : QSystemTrayIcon::Warning, 15000);
    Q_EMIT notified(title, false);
}

bool GuardrailNotifier::notifyDBus(const QString &title, const QString &body, bool withActions, const Pending &pending)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected() || !bus.interface() || !bus.interface()->isServiceRegistered(kService))
        return false;
    if (!m_dbusChecked) {
        // Asked once: whether the server shows actions at all (some show only the text).
        const QDBusMessage caps
            = bus.call(QDBusMessage::createMethodCall(kService, kPath, kInterface, QStringLiteral("GetCapabilities")),
                QDBus::Block, 2000);
        if (caps.type() != QDBusMessage::ReplyMessage)
            return false;
        m_dbusChecked = true;
        m_dbusActions = !caps.arguments().isEmpty()
            && caps.arguments().constFirst().toStringList().contains(QStringLiteral("actions"));
    }
    if (withActions && !m_dbusActions)
        return false; // the balloon says where to resume; a notification without its buttons would not
    QStringList actions;
    if (withActions)
        actions << QStringLiteral("default") << tr("Open Guardrails") << kResume << tr("Resume") << kKeep
                << tr("Keep paused");
    QDBusMessage call = QDBusMessage::createMethodCall(kService, kPath, kInterface, QStringLiteral("Notify"));
    const QVariantMap hints{{QStringLiteral("urgency"), QVariant::fromValue(uchar(withActions ? 2 : 1))},
        {QStringLiteral("desktop-entry"), QStringLiteral("gatehouse")}};
    call << QStringLiteral("Gatehouse") << uint(0) << QStringLiteral("gatehouse") << title << body << actions << hints
         << int(withActions ? 0 : 15000); // a pause stays until answered
    const QDBusReply<uint> reply = bus.call(call, QDBus::Block, 2000);
    if (!reply.isValid()) {
        qCWarning(lcUi) << "the desktop notification could not be shown:" << reply.error().message();
        return false;
    }
    if (withActions)
        m_pending.insert(reply.value(), pending);
    return true;
}

void GuardrailNotifier::onActionInvoked(uint id, const QString &action)
{
    const auto it = m_pending.constFind(id);
    if (it == m_pending.constEnd())
        return; // another application's notification
    const Pending p = *it;
    m_pending.erase(it);
    if (action == kResume)
        m_center.resume(p.keyId, p.session);
    else if (action == kKeep)
        m_center.keepPaused(p.tripId);
    else
        Q_EMIT showRequested();
}

void GuardrailNotifier::onClosed(uint id, uint)
{
    m_pending.remove(id);
}

} // namespace gh::ui
