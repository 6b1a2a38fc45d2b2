// The request journal (RequestJournal): its record format survives torn tails, its files go once
// the log has committed them and stay otherwise, a live journal is never claimed, and the store's
// start-up replay writes exactly the rows the log lacks.
#include "store/requestjournal.h"
#include "store/store.h"
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <atomic>

using namespace gh;

namespace {

RequestRecord fullRecord(const QString &id)
{
    RequestRecord r;
    r.id = id;
    r.startedAtMs = 1'760'000'000'123;
    r.keyId = 7;
    r.keyName = QStringLiteral("agent ü");
    r.endpoint = QStringLiteral("/v1/messages");
    r.requestedModel = QStringLiteral("claude-sonnet-4-5");
    r.route = QStringLiteral("smart");
    r.modelId = QStringLiteral("anthropic/claude-sonnet-4-5");
    r.provider = QStringLiteral("anthropic");
    r.upstreamModel = QStringLiteral("claude-sonnet-4-5-20250929");
    r.sessionId = QStringLiteral("sess-1");
    r.status = 200;
    r.error = QStringLiteral("overshoot: none");
    r.latencyMs = 812;
    r.ttftMs = 95;
    r.usage = Usage{1200, 30000, 400, 50, 900, 300, true, true};
    r.cost = 123'456'789;
    r.stream = true;
    r.attempts = 2;
    r.attemptLog = {AttemptRecord{1, QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai"),
                                  AttemptRecord::Outcome::Failed, 529, QStringLiteral("overloaded"), 1'760'000'000'124, 40},
                    AttemptRecord{2, r.modelId, r.provider, AttemptRecord::Outcome::Ok, 200, {}, 1'760'000'000'170, 700},
                    AttemptRecord{3, QStringLiteral("x/y"), QStringLiteral("x"), AttemptRecord::Outcome::Skipped, 0,
                                  QStringLiteral("circuit open"), 0, 0}};
    r.promptBlocks = {1, 2, 0xffffffffffffffffull};
    r.promptSystemBytes = 2048;
    r.promptToolsBytes = 4096;
    r.pending = false;
    r.settlesPending = true;
    r.reserved = 987'654;
    r.recovered = false;
    r.overshoot = 4'321;
    r.cacheStatus = QStringLiteral("hit");
    r.cacheSaved = 98'765;
    r.secretFindings = QStringLiteral("aws-access-token@120+20,gatehouse-card-number@400+16");
    r.refusal = QStringLiteral("secret");
    return r;
}

RequestRecord simpleRecord(const QString &id, qint64 cost = 1'000)
{
    RequestRecord r;
    r.id = id;
    r.startedAtMs = 1'760'000'000'000;
    r.keyId = 1;
    r.keyName = QStringLiteral("k");
    r.endpoint = QStringLiteral("/v1/chat/completions");
    r.requestedModel = QStringLiteral("mock/chat");
    r.modelId = QStringLiteral("mock/chat");
    r.provider = QStringLiteral("mock");
    r.status = 200;
    r.latencyMs = 5;
    r.usage.inputTokens = 10;
    r.usage.outputTokens = 5;
    r.usage.reported = true;
    r.cost = cost;
    r.attempts = 1;
    return r;
}

// The log's progress, as the test says it is.
struct FakeLog {
    std::atomic<quint64> accepted{0};
    std::atomic<quint64> committed{0};
    RequestJournal::LogProgress progress()
    {
        return {[this] { return accepted.load(); }, [this] { return committed.load(); }, [] {}};
    }
    // What the gateway does: journal the row, then hand it to the log.
    bool append(RequestJournal &journal, const RequestRecord &r)
    {
        const bool ok = journal.append(r);
        ++accepted;
        return ok;
    }
};

QStringList journalFiles(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral("*.journal")}, QDir::Files, QDir::Name);
}

} // namespace

class TestRequestJournal : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void everyFieldRoundTrips()
    {
        const RequestRecord full = fullRecord(QStringLiteral("req_full"));
        RequestRecord unpriced = simpleRecord(QStringLiteral("req_unpriced"));
        unpriced.cost = std::nullopt;
        unpriced.pending = true;
        unpriced.reserved = -1;
        const auto read = RequestJournal::decodeAll(RequestJournal::encode(full) + RequestJournal::encode(unpriced));
        QVERIFY(!read.tornTail);
        QCOMPARE(read.records.size(), std::size_t(2));
        QVERIFY(read.records[0] == full);
        QVERIFY(read.records[1] == unpriced);
        QVERIFY(!read.records[1].cost.has_value());
    }

    // kill -9 cannot cut a write() short, but a full disk or a power cut can: whatever comes before
    // the damage is read, the damage and what follows it are not.
    void tornOrDamagedTailIsIgnored()
    {
        const QByteArray a = RequestJournal::encode(simpleRecord(QStringLiteral("req_a")));
        const QByteArray b = RequestJournal::encode(simpleRecord(QStringLiteral("req_b")));
        const QByteArray c = RequestJournal::encode(simpleRecord(QStringLiteral("req_c")));
        for (qsizetype cut = 1; cut < c.size(); cut += 7) {
            const auto read = RequestJournal::decodeAll(a + b + c.left(cut));
            QVERIFY(read.tornTail);
            QCOMPARE(read.records.size(), std::size_t(2));
            QCOMPARE(read.records[1].id, QStringLiteral("req_b"));
        }
        QByteArray damaged = a + b + c;
        damaged[a.size() + b.size() / 2] = char(damaged[a.size() + b.size() / 2] ^ 0x5a);
        const auto read = RequestJournal::decodeAll(damaged);
        QVERIFY(read.tornTail);
        QCOMPARE(read.records.size(), std::size_t(1));
        QCOMPARE(read.records[0].id, QStringLiteral("req_a"));
        QVERIFY(RequestJournal::decodeAll(QByteArray()).records.empty());
        QVERIFY(RequestJournal::decodeAll(QByteArray(100, '\0')).tornTail);
    }

    // A file goes once the log has committed every row accepted when it closed; not before.
    void filesGoOnlyOnceCommitted()
    {
        QTemporaryDir tmp;
        const QString dir = tmp.filePath(QStringLiteral("j"));
        FakeLog log;
        {
            RequestJournal journal(dir, QStringLiteral("w0"), log.progress());
            QVERIFY(journal.isOpen());
            journal.setRotateBytes(1); // a new file for every record
            for (int i = 0; i < 5; ++i)
                QVERIFY(log.append(journal, simpleRecord(QStringLiteral("req_%1").arg(i))));
            QCOMPARE(journalFiles(dir).size(), 5);
            log.committed = 2; // rows 0 and 1
            QVERIFY(log.append(journal, simpleRecord(QStringLiteral("req_5"))));
            QCOMPARE(journalFiles(dir).size(), 4); // files 2, 3, 4 and 5
            QVERIFY(journalFiles(dir).contains(QFileInfo(journal.currentPath()).fileName()));
        }
        // The log never committed the rest: kept for the next start.
        QCOMPARE(journalFiles(dir).size(), 4);
        std::size_t rows = 0;
        for (const QString &f : journalFiles(dir)) {
            QFile file(QDir(dir).filePath(f));
            QVERIFY(file.open(QIODevice::ReadOnly));
            rows += RequestJournal::decodeAll(file.readAll()).records.size();
        }
        QCOMPARE(rows, std::size_t(4));

        // All committed: a journal leaves nothing behind.
        const QString dir2 = tmp.filePath(QStringLiteral("j2"));
        FakeLog log2;
        {
            RequestJournal journal(dir2, QStringLiteral("w0"), log2.progress());
            for (int i = 0; i < 3; ++i)
                QVERIFY(log2.append(journal, simpleRecord(QStringLiteral("req_%1").arg(i))));
            log2.committed = 3;
        }
        QVERIFY(journalFiles(dir2).isEmpty());
    }

    // A running journal is never replayed by another store; a dead one's is.
    void liveJournalsAreNotClaimed()
    {
        QTemporaryDir tmp;
        FakeLog log;
        auto live = std::make_unique<RequestJournal>(tmp.path(), QStringLiteral("w0"), log.progress());
        QVERIFY(log.append(*live, simpleRecord(QStringLiteral("req_live"))));
        QVERIFY(RequestJournal::claimOrphans(tmp.path()).empty());
        live.reset(); // not committed: kept, and no longer held
        auto orphans = RequestJournal::claimOrphans(tmp.path());
        QCOMPARE(orphans.size(), std::size_t(1));
        // Claimed: a second claimer (another process starting at the same time) does not get it.
        QVERIFY(RequestJournal::claimOrphans(tmp.path()).empty());
        RequestJournal::release(orphans[0], true);
        QVERIFY(journalFiles(tmp.path()).isEmpty());
    }

    void cannotCreateIsReported()
    {
        QTemporaryDir tmp;
        QFile blocker(tmp.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        FakeLog log;
        RequestJournal journal(tmp.filePath(QStringLiteral("file/sub")), QStringLiteral("w0"), log.progress());
        QVERIFY(!journal.isOpen());
        QVERIFY(!journal.append(simpleRecord(QStringLiteral("req_x"))));
    }

    // The store's start-up replay: rows the log lacks are written as they were (not as recoveries),
    // rows it has are skipped, a pending row without its final row is charged at its reservation,
    // and the files are gone afterwards. A second start changes nothing.
    void storeReplaysWhatTheLogLacks()
    {
        QTemporaryDir tmp;
        const QString db = tmp.filePath(QStringLiteral("gatehouse.db"));
        {
            Store store;
            QVERIFY(store.open(db));
            store.appendRequest(simpleRecord(QStringLiteral("req_logged"), 5));
            store.flush();
            store.close();
        }
        FakeLog log; // a process that died before its log committed anything
        {
            RequestJournal journal(Store::journalDir(db), QStringLiteral("w0"), log.progress());
            QVERIFY(log.append(journal, simpleRecord(QStringLiteral("req_logged"), 5)));
            QVERIFY(log.append(journal, fullRecord(QStringLiteral("req_exact"))));
            RequestRecord pending = simpleRecord(QStringLiteral("req_cut"));
            pending.pending = true;
            pending.stream = true;
            pending.reserved = 50'000;
            QVERIFY(log.append(journal, pending));
            RequestRecord settledPending = pending;
            settledPending.id = QStringLiteral("req_done");
            QVERIFY(log.append(journal, settledPending));
            RequestRecord done = simpleRecord(QStringLiteral("req_done"), 777);
            done.stream = true;
            done.settlesPending = true;
            QVERIFY(log.append(journal, done));
        }
        QCOMPARE(journalFiles(Store::journalDir(db)).size(), 1);

        for (int start = 0; start < 2; ++start) {
            Store store;
            QVERIFY(store.open(db));
            QVERIFY(journalFiles(Store::journalDir(db)).isEmpty());
            QCOMPARE(store.requestCount(), qint64(4));
            const auto exact = store.request(QStringLiteral("req_exact"));
            QVERIFY(exact);
            QCOMPARE(exact->cost, fullRecord(QStringLiteral("x")).cost);
            QCOMPARE(exact->usage.cacheReadTokens, qint64(30000));
            QVERIFY(!exact->recovered);
            QCOMPARE(store.attempts(QStringLiteral("req_exact")).size(), 3);
            const auto cut = store.request(QStringLiteral("req_cut"));
            QVERIFY(cut);
            QVERIFY(cut->recovered);
            QCOMPARE(cut->cost, std::optional<NanoUsd>(50'000));
            const auto done = store.request(QStringLiteral("req_done"));
            QVERIFY(done);
            QVERIFY(!done->recovered);
            QCOMPARE(done->cost, std::optional<NanoUsd>(777));
            QCOMPARE(store.request(QStringLiteral("req_logged"))->cost, std::optional<NanoUsd>(5));
            store.close();
        }
    }

    // forget-key deletes a key's rows; the journal of the run that did it still holds them, and a
    // stop before its next clean close must not bring them back at the next start.
    void replayDoesNotRestoreAForgottenKey()
    {
        QTemporaryDir tmp;
        const QString db = tmp.filePath(QStringLiteral("gatehouse.db"));
        qint64 forgottenId = 0;
        qint64 keptId = 0;
        {
            Store store;
            QVERIFY(store.open(db));
            for (const char *name : {"forgotten", "kept"}) {
                StoredKey key;
                key.name = QString::fromLatin1(name);
                key.secretHash = QByteArray(32, name[0]);
                key.secretHint = QStringLiteral("abcd");
                (name[0] == 'f' ? forgottenId : keptId) = store.saveKey(key);
            }
            QVERIFY(forgottenId > 0 && keptId > 0);
            RequestRecord logged = simpleRecord(QStringLiteral("req_f_logged"));
            logged.keyId = forgottenId;
            store.appendRequest(logged);
            store.flush();
            store.close();
        }
        {
            Store store;
            QVERIFY(store.open(db));
            ForgottenKey counts;
            QVERIFY(store.forgetKey(QStringLiteral("forgotten"), &counts));
            QCOMPARE(counts.requests, qint64(1));
            QCOMPARE(store.requestCount(), qint64(0));
            store.close();
        }
        // What that run's journal held when it was killed after the forget: the forgotten key's rows
        // (logged and not yet logged) and another key's.
        FakeLog log;
        {
            RequestJournal journal(Store::journalDir(db), QStringLiteral("w0"), log.progress());
            for (const auto &[id, key] : {std::pair{"req_f_logged", forgottenId}, std::pair{"req_f_queued", forgottenId},
                                          std::pair{"req_k_queued", keptId}}) {
                RequestRecord r = simpleRecord(QString::fromLatin1(id));
                r.keyId = key;
                QVERIFY(log.append(journal, r));
            }
        }
        for (int start = 0; start < 2; ++start) {
            Store store;
            QVERIFY(store.open(db));
            QVERIFY(journalFiles(Store::journalDir(db)).isEmpty());
            QVERIFY(!store.request(QStringLiteral("req_f_logged")));
            QVERIFY(!store.request(QStringLiteral("req_f_queued")));
            QVERIFY(store.request(QStringLiteral("req_k_queued")));
            QCOMPARE(store.requestCount(), qint64(1));
            // A second forget-key appends to the list.
            if (start == 0) {
                QVERIFY(store.forgetKey(QStringLiteral("kept"), nullptr));
                QCOMPARE(store.requestCount(), qint64(0));
                QCOMPARE(store.setting(QStringLiteral("forgotten_keys")),
                         QStringLiteral("[%1,%2]").arg(forgottenId).arg(keptId));
                StoredKey again;
                again.name = QStringLiteral("kept");
                again.secretHash = QByteArray(32, 'x');
                again.secretHint = QStringLiteral("wxyz");
                QVERIFY(store.saveKey(again) > 0);
                RequestRecord r = simpleRecord(QStringLiteral("req_k_queued"));
                r.keyId = store.keyByName(QStringLiteral("kept"))->id;
                store.appendRequest(r);
                store.flush();
            }
            store.close();
        }
    }

    // The gateway's own journals: opened by the store, gone after a clean close.
    void storeJournalLeavesNothingOnCleanClose()
    {
        QTemporaryDir tmp;
        const QString db = tmp.filePath(QStringLiteral("gatehouse.db"));
        Store store;
        QVERIFY(store.open(db));
        {
            auto journal = store.openJournal(QStringLiteral("w0"));
            QVERIFY(journal && journal->isOpen());
            for (int i = 0; i < 10; ++i) {
                const RequestRecord r = simpleRecord(QStringLiteral("req_%1").arg(i));
                QVERIFY(journal->append(r));
                store.appendRequest(r);
            }
            QCOMPARE(journalFiles(Store::journalDir(db)).size(), 1);
        } // flushes the log, then removes its file
        QVERIFY(journalFiles(Store::journalDir(db)).isEmpty());
        QCOMPARE(store.requestCount(), qint64(10));
    }
};

QTEST_GUILESS_MAIN(TestRequestJournal)
#include "tst_requestjournal.moc"
