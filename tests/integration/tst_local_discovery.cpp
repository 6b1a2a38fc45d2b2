// Local model discovery against stand-in servers: the mock_upstream process made to look like
// Ollama, LM Studio, llama.cpp's server, vLLM and Jan (mock_upstream --as KIND) on a free loopback
// port (not their usual one: a server is identified by its API, not its port), and a plain
// OpenAI-compatible one. Each is found, named and listed with the models of its own API; a closed
// port finds nothing, quickly.
#include "discovery/localdiscovery.h"
#include "mockupstream.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace gh;
using namespace gh::test;

class TestLocalDiscovery : public QObject
{
    Q_OBJECT

    static QList<LocalServer> probe(const QList<quint16> &ports, int timeoutMs = LocalDiscovery::kDefaultTimeoutMs)
    {
        LocalDiscovery discovery;
        discovery.setPorts(ports);
        discovery.setTimeoutMs(timeoutMs);
        QSignalSpy finished(&discovery, &LocalDiscovery::finished);
        discovery.probe();
        if (!finished.wait(10'000))
            return {};
        return discovery.servers();
    }

private Q_SLOTS:
    void identifiedByItsApi_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QStringList>("models");
        QTest::newRow("ollama") << QStringLiteral("ollama") << QStringLiteral("Ollama 0.5.7") << QStringList{QStringLiteral("llama3.2:3b"), QStringLiteral("qwen2.5-coder:7b")};
        QTest::newRow("lmstudio") << QStringLiteral("lmstudio") << QStringLiteral("LM Studio") << QStringList{QStringLiteral("qwen2.5-7b-instruct")};
        QTest::newRow("llamacpp") << QStringLiteral("llamacpp") << QStringLiteral("llama.cpp server") << QStringList{QStringLiteral("mock.gguf")};
        QTest::newRow("vllm") << QStringLiteral("vllm") << QStringLiteral("vLLM 0.6.3") << QStringList{QStringLiteral("meta-llama/Llama-3.1-8B-Instruct")};
        QTest::newRow("jan") << QStringLiteral("jan") << QStringLiteral("Jan") << QStringList{QStringLiteral("llama3.2-3b-instruct")};
        QTest::newRow("openai-compatible") << QString() << QStringLiteral("OpenAI-compatible server") << QStringList{QStringLiteral("some-model")};
    }

    void identifiedByItsApi()
    {
        QFETCH(QString, kind);
        QFETCH(QString, name);
        QFETCH(QStringList, models);
        QStringList args{QStringLiteral("--models"), models.join(u',')};
        if (!kind.isEmpty())
            args << QStringLiteral("--as") << kind;
        MockUpstream server(args);
        QVERIFY2(server.isRunning(), qPrintable(server.errorString()));
        const QList<LocalServer> found = probe({server.port()});
        QCOMPARE(found.size(), 1);
        const LocalServer &s = found.first();
        QCOMPARE(s.kind, kind.isEmpty() ? QStringLiteral("openai") : kind);
        QCOMPARE(s.name, name);
        QCOMPARE(s.port, server.port());
        QCOMPARE(s.baseUrl.toString(), server.baseUrl());
        QCOMPARE(s.models, models);
        QCOMPARE(s.providerId, kind.isEmpty() ? QStringLiteral("local-%1").arg(server.port()) : kind);
        QVERIFY(!s.needsKey);
    }

    void closedPortsFindNothingQuickly()
    {
        // A port that was free a moment ago: connection refused at once.
        quint16 port = 0;
        {
            QTcpServer s;
            QVERIFY(s.listen(QHostAddress::LocalHost, 0));
            port = s.serverPort();
        }
        QElapsedTimer timer;
        timer.start();
        QVERIFY(probe({port}).isEmpty());
        QVERIFY2(timer.elapsed() < 5'000, qPrintable(QString::number(timer.elapsed())));
    }

    void aServerThatNeverAnswersTimesOut()
    {
        // Accepts connections and never answers: the probe gives up after its timeout.
        QTcpServer silent;
        QVERIFY(silent.listen(QHostAddress::LocalHost, 0));
        QElapsedTimer timer;
        timer.start();
        QVERIFY(probe({silent.serverPort()}, 300).isEmpty());
        QVERIFY2(timer.elapsed() < 5'000, qPrintable(QString::number(timer.elapsed())));
    }

    void severalPortsAtOnce()
    {
        MockUpstream ollama({QStringLiteral("--as"), QStringLiteral("ollama"), QStringLiteral("--models"), QStringLiteral("a,b")});
        MockUpstream vllm({QStringLiteral("--as"), QStringLiteral("vllm"), QStringLiteral("--models"), QStringLiteral("c")});
        QVERIFY(ollama.isRunning() && vllm.isRunning());
        const QList<LocalServer> found = probe({ollama.port(), vllm.port()});
        QCOMPARE(found.size(), 2);
        QCOMPARE(found.at(0).kind, QStringLiteral("ollama"));
        QCOMPARE(found.at(1).kind, QStringLiteral("vllm"));
    }

    void identifyFromAnswers()
    {
        // A list that needs a key: found, and said so.
        QHash<QString, ProbeReply> replies;
        replies.insert(QStringLiteral("/v1/models"), ProbeReply{401, R"({"error":"unauthorized"})"});
        const auto s = identifyLocalServer(1337, replies);
        QVERIFY(s);
        QVERIFY(s->needsKey);
        // Plain web servers (HTML, 404s) are not model servers.
        QHash<QString, ProbeReply> web;
        web.insert(QStringLiteral("/v1/models"), ProbeReply{404, "<html>not found</html>"});
        web.insert(QStringLiteral("/api/tags"), ProbeReply{200, "<html></html>"});
        QVERIFY(!identifyLocalServer(8080, web));
    }
};

QTEST_GUILESS_MAIN(TestLocalDiscovery)
#include "tst_local_discovery.moc"
