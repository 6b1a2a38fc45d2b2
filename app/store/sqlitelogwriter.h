#pragma once
#include "store/storeinterfaces.h"
#include <functional>
#include <memory>

namespace gh {

// The SQLite back-end's request-log writer: one thread with its own connection that batches rows
// into transactions at most every batch window (default 100 ms), keeps the rollups and the prompt
// prefixes, writes and settles the pending rows (migration 8) and recovers them at open(). A batch
// that cannot be written goes back to the queue and is retried; records wait in memory, bounded by
// the buffer capacity (GATEHOUSE_LOG_BUFFER_ROWS), and are never dropped while it is open.
class SqliteLogWriter final : public RequestLogWriter
{
public:
    // Called from the writer thread (or the thread that noticed a health change): post and return.
    struct Events {
        std::function<void(int)> committed; // rows committed by one batch
        std::function<void()> healthChanged;
    };
    explicit SqliteLogWriter(Events events);
    ~SqliteLogWriter() override; // close()s
    SqliteLogWriter(const SqliteLogWriter &) = delete;
    SqliteLogWriter &operator=(const SqliteLogWriter &) = delete;

    // Opens the writer's connection to the migrated database at `path`, writes the rows of the last
    // run's journals the log lacks (RequestJournal), logs its pending rows at their reservation, and
    // starts the thread. False and *error on failure.
    [[nodiscard]] bool open(const QString &path, QString *error);
    // Writes every queued record (giving up after a few seconds while the log cannot be written),
    // stops the thread and closes the connection.
    void close();

    void append(const RequestRecord &record, std::function<void()> onDurable) override;
    void flush() override;
    [[nodiscard]] quint64 acceptedCount() const override;
    [[nodiscard]] quint64 committedCount() const override;
    [[nodiscard]] LogHealth health() const override;
    [[nodiscard]] bool isBufferFull() const override;
    void setBufferCapacity(int rows) override;
    void setBatchWindowMs(int ms) override;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace gh
