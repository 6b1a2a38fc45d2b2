#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The Settings page's "Gateway workers": how many worker threads serve connections. Stored with the
// gateway settings ("workers", 0 = one per core) and read when the gateway starts: the pool is not
// resized while connections are being served, so a change applies at the next start.
class WorkersSetting : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int cores READ cores CONSTANT)                            // cores this process may run on
    Q_PROPERTY(int stored READ stored NOTIFY storedChanged)              // the saved choice; 0: automatic
    Q_PROPERTY(int serving READ serving NOTIFY backendChanged)           // worker threads serving now
    Q_PROPERTY(bool fromCommandLine READ fromCommandLine NOTIFY backendChanged) // --workers / GATEHOUSE_WORKERS won
    Q_PROPERTY(bool restartNeeded READ restartNeeded NOTIFY storedChanged) // the saved choice differs from what serves
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)

public:
    explicit WorkersSetting(QObject *parent = nullptr);

    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    [[nodiscard]] static int cores();
    [[nodiscard]] int stored() const { return m_stored; }
    [[nodiscard]] int serving() const;
    [[nodiscard]] bool fromCommandLine() const;
    [[nodiscard]] bool restartNeeded() const;
    [[nodiscard]] QString error() const { return m_error; }

    // Saves `count` (0: automatic, else 1..cores). False with error() when it is out of range.
    Q_INVOKABLE bool apply(int count);

Q_SIGNALS:
    void backendChanged();
    void storedChanged();
    void errorChanged();

private:
    void setError(const QString &error);
    QPointer<Backend> m_backend;
    int m_stored = 0;
    QString m_error;
};

} // namespace gh::ui
