#pragma once
#include <QObject>
#include <QString>

class QLocalServer;

namespace gh::ui {

// One window per user and data folder: the first instance listens on a local socket named after
// both; a second launch connects, asks it to raise its window and exits.
class SingleInstance : public QObject
{
    Q_OBJECT
public:
    explicit SingleInstance(QObject *parent = nullptr);

    // The socket name for this user and data folder.
    [[nodiscard]] static QString serverName(const QString &dataDir);
    // Asks a running instance to raise its window; true when one answered.
    [[nodiscard]] static bool raiseRunning(const QString &dataDir, int timeoutMs = 1500);
    // Starts answering; false (with a warning) when the name cannot be taken.
    bool listen(const QString &dataDir);

Q_SIGNALS:
    void raiseRequested();

private:
    QLocalServer *m_server = nullptr;
};

} // namespace gh::ui
