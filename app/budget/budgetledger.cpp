#include "budget/budgetledger.h"
#include "core/logging.h"

#include <QDate>
#include <QDateTime>
#include <QMutexLocker>
#include <chrono>
#include <limits>

namespace gh {

namespace {

// A timestamp taken just before another thread rolled a period over (now is read before the lock)
// must not roll it back: within this window before the stored start, the stored period is kept.
// A clock that really moved back further than this resets the period as any other change does.
constexpr qint64 kStaleTimestampToleranceMs = 60'000;

// Local-time conversions cost microseconds (up to ~10 us when the C library re-reads /etc/localtime),
// so the ledger keeps the current day's period starts. They are recomputed at least this often, so a
// change of the system time zone is picked up within a second.
constexpr qint64 kPeriodCacheLifetimeNs = 1'000'000'000;

// Saturating arithmetic: huge worst cases (absurd max_tokens x price) must not wrap around and
// turn into a reservation that "fits".
NanoUsd addSat(NanoUsd a, NanoUsd b)
{
    constexpr NanoUsd hi = std::numeric_limits<NanoUsd>::max();
    constexpr NanoUsd lo = std::numeric_limits<NanoUsd>::min();
    if (b > 0 && a > hi - b)
        return hi;
    if (b < 0 && a < lo - b)
        return lo;
    return a + b;
}

NanoUsd subSat(NanoUsd a, NanoUsd b)
{
    if (b == std::numeric_limits<NanoUsd>::min())
        return addSat(addSat(a, std::numeric_limits<NanoUsd>::max()), 1);
    return addSat(a, -b);
}

NanoUsd nonNegative(NanoUsd v) { return v < 0 ? 0 : v; }

using Starts = std::array<qint64, kPeriodCount>;

// The start of a period that cannot be known: a time outside what QDateTime represents (a broken
// clock). Such a time never rolls a period over, and a new key's periods start out unknown.
constexpr qint64 kUnknownStart = std::numeric_limits<qint64>::min();

qint64 startMs(const QDate &date)
{
    if (!date.isValid())
        return kUnknownStart;
    // startOfDay() finds the first valid local time when midnight does not exist (a DST jump at 00:00).
    QDateTime dt = date.startOfDay();
    if (!dt.isValid())
        dt = date.startOfDay(Qt::UTC); // outside what local time can represent
    return dt.isValid() ? dt.toMSecsSinceEpoch() : kUnknownStart;
}

qint64 startOf(Period p, const QDate &today)
{
    switch (p) {
    case Period::Day:
        return startMs(today);
    case Period::Week: // ISO weeks: Monday is day 1
        return startMs(today.addDays(1 - today.dayOfWeek()));
    case Period::Month:
        return startMs(QDate(today.year(), today.month(), 1));
    case Period::Total:
        break;
    }
    return 0;
}

QDate localDate(qint64 nowMs) { return QDateTime::fromMSecsSinceEpoch(nowMs).date(); }

struct DayPeriods {
    Starts starts{};
    qint64 nextDayStart = 0; // the end of the day that contains the time asked for
};

DayPeriods dayPeriods(qint64 nowMs)
{
    // One local-time conversion for the date, then the starts from it.
    DayPeriods d;
    const QDate today = localDate(nowMs);
    if (!today.isValid()) {
        d.starts.fill(kUnknownStart);
        d.starts[int(Period::Total)] = 0;
        return d;
    }
    for (int p = 0; p < kPeriodCount; ++p)
        d.starts[p] = startOf(Period(p), today);
    d.nextDayStart = startMs(today.addDays(1));
    return d;
}

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Whether the stored period must be replaced by the one that starts at `current`.
bool mustRollOver(qint64 stored, qint64 current, qint64 nowMs)
{
    if (stored == current || current == kUnknownStart)
        return false;
    if (current < stored && nowMs >= stored - kStaleTimestampToleranceMs)
        return false; // a stale timestamp from a racing thread, not a new period
    return true;
}

} // namespace

BudgetLedger::KeyState BudgetLedger::newKeyState()
{
    KeyState state;
    state.periodStart.fill(kUnknownStart);
    return state;
}

const char *periodName(Period p)
{
    switch (p) {
    case Period::Day:
        return "day";
    case Period::Week:
        return "week";
    case Period::Month:
        return "month";
    case Period::Total:
        return "total";
    }
    return "unknown";
}

qint64 periodStartMs(Period p, qint64 nowMs)
{
    if (p == Period::Total)
        return 0;
    const QDate today = localDate(nowMs);
    const qint64 start = today.isValid() ? startOf(p, today) : kUnknownStart;
    return start == kUnknownStart ? 0 : start;
}

std::optional<NanoUsd> BudgetLedger::PeriodStatus::remaining() const
{
    if (!limit)
        return std::nullopt;
    return nonNegative(subSat(subSat(*limit, spent), reserved));
}

BudgetLedger::PeriodStarts BudgetLedger::startsLocked(QMutexLocker<QMutex> &lock, qint64 nowMs, bool remember) const
{
    const PeriodCache &c = m_periodCache;
    const qint64 steady = steadyNs();
    if (nowMs >= c.starts[int(Period::Day)] && nowMs < c.nextDayStart && steady < c.expiresAtNs)
        return c.starts;
    // Compute without holding the lock; callers look their state up only after this returns.
    lock.unlock();
    const DayPeriods d = dayPeriods(nowMs);
    lock.relock();
    if (remember && d.starts[int(Period::Day)] != kUnknownStart && d.nextDayStart > d.starts[int(Period::Day)])
        m_periodCache = PeriodCache{d.starts, d.nextDayStart, steady + kPeriodCacheLifetimeNs};
    return d.starts;
}

BudgetLedger::KeyState &BudgetLedger::stateLocked(qint64 keyId, const Starts &starts, qint64 nowMs)
{
    auto it = m_keys.find(keyId);
    if (it == m_keys.end()) // unknown keys are unlimited
        it = m_keys.insert(keyId, newKeyState());
    rollOverLocked(*it, starts, nowMs);
    return *it;
}

void BudgetLedger::rollOverLocked(KeyState &state, const Starts &starts, qint64 nowMs)
{
    for (int p = 0; p < kPeriodCount; ++p) {
        if (mustRollOver(state.periodStart[p], starts[p], nowMs)) {
            state.spent[p] = 0;
            state.periodStart[p] = starts[p];
        }
    }
}

void BudgetLedger::setLimits(qint64 keyId, const BudgetLimits &limits)
{
    BudgetLimits clean = limits;
    for (auto &l : clean.limit) {
        if (l && *l < 0) {
            qCWarning(lcBudget) << "negative limit" << *l << "for key" << keyId << "treated as 0";
            l = 0;
        }
    }
    // No clock here: periods roll over on the next call that says what time it is. A new key's
    // periods are unknown, so that call adopts its periods (with nothing spent yet).
    QMutexLocker lock(&m_mutex);
    auto it = m_keys.find(keyId);
    if (it == m_keys.end())
        it = m_keys.insert(keyId, newKeyState());
    it->limits = clean;
}

void BudgetLedger::removeKey(qint64 keyId)
{
    QMutexLocker lock(&m_mutex);
    m_keys.remove(keyId);
    // Reservations of a removed key become unknown: settling or releasing them later is a no-op,
    // even if a key with the same id is added again meanwhile.
    for (auto it = m_pending.begin(); it != m_pending.end();) {
        if (it->keyId == keyId)
            it = m_pending.erase(it);
        else
            ++it;
    }
}

void BudgetLedger::setSpent(qint64 keyId, Period p, NanoUsd spent, qint64 nowMs)
{
    const int i = int(p);
    if (i < 0 || i >= kPeriodCount)
        return;
    if (spent < 0) {
        qCWarning(lcBudget) << "negative spend" << spent << "for key" << keyId << "treated as 0";
        spent = 0;
    }
    bool applied = false;
    {
        QMutexLocker lock(&m_mutex);
        const Starts starts = startsLocked(lock, nowMs);
        KeyState &state = stateLocked(keyId, starts, nowMs);
        if (state.periodStart[i] == starts[i]) {
            state.spent[i] = spent;
            applied = true;
        }
    }
    if (!applied)
        qCWarning(lcBudget) << "spend for key" << keyId << periodName(p)
                            << "ignored: it belongs to a period before the current one";
}

void BudgetLedger::setOvershoots(qint64 keyId, const Overshoots &overshoots, qint64 nowMs)
{
    QMutexLocker lock(&m_mutex);
    const Starts starts = startsLocked(lock, nowMs);
    stateLocked(keyId, starts, nowMs).overshoots = overshoots;
}

std::variant<BudgetLedger::Reservation, BudgetLedger::Refusal>
BudgetLedger::reserve(qint64 keyId, NanoUsd worstCase, qint64 nowMs)
{
    if (worstCase < 0) {
        qCWarning(lcBudget) << "negative worst case" << worstCase << "for key" << keyId << "treated as 0";
        worstCase = 0;
    }
    QMutexLocker lock(&m_mutex);
    const Starts starts = startsLocked(lock, nowMs);
    KeyState &state = stateLocked(keyId, starts, nowMs);
    for (int p = 0; p < kPeriodCount; ++p) {
        const auto &limit = state.limits.limit[p];
        if (!limit)
            continue;
        const NanoUsd remaining = subSat(subSat(*limit, state.spent[p]), state.reserved);
        if (worstCase > remaining) {
            Refusal refusal{Period(p), *limit, nonNegative(remaining), worstCase, state.spent[p], state.reserved};
            lock.unlock();
            qCDebug(lcBudget) << "key" << keyId << "refused:" << periodName(refusal.period) << "remaining"
                              << refusal.remaining << "worst case" << worstCase;
            return refusal;
        }
    }
    state.reserved = addSat(state.reserved, worstCase);
    ++state.inFlight;
    Reservation r;
    r.id = m_nextId++;
    r.keyId = keyId;
    r.amount = worstCase;
    r.startedAtMs = nowMs;
    m_pending.insert(r.id, r);
    if (!m_gate)
        return r;
    const BudgetLimits limits = state.limits;
    lock.unlock();
    // The gate may wait on the team store: never under the ledger's lock.
    if (std::optional<Refusal> refusal = m_gate->reserve(r, limits, nowMs)) {
        release(r); // the gate holds nothing for a refused reservation
        refusal->worstCase = worstCase;
        return *refusal;
    }
    return r;
}

void BudgetLedger::dropReservedLocked(KeyState &state, NanoUsd amount)
{
    state.reserved = nonNegative(subSat(state.reserved, amount));
    if (state.inFlight > 0)
        --state.inFlight;
}

NanoUsd BudgetLedger::settle(const Reservation &reservation, NanoUsd actual, qint64 nowMs)
{
    if (!reservation)
        return 0;
    if (actual < 0) {
        qCWarning(lcBudget) << "negative cost" << actual << "for key" << reservation.keyId << "treated as 0";
        actual = 0;
    }
    QMutexLocker lock(&m_mutex);
    // Period starts first: computing them may release the lock, so nothing is looked up before.
    // The periods the request began in are usually today's, from the cache; a request that began
    // yesterday must not evict today from it.
    const Starts starts = startsLocked(lock, nowMs);
    Starts began = startsLocked(lock, reservation.startedAtMs, false);
    auto pending = m_pending.find(reservation.id);
    if (pending == m_pending.end())
        return 0; // unknown, already settled or released, or its key was removed
    if (pending->startedAtMs != reservation.startedAtMs) {
        // The caller's copy was altered: the ledger's record is authoritative.
        const qint64 startedAtMs = pending->startedAtMs;
        began = startsLocked(lock, startedAtMs, false);
        pending = m_pending.find(reservation.id);
        if (pending == m_pending.end())
            return 0; // settled or released by another thread meanwhile
    }
    const Reservation own = *pending;
    m_pending.erase(pending);
    if (m_gate)
        m_gate->settle(own.id, actual);
    auto it = m_keys.find(own.keyId);
    if (it == m_keys.end())
        return 0;
    KeyState &state = *it;
    rollOverLocked(state, starts, nowMs);
    dropReservedLocked(state, own.amount);
    for (int p = 0; p < kPeriodCount; ++p) {
        // A start that cannot be placed in time counts in the current period (never less spend).
        if (began[p] == state.periodStart[p] || began[p] == kUnknownStart)
            state.spent[p] = addSat(state.spent[p], actual);
    }
    const NanoUsd over = actual > own.amount ? subSat(actual, own.amount) : 0;
    if (over > 0) {
        ++state.overshoots.count;
        state.overshoots.amount = addSat(state.overshoots.amount, over);
    }
    return over;
}

void BudgetLedger::release(const Reservation &reservation)
{
    if (!reservation)
        return;
    QMutexLocker lock(&m_mutex);
    auto pending = m_pending.find(reservation.id);
    if (pending == m_pending.end())
        return;
    const Reservation own = *pending;
    m_pending.erase(pending);
    if (m_gate)
        m_gate->release(own.id);
    auto it = m_keys.find(own.keyId);
    if (it != m_keys.end())
        dropReservedLocked(*it, own.amount);
}

BudgetLedger::KeyStatus BudgetLedger::status(qint64 keyId, qint64 nowMs) const
{
    KeyStatus result{};
    QMutexLocker lock(&m_mutex);
    const Starts starts = startsLocked(lock, nowMs);
    auto it = m_keys.constFind(keyId);
    if (it == m_keys.cend())
        return result;
    // A read-only view of what stateLocked() would roll over: a period that has ended shows 0 spent.
    for (int p = 0; p < kPeriodCount; ++p) {
        result[p].limit = it->limits.limit[p];
        result[p].spent = mustRollOver(it->periodStart[p], starts[p], nowMs) ? 0 : it->spent[p];
        result[p].reserved = it->reserved;
    }
    return result;
}

NanoUsd BudgetLedger::reservedTotal(qint64 keyId) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_keys.constFind(keyId);
    return it == m_keys.cend() ? 0 : it->reserved;
}

BudgetLedger::Overshoots BudgetLedger::overshoots(qint64 keyId) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_keys.constFind(keyId);
    return it == m_keys.cend() ? Overshoots{} : it->overshoots;
}

int BudgetLedger::inFlight(qint64 keyId) const
{
    QMutexLocker lock(&m_mutex);
    auto it = m_keys.constFind(keyId);
    return it == m_keys.cend() ? 0 : it->inFlight;
}

} // namespace gh
