// ProvidersModel: adding providers (validation, keychain or environment), the connection test
// against a local fake provider, health from finished requests.
#include "gateway/gateway.h"
#include "localserversmodel.h"
#include "providersmodel.h"
#include "routing/registry.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

// Answers every request with one canned response and remembers the request heads.
class FakeProvider : public QTcpServer
{
public:
    QByteArray status = "200 OK";
    QByteArray body;
    QList<QByteArray> heads;

    FakeProvider()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                connect(s, &QTcpSocket::readyRead, s, [this, s, buffer] {
                    buffer->append(s->readAll());
                    if (!buffer->contains("\r\n\r\n"))
                        return;
                    heads.append(*buffer);
                    s->write("HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
                        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
                    s->disconnectFromHost();
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
};

} // namespace

class TestProvidersModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

    static QVariant role(const ProvidersModel &m, const QString &id, int role)
    {
        return m.data(m.index(m.indexOf(id)), role);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({}, {}));
        QVERIFY(m_fx.start()); // without a keychain (GATEHOUSE_NO_KEYCHAIN's situation)
    }

    void knownProviders()
    {
        ProvidersModel m(m_fx.backend.get());
        const QVariantList known = m.knownProviders();
        QStringList ids;
        for (const QVariant &v : known)
            ids.append(v.toMap().value("id").toString());
        QCOMPARE(ids,
            (QStringList{"openai", "anthropic", "google", "openrouter", "deepseek", "mistral", "xai", "groq",
                "together", "ollama", "lmstudio", "custom"}));
        const QVariantMap anthropic = known.at(1).toMap();
        QCOMPARE(anthropic.value("format").toString(), QStringLiteral("anthropic"));
        QCOMPARE(anthropic.value("baseUrl").toString(), QStringLiteral("https://api.anthropic.com/v1"));
        QCOMPARE(anthropic.value("keyEnv").toString(), QStringLiteral("ANTHROPIC_API_KEY"));
        QVERIFY(anthropic.value("needsKey").toBool());
        QVERIFY(!known.at(9).toMap().value("needsKey").toBool()); // Ollama
    }

    void addValidates()
    {
        ProvidersModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(!m.keychainAvailable());
        QVERIFY(m.addProvider("Open AI", "openai", "https://api.openai.com/v1", {}, {}).contains("lowercase"));
        QVERIFY(m.addProvider("x", "cobol", "https://api.openai.com/v1", {}, {}).contains("cobol"));
        QVERIFY(m.addProvider("x", "openai", "ftp://example.com", {}, {}).contains("http"));
        QVERIFY(m.addProvider("x", "openai", "https://api.openai.com/v1", {}, "1BAD").contains("1BAD"));
        // No keychain here: a pasted key is refused, with the environment route explained.
        const QString noKeychain = m.addProvider("openai", "openai", "https://api.openai.com/v1", "sk-test-123", {});
        QVERIFY2(noKeychain.contains("environment variable"), qPrintable(noKeychain));
        QVERIFY(noKeychain.contains("OPENAI_API_KEY"));
        QVERIFY(!noKeychain.contains("sk-test-123"));
        QCOMPARE(m.rowCount(), 0);
    }

    void environmentRoute()
    {
        qputenv("GATEHOUSE_TEST_PROVIDER_KEY", "sk-from-env");
        ProvidersModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.addProvider("openai", "openai", "https://api.openai.com/v1/", {}, "GATEHOUSE_TEST_PROVIDER_KEY"),
            QString());
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(role(m, "openai", ProvidersModel::DisplayNameRole).toString(), QStringLiteral("OpenAI"));
        QCOMPARE(
            role(m, "openai", ProvidersModel::BaseUrlRole).toString(), QStringLiteral("https://api.openai.com/v1"));
        QCOMPARE(role(m, "openai", ProvidersModel::KeySourceRole).toString(),
            QStringLiteral("env:GATEHOUSE_TEST_PROVIDER_KEY"));
        QVERIFY(role(m, "openai", ProvidersModel::HasKeyRole).toBool());
        QVERIFY(role(m, "openai", ProvidersModel::ModelCountRole).toInt() > 0); // the bundled catalog knows OpenAI
        QCOMPARE(role(m, "openai", ProvidersModel::TestStateRole).toString(), QStringLiteral("idle"));
        QCOMPARE(role(m, "openai", ProvidersModel::HealthRole).toString(), QStringLiteral("unknown"));
        // The running gateway routes to it now.
        QVERIFY(m_fx.gateway->context().registry.snapshot()->providers.contains("openai"));
        QVERIFY(m.addProvider("openai", "openai", "https://api.openai.com/v1", {}, {}).contains("already exists"));
        QVERIFY(m.setApiKey("openai", "sk-new").contains("keychain"));
        QVERIFY(m.setEnabled("openai", false));
        QVERIFY(!role(m, "openai", ProvidersModel::EnabledRole).toBool());
        QVERIFY(m.remove("openai"));
        QCOMPARE(m.rowCount(), 0);
        QVERIFY(!m_fx.gateway->context().registry.snapshot()->providers.contains("openai"));
        QVERIFY(!m.remove("openai"));
    }

    // A price set in the window: the gateway bills the model with it (and keys with limits may use
    // it); the catalog's price shows as such; the provider's address can be changed.
    void pricesAndEdits()
    {
        ProvidersModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.addProvider("my-server", "openai", "http://127.0.0.1:9/v1", {}, {}), QString());
        QVariantMap p = m.modelPrice("my-server", "gpt-mock");
        QCOMPARE(p.value("modelId").toString(), QStringLiteral("my-server/gpt-mock"));
        QVERIFY(!p.value("priced").toBool());
        QVERIFY(!m.setModelPrice("my-server", "gpt-mock", -1, 2, -1).isEmpty());
        QVERIFY(!m.setModelPrice("my-server", "gpt-mock", qQNaN(), 2, -1).isEmpty());
        QVERIFY(!m.setModelPrice("my-server", " ", 1, 2, -1).isEmpty());
        QVERIFY(!m.setModelPrice("nobody", "gpt-mock", 1, 2, -1).isEmpty());
        QCOMPARE(m.setModelPrice("my-server", "gpt-mock", 0.4, 1.6, 0.1), QString());
        p = m.modelPrice("my-server", "gpt-mock");
        QVERIFY(p.value("priced").toBool());
        QCOMPARE(p.value("input").toDouble(), 0.4);
        QCOMPARE(p.value("output").toDouble(), 1.6);
        QCOMPARE(p.value("cacheRead").toDouble(), 0.1);
        QCOMPARE(p.value("source").toString(), QStringLiteral("yours"));
        const auto entry = m_fx.gateway->context().registry.snapshot()->models.value("my-server/gpt-mock");
        QVERIFY(entry.provider);
        QCOMPARE(entry.config.upstreamModel, QStringLiteral("gpt-mock"));
        QCOMPARE(entry.config.price.output.value_or(-1), 1.6);
        QVERIFY(m.pricedModelNames("my-server").contains("gpt-mock"));
        // Changed again: one model, the new price.
        QCOMPARE(m.setModelPrice("my-server", "gpt-mock", 0.5, 2, -1), QString());
        QCOMPARE(m_fx.gateway->context().registry.snapshot()->models.value("my-server/gpt-mock").config.price.input.value_or(-1), 0.5);
        QVERIFY(!m_fx.gateway->context().registry.snapshot()->models.value("my-server/gpt-mock").config.price.cacheRead);

        QVERIFY(!m.updateProvider("my-server", "openai", "ftp://x", {}).isEmpty());
        QVERIFY(!m.updateProvider("my-server", "cobol", "http://127.0.0.1:10/v1", {}).isEmpty());
        QVERIFY(!m.updateProvider("my-server", "openai", "http://127.0.0.1:10/v1", "1BAD").isEmpty());
        QCOMPARE(m.updateProvider("my-server", "anthropic", "http://127.0.0.1:10/v1/", "MY_KEY"), QString());
        QCOMPARE(role(m, "my-server", ProvidersModel::BaseUrlRole).toString(), QStringLiteral("http://127.0.0.1:10/v1"));
        QCOMPARE(role(m, "my-server", ProvidersModel::FormatRole).toString(), QStringLiteral("anthropic"));
        QCOMPARE(role(m, "my-server", ProvidersModel::ApiKeyEnvRole).toString(), QStringLiteral("MY_KEY"));
        QCOMPARE(m_fx.gateway->context().registry.snapshot()->providers.value("my-server")->config.baseUrl.toString(),
            QStringLiteral("http://127.0.0.1:10/v1"));
        QVERIFY(m.remove("my-server"));
    }

    void connectionTest()
    {
        FakeProvider fake;
        QVERIFY(fake.listen(QHostAddress::LocalHost));
        qputenv("GATEHOUSE_TEST_LOCAL_KEY", "sk-local-secret-value");
        ProvidersModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QString base = QStringLiteral("http://127.0.0.1:%1/v1").arg(fake.serverPort());
        QCOMPARE(m.addProvider("local", "openai", base, {}, "GATEHOUSE_TEST_LOCAL_KEY"), QString());
        QSignalSpy finished(&m, &ProvidersModel::testFinished);

        fake.body = R"({"object":"list","data":[{"id":"llama-3"},{"id":"qwen-2.5"},{"id":"phi-4"},{"id":"gemma"}]})";
        m.testConnection("local");
        QCOMPARE(role(m, "local", ProvidersModel::TestStateRole).toString(), QStringLiteral("testing"));
        QTRY_COMPARE(finished.size(), 1);
        QVERIFY(finished.at(0).at(1).toBool());
        QCOMPARE(role(m, "local", ProvidersModel::TestStateRole).toString(), QStringLiteral("ok"));
        QCOMPARE(role(m, "local", ProvidersModel::ModelCountRole).toInt(), 4);
        QCOMPARE(role(m, "local", ProvidersModel::TestModelsRole).toStringList().first(), QStringLiteral("llama-3"));
        QVERIFY(role(m, "local", ProvidersModel::TestMessageRole).toString().contains("4 model"));
        QCOMPARE(fake.heads.size(), 1);
        QVERIFY(fake.heads[0].startsWith("GET /v1/models HTTP/1.1"));
        QVERIFY(fake.heads[0].contains("authorization: Bearer sk-local-secret-value")
            || fake.heads[0].contains("Authorization: Bearer sk-local-secret-value"));

        // An error names the status and the provider's message, never the key it echoes.
        fake.status = "401 Unauthorized";
        fake.body
            = R"({"error":{"message":"Incorrect API key provided: sk-local-secret-value","type":"invalid_request_error"}})";
        m.testConnection("local");
        QTRY_COMPARE(finished.size(), 2);
        QVERIFY(!finished.at(1).at(1).toBool());
        const QString message = role(m, "local", ProvidersModel::TestMessageRole).toString();
        QCOMPARE(role(m, "local", ProvidersModel::TestStateRole).toString(), QStringLiteral("error"));
        QVERIFY2(message.startsWith("HTTP 401: Incorrect API key provided"), qPrintable(message));
        QVERIFY(!message.contains("sk-local-secret-value"));

        fake.close();
        m.testConnection("local");
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 3, 20000);
        QCOMPARE(role(m, "local", ProvidersModel::TestStateRole).toString(), QStringLiteral("error"));
        QVERIFY(m.remove("local"));
    }

    // A server on this machine found by its API and added in one click: a provider marked local,
    // with the models its own list gave, priced $0 as local (never unpriced).
    void localServerFoundAndAdded()
    {
        FakeProvider fake; // every path answers the same OpenAI-compatible model list
        fake.body = "{\"object\":\"list\",\"data\":[{\"id\":\"qwen-local\",\"object\":\"model\",\"owned_by\":\"me\"},"
                    "{\"id\":\"llama-local\",\"object\":\"model\",\"owned_by\":\"me\"}]}";
        QVERIFY(fake.listen(QHostAddress::LocalHost, 0));
        ProvidersModel providers(m_fx.backend.get());
        LocalServersModel servers;
        QAbstractItemModelTester tester(&servers, QAbstractItemModelTester::FailureReportingMode::QtTest);
        servers.setPorts({int(fake.serverPort())});
        servers.setProviders(&providers);
        servers.scan();
        QTRY_COMPARE_WITH_TIMEOUT(servers.rowCount(), 1, 10000);
        QTRY_VERIFY(!servers.scanning());
        const QModelIndex row = servers.index(0);
        const QString id = QStringLiteral("local-%1").arg(fake.serverPort());
        QCOMPARE(row.data(LocalServersModel::NameRole).toString(), QStringLiteral("OpenAI-compatible server"));
        QCOMPARE(row.data(LocalServersModel::ProviderIdRole).toString(), id);
        QCOMPARE(row.data(LocalServersModel::ModelsRole).toStringList(), (QStringList{"qwen-local", "llama-local"}));
        QVERIFY(!row.data(LocalServersModel::AddedRole).toBool());
        // Only loopback requests were made, and only reads.
        for (const QByteArray &head : std::as_const(fake.heads))
            QVERIFY2(head.startsWith("GET "), head.constData());

        QCOMPARE(servers.add(0), QString());
        QTRY_VERIFY(providers.indexOf(id) >= 0);
        QVERIFY(servers.index(0).data(LocalServersModel::AddedRole).toBool());
        QVERIFY(!servers.add(0).isEmpty()); // once only
        const auto snapshot = m_fx.gateway->context().registry.snapshot();
        QVERIFY(snapshot->providers.value(id)->config.local);
        const ModelEntry listed = snapshot->models.value(id + QStringLiteral("/qwen-local"));
        QVERIFY(listed.config.price.isPriced());
        QCOMPARE(listed.config.price.input.value_or(-1), 0.0);
        QCOMPARE(listed.config.price.output.value_or(-1), 0.0);
        // A model the server loads later is priced the same way.
        const auto later = snapshot->resolve(id + QStringLiteral("/pulled-later"));
        QVERIFY(later && later->config.price.isPriced());
        const QList<ProviderConfig> stored = m_fx.gateway->store().providers();
        QVERIFY(std::any_of(stored.cbegin(), stored.cend(), [&](const ProviderConfig &p) { return p.id == id && p.local; }));
        QVERIFY(providers.remove(id));
    }

    void health()
    {
        ProvidersModel m(m_fx.backend.get());
        QCOMPARE(m.addProvider("ollama", "openai", "http://127.0.0.1:11434/v1", {}, {}), QString());
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        auto feed = [&](int ok, int failed, qint64 when) {
            for (int i = 0; i < ok; ++i)
                m.recordRequest(record("r", when, 1, "k", "ollama/x", "ollama", 0, 200), when);
            for (int i = 0; i < failed; ++i)
                m.recordRequest(record("r", when, 1, "k", "ollama/x", "ollama", 0, 502), when);
        };
        feed(19, 1, now); // 5% failing
        QCOMPARE(role(m, "ollama", ProvidersModel::HealthRole).toString(), QStringLiteral("ok"));
        feed(0, 5, now); // 6 of 25
        QCOMPARE(role(m, "ollama", ProvidersModel::HealthRole).toString(), QStringLiteral("degraded"));
        feed(0, 20, now); // 26 of 45
        QCOMPARE(role(m, "ollama", ProvidersModel::HealthRole).toString(), QStringLiteral("down"));
        QVERIFY(!role(m, "ollama", ProvidersModel::NeedsKeyRole).toBool());
        QVERIFY(!role(m, "ollama", ProvidersModel::HasKeyRole).toBool());
    }
};

QTEST_MAIN(TestProvidersModel)
#include "tst_providersmodel.moc"
