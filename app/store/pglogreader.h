#pragma once
#include "store/pg.h"
#include "store/storeinterfaces.h"
#include <QString>
#include <atomic>
#include <mutex>

namespace gh {

// The PostgreSQL back-end's control-plane connection: reads and configuration writes from any
// thread, one at a time (they serialise on the mutex); owned by the Store. A connection the server
// dropped is reopened by the next call (pg::Connection::ensure).
struct PgControlConnection {
    mutable std::mutex mutex;
    mutable pg::Connection conn;
    bool open = false; // false while the store is closed: reads are then empty, writes fail
    // The server process of `conn` as of its last use, read without the mutex (PgConfigWatcher
    // ignores the notifications of this instance's own configuration writes by it).
    mutable std::atomic<int> backendPid{0};
    // Reconnects when needed (mutex held); false, with a warning naming `what`, when the server
    // cannot be reached.
    bool usable(const char *what) const;
};

// The PostgreSQL back-end's synchronous reads of the request log, on the control-plane connection.
class PgLogReader final : public RequestLogReader
{
public:
    explicit PgLogReader(PgControlConnection &connection) : m_conn(connection) {}
    [[nodiscard]] std::optional<RequestRecord> request(const QString &id) const override;
    [[nodiscard]] QList<AttemptRecord> attempts(const QString &requestId) const override;
    [[nodiscard]] qint64 requestCount() const override;
    [[nodiscard]] QList<RequestRecord> recentRequests(int limit, int offset) const override;
    [[nodiscard]] NanoUsd spendSince(qint64 keyId, qint64 sinceMs) const override;
    [[nodiscard]] QHash<qint64, KeyOvershoots> overshootsByKey() const override;
    bool clearLog(QString *error) override;
    bool forgetKey(qint64 keyId, ForgottenKey *counts, QString *error) override;

private:
    [[nodiscard]] QList<AttemptRecord> readAttempts(const QString &requestId) const; // mutex held
    PgControlConnection &m_conn;
};

} // namespace gh
