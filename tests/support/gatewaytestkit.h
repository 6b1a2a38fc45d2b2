#pragma once

// Shared pieces of the gateway integration tests (tests/integration/tst_gateway_*.cpp): the mock
// provider's config entries, a gateway environment without keychain and with the provider's API key,
// and checks for OpenAI-shaped error bodies.
#include "gatewayprocess.h"
#include "httpclient.h"
#include "mockupstream.h"
#include "requestlogdb.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace gh::test {

// The provider API key the gateway reads from the environment variable kProviderKeyEnv. Distinctive
// so that a test can search for it in outputs and files.
inline constexpr char kProviderKeyEnv[] = "GH_ITEST_PROVIDER_KEY";
inline constexpr char kProviderKey[] = "sk-itest-provider-Zq81xVw3Lm5";

// {"id": id, "format": "openai", "base_url": mock.baseUrl(), "api_key_env": kProviderKeyEnv}
[[nodiscard]] QJsonObject mockProvider(const MockUpstream &mock, const QString &id = QStringLiteral("mock"));
// A model of `provider` whose upstream name is a mock behaviour; priced (USD per million tokens)
// unless both prices are empty. maxOutput > 0 sets max_output_tokens.
[[nodiscard]] QJsonObject mockModel(const QString &id, const QString &provider, const QString &upstream,
    std::optional<double> input, std::optional<double> output, std::optional<double> cacheRead = std::nullopt,
    qint64 maxOutput = 0);
// A key with a fixed secret. Empty allowModels: every model. limits: {"day_usd": ...} or empty.
[[nodiscard]] QJsonObject testKey(
    const QString &name, const QString &secret, const QStringList &allowModels = {}, const QJsonObject &limits = {});

// GATEHOUSE_NO_KEYCHAIN=1, the provider key in kProviderKeyEnv, and a fixed number of workers.
void prepareGatewayEnvironment(GatewayProcess &gateway, int workers = 2);

// prepareGatewayEnvironment(gateway, workers), `config` written to the gateway's work folder and the
// gateway started on it. False when a step fails (gateway.errorString() says why). configPath, when
// given, receives where the config was written.
bool startGateway(GatewayProcess &gateway, const QJsonObject &config, int workers = 2, QString *configPath = nullptr);

// What most integration test cases share: one mock upstream, one gateway configured against it and
// the gateway's request log. In initTestCase:
//     QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
//     ... build the config with *m_h.mock ...
//     QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
// and in cleanupTestCase:
//     QVERIFY2(m_h.stop(), qPrintable(m_h.error));
struct GatewayHarness {
    std::unique_ptr<MockUpstream> mock;
    std::unique_ptr<GatewayProcess> gateway;
    std::unique_ptr<RequestLogDb> db;
    QString error; // why the last call returned false

    // Starts the mock upstream. False when it does not run.
    bool startMock(const QStringList &extraArgs = {});
    // Starts the gateway on `config` (startGateway() above) and opens the request log of its data
    // folder. False when it does not start; `error` then holds the gateway's stderr too.
    bool startGateway(const QJsonObject &config, int workers = 2);
    [[nodiscard]] bool gatewayRunning() const;
    // Terminates the gateway if it runs. False when it exits with a code other than 0.
    bool stop();
};

// {"Authorization": "Bearer <secret>"}
[[nodiscard]] Headers bearer(const QByteArray &secret);

// Checks the OpenAI error shape {"error": {"message": non-empty string, "type": non-empty string,
// "code": string or null}}. Returns an empty string when it fits, else what is wrong.
[[nodiscard]] QString openAIErrorProblem(const HttpResponse &response);
[[nodiscard]] QString errorMessage(const HttpResponse &response);
[[nodiscard]] QString errorCode(const HttpResponse &response);

// Whether `needle` occurs in the bytes of the file (false when it cannot be read).
[[nodiscard]] bool fileContains(const QString &path, const QByteArray &needle);
// Files of the data folder that contain `needle` (the database, its WAL and shared-memory files...).
[[nodiscard]] QStringList filesContaining(const QString &dir, const QByteArray &needle);

// The content of a chat completion (choices[0].message.content) or of a stream's deltas joined.
[[nodiscard]] QString chatContent(const HttpResponse &response);
[[nodiscard]] QString streamContent(const HttpResponse &response);

} // namespace gh::test
