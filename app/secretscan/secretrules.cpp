#include "secretscan/secretrules.h"
#include "core/logging.h"
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMutex>
#include <re2/re2.h>
#include <re2/set.h>
#include <algorithm>
#include <array>
#include <cmath>
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

bool containsStopword(const QList<QByteArray> &stopwords, std::string_view secret)
{
    if (stopwords.isEmpty())
        return false;
    const QByteArray l = lower(secret);
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
        if (hasStopwords && !containsStopword(a.stopwords, secret))
            return false;
        return hasRegexes || hasStopwords;
    }
    return (hasRegexes && anyRegex(a.regexes, target)) || (hasStopwords && containsStopword(a.stopwords, secret));
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
    return true;
}

// Where a secret sits in the text, and its rule (for the overlap pass).
struct Hit {
    SecretFinding finding;
    bool generic = false;
    int rule = 0;
};

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
    QStringList skipped;
    QJsonObject source;

    void runRule(int index, std::string_view text, size_t from, size_t to, QList<Hit> *hits) const;
};

SecretRules::SecretRules() : d(std::make_unique<Private>()) { }
SecretRules::~SecretRules() = default;

std::shared_ptr<const SecretRules> SecretRules::fromJson(const QByteArray &json, QString *error)
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
    std::vector<QByteArray> &keywords = p.keywords;
    for (const QJsonValue &v : root.value(QStringLiteral("rules")).toArray()) {
        const QJsonObject o = v.toObject();
        Rule r;
        r.id = o.value(QStringLiteral("id")).toString();
        r.description = o.value(QStringLiteral("description")).toString();
        if (r.id.isEmpty()) {
            p.skipped.append(QStringLiteral("(a rule without an id): skipped"));
            continue;
        }
        r.re = compile(o.value(QStringLiteral("regex")).toString(), &why);
        if (!r.re) {
            p.skipped.append(QStringLiteral("%1: %2").arg(r.id, why));
            continue;
        }
        r.entropy = o.value(QStringLiteral("entropy")).toDouble();
        r.secretGroup = o.value(QStringLiteral("secretGroup")).toInt();
        if (r.secretGroup > r.re->NumberOfCapturingGroups()) {
            p.skipped.append(QStringLiteral("%1: secretGroup %2 but %3 groups").arg(r.id).arg(r.secretGroup).arg(r.re->NumberOfCapturingGroups()));
            continue;
        }
        r.luhn = o.value(QStringLiteral("validate")).toString() == QLatin1String("luhn");
        r.generic = r.id.startsWith(QLatin1String("generic")) || r.id == QLatin1String("gatehouse-env-assignment");
        bool listsOk = true;
        for (const QJsonValue &a : o.value(QStringLiteral("allowlists")).toArray()) {
            Allowlist list;
            if (!readAllowlist(a.toObject(), &list, &why)) {
                // Without its allowlist the rule would report what its authors meant to allow: skipped.
                p.skipped.append(QStringLiteral("%1: allowlist: %2").arg(r.id, why));
                listsOk = false;
                break;
            }
            r.allowlists.push_back(std::move(list));
        }
        if (!listsOk)
            continue;
        const int index = int(p.rules.size());
        const QJsonArray kws = o.value(QStringLiteral("keywords")).toArray();
        if (kws.isEmpty())
            p.alwaysRules.push_back(index);
        for (const QJsonValue &k : kws) {
            const QByteArray kw = k.toString().toLower().toUtf8();
            if (kw.isEmpty())
                continue;
            auto it = keywordIndex.constFind(kw);
            int ki;
            if (it == keywordIndex.cend()) {
                ki = int(keywords.size());
                keywordIndex.insert(kw, ki);
                keywords.push_back(kw);
                p.longestKeyword = std::max(p.longestKeyword, size_t(kw.size()));
                p.keywordRules.emplace_back();
            } else {
                ki = *it;
            }
            p.keywordRules[size_t(ki)].push_back(index);
        }
        p.rules.push_back(std::move(r));
    }
    if (!keywords.empty()) {
        re2::RE2::Options o;
        o.set_log_errors(false);
        o.set_literal(true);
        o.set_case_sensitive(false);
        o.set_encoding(re2::RE2::Options::EncodingLatin1);
        o.set_max_mem(kKeywordSetMaxMem);
        p.keywordSet = std::make_unique<re2::RE2::Set>(o, re2::RE2::UNANCHORED);
        for (const QByteArray &kw : keywords) {
            std::string err;
            if (p.keywordSet->Add(re2::StringPiece(kw.constData(), size_t(kw.size())), &err) < 0) {
                qCWarning(lcSecretScan) << "keyword" << kw << "not added:" << err.c_str();
            }
        }
        if (!p.keywordSet->Compile()) {
            // Without the prefilter every rule runs on every text: slower, never blind.
            qCWarning(lcSecretScan) << "the keyword prefilter did not compile; every rule runs on every text";
            p.keywordSet.reset();
            p.alwaysRules.clear();
            for (int i = 0; i < int(p.rules.size()); ++i)
                p.alwaysRules.push_back(i);
        }
    }
    if (!p.skipped.isEmpty())
        qCInfo(lcSecretScan).noquote() << p.skipped.size() << "secret rules skipped:" << p.skipped.join(QStringLiteral("; "));
    return set;
}

std::shared_ptr<const SecretRules> SecretRules::builtin()
{
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

QList<SecretFinding> SecretRules::scan(QByteArrayView text) const
{
    const std::string_view t(text.data(), size_t(text.size()));
    QList<Hit> hits;
    for (int i : d->alwaysRules)
        d->runRule(i, t, 0, t.size(), &hits);
    if (d->keywordSet && !t.empty()) {
        std::vector<int> found;
        re2::RE2::Set::ErrorInfo info;
        const bool matched = d->keywordSet->Match(re2::StringPiece(t.data(), t.size()), &found, &info);
        if (!matched && info.kind != re2::RE2::Set::kNoError) {
            // The prefilter gave up (out of memory): every rule runs over the whole text rather than none.
            for (int i = 0; i < int(d->rules.size()); ++i)
                if (std::find(d->alwaysRules.begin(), d->alwaysRules.end(), i) == d->alwaysRules.end())
                    d->runRule(i, t, 0, t.size(), &hits);
        } else if (matched) {
            // Which keywords occur in which block of the text: the keyword set again, per block
            // (blocks overlap by the longest keyword, so none is cut). One pass of a literal DFA,
            // where searching each keyword's occurrences one by one cost a quarter of the scan.
            std::vector<std::vector<std::pair<size_t, size_t>>> windows(d->rules.size());
            std::vector<char> enabled(d->keywords.size(), 0);
            for (int k : found)
                enabled[size_t(k)] = 1;
            std::vector<int> inBlock;
            for (size_t at = 0; at < t.size(); at += size_t(kBlock)) {
                const size_t blockEnd = std::min(t.size(), at + size_t(kBlock) + d->longestKeyword - 1);
                inBlock.clear();
                if (found.size() == 1 && t.size() <= size_t(kBlock))
                    inBlock = found;
                else if (!d->keywordSet->Match(re2::StringPiece(t.data() + at, blockEnd - at), &inBlock))
                    continue;
                const size_t from = at > size_t(kWindowBefore) ? at - size_t(kWindowBefore) : 0;
                const size_t to = std::min(t.size(), blockEnd + size_t(kWindowAfter));
                for (int k : inBlock) {
                    for (int rule : d->keywordRules[size_t(k)]) {
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
                    d->runRule(int(rule), t, from, to, &hits);
                    if (i < w.size()) {
                        from = w[i].first;
                        to = w[i].second;
                    }
                }
            }
        }
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
