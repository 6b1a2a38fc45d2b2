#include "sessionspendmodel.h"
#include "backend.h"
#include "store/queryrunner.h"
#include <QDateTime>

namespace gh::ui {

SessionSpendModel::SessionSpendModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

SessionSpendModel::SessionSpendModel(Backend *backend, QObject *parent)
    : SessionSpendModel(parent)
{
    setBackend(backend);
}

void SessionSpendModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SessionSpendModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void SessionSpendModel::attachBackend()
{
    connect(m_backend, &Backend::logChanged, this, &SessionSpendModel::refresh);
    connect(m_backend, &Backend::logCleared, this, &SessionSpendModel::refresh);
    connect(m_backend, &Backend::instanceScopeChanged, this, &SessionSpendModel::refresh);
    connect(m_backend, &Backend::dayChanged, this, &SessionSpendModel::refresh);
    refresh();
}

int SessionSpendModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant SessionSpendModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case SessionRole:
        return r.session;
    case KeyNameRole:
        return r.keyName;
    case CostRole:
        return double(r.costNano) / 1e9;
    case RequestsRole:
        return r.requests;
    case UnpricedRole:
        return r.unpriced;
    case FirstAtRole:
        return r.firstAtMs;
    case LastAtRole:
        return r.lastAtMs;
    case DurationRole:
        return r.lastAtMs - r.firstAtMs;
    case FailedRole:
        return r.failed;
    case ModelsRole: {
        QVariantList models;
        models.reserve(r.models.size());
        for (const SessionModelShare &m : r.models)
            models.append(QVariantMap{{QStringLiteral("model"), m.model}, {QStringLiteral("requests"), m.requests},
                {QStringLiteral("cost"), double(m.costNano) / 1e9},
                // Of the spend; a session without spend splits by requests.
                {QStringLiteral("share"), r.costNano > 0 ? double(m.costNano) / double(r.costNano)
                                                          : double(m.requests) / double(std::max<qint64>(1, r.requests))}});
        return models;
    }
    default:
        return {};
    }
}

QHash<int, QByteArray> SessionSpendModel::roleNames() const
{
    return {{SessionRole, "session"}, {KeyNameRole, "keyName"}, {CostRole, "cost"}, {RequestsRole, "requests"},
        {UnpricedRole, "unpriced"}, {FirstAtRole, "firstAt"}, {LastAtRole, "lastAt"},
        {DurationRole, "duration"}, {FailedRole, "failed"}, {ModelsRole, "models"}};
}

void SessionSpendModel::setLimit(int limit)
{
    limit = std::max(0, limit);
    if (limit == m_limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    refresh();
}

void SessionSpendModel::refresh()
{
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true; // one more run after this one: rows committed meanwhile are counted
        return;
    }
    m_running = true;
    // Today in local time, as the key budgets' day period.
    const qint64 sinceMs = QDateTime(m_backend->today(), QTime(0, 0)).toMSecsSinceEpoch();
    const int limit = m_limit;
    m_backend->queries().run<QList<Row>>(
        this,
        [sinceMs, limit](LogQueries &q) { return q.sessionSpend(sinceMs, limit); },
        [this](QList<Row> rows) {
            m_running = false;
            apply(std::move(rows));
            Q_EMIT refreshed();
            if (m_again) {
                m_again = false;
                refresh();
            }
        });
}

void SessionSpendModel::apply(QList<Row> rows)
{
    if (rows == m_rows)
        return;
    const bool countChanges = rows.size() != m_rows.size();
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
    if (countChanges)
        Q_EMIT countChanged();
}

} // namespace gh::ui
