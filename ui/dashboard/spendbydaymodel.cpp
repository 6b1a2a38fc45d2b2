#include "spendbydaymodel.h"
#include "backend.h"
#include "format.h"
#include "spendaggregates.h"
#include <algorithm>
#include <QtCharts/QAbstractBarSeries>
#include <QtCharts/QBarSet>
#include <QColor>

namespace gh::ui {

SpendByDayModel::SpendByDayModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

SpendByDayModel::SpendByDayModel(Backend *backend, QObject *parent)
    : SpendByDayModel(parent)
{
    setBackend(backend);
}

void SpendByDayModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SpendByDayModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void SpendByDayModel::attachBackend()
{
    connect(&m_backend->aggregates(), &SpendAggregates::changed, this, &SpendByDayModel::recompute);
    connect(m_backend, &Backend::dayChanged, this, &SpendByDayModel::recompute);
    recompute();
}

void SpendByDayModel::recompute()
{
    const QDate today = m_backend->today();
    const QDate first = today.addDays(1 - kDays);
    QHash<QString, QList<NanoUsd>> perProvider; // provider -> nano per day
    const auto groups = m_backend->aggregates().groups(first, today);
    for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
        if (it.key().provider.isEmpty() || it->cost == 0)
            continue;
        auto &days = perProvider[it.key().provider];
        if (days.isEmpty())
            days.resize(kDays, 0);
        days[first.daysTo(it.key().day)] += it->cost;
    }
    QList<std::pair<NanoUsd, QString>> order;
    for (auto it = perProvider.cbegin(); it != perProvider.cend(); ++it) {
        NanoUsd sum = 0;
        for (const NanoUsd v : *it)
            sum += v;
        order.append({sum, it.key()});
    }
    std::sort(order.begin(), order.end(),
        [](const auto &a, const auto &b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
    QStringList providers;
    for (const auto &o : std::as_const(order))
        providers.append(o.second);
    QStringList days;
    for (int d = 0; d < kDays; ++d)
        days.append(first.addDays(d).toString(Qt::ISODate));

    QList<double> costs(qsizetype(kDays) * providers.size(), 0.0);
    QList<double> dayTotals(kDays, 0.0);
    NanoUsd total = 0;
    QList<NanoUsd> dayNano(kDays, 0);
    for (int p = 0; p < providers.size(); ++p) {
        const auto &values = perProvider[providers[p]];
        for (int d = 0; d < kDays; ++d) {
            costs[d * providers.size() + p] = toUsd(values[d]);
            dayNano[d] += values[d];
            total += values[d];
        }
    }
    double maxDay = 0;
    for (int d = 0; d < kDays; ++d) {
        dayTotals[d] = toUsd(dayNano[d]);
        maxDay = std::max(maxDay, dayTotals[d]);
    }

    const bool sameShape = providers == m_providers && days == m_days;
    if (!sameShape)
        beginResetModel();
    m_providers = providers;
    m_days = days;
    m_costs = costs;
    m_dayTotals = dayTotals;
    m_maxDayTotal = maxDay;
    m_total = toUsd(total);
    if (!sameShape)
        endResetModel();
    else if (!m_costs.isEmpty())
        Q_EMIT dataChanged(index(0), index(int(m_costs.size()) - 1), {CostRole, DayTotalRole});
    Q_EMIT changed();
}

int SpendByDayModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_costs.size());
}

QVariant SpendByDayModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || m_providers.isEmpty())
        return {};
    const int day = index.row() / int(m_providers.size());
    const int provider = index.row() % int(m_providers.size());
    switch (role) {
    case DayRole:
        return m_days.at(day);
    case ProviderRole:
    case Qt::DisplayRole:
        return m_providers.at(provider);
    case CostRole:
        return m_costs.at(index.row());
    case DayTotalRole:
        return m_dayTotals.at(day);
    default:
        return {};
    }
}

QHash<int, QByteArray> SpendByDayModel::roleNames() const
{
    return {{DayRole, "day"}, {ProviderRole, "provider"}, {CostRole, "cost"}, {DayTotalRole, "dayTotal"}};
}

double SpendByDayModel::cost(int day, int provider) const
{
    if (day < 0 || day >= m_days.size() || provider < 0 || provider >= m_providers.size())
        return 0;
    return m_costs.at(day * m_providers.size() + provider);
}

void SpendByDayModel::fillStackedBars(QAbstractBarSeries *series, const QVariantList &colors) const
{
    if (!series)
        return;
    series->clear();
    const double rate = Format::instance()->currencyRate();
    for (int p = 0; p < m_providers.size(); ++p) {
        auto *set = new QBarSet(m_providers.at(p));
        if (!colors.isEmpty()) {
            const QColor color = colors.at(p % colors.size()).value<QColor>();
            set->setColor(color);
            set->setBorderColor(color);
        }
        QList<qreal> values;
        values.reserve(m_days.size());
        for (int d = 0; d < m_days.size(); ++d)
            values.append(cost(d, p) * rate);
        set->append(values);
        series->append(set);
    }
}

} // namespace gh::ui
