// LiveStats: per-second buckets over 15 minutes, current rates, axis maxima and chart points.
#include "livestats.h"
#include "store/requestrecord.h"
#include "store/store.h"
#include <QFile>
#include <QTemporaryDir>
#include <sqlite3.h>
#include <QSignalSpy>
#include <QtCharts/QLineSeries>
#include <QTest>

using gh::RequestRecord;
using gh::ui::LiveStats;

namespace {
RequestRecord finished(qint64 tokensIn, qint64 tokensOut, std::optional<double> costUsd)
{
    RequestRecord r;
    r.usage.inputTokens = tokensIn;
    r.usage.outputTokens = tokensOut;
    if (costUsd)
        r.cost = gh::fromUsd(*costUsd);
    return r;
}
} // namespace

class TestLiveStats : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void ratesAndSeries()
    {
        LiveStats s(nullptr);
        QSignalSpy updated(&s, &LiveStats::updated);
        const qint64 t0 = 1'700'000'000'000; // a whole second
        // Second t0: 3 requests; t0+1: 1 request; t0+2: nothing; t0+3: 6 requests.
        for (int i = 0; i < 3; ++i)
            s.record(finished(100, 50, 0.01), t0 + 100 * i);
        s.record(finished(1000, 0, std::nullopt), t0 + 1500);
        for (int i = 0; i < 6; ++i)
            s.record(finished(10, 10, 0.002), t0 + 3000 + i);
        // Ticking during second t0+4: the figures end with t0+3; the second in progress is not shown.
        s.record(finished(1, 1, 100.0), t0 + 4100);
        s.tick(t0 + 4200);
        QCOMPARE(updated.size(), 1);
        // Current: the mean of the last 5 whole seconds (t0-1 .. t0+3): 10 requests / 5.
        QCOMPARE(s.requestsPerSecond(), 2.0);
        QCOMPARE(s.tokensPerSecond(), (3 * 150 + 1000 + 6 * 20) / 5.0);
        // $/hour: the trailing minute's dollars (0.03 + 0.012) times 60.
        QCOMPARE(s.dollarsPerHour(), 0.042 * 60);
        QCOMPARE(s.maxRequestsPerSecond(), 6.0);
        QCOMPARE(s.maxTokensPerSecond(), 1000.0);
        QCOMPARE(s.maxDollarsPerHour(), 0.042 * 60);
        QCOMPARE(s.requestsInWindow(), qint64(10));

        const QList<QPointF> requests = s.points(QStringLiteral("requests"));
        QCOMPARE(requests.size(), LiveStats::kWindowSeconds);
        QCOMPARE(requests.last(), QPointF(0, 6)); // t0+3
        QCOMPARE(requests.at(requests.size() - 2), QPointF(-1, 0));
        QCOMPARE(requests.at(requests.size() - 3), QPointF(-2, 1));
        QCOMPARE(requests.at(requests.size() - 4), QPointF(-3, 3));
        QCOMPARE(requests.first().x(), -899.0);
        const QList<QPointF> dollars = s.points(QStringLiteral("dollars"));
        QCOMPARE(dollars.at(dollars.size() - 4).y(), 0.03 * 60);
        QCOMPARE(dollars.last().y(), 0.042 * 60);

        QLineSeries series;
        s.fillSeries(&series, QStringLiteral("tokens"));
        QCOMPARE(series.count(), LiveStats::kWindowSeconds);
        QCOMPARE(series.at(series.count() - 3), QPointF(-2, 1000));
    }

    void oldSecondsLeaveTheWindow()
    {
        LiveStats s(nullptr);
        const qint64 t0 = 1'700'000'000'000;
        s.record(finished(1, 1, 1.0), t0);
        s.tick(t0 + 1000);
        QCOMPARE(s.requestsInWindow(), qint64(1));
        s.tick(t0 + 1000 + 899'000);
        QCOMPARE(s.requestsInWindow(), qint64(1)); // still the oldest point
        s.tick(t0 + 1000 + 900'000);
        QCOMPARE(s.requestsInWindow(), qint64(0));
        QCOMPARE(s.maxRequestsPerSecond(), 0.0);
        // A slot reused by a later second starts from zero.
        s.record(finished(1, 1, 1.0), t0 + 1000 * 962);
        s.tick(t0 + 1000 * 963);
        QCOMPARE(s.points(QStringLiteral("requests")).last().y(), 1.0);
    }

    // The dashboard's banner text: set while the request log cannot be written, cleared once it can.
    void logProblemFollowsTheStore()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("gatehouse.db"));
        gh::Store store;
        QVERIFY(store.open(path));
        LiveStats s(nullptr);
        s.watchStore(&store);
        QCOMPARE(s.logProblem(), QString());
        sqlite3 *locker = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(path).constData(), &locker), SQLITE_OK);
        QCOMPARE(sqlite3_exec(locker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
        RequestRecord r = finished(1, 1, 0.001);
        r.id = QStringLiteral("req_banner");
        store.appendRequest(r);
        store.flush();
        QTRY_VERIFY_WITH_TIMEOUT(s.logProblem().contains(QLatin1String("cannot be written")), 20'000);
        QCOMPARE(sqlite3_exec(locker, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(locker);
        QTRY_COMPARE_WITH_TIMEOUT(s.logProblem(), QString(), 20'000);
        QCOMPARE(store.requestCount(), qint64(1));
    }
};

QTEST_MAIN(TestLiveStats)
#include "tst_livestats.moc"
