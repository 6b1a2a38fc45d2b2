#include "singleinstance.h"
#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {
constexpr QByteArrayView kRaise = "raise\n";
constexpr QByteArrayView kAck = "ok\n";
} // namespace

SingleInstance::SingleInstance(QObject *parent)
    : QObject(parent)
{ }

QString SingleInstance::serverName(const QString &dataDir)
{
    QString user = qEnvironmentVariable("USER");
    if (user.isEmpty())
        user = qEnvironmentVariable("USERNAME");
    const QFileInfo info(dataDir);
    const QString dir = info.exists() ? info.canonicalFilePath() : QDir::cleanPath(info.absoluteFilePath());
    const QByteArray hash = QCryptographicHash::hash((user + u'\n' + dir).toUtf8(), QCryptographicHash::Sha256).toHex();
    return QStringLiteral("gatehouse-") + QString::fromLatin1(hash.left(24));
}

bool SingleInstance::raiseRunning(const QString &dataDir, int timeoutMs)
{
    QLocalSocket socket;
    socket.connectToServer(serverName(dataDir));
    if (!socket.waitForConnected(timeoutMs))
        return false;
    socket.write(kRaise.data(), kRaise.size());
    if (!socket.waitForBytesWritten(timeoutMs))
        return false;
    // The answer says a Gatehouse (not a stale socket file) is there.
    while (socket.bytesAvailable() < kAck.size()) {
        if (!socket.waitForReadyRead(timeoutMs))
            return false;
    }
    return socket.read(kAck.size()) == kAck.toByteArray();
}

bool SingleInstance::listen(const QString &dataDir)
{
    const QString name = serverName(dataDir);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(name)) {
        // A socket file left by a crashed instance (raiseRunning() found nobody behind it).
        QLocalServer::removeServer(name);
        if (!m_server->listen(name)) {
            qCWarning(lcUi) << "single instance: cannot listen on" << name << ":" << m_server->errorString();
            return false;
        }
    }
    connect(m_server, &QLocalServer::newConnection, this, [this] {
        while (QLocalSocket *socket = m_server->nextPendingConnection()) {
            connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
            connect(socket, &QLocalSocket::readyRead, this, [this, socket] {
                if (!socket->canReadLine()) {
                    if (socket->bytesAvailable() > 64)
                        socket->abort();
                    return;
                }
                if (socket->readLine(64) == kRaise.toByteArray()) {
                    socket->write(kAck.data(), kAck.size());
                    socket->flush();
                    Q_EMIT raiseRequested();
                }
                socket->disconnectFromServer();
            });
        }
    });
    return true;
}

} // namespace gh::ui
