#include "cache/responsecache.h"
#include "core/logging.h"
#include "store/responsecachestore.h"
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <zstd.h>

namespace gh {

namespace {

// Level 3, zstd's default: a 20 KB chat answer compresses in about 0.1 ms (bench/responsecache_bench).
constexpr int kZstdLevel = 3;

QByteArray encodeMeta(const CachedAnswer &a)
{
    QJsonObject o{{QStringLiteral("stream"), a.stream},
                  {QStringLiteral("content_type"), QString::fromLatin1(a.contentType)},
                  {QStringLiteral("model_id"), a.modelId},
                  {QStringLiteral("provider"), a.provider},
                  {QStringLiteral("upstream_model"), a.upstreamModel}};
    if (a.cost)
        o.insert(QStringLiteral("cost_nano_usd"), QString::number(*a.cost)); // as text: exact beyond 2^53
    if (a.keyId != 0)
        o.insert(QStringLiteral("key_id"), QString::number(a.keyId));
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

bool decodeMeta(const QByteArray &meta, CachedAnswer *a)
{
    const QJsonObject o = QJsonDocument::fromJson(meta).object();
    if (o.isEmpty())
        return false;
    a->stream = o.value(QLatin1String("stream")).toBool();
    a->contentType = o.value(QLatin1String("content_type")).toString().toLatin1();
    a->modelId = o.value(QLatin1String("model_id")).toString();
    a->provider = o.value(QLatin1String("provider")).toString();
    a->upstreamModel = o.value(QLatin1String("upstream_model")).toString();
    a->keyId = o.value(QLatin1String("key_id")).toString().toLongLong();
    const QJsonValue cost = o.value(QLatin1String("cost_nano_usd"));
    if (cost.isString()) {
        bool ok = false;
        const qint64 v = cost.toString().toLongLong(&ok);
        if (!ok || v < 0)
            return false;
        a->cost = v;
    }
    return true;
}

} // namespace

ResponseCache::ResponseCache(Clock clock)
    : m_clock(std::move(clock))
{
}

ResponseCache::~ResponseCache()
{
    {
        std::lock_guard lock(m_queueMutex);
        m_stop = true;
    }
    m_queueCv.notify_all();
    if (m_writer.joinable())
        m_writer.join();
}

qint64 ResponseCache::now() const
{
    return m_clock ? m_clock() : QDateTime::currentMSecsSinceEpoch();
}

QByteArray ResponseCache::compress(QByteArrayView raw)
{
    QByteArray out(qsizetype(ZSTD_compressBound(size_t(raw.size()))), Qt::Uninitialized);
    const size_t n = ZSTD_compress(out.data(), size_t(out.size()), raw.data(), size_t(raw.size()), kZstdLevel);
    if (ZSTD_isError(n))
        return {};
    out.resize(qsizetype(n));
    return out;
}

std::optional<QByteArray> ResponseCache::decompress(QByteArrayView frame, qint64 rawBytes)
{
    const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), size_t(frame.size()));
    if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN || qint64(declared) != rawBytes)
        return std::nullopt;
    QByteArray out(qsizetype(rawBytes), Qt::Uninitialized);
    const size_t n = ZSTD_decompress(out.data(), size_t(out.size()), frame.data(), size_t(frame.size()));
    if (ZSTD_isError(n) || qint64(n) != rawBytes)
        return std::nullopt;
    return out;
}

bool ResponseCache::open(const QString &path, qint64 maxBytes, QString *error)
{
    {
        QMutexLocker lock(&m_mutex);
        m_maxBytes = maxBytes;
    }
    if (path.isEmpty())
        return true;
    auto file = std::make_unique<store::ResponseCacheStore>();
    QString why;
    if (!file->open(path, &why)) {
        qCWarning(lcGateway) << "response cache: cannot use" << path << ":" << why << "(answers are kept in memory only)";
        if (error)
            *error = why;
        return false;
    }
    qint64 loaded = 0;
    m_file = std::move(file); // before loading: what the cap drops at load is removed from the file too
    {
        QMutexLocker lock(&m_mutex);
        m_file->loadAll(now(), [&](store::StoredAnswer &&a) {
            Entry e;
            e.key = std::move(a.key);
            e.meta = std::move(a.meta);
            e.frame = std::move(a.body);
            e.rawBytes = a.rawBytes;
            e.createdMs = a.createdMs;
            e.expiresMs = a.expiresMs;
            e.lastUsedMs = a.lastUsedMs;
            insertLocked(std::move(e));
            ++loaded;
        });
    }
    m_writer = std::thread([this] { writerLoop(); });
    qCInfo(lcGateway) << "response cache:" << loaded << "answers loaded from" << path;
    return true;
}

void ResponseCache::setMaxBytes(qint64 maxBytes)
{
    QMutexLocker lock(&m_mutex);
    m_maxBytes = maxBytes;
    evictLocked();
}

void ResponseCache::removeLocked(Lru::iterator it, bool evicted)
{
    m_bytes -= it->frame.size() + it->meta.size();
    m_rawBytes -= it->rawBytes;
    if (evicted)
        ++m_evictions;
    if (m_file) {
        std::lock_guard q(m_queueMutex);
        m_removes.append(it->key);
        m_touches.remove(it->key);
    }
    m_index.remove(it->key);
    m_lru.erase(it);
}

void ResponseCache::evictLocked()
{
    while (m_bytes > m_maxBytes && !m_lru.empty())
        removeLocked(m_lru.begin(), true);
    if (m_file)
        m_queueCv.notify_one();
}

void ResponseCache::insertLocked(Entry e)
{
    if (auto old = m_index.constFind(e.key); old != m_index.cend())
        removeLocked(*old, false);
    m_bytes += e.frame.size() + e.meta.size();
    m_rawBytes += e.rawBytes;
    // Loaded in LRU order, inserted as most recent: the order in the file is kept.
    m_lru.push_back(std::move(e));
    m_index.insert(m_lru.back().key, std::prev(m_lru.end()));
    evictLocked();
}

std::optional<CachedAnswer> ResponseCache::lookup(const QByteArray &key)
{
    Entry copy;
    const qint64 t = now();
    {
        QMutexLocker lock(&m_mutex);
        const auto found = m_index.constFind(key);
        if (found == m_index.cend())
            return std::nullopt;
        Lru::iterator it = *found;
        if (it->expiresMs <= t) {
            removeLocked(it, false);
            if (m_file)
                m_queueCv.notify_one();
            return std::nullopt;
        }
        it->lastUsedMs = t;
        m_lru.splice(m_lru.end(), m_lru, it); // most recently used
        copy = *it; // implicitly shared byte arrays: no copy of the frame
        if (m_file) {
            std::lock_guard q(m_queueMutex);
            m_touches.insert(key, t);
        }
    }
    CachedAnswer a;
    const std::optional<QByteArray> body = decompress(copy.frame, copy.rawBytes);
    if (!body || !decodeMeta(copy.meta, &a)) {
        // A damaged entry is a miss, and is dropped: never a wrong or a broken answer.
        qCWarning(lcGateway) << "response cache: a stored answer cannot be read; dropped";
        QMutexLocker lock(&m_mutex);
        if (auto again = m_index.constFind(key); again != m_index.cend())
            removeLocked(*again, false);
        return std::nullopt;
    }
    a.body = *body;
    a.createdMs = copy.createdMs;
    a.expiresMs = copy.expiresMs;
    return a;
}

bool ResponseCache::insert(const QByteArray &key, const CachedAnswer &answer, qint64 ttlMs)
{
    Entry e;
    e.key = key;
    e.meta = encodeMeta(answer);
    e.frame = compress(answer.body);
    if (e.frame.isEmpty() && !answer.body.isEmpty())
        return false;
    e.rawBytes = answer.body.size();
    e.createdMs = now();
    e.lastUsedMs = e.createdMs;
    e.expiresMs = e.createdMs + ttlMs;
    QMutexLocker lock(&m_mutex);
    if ((e.frame.size() + e.meta.size()) * 4 > m_maxBytes)
        return false;
    if (m_file) {
        std::lock_guard q(m_queueMutex);
        m_puts.append(e);
        m_touches.remove(key);
    }
    insertLocked(std::move(e));
    return true;
}

void ResponseCache::clear()
{
    QMutexLocker lock(&m_mutex);
    m_lru.clear();
    m_index.clear();
    m_bytes = 0;
    m_rawBytes = 0;
    if (m_file) {
        std::lock_guard q(m_queueMutex);
        m_puts.clear();
        m_touches.clear();
        m_removes.clear();
        m_clearAll = true;
    }
    m_queueCv.notify_one();
}

qint64 ResponseCache::removeKey(qint64 keyId)
{
    if (keyId == 0)
        return 0;
    QMutexLocker lock(&m_mutex);
    qint64 removed = 0;
    for (auto it = m_lru.begin(); it != m_lru.end();) {
        CachedAnswer a;
        const auto next = std::next(it);
        if (decodeMeta(it->meta, &a) && a.keyId == keyId) {
            removeLocked(it, false);
            ++removed;
        }
        it = next;
    }
    if (m_file)
        m_queueCv.notify_one();
    return removed;
}

void ResponseCache::flush()
{
    if (!m_file)
        return;
    std::unique_lock q(m_queueMutex);
    ++m_queued;
    const quint64 target = m_queued;
    m_queueCv.notify_one();
    m_flushedCv.wait(q, [&] { return m_written >= target || m_stop; });
}

ResponseCache::Stats ResponseCache::stats() const
{
    QMutexLocker lock(&m_mutex);
    return {qint64(m_index.size()), m_bytes, m_rawBytes, m_evictions};
}

void ResponseCache::writerLoop()
{
    for (;;) {
        QList<Entry> puts;
        QHash<QByteArray, qint64> touches;
        QList<QByteArray> removes;
        bool clearAll = false;
        quint64 batch = 0;
        {
            std::unique_lock q(m_queueMutex);
            m_queueCv.wait(q, [&] {
                return m_stop || m_clearAll || !m_puts.isEmpty() || !m_removes.isEmpty() || m_queued > m_written
                    || m_touches.size() >= 64;
            });
            if (m_stop && m_puts.isEmpty() && m_removes.isEmpty() && m_touches.isEmpty() && !m_clearAll)
                break;
            puts.swap(m_puts);
            touches.swap(m_touches);
            removes.swap(m_removes);
            clearAll = std::exchange(m_clearAll, false);
            batch = m_queued;
        }
        if (clearAll) {
            // Every key the file holds: loadAll() with the clock at 0 expires nothing.
            QList<QByteArray> all;
            m_file->loadAll(0, [&](store::StoredAnswer &&a) { all.append(a.key); });
            removes = all + removes;
        }
        // A put and a remove of the same key in one batch: the later one wins. Removes run after
        // puts in apply(), so a key put again after its removal is dropped from the removes.
        QList<store::StoredAnswer> rows;
        rows.reserve(puts.size());
        QSet<QByteArray> put;
        for (qsizetype i = puts.size() - 1; i >= 0; --i) {
            const Entry &e = puts.at(i);
            if (put.contains(e.key))
                continue;
            put.insert(e.key);
            rows.append({e.key, e.createdMs, e.expiresMs, e.lastUsedMs, e.rawBytes, e.meta, e.frame});
        }
        QList<QByteArray> removed;
        {
            QMutexLocker lock(&m_mutex);
            for (const QByteArray &k : removes) {
                if (!m_index.contains(k)) // still absent in memory: gone for good
                    removed.append(k);
            }
            // A put whose entry was removed meanwhile is not written.
            rows.removeIf([&](const store::StoredAnswer &a) { return !m_index.contains(a.key); });
        }
        QList<QPair<QByteArray, qint64>> touched;
        for (auto it = touches.cbegin(); it != touches.cend(); ++it)
            touched.append({it.key(), it.value()});
        QString error;
        if ((!rows.isEmpty() || !touched.isEmpty() || !removed.isEmpty()) && !m_file->apply(rows, touched, removed, &error))
            qCWarning(lcGateway) << "response cache: writing to its file failed:" << error << "(the answers stay in memory)";
        {
            std::lock_guard q(m_queueMutex);
            m_written = qMax(m_written, batch);
        }
        m_flushedCv.notify_all();
    }
    std::lock_guard q(m_queueMutex);
    m_written = m_queued;
    m_flushedCv.notify_all();
}

} // namespace gh
