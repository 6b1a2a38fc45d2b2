#pragma once
#include "config/config.h"
#include "core/money.h"
#include "store/logqueries.h"
#include "store/requestrecord.h"
#include "store/storeinterfaces.h"
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSet>
#include <QString>
#include <functional>
#include <memory>
#include <optional>

namespace gh {

class RequestJournal;

// The store: the front every other part of Gatehouse uses for the request log and the
// configuration. Behind it, the back-end's implementations of the interfaces in storeinterfaces.h
// (RequestLogWriter, RequestLogReader, ConfigRepository) and logqueries.h (LogQueries, the window's
// read queries); a back-end implements those four and nothing else. The one back-end today is
// SQLite: schema with migrations (PRAGMA user_version), WAL journal, SqliteLogWriter,
// SqliteLogReader, SqliteConfigRepository and openSqliteLogQueries().
//
// The request log is written by one writer thread that batches rows into transactions at most
// every `batchWindowMs` (default 100 ms): appendRequest() only queues and never waits for disk.
// Control-plane calls (keys, providers, models, settings, spend) are synchronous on their own
// connection and are safe to call from any thread (they serialise on an internal mutex); keep them
// off the request path.
class Store : public QObject
{
    Q_OBJECT
public:
    explicit Store(QObject *parent = nullptr);
    ~Store() override; // close()s

    // Opens (creating when missing) the database file and migrates it to the current schema. A
    // postgres:// (postgresql://) URL opens a team store on PostgreSQL instead: its schema is migrated
    // once under an advisory lock, so instances starting at once do not race (pgmigrations.h).
    [[nodiscard]] bool open(const QString &path, QString *error = nullptr);
    // Who serves the rows this store logs (RequestRecord::instanceId): one id per data folder. Before open().
    void setInstanceId(const QString &id);
    [[nodiscard]] QString instanceId() const;
    // The instance id of the data folder `dataDir`: "<host>-<8 hex digits>", kept in its file
    // "instance-id" (made at the first start), so that a restarted instance (and the journals it
    // replays) keeps its id. When the folder cannot be written, a new id for this run (with a warning).
    [[nodiscard]] static QString instanceIdFor(const QString &dataDir);
    // A team store's folder on this machine, for its request journals ("team.journal.d"). Before open().
    void setLocalDir(const QString &dir);
    // Open on PostgreSQL.
    [[nodiscard]] bool isTeamStore() const;
    // Writes every queued record, stops the writer thread and closes the database.
    void close();
    [[nodiscard]] bool isOpen() const;
    [[nodiscard]] QString path() const;
    [[nodiscard]] static int schemaVersion(); // the version this build migrates to

    void setBatchWindowMs(int ms);

    // --- request log (asynchronous, thread-safe) ---
    // Queues the record. `onDurable`, when given, is called exactly once: from the writer thread once
    // the record is committed (a group commit that starts at once, not after the batch window), or
    // at once from this call when the log cannot be written now (the record then waits in memory
    // and is retried) or the store is not open. It must only post to its own thread and return.
    void appendRequest(const RequestRecord &record, std::function<void()> onDurable = {});
    // Blocks until every record appended before the call is committed, or the log cannot be written.
    void flush();

    // A journal for one thread that answers requests (see RequestJournal): rows it holds reach the log
    // even if the process dies before they are committed. nullptr when the store is not open; check
    // isOpen() on the result (the folder may not be writable).
    [[nodiscard]] std::unique_ptr<RequestJournal> openJournal(const QString &tag);
    // Where the journals of the database at `databasePath` live: "<database>.journal.d" beside it.
    [[nodiscard]] static QString journalDir(const QString &databasePath);

    // Whether the request log can be written (storeinterfaces.h). Records that cannot be written wait
    // in memory, in order, and are retried until they are (never dropped while the store is open).
    using LogHealth = gh::LogHealth;
    [[nodiscard]] LogHealth logHealth() const;
    // Lock-free, for the request path.
    [[nodiscard]] bool isBufferFull() const;
    void setBufferCapacity(int rows);

    // --- reads (synchronous) ---
    [[nodiscard]] std::optional<RequestRecord> request(const QString &id) const;
    [[nodiscard]] qint64 requestCount() const;
    // Newest first; for the UI and tests.
    [[nodiscard]] QList<RequestRecord> recentRequests(int limit, int offset = 0) const;
    // Sum of priced cost of this key's requests that started at or after sinceMs.
    [[nodiscard]] NanoUsd spendSince(qint64 keyId, qint64 sinceMs) const;
    // Per key: the logged requests whose cost exceeded their reservation (RequestRecord::overshoot).
    [[nodiscard]] QHash<qint64, KeyOvershoots> overshootsByKey() const;

    // The window's read queries over this store's log, for one reading thread (QueryRunner's, an
    // export's): a connection of their own, opened by this call.
    [[nodiscard]] std::unique_ptr<LogQueries> openQueries() const;

    // Deletes the request log: every table of logTables(), in one transaction, after writing what is
    // queued (flush()). Keys, providers, models, routes, settings, votes, conversations and the
    // pending rows of requests still in flight stay (keptTables()). Blocks for as long as the delete
    // takes (seconds on a log of millions of rows): call it off the UI thread.
    bool clearLog(QString *error = nullptr);
    // Every table a migration creates is in exactly one of these two lists (tst_store checks it
    // against the migrated schema), so a table added later cannot be missed by clearLog() unnoticed.
    [[nodiscard]] static QStringList logTables();
    [[nodiscard]] static QStringList keptTables();

    // --- keys ---
    [[nodiscard]] QList<StoredKey> keys() const; // revoked ones included
    [[nodiscard]] std::optional<StoredKey> keyByName(const QString &name) const;
    // Inserts (id == 0) or updates by id; returns the id, or 0 on failure (e.g. duplicate name).
    [[nodiscard]] qint64 saveKey(const StoredKey &key);

    // --- providers and models (upsert by id) ---
    [[nodiscard]] QList<ProviderConfig> providers() const;
    bool saveProvider(const ProviderConfig &provider);
    bool removeProvider(const QString &id);
    [[nodiscard]] QList<ModelConfig> models() const;
    bool saveModel(const ModelConfig &model);
    bool removeModel(const QString &id);

    // Attempts of one request (attempts table), in order.
    [[nodiscard]] QList<AttemptRecord> attempts(const QString &requestId) const;

    // --- routes (upsert by id; targets kept in their order) ---
    [[nodiscard]] QList<RouteConfig> routes() const;
    bool saveRoute(const RouteConfig &route);
    bool removeRoute(const QString &id);

    // --- Compare votes: one row per model shown in a round ---
    using Vote = CompareVote;
    // Replaces the votes of the round (a user may change their mind).
    bool saveRoundVotes(const QString &roundId, const QList<Vote> &votes);
    [[nodiscard]] QHash<QString, VoteStats> voteStats() const; // by model id

    // --- guardrail trips (table guardrail_trips) ---
    // Inserts a trip (a trip already stored, same id, is left as it is).
    bool saveGuardrailTrip(const GuardrailTripRow &trip);
    // Marks the active ones among `ids` as lifted at atMs by `by` ("window", "api").
    bool endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by);
    // A person saw the pause and chose to keep it.
    bool keepGuardrailTrip(qint64 id, qint64 atMs);
    // What the gateway restores at start: every active pause and the `latest` newest trips; *maxId:
    // the highest trip id ever stored (0: none), so new ids never reuse one.
    [[nodiscard]] QList<GuardrailTripRow> guardrailTripsToRestore(int latest, qint64 *maxId) const;

    // --- audit trail (store/audittrail.h): the saves and removes above record themselves ---
    // Records a change that is not a save above (pause all, resume all...), with this thread's origin.
    bool recordChange(const QString &action, const QString &subject, const QJsonObject &before, const QJsonObject &after);
    [[nodiscard]] QList<AuditEntry> auditEntries(int limit, int offset = 0) const;

    // "Delete everything about key X": its request log rows (rollups adjusted), attempts, prompt
    // prefixes, pending rows, guardrail trips, its per-key settings and the key itself, in one
    // transaction; one audit row records the deletion with what it removed (the trail keeps the
    // key's earlier changes). The captured bodies and cached answers live in their own files: the
    // Gateway (forgetKey) deletes those. False and *error when the key does not exist or it failed.
    bool forgetKey(const QString &name, ForgottenKey *counts, QString *error = nullptr);

    // --- settings (key/value, JSON-encoded values) ---
    [[nodiscard]] QString setting(const QString &key, const QString &fallback = {}) const;
    void setSetting(const QString &key, const QString &value);

Q_SIGNALS:
    // Emitted from the writer thread after each committed batch (connect queued).
    void requestsCommitted(int count);
    // logHealth() changed: writes started or stopped failing, or the buffer filled or emptied.
    // Emitted from whichever thread noticed (connect queued).
    void logHealthChanged();
    // A team store only: another instance changed the shared configuration (`tables`: some of keys,
    // providers, models, routes, settings), or the store reconnected after missing notifications
    // (then all of them). On the thread that opened the store, at most every 100 ms
    // (store/pgconfigwatcher.h). This instance's own changes are not reported.
    void configChangedElsewhere(const QSet<QString> &tables);

private:
    template<typename T>
    void recordSave(const char *kind, const std::optional<T> &before, const T &after);
    [[nodiscard]] bool openPostgres(const QString &url, QString *error);
    void startWatcher(const QString &url);
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace gh
