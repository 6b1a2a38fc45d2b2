#include "secretscan/scanmemo.h"
#include <QRandomGenerator>
#include <xxhash.h>
#ifdef GH_XXHASH_DISPATCH
#include <xxh_x86dispatch.h>
#endif

namespace gh {

namespace {

// XXH3 is fast, not collision-resistant against someone who knows its key: with the library's
// public default key a client could make two bodies with one hash, one clean and one holding a
// secret, and have the second answered as the first (a block or redact key letting a secret
// through). Keyed with random bytes drawn once per process, a hash cannot be aimed at.
struct HashKey {
    alignas(64) unsigned char bytes[192]; // XXH3's default key size (at least 136 bytes are needed)
    HashKey()
    {
        QRandomGenerator *rng = QRandomGenerator::system();
        for (unsigned char &b : bytes)
            b = static_cast<unsigned char>(rng->bounded(256));
    }
};

const HashKey &hashKey()
{
    static const HashKey key;
    return key;
}

} // namespace

ScanMemo::Key ScanMemo::keyOf(QByteArrayView text, quint64 scanner)
{
    const HashKey &k = hashKey();
#ifdef GH_XXHASH_DISPATCH
    const XXH128_hash_t h = XXH3_128bits_withSecret_dispatch(text.data(), size_t(text.size()), k.bytes, sizeof k.bytes);
#else
    const XXH128_hash_t h = XXH3_128bits_withSecret(text.data(), size_t(text.size()), k.bytes, sizeof k.bytes);
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
