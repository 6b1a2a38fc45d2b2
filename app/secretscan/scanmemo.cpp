#include "secretscan/scanmemo.h"
#include <xxhash.h>
#ifdef GH_XXHASH_DISPATCH
#include <xxh_x86dispatch.h>
#endif

namespace gh {

ScanMemo::Key ScanMemo::keyOf(QByteArrayView text, quint64 scanner)
{
#ifdef GH_XXHASH_DISPATCH
    const XXH128_hash_t h = XXH3_128bits_dispatch(text.data(), size_t(text.size()));
#else
    const XXH128_hash_t h = XXH3_128bits(text.data(), size_t(text.size()));
#endif
    return Key{h.low64, h.high64, quint64(text.size()), scanner};
}

size_t ScanMemo::entryBytes(const QList<SecretFinding> &findings)
{
    // A list node (two pointers and the entry), a hash table node and bucket, the findings' array.
    // The rule ids are shared with the rule set (QString's implicit sharing), not copied.
    return sizeof(Entry) + 2 * sizeof(void *) + sizeof(Key) + sizeof(Lru::iterator) + 3 * sizeof(void *)
        + size_t(findings.size()) * sizeof(SecretFinding);
}

std::optional<QList<SecretFinding>> ScanMemo::find(const Key &key)
{
    const auto it = m_map.find(key);
    if (it == m_map.end())
        return std::nullopt;
    if (it->second != m_lru.begin())
        m_lru.splice(m_lru.begin(), m_lru, it->second);
    return it->second->findings;
}

void ScanMemo::insert(const Key &key, const QList<SecretFinding> &findings)
{
    const size_t cost = entryBytes(findings);
    if (cost > m_budget)
        return; // a text with thousands of findings is not worth the others' room
    if (const auto it = m_map.find(key); it != m_map.end()) {
        m_bytes -= entryBytes(it->second->findings);
        m_lru.erase(it->second);
        m_map.erase(it);
    }
    while (!m_lru.empty() && m_bytes + cost > m_budget) {
        const Entry &last = m_lru.back();
        m_bytes -= entryBytes(last.findings);
        m_map.erase(last.key);
        m_lru.pop_back();
    }
    m_lru.push_front(Entry{key, findings});
    m_map.emplace(key, m_lru.begin());
    m_bytes += cost;
}

} // namespace gh
