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

// The --name value / --name=value options after the export's name, each allowed once. Returns the
// problem with them, or an empty string.
QString parseOptions(const QStringList &arguments, const QString &what, QHash<QString, QString> &opt)
{
    static const QStringList requestOptions{QStringLiteral("format"), QStringLiteral("out"), QStringLiteral("from"), QStringLiteral("to"),
                                            QStringLiteral("key"), QStringLiteral("model"), QStringLiteral("provider"), QStringLiteral("session"),
                                            QStringLiteral("status"), QStringLiteral("search"), QStringLiteral("data-dir")};
    static const QStringList spendOptions{QStringLiteral("format"), QStringLiteral("out"), QStringLiteral("from"), QStringLiteral("to"),
                                          QStringLiteral("data-dir")};
    const QStringList &allowed = what == u"requests" ? requestOptions : spendOptions;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        QString a = arguments.at(i);
        if (!a.startsWith(QLatin1String("--")))
            return QStringLiteral("unexpected argument '%1'").arg(a);
        a = a.mid(2);
        QString value;
        if (const qsizetype eq = a.indexOf(u'='); eq >= 0) {
            value = a.mid(eq + 1);
            a = a.left(eq);
        } else {
            if (i + 1 >= arguments.size())
                return QStringLiteral("--%1 needs a value").arg(a);
            value = arguments.at(++i);
        }
        if (!allowed.contains(a))
            return QStringLiteral("'export %1' has no option --%2").arg(what, a);
        if (opt.contains(a))
            return QStringLiteral("--%1 is given twice").arg(a);
        opt.insert(a, value);
    }
    return {};
}

// --from and --to. Returns the problem with them, or an empty string.
QString parseRange(const QHash<QString, QString> &opt, std::optional<qint64> &from, std::optional<qint64> &to)
{
    if (opt.contains(QStringLiteral("from")) && !(from = parseDate(opt.value(QStringLiteral("from")), false)))
        return QStringLiteral("--from: '%1' is not a date (YYYY-MM-DD) or an ISO 8601 time").arg(opt.value(QStringLiteral("from")));
    if (opt.contains(QStringLiteral("to")) && !(to = parseDate(opt.value(QStringLiteral("to")), true)))
        return QStringLiteral("--to: '%1' is not a date (YYYY-MM-DD) or an ISO 8601 time").arg(opt.value(QStringLiteral("to")));
    if (from && to && *to < *from)
        return QStringLiteral("--to is before --from");
    return {};
}

// Where the export goes: a file written under a temporary name and renamed when complete (a failed
// export leaves no half file that looks whole), or stdout ("-").
class ExportOutput
{
public:
    explicit ExportOutput(QString path) : m_path(std::move(path)) { }

    bool open()
    {
        if (m_path == u"-") {
            auto *console = new QFile;
            if (!console->open(stdout, QIODevice::WriteOnly)) {
                delete console;
                say(stderr, QStringLiteral("gatehouse export: cannot write to stdout"));
                return false;
            }
            m_device.reset(console);
            return true;
        }
        m_file = new QSaveFile(m_path);
        m_device.reset(m_file);
        if (!m_file->open(QIODevice::WriteOnly)) {
            say(stderr, QStringLiteral("gatehouse export: cannot write %1: %2").arg(m_path, m_file->errorString()));
            return false;
        }
        return true;
    }

    // The file renamed into place (nothing to do for stdout); false, said, when that fails.
    bool finish()
    {
        if (m_file && !m_file->commit()) {
            say(stderr, QStringLiteral("gatehouse export: cannot write %1: %2").arg(m_path, m_file->errorString()));
            return false;
        }
        return true;
    }

    // Fails the export with `message`: the file is not written.
    int fail(const QString &message)
    {
        if (m_file)
            m_file->cancelWriting();
        say(stderr, QStringLiteral("gatehouse export: %1").arg(message));
        return 1;
    }

    [[nodiscard]] QIODevice &device() const { return *m_device; }
    [[nodiscard]] bool toFile() const { return m_file != nullptr; }
    [[nodiscard]] const QString &path() const { return m_path; }

private:
    QString m_path;
    std::unique_ptr<QIODevice> m_device;
    QSaveFile *m_file = nullptr; // m_device, when it is a file
};

int exportSpend(const QHash<QString, QString> &opt, LogQueries &queries, std::optional<qint64> from,
                std::optional<qint64> to, ExportOutput &out)
{
    const QString format = opt.value(QStringLiteral("format"), QStringLiteral("csv")).toLower();
    if (format != u"csv" && format != u"html")
        return usage(QStringLiteral("--format: the spend report is 'csv' or 'html'"));
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const qint64 end = to ? *to + 1 : now - now % kDayMs + kDayMs;
    const qint64 start = from ? *from : end - 30 * kDayMs;
    const SpendReport report = buildSpendReport(queries, start, end);
    if (!report.ok)
        return out.fail(QStringLiteral("the request log cannot be read"));
    const QByteArray bytes = format == u"csv" ? spendReportCsv(report) : spendReportHtml(report);
    if (out.device().write(bytes) != bytes.size())
        return out.fail(QStringLiteral("cannot write %1: %2").arg(out.path(), out.device().errorString()));
    if (!out.finish())
        return 1;
    if (out.toFile())
        say(stderr, QStringLiteral("gatehouse export: %1 line(s), %2 USD, to %3").arg(report.lines.size()).arg(toUsd(report.total()), 0, 'f', 2).arg(out.path()));
    return 0;
}

int exportRequestLog(const QHash<QString, QString> &opt, LogQueries &queries, std::optional<qint64> from,
                     std::optional<qint64> to, ExportOutput &out)
{
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
    const ExportOutcome outcome = exportRequests(queries, filter, *format, out.device(), [&](qint64 rows, qint64 total) {
        if (out.toFile() && (clock.elapsed() - lastSaid >= 1000 || rows == total)) {
            lastSaid = clock.elapsed();
            say(stderr, QStringLiteral("gatehouse export: %1 of %2 request(s) (%3%)")
                            .arg(rows)
                            .arg(total)
                            .arg(total > 0 ? rows * 100 / total : 100));
        }
        return true;
    });
    if (!outcome.ok)
        return out.fail(outcome.error);
    if (!out.finish())
        return 1;
    if (out.toFile())
        say(stderr, QStringLiteral("gatehouse export: %1 request(s) to %2").arg(outcome.rows).arg(out.path()));
    return 0;
}

} // namespace

int runExportCommand(const QStringList &arguments, const QString &defaultDataDir)
{
    if (arguments.isEmpty())
        return usage(QStringLiteral("what to export? 'requests' or 'spend'"));
    const QString what = arguments.first();
    if (what != u"requests" && what != u"spend")
        return usage(QStringLiteral("unknown export '%1' (the exports are 'requests' and 'spend')").arg(what));
    QHash<QString, QString> opt;
    if (const QString problem = parseOptions(arguments, what, opt); !problem.isEmpty())
        return usage(problem);
    std::optional<qint64> from, to;
    if (const QString problem = parseRange(opt, from, to); !problem.isEmpty())
        return usage(problem);

    const QString dataDir = opt.value(QStringLiteral("data-dir"), defaultDataDir);
    const QString dbPath = QDir(dataDir).filePath(QStringLiteral("gatehouse.db"));
    if (!QFileInfo::exists(dbPath)) {
        say(stderr, QStringLiteral("gatehouse export: no request log at %1 (see --data-dir)").arg(QDir::toNativeSeparators(dbPath)));
        return 1;
    }
    const std::unique_ptr<LogQueries> queries = openSqliteLogQueries(dbPath);
    ExportOutput out(opt.value(QStringLiteral("out"), QStringLiteral("-")));
    if (!out.open())
        return 1;
    return what == u"spend" ? exportSpend(opt, *queries, from, to, out) : exportRequestLog(opt, *queries, from, to, out);
}

} // namespace gh
