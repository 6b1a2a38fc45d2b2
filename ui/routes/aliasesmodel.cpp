#include "aliasesmodel.h"
#include "backend.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include "state/configapply.h"
#include "store/store.h"
#include <QLoggingCategory>
#include <QSet>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

bool hasSpace(const QString &s)
{
    return std::any_of(s.cbegin(), s.cend(), [](QChar c) { return c.isSpace(); });
}

} // namespace

AliasesModel::AliasesModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

AliasesModel::AliasesModel(Backend *backend, QObject *parent)
    : AliasesModel(parent)
{
    setBackend(backend);
}

void AliasesModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "AliasesModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void AliasesModel::attachBackend()
{
    // A view may hold this model before QML gives it its backend: the first load is a reset.
    beginResetModel();
    m_aliases = loadAliases(m_backend->store());
    endResetModel();
    Q_EMIT countChanged();
    reloadTargets();
    // Routes and providers decide what a target names; an edit through the window reloads the
    // aliases too (routesEdited() rebuilds the registry, aliases included).
    connect(m_backend, &Backend::routesChanged, this, &AliasesModel::reload);
    connect(m_backend, &Backend::providersChanged, this, &AliasesModel::reload);
}

int AliasesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_aliases.size());
}

QHash<int, QByteArray> AliasesModel::roleNames() const
{
    return {{MatchRole, "match"}, {TargetRole, "target"}, {TargetKindRole, "targetKind"}, {ProblemRole, "problem"},
        {ShadowedByRole, "shadowedBy"}};
}

QVariant AliasesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ModelAlias &a = m_aliases.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case MatchRole:
        return a.match;
    case TargetRole:
        return a.to;
    case TargetKindRole:
        return kindOf(a.to);
    case ProblemRole:
        return validateTarget(a.to);
    case ShadowedByRole:
        for (int i = 0; i < index.row(); ++i) {
            if (m_aliases.at(i).match == a.match)
                return i + 1;
        }
        return 0;
    default:
        return {};
    }
}

QString AliasesModel::validateMatch(const QString &match, int row) const
{
    const QString m = match.trimmed();
    if (m.isEmpty())
        return tr("Type the model name a tool sends, with * for any run of characters: claude-opus-*");
    if (hasSpace(m))
        return tr("A pattern cannot contain spaces: model names have none.");
    if (m.size() > kMaxMatchLength)
        return tr("At most %1 characters.").arg(kMaxMatchLength);
    for (qsizetype i = 0; i < m_aliases.size(); ++i) {
        if (i != row && m_aliases.at(i).match == m)
            return tr(
                "Alias %1 already has the pattern “%2”: the first match wins, so one of them would never be used.")
                .arg(i + 1)
                .arg(m);
    }
    return {};
}

QString AliasesModel::kindOf(const QString &to) const
{
    const QString t = to.trimmed();
    if (t.isEmpty() || !m_backend)
        return QStringLiteral("unknown");
    const auto snapshot = m_backend->context().registry.snapshot();
    // The gateway looks a served name up as a route first, then as a model.
    if (snapshot->routes.contains(t))
        return QStringLiteral("route");
    if (snapshot->models.contains(t))
        return QStringLiteral("model");
    RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
    if (snapshot->resolve(t, &error) || error == RegistrySnapshot::ResolveError::ProviderDisabled)
        return QStringLiteral("model");
    return QStringLiteral("unknown");
}

QString AliasesModel::validateTarget(const QString &to) const
{
    const QString t = to.trimmed();
    if (t.isEmpty())
        return tr("Pick a route or a model to serve the matching names.");
    if (hasSpace(t))
        return tr("A target cannot contain spaces.");
    if (!m_backend)
        return tr("The gateway is not running.");
    const auto snapshot = m_backend->context().registry.snapshot();
    if (snapshot->routes.contains(t) || snapshot->models.contains(t))
        return {};
    RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
    QStringList candidates;
    if (snapshot->resolve(t, &error, &candidates))
        return {};
    switch (error) {
    case RegistrySnapshot::ResolveError::Ambiguous:
        return tr("Several providers offer “%1” (%2): pick one of them.").arg(t, candidates.join(QStringLiteral(", ")));
    case RegistrySnapshot::ResolveError::ProviderDisabled:
        return {}; // known, only switched off for now: requests get the provider's "disabled" error until then
    default:
        return tr("No route or provider serves “%1”. Pick a route or a model from the list, or write provider/model "
                  "for a provider you added.")
            .arg(t);
    }
}

QString AliasesModel::write(const QList<ModelAlias> &aliases)
{
    if (!m_backend)
        return tr("The gateway is not running.");
    if (!saveAliases(m_backend->store(), aliases))
        return tr("The aliases could not be saved.");
    qCInfo(lcUi) << "saved the model aliases:" << aliases.size();
    // Rebuilds the registry (aliases included) and tells every model, this one too (reload()).
    m_backend->routesEdited();
    return {};
}

QString AliasesModel::saveAlias(int row, const QString &match, const QString &to)
{
    if (row < -1 || row >= m_aliases.size())
        return tr("No such alias.");
    const ModelAlias alias{match.trimmed(), to.trimmed()};
    if (const QString e = validateMatch(alias.match, row); !e.isEmpty())
        return e;
    if (const QString e = validateTarget(alias.to); !e.isEmpty())
        return e;
    QList<ModelAlias> next = m_aliases;
    if (row < 0) {
        next.append(alias);
    } else {
        if (next.at(row) == alias)
            return {};
        next[row] = alias;
    }
    return write(next);
}

QString AliasesModel::move(int from, int to)
{
    if (from < 0 || to < 0 || from >= m_aliases.size() || to >= m_aliases.size())
        return tr("No such alias.");
    if (from == to)
        return {};
    QList<ModelAlias> next = m_aliases;
    next.move(from, to);
    return write(next);
}

bool AliasesModel::remove(int row)
{
    if (row < 0 || row >= m_aliases.size())
        return false;
    QList<ModelAlias> next = m_aliases;
    next.removeAt(row);
    return write(next).isEmpty();
}

QVariantMap AliasesModel::test(const QString &name) const
{
    const QString n = name.trimmed();
    if (n.isEmpty())
        return {};
    QVariantMap out{{QStringLiteral("name"), n}, {QStringLiteral("matched"), false}, {QStringLiteral("row"), -1}};
    QString served = n;
    for (qsizetype i = 0; i < m_aliases.size(); ++i) {
        if (globMatch(m_aliases.at(i).match, n)) {
            out.insert(QStringLiteral("matched"), true);
            out.insert(QStringLiteral("row"), int(i));
            out.insert(QStringLiteral("match"), m_aliases.at(i).match);
            served = m_aliases.at(i).to;
            break;
        }
    }
    out.insert(QStringLiteral("served"), served);
    const QString kind = kindOf(served);
    out.insert(QStringLiteral("kind"), kind);
    QString detail;
    bool ok = false;
    if (m_backend) {
        const auto snapshot = m_backend->context().registry.snapshot();
        if (kind == QLatin1String("route")) {
            const RouteConfig route = snapshot->routes.value(served);
            QStringList models;
            for (const RouteTarget &t : route.targets)
                models << t.model;
            detail = tr("route “%1” (%2): %3")
                         .arg(served, strategyName(route.strategy), models.join(QStringLiteral(", ")));
            ok = true;
        } else {
            RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
            QStringList candidates;
            if (const auto entry = snapshot->resolve(served, &error, &candidates)) {
                detail = tr("model %1 on provider %2").arg(entry->config.id, entry->provider->config.id);
                ok = true;
            } else if (error == RegistrySnapshot::ResolveError::ProviderDisabled) {
                detail = tr("“%1”, whose provider is switched off").arg(served);
            } else if (error == RegistrySnapshot::ResolveError::Ambiguous) {
                detail = tr("“%1”, which several providers offer (%2): requests fail until one is picked")
                             .arg(served, candidates.join(QStringLiteral(", ")));
            } else {
                detail = tr("nothing: no route or provider serves “%1”").arg(served);
            }
        }
    }
    out.insert(QStringLiteral("detail"), detail);
    out.insert(QStringLiteral("ok"), ok);
    return out;
}

void AliasesModel::reload()
{
    reloadTargets();
    if (!m_backend)
        return;
    const QList<ModelAlias> aliases = loadAliases(m_backend->store());
    if (aliases.size() == m_aliases.size()) {
        // Same length (an edit or a move): update in place so the rows (and keyboard focus) stay.
        for (qsizetype i = 0; i < aliases.size(); ++i) {
            if (aliases[i] == m_aliases[i])
                continue;
            m_aliases[i] = aliases[i];
        }
        // Kinds, problems and shadowing may have changed on every row with the registry.
        if (!m_aliases.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_aliases.size()) - 1));
        return;
    }
    beginResetModel();
    m_aliases = aliases;
    endResetModel();
    Q_EMIT countChanged();
}

void AliasesModel::reloadTargets()
{
    QStringList routes;
    QStringList models;
    if (m_backend) {
        const auto snapshot = m_backend->context().registry.snapshot();
        routes = snapshot->routes.keys();
        models = snapshot->models.keys();
    }
    routes.sort(Qt::CaseInsensitive);
    models.sort(Qt::CaseInsensitive);
    m_targets = routes + models;
    ++m_revision;
    Q_EMIT registryChanged();
}

} // namespace gh::ui
