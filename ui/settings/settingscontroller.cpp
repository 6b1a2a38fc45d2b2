#include "settingscontroller.h"
#include "backend.h"
#include "format.h"
#include "gateway/gateway.h"
#include "platform/autostart.h"
#include "config/config.h"
#include "core/keyhash.h"
#include "state/configapply.h"
#include <QJsonDocument>
#include <QJsonObject>
#include <QDesktopServices>
#include <QUrl>

namespace gh::ui {

namespace {
const QString kStartMinimized = QStringLiteral("startMinimized");
const QString kCurrency = QStringLiteral("currency");
const QString kCurrencyRate = QStringLiteral("currencyRate");
const QString kCloseNotice = QStringLiteral("closeToTrayNoticeShown");
const QString kNotifications = QStringLiteral("notifications");
} // namespace

SettingsController::SettingsController(QObject *parent)
    : QObject(parent)
{
}

SettingsController::SettingsController(Backend *backend, QObject *parent)
    : SettingsController(parent)
{
    setBackend(backend);
}

void SettingsController::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SettingsController"))
        return;
    attachBackend();
    announceBackend(this);
}

void SettingsController::attachBackend()
{
    m_port = m_backend->gateway().port();
    connect(&m_backend->gateway(), &Gateway::portChanged, this, [this] {
        Q_EMIT listeningPortChanged();
        if (m_port != listeningPort()) {
            m_port = listeningPort();
            Q_EMIT portChanged();
        }
    });
    connect(m_backend, &Backend::uiSettingChanged, this, [this](const QString &name) {
        if (name == kStartMinimized)
            Q_EMIT startMinimizedChanged();
        else if (name == kCurrency || name == kCurrencyRate)
            Q_EMIT currencyChanged();
        else if (name == kCloseNotice)
            Q_EMIT closeToTrayNoticeShownChanged();
        else if (name == kNotifications)
            Q_EMIT notificationsEnabledChanged();
    });
}

void SettingsController::applyCurrency(Backend &backend)
{
    Format::instance()->setCurrency(backend.uiSetting(kCurrency, QStringLiteral("USD")).toString(),
        backend.uiSetting(kCurrencyRate, 1.0).toDouble(1.0));
}

void SettingsController::setPort(int port)
{
    if (port == m_port)
        return;
    m_port = port;
    Q_EMIT portChanged();
}

int SettingsController::listeningPort() const
{
    return m_backend ? m_backend->gateway().port() : 0;
}

bool SettingsController::applyPort()
{
    if (!m_backend)
        return false;
    QString error;
    bool ok = false;
    if (m_port < 1024 || m_port > 65535) {
        error = tr("Choose a port from 1024 to 65535.");
    } else {
        ok = m_backend->gateway().restartListener(quint16(m_port), &error);
    }
    if (ok) {
        GatewaySettings settings = loadGatewaySettings(m_backend->store());
        settings.port = m_port;
        saveGatewaySettings(m_backend->store(), settings);
        error.clear();
    }
    if (error != m_portError) {
        m_portError = error;
        Q_EMIT portErrorChanged();
    }
    return ok;
}

bool SettingsController::startMinimized() const
{
    return m_backend && m_backend->uiSetting(kStartMinimized, false).toBool();
}

void SettingsController::setStartMinimized(bool v)
{
    if (m_backend)
        m_backend->setUiSetting(kStartMinimized, v);
}

bool SettingsController::launchAtLogin() const
{
    return gh::launchAtLoginEnabled();
}

void SettingsController::setLaunchAtLogin(bool v)
{
    QString error;
    if (!gh::setLaunchAtLogin(v, &error))
        m_launchError = error.isEmpty() ? tr("The login item could not be changed.") : error;
    else
        m_launchError.clear();
    Q_EMIT launchAtLoginChanged();
}

QString SettingsController::dataDir() const
{
    return m_backend ? m_backend->gateway().dataDir() : QString();
}

QString SettingsController::databasePath() const
{
    return m_backend ? m_backend->store().path() : QString();
}

QStringList SettingsController::currencies()
{
    return {QStringLiteral("USD"), QStringLiteral("EUR"), QStringLiteral("GBP")};
}

QString SettingsController::currency() const
{
    return Format::instance()->currency();
}

void SettingsController::setCurrency(const QString &code)
{
    if (!m_backend || !currencies().contains(code))
        return;
    // Format first: setUiSetting() notifies (currencyChanged) synchronously, and a reader of
    // currency() then must already see the new code (the combo showed the previous choice).
    Format::instance()->setCurrency(code, currencyRate());
    m_backend->setUiSetting(kCurrency, code);
    applyCurrency(*m_backend);
}

double SettingsController::currencyRate() const
{
    return m_backend ? m_backend->uiSetting(kCurrencyRate, 1.0).toDouble(1.0) : 1.0;
}

void SettingsController::setCurrencyRate(double rate)
{
    if (!m_backend || !(rate > 0) || rate > 1e6)
        return;
    Format::instance()->setCurrency(currency(), rate);
    m_backend->setUiSetting(kCurrencyRate, rate);
    applyCurrency(*m_backend);
}

bool SettingsController::closeToTrayNoticeShown() const
{
    return m_backend && m_backend->uiSetting(kCloseNotice, false).toBool();
}

void SettingsController::setCloseToTrayNoticeShown(bool v)
{
    if (m_backend)
        m_backend->setUiSetting(kCloseNotice, v);
}

bool SettingsController::notificationsEnabled() const
{
    return !m_backend || m_backend->uiSetting(kNotifications, true).toBool();
}

void SettingsController::setNotificationsEnabled(bool v)
{
    if (m_backend)
        m_backend->setUiSetting(kNotifications, v);
}

void SettingsController::clearData()
{
    if (!m_backend || m_clearing)
        return;
    m_clearing = true;
    Q_EMIT clearingChanged();
    QPointer<SettingsController> self(this);
    m_backend->clearLog([self](bool ok, const QString &error) {
        if (!self)
            return;
        self->m_clearing = false;
        Q_EMIT self->clearingChanged();
        Q_EMIT self->clearFinished(ok, ok ? tr("The request log is empty.") : tr("Clearing failed: %1").arg(error));
    });
}

void SettingsController::openDataDir() const
{
    QDesktopServices::openUrl(QUrl::fromLocalFile(dataDir()));
}

QString SettingsController::otlpEndpoint() const
{
    return m_backend ? loadGatewaySettings(m_backend->store()).otlp.endpoint.toString() : QString();
}

QString SettingsController::otlpHeaders() const
{
    if (!m_backend)
        return {};
    QStringList parts;
    for (const OtlpHeader &h : loadGatewaySettings(m_backend->store()).otlp.headers)
        parts.append(h.name + u'=' + (h.env.isEmpty() ? h.value : u'$' + h.env));
    return parts.join(QLatin1String(", "));
}

bool SettingsController::metricsEnabled() const
{
    return m_backend && loadGatewaySettings(m_backend->store()).metrics.enabled();
}

bool SettingsController::applyOtlp(const QString &endpoint, const QString &headersText)
{
    if (!m_backend)
        return false;
    // The same rules as the config file's settings.otlp: one validation, one set of messages.
    QJsonObject headers;
    for (const QString &part : headersText.split(u',', Qt::SkipEmptyParts)) {
        const QString item = part.trimmed();
        const qsizetype eq = item.indexOf(u'=');
        if (item.isEmpty())
            continue;
        if (eq <= 0) {
            m_telemetryError = tr("Write each header as name=value (or name=$VARIABLE): %1").arg(item);
            Q_EMIT telemetryChanged();
            return false;
        }
        const QString value = item.mid(eq + 1).trimmed();
        headers.insert(item.left(eq).trimmed(),
                       value.startsWith(u'$') ? QJsonValue(QJsonObject{{QStringLiteral("env"), value.mid(1)}}) : QJsonValue(value));
    }
    const QJsonObject otlp{{QStringLiteral("endpoint"), endpoint.trimmed()}, {QStringLiteral("headers"), headers}};
    ConfigError error;
    const auto parsed = parseConfig(QJsonDocument(QJsonObject{{QStringLiteral("settings"), QJsonObject{{QStringLiteral("otlp"), otlp}}}}).toJson(),
                                    tr("Settings"), &error);
    if (!parsed) {
        m_telemetryError = error.path.section(u'.', 1) + QStringLiteral(": ") + error.message;
        Q_EMIT telemetryChanged();
        return false;
    }
    GatewaySettings settings = loadGatewaySettings(m_backend->store());
    settings.otlp.endpoint = parsed->settings->otlp.endpoint;
    settings.otlp.headers = parsed->settings->otlp.headers;
    saveGatewaySettings(m_backend->store(), settings);
    m_backend->gateway().reloadKeys(); // applies the settings, telemetry included
    m_telemetryError.clear();
    Q_EMIT telemetryChanged();
    return true;
}

QString SettingsController::newMetricsToken()
{
    if (!m_backend)
        return {};
    const QString token = generateSecret();
    GatewaySettings settings = loadGatewaySettings(m_backend->store());
    settings.metrics.tokenHash = hashSecret(QStringView(token));
    saveGatewaySettings(m_backend->store(), settings);
    m_backend->gateway().reloadKeys();
    Q_EMIT telemetryChanged();
    return token;
}

void SettingsController::disableMetrics()
{
    if (!m_backend)
        return;
    GatewaySettings settings = loadGatewaySettings(m_backend->store());
    settings.metrics = MetricsSettings{};
    saveGatewaySettings(m_backend->store(), settings);
    m_backend->gateway().reloadKeys();
    Q_EMIT telemetryChanged();
}

} // namespace gh::ui
