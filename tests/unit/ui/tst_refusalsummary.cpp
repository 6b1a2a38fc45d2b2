// RefusalSummary: the Dashboard's count of today's refusals by kind (requests.refusal), from the log,
// following it as rows are committed; yesterday's and served requests do not count.
#include "refusalsummary.h"
#include "uitestfixture.h"
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

const qint64 kNow = at(2026, 3, 10, 15);

RequestRecord refused(const QString &id, qint64 startedAtMs, const QString &kind, int status = 400)
{
    RequestRecord r = record(id, startedAtMs, 1, QStringLiteral("agent"), QStringLiteral("claude/sonnet"), QStringLiteral("claude"), 0.0, status);
    r.error = QStringLiteral("refused: %1").arg(kind);
    r.refusal = kind;
    return r;
}

} // namespace

class TestRefusalSummary : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({key(1, "agent")},
            {
                refused(QStringLiteral("req_old"), at(2026, 3, 9, 23, 50), QStringLiteral("budget"), 402), // yesterday
                refused(QStringLiteral("req_b1"), at(2026, 3, 10, 9), QStringLiteral("budget"), 402),
                refused(QStringLiteral("req_b2"), at(2026, 3, 10, 10), QStringLiteral("budget"), 402),
                refused(QStringLiteral("req_p1"), at(2026, 3, 10, 11), QStringLiteral("policy")),
                refused(QStringLiteral("req_g1"), at(2026, 3, 10, 11, 30), QStringLiteral("guardrail"), 403),
                record(QStringLiteral("req_ok"), at(2026, 3, 10, 12), 1, QStringLiteral("agent"), QStringLiteral("claude/sonnet"), QStringLiteral("claude"), 0.5),
                record(QStringLiteral("req_502"), at(2026, 3, 10, 12, 30), 1, QStringLiteral("agent"), QStringLiteral("claude/sonnet"), QStringLiteral("claude"), std::nullopt, 502),
            }));
        QVERIFY(m_fx.start(kNow));
    }

    void countsTodaysRefusalsByKind()
    {
        RefusalSummary s(m_fx.backend.get());
        QTRY_COMPARE(s.total(), 4);
        QCOMPARE(s.budget(), 2);
        QCOMPARE(s.policy(), 1);
        QCOMPARE(s.secret(), 0);
        QCOMPARE(s.guardrail(), 1);
    }

    void followsTheLog()
    {
        RefusalSummary s(m_fx.backend.get());
        QTRY_COMPARE(s.total(), 4);
        QSignalSpy changed(&s, &RefusalSummary::changed);
        m_fx.append({refused(QStringLiteral("req_s1"), at(2026, 3, 10, 14), QStringLiteral("secret")),
                     refused(QStringLiteral("req_s2"), at(2026, 3, 10, 14, 30), QStringLiteral("secret"))});
        QTRY_COMPARE(s.secret(), 2);
        QCOMPARE(s.total(), 6);
        QVERIFY(!changed.isEmpty());
    }
};

QTEST_MAIN(TestRefusalSummary)
#include "tst_refusalsummary.moc"
