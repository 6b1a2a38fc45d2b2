#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <QByteArray>
#include <QHash>
#include <QString>
#include <thread>
#include <vector>

namespace gh {

namespace store {
class CaptureStore;
}

// One exchange of a key that captures bodies (docs/capture.md), as the request path hands it over:
// raw bytes, nothing done to them yet.
struct CapturedExchange {
    QString requestId;
    qint64 keyId = 0;
    QString keyName;
    qint64 startedAtMs = 0;
    int retentionDays = 0;
    QByteArray request; // the body as forwarded (a redacting key's redactions made)
    QByteArray response; // what the client received (a stream's events as sent)
    QByteArray responseType;
    bool responseCut = false; // the response was longer than kMaxBodyBytes: its start only
};

// A captured exchange read back, decompressed.
struct CapturedBodies {
    QString requestId;
    QString keyName;
    qint64 startedAtMs = 0;
    qint64 expiresAtMs = 0;
    QByteArray request;
    QByteArray response;
    QString responseType;
    QString note;
};

// Opt-in capture of request and response bodies: captures.db in the data folder
// (store/capturestore.h), written by a thread of its own. The request path only queues the bytes
// (submit() copies nothing: the byte arrays are implicitly shared); the thread scans both bodies
// with the secret rules and replaces every finding by its placeholder (whatever the key's
// secret_scan: no secret the rules recognise is ever written, even under "warn" or "off"), then
// compresses them (zstd) and inserts them in batches. The queue is bounded by kMaxQueuedBytes:
// beyond it an exchange is not captured (counted in dropped()), so a burst of huge bodies never
// holds unbounded memory. The retention sweep runs at open() and then every hour.
// Thread-safe.
class BodyCapture
{
public:
    static constexpr qsizetype kMaxBodyBytes = 4 * 1024 * 1024; // per body, uncompressed
    static constexpr qsizetype kMaxQueuedBytes = 64 * 1024 * 1024;
    using Clock = std::function<qint64()>; // ms since the epoch; tests pass a fake one

    explicit BodyCapture(Clock clock = {});
    ~BodyCapture(); // writes what is queued, then stops
    BodyCapture(const BodyCapture &) = delete;
    BodyCapture &operator=(const BodyCapture &) = delete;

    // Opens (creating) the file and starts the thread; false with *error when it cannot be used
    // (nothing is captured then).
    bool open(const QString &path, QString *error);
    // The keys' retention now (key id → days), for the sweep; keys not in it keep each row's own expiry.
    void setRetention(const QHash<qint64, int> &days);
    void submit(CapturedExchange exchange);
    // Runs the retention sweep now and waits for it; the rows deleted.
    qint64 sweepNow();
    // Waits until everything submitted so far is written.
    void flush();
    [[nodiscard]] qint64 dropped() const;

    // The file in a data folder: captures.db.
    [[nodiscard]] static QString pathIn(const QString &dataDir);
    // Reads a capture back from the file at `path` (any thread, its own connection).
    [[nodiscard]] static std::optional<CapturedBodies> read(const QString &path, const QString &requestId);
    // Deletes every capture of a key from the file at `path`; the rows deleted, -1 (and *error) on failure.
    static qint64 deleteKey(const QString &path, qint64 keyId, QString *error);
    // Every secret the built-in rules find in `body` replaced by its placeholder; false when one
    // cannot be replaced without breaking the JSON (the body must then not be kept).
    [[nodiscard]] static bool redact(QByteArray *body);

private:
    void run();
    [[nodiscard]] qint64 now() const;

    Clock m_clock;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::condition_variable m_doneCv;
    std::vector<CapturedExchange> m_queue;
    qsizetype m_queuedBytes = 0;
    QHash<qint64, int> m_retention;
    qint64 m_dropped = 0;
    quint64 m_submitted = 0;
    quint64 m_written = 0;
    quint64 m_sweepsAsked = 0;
    quint64 m_sweepsDone = 0;
    qint64 m_lastSweepDeleted = 0;
    bool m_stop = false;
    std::unique_ptr<store::CaptureStore> m_file;
    std::thread m_thread;
};

} // namespace gh
