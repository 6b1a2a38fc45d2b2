#include "routesmodel.h"
#include "backend.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include "store/store.h"
#include <QDateTime>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QSet>
#include <algorithm>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

constexpr RouteStrategy kStrategies[]
    = {RouteStrategy::Ordered, RouteStrategy::Cheapest, RouteStrategy::Fastest, RouteStrategy::Weighted,
        RouteStrategy::Quality};

QString label(RouteStrategy s)
{
    switch (s) {
    case RouteStrategy::Ordered:
        return QObject::tr("Ordered");
    case RouteStrategy::Cheapest:
        return QObject::tr("Cheapest");
    case RouteStrategy::Fastest:
        return QObject::tr("Fastest");
    case RouteStrategy::Weighted:
        return QObject::tr("Weighted");
    case RouteStrategy::Quality:
        return QObject::tr("Quality");
    }
    return {};
}

QString hint(RouteStrategy s)
{
    switch (s) {
    case RouteStrategy::Ordered:
        return QObject::tr("The first healthy target in your order; the next one when it fails.");
    case RouteStrategy::Cheapest:
        return QObject::tr("The lowest estimated cost for each request, from the prices and the request's size.");
    case RouteStrategy::Fastest:
        return QObject::tr("The lowest measured time to first token plus generation time.");
    case RouteStrategy::Weighted:
        return QObject::tr("A random target for each conversation, in proportion to the weights.");
    case RouteStrategy::Quality:
        return QObject::tr("Ranked by your Compare votes and by error rates; in your order until there are enough votes.");
    }
    return {};
}

// The best state among targets: one healthy target keeps the route healthy.
int rank(const QString &state)
{
    if (state == QLatin1String("healthy"))
        return 3;
    if (state == QLatin1String("degraded"))
        return 2;
    if (state == QLatin1String("down"))
        return 1;
    return 0;
}

} // namespace

RoutesModel::RoutesModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

RoutesModel::RoutesModel(Backend *backend, QObject *parent)
    : RoutesModel(parent)
{
    setBackend(backend);
}

void RoutesModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "RoutesModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void RoutesModel::attachBackend()
{
    // A view may hold this model before QML gives it its backend: the first load is a reset.
    beginResetModel();
    m_routes = m_backend->store().routes();
    std::sort(m_routes.begin(), m_routes.end(),
        [](const RouteConfig &a, const RouteConfig &b) { return a.id.compare(b.id, Qt::CaseInsensitive) < 0; });
    endResetModel();
    Q_EMIT countChanged();
    reloadModelIds();
    refreshHealth(QDateTime::currentMSecsSinceEpoch());
    connect(m_backend, &Backend::routesChanged, this, &RoutesModel::reload);
    connect(m_backend, &Backend::providersChanged, this, [this] {
        reloadModelIds();
        // Targets may have become known or unknown.
        if (!m_routes.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_routes.size()) - 1), {TargetsRole});
    });
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, [this] { refreshHealth(QDateTime::currentMSecsSinceEpoch()); });
    m_timer.start();
}

int RoutesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_routes.size());
}

QHash<int, QByteArray> RoutesModel::roleNames() const
{
    return {{RouteIdRole, "routeId"}, {StrategyRole, "strategy"}, {StrategyLabelRole, "strategyLabel"},
        {StrategyHintRole, "strategyHint"}, {TargetsRole, "targets"}, {TargetCountRole, "targetCount"},
        {RouteHealthRole, "routeHealth"}};
}

QVariant RoutesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RouteConfig &r = m_routes.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case RouteIdRole:
        return r.id;
    case StrategyRole:
        return strategyName(r.strategy);
    case StrategyLabelRole:
        return label(r.strategy);
    case StrategyHintRole:
        return hint(r.strategy);
    case TargetsRole: {
        qint64 total = 0;
        for (const RouteTarget &t : r.targets)
            total += std::max(0, t.weight);
        const bool weighted = r.strategy == RouteStrategy::Weighted;
        const auto snapshot = m_backend ? m_backend->context().registry.snapshot() : nullptr;
        QVariantList out;
        for (const RouteTarget &t : r.targets) {
            const HealthView v = viewOf(t.model);
            bool known = false;
            if (snapshot) {
                RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
                known = snapshot->models.contains(t.model) || snapshot->resolve(t.model, &error).has_value();
            }
            out.append(QVariantMap{{QStringLiteral("model"), t.model}, {QStringLiteral("weight"), t.weight},
                {QStringLiteral("share"), weighted && total > 0 ? double(std::max(0, t.weight)) / double(total) : -1.0},
                {QStringLiteral("health"), v.state}, {QStringLiteral("healthTip"), v.tip},
                {QStringLiteral("known"), known}});
        }
        return out;
    }
    case TargetCountRole:
        return int(r.targets.size());
    case RouteHealthRole: {
        QString best = QStringLiteral("unknown");
        for (const RouteTarget &t : r.targets) {
            const QString s = viewOf(t.model).state;
            if (rank(s) > rank(best))
                best = s;
        }
        return best;
    }
    default:
        return {};
    }
}

QVariantList RoutesModel::strategies() const
{
    QVariantList out;
    for (const RouteStrategy s : kStrategies) {
        out.append(QVariantMap{{QStringLiteral("value"), strategyName(s)}, {QStringLiteral("label"), label(s)},
            {QStringLiteral("hint"), hint(s)}});
    }
    return out;
}

QString RoutesModel::strategyHint(const QString &strategy) const
{
    const auto s = strategyFromName(strategy);
    return s ? hint(*s) : QString();
}

int RoutesModel::indexOf(const QString &routeId) const
{
    for (qsizetype i = 0; i < m_routes.size(); ++i) {
        if (m_routes[i].id == routeId)
            return int(i);
    }
    return -1;
}

QString RoutesModel::validateId(const QString &id, const QString &originalId) const
{
    const QString trimmed = id.trimmed();
    if (trimmed.isEmpty())
        return tr("Give the route a name: clients send it as the model, e.g. “smart”.");
    if (trimmed.contains(u'/'))
        return tr("A route name cannot contain “/”: that is how model ids are written (provider/model).");
    static const QRegularExpression pattern(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9._:@-]*$"));
    if (!pattern.match(trimmed).hasMatch())
        return tr("Use letters, digits, “.”, “_”, “-”, “:” or “@”, starting with a letter or digit.");
    if (trimmed.size() > kMaxIdLength)
        return tr("At most %1 characters.").arg(kMaxIdLength);
    if (trimmed != originalId && indexOf(trimmed) >= 0)
        return tr("A route named “%1” already exists.").arg(trimmed);
    if (m_backend && m_backend->context().registry.snapshot()->models.contains(trimmed))
        return tr("“%1” is already a model id; pick another name for the route.").arg(trimmed);
    return {};
}

QString RoutesModel::validateTarget(const QString &model) const
{
    const QString m = model.trimmed();
    if (m.isEmpty())
        return tr("Pick a model for every target.");
    if (!m_backend)
        return tr("The gateway is not running.");
    const auto snapshot = m_backend->context().registry.snapshot();
    if (snapshot->models.contains(m))
        return {};
    if (indexOf(m) >= 0 || snapshot->routes.contains(m))
        return tr("“%1” is a route; a target must be a model.").arg(m);
    RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
    QStringList candidates;
    if (snapshot->resolve(m, &error, &candidates))
        return {};
    switch (error) {
    case RegistrySnapshot::ResolveError::Ambiguous:
        return tr("Several providers offer “%1” (%2): pick one of them.").arg(m, candidates.join(QStringLiteral(", ")));
    case RegistrySnapshot::ResolveError::ProviderDisabled:
        return {}; // known, only switched off for now: the route skips it until it is enabled
    default:
        return tr("No provider offers “%1”. Pick a model from the list, or add its provider first.").arg(m);
    }
}

QString RoutesModel::validate(const RouteConfig &route, const QString &originalId) const
{
    if (const QString e = validateId(route.id, originalId); !e.isEmpty())
        return e;
    if (route.targets.isEmpty())
        return tr("Add at least one target model.");
    QSet<QString> seen;
    int positive = 0;
    for (const RouteTarget &t : route.targets) {
        if (const QString e = validateTarget(t.model); !e.isEmpty())
            return e;
        if (seen.contains(t.model))
            return tr("“%1” is a target twice.").arg(t.model);
        seen.insert(t.model);
        if (t.weight < 0 || t.weight > kMaxWeight)
            return tr("Weights go from 0 to %1.").arg(kMaxWeight);
        positive += t.weight > 0 ? 1 : 0;
    }
    if (route.strategy == RouteStrategy::Weighted && positive == 0)
        return tr("Give at least one target a weight above 0.");
    return {};
}

QString RoutesModel::saveRoute(
    const QString &originalId, const QString &id, const QString &strategy, const QVariantList &targets)
{
    if (!m_backend)
        return tr("The gateway is not running.");
    const auto s = strategyFromName(strategy);
    if (!s)
        return tr("Unknown strategy “%1”.").arg(strategy);
    RouteConfig route;
    route.id = id.trimmed();
    route.strategy = *s;
    for (const QVariant &v : targets) {
        const QVariantMap map = v.toMap();
        RouteTarget t;
        t.model = map.value(QStringLiteral("model")).toString().trimmed();
        bool ok = true;
        const QVariant w = map.value(QStringLiteral("weight"));
        t.weight = w.isValid() ? w.toInt(&ok) : 1;
        if (!ok)
            return tr("A weight is not a number.");
        route.targets.append(t);
    }
    const QString original = indexOf(originalId) >= 0 ? originalId : QString();
    if (const QString e = validate(route, original); !e.isEmpty())
        return e;
    if (!original.isEmpty()) {
        const RouteConfig &before = m_routes.at(indexOf(original));
        if (before == route)
            return {};
    }
    if (!m_backend->store().saveRoute(route))
        return tr("The route could not be saved.");
    if (!original.isEmpty() && original != route.id && !m_backend->store().removeRoute(original))
        qCWarning(lcUi) << "renamed route" << route.id << "but the old one stayed:" << original;
    m_backend->routesEdited();
    return {};
}

QString RoutesModel::moveTarget(const QString &routeId, int from, int to)
{
    const int row = indexOf(routeId);
    if (row < 0)
        return tr("No such route.");
    RouteConfig route = m_routes.at(row);
    if (from < 0 || to < 0 || from >= route.targets.size() || to >= route.targets.size())
        return tr("No such target.");
    if (from == to)
        return {};
    route.targets.move(from, to);
    QVariantList targets;
    for (const RouteTarget &t : std::as_const(route.targets))
        targets.append(QVariantMap{{QStringLiteral("model"), t.model}, {QStringLiteral("weight"), t.weight}});
    return saveRoute(routeId, routeId, strategyName(route.strategy), targets);
}

bool RoutesModel::remove(const QString &routeId)
{
    if (!m_backend || indexOf(routeId) < 0)
        return false;
    if (!m_backend->store().removeRoute(routeId))
        return false;
    m_backend->routesEdited();
    return true;
}

void RoutesModel::reload()
{
    QList<RouteConfig> routes = m_backend->store().routes();
    std::sort(routes.begin(), routes.end(),
        [](const RouteConfig &a, const RouteConfig &b) { return a.id.compare(b.id, Qt::CaseInsensitive) < 0; });
    const bool sameIds = std::equal(routes.cbegin(), routes.cend(), m_routes.cbegin(), m_routes.cend(),
        [](const RouteConfig &a, const RouteConfig &b) { return a.id == b.id; });
    if (sameIds) {
        // Same routes: update in place so the cards (and keyboard focus) stay.
        for (qsizetype i = 0; i < routes.size(); ++i) {
            if (routes[i] == m_routes[i])
                continue;
            m_routes[i] = routes[i];
            Q_EMIT dataChanged(index(int(i)), index(int(i)));
        }
    } else {
        const bool countChanges = routes.size() != m_routes.size();
        beginResetModel();
        m_routes = routes;
        endResetModel();
        if (countChanges)
            Q_EMIT countChanged();
    }
    refreshHealth(QDateTime::currentMSecsSinceEpoch());
}

void RoutesModel::reloadModelIds()
{
    QStringList ids;
    if (m_backend) {
        const auto snapshot = m_backend->context().registry.snapshot();
        ids = snapshot->modelOrder;
        QSet<QString> listed(ids.cbegin(), ids.cend());
        for (auto it = snapshot->models.cbegin(); it != snapshot->models.cend(); ++it) {
            if (!listed.contains(it.key()))
                ids.append(it.key());
        }
        ids.sort(Qt::CaseInsensitive);
    }
    if (ids == m_modelIds)
        return;
    m_modelIds = ids;
    Q_EMIT modelIdsChanged();
}

HealthView RoutesModel::viewOf(const QString &modelId) const
{
    const auto it = m_health.constFind(modelId);
    if (it != m_health.cend())
        return *it;
    if (!m_backend)
        return describeHealth({}, false, 0);
    const QHash<QString, TargetHealth> all = m_backend->context().health.snapshot();
    const auto h = all.constFind(modelId);
    return describeHealth(h != all.cend() ? *h : TargetHealth{}, h != all.cend(), QDateTime::currentMSecsSinceEpoch());
}

QString RoutesModel::healthOf(const QString &modelId) const
{
    return viewOf(modelId.trimmed()).state;
}

QString RoutesModel::healthTipOf(const QString &modelId) const
{
    return viewOf(modelId.trimmed()).tip;
}

void RoutesModel::refreshHealth(qint64 nowMs)
{
    if (!m_backend)
        return;
    const QHash<QString, TargetHealth> all = m_backend->context().health.snapshot();
    QHash<QString, HealthView> next;
    for (const RouteConfig &r : std::as_const(m_routes)) {
        for (const RouteTarget &t : r.targets) {
            if (next.contains(t.model))
                continue;
            const auto h = all.constFind(t.model);
            next.insert(t.model, describeHealth(h != all.cend() ? *h : TargetHealth{}, h != all.cend(), nowMs));
        }
    }
    // Ids the editor asked about that are no route's targets yet are read live (viewOf) instead.
    QSet<QString> changed;
    for (auto it = next.cbegin(); it != next.cend(); ++it) {
        if (m_health.value(it.key()) != *it)
            changed.insert(it.key());
    }
    m_health = next;
    for (qsizetype i = 0; i < m_routes.size(); ++i) {
        const bool touched = std::any_of(m_routes[i].targets.cbegin(), m_routes[i].targets.cend(),
            [&changed](const RouteTarget &t) { return changed.contains(t.model); });
        if (touched)
            Q_EMIT dataChanged(index(int(i)), index(int(i)), {TargetsRole, RouteHealthRole});
    }
    // Every second: the editor's dots (models not saved in a route yet) are read live through it.
    ++m_healthRevision;
    Q_EMIT healthRevisionChanged();
}

} // namespace gh::ui
