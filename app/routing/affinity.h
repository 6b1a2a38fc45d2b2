#pragma once
#include <QHash>
#include <QMutex>
#include <QString>
#include <list>
#include <optional>

namespace gh {

// Prompt-cache affinity: which target last served a prompt prefix, so that the next request with
// the same prefix (same key, same route) goes there while it is healthy and the provider's prompt
// cache stays warm. Entries expire after `ttlMs` without use (provider caches live 5 to 60 minutes)
// and the least recently used entry goes first when `capacity` is reached. Thread-safe.
class AffinityTable
{
public:
    explicit AffinityTable(qint64 ttlMs = 60 * 60 * 1000, int capacity = 50'000);

    [[nodiscard]] std::optional<QString> lookup(qint64 keyId, const QString &route, quint64 prefixHash, qint64 nowMs);
    void remember(qint64 keyId, const QString &route, quint64 prefixHash, const QString &modelId, qint64 nowMs);
    // Drops every entry that points at the target (e.g. when it was removed from the route).
    void forgetTarget(const QString &modelId);
    [[nodiscard]] int size() const;
    void clear();

    struct Key {
        qint64 keyId = 0;
        quint64 prefixHash = 0;
        QString route;
        friend bool operator==(const Key &, const Key &) = default;
    };

private:
    struct Entry {
        Key key;
        QString modelId;
        qint64 lastUsedMs = 0;
    };
    mutable QMutex m_mutex;
    qint64 m_ttlMs;
    int m_capacity;
    std::list<Entry> m_lru; // most recently used first
    QHash<Key, std::list<Entry>::iterator> m_index;
};

size_t qHash(const AffinityTable::Key &k, size_t seed = 0) noexcept;

} // namespace gh
