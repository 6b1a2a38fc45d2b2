#pragma once
#include "core/money.h"
#include <QHash>
#include <QMutex>
#include <array>
#include <optional>
#include <variant>

namespace gh {

// Calendar periods in local time: day from local midnight, week from Monday 00:00, month from the 1st.
enum class Period { Day = 0, Week = 1, Month = 2, Total = 3 };
inline constexpr int kPeriodCount = 4;
[[nodiscard]] const char *periodName(Period p); // "day", "week", "month", "total"
// Start of the period that contains nowMs (ms since the epoch), in local time; Total: 0.
[[nodiscard]] qint64 periodStartMs(Period p, qint64 nowMs);

struct BudgetLimits {
    std::array<std::optional<NanoUsd>, kPeriodCount> limit; // index by int(Period)
    [[nodiscard]] bool any() const { for (const auto &l : limit) if (l) return true; return false; }
};

// The shared budget ledger: spend per key and period plus reservations in flight, behind one mutex.
// A request reserves its worst-case cost before it is forwarded; reserve() refuses when the
// reservation does not fit in what remains of any limited period. Reservations count against every
// period until they are settled (real cost) or released (nothing billed). Thread-safe.
class BudgetLedger
{
public:
    struct Reservation {
        quint64 id = 0;       // 0: no reservation (the key has no limits or no price)
        qint64 keyId = 0;
        NanoUsd amount = 0;
        qint64 startedAtMs = 0;
        explicit operator bool() const { return id != 0; }
    };
    struct Refusal {
        Period period = Period::Day;
        NanoUsd limit = 0;
        NanoUsd remaining = 0; // limit - spent - reserved, >= 0
        NanoUsd worstCase = 0;
        NanoUsd spent = 0;     // in that period
        NanoUsd reserved = 0;  // by the key's requests in flight
        // A team instance (BudgetGate) could not reach its store for more of the budget: the refusal
        // says so instead of "exhausted" (remaining is then what its current lease has left).
        bool storeUnreachable = false;
        [[nodiscard]] bool exhausted() const { return !storeUnreachable && spent >= limit; }
    };
    // Requests whose settled cost exceeded their reservation (the reservation is meant to be an
    // upper bound: the target is none).
    struct Overshoots {
        int count = 0;
        NanoUsd amount = 0; // the sum of cost - reservation
    };
    struct PeriodStatus {
        std::optional<NanoUsd> limit;
        NanoUsd spent = 0;
        NanoUsd reserved = 0;
        [[nodiscard]] std::optional<NanoUsd> remaining() const;
    };
    using KeyStatus = std::array<PeriodStatus, kPeriodCount>;

    // Adds a key or changes its limits; spend already recorded is kept.
    void setLimits(qint64 keyId, const BudgetLimits &limits);
    void removeKey(qint64 keyId);
    // Sets what the log says was spent in the period that contains nowMs (rebuilt at start-up).
    void setSpent(qint64 keyId, Period p, NanoUsd spent, qint64 nowMs);
    // Sets the key's overshoots to what the log says (rebuilt at start-up; settle() adds to them).
    void setOvershoots(qint64 keyId, const Overshoots &overshoots, qint64 nowMs);

    // Atomically checks and reserves. A key with no limits gets a valid reservation too (so spend is
    // still tracked); unknown keys are treated as unlimited.
    [[nodiscard]] std::variant<Reservation, Refusal> reserve(qint64 keyId, NanoUsd worstCase, qint64 nowMs);
    // Replaces the reservation by the real cost. The cost counts in each period that contains the
    // reservation's start (a request that began before midnight is yesterday's spend). Returns by how
    // much the cost exceeded the reservation (0 when it did not); such an overshoot is counted on the key.
    NanoUsd settle(const Reservation &reservation, NanoUsd actual, qint64 nowMs);
    // Drops the reservation: nothing was billed.
    void release(const Reservation &reservation);

    [[nodiscard]] KeyStatus status(qint64 keyId, qint64 nowMs) const;
    [[nodiscard]] NanoUsd reservedTotal(qint64 keyId) const;
    // Reservations of this key not yet settled or released.
    [[nodiscard]] int inFlight(qint64 keyId) const;
    [[nodiscard]] Overshoots overshoots(qint64 keyId) const;

    // A second check after this ledger's own, for budgets shared with other instances (a team
    // store's leases, budget/budgetlease.h). Not owned; set before traffic, outlives the ledger's use.
    class Gate
    {
    public:
        virtual ~Gate() = default;
        // Called without the ledger's lock once the ledger has reserved `reservation`; a refusal
        // makes the ledger drop it again and refuse the request.
        [[nodiscard]] virtual std::optional<Refusal> reserve(const Reservation &reservation, const BudgetLimits &limits,
                                                             qint64 nowMs) = 0;
        // Called under the ledger's lock: quick, never waits on the store, never calls the ledger.
        virtual void settle(quint64 reservationId, NanoUsd actual) = 0;
        virtual void release(quint64 reservationId) = 0;
    };
    void setGate(Gate *gate) { m_gate = gate; }

private:
    using PeriodStarts = std::array<qint64, kPeriodCount>;
    struct KeyState {
        BudgetLimits limits;
        std::array<NanoUsd, kPeriodCount> spent{};
        std::array<qint64, kPeriodCount> periodStart{}; // start of the period `spent` belongs to
        NanoUsd reserved = 0;
        int inFlight = 0;
        Overshoots overshoots;
    };
    // Creates and rolls periods over to the periods that start at `starts` (those of nowMs).
    KeyState &stateLocked(qint64 keyId, const PeriodStarts &starts, qint64 nowMs);
    [[nodiscard]] static KeyState newKeyState(); // periods not known yet: the first call adopts them
    // The period starts for nowMs, from the cache of the current day or computed with the lock
    // released (so any state looked up before the call must be looked up again).
    PeriodStarts startsLocked(QMutexLocker<QMutex> &lock, qint64 nowMs, bool remember = true) const;
    static void rollOverLocked(KeyState &state, const PeriodStarts &starts, qint64 nowMs);
    static void dropReservedLocked(KeyState &state, NanoUsd amount);
    mutable QMutex m_mutex;
    QHash<qint64, KeyState> m_keys;
    QHash<quint64, Reservation> m_pending; // reservations in flight, by id: the ledger's own record
    quint64 m_nextId = 1;
    Gate *m_gate = nullptr;
    struct PeriodCache {
        PeriodStarts starts{};   // the periods of the day cached
        qint64 nextDayStart = 0; // end of that day; an empty range when <= starts[Day]
        qint64 expiresAtNs = 0;  // steady clock
    };
    mutable PeriodCache m_periodCache;
};

} // namespace gh
