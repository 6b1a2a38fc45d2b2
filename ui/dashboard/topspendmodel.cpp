#include "topspendmodel.h"
#include "backend.h"
#include "spendaggregates.h"
#include <algorithm>

namespace gh::ui {

TopSpendModel::TopSpendModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

TopSpendModel::TopSpendModel(Backend *backend, QObject *parent)
    : TopSpendModel(parent)
{
    setBackend(backend);
}

void TopSpendModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "TopSpendModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void TopSpendModel::attachBackend()
{
    connect(&m_backend->aggregates(), &SpendAggregates::changed, this, &TopSpendModel::recompute);
    connect(m_backend, &Backend::dayChanged, this, &TopSpendModel::recompute);
    connect(m_backend, &Backend::keysChanged, this, &TopSpendModel::recompute); // renames
    recompute();
}

void TopSpendModel::setGroupBy(const QString &groupBy)
{
    if (groupBy != QLatin1String("key") && groupBy != QLatin1String("model")) {
        qWarning("TopSpendModel: groupBy must be \"key\" or \"model\", not \"%s\"", qPrintable(groupBy));
        return;
    }
    if (groupBy == m_groupBy)
        return;
    m_groupBy = groupBy;
    Q_EMIT groupByChanged();
    recompute();
}

void TopSpendModel::setPeriod(const QString &period)
{
    if (period != QLatin1String("day") && period != QLatin1String("week") && period != QLatin1String("month")) {
        qWarning("TopSpendModel: period must be \"day\", \"week\" or \"month\", not \"%s\"", qPrintable(period));
        return;
    }
    if (period == m_period)
        return;
    m_period = period;
    Q_EMIT periodChanged();
    recompute();
}

void TopSpendModel::setLimit(int limit)
{
    limit = std::max(0, limit);
    if (limit == m_limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    recompute();
}

void TopSpendModel::recompute()
{
    if (!m_backend)
        return;
    const QDate today = m_backend->today();
    QDate from = today;
    if (m_period == QLatin1String("week"))
        from = today.addDays(1 - today.dayOfWeek());
    else if (m_period == QLatin1String("month"))
        from = QDate(today.year(), today.month(), 1);
    const bool byKey = m_groupBy == QLatin1String("key");

    struct Sum {
        NanoUsd cost = 0;
        qint64 requests = 0;
        qint64 tokens = 0;
        qint64 answered = 0;
        qint64 unpriced = 0;
    };
    QHash<QString, Sum> sums;
    NanoUsd totalCost = 0;
    qint64 totalRequests = 0;
    const auto groups = m_backend->aggregates().groups(from, today);
    for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
        QString name;
        if (byKey) {
            if (it.key().keyId == 0)
                continue; // refused before a key was known
            name = m_backend->keyName(it.key().keyId, it.key().keyName);
        } else {
            name = it.key().model;
            if (name.isEmpty())
                continue;
        }
        Sum &s = sums[name];
        s.cost += it->cost;
        s.requests += it->requests;
        s.tokens += it->tokens;
        s.answered += it->answered;
        s.unpriced += it->unpriced;
        totalCost += it->cost;
        totalRequests += it->requests;
    }
    QList<Row> rows;
    for (auto it = sums.cbegin(); it != sums.cend(); ++it) {
        // A model name no provider ever answered for (404 "no such model", typos) is not a model
        // that spent anything: it is in Activity, not here.
        if (!byKey && it->answered == 0 && it->cost == 0)
            continue;
        Row r;
        r.name = it.key();
        r.cost = toUsd(it->cost);
        r.requests = it->requests;
        r.tokens = it->tokens;
        r.unpriced = it->unpriced;
        r.share = totalCost > 0 ? double(it->cost) / double(totalCost)
                                : (totalRequests > 0 ? double(it->requests) / double(totalRequests) : 0.0);
        rows.append(r);
    }
    std::sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        if (a.cost != b.cost)
            return a.cost > b.cost;
        if (a.requests != b.requests)
            return a.requests > b.requests;
        return a.name < b.name;
    });
    if (rows.size() > m_limit)
        rows.resize(m_limit);

    bool sameNames = rows.size() == m_rows.size();
    for (qsizetype i = 0; sameNames && i < rows.size(); ++i)
        sameNames = rows[i].name == m_rows[i].name;
    m_total = toUsd(totalCost);
    if (sameNames) {
        m_rows = rows;
        if (!m_rows.isEmpty())
            Q_EMIT dataChanged(
                index(0), index(int(m_rows.size()) - 1), {CostRole, RequestsRole, ShareRole, TokensRole, UnpricedRole});
    } else {
        beginResetModel();
        m_rows = rows;
        endResetModel();
    }
    Q_EMIT countChanged();
}

int TopSpendModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant TopSpendModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case NameRole:
    case Qt::DisplayRole:
        return r.name;
    case CostRole:
        return r.cost;
    case RequestsRole:
        return r.requests;
    case ShareRole:
        return r.share;
    case TokensRole:
        return r.tokens;
    case UnpricedRole:
        return r.unpriced;
    default:
        return {};
    }
}

QHash<int, QByteArray> TopSpendModel::roleNames() const
{
    return {{NameRole, "name"}, {CostRole, "cost"}, {RequestsRole, "requests"}, {ShareRole, "share"},
        {TokensRole, "tokens"}, {UnpricedRole, "unpriced"}};
}

} // namespace gh::ui
