#pragma once
#include "store/logqueries.h"
#include <QObject>
#include <QThread>
#include <functional>
#include <memory>
#include <optional>

namespace gh {

// Runs the window's read queries off the UI thread: one worker thread with its own LogQueries (its
// own read-only connection: WAL lets it read while the gateway's writer commits), made by `open` on
// that thread at its first query. A query is a function of the LogQueries; its result is handed to
// `done` on the receiver's thread through a queued connection, and dropped when the receiver is
// gone by then. Queries run one after another in submission order.
class QueryRunner : public QObject
{
    Q_OBJECT
public:
    explicit QueryRunner(std::function<std::unique_ptr<LogQueries>()> open, QObject *parent = nullptr);
    ~QueryRunner() override; // waits for the running query, drops the queued ones

    // query: R(LogQueries &) runs on the worker thread; done: void(R) runs on receiver's thread.
    template <typename R> void run(QObject *receiver, std::function<R(LogQueries &)> query, std::function<void(R)> done)
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
            *result = query(queries());
            delete carrier; // lives on this thread: deleting it here emits destroyed()
        });
    }

    // Which instances' rows the queries submitted from now on read (LogQueries::setInstanceScope):
    // "" every instance's, else one instance's. Applied on the worker thread in submission order,
    // so a query queued before the call still reads the old scope; kept for a connection opened later.
    void setInstanceScope(const QString &instanceId);
    [[nodiscard]] QString instanceScope() const { return m_scope; }

    // Blocks until every query submitted so far has run (tests).
    void waitForIdle();

private:
    void post(std::function<void()> job);
    LogQueries &queries(); // worker thread only
    std::function<std::unique_ptr<LogQueries>()> m_open;
    QThread m_thread;
    QObject *m_worker = nullptr; // lives on m_thread
    std::unique_ptr<LogQueries> m_queries; // worker thread only
    QString m_scope; // submitting thread: the latest setInstanceScope()
    QString m_workerScope; // worker thread only: the scope applied to m_queries' next opening
};

} // namespace gh
