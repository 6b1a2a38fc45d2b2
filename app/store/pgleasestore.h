#pragma once
#include "budget/budgetlease.h"
#include <memory>
#include <QMutex>
#include <QHash>
#include <QList>
#include <QString>
#include <array>

namespace gh::pg {
class Connection;
}

namespace gh {

// The leases of a team store (budget/budgetlease.h) in PostgreSQL's budget_leases table (schema
// version 20): a row per lease with its amount, the spend its instance settled back, and its
// expiry in the server's clock. Per key and limited period:
//   spent    = per instance, the `used` of its leases that began in the period (expired ones
//              included), or, when larger, the cost of its log rows of the period less the unspent
//              part of its live leases (a dead instance's spend that reached only the log counts; a
//              live one's log ahead of its reports is inside its lease, counted once),
//   leased   = the sum of amount - used of the leases not expired,
//   limit   >= spent + leased, kept by take(), which holds the key's row FOR UPDATE.
// One connection, opened on first use; after a failure the store is not asked again for
// kRetryAfterMs, so requests are refused at once while it is down instead of each waiting.
class PgLeaseStore final : public LeaseStore
{
public:
    PgLeaseStore(QString url, QString instanceId);
    ~PgLeaseStore() override;

    [[nodiscard]] LeaseGrant take(const LeaseRequest &request, const LeasePolicy &policy) override;
    [[nodiscard]] std::vector<ReportResult> report(const std::vector<LeaseReport> &batch, qint64 ttlMs) override;
    [[nodiscard]] LeaseStoreHealth health() const override;

    static constexpr qint64 kRetryAfterMs = 1'000;
    static constexpr std::size_t kMaxBatch = 500; // leases per UPDATE statement

private:
    bool connectLocked(QString *error);
    LeaseGrant takeLocked(const LeaseRequest &request, const LeasePolicy &policy);
    bool reportChunkLocked(const LeaseReport *first, std::size_t count, qint64 ttlMs, std::vector<ReportResult> *out);
    void failedLocked(const QString &what);
    void reachedLocked();

    QString m_url;
    QString m_instanceId;
    QMutex m_mutex;
    std::unique_ptr<pg::Connection> m_conn;
    qint64 m_downUntilNs = 0; // steady clock
    QString m_lastError;
    mutable QMutex m_healthMutex; // m_health only: health() never waits for a conversation
    LeaseStoreHealth m_health;
};

// The team as the window shows it, read from the team store on a connection of its own (never the
// lease conversation's, so a slow read cannot hold up a request waiting for a lease). Not
// thread-safe: one thread uses it (the window's team-state thread).
class PgTeamReader
{
public:
    PgTeamReader(QString url, QString instanceId);
    ~PgTeamReader();

    // An instance seen in the store since a time: when it last took or renewed a lease (the
    // lease's last renewal: its expiry less the TTL it was renewed for is not stored, so its
    // start or its expiry, whichever the caller can use: both are given) or logged a request.
    struct Peer {
        QString instanceId;
        qint64 lastLeaseMs = 0; // the latest lease start or renewal (server clock), 0: none since
        qint64 lastRequestMs = 0; // started_at_ms of its newest logged request since, 0: none
        bool self = false; // this instance
        NanoUsd leasedLeft = 0; // the unspent part of its live leases
    };
    // Every instance seen since sinceMs (this one included), most recently seen first.
    [[nodiscard]] bool readPeers(qint64 sinceMs, QList<Peer> *out, QString *error);

    // A key's spend across the team, as the leases count it (PgLeaseStore's `spent`: per instance
    // the larger of what its leases settled back and what it logged), per period, and the unspent
    // part of the live leases.
    struct KeySpend {
        std::array<NanoUsd, kPeriodCount> spent{};
        NanoUsd leased = 0;
    };
    // For each of `keys` (id -> its limits), with `periodStarts` the periods' starts in local time;
    // every period counted, limited or not (the whole log of each key is read).
    [[nodiscard]] bool readTeamSpend(const QHash<qint64, BudgetLimits> &keys,
        const std::array<qint64, kPeriodCount> &periodStarts, QHash<qint64, KeySpend> *out, QString *error);

    // Whether `url` reaches a PostgreSQL server that accepts it: connects, asks for its version
    // and the Gatehouse schema version there (0: none yet, a new team). *summary: "PostgreSQL 15.4,
    // Gatehouse schema 20"; *error: the server's message (never the URL's password).
    [[nodiscard]] static bool testConnection(const QString &url, QString *summary, QString *error);

private:
    bool connect(QString *error);
    QString m_url;
    QString m_instanceId;
    std::unique_ptr<pg::Connection> m_conn;
};

} // namespace gh
