#include "requestlogdb.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QThread>

#include <sqlite3.h>

namespace gh::test {

namespace {

QString text(sqlite3_stmt *stmt, int column)
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(stmt, column));
    return p ? QString::fromUtf8(p, sqlite3_column_bytes(stmt, column)) : QString();
}

} // namespace

QString LoggedRequest::describe() const
{
    return QStringLiteral("%1 %2 key=%3 model=%4 status=%5 in=%6 cache_read=%7 out=%8 cost=%9 estimated=%10 "
                          "stream=%11 error='%12'")
        .arg(id, endpoint, keyName, requestedModel)
        .arg(status)
        .arg(inputTokens)
        .arg(cacheReadTokens)
        .arg(outputTokens)
        .arg(costNanoUsd ? QString::number(*costNanoUsd) : QStringLiteral("NULL"))
        .arg(estimated)
        .arg(stream)
        .arg(error);
}

RequestLogDb::RequestLogDb(QString dataDir)
    : m_path(QDir(dataDir).filePath(QStringLiteral("gatehouse.db")))
{ }

std::optional<QList<LoggedRequest>> RequestLogDb::query(const QString &where, const QString &arg)
{
    m_error.clear();
    if (!QFileInfo::exists(m_path)) {
        m_error = QStringLiteral("%1 does not exist").arg(m_path);
        return std::nullopt;
    }
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(m_path);
    int rc = sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        m_error = QStringLiteral("cannot open %1: %2")
                      .arg(m_path, QString::fromUtf8(db ? sqlite3_errmsg(db) : "out of memory"));
        sqlite3_close(db);
        return std::nullopt;
    }
    sqlite3_busy_timeout(db, 2000);
    QString sql = QStringLiteral(
        "SELECT seq, id, started_at_ms, key_id, key_name, endpoint, requested_model, provider, upstream_model, status, "
        "error, latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
        "usage_reported, estimated, cost_nano_usd, stream, attempts, cache_write_1h_tokens, route, model_id, session_id "
        "FROM requests");
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where;
    sql += QStringLiteral(" ORDER BY seq");
    sqlite3_stmt *stmt = nullptr;
    const QByteArray sqlUtf8 = sql.toUtf8();
    rc = sqlite3_prepare_v2(db, sqlUtf8.constData(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        m_error = QStringLiteral("cannot query %1: %2").arg(m_path, QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_close(db);
        return std::nullopt;
    }
    const QByteArray argUtf8 = arg.toUtf8();
    if (!where.isEmpty() && where.contains(u'?'))
        sqlite3_bind_text(stmt, 1, argUtf8.constData(), int(argUtf8.size()), SQLITE_TRANSIENT);
    QList<LoggedRequest> rows;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        LoggedRequest r;
        int c = 0;
        r.seq = sqlite3_column_int64(stmt, c++);
        r.id = text(stmt, c++);
        r.startedAtMs = sqlite3_column_int64(stmt, c++);
        r.keyId = sqlite3_column_int64(stmt, c++);
        r.keyName = text(stmt, c++);
        r.endpoint = text(stmt, c++);
        r.requestedModel = text(stmt, c++);
        r.provider = text(stmt, c++);
        r.upstreamModel = text(stmt, c++);
        r.status = sqlite3_column_int(stmt, c++);
        r.error = text(stmt, c++);
        r.latencyMs = sqlite3_column_int64(stmt, c++);
        r.ttftMs = sqlite3_column_int64(stmt, c++);
        r.inputTokens = sqlite3_column_int64(stmt, c++);
        r.cacheReadTokens = sqlite3_column_int64(stmt, c++);
        r.cacheWriteTokens = sqlite3_column_int64(stmt, c++);
        r.outputTokens = sqlite3_column_int64(stmt, c++);
        r.usageReported = sqlite3_column_int(stmt, c++) != 0;
        r.estimated = sqlite3_column_int(stmt, c++) != 0;
        if (sqlite3_column_type(stmt, c) != SQLITE_NULL)
            r.costNanoUsd = sqlite3_column_int64(stmt, c);
        ++c;
        r.stream = sqlite3_column_int(stmt, c++) != 0;
        r.attempts = sqlite3_column_int(stmt, c++);
        r.cacheWrite1hTokens = sqlite3_column_int64(stmt, c++);
        r.route = text(stmt, c++);
        r.modelId = text(stmt, c++);
        r.sessionId = text(stmt, c++);
        rows.append(r);
    }
    if (rc != SQLITE_DONE) {
        m_error = QStringLiteral("cannot read %1: %2").arg(m_path, QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_finalize(stmt);
        sqlite3_close(db);
        return std::nullopt;
    }
    sqlite3_finalize(stmt);
    // Their attempts, in order.
    QHash<QString, qsizetype> index;
    for (qsizetype i = 0; i < rows.size(); ++i)
        index.insert(rows.at(i).id, i);
    stmt = nullptr;
    rc = sqlite3_prepare_v2(db,
        "SELECT r.id, a.idx, a.model_id, a.provider, a.outcome, a.status, a.error, a.latency_ms "
        "FROM attempts a JOIN requests r ON r.seq = a.request_seq ORDER BY a.request_seq, a.idx",
        -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        m_error = QStringLiteral("cannot query attempts in %1: %2").arg(m_path, QString::fromUtf8(sqlite3_errmsg(db)));
        sqlite3_close(db);
        return std::nullopt;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const auto it = index.constFind(text(stmt, 0));
        if (it == index.cend())
            continue;
        LoggedAttempt a;
        a.index = sqlite3_column_int(stmt, 1);
        a.modelId = text(stmt, 2);
        a.provider = text(stmt, 3);
        a.outcome = text(stmt, 4);
        a.status = sqlite3_column_int(stmt, 5);
        a.error = text(stmt, 6);
        a.latencyMs = sqlite3_column_int64(stmt, 7);
        rows[*it].attemptLog.append(a);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
}

std::optional<QList<LoggedRequest>> RequestLogDb::all()
{
    return query({}, {});
}

std::optional<LoggedRequest> RequestLogDb::find(const QString &requestId)
{
    const auto rows = query(QStringLiteral("id = ?"), requestId);
    if (!rows || rows->isEmpty())
        return std::nullopt;
    return rows->first();
}

std::optional<LoggedRequest> RequestLogDb::waitFor(const QString &requestId, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (auto row = find(requestId))
            return row;
        if (deadline.hasExpired()) {
            if (m_error.isEmpty())
                m_error = QStringLiteral("request %1 is not in %2 after %3 ms").arg(requestId, m_path).arg(timeoutMs);
            return std::nullopt;
        }
        QThread::msleep(25);
    }
}

QList<LoggedRequest> RequestLogDb::waitForCount(int count, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        const auto rows = all();
        if (rows && rows->size() >= count)
            return *rows;
        if (deadline.hasExpired()) {
            m_error = QStringLiteral("%1 has %2 rows, not %3, after %4 ms %5")
                          .arg(m_path)
                          .arg(rows ? rows->size() : -1)
                          .arg(count)
                          .arg(timeoutMs)
                          .arg(m_error);
            return {};
        }
        QThread::msleep(25);
    }
}

int RequestLogDb::count()
{
    const auto rows = all();
    return rows ? int(rows->size()) : -1;
}

std::optional<QStringList> RequestLogDb::column(const char *sql)
{
    m_error.clear();
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(m_path);
    if (!QFileInfo::exists(m_path) || sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        m_error = QStringLiteral("cannot open %1: %2").arg(m_path, QString::fromUtf8(db ? sqlite3_errmsg(db) : "missing"));
        sqlite3_close(db);
        return std::nullopt;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *stmt = nullptr;
    QStringList out;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
            out.append(text(stmt, 0));
    }
    if (rc != SQLITE_DONE)
        m_error = QStringLiteral("%1: %2").arg(QString::fromUtf8(sql), QString::fromUtf8(sqlite3_errmsg(db)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (rc != SQLITE_DONE)
        return std::nullopt;
    return out;
}

std::optional<QStringList> RequestLogDb::firstRow(const QByteArray &sql)
{
    m_error.clear();
    sqlite3 *db = nullptr;
    const QByteArray path = QFile::encodeName(m_path);
    if (!QFileInfo::exists(m_path) || sqlite3_open_v2(path.constData(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        m_error = QStringLiteral("cannot open %1: %2").arg(m_path, QString::fromUtf8(db ? sqlite3_errmsg(db) : "missing"));
        sqlite3_close(db);
        return std::nullopt;
    }
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *stmt = nullptr;
    QStringList out;
    int rc = sqlite3_prepare_v2(db, sql.constData(), -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(stmt); ++c)
                out.append(text(stmt, c));
            rc = SQLITE_DONE;
        }
    }
    if (rc != SQLITE_DONE)
        m_error = QStringLiteral("%1: %2").arg(QString::fromUtf8(sql), QString::fromUtf8(sqlite3_errmsg(db)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (rc != SQLITE_DONE)
        return std::nullopt;
    return out;
}

std::optional<qint64> RequestLogDb::overshootOf(const QString &requestId)
{
    QString id = requestId;
    id.replace(QLatin1Char('\''), QLatin1String("''"));
    const QByteArray sql = QStringLiteral("SELECT overshoot_nano_usd FROM requests WHERE id = '%1'").arg(id).toUtf8();
    const auto values = column(sql.constData());
    if (!values || values->isEmpty())
        return std::nullopt;
    return values->first().toLongLong();
}

std::optional<RequestLogDb::CacheColumns> RequestLogDb::cacheOf(const QString &requestId)
{
    QString id = requestId;
    id.replace(QLatin1Char('\''), QLatin1String("''"));
    const QByteArray sql
        = QStringLiteral("SELECT cache_status || '|' || cache_saved_nano_usd FROM requests WHERE id = '%1'").arg(id).toUtf8();
    const auto values = column(sql.constData());
    if (!values || values->isEmpty())
        return std::nullopt;
    const QStringList parts = values->first().split(QLatin1Char('|'));
    if (parts.size() != 2)
        return std::nullopt;
    return CacheColumns{parts.at(0), parts.at(1).toLongLong()};
}

std::optional<QString> RequestLogDb::secretFindingsOf(const QString &requestId)
{
    QString id = requestId;
    id.replace(QLatin1Char('\''), QLatin1String("''"));
    const QByteArray sql = QStringLiteral("SELECT secret_findings FROM requests WHERE id = '%1'").arg(id).toUtf8();
    const auto values = column(sql.constData());
    if (!values || values->isEmpty())
        return std::nullopt;
    return values->first();
}

std::optional<QString> RequestLogDb::refusalOf(const QString &requestId)
{
    QString id = requestId;
    id.replace(QLatin1Char('\''), QLatin1String("''"));
    const QByteArray sql = QStringLiteral("SELECT refusal FROM requests WHERE id = '%1'").arg(id).toUtf8();
    const auto values = column(sql.constData());
    if (!values || values->isEmpty())
        return std::nullopt;
    return values->first();
}

std::optional<QStringList> RequestLogDb::recoveredIds()
{
    return column("SELECT id FROM requests WHERE recovered = 1 ORDER BY seq");
}

int RequestLogDb::pendingCount()
{
    const auto rows = column("SELECT count(*) FROM pending_requests");
    return rows && rows->size() == 1 ? rows->first().toInt() : -1;
}

QString RequestLogDb::integrityCheck()
{
    const auto rows = column("PRAGMA integrity_check");
    return rows ? rows->join(QLatin1Char('\n')) : m_error;
}

ExclusiveLock::ExclusiveLock(const QString &dbPath)
{
    const QByteArray path = QFile::encodeName(dbPath);
    if (sqlite3_open_v2(path.constData(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        m_error = QString::fromUtf8(m_db ? sqlite3_errmsg(m_db) : "out of memory");
        return;
    }
    sqlite3_busy_timeout(m_db, 10000);
    char *msg = nullptr;
    if (sqlite3_exec(m_db, "BEGIN EXCLUSIVE", nullptr, nullptr, &msg) != SQLITE_OK) {
        m_error = QString::fromUtf8(msg ? msg : sqlite3_errmsg(m_db));
        sqlite3_free(msg);
        return;
    }
    m_held = true;
}

ExclusiveLock::~ExclusiveLock()
{
    release();
    sqlite3_close(m_db);
}

void ExclusiveLock::release()
{
    if (!m_held)
        return;
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    m_held = false;
}

} // namespace gh::test
