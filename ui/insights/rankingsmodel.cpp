#include "rankingsmodel.h"
#include <algorithm>

namespace gh::ui {

namespace {

const QHash<QString, int> &sortRoles()
{
    static const QHash<QString, int> roles{{QStringLiteral("model"), RankingsModel::ModelRole},
        {QStringLiteral("provider"), RankingsModel::ProviderRole},
        {QStringLiteral("requests"), RankingsModel::RequestsRole}, {QStringLiteral("spend"), RankingsModel::SpendRole},
        {QStringLiteral("costPer1kOutput"), RankingsModel::CostPer1kOutputRole},
        {QStringLiteral("p50Latency"), RankingsModel::P50LatencyRole},
        {QStringLiteral("p95Latency"), RankingsModel::P95LatencyRole},
        {QStringLiteral("p50Ttft"), RankingsModel::P50TtftRole},
        {QStringLiteral("tokensPerSecond"), RankingsModel::TokensPerSecondRole},
        {QStringLiteral("errorRate"), RankingsModel::ErrorRateRole},
        {QStringLiteral("cacheHitRate"), RankingsModel::CacheHitRateRole},
        {QStringLiteral("winRate"), RankingsModel::WinRateRole}, {QStringLiteral("rounds"), RankingsModel::RoundsRole}};
    return roles;
}

} // namespace

RankingsModel::RankingsModel(QObject *parent)
    : AnalyticsModelBase("RankingsModel", parent)
{
}

RankingsModel::RankingsModel(Backend *backend, QObject *parent)
    : RankingsModel(parent)
{
    setBackend(backend);
}

void RankingsModel::backendAttached()
{
    connect(backend(), &Backend::keysChanged, this, &RankingsModel::keysChanged);
}

void RankingsModel::setKeyId(int keyId)
{
    keyId = std::max(-1, keyId);
    if (keyId == m_keyId)
        return;
    m_keyId = keyId;
    Q_EMIT keyIdChanged();
    refresh();
}

void RankingsModel::setSortBy(const QString &role)
{
    if (!sortRoles().contains(role)) {
        qWarning("RankingsModel: cannot sort by \"%s\"", qPrintable(role));
        return;
    }
    if (role == m_sortBy)
        return;
    m_sortBy = role;
    Q_EMIT sortChanged();
    sortRows(true);
}

void RankingsModel::setDescending(bool descending)
{
    if (descending == m_descending)
        return;
    m_descending = descending;
    Q_EMIT sortChanged();
    sortRows(true);
}

void RankingsModel::toggleSort(const QString &role)
{
    if (!sortRoles().contains(role))
        return;
    if (role == m_sortBy) {
        setDescending(!m_descending);
        return;
    }
    // Names read best A to Z, figures largest first.
    m_descending = role != QLatin1String("model") && role != QLatin1String("provider");
    setSortBy(role);
}

void RankingsModel::start()
{
    analytics::RankingsQuery q;
    q.period = periodRange(period(), backend()->nowMs(), m_keyId);
    q.slices = period() == QLatin1String("day") ? 24 : period() == QLatin1String("week") ? 7 : 30;
    q.prices = gatewayPrices();
    run<analytics::Rankings>([q](LogQueries &queries) { return queries.rankings(q); },
        [this, slices = q.slices](analytics::Rankings result) {
            replaceRows(result.ok, result.error, "rankings", [&] {
                m_slices = slices;
                m_result = std::move(result);
                m_order.clear();
                for (int i = 0; i < m_result.models.size(); ++i)
                    m_order.append(i);
                sortRows(false); // inside the reset: no layout signals
            });
        });
}

void RankingsModel::sortRows(bool notify)
{
    const int role = sortRoles().value(m_sortBy, SpendRole);
    auto key = [this, role](int row) { return value(m_result.models.at(row), role); };
    QList<int> order = m_order;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        const QVariant va = key(a), vb = key(b);
        if (va.typeId() == QMetaType::QString) {
            const int c = va.toString().compare(vb.toString(), Qt::CaseInsensitive);
            return m_descending ? c > 0 : c < 0;
        }
        const double da = va.toDouble(), db = vb.toDouble();
        // Unknown figures (-1) go last either way.
        if ((da < 0) != (db < 0))
            return db < 0;
        return m_descending ? da > db : da < db;
    });
    if (order == m_order)
        return;
    if (!notify) {
        m_order = order;
        return;
    }
    Q_EMIT layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    QList<int> newRowOf(m_result.models.size(), -1);
    for (int r = 0; r < order.size(); ++r)
        newRowOf[order.at(r)] = r;
    const QModelIndexList before = persistentIndexList();
    QModelIndexList after;
    after.reserve(before.size());
    for (const QModelIndex &idx : before)
        after.append(index(newRowOf.at(m_order.at(idx.row())), idx.column()));
    m_order = order;
    changePersistentIndexList(before, after);
    Q_EMIT layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

int RankingsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_order.size());
}

QVariant RankingsModel::value(const analytics::ModelRanking &m, int role) const
{
    switch (role) {
    case ModelRole:
        return m.model;
    case ProviderRole:
        return m.provider;
    case RequestsRole:
        return m.sums.requests;
    case SpendRole:
        return toUsd(m.sums.cost);
    case CostPer1kOutputRole:
        return m.costPer1kOutput();
    case P50LatencyRole:
        return m.latency.percentile(0.5, m_result.bounds);
    case P95LatencyRole:
        return m.latency.percentile(0.95, m_result.bounds);
    case P50TtftRole:
        return m.ttft.percentile(0.5, m_result.bounds);
    case TokensPerSecondRole:
        return m.sums.tokensPerSecond();
    case ErrorRateRole:
        return m.sums.errorRate();
    case CacheHitRateRole:
        return m.sums.cacheHitRate();
    case WinsRole:
        return m.votes.wins;
    case RoundsRole:
        return m.votes.rounds;
    case WinRateRole:
        return m.winRate();
    // QList<qreal> reaches QML as a list<real> (a QVariantList does not bind to one in Qt 6.4).
    case TrendRole: {
        QList<qreal> out;
        out.reserve(m.trendRequests.size());
        for (const qint64 n : m.trendRequests)
            out.append(double(n));
        return QVariant::fromValue(out);
    }
    case SpendTrendRole: {
        QList<qreal> out;
        out.reserve(m.trendCost.size());
        for (const NanoUsd n : m.trendCost)
            out.append(toUsd(n));
        return QVariant::fromValue(out);
    }
    case UnpricedRole:
        return m.sums.unpriced;
    default:
        return {};
    }
}

QVariant RankingsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const analytics::ModelRanking &m = m_result.models.at(m_order.at(index.row()));
    return value(m, role == Qt::DisplayRole ? int(ModelRole) : role);
}

QHash<int, QByteArray> RankingsModel::roleNames() const
{
    return {{ModelRole, "model"}, {ProviderRole, "provider"}, {RequestsRole, "requests"}, {SpendRole, "spend"},
        {CostPer1kOutputRole, "costPer1kOutput"}, {P50LatencyRole, "p50Latency"}, {P95LatencyRole, "p95Latency"},
        {P50TtftRole, "p50Ttft"}, {TokensPerSecondRole, "tokensPerSecond"}, {ErrorRateRole, "errorRate"},
        {CacheHitRateRole, "cacheHitRate"}, {WinsRole, "wins"}, {RoundsRole, "rounds"}, {WinRateRole, "winRate"},
        {TrendRole, "trend"}, {SpendTrendRole, "spendTrend"}, {UnpricedRole, "unpriced"}};
}

QVariantList RankingsModel::savings() const
{
    QVariantList out;
    for (const analytics::Saving &s : m_result.savings) {
        out.append(QVariantMap{{QStringLiteral("model"), s.model}, {QStringLiteral("alternative"), s.alternative},
            {QStringLiteral("spend"), toUsd(s.spend)}, {QStringLiteral("alternativeCost"), toUsd(s.alternativeCost)},
            {QStringLiteral("saving"), toUsd(s.spend - s.alternativeCost)},
            {QStringLiteral("modelWinRate"), s.modelWinRate},
            {QStringLiteral("alternativeWinRate"), s.alternativeWinRate},
            {QStringLiteral("modelRounds"), s.modelRounds},
            {QStringLiteral("alternativeRounds"), s.alternativeRounds}});
    }
    return out;
}

QVariantList RankingsModel::keys() const
{
    QVariantList out;
    if (!backend())
        return out;
    for (const StoredKey &k : backend()->keys())
        out.append(QVariantMap{{QStringLiteral("keyId"), k.id}, {QStringLiteral("name"), k.name}});
    return out;
}

double RankingsModel::totalSpend() const
{
    NanoUsd sum = 0;
    for (const auto &m : m_result.models)
        sum += m.sums.cost;
    return toUsd(sum);
}

qint64 RankingsModel::totalRequests() const
{
    qint64 sum = 0;
    for (const auto &m : m_result.models)
        sum += m.sums.requests;
    return sum;
}

} // namespace gh::ui
