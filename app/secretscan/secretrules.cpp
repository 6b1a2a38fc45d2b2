#include "secretscan/secretrules.h"
#include "core/logging.h"
#include "secretscan/hyperscanindex.h"
#include "secretscan/regexreverse.h"
#include "secretscan/scanmemo.h"
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <QStandardPaths>
#include <QtEndian>
#include <re2/re2.h>
#include <re2/set.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace gh {

namespace {

Q_LOGGING_CATEGORY(lcSecretScan, "gatehouse.secretscan", QtInfoMsg)

// RE2's budget per rule, most of it for the lazily built DFA: with 8 MiB the big rules
// (generic-api-key, sonar-api-token: counted repetitions under (?i)) kept filling their DFA cache on
// 100 KB of code and fell back to the NFA, 10x slower (bench/secretscan_bench). Memory is taken as
// states are built, not up front.
constexpr int64_t kRuleMaxMem = 64 << 20;
// A rule with keywords runs only near them, in windows from kBefore bytes before an occurrence of
// one of its keywords to kAfter bytes after it (overlapping windows merged): gitleaks' rules put the
// keyword inside the match, the longest of which (a PEM private key, a 4096-bit RSA key is about
// 3.3 KB) fits in kAfter.
constexpr qsizetype kWindowBefore = 256;
constexpr qsizetype kWindowAfter = 8 * 1024;
// Keywords are located per block of this many bytes (the windows start and end at block edges).
constexpr qsizetype kBlock = 4 * 1024;
constexpr int64_t kKeywordSetMaxMem = 32 << 20;

re2::RE2::Options ruleOptions()
{
    re2::RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(kRuleMaxMem);
    o.set_encoding(re2::RE2::Options::EncodingLatin1); // bytes: a prompt may hold invalid UTF-8
    return o;
}

struct Allowlist {
    enum class Target { Secret, Match, Line };
    Target target = Target::Secret;
    bool all = false; // condition "AND"
    std::vector<std::unique_ptr<re2::RE2>> regexes;
    QList<QByteArray> stopwords; // lower case
    // The stopwords as one literal set, matched against the lower-cased secret: generic-api-key has
    // about 1,500, and testing them one by one was a third of a scan on code (bench/secretscan_bench,
    // callgrind). Null when it did not compile: the list is used.
    std::unique_ptr<re2::RE2::Set> stopwordSet;
};

struct Rule {
    QString id;
    QString description;
    std::unique_ptr<re2::RE2> re;
    double entropy = 0;
    int secretGroup = 0;
    bool luhn = false;
    bool generic = false; // a catch-all rule: loses to a specific one on the same bytes
    std::vector<Allowlist> allowlists;
};

double shannonEntropy(std::string_view s)
{
    if (s.empty())
        return 0;
    std::array<int, 256> counts{};
    for (unsigned char c : s)
        ++counts[c];
    double h = 0;
    const double n = double(s.size());
    for (int c : counts) {
        if (c == 0)
            continue;
        const double p = c / n;
        h -= p * std::log2(p);
    }
    return h;
}

QByteArray lower(std::string_view s)
{
    QByteArray out(s.data(), qsizetype(s.size()));
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

bool containsStopword(const QList<QByteArray> &stopwords, const re2::RE2::Set *set, std::string_view secret)
{
    if (stopwords.isEmpty())
        return false;
    const QByteArray l = lower(secret);
    if (set)
        return set->Match(re2::StringPiece(l.constData(), size_t(l.size())), nullptr);
    return std::any_of(stopwords.begin(), stopwords.end(), [&](const QByteArray &w) { return l.contains(w); });
}

bool anyRegex(const std::vector<std::unique_ptr<re2::RE2>> &regexes, std::string_view text)
{
    return std::any_of(regexes.begin(), regexes.end(),
                       [&](const auto &re) { return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re); });
}

// Whether an allowlist lets a finding through (gitleaks' checkFindingAllowed, without paths/commits).
// The line a match is on, read only by "line" allowlists. A JSON body is one long line (its line
// breaks are escaped), so the line is bounded to kLineReach bytes either side of the match: finding
// its ends over the whole text for every match made a scan quadratic.
constexpr size_t kLineReach = 1024;
struct LineOf {
    std::string_view text;
    size_t begin, end;
    [[nodiscard]] std::string_view get() const
    {
        const size_t lo = begin > kLineReach ? begin - kLineReach : 0;
        const size_t hi = std::min(text.size(), end + kLineReach);
        const size_t nl = text.substr(lo, begin - lo).rfind('\n');
        const size_t from = nl == std::string_view::npos ? lo : lo + nl + 1;
        const size_t nr = text.substr(end, hi - end).find('\n');
        const size_t to = nr == std::string_view::npos ? hi : end + nr;
        return text.substr(from, to - from);
    }
};

bool allowed(const Allowlist &a, std::string_view secret, std::string_view match, const LineOf &line)
{
    const std::string_view target = a.target == Allowlist::Target::Match ? match : a.target == Allowlist::Target::Line ? line.get() : secret;
    const bool hasRegexes = !a.regexes.empty();
    const bool hasStopwords = !a.stopwords.isEmpty();
    if (a.all) {
        if (hasRegexes && !anyRegex(a.regexes, target))
            return false;
        if (hasStopwords && !containsStopword(a.stopwords, a.stopwordSet.get(), secret))
            return false;
        return hasRegexes || hasStopwords;
    }
    return (hasRegexes && anyRegex(a.regexes, target)) || (hasStopwords && containsStopword(a.stopwords, a.stopwordSet.get(), secret));
}

std::unique_ptr<re2::RE2> compile(const QString &pattern, QString *why)
{
    const QByteArray utf8 = pattern.toUtf8();
    auto re = std::make_unique<re2::RE2>(re2::StringPiece(utf8.constData(), size_t(utf8.size())), ruleOptions());
    if (!re->ok()) {
        *why = QString::fromStdString(re->error());
        return nullptr;
    }
    return re;
}

bool readAllowlist(const QJsonObject &o, Allowlist *a, QString *why)
{
    const QString target = o.value(QStringLiteral("regexTarget")).toString();
    a->target = target == QLatin1String("match") ? Allowlist::Target::Match
        : target == QLatin1String("line")        ? Allowlist::Target::Line
                                                 : Allowlist::Target::Secret;
    a->all = o.value(QStringLiteral("condition")).toString().compare(QLatin1String("AND"), Qt::CaseInsensitive) == 0;
    for (const QJsonValue &v : o.value(QStringLiteral("regexes")).toArray()) {
        auto re = compile(v.toString(), why);
        if (!re)
            return false;
        a->regexes.push_back(std::move(re));
    }
    for (const QJsonValue &v : o.value(QStringLiteral("stopwords")).toArray())
        a->stopwords.append(v.toString().toLower().toUtf8());
    if (a->stopwords.size() > 1) {
        re2::RE2::Options so;
        so.set_log_errors(false);
        so.set_literal(true);
        so.set_case_sensitive(true); // both sides are lower case already, as QByteArray::contains compared them
        so.set_encoding(re2::RE2::Options::EncodingLatin1);
        auto set = std::make_unique<re2::RE2::Set>(so, re2::RE2::UNANCHORED);
        bool ok = true;
        for (const QByteArray &w : a->stopwords)
            ok = ok && set->Add(re2::StringPiece(w.constData(), size_t(w.size())), nullptr) >= 0;
        if (ok && set->Compile())
            a->stopwordSet = std::move(set);
    }
    return true;
}

// Where a secret sits in the text, and its rule (for the overlap pass).
struct Hit {
    SecretFinding finding;
    bool generic = false;
    int rule = 0;
};

using Range = std::pair<size_t, size_t>; // [from, to) in the text

// `in` backwards into *out, eight bytes at a time (std::reverse_copy went byte by byte: 6 of the 47
// million instructions of a 1 MB scan, callgrind).
void reverseInto(std::string_view in, std::string *out)
{
    const size_t n = in.size();
    out->resize(n);
    char *o = out->data();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        quint64 v;
        std::memcpy(&v, in.data() + n - i - 8, 8);
        v = qbswap(v);
        std::memcpy(o + i, &v, 8);
    }
    for (; i < n; ++i)
        o[i] = in[n - 1 - i];
}

// The window of a 4 KiB block in which one of a rule's keywords occurs (see kWindowBefore).
Range blockWindow(size_t at, size_t textSize, size_t longestKeyword)
{
    const size_t blockEnd = std::min(textSize, at + size_t(kBlock) + longestKeyword - 1);
    return {at > size_t(kWindowBefore) ? at - size_t(kWindowBefore) : 0, std::min(textSize, blockEnd + size_t(kWindowAfter))};
}

// Sorts ranges and merges the overlapping ones.
void mergeRanges(std::vector<Range> *ranges)
{
    if (ranges->size() < 2)
        return;
    std::sort(ranges->begin(), ranges->end());
    size_t w = 0;
    for (size_t i = 1; i < ranges->size(); ++i) {
        if ((*ranges)[i].first <= (*ranges)[w].second)
            (*ranges)[w].second = std::max((*ranges)[w].second, (*ranges)[i].second);
        else
            (*ranges)[++w] = (*ranges)[i];
    }
    ranges->resize(w + 1);
}

QString &cacheDirectory()
{
    static QString dir = [] {
        const QString base = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
        return base.isEmpty() ? QString() : base + QStringLiteral("/gatehouse");
    }();
    return dir;
}
QMutex cacheDirectoryMutex;

// The Hyperscan database of a rule set, built on its own thread; scans read `ready` without a lock.
struct Accelerator {
    std::mutex mutex;
    std::condition_variable built;
    bool done = false;
    std::unique_ptr<HyperscanIndex> index;
    // Per rule the index reports as unbounded: its regex reversed (regexreverse.h), compiled for
    // leftmost-longest; null where it could not be reversed.
    std::vector<std::unique_ptr<re2::RE2>> reversed;
    std::atomic<const HyperscanIndex *> ready{nullptr};
    std::thread thread;
};

// How far back from a match end the reversed regex may look for the match's start, and for how
// many ends per rule and scan: past either, the rule's spans start at its windows' starts (as
// without Hyperscan). They bound the extra work a text full of match ends can cause (at most
// kMaxReverseEnds x kReverseReach bytes per rule and scan). One match yields many ends when its
// regex ends in a repeat (gatehouse-env-assignment's value: one end per byte past the 8th), so the
// 1 MB bench body has about a thousand. 16 KiB holds the longest secrets the rules describe (a
// 4096-bit PEM key is about 3.3 KB) and more than a window (kWindowBefore + kBlock + kWindowAfter)
// that does not merge with another; a match longer than it found by a search that stops short of it
// is the one case where the spans could miss what RE2 alone would find.
constexpr size_t kReverseReach = 16 * 1024;
constexpr size_t kMaxReverseEnds = 2048;

// Reads one rule of the "rules" array into *r; false, with *skip saying why, for a rule that
// cannot run as its authors meant (no id, a regex RE2 refuses, a secretGroup it lacks, an
// allowlist that does not read).
bool readRule(const QJsonObject &o, Rule *r, QString *skip)
{
    QString why;
    r->id = o.value(QStringLiteral("id")).toString();
    r->description = o.value(QStringLiteral("description")).toString();
    if (r->id.isEmpty()) {
        *skip = QStringLiteral("(a rule without an id): skipped");
        return false;
    }
    r->re = compile(o.value(QStringLiteral("regex")).toString(), &why);
    if (!r->re) {
        *skip = QStringLiteral("%1: %2").arg(r->id, why);
        return false;
    }
    r->entropy = o.value(QStringLiteral("entropy")).toDouble();
    r->secretGroup = o.value(QStringLiteral("secretGroup")).toInt();
    if (r->secretGroup > r->re->NumberOfCapturingGroups()) {
        *skip = QStringLiteral("%1: secretGroup %2 but %3 groups").arg(r->id).arg(r->secretGroup).arg(r->re->NumberOfCapturingGroups());
        return false;
    }
    r->luhn = o.value(QStringLiteral("validate")).toString() == QLatin1String("luhn");
    r->generic = r->id.startsWith(QLatin1String("generic")) || r->id == QLatin1String("gatehouse-env-assignment");
    for (const QJsonValue &a : o.value(QStringLiteral("allowlists")).toArray()) {
        Allowlist list;
        if (!readAllowlist(a.toObject(), &list, &why)) {
            // Without its allowlist the rule would report what its authors meant to allow: skipped.
            *skip = QStringLiteral("%1: allowlist: %2").arg(r->id, why);
            return false;
        }
        r->allowlists.push_back(std::move(list));
    }
    return true;
}

} // namespace

struct SecretRules::Private {
    std::vector<Rule> rules;
    Allowlist global;
    // Keyword prefilter: keywords[i] is pattern i of keywordSet; keywordRules[i] the rules it enables.
    std::unique_ptr<re2::RE2::Set> keywordSet;
    std::vector<std::vector<int>> keywordRules;
    std::vector<QByteArray> keywords;
    size_t longestKeyword = 1;
    std::vector<int> alwaysRules; // rules without keywords
    std::vector<char> isAlwaysRule; // per rule: in alwaysRules (set once the rules are read)
    QStringList skipped;
    QJsonObject source;
    std::unique_ptr<Accelerator> accelerator; // null: RE2 alone
    // This rule set among all built in the process (never reused), for the scan memo's keys: a set
    // freed and another allocated at its address must not find the first one's findings.
    quint64 serial = 0;

    ~Private()
    {
        // A rule set dropped (or the process ending) while its database compiles waits for it:
        // Hyperscan's compiler cannot be interrupted, and must not outlive what it reads.
        if (accelerator && accelerator->thread.joinable())
            accelerator->thread.join();
    }

    void runRule(int index, std::string_view text, size_t from, size_t to, QList<Hit> *hits) const;
    void scanRe2(std::string_view text, QList<Hit> *hits) const;
    // The findings of `text`: Hyperscan in front of RE2 when `index`, RE2 alone otherwise.
    [[nodiscard]] QList<SecretFinding> scanText(const HyperscanIndex *index, QByteArrayView text) const;
    bool scanHyperscan(const HyperscanIndex &index, std::string_view text, QList<Hit> *hits) const;
    // Of scanHyperscan: the blocks each rule is enabled in (*ruleBlocks, by rule) and the rules enabled
    // (*enabled, alwaysRules first, unsorted), from the keyword occurrences of `m`.
    void enableRules(const HyperscanIndex::Matches &m, size_t blocks, std::vector<std::vector<size_t>> *ruleBlocks,
                     std::vector<int> *enabled) const;
    void unboundedSpans(int rule, const std::vector<size_t> &ends, std::string_view text, std::string *reversedText,
                        std::vector<HyperscanIndex::Span> *spans) const;
    void indexKeywords(int index, const QJsonArray &kws, QHash<QByteArray, int> *keywordIndex);
    void compileKeywordSet();
    void startAccelerator();
};

SecretRules::SecretRules() : d(std::make_unique<Private>())
{
    static std::atomic<quint64> serials{0};
    d->serial = ++serials;
}
SecretRules::~SecretRules() = default;

std::shared_ptr<const SecretRules> SecretRules::fromJson(const QByteArray &json, QString *error, Engine engine)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject() || !doc.object().value(QStringLiteral("rules")).isArray()) {
        if (error)
            *error = parseError.error != QJsonParseError::NoError ? parseError.errorString() : QStringLiteral("no \"rules\" array");
        return nullptr;
    }
    std::shared_ptr<SecretRules> set(new SecretRules);
    Private &p = *set->d;
    const QJsonObject root = doc.object();
    p.source = root.value(QStringLiteral("source")).toObject();
    QString why;
    if (!readAllowlist(root.value(QStringLiteral("allowlist")).toObject(), &p.global, &why))
        p.skipped.append(QStringLiteral("global allowlist: %1").arg(why)); // the rules still run
    QHash<QByteArray, int> keywordIndex;
    for (const QJsonValue &v : root.value(QStringLiteral("rules")).toArray()) {
        const QJsonObject o = v.toObject();
        Rule r;
        QString skip;
        if (!readRule(o, &r, &skip)) {
            p.skipped.append(skip);
            continue;
        }
        p.indexKeywords(int(p.rules.size()), o.value(QStringLiteral("keywords")).toArray(), &keywordIndex);
        p.rules.push_back(std::move(r));
    }
    if (!p.keywords.empty())
        p.compileKeywordSet();
    p.isAlwaysRule.assign(p.rules.size(), 0);
    for (int i : p.alwaysRules)
        p.isAlwaysRule[size_t(i)] = 1;
    if (!p.skipped.isEmpty())
        qCInfo(lcSecretScan).noquote() << p.skipped.size() << "secret rules skipped:" << p.skipped.join(QStringLiteral("; "));
    if (engine == Engine::Fastest && p.keywordSet)
        p.startAccelerator();
    return set;
}

// Files rule `index` under each of its keywords (lowercased, deduplicated across rules in
// keywordIndex), or among the rules that always run when it has none.
void SecretRules::Private::indexKeywords(int index, const QJsonArray &kws, QHash<QByteArray, int> *keywordIndex)
{
    if (kws.isEmpty())
        alwaysRules.push_back(index);
    for (const QJsonValue &k : kws) {
        const QByteArray kw = k.toString().toLower().toUtf8();
        if (kw.isEmpty())
            continue;
        auto it = keywordIndex->constFind(kw);
        int ki;
        if (it == keywordIndex->cend()) {
            ki = int(keywords.size());
            keywordIndex->insert(kw, ki);
            keywords.push_back(kw);
            longestKeyword = std::max(longestKeyword, size_t(kw.size()));
            keywordRules.emplace_back();
        } else {
            ki = *it;
        }
        keywordRules[size_t(ki)].push_back(index);
    }
}

// Builds the keyword prefilter from `keywords` (not empty).
void SecretRules::Private::compileKeywordSet()
{
    re2::RE2::Options o;
    o.set_log_errors(false);
    o.set_literal(true);
    o.set_case_sensitive(false);
    o.set_encoding(re2::RE2::Options::EncodingLatin1);
    o.set_max_mem(kKeywordSetMaxMem);
    keywordSet = std::make_unique<re2::RE2::Set>(o, re2::RE2::UNANCHORED);
    for (const QByteArray &kw : keywords) {
        std::string err;
        if (keywordSet->Add(re2::StringPiece(kw.constData(), size_t(kw.size())), &err) < 0) {
            qCWarning(lcSecretScan) << "keyword" << kw << "not added:" << err.c_str();
        }
    }
    if (!keywordSet->Compile()) {
        // Without the prefilter every rule runs on every text: slower, never blind.
        qCWarning(lcSecretScan) << "the keyword prefilter did not compile; every rule runs on every text";
        keywordSet.reset();
        alwaysRules.clear();
        for (int i = 0; i < int(rules.size()); ++i)
            alwaysRules.push_back(i);
    }
}

void SecretRules::Private::startAccelerator()
{
#ifdef GATEHOUSE_HYPERSCAN
    // Hyperscan's caseless literals fold ASCII only, where the RE2 keyword set (Latin-1) also folds
    // accented letters: with a non-ASCII keyword the windows could differ, so RE2 keeps the set.
    for (const QByteArray &kw : keywords)
        for (char c : kw)
            if (static_cast<unsigned char>(c) >= 0x80)
                return;
    std::vector<QByteArray> regexes;
    for (const Rule &r : rules) {
        const std::string &pattern = r.re->pattern();
        // Likewise a regex with non-ASCII bytes stays with RE2 (its case folding is Latin-1's).
        const bool ascii = std::all_of(pattern.begin(), pattern.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
        regexes.push_back(ascii ? QByteArray(pattern.data(), qsizetype(pattern.size())) : QByteArray());
    }
    QString cacheDir;
    {
        QMutexLocker lock(&cacheDirectoryMutex);
        cacheDir = cacheDirectory();
    }
    accelerator = std::make_unique<Accelerator>();
    Accelerator *a = accelerator.get();
    a->thread = std::thread([a, regexes = std::move(regexes), kws = keywords, cacheDir] {
        QElapsedTimer timer;
        timer.start();
        QStringList notes;
        std::unique_ptr<HyperscanIndex> index = HyperscanIndex::build(regexes, kws, cacheDir, &notes);
        std::vector<std::unique_ptr<re2::RE2>> reversed(regexes.size());
        for (size_t i = 0; index && i < regexes.size(); ++i) {
            if (!index->unbounded(int(i)))
                continue;
            const std::optional<std::string> rev = reverseRegex(std::string_view(regexes[i].constData(), size_t(regexes[i].size())));
            if (!rev) {
                notes.append(QStringLiteral("rule %1 could not be reversed: it is scanned from its windows' starts").arg(i));
                continue;
            }
            re2::RE2::Options o = ruleOptions();
            o.set_longest_match(true);
            auto re = std::make_unique<re2::RE2>(*rev, o);
            if (re->ok())
                reversed[i] = std::move(re);
            else
                notes.append(QStringLiteral("rule %1 reversed does not compile: %2").arg(i).arg(QString::fromStdString(re->error())));
        }
        if (!notes.isEmpty())
            qCInfo(lcSecretScan).noquote() << "Hyperscan:" << notes.join(QStringLiteral("; "));
        if (index)
            qCInfo(lcSecretScan).noquote() << "secret scanning on" << HyperscanIndex::version().section(u' ', 0, 1) << "after"
                                           << timer.elapsed() << "ms" << (index->fromCache() ? "(database read from the cache)" : "(database compiled)");
        else
            qCInfo(lcSecretScan) << "secret scanning stays on RE2 alone";
        std::lock_guard lock(a->mutex);
        a->index = std::move(index);
        a->reversed = std::move(reversed);
        a->ready.store(a->index.get(), std::memory_order_release);
        a->done = true;
        a->built.notify_all();
    });
#endif
}

std::shared_ptr<const SecretRules> SecretRules::builtin()
{
    // The logging category first: function statics die in the reverse order of their construction,
    // and the set below, when it dies at exit, may wait for its database thread, which logs.
    (void)lcSecretScan();
    static QMutex mutex;
    static std::shared_ptr<const SecretRules> rules;
    QMutexLocker lock(&mutex);
    if (!rules) {
        QFile f(QStringLiteral(":/gatehouse/secret-rules.json"));
        QString error;
        if (f.open(QIODevice::ReadOnly))
            rules = fromJson(f.readAll(), &error);
        else
            error = f.errorString();
        if (!rules) {
            qCCritical(lcSecretScan) << "the secret rules could not be read:" << error;
            rules = fromJson(QByteArrayLiteral("{\"rules\": []}"), nullptr);
        } else {
            qCInfo(lcSecretScan) << "secret scanning with" << rules->ruleCount() << "rules from"
                                 << rules->source().value(QStringLiteral("commit")).toString().left(12)
                                 << rules->source().value(QStringLiteral("date")).toString();
        }
    }
    return rules;
}

void SecretRules::Private::runRule(int index, std::string_view text, size_t from, size_t to, QList<Hit> *hits) const
{
    const Rule &r = rules[size_t(index)];
    const int groups = r.re->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> sub(size_t(groups) + 1);
    const re2::StringPiece whole(text.data(), text.size());
    size_t pos = from;
    while (pos <= to) {
        if (!r.re->Match(whole, pos, to, re2::RE2::UNANCHORED, sub.data(), int(sub.size())))
            break;
        const re2::StringPiece m = sub[0];
        const size_t mBegin = size_t(m.data() - text.data());
        const size_t mEnd = mBegin + m.size();
        pos = m.empty() ? mEnd + 1 : mEnd;
        re2::StringPiece secret = m;
        if (r.secretGroup > 0) {
            secret = sub[size_t(r.secretGroup)];
        } else {
            for (int g = 1; g <= groups; ++g) {
                if (!sub[size_t(g)].empty()) {
                    secret = sub[size_t(g)];
                    break;
                }
            }
        }
        if (secret.empty() || secret.data() == nullptr)
            continue;
        const std::string_view s(secret.data(), secret.size());
        if (r.entropy > 0 && shannonEntropy(s) <= r.entropy)
            continue;
        if (r.luhn && !passesLuhn(QByteArrayView(s.data(), qsizetype(s.size()))))
            continue;
        const std::string_view matchText(m.data(), m.size());
        const LineOf line{text, mBegin, mEnd};
        if (allowed(global, s, matchText, line))
            continue;
        if (std::any_of(r.allowlists.begin(), r.allowlists.end(), [&](const Allowlist &a) { return allowed(a, s, matchText, line); }))
            continue;
        Hit h;
        h.finding.ruleId = r.id;
        h.finding.offset = qsizetype(secret.data() - text.data());
        h.finding.length = qsizetype(secret.size());
        h.generic = r.generic;
        h.rule = index;
        hits->append(h);
    }
}

void SecretRules::Private::scanRe2(std::string_view t, QList<Hit> *hits) const
{
    for (int i : alwaysRules)
        runRule(i, t, 0, t.size(), hits);
    if (keywordSet && !t.empty()) {
        std::vector<int> found;
        re2::RE2::Set::ErrorInfo info;
        const bool matched = keywordSet->Match(re2::StringPiece(t.data(), t.size()), &found, &info);
        if (!matched && info.kind != re2::RE2::Set::kNoError) {
            // The prefilter gave up (out of memory): every rule runs over the whole text rather than none.
            for (int i = 0; i < int(rules.size()); ++i)
                if (std::find(alwaysRules.begin(), alwaysRules.end(), i) == alwaysRules.end())
                    runRule(i, t, 0, t.size(), hits);
        } else if (matched) {
            // Which keywords occur in which block of the text: the keyword set again, per block
            // (blocks overlap by the longest keyword, so none is cut). One pass of a literal DFA,
            // where searching each keyword's occurrences one by one cost a quarter of the scan.
            std::vector<std::vector<std::pair<size_t, size_t>>> windows(rules.size());
            std::vector<char> enabled(keywords.size(), 0);
            for (int k : found)
                enabled[size_t(k)] = 1;
            std::vector<int> inBlock;
            for (size_t at = 0; at < t.size(); at += size_t(kBlock)) {
                const size_t blockEnd = std::min(t.size(), at + size_t(kBlock) + longestKeyword - 1);
                inBlock.clear();
                if (found.size() == 1 && t.size() <= size_t(kBlock))
                    inBlock = found;
                else if (!keywordSet->Match(re2::StringPiece(t.data() + at, blockEnd - at), &inBlock))
                    continue;
                const size_t from = at > size_t(kWindowBefore) ? at - size_t(kWindowBefore) : 0;
                const size_t to = std::min(t.size(), blockEnd + size_t(kWindowAfter));
                for (int k : inBlock) {
                    for (int rule : keywordRules[size_t(k)]) {
                        auto &w = windows[size_t(rule)];
                        if (!w.empty() && from <= w.back().second)
                            w.back().second = std::max(w.back().second, to);
                        else
                            w.emplace_back(from, to);
                    }
                }
            }
            for (size_t rule = 0; rule < windows.size(); ++rule) {
                auto &w = windows[rule];
                if (w.empty())
                    continue;
                std::sort(w.begin(), w.end());
                size_t from = w.front().first;
                size_t to = w.front().second;
                for (size_t i = 1; i <= w.size(); ++i) {
                    if (i < w.size() && w[i].first <= to) {
                        to = std::max(to, w[i].second);
                        continue;
                    }
                    runRule(int(rule), t, from, to, hits);
                    if (i < w.size()) {
                        from = w[i].first;
                        to = w[i].second;
                    }
                }
            }
        }
    }
}

void SecretRules::Private::enableRules(const HyperscanIndex::Matches &m, size_t blocks,
                                      std::vector<std::vector<size_t>> *ruleBlocks, std::vector<int> *enabled) const
{
    // Which rules are enabled in which block: a keyword occurrence [os, os + len) is in block `at`
    // when it lies within [at, at + kBlock + longestKeyword - 1), as scanRe2's per-block search sees it.
    // Only the keywords that occur and the rules they enable are visited (m.touchedKeywords): the
    // ruleBlocks lists left filled by the last scan are the rules it enabled.
    for (int rule : *enabled)
        if (size_t(rule) < ruleBlocks->size())
            (*ruleBlocks)[size_t(rule)].clear();
    ruleBlocks->resize(rules.size());
    enabled->assign(alwaysRules.begin(), alwaysRules.end());
    for (int ki : m.touchedKeywords) {
        const size_t k = size_t(ki);
        const size_t len = size_t(keywords[k].size());
        size_t lastBlock = SIZE_MAX;
        for (size_t os : m.keywordStarts[k]) {
            const size_t first = os / size_t(kBlock);
            // The block before also holds it when it ends within that block's overlap.
            const bool inPrevious = first > 0 && os + len <= first * size_t(kBlock) + longestKeyword - 1;
            for (size_t b = inPrevious ? first - 1 : first; b <= first && b < blocks; ++b) {
                if (lastBlock != SIZE_MAX && b <= lastBlock)
                    continue;
                lastBlock = b;
                for (int rule : keywordRules[k]) {
                    auto &list = (*ruleBlocks)[size_t(rule)];
                    if (list.empty())
                        enabled->push_back(rule);
                    list.push_back(b);
                }
            }
        }
    }
}

// The same windows as scanRe2 (from the keywords' occurrences, which the database reports too),
// and in each window RE2 runs only over the spans where Hyperscan saw the rule's regex match
// (hyperscanindex.h). Every match RE2 finds scanning a window lies inside one span, and RE2 keeps
// the whole text as context (\b, ^, $ at a span's edges see the real neighbours), so scanning the
// spans in order finds what scanning the whole window finds.
bool SecretRules::Private::scanHyperscan(const HyperscanIndex &index, std::string_view t, QList<Hit> *hits) const
{
    // The scan's working vectors, one set per thread (a scan never runs inside another on a thread):
    // they keep their capacity between requests, so a warm scan allocates nothing. Growing them
    // afresh was 15,700 of the 71,300 instructions of a 2 KB prompt's scan (BENCHMARKS.md, issue 19).
    thread_local HyperscanIndex::Matches m;
    thread_local std::vector<std::vector<size_t>> ruleBlocks;
    thread_local std::vector<int> enabled; // rules to run: those with blocks, and alwaysRules
    thread_local std::vector<Range> windows, spans;
    thread_local std::string reversedText; // a stretch of the text backwards, for unboundedSpans
    if (!index.scan(t, &m))
        return false;
    enableRules(m, (t.size() + size_t(kBlock) - 1) / size_t(kBlock), &ruleBlocks, &enabled);
    // In rule order, as when every rule was visited (the findings are sorted afterwards anyway).
    std::sort(enabled.begin(), enabled.end());
    enabled.erase(std::unique(enabled.begin(), enabled.end()), enabled.end());
    for (int enabledRule : enabled) {
        const size_t rule = size_t(enabledRule);
        windows.clear();
        if (isAlwaysRule[rule]) {
            windows.emplace_back(0, t.size());
        } else {
            for (size_t b : ruleBlocks[rule])
                windows.push_back(blockWindow(b * size_t(kBlock), t.size(), longestKeyword));
            mergeRanges(&windows);
        }
        if (windows.empty())
            continue;
        if (!index.coversRule(int(rule))) {
            for (const Range &w : windows)
                runRule(int(rule), t, w.first, w.second, hits);
            continue;
        }
        if (!m.unboundedEnds[rule].empty()) {
            // The spans go to the rule's list, which the next scan must then clear.
            if (m.rules[rule].empty())
                m.touchedRules.push_back(int(rule));
            unboundedSpans(int(rule), m.unboundedEnds[rule], t, &reversedText, &m.rules[rule]);
        }
        const auto &found = m.rules[rule];
        if (found.empty())
            continue;
        spans.clear();
        size_t s = 0;
        for (const Range &w : windows) {
            while (s < found.size() && found[s].end <= w.first)
                ++s;
            for (size_t i = s; i < found.size() && found[i].begin < w.second; ++i)
                spans.emplace_back(std::max(found[i].begin, w.first), std::min(found[i].end, w.second));
        }
        // Spans of one window that overlap (a span without a known start begins at the window's
        // start) become one, so no stretch is scanned twice.
        mergeRanges(&spans);
        for (const Range &r : spans)
            runRule(int(rule), t, r.first, r.second, hits);
    }
    // A megabyte prompt's reversed stretch is not kept for the thread's life.
    if (reversedText.capacity() > 64 * 1024)
        std::string().swap(reversedText);
    return true;
}

// The spans of an unbounded rule from its match ends: each end's leftmost start is where the
// longest match of the reversed regex, anchored at the end in the reversed text, stops. Unknown
// (0: the window's start) when the rule has no reversed regex, has more than kMaxReverseEnds ends,
// or a match reaches kReverseReach. The reversed copy covers the ends' stretch plus one byte of
// context on each side (what \b and $ look at), and a search never reaches its far edge unless that
// is the text's start.
void SecretRules::Private::unboundedSpans(int rule, const std::vector<size_t> &ends, std::string_view t, std::string *reversed,
                                          std::vector<HyperscanIndex::Span> *spans) const
{
    const re2::RE2 *rev = accelerator->reversed[size_t(rule)].get();
    if (!rev || ends.size() > kMaxReverseEnds) {
        spans->push_back({0, ends.back()});
        return;
    }
    const size_t lo = ends.front() > kReverseReach + 1 ? ends.front() - kReverseReach - 1 : 0;
    const size_t hi = std::min(t.size(), ends.back() + 1);
    reverseInto(t.substr(lo, hi - lo), reversed);
    const re2::StringPiece whole(reversed->data(), reversed->size());
    for (size_t e : ends) {
        const size_t from = hi - e;
        const size_t to = std::min(whole.size(), from + kReverseReach);
        re2::StringPiece m;
        size_t start = 0;
        if (rev->Match(whole, from, to, re2::RE2::ANCHOR_START, &m, 1) && (m.size() < to - from || (lo == 0 && to == whole.size())))
            start = e - m.size();
        spans->push_back({start, e});
    }
    std::sort(spans->begin(), spans->end(), [](const auto &x, const auto &y) { return x.begin < y.begin; });
    size_t w = 0;
    for (size_t i = 1; i < spans->size(); ++i) {
        if ((*spans)[i].begin <= (*spans)[w].end)
            (*spans)[w].end = std::max((*spans)[w].end, (*spans)[i].end);
        else
            (*spans)[++w] = (*spans)[i];
    }
    spans->resize(w + 1);
}

namespace {
// Per worker thread: 1 MiB holds the findings of about 7,000 texts (an entry is about 140 bytes and
// 40 a finding), far more bodies than a worker sees resent within minutes; a thread's memo is freed
// with the thread. No lock: a worker never waits for another.
constexpr size_t kMemoBytesPerThread = 1 << 20;
} // namespace

QList<SecretFinding> SecretRules::scan(QByteArrayView text, Memo memo) const
{
    const HyperscanIndex *index = d->accelerator ? d->accelerator->ready.load(std::memory_order_acquire) : nullptr;
    if (memo == Memo::Bypass || text.size() < kMemoMinBytes)
        return d->scanText(index, text);
    thread_local ScanMemo memos(kMemoBytesPerThread);
    // The engine is part of the key: both give the same findings by design, and the memo does not
    // rely on it.
    const ScanMemo::Key key = ScanMemo::keyOf(text, d->serial * 2 + (index ? 1 : 0));
    if (std::optional<QList<SecretFinding>> known = memos.find(key))
        return *std::move(known);
    QList<SecretFinding> found = d->scanText(index, text);
    memos.insert(key, found);
    return found;
}

QList<SecretFinding> SecretRules::Private::scanText(const HyperscanIndex *index, QByteArrayView text) const
{
    const std::string_view t(text.data(), size_t(text.size()));
    QList<Hit> hits;
    if (!index || t.empty() || !scanHyperscan(*index, t, &hits)) {
        hits.clear();
        scanRe2(t, &hits);
    }
    if (hits.isEmpty())
        return {};
    // One finding per stretch of bytes: by offset, the longest first, a specific rule before a generic one.
    std::sort(hits.begin(), hits.end(), [](const Hit &a, const Hit &b) {
        if (a.finding.offset != b.finding.offset)
            return a.finding.offset < b.finding.offset;
        if (a.generic != b.generic)
            return !a.generic;
        if (a.finding.length != b.finding.length)
            return a.finding.length > b.finding.length;
        return a.rule < b.rule;
    });
    QList<SecretFinding> out;
    bool lastGeneric = false;
    qsizetype end = -1;
    for (const Hit &h : hits) {
        const qsizetype hEnd = h.finding.offset + h.finding.length;
        if (h.finding.offset < end) {
            // Overlaps the previous one: they become one finding over both, named after the
            // specific rule when one of them is.
            SecretFinding &prev = out.last();
            if (lastGeneric && !h.generic) {
                prev.ruleId = h.finding.ruleId;
                lastGeneric = false;
            }
            end = qMax(end, hEnd);
            prev.length = end - prev.offset;
            continue;
        }
        out.append(h.finding);
        lastGeneric = h.generic;
        end = hEnd;
    }
    return out;
}

int SecretRules::ruleCount() const { return int(d->rules.size()); }

QString SecretRules::engine() const
{
    return d->accelerator && d->accelerator->ready.load(std::memory_order_acquire) ? QStringLiteral("hyperscan") : QStringLiteral("re2");
}

bool SecretRules::waitForEngine(int msecs) const
{
    if (!d->accelerator)
        return false;
    std::unique_lock lock(d->accelerator->mutex);
    d->accelerator->built.wait_for(lock, std::chrono::milliseconds(msecs), [this] { return d->accelerator->done; });
    return d->accelerator->index != nullptr;
}

void SecretRules::setCacheDirectory(const QString &dir)
{
    QMutexLocker lock(&cacheDirectoryMutex);
    cacheDirectory() = dir;
}
QStringList SecretRules::skipped() const { return d->skipped; }
QJsonObject SecretRules::source() const { return d->source; }

QString SecretRules::description(const QString &ruleId) const
{
    for (const Rule &r : d->rules)
        if (r.id == ruleId)
            return r.description;
    return {};
}

bool passesLuhn(QByteArrayView text)
{
    int digits = 0;
    int sum = 0;
    for (qsizetype i = text.size() - 1; i >= 0; --i) {
        const char c = text[i];
        if (c == ' ' || c == '-')
            continue;
        if (c < '0' || c > '9')
            return false;
        int v = c - '0';
        if (digits % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        ++digits;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

} // namespace gh
