// `gatehouse export`: the request log as CSV and JSON Lines, filtered as the Activity page filters it,
// and the spend report as CSV and as a printable page, from a log filled by bench/ui_fill_log (the
// gateway's own writer). A log fifteen times larger must not make the export use more memory: rows
// are streamed, never held.
#include "gatewaytestkit.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace gh::test;

namespace {

struct Run {
    int exitCode = -1;
    QByteArray out, err;
    qint64 peakRssKb = 0; // the process's VmHWM, read until it exited
};

QString gatehouseBin()
{
    return qEnvironmentVariable("GATEHOUSE_BIN");
}

// Runs `program args`, reading /proc/PID/status's VmHWM (peak resident memory) while it runs.
Run run(const QString &program, const QStringList &args, int timeoutMs = 120000)
{
    Run r;
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    p.start(program, args);
    if (!p.waitForStarted())
        return r;
    QElapsedTimer clock;
    clock.start();
    const QString status = QStringLiteral("/proc/%1/status").arg(p.processId());
    while (p.state() != QProcess::NotRunning && clock.elapsed() < timeoutMs) {
        QFile f(status);
        if (f.open(QIODevice::ReadOnly)) {
            for (const QByteArray &line : f.readAll().split('\n')) {
                if (line.startsWith("VmHWM:"))
                    r.peakRssKb = qMax(r.peakRssKb, line.mid(6).trimmed().split(' ').first().toLongLong());
            }
        }
        p.waitForFinished(10);
    }
    if (p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// ui_fill_log's rows: key "scripts" for odd i, status 502 when i % 13 == 7, unpriced when i % 17 == 3.
qint64 expectedScriptsErrors(int rows)
{
    qint64 n = 0;
    for (int i = 0; i < rows; ++i)
        n += (i % 2 == 1 && i % 13 == 7) ? 1 : 0;
    return n;
}

} // namespace

class TestExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;
    QString m_small; // data folder with kSmall rows
    static constexpr int kSmall = 20'000;
    static constexpr int kLarge = 300'000;

    bool fill(const QString &dir, int rows)
    {
        const Run r = run(qEnvironmentVariable("UI_FILL_LOG_BIN"), {dir, QString::number(rows)}, 300000);
        if (r.exitCode != 0)
            qWarning() << "ui_fill_log:" << r.out << r.err;
        return r.exitCode == 0;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(!gatehouseBin().isEmpty());
        QVERIFY(!qEnvironmentVariable("UI_FILL_LOG_BIN").isEmpty());
        QVERIFY(m_tmp.isValid());
        m_small = m_tmp.filePath(QStringLiteral("small"));
        QVERIFY(fill(m_small, kSmall));
    }

    void csvOfTheWholeLog()
    {
        const QString out = m_tmp.filePath(QStringLiteral("all.csv"));
        const Run r = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--out"), out,
                                           QStringLiteral("--data-dir"), m_small});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QList<QByteArray> lines = readAll(out).split('\n');
        QCOMPARE(lines.size(), kSmall + 2); // header, rows, the empty piece after the last CRLF
        QVERIFY(lines.first().startsWith("request_id,started_at,key,model,provider"));
        // Newest first: ui_fill_log's last row is the newest.
        QVERIFY2(lines.at(1).startsWith(QStringLiteral("req_bench_%1,").arg(kSmall - 1, 8, 10, QLatin1Char('0')).toUtf8()), lines.at(1).constData());
        QVERIFY2(r.err.contains(QStringLiteral("%1 of %1 request(s) (100%)").arg(kSmall).toUtf8()), r.err.constData());
    }

    void filteredAsActivity()
    {
        const QString out = m_tmp.filePath(QStringLiteral("errors.jsonl"));
        const Run r = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--format"), QStringLiteral("jsonl"),
                                           QStringLiteral("--key"), QStringLiteral("scripts"), QStringLiteral("--status"), QStringLiteral("error"),
                                           QStringLiteral("--out"), out, QStringLiteral("--data-dir"), m_small});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QList<QByteArray> lines = readAll(out).split('\n');
        QCOMPARE(lines.takeLast(), QByteArray());
        QCOMPARE(lines.size(), expectedScriptsErrors(kSmall));
        for (const QByteArray &line : lines) {
            QJsonParseError e;
            const QJsonObject o = QJsonDocument::fromJson(line, &e).object();
            QVERIFY2(e.error == QJsonParseError::NoError, line.constData());
            QCOMPARE(o.value(QStringLiteral("key")).toString(), QStringLiteral("scripts"));
            QCOMPARE(o.value(QStringLiteral("status")).toInt(), 502);
            QVERIFY(o.value(QStringLiteral("cost_usd")).isNull()); // an error costs nothing known
            QVERIFY(o.value(QStringLiteral("usage")).toObject().contains(QStringLiteral("cache_read_tokens")));
        }
        // To stdout without --out, and a time range.
        const Run one = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--format"), QStringLiteral("jsonl"),
                                             QStringLiteral("--from"), QStringLiteral("2000-01-01"), QStringLiteral("--to"), QStringLiteral("2000-01-02"),
                                             QStringLiteral("--data-dir"), m_small});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray());
    }

    void badArgumentsAreRefused_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::newRow("nothing") << QStringList{} << 2;
        QTest::newRow("unknown export") << QStringList{QStringLiteral("keys")} << 2;
        QTest::newRow("format") << QStringList{QStringLiteral("requests"), QStringLiteral("--format"), QStringLiteral("xml")} << 2;
        QTest::newRow("date") << QStringList{QStringLiteral("requests"), QStringLiteral("--from"), QStringLiteral("yesterday")} << 2;
        QTest::newRow("reversed") << QStringList{QStringLiteral("spend"), QStringLiteral("--from"), QStringLiteral("2026-02-01"),
                                                 QStringLiteral("--to"), QStringLiteral("2026-01-01")} << 2;
        QTest::newRow("option of the other export") << QStringList{QStringLiteral("spend"), QStringLiteral("--key"), QStringLiteral("x")} << 2;
        QTest::newRow("no log") << QStringList{QStringLiteral("requests"), QStringLiteral("--data-dir"), QStringLiteral("/nonexistent/gh")} << 1;
        QTest::newRow("unwritable") << QStringList{QStringLiteral("requests"), QStringLiteral("--out"), QStringLiteral("/nonexistent/dir/x.csv")} << 1;
    }
    void badArgumentsAreRefused()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        if (!args.contains(QStringLiteral("--data-dir")))
            args << QStringLiteral("--data-dir") << m_small;
        const Run r = run(gatehouseBin(), QStringList{QStringLiteral("export")} + args);
        QCOMPARE(r.exitCode, exitCode);
        QVERIFY(r.err.startsWith("gatehouse export: "));
        QVERIFY(!QFile::exists(QStringLiteral("/nonexistent/dir/x.csv")));
    }

    // The spend report adds up to what the request rows cost, per key, model and provider.
    void spendReportMatchesTheRows()
    {
        const QString csv = m_tmp.filePath(QStringLiteral("spend.csv"));
        const Run r = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("spend"), QStringLiteral("--out"), csv,
                                           QStringLiteral("--data-dir"), m_small});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        double reported = 0;
        qint64 requests = 0;
        QList<QByteArray> lines = readAll(csv).split('\n');
        QVERIFY(lines.takeFirst().startsWith("period_start,period_end,key,model,provider,requests"));
        for (const QByteArray &line : lines) {
            if (line.trimmed().isEmpty())
                continue;
            const QList<QByteArray> f = line.trimmed().split(',');
            QCOMPARE(f.size(), 10);
            requests += f.at(5).toLongLong();
            reported += f.at(9).toDouble();
        }
        QCOMPARE(lines.size() - 1, 4); // ui_fill_log alternates keys (i % 2) with models (i % 4): 4 pairs
        // The same from the request rows (the fill spans 20000 x 2.5 s: the last 30 days).
        const QString all = m_tmp.filePath(QStringLiteral("all-for-spend.jsonl"));
        QCOMPARE(run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--format"), QStringLiteral("jsonl"),
                                      QStringLiteral("--out"), all, QStringLiteral("--data-dir"), m_small}).exitCode, 0);
        double rows = 0;
        for (const QByteArray &line : readAll(all).split('\n')) {
            if (!line.isEmpty())
                rows += QJsonDocument::fromJson(line).object().value(QStringLiteral("cost_usd")).toString().toDouble();
        }
        QCOMPARE(requests, qint64(kSmall));
        QVERIFY2(qAbs(reported - rows) < 1e-6, qPrintable(QStringLiteral("%1 vs %2").arg(reported, 0, 'f', 9).arg(rows, 0, 'f', 9)));

        const QString page = m_tmp.filePath(QStringLiteral("spend.html"));
        const Run h = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("spend"), QStringLiteral("--format"), QStringLiteral("html"),
                                           QStringLiteral("--out"), page, QStringLiteral("--data-dir"), m_small});
        QVERIFY2(h.exitCode == 0, h.err.constData());
        const QByteArray html = readAll(page);
        QVERIFY(html.startsWith("<!doctype html>"));
        QVERIFY(html.contains("<h2>Spend per day</h2><svg"));
        QVERIFY(html.contains(">claude-code<") && html.contains(">anthropic/claude-haiku-4<"));
        QVERIFY(html.contains(QStringLiteral("$%1").arg(rows, 0, 'f', 2).toUtf8()));
    }

    // Fifteen times the rows, about the same memory: the export streams.
    void memoryStaysBounded()
    {
        const QString large = m_tmp.filePath(QStringLiteral("large"));
        QVERIFY(fill(large, kLarge));
        const QString smallOut = m_tmp.filePath(QStringLiteral("small-mem.csv"));
        const QString largeOut = m_tmp.filePath(QStringLiteral("large-mem.csv"));
        const Run s = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--out"), smallOut,
                                           QStringLiteral("--data-dir"), m_small});
        const Run l = run(gatehouseBin(), {QStringLiteral("export"), QStringLiteral("requests"), QStringLiteral("--out"), largeOut,
                                           QStringLiteral("--data-dir"), large});
        QCOMPARE(s.exitCode, 0);
        QCOMPARE(l.exitCode, 0);
        const qint64 largeBytes = QFileInfo(largeOut).size();
        qInfo("export peak RSS: %lld KiB for %d rows, %lld KiB for %d rows (%lld MiB written)", s.peakRssKb, kSmall, l.peakRssKb, kLarge,
              largeBytes >> 20);
        QVERIFY(s.peakRssKb > 0 && l.peakRssKb > 0);
        QVERIFY(largeBytes > 40ll << 20);
        QVERIFY2(l.peakRssKb - s.peakRssKb < 16 * 1024, qPrintable(QStringLiteral("%1 KiB more").arg(l.peakRssKb - s.peakRssKb)));
    }
};

QTEST_GUILESS_MAIN(TestExport)
#include "tst_export.moc"
