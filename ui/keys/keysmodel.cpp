#include "keysmodel.h"
#include "backend.h"
#include "budget/budgetledger.h"
#include "connect/snippets.h"
#include "core/keyhash.h"
#include "gateway/gateway.h"
#include "gateway/gatewaycontext.h"
#include "routing/datapolicycheck.h"
#include "routing/registry.h"
#include "teamstate.h"
#include <cmath>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

namespace gh::ui {

namespace {

QStringList splitPatterns(const QString &text)
{
    QStringList out;
    for (const QString &part : text.split(u',', Qt::SkipEmptyParts)) {
        const QString p = part.trimmed();
        if (!p.isEmpty() && !out.contains(p))
            out.append(p);
    }
    return out;
}

std::optional<Period> periodFromName(const QString &name)
{
    for (int i = 0; i < kPeriodCount; ++i) {
        if (name == QLatin1String(periodName(Period(i))))
            return Period(i);
    }
    return std::nullopt;
}

double limitValue(const std::optional<double> &v)
{
    return v ? *v : -1.0;
}

BudgetLimits budgetLimits(const KeyLimits &l)
{
    auto nano = [](const std::optional<double> &usd) -> std::optional<NanoUsd> {
        if (!usd)
            return std::nullopt;
        return fromUsd(*usd);
    };
    BudgetLimits b;
    b.limit[int(Period::Day)] = nano(l.dayUsd);
    b.limit[int(Period::Week)] = nano(l.weekUsd);
    b.limit[int(Period::Month)] = nano(l.monthUsd);
    b.limit[int(Period::Total)] = nano(l.totalUsd);
    return b;
}

} // namespace

KeysModel::KeysModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

KeysModel::KeysModel(Backend *backend, QObject *parent)
    : KeysModel(parent)
{
    setBackend(backend);
}

void KeysModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "KeysModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void KeysModel::attachBackend()
{
    // A view may hold this model before QML gives it its backend: the first load is a reset.
    beginResetModel();
    m_keys = m_backend->keys();
    endResetModel();
    Q_EMIT countChanged();
    connect(m_backend, &Backend::keysChanged, this, &KeysModel::reloadKeys);
    connect(m_backend, &Backend::activityTick, this, &KeysModel::refreshSpend);
    connect(m_backend, &Backend::logCleared, this, &KeysModel::refreshSpend);
    connect(m_backend, &Backend::dayChanged, this, &KeysModel::refreshSpend);
    connect(m_backend->team(), &TeamState::teamSpendChanged, this, &KeysModel::refreshSpend);
    // "Only to …" / "Any provider: …" follow the providers (enabled, data policy) as they change.
    connect(m_backend, &Backend::providersChanged, this, [this] {
        if (!m_keys.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_keys.size()) - 1), {TrafficRole});
    });
    if (GatewayEvents *events = m_backend->gateway().events()) {
        connect(events, &GatewayEvents::requestFinished, this,
            [this](const RequestRecord &r) { requestFinished(r.keyId, r.status, r.error); });
    }
}

void KeysModel::requestFinished(qint64 keyId, int status, const QString &error)
{
    if (keyId <= 0)
        return;
    bool changed = false;
    if (status == 402) {
        changed = m_refusals.value(keyId) != error;
        m_refusals.insert(keyId, error);
    } else if (status >= 200 && status < 300) {
        changed = m_refusals.remove(keyId) > 0;
    }
    const int row = indexOf(keyId);
    if (changed && row >= 0)
        Q_EMIT dataChanged(index(row), index(row), {RefusalRole});
}

int KeysModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_keys.size());
}

int KeysModel::activeCount() const
{
    return int(std::count_if(m_keys.cbegin(), m_keys.cend(), [](const StoredKey &k) { return !k.revoked; }));
}

QHash<int, QByteArray> KeysModel::roleNames() const
{
    return {{KeyIdRole, "keyId"}, {NameRole, "name"}, {AllowModelsRole, "allowModels"}, {PausedRole, "paused"},
        {RevokedRole, "revoked"}, {SecretHintRole, "secretHint"}, {CreatedAtRole, "createdAt"},
        {DayLimitRole, "dayLimit"}, {WeekLimitRole, "weekLimit"}, {MonthLimitRole, "monthLimit"},
        {TotalLimitRole, "totalLimit"}, {DaySpentRole, "daySpent"}, {WeekSpentRole, "weekSpent"},
        {MonthSpentRole, "monthSpent"}, {TotalSpentRole, "totalSpent"}, {DayUsageRole, "dayUsage"},
        {WeekUsageRole, "weekUsage"}, {MonthUsageRole, "monthUsage"}, {TotalUsageRole, "totalUsage"},
        {AllowUnpricedRole, "allowUnpriced"}, {InFlightRole, "inFlight"}, {RefusalRole, "refusal"}, {BuiltInRole, "builtIn"},
        {OnShortBudgetRole, "onShortBudget"},
        {MinOutputTokensRole, "minOutputTokens"}, {OvershootsRole, "overshoots"}, {OvershootUsdRole, "overshootUsd"}, {SecretScanRole, "secretScan"},
        {RequirePolicyRole, "requirePolicy"}, {TrafficRole, "traffic"}, {RequirePolicyMapRole, "requirePolicyMap"}, {TeamSpendRole, "teamSpend"}};
}

QVariant KeysModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const StoredKey &k = m_keys.at(index.row());
    const auto team = m_backend->team()->teamSpend(k.id);
    auto spent = [&](Period p) {
        return toUsd(team ? (*team)[int(p)] : m_backend->context().ledger.status(k.id, m_backend->nowMs())[int(p)].spent);
    };
    auto usage = [&](Period p, const std::optional<double> &limit) {
        if (!limit)
            return -1.0;
        const double s = spent(p);
        if (*limit <= 0)
            return s > 0 ? std::numeric_limits<double>::infinity() : 1.0;
        return s / *limit;
    };
    switch (role) {
    case KeyIdRole:
        return k.id;
    case NameRole:
    case Qt::DisplayRole:
        return k.name;
    case AllowModelsRole:
        return k.allowModels.join(QStringLiteral(", "));
    case PausedRole:
        return k.paused;
    case RevokedRole:
        return k.revoked;
    case SecretHintRole:
        return k.secretHint;
    case CreatedAtRole:
        return k.createdAtMs;
    case DayLimitRole:
        return limitValue(k.limits.dayUsd);
    case WeekLimitRole:
        return limitValue(k.limits.weekUsd);
    case MonthLimitRole:
        return limitValue(k.limits.monthUsd);
    case TotalLimitRole:
        return limitValue(k.limits.totalUsd);
    case DaySpentRole:
        return spent(Period::Day);
    case WeekSpentRole:
        return spent(Period::Week);
    case MonthSpentRole:
        return spent(Period::Month);
    case TotalSpentRole:
        return spent(Period::Total);
    case DayUsageRole:
        return usage(Period::Day, k.limits.dayUsd);
    case WeekUsageRole:
        return usage(Period::Week, k.limits.weekUsd);
    case MonthUsageRole:
        return usage(Period::Month, k.limits.monthUsd);
    case TotalUsageRole:
        return usage(Period::Total, k.limits.totalUsd);
    case AllowUnpricedRole:
        return k.allowUnpriced;
    case InFlightRole:
        return m_backend->context().ledger.inFlight(k.id);
    case RefusalRole:
        return m_refusals.value(k.id);
    case BuiltInRole:
        return k.name == Backend::kChatKeyName;
    case OnShortBudgetRole:
        return shortBudgetName(k.budget.onShortBudget);
    case SecretScanRole:
        return secretScanName(k.secretScan);
    case RequirePolicyRole:
        return k.requirePolicy.describe();
    case TrafficRole:
        return trafficOf(k.requirePolicy);
    case TeamSpendRole:
        return team.has_value();
    case RequirePolicyMapRole:
        return QVariantMap{{QStringLiteral("zdr"), k.requirePolicy.zdr},
                           {QStringLiteral("noTraining"), k.requirePolicy.noTraining},
                           {QStringLiteral("maxRetentionDays"), k.requirePolicy.maxRetentionDays.value_or(-1)},
                           {QStringLiteral("regions"), k.requirePolicy.regions.join(QStringLiteral(", "))}};
    case MinOutputTokensRole:
        return int(k.budget.minOutputTokens);
    case OvershootsRole:
        return m_backend->context().ledger.overshoots(k.id).count;
    case OvershootUsdRole:
        return toUsd(m_backend->context().ledger.overshoots(k.id).amount);
    default:
        return {};
    }
}

void KeysModel::reloadKeys()
{
    const QList<StoredKey> keys = m_backend->keys();
    bool sameIds = keys.size() == m_keys.size();
    for (qsizetype i = 0; sameIds && i < keys.size(); ++i)
        sameIds = keys[i].id == m_keys[i].id;
    if (sameIds) {
        m_keys = keys;
        if (!m_keys.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_keys.size()) - 1));
    } else {
        beginResetModel();
        m_keys = keys;
        endResetModel();
        Q_EMIT countChanged();
    }
}

void KeysModel::refreshSpend()
{
    if (m_keys.isEmpty())
        return;
    Q_EMIT dataChanged(index(0), index(int(m_keys.size()) - 1),
        {DaySpentRole, WeekSpentRole, MonthSpentRole, TotalSpentRole, DayUsageRole, WeekUsageRole, MonthUsageRole,
            TotalUsageRole, InFlightRole, OvershootsRole, OvershootUsdRole, TeamSpendRole});
}

bool KeysModel::fail(const QString &message)
{
    m_lastError = message;
    Q_EMIT lastErrorChanged();
    return false;
}

const StoredKey *KeysModel::find(qint64 keyId) const
{
    for (const StoredKey &k : m_keys) {
        if (k.id == keyId)
            return &k;
    }
    return nullptr;
}

int KeysModel::indexOf(qint64 keyId) const
{
    for (qsizetype i = 0; i < m_keys.size(); ++i) {
        if (m_keys[i].id == keyId)
            return int(i);
    }
    return -1;
}

bool KeysModel::save(StoredKey key, bool coalesce)
{
    if (!m_backend)
        return fail(tr("The gateway is not running."));
    const qint64 id = m_backend->store().saveKey(key);
    if (id == 0)
        return fail(tr("The key could not be saved (is the name “%1” already taken?).").arg(key.name));
    key.id = id;
    if (!key.revoked)
        m_backend->context().ledger.setLimits(key.id, budgetLimits(key.limits)); // at once, even when coalescing
    m_backend->keysEdited(coalesce);
    if (!m_lastError.isEmpty()) {
        m_lastError.clear();
        Q_EMIT lastErrorChanged();
    }
    return true;
}

QString KeysModel::createKey(const QString &name, const QString &allowModels)
{
    const QString n = name.trimmed();
    if (n.isEmpty()) {
        fail(tr("Give the key a name, e.g. the tool that will use it."));
        return {};
    }
    if (n.size() > 64) {
        fail(tr("Key names are at most 64 characters."));
        return {};
    }
    for (const StoredKey &k : std::as_const(m_keys)) {
        if (k.name == n) {
            fail(tr("A key named “%1” already exists.").arg(n));
            return {};
        }
    }
    const QString secret = generateSecret();
    StoredKey key;
    key.name = n;
    key.secretHash = hashSecret(secret);
    key.secretHint = secretHint(secret);
    key.allowModels = splitPatterns(allowModels);
    key.createdAtMs = QDateTime::currentMSecsSinceEpoch();
    if (!save(key))
        return {};
    return secret;
}

bool KeysModel::rename(qint64 keyId, const QString &name)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    const QString n = name.trimmed();
    if (n.isEmpty() || n.size() > 64)
        return fail(tr("Key names are 1 to 64 characters."));
    if (n == k->name)
        return true;
    for (const StoredKey &other : std::as_const(m_keys)) {
        if (other.name == n)
            return fail(tr("A key named “%1” already exists.").arg(n));
    }
    StoredKey changed = *k;
    changed.name = n;
    return save(changed);
}

bool KeysModel::setAllowModels(qint64 keyId, const QString &allowModels)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    StoredKey changed = *k;
    changed.allowModels = splitPatterns(allowModels);
    return changed.allowModels == k->allowModels || save(changed);
}

bool KeysModel::setPaused(qint64 keyId, bool paused)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    if (k->paused == paused)
        return true;
    StoredKey changed = *k;
    changed.paused = paused;
    return save(changed);
}

bool KeysModel::setAllowUnpriced(qint64 keyId, bool allow)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    if (k->allowUnpriced == allow)
        return true;
    StoredKey changed = *k;
    changed.allowUnpriced = allow;
    return save(changed);
}

bool KeysModel::revoke(qint64 keyId)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    if (k->revoked)
        return true;
    StoredKey changed = *k;
    changed.revoked = true;
    return save(changed);
}

QString KeysModel::forgetKey(qint64 keyId)
{
    const StoredKey *k = find(keyId);
    if (!k) {
        fail(tr("No such key."));
        return {};
    }
    if (!m_backend) {
        fail(tr("The gateway is not running."));
        return {};
    }
    QString summary;
    QString error;
    if (!m_backend->gateway().forgetKey(k->name, &summary, &error)) {
        fail(error);
        return {};
    }
    m_backend->keysEdited(false);
    Q_EMIT m_backend->logCleared(); // the log's views re-read what is left
    return summary;
}

bool KeysModel::setLimit(qint64 keyId, const QString &period, double usd)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    const auto p = periodFromName(period);
    if (!p)
        return fail(tr("Unknown period “%1”.").arg(period));
    if (std::isnan(usd) || usd > 1e9)
        return fail(tr("That is not a valid amount."));
    StoredKey changed = *k;
    std::optional<double> value;
    if (usd >= 0)
        value = std::round(usd * 1e6) / 1e6; // micro-dollars: no float noise from sliders
    switch (*p) {
    case Period::Day:
        changed.limits.dayUsd = value;
        break;
    case Period::Week:
        changed.limits.weekUsd = value;
        break;
    case Period::Month:
        changed.limits.monthUsd = value;
        break;
    case Period::Total:
        changed.limits.totalUsd = value;
        break;
    }
    if (changed.limits == k->limits)
        return true;
    if (m_refusals.remove(keyId) > 0) { // the next request decides again
        const int row = indexOf(keyId);
        Q_EMIT dataChanged(index(row), index(row), {RefusalRole});
    }
    return save(changed, true);
}

bool KeysModel::setBudgetPolicy(qint64 keyId, const QString &policy, int minOutputTokens)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    const auto p = shortBudgetFromName(policy);
    if (!p)
        return fail(tr("Unknown policy “%1”: use clamp or refuse.").arg(policy));
    if (minOutputTokens < 1 || minOutputTokens > BudgetPolicy::kMaxMinOutputTokens)
        return fail(tr("The smallest answer must be from 1 to 1,000,000 tokens."));
    StoredKey changed = *k;
    changed.budget.onShortBudget = *p;
    changed.budget.minOutputTokens = minOutputTokens;
    if (changed.budget == k->budget)
        return true;
    return save(changed);
}

QString KeysModel::trafficOf(const PolicyRequirement &required) const
{
    if (!m_backend)
        return {};
    const auto registry = m_backend->context().registry.snapshot();
    QStringList may, mayNot;
    for (const QString &id : registry->providerOrder) {
        const auto provider = registry->providers.value(id);
        if (!provider || !provider->config.enabled)
            continue;
        const QString why = requireShortfall(required, effectiveDataPolicy(provider->config));
        if (why.isEmpty())
            may.append(id);
        else
            mayNot.append(QStringLiteral("%1 (%2)").arg(id, why));
    }
    if (!required.any())
        return may.isEmpty() ? tr("Any provider (none is enabled yet).") : tr("Any provider: %1.").arg(may.join(QStringLiteral(", ")));
    QString out = may.isEmpty() ? tr("No enabled provider meets its data policy: every request is refused.")
                                : tr("Only to %1.").arg(may.join(QStringLiteral(", ")));
    if (!mayNot.isEmpty())
        out += u' ' + tr("Not to %1.").arg(mayNot.join(QStringLiteral("; ")));
    return out;
}

bool KeysModel::setRequirePolicy(qint64 keyId, bool zdr, bool noTraining, int maxRetentionDays, const QString &regions)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    QJsonObject o{{QStringLiteral("zdr"), zdr}, {QStringLiteral("trains_on_data"), noTraining ? QStringLiteral("no") : QStringLiteral("any")}};
    if (maxRetentionDays >= 0)
        o.insert(QStringLiteral("max_retention_days"), maxRetentionDays);
    QJsonArray list;
    for (const QString &r : regions.split(u',', Qt::SkipEmptyParts))
        if (!r.trimmed().isEmpty())
            list.append(r.trimmed());
    o.insert(QStringLiteral("regions"), list);
    QString field, message;
    const auto required = policyRequirementFromJson(o, &field, &message);
    if (!required)
        return fail(tr("The data policy requirement is not valid: %1 %2").arg(field, message));
    if (*required == k->requirePolicy)
        return true;
    StoredKey changed = *k;
    changed.requirePolicy = *required;
    return save(changed);
}

bool KeysModel::setSecretScan(qint64 keyId, const QString &mode)
{
    const StoredKey *k = find(keyId);
    if (!k)
        return fail(tr("No such key."));
    const auto m = secretScanFromName(mode);
    if (!m)
        return fail(tr("Unknown secret scanning mode “%1”: use off, warn, redact or block.").arg(mode));
    if (*m == k->secretScan)
        return true;
    StoredKey changed = *k;
    changed.secretScan = *m;
    return save(changed);
}

QStringList KeysModel::snippetTools() const
{
    return gh::snippetTools();
}

QString KeysModel::snippetToolTitle(const QString &tool) const
{
    return gh::snippetToolTitle(tool);
}

QString KeysModel::snippet(qint64 keyId, const QString &tool, const QString &secret) const
{
    const StoredKey *k = find(keyId);
    if (!k || !m_backend)
        return {};
    // The same generator as `gatehouse connect TOOL --key NAME` (app/connect), on the running
    // gateway's registry.
    ConnectRequest request;
    request.tool = tool;
    request.origin = QStringLiteral("http://127.0.0.1:%1").arg(m_backend->gateway().port());
    request.keyName = k->name;
    request.secret = secret;
    request.allowModels = k->allowModels;
    const ConnectSnippet out = connectSnippet(*m_backend->context().registry.snapshot(), request);
    return out.ok ? out.text : QString();
}

} // namespace gh::ui
