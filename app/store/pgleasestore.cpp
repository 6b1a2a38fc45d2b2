#include "store/pgleasestore.h"
#include "core/logging.h"
#include "store/pg.h"
#include <chrono>
#include <limits>
#include <QDateTime>
#include <QStringList>

namespace gh {

namespace {

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Per period, per instance: the spend its leases settled back, or, when larger, the cost of its log
// rows less the unspent part of its live leases (the log may run ahead of the reports: that spend is
// still inside the live lease, counted below; a dead instance's logged spend it never settled back
// counts in full), summed over the instances; then the unspent parts of all live leases (they count
// in every period: they may still be spent today), and whether the lease ?5 is live.
// The log rows are read from ?6 (the start of the earliest limited period) on.
constexpr char kCountsSql[]
    = "WITH u AS (SELECT instance_id, "
      "SUM(used) FILTER (WHERE started_ms >= ?2) AS d, SUM(used) FILTER (WHERE started_ms >= ?3) AS w, "
      "SUM(used) FILTER (WHERE started_ms >= ?4) AS m, SUM(used) AS t, "
      "SUM(GREATEST(amount - used, 0)) FILTER (WHERE expires_at > now()) AS x "
      "FROM budget_leases WHERE key_id = ?1 GROUP BY instance_id), "
      "g AS (SELECT instance_id, "
      "SUM(cost_nano_usd) FILTER (WHERE started_at_ms >= ?2) AS d, SUM(cost_nano_usd) FILTER (WHERE started_at_ms >= "
      "?3) AS w, "
      "SUM(cost_nano_usd) FILTER (WHERE started_at_ms >= ?4) AS m, SUM(cost_nano_usd) AS t "
      "FROM requests WHERE key_id = ?1 AND started_at_ms >= ?6 GROUP BY instance_id), "
      "s AS (SELECT COALESCE(SUM(GREATEST(COALESCE(u.d, 0), COALESCE(g.d, 0) - COALESCE(u.x, 0))), 0) AS d, "
      "COALESCE(SUM(GREATEST(COALESCE(u.w, 0), COALESCE(g.w, 0) - COALESCE(u.x, 0))), 0) AS w, "
      "COALESCE(SUM(GREATEST(COALESCE(u.m, 0), COALESCE(g.m, 0) - COALESCE(u.x, 0))), 0) AS m, "
      "COALESCE(SUM(GREATEST(COALESCE(u.t, 0), COALESCE(g.t, 0) - COALESCE(u.x, 0))), 0) AS t "
      "FROM u FULL JOIN g USING (instance_id)), "
      "l AS (SELECT COALESCE(SUM(GREATEST(amount - used, 0)) FILTER (WHERE expires_at > now()), 0) AS leased, "
      "COALESCE(bool_or(id = ?5 AND expires_at > now()), false) AS live FROM budget_leases WHERE key_id = ?1) "
      "SELECT s.d, s.w, s.m, s.t, l.leased, l.live FROM s, l";

constexpr char kReportSql[]
    = "UPDATE budget_leases AS l SET used = l.used + v.delta, "
      "amount = GREATEST(l.used + v.delta, LEAST(l.amount, v.trim)), "
      "expires_at = CASE WHEN v.final THEN LEAST(l.expires_at, now()) "
      "WHEN l.expires_at > now() THEN now() + ?5::float8 * interval '1 millisecond' ELSE l.expires_at END "
      "FROM unnest(?1::bigint[], ?2::bigint[], ?3::bigint[], ?4::boolean[]) AS v(id, delta, trim, final) "
      "WHERE l.id = v.id AND l.instance_id = ?6 RETURNING l.id, l.expires_at > now()";

QByteArray arrayText(const QList<qint64> &values)
{
    QByteArray out = "{";
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (i)
            out += ',';
        out += QByteArray::number(values.at(i));
    }
    return out + '}';
}

LeaseGrant unreachable(const QString &why)
{
    LeaseGrant g;
    g.outcome = LeaseGrant::Outcome::Unreachable;
    g.error = why;
    return g;
}

} // namespace

PgLeaseStore::PgLeaseStore(QString url, QString instanceId)
    : m_url(std::move(url))
    , m_instanceId(std::move(instanceId))
{ }

PgLeaseStore::~PgLeaseStore() = default;

LeaseStoreHealth PgLeaseStore::health() const
{
    QMutexLocker lock(&m_healthMutex);
    return m_health;
}

void PgLeaseStore::reachedLocked()
{
    QMutexLocker lock(&m_healthMutex);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (m_health.failing || m_health.changedAtMs == 0)
        m_health.changedAtMs = now;
    m_health.failing = false;
    m_health.error.clear();
    m_health.lastOkMs = now;
}

void PgLeaseStore::failedLocked(const QString &what)
{
    {
        QMutexLocker lock(&m_healthMutex);
        if (!m_health.failing || m_health.changedAtMs == 0)
            m_health.changedAtMs = QDateTime::currentMSecsSinceEpoch();
        m_health.failing = true;
        m_health.error = what;
    }
    m_lastError = what;
    m_downUntilNs = steadyNs() + kRetryAfterMs * 1'000'000;
    if (m_conn)
        m_conn->exec("ROLLBACK"); // a broken transaction must not hold the key's lock
    qCWarning(lcStore).noquote() << "budget leases:" << what;
}

bool PgLeaseStore::connectLocked(QString *error)
{
    if (steadyNs() < m_downUntilNs) {
        *error = QStringLiteral("the team store is unreachable (%1)").arg(m_lastError);
        return false;
    }
    if (!m_conn) {
        auto conn = std::make_unique<pg::Connection>();
        if (!conn->open(m_url, error)) {
            failedLocked(*error);
            return false;
        }
        m_conn = std::move(conn);
    }
    if (!m_conn->ensure(error)) {
        failedLocked(*error);
        return false;
    }
    return true;
}

LeaseGrant PgLeaseStore::take(const LeaseRequest &request, const LeasePolicy &policy)
{
    QMutexLocker lock(&m_mutex);
    QString why;
    if (!connectLocked(&why))
        return unreachable(why);
    LeaseGrant grant = takeLocked(request, policy);
    if (grant.outcome == LeaseGrant::Outcome::Unreachable)
        failedLocked(grant.error);
    else
        reachedLocked();
    return grant;
}

LeaseGrant PgLeaseStore::takeLocked(const LeaseRequest &request, const LeasePolicy &policy)
{
    QString why;
    if (!m_conn->exec("BEGIN", &why))
        return unreachable(why);
    pg::Statement lockKey(*m_conn, "SELECT id FROM keys WHERE id = ?1 FOR UPDATE");
    lockKey.bindInt(1, request.keyId);
    const bool keyExists = lockKey.next();
    if (!lockKey.ok())
        return unreachable(lockKey.error());
    pg::Statement counts(*m_conn, kCountsSql);
    counts.bindInt(1, request.keyId);
    for (int p = 0; p < 3; ++p)
        counts.bindInt(2 + p, request.periodStarts[p]);
    counts.bindInt(5, request.leaseId);
    // The log from the earliest limited period's start (a total limit: all of it).
    qint64 from = std::numeric_limits<qint64>::max();
    for (int p = 0; p < kPeriodCount; ++p) {
        if (request.limits.limit[p])
            from = qMin(
                from, p == int(Period::Total) ? qint64(std::numeric_limits<qint64>::min()) : request.periodStarts[p]);
    }
    counts.bindInt(6, from);
    if (!counts.next())
        return unreachable(counts.error());
    LeaseGrant grant;
    grant.outcome = LeaseGrant::Outcome::Refused;
    grant.leased = counts.integer(4);
    grant.available = std::numeric_limits<NanoUsd>::max();
    for (int p = 0; p < kPeriodCount; ++p) {
        if (!request.limits.limit[p])
            continue;
        const NanoUsd spent = counts.integer(p);
        const NanoUsd available = qMax<NanoUsd>(0, *request.limits.limit[p] - spent - grant.leased);
        if (available < grant.available) {
            grant.period = Period(p);
            grant.limit = *request.limits.limit[p];
            grant.spent = spent;
            grant.available = available;
        }
    }
    if (!keyExists)
        grant.available = 0; // a key removed meanwhile gets nothing
    const bool enlarge = counts.boolean(5);
    const NanoUsd extra = leaseSize(request.need, grant.available, policy);
    if (extra <= 0) {
        m_conn->exec("ROLLBACK");
        return grant;
    }
    // ?1: the lease to enlarge, or the key of a new one.
    pg::Statement write(*m_conn,
        enlarge ? "UPDATE budget_leases SET amount = amount + ?2, "
                  "expires_at = now() + ?3::float8 * interval '1 millisecond' "
                  "WHERE id = ?1 RETURNING id, amount"
                : "INSERT INTO budget_leases (key_id, instance_id, started_ms, amount, used, expires_at) "
                  "VALUES (?1, ?4, ?5, ?2, 0, now() + ?3::float8 * interval '1 millisecond') "
                  "RETURNING id, amount");
    write.bindInt(1, enlarge ? request.leaseId : request.keyId);
    write.bindInt(2, extra);
    write.bindInt(3, policy.ttlMs);
    if (!enlarge) {
        write.bindText(4, m_instanceId);
        write.bindInt(5, request.nowMs);
    }
    if (!write.next())
        return unreachable(write.error().isEmpty() ? QStringLiteral("the lease was not written") : write.error());
    grant.outcome = LeaseGrant::Outcome::Granted;
    grant.leaseId = write.integer(0);
    grant.amount = write.integer(1);
    if (!m_conn->exec("COMMIT", &why))
        return unreachable(why); // the lease may exist: unused, it expires within the TTL
    return grant;
}

std::vector<LeaseStore::ReportResult> PgLeaseStore::report(const std::vector<LeaseReport> &batch, qint64 ttlMs)
{
    QMutexLocker lock(&m_mutex);
    std::vector<ReportResult> out;
    out.reserve(batch.size());
    QString why;
    if (!connectLocked(&why))
        return std::vector<ReportResult>(batch.size(), ReportResult::Unreachable);
    // One transaction: a batch's spend reaches the store whole or not at all (then it is sent again).
    bool ok = m_conn->exec("BEGIN", &why);
    for (std::size_t i = 0; ok && i < batch.size(); i += kMaxBatch) {
        ok = reportChunkLocked(batch.data() + i, qMin(kMaxBatch, batch.size() - i), ttlMs, &out);
        if (!ok)
            why = m_lastError; // the chunk's statement error
    }
    if (ok)
        ok = m_conn->exec("COMMIT", &why);
    if (!ok && why.isEmpty())
        why = QStringLiteral("the team store did not answer");
    if (!ok) {
        failedLocked(why);
        return std::vector<ReportResult>(batch.size(), ReportResult::Unreachable);
    }
    reachedLocked();
    return out;
}

bool PgLeaseStore::reportChunkLocked(
    const LeaseReport *first, std::size_t count, qint64 ttlMs, std::vector<ReportResult> *out)
{
    QList<qint64> ids, deltas, trims;
    QStringList finals;
    for (std::size_t i = 0; i < count; ++i) {
        ids.append(first[i].leaseId);
        deltas.append(first[i].spentDelta);
        trims.append(first[i].trimTo);
        finals.append(first[i].final ? QStringLiteral("t") : QStringLiteral("f"));
    }
    pg::Statement s(*m_conn, kReportSql);
    s.bindText(1, QString::fromLatin1(arrayText(ids)));
    s.bindText(2, QString::fromLatin1(arrayText(deltas)));
    s.bindText(3, QString::fromLatin1(arrayText(trims)));
    s.bindText(4, QLatin1Char('{') + finals.join(QLatin1Char(',')) + QLatin1Char('}'));
    s.bindInt(5, ttlMs);
    s.bindText(6, m_instanceId);
    if (!s.exec()) {
        m_lastError = s.error();
        return false;
    }
    QHash<qint64, bool> live;
    while (s.next())
        live.insert(s.integer(0), s.boolean(1));
    for (std::size_t i = 0; i < count; ++i) // a row gone (a cleared database) is an expired lease
        out->push_back(live.value(first[i].leaseId, false) ? ReportResult::Live : ReportResult::Expired);
    return true;
}

// --- PgTeamReader ---

namespace {

// Per instance, since ?1 (ms): its latest lease start or renewal (a renewal moves expires_at to
// now() + TTL, so expires_at is the latest renewal plus the TTL: the largest of the start and the
// expiry less ?2, the TTL, bounded by now), the unspent part of its live leases, and its newest
// logged request. Both tables have an index that starts with the columns read here (started_ms /
// started_at_ms), and only rows since ?1 are read.
constexpr char kPeersSql[]
    = "WITH l AS (SELECT instance_id, "
      "MAX(LEAST(GREATEST(started_ms, (EXTRACT(EPOCH FROM expires_at) * 1000)::bigint - ?2), "
      "(EXTRACT(EPOCH FROM now()) * 1000)::bigint)) AS seen, "
      "COALESCE(SUM(GREATEST(amount - used, 0)) FILTER (WHERE expires_at > now()), 0) AS leftover "
      "FROM budget_leases WHERE expires_at >= to_timestamp(?1 / 1000.0) OR started_ms >= ?1 "
      "GROUP BY instance_id), "
      "r AS (SELECT instance_id, MAX(started_at_ms) AS seen FROM requests WHERE started_at_ms >= ?1 "
      "AND instance_id IS NOT NULL AND instance_id <> '' GROUP BY instance_id) "
      "SELECT instance_id, COALESCE(l.seen, 0), COALESCE(r.seen, 0), COALESCE(l.leftover, 0) "
      "FROM l FULL JOIN r USING (instance_id) ORDER BY GREATEST(COALESCE(l.seen, 0), COALESCE(r.seen, 0)) DESC";

} // namespace

PgTeamReader::PgTeamReader(QString url, QString instanceId)
    : m_url(std::move(url))
    , m_instanceId(std::move(instanceId))
{ }

PgTeamReader::~PgTeamReader() = default;

bool PgTeamReader::connect(QString *error)
{
    if (!m_conn) {
        auto conn = std::make_unique<pg::Connection>();
        if (!conn->open(m_url, error))
            return false;
        m_conn = std::move(conn);
        return true;
    }
    return m_conn->ensure(error);
}

bool PgTeamReader::readPeers(qint64 sinceMs, QList<Peer> *out, QString *error)
{
    out->clear();
    if (!connect(error))
        return false;
    pg::Statement s(*m_conn, kPeersSql);
    s.bindInt(1, sinceMs);
    s.bindInt(2, LeasePolicy{}.ttlMs);
    while (s.next()) {
        Peer p;
        p.instanceId = s.text(0);
        p.lastLeaseMs = s.integer(1);
        p.lastRequestMs = s.integer(2);
        p.leasedLeft = s.integer(3);
        p.self = p.instanceId == m_instanceId;
        out->append(p);
    }
    if (!s.ok()) {
        *error = s.error();
        return false;
    }
    return true;
}

bool PgTeamReader::readTeamSpend(const QHash<qint64, BudgetLimits> &keys,
    const std::array<qint64, kPeriodCount> &periodStarts, QHash<qint64, KeySpend> *out, QString *error)
{
    out->clear();
    if (keys.isEmpty())
        return true;
    if (!connect(error))
        return false;
    // One read transaction: every key's counts from one snapshot.
    if (!m_conn->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error))
        return false;
    for (auto it = keys.cbegin(); it != keys.cend(); ++it) {
        pg::Statement counts(*m_conn, kCountsSql);
        counts.bindInt(1, it.key());
        for (int p = 0; p < 3; ++p)
            counts.bindInt(2 + p, periodStarts[p]);
        counts.bindInt(5, 0); // no lease of interest
        // Every period is shown (the key card's total too), so the whole log of the key is read
        // (requests_key_time); the leases read that much only for a key with a total limit.
        counts.bindInt(6, std::numeric_limits<qint64>::min());
        if (!counts.next()) {
            *error = counts.error().isEmpty() ? QStringLiteral("no counts for key %1").arg(it.key()) : counts.error();
            m_conn->exec("ROLLBACK");
            return false;
        }
        KeySpend spend;
        for (int p = 0; p < kPeriodCount; ++p)
            spend.spent[p] = counts.integer(p);
        spend.leased = counts.integer(4);
        out->insert(it.key(), spend);
    }
    m_conn->exec("COMMIT");
    return true;
}

bool PgTeamReader::testConnection(const QString &url, QString *summary, QString *error)
{
    if (!pg::isPostgresUrl(url.trimmed())) {
        *error = QStringLiteral("not a PostgreSQL URL: it starts with postgres:// or postgresql://");
        return false;
    }
    pg::Connection conn;
    if (!conn.open(url.trimmed(), error))
        return false;
    pg::Statement version(conn, "SELECT current_setting('server_version')");
    if (!version.next()) {
        *error = version.error();
        return false;
    }
    QString serverVersion = version.text(0).section(u' ', 0, 0);
    // The schema's version when Gatehouse has been there: 0 for a new (empty) database.
    pg::Statement schema(conn,
        "SELECT CASE WHEN to_regclass('gatehouse_schema') IS NULL THEN 0 "
        "ELSE (SELECT COALESCE(MAX(version), 0) FROM gatehouse_schema) END");
    qint64 schemaVersion = 0;
    if (schema.next())
        schemaVersion = schema.integer(0);
    *summary = schemaVersion > 0
        ? QStringLiteral("PostgreSQL %1, a Gatehouse team store (schema %2)").arg(serverVersion).arg(schemaVersion)
        : QStringLiteral("PostgreSQL %1, no Gatehouse data yet: joining sets it up").arg(serverVersion);
    return true;
}

} // namespace gh
