// Sessions as first-class: SessionSpendModel's duration, failures and model mix of today's
// sessions, and SessionTimelineModel's requests of one session in order with their cumulative
// cost, on a real store with rows of two sessions (and one row before today).
#include "sessionspendmodel.h"
#include "sessiontimelinemodel.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtCharts/QLineSeries>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

const qint64 kNow = at(2026, 3, 10, 15);

RequestRecord step(const QString &id, qint64 startedAtMs, const QString &key, const QString &session, const QString &model,
    std::optional<double> costUsd, int status = 200)
{
    RequestRecord r = record(id, startedAtMs, key == QLatin1String("agent") ? 1 : 2, key, model,
        model.section(u'/', 0, 0), costUsd, status, 1000, 40);
    r.sessionId = session;
    return r;
}

double usd(double v) { return double(fromUsd(v)) / 1e9; } // what the store keeps, back in USD

QVariant value(const QAbstractItemModel &m, int row, int role) { return m.data(m.index(row, 0), role); }

} // namespace

class TestSessionTimelineModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        const QString a = QStringLiteral("sess-a");
        const QString b = QStringLiteral("sess-b");
        QVERIFY(m_fx.prepare({key(1, "agent"), key(2, "scripts")},
            {
                step(QStringLiteral("req_a0"), at(2026, 3, 9, 23), QStringLiteral("agent"), a, QStringLiteral("claude/sonnet"), 7.0),
                step(QStringLiteral("req_a1"), at(2026, 3, 10, 9), QStringLiteral("agent"), a, QStringLiteral("claude/sonnet"), 0.10),
                step(QStringLiteral("req_b1"), at(2026, 3, 10, 9, 1), QStringLiteral("scripts"), b, QStringLiteral("openai/gpt"), 0.02),
                step(QStringLiteral("req_a2"), at(2026, 3, 10, 9, 5), QStringLiteral("agent"), a, QStringLiteral("claude/haiku"), 0.01),
                step(QStringLiteral("req_a3"), at(2026, 3, 10, 9, 10), QStringLiteral("agent"), a, QStringLiteral("claude/sonnet"), 0.25),
                step(QStringLiteral("req_a4"), at(2026, 3, 10, 9, 12), QStringLiteral("agent"), a, QStringLiteral("claude/haiku"), std::nullopt),
                step(QStringLiteral("req_a5"), at(2026, 3, 10, 9, 20), QStringLiteral("agent"), a, QStringLiteral("claude/sonnet"), std::nullopt, 429),
                step(QStringLiteral("req_b2"), at(2026, 3, 10, 9, 25), QStringLiteral("scripts"), b, QStringLiteral("openai/gpt"), std::nullopt, 500),
                step(QStringLiteral("req_a6"), at(2026, 3, 10, 9, 30), QStringLiteral("agent"), a, QStringLiteral("claude/opus"), 1.00),
            }));
        QVERIFY(m_fx.start(kNow));
    }

    // Today's part of each session: the row of yesterday is left out.
    void todaysDurationFailuresAndModelMix()
    {
        SessionSpendModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.rowCount(), 2);
        QCOMPARE(value(m, 0, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-a"));
        const double spendA = usd(0.10) + usd(0.01) + usd(0.25) + usd(1.00);
        QCOMPARE(value(m, 0, SessionSpendModel::CostRole).toDouble(), spendA);
        QCOMPARE(value(m, 0, SessionSpendModel::RequestsRole).toLongLong(), 6);
        QCOMPARE(value(m, 0, SessionSpendModel::UnpricedRole).toLongLong(), 1); // a4; a5 was not answered
        QCOMPARE(value(m, 0, SessionSpendModel::FailedRole).toLongLong(), 1); // a5
        QCOMPARE(value(m, 0, SessionSpendModel::DurationRole).toLongLong(), 30 * 60'000); // 09:00 to 09:30
        const QVariantList mix = value(m, 0, SessionSpendModel::ModelsRole).toList();
        QCOMPARE(mix.size(), 3);
        // Most spend first: opus $1 (1 request), sonnet $0.35 (3), haiku $0.01 (2).
        const QVariantMap opus = mix.at(0).toMap(), sonnet = mix.at(1).toMap(), haiku = mix.at(2).toMap();
        QCOMPARE(opus.value("model").toString(), QStringLiteral("claude/opus"));
        QCOMPARE(opus.value("requests").toLongLong(), 1);
        QCOMPARE(opus.value("cost").toDouble(), usd(1.00));
        QCOMPARE(opus.value("share").toDouble(), double(fromUsd(1.00)) / double(fromUsd(1.00) + fromUsd(0.10) + fromUsd(0.01) + fromUsd(0.25)));
        QCOMPARE(sonnet.value("model").toString(), QStringLiteral("claude/sonnet"));
        QCOMPARE(sonnet.value("requests").toLongLong(), 3);
        QCOMPARE(sonnet.value("cost").toDouble(), double(fromUsd(0.10) + fromUsd(0.25)) / 1e9);
        QCOMPARE(haiku.value("model").toString(), QStringLiteral("claude/haiku"));
        QCOMPARE(haiku.value("requests").toLongLong(), 2);
        QCOMPARE(haiku.value("cost").toDouble(), usd(0.01));

        QCOMPARE(value(m, 1, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-b"));
        QCOMPARE(value(m, 1, SessionSpendModel::RequestsRole).toLongLong(), 2);
        QCOMPARE(value(m, 1, SessionSpendModel::FailedRole).toLongLong(), 1);
        QCOMPARE(value(m, 1, SessionSpendModel::UnpricedRole).toLongLong(), 0); // the 500 was not answered
        QCOMPARE(value(m, 1, SessionSpendModel::DurationRole).toLongLong(), 24 * 60'000);
        const QVariantList mixB = value(m, 1, SessionSpendModel::ModelsRole).toList();
        QCOMPARE(mixB.size(), 1);
        QCOMPARE(mixB.at(0).toMap().value("requests").toLongLong(), 2);
        QCOMPARE(mixB.at(0).toMap().value("share").toDouble(), 1.0);
    }

    // The whole session in order (yesterday's row too), cost accumulating; unpriced and failed
    // requests add nothing.
    void timelineAccumulatesInOrder()
    {
        SessionTimelineModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0); // no session yet: nothing read
        QSignalSpy refreshed(&m, &SessionTimelineModel::refreshed);
        m.setSession(QStringLiteral("sess-a"));
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(m.rowCount(), 7);
        const QStringList ids = {"req_a0", "req_a1", "req_a2", "req_a3", "req_a4", "req_a5", "req_a6"};
        NanoUsd total = 0;
        const QList<std::optional<double>> costs = {7.0, 0.10, 0.01, 0.25, std::nullopt, std::nullopt, 1.00};
        for (int i = 0; i < ids.size(); ++i) {
            QCOMPARE(value(m, i, SessionTimelineModel::RequestIdRole).toString(), ids.at(i));
            total += costs.at(i) ? fromUsd(*costs.at(i)) : 0;
            QCOMPARE(value(m, i, SessionTimelineModel::CumulativeRole).toDouble(), double(total) / 1e9);
            QCOMPARE(value(m, i, SessionTimelineModel::PricedRole).toBool(), costs.at(i).has_value());
            QCOMPARE(value(m, i, SessionTimelineModel::CostRole).toDouble(), costs.at(i) ? usd(*costs.at(i)) : 0.0);
        }
        QCOMPARE(value(m, 5, SessionTimelineModel::OkRole).toBool(), false);
        QCOMPARE(value(m, 5, SessionTimelineModel::StatusRole).toInt(), 429);
        QCOMPARE(value(m, 6, SessionTimelineModel::ModelRole).toString(), QStringLiteral("claude/opus"));
        QCOMPARE(value(m, 6, SessionTimelineModel::OffsetRole).toLongLong(), at(2026, 3, 10, 9, 30) - at(2026, 3, 9, 23));
        QCOMPARE(value(m, 1, SessionTimelineModel::InputTokensRole).toLongLong(), 1000);
        QCOMPARE(m.totalCost(), double(total) / 1e9);
        QCOMPARE(m.failed(), 1);
        QCOMPARE(m.unpriced(), 1);
        QCOMPARE(m.firstAt(), double(at(2026, 3, 9, 23)));
        QCOMPARE(m.lastAt(), double(at(2026, 3, 10, 9, 30)));
        QVERIFY(!m.truncated());

        // The step line: two points per request (before and after it), x in minutes from the first.
        QLineSeries line;
        m.fillCumulative(&line);
        const QList<QPointF> points = line.points();
        QCOMPARE(points.size(), 14);
        QCOMPARE(points.at(0), QPointF(0, 0));
        QCOMPARE(points.at(1), QPointF(0, usd(7.0)));
        QCOMPARE(points.at(2), QPointF(600, usd(7.0))); // 23:00 to 09:00
        QCOMPARE(points.at(13), QPointF(630, double(total) / 1e9));

        // Another session: its own requests only.
        m.setSession(QStringLiteral("sess-b"));
        QCOMPARE(m.rowCount(), 0); // the previous session's steps go at once
        QTRY_COMPARE(m.rowCount(), 2);
        QCOMPARE(value(m, 0, SessionTimelineModel::RequestIdRole).toString(), QStringLiteral("req_b1"));
        QCOMPARE(m.totalCost(), usd(0.02));
        QCOMPARE(m.failed(), 1);

        // A session no row carries: empty, not an error.
        m.setSession(QStringLiteral("sess-none"));
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(m.rowCount(), 0);
        QCOMPARE(m.totalCost(), 0.0);
    }

    // New rows of the session join the timeline as they are committed.
    void followsTheLog()
    {
        SessionTimelineModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.setSession(QStringLiteral("sess-b"));
        QTRY_COMPARE(m.rowCount(), 2);
        m_fx.append({step(QStringLiteral("req_b3"), at(2026, 3, 10, 14), QStringLiteral("scripts"), QStringLiteral("sess-b"),
            QStringLiteral("openai/gpt"), 0.5)});
        QTRY_COMPARE(m.rowCount(), 3);
        QCOMPARE(value(m, 2, SessionTimelineModel::RequestIdRole).toString(), QStringLiteral("req_b3"));
        QCOMPARE(m.totalCost(), double(fromUsd(0.02) + fromUsd(0.5)) / 1e9);
    }
};

QTEST_MAIN(TestSessionTimelineModel)
#include "tst_sessiontimelinemodel.moc"
