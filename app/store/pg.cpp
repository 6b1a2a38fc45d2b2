#include "store/pg.h"
#include "core/logging.h"
#include <QUrl>
#include <libpq-fe.h>
#include <cstdlib>

namespace gh::pg {

namespace {

QString messageOf(pg_conn *conn)
{
    if (!conn)
        return QStringLiteral("out of memory");
    return QString::fromUtf8(PQerrorMessage(conn)).trimmed();
}

// NOTICEs (CREATE ... IF NOT EXISTS "skipping") are not errors: they go to the debug log, not stderr.
void onNotice(void *, const char *message)
{
    qCDebug(lcStore).noquote() << "postgresql:" << QString::fromUtf8(message).trimmed();
}

} // namespace

bool isPostgresUrl(const QString &location)
{
    return location.startsWith(QLatin1String("postgres://")) || location.startsWith(QLatin1String("postgresql://"));
}

QString redactedUrl(const QString &url)
{
    QUrl u(url);
    if (!u.isValid())
        return QStringLiteral("postgres://…");
    if (!u.password().isEmpty())
        u.setPassword(QStringLiteral("***"));
    QString query = u.query();
    if (query.contains(QLatin1String("password="), Qt::CaseInsensitive))
        u.setQuery(QStringLiteral("…"));
    return u.toString();
}

QByteArray toDollarParams(const QByteArray &sql)
{
    QByteArray out;
    out.reserve(sql.size());
    char quote = 0;
    for (qsizetype i = 0; i < sql.size(); ++i) {
        const char c = sql.at(i);
        if (quote) {
            out += c;
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            out += c;
            continue;
        }
        if (c == '?' && i + 1 < sql.size() && sql.at(i + 1) >= '0' && sql.at(i + 1) <= '9') {
            out += '$';
            continue;
        }
        out += c;
    }
    return out;
}

// --- Connection ---

Connection::~Connection() { close(); }

bool Connection::open(const QString &url, QString *error)
{
    close();
    const QByteArray dbname = url.toUtf8();
    // Defaults first: what the URL says wins (expand_dbname processes later keywords over earlier).
    const char *keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char *values[] = {"5", "gatehouse", dbname.constData(), nullptr};
    m_conn = PQconnectdbParams(keys, values, 1);
    if (!m_conn || PQstatus(m_conn) != CONNECTION_OK) {
        if (error)
            *error = QStringLiteral("cannot connect to %1: %2").arg(redactedUrl(url), messageOf(m_conn));
        close();
        return false;
    }
    PQsetNoticeProcessor(m_conn, onNotice, nullptr);
    m_url = url;
    return true;
}

int Connection::backendPid() const { return m_conn ? PQbackendPID(m_conn) : 0; }

void Connection::close()
{
    if (m_conn)
        PQfinish(m_conn);
    m_conn = nullptr;
}

bool Connection::ensure(QString *error)
{
    if (m_conn && PQstatus(m_conn) == CONNECTION_OK)
        return true;
    if (m_url.isEmpty()) {
        if (error)
            *error = QStringLiteral("the database is not open");
        return false;
    }
    if (m_conn) {
        PQreset(m_conn);
        if (PQstatus(m_conn) == CONNECTION_OK) {
            qCInfo(lcStore).noquote() << "reconnected to" << redactedUrl(m_url);
            return true;
        }
        if (error)
            *error = QStringLiteral("cannot reconnect to %1: %2").arg(redactedUrl(m_url), messageOf(m_conn));
        return false;
    }
    const QString url = m_url;
    return open(url, error);
}

bool Connection::exec(const char *sql, QString *error)
{
    if (!m_conn) {
        if (error)
            *error = QStringLiteral("the database is not open");
        return false;
    }
    PGresult *res = PQexec(m_conn, sql);
    const ExecStatusType st = PQresultStatus(res);
    const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok && error)
        *error = res ? QString::fromUtf8(PQresultErrorMessage(res)).trimmed() : messageOf(m_conn);
    PQclear(res);
    return ok;
}

QString Connection::lastError() const { return messageOf(m_conn); }

// --- Statement ---

Statement::Statement(Connection &conn, const QByteArray &sql) : m_conn(conn), m_sql(toDollarParams(sql)) {}

Statement::~Statement()
{
    if (m_result)
        PQclear(m_result);
}

void Statement::set(int i, QByteArray v)
{
    if (i < 1)
        return;
    if (m_params.size() < std::size_t(i))
        m_params.resize(std::size_t(i));
    m_params[std::size_t(i - 1)] = std::move(v);
}

void Statement::bindNull(int i)
{
    if (i < 1)
        return;
    if (m_params.size() < std::size_t(i))
        m_params.resize(std::size_t(i));
    m_params[std::size_t(i - 1)].reset();
}

void Statement::bindDouble(int i, double v) { set(i, QByteArray::number(v, 'g', 17)); }

void Statement::bindReal(int i, std::optional<double> v)
{
    if (v)
        bindDouble(i, *v);
    else
        bindNull(i);
}

void Statement::bindOptInt(int i, std::optional<qint64> v)
{
    if (v)
        bindInt(i, *v);
    else
        bindNull(i);
}

void Statement::bindBlob(int i, const QByteArray &v) { set(i, "\\x" + v.toHex()); }

bool Statement::exec()
{
    if (m_result)
        PQclear(m_result);
    m_result = nullptr;
    m_row = -1;
    m_ran = true;
    m_state.clear();
    m_error.clear();
    if (!m_conn.handle()) {
        m_ok = false;
        m_error = QStringLiteral("the database is not open");
        return false;
    }
    std::vector<const char *> values;
    values.reserve(m_params.size());
    for (const auto &p : m_params)
        values.push_back(p ? p->constData() : nullptr);
    m_result = PQexecParams(m_conn.handle(), m_sql.constData(), int(values.size()), nullptr, values.data(), nullptr,
                            nullptr, 0);
    const ExecStatusType st = PQresultStatus(m_result);
    m_ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!m_ok) {
        // The primary message only: the DETAIL of a constraint failure quotes the row's values (a
        // key's secret hash), which do not belong in a log line.
        const char *primary = m_result ? PQresultErrorField(m_result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        m_error = primary ? QString::fromUtf8(primary) : messageOf(m_conn.handle());
        if (m_error.isEmpty())
            m_error = messageOf(m_conn.handle());
        if (m_result)
            if (const char *state = PQresultErrorField(m_result, PG_DIAG_SQLSTATE))
                m_state = state;
    }
    return m_ok;
}

bool Statement::next()
{
    if (!m_ran && !exec())
        return false;
    if (!m_ok || !m_result)
        return false;
    if (m_row + 1 >= PQntuples(m_result))
        return false;
    ++m_row;
    return true;
}

qint64 Statement::changes() const
{
    if (!m_result)
        return 0;
    return QByteArray(PQcmdTuples(m_result)).toLongLong();
}

int Statement::rowCount() const { return m_result ? PQntuples(m_result) : 0; }

int Statement::columnCount() const { return m_result ? PQnfields(m_result) : 0; }

const char *Statement::value(int c) const
{
    if (!m_result || m_row < 0 || m_row >= PQntuples(m_result) || c < 0 || c >= PQnfields(m_result))
        return nullptr;
    if (PQgetisnull(m_result, m_row, c))
        return nullptr;
    return PQgetvalue(m_result, m_row, c);
}

bool Statement::isNull(int c) const { return value(c) == nullptr; }

qint64 Statement::integer(int c) const
{
    const char *v = value(c);
    if (!v)
        return 0;
    if (v[0] == 't' && v[1] == 0)
        return 1; // a boolean expression
    if (v[0] == 'f' && v[1] == 0)
        return 0;
    return std::strtoll(v, nullptr, 10);
}

bool Statement::boolean(int c) const { return integer(c) != 0; }

double Statement::real(int c) const
{
    const char *v = value(c);
    return v ? std::strtod(v, nullptr) : 0.0;
}

std::optional<qint64> Statement::optInteger(int c) const
{
    if (isNull(c))
        return std::nullopt;
    return integer(c);
}

std::optional<double> Statement::optReal(int c) const
{
    if (isNull(c))
        return std::nullopt;
    return real(c);
}

QString Statement::text(int c) const
{
    const char *v = value(c);
    return v ? QString::fromUtf8(v) : QString();
}

QByteArray Statement::rawText(int c) const
{
    const char *v = value(c);
    return v ? QByteArray(v) : QByteArray();
}

QByteArray Statement::blob(int c) const
{
    const char *v = value(c);
    if (!v)
        return {};
    const QByteArray text(v);
    if (text.startsWith("\\x"))
        return QByteArray::fromHex(text.mid(2));
    return text; // bytea_output = escape is not used by this back-end
}

qint64 scalar(Connection &conn, const QByteArray &sql, const QList<qint64> &args, bool *ok)
{
    Statement s(conn, sql);
    for (qsizetype i = 0; i < args.size(); ++i)
        s.bindInt(int(i + 1), args.at(i));
    const bool got = s.next();
    if (ok)
        *ok = s.ok();
    return got ? s.integer(0) : 0;
}

} // namespace gh::pg
