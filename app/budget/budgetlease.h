#pragma once
#include "budget/budgetledger.h"
#include <condition_variable>
#include <functional>
#include <QList>
#include <mutex>
#include <QHash>
#include <QMutex>
#include <QString>
#include <thread>
#include <vector>

// Budgets shared by several instances (a team store): each instance takes leases of a key's
// remaining budget from the store and reserves its requests against them locally, so a request
// waits on the store only when its instance's lease is used up.
//
// The store's invariant, kept by LeaseStore::take() in one transaction under the key's lock: for
// every limited period, the spend settled back by all instances in the period plus the unspent
// parts of all live leases stays within the limit. An instance never reserves past its lease's
// amount (BudgetLedger's worst-case semantics: a request holds its worst case until it settles),
// so the key cannot go over its limit while its instances' worst cases bound what providers bill.
// The spend comes back to the store in batches (reportNow(), a few times a second), which also
// renews the leases; a lease that is not renewed within its TTL (its instance died or lost the
// store) stops counting and its unspent part becomes available to the others.
namespace gh {

struct LeasePolicy {
    qint64 ttlMs = 10'000; // a lease not renewed for this long stops counting in the store
    qint64 reportIntervalMs = 250; // spend settled back and leases renewed this often
    // An instance stops reserving on a lease this long before the store's expiry (measured from
    // before the renewal was sent, so neither clock skew nor the round trip can extend it).
    qint64 marginMs = 2'500;
    qint64 idleMs = 2'000; // a lease unused this long is handed back (trimmed to its spend)
    NanoUsd maxLease = kNanoPerUsd; // the most one lease takes at once
    int share = 4; // a lease takes at most 1/share of what is available
};

// The extra amount to lease when `need` more is needed and `available` is free in the store:
// 1/share of what is available, at most maxLease, at least need; 0 when need does not fit. So
// leases shrink with the remaining budget, down to single reservations near the limit.
[[nodiscard]] NanoUsd leaseSize(NanoUsd need, NanoUsd available, const LeasePolicy &policy);

struct LeaseRequest {
    qint64 keyId = 0;
    BudgetLimits limits;
    std::array<qint64, kPeriodCount> periodStarts{}; // of nowMs, in this instance's local time
    qint64 leaseId = 0; // this instance's live lease to enlarge, 0: take a new one
    NanoUsd need = 0; // the least extra amount that serves the request (> 0)
    qint64 nowMs = 0; // a new lease's spend counts in the periods that contain this time
};

struct LeaseGrant {
    enum class Outcome { Granted, Refused, Unreachable };
    Outcome outcome = Outcome::Unreachable;
    qint64 leaseId = 0; // Granted: the lease (the one given when it was enlarged)
    NanoUsd amount = 0; // Granted: the lease's whole amount now
    // Refused: the period that had the least available, and the store's counts in it.
    Period period = Period::Day;
    NanoUsd limit = 0;
    NanoUsd spent = 0; // settled back by all instances
    NanoUsd leased = 0; // unspent parts of live leases (this instance's included)
    NanoUsd available = 0; // limit - spent - leased, >= 0
    QString error; // Unreachable: why (never a secret)
};

// A batch entry of LeaseStore::report(): spend settled back, the lease renewed or handed back.
struct LeaseReport {
    qint64 leaseId = 0;
    NanoUsd spentDelta = 0; // spend settled locally since the last report that reached the store
    NanoUsd trimTo = 0; // the lease's amount from now on (never less than its spend)
    bool final = false; // handed back: the lease stops counting now (its spend stays)
};

// Whether the last conversations with the lease store reached it (for the window's team state).
struct LeaseStoreHealth {
    bool failing = false; // the latest take() or report() could not reach the store
    QString error; // why, when failing (never a secret)
    qint64 changedAtMs = 0; // wall clock: when `failing` last changed, 0: never
    qint64 lastOkMs = 0; // wall clock: the latest take() or report() that reached the store, 0: none yet
};

// The shared side of the leases (store/pgleasestore.h). Thread-safe.
class LeaseStore
{
public:
    virtual ~LeaseStore() = default;
    // In memory, never waits for the store (nor for a conversation with it in progress).
    [[nodiscard]] virtual LeaseStoreHealth health() const { return {}; }
    // In one transaction under the key's lock: enlarges the given live lease or takes a new one
    // by leaseSize(request.need, available), or refuses when need does not fit.
    [[nodiscard]] virtual LeaseGrant take(const LeaseRequest &request, const LeasePolicy &policy) = 0;
    enum class ReportResult { Live, Expired, Unreachable };
    // One transaction for the whole batch. Expired leases take their spend too (it was spent),
    // but are not renewed. Results in the batch's order.
    [[nodiscard]] virtual std::vector<ReportResult> report(const std::vector<LeaseReport> &batch, qint64 ttlMs) = 0;
};

// This instance's side: the leases it holds and the reservations against them. Plugged into the
// BudgetLedger as its gate; a key without limits takes no lease. Thread-safe.
class BudgetLease final : public BudgetLedger::Gate
{
public:
    explicit BudgetLease(LeaseStore *store, LeasePolicy policy = {}); // store: not owned, outlives this
    ~BudgetLease() override; // stop()s

    // Starts the thread that reports every policy.reportIntervalMs.
    void start();
    // Stops that thread and hands every lease back with its spend (one last report).
    void stop();

    [[nodiscard]] std::optional<BudgetLedger::Refusal> reserve(
        const BudgetLedger::Reservation &reservation, const BudgetLimits &limits, qint64 nowMs) override;
    void settle(quint64 reservationId, NanoUsd actual) override;
    void release(quint64 reservationId) override;

    // One report: settles spent amounts back, renews the leases in use, hands back idle ones.
    // False when the store could not be reached (the same amounts go with the next report).
    bool reportNow() { return report(false); }

    struct Status {
        qint64 leaseId = 0; // 0: none held for the key
        NanoUsd amount = 0;
        NanoUsd spent = 0; // settled locally
        NanoUsd reported = 0; // of which the store has
        NanoUsd reserved = 0; // by requests in flight
        bool live = false; // new reservations may use it
    };
    [[nodiscard]] Status status(qint64 keyId) const; // the key's current lease
    [[nodiscard]] int leaseCount() const; // held, current or being handed back
    [[nodiscard]] const LeasePolicy &policy() const { return m_policy; }

    // The keys' current leases, for the window: what is left of each and until when it serves.
    struct Held {
        qint64 keyId = 0;
        qint64 leaseId = 0;
        NanoUsd amount = 0;
        NanoUsd left = 0; // amount - spent - reserved, >= 0
        qint64 usableUntilMs = 0; // wall clock: no new reservation on it from then on (unless renewed)
        bool live = false;
    };
    [[nodiscard]] QList<Held> held() const; // by key id
    [[nodiscard]] LeaseStoreHealth storeHealth() const { return m_store->health(); }
    // Called (from whichever thread noticed: a request's or the report thread) when the store's
    // health flips or a lease is taken or handed back; it must only post to its own thread.
    void setOnChange(std::function<void()> onChange);

private:
    struct Lease {
        qint64 id = 0;
        qint64 keyId = 0;
        qint64 dayStart = 0; // the local day its spend counts in
        NanoUsd amount = 0;
        NanoUsd spent = 0;
        NanoUsd reported = 0;
        NanoUsd reserved = 0;
        qint64 deadlineNs = 0; // steady clock: no new reservation from then on
        qint64 lastUseNs = 0;
        bool current = false; // the key's lease for new reservations
    };
    struct Hold {
        qint64 leaseId = 0;
        NanoUsd amount = 0;
    };
    // The key's current lease when new reservations may use it for this day.
    Lease *usableLocked(qint64 keyId, qint64 dayStart, qint64 nowNs);
    bool holdLocked(Lease &lease, quint64 reservationId, NanoUsd amount, qint64 nowNs);
    // Asks the store for more; called with m_storeMutex held and m_mutex not held.
    LeaseGrant takeMore(const BudgetLedger::Reservation &reservation, const BudgetLimits &limits, qint64 nowMs,
        qint64 dayStart, std::array<qint64, kPeriodCount> starts);
    BudgetLedger::Refusal refusalFor(const LeaseGrant &grant, const BudgetLimits &limits, NanoUsd headroom) const;
    std::vector<LeaseReport> batchLocked(bool handBackAll, qint64 nowNs);
    bool report(bool handBackAll);
    void run();

    LeaseStore *m_store;
    LeasePolicy m_policy;
    mutable QMutex m_mutex; // the maps below
    QMutex m_storeMutex; // one store conversation at a time (taken before m_mutex, never inside it)
    QHash<qint64, Lease> m_leases; // by lease id
    QHash<qint64, qint64> m_current; // key id -> its current lease id
    QHash<quint64, Hold> m_held; // ledger reservation id -> what it holds
    std::thread m_thread;
    std::mutex m_wakeMutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    void changed(bool force);
    QMutex m_onChangeMutex; // m_onChange and m_wasFailing
    std::function<void()> m_onChange;
    bool m_wasFailing = false; // the store's health at the latest changed() check
};

} // namespace gh
