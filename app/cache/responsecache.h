#pragma once
#include "core/money.h"
#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace gh {

namespace store {
class ResponseCacheStore;
struct StoredAnswer;
}

// An answer as the client received it, ready to be replayed.
struct CachedAnswer {
    bool stream = false;          // the SSE bytes of a stream (replayed as they are), else a JSON body
    QByteArray contentType;
    QByteArray body;              // uncompressed
    QString modelId;              // the target that produced it
    QString provider;
    QString upstreamModel;
    std::optional<NanoUsd> cost;  // what it cost when bought; std::nullopt: unpriced
    qint64 keyId = 0;             // the key whose request filled it ("delete everything about a key")
    qint64 createdMs = 0;
    qint64 expiresMs = 0;
};

// The exact-match response cache (docs/response-cache.md). Every entry lives in memory as a zstd
// frame, so a lookup never waits for the disk (GUIDE §2); a writer thread of its own copies puts,
// touches and evictions to response-cache.db in batches, and open() loads what was stored. The
// memory held is bounded by the size cap, which counts compressed bytes.
// Thread-safe: the gateway's workers share one instance.
class ResponseCache
{
public:
    using Clock = std::function<qint64()>; // ms since the epoch; tests pass a fake one
    explicit ResponseCache(Clock clock = {});
    ~ResponseCache();
    ResponseCache(const ResponseCache &) = delete;
    ResponseCache &operator=(const ResponseCache &) = delete;

    // Opens the file and loads its unexpired answers (the least recently used dropped past the cap).
    // An empty path: memory only. false with *error when the file cannot be used; the cache then
    // works in memory only.
    bool open(const QString &path, qint64 maxBytes, QString *error = nullptr);
    void setMaxBytes(qint64 maxBytes);
    // The answer stored under `key` when it has not expired; it becomes the most recently used.
    [[nodiscard]] std::optional<CachedAnswer> lookup(const QByteArray &key);
    // Stores (or replaces) an answer for ttlMs. An answer larger than a quarter of the cap once
    // compressed is not stored (it would push out many others). false when not stored.
    bool insert(const QByteArray &key, const CachedAnswer &answer, qint64 ttlMs);
    // Drops every entry, in memory and in the file.
    void clear();
    // Drops every entry a key's request filled (a shared one included); how many.
    qint64 removeKey(qint64 keyId);
    // Waits until everything inserted so far is in the file (tests, shutdown).
    void flush();

    struct Stats {
        qint64 entries = 0;
        qint64 bytes = 0;     // compressed, what the cap counts
        qint64 rawBytes = 0;  // uncompressed
        qint64 evictions = 0; // dropped by the cap since start
    };
    [[nodiscard]] Stats stats() const;

    // zstd, exposed for the tests and the bench.
    [[nodiscard]] static QByteArray compress(QByteArrayView raw);
    [[nodiscard]] static std::optional<QByteArray> decompress(QByteArrayView frame, qint64 rawBytes);

private:
    struct Entry {
        QByteArray key;
        QByteArray meta;
        QByteArray frame;
        qint64 rawBytes = 0;
        qint64 createdMs = 0;
        qint64 expiresMs = 0;
        qint64 lastUsedMs = 0;
    };
    using Lru = std::list<Entry>; // front: least recently used
    void insertLocked(Entry e);   // m_mutex held
    void evictLocked();           // m_mutex held
    void removeLocked(Lru::iterator it, bool evicted);
    void writerLoop();
    [[nodiscard]] qint64 now() const;

    Clock m_clock;
    mutable QMutex m_mutex;
    Lru m_lru;
    QHash<QByteArray, Lru::iterator> m_index;
    qint64 m_bytes = 0;
    qint64 m_rawBytes = 0;
    qint64 m_evictions = 0;
    qint64 m_maxBytes = 256LL * 1024 * 1024;

    // The writer thread's queue.
    std::mutex m_queueMutex;
    std::condition_variable m_queueCv;
    std::condition_variable m_flushedCv;
    QList<Entry> m_puts;
    QHash<QByteArray, qint64> m_touches;
    QList<QByteArray> m_removes;
    bool m_clearAll = false;
    bool m_stop = false;
    quint64 m_queued = 0;  // batches handed to the writer
    quint64 m_written = 0; // batches it finished
    std::unique_ptr<store::ResponseCacheStore> m_file;
    std::thread m_writer;
};

} // namespace gh
