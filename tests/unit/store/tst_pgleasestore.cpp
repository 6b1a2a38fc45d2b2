// The team budget's leases (budget/budgetlease.h) against a real PostgreSQL server (the test
// harness starts one): several instances, each with its own connection, taking and settling
// leases of one key's budget at once must never let the key's spend past its limit.
#include "budget/budgetlease.h"
#include "postgresserver.h"
#include "store/pg.h"
#include "store/pgleasestore.h"
#include "store/store.h"
#include <array>
#include <atomic>
#include <memory>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTest>
#include <QThread>
#include <thread>
#include <vector>

using namespace gh;

namespace {

constexpr NanoUsd kLimit = 50'000'000; // $0.05

BudgetLimits dayLimit(NanoUsd limit)
{
    BudgetLimits l;
    l.limit[int(Period::Day)] = limit;
    return l;
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// One instance: its lease store (own connection), its leases and its ledger, as the gateway has them.
struct Instance {
    std::unique_ptr<PgLeaseStore> store;
    std::unique_ptr<BudgetLease> lease;
    BudgetLedger ledger;
    Instance(const QString &url, const QString &id, LeasePolicy policy, qint64 keyId, NanoUsd limit)
        : store(std::make_unique<PgLeaseStore>(url, id))
        , lease(std::make_unique<BudgetLease>(store.get(), policy))
    {
        ledger.setLimits(keyId, dayLimit(limit));
        ledger.setGate(lease.get());
    }
};

} // namespace

class TestPgLeaseStore : public QObject
{
    Q_OBJECT

    std::unique_ptr<test::PostgresServer> m_server;
    QString m_why;

    // A new database with one key; its URL and the key's id.
    std::pair<QString, qint64> freshKey()
    {
        QString error;
        const QString url = m_server->createDatabase(&error);
        if (url.isEmpty())
            return {QString(), 0};
        Store store;
        if (!store.open(url, &error))
            return {QString(), 0};
        StoredKey key;
        key.name = QStringLiteral("team");
        key.secretHash = QByteArray(32, 'k');
        key.limits.dayUsd = toUsd(kLimit);
        return {url, store.saveKey(key)};
    }

    // What the store counts for the key: the spend settled back, and the live leases' unspent parts.
    static std::pair<qint64, qint64> counts(const QString &url, qint64 keyId)
    {
        pg::Connection conn;
        if (!conn.open(url, nullptr))
            return {-1, -1};
        const qint64 used
            = pg::scalar(conn, "SELECT COALESCE(SUM(used), 0) FROM budget_leases WHERE key_id = ?1", {keyId});
        const qint64 leased = pg::scalar(conn,
            "SELECT COALESCE(SUM(GREATEST(amount - used, 0)), 0) FROM budget_leases "
            "WHERE key_id = ?1 AND expires_at > now()",
            {keyId});
        return {used, leased};
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!test::PostgresServer::installed(&m_why))
            QSKIP(qPrintable(QStringLiteral("PostgreSQL is not installed: %1").arg(m_why)));
        m_server = std::make_unique<test::PostgresServer>();
        QVERIFY2(m_server->start(&m_why), qPrintable(m_why));
    }

    void leasesShrinkWithTheRemainingBudget()
    {
        LeasePolicy p;
        p.share = 4;
        p.maxLease = 1'000;
        QCOMPARE(leaseSize(10, 100'000, p), NanoUsd(1'000)); // capped
        QCOMPARE(leaseSize(10, 2'000, p), NanoUsd(500)); // a quarter of what is free
        QCOMPARE(leaseSize(10, 40, p), NanoUsd(10)); // near the limit: just the request
        QCOMPARE(leaseSize(10, 9, p), NanoUsd(0)); // does not fit: refused
        QCOMPARE(leaseSize(0, 9, p), NanoUsd(0));
    }

    void reservesLocallyAndSettlesBack()
    {
        const auto [url, keyId] = freshKey();
        QVERIFY(keyId > 0);
        Instance a(url, QStringLiteral("a"), LeasePolicy{}, keyId, kLimit);
        auto r = a.ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(r));
        const BudgetLease::Status first = a.lease->status(keyId);
        QVERIFY(first.leaseId > 0);
        QCOMPARE(first.amount, kLimit / 4); // a quarter of the whole budget
        QCOMPARE(first.reserved, NanoUsd(1'000'000));
        a.ledger.settle(std::get<BudgetLedger::Reservation>(r), 400'000, nowMs());
        // A second request fits the lease: no new lease.
        auto r2 = a.ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(r2));
        QCOMPARE(a.lease->status(keyId).leaseId, first.leaseId);
        a.ledger.release(std::get<BudgetLedger::Reservation>(r2));
        QVERIFY(a.lease->reportNow());
        QCOMPARE(counts(url, keyId), std::make_pair(qint64(400'000), qint64(kLimit / 4 - 400'000)));
        a.lease->stop(); // hands the lease back: only its spend stays
        QCOMPARE(counts(url, keyId), std::make_pair(qint64(400'000), qint64(0)));
        QCOMPARE(a.lease->leaseCount(), 0);
    }

    // Three instances, four threads each, on one key: random worst cases and costs up to them,
    // until every instance is refused. The store's spend is exactly what was settled, never past the
    // limit, and the budget ends up used but for less than one request's worst case per instance.
    void concurrentInstancesNeverOvershoot()
    {
        const auto [url, keyId] = freshKey();
        QVERIFY(keyId > 0);
        LeasePolicy policy;
        policy.reportIntervalMs = 20;
        std::vector<std::unique_ptr<Instance>> instances;
        for (int i = 0; i < 3; ++i) {
            instances.push_back(std::make_unique<Instance>(url, QStringLiteral("i%1").arg(i), policy, keyId, kLimit));
            instances.back()->lease->start();
        }
        constexpr NanoUsd kMaxWorst = 200'000;
        std::atomic<qint64> settled{0};
        std::atomic<int> granted{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 12; ++t) {
            threads.emplace_back([&, t] {
                Instance &in = *instances[std::size_t(t % 3)];
                QRandomGenerator rng(quint32(t + 1));
                int refusals = 0;
                for (int n = 0; n < 5'000 && refusals < 20; ++n) {
                    const NanoUsd worst = 10'000 + rng.bounded(int(kMaxWorst - 10'000));
                    auto r = in.ledger.reserve(keyId, worst, nowMs());
                    if (!std::holds_alternative<BudgetLedger::Reservation>(r)) {
                        ++refusals;
                        continue;
                    }
                    ++granted;
                    const NanoUsd cost = rng.bounded(int(worst + 1));
                    in.ledger.settle(std::get<BudgetLedger::Reservation>(r), cost, nowMs());
                    settled += cost;
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        for (auto &in : instances)
            in->lease->stop();
        const auto [used, leased] = counts(url, keyId);
        qInfo() << granted.load() << "requests," << settled.load() << "nano-USD settled of" << kLimit;
        QCOMPARE(used, settled.load());
        QCOMPARE(leased, qint64(0));
        QVERIFY(settled.load() <= kLimit);
        QVERIFY2(granted.load() > 100, "the instances were refused before the budget was used");
    }

    // An instance that dies (no report, no hand-back) holds its lease until the TTL: then its unspent
    // part returns to the others, its settled spend stays.
    void anExpiredLeaseReturnsItsUnspentPart()
    {
        const auto [url, keyId] = freshKey();
        QVERIFY(keyId > 0);
        LeasePolicy policy;
        policy.ttlMs = 1'500;
        policy.marginMs = 500;
        policy.share = 1; // the first lease takes everything
        auto dead = std::make_unique<Instance>(url, QStringLiteral("dead"), policy, keyId, kLimit);
        auto r = dead->ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(r));
        dead->ledger.settle(std::get<BudgetLedger::Reservation>(r), 1'000'000, nowMs());
        QVERIFY(dead->lease->reportNow());
        QCOMPARE(counts(url, keyId), std::make_pair(qint64(1'000'000), qint64(kLimit - 1'000'000)));

        Instance other(url, QStringLiteral("other"), policy, keyId, kLimit);
        auto refused = other.ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Refusal>(refused)); // all leased to "dead"
        QVERIFY(!std::get<BudgetLedger::Refusal>(refused).storeUnreachable);

        QElapsedTimer timer;
        timer.start();
        // The dead instance's own deadline passes first: it stops reserving before the store reclaims.
        QTRY_VERIFY_WITH_TIMEOUT(!dead->lease->status(keyId).live, 2'000);
        QVERIFY(timer.elapsed() < policy.ttlMs);
        bool reclaimed = false;
        while (!reclaimed && timer.elapsed() < 3 * policy.ttlMs) {
            auto r2 = other.ledger.reserve(keyId, 1'000'000, nowMs());
            if (auto *res = std::get_if<BudgetLedger::Reservation>(&r2)) {
                other.ledger.release(*res);
                reclaimed = true;
            } else {
                QThread::msleep(50);
            }
        }
        QVERIFY(reclaimed);
        QVERIFY2(timer.elapsed() >= policy.ttlMs - 100, "reclaimed before the lease expired");
        QCOMPARE(other.lease->status(keyId).amount, kLimit - 1'000'000); // all but the dead one's spend
        dead->lease.reset(); // its hand-back finds the lease expired: no change to the counts
        other.lease->stop();
        QCOMPARE(counts(url, keyId).first, qint64(1'000'000));
    }

    // The store down: requests are served from the current lease until it is used up, then refused
    // as "unreachable" (not "exhausted"); the spend settled meanwhile reaches the store afterwards.
    void servesFromTheLeaseWhileTheStoreIsDown()
    {
        const auto [url, keyId] = freshKey();
        QVERIFY(keyId > 0);
        LeasePolicy policy;
        policy.share = 10; // $0.005 per lease
        Instance a(url, QStringLiteral("a"), policy, keyId, kLimit);
        auto r = a.ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(r));
        a.ledger.settle(std::get<BudgetLedger::Reservation>(r), 1'000'000, nowMs());
        QVERIFY2(m_server->stopServer(&m_why), qPrintable(m_why));
        int served = 1;
        BudgetLedger::Refusal refusal;
        for (;;) {
            auto next = a.ledger.reserve(keyId, 1'000'000, nowMs());
            if (auto *res = std::get_if<BudgetLedger::Reservation>(&next)) {
                a.ledger.settle(*res, 1'000'000, nowMs());
                ++served;
                continue;
            }
            refusal = std::get<BudgetLedger::Refusal>(next);
            break;
        }
        QCOMPARE(served, 5); // the $0.005 lease, $0.001 each
        QVERIFY(refusal.storeUnreachable);
        QVERIFY(!refusal.exhausted());
        QVERIFY(!a.lease->reportNow());
        QVERIFY2(m_server->restartServer(&m_why), qPrintable(m_why));
        QTRY_VERIFY_WITH_TIMEOUT(a.lease->reportNow(), 5'000); // after the store's retry pause
        QCOMPARE(counts(url, keyId).first, qint64(5'000'000));
        auto after = a.ledger.reserve(keyId, 1'000'000, nowMs()); // a new lease
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(after));
        a.ledger.release(std::get<BudgetLedger::Reservation>(after));
    }

    // What the window's team state reads: the leases held (what is left, until when), the store's
    // health (failing while the server is down, with its reason; then reached again), a change
    // notice when a lease is taken and when the health flips, none for a report that changed nothing;
    // and PgTeamReader's view of the instances and of the key's spend.
    void statusForTheWindow()
    {
        const auto [url, keyId] = freshKey();
        QVERIFY(keyId > 0);
        Instance a(url, QStringLiteral("host-a"), LeasePolicy{}, keyId, kLimit);
        std::atomic<int> changes{0};
        a.lease->setOnChange([&changes] { ++changes; });
        QVERIFY(a.lease->held().isEmpty());
        QCOMPARE(a.lease->storeHealth().lastOkMs, qint64(0));
        const qint64 before = nowMs();
        auto r = a.ledger.reserve(keyId, 1'000'000, nowMs());
        QVERIFY(std::holds_alternative<BudgetLedger::Reservation>(r));
        QCOMPARE(changes.load(), 1); // a lease taken
        const QList<BudgetLease::Held> held = a.lease->held();
        QCOMPARE(held.size(), 1);
        QCOMPARE(held.first().keyId, keyId);
        QCOMPARE(held.first().amount, kLimit / 4);
        QCOMPARE(held.first().left, kLimit / 4 - 1'000'000);
        QVERIFY(held.first().live);
        // Usable until the TTL less the margin after it was taken.
        QVERIFY(held.first().usableUntilMs >= before + LeasePolicy{}.ttlMs - LeasePolicy{}.marginMs - 50);
        QVERIFY(held.first().usableUntilMs <= nowMs() + LeasePolicy{}.ttlMs - LeasePolicy{}.marginMs + 50);
        QVERIFY(!a.lease->storeHealth().failing);
        QVERIFY(a.lease->storeHealth().lastOkMs >= before);
        a.ledger.settle(std::get<BudgetLedger::Reservation>(r), 300'000, nowMs());
        QVERIFY(a.lease->reportNow());
        QCOMPARE(changes.load(), 1); // renewed, nothing else: no notice

        // Another instance's request in the log, and this one's lease: both seen, the spend counted.
        {
            Store other;
            other.setInstanceId(QStringLiteral("host-b"));
            QVERIFY2(other.open(url, &m_why), qPrintable(m_why));
            RequestRecord rec;
            rec.id = QStringLiteral("req_b");
            rec.startedAtMs = nowMs();
            rec.keyId = keyId;
            rec.keyName = QStringLiteral("team");
            rec.status = 200;
            rec.cost = 2'000'000;
            other.appendRequest(rec);
            other.flush();
            other.close();
        }
        PgTeamReader reader(url, QStringLiteral("host-a"));
        QList<PgTeamReader::Peer> peers;
        QVERIFY2(reader.readPeers(nowMs() - 60'000, &peers, &m_why), qPrintable(m_why));
        QCOMPARE(peers.size(), 2);
        for (const PgTeamReader::Peer &p : peers) {
            QCOMPARE(p.self, p.instanceId == QLatin1String("host-a"));
            if (p.self) {
                QVERIFY(p.lastLeaseMs >= before - 1'000); // the server's clock: same machine here
                QCOMPARE(p.lastRequestMs, qint64(0));
                QCOMPARE(p.leasedLeft, kLimit / 4 - 300'000);
            } else {
                QCOMPARE(p.instanceId, QStringLiteral("host-b"));
                QCOMPARE(p.lastLeaseMs, qint64(0));
                QVERIFY(p.lastRequestMs >= before);
            }
        }
        std::array<qint64, kPeriodCount> starts{};
        for (int p = 0; p < kPeriodCount; ++p)
            starts[p] = periodStartMs(Period(p), nowMs());
        QHash<qint64, PgTeamReader::KeySpend> spend;
        QVERIFY2(reader.readTeamSpend({{keyId, dayLimit(kLimit)}}, starts, &spend, &m_why), qPrintable(m_why));
        QCOMPARE(spend.value(keyId).spent[int(Period::Day)], NanoUsd(2'300'000)); // both instances
        QCOMPARE(spend.value(keyId).spent[int(Period::Total)], NanoUsd(2'300'000));
        QCOMPARE(spend.value(keyId).leased, kLimit / 4 - 300'000);

        // The server goes away: failing, with the reason, and one notice; back: reached, one more.
        QVERIFY2(m_server->stopServer(&m_why), qPrintable(m_why));
        QVERIFY(!a.lease->reportNow());
        QVERIFY(a.lease->storeHealth().failing);
        QVERIFY(!a.lease->storeHealth().error.isEmpty());
        QCOMPARE(changes.load(), 2);
        QVERIFY(!a.lease->reportNow());
        QCOMPARE(changes.load(), 2); // still failing: no new notice
        QVERIFY(!reader.readPeers(nowMs() - 60'000, &peers, &m_why));
        QVERIFY2(m_server->restartServer(&m_why), qPrintable(m_why));
        QTRY_VERIFY_WITH_TIMEOUT(a.lease->reportNow(), 5'000);
        QVERIFY(!a.lease->storeHealth().failing);
        QCOMPARE(changes.load(), 3);
        QVERIFY2(reader.readPeers(nowMs() - 60'000, &peers, &m_why), qPrintable(m_why)); // reconnects
        a.lease->setOnChange({});
    }

    void cleanupTestCase() { m_server.reset(); }
};

QTEST_GUILESS_MAIN(TestPgLeaseStore)
#include "tst_pgleasestore.moc"
