#pragma once
#include "store/batchedlogwriter.h"
#include <memory>

namespace gh {

// The SQLite back-end's request-log writer: BatchedLogWriter's thread and queue over a connection of
// its own, keeping the rollups and the prompt prefixes, writing and settling the pending rows
// (migration 8) and recovering them at open().
class SqliteLogWriter final : public BatchedLogWriter
{
public:
    using Events = BatchedLogWriter::Events;
    explicit SqliteLogWriter(Events events);
    ~SqliteLogWriter() override; // close()s

    // Stamped on the rows that carry no instance id (RequestRecord::instanceId); before open().
    void setInstanceId(const QString &id);
    // Opens the writer's connection to the migrated database at `path`, writes the rows of the last
    // run's journals the log lacks (RequestJournal), logs its pending rows at their reservation, and
    // starts the thread. False and *error on failure.
    [[nodiscard]] bool open(const QString &path, QString *error);
    // Writes every queued record (giving up after a few seconds while the log cannot be written),
    // stops the thread and closes the connection.
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace gh
