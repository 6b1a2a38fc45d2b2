#include "secretscan/hyperscanindex.h"
#ifdef GATEHOUSE_HYPERSCAN
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <hs/hs.h>
#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>

namespace gh {

namespace {

enum class Kind { Rule, Keyword };

struct Pattern {
    QByteArray expression;
    unsigned flags = 0;
    Kind kind = Kind::Rule;
    int index = 0; // rule or keyword index
};

QByteArray literalExpression(const QByteArray &literal)
{
    QByteArray out;
    out.reserve(literal.size() * 4);
    for (char c : literal) {
        char buf[5];
        std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(static_cast<unsigned char>(c)));
        out += buf;
    }
    return out;
}

void appendMerged(std::vector<HyperscanIndex::Span> *spans, size_t begin, size_t end)
{
    if (!spans->empty() && begin <= spans->back().end && end >= spans->back().begin) {
        auto &b = spans->back();
        b.begin = std::min(b.begin, begin);
        b.end = std::max(b.end, end);
        return;
    }
    spans->push_back({begin, end});
}

void sortAndMerge(std::vector<HyperscanIndex::Span> *spans)
{
    if (spans->size() < 2)
        return;
    std::sort(spans->begin(), spans->end(), [](const auto &a, const auto &b) { return a.begin < b.begin; });
    size_t w = 0;
    for (size_t i = 1; i < spans->size(); ++i) {
        auto &cur = (*spans)[w];
        const auto &next = (*spans)[i];
        if (next.begin <= cur.end)
            cur.end = std::max(cur.end, next.end);
        else
            (*spans)[++w] = next;
    }
    spans->resize(w + 1);
}

constexpr char kCacheMagic[8] = {'G', 'H', 'H', 'S', 'D', 'B', '0', '2'};

} // namespace

struct HyperscanIndex::Private {
    hs_database_t *db = nullptr;
    hs_scratch_t *prototype = nullptr;
    mutable std::mutex scratchMutex;
    mutable std::vector<hs_scratch_t *> scratches; // idle ones
    std::vector<Pattern> patterns;                 // by Hyperscan id
    std::vector<char> ruleCovered;
    std::vector<size_t> ruleMaxWidth;  // SIZE_MAX: unbounded
    std::vector<size_t> keywordLength;
    bool fromCache = false;

    ~Private()
    {
        for (hs_scratch_t *s : scratches)
            hs_free_scratch(s);
        if (prototype)
            hs_free_scratch(prototype);
        if (db)
            hs_free_database(db);
    }

    hs_scratch_t *takeScratch() const
    {
        {
            std::lock_guard lock(scratchMutex);
            if (!scratches.empty()) {
                hs_scratch_t *s = scratches.back();
                scratches.pop_back();
                return s;
            }
        }
        hs_scratch_t *s = nullptr;
        if (hs_clone_scratch(prototype, &s) != HS_SUCCESS)
            return nullptr;
        return s;
    }
    void giveBack(hs_scratch_t *s) const
    {
        std::lock_guard lock(scratchMutex);
        scratches.push_back(s);
    }
};

HyperscanIndex::HyperscanIndex() : d(std::make_unique<Private>()) { }
HyperscanIndex::~HyperscanIndex() = default;

QString HyperscanIndex::version() { return QStringLiteral("Hyperscan ") + QString::fromLatin1(hs_version()); }

namespace {

// Every rule Hyperscan can take (its whole regex, with its match width when bounded) and every
// keyword as a caseless literal, in the order of their Hyperscan ids.
std::vector<Pattern> candidatesOf(const std::vector<QByteArray> &ruleRegexes, const std::vector<QByteArray> &keywords,
                                  std::vector<size_t> *ruleMaxWidth, std::vector<size_t> *keywordLength, QStringList *notes)
{
    std::vector<Pattern> candidates;
    for (size_t i = 0; i < ruleRegexes.size(); ++i) {
        if (ruleRegexes[i].isEmpty())
            continue; // the caller keeps this rule on RE2
        hs_expr_info_t *info = nullptr;
        hs_compile_error_t *err = nullptr;
        if (hs_expression_info(ruleRegexes[i].constData(), 0, &info, &err) != HS_SUCCESS) {
            notes->append(QStringLiteral("rule %1 left to RE2: %2").arg(i).arg(QString::fromUtf8(err->message)));
            hs_free_compile_error(err);
            continue;
        }
        if (info->max_width != UINT_MAX)
            (*ruleMaxWidth)[i] = info->max_width;
        std::free(info);
        candidates.push_back({ruleRegexes[i], 0, Kind::Rule, int(i)});
    }
    for (size_t k = 0; k < keywords.size(); ++k) {
        keywordLength->push_back(size_t(keywords[k].size()));
        candidates.push_back({literalExpression(keywords[k]), HS_FLAG_CASELESS, Kind::Keyword, int(k)});
    }
    return candidates;
}

// The cache file of this set: keyed by every pattern as compiled, its flags, and the library's
// version and platform. Empty without a cache folder.
QString cacheFileFor(const QString &cacheDir, const std::vector<Pattern> &candidates)
{
    if (cacheDir.isEmpty())
        return {};
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(QByteArray(hs_version()));
    hs_platform_info_t platform{};
    if (hs_populate_platform(&platform) == HS_SUCCESS)
        hash.addData(QByteArrayView(reinterpret_cast<const char *>(&platform), sizeof platform));
    for (const Pattern &c : candidates) {
        hash.addData(c.expression);
        hash.addData(QByteArray::number(c.flags) + ' ' + QByteArray::number(int(c.kind)) + '\n');
    }
    return QDir(cacheDir).filePath(QStringLiteral("secretscan-%1.hsdb").arg(QString::fromLatin1(hash.result().toHex().left(24))));
}

// A cached database: magic, the SHA-256 of the rest, the number of refused candidates and their
// indexes, then Hyperscan's serialization. The checksum is checked before Hyperscan reads it: a
// damaged file is compiled again, never scanned with. Null when there is none to use.
constexpr qsizetype kCacheHeader = qsizetype(sizeof kCacheMagic) + 32;

hs_database_t *readCache(const QString &cacheFile, std::vector<char> *refused)
{
    QFile f(cacheFile);
    if (cacheFile.isEmpty() || !f.open(QIODevice::ReadOnly))
        return nullptr;
    const QByteArray bytes = f.readAll();
    bool ok = bytes.size() > kCacheHeader + 4 && std::memcmp(bytes.constData(), kCacheMagic, sizeof kCacheMagic) == 0
        && QCryptographicHash::hash(bytes.mid(kCacheHeader), QCryptographicHash::Sha256)
            == bytes.mid(qsizetype(sizeof kCacheMagic), 32);
    quint32 n = 0;
    if (ok) {
        std::memcpy(&n, bytes.constData() + kCacheHeader, 4);
        ok = n <= refused->size() && bytes.size() > kCacheHeader + 4 + 4 * qsizetype(n);
    }
    for (quint32 i = 0; ok && i < n; ++i) {
        quint32 r = 0;
        std::memcpy(&r, bytes.constData() + kCacheHeader + 4 + 4 * qsizetype(i), 4);
        ok = r < refused->size();
        if (ok)
            (*refused)[r] = 1;
    }
    const qsizetype at = kCacheHeader + 4 + 4 * qsizetype(n);
    hs_database_t *db = nullptr;
    if (ok && hs_deserialize_database(bytes.constData() + at, size_t(bytes.size() - at), &db) == HS_SUCCESS)
        return db;
    std::fill(refused->begin(), refused->end(), 0);
    return nullptr;
}

void writeCache(const QString &cacheFile, const QString &cacheDir, const hs_database_t *db, const std::vector<char> &refused)
{
    char *bytes = nullptr;
    size_t length = 0;
    if (cacheFile.isEmpty() || !QDir().mkpath(cacheDir) || hs_serialize_database(db, &bytes, &length) != HS_SUCCESS)
        return;
    QByteArray payload;
    std::vector<quint32> list;
    for (size_t i = 0; i < refused.size(); ++i)
        if (refused[i])
            list.push_back(quint32(i));
    const quint32 n = quint32(list.size());
    payload.append(reinterpret_cast<const char *>(&n), 4);
    for (quint32 r : list)
        payload.append(reinterpret_cast<const char *>(&r), 4);
    payload.append(bytes, qsizetype(length));
    std::free(bytes);
    const QByteArray out = QByteArray(kCacheMagic, sizeof kCacheMagic) + QCryptographicHash::hash(payload, QCryptographicHash::Sha256) + payload;
    QSaveFile f(cacheFile); // written aside and renamed: a concurrent reader sees all or nothing
    if (f.open(QIODevice::WriteOnly) && f.write(out) == out.size())
        (void)f.commit();
}

// One database for everything. A pattern Hyperscan refuses is dropped and the rest compiled again
// (hs_compile_multi names the first bad expression); its rule stays with RE2. Null, with a note,
// when nothing compiles.
hs_database_t *compileAll(const std::vector<Pattern> &candidates, std::vector<char> *refused, QStringList *notes)
{
    for (size_t attempt = 0; attempt <= candidates.size(); ++attempt) {
        std::vector<const char *> expressions;
        std::vector<unsigned> flags, ids;
        for (size_t i = 0; i < candidates.size(); ++i) {
            if ((*refused)[i])
                continue;
            expressions.push_back(candidates[i].expression.constData());
            flags.push_back(candidates[i].flags);
            ids.push_back(unsigned(i));
        }
        if (expressions.empty())
            break;
        hs_database_t *db = nullptr;
        hs_compile_error_t *err = nullptr;
        if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), unsigned(expressions.size()), HS_MODE_BLOCK, nullptr, &db, &err)
            == HS_SUCCESS)
            return db;
        const int bad = err->expression;
        const QString why = QString::fromUtf8(err->message);
        hs_free_compile_error(err);
        if (bad < 0 || size_t(bad) >= ids.size()) {
            notes->append(QStringLiteral("Hyperscan refused the rule set: %1").arg(why));
            return nullptr;
        }
        (*refused)[ids[size_t(bad)]] = 1;
    }
    notes->append(QStringLiteral("Hyperscan compiled nothing"));
    return nullptr;
}

} // namespace

std::unique_ptr<HyperscanIndex> HyperscanIndex::build(const std::vector<QByteArray> &ruleRegexes, const std::vector<QByteArray> &keywords,
                                                      const QString &cacheDir, QStringList *notes)
{
    if (hs_valid_platform() != HS_SUCCESS) {
        notes->append(QStringLiteral("Hyperscan cannot run on this CPU (it needs SSSE3)"));
        return nullptr;
    }
    std::unique_ptr<HyperscanIndex> index(new HyperscanIndex);
    Private &p = *index->d;
    p.ruleCovered.assign(ruleRegexes.size(), 0);
    p.ruleMaxWidth.assign(ruleRegexes.size(), SIZE_MAX);
    std::vector<Pattern> candidates = candidatesOf(ruleRegexes, keywords, &p.ruleMaxWidth, &p.keywordLength, notes);
    const QString cacheFile = cacheFileFor(cacheDir, candidates);
    std::vector<char> refused(candidates.size(), 0);
    p.db = readCache(cacheFile, &refused);
    p.fromCache = p.db != nullptr;
    if (!p.db) {
        p.db = compileAll(candidates, &refused, notes);
        if (!p.db)
            return nullptr;
        writeCache(cacheFile, cacheDir, p.db, refused);
    }
    if (hs_alloc_scratch(p.db, &p.prototype) != HS_SUCCESS) {
        notes->append(QStringLiteral("Hyperscan could not allocate its scratch space"));
        return nullptr;
    }
    p.patterns = std::move(candidates);
    for (size_t i = 0; i < p.patterns.size(); ++i) {
        const Pattern &c = p.patterns[i];
        if (!refused[i]) {
            if (c.kind == Kind::Rule)
                p.ruleCovered[size_t(c.index)] = 1;
            continue;
        }
        if (c.kind == Kind::Keyword) {
            // Without a keyword's occurrences the rule windows would be wrong: not usable.
            notes->append(QStringLiteral("Hyperscan refused a keyword"));
            return nullptr;
        }
        notes->append(QStringLiteral("rule %1 left to RE2 (Hyperscan refused its regex)").arg(c.index));
    }
    return index;
}

namespace {

struct ScanContext {
    const std::vector<Pattern> *patterns;
    const std::vector<size_t> *maxWidth;
    const std::vector<size_t> *keywordLength;
    HyperscanIndex::Matches *out;
};

int onMatch(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void *context)
{
    auto *c = static_cast<ScanContext *>(context);
    const Pattern &p = (*c->patterns)[id];
    const size_t index = size_t(p.index);
    const size_t end = size_t(to);
    if (p.kind == Kind::Rule) {
        const size_t width = (*c->maxWidth)[index];
        if (width != SIZE_MAX) {
            auto &spans = c->out->rules[index];
            if (spans.empty())
                c->out->touchedRules.push_back(int(index));
            appendMerged(&spans, end > width ? end - width : 0, end);
        } else {
            auto &ends = c->out->unboundedEnds[index];
            if (ends.empty())
                c->out->touchedUnbounded.push_back(int(index));
            if (ends.empty() || ends.back() != end)
                ends.push_back(end);
        }
    } else {
        auto &starts = c->out->keywordStarts[index];
        const size_t start = end - (*c->keywordLength)[index];
        if (starts.empty())
            c->out->touchedKeywords.push_back(int(index));
        if (starts.empty() || starts.back() != start)
            starts.push_back(start);
    }
    return 0; // go on
}

} // namespace

bool HyperscanIndex::scan(std::string_view text, Matches *out) const
{
    if (text.size() > UINT_MAX)
        return false;
    const size_t ruleCount = d->ruleCovered.size();
    // Cleared, not reassigned: a caller that reuses `out` keeps its vectors' capacity, so a warm scan
    // allocates nothing (reassigning them was about a fifth of a 2 KB scan's instructions). Only the
    // lists the last scan filled are cleared (every other one is empty).
    auto reset = [](auto &lists, std::vector<int> &touched, size_t n) {
        for (int i : touched)
            if (size_t(i) < lists.size())
                lists[size_t(i)].clear();
        touched.clear();
        lists.resize(n);
    };
    reset(out->rules, out->touchedRules, ruleCount);
    reset(out->unboundedEnds, out->touchedUnbounded, ruleCount);
    reset(out->keywordStarts, out->touchedKeywords, d->keywordLength.size());
    ScanContext context{&d->patterns, &d->ruleMaxWidth, &d->keywordLength, out};
    hs_scratch_t *scratch = d->takeScratch();
    if (!scratch)
        return false;
    const hs_error_t rc = hs_scan(d->db, text.data(), unsigned(text.size()), 0, scratch, onMatch, &context);
    d->giveBack(scratch);
    if (rc != HS_SUCCESS)
        return false;
    for (int i : out->touchedRules)
        sortAndMerge(&out->rules[size_t(i)]);
    auto sortUnique = [](std::vector<size_t> &v) {
        // Hyperscan reports by end offset, so these are nearly always sorted already.
        if (!std::is_sorted(v.begin(), v.end()))
            std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    for (int i : out->touchedUnbounded)
        sortUnique(out->unboundedEnds[size_t(i)]);
    for (int i : out->touchedKeywords)
        sortUnique(out->keywordStarts[size_t(i)]);
    return true;
}

bool HyperscanIndex::coversRule(int rule) const { return rule >= 0 && size_t(rule) < d->ruleCovered.size() && d->ruleCovered[size_t(rule)]; }
bool HyperscanIndex::unbounded(int rule) const { return coversRule(rule) && d->ruleMaxWidth[size_t(rule)] == SIZE_MAX; }
bool HyperscanIndex::fromCache() const { return d->fromCache; }

} // namespace gh

#else // !GATEHOUSE_HYPERSCAN: RE2 alone; build() says so and nothing else is ever called.

namespace gh {

struct HyperscanIndex::Private {
};
HyperscanIndex::HyperscanIndex() = default;
HyperscanIndex::~HyperscanIndex() = default;
std::unique_ptr<HyperscanIndex> HyperscanIndex::build(const std::vector<QByteArray> &, const std::vector<QByteArray> &, const QString &,
                                                      QStringList *notes)
{
    notes->append(QStringLiteral("built without Hyperscan"));
    return nullptr;
}
bool HyperscanIndex::scan(std::string_view, Matches *) const { return false; }
bool HyperscanIndex::coversRule(int) const { return false; }
bool HyperscanIndex::unbounded(int) const { return false; }
bool HyperscanIndex::fromCache() const { return false; }
QString HyperscanIndex::version() { return {}; }

} // namespace gh
#endif // GATEHOUSE_HYPERSCAN
