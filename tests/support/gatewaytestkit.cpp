#include "gatewaytestkit.h"

#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace gh::test {

QJsonObject mockProvider(const MockUpstream &mock, const QString &id)
{
    return QJsonObject{{QStringLiteral("id"), id}, {QStringLiteral("format"), QStringLiteral("openai")},
        {QStringLiteral("base_url"), mock.baseUrl()},
        {QStringLiteral("api_key_env"), QString::fromLatin1(kProviderKeyEnv)}};
}

QJsonObject mockModel(const QString &id, const QString &provider, const QString &upstream, std::optional<double> input,
    std::optional<double> output, std::optional<double> cacheRead, qint64 maxOutput)
{
    QJsonObject model{{QStringLiteral("id"), id}, {QStringLiteral("provider"), provider},
        {QStringLiteral("upstream_model"), upstream}};
    if (input || output || cacheRead) {
        QJsonObject pricing;
        if (input)
            pricing.insert(QStringLiteral("input"), *input);
        if (output)
            pricing.insert(QStringLiteral("output"), *output);
        if (cacheRead)
            pricing.insert(QStringLiteral("cache_read"), *cacheRead);
        model.insert(QStringLiteral("pricing"), pricing);
    }
    if (maxOutput > 0)
        model.insert(QStringLiteral("max_output_tokens"), maxOutput);
    return model;
}

QJsonObject testKey(
    const QString &name, const QString &secret, const QStringList &allowModels, const QJsonObject &limits)
{
    QJsonObject key{{QStringLiteral("name"), name}};
    if (!secret.isEmpty())
        key.insert(QStringLiteral("secret"), secret);
    if (!allowModels.isEmpty())
        key.insert(QStringLiteral("allow_models"), QJsonArray::fromStringList(allowModels));
    if (!limits.isEmpty())
        key.insert(QStringLiteral("limits"), limits);
    return key;
}

void prepareGatewayEnvironment(GatewayProcess &gateway, int workers)
{
    gateway.setEnv(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
    gateway.setEnv(QString::fromLatin1(kProviderKeyEnv), QString::fromLatin1(kProviderKey));
    gateway.setEnv(QStringLiteral("GATEHOUSE_WORKERS"), QString::number(workers));
}

bool startGateway(GatewayProcess &gateway, const QJsonObject &config, int workers, QString *configPath)
{
    prepareGatewayEnvironment(gateway, workers);
    const QString path = gateway.writeConfig(config);
    if (configPath)
        *configPath = path;
    return !path.isEmpty() && gateway.start({}, path);
}

bool GatewayHarness::startMock(const QStringList &extraArgs)
{
    mock = std::make_unique<MockUpstream>(extraArgs);
    if (mock->isRunning())
        return true;
    error = QStringLiteral("the mock upstream does not run: ") + mock->errorString();
    return false;
}

bool GatewayHarness::startGateway(const QJsonObject &config, int workers)
{
    gateway = std::make_unique<GatewayProcess>();
    if (!gh::test::startGateway(*gateway, config, workers)) {
        error = QStringLiteral("the gateway does not start: %1\n%2").arg(gateway->errorString(), gateway->stderrText());
        return false;
    }
    db = std::make_unique<RequestLogDb>(gateway->dataDir());
    return true;
}

bool GatewayHarness::gatewayRunning() const
{
    return gateway && gateway->isRunning();
}

bool GatewayHarness::stop()
{
    if (!gatewayRunning())
        return true;
    const int code = gateway->terminate();
    if (code == 0)
        return true;
    error = QStringLiteral("the gateway exited with code %1: %2").arg(code).arg(gateway->stderrText());
    return false;
}

Headers bearer(const QByteArray &secret)
{
    return Headers{{QByteArrayLiteral("Authorization"), "Bearer " + secret}};
}

QString openAIErrorProblem(const HttpResponse &response)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(response.body, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject())
        return QStringLiteral("the body is not a JSON object: ") + response.describe();
    if (!response.header("content-type").startsWith("application/json"))
        return QStringLiteral("content-type is '%1'").arg(QString::fromLatin1(response.header("content-type")));
    const QJsonValue error = doc.object().value(QStringLiteral("error"));
    if (!error.isObject())
        return QStringLiteral("no \"error\" object: ") + response.describe();
    const QJsonObject e = error.toObject();
    if (!e.value(QStringLiteral("message")).isString() || e.value(QStringLiteral("message")).toString().isEmpty())
        return QStringLiteral("error.message is missing or empty: ") + response.describe();
    if (!e.value(QStringLiteral("type")).isString() || e.value(QStringLiteral("type")).toString().isEmpty())
        return QStringLiteral("error.type is missing or empty: ") + response.describe();
    if (!e.contains(QStringLiteral("code"))
        || !(e.value(QStringLiteral("code")).isString() || e.value(QStringLiteral("code")).isNull()))
        return QStringLiteral("error.code is missing or not a string: ") + response.describe();
    return {};
}

QString errorMessage(const HttpResponse &response)
{
    return response.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
}

QString errorCode(const HttpResponse &response)
{
    return response.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString();
}

bool fileContains(const QString &path, const QByteArray &needle)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    // Read in overlapping blocks: the files may be large.
    const qint64 block = 4 * 1024 * 1024;
    QByteArray tail;
    while (!f.atEnd()) {
        const QByteArray data = tail + f.read(block);
        if (data.contains(needle))
            return true;
        tail = data.right(needle.size());
    }
    return false;
}

QStringList filesContaining(const QString &dir, const QByteArray &needle)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (fileContains(path, needle))
            found.append(path);
    }
    return found;
}

QString chatContent(const HttpResponse &response)
{
    return response.json()
        .value(QStringLiteral("choices"))
        .toArray()
        .at(0)
        .toObject()
        .value(QStringLiteral("message"))
        .toObject()
        .value(QStringLiteral("content"))
        .toString();
}

QString streamContent(const HttpResponse &response)
{
    QString text;
    for (const QByteArray &data : response.eventData()) {
        const QJsonObject o = QJsonDocument::fromJson(data).object();
        text += o.value(QStringLiteral("choices"))
                    .toArray()
                    .at(0)
                    .toObject()
                    .value(QStringLiteral("delta"))
                    .toObject()
                    .value(QStringLiteral("content"))
                    .toString();
    }
    return text;
}

} // namespace gh::test
