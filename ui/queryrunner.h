#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

struct sqlite3;
struct sqlite3_stmt;

namespace gh::ui {

// Runs the window's read queries off the UI thread: one worker thread with its own read-only SQLite
// connection (WAL lets it read while the gateway's writer commits). A query is a function of the
// connection; its result is handed to `done` on the receiver's thread through a queued connection,
// and dropped when the receiver is gone by then. Queries run one after another in submission order.
class QueryRunner : public QObject
{
    Q_OBJECT
public:
    explicit QueryRunner(const QString &databasePath, QObject *parent = nullptr);
    ~QueryRunner() override; // waits for the running query, drops the queued ones

    [[nodiscard]] QString databasePath() const { return m_path; }

    // query: R(sqlite3 *db) runs on the worker thread (db is nullptr when the database cannot be
    // opened); done: void(R) runs on receiver's thread.
    template <typename R> void run(QObject *receiver, std::function<R(sqlite3 *)> query, std::function<void(R)> done)
    {
        auto result = std::make_shared<std::optional<R>>();
        auto *carrier = new QObject;
        // `destroyed` is emitted on the worker thread after the query; the queued connection is
        // removed atomically if the receiver dies first, so a late result never reaches a dead object.
        connect(
            carrier, &QObject::destroyed, receiver,
            [result, done = std::move(done)] {
                if (result->has_value())
                    done(std::move(**result));
            },
            Qt::QueuedConnection);
        carrier->moveToThread(&m_thread);
        post([this, carrier, result, query = std::move(query)] {
            *result = query(connection());
            delete carrier; // lives on this thread: deleting it here emits destroyed()
        });
    }

    // A read-write connection of its own, for the rare writes the window makes to the log
    // (clearing it); opened and closed by the caller on the worker thread.
    [[nodiscard]] static sqlite3 *openReadWrite(const QString &path, QString *error);

    // Blocks until every query submitted so far has run (tests).
    void waitForIdle();

private:
    void post(std::function<void()> job);
    sqlite3 *connection(); // worker thread only
    QString m_path;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread
    sqlite3 *m_db = nullptr; // worker thread only
    bool m_openFailed = false;
};

// RAII for a prepared statement on the worker's connection.
class Query
{
public:
    Query(sqlite3 *db, const char *sql);
    ~Query();
    Query(const Query &) = delete;
    Query &operator=(const Query &) = delete;

    [[nodiscard]] bool ok() const { return m_stmt != nullptr; }
    [[nodiscard]] QString error() const;
    void bind(int index, qint64 value);
    void bind(int index, const QString &value);
    void bindNull(int index);
    [[nodiscard]] bool next(); // true while a row is available
    [[nodiscard]] bool done() const { return m_rc == 101 /* SQLITE_DONE */; }
    [[nodiscard]] qint64 integer(int column) const;
    [[nodiscard]] bool isNull(int column) const;
    [[nodiscard]] QString text(int column) const;
    // The column's UTF-8 bytes, valid until the next step.
    [[nodiscard]] const unsigned char *rawText(int column) const;
    [[nodiscard]] int bytes(int column) const;

private:
    sqlite3 *m_db;
    sqlite3_stmt *m_stmt = nullptr;
    int m_rc = 0;
};

} // namespace gh::ui
