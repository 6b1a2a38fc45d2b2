#pragma once
#include "gateway/gatewayerror.h"
#include "http/httpparser.h"
#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <functional>
#include <memory>
#include <mutex>

class QTcpSocket;

namespace gh {

struct GatewayContext;
class Exchange;
class UpstreamClient;
class RequestJournal;
class ByteWriter;

// Response headers the gateway writes, in order.
using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One client connection to the gateway: parses requests (llhttp), one at a time, hands each to an
// Exchange and writes what the exchange answers. Keep-alive and pipelining are supported; a request
// body over the limit is answered with 413 as soon as its headers say so.
class ClientConnection : public QObject, private HttpParser::Handler
{
    Q_OBJECT
public:
    // `journal`: the worker's request journal, or null (answers then wait for the log's commit).
    ClientConnection(qintptr descriptor, GatewayContext *context, UpstreamClient *upstream, RequestJournal *journal,
                     QObject *parent);
    ~ClientConnection() override;

    [[nodiscard]] GatewayContext *context() const { return m_context; }
    [[nodiscard]] UpstreamClient *upstream() const { return m_upstream; }
    [[nodiscard]] RequestJournal *journal() const { return m_journal; }

    // --- used by the exchange ---
    // A complete response with a body (Content-Length).
    void sendResponse(int status, const HeaderList &headers, const QByteArray &body);
    // A streamed response (Transfer-Encoding: chunked).
    void beginStream(int status, const HeaderList &headers);
    void sendChunk(QByteArrayView data);
    void endStream();
    // A response with a Content-Length whose body follows in parts (relayed as it arrives).
    void beginBody(int status, const HeaderList &headers, qint64 contentLength);
    void sendBodyPart(QByteArrayView data);
    // The response cannot be completed: close the connection after what was sent, so that the
    // client sees it end short instead of waiting for the rest.
    void cutResponse() { m_closeAfterResponse = true; }
    [[nodiscard]] qint64 pendingOutput() const;
    // Holds every byte written from now on in memory until as many releases have come: the exchange
    // holds its response until its log row is committed (Store::appendRequest's onDurable). The
    // returned function, callable once from any thread, releases one hold on this thread's event loop
    // (a no-op once the connection is gone).
    [[nodiscard]] std::function<void()> holdOutput();
    [[nodiscard]] bool canWrite() const { return !m_gone; }
    // [capture] Keeps a copy of the response's content type and body bytes (no head, no chunk framing)
    // written from now on, up to `limit` bytes, until takeTap(); for a key that captures bodies.
    void tapResponse(qsizetype limit);
    [[nodiscard]] bool tapping() const { return m_tapLimit >= 0; }
    // What was kept, and stops keeping; *cut: the body was longer than the limit.
    [[nodiscard]] QByteArray takeTap(QByteArray *contentType, bool *cut);
    // The exchange is over (its response is complete); the next request may start.
    void exchangeFinished();

    // Shutdown: close when idle, otherwise after the current response.
    void closeWhenIdle();
    // For the connection cap: 0 when waiting for a request (keep-alive), 1 while a request's head or
    // body arrives, -1 when it cannot be closed without losing an answer (an exchange, closing).
    [[nodiscard]] int evictionRank() const;
    [[nodiscard]] qint64 lastActivityMs() const { return m_lastActivityMs; }
    // Closed to make room under the connection cap: quietly when idle, with 503 mid-request.
    void evict();
    // Refused at accept (the cap is reached and nothing could be evicted): 503, then closed.
    void refuseOverCapacity();
    // Cut whatever is in flight now (end of the shutdown grace period).
    void abortNow();

Q_SIGNALS:
    void closed();
    // Output drained below the low-water mark (backpressure release).
    void outputDrained();

private:
    void onReadyRead();
    void onDisconnected();
    void dropExchange(); // the client is gone: tell the exchange, close
    void onBytesWritten();
    void parsePending();
    void dispatch();
    void rejectTooLarge();
    void finishClose();
    // Answers an error that ends the connection, then closes it gracefully: the write side is shut
    // once the answer is out, and whatever the client still sends is read and dropped for a moment,
    // so that closing with unread input (a reset) cannot destroy the answer before the client reads it.
    void failAndClose(int status, const GatewayError &error);
    void lingerClose();
    void markLeaving(); // once: counted in leavingConnections until destroyed
    void onReadTimeout();
    // The read timer for the connection's state: idle between requests, a head arriving, a body arriving.
    void updateReadTimer(bool gotBytes);
    void onHeadersComplete(HttpParser &parser) override;
    void onBody(HttpParser &parser, const char *data, size_t length) override;
    void write(QByteArrayView data);
    void releaseOutput();
    void tapHead(const HeaderList &headers);
    void tapBody(QByteArrayView data);
    static void writeHead(ByteWriter &out, int status, const HeaderList &headers);
    void endHead(ByteWriter &out) const;

    GatewayContext *m_context;
    UpstreamClient *m_upstream;
    RequestJournal *m_journal;
    QTcpSocket *m_socket;
    HttpParser m_parser;
    QByteArray m_pending;     // received, not yet parsed
    QByteArray m_body;
    std::unique_ptr<Exchange> m_exchange;
    QElapsedTimer m_arrival;
    qint64 m_arrivalMs = 0;
    qint64 m_bodyLimit = 0;
    bool m_tooLarge = false;      // answered 413; discarding the rest of the body
    bool m_keepAlive = true;
    bool m_headRequest = false;   // the request being answered is a HEAD: heads only
    bool m_closeAfterResponse = false;
    bool m_closing = false;
    bool m_leaving = false;       // counted in GatewayContext::leavingConnections (evicted or refused)
    bool m_gone = false;
    bool m_inWrite = false; // inside write()'s flush: disconnects and bytes-written are handled after it
    bool m_drainSignalArmed = false;
    qint64 m_discarded = 0;
    QTimer m_discardTimer;
    int m_holds = 0;           // see holdOutput()
    QByteArray m_held;         // written while held
    bool m_closeOnRelease = false; // finishClose() came while held
    // What a release from another thread reaches: cleared (under its mutex) by the destructor, so a
    // late release never touches a deleted connection.
    struct ReleaseTarget {
        std::mutex mutex;
        ClientConnection *connection = nullptr;
    };
    std::shared_ptr<ReleaseTarget> m_releaseTarget;
    enum class ReadPhase { None, Idle, Head, Body };
    ReadPhase m_readPhase = ReadPhase::None;
    QTimer m_readTimer;
    qint64 m_lastActivityMs = 0;
    bool m_lingering = false;
    qsizetype m_tapLimit = -1; // see tapResponse(); -1: not tapping
    QByteArray m_tap;
    QByteArray m_tapType;
    bool m_tapCut = false; // answered an error, write side shut: dropping input until the client closes
};

} // namespace gh
