#pragma once
#include "store/pg.h"
#include "store/sqlite.h"
#include <QByteArray>
#include <QList>
#include <QString>
#include <variant>

// The read connection of one back-end as the window's shared query code (logqueries.cpp's
// LogQueriesImpl, analytics.cpp, whatif.cpp) sees it. The queries are templates over these two
// structs; everything the SQL dialects disagree on is here, so the query text is written once.
//
// Both carry the instance scope (LogQueries::setInstanceScope): empty, every instance's rows; else
// only the rows of that instance_id. The rollup tables have no instance in their key, so a scoped
// query reads the request rows instead (request_facts, on the requests_instance_time index).
namespace gh::store {

using Value = sqlite::Value;

struct SqliteReadDb {
    using Statement = sqlite::Statement;
    sqlite3 *db = nullptr;
    QString instance;

    [[nodiscard]] bool isOpen() const { return db != nullptr; }
    [[nodiscard]] Statement prepare(const QByteArray &sql) const { return Statement(db, sql); }
    bool exec(const char *sql) const { return sqlite::exec(db, sql); }
    // A read transaction: every statement until commit() reads one snapshot (WAL).
    bool begin() const { return exec("BEGIN"); }
    // SUM(cond) of a boolean expression (SQLite's comparisons are 0/1 integers).
    [[nodiscard]] static QByteArray countIf(const QByteArray &cond) { return "sum(" + cond + ")"; }
    // A case-insensitive search for ?n in the request id.
    [[nodiscard]] static QByteArray idContains(int n) { return " AND instr(lower(id), ?" + QByteArray::number(n) + ") > 0"; }
};

struct PgReadDb {
    using Statement = pg::Statement;
    pg::Connection *conn = nullptr;
    QString instance;

    [[nodiscard]] bool isOpen() const { return conn && conn->isOpen(); }
    [[nodiscard]] Statement prepare(const QByteArray &sql) const { return Statement(*conn, sql); }
    bool exec(const char *sql) const { return conn && conn->exec(sql); }
    // One snapshot for every statement of the transaction, as SQLite's WAL read gives (READ
    // COMMITTED would take a new one per statement: a count and its page could disagree).
    bool begin() const { return exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); }
    // A comparison is a boolean in PostgreSQL, which sum() does not take.
    [[nodiscard]] static QByteArray countIf(const QByteArray &cond)
    {
        return "sum(CASE WHEN " + cond + " THEN 1 ELSE 0 END)";
    }
    [[nodiscard]] static QByteArray idContains(int n) { return " AND strpos(lower(id), ?" + QByteArray::number(n) + ") > 0"; }
};

// Binds `args` to ?1..?N.
template <typename S> void bindValues(S &s, const QList<Value> &args)
{
    for (qsizetype i = 0; i < args.size(); ++i) {
        if (const auto *v = std::get_if<qint64>(&args.at(i)))
            s.bindInt(int(i + 1), *v);
        else
            s.bindText(int(i + 1), std::get<QString>(args.at(i)));
    }
}

// The first column of the first row, or 0 (and *ok false when the statement failed).
template <typename Db> qint64 scalar(const Db &db, const QByteArray &sql, const QList<Value> &args = {}, bool *ok = nullptr)
{
    auto s = db.prepare(sql);
    bindValues(s, args);
    const bool got = s.next();
    if (ok)
        *ok = s.ok();
    return got ? s.integer(0) : 0;
}

// "?n" for `v` appended to `args`: the placeholders of a statement built at run time are numbered,
// as PostgreSQL needs.
inline QByteArray arg(QList<Value> &args, Value v)
{
    args.append(std::move(v));
    return "?" + QByteArray::number(args.size());
}

// " AND <column> = ?n" for the instance scope, nothing when unscoped.
template <typename Db> QByteArray instanceCondition(const Db &db, QList<Value> &args, const char *column = "instance_id")
{
    if (db.instance.isEmpty())
        return {};
    return QByteArray(" AND ") + column + " = " + arg(args, db.instance);
}

} // namespace gh::store
