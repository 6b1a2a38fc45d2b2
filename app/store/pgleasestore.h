#pragma once
#include "budget/budgetlease.h"
#include <memory>
#include <QMutex>
#include <QString>

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

    static constexpr qint64 kRetryAfterMs = 1'000;
    static constexpr std::size_t kMaxBatch = 500; // leases per UPDATE statement

private:
    bool connectLocked(QString *error);
    LeaseGrant takeLocked(const LeaseRequest &request, const LeasePolicy &policy);
    bool reportChunkLocked(const LeaseReport *first, std::size_t count, qint64 ttlMs, std::vector<ReportResult> *out);
    void failedLocked(const QString &what);

    QString m_url;
    QString m_instanceId;
    QMutex m_mutex;
    std::unique_ptr<pg::Connection> m_conn;
    qint64 m_downUntilNs = 0; // steady clock
    QString m_lastError;
};

} // namespace gh
