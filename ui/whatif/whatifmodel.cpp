#include "whatifmodel.h"
#include "format.h"
#include "gateway/gateway.h"
#include "routing/registry.h"
#include "store/queryrunner.h"
#include <QDateTime>
#include <QLocale>
#include <QtCharts/QBarSet>
#include <algorithm>

namespace gh::ui {

namespace {
constexpr qint64 kDayMs = 86'400'000;
constexpr int kSessionOptions = 40;
} // namespace

WhatIfModel::WhatIfModel(QObject *parent)
    : QAbstractListModel(parent)
{
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(2000);
    connect(&m_throttle, &QTimer::timeout, this, &WhatIfModel::refresh);
}

WhatIfModel::WhatIfModel(Backend *backend, QObject *parent)
    : WhatIfModel(parent)
{
    setBackend(backend);
}

void WhatIfModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "WhatIfModel"))
        return;
    connect(m_backend, &Backend::logChanged, this, [this] {
        if (!m_throttle.isActive())
            m_throttle.start();
    });
    connect(m_backend, &Backend::logCleared, this, &WhatIfModel::refresh);
    connect(m_backend, &Backend::instanceScopeChanged, this, &WhatIfModel::refresh);
    connect(m_backend, &Backend::dayChanged, this, &WhatIfModel::refresh);
    connect(m_backend, &Backend::keysChanged, this, &WhatIfModel::optionsChanged);
    // Prices, models and routes: the candidate may now be priced (or not) differently.
    connect(m_backend, &Backend::providersChanged, this, [this] {
        readOptions();
        refresh();
    });
    connect(m_backend, &Backend::routesChanged, this, [this] {
        readOptions();
        refresh();
    });
    readOptions();
    refresh();
    announceBackend(this);
}

int WhatIfModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_report.result.days.size());
}

QVariant WhatIfModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const whatif::Day &d = m_report.result.days.at(index.row());
    switch (role) {
    case DayRole:
        return d.dayMs;
    case Qt::DisplayRole:
    case LabelRole:
        return m_labels.value(index.row());
    case RequestsRole:
        return d.requests;
    case ActualRole:
        return toUsd(d.actual);
    case CandidateRole:
        return d.candidate ? toUsd(*d.candidate) : -1.0;
    case DifferenceRole:
        return d.candidate ? toUsd(*d.candidate - d.actual) : 0.0;
    default:
        return {};
    }
}

QHash<int, QByteArray> WhatIfModel::roleNames() const
{
    return {{DayRole, "day"}, {LabelRole, "label"}, {RequestsRole, "requests"}, {ActualRole, "actual"},
        {CandidateRole, "candidateCost"}, {DifferenceRole, "difference"}};
}

void WhatIfModel::setDays(int days)
{
    days = std::clamp(days, 1, kMaxDays);
    if (days == m_days)
        return;
    m_days = days;
    changed();
}

void WhatIfModel::setKeyId(int keyId)
{
    keyId = std::max(0, keyId);
    if (keyId == m_keyId)
        return;
    m_keyId = keyId;
    changed();
}

void WhatIfModel::setModel(const QString &model)
{
    if (model == m_model)
        return;
    m_model = model;
    changed();
}

void WhatIfModel::setSession(const QString &session)
{
    if (session == m_session)
        return;
    m_session = session;
    changed();
}

void WhatIfModel::setCandidate(const QString &candidate)
{
    if (candidate == m_candidate)
        return;
    m_candidate = candidate;
    changed();
}

void WhatIfModel::changed()
{
    Q_EMIT inputChanged();
    refresh();
}

QVariantList WhatIfModel::keyOptions() const
{
    QVariantList out;
    if (!m_backend)
        return out;
    for (const StoredKey &k : m_backend->keys())
        out.append(QVariantMap{{QStringLiteral("value"), k.id}, {QStringLiteral("label"), k.name}});
    return out;
}

QVariantList WhatIfModel::candidateOptions() const
{
    return m_candidateOptions;
}

void WhatIfModel::readOptions()
{
    m_candidateOptions.clear();
    if (!m_backend)
        return;
    const auto snapshot = m_backend->context().registry.snapshot();
    QStringList routes = snapshot->routes.keys();
    std::sort(routes.begin(), routes.end());
    for (const QString &id : std::as_const(routes)) {
        const RouteConfig &route = snapshot->routes.value(id);
        const QString first = route.targets.isEmpty() ? QString() : route.targets.constFirst().model;
        m_candidateOptions.append(QVariantMap{{QStringLiteral("value"), id},
            {QStringLiteral("label"), tr("%1 (route: %2)").arg(id, first)}, {QStringLiteral("route"), true},
            {QStringLiteral("priced"), resolve(id).price.isPriced()}});
    }
    QStringList models = snapshot->models.keys();
    std::sort(models.begin(), models.end());
    for (const QString &id : std::as_const(models)) {
        const ModelEntry &m = snapshot->models.value(id);
        m_candidateOptions.append(QVariantMap{{QStringLiteral("value"), id},
            {QStringLiteral("label"), m.config.price.isPriced() ? id : tr("%1 (unpriced)").arg(id)},
            {QStringLiteral("route"), false}, {QStringLiteral("priced"), m.config.price.isPriced()}});
    }
    Q_EMIT optionsChanged();
}

WhatIfModel::Resolved WhatIfModel::resolve(const QString &candidate) const
{
    Resolved r;
    if (!m_backend || candidate.isEmpty())
        return r;
    const auto snapshot = m_backend->context().registry.snapshot();
    QString model = candidate;
    // Route ids never contain '/', model ids always do (config.h).
    if (!candidate.contains(QLatin1Char('/'))) {
        const auto route = snapshot->routes.constFind(candidate);
        if (route == snapshot->routes.cend() || route->targets.isEmpty())
            return r;
        model = route->targets.constFirst().model;
    }
    const auto entry = snapshot->models.constFind(model);
    r.model = model;
    if (entry == snapshot->models.cend())
        return r;
    r.found = true;
    // The price in force now, as the gateway would bill a request of the candidate today.
    r.price = entry->priceAt(QDateTime::fromMSecsSinceEpoch(m_backend->nowMs(), Qt::UTC));
    r.contextWindow = entry->config.contextWindow;
    r.capabilities = entry->config.capabilities;
    return r;
}

void WhatIfModel::refresh()
{
    m_throttle.stop();
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true;
        return;
    }
    const Resolved resolved = resolve(m_candidate);
    whatif::Slice slice;
    const qint64 today = m_backend->nowMs() / kDayMs;
    slice.fromMs = (today - m_days + 1) * kDayMs;
    slice.toMs = (today + 1) * kDayMs;
    slice.keyId = m_keyId;
    slice.model = m_model;
    slice.session = m_session;
    whatif::Candidate candidate{resolved.price};
    const qint64 window = resolved.contextWindow;
    const qint64 sessionsSince = slice.fromMs;
    m_running = true;
    Q_EMIT loadingChanged();
    const int generation = ++m_generation;
    m_backend->queries().run<Answer>(
        this,
        [slice, candidate, window, sessionsSince](LogQueries &q) {
            Answer a;
            a.report = q.whatIf(slice, candidate, window);
            for (const SessionSpend &s : q.sessionSpend(sessionsSince, kSessionOptions))
                a.sessions.append(s.session);
            return a;
        },
        [this, generation, resolved](Answer answer) {
            m_running = false;
            if (generation == m_generation)
                apply(std::move(answer), resolved);
            if (m_again) {
                m_again = false;
                refresh();
                return;
            }
            Q_EMIT loadingChanged();
        });
}

void WhatIfModel::apply(Answer answer, const Resolved &resolved)
{
    beginResetModel();
    m_report = std::move(answer.report);
    m_resolved = resolved;
    m_error = m_report.result.ok ? QString() : m_report.result.error;
    m_labels.clear();
    const QLocale locale;
    for (const whatif::Day &d : std::as_const(m_report.result.days))
        m_labels.append(locale.toString(QDateTime::fromMSecsSinceEpoch(d.dayMs, Qt::UTC).date(), QStringLiteral("MMM d")));
    // The capabilities the slice's models have (as the catalog or config says) and the candidate lacks.
    QList<std::optional<QStringList>> used;
    const auto snapshot = m_backend->context().registry.snapshot();
    for (const whatif::ModelUse &u : std::as_const(m_report.models)) {
        const auto entry = snapshot->models.constFind(u.model);
        used.append(entry == snapshot->models.cend() ? std::nullopt : entry->config.capabilities);
    }
    m_missing = whatif::missingCapabilities(used, resolved.capabilities);
    m_ready = m_report.result.ok;
    endResetModel();
    if (!m_report.result.ok)
        qWarning("WhatIfModel: cannot read the request log: %s", qPrintable(m_error));

    QStringList models;
    for (const whatif::ModelUse &u : std::as_const(m_report.modelsInPeriod))
        models.append(u.model);
    std::sort(models.begin(), models.end());
    if (!m_model.isEmpty() && !models.contains(m_model))
        models.prepend(m_model); // the pick stays listed while it has no requests
    QStringList sessions = answer.sessions;
    if (!m_session.isEmpty() && !sessions.contains(m_session))
        sessions.prepend(m_session);
    if (models != m_modelOptions || sessions != m_sessionOptions) {
        m_modelOptions = models;
        m_sessionOptions = sessions;
        Q_EMIT optionsChanged();
    }
    Q_EMIT resultChanged();
}

double WhatIfModel::candidateCost() const
{
    const auto &total = m_report.result.candidateTotal;
    return total ? toUsd(*total) : -1.0;
}

double WhatIfModel::difference() const
{
    const auto &total = m_report.result.candidateTotal;
    return total ? toUsd(*total - m_report.result.actualTotal) : 0.0;
}

qint64 WhatIfModel::overContext() const
{
    if (m_resolved.contextWindow <= 0 || !m_report.overContext)
        return -1;
    return *m_report.overContext;
}

QVariantList WhatIfModel::evidence() const
{
    QVariantList out;
    auto entry = [this](const QString &model, bool candidate) {
        const VoteStats v = m_report.votes.value(model);
        return QVariantMap{{QStringLiteral("model"), model}, {QStringLiteral("rounds"), v.rounds},
            {QStringLiteral("wins"), v.wins}, {QStringLiteral("winRate"), v.rounds > 0 ? double(v.wins) / v.rounds : -1.0},
            {QStringLiteral("candidate"), candidate}};
    };
    if (!m_resolved.model.isEmpty() && m_report.votes.value(m_resolved.model).rounds > 0)
        out.append(entry(m_resolved.model, true));
    for (const whatif::ModelUse &u : std::as_const(m_report.models)) {
        if (u.model != m_resolved.model && m_report.votes.value(u.model).rounds > 0)
            out.append(entry(u.model, false));
    }
    return out;
}

double WhatIfModel::maxDayCost() const
{
    double max = 0;
    for (const whatif::Day &d : std::as_const(m_report.result.days)) {
        max = std::max(max, toUsd(d.actual));
        if (d.candidate)
            max = std::max(max, toUsd(*d.candidate));
    }
    return max;
}

void WhatIfModel::fillChart(QAbstractBarSeries *series, const QVariantList &colors) const
{
    if (!series)
        return;
    series->clear();
    const double rate = Format::instance()->currencyRate();
    const QStringList names{tr("Spent"), tr("On %1").arg(m_resolved.model.isEmpty() ? m_candidate : m_resolved.model)};
    for (int i = 0; i < 2; ++i) {
        auto *set = new QBarSet(names.at(i));
        if (colors.size() > i) {
            const QColor color = colors.at(i).value<QColor>();
            set->setColor(color);
            set->setBorderColor(color);
        }
        QList<qreal> values;
        values.reserve(m_report.result.days.size());
        for (const whatif::Day &d : std::as_const(m_report.result.days))
            values.append((i == 0 ? toUsd(d.actual) : toUsd(d.candidate.value_or(0))) * rate);
        set->append(values);
        series->append(set);
    }
}

} // namespace gh::ui
