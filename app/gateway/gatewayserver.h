#pragma once
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTcpServer>
#include <QThread>
#include <functional>

namespace gh {

struct GatewayContext;
class GatewayWorker;

// The listener: binds 127.0.0.1 (and ::1 on the same port when the system has IPv6) and hands each
// accepted socket to one of a small pool of worker threads, each with its own event loop and its
// own upstream connection pools.
class GatewayServer : public QObject
{
    Q_OBJECT
public:
    explicit GatewayServer(GatewayContext *context, QObject *parent = nullptr);
    ~GatewayServer() override;

    // port 0 picks a free port. Returns false with *error when 127.0.0.1:port cannot be bound.
    [[nodiscard]] bool listen(quint16 port, int workerCount, QString *error);
    [[nodiscard]] quint16 port() const;
    [[nodiscard]] bool isListening() const;
    // Stops accepting; existing connections keep going.
    void stopListening();
    // Asks every connection to close once idle; calls `done` when none is busy or after graceMs,
    // cutting what is still running then.
    void drain(int graceMs, std::function<void()> done);
    // Stops the worker threads (after drain).
    void stopWorkers();

private:
    class Listener;
    void dispatch(qintptr descriptor);
    // accept() failed (out of file descriptors, most often): make room and back off instead of
    // trying again at once, which only spins (the listening socket stays readable).
    void onAcceptError(Listener *listener, QAbstractSocket::SocketError error);
    GatewayContext *m_context;
    QList<Listener *> m_listeners;
    QList<GatewayWorker *> m_workers;
    QList<QThread *> m_threads;
    int m_next = 0;
    int m_acceptBackoffMs = 0;      // 0 after a successful accept; grows while accept keeps failing
    qint64 m_acceptErrors = 0;      // since the last warning
    QElapsedTimer m_lastAcceptWarning;
};

} // namespace gh
