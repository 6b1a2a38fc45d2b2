#pragma once
#include <QByteArray>
#include <QList>
#include <QString>
#include <functional>

struct sqlite3;

namespace gh::store {

// One stored answer of the response cache (cache/responsecache.h), as the file keeps it.
struct StoredAnswer {
    QByteArray key;        // SHA-256 of the normalized request (cache/requestkey.h)
    qint64 createdMs = 0;
    qint64 expiresMs = 0;
    qint64 lastUsedMs = 0; // the LRU order survives a restart
    qint64 rawBytes = 0;   // the answer's size before compression
    QByteArray meta;       // JSON written and read by the cache: model, provider, cost, content type...
    QByteArray body;       // zstd frame of the answer's bytes, as the client received them
};

// The response cache's file (response-cache.db in the data folder). Its own SQLite file rather than a
// table of gatehouse.db: the answers are large blobs that churn (LRU eviction deletes as fast as
// answers come), which would bloat and fragment the request log's file and compete with its single
// writer; and deleting this one file clears every stored prompt answer without touching the log.
// One thread uses an instance (the cache's writer thread); nothing here runs on the request path.
class ResponseCacheStore
{
public:
    ResponseCacheStore() = default;
    ~ResponseCacheStore();
    ResponseCacheStore(const ResponseCacheStore &) = delete;
    ResponseCacheStore &operator=(const ResponseCacheStore &) = delete;

    // Opens (creating when missing) and migrates the file; false with *error otherwise.
    bool open(const QString &path, QString *error);
    [[nodiscard]] bool isOpen() const { return m_db != nullptr; }
    // Every stored answer not expired at `nowMs`, least recently used first; expired ones are deleted.
    void loadAll(qint64 nowMs, const std::function<void(StoredAnswer &&)> &each);
    // One transaction: the answers put (replacing same keys), the keys touched, the keys removed.
    bool apply(const QList<StoredAnswer> &puts, const QList<QPair<QByteArray, qint64>> &touches,
               const QList<QByteArray> &removes, QString *error);

private:
    sqlite3 *m_db = nullptr;
};

} // namespace gh::store
