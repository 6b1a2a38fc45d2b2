#include "budget/budgetledger.h"
#include <QDateTime>
#include <QTest>

#include <atomic>
#include <barrier>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using gh::BudgetLedger;
using gh::BudgetLimits;
using gh::NanoUsd;
using gh::Period;

namespace {

constexpr NanoUsd kCent = 10'000'000; // 0.01 USD in nano-dollars

qint64 localMs(int y, int m, int d, int h = 12, int min = 0, int s = 0, int ms = 0)
{
    const QDateTime dt(QDate(y, m, d), QTime(h, min, s, ms)); // local time
    Q_ASSERT(dt.isValid());
    return dt.toMSecsSinceEpoch();
}

BudgetLimits limits(std::optional<NanoUsd> day, std::optional<NanoUsd> week = {},
                    std::optional<NanoUsd> month = {}, std::optional<NanoUsd> total = {})
{
    BudgetLimits l;
    l.limit = {day, week, month, total};
    return l;
}

BudgetLedger::Reservation expectReservation(const std::variant<BudgetLedger::Reservation, BudgetLedger::Refusal> &v)
{
    if (const auto *r = std::get_if<BudgetLedger::Reservation>(&v))
        return *r;
    const auto &refusal = std::get<BudgetLedger::Refusal>(v);
    qWarning() << "unexpected refusal:" << gh::periodName(refusal.period) << "remaining" << refusal.remaining;
    return {};
}

std::optional<BudgetLedger::Refusal> refusalOf(const std::variant<BudgetLedger::Reservation, BudgetLedger::Refusal> &v)
{
    if (const auto *r = std::get_if<BudgetLedger::Refusal>(&v))
        return *r;
    return std::nullopt;
}

NanoUsd spentIn(const BudgetLedger &l, qint64 key, Period p, qint64 now) { return l.status(key, now)[int(p)].spent; }

#ifdef Q_OS_UNIX
// Sets TZ for the duration of a test (POSIX rule strings need no tz database) and restores it.
class ScopedTimeZone
{
public:
    explicit ScopedTimeZone(const char *tz) : m_had(qEnvironmentVariableIsSet("TZ")), m_old(qgetenv("TZ"))
    {
        qputenv("TZ", tz);
        tzset();
    }
    ~ScopedTimeZone()
    {
        if (m_had)
            qputenv("TZ", m_old);
        else
            qunsetenv("TZ");
        tzset();
    }
    ScopedTimeZone(const ScopedTimeZone &) = delete;
    ScopedTimeZone &operator=(const ScopedTimeZone &) = delete;

private:
    bool m_had;
    QByteArray m_old;
};
#endif

} // namespace

class TestBudgetLedger : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void periodNames()
    {
        QCOMPARE(QByteArray(gh::periodName(Period::Day)), QByteArray("day"));
        QCOMPARE(QByteArray(gh::periodName(Period::Week)), QByteArray("week"));
        QCOMPARE(QByteArray(gh::periodName(Period::Month)), QByteArray("month"));
        QCOMPARE(QByteArray(gh::periodName(Period::Total)), QByteArray("total"));
    }

    void periodStartsInLocalTime()
    {
        // Wednesday 2024-06-12 15:30 local.
        const qint64 now = localMs(2024, 6, 12, 15, 30);
        QCOMPARE(gh::periodStartMs(Period::Day, now), localMs(2024, 6, 12, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Week, now), localMs(2024, 6, 10, 0, 0)); // Monday
        QCOMPARE(gh::periodStartMs(Period::Month, now), localMs(2024, 6, 1, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Total, now), qint64(0));
        // Sunday belongs to the week that began on the Monday before it.
        QCOMPARE(gh::periodStartMs(Period::Week, localMs(2024, 6, 16, 23, 59, 59, 999)), localMs(2024, 6, 10, 0, 0));
        // Monday 00:00 starts a new week; a week can span two months.
        QCOMPARE(gh::periodStartMs(Period::Week, localMs(2024, 6, 17, 0, 0)), localMs(2024, 6, 17, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Week, localMs(2024, 6, 2, 8, 0)), localMs(2024, 5, 27, 0, 0));
        // The last millisecond of a day and of a month.
        QCOMPARE(gh::periodStartMs(Period::Day, localMs(2024, 6, 12, 23, 59, 59, 999)), localMs(2024, 6, 12, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Month, localMs(2024, 2, 29, 23, 59, 59, 999)), localMs(2024, 2, 1, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Month, localMs(2024, 3, 1, 0, 0)), localMs(2024, 3, 1, 0, 0));
        QCOMPARE(gh::periodStartMs(Period::Month, localMs(2025, 1, 1, 0, 0, 0, 1)), localMs(2025, 1, 1, 0, 0));
    }

#ifdef Q_OS_UNIX
    void periodStartsUseLocalNotUtc()
    {
        const ScopedTimeZone tz("IST-5:30"); // UTC+05:30, no DST
        // 2024-06-12T20:00Z is 2024-06-13 01:30 in UTC+05:30: the local day began at 2024-06-12T18:30Z.
        const qint64 now = QDateTime(QDate(2024, 6, 12), QTime(20, 0), Qt::UTC).toMSecsSinceEpoch();
        const qint64 expected = QDateTime(QDate(2024, 6, 12), QTime(18, 30), Qt::UTC).toMSecsSinceEpoch();
        QCOMPARE(gh::periodStartMs(Period::Day, now), expected);
        // 2024-06-13 is a Thursday: the week began on Monday 2024-06-10 00:00 +05:30.
        QCOMPARE(gh::periodStartMs(Period::Week, now),
                 QDateTime(QDate(2024, 6, 9), QTime(18, 30), Qt::UTC).toMSecsSinceEpoch());
        // The ledger rolls over at local midnight, not at UTC midnight.
        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent));
        const qint64 before = expected - 1;
        l.settle(expectReservation(l.reserve(1, 10 * kCent, before)), 10 * kCent, before);
        QCOMPARE(spentIn(l, 1, Period::Day, before), 10 * kCent);
        QCOMPARE(spentIn(l, 1, Period::Day, expected), NanoUsd(0));
    }

    void dstDayWithoutMidnight()
    {
        // Summer time starts on the first Monday of October at 00:00, which jumps to 01:00: on
        // Monday 2024-10-07, midnight does not exist; the day and the week begin at 01:00 (UTC-2).
        const ScopedTimeZone tz("XST3XDT,M10.1.1/0,M2.3.0/0");
        if (QDateTime(QDate(2024, 10, 7), QTime(0, 30)).isValid()
            && QDateTime(QDate(2024, 10, 7), QTime(0, 30)).time() == QTime(0, 30))
            QSKIP("the C library ignored the POSIX TZ rule");
        const auto utc = [](int d, int h, int m = 0) {
            return QDateTime(QDate(2024, 10, d), QTime(h, m), Qt::UTC).toMSecsSinceEpoch();
        };
        const qint64 dayStart = utc(7, 3); // 01:00 UTC-2
        QCOMPARE(gh::periodStartMs(Period::Day, utc(7, 15)), dayStart);
        QCOMPARE(gh::periodStartMs(Period::Week, utc(9, 15)), dayStart);
        QCOMPARE(gh::periodStartMs(Period::Day, dayStart), dayStart);
        // The millisecond before is Sunday 23:59:59.999 UTC-3, in the day that began 2024-10-06 00:00 UTC-3.
        QCOMPARE(gh::periodStartMs(Period::Day, dayStart - 1), utc(6, 3));
        QCOMPARE(gh::periodStartMs(Period::Week, dayStart - 1), QDateTime(QDate(2024, 9, 30), QTime(3, 0), Qt::UTC).toMSecsSinceEpoch());
        // That 23-hour day ends at the next local midnight, 2024-10-08 00:00 UTC-2.
        QCOMPARE(gh::periodStartMs(Period::Day, utc(8, 2) - 1), dayStart);
        QCOMPARE(gh::periodStartMs(Period::Day, utc(8, 2)), utc(8, 2));

        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent, 100 * kCent));
        l.settle(expectReservation(l.reserve(1, 30 * kCent, dayStart - 1)), 30 * kCent, dayStart - 1);
        const auto s = l.status(1, dayStart);
        QCOMPARE(s[int(Period::Day)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Week)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Month)].spent, 30 * kCent);
    }
#endif

    void reserveSettleReleaseArithmetic()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(7, limits(100 * kCent, 200 * kCent, 300 * kCent, 400 * kCent));
        l.setSpent(7, Period::Day, 10 * kCent, now);
        l.setSpent(7, Period::Week, 20 * kCent, now);
        l.setSpent(7, Period::Month, 30 * kCent, now);
        l.setSpent(7, Period::Total, 40 * kCent, now);

        const auto a = expectReservation(l.reserve(7, 25 * kCent, now));
        QVERIFY(a);
        QCOMPARE(a.keyId, qint64(7));
        QCOMPARE(a.amount, 25 * kCent);
        QCOMPARE(a.startedAtMs, now);
        const auto b = expectReservation(l.reserve(7, 5 * kCent, now + 1));
        QVERIFY(b);
        QVERIFY(a.id != b.id);
        QCOMPARE(l.reservedTotal(7), 30 * kCent);
        QCOMPARE(l.inFlight(7), 2);

        auto s = l.status(7, now + 2);
        const NanoUsd expectedSpent[] = {10 * kCent, 20 * kCent, 30 * kCent, 40 * kCent};
        for (int p = 0; p < gh::kPeriodCount; ++p) {
            QCOMPARE(s[p].spent, expectedSpent[p]);
            QCOMPARE(s[p].reserved, 30 * kCent);
            QCOMPARE(s[p].remaining(), std::optional<NanoUsd>((p + 1) * 100 * kCent - expectedSpent[p] - 30 * kCent));
        }

        l.settle(a, 12 * kCent, now + 3); // real cost below the worst case
        l.release(b);
        QCOMPARE(l.reservedTotal(7), NanoUsd(0));
        QCOMPARE(l.inFlight(7), 0);
        s = l.status(7, now + 4);
        for (int p = 0; p < gh::kPeriodCount; ++p) {
            QCOMPARE(s[p].spent, expectedSpent[p] + 12 * kCent);
            QCOMPARE(s[p].reserved, NanoUsd(0));
        }

        // Settling or releasing twice, or a reservation the ledger never made, changes nothing.
        l.settle(a, 50 * kCent, now + 5);
        l.release(a);
        l.release(b);
        l.settle(BudgetLedger::Reservation{}, 50 * kCent, now + 5);
        BudgetLedger::Reservation forged;
        forged.id = 999'999;
        forged.keyId = 7;
        forged.amount = 80 * kCent;
        l.settle(forged, 80 * kCent, now + 5);
        l.release(forged);
        s = l.status(7, now + 6);
        QCOMPARE(s[int(Period::Day)].spent, 22 * kCent);
        QCOMPARE(l.reservedTotal(7), NanoUsd(0));

        // A reservation of another key does not touch this one.
        l.setLimits(8, limits(5 * kCent));
        const auto other = expectReservation(l.reserve(8, 5 * kCent, now));
        QVERIFY(other);
        QCOMPARE(l.reservedTotal(7), NanoUsd(0));
        l.settle(other, 5 * kCent, now);
        QCOMPARE(spentIn(l, 8, Period::Day, now), 5 * kCent);
        QCOMPARE(spentIn(l, 7, Period::Day, now), 22 * kCent);
    }

    void exactFitAndZeroWorstCase()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent));
        const auto r = expectReservation(l.reserve(1, 10 * kCent, now)); // exactly the limit fits
        QVERIFY(r);
        QVERIFY(refusalOf(l.reserve(1, 1, now))); // one nano-dollar more does not
        const auto free = expectReservation(l.reserve(1, 0, now)); // a free model still fits
        QVERIFY(free);
        QCOMPARE(free.amount, NanoUsd(0));
        l.settle(free, 0, now);
        l.settle(r, 10 * kCent, now);
        QVERIFY(expectReservation(l.reserve(1, 0, now)));
        QCOMPARE(l.status(1, now)[0].remaining(), std::optional<NanoUsd>(0));
    }

    void refusalDetails_data()
    {
        QTest::addColumn<int>("period");
        QTest::newRow("day") << int(Period::Day);
        QTest::newRow("week") << int(Period::Week);
        QTest::newRow("month") << int(Period::Month);
        QTest::newRow("total") << int(Period::Total);
    }
    void refusalDetails()
    {
        QFETCH(int, period);
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        BudgetLimits lim;
        lim.limit[period] = 100 * kCent;
        l.setLimits(3, lim);
        l.setSpent(3, Period(period), 60 * kCent, now);
        const auto held = expectReservation(l.reserve(3, 25 * kCent, now));
        QVERIFY(held);

        const auto refusal = refusalOf(l.reserve(3, 16 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(int(refusal->period), period);
        QCOMPARE(refusal->limit, 100 * kCent);
        QCOMPARE(refusal->remaining, 15 * kCent);
        QCOMPARE(refusal->worstCase, 16 * kCent);
        QCOMPARE(l.reservedTotal(3), 25 * kCent); // a refusal reserves nothing
        QVERIFY(expectReservation(l.reserve(3, 15 * kCent, now)));
        QCOMPARE(l.reservedTotal(3), 40 * kCent);
    }

    void refusalNamesFirstPeriodThatDoesNotFit()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        // Day has room; week and total do not: week is named (Day, Week, Month, Total order).
        l.setLimits(1, limits(100 * kCent, 50 * kCent, std::nullopt, 20 * kCent));
        auto refusal = refusalOf(l.reserve(1, 60 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->period, Period::Week);
        QCOMPARE(refusal->remaining, 50 * kCent);
        // Below the week limit but above the total.
        refusal = refusalOf(l.reserve(1, 30 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->period, Period::Total);
        QCOMPARE(refusal->remaining, 20 * kCent);
        QVERIFY(expectReservation(l.reserve(1, 20 * kCent, now)));
    }

    void overspentRemainingIsZero()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent));
        const auto r = expectReservation(l.reserve(1, 5 * kCent, now));
        l.settle(r, 14 * kCent, now); // the real cost exceeded the worst case: still recorded in full
        const auto s = l.status(1, now);
        QCOMPARE(s[0].spent, 14 * kCent);
        QCOMPARE(s[0].remaining(), std::optional<NanoUsd>(0));
        const auto refusal = refusalOf(l.reserve(1, 0, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->remaining, NanoUsd(0));
        QCOMPARE(refusal->worstCase, NanoUsd(0));
    }

    void unlimitedAndUnknownKeysStillTrackSpend()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, BudgetLimits{});
        QVERIFY(!BudgetLimits{}.any());
        QVERIFY(limits(std::nullopt, std::nullopt, std::nullopt, 1).any());
        for (qint64 key : {qint64(1), qint64(42)}) { // 42 was never configured
            const auto r = expectReservation(l.reserve(key, 1'000'000 * kCent, now));
            QVERIFY(r);
            QCOMPARE(l.reservedTotal(key), 1'000'000 * kCent);
            l.settle(r, 3 * kCent, now);
            const auto s = l.status(key, now);
            for (int p = 0; p < gh::kPeriodCount; ++p) {
                QCOMPARE(s[p].spent, 3 * kCent);
                QCOMPARE(s[p].remaining(), std::optional<NanoUsd>());
            }
        }
        // A key the ledger has never seen reports nothing.
        const auto none = l.status(1234, now);
        QCOMPARE(none[0].spent, NanoUsd(0));
        QVERIFY(!none[0].limit);
        QCOMPARE(l.reservedTotal(1234), NanoUsd(0));
    }

    void hostileAmounts()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent));
        // A worst case so large that spent + reserved + worstCase would overflow must be refused.
        l.setSpent(1, Period::Day, 5 * kCent, now);
        const auto big = expectReservation(l.reserve(2, std::numeric_limits<NanoUsd>::max(), now)); // unlimited key
        QVERIFY(big);
        QCOMPARE(l.reservedTotal(2), std::numeric_limits<NanoUsd>::max());
        QVERIFY(expectReservation(l.reserve(2, std::numeric_limits<NanoUsd>::max(), now))); // saturates, no wrap
        QCOMPARE(l.reservedTotal(2), std::numeric_limits<NanoUsd>::max());
        const auto refusal = refusalOf(l.reserve(1, std::numeric_limits<NanoUsd>::max(), now));
        QVERIFY(refusal);
        QCOMPARE(refusal->remaining, 5 * kCent);
        // Negative inputs are treated as 0: they cannot create budget.
        const auto neg = expectReservation(l.reserve(1, -50 * kCent, now));
        QVERIFY(neg);
        QCOMPARE(neg.amount, NanoUsd(0));
        l.settle(neg, -50 * kCent, now);
        QCOMPARE(spentIn(l, 1, Period::Day, now), 5 * kCent);
        l.setSpent(1, Period::Day, -1, now);
        QCOMPARE(spentIn(l, 1, Period::Day, now), NanoUsd(0));
        l.setLimits(3, limits(-kCent));
        QCOMPARE(l.status(3, now)[0].limit, std::optional<NanoUsd>(0));
        QVERIFY(refusalOf(l.reserve(3, 1, now)));
    }

    void extremeTimestamps()
    {
        // A broken clock must not crash the ledger or let a limited key overspend.
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent));
        for (qint64 t : {std::numeric_limits<qint64>::min(), qint64(-1), qint64(0), std::numeric_limits<qint64>::max()}) {
            const auto r = expectReservation(l.reserve(1, 6 * kCent, t));
            QVERIFY(r);
            QVERIFY(refusalOf(l.reserve(1, 6 * kCent, t))); // 6 reserved + 6 > 10, whatever the period
            l.settle(r, 6 * kCent, t);
            QCOMPARE(l.reservedTotal(1), NanoUsd(0));
            (void)gh::periodStartMs(Period::Week, t);
        }
        QCOMPARE(l.status(1, std::numeric_limits<qint64>::max())[int(Period::Total)].spent, 24 * kCent);
    }

    void rolloverAtLocalMidnight()
    {
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent, 100 * kCent, 1000 * kCent, 10000 * kCent));
        const qint64 wedLate = localMs(2024, 6, 12, 23, 59, 59, 999);
        const qint64 thuEarly = localMs(2024, 6, 13, 0, 0);
        l.settle(expectReservation(l.reserve(1, 10 * kCent, wedLate)), 10 * kCent, wedLate);
        QVERIFY(refusalOf(l.reserve(1, 1, wedLate)));
        // A new day: the day's spend starts again; week, month and total keep counting.
        const auto r = expectReservation(l.reserve(1, 10 * kCent, thuEarly));
        QVERIFY(r);
        l.settle(r, 4 * kCent, thuEarly + 10);
        const auto s = l.status(1, thuEarly + 20);
        QCOMPARE(s[int(Period::Day)].spent, 4 * kCent);
        QCOMPARE(s[int(Period::Week)].spent, 14 * kCent);
        QCOMPARE(s[int(Period::Month)].spent, 14 * kCent);
        QCOMPARE(s[int(Period::Total)].spent, 14 * kCent);
        // status() alone already shows the next day as empty, without changing anything.
        QCOMPARE(spentIn(l, 1, Period::Day, localMs(2024, 6, 14, 0, 0)), NanoUsd(0));
        QCOMPARE(spentIn(l, 1, Period::Day, thuEarly + 30), 4 * kCent);
    }

    void rolloverAtMondayAndMonthStart()
    {
        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent, 100 * kCent, 100 * kCent, 1000 * kCent));
        const auto spend = [&](qint64 at, NanoUsd cost) {
            l.settle(expectReservation(l.reserve(1, cost, at)), cost, at);
        };
        // Sunday 2024-06-09 -> Monday 2024-06-10: day and week roll over, month does not.
        spend(localMs(2024, 6, 9, 23, 0), 7 * kCent);
        auto s = l.status(1, localMs(2024, 6, 10, 0, 0));
        QCOMPARE(s[int(Period::Day)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Week)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Month)].spent, 7 * kCent);
        spend(localMs(2024, 6, 10, 0, 0), 2 * kCent);
        // Friday 2024-05-31 -> Saturday 2024-06-01 with a new ledger: day and month, not week.
        BudgetLedger m;
        m.setLimits(1, limits(100 * kCent, 100 * kCent, 100 * kCent));
        m.settle(expectReservation(m.reserve(1, 9 * kCent, localMs(2024, 5, 31, 22))), 9 * kCent, localMs(2024, 5, 31, 22));
        s = m.status(1, localMs(2024, 6, 1, 0, 0, 0, 1));
        QCOMPARE(s[int(Period::Day)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Week)].spent, 9 * kCent);
        QCOMPARE(s[int(Period::Month)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Total)].spent, 9 * kCent);
        // The week limit still holds across the month boundary.
        m.setLimits(1, limits(100 * kCent, 10 * kCent, 100 * kCent));
        const auto refusal = refusalOf(m.reserve(1, 2 * kCent, localMs(2024, 6, 1, 9)));
        QVERIFY(refusal);
        QCOMPARE(refusal->period, Period::Week);
        QCOMPARE(refusal->remaining, kCent);
        // Back on the first ledger: a month later only total remembers.
        s = l.status(1, localMs(2024, 7, 1, 0, 0));
        QCOMPARE(s[int(Period::Day)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Week)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Month)].spent, NanoUsd(0));
        QCOMPARE(s[int(Period::Total)].spent, 9 * kCent);
    }

    void requestAcrossMidnightIsYesterdaysSpend()
    {
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent, 100 * kCent));
        const qint64 start = localMs(2024, 6, 12, 23, 59, 30);
        const qint64 end = localMs(2024, 6, 13, 0, 0, 30);
        const auto r = expectReservation(l.reserve(1, 10 * kCent, start));
        QVERIFY(r);
        // While in flight past midnight, the reservation still counts against the new day.
        QVERIFY(refusalOf(l.reserve(1, 1, end)));
        l.settle(r, 6 * kCent, end);
        const auto s = l.status(1, end);
        QCOMPARE(s[int(Period::Day)].spent, NanoUsd(0)); // it was yesterday's
        QCOMPARE(s[int(Period::Week)].spent, 6 * kCent); // same week
        QCOMPARE(s[int(Period::Day)].reserved, NanoUsd(0));
        QVERIFY(expectReservation(l.reserve(1, 10 * kCent, end)));
    }

    void ledgerRecordWinsOverAlteredCopy()
    {
        // The caller's copy only identifies the reservation: amount, key and start come from the ledger.
        const qint64 now = localMs(2024, 6, 12, 10);
        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent));
        l.setLimits(2, limits(100 * kCent));
        const auto r = expectReservation(l.reserve(1, 30 * kCent, now));
        QVERIFY(r);
        auto altered = r;
        altered.amount = 1;
        altered.keyId = 2;
        altered.startedAtMs = localMs(2024, 6, 11, 10); // as if it began yesterday
        l.settle(altered, 7 * kCent, now);
        QCOMPARE(l.reservedTotal(1), NanoUsd(0));
        QCOMPARE(spentIn(l, 1, Period::Day, now), 7 * kCent); // counted today, on key 1
        QCOMPARE(spentIn(l, 2, Period::Day, now), NanoUsd(0));
        l.settle(r, 7 * kCent, now); // already settled
        QCOMPARE(spentIn(l, 1, Period::Day, now), 7 * kCent);
    }

    void staleTimestampDoesNotRollBack()
    {
        // A thread that read the clock just before midnight but takes the lock after another thread
        // rolled the day over must not wipe the new day's spend.
        BudgetLedger l;
        l.setLimits(1, limits(10 * kCent));
        const qint64 after = localMs(2024, 6, 13, 0, 0, 1);
        l.settle(expectReservation(l.reserve(1, 8 * kCent, after)), 8 * kCent, after);
        const qint64 stale = localMs(2024, 6, 12, 23, 59, 59, 990);
        const auto refusal = refusalOf(l.reserve(1, 3 * kCent, stale));
        QVERIFY(refusal);
        QCOMPARE(refusal->remaining, 2 * kCent);
        QCOMPARE(spentIn(l, 1, Period::Day, after), 8 * kCent);
        // A clock that really went back (hours) starts that day's period afresh.
        QVERIFY(expectReservation(l.reserve(1, 3 * kCent, localMs(2024, 6, 12, 20))));
    }

    void setSpentFromTheLog()
    {
        const qint64 now = localMs(2024, 6, 12, 9);
        BudgetLedger l;
        l.setLimits(5, limits(100 * kCent, 300 * kCent, 500 * kCent, 900 * kCent));
        l.setSpent(5, Period::Day, 95 * kCent, now);
        l.setSpent(5, Period::Week, 120 * kCent, now);
        l.setSpent(5, Period::Month, 400 * kCent, now);
        l.setSpent(5, Period::Total, 880 * kCent, now);
        auto refusal = refusalOf(l.reserve(5, 6 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->period, Period::Day);
        QCOMPARE(refusal->remaining, 5 * kCent);
        // setSpent replaces, it does not add.
        l.setSpent(5, Period::Day, 0, now);
        refusal = refusalOf(l.reserve(5, 21 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->period, Period::Total);
        QCOMPARE(refusal->remaining, 20 * kCent);
        // Spend set before the limits (start-up order may vary) is kept by setLimits.
        BudgetLedger m;
        m.setSpent(6, Period::Month, 40 * kCent, now);
        m.setLimits(6, limits(std::nullopt, std::nullopt, 50 * kCent));
        refusal = refusalOf(m.reserve(6, 11 * kCent, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->remaining, 10 * kCent);
        // The logged spend belongs to today's period: tomorrow starts from 0.
        QCOMPARE(spentIn(l, 5, Period::Day, localMs(2024, 6, 13, 9)), NanoUsd(0));
    }

    void setLimitsWhileReservationsAreInFlight()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent));
        l.setSpent(1, Period::Day, 10 * kCent, now);
        const auto a = expectReservation(l.reserve(1, 30 * kCent, now));
        const auto b = expectReservation(l.reserve(1, 30 * kCent, now));
        QVERIFY(a && b);
        // Lowered below what is spent + reserved: nothing more fits, in-flight requests carry on.
        l.setLimits(1, limits(50 * kCent));
        QCOMPARE(l.reservedTotal(1), 60 * kCent);
        auto refusal = refusalOf(l.reserve(1, 0, now));
        QVERIFY(refusal);
        QCOMPARE(refusal->limit, 50 * kCent);
        QCOMPARE(refusal->remaining, NanoUsd(0));
        l.settle(a, 20 * kCent, now);
        QCOMPARE(spentIn(l, 1, Period::Day, now), 30 * kCent);
        refusal = refusalOf(l.reserve(1, 1, now)); // 30 spent + 30 reserved > 50
        QVERIFY(refusal);
        l.release(b);
        QCOMPARE(l.reservedTotal(1), NanoUsd(0));
        QCOMPARE(l.status(1, now)[0].remaining(), std::optional<NanoUsd>(20 * kCent));
        // Raised, and the day limit removed in favour of a month limit.
        l.setLimits(1, limits(std::nullopt, std::nullopt, 30 * kCent)); // 20 spent this month
        QVERIFY(refusalOf(l.reserve(1, 11 * kCent, now)));
        const auto c = expectReservation(l.reserve(1, 10 * kCent, now));
        QVERIFY(c);
        l.setLimits(1, BudgetLimits{}); // limits dropped entirely: the reservation still settles
        l.settle(c, 10 * kCent, now);
        QCOMPARE(spentIn(l, 1, Period::Month, now), 30 * kCent);
        QCOMPARE(spentIn(l, 1, Period::Day, now), 40 * kCent);
        QCOMPARE(l.reservedTotal(1), NanoUsd(0));
        QCOMPARE(l.inFlight(1), 0);
    }

    void removedKeyMakesSettleANoOp()
    {
        const qint64 now = localMs(2024, 6, 12);
        BudgetLedger l;
        l.setLimits(1, limits(100 * kCent));
        const auto r = expectReservation(l.reserve(1, 30 * kCent, now));
        QVERIFY(r);
        l.removeKey(1);
        l.settle(r, 30 * kCent, now);
        QCOMPARE(l.status(1, now)[0].spent, NanoUsd(0));
        // Re-added with the same id: the old reservation is not this key's and cannot drain it.
        l.setLimits(1, limits(100 * kCent));
        const auto fresh = expectReservation(l.reserve(1, 20 * kCent, now));
        l.release(r);
        l.settle(r, 30 * kCent, now);
        QCOMPARE(l.reservedTotal(1), 20 * kCent);
        QCOMPARE(spentIn(l, 1, Period::Day, now), NanoUsd(0));
        l.settle(fresh, 20 * kCent, now);
        QCOMPARE(spentIn(l, 1, Period::Day, now), 20 * kCent);
        QVERIFY(fresh.id != r.id);
    }

    // THE CONCURRENCY PROOF, part 1: 64 threads start together and each reserves W against a day
    // limit L (L / W not an integer). All reservations are taken before any settles, so exactly
    // floor(L / W) are admitted whatever the interleaving; settles then use real costs <= W.
    void concurrentReservationsAdmitExactlyWhatFits()
    {
        constexpr int kThreads = 64;
        constexpr int kRounds = 200;
        constexpr NanoUsd L = 100 * kCent; // 1.00 USD
        constexpr NanoUsd W = 3 * kCent;   // 0.03 USD
        constexpr int kExpected = int(L / W); // 33
        static_assert(L % W != 0 && kExpected < kThreads);
        const qint64 now = localMs(2024, 6, 12, 10);

        for (int round = 0; round < kRounds; ++round) {
            BudgetLedger ledger;
            ledger.setLimits(1, limits(L));
            // A second key with a fitting-all limit shares the lock, to contend on it.
            ledger.setLimits(2, limits(std::nullopt, 64 * W));
            std::barrier start(kThreads);
            std::barrier reserved(kThreads);
            std::atomic<int> admitted{0};
            std::atomic<int> refused{0};
            std::atomic<int> badRefusals{0};
            std::atomic<NanoUsd> billed{0};
            std::vector<std::thread> threads;
            threads.reserve(kThreads);
            for (int t = 0; t < kThreads; ++t) {
                threads.emplace_back([&, t] {
                    std::minstd_rand rng(unsigned(round * kThreads + t + 1));
                    start.arrive_and_wait();
                    const auto result = ledger.reserve(1, W, now);
                    const auto other = ledger.reserve(2, W, now);
                    reserved.arrive_and_wait();
                    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
                    if (const auto *r = std::get_if<BudgetLedger::Reservation>(&result)) {
                        admitted.fetch_add(1);
                        const NanoUsd actual = NanoUsd(rng() % (W + 1)); // 0 .. W
                        billed.fetch_add(actual);
                        ledger.settle(*r, actual, now + 1);
                    } else {
                        refused.fetch_add(1);
                        const auto &f = std::get<BudgetLedger::Refusal>(result);
                        // With all reservations held, what remains is L - admitted * W, below W.
                        if (f.period != Period::Day || f.worstCase != W || f.limit != L || f.remaining != L % W)
                            badRefusals.fetch_add(1);
                    }
                    if (const auto *r = std::get_if<BudgetLedger::Reservation>(&other))
                        ledger.release(*r);
                    else
                        badRefusals.fetch_add(1);
                });
            }
            for (auto &th : threads)
                th.join();
            QCOMPARE(admitted.load(), kExpected);
            QCOMPARE(refused.load(), kThreads - kExpected);
            QCOMPARE(badRefusals.load(), 0);
            const auto s = ledger.status(1, now + 2)[int(Period::Day)];
            QCOMPARE(s.reserved, NanoUsd(0));
            QCOMPARE(s.spent, billed.load());
            QVERIFY(s.spent <= L);
            QCOMPARE(ledger.inFlight(1), 0);
            QCOMPARE(ledger.reservedTotal(2), NanoUsd(0));
            QCOMPARE(ledger.inFlight(2), 0);
        }
    }

    // Part 2: reserve and settle interleave freely, with the real cost equal to the worst case, so a
    // settle frees nothing: still exactly floor(L / W) admitted, spent == admitted * W <= L.
    void concurrentReserveAndSettleAtFullCost()
    {
        constexpr int kThreads = 64;
        constexpr int kRounds = 200;
        constexpr NanoUsd L = 100 * kCent;
        constexpr NanoUsd W = 3 * kCent;
        const qint64 now = localMs(2024, 6, 12, 10);
        for (int round = 0; round < kRounds; ++round) {
            BudgetLedger ledger;
            ledger.setLimits(1, limits(L, L, L, L));
            std::barrier start(kThreads);
            std::atomic<int> admitted{0};
            std::vector<std::thread> threads;
            threads.reserve(kThreads);
            for (int t = 0; t < kThreads; ++t) {
                threads.emplace_back([&, t] {
                    std::minstd_rand rng(unsigned(round * kThreads + t + 1));
                    start.arrive_and_wait();
                    if (t % 2)
                        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 50));
                    const auto result = ledger.reserve(1, W, now);
                    if (const auto *r = std::get_if<BudgetLedger::Reservation>(&result)) {
                        admitted.fetch_add(1);
                        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 100));
                        ledger.settle(*r, W, now);
                    }
                });
            }
            for (auto &th : threads)
                th.join();
            QCOMPARE(admitted.load(), int(L / W));
            const auto s = ledger.status(1, now);
            for (int p = 0; p < gh::kPeriodCount; ++p) {
                QCOMPARE(s[p].spent, NanoUsd(L / W) * W);
                QCOMPARE(s[p].reserved, NanoUsd(0));
            }
        }
    }

    // Part 3, the mixed variant: varying worst cases, real costs below them or released, requests
    // that keep coming after settles. Every snapshot must satisfy spent + reserved <= L; every
    // refusal must be justified; money is conserved; and at the end the ledger admits exactly what
    // remains and not one nano-dollar more.
    void concurrentMixedTraffic()
    {
        constexpr int kThreads = 64;
        constexpr int kRounds = 40;
        constexpr int kRequestsPerThread = 40;
        constexpr NanoUsd L = 100 * kCent;
        const qint64 now = localMs(2024, 6, 12, 10);
        for (int round = 0; round < kRounds; ++round) {
            BudgetLedger ledger;
            ledger.setLimits(1, limits(L, 3 * L, std::nullopt, 10 * L));
            std::barrier start(kThreads);
            std::atomic<int> violations{0};
            std::atomic<int> badRefusals{0};
            std::atomic<int> admitted{0};
            std::atomic<NanoUsd> billed{0};
            std::vector<std::thread> threads;
            threads.reserve(kThreads);
            for (int t = 0; t < kThreads; ++t) {
                threads.emplace_back([&, t] {
                    std::minstd_rand rng(unsigned(7919 * round + t + 1));
                    start.arrive_and_wait();
                    for (int i = 0; i < kRequestsPerThread; ++i) {
                        const NanoUsd worst = NanoUsd(rng() % (5 * kCent)) + 1;
                        const auto result = ledger.reserve(1, worst, now);
                        const auto snap = ledger.status(1, now)[int(Period::Day)];
                        if (snap.spent + snap.reserved > L || snap.reserved < 0)
                            violations.fetch_add(1);
                        if (const auto *r = std::get_if<BudgetLedger::Reservation>(&result)) {
                            admitted.fetch_add(1);
                            if (rng() % 4)
                                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 30));
                            if (rng() % 5 == 0) {
                                ledger.release(*r);
                            } else {
                                const NanoUsd actual = NanoUsd(rng() % (worst + 1));
                                billed.fetch_add(actual);
                                ledger.settle(*r, actual, now);
                            }
                        } else {
                            const auto &f = std::get<BudgetLedger::Refusal>(result);
                            if (f.period != Period::Day || f.worstCase != worst || f.remaining < 0
                                || f.remaining >= worst || f.limit != L)
                                badRefusals.fetch_add(1);
                        }
                    }
                });
            }
            for (auto &th : threads)
                th.join();
            QCOMPARE(violations.load(), 0);
            QCOMPARE(badRefusals.load(), 0);
            QVERIFY(admitted.load() > 0);
            const auto s = ledger.status(1, now);
            QCOMPARE(s[int(Period::Day)].spent, billed.load());
            QCOMPARE(s[int(Period::Total)].spent, billed.load());
            QCOMPARE(s[int(Period::Day)].reserved, NanoUsd(0));
            QVERIFY(billed.load() <= L);
            QCOMPARE(ledger.inFlight(1), 0);
            // Sequential check of what is left: exactly the remainder fits, one nano more does not.
            const NanoUsd left = L - billed.load();
            const auto refusal = refusalOf(ledger.reserve(1, left + 1, now));
            QVERIFY(refusal);
            QCOMPARE(refusal->remaining, left);
            QVERIFY(expectReservation(ledger.reserve(1, left, now)));
        }
    }
};

QTEST_GUILESS_MAIN(TestBudgetLedger)
#include "tst_budgetledger.moc"
