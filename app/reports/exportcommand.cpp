#include "reports/exportcommand.h"
#include "reports/requestexport.h"
#include "reports/spendreport.h"
#include "store/logqueries.h"
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QSaveFile>
#include <cstdio>

namespace gh {

namespace {

constexpr qint64 kDayMs = 86'400'000;

void say(FILE *to, const QString &text)
{
    std::fputs(qPrintable(text), to);
    std::fputc('\n', to);
    std::fflush(to);
}

int usage(const QString &problem)
{
    say(stderr, QStringLiteral("gatehouse export: %1").arg(problem));
    say(stderr, QStringLiteral(
                    "usage: gatehouse export requests [--format csv|jsonl] [--out FILE] [--from DATE] [--to DATE] [--key NAME]\n"
                    "                                 [--model M] [--provider P] [--session S] [--status all|ok|error] [--search TEXT]\n"
                    "                                 [--data-dir DIR]\n"
                    "       gatehouse export spend [--format csv|html] [--out FILE] [--from DATE] [--to DATE] [--data-dir DIR]\n"
                    "DATE is YYYY-MM-DD (a UTC day, --to includes it) or an ISO 8601 date and time."));
    return 2;
}

// A DATE of the command line in ms since the epoch; `end`: the end of a whole day (its last ms).
std::optional<qint64> parseDate(const QString &text, bool end)
{
    const QDate d = QDate::fromString(text, Qt::ISODate);
    if (d.isValid() && text.size() == 10) {
        const qint64 start = QDateTime(d, QTime(0, 0), Qt::UTC).toMSecsSinceEpoch();
        return end ? start + kDayMs - 1 : start;
    }
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        return std::nullopt;
    if (t.timeSpec() == Qt::LocalTime && !text.endsWith(u'Z') && !text.contains(u'+'))
        t.setTimeSpec(Qt::UTC); // no zone given: UTC, as the log keeps time
    return t.toMSecsSinceEpoch();
}

} // namespace

int runExportCommand(const QStringList &arguments, const QString &defaultDataDir)
{
    if (arguments.isEmpty())
        return usage(QStringLiteral("what to export? 'requests' or 'spend'"));
    const QString what = arguments.first();
    if (what != u"requests" && what != u"spend")
        return usage(QStringLiteral("unknown export '%1' (the exports are 'requests' and 'spend')").arg(what));
    static const QStringList requestOptions{QStringLiteral("format"), QStringLiteral("out"), QStringLiteral("from"), QStringLiteral("to"),
                                            QStringLiteral("key"), QStringLiteral("model"), QStringLiteral("provider"), QStringLiteral("session"),
                                            QStringLiteral("status"), QStringLiteral("search"), QStringLiteral("data-dir")};
    static const QStringList spendOptions{QStringLiteral("format"), QStringLiteral("out"), QStringLiteral("from"), QStringLiteral("to"),
                                          QStringLiteral("data-dir")};
    const QStringList &allowed = what == u"requests" ? requestOptions : spendOptions;
    QHash<QString, QString> opt;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        QString a = arguments.at(i);
        if (!a.startsWith(QLatin1String("--")))
            return usage(QStringLiteral("unexpected argument '%1'").arg(a));
        a = a.mid(2);
        QString value;
        if (const qsizetype eq = a.indexOf(u'='); eq >= 0) {
            value = a.mid(eq + 1);
            a = a.left(eq);
        } else {
            if (i + 1 >= arguments.size())
                return usage(QStringLiteral("--%1 needs a value").arg(a));
            value = arguments.at(++i);
        }
        if (!allowed.contains(a))
            return usage(QStringLiteral("'export %1' has no option --%2").arg(what, a));
        if (opt.contains(a))
            return usage(QStringLiteral("--%1 is given twice").arg(a));
        opt.insert(a, value);
    }
    std::optional<qint64> from, to;
    if (opt.contains(QStringLiteral("from")) && !(from = parseDate(opt.value(QStringLiteral("from")), false)))
        return usage(QStringLiteral("--from: '%1' is not a date (YYYY-MM-DD) or an ISO 8601 time").arg(opt.value(QStringLiteral("from"))));
    if (opt.contains(QStringLiteral("to")) && !(to = parseDate(opt.value(QStringLiteral("to")), true)))
        return usage(QStringLiteral("--to: '%1' is not a date (YYYY-MM-DD) or an ISO 8601 time").arg(opt.value(QStringLiteral("to"))));
    if (from && to && *to < *from)
        return usage(QStringLiteral("--to is before --from"));

    const QString dataDir = opt.value(QStringLiteral("data-dir"), defaultDataDir);
    const QString dbPath = QDir(dataDir).filePath(QStringLiteral("gatehouse.db"));
    if (!QFileInfo::exists(dbPath)) {
        say(stderr, QStringLiteral("gatehouse export: no request log at %1 (see --data-dir)").arg(QDir::toNativeSeparators(dbPath)));
        return 1;
    }
    const std::unique_ptr<LogQueries> queries = openSqliteLogQueries(dbPath);

    // The output: a file written under a temporary name and renamed when complete (a failed export
    // leaves no half file that looks whole), or stdout.
    const QString outPath = opt.value(QStringLiteral("out"), QStringLiteral("-"));
    std::unique_ptr<QIODevice> out;
    QSaveFile *file = nullptr;
    if (outPath == u"-") {
        auto *console = new QFile;
        if (!console->open(stdout, QIODevice::WriteOnly)) {
            delete console;
            say(stderr, QStringLiteral("gatehouse export: cannot write to stdout"));
            return 1;
        }
        out.reset(console);
    } else {
        file = new QSaveFile(outPath);
        out.reset(file);
        if (!file->open(QIODevice::WriteOnly)) {
            say(stderr, QStringLiteral("gatehouse export: cannot write %1: %2").arg(outPath, file->errorString()));
            return 1;
        }
    }
    auto finish = [&]() -> bool {
        if (file && !file->commit()) {
            say(stderr, QStringLiteral("gatehouse export: cannot write %1: %2").arg(outPath, file->errorString()));
            return false;
        }
        return true;
    };

    if (what == u"spend") {
        const QString format = opt.value(QStringLiteral("format"), QStringLiteral("csv")).toLower();
        if (format != u"csv" && format != u"html")
            return usage(QStringLiteral("--format: the spend report is 'csv' or 'html'"));
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const qint64 end = to ? *to + 1 : now - now % kDayMs + kDayMs;
        const qint64 start = from ? *from : end - 30 * kDayMs;
        const SpendReport report = buildSpendReport(*queries, start, end);
        if (!report.ok) {
            if (file)
                file->cancelWriting();
            say(stderr, QStringLiteral("gatehouse export: the request log cannot be read"));
            return 1;
        }
        const QByteArray bytes = format == u"csv" ? spendReportCsv(report) : spendReportHtml(report);
        if (out->write(bytes) != bytes.size()) {
            if (file)
                file->cancelWriting();
            say(stderr, QStringLiteral("gatehouse export: cannot write %1: %2").arg(outPath, out->errorString()));
            return 1;
        }
        if (!finish())
            return 1;
        if (file)
            say(stderr, QStringLiteral("gatehouse export: %1 line(s), %2 USD, to %3").arg(report.lines.size()).arg(toUsd(report.total()), 0, 'f', 2).arg(outPath));
        return 0;
    }

    const auto format = exportFormatFromName(opt.value(QStringLiteral("format"), QStringLiteral("csv")));
    if (!format)
        return usage(QStringLiteral("--format: the request log is 'csv' or 'jsonl'"));
    const QString status = opt.value(QStringLiteral("status"), QStringLiteral("all"));
    if (status != u"all" && status != u"ok" && status != u"error")
        return usage(QStringLiteral("--status: 'all', 'ok' or 'error'"));
    ActivityFilter filter;
    filter.key = opt.value(QStringLiteral("key"));
    filter.model = opt.value(QStringLiteral("model"));
    filter.provider = opt.value(QStringLiteral("provider"));
    filter.session = opt.value(QStringLiteral("session"));
    filter.search = opt.value(QStringLiteral("search"));
    filter.status = status;
    filter.fromMs = from.value_or(0);
    filter.toMs = to.value_or(0);
    // Progress on stderr when the rows go to a file, at most about once a second.
    QElapsedTimer clock;
    clock.start();
    qint64 lastSaid = 0;
    const ExportOutcome outcome = exportRequests(*queries, filter, *format, *out, [&](qint64 rows, qint64 total) {
        if (file && (clock.elapsed() - lastSaid >= 1000 || rows == total)) {
            lastSaid = clock.elapsed();
            say(stderr, QStringLiteral("gatehouse export: %1 of %2 request(s) (%3%)")
                            .arg(rows)
                            .arg(total)
                            .arg(total > 0 ? rows * 100 / total : 100));
        }
        return true;
    });
    if (!outcome.ok) {
        if (file)
            file->cancelWriting();
        say(stderr, QStringLiteral("gatehouse export: %1").arg(outcome.error));
        return 1;
    }
    if (!finish())
        return 1;
    if (file)
        say(stderr, QStringLiteral("gatehouse export: %1 request(s) to %2").arg(outcome.rows).arg(outPath));
    return 0;
}

} // namespace gh
