#include "budget/budgetlease.h"
#include "core/logging.h"
#include <algorithm>
#include <chrono>
#include <QDateTime>
#include <limits>
#include <QMutexLocker>

namespace gh {

namespace {

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr qint64 kNsPerMs = 1'000'000;

// A reservation that found the lease short asks the store again at most this often: another
// thread may take what one grant added before this one uses it.
constexpr int kTakeAttempts = 3;

std::array<qint64, kPeriodCount> periodStarts(qint64 nowMs)
{
    std::array<qint64, kPeriodCount> starts{};
    for (int p = 0; p < kPeriodCount; ++p)
        starts[p] = periodStartMs(Period(p), nowMs);
    return starts;
}

} // namespace

NanoUsd leaseSize(NanoUsd need, NanoUsd available, const LeasePolicy &policy)
{
    if (need <= 0 || available < need)
        return 0;
    const NanoUsd share = available / qMax(1, policy.share);
    return qMax(need, qMin(share, policy.maxLease));
}

BudgetLease::BudgetLease(LeaseStore *store, LeasePolicy policy)
    : m_store(store)
    , m_policy(policy)
{ }

BudgetLease::~BudgetLease()
{
    stop();
}

void BudgetLease::start()
{
    if (m_thread.joinable())
        return;
    m_stopping = false;
    m_thread = std::thread([this] { run(); });
}

void BudgetLease::stop()
{
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_wakeMutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    if (leaseCount() > 0 && !report(true))
        qCWarning(lcBudget) << "could not hand the budget leases back to the team store; they expire within"
                            << m_policy.ttlMs << "ms";
}

void BudgetLease::run()
{
    std::unique_lock lock(m_wakeMutex);
    while (!m_stopping) {
        m_wake.wait_for(lock, std::chrono::milliseconds(m_policy.reportIntervalMs), [this] { return m_stopping; });
        if (m_stopping)
            break;
        lock.unlock();
        report(false);
        lock.lock();
    }
}

BudgetLease::Lease *BudgetLease::usableLocked(qint64 keyId, qint64 dayStart, qint64 nowNs)
{
    auto cur = m_current.constFind(keyId);
    if (cur == m_current.cend())
        return nullptr;
    auto it = m_leases.find(*cur);
    if (it == m_leases.end() || it->deadlineNs <= nowNs || it->dayStart != dayStart)
        return nullptr;
    return &*it;
}

bool BudgetLease::holdLocked(Lease &lease, quint64 reservationId, NanoUsd amount, qint64 nowNs)
{
    if (lease.spent + lease.reserved + amount > lease.amount)
        return false;
    lease.reserved += amount;
    lease.lastUseNs = nowNs;
    m_held.insert(reservationId, Hold{lease.id, amount});
    return true;
}

std::optional<BudgetLedger::Refusal> BudgetLease::reserve(
    const BudgetLedger::Reservation &reservation, const BudgetLimits &limits, qint64 nowMs)
{
    if (!limits.any() || reservation.amount <= 0)
        return std::nullopt; // nothing to lease: the key has no limit, or the request no price
    const qint64 dayStart = periodStartMs(Period::Day, nowMs);
    {
        QMutexLocker lock(&m_mutex);
        if (Lease *lease = usableLocked(reservation.keyId, dayStart, steadyNs());
            lease && holdLocked(*lease, reservation.id, reservation.amount, steadyNs()))
            return std::nullopt;
    }
    QMutexLocker storeLock(&m_storeMutex);
    const auto starts = periodStarts(nowMs);
    LeaseGrant grant;
    for (int attempt = 0; attempt < kTakeAttempts; ++attempt) {
        {
            QMutexLocker lock(&m_mutex);
            // Another reservation may have enlarged the lease while this one waited for the store.
            if (Lease *lease = usableLocked(reservation.keyId, dayStart, steadyNs());
                lease && holdLocked(*lease, reservation.id, reservation.amount, steadyNs()))
                return std::nullopt;
        }
        grant = takeMore(reservation, limits, nowMs, dayStart, starts);
        if (grant.outcome != LeaseGrant::Outcome::Granted)
            break;
    }
    QMutexLocker lock(&m_mutex);
    NanoUsd headroom = 0;
    if (Lease *lease = usableLocked(reservation.keyId, dayStart, steadyNs())) {
        if (holdLocked(*lease, reservation.id, reservation.amount, steadyNs()))
            return std::nullopt;
        headroom = qMax<NanoUsd>(0, lease->amount - lease->spent - lease->reserved);
    }
    if (grant.outcome == LeaseGrant::Outcome::Granted) { // taken by concurrent requests each time
        grant = LeaseGrant{};
        grant.outcome = LeaseGrant::Outcome::Refused;
    }
    return refusalFor(grant, limits, headroom);
}

LeaseGrant BudgetLease::takeMore(const BudgetLedger::Reservation &reservation, const BudgetLimits &limits, qint64 nowMs,
    qint64 dayStart, std::array<qint64, kPeriodCount> starts)
{
    LeaseRequest request;
    request.keyId = reservation.keyId;
    request.limits = limits;
    request.periodStarts = starts;
    request.nowMs = nowMs;
    request.need = reservation.amount;
    {
        QMutexLocker lock(&m_mutex);
        if (Lease *lease = usableLocked(reservation.keyId, dayStart, steadyNs())) {
            request.leaseId = lease->id;
            request.need = qMax<NanoUsd>(1, lease->spent + lease->reserved + reservation.amount - lease->amount);
        }
    }
    const qint64 sentNs = steadyNs();
    const LeaseGrant grant = m_store->take(request, m_policy);
    if (grant.outcome != LeaseGrant::Outcome::Granted) {
        qCDebug(lcBudget) << "key" << reservation.keyId << "lease refused or store unreachable:" << grant.error;
        changed(false);
        return grant;
    }
    struct Notify { // after m_mutex is released below
        BudgetLease *self;
        ~Notify() { self->changed(true); }
    } notify{this};
    QMutexLocker lock(&m_mutex);
    const qint64 deadline = sentNs + (m_policy.ttlMs - m_policy.marginMs) * kNsPerMs;
    auto it = m_leases.find(grant.leaseId);
    if (it == m_leases.end()) {
        if (auto old = m_current.constFind(reservation.keyId); old != m_current.cend()) {
            auto prev = m_leases.find(*old);
            if (prev != m_leases.end())
                prev->current = false; // handed back by the next report once its requests finished
        }
        Lease lease;
        lease.id = grant.leaseId;
        lease.keyId = reservation.keyId;
        lease.dayStart = dayStart;
        lease.current = true;
        lease.lastUseNs = sentNs;
        it = m_leases.insert(grant.leaseId, lease);
        m_current.insert(reservation.keyId, grant.leaseId);
    }
    it->amount = qMax(it->amount, grant.amount);
    it->deadlineNs = deadline;
    return grant;
}

BudgetLedger::Refusal BudgetLease::refusalFor(
    const LeaseGrant &grant, const BudgetLimits &limits, NanoUsd headroom) const
{
    BudgetLedger::Refusal refusal;
    if (grant.outcome == LeaseGrant::Outcome::Unreachable) {
        refusal.storeUnreachable = true;
        for (int p = 0; p < kPeriodCount; ++p) {
            if (limits.limit[p]) {
                refusal.period = Period(p);
                refusal.limit = *limits.limit[p];
                break;
            }
        }
        refusal.remaining = headroom;
        return refusal;
    }
    refusal.period = grant.period;
    refusal.limit = grant.limit;
    refusal.spent = grant.spent;
    refusal.reserved = grant.leased;
    // What this instance could still reserve: its lease's unreserved part plus what the store has.
    refusal.remaining = headroom + grant.available;
    return refusal;
}

void BudgetLease::settle(quint64 reservationId, NanoUsd actual)
{
    QMutexLocker lock(&m_mutex);
    const auto held = m_held.constFind(reservationId);
    if (held == m_held.cend())
        return;
    auto it = m_leases.find(held->leaseId);
    if (it != m_leases.end()) {
        it->reserved -= held->amount;
        it->spent += qMax<NanoUsd>(0, actual);
    }
    m_held.erase(held);
}

void BudgetLease::release(quint64 reservationId)
{
    QMutexLocker lock(&m_mutex);
    const auto held = m_held.constFind(reservationId);
    if (held == m_held.cend())
        return;
    auto it = m_leases.find(held->leaseId);
    if (it != m_leases.end())
        it->reserved -= held->amount;
    m_held.erase(held);
}

std::vector<LeaseReport> BudgetLease::batchLocked(bool handBackAll, qint64 nowNs)
{
    std::vector<LeaseReport> batch;
    batch.reserve(m_leases.size());
    for (Lease &lease : m_leases) {
        const bool live = lease.current && lease.deadlineNs > nowNs;
        const bool inUse = live && !handBackAll && nowNs - lease.lastUseNs < m_policy.idleMs * kNsPerMs;
        if (!inUse) {
            // Handed back, all but what requests in flight hold; a lease being handed back is no
            // longer the key's current one, so new requests take a new lease meanwhile.
            lease.amount = lease.spent + lease.reserved;
            if (lease.current) {
                lease.current = false;
                m_current.remove(lease.keyId);
            }
        }
        LeaseReport r;
        r.leaseId = lease.id;
        r.spentDelta = lease.spent - lease.reported;
        r.trimTo = lease.amount;
        r.final = !inUse && lease.reserved == 0;
        batch.push_back(r);
    }
    return batch;
}

bool BudgetLease::report(bool handBackAll)
{
    QMutexLocker storeLock(&m_storeMutex);
    std::vector<LeaseReport> batch;
    {
        QMutexLocker lock(&m_mutex);
        batch = batchLocked(handBackAll, steadyNs());
    }
    if (batch.empty())
        return true;
    const qint64 sentNs = steadyNs();
    const std::vector<LeaseStore::ReportResult> results = m_store->report(batch, m_policy.ttlMs);
    bool leasesChanged = false;
    struct Notify { // after m_mutex is released below
        BudgetLease *self;
        const bool &force;
        ~Notify() { self->changed(force); }
    } notify{this, leasesChanged};
    QMutexLocker lock(&m_mutex);
    bool reached = true;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const LeaseStore::ReportResult result = i < results.size() ? results[i] : LeaseStore::ReportResult::Unreachable;
        auto it = m_leases.find(batch[i].leaseId);
        if (it == m_leases.end())
            continue;
        if (result == LeaseStore::ReportResult::Unreachable) {
            reached = false; // serve from the lease until its deadline; the spend goes with the next report
            continue;
        }
        it->reported += batch[i].spentDelta;
        if (batch[i].final && it->reserved == 0 && it->reported == it->spent) {
            m_current.remove(it->keyId); // no-op unless it was still current
            m_leases.erase(it);
            leasesChanged = true;
            continue;
        }
        if (result == LeaseStore::ReportResult::Expired) {
            leasesChanged = leasesChanged || it->deadlineNs != 0;
            it->deadlineNs = 0; // the store no longer counts it: no new reservation on it
        }
        else if (!batch[i].final)
            it->deadlineNs = qMax(it->deadlineNs, sentNs + (m_policy.ttlMs - m_policy.marginMs) * kNsPerMs);
    }
    return reached;
}

BudgetLease::Status BudgetLease::status(qint64 keyId) const
{
    QMutexLocker lock(&m_mutex);
    Status s;
    const auto cur = m_current.constFind(keyId);
    if (cur == m_current.cend())
        return s;
    const auto it = m_leases.constFind(*cur);
    if (it == m_leases.cend())
        return s;
    s.leaseId = it->id;
    s.amount = it->amount;
    s.spent = it->spent;
    s.reported = it->reported;
    s.reserved = it->reserved;
    s.live = it->deadlineNs > steadyNs();
    return s;
}

QList<BudgetLease::Held> BudgetLease::held() const
{
    QMutexLocker lock(&m_mutex);
    const qint64 nowNs = steadyNs();
    const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
    QList<Held> out;
    for (auto cur = m_current.cbegin(); cur != m_current.cend(); ++cur) {
        const auto it = m_leases.constFind(cur.value());
        if (it == m_leases.cend())
            continue;
        Held h;
        h.keyId = it->keyId;
        h.leaseId = it->id;
        h.amount = it->amount;
        h.left = qMax<NanoUsd>(0, it->amount - it->spent - it->reserved);
        h.live = it->deadlineNs > nowNs;
        h.usableUntilMs = h.live ? nowMs + (it->deadlineNs - nowNs) / kNsPerMs : nowMs;
        out.append(h);
    }
    std::sort(out.begin(), out.end(), [](const Held &a, const Held &b) { return a.keyId < b.keyId; });
    return out;
}

void BudgetLease::setOnChange(std::function<void()> onChange)
{
    QMutexLocker lock(&m_onChangeMutex);
    m_onChange = std::move(onChange);
}

// Tells the listener when `force` (a lease taken, handed back or expired) or the store's health
// flipped: a report that changed nothing (the same leases renewed, the store as healthy as before)
// is not a change, so an idle team does not wake the window 4 times a second.
void BudgetLease::changed(bool force)
{
    const bool failing = m_store->health().failing;
    QMutexLocker lock(&m_onChangeMutex);
    if (!force && failing == m_wasFailing)
        return;
    m_wasFailing = failing;
    if (m_onChange)
        m_onChange();
}

int BudgetLease::leaseCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_leases.size());
}

} // namespace gh
