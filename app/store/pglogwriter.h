#pragma once
#include "store/batchedlogwriter.h"
#include <memory>

namespace gh {

// The PostgreSQL back-end's request-log writer: BatchedLogWriter's thread and queue over a connection
// of its own. A batch is one transaction; a row whose id the log already has is skipped (a batch
// whose COMMIT reply was lost is retried without logging anything twice). While the server cannot be
// reached the rows wait in memory (BatchedLogWriter) and the connection is reopened before each retry.
// It keeps the rollups and prompt prefixes as SQLite's writer does (store/rollupdeltas.h), with
// additive upserts (several instances add to the same rows), and takes requests.seq in commit order
// under a lock all instances' writers share (store::postgres::kSeqLockKey).
class PgLogWriter final : public BatchedLogWriter
{
public:
    using Events = BatchedLogWriter::Events;
    explicit PgLogWriter(Events events);
    ~PgLogWriter() override; // close()s

    // Stamped on rows that carry no instance id; this instance's pending rows are the ones it
    // recovers at open() (other instances' belong to requests they may still be answering).
    void setInstanceId(const QString &id);
    // Connects to the migrated database at `url`, writes the rows of the last run's journals (in the
    // local folder `journalDir`) the log lacks, logs this instance's pending rows at their
    // reservation, and starts the thread. False and *error on failure.
    [[nodiscard]] bool open(const QString &url, const QString &journalDir, QString *error);
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace gh
