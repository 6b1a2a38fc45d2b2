#pragma once
#include "http/sseframer.h"
#include "providers/usage.h"
#include <QElapsedTimer>
#include <QNetworkReply>
#include <QObject>
#include <QPointer>
#include <QUrl>

class QNetworkAccessManager;

namespace gh::ui {

// One streamed chat completion through the gateway, as any client sends it: a POST to
// /v1/chat/completions with "stream": true, read as server-sent events (gh::SseFramer). Content
// arrives through delta(); the gateway's request id and served model come from its response headers,
// the usage from the stream's usage chunk. finished() comes exactly once (also after abort()).
class ChatStream : public QObject
{
    Q_OBJECT
public:
    struct Result {
        QString requestId;     // x-gatehouse-request-id
        QString servedModel;   // x-gatehouse-model: the model that answered (a route's target)
        int status = 0;        // HTTP status (0: no response)
        Usage usage;           // normalized like the request log (inputTokens uncached)
        QString error;         // "" on success
        bool aborted = false;  // stopped by abort()
        qint64 ttftMs = -1;    // start to the first content
        qint64 totalMs = 0;    // start to the end
        qint64 contentChars = 0;
    };

    ChatStream(QNetworkAccessManager *network, QObject *parent = nullptr);
    ~ChatStream() override;

    // `body` is the whole request (model, messages, stream...). `bearer`: the Gatehouse key.
    void start(const QUrl &url, const QString &bearer, const QByteArray &body);
    // Stops reading and closes the connection (the gateway logs the request as cancelled).
    void abort();
    [[nodiscard]] bool isRunning() const { return m_reply != nullptr; }
    [[nodiscard]] const Result &result() const { return m_result; }

Q_SIGNALS:
    void headersReceived(); // result().requestId and servedModel are known
    void delta(const QString &text);
    void finished();

private:
    void onReadyRead();
    void onFinished();
    void handleEvent(QByteArrayView rawEvent);
    void finish();
    QNetworkAccessManager *m_network;
    QPointer<QNetworkReply> m_reply;
    SseFramer m_framer;
    QByteArray m_errorBody; // the body of a non-SSE (error) response
    QElapsedTimer m_clock;
    Result m_result;
    bool m_isEventStream = false;
    bool m_headersSeen = false;
    bool m_done = false;
};

} // namespace gh::ui
