#include "store/capturestore.h"
#include "core/logging.h"
#include "store/sqlite.h"

namespace gh::store {

namespace {
constexpr int kSchemaVersion = 1;
constexpr qint64 kDayMs = 86'400'000;
} // namespace

CaptureStore::~CaptureStore()
{
    sqlite::close(m_db);
}

bool CaptureStore::open(const QString &path, bool create, QString *error)
{
    m_db = sqlite::open(path, create ? sqlite::Access::ReadWriteCreate : sqlite::Access::ReadWrite, 5'000, error);
    if (!m_db)
        return false;
    bool ok = false;
    const qint64 version = sqlite::scalar(m_db, "PRAGMA user_version", {}, &ok);
    if (!ok || version > kSchemaVersion) {
        if (error)
            *error = QStringLiteral("%1 has schema version %2, unknown to this version of Gatehouse")
                         .arg(path)
                         .arg(version);
        sqlite::close(m_db);
        m_db = nullptr;
        return false;
    }
    // WAL: a reader (Activity's body view) does not wait for the writer's batch. The schema is
    // written once; a reader's open writes nothing.
    if (version == kSchemaVersion) {
        if (sqlite::exec(m_db, "PRAGMA synchronous=NORMAL;", error))
            return true;
        sqlite::close(m_db);
        m_db = nullptr;
        return false;
    }
    if (!sqlite::exec(m_db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)
        || !sqlite::exec(m_db,
            "CREATE TABLE IF NOT EXISTS captures ("
            " request_id     TEXT    PRIMARY KEY,"
            " key_id         INTEGER NOT NULL,"
            " key_name       TEXT    NOT NULL DEFAULT '',"
            " started_at_ms  INTEGER NOT NULL,"
            " expires_at_ms  INTEGER NOT NULL,"
            " request_bytes  INTEGER NOT NULL DEFAULT 0,"
            " response_bytes INTEGER NOT NULL DEFAULT 0,"
            " request_body   BLOB    NOT NULL,"
            " response_body  BLOB    NOT NULL,"
            " response_type  TEXT    NOT NULL DEFAULT '',"
            " note           TEXT    NOT NULL DEFAULT ''"
            ");"
            "CREATE INDEX IF NOT EXISTS captures_key ON captures (key_id, started_at_ms);"
            "CREATE INDEX IF NOT EXISTS captures_expiry ON captures (expires_at_ms);"
            "PRAGMA user_version = 1;",
            error)) {
        sqlite::close(m_db);
        m_db = nullptr;
        return false;
    }
    return true;
}

bool CaptureStore::insert(const QList<CaptureRow> &rows, QString *error)
{
    if (!m_db)
        return false;
    if (!sqlite::exec(m_db, "BEGIN IMMEDIATE", error))
        return false;
    bool ok = true;
    {
        sqlite::Statement put(m_db,
            "INSERT OR REPLACE INTO captures (request_id, key_id, key_name, started_at_ms, expires_at_ms, "
            "request_bytes, response_bytes, request_body, response_body, response_type, note) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
        for (const CaptureRow &r : rows) {
            put.bindText(1, r.requestId);
            put.bindInt(2, r.keyId);
            put.bindText(3, r.keyName);
            put.bindInt(4, r.startedAtMs);
            put.bindInt(5, r.expiresAtMs);
            put.bindInt(6, r.requestBytes);
            put.bindInt(7, r.responseBytes);
            put.bindBlob(8, r.requestFrame.isNull() ? QByteArray("") : r.requestFrame);
            put.bindBlob(9, r.responseFrame.isNull() ? QByteArray("") : r.responseFrame);
            put.bindText(10, r.responseType);
            put.bindText(11, r.note);
            ok = ok && put.exec();
            put.reset();
        }
        if (!ok && error)
            *error = sqlite::errorOf(m_db);
    }
    if (!ok) {
        sqlite::exec(m_db, "ROLLBACK");
        return false;
    }
    return sqlite::exec(m_db, "COMMIT", error);
}

qint64 CaptureStore::sweep(qint64 nowMs, const QHash<qint64, int> &retentionDays, QString *error)
{
    if (!m_db)
        return -1;
    if (!sqlite::exec(m_db, "BEGIN IMMEDIATE", error))
        return -1;
    qint64 deleted = 0;
    bool ok = true;
    {
        sqlite::Statement expired(
            m_db, QByteArray("DELETE FROM captures WHERE expires_at_ms <= ?1"), QList<sqlite::Value>{nowMs});
        ok = expired.exec();
        deleted += sqlite3_changes(m_db);
        sqlite::Statement older(m_db, "DELETE FROM captures WHERE key_id = ?1 AND started_at_ms <= ?2");
        for (auto it = retentionDays.cbegin(); ok && it != retentionDays.cend(); ++it) {
            older.bindInt(1, it.key());
            older.bindInt(2, nowMs - qint64(it.value()) * kDayMs);
            ok = older.exec();
            deleted += sqlite3_changes(m_db);
            older.reset();
        }
        if (!ok && error)
            *error = sqlite::errorOf(m_db);
    }
    if (!ok) {
        sqlite::exec(m_db, "ROLLBACK");
        return -1;
    }
    return sqlite::exec(m_db, "COMMIT", error) ? deleted : -1;
}

qint64 CaptureStore::deleteKey(qint64 keyId, QString *error)
{
    if (!m_db)
        return -1;
    sqlite::Statement s(m_db, QByteArray("DELETE FROM captures WHERE key_id = ?1"), QList<sqlite::Value>{keyId});
    if (!s.exec()) {
        if (error)
            *error = s.error();
        return -1;
    }
    return sqlite3_changes(m_db);
}

std::optional<CaptureRow> CaptureStore::byRequest(const QString &requestId) const
{
    if (!m_db)
        return std::nullopt;
    sqlite::Statement s(m_db,
        QByteArray("SELECT request_id, key_id, key_name, started_at_ms, expires_at_ms, request_bytes, response_bytes, "
                   "request_body, response_body, response_type, note FROM captures WHERE request_id = ?1"),
        QList<sqlite::Value>{requestId});
    if (!s.next())
        return std::nullopt;
    CaptureRow r;
    r.requestId = s.text(0);
    r.keyId = s.integer(1);
    r.keyName = s.text(2);
    r.startedAtMs = s.integer(3);
    r.expiresAtMs = s.integer(4);
    r.requestBytes = s.integer(5);
    r.responseBytes = s.integer(6);
    r.requestFrame = s.blob(7);
    r.responseFrame = s.blob(8);
    r.responseType = s.text(9);
    r.note = s.text(10);
    return r;
}

QPair<qint64, qint64> CaptureStore::totals() const
{
    if (!m_db)
        return {0, 0};
    sqlite::Statement s(
        m_db, "SELECT count(*), coalesce(sum(length(request_body) + length(response_body)), 0) FROM captures");
    if (!s.next())
        return {0, 0};
    return {s.integer(0), s.integer(1)};
}

} // namespace gh::store
