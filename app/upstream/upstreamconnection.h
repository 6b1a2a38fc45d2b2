#pragma once
#include "http/httpparser.h"
#include "upstream/upstreamclient.h"
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QTimer>

class QTcpSocket;

namespace gh {

// One socket to an upstream host, reused across requests (keep-alive). Internal to UpstreamClient.
class UpstreamConnection : public QObject, private HttpParser::Handler
{
    Q_OBJECT
public:
    UpstreamConnection(UpstreamClient *client, const QByteArray &poolKey, const UpstreamRequest &target);
    ~UpstreamConnection() override;

    [[nodiscard]] const QByteArray &poolKey() const { return m_poolKey; }
    [[nodiscard]] bool isUsable() const;
    [[nodiscard]] bool hasBeenUsed() const { return m_requests > 0; }
    void send(UpstreamCall *call);
    void detach();   // the call went away: close without reuse
    void resume();   // process bytes held back while the call was paused
    void closeNow();

private:
    enum class Phase { Idle, Connecting, AwaitingHead, Body };
    void onConnected();
    void onReadyRead();
    void onClosed();
    void onTimeout();
    void process();
    void fail(UpstreamFailure failure, const QString &message);
    void complete();
    void armTimer();
    void onHeadersComplete(HttpParser &parser) override;
    void onBody(HttpParser &parser, const char *data, size_t length) override;

    UpstreamClient *m_client;
    QByteArray m_poolKey;
    QTcpSocket *m_socket = nullptr;
    HttpParser m_parser;
    UpstreamCall *m_call = nullptr;
    Phase m_phase = Phase::Idle;
    QTimer m_timer;
    bool m_connected = false;
    bool m_gotBytes = false;
    bool m_closing = false;
    bool m_inProcess = false;
    int m_requests = 0;
    QByteArray m_host;
    quint16 m_port = 0;
    bool m_tls = false;
    bool m_inSend = false; // inside send()'s flush: a close is handled after it returns
};

} // namespace gh
