#pragma once
#include "store/storeinterfaces.h"
#include <QString>
#include <mutex>

struct sqlite3;

namespace gh {

// The SQLite back-end's control-plane connection: reads and configuration writes from any thread,
// one at a time (they serialise on the mutex); owned by the Store.
struct SqliteControlConnection {
    mutable std::mutex mutex;
    sqlite3 *db = nullptr; // nullptr while the store is closed: reads are then empty, writes fail
    QString path;          // the database file
};

// The SQLite back-end's synchronous reads of the request log, on the control-plane connection.
class SqliteLogReader final : public RequestLogReader
{
public:
    explicit SqliteLogReader(SqliteControlConnection &connection) : m_conn(connection) {}

    [[nodiscard]] std::optional<RequestRecord> request(const QString &id) const override;
    [[nodiscard]] QList<AttemptRecord> attempts(const QString &requestId) const override;
    [[nodiscard]] qint64 requestCount() const override;
    [[nodiscard]] QList<RequestRecord> recentRequests(int limit, int offset) const override;
    [[nodiscard]] NanoUsd spendSince(qint64 keyId, qint64 sinceMs) const override;
    [[nodiscard]] QHash<qint64, KeyOvershoots> overshootsByKey() const override;
    // On a connection of its own, so the control-plane one stays free while a large log is deleted.
    bool clearLog(QString *error) override;
    bool forgetKey(qint64 keyId, ForgottenKey *counts, QString *error) override;

private:
    [[nodiscard]] QList<AttemptRecord> readAttempts(const QString &requestId) const; // mutex held
    SqliteControlConnection &m_conn;
};

} // namespace gh
