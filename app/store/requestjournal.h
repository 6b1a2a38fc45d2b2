#pragma once
#include "store/requestrecord.h"
#include <QByteArray>
#include <QString>
#include <deque>
#include <functional>
#include <vector>

namespace gh {

// The request journal: what makes "nothing answered is lost" cheap.
//
// Before a response's last bytes (or a stream's first) go to the client, the thread that answers
// appends the request's row to its own journal file with one write(). Once write() returns, the row
// is in the kernel's page cache, which outlives the process (kill -9, a crash): the kernel writes it
// out whether or not the process still exists. The response goes out at once; the row reaches
// SQLite with the next group commit of the log writer, off the request's path. Waiting for that
// commit instead cost about 0.19 ms a request at one connection and halved requests/s there
// (BENCHMARKS.md). Like SQLite's synchronous=NORMAL, a power cut may lose the last rows.
//
// At the next start the store replays every journal no running process holds: rows not yet in the
// log are written, pending rows (a stream's reservation) are recovered at their reservation, and the
// files are removed. Replay is idempotent (rows already logged are skipped), so a journal is never
// wrong to keep: a file is removed only once the log has committed every row in it.
//
// One journal a worker thread: no lock on the request path. Files are named
// `<tag>-<pid>-<n>.journal`; each is held with an exclusive advisory lock while its process lives, so a
// second process on the same data never replays a live one's rows.
class RequestJournal
{
public:
    // How far the request log has got: records accepted, and records committed (never counting
    // records given up on). Both only grow. The journal keeps a file until every record that had
    // been accepted when the file was closed is committed.
    struct LogProgress {
        std::function<quint64()> accepted;
        std::function<quint64()> committed;
        std::function<void()> flush; // waits for the log to commit what it has (at the journal's end)
    };

    // Opens a new journal file in `dir` (created when missing). `tag` names the thread ("w0", "w1").
    // isOpen() is false when the file cannot be created: callers then wait for the log's commit.
    RequestJournal(const QString &dir, const QString &tag, LogProgress progress);
    ~RequestJournal(); // removes the files whose rows the log has committed; keeps the others
    RequestJournal(const RequestJournal &) = delete;
    RequestJournal &operator=(const RequestJournal &) = delete;

    // Where the journals of the database at `databasePath` live: "<database>.journal.d" beside it.
    [[nodiscard]] static QString dirFor(const QString &databasePath);

    [[nodiscard]] bool isOpen() const { return m_fd >= 0; }
    [[nodiscard]] QString currentPath() const { return m_path; }

    // Appends the record; true once the kernel has it. False when it cannot be written (disk full,
    // the folder gone or read-only): the caller must then not answer before the log has the row.
    [[nodiscard]] bool append(const RequestRecord &record);

    // Starts a new file after this many bytes; the old one goes once the log has committed it.
    void setRotateBytes(qint64 bytes) { m_rotateBytes = bytes; }

    // --- the record format, and replay ---
    // One record: "GHJ1", payload length (u32 LE), XXH3-64 of the payload (u64 LE), the payload.
    [[nodiscard]] static QByteArray encode(const RequestRecord &record);
    struct ReadResult {
        std::vector<RequestRecord> records;
        bool tornTail = false; // the file ends in a partial or damaged record (ignored)
    };
    [[nodiscard]] static ReadResult decodeAll(const QByteArray &file);

    // The journal files in `dir` that no running process holds, oldest first, each locked by the
    // returned handle until it is released (closed, and the file removed when `remove`).
    struct Orphan {
        QString path;
        int fd = -1;
    };
    [[nodiscard]] static std::vector<Orphan> claimOrphans(const QString &dir);
    static void release(Orphan &orphan, bool remove);

private:
    bool openNext();
    void sealCurrent();
    void removeCommitted();

    QString m_dir;
    QString m_tag;
    LogProgress m_progress;
    int m_fd = -1;
    QString m_path;
    qint64 m_bytes = 0;
    qint64 m_rotateBytes = 8 * 1024 * 1024;
    int m_next = 0;
    // Closed files, waiting until the log has committed every record accepted when they closed.
    struct Sealed {
        QString path;
        int fd = -1; // still locked: not an orphan for another process's replay
        quint64 until = 0;
    };
    std::deque<Sealed> m_sealed;
};

} // namespace gh
