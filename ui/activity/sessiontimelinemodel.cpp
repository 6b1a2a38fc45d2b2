#include "sessiontimelinemodel.h"
#include "backend.h"
#include "format.h"
#include "store/queryrunner.h"
#include "store/requestcodec.h"
#include <QtCharts/QXYSeries>

namespace gh::ui {

SessionTimelineModel::SessionTimelineModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

SessionTimelineModel::SessionTimelineModel(Backend *backend, QObject *parent)
    : SessionTimelineModel(parent)
{
    setBackend(backend);
}

void SessionTimelineModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SessionTimelineModel"))
        return;
    connect(m_backend, &Backend::logChanged, this, &SessionTimelineModel::refresh);
    connect(m_backend, &Backend::logCleared, this, &SessionTimelineModel::refresh);
    connect(m_backend, &Backend::instanceScopeChanged, this, &SessionTimelineModel::refresh);
    refresh();
    announceBackend(this);
}

void SessionTimelineModel::setSession(const QString &session)
{
    if (session == m_session)
        return;
    m_session = session;
    Q_EMIT sessionChanged();
    // The previous session's steps go at once: a view never shows them under the new id.
    apply({}, false);
    refresh();
}

int SessionTimelineModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_steps.size());
}

QVariant SessionTimelineModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SessionStep &s = m_steps.at(index.row());
    const RequestRecord &r = s.record;
    switch (role) {
    case Qt::DisplayRole:
    case RequestIdRole:
        return r.id;
    case StartedAtRole:
        return r.startedAtMs;
    case OffsetRole:
        return r.startedAtMs - m_steps.constFirst().record.startedAtMs;
    case ModelRole:
        return r.requestedModel;
    case ProviderRole:
        return r.provider;
    case StatusRole:
        return r.status;
    case OkRole:
        return store::isSuccess(r);
    case ErrorRole:
        return r.error;
    case PricedRole:
        return r.cost.has_value();
    case CostRole:
        return double(r.cost.value_or(0)) / 1e9;
    case CumulativeRole:
        return double(s.cumulativeNano) / 1e9;
    case InputTokensRole:
        return r.usage.totalInput();
    case OutputTokensRole:
        return r.usage.outputTokens;
    default:
        return {};
    }
}

QHash<int, QByteArray> SessionTimelineModel::roleNames() const
{
    return {{RequestIdRole, "requestId"}, {StartedAtRole, "startedAt"}, {OffsetRole, "offset"}, {ModelRole, "modelName"},
        {ProviderRole, "provider"}, {StatusRole, "status"}, {OkRole, "ok"}, {ErrorRole, "error"}, {PricedRole, "priced"},
        {CostRole, "cost"}, {CumulativeRole, "cumulative"}, {InputTokensRole, "inputTokens"},
        {OutputTokensRole, "outputTokens"}};
}

double SessionTimelineModel::totalCost() const
{
    return m_steps.isEmpty() ? 0.0 : double(m_steps.constLast().cumulativeNano) / 1e9;
}

double SessionTimelineModel::firstAt() const
{
    return m_steps.isEmpty() ? 0.0 : double(m_steps.constFirst().record.startedAtMs);
}

double SessionTimelineModel::lastAt() const
{
    return m_steps.isEmpty() ? 0.0 : double(m_steps.constLast().record.startedAtMs);
}

void SessionTimelineModel::fillCumulative(QXYSeries *series) const
{
    if (!series)
        return;
    QList<QPointF> points;
    if (!m_steps.isEmpty()) {
        const double rate = Format::instance()->currencyRate();
        const qint64 t0 = m_steps.constFirst().record.startedAtMs;
        points.reserve(2 * m_steps.size());
        double before = 0;
        for (const SessionStep &s : m_steps) {
            const double x = double(s.record.startedAtMs - t0) / 60000.0;
            const double after = double(s.cumulativeNano) / 1e9 * rate;
            points.append(QPointF(x, before));
            points.append(QPointF(x, after));
            before = after;
        }
    }
    series->replace(points);
}

void SessionTimelineModel::refresh()
{
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true; // one more run after this one (a newer session, or rows committed meanwhile)
        return;
    }
    if (m_session.isEmpty()) {
        apply({}, false);
        return;
    }
    m_running = true;
    const QString session = m_session;
    m_backend->queries().run<QList<SessionStep>>(
        this, [session](LogQueries &q) { return q.sessionTimeline(session, 0, kLimit + 1); },
        [this, session](QList<SessionStep> steps) {
            m_running = false;
            if (session == m_session) {
                const bool truncated = steps.size() > kLimit;
                if (truncated)
                    steps.resize(kLimit);
                apply(std::move(steps), truncated);
                Q_EMIT refreshed();
            }
            if (m_again || session != m_session) {
                m_again = false;
                refresh();
            }
        });
}

void SessionTimelineModel::apply(QList<SessionStep> steps, bool truncated)
{
    const bool same = truncated == m_truncated && steps.size() == m_steps.size()
        && std::equal(steps.cbegin(), steps.cend(), m_steps.cbegin(), [](const SessionStep &a, const SessionStep &b) {
               return a.seq == b.seq && a.cumulativeNano == b.cumulativeNano && a.record == b.record;
           });
    if (same)
        return;
    beginResetModel();
    m_steps = std::move(steps);
    m_truncated = truncated;
    m_unpriced = 0;
    m_failed = 0;
    for (const SessionStep &s : m_steps) {
        const bool ok = store::isSuccess(s.record);
        m_failed += ok ? 0 : 1;
        m_unpriced += (!s.record.cost && s.record.status >= 200 && s.record.status <= 299) ? 1 : 0;
    }
    endResetModel();
    Q_EMIT changed();
}

} // namespace gh::ui
