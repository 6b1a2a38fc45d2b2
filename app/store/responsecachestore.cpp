#include "store/responsecachestore.h"
#include "core/logging.h"
#include "store/sqlite.h"

namespace gh::store {

namespace {
constexpr int kSchemaVersion = 1;
} // namespace

ResponseCacheStore::~ResponseCacheStore()
{
    sqlite::close(m_db);
}

bool ResponseCacheStore::open(const QString &path, QString *error)
{
    m_db = sqlite::open(path, sqlite::Access::ReadWriteCreate, 5'000, error);
    if (!m_db)
        return false;
    bool ok = false;
    const qint64 version = sqlite::scalar(m_db, "PRAGMA user_version", {}, &ok);
    if (!ok || version > kSchemaVersion) {
        if (error)
            *error = QStringLiteral("%1 has schema version %2, unknown to this version of Gatehouse").arg(path).arg(version);
        sqlite::close(m_db);
        m_db = nullptr;
        return false;
    }
    // WAL: the writer thread's batches do not block on a reader; synchronous=NORMAL: a cache entry
    // lost with a power cut costs one more provider call, never a wrong answer (each row is whole).
    if (!sqlite::exec(m_db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error)
        || !sqlite::exec(m_db,
                         "CREATE TABLE IF NOT EXISTS answers ("
                         " key          BLOB    PRIMARY KEY,"
                         " created_ms   INTEGER NOT NULL,"
                         " expires_ms   INTEGER NOT NULL,"
                         " last_used_ms INTEGER NOT NULL,"
                         " raw_bytes    INTEGER NOT NULL,"
                         " meta         BLOB    NOT NULL,"
                         " body         BLOB    NOT NULL"
                         ") WITHOUT ROWID; PRAGMA user_version = 1;",
                         error)) {
        sqlite::close(m_db);
        m_db = nullptr;
        return false;
    }
    return true;
}

void ResponseCacheStore::loadAll(qint64 nowMs, const std::function<void(StoredAnswer &&)> &each)
{
    if (!m_db)
        return;
    sqlite::Statement expired(m_db, QByteArray("DELETE FROM answers WHERE expires_ms <= ?1"), QList<sqlite::Value>{nowMs});
    expired.exec();
    sqlite::Statement s(m_db, "SELECT key, created_ms, expires_ms, last_used_ms, raw_bytes, meta, body FROM answers "
                              "ORDER BY last_used_ms");
    while (s.next()) {
        StoredAnswer a;
        a.key = s.blob(0);
        a.createdMs = s.integer(1);
        a.expiresMs = s.integer(2);
        a.lastUsedMs = s.integer(3);
        a.rawBytes = s.integer(4);
        a.meta = s.blob(5);
        a.body = s.blob(6);
        each(std::move(a));
    }
    if (!s.ok())
        qCWarning(lcStore) << "response cache: reading the stored answers failed:" << s.error();
}

bool ResponseCacheStore::apply(const QList<StoredAnswer> &puts, const QList<QPair<QByteArray, qint64>> &touches,
                               const QList<QByteArray> &removes, QString *error)
{
    if (!m_db)
        return false;
    if (!sqlite::exec(m_db, "BEGIN IMMEDIATE", error))
        return false;
    bool ok = true;
    {
        sqlite::Statement put(m_db, "INSERT OR REPLACE INTO answers (key, created_ms, expires_ms, last_used_ms, raw_bytes, "
                                    "meta, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        for (const StoredAnswer &a : puts) {
            put.bindBlob(1, a.key);
            put.bindInt(2, a.createdMs);
            put.bindInt(3, a.expiresMs);
            put.bindInt(4, a.lastUsedMs);
            put.bindInt(5, a.rawBytes);
            put.bindBlob(6, a.meta);
            put.bindBlob(7, a.body);
            ok = ok && put.exec();
            put.reset();
        }
        sqlite::Statement touch(m_db, "UPDATE answers SET last_used_ms = ?2 WHERE key = ?1");
        for (const auto &t : touches) {
            touch.bindBlob(1, t.first);
            touch.bindInt(2, t.second);
            ok = ok && touch.exec();
            touch.reset();
        }
        sqlite::Statement remove(m_db, "DELETE FROM answers WHERE key = ?1");
        for (const QByteArray &k : removes) {
            remove.bindBlob(1, k);
            ok = ok && remove.exec();
            remove.reset();
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

} // namespace gh::store
