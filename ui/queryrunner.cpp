#include "queryrunner.h"
#include <QFile>
#include <QLoggingCategory>
#include <QSemaphore>
#include <sqlite3.h>

Q_LOGGING_CATEGORY(lcUiQuery, "gatehouse.ui.query")

namespace gh::ui {

QueryRunner::QueryRunner(const QString &databasePath, QObject *parent)
    : QObject(parent)
    , m_path(databasePath)
{
    m_thread.setObjectName(QStringLiteral("ui-queries"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    connect(
        &m_thread, &QThread::finished, m_worker,
        [this] {
            // Runs on the worker thread as its event loop ends: close the connection there.
            if (m_db) {
                sqlite3_close(m_db);
                m_db = nullptr;
            }
        },
        Qt::DirectConnection);
    m_thread.start();
}

QueryRunner::~QueryRunner()
{
    m_thread.quit();
    m_thread.wait();
    delete m_worker;
    if (m_db)
        sqlite3_close(m_db);
}

void QueryRunner::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_worker, std::move(job), Qt::QueuedConnection);
}

void QueryRunner::waitForIdle()
{
    QSemaphore done;
    post([&done] { done.release(); });
    done.acquire();
}

sqlite3 *QueryRunner::connection()
{
    if (m_db || m_openFailed)
        return m_db;
    const QByteArray file = QFile::encodeName(m_path);
    const int rc = sqlite3_open_v2(file.constData(), &m_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        qCWarning(lcUiQuery) << "cannot open" << m_path
                             << "for reading:" << (m_db ? sqlite3_errmsg(m_db) : "out of memory");
        sqlite3_close(m_db);
        m_db = nullptr;
        m_openFailed = true;
        return nullptr;
    }
    sqlite3_busy_timeout(m_db, 5000);
    return m_db;
}

sqlite3 *QueryRunner::openReadWrite(const QString &path, QString *error)
{
    sqlite3 *db = nullptr;
    const QByteArray file = QFile::encodeName(path);
    if (sqlite3_open_v2(file.constData(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        if (error)
            *error = db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory");
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

Query::Query(sqlite3 *db, const char *sql)
    : m_db(db)
{
    if (!db)
        return;
    m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr);
    if (m_rc != SQLITE_OK) {
        qCWarning(lcUiQuery) << "cannot prepare" << sql << ":" << sqlite3_errmsg(db);
        sqlite3_finalize(m_stmt);
        m_stmt = nullptr;
    }
}

Query::~Query()
{
    sqlite3_finalize(m_stmt);
}

QString Query::error() const
{
    return m_db ? QString::fromUtf8(sqlite3_errmsg(m_db)) : QStringLiteral("the database is not open");
}

void Query::bind(int index, qint64 value)
{
    if (m_stmt)
        sqlite3_bind_int64(m_stmt, index, value);
}

void Query::bind(int index, const QString &value)
{
    if (!m_stmt)
        return;
    const QByteArray utf8 = value.toUtf8();
    sqlite3_bind_text(m_stmt, index, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
}

void Query::bindNull(int index)
{
    if (m_stmt)
        sqlite3_bind_null(m_stmt, index);
}

bool Query::next()
{
    if (!m_stmt)
        return false;
    m_rc = sqlite3_step(m_stmt);
    if (m_rc != SQLITE_ROW && m_rc != SQLITE_DONE)
        qCWarning(lcUiQuery) << "query failed:" << sqlite3_errmsg(m_db);
    return m_rc == SQLITE_ROW;
}

qint64 Query::integer(int column) const
{
    return sqlite3_column_int64(m_stmt, column);
}

bool Query::isNull(int column) const
{
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

const unsigned char *Query::rawText(int column) const
{
    return sqlite3_column_text(m_stmt, column);
}

int Query::bytes(int column) const
{
    return sqlite3_column_bytes(m_stmt, column);
}

QString Query::text(int column) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return p ? QString::fromUtf8(p, sqlite3_column_bytes(m_stmt, column)) : QString();
}

} // namespace gh::ui
