#include "analyticsmodelbase.h"
#include "routing/registry.h"
#include "gateway/gateway.h"

namespace gh::ui {

namespace {
constexpr qint64 kDayMs = 24 * 3'600'000LL;
} // namespace

AnalyticsModelBase::AnalyticsModelBase(const char *name, QObject *parent)
    : QAbstractListModel(parent)
    , m_name(name)
{
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(2000);
    connect(&m_throttle, &QTimer::timeout, this, &AnalyticsModelBase::refresh);
}

void AnalyticsModelBase::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, m_name))
        return;
    connect(m_backend, &Backend::logChanged, this, [this] {
        if (!m_throttle.isActive())
            m_throttle.start();
    });
    connect(m_backend, &Backend::logCleared, this, &AnalyticsModelBase::refresh);
    connect(m_backend, &Backend::instanceScopeChanged, this, &AnalyticsModelBase::refresh);
    backendAttached();
    refresh();
    announceBackend(this);
}

analytics::Period AnalyticsModelBase::periodRange(const QString &period, qint64 nowMs, int keyId)
{
    analytics::Period p;
    p.toMs = nowMs + 1;
    p.fromMs = period == QLatin1String("day") ? nowMs - kDayMs
        : period == QLatin1String("week")     ? nowMs - 7 * kDayMs
        : period == QLatin1String("month")    ? nowMs - 30 * kDayMs
                                              : 0;
    if (keyId >= 0)
        p.keyId = keyId;
    return p;
}

void AnalyticsModelBase::setPeriod(const QString &period)
{
    static const QStringList periods{
        QStringLiteral("day"), QStringLiteral("week"), QStringLiteral("month"), QStringLiteral("all")};
    if (!periods.contains(period)) {
        qWarning("%s: period must be \"day\", \"week\", \"month\" or \"all\", not \"%s\"", m_name, qPrintable(period));
        return;
    }
    if (period == m_period)
        return;
    m_period = period;
    Q_EMIT periodChanged();
    refresh();
}

void AnalyticsModelBase::refresh()
{
    m_throttle.stop();
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true;
        return;
    }
    start();
}

void AnalyticsModelBase::beginRun()
{
    m_running = true;
    if (!m_loading) {
        m_loading = true;
        Q_EMIT loadingChanged();
    }
}

void AnalyticsModelBase::endRun()
{
    if (m_again) {
        m_again = false;
        if (m_backend) {
            start();
            return;
        }
    }
    if (m_loading) {
        m_loading = false;
        Q_EMIT loadingChanged();
    }
}

void AnalyticsModelBase::replaceRows(
    bool ok, const QString &error, const char *what, const std::function<void()> &assign)
{
    if (!ok) {
        qWarning("%s: cannot read the %s: %s", m_name, what, qPrintable(error));
        return;
    }
    const int before = rowCount();
    beginResetModel();
    assign();
    m_ready = true;
    endResetModel();
    if (rowCount() != before)
        Q_EMIT countChanged();
    Q_EMIT resultChanged();
}

QHash<QString, analytics::Prices> AnalyticsModelBase::gatewayPrices() const
{
    QHash<QString, analytics::Prices> out;
    if (!m_backend)
        return out;
    const auto snapshot = m_backend->context().registry.snapshot();
    for (auto it = snapshot->models.cbegin(); it != snapshot->models.cend(); ++it) {
        const ModelPrice &p = it->config.price;
        out.insert(it.key(), analytics::Prices{p.input, p.output, p.cacheRead, p.cacheWrite, p.cacheWrite1h});
    }
    return out;
}

} // namespace gh::ui
