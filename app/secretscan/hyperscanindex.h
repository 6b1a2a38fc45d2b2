#pragma once
#include <QByteArray>
#include <QString>
#include <QStringList>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace gh {

// Where, in one pass over a text, the secret rules can match and the rules' keywords occur:
// Hyperscan (or Vectorscan, same API) over every rule's whole regex and every keyword, compiled
// into one database. Only built when Gatehouse is configured with it (GATEHOUSE_HYPERSCAN); RE2
// still decides every match: this only tells SecretRules where RE2 needs to look.
//
// What it promises, per rule it covers: every match of the rule's regex in the text (as RE2 finds
// it, with the whole text as context) ends at an offset Hyperscan reports, since it reports every end
// offset at which some match of the exact regex ends. For a rule whose matches have a bounded width
// (most gitleaks rules) the index turns each end into the span [end - max width, end], sorted and
// merged; for an unbounded one it gives the ends, and the caller finds their starts
// (regexreverse.h). Hyperscan's syntax is a superset of the RE2 syntax the rules use, and where their
// semantics differ Hyperscan only reports more ends (\s also takes \v, $ also before a final \n).
// A rule Hyperscan refuses is reported by coversRule() and left to RE2 alone.
//
// Not used: HS_FLAG_SOM_LEFTMOST (start of match) for the unbounded rules. Hyperscan refuses it for
// generic-api-key and five others ("Pattern is too large"); with the counted repeats opened up it
// compiles, but made the 100 KB scan 8x slower (0.22 -> 1.8 ms) and the compile 1 -> 5 s.
class HyperscanIndex
{
public:
    ~HyperscanIndex();
    HyperscanIndex(const HyperscanIndex &) = delete;
    HyperscanIndex &operator=(const HyperscanIndex &) = delete;

    struct Span {
        size_t begin = 0;
        size_t end = 0; // exclusive
    };
    struct Matches {
        std::vector<std::vector<Span>> rules;             // per bounded rule: spans holding every match
        std::vector<std::vector<size_t>> unboundedEnds;   // per unbounded rule: every match end, ascending
        std::vector<std::vector<size_t>> keywordStarts;  // per keyword index, ascending
        // Which of the lists above are not empty (each index once, in no particular order): a scan
        // clears and sorts only these, and a caller visits only these, so the work around the pass
        // follows what matched rather than the number of rules and keywords (a 2 KB prompt matches
        // a handful of the 224 rules' lists and 300 keywords'; visiting them all was a third of its
        // scan, BENCHMARKS.md).
        std::vector<int> touchedRules;
        std::vector<int> touchedUnbounded;
        std::vector<int> touchedKeywords;
    };

    // Compiles the rules' regexes (an empty one: a rule left to RE2) and the keywords (lower case, matched caseless). With cacheDir,
    // the database is read from / written to a file there keyed by a hash of every pattern, its flags
    // and the library's version (a compile takes seconds, reading it back milliseconds).
    // nullptr when the library cannot run on this CPU or refuses the whole set; *notes says why and
    // which rules are left to RE2.
    [[nodiscard]] static std::unique_ptr<HyperscanIndex> build(const std::vector<QByteArray> &ruleRegexes,
                                                               const std::vector<QByteArray> &keywords,
                                                               const QString &cacheDir, QStringList *notes);

    // Thread-safe: each call takes a scratch from a pool (cloned on first need per concurrent caller).
    // false when the scan failed (the caller falls back to RE2 alone).
    [[nodiscard]] bool scan(std::string_view text, Matches *out) const;

    [[nodiscard]] bool coversRule(int rule) const;
    [[nodiscard]] bool unbounded(int rule) const; // its matches are reported as ends, not spans
    [[nodiscard]] bool fromCache() const;   // the database was read from cacheDir, not compiled
    [[nodiscard]] static QString version(); // "Hyperscan 5.4.0 ..."

private:
    HyperscanIndex();
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace gh
