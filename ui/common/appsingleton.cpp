#include "appsingleton.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "store/store.h"
#include <QJsonObject>
#include "spendaggregates.h"
#include "version.h"
#include <QClipboard>
#include <QDesktopServices>
#include <QGuiApplication>
#include <QJSEngine>
#include <QUrl>

namespace gh::ui {

namespace {
QPointer<AppSingleton> g_app;
const QString kTheme = QStringLiteral("theme");
}

AppSingleton::AppSingleton(Backend *backend, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
{
    g_app = this;
    if (!m_backend)
        return;
    connect(&m_backend->gateway(), &Gateway::portChanged, this, &AppSingleton::portChanged);
    connect(m_backend, &Backend::keychainAvailableChanged, this, &AppSingleton::keychainAvailableChanged);
    connect(m_backend, &Backend::keysChanged, this, &AppSingleton::updateFirstRun);
    connect(m_backend, &Backend::providersChanged, this, &AppSingleton::updateFirstRun);
    connect(&m_backend->aggregates(), &SpendAggregates::changed, this, &AppSingleton::updateTodaySpend);
    connect(m_backend, &Backend::dayChanged, this, &AppSingleton::updateTodaySpend);
    connect(m_backend, &Backend::uiSettingChanged, this, [this](const QString &name) {
        if (name == kTheme)
            Q_EMIT themeChanged();
    });
    updateFirstRun();
    updateTodaySpend();
}

AppSingleton *AppSingleton::create(QQmlEngine *, QJSEngine *)
{
    if (g_app)
        QJSEngine::setObjectOwnership(g_app, QJSEngine::CppOwnership);
    return g_app.data();
}

AppSingleton *AppSingleton::instance()
{
    return g_app.data();
}

int AppSingleton::port() const
{
    return m_backend ? m_backend->gateway().port() : 0;
}

QString AppSingleton::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1/v1").arg(port());
}

QString AppSingleton::version()
{
    return QStringLiteral(GATEHOUSE_VERSION);
}

QString AppSingleton::dataDir() const
{
    return m_backend ? m_backend->gateway().dataDir() : QString();
}

bool AppSingleton::pausedAll() const
{
    return m_backend && m_backend->context().pausedAll.load();
}

void AppSingleton::setPausedAll(bool paused)
{
    if (!m_backend || pausedAll() == paused)
        return;
    m_backend->context().pausedAll.store(paused);
    m_backend->store().recordChange(paused ? QStringLiteral("gateway.pause") : QStringLiteral("gateway.resume"), QStringLiteral("all keys"),
                                    QJsonObject{{QStringLiteral("paused"), !paused}}, QJsonObject{{QStringLiteral("paused"), paused}});
    Q_EMIT pausedAllChanged();
}

bool AppSingleton::keychainAvailable() const
{
    return m_backend && m_backend->keychainAvailable();
}

QString AppSingleton::themeOverride()
{
    const QString t = qEnvironmentVariable("GATEHOUSE_THEME").trimmed().toLower();
    return t == QLatin1String("light") || t == QLatin1String("dark") ? t : QString();
}

QString AppSingleton::theme() const
{
    const QString t = m_backend ? m_backend->uiSetting(kTheme).toString() : QString();
    return t == QLatin1String("light") || t == QLatin1String("dark") ? t : QStringLiteral("system");
}

void AppSingleton::setTheme(const QString &theme)
{
    if (!m_backend || theme == this->theme())
        return;
    if (theme != QLatin1String("system") && theme != QLatin1String("light") && theme != QLatin1String("dark"))
        return;
    m_backend->setUiSetting(kTheme, theme); // emits uiSettingChanged -> themeChanged
}

void AppSingleton::updateFirstRun()
{
    bool first = true;
    for (const StoredKey &k : m_backend->keys())
        first = first && (k.revoked || k.name == Backend::kChatKeyName); // the Compare chat's own key does not count
    first = first && m_backend->store().providers().isEmpty();
    if (first != m_firstRun) {
        m_firstRun = first;
        Q_EMIT firstRunChanged();
    }
}

void AppSingleton::updateTodaySpend()
{
    const QDate today = m_backend->today();
    const double v = toUsd(m_backend->aggregates().total(today, today).cost);
    if (v != m_todaySpend) {
        m_todaySpend = v;
        Q_EMIT todaySpendChanged();
    }
}

void AppSingleton::copyToClipboard(const QString &text) const
{
    if (QClipboard *c = QGuiApplication::clipboard())
        c->setText(text);
}

bool AppSingleton::openUrl(const QString &url) const
{
    const QUrl u = QUrl::fromUserInput(url);
    return u.isValid() && QDesktopServices::openUrl(u);
}

} // namespace gh::ui
