#pragma once
#include "config/config.h"
#include "core/money.h"
#include "store/audittrail.h"
#include "store/requestrecord.h"
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <functional>
#include <optional>

// The interfaces behind the Store front (store.h). A storage back-end implements each of them; the
// SQLite back-end (the embedded default) is SqliteLogWriter, SqliteLogReader, SqliteConfigRepository
// and openSqliteLogQueries(). A second back-end (a PostgreSQL team store) is another implementation
// of the same four, passing the same tests (tests/unit/store), not a fork of Store.
namespace gh {

// A Gatehouse key as stored: the secret only as its SHA-256 hash.
struct StoredKey {
    qint64 id = 0;
    QString name;
    QByteArray secretHash;      // 32 raw bytes of SHA-256(secret)
    QString secretHint;         // last 4 characters of the secret, for display ("…3f9a")
    QStringList allowModels;
    KeyLimits limits;
    bool allowUnpriced = false;
    bool paused = false;
    bool revoked = false;
    std::optional<int> rpm;     // requests per minute; std::nullopt: none
    std::optional<qint64> tpm;  // tokens per minute
    BudgetPolicy budget;        // clamp or refuse a request that does not fit what remains
    SecretScanMode secretScan = SecretScanMode::Warn;
    PolicyRequirement requirePolicy; // "require_policy"
    qint64 createdAtMs = 0;
    friend bool operator==(const StoredKey &, const StoredKey &) = default;
};

// One row per model shown in a Compare round.
struct CompareVote {
    QString roundId;        // one Compare round (the same message sent to every pane)
    QString modelId;        // the model id that answered (the route's served target when a route)
    int result = 0;         // 1: chosen as best, 0: shown but not chosen, -1: the round was "all bad"
    qint64 createdAtMs = 0;
};

// Requests of one key whose settled cost exceeded their reservation (RequestRecord::overshoot).
struct KeyOvershoots {
    int count = 0;
    NanoUsd amount = 0;
};

// A guardrail trip as stored (table guardrail_trips; guardrails/guardrails.h GuardrailTrip).
struct GuardrailTripRow {
    qint64 id = 0;
    qint64 atMs = 0;
    qint64 keyId = 0;
    QString keyName;
    QString session;      // empty: the whole key
    QString detector;     // "repetition", "velocity", "blowup"
    QString action;       // "alert", "pause"
    QString requestId;    // the request that tripped it
    QString summary;
    QByteArray evidence;  // a JSON object
    NanoUsd costSoFar = 0;
    bool active = false;  // a pause not lifted yet
    qint64 endedAtMs = 0; // when it was lifted; 0: not
    QString endedBy;      // "window", "api"
    qint64 keptAtMs = 0;  // when a person chose "Keep paused"; 0: not
    friend bool operator==(const GuardrailTripRow &, const GuardrailTripRow &) = default;
};

// What "delete everything about key X" removed from the database (Store::forgetKey).
struct ForgottenKey {
    qint64 requests = 0;  // log rows (their rollups subtracted with them)
    qint64 attempts = 0;
    qint64 sessions = 0;  // distinct client sessions among those rows
    qint64 trips = 0;     // guardrail trips
    qint64 pending = 0;   // pending rows of its requests in flight
};

// Whether the request log can be written. Records that cannot be written wait in memory, in order,
// and are retried until they are (never dropped while the store is open).
struct LogHealth {
    bool failing = false; // the last write failed (disk full, read-only, locked...)
    QString error;        // the back-end's message for it
    int waiting = 0;      // records in memory, not yet written
    int capacity = 0;
    bool full = false;    // waiting >= capacity: the gateway refuses new metered requests
};

// The request log's write path: records are queued and written in batches by a thread of the
// back-end's own; nothing here waits for the disk except flush(). Semantics: Store::appendRequest().
class RequestLogWriter
{
public:
    virtual ~RequestLogWriter() = default;
    virtual void append(const RequestRecord &record, std::function<void()> onDurable) = 0;
    virtual void flush() = 0;
    // Records accepted by append() and records committed, since the process started; both only grow,
    // and a record given up on is never counted as committed. The request journals (RequestJournal)
    // keep a file until every record accepted when it closed is committed.
    [[nodiscard]] virtual quint64 acceptedCount() const = 0;
    [[nodiscard]] virtual quint64 committedCount() const = 0;
    [[nodiscard]] virtual LogHealth health() const = 0;
    [[nodiscard]] virtual bool isBufferFull() const = 0; // lock-free, for the request path
    virtual void setBufferCapacity(int rows) = 0;
    virtual void setBatchWindowMs(int ms) = 0;
};

// Synchronous reads of the request log for the control plane and tests, and clearing it.
class RequestLogReader
{
public:
    virtual ~RequestLogReader() = default;
    [[nodiscard]] virtual std::optional<RequestRecord> request(const QString &id) const = 0;
    [[nodiscard]] virtual QList<AttemptRecord> attempts(const QString &requestId) const = 0;
    [[nodiscard]] virtual qint64 requestCount() const = 0;
    [[nodiscard]] virtual QList<RequestRecord> recentRequests(int limit, int offset) const = 0;
    [[nodiscard]] virtual NanoUsd spendSince(qint64 keyId, qint64 sinceMs) const = 0;
    // Per key: how many logged requests cost more than their reservation, and by how much in all.
    [[nodiscard]] virtual QHash<qint64, KeyOvershoots> overshootsByKey() const = 0;
    // Empties the log's tables (Store::logTables()); the caller has flushed the writer.
    virtual bool clearLog(QString *error) = 0;
    // Deletes everything of one key in one transaction: its log rows and their attempts, prompt
    // prefixes, rollups and latency histograms, pending rows, guardrail trips, and the key itself.
    // The caller has flushed the writer. False (and *error) when nothing was deleted.
    virtual bool forgetKey(qint64 keyId, ForgottenKey *counts, QString *error) = 0;
};

// The configuration: keys, providers, models, routes, Compare votes, settings. Synchronous and
// thread-safe; semantics of each call: the Store method of the same name.
class ConfigRepository
{
public:
    virtual ~ConfigRepository() = default;
    [[nodiscard]] virtual QList<StoredKey> keys() const = 0;
    [[nodiscard]] virtual std::optional<StoredKey> keyByName(const QString &name) const = 0;
    [[nodiscard]] virtual qint64 saveKey(const StoredKey &key) = 0;
    [[nodiscard]] virtual QList<ProviderConfig> providers() const = 0;
    virtual bool saveProvider(const ProviderConfig &provider) = 0;
    virtual bool removeProvider(const QString &id) = 0;
    [[nodiscard]] virtual QList<ModelConfig> models() const = 0;
    virtual bool saveModel(const ModelConfig &model) = 0;
    virtual bool removeModel(const QString &id) = 0;
    [[nodiscard]] virtual QList<RouteConfig> routes() const = 0;
    virtual bool saveRoute(const RouteConfig &route) = 0;
    virtual bool removeRoute(const QString &id) = 0;
    virtual bool saveRoundVotes(const QString &roundId, const QList<CompareVote> &votes) = 0;
    [[nodiscard]] virtual QHash<QString, VoteStats> voteStats() const = 0;
    [[nodiscard]] virtual QString setting(const QString &key, const QString &fallback) const = 0;
    virtual void setSetting(const QString &key, const QString &value) = 0;
    virtual bool saveGuardrailTrip(const GuardrailTripRow &trip) = 0;
    virtual bool endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by) = 0;
    virtual bool keepGuardrailTrip(qint64 id, qint64 atMs) = 0;
    [[nodiscard]] virtual QList<GuardrailTripRow> guardrailTripsToRestore(int latest, qint64 *maxId) const = 0;
    virtual bool appendAudit(const AuditEntry &entry) = 0;
    // Newest first.
    [[nodiscard]] virtual QList<AuditEntry> auditEntries(int limit, int offset) const = 0;
};

} // namespace gh
