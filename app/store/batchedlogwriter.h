#pragma once
#include "store/storeinterfaces.h"
#include <functional>
#include <memory>
#include <vector>

namespace gh {

// The request-log writer of every back-end: records are queued by append() and written by one thread
// in batches, at most every batch window (default 100 ms), at once when someone waits for them (a
// response held for its commit, flush(), close()). A batch that cannot be written goes back to the
// front of the queue and is retried with a growing delay; records wait in memory, bounded by the
// buffer capacity (GATEHOUSE_LOG_BUFFER_ROWS), and are never dropped while it is open. The back-end
// gives the Sink that writes one batch in one transaction (SqliteLogWriter, PgLogWriter).
class BatchedLogWriter : public RequestLogWriter
{
public:
    // Called from the writer thread (or the thread that noticed a health change): post and return.
    struct Events {
        std::function<void(int)> committed; // rows committed by one batch
        std::function<void()> healthChanged;
    };
    // Writes one batch in one transaction, from the writer thread: all of it (less rows it skips as
    // duplicates, *written the rows inserted) or none (false and *error; the batch is retried).
    class Sink
    {
    public:
        virtual ~Sink() = default;
        virtual bool writeBatch(const std::vector<RequestRecord> &batch, int *written, QString *error) = 0;
    };

    explicit BatchedLogWriter(Events events);
    ~BatchedLogWriter() override; // stop()s
    BatchedLogWriter(const BatchedLogWriter &) = delete;
    BatchedLogWriter &operator=(const BatchedLogWriter &) = delete;

    void append(const RequestRecord &record, std::function<void()> onDurable) override;
    void flush() override;
    [[nodiscard]] quint64 acceptedCount() const override;
    [[nodiscard]] quint64 committedCount() const override;
    [[nodiscard]] LogHealth health() const override;
    [[nodiscard]] bool isBufferFull() const override;
    void setBufferCapacity(int rows) override;
    void setBatchWindowMs(int ms) override;

protected:
    // Starts the writer thread on `sink`, which must stay valid until stop() returns.
    void start(Sink *sink);
    // Writes every queued record (giving up after a few seconds while the log cannot be written) and
    // stops the thread. Idempotent.
    void stop();
    [[nodiscard]] bool running() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace gh
