#include "healthmodel.h"
#include "backend.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include <QDateTime>
#include <QSet>
#include <algorithm>

namespace gh::ui {

HealthView describeHealth(const TargetHealth &h, bool seen, qint64 nowMs)
{
    HealthView v;
    const bool waiting = h.availableAtMs > nowMs;
    if (!seen || (h.successes == 0 && h.failures == 0 && h.state == TargetHealth::State::Closed && !waiting)) {
        v.state = QStringLiteral("unknown");
        v.tip = QObject::tr("No requests yet: health shows once traffic flows.");
        return v;
    }
    QStringList lines;
    if (h.state == TargetHealth::State::Open) {
        v.state = QStringLiteral("down");
        lines << QObject::tr("Down: circuit open after %n failure(s) in a row", nullptr, h.consecutiveFailures);
    } else if (waiting) {
        v.state = QStringLiteral("down");
        lines << QObject::tr("Rate limited by the provider");
    } else if (h.state == TargetHealth::State::HalfOpen) {
        v.state = QStringLiteral("degraded");
        lines << QObject::tr("Recovering: circuit half-open, one probe request goes through");
    } else if (h.errorRate > kDegradedErrorRate) {
        v.state = QStringLiteral("degraded");
        lines << QObject::tr("Degraded: many recent requests failed");
    } else {
        v.state = QStringLiteral("healthy");
        lines << QObject::tr("Healthy: circuit closed");
    }
    if (waiting) {
        const qint64 seconds = std::max<qint64>(1, (h.availableAtMs - nowMs + 999) / 1000);
        lines << QObject::tr("Available again in %n s", nullptr, int(std::min<qint64>(seconds, 1 << 30)));
    }
    lines << QObject::tr("Error rate: %1% (%2 ok, %3 failed)")
                 .arg(QString::number(std::clamp(h.errorRate, 0.0, 1.0) * 100, 'f', 0))
                 .arg(h.successes)
                 .arg(h.failures);
    lines << (h.ttftMs >= 0 ? QObject::tr("Time to first token: %1 ms").arg(qRound64(h.ttftMs))
                            : QObject::tr("Time to first token: not measured yet"));
    lines << (h.tokensPerSecond >= 0 ? QObject::tr("Speed: %1 tokens/s").arg(QString::number(h.tokensPerSecond, 'f', h.tokensPerSecond < 10 ? 1 : 0))
                                     : QObject::tr("Speed: not measured yet"));
    if (!h.lastError.isEmpty())
        lines << QObject::tr("Last error: %1").arg(h.lastError.left(240));
    v.tip = lines.join(u'\n');
    return v;
}

HealthModel::HealthModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

HealthModel::HealthModel(Backend *backend, QObject *parent)
    : HealthModel(parent)
{
    setBackend(backend);
}

void HealthModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "HealthModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void HealthModel::attachBackend()
{
    const auto again = [this] { refresh(QDateTime::currentMSecsSinceEpoch()); };
    connect(m_backend, &Backend::providersChanged, this, again);
    connect(m_backend, &Backend::routesChanged, this, again);
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, again);
    m_timer.start();
}

int HealthModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QHash<int, QByteArray> HealthModel::roleNames() const
{
    return {{ModelIdRole, "modelId"}, {ShortNameRole, "shortName"}, {HealthRole, "health"},
        {HealthTipRole, "healthTip"}};
}

QVariant HealthModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case ModelIdRole:
        return r.modelId;
    case Qt::DisplayRole:
    case ShortNameRole:
        return r.modelId.startsWith(m_provider + u'/') ? r.modelId.mid(m_provider.size() + 1) : r.modelId;
    case HealthRole:
        return r.view.state;
    case HealthTipRole:
        return r.view.tip;
    default:
        return {};
    }
}

void HealthModel::setProvider(const QString &provider)
{
    if (m_provider == provider)
        return;
    m_provider = provider;
    Q_EMIT providerChanged();
    refresh(QDateTime::currentMSecsSinceEpoch());
}

void HealthModel::refresh(qint64 nowMs)
{
    QList<Row> rows;
    int quiet = 0;
    if (m_backend && !m_provider.isEmpty()) {
        const auto snapshot = m_backend->context().registry.snapshot();
        const QHash<QString, TargetHealth> health = m_backend->context().health.snapshot();
        const QString prefix = m_provider + u'/';
        QSet<QString> routed;
        for (const RouteConfig &route : std::as_const(snapshot->routes)) {
            for (const RouteTarget &t : route.targets)
                routed.insert(t.model);
        }
        QSet<QString> ids;
        for (auto it = snapshot->models.cbegin(); it != snapshot->models.cend(); ++it) {
            if (it->config.provider != m_provider)
                continue;
            if (!it->config.fromCatalog || health.contains(it.key()) || routed.contains(it.key()))
                ids.insert(it.key());
            else
                ++quiet;
        }
        for (auto it = health.cbegin(); it != health.cend(); ++it) {
            if (it.key().startsWith(prefix))
                ids.insert(it.key());
        }
        QStringList sorted(ids.cbegin(), ids.cend());
        sorted.sort();
        for (const QString &id : std::as_const(sorted)) {
            const auto h = health.constFind(id);
            rows.append({id, describeHealth(h != health.cend() ? *h : TargetHealth{}, h != health.cend(), nowMs)});
        }
    }
    const bool sameIds = std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(), m_rows.cend(),
        [](const Row &a, const Row &b) { return a.modelId == b.modelId; });
    if (!sameIds) {
        const bool countChanges = rows.size() != m_rows.size() || quiet != m_quiet;
        beginResetModel();
        m_rows = rows;
        m_quiet = quiet;
        endResetModel();
        if (countChanges)
            Q_EMIT countChanged();
        return;
    }
    for (qsizetype i = 0; i < rows.size(); ++i) {
        if (rows[i].view == m_rows[i].view)
            continue;
        m_rows[i].view = rows[i].view;
        Q_EMIT dataChanged(index(int(i)), index(int(i)), {HealthRole, HealthTipRole});
    }
    if (quiet != m_quiet) {
        m_quiet = quiet;
        Q_EMIT countChanged();
    }
}

} // namespace gh::ui
