// The request export's pieces: CSV quoting (formulas included), JSON Lines fields, and the stream
// itself over a real log: cancelled by its progress callback, and a write that fails.
#include "reports/requestexport.h"
#include "reports/spendreport.h"
#include "store/store.h"
#include <QBuffer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

class TestRequestExport : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_db;
    static constexpr int kRows = 500;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath(QStringLiteral("gatehouse.db"));
        Store store;
        QString error;
        QVERIFY2(store.open(m_db, &error), qPrintable(error));
        for (int i = 0; i < kRows; ++i) {
            RequestRecord r;
            r.id = QStringLiteral("req_%1").arg(i, 4, 10, QLatin1Char('0'));
            r.startedAtMs = 1'700'000'000'000 + qint64(i) * 1000;
            r.keyId = 1;
            r.keyName = i % 2 ? QStringLiteral("=cmd|' /C calc'!A0") : QStringLiteral("plain, \"quoted\"");
            r.endpoint = QStringLiteral("/v1/chat/completions");
            r.requestedModel = QStringLiteral("m");
            r.provider = QStringLiteral("p");
            r.status = 200;
            r.usage.inputTokens = 10;
            r.usage.cacheReadTokens = 5;
            r.usage.outputTokens = 2;
            r.cost = 1234;
            r.ttftMs = -1;
            store.appendRequest(r);
        }
        store.flush();
        store.close();
    }

    void csvQuotesAndDefusesFormulas()
    {
        QCOMPARE(csvText(QStringLiteral("plain")), QStringLiteral("plain"));
        QCOMPARE(csvText(QStringLiteral("a,b")), QStringLiteral("\"a,b\""));
        QCOMPARE(csvText(QStringLiteral("say \"hi\"")), QStringLiteral("\"say \"\"hi\"\"\""));
        QCOMPARE(csvText(QStringLiteral("=1+1")), QStringLiteral("'=1+1"));
        QCOMPARE(csvText(QStringLiteral("@SUM(A1)")), QStringLiteral("'@SUM(A1)"));
        QCOMPARE(csvText(QStringLiteral("-2,3")), QStringLiteral("\"'-2,3\""));
        QCOMPARE(csvHeader().count(',') + 1, csvLine(RequestRecord{}).count(',') + 1);
    }

    void jsonLineHasEveryField()
    {
        RequestRecord r;
        r.id = QStringLiteral("req_x");
        r.startedAtMs = 1'700'000'000'123;
        r.usage.cacheWrite1hTokens = 7;
        const QByteArray line = jsonLine(r);
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1);
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        QCOMPARE(o.value(QStringLiteral("started_at")).toString(), QStringLiteral("2023-11-14T22:13:20.123Z"));
        QVERIFY(o.value(QStringLiteral("cost_usd")).isNull()); // unpriced: unknown, not 0
        QVERIFY(o.value(QStringLiteral("ttft_ms")).isNull());
        QCOMPARE(o.value(QStringLiteral("usage")).toObject().value(QStringLiteral("cache_write_1h_tokens")).toInt(), 7);
        QVERIFY(o.value(QStringLiteral("refusal")).isNull()); // forwarded, not refused
    }

    // A request Gatehouse refused itself says why in both formats, as Activity shows it.
    void refusalIsExported()
    {
        RequestRecord r;
        r.id = QStringLiteral("req_refused");
        r.status = 400;
        r.error = QStringLiteral("the model's provider may train on prompts");
        r.refusal = QStringLiteral("policy");
        QCOMPARE(QJsonDocument::fromJson(jsonLine(r)).object().value(QStringLiteral("refusal")).toString(),
                 QStringLiteral("policy"));
        QVERIFY(csvHeader().trimmed().endsWith(",refusal"));
        QVERIFY(csvLine(r).trimmed().endsWith(",policy"));
    }

    void streamsEveryRow()
    {
        auto q = openSqliteLogQueries(m_db);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        QList<qint64> seen;
        const ExportOutcome o = exportRequests(*q, ActivityFilter{}, ExportFormat::Csv, out, [&](qint64 rows, qint64 total) {
            seen.append(rows);
            return total == kRows;
        });
        QVERIFY2(o.ok, qPrintable(o.error));
        QCOMPARE(o.rows, kRows);
        QCOMPARE(seen.last(), kRows);
        QVERIFY(seen.size() >= 100); // about every 1%
        const QList<QByteArray> lines = out.data().split('\n');
        QCOMPARE(lines.size(), kRows + 2);
        QVERIFY(lines.at(1).startsWith("req_0499,"));
        QVERIFY2(lines.at(1).contains(",'=cmd|' /C calc'!A0,"), lines.at(1).constData());
        QVERIFY(lines.at(2).contains(",\"plain, \"\"quoted\"\"\","));
    }

    void cancelledByProgress()
    {
        auto q = openSqliteLogQueries(m_db);
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        const ExportOutcome o = exportRequests(*q, ActivityFilter{}, ExportFormat::JsonLines, out, [](qint64 rows, qint64) { return rows < 50; });
        QVERIFY(!o.ok);
        QVERIFY(o.cancelled);
        QCOMPARE(o.rows, 50);
    }

    void writeFailureIsReported()
    {
        auto q = openSqliteLogQueries(m_db);
        QBuffer out; // not open: every write fails
        const ExportOutcome o = exportRequests(*q, ActivityFilter{}, ExportFormat::Csv, out);
        QVERIFY(!o.ok);
        QVERIFY(!o.error.isEmpty());
    }

    void unreadableLogIsReported()
    {
        auto q = openSqliteLogQueries(m_dir.filePath(QStringLiteral("missing/gatehouse.db")));
        QBuffer out;
        out.open(QIODevice::WriteOnly);
        const ExportOutcome o = exportRequests(*q, ActivityFilter{}, ExportFormat::Csv, out);
        QVERIFY(!o.ok);
        QVERIFY(!o.error.isEmpty());
        QVERIFY(!buildSpendReport(*q, 0, 1).ok);
    }
};

QTEST_GUILESS_MAIN(TestRequestExport)
#include "tst_requestexport.moc"
