#pragma once
#include <QByteArray>
#include <QByteArrayView>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>
#include <memory>

namespace gh {

// One secret found in a text: which rule, and where the secret itself is (the rule's secret group
// when it has one, the whole match otherwise). Never the secret's bytes: a finding is what the
// request log keeps.
struct SecretFinding {
    QString ruleId;       // "aws-access-token", "gatehouse-card-number"
    qsizetype offset = 0; // byte offset in the scanned text
    qsizetype length = 0; // byte length of the secret
    friend bool operator==(const SecretFinding &, const SecretFinding &) = default;
};

// The secret patterns, compiled once and shared by every worker (RE2 matching is thread-safe on a
// const object). The data is gitleaks' published rule set converted to JSON
// (resources/secret-rules.json, scripts/secretrules/gitleaks-to-json.py) plus Gatehouse's own rules
// marked "origin": "gatehouse". Semantics follow gitleaks' detector:
//   - a rule runs only when one of its keywords occurs in the text (case-insensitive; a rule
//     without keywords always runs). The keywords are found in one pass by an RE2::Set;
//   - the secret is the rule's secretGroup, or its first non-empty capture group, or the match;
//   - a rule with an entropy threshold drops secrets whose Shannon entropy is not above it;
//   - the global and the rule's allowlists (regexes on the secret, the match or the line;
//     stopwords; "AND"/"OR") drop allowed secrets. Path and commit criteria do not apply to a prompt;
//   - "validate": "luhn" (ours) keeps only digit strings that pass the Luhn check.
// RE2 is linear in the text: no pattern can make a scan backtrack. Rules RE2 cannot compile are
// skipped and listed (skipped()).
//
// Where Gatehouse is built with Hyperscan (GATEHOUSE_HYPERSCAN), every rule's whole regex and every
// keyword are also compiled into one Hyperscan database, on a background thread (read back from the
// cache directory when an earlier run compiled the same patterns). Once it is ready a scan is one
// Hyperscan pass over the text, then RE2 only on the spans where a rule really matches
// (hyperscanindex.h); until then, or without it, RE2 alone. The findings are the same either way.
class SecretRules
{
public:
    enum class Engine {
        Fastest, // Hyperscan once its database is ready, where built with it; RE2 until then
        Re2,     // RE2 alone (the reference the other is tested against)
    };

    ~SecretRules();
    SecretRules(const SecretRules &) = delete;
    SecretRules &operator=(const SecretRules &) = delete;

    // Compiles a rule set from its JSON. nullptr (and *error) when the document is not a rule set at all.
    [[nodiscard]] static std::shared_ptr<const SecretRules> fromJson(const QByteArray &json, QString *error, Engine engine = Engine::Fastest);
    // The rule set carried in the binary (:/gatehouse/secret-rules.json), compiled on first use.
    [[nodiscard]] static std::shared_ptr<const SecretRules> builtin();

    // Whether a scan may answer from the findings of the same text scanned before (scanmemo.h).
    enum class Memo {
        Use,    // the request path: a resent body is not scanned again
        Bypass, // always scan (the bench, the engine comparisons)
    };

    // Every secret of `text`, by offset; overlapping findings are reduced to one (the longest,
    // a specific rule before a generic one). With Memo::Use, a text of at least kMemoMinBytes this
    // thread scanned before with this rule set and engine is answered from its earlier findings
    // (the same list: the scan is a function of the text, the rules and the engine).
    [[nodiscard]] QList<SecretFinding> scan(QByteArrayView text, Memo memo = Memo::Use) const;
    static constexpr qsizetype kMemoMinBytes = 256;

    [[nodiscard]] int ruleCount() const;          // rules compiled and in use
    [[nodiscard]] QStringList skipped() const;    // "rule-id: why" for each rule RE2 could not compile
    [[nodiscard]] QJsonObject source() const;     // the data's "source" (name, url, commit, date, license)
    [[nodiscard]] QString description(const QString &ruleId) const;

    // "hyperscan" when scans use the Hyperscan database, "re2" otherwise (not built with it, not
    // ready yet, refused, or Engine::Re2).
    [[nodiscard]] QString engine() const;
    // Waits up to msecs for the Hyperscan database (for tests and the bench); true when it is in use.
    bool waitForEngine(int msecs) const;
    // Where compiled Hyperscan databases are kept between runs (default: the user's cache
    // directory + "/gatehouse"); empty: not kept. Read when a rule set is built.
    static void setCacheDirectory(const QString &dir);

private:
    SecretRules();
    struct Private;
    std::unique_ptr<Private> d;
};

// Luhn's check over the digits of `text` (spaces and dashes ignored); false when it has fewer than
// 13 or more than 19 digits or any other character.
[[nodiscard]] bool passesLuhn(QByteArrayView text);

} // namespace gh
