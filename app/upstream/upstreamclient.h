#pragma once
#include "http/httpheaders.h"
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

namespace gh {

class UpstreamConnection;
class UpstreamClient;

enum class UpstreamFailure {
    Connect,          // could not connect (refused, DNS, TLS handshake)
    ConnectTimeout,
    FirstByteTimeout, // connected and sent, no response head in time
    IdleTimeout,      // the response stalled between chunks
    Reset,            // the connection closed or reset before the response was complete
    Protocol,         // the response was not valid HTTP
};
[[nodiscard]] bool isTimeout(UpstreamFailure f);
[[nodiscard]] const char *failureName(UpstreamFailure f);

// Receives one upstream exchange. Callbacks run on the thread of the UpstreamClient. Any callback may
// destroy the UpstreamCall that invoked it.
class UpstreamObserver
{
public:
    virtual ~UpstreamObserver() = default;
    virtual void upstreamHead(int status, const HttpHeaders &headers) = 0;
    virtual void upstreamBody(const char *data, size_t length) = 0;
    virtual void upstreamDone() = 0;
    virtual void upstreamFailed(UpstreamFailure failure, const QString &message) = 0;
    // The request went out on a pooled keep-alive connection that closed without a byte of answer,
    // and is being sent again on a fresh connection: the provider may have seen (and may bill) both.
    // Must not destroy the call.
    virtual void upstreamResent(const QString &reason) { Q_UNUSED(reason); }
};

struct UpstreamRequest {
    QByteArray host;
    QByteArray poolKey;  // optional: "http://host:port", computed when empty
    quint16 port = 80;
    bool tls = false;
    QByteArray method = "POST";
    QByteArray path;     // origin-form target, e.g. "/v1/chat/completions"
    QList<QPair<QByteArray, QByteArray>> headers; // besides Host and Content-Length
    QByteArray body;
    int connectTimeoutMs = 10'000;
    int firstByteTimeoutMs = 120'000;
    int idleTimeoutMs = 120'000;
};

// One request in flight. Destroying it cancels the exchange (the connection is closed, not reused).
class UpstreamCall
{
public:
    ~UpstreamCall();
    UpstreamCall(const UpstreamCall &) = delete;
    UpstreamCall &operator=(const UpstreamCall &) = delete;

    // Stops reading the response (backpressure from a slow client) or resumes it.
    void setPaused(bool paused);

private:
    friend class UpstreamClient;
    friend class UpstreamConnection;
    UpstreamCall(UpstreamClient *client, UpstreamRequest request, UpstreamObserver *observer);
    UpstreamClient *m_client;
    UpstreamRequest m_request;
    UpstreamObserver *m_observer;
    UpstreamConnection *m_connection = nullptr;
    bool m_paused = false;
    bool m_reused = false;
    bool m_retried = false;
};

// An HTTP/1.1 client with keep-alive connection pools per host over QTcpSocket / QSslSocket, for the
// request path. One per worker thread; not thread-safe.
class UpstreamClient : public QObject
{
    Q_OBJECT
public:
    explicit UpstreamClient(QObject *parent = nullptr);
    ~UpstreamClient() override;

    // Starts a request. The returned call must outlive the exchange or be destroyed to cancel it.
    [[nodiscard]] std::unique_ptr<UpstreamCall> start(UpstreamRequest request, UpstreamObserver *observer);

    [[nodiscard]] int idleConnectionCount() const;
    void closeIdle();

private:
    friend class UpstreamConnection;
    friend class UpstreamCall;
    void dispatch(UpstreamCall *call);
    void recycle(UpstreamConnection *connection); // back to the idle pool or closed
    void forget(UpstreamConnection *connection);  // closed: never reuse
    void retry(UpstreamCall *call);

    QHash<QByteArray, QList<UpstreamConnection *>> m_idle;
    static constexpr int kMaxIdlePerHost = 64; // idle keep-alive connections kept per host
};

} // namespace gh
