#include "discovery/localdiscovery.h"
#include "core/logging.h"
#include <QJsonArray>
#include <algorithm>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace gh {

namespace {

QJsonObject objectOf(const QHash<QString, ProbeReply> &replies, const char *path)
{
    const ProbeReply r = replies.value(QLatin1String(path));
    if (r.status != 200)
        return {};
    return QJsonDocument::fromJson(r.body).object();
}

QStringList idsOf(const QJsonArray &list, const char *field)
{
    QStringList ids;
    for (const QJsonValue &v : list) {
        const QString id = v.toObject().value(QLatin1String(field)).toString();
        if (!id.isEmpty() && !ids.contains(id))
            ids.append(id);
    }
    return ids;
}

} // namespace

std::optional<LocalServer> identifyLocalServer(quint16 port, const QHash<QString, ProbeReply> &replies)
{
    LocalServer s;
    s.port = port;
    s.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(port));
    const QJsonObject openAIList = objectOf(replies, "/v1/models");
    const QJsonArray openAIModels = openAIList.value(QLatin1String("data")).toArray();
    const bool hasOpenAIList = openAIList.value(QLatin1String("data")).isArray();

    // Ollama: its own API beside the OpenAI-compatible one.
    const QJsonObject ollamaVersion = objectOf(replies, "/api/version");
    const QJsonObject tags = objectOf(replies, "/api/tags");
    if (ollamaVersion.value(QLatin1String("version")).isString() && tags.value(QLatin1String("models")).isArray()) {
        s.kind = QStringLiteral("ollama");
        s.providerId = s.kind;
        s.name = QStringLiteral("Ollama %1").arg(ollamaVersion.value(QLatin1String("version")).toString());
        s.models = idsOf(tags.value(QLatin1String("models")).toArray(), "name");
        return s;
    }
    // LM Studio: its REST API (api/v0) describes each model's type and load state.
    const QJsonArray lmModels = objectOf(replies, "/api/v0/models").value(QLatin1String("data")).toArray();
    const bool lmStudio = std::any_of(lmModels.begin(), lmModels.end(), [](const QJsonValue &v) {
        const QJsonObject o = v.toObject();
        return o.contains(QLatin1String("type")) && (o.contains(QLatin1String("state")) || o.contains(QLatin1String("arch"))
                                                     || o.contains(QLatin1String("publisher")));
    });
    if (lmStudio) {
        s.kind = QStringLiteral("lmstudio");
        s.providerId = s.kind;
        s.name = QStringLiteral("LM Studio");
        // Chat models only: an embedding model cannot answer /chat/completions.
        for (const QJsonValue &v : lmModels) {
            const QJsonObject o = v.toObject();
            if (o.value(QLatin1String("type")).toString() != QLatin1String("embeddings"))
                s.models.append(o.value(QLatin1String("id")).toString());
        }
        s.models.removeAll(QString());
        return s;
    }
    // llama.cpp's server: /props describes its one loaded model and its slots.
    const QJsonObject props = objectOf(replies, "/props");
    if (props.contains(QLatin1String("default_generation_settings"))) {
        s.kind = QStringLiteral("llamacpp");
        s.providerId = s.kind;
        s.name = QStringLiteral("llama.cpp server");
        s.models = idsOf(openAIModels, "id");
        return s;
    }
    if (hasOpenAIList) {
        const bool vllm = std::any_of(openAIModels.begin(), openAIModels.end(), [](const QJsonValue &v) {
            return v.toObject().value(QLatin1String("owned_by")).toString() == QLatin1String("vllm");
        });
        const bool jan = std::any_of(openAIModels.begin(), openAIModels.end(), [](const QJsonValue &v) {
            return v.toObject().value(QLatin1String("engine")).isString();
        });
        if (vllm) {
            s.kind = QStringLiteral("vllm");
            const QString version = objectOf(replies, "/version").value(QLatin1String("version")).toString();
            s.name = version.isEmpty() ? QStringLiteral("vLLM") : QStringLiteral("vLLM %1").arg(version);
        } else if (jan) {
            s.kind = QStringLiteral("jan");
            s.name = QStringLiteral("Jan");
        } else {
            s.kind = QStringLiteral("openai");
            s.name = QStringLiteral("OpenAI-compatible server");
        }
        s.providerId = s.kind == QLatin1String("openai") ? QStringLiteral("local-%1").arg(port) : s.kind;
        s.models = idsOf(openAIModels, "id");
        return s;
    }
    // A server that wants a key for its list (Jan, LM Studio with authentication on): found, but its
    // models are unknown until a key is set.
    const int listStatus = replies.value(QStringLiteral("/v1/models")).status;
    if (listStatus == 401 || listStatus == 403) {
        s.kind = QStringLiteral("openai");
        s.providerId = QStringLiteral("local-%1").arg(port);
        s.name = QStringLiteral("OpenAI-compatible server (needs an API key)");
        s.needsKey = true;
        return s;
    }
    return std::nullopt;
}

LocalDiscovery::LocalDiscovery(QObject *parent)
    : QObject(parent)
    , m_network(new QNetworkAccessManager(this))
{
    m_network->setProxy(QNetworkProxy::NoProxy); // loopback only: never through a proxy
}

LocalDiscovery::~LocalDiscovery() = default;

void LocalDiscovery::probe()
{
    if (m_pending > 0)
        return;
    m_replies.clear();
    m_waiting.clear();
    m_pending = int(m_ports.size());
    if (m_pending == 0) {
        m_servers.clear();
        Q_EMIT finished();
        return;
    }
    for (quint16 port : std::as_const(m_ports)) {
        m_waiting.insert(port, int(kProbePaths.size()));
        for (const QString &path : kProbePaths) {
            QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
            request.setTransferTimeout(m_timeoutMs);
            request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
            request.setRawHeader("Accept", "application/json");
            QNetworkReply *reply = m_network->get(request);
            connect(reply, &QNetworkReply::finished, this, [this, reply, port, path] {
                reply->deleteLater();
                ProbeReply r;
                r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
                // A list of a few hundred models is a few hundred KB at most; more is not a model server.
                r.body = reply->read(4 * 1024 * 1024);
                m_replies[port].insert(path, r);
                if (--m_waiting[port] == 0)
                    portDone(port);
            });
        }
    }
}

void LocalDiscovery::portDone(quint16 port)
{
    if (--m_pending > 0)
        return;
    QList<LocalServer> found;
    for (quint16 p : std::as_const(m_ports)) {
        if (auto s = identifyLocalServer(p, m_replies.value(p))) {
            qCInfo(lcGateway) << "found" << s->name << "on 127.0.0.1:" << p << "with" << s->models.size() << "model(s)";
            found.append(*s);
        }
    }
    Q_UNUSED(port);
    m_servers = found;
    Q_EMIT finished();
}

} // namespace gh
