// The run-time catalog refresh against a local HTTP server (a QTcpServer in this test) that serves a
// good document, a truncated one, an oversized one, one of the wrong schema, a slow one and an error
// status: only the good one is installed; after any other the stored copy and the catalog in use
// are what they were.
#include "pricing/catalogupdater.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using gh::CatalogUpdater;
using gh::PriceCatalog;

namespace {

QByteArray document(double opusInput)
{
    return QStringLiteral(R"([{"id": "anthropic", "name": "Anthropic", "api_pattern": "x", "model_match": {"contains": "claude"},
  "models": [{"id": "claude-opus-4-8", "match": {"starts_with": "claude-opus-4-8"}, "prices": {"input_mtok": %1, "output_mtok": 25}},
             {"id": "claude-haiku-4-5", "match": {"starts_with": "claude-haiku-4-5"}, "prices": {"input_mtok": 1, "output_mtok": 5}}]}])")
        .arg(opusInput)
        .toUtf8();
}

// Serves by path: /good, /good2, /truncated, /oversized, /wrong-schema, /slow, /status500.
class PriceServer : public QTcpServer
{
public:
    PriceServer()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] { serve(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    QUrl url(const char *path) const { return QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(serverPort()).arg(QLatin1String(path))); }

private:
    // announced: the Content-Length sent (-1: the body's size, -2: none, the body ends at close).
    static void reply(QTcpSocket *s, const QByteArray &status, const QByteArray &body, qint64 announced = -1)
    {
        const QByteArray length = announced == -2 ? QByteArray()
                                                  : "Content-Length: " + QByteArray::number(announced >= 0 ? announced : body.size()) + "\r\n";
        s->write("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nConnection: close\r\n" + length + "\r\n" + body);
        s->flush();
        s->disconnectFromHost();
    }
    void serve(QTcpSocket *s)
    {
        if (s->property("served").toBool()) {
            s->readAll();
            return;
        }
        QByteArray &buffer = m_buffers[s];
        buffer += s->readAll();
        if (!buffer.contains("\r\n\r\n"))
            return;
        const QByteArray path = buffer.split(' ').value(1);
        m_buffers.remove(s); // a later socket may get the same address
        s->setProperty("served", true);
        if (path == "/good")
            reply(s, "200 OK", document(5));
        else if (path == "/good2")
            reply(s, "200 OK", document(6));
        else if (path == "/truncated")
            reply(s, "200 OK", document(5).left(120)); // the full length announced would hang; this one is short
        else if (path == "/oversized")
            reply(s, "200 OK", QByteArray(300 * 1024, ' ') + document(5), -2); // valid JSON, over the limit, length not announced
        else if (path == "/oversized-announced")
            reply(s, "200 OK", QByteArray(), 1LL << 40);
        else if (path == "/wrong-schema")
            reply(s, "200 OK", R"({"vendors": {"openai": [{"model": "gpt-5", "input": 1, "output": 2}]}})");
        else if (path == "/status500")
            reply(s, "500 Internal Server Error", R"({"error": "boom"})");
        else if (path == "/slow") {
            // The head and a first byte, then nothing: the time limit must end it.
            s->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[");
            s->flush();
        } else {
            reply(s, "404 Not Found", "{}");
        }
    }
    QHash<QTcpSocket *, QByteArray> m_buffers;
};

} // namespace

class TestCatalogUpdater : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    PriceServer m_server;

    CatalogUpdater::Result run(const QUrl &url, int timeoutMs = 5000)
    {
        CatalogUpdater updater(m_dir.path());
        CatalogUpdater::Limits limits;
        limits.maxBytes = 256 * 1024;
        limits.timeoutMs = timeoutMs;
        updater.setLimits(limits);
        QSignalSpy spy(&updater, &CatalogUpdater::finished);
        updater.update(url);
        if (spy.isEmpty() && !spy.wait(timeoutMs + 5000))
            return {};
        return spy.first().first().value<CatalogUpdater::Result>();
    }
    QByteArray stored() const
    {
        QFile f(CatalogUpdater::storedPath(m_dir.path()));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<CatalogUpdater::Result>();
        QVERIFY(m_dir.isValid());
        QVERIFY(m_server.listen(QHostAddress::LocalHost));
    }

    void goodDocumentIsInstalled()
    {
        PriceCatalog::setCurrent(nullptr);
        const CatalogUpdater::Result r = run(m_server.url("/good"));
        QVERIFY2(r.ok, qPrintable(r.message));
        QVERIFY(r.catalog);
        QCOMPARE(PriceCatalog::current(), r.catalog);
        QCOMPARE(r.catalog->size(), 2);
        QCOMPARE(r.catalog->source(), m_server.url("/good").toString());
        QCOMPARE(r.catalog->takenOn(), QDateTime::currentDateTimeUtc().date());
        QVERIFY(r.diff.removed > 1000); // against the bundled catalog
        // The stored copy loads back as the same catalog.
        const auto reloaded = CatalogUpdater::loadStored(m_dir.path());
        QCOMPARE(reloaded->size(), 2);
        QCOMPARE(reloaded->find(QStringLiteral("anthropic"), QStringLiteral("claude-opus-4-8"))->price.input, std::optional<double>(5));
        QCOMPARE(reloaded->source(), m_server.url("/good").toString());
    }

    void aSecondGoodDocumentShowsWhatChangedAndKeepsThePrevious()
    {
        const QByteArray before = stored();
        const CatalogUpdater::Result r = run(m_server.url("/good2"));
        QVERIFY2(r.ok, qPrintable(r.message));
        QCOMPARE(r.diff.added, 0);
        QCOMPARE(r.diff.removed, 0);
        QCOMPARE(r.diff.repriced, 1);
        QVERIFY2(r.message.contains(QLatin1String("0 added, 0 removed, 1 re-priced")), qPrintable(r.message));
        QFile previous(QDir(m_dir.path()).filePath(QStringLiteral("genai-prices.previous.json")));
        QVERIFY(previous.open(QIODevice::ReadOnly));
        QCOMPARE(previous.readAll(), before);
        // Back to the first for the failure cases below.
        QVERIFY(run(m_server.url("/good")).ok);
    }

    void brokenDownloadsChangeNothing_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QString>("why");
        QTest::newRow("truncated") << QByteArray("/truncated") << "not a valid price catalog";
        QTest::newRow("oversized") << QByteArray("/oversized") << "larger than the limit";
        QTest::newRow("oversized, announced") << QByteArray("/oversized-announced") << "announces";
        QTest::newRow("wrong schema") << QByteArray("/wrong-schema") << "providers: missing or not an array";
        QTest::newRow("status 500") << QByteArray("/status500") << "failed";
        QTest::newRow("slow") << QByteArray("/slow") << "within";
        QTest::newRow("plain http elsewhere") << QByteArray("http://example.com/data.json") << "https";
        QTest::newRow("missing file") << QByteArray("/nonexistent/genai-prices.json") << "cannot read";
    }
    void brokenDownloadsChangeNothing()
    {
        QFETCH(QByteArray, path);
        QFETCH(QString, why);
        const QByteArray before = stored();
        QVERIFY(!before.isEmpty());
        const auto current = PriceCatalog::current();
        QUrl url = path.startsWith("http") ? QUrl(QString::fromLatin1(path))
            : path.startsWith("/nonexistent") ? QUrl::fromLocalFile(QString::fromLatin1(path))
                                              : m_server.url(path.constData());
        QElapsedTimer timer;
        timer.start();
        const CatalogUpdater::Result r = run(url, 1500);
        QVERIFY(timer.elapsed() < 6000);
        QVERIFY(!r.ok);
        QVERIFY2(r.message.contains(why), qPrintable(r.message));
        QVERIFY2(r.message.contains(QLatin1String("nothing changed")) || r.message.contains(QLatin1String("refusing")), qPrintable(r.message));
        QCOMPARE(stored(), before);
        QCOMPARE(PriceCatalog::current(), current);
    }

    void aLocalFileCanBeInstalled()
    {
        QTemporaryDir other;
        const QString path = other.filePath(QStringLiteral("data.json"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(document(7));
        f.close();
        const CatalogUpdater::Result r = run(QUrl::fromLocalFile(path));
        QVERIFY2(r.ok, qPrintable(r.message));
        QCOMPARE(r.catalog->find(QStringLiteral("anthropic"), QStringLiteral("claude-opus-4-8"))->price.input, std::optional<double>(7));
    }

    void anUnusableStoredCopyFallsBackToTheBundledCatalog()
    {
        QTemporaryDir dir;
        QFile f(CatalogUpdater::storedPath(dir.path()));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[{\"id\": ");
        f.close();
        QString warning;
        const auto catalog = CatalogUpdater::loadStored(dir.path(), &warning);
        QCOMPARE(catalog.get(), &PriceCatalog::bundled());
        QVERIFY(warning.contains(QLatin1String("bundled")));
    }

    void cleanupTestCase() { PriceCatalog::setCurrent(nullptr); }
};

QTEST_GUILESS_MAIN(TestCatalogUpdater)
#include "tst_catalogupdater.moc"
