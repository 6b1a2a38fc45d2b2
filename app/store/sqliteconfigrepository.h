#pragma once
#include "store/sqlitelogreader.h"
#include "store/configcodec.h"
#include "store/storeinterfaces.h"

namespace gh {

// The window's LogQueries read guardrail trips with the same codec.
using store::guardrailTripSelect;
using store::readGuardrailTrip;

// The SQLite back-end's configuration (keys, providers, models, routes, votes, settings), on the
// control-plane connection. A row that cannot be read back exactly is left out with a warning.
class SqliteConfigRepository final : public ConfigRepository
{
public:
    explicit SqliteConfigRepository(SqliteControlConnection &connection) : m_conn(connection) {}

    [[nodiscard]] QList<StoredKey> keys() const override;
    [[nodiscard]] std::optional<StoredKey> keyByName(const QString &name) const override;
    [[nodiscard]] qint64 saveKey(const StoredKey &key) override;
    [[nodiscard]] QList<ProviderConfig> providers() const override;
    bool saveProvider(const ProviderConfig &provider) override;
    bool removeProvider(const QString &id) override;
    [[nodiscard]] QList<ModelConfig> models() const override;
    bool saveModel(const ModelConfig &model) override;
    bool removeModel(const QString &id) override;
    [[nodiscard]] QList<RouteConfig> routes() const override;
    bool saveRoute(const RouteConfig &route) override;
    bool removeRoute(const QString &id) override;
    bool saveRoundVotes(const QString &roundId, const QList<CompareVote> &votes) override;
    [[nodiscard]] QHash<QString, VoteStats> voteStats() const override;
    [[nodiscard]] QString setting(const QString &key, const QString &fallback) const override;
    void setSetting(const QString &key, const QString &value) override;
    bool saveGuardrailTrip(const GuardrailTripRow &trip) override;
    bool endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by) override;
    bool keepGuardrailTrip(qint64 id, qint64 atMs) override;
    [[nodiscard]] QList<GuardrailTripRow> guardrailTripsToRestore(int latest, qint64 *maxId) const override;
    bool appendAudit(const AuditEntry &entry) override;
    [[nodiscard]] QList<AuditEntry> auditEntries(int limit, int offset) const override;

private:
    SqliteControlConnection &m_conn;
};

} // namespace gh
