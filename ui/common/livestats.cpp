#include "livestats.h"
#include "gateway/gatewaycontext.h"
#include "store/requestrecord.h"
#include "store/store.h"
#include <cmath>
#include <QDateTime>
#include <QJSEngine>
#include <QPointer>
#include <QtCharts/QXYSeries>

namespace gh::ui {

namespace {
QPointer<LiveStats> g_stats;
}

LiveStats::LiveStats(QObject *parent)
    : QObject(parent)
{
    m_timer.setInterval(1000);
    m_timer.setTimerType(Qt::CoarseTimer);
    connect(&m_timer, &QTimer::timeout, this, [this] { tick(QDateTime::currentMSecsSinceEpoch()); });
}

LiveStats *LiveStats::create(QQmlEngine *, QJSEngine *)
{
    if (g_stats)
        QJSEngine::setObjectOwnership(g_stats, QJSEngine::CppOwnership);
    return g_stats.data();
}

LiveStats *LiveStats::instance()
{
    return g_stats.data();
}

void LiveStats::setInstance(LiveStats *stats)
{
    g_stats = stats;
}

void LiveStats::watchStore(Store *store)
{
    auto refresh = [this, store] {
        const Store::LogHealth h = store->logHealth();
        QString problem;
        if (h.full)
            problem = tr("The request log cannot be written (%1). %n answered request(s) wait in memory; new requests are "
                         "refused until Gatehouse can write again.", nullptr, h.waiting).arg(h.error);
        else if (h.failing)
            problem = tr("The request log cannot be written (%1). %n answered request(s) wait in memory and are retried; "
                         "at %2 new requests will be refused.", nullptr, h.waiting).arg(h.error).arg(h.capacity);
        if (problem == m_logProblem)
            return;
        m_logProblem = problem;
        Q_EMIT logHealthChanged();
    };
    connect(store, &Store::logHealthChanged, this, refresh, Qt::QueuedConnection);
    refresh();
}

void LiveStats::attach(QObject *gatewayEvents)
{
    if (auto *events = qobject_cast<GatewayEvents *>(gatewayEvents)) {
        connect(events, &GatewayEvents::requestFinished, this,
            [this](const RequestRecord &r) { record(r, QDateTime::currentMSecsSinceEpoch()); });
    }
    tick(QDateTime::currentMSecsSinceEpoch());
    m_timer.start();
}

void LiveStats::record(const RequestRecord &r, qint64 nowMs)
{
    const qint64 second = nowMs / 1000;
    Second &s = m_slots[std::size_t(second % kSlots)];
    if (s.second != second)
        s = Second{second};
    s.requests += 1;
    s.tokens += double(r.usage.totalInput() + r.usage.outputTokens);
    if (r.cost)
        s.dollars += toUsd(*r.cost);
}

const LiveStats::Second *LiveStats::at(qint64 second) const
{
    const Second &s = m_slots[std::size_t(((second % kSlots) + kSlots) % kSlots)];
    return s.second == second ? &s : nullptr;
}

double LiveStats::dollarsPerHourAt(qint64 second) const
{
    double sum = 0;
    for (qint64 s = second - kDollarSeconds + 1; s <= second; ++s) {
        if (const Second *slot = at(s))
            sum += slot->dollars;
    }
    return sum * (3600.0 / kDollarSeconds);
}

void LiveStats::tick(qint64 nowMs)
{
    // The second in progress is still filling: everything shown ends with the one before it.
    m_lastTick = nowMs / 1000 - 1;
    double rps = 0, tps = 0, maxRps = 0, maxTps = 0, maxDph = 0;
    qint64 inWindow = 0;
    // $/hour over a sliding minute, computed incrementally across the window.
    double minute = 0;
    const qint64 first = m_lastTick - kWindowSeconds + 1;
    for (qint64 s = first - kDollarSeconds + 1; s < first; ++s) {
        if (const Second *slot = at(s))
            minute += slot->dollars;
    }
    for (qint64 s = first; s <= m_lastTick; ++s) {
        const Second *slot = at(s);
        if (const Second *leaving = at(s - kDollarSeconds))
            minute -= leaving->dollars;
        if (slot) {
            minute += slot->dollars;
            maxRps = std::max(maxRps, slot->requests);
            maxTps = std::max(maxTps, slot->tokens);
            inWindow += qint64(slot->requests);
            if (s > m_lastTick - kCurrentSeconds) {
                rps += slot->requests;
                tps += slot->tokens;
            }
        }
        maxDph = std::max(maxDph, minute * (3600.0 / kDollarSeconds));
    }
    m_rps = rps / kCurrentSeconds;
    m_tps = tps / kCurrentSeconds;
    m_dph = dollarsPerHourAt(m_lastTick);
    m_maxRps = maxRps;
    m_maxTps = maxTps;
    m_maxDph = maxDph;
    m_inWindow = inWindow;
    Q_EMIT updated();
}

QList<QPointF> LiveStats::points(const QString &metric) const
{
    QList<QPointF> out;
    out.reserve(kWindowSeconds);
    const bool dollars = metric == QLatin1String("dollars");
    const bool tokens = metric == QLatin1String("tokens");
    for (int ago = kWindowSeconds - 1; ago >= 0; --ago) {
        const qint64 s = m_lastTick - ago;
        double y = 0;
        if (dollars) {
            y = dollarsPerHourAt(s);
        } else if (const Second *slot = at(s)) {
            y = tokens ? slot->tokens : slot->requests;
        }
        out.append(QPointF(-ago, y));
    }
    return out;
}

void LiveStats::fillSeries(QAbstractSeries *series, const QString &metric) const
{
    if (auto *xy = qobject_cast<QXYSeries *>(series))
        xy->replace(points(metric));
}

} // namespace gh::ui
