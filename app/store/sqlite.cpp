#include "store/sqlite.h"
#include "core/logging.h"
#include <QFile>
#include <sqlite3.h>

namespace gh::sqlite {

QString errorOf(sqlite3 *db)
{
    return db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory");
}

sqlite3 *open(const QString &path, Access access, int busyTimeoutMs, QString *error)
{
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    switch (access) {
    case Access::ReadWriteCreate:
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        break;
    case Access::ReadWrite:
        flags |= SQLITE_OPEN_READWRITE;
        break;
    case Access::ReadOnly:
        flags |= SQLITE_OPEN_READONLY;
        break;
    }
    sqlite3 *db = nullptr;
    const QByteArray file = QFile::encodeName(path);
    if (sqlite3_open_v2(file.constData(), &db, flags, nullptr) != SQLITE_OK) {
        if (error)
            *error = errorOf(db);
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, busyTimeoutMs);
    sqlite3_extended_result_codes(db, 1);
    // Each connection's page cache: 512 KiB instead of SQLite's 2 MB. The headless gateway holds four
    // (the store's, the log writer's, the response cache's, the captures'), and after 100k requests
    // the default caches held 2.3 MB more RSS than 256 KiB ones, with the writer's CPU per row within
    // the run-to-run noise (bench/rss.sh, BENCHMARKS.md "Memory after 1M requests"): the writer
    // touches the right edge of each index and the rollups, a few dozen pages; a page outside the
    // cache is read back from the OS's page cache. Memory-mapped I/O stays off (SQLite's default):
    // mapped database pages would count in the process's RSS.
    sqlite3_exec(db, "PRAGMA cache_size = -512", nullptr, nullptr, nullptr);
    return db;
}

void close(sqlite3 *db)
{
    sqlite3_close_v2(db);
}

bool exec(sqlite3 *db, const char *sql, QString *error)
{
    if (!db) {
        if (error)
            *error = QStringLiteral("the database is not open");
        return false;
    }
    char *msg = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
    if (rc != SQLITE_OK && error)
        *error = msg ? QString::fromUtf8(msg) : errorOf(db);
    sqlite3_free(msg);
    return rc == SQLITE_OK;
}

Statement::Statement(sqlite3 *db, const char *sql, bool persistent)
    : m_db(db)
{
    if (!db) {
        m_rc = SQLITE_MISUSE;
        return;
    }
    m_rc = sqlite3_prepare_v3(db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0, &m_stmt, nullptr);
    if (m_rc != SQLITE_OK) {
        qCWarning(lcStore) << "cannot prepare statement:" << errorOf(db) << sql;
        sqlite3_finalize(m_stmt);
        m_stmt = nullptr;
    }
}

Statement::Statement(sqlite3 *db, const QByteArray &sql, const QList<Value> &args)
    : Statement(db, sql.constData())
{
    bindAll(args);
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

bool Statement::ok() const
{
    return m_stmt && !m_failed;
}

QString Statement::error() const
{
    if (!m_db)
        return QStringLiteral("the database is not open");
    return errorOf(m_db);
}

void Statement::bindNull(int i)
{
    if (!m_stmt)
        return;
    forget(i);
    sqlite3_bind_null(m_stmt, i);
}

void Statement::bindDouble(int i, double v)
{
    if (!m_stmt)
        return;
    forget(i);
    sqlite3_bind_double(m_stmt, i, v);
}

void Statement::bindReal(int i, std::optional<double> v)
{
    if (v)
        bindDouble(i, *v);
    else
        bindNull(i);
}

void Statement::bindBlob(int i, const QByteArray &v)
{
    if (!m_stmt)
        return;
    forget(i);
    sqlite3_bind_blob(m_stmt, i, v.constData(), int(v.size()), SQLITE_TRANSIENT);
}

void Statement::bind(int i, const Value &v)
{
    if (const auto *n = std::get_if<qint64>(&v))
        bindInt(i, *n);
    else
        bindText(i, std::get<QString>(v));
}

void Statement::bindAll(const QList<Value> &args)
{
    for (int i = 0; i < args.size(); ++i)
        bind(i + 1, args.at(i));
}

bool Statement::next()
{
    if (!m_stmt)
        return false;
    const int rc = step();
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE) {
        m_failed = true;
        qCWarning(lcStore) << "query failed:" << errorOf(m_db);
    }
    return false;
}

bool Statement::done() const
{
    return m_rc == SQLITE_DONE;
}

bool Statement::exec()
{
    return step() == SQLITE_DONE;
}

void Statement::keepBindings()
{
    if (!m_stmt)
        return;
    m_keepBindings = true;
    const auto slots = std::size_t(sqlite3_bind_parameter_count(m_stmt)) + 1;
    m_held.assign(slots, Held::Unknown);
    m_texts.resize(slots);
    m_ints.resize(slots);
}

bool Statement::isNull(int c) const
{
    return sqlite3_column_type(m_stmt, c) == SQLITE_NULL;
}

qint64 Statement::integer(int c) const
{
    return sqlite3_column_int64(m_stmt, c);
}

double Statement::real(int c) const
{
    return sqlite3_column_double(m_stmt, c);
}

std::optional<qint64> Statement::optInteger(int c) const
{
    if (isNull(c))
        return std::nullopt;
    return sqlite3_column_int64(m_stmt, c);
}

std::optional<double> Statement::optReal(int c) const
{
    if (isNull(c))
        return std::nullopt;
    return sqlite3_column_double(m_stmt, c);
}

QString Statement::text(int c) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, c));
    return p ? QString::fromUtf8(p, sqlite3_column_bytes(m_stmt, c)) : QString();
}

QByteArray Statement::rawText(int c) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, c));
    return p ? QByteArray::fromRawData(p, sqlite3_column_bytes(m_stmt, c)) : QByteArray();
}

QByteArray Statement::blob(int c) const
{
    const void *p = sqlite3_column_blob(m_stmt, c);
    return p ? QByteArray(static_cast<const char *>(p), sqlite3_column_bytes(m_stmt, c)) : QByteArray();
}

qint64 scalar(sqlite3 *db, const QByteArray &sql, const QList<Value> &args, bool *ok)
{
    Statement st(db, sql, args);
    const bool row = st.next();
    if (ok)
        *ok = st.ok();
    return row ? st.integer(0) : 0;
}

} // namespace gh::sqlite
