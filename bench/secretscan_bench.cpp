// What secret scanning adds to a request (BENCHMARKS.md, "Secret scanning"): SecretRules::scan over
// an agent-like request body of 100 KB and of 1 MB, built from this repository's own sources as
// tool results (real code: it says "key", "token", "secret" and "password" often, so the keyword
// prefilter lets the generic rules run, the realistic worst case), with and without a few secrets
// planted in it, and the redaction of those. Single-threaded; prints the median of the runs.
#include "secretscan/secretredact.h"
#include "secretscan/secretrules.h"
#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cstdio>
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

double medianUs(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void run(const SecretRules &rules, const char *label, const QByteArray &body, int iterations)
{
    std::vector<double> scanUs, redactUs;
    qsizetype findings = 0;
    for (int i = 0; i < iterations; ++i) {
        QElapsedTimer t;
        t.start();
        const QList<SecretFinding> found = rules.scan(body);
        scanUs.push_back(double(t.nsecsElapsed()) / 1000.0);
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
    std::printf("%-28s %8lld bytes  scan %9.1f us (%7.0f MB/s)  findings %3lld", label, qlonglong(body.size()), scan,
                double(body.size()) / scan, qlonglong(findings));
    if (!redactUs.empty())
        std::printf("  redact %7.1f us", medianUs(redactUs));
    std::printf("\n");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QString root = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(GH_SOURCE_DIR);
    QElapsedTimer load;
    load.start();
    const auto rules = SecretRules::builtin();
    std::printf("rules: %d compiled, %lld skipped, loaded in %.1f ms\n", rules->ruleCount(), qlonglong(rules->skipped().size()),
                double(load.nsecsElapsed()) / 1e6);
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
    run(*rules, "2 KB lorem (bench/run.sh)", lorem(2048), 2001);
    run(*rules, "100 KB lorem (bench/run.sh)", lorem(100 * 1024), 301);
    run(*rules, "2 KB, no secret", conversation(texts, 2 * 1024, {}), 2001);
    run(*rules, "100 KB, no secret", conversation(texts, 100 * 1024, {}), 301);
    run(*rules, "100 KB, secrets planted", conversation(texts, 100 * 1024, planted), 301);
    run(*rules, "1 MB, no secret", conversation(texts, 1024 * 1024, {}), 41);
    run(*rules, "1 MB, secrets planted", conversation(texts, 1024 * 1024, planted), 41);
    return 0;
}
