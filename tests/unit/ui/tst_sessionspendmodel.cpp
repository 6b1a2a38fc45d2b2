// SessionSpendModel: today's spend per client session (x-claude-code-session-id on the log), most
// expensive first, following the log as rows are committed.
#include "sessionspendmodel.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

const qint64 kNow = at(2026, 3, 10, 15);

RequestRecord inSession(const QString &id, qint64 startedAtMs, const QString &key, const QString &session,
    std::optional<double> costUsd, int status = 200)
{
    RequestRecord r = record(id, startedAtMs, key == QLatin1String("agent") ? 1 : 2, key, QStringLiteral("claude/sonnet"),
        QStringLiteral("claude"), costUsd, status);
    r.sessionId = session;
    return r;
}

QVariant value(const SessionSpendModel &m, int row, int role)
{
    return m.data(m.index(row), role);
}

} // namespace

class TestSessionSpendModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({key(1, "agent"), key(2, "scripts")},
            {
                inSession(QStringLiteral("req_old"), at(2026, 3, 9, 23, 50), QStringLiteral("agent"), QStringLiteral("sess-old"), 5.0),
                inSession(QStringLiteral("req_x1"), at(2026, 3, 10, 9), QStringLiteral("agent"), QStringLiteral("sess-x"), 0.01),
                inSession(QStringLiteral("req_x2"), at(2026, 3, 10, 10), QStringLiteral("agent"), QStringLiteral("sess-x"), 0.02),
                inSession(QStringLiteral("req_x3"), at(2026, 3, 10, 11), QStringLiteral("agent"), QStringLiteral("sess-x"), std::nullopt),
                inSession(QStringLiteral("req_x4"), at(2026, 3, 10, 11, 30), QStringLiteral("agent"), QStringLiteral("sess-x"), std::nullopt, 502),
                inSession(QStringLiteral("req_y1"), at(2026, 3, 10, 12), QStringLiteral("scripts"), QStringLiteral("sess-y"), 0.5),
                inSession(QStringLiteral("req_none"), at(2026, 3, 10, 13), QStringLiteral("scripts"), QString(), 1.0),
            }));
        QVERIFY(m_fx.start(kNow));
    }

    void todaysSessionsMostExpensiveFirst()
    {
        SessionSpendModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.rowCount(), 2);
        QCOMPARE(value(m, 0, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-y"));
        QCOMPARE(value(m, 0, SessionSpendModel::KeyNameRole).toString(), QStringLiteral("scripts"));
        QCOMPARE(value(m, 0, SessionSpendModel::CostRole).toDouble(), 0.5);
        QCOMPARE(value(m, 0, SessionSpendModel::RequestsRole).toLongLong(), 1);
        QCOMPARE(value(m, 1, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-x"));
        QVERIFY(qAbs(value(m, 1, SessionSpendModel::CostRole).toDouble() - 0.03) < 1e-12);
        QCOMPARE(value(m, 1, SessionSpendModel::RequestsRole).toLongLong(), 4); // the 502 is a request too
        QCOMPARE(value(m, 1, SessionSpendModel::UnpricedRole).toLongLong(), 1); // the answered one without price
        QCOMPARE(value(m, 1, SessionSpendModel::FirstAtRole).toLongLong(), at(2026, 3, 10, 9));
        QCOMPARE(value(m, 1, SessionSpendModel::LastAtRole).toLongLong(), at(2026, 3, 10, 11, 30));
        QCOMPARE(value(m, 1, SessionSpendModel::DurationRole).toLongLong(), 150 * 60'000);
        QCOMPARE(value(m, 1, SessionSpendModel::FailedRole).toLongLong(), 1); // the 502
        const QVariantList mix = value(m, 1, SessionSpendModel::ModelsRole).toList();
        QCOMPARE(mix.size(), 1);
        QCOMPARE(mix.constFirst().toMap().value(QStringLiteral("model")).toString(), QStringLiteral("claude/sonnet"));
        QCOMPARE(mix.constFirst().toMap().value(QStringLiteral("requests")).toLongLong(), 4);
        QCOMPARE(mix.constFirst().toMap().value(QStringLiteral("share")).toDouble(), 1.0);

        QSignalSpy refreshed(&m, &SessionSpendModel::refreshed);
        m.setLimit(1);
        QVERIFY(refreshed.wait(5000));
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(value(m, 0, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-y"));
    }

    void followsTheLog()
    {
        SessionSpendModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QTRY_COMPARE(m.rowCount(), 2);
        m_fx.append({inSession(QStringLiteral("req_x5"), at(2026, 3, 10, 14), QStringLiteral("agent"), QStringLiteral("sess-x"), 1.0),
            inSession(QStringLiteral("req_z1"), at(2026, 3, 10, 14, 30), QStringLiteral("agent"), QStringLiteral("sess-z"), 0.001)});
        QTRY_COMPARE(m.rowCount(), 3);
        QCOMPARE(value(m, 0, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-x"));
        QVERIFY(qAbs(value(m, 0, SessionSpendModel::CostRole).toDouble() - 1.03) < 1e-12);
        QCOMPARE(value(m, 2, SessionSpendModel::SessionRole).toString(), QStringLiteral("sess-z"));
    }
};

QTEST_MAIN(TestSessionSpendModel)
#include "tst_sessionspendmodel.moc"
