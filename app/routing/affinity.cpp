#include "routing/affinity.h"
#include <algorithm>
#include <QMutexLocker>
#include <QtEndian>

namespace gh {

size_t qHash(const AffinityTable::Key &k, size_t seed) noexcept
{
    return qHashMulti(seed, k.keyId, k.prefixHash, k.route);
}

AffinityTable::AffinityTable(qint64 ttlMs, int capacity)
    : m_ttlMs(std::max<qint64>(0, ttlMs))
    , m_capacity(std::max(1, capacity))
{ }

std::optional<QString> AffinityTable::lookup(qint64 keyId, const QString &route, quint64 prefixHash, qint64 nowMs)
{
    const Key key{keyId, prefixHash, route};
    QMutexLocker lock(&m_mutex);
    auto it = m_index.find(key);
    if (it == m_index.end())
        return std::nullopt;
    auto entry = *it;
    if (nowMs - entry->lastUsedMs > m_ttlMs) {
        m_lru.erase(entry);
        m_index.erase(it);
        return std::nullopt;
    }
    entry->lastUsedMs = std::max(entry->lastUsedMs, nowMs);
    m_lru.splice(m_lru.begin(), m_lru, entry);
    return entry->modelId;
}

void AffinityTable::remember(
    qint64 keyId, const QString &route, quint64 prefixHash, const QString &modelId, qint64 nowMs)
{
    const Key key{keyId, prefixHash, route};
    QMutexLocker lock(&m_mutex);
    if (auto it = m_index.find(key); it != m_index.end()) {
        auto entry = *it;
        entry->modelId = modelId;
        entry->lastUsedMs = std::max(entry->lastUsedMs, nowMs);
        m_lru.splice(m_lru.begin(), m_lru, entry);
        return;
    }
    // Expired entries at the cold end go first, then the least recently used one when still full.
    while (!m_lru.empty() && nowMs - m_lru.back().lastUsedMs > m_ttlMs) {
        m_index.remove(m_lru.back().key);
        m_lru.pop_back();
    }
    while (qsizetype(m_lru.size()) >= m_capacity) {
        m_index.remove(m_lru.back().key);
        m_lru.pop_back();
    }
    m_lru.push_front(Entry{key, modelId, nowMs});
    m_index.insert(key, m_lru.begin());
}

void AffinityTable::forgetTarget(const QString &modelId)
{
    QMutexLocker lock(&m_mutex);
    for (auto it = m_lru.begin(); it != m_lru.end();) {
        if (it->modelId == modelId) {
            m_index.remove(it->key);
            it = m_lru.erase(it);
        } else {
            ++it;
        }
    }
}

int AffinityTable::size() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_lru.size());
}

void AffinityTable::clear()
{
    QMutexLocker lock(&m_mutex);
    m_lru.clear();
    m_index.clear();
}

} // namespace gh
