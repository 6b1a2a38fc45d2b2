// Prompt-cache affinity: which target last served a prefix, per key and route, with TTL and LRU.
#include "routing/affinity.h"
#include <memory>
#include <QTest>
#include <QThread>
#include <vector>

using gh::AffinityTable;

namespace {
const QString kA = QStringLiteral("openai/gpt-4.1");
const QString kB = QStringLiteral("anthropic/claude-sonnet-4-5");
const QString kSmart = QStringLiteral("smart");
} // namespace

class TestAffinity : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void hitAndMiss()
    {
        AffinityTable t;
        QCOMPARE(t.size(), 0);
        QVERIFY(!t.lookup(1, kSmart, 42, 0));
        t.remember(1, kSmart, 42, kA, 0);
        QCOMPARE(t.lookup(1, kSmart, 42, 10), std::optional<QString>(kA));
        // Another key, route or prefix is a miss.
        QVERIFY(!t.lookup(2, kSmart, 42, 10));
        QVERIFY(!t.lookup(1, QStringLiteral("fast"), 42, 10));
        QVERIFY(!t.lookup(1, kSmart, 43, 10));
        QVERIFY(!t.lookup(1, QString(), 42, 10));
        // Remembering again replaces the target.
        t.remember(1, kSmart, 42, kB, 20);
        QCOMPARE(t.lookup(1, kSmart, 42, 30), std::optional<QString>(kB));
        QCOMPARE(t.size(), 1);
    }

    void keyFieldsDoNotCollide()
    {
        AffinityTable t;
        // Keys whose bytes would run together if the fields were simply concatenated.
        t.remember(1, QStringLiteral("a"), 0x1, kA, 0);
        t.remember(0x100, QStringLiteral(""), 0x1, kB, 0);
        t.remember(-1, QStringLiteral("a"), 0x1, kB, 0);
        QCOMPARE(t.lookup(1, QStringLiteral("a"), 0x1, 1), std::optional<QString>(kA));
        QCOMPARE(t.lookup(0x100, QStringLiteral(""), 0x1, 1), std::optional<QString>(kB));
        QCOMPARE(t.size(), 3);
    }

    void expiresAfterTtlWithoutUse()
    {
        AffinityTable t(1000, 10);
        t.remember(1, kSmart, 7, kA, 0);
        QVERIFY(t.lookup(1, kSmart, 7, 1000)); // exactly the TTL: still warm; refreshes to 1000
        QVERIFY(t.lookup(1, kSmart, 7, 2000)); // use keeps it alive
        QVERIFY(!t.lookup(1, kSmart, 7, 3001)); // 1001 ms unused: gone
        QCOMPARE(t.size(), 0);
        QVERIFY(!t.lookup(1, kSmart, 7, 3002));
        // remember() also counts as use.
        t.remember(1, kSmart, 8, kA, 5000);
        t.remember(1, kSmart, 8, kA, 5900);
        QVERIFY(t.lookup(1, kSmart, 8, 6800));
    }

    void expiredEntriesAreDroppedOnInsert()
    {
        AffinityTable t(1000, 10);
        t.remember(1, kSmart, 1, kA, 0);
        t.remember(1, kSmart, 2, kA, 100);
        t.remember(1, kSmart, 3, kA, 1050); // the first is expired now
        QCOMPARE(t.size(), 2);
        t.remember(1, kSmart, 4, kA, 5000); // every other one is expired
        QCOMPARE(t.size(), 1);
    }

    void evictsLeastRecentlyUsed()
    {
        AffinityTable t(60'000, 3);
        t.remember(1, kSmart, 1, kA, 0);
        t.remember(1, kSmart, 2, kA, 1);
        t.remember(1, kSmart, 3, kA, 2);
        QCOMPARE(t.size(), 3);
        // Using 1 makes 2 the least recently used.
        QVERIFY(t.lookup(1, kSmart, 1, 3));
        t.remember(1, kSmart, 4, kB, 4);
        QCOMPARE(t.size(), 3);
        QVERIFY(!t.lookup(1, kSmart, 2, 5));
        QVERIFY(t.lookup(1, kSmart, 1, 5));
        QVERIFY(t.lookup(1, kSmart, 3, 5));
        QVERIFY(t.lookup(1, kSmart, 4, 5));
        // Updating an existing entry does not evict anything.
        t.remember(1, kSmart, 3, kB, 6);
        QCOMPARE(t.size(), 3);
        QCOMPARE(t.lookup(1, kSmart, 3, 7), std::optional<QString>(kB));
    }

    void forgetTarget()
    {
        AffinityTable t;
        t.remember(1, kSmart, 1, kA, 0);
        t.remember(2, kSmart, 1, kB, 0);
        t.remember(3, kSmart, 5, kA, 0);
        t.forgetTarget(kA);
        QCOMPARE(t.size(), 1);
        QVERIFY(!t.lookup(1, kSmart, 1, 1));
        QVERIFY(!t.lookup(3, kSmart, 5, 1));
        QCOMPARE(t.lookup(2, kSmart, 1, 1), std::optional<QString>(kB));
        // The table stays consistent: the forgotten keys can be remembered again.
        t.remember(1, kSmart, 1, kB, 2);
        QCOMPARE(t.size(), 2);
        t.clear();
        QCOMPARE(t.size(), 0);
        QVERIFY(!t.lookup(2, kSmart, 1, 3));
    }

    void capacityBoundUnderConcurrency()
    {
        constexpr int kCapacity = 500;
        AffinityTable t(60'000, kCapacity);
        constexpr int kThreads = 8;
        constexpr int kOps = 5000;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int th = 0; th < kThreads; ++th) {
            threads.emplace_back(QThread::create([&t, th] {
                for (int i = 0; i < kOps; ++i) {
                    const quint64 hash = quint64(i % 700);
                    const QString target = (i + th) % 2 ? kA : kB;
                    t.remember(th % 3, kSmart, hash, target, i);
                    const auto hit = t.lookup(th % 3, kSmart, quint64((i * 7) % 700), i);
                    if (hit && *hit != kA && *hit != kB)
                        qFatal("corrupt affinity entry");
                    if (i % 997 == 0)
                        t.forgetTarget(kB);
                    (void)t.size();
                }
            }));
            threads.back()->start();
        }
        for (auto &thread : threads)
            QVERIFY(thread->wait(60'000));
        QVERIFY(t.size() <= kCapacity);
        QVERIFY(t.size() > 0);
        // Still consistent: every key can be read and rewritten.
        for (quint64 h = 0; h < 700; ++h)
            t.remember(0, kSmart, h, kA, kOps);
        QCOMPARE(t.size(), kCapacity);
        QCOMPARE(t.lookup(0, kSmart, 699, kOps), std::optional<QString>(kA));
        QVERIFY(!t.lookup(0, kSmart, 0, kOps)); // the first of the 700 was evicted
    }
};

QTEST_GUILESS_MAIN(TestAffinity)
#include "tst_affinity.moc"
