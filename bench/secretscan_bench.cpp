// What secret scanning adds to a request (BENCHMARKS.md, "Secret scanning"): SecretRules::scan over
// an agent-like request body of 100 KB and of 1 MB, built from this repository's own sources as
// tool results (real code: it says "key", "token", "secret" and "password" often, so the keyword
// prefilter lets the generic rules run, the realistic worst case), with and without a few secrets
// planted in it, and the redaction of those. Single-threaded; prints the median of the runs.
// Each body is scanned by both engines (RE2 alone, and Hyperscan in front of RE2 where built with
// it), and the bench fails if their findings differ. The rule set's start cost is printed too:
// RE2's compile, Hyperscan's database compiled (cold) and read back from its cache (warm).
// Usage: secretscan_bench [source root] [re2|hyperscan|both] [body label substring]; one engine and
// one body for callgrind. SECRETSCAN_BENCH_CACHE=dir keeps the compiled database there between runs.
#include "secretscan/secretredact.h"
#include "secretscan/secretrules.h"
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

using namespace gh;

namespace {

QStringList sourceTexts(const QString &root)
{
    QStringList out;
    QDirIterator it(root + QStringLiteral("/app"), {QStringLiteral("*.cpp"), QStringLiteral("*.h")}, QDir::Files, QDirIterator::Subdirectories);
    QStringList files;
    while (it.hasNext())
        files.append(it.next());
    files.sort();
    for (const QString &f : files) {
        QFile file(f);
        if (file.open(QIODevice::ReadOnly))
            out.append(QString::fromUtf8(file.readAll()));
    }
    return out;
}

QByteArray conversation(const QStringList &texts, int targetBytes, const QByteArray &planted)
{
    QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), QStringLiteral("Review this code base.")}}};
    qsizetype size = 0;
    for (int i = 0; size < targetBytes; ++i) {
        QString text = texts.at(i % texts.size()).left(8000);
        if (!planted.isEmpty() && i % 7 == 3)
            text += QStringLiteral("\n# .env\nSTRIPE_API_KEY=") + QString::fromLatin1(planted) + u'\n';
        const QString id = QStringLiteral("toolu_%1").arg(i);
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                    {QStringLiteral("content"), QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_result")},
                                                                                       {QStringLiteral("tool_use_id"), id},
                                                                                       {QStringLiteral("content"), text}}}}});
        size += text.size() + 80;
    }
    QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("model"), QStringLiteral("m")}, {QStringLiteral("max_tokens"), 1024}, {QStringLiteral("messages"), messages}})
                          .toJson(QJsonDocument::Compact);
    body.truncate(targetBytes); // the exact size (the tail is cut: the scanner reads bytes, not JSON)
    return body;
}

// The calling thread's CPU time: on the shared, loaded machine a scan of 1 MB is preempted several
// times (its wall time measures the load); the CPU time is what the scan costs.
double threadCpuUs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

double medianUs(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

QList<SecretFinding> run(const SecretRules &rules, const char *label, const QByteArray &body, int iterations)
{
    QList<SecretFinding> last;
    std::vector<double> scanUs, cpuUs, redactUs;
    qsizetype findings = 0;
    for (int i = 0; i < iterations; ++i) {
        QElapsedTimer t;
        const double cpu = threadCpuUs();
        t.start();
        const QList<SecretFinding> found = rules.scan(body, SecretRules::Memo::Bypass);
        scanUs.push_back(double(t.nsecsElapsed()) / 1000.0);
        cpuUs.push_back(threadCpuUs() - cpu);
        last = found;
        findings = found.size();
        if (!found.isEmpty()) {
            QByteArray copy = body;
            QString rule;
            t.restart();
            (void)redactSecrets(&copy, found, &rule);
            redactUs.push_back(double(t.nsecsElapsed()) / 1000.0);
        }
    }
    const double scan = medianUs(scanUs);
    std::printf("%-9s %-28s %8lld bytes  scan %9.1f us (%5.0f MB/s), CPU %9.1f us  findings %3lld", qPrintable(rules.engine()), label,
                qlonglong(body.size()), scan, double(body.size()) / scan, medianUs(cpuUs), qlonglong(findings));
    if (!redactUs.empty())
        std::printf("  redact %7.1f us", medianUs(redactUs));
    // The same body again through the scan memo (the request path's way): hashed and looked up.
    if (rules.scan(body, SecretRules::Memo::Use) != last) {
        std::printf("  MEMO DIFFERS\n");
        return {};
    }
    std::vector<double> memoUs;
    for (int i = 0; i < iterations; ++i) {
        QElapsedTimer t;
        t.start();
        const QList<SecretFinding> again = rules.scan(body, SecretRules::Memo::Use);
        memoUs.push_back(double(t.nsecsElapsed()) / 1000.0);
        if (again.size() != last.size())
            std::printf("  MEMO DIFFERS\n");
    }
    std::printf("  resent (memo) %6.2f us\n", medianUs(memoUs));
    return last;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QString root = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(GH_SOURCE_DIR);
    QByteArray only = argc > 2 ? QByteArray(argv[2]) : QByteArray();
    if (only == "both")
        only.clear();
    const QByteArray bodyFilter = argc > 3 ? QByteArray(argv[3]) : QByteArray();
    QFile file(QStringLiteral(":/gatehouse/secret-rules.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "the rule set is not in the binary\n");
        return 1;
    }
    const QByteArray json = file.readAll();
    QElapsedTimer load;
    load.start();
    const auto re2 = SecretRules::fromJson(json, nullptr, SecretRules::Engine::Re2);
    std::printf("rules: %d compiled, %lld skipped, RE2 compile %.1f ms\n", re2->ruleCount(), qlonglong(re2->skipped().size()),
                double(load.nsecsElapsed()) / 1e6);
    // The Hyperscan database, compiled into an empty cache directory, then read back from it.
    QTemporaryDir cache;
    const QString keptCache = qEnvironmentVariable("SECRETSCAN_BENCH_CACHE");
    SecretRules::setCacheDirectory(keptCache.isEmpty() ? cache.path() : keptCache);
    std::shared_ptr<const SecretRules> fast;
    if (only != "re2") {
        for (const char *label : {"compiled", "from the cache"}) {
            load.restart();
            fast = SecretRules::fromJson(json, nullptr);
            const bool ready = fast->waitForEngine(120000);
            std::printf("Hyperscan database %s: %s in %.1f ms (RE2 compile included)\n", label, ready ? "ready" : "NOT available",
                        double(load.nsecsElapsed()) / 1e6);
        }
    }
    const QStringList texts = sourceTexts(root);
    if (texts.isEmpty()) {
        std::fprintf(stderr, "no sources under %s/app\n", qPrintable(root));
        return 1;
    }
    // Made up here, never written down: a Stripe-shaped key.
    const QByteArray planted = "sk_live_" + QByteArray("Zq8XbT3vLw0pKm7NcR2yHd5sGf9jUa").toBase64().left(32).replace('+', 'x').replace('/', 'y').replace('=', 'z');
    // bench/run.sh's body (wrk_chat.lua): "lorem ipsum " repeated in one message.
    auto lorem = [](int bytes) {
        QByteArray b = R"({"model":"bench-model","max_tokens":16,"messages":[{"role":"user","content":")";
        while (b.size() < bytes - 4)
            b += "lorem ipsum ";
        b.truncate(bytes - 4);
        return b + R"("}]})";
    };
    struct Body {
        const char *label;
        QByteArray bytes;
        int iterations;
    };
    const std::vector<Body> bodies{
        {"2 KB lorem (bench/run.sh)", lorem(2048), 2001},
        {"100 KB lorem (bench/run.sh)", lorem(100 * 1024), 301},
        {"2 KB, no secret", conversation(texts, 2 * 1024, {}), 2001},
        {"100 KB, no secret", conversation(texts, 100 * 1024, {}), 301},
        {"100 KB, secrets planted", conversation(texts, 100 * 1024, planted), 301},
        {"1 MB, no secret", conversation(texts, 1024 * 1024, {}), 41},
        {"1 MB, secrets planted", conversation(texts, 1024 * 1024, planted), 41},
    };
    int differences = 0;
    for (const Body &b : bodies) {
        if (!bodyFilter.isEmpty() && !QByteArray(b.label).contains(bodyFilter))
            continue;
        const QList<SecretFinding> a = only == "hyperscan" ? QList<SecretFinding>() : run(*re2, b.label, b.bytes, b.iterations);
        if (fast && only != "re2") {
            const QList<SecretFinding> f = run(*fast, b.label, b.bytes, b.iterations);
            if (only.isEmpty() && f != a) {
                std::printf("  FINDINGS DIFFER: RE2 %lld, Hyperscan %lld\n", qlonglong(a.size()), qlonglong(f.size()));
                ++differences;
            }
        }
    }
    return differences == 0 ? 0 : 1;
}
