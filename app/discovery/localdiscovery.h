#pragma once
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

class QNetworkAccessManager;

namespace gh {

// A model server found on this machine.
struct LocalServer {
    QString kind;        // "ollama", "lmstudio", "llamacpp", "vllm", "jan", "openai" (another OpenAI-compatible server)
    QString name;        // "Ollama 0.5.7", "LM Studio", "llama.cpp server"...
    QString providerId;  // the provider id it is offered as: "ollama", "lmstudio", ...
    quint16 port = 0;
    QUrl baseUrl;        // its OpenAI-compatible API: http://127.0.0.1:11434/v1
    QStringList models;  // from its own API
    bool needsKey = false; // it answered 401/403: a key must be set in the server's settings
    friend bool operator==(const LocalServer &, const LocalServer &) = default;
};

// What one probe of a port answered: HTTP status (0: no answer) and body, by path.
struct ProbeReply {
    int status = 0;
    QByteArray body;
};

// Identifies a server from its answers to kProbePaths, by its API (never by its port):
//   Ollama     GET /api/version {"version"} and GET /api/tags {"models": [{"name", ...}]}
//   LM Studio  GET /api/v0/models {"data": [{"id", "type", "state" | "arch" | "publisher"}]}
//   llama.cpp  GET /props {"default_generation_settings", ...}
//   vLLM       GET /v1/models whose entries are "owned_by": "vllm"
//   Jan        GET /v1/models whose entries name an "engine" (Jan's model.json fields)
//   any other  GET /v1/models {"object": "list", "data": [...]} ("OpenAI-compatible server")
// std::nullopt when nothing model-serving answered.
[[nodiscard]] std::optional<LocalServer> identifyLocalServer(quint16 port, const QHash<QString, ProbeReply> &replies);

// Probes the loopback ports of the usual local model servers (Ollama 11434, LM Studio 1234,
// llama.cpp 8080, vLLM 8000, Jan 1337) with short timeouts, at start-up and on demand. Only
// 127.0.0.1 is ever asked, without a proxy and without following redirects. Control plane
// (QNetworkAccessManager): lives on the thread that calls probe().
class LocalDiscovery : public QObject
{
    Q_OBJECT
public:
    static inline const QStringList kProbePaths{QStringLiteral("/api/version"), QStringLiteral("/api/tags"),
                                                QStringLiteral("/api/v0/models"), QStringLiteral("/props"),
                                                QStringLiteral("/v1/models"), QStringLiteral("/version")};
    static constexpr int kDefaultTimeoutMs = 1'500; // a local server answers its lists in a few ms
    [[nodiscard]] static QList<quint16> defaultPorts() { return {11434, 1234, 8080, 8000, 1337}; }

    explicit LocalDiscovery(QObject *parent = nullptr);
    ~LocalDiscovery() override;

    void setPorts(const QList<quint16> &ports) { m_ports = ports; } // tests: a stand-in's port
    void setTimeoutMs(int ms) { m_timeoutMs = ms; }
    // Starts a probe of every port (ignored while one runs); finished() follows.
    void probe();
    [[nodiscard]] bool isProbing() const { return m_pending > 0; }
    // What the last finished probe found, by port order.
    [[nodiscard]] QList<LocalServer> servers() const { return m_servers; }

Q_SIGNALS:
    void finished();

private:
    void portDone(quint16 port);
    QNetworkAccessManager *m_network;
    QList<quint16> m_ports = defaultPorts();
    int m_timeoutMs = kDefaultTimeoutMs;
    int m_pending = 0;
    QHash<quint16, QHash<QString, ProbeReply>> m_replies;
    QHash<quint16, int> m_waiting; // requests still out per port
    QList<LocalServer> m_servers;
};

} // namespace gh
