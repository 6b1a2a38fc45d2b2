// Body capture's writer and file (capture/bodycapture.h, store/capturestore.h) with a clock the
// test moves: bodies written compressed and read back whole, secrets replaced by placeholders,
// long bodies cut and said so, the retention sweep by each
// row's expiry and by the key's retention now, deleting a key's captures, the queue's bound.
#include "capture/bodycapture.h"
#include "store/capturestore.h"
#include <QDir>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

namespace {

constexpr qint64 kDay = 86400000;

CapturedExchange exchange(const QString &id, qint64 keyId, qint64 startedAtMs, int days,
    QByteArray request = R"({"q":1})", QByteArray response = R"({"a":2})")
{
    return CapturedExchange{id, keyId, QStringLiteral("key%1").arg(keyId), startedAtMs, days, std::move(request),
        std::move(response), "application/json", false};
}

QByteArray githubToken()
{
    const char *alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    QByteArray out = "ghp_";
    for (int i = 0; i < 36; ++i)
        out.append(alphabet[QRandomGenerator::global()->bounded(62)]);
    return out;
}

} // namespace

class TestBodyCapture : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    qint64 m_now = 1800000000000;
    [[nodiscard]] QString path() const { return BodyCapture::pathIn(m_dir.path()); }

private Q_SLOTS:
    void init() { QFile::remove(path()); }

    void writesAndReadsBack()
    {
        BodyCapture capture([this] { return m_now; });
        QString error;
        QVERIFY2(capture.open(path(), &error), qPrintable(error));
        QByteArray big(200000, 'x');
        big.prepend("{\"text\":\"").append("\"}");
        capture.submit(exchange(QStringLiteral("r1"), 1, m_now, 3, big));
        capture.flush();
        const auto b = BodyCapture::read(path(), QStringLiteral("r1"));
        QVERIFY(b);
        QCOMPARE(b->request, big);
        QCOMPARE(b->response, QByteArray(R"({"a":2})"));
        QCOMPARE(b->expiresAtMs, m_now + 3 * kDay);
        QCOMPARE(b->responseType, QStringLiteral("application/json"));
        QVERIFY(b->note.isEmpty());
        // Compressed in the file.
        store::CaptureStore file;
        QVERIFY(file.open(path(), false, &error));
        QVERIFY(file.totals().second < 10000);
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("nothing")));
    }

    void secretsAreReplaced()
    {
        BodyCapture capture([this] { return m_now; });
        QVERIFY(capture.open(path(), nullptr));
        const QByteArray token = githubToken();
        capture.submit(exchange(QStringLiteral("r1"), 1, m_now, 1, "{\"content\":\"use " + token + " please\"}",
            "{\"echo\":\"" + token + "\"}"));
        capture.flush();
        const auto b = BodyCapture::read(path(), QStringLiteral("r1"));
        QVERIFY(b);
        QVERIFY(!b->request.contains(token) && !b->response.contains(token));
        QCOMPARE(b->request, QByteArray("{\"content\":\"use [REDACTED:github-pat#1] please\"}"));
        QVERIFY(b->response.contains("[REDACTED:github-pat#1]"));
        QFile raw(path());
        QVERIFY(raw.open(QIODevice::ReadOnly));
        QVERIFY(!raw.readAll().contains(token));
    }

    void longBodiesAreCut()
    {
        BodyCapture capture([this] { return m_now; });
        QVERIFY(capture.open(path(), nullptr));
        CapturedExchange e
            = exchange(QStringLiteral("r1"), 1, m_now, 1, QByteArray(BodyCapture::kMaxBodyBytes + 1, 'q'));
        e.responseCut = true;
        capture.submit(e);
        capture.flush();
        const auto b = BodyCapture::read(path(), QStringLiteral("r1"));
        QVERIFY(b);
        QVERIFY(b->request.isEmpty());
        QVERIFY2(b->note.contains(QLatin1String("request not kept")) && b->note.contains(QLatin1String("response cut")),
            qPrintable(b->note));
    }

    void theSweepFollowsTheClockAndTheKeysRetention()
    {
        BodyCapture capture([this] { return m_now; });
        QVERIFY(capture.open(path(), nullptr));
        const qint64 start = m_now;
        capture.submit(exchange(QStringLiteral("a"), 1, start, 2)); // key 1: 2 days
        capture.submit(exchange(QStringLiteral("b"), 1, start + kDay, 2));
        capture.submit(exchange(QStringLiteral("c"), 2, start, 30)); // key 2: 30 days, shortened below
        capture.submit(exchange(QStringLiteral("d"), 3, start, 30)); // key 3: no longer captures
        capture.flush();
        QCOMPARE(capture.sweepNow(), 0);
        m_now = start + 2 * kDay; // "a" reaches its expiry
        QCOMPARE(capture.sweepNow(), 1);
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("a")));
        QVERIFY(BodyCapture::read(path(), QStringLiteral("b")));
        // Key 2's retention is now 1 day: what it captured before follows it.
        capture.setRetention({{1, 2}, {2, 1}});
        QCOMPARE(capture.sweepNow(), 1);
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("c")));
        QVERIFY(BodyCapture::read(path(), QStringLiteral("d"))); // its own 30 days
        m_now = start + 31 * kDay;
        QCOMPARE(capture.sweepNow(), 2);
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("b")) && !BodyCapture::read(path(), QStringLiteral("d")));
    }

    void deletingAKeysCaptures()
    {
        BodyCapture capture([this] { return m_now; });
        QVERIFY(capture.open(path(), nullptr));
        capture.submit(exchange(QStringLiteral("a"), 1, m_now, 2));
        capture.submit(exchange(QStringLiteral("b"), 2, m_now, 2));
        capture.submit(exchange(QStringLiteral("c"), 1, m_now, 2));
        capture.flush();
        QString error;
        QCOMPARE(BodyCapture::deleteKey(path(), 1, &error), 2);
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("a")) && !BodyCapture::read(path(), QStringLiteral("c")));
        QVERIFY(BodyCapture::read(path(), QStringLiteral("b")));
    }

    void theQueueIsBounded()
    {
        // Not opened: nothing is queued (no thread would drain it), each submit counted as dropped.
        BodyCapture closed;
        closed.submit(exchange(QStringLiteral("a"), 1, m_now, 1));
        QCOMPARE(closed.dropped(), 1);
        BodyCapture capture([this] { return m_now; });
        QVERIFY(capture.open(path(), nullptr));
        // One exchange over the bound is refused at once, without waiting for the writer.
        CapturedExchange huge
            = exchange(QStringLiteral("h"), 1, m_now, 1, QByteArray(BodyCapture::kMaxQueuedBytes + 1, 'x'));
        capture.submit(huge);
        QCOMPARE(capture.dropped(), 1);
        capture.flush();
        QVERIFY(!BodyCapture::read(path(), QStringLiteral("h")));
    }

    void anUnusableFileIsRefused()
    {
        BodyCapture capture;
        QString error;
        QVERIFY(!capture.open(QDir(m_dir.path()).filePath(QStringLiteral("missing/folder/captures.db")), &error));
        QVERIFY(!error.isEmpty());
        capture.submit(exchange(QStringLiteral("a"), 1, m_now, 1));
        QCOMPARE(capture.dropped(), 1);
        capture.flush(); // returns at once
    }
};

QTEST_GUILESS_MAIN(TestBodyCapture)
#include "tst_bodycapture.moc"
