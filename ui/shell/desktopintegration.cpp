#include "desktopintegration.h"
#include "appsingleton.h"
#include "backend.h"
#include "budgetnotifier.h"
#include "format.h"
#include "gateway/gateway.h"
#include <QApplication>
#include <QCloseEvent>
#include <QMenu>
#include <QPainter>
#include <QSystemTrayIcon>
#include <QLoggingCategory>
#include <QWindow>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

QIcon trayIcon()
{
    QIcon icon(QStringLiteral(":/qt/qml/Gatehouse/resources/icons/gatehouse.svg"));
    if (!icon.isNull() && !icon.availableSizes().isEmpty())
        return icon;
    if (!icon.pixmap(32, 32).isNull())
        return icon;
    // No SVG support: draw the mark.
    QPixmap pixmap(64, 64);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(QColor(0x2f, 0x6f, 0xeb));
    p.setPen(Qt::NoPen);
    p.drawRoundedRect(QRectF(4, 4, 56, 56), 14, 14);
    p.setPen(Qt::white);
    QFont f = p.font();
    f.setBold(true);
    f.setPixelSize(38);
    p.setFont(f);
    p.drawText(QRectF(4, 4, 56, 56), Qt::AlignCenter, QStringLiteral("G"));
    return QIcon(pixmap);
}

} // namespace

DesktopIntegration::DesktopIntegration(Backend &backend, AppSingleton &app, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
    , m_app(app)
{
    QGuiApplication::setQuitOnLastWindowClosed(false); // the gateway outlives the window
    m_notifier = new BudgetNotifier(backend, this);
    connect(m_notifier, &BudgetNotifier::thresholdCrossed, this,
        [this](qint64, const QString &key, const QString &period, int percent, double spent, double limit) {
            // Below 100% at "100": the key refused a request it could no longer afford.
            const QString title = percent >= 100 && spent < limit
                ? tr("“%1” can no longer afford a request within its %2 limit").arg(key, period)
                : percent >= 100 ? tr("“%1” reached its %2 limit").arg(key, period)
                : tr("“%1” used %2% of its %3 limit").arg(key).arg(percent).arg(period);
            const QString text
                = tr("%1 of %2 spent. %3")
                      .arg(Format::instance()->usd(spent), Format::instance()->usd(limit),
                          percent >= 100
                              ? tr("Requests with this key are refused until the period ends or the limit is raised.")
                              : tr("Requests are refused once the limit is reached."));
            notify(title, text, percent >= 100);
        });
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(trayIcon(), this);
        m_menu = new QMenu;
        QAction *open = m_menu->addAction(tr("Open Gatehouse"));
        connect(open, &QAction::triggered, this, &DesktopIntegration::showWindow);
        m_pauseAction = m_menu->addAction(tr("Pause all keys"));
        connect(m_pauseAction, &QAction::triggered, this, [this] { m_app.setPausedAll(!m_app.pausedAll()); });
        m_menu->addSeparator();
        QAction *quitAction = m_menu->addAction(tr("Quit Gatehouse"));
        connect(quitAction, &QAction::triggered, this, &DesktopIntegration::quit);
        m_tray->setContextMenu(m_menu);
        connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
            if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick)
                showWindow();
        });
        connect(&app, &AppSingleton::pausedAllChanged, this, &DesktopIntegration::updateTray);
        connect(&app, &AppSingleton::todaySpendChanged, this, &DesktopIntegration::updateTray);
        connect(Format::instance(), &Format::currencyChanged, this, &DesktopIntegration::updateTray);
        updateTray();
        m_tray->show();
    }
    connect(&app, &AppSingleton::raiseRequested, this, &DesktopIntegration::showWindow);
}

DesktopIntegration::~DesktopIntegration()
{
    delete m_menu;
}

bool DesktopIntegration::trayAvailable() const
{
    return m_tray && m_tray->isVisible();
}

QString DesktopIntegration::trayToolTip() const
{
    QString tip = tr("Gatehouse — today %1").arg(Format::instance()->usd(m_app.todaySpend()));
    if (m_app.pausedAll())
        tip += u'\n' + tr("All keys paused");
    return tip;
}

void DesktopIntegration::updateTray()
{
    if (!m_tray)
        return;
    m_tray->setToolTip(trayToolTip());
    m_pauseAction->setText(m_app.pausedAll() ? tr("Resume all keys") : tr("Pause all keys"));
}

void DesktopIntegration::notify(const QString &title, const QString &message, bool critical)
{
    if (!m_backend.uiSetting(QStringLiteral("notifications"), true).toBool())
        return;
    qCInfo(lcUi).noquote() << "notification:" << title; // key names and amounts only, never a secret
    if (m_tray && QSystemTrayIcon::supportsMessages())
        m_tray->showMessage(title, message, critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Warning, 10000);
}

void DesktopIntegration::setWindow(QWindow *window)
{
    if (m_window)
        m_window->removeEventFilter(this);
    m_window = window;
    if (m_window)
        m_window->installEventFilter(this);
}

void DesktopIntegration::showWindow()
{
    if (!m_window)
        return;
    if (m_window->windowState() & Qt::WindowMinimized)
        m_window->showNormal();
    else
        m_window->show();
    m_window->raise();
    m_window->requestActivate();
}

void DesktopIntegration::quit()
{
    if (m_quitting)
        return;
    m_quitting = true;
    if (m_window)
        m_window->hide();
    if (m_tray)
        m_tray->hide();
    m_backend.gateway().shutdown([] { QCoreApplication::exit(0); });
}

bool DesktopIntegration::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_window && event->type() == QEvent::Close && !m_quitting) {
        if (!trayAvailable()) {
            // Nowhere to keep running: closing the window quits, gracefully.
            quit();
            return false;
        }
        event->ignore();
        m_window->hide();
        if (!m_backend.uiSetting(QStringLiteral("closeToTrayNoticeShown"), false).toBool()) {
            m_tray->showMessage(tr("Gatehouse is still running"),
                tr("The gateway keeps serving your tools from the tray. Choose Quit in the tray "
                   "icon's menu to stop it."),
                QSystemTrayIcon::Information, 8000);
            m_backend.setUiSetting(QStringLiteral("closeToTrayNoticeShown"), true);
        }
        return true;
    }
    return QObject::eventFilter(watched, event);
}

} // namespace gh::ui
