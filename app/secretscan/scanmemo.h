#pragma once
#include "secretscan/secretrules.h"
#include <QList>
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace gh {

// What a scan found in a text, remembered by the text's 128-bit hash (XXH3-128 under a random
// per-process key, see scanmemo.cpp) and the identity of
// the scan that found it (the rule set object and the engine it ran on). Agents and scripts resend
// byte-identical bodies (retries, the same prompt again, the Compare page's fan-out): a hit answers
// with the findings the scan gave that text, so a scan through the memo is the scan without it.
// A memo keeps no text: a key is two hashes plus a length, a value the findings (rule, offset,
// length). Least recently used entries go first once the entries' bytes pass the budget.
//
// Not thread-safe: SecretRules keeps one per thread (a worker never waits for another's lock).
class ScanMemo
{
public:
    struct Key {
        quint64 lo = 0, hi = 0;   // XXH3-128 of the text
        quint64 size = 0;         // the text's length
        quint64 scanner = 0;      // which rule set and engine (SecretRules' own id)
        friend bool operator==(const Key &, const Key &) = default;
    };

    explicit ScanMemo(size_t byteBudget) : m_budget(byteBudget) { }

    [[nodiscard]] static Key keyOf(QByteArrayView text, quint64 scanner);

    // The findings remembered under `key` (and the entry moves to the front), or nothing.
    [[nodiscard]] std::optional<QList<SecretFinding>> find(const Key &key);
    void insert(const Key &key, const QList<SecretFinding> &findings);

    [[nodiscard]] size_t bytes() const { return m_bytes; }
    [[nodiscard]] size_t size() const { return m_map.size(); }
    [[nodiscard]] size_t budget() const { return m_budget; }

    // What one entry costs, as counted against the budget: its node, its table slot, its findings.
    [[nodiscard]] static size_t entryBytes(const QList<SecretFinding> &findings);

private:
    struct KeyHash {
        size_t operator()(const Key &k) const noexcept { return size_t(k.lo ^ (k.scanner * 0x9E3779B97F4A7C15ull)); }
    };
    struct Entry {
        Key key;
        QList<SecretFinding> findings;
    };
    using Lru = std::list<Entry>; // front: most recently used
    Lru m_lru;
    std::unordered_map<Key, Lru::iterator, KeyHash> m_map;
    size_t m_bytes = 0;
    size_t m_budget = 0;
};

} // namespace gh
