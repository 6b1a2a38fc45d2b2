#pragma once
#include <QObject>

namespace gh {

// Turns SIGINT/SIGTERM (Ctrl+C / console close on Windows) into a queued Qt signal.
class ShutdownSignals : public QObject
{
    Q_OBJECT
public:
    explicit ShutdownSignals(QObject *parent = nullptr);
    ~ShutdownSignals() override;

Q_SIGNALS:
    void shutdownRequested(int signal);
};

} // namespace gh
