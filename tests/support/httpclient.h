#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QMultiMap>
#include <QString>

#include <functional>
#include <memory>
#include <utility>

class QTcpSocket;

namespace gh::test {

// Request headers in the order they are sent; names keep the caller's case.
using Headers = QList<std::pair<QByteArray, QByteArray>>;

// Some bytes of a response body and when they arrived, in ms since the request started to be sent.
struct Arrival
{
    double atMs = 0;
    QByteArray data;
};

// One server-sent event: its `event:` name (empty for the default) and its data lines joined by "\n".
struct SseEvent
{
    QByteArray event;
    QByteArray data;
    double atMs = 0; // arrival time of the blank line that ended the event (0 when parsed offline)
};

// Splits an SSE body into events (LF or CRLF line ends). Events without data lines are skipped;
// an unterminated last event is not returned.
[[nodiscard]] QList<SseEvent> parseSse(const QByteArray &body);
// The data payloads of the events of an SSE body ("[DONE]" included).
[[nodiscard]] QList<QByteArray> sseEvents(const QByteArray &body);

struct HttpResponse
{
    int status = 0; // 0: no status line was received
    QByteArray reason;
    QMultiMap<QByteArray, QByteArray> headers; // names lower-case
    QByteArray body;                          // de-chunked
    QByteArray raw;                           // every byte received on the connection for this exchange

    bool complete = false;   // the whole message was received
    bool peerClosed = false; // the server closed (or reset) the connection
    bool timedOut = false;
    bool aborted = false;    // we cut the connection (disconnectAfterBodyBytes)
    QString error;           // transport or HTTP parse error, empty when none

    double headersAtMs = -1;   // when the header block was complete
    double firstBodyAtMs = -1; // when the first body byte arrived
    double elapsedMs = 0;      // until the exchange ended
    qint64 uploadedBytes = 0;  // body bytes written to the socket
    QList<Arrival> chunks;     // body pieces as they arrived: one per HTTP chunk (chunked) or per read
    QList<SseEvent> events;    // SSE events as they arrived (when the body is an event stream)

    // The first value of a header (name in any case), or an empty array.
    [[nodiscard]] QByteArray header(QByteArrayView name) const;
    [[nodiscard]] bool hasHeader(QByteArrayView name) const;
    [[nodiscard]] QJsonDocument jsonDocument() const { return QJsonDocument::fromJson(body); }
    [[nodiscard]] QJsonObject json() const { return jsonDocument().object(); }
    // The data payloads of `events`.
    [[nodiscard]] QList<QByteArray> eventData() const;
    // A one-line summary for failure messages: status, error, and the start of the body.
    [[nodiscard]] QString describe() const;
};

struct RequestOptions
{
    int timeoutMs = 30000;
    // Slow reader: at most readChunkBytes per readIntervalMs (0: read as fast as possible).
    qint64 readChunkBytes = 0;
    int readIntervalMs = 50;
    // Abort the connection once this many body bytes arrived (-1: never).
    qint64 disconnectAfterBodyBytes = -1;
    // Send the body with Transfer-Encoding: chunked, in pieces of uploadChunkBytes.
    bool chunkedUpload = false;
    qint64 uploadChunkBytes = 256 * 1024;
    // Stop reading once the response headers arrived (the connection is then closed).
    bool headersOnly = false;
};

// A raw, blocking HTTP/1.1 client over QTcpSocket for tests, with a strict response parser
// (llhttp). Each exchange opens a new connection unless keep-alive reuse is turned on.
class HttpClient
{
public:
    explicit HttpClient(quint16 port, QByteArray host = QByteArrayLiteral("127.0.0.1"));
    ~HttpClient();
    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;
    HttpClient(HttpClient &&) noexcept;
    HttpClient &operator=(HttpClient &&) noexcept;

    // Headers added to every request unless the request sets the same name.
    void setDefaultHeaders(const Headers &headers) { m_defaultHeaders = headers; }
    void setBearer(const QByteArray &token);
    // Reuse the connection between exchanges when the server keeps it alive.
    void setKeepAlive(bool reuse) { m_keepAlive = reuse; }
    [[nodiscard]] quint16 port() const { return m_port; }
    // Number of TCP connections opened so far.
    [[nodiscard]] int connectionsOpened() const { return m_connectionsOpened; }

    HttpResponse request(const QByteArray &method, const QByteArray &path, const Headers &headers = {},
                         const QByteArray &body = {}, const RequestOptions &options = {});
    HttpResponse get(const QByteArray &path, const Headers &headers = {}, const RequestOptions &options = {});
    // POST with Content-Type: application/json unless the headers set one.
    HttpResponse post(const QByteArray &path, const QByteArray &body, const Headers &headers = {},
                      const RequestOptions &options = {});
    HttpResponse postJson(const QByteArray &path, const QJsonObject &body, const Headers &headers = {},
                          const RequestOptions &options = {});

    // A request whose body of `size` bytes (filled with `fill`) is generated while it is sent, and
    // the response read concurrently: sending stops as soon as a response is complete or the
    // server closes (e.g. an early 413). uploadedBytes tells how much went out.
    HttpResponse requestLargeBody(const QByteArray &method, const QByteArray &path, const Headers &headers,
                                  qint64 size, char fill = 'x', const RequestOptions &options = {});

    // Sends bytes as they are (malformed requests) on a new connection and reads one response.
    HttpResponse sendRaw(const QByteArray &bytes, const RequestOptions &options = {});

    void close();

private:
    // Produces the next piece of body (empty when done).
    using BodySource = std::function<QByteArray(qint64 maxBytes)>;

    QByteArray buildHead(const QByteArray &method, const QByteArray &path, const Headers &headers, qint64 bodySize,
                         bool chunked) const;
    HttpResponse exchange(const QByteArray &head, qint64 bodySize, const BodySource &body, bool chunked,
                          bool headRequest, const RequestOptions &options);
    bool ensureConnected(int timeoutMs, QString *error);

    quint16 m_port;
    QByteArray m_host;
    Headers m_defaultHeaders;
    bool m_keepAlive = false;
    int m_connectionsOpened = 0;
    std::unique_ptr<QTcpSocket> m_socket;
};

} // namespace gh::test
