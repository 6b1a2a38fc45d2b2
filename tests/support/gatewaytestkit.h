#pragma once

// Shared pieces of the gateway integration tests (tests/integration/tst_gateway_*.cpp): the mock
// provider's config entries, a gateway environment without keychain and with the provider's API key,
// and checks for OpenAI-shaped error bodies.
#include "gatewayprocess.h"
#include "httpclient.h"
#include "mockupstream.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

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
