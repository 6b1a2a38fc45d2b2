#pragma once
#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>
#include <vector>

struct pg_conn;
struct pg_result;

// The one libpq wrapper of the project: every connection and statement of the PostgreSQL back-end
// (the team store) goes through it. Nothing outside app/store/ includes <libpq-fe.h> or this header.
//
// libpq rather than Qt's QPSQL driver: the log writer sends a batch as one transaction of many
// statements and needs the server's SQLSTATE to tell a duplicate row (skip it, keep the batch) from a
// lost connection (keep the batch in memory, reconnect, retry); the migrations hold a session-level
// pg_advisory_lock, which needs one known connection, not a pooled QSqlDatabase bound to a thread.
namespace gh::pg {

// A connection. Not thread-safe: one thread uses it at a time (the owner serialises).
class Connection
{
public:
    Connection() = default;
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Connects to `url` (postgres://user@host:port/db?...). False and *error on failure; the message
    // never holds the password of the URL.
    bool open(const QString &url, QString *error);
    void close();
    [[nodiscard]] bool isOpen() const { return m_conn != nullptr; }
    // Reconnects when the server closed the connection (a restart, a network cut). True when usable.
    bool ensure(QString *error);
    // Runs one or more statements without parameters that return no rows.
    bool exec(const char *sql, QString *error = nullptr);
    [[nodiscard]] QString lastError() const;
    [[nodiscard]] pg_conn *handle() const { return m_conn; }
    // The server process of this connection (NOTIFY's sender id), 0 when closed.
    [[nodiscard]] int backendPid() const;

private:
    pg_conn *m_conn = nullptr;
    QString m_url;
};

// A statement with parameters, sent with PQexecParams in text format. The SQL is written with
// SQLite's ?N placeholders (so both back-ends can share it) and rewritten to $N once, outside
// quoted strings. Binds are 1-based, columns 0-based, as in sqlite::Statement, whose method names
// it keeps.
class Statement
{
public:
    Statement(Connection &conn, const QByteArray &sql);
    Statement(Connection &conn, const char *sql) : Statement(conn, QByteArray(sql)) {}
    ~Statement();
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;

    void bindText(int i, const QString &v) { set(i, v.toUtf8()); }
    void bindInt(int i, qint64 v) { set(i, QByteArray::number(v)); }
    void bindBool(int i, bool v) { bindInt(i, v ? 1 : 0); }
    void bindNull(int i);
    void bindDouble(int i, double v);
    void bindReal(int i, std::optional<double> v);
    void bindOptInt(int i, std::optional<qint64> v);
    void bindBlob(int i, const QByteArray &v); // a bytea, sent as its hex text form
    // A value already in PostgreSQL's text form (an array literal, say), sent as it is.
    void bindTextForm(int i, QByteArray v) { set(i, std::move(v)); }

    // Runs the statement with the bound values (kept for the next run until rebound). True when it
    // succeeded; its rows are then read with next().
    bool exec();
    // The next row of the last exec(): true while there is one. The first call runs the statement
    // when exec() has not been called.
    [[nodiscard]] bool next();
    // exec() succeeded.
    [[nodiscard]] bool ok() const { return m_ok; }
    [[nodiscard]] QString error() const { return m_error; }
    // The SQLSTATE of the last failure ("23505": unique violation), empty when none.
    [[nodiscard]] QByteArray sqlState() const { return m_state; }
    [[nodiscard]] bool uniqueViolation() const { return m_state == "23505"; }
    // Rows changed by the last INSERT/UPDATE/DELETE.
    [[nodiscard]] qint64 changes() const;
    [[nodiscard]] int rowCount() const;
    [[nodiscard]] int columnCount() const;

    [[nodiscard]] bool isNull(int c) const;
    [[nodiscard]] qint64 integer(int c) const;
    [[nodiscard]] bool boolean(int c) const;
    [[nodiscard]] double real(int c) const;
    [[nodiscard]] std::optional<qint64> optInteger(int c) const;
    [[nodiscard]] std::optional<double> optReal(int c) const;
    [[nodiscard]] QString text(int c) const;
    [[nodiscard]] QByteArray rawText(int c) const;
    [[nodiscard]] QByteArray blob(int c) const; // a bytea column

private:
    void set(int i, QByteArray v);
    [[nodiscard]] const char *value(int c) const;

    Connection &m_conn;
    QByteArray m_sql;
    std::vector<std::optional<QByteArray>> m_params; // by index - 1
    pg_result *m_result = nullptr;
    int m_row = -1;
    bool m_ran = false;
    bool m_ok = false;
    QString m_error;
    QByteArray m_state;
};

// ?N placeholders to $N, outside '…' and "…" (exposed for the tests).
[[nodiscard]] QByteArray toDollarParams(const QByteArray &sql);
// The URL without its password (for messages and logs).
[[nodiscard]] QString redactedUrl(const QString &url);
// Whether `location` names a PostgreSQL server (postgres:// or postgresql://), not a file.
[[nodiscard]] bool isPostgresUrl(const QString &location);

// The first column of the first row, or 0 (and *ok false when the statement failed).
[[nodiscard]] qint64 scalar(Connection &conn, const QByteArray &sql, const QList<qint64> &args = {}, bool *ok = nullptr);

} // namespace gh::pg
