#pragma once
#include "backend.h"
#include "store/queryrunner.h"
#include "store/analytics.h"
#include <functional>
#include <QAbstractListModel>
#include <QPointer>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// What the analytics pages' models (RankingsModel, CacheModel) share: the `period` they read
// ("day" = 24 h, "week" = 7 d, "month" = 30 d, "all"), one read at a time on the query thread
// (a refresh asked for during a read runs once it is done), `loading` while reading, `ready` once
// a read succeeded, and a re-read at most every 2 s while requests finish (Backend::logChanged),
// at once when the log is cleared. A subclass builds its query in start() and hands it to run(),
// replaces its rows with replaceRows(), and connects to what else it follows in backendAttached().
class AnalyticsModelBase : public QAbstractListModel
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString period READ period WRITE setPeriod NOTIFY periodChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(bool ready READ ready NOTIFY loadingChanged)
public:
    [[nodiscard]] QString period() const { return m_period; }
    void setPeriod(const QString &period); // "day" | "week" | "month" | "all"
    [[nodiscard]] bool loading() const { return m_loading; }
    [[nodiscard]] bool ready() const { return m_ready; }
    // Reads the period again now.
    Q_INVOKABLE void refresh();

    [[nodiscard]] bool isIdle() const { return !m_running && !m_again; } // tests

    // The time range of `period` ending at nowMs (inclusive), only keyId's requests when >= 0.
    [[nodiscard]] static analytics::Period periodRange(const QString &period, qint64 nowMs, int keyId = -1);

    [[nodiscard]] Backend *backend() const { return m_backend; }
    // Set once (QML at creation, or a subclass's constructor): connects, then reads the period.
    void setBackend(Backend *backend);

Q_SIGNALS:
    void backendChanged();
    void periodChanged();
    void countChanged();
    void loadingChanged();
    void resultChanged();

protected:
    // name: the class name the warnings start with.
    AnalyticsModelBase(const char *name, QObject *parent);

    // Every model's prices as the gateway bills them now (catalog, config, the user's own), by id:
    // the same figures the request log's costs come from.
    [[nodiscard]] QHash<QString, analytics::Prices> gatewayPrices() const;
    [[nodiscard]] const char *name() const { return m_name; }

    // The subclass's own connections to the backend just set (before the first read).
    virtual void backendAttached() {}
    // Submits the read of the current settings: calls run() once. Only called with a backend.
    virtual void start() = 0;

    // Runs `query` on the query thread and hands its result to `apply` on this thread, unless a
    // newer read was started meanwhile; then starts the read asked for during this one, if any.
    template <typename R> void run(std::function<R(LogQueries &)> query, std::function<void(R)> apply)
    {
        beginRun();
        const int generation = ++m_generation;
        m_backend->queries().run<R>(this, std::move(query), [this, generation, apply = std::move(apply)](R result) {
            m_running = false;
            if (generation == m_generation)
                apply(std::move(result));
            endRun();
        });
    }

    // Replaces the rows in one model reset: `assign` moves the new result in. Sets `ready`, then
    // emits countChanged when the row count changed and resultChanged. With !ok it only warns that
    // it cannot read `what` and keeps the previous rows.
    void replaceRows(bool ok, const QString &error, const char *what, const std::function<void()> &assign);

private:
    void beginRun();
    void endRun();
    const char *m_name;
    QPointer<Backend> m_backend;
    QString m_period = QStringLiteral("week");
    bool m_loading = false;
    bool m_ready = false;
    bool m_running = false;
    bool m_again = false;
    int m_generation = 0;
    QTimer m_throttle;
};

} // namespace gh::ui
