// SpendReportExport: the Dashboard's "Spend report…" writes the spend of a period per key, model and
// provider to a file (HTML or CSV), off the UI thread; the periods follow the calendar; a path that
// cannot be written is said, and leaves nothing.
#include "spendreportexport.h"
#include "uitestfixture.h"
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

const qint64 kNow = at(2026, 3, 10, 15);

} // namespace

class TestSpendReportExport : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;
    QTemporaryDir m_out;

    QByteArray writeReport(const QString &format, const QString &period, const QString &name)
    {
        SpendReportExport e(m_fx.backend.get());
        QSignalSpy finished(&e, &SpendReportExport::finished);
        const QString path = m_out.filePath(name);
        if (!e.write(QUrl::fromLocalFile(path), format, period))
            return "not started";
        if (!finished.wait(10'000) || !finished.first().at(0).toBool())
            return "failed";
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("no file");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({key(1, "agent"), key(2, "scripts")},
            {
                record(QStringLiteral("req_feb"), at(2026, 2, 20, 12), 1, QStringLiteral("agent"), QStringLiteral("claude/sonnet"), QStringLiteral("claude"), 4.0),
                record(QStringLiteral("req_m1"), at(2026, 3, 2, 9), 1, QStringLiteral("agent"), QStringLiteral("claude/sonnet"), QStringLiteral("claude"), 1.25),
                record(QStringLiteral("req_m2"), at(2026, 3, 9, 9), 2, QStringLiteral("scripts"), QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai"), 0.5),
            }));
        QVERIFY(m_fx.start(kNow));
        QVERIFY(m_out.isValid());
    }

    void periodsFollowTheCalendar()
    {
        const QDateTime now(QDate(2026, 3, 10), QTime(15, 0));
        const auto ms = [](int y, int m, int d) { return QDateTime(QDate(y, m, d), QTime(0, 0)).toMSecsSinceEpoch(); };
        QCOMPARE(SpendReportExport::period(QStringLiteral("this-month"), now), qMakePair(ms(2026, 3, 1), ms(2026, 3, 11)));
        QCOMPARE(SpendReportExport::period(QStringLiteral("last-month"), now), qMakePair(ms(2026, 2, 1), ms(2026, 3, 1)));
        QCOMPARE(SpendReportExport::period(QStringLiteral("last-30-days"), now), qMakePair(ms(2026, 2, 9), ms(2026, 3, 11)));
        QCOMPARE(SpendReportExport::period(QStringLiteral("forever"), now), qMakePair(qint64(0), qint64(0)));
    }

    void csvOfThisMonth()
    {
        const QByteArray csv = writeReport(QStringLiteral("csv"), QStringLiteral("this-month"), QStringLiteral("march.csv"));
        QVERIFY2(csv.contains("agent") && csv.contains("scripts"), csv.constData());
        QVERIFY2(csv.contains("1.25") && csv.contains("0.5"), csv.constData());
        QVERIFY2(!csv.contains("4.0") && !csv.contains(",4,"), csv.constData()); // February's request is not in March
    }

    void printablePageOfLastMonth()
    {
        const QByteArray html = writeReport(QStringLiteral("html"), QStringLiteral("last-month"), QStringLiteral("february.html"));
        QVERIFY2(html.startsWith("<!DOCTYPE html>") || html.startsWith("<!doctype html>"), html.left(200).constData());
        QVERIFY(html.contains("<svg"));
        QVERIFY(html.contains("claude/sonnet"));
        QVERIFY(!html.contains("openai/gpt-4.1")); // March only
    }

    void unwritablePathIsSaid()
    {
        SpendReportExport e(m_fx.backend.get());
        QSignalSpy finished(&e, &SpendReportExport::finished);
        QVERIFY(!e.write(QUrl::fromLocalFile(QStringLiteral("/proc/no/such/dir/report.html")), QStringLiteral("html"), QStringLiteral("this-month")));
        QCOMPARE(finished.size(), 1);
        QVERIFY(!finished.first().at(0).toBool());
        QVERIFY(finished.first().at(1).toString().contains(QLatin1String("Cannot write")));
        QVERIFY(!e.write(QUrl::fromLocalFile(m_out.filePath(QStringLiteral("x.pdf"))), QStringLiteral("pdf"), QStringLiteral("this-month")));
        QVERIFY(!QFile::exists(m_out.filePath(QStringLiteral("x.pdf"))));
    }
};

QTEST_MAIN(TestSpendReportExport)
#include "tst_spendreportexport.moc"
