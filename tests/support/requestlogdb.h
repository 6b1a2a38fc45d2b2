#pragma once

#include <QList>
#include <QString>

#include <optional>

struct sqlite3;

namespace gh::test {

// One upstream attempt (or skipped target) of a request: table `attempts`.
struct LoggedAttempt {
    int index = 0;
    QString modelId;
    QString provider;
    QString outcome; // "ok", "failed", "skipped"
    int status = 0;
    QString error;
    qint64 latencyMs = 0;
};

// One row of the gateway's request log (table `requests` of data-dir/gatehouse.db), as stored.
struct LoggedRequest {
    qint64 seq = 0;
    QString id;
    qint64 startedAtMs = 0;
    qint64 keyId = 0;
    QString keyName;
    QString endpoint;
    QString requestedModel;
    QString provider;
    QString upstreamModel;
    int status = 0;
    QString error;
    qint64 latencyMs = 0;
    qint64 ttftMs = -1;
    qint64 inputTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0;   // 5-minute (default) cache writes
    qint64 cacheWrite1hTokens = 0; // 1-hour cache writes (Anthropic)
    qint64 outputTokens = 0;
    bool usageReported = false;
    bool estimated = false;
    std::optional<qint64> costNanoUsd; // empty: unpriced (NULL)
    bool stream = false;
    int attempts = 0;
    QString route;   // the alias asked for, empty when none
    QString modelId; // the target that served (or was tried last)
    QString sessionId; // x-claude-code-session-id, empty when none
    QList<LoggedAttempt> attemptLog;

    [[nodiscard]] double costUsd() const { return costNanoUsd ? double(*costNanoUsd) / 1e9 : 0.0; }
    [[nodiscard]] QString describe() const;
};

// Reads the request log of a gateway's database with the SQLite C API, on a read-only connection
// (the running gateway keeps writing; WAL lets both work). Every call opens and closes its own
// connection, so a test sees what was committed at the time of the call.
class RequestLogDb
{
public:
    // `dataDir` is the gateway's --data-dir; the database is dataDir/gatehouse.db.
    explicit RequestLogDb(QString dataDir);

    [[nodiscard]] QString path() const { return m_path; }
    [[nodiscard]] QString errorString() const { return m_error; }

    // Every row, oldest first; std::nullopt when the database cannot be read (see errorString()).
    [[nodiscard]] std::optional<QList<LoggedRequest>> all();
    // The row with this request id (x-gatehouse-request-id), if it is there now.
    [[nodiscard]] std::optional<LoggedRequest> find(const QString &requestId);
    // Polls until the row is there (the gateway batches writes every <= 200 ms).
    [[nodiscard]] std::optional<LoggedRequest> waitFor(const QString &requestId, int timeoutMs = 5000);
    // Polls until at least `count` rows are there; returns the rows (empty on timeout or error).
    [[nodiscard]] QList<LoggedRequest> waitForCount(int count, int timeoutMs = 5000);
    // Row count, or -1 on error.
    [[nodiscard]] int count();
    // Ids of the rows the start-up recovery pass wrote (requests.recovered = 1), or nullopt on error.
    [[nodiscard]] std::optional<QStringList> recoveredIds();
    // requests.overshoot_nano_usd of the row with this id; nullopt when there is none (or on error).
    [[nodiscard]] std::optional<qint64> overshootOf(const QString &requestId);
    // requests.cache_status and cache_saved_nano_usd of the row with this id (the response cache's
    // verdict, migration 13); nullopt when there is none (or on error).
    struct CacheColumns {
        QString status;
        qint64 savedNanoUsd = 0;
    };
    [[nodiscard]] std::optional<CacheColumns> cacheOf(const QString &requestId);
    // Its secret_findings column ("rule@offset+length,..."); std::nullopt when there is no such row.
    [[nodiscard]] std::optional<QString> secretFindingsOf(const QString &requestId);
    // Its refusal column ("budget", "policy", "secret", "guardrail" or ""); std::nullopt when there is no such row.
    [[nodiscard]] std::optional<QString> refusalOf(const QString &requestId);
    // Pending rows (responses started, final row not yet written), or -1 on error.
    [[nodiscard]] int pendingCount();
    // The text values of the first row of `sql` (empty when it has none), or nullopt on error: for
    // tables of the same file other than the request log (guardrail_trips).
    [[nodiscard]] std::optional<QStringList> firstRow(const QByteArray &sql);
    // PRAGMA integrity_check: "ok" when the file is sound, else SQLite's findings or the error.
    [[nodiscard]] QString integrityCheck();

private:
    std::optional<QList<LoggedRequest>> query(const QString &where, const QString &arg);
    // The text values of the first column of `sql` (a read-only connection), or nullopt on error.
    std::optional<QStringList> column(const char *sql);

    QString m_path;
    QString m_error;
};

// Another connection to a database that holds BEGIN EXCLUSIVE (as a backup or the sqlite3 shell
// might) until destroyed or release()d.
class ExclusiveLock
{
public:
    explicit ExclusiveLock(const QString &dbPath);
    ~ExclusiveLock();
    ExclusiveLock(const ExclusiveLock &) = delete;
    ExclusiveLock &operator=(const ExclusiveLock &) = delete;
    [[nodiscard]] bool isHeld() const { return m_held; }
    [[nodiscard]] QString errorString() const { return m_error; }
    void release();

private:
    ::sqlite3 *m_db = nullptr;
    bool m_held = false;
    QString m_error;
};

} // namespace gh::test
