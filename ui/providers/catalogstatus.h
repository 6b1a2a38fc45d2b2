#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QString>
#include <QtQml/qqmlregistration.h>
#include <memory>

namespace gh {
class CatalogUpdater;
}

namespace gh::ui {

// The price catalog in use (source, date, size) for the Providers page, its "Update prices" action
// (a refresh over HTTPS, validated and swapped in atomically; the gateway re-prices its models
// afterwards) and the setting that turns network refreshes off for offline use.
class CatalogStatus : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString source READ source NOTIFY changed)
    Q_PROPERTY(QString takenOn READ takenOn NOTIFY changed)
    Q_PROPERTY(int modelCount READ modelCount NOTIFY changed)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)
    Q_PROPERTY(bool lastFailed READ lastFailed NOTIFY messageChanged)
    Q_PROPERTY(bool refreshEnabled READ refreshEnabled WRITE setRefreshEnabled NOTIFY refreshEnabledChanged)
public:
    explicit CatalogStatus(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // object reads nothing before it has one.
    explicit CatalogStatus(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    ~CatalogStatus() override;

    [[nodiscard]] QString source() const;
    [[nodiscard]] QString takenOn() const;
    [[nodiscard]] int modelCount() const;
    [[nodiscard]] bool busy() const { return m_busy; }
    [[nodiscard]] QString message() const { return m_message; }
    [[nodiscard]] bool lastFailed() const { return m_lastFailed; }
    [[nodiscard]] bool refreshEnabled() const;
    void setRefreshEnabled(bool enabled);

    // Fetches the newest catalog from the default source (genai-prices' data file).
    Q_INVOKABLE void update();

Q_SIGNALS:
    void backendChanged();
    void changed();
    void busyChanged();
    void messageChanged();
    void refreshEnabledChanged();

private:
    QPointer<Backend> m_backend;
    std::unique_ptr<CatalogUpdater> m_updater;
    bool m_busy = false;
    bool m_lastFailed = false;
    QString m_message;
};

} // namespace gh::ui
