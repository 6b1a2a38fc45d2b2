#include "teamstate.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "spendaggregates.h"
#include "store/pgleasestore.h"
#include "store/queryrunner.h"
#include "store/storelocation.h"
#include <QDateTime>
#include <QCoreApplication>
#include <QSemaphore>

namespace gh::ui {

namespace {

// Times go to QML as ms since the epoch (Format.dateTime's input), 0 for none.
double timeOf(qint64 ms)
{
    return ms > 0 ? double(ms) : 0.0;
}

BudgetLimits budgetLimitsOf(const KeyLimits &l)
{
    BudgetLimits b;
    const std::optional<double> usd[kPeriodCount] = {l.dayUsd, l.weekUsd, l.monthUsd, l.totalUsd};
    for (int p = 0; p < kPeriodCount; ++p) {
        if (usd[p])
            b.limit[p] = fromUsd(*usd[p]);
    }
    return b;
}

} // namespace

// --- TeamLeasesModel ---

int TeamLeasesModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant TeamLeasesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case KeyIdRole:
        return r.held.keyId;
    case Qt::DisplayRole:
    case KeyNameRole:
        return r.keyName;
    case LeftUsdRole:
        return toUsd(r.held.left);
    case AmountUsdRole:
        return toUsd(r.held.amount);
    case UsableUntilRole:
        return timeOf(r.held.usableUntilMs);
    case LiveRole:
        return r.held.live;
    default:
        return {};
    }
}

QHash<int, QByteArray> TeamLeasesModel::roleNames() const
{
    return {{KeyIdRole, "keyId"}, {KeyNameRole, "keyName"}, {LeftUsdRole, "leftUsd"}, {AmountUsdRole, "amountUsd"},
        {UsableUntilRole, "usableUntil"}, {LiveRole, "live"}};
}

void TeamLeasesModel::setRows(QList<Row> rows)
{
    const bool sameShape = rows.size() == m_rows.size()
        && std::equal(rows.cbegin(), rows.cend(), m_rows.cbegin(),
            [](const Row &a, const Row &b) { return a.held.keyId == b.held.keyId; });
    if (sameShape) {
        m_rows = std::move(rows);
        if (!m_rows.isEmpty())
            Q_EMIT dataChanged(index(0), index(int(m_rows.size()) - 1));
        return;
    }
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
    Q_EMIT countChanged();
}

// --- TeamPeersModel ---

int TeamPeersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int TeamPeersModel::others() const
{
    return int(std::count_if(m_rows.cbegin(), m_rows.cend(), [](const Row &r) { return !r.self; }));
}

QVariant TeamPeersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case InstanceIdRole:
        return r.instanceId;
    case SelfRole:
        return r.self;
    case LastSeenRole:
        return timeOf(qMax(r.lastLeaseMs, r.lastRequestMs));
    case LastLeaseRole:
        return timeOf(r.lastLeaseMs);
    case LastRequestRole:
        return timeOf(r.lastRequestMs);
    case LeasedUsdRole:
        return toUsd(r.leased);
    default:
        return {};
    }
}

QHash<int, QByteArray> TeamPeersModel::roleNames() const
{
    return {{InstanceIdRole, "instanceId"}, {SelfRole, "self"}, {LastSeenRole, "lastSeen"},
        {LastLeaseRole, "lastLease"}, {LastRequestRole, "lastRequest"}, {LeasedUsdRole, "leasedUsd"}};
}

void TeamPeersModel::setRows(QList<Row> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
    Q_EMIT countChanged();
}

// --- TeamState ---

TeamState::TeamState(Backend &backend, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
    , m_isTeam(backend.store().isTeamStore())
{
    if (!m_isTeam)
        return;
    m_state = QStringLiteral("connecting");
    const QString saved = backend.uiSetting(QStringLiteral("teamScope"), QStringLiteral("team")).toString();
    m_scope = saved.isEmpty() ? QStringLiteral("team") : saved;
    applyScope();

    m_reader = std::make_unique<PgTeamReader>(backend.store().path(), backend.store().instanceId());
    m_thread.setObjectName(QStringLiteral("ui-team"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    m_thread.start();

    if (BudgetLease *leases = backend.gateway().leases()) {
        // From a request's thread or the report thread: only post here.
        leases->setOnChange([this] {
            QMetaObject::invokeMethod(this, [this] { readLeases(); updateState(); }, Qt::QueuedConnection);
        });
    }
    connect(&backend.store(), &Store::logHealthChanged, this, &TeamState::updateState, Qt::QueuedConnection);
    connect(&backend, &Backend::activityTick, this, &TeamState::readLeases);
    connect(&backend, &Backend::keysChanged, this, &TeamState::refresh);
    // New rows change the team's spend: read it again soon, at most every kSoonMs under traffic.
    m_soon.setSingleShot(true);
    m_soon.setInterval(kSoonMs);
    connect(&m_soon, &QTimer::timeout, this, &TeamState::poll);
    connect(&backend, &Backend::logChanged, this, [this] {
        if (!m_soon.isActive())
            m_soon.start();
    });
    m_pollTimer.setInterval(kPollMs);
    connect(&m_pollTimer, &QTimer::timeout, this, &TeamState::poll);
    m_pollTimer.start();
    readLeases();
    poll();
}

TeamState::~TeamState()
{
    if (!m_isTeam)
        return;
    // BudgetLease::setOnChange waits for a call in progress: none can reach this object afterwards.
    if (BudgetLease *leases = m_backend.gateway().leases())
        leases->setOnChange({});
    m_thread.quit();
    m_thread.wait();
    delete m_worker;
    m_reader.reset();
}

QString TeamState::stateLabel() const
{
    if (m_state == QLatin1String("connected"))
        return tr("Team: connected");
    if (m_state == QLatin1String("degraded"))
        return tr("Team: degraded");
    if (m_state == QLatin1String("offline"))
        return tr("Team: offline");
    if (m_state == QLatin1String("connecting"))
        return tr("Team: connecting…");
    return {};
}

double TeamState::checkedAt() const
{
    return timeOf(m_checkedAtMs);
}

QString TeamState::instanceId() const
{
    return m_backend.store().instanceId();
}

QString TeamState::storeLocation() const
{
    return storelocation::redacted(m_backend.store().path());
}

void TeamState::setScope(const QString &scope)
{
    const QString value = scope.isEmpty() ? QStringLiteral("team") : scope;
    if (!m_isTeam || value == m_scope)
        return;
    m_scope = value;
    m_backend.setUiSetting(QStringLiteral("teamScope"), m_scope);
    applyScope();
    m_backend.aggregates().reset(); // the dashboard's spend, read again with the new scope
    Q_EMIT scopeChanged();
    Q_EMIT m_backend.instanceScopeChanged();
}

QString TeamState::scopeLabel() const
{
    if (m_scope == QLatin1String("team"))
        return tr("Whole team");
    if (m_scope == QLatin1String("machine") || m_scope == instanceId())
        return tr("This machine");
    return tr("Instance %1").arg(m_scope);
}

QString TeamState::scopeInstance() const
{
    if (!m_isTeam || m_scope == QLatin1String("team"))
        return {};
    if (m_scope == QLatin1String("machine"))
        return instanceId();
    return m_scope;
}

void TeamState::applyScope()
{
    m_backend.queries().setInstanceScope(scopeInstance());
}

std::optional<std::array<NanoUsd, kPeriodCount>> TeamState::teamSpend(qint64 keyId) const
{
    const auto it = m_spend.constFind(keyId);
    if (it == m_spend.cend())
        return std::nullopt;
    return *it;
}

void TeamState::refresh()
{
    if (!m_isTeam)
        return;
    poll();
}

void TeamState::poll()
{
    if (m_polling) {
        m_pollAgain = true;
        return;
    }
    m_polling = true;
    const qint64 now = m_backend.nowMs();
    QHash<qint64, BudgetLimits> keys;
    for (const StoredKey &k : m_backend.keys()) {
        if (!k.revoked)
            keys.insert(k.id, budgetLimitsOf(k.limits));
    }
    std::array<qint64, kPeriodCount> starts{};
    for (int p = 0; p < kPeriodCount; ++p)
        starts[p] = periodStartMs(Period(p), now);
    PgTeamReader *reader = m_reader.get();
    QMetaObject::invokeMethod(
        m_worker,
        [this, reader, keys, starts, now] {
            Poll result;
            result.atMs = QDateTime::currentMSecsSinceEpoch();
            QList<PgTeamReader::Peer> peers;
            QHash<qint64, PgTeamReader::KeySpend> spend;
            result.ok = reader->readPeers(now - kSeenWindowMs, &peers, &result.error)
                && reader->readTeamSpend(keys, starts, &spend, &result.error);
            for (const PgTeamReader::Peer &p : std::as_const(peers))
                result.peers.append({p.instanceId, p.self, p.lastLeaseMs, p.lastRequestMs, p.leasedLeft});
            for (auto it = spend.cbegin(); it != spend.cend(); ++it)
                result.spend.insert(it.key(), it->spent);
            // Queued to this object: dropped with it when the window closed meanwhile.
            QMetaObject::invokeMethod(this, [this, result] { applyPoll(result); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void TeamState::applyPoll(const Poll &poll)
{
    m_polling = false;
    m_readDone = true;
    m_readOk = poll.ok;
    m_readError = poll.error;
    m_checkedAtMs = poll.atMs;
    if (poll.ok) {
        QList<TeamPeersModel::Row> rows = poll.peers;
        const bool selfSeen = std::any_of(rows.cbegin(), rows.cend(), [](const TeamPeersModel::Row &r) { return r.self; });
        if (!selfSeen) // not seen in the store yet (no lease, no request): still part of the team
            rows.append({instanceId(), true, 0, 0, 0});
        m_peers.setRows(std::move(rows));
        if (m_spend != poll.spend) {
            m_spend = poll.spend;
            Q_EMIT teamSpendChanged();
        }
    }
    readLeases();
    updateState();
    if (m_pollAgain) {
        m_pollAgain = false;
        this->poll();
    }
}

void TeamState::readLeases()
{
    const BudgetLease *leases = m_backend.gateway().leases();
    QList<TeamLeasesModel::Row> rows;
    if (leases) {
        for (const BudgetLease::Held &h : leases->held())
            rows.append({h, m_backend.keyName(h.keyId, tr("key %1").arg(h.keyId))});
    }
    m_leases.setRows(std::move(rows));
}

// offline: this window's own reads cannot reach PostgreSQL (requests are served from the leases
// held); degraded: they can, but the gateway's lease conversation or its log writes fail;
// connected otherwise.
void TeamState::updateState()
{
    if (!m_isTeam)
        return;
    QString state;
    QString detail;
    const BudgetLease *leases = m_backend.gateway().leases();
    const LeaseStoreHealth lease = leases ? leases->storeHealth() : LeaseStoreHealth{};
    const Store::LogHealth log = m_backend.store().logHealth();
    if (!m_readDone) {
        state = QStringLiteral("connecting");
        detail = tr("Reading the team store…");
    } else if (!m_readOk) {
        state = QStringLiteral("offline");
        detail = tr("The team store cannot be reached: %1. Requests are served from the budget leases held until "
                    "they run out or expire; the log waits on this machine.")
                     .arg(m_readError);
    } else if (lease.failing) {
        state = QStringLiteral("degraded");
        detail = tr("The team store answers, but budget lease renewals fail: %1").arg(lease.error);
    } else if (log.failing) {
        state = QStringLiteral("degraded");
        detail = tr("The team store answers, but the request log cannot be written (%1 waiting): %2")
                     .arg(log.waiting)
                     .arg(log.error);
    } else {
        state = QStringLiteral("connected");
        detail = tr("Budgets and the request log are shared with the team.");
    }
    if (state == m_state && detail == m_detail)
        return;
    m_state = state;
    m_detail = detail;
    Q_EMIT stateChanged();
}

void TeamState::waitForIdleForTesting()
{
    if (!m_isTeam)
        return;
    for (int i = 0; i < 100 && (m_polling || m_pollAgain); ++i) {
        QSemaphore done;
        QMetaObject::invokeMethod(m_worker, [&done] { done.release(); }, Qt::QueuedConnection);
        done.acquire();
        QCoreApplication::processEvents(); // applies the posted result
    }
}

} // namespace gh::ui
