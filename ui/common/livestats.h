#pragma once
#include <array>
#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

#include <QPointF>
#include <QtCharts/QAbstractSeries>
class QQmlEngine;
class QJSEngine;

namespace gh {
struct RequestRecord;
class Store;
}

namespace gh::ui {

// Traffic of the last 15 minutes at one-second resolution, for the dashboard's live chart. Finished
// requests are only counted into the current second; the figures and the signal move once a second
// from a timer, never per request.
class LiveStats : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON
    Q_PROPERTY(double requestsPerSecond READ requestsPerSecond NOTIFY updated)
    Q_PROPERTY(double tokensPerSecond READ tokensPerSecond NOTIFY updated)
    Q_PROPERTY(double dollarsPerHour READ dollarsPerHour NOTIFY updated)
    Q_PROPERTY(double maxRequestsPerSecond READ maxRequestsPerSecond NOTIFY updated)
    Q_PROPERTY(double maxTokensPerSecond READ maxTokensPerSecond NOTIFY updated)
    Q_PROPERTY(double maxDollarsPerHour READ maxDollarsPerHour NOTIFY updated)
    Q_PROPERTY(qint64 requestsInWindow READ requestsInWindow NOTIFY updated)
    Q_PROPERTY(int windowSeconds READ windowSeconds CONSTANT)
    // The request log cannot be written (disk full, read-only, locked): answered requests wait in
    // memory; once the buffer is full new requests are refused. Empty when all is well.
    Q_PROPERTY(QString logProblem READ logProblem NOTIFY logHealthChanged)
public:
    static constexpr int kWindowSeconds = 900; // what the chart shows
    static constexpr int kCurrentSeconds = 5; // "current" rates: the mean of the last 5 whole seconds
    static constexpr int kDollarSeconds = 60; // $/hour at a point: its last 60 seconds, times 60

    // No default argument on purpose: Qt 6.4 default-constructs a QML_SINGLETON that has a default
    // constructor instead of calling create(), which would give QML a second, unconnected instance.
    explicit LiveStats(QObject *parent);

    static LiveStats *create(QQmlEngine *, QJSEngine *);
    [[nodiscard]] static LiveStats *instance();
    static void setInstance(LiveStats *stats);

    // Starts counting the gateway's finished requests and ticking once a second.
    void attach(QObject *gatewayEvents);
    // Follows the store's logHealth() (logProblem).
    void watchStore(gh::Store *store);
    [[nodiscard]] QString logProblem() const { return m_logProblem; }

    [[nodiscard]] double requestsPerSecond() const { return m_rps; }
    [[nodiscard]] double tokensPerSecond() const { return m_tps; }
    [[nodiscard]] double dollarsPerHour() const { return m_dph; }
    [[nodiscard]] double maxRequestsPerSecond() const { return m_maxRps; }
    [[nodiscard]] double maxTokensPerSecond() const { return m_maxTps; }
    [[nodiscard]] double maxDollarsPerHour() const { return m_maxDph; }
    [[nodiscard]] qint64 requestsInWindow() const { return m_inWindow; }
    [[nodiscard]] static int windowSeconds() { return kWindowSeconds; }

    // x = seconds ago (-899..0), y = the metric: "requests" (per second), "tokens" (per second),
    // "dollars" (per hour, over the trailing minute). Replaces the series' points in one call.
    Q_INVOKABLE void fillSeries(QAbstractSeries *series, const QString &metric) const;
    // The same points, for tests and for QML that draws its own chart.
    [[nodiscard]] Q_INVOKABLE QList<QPointF> points(const QString &metric) const;

    // Counting and ticking with an explicit clock (the timer passes the real one).
    void record(const gh::RequestRecord &record, qint64 nowMs);
    void tick(qint64 nowMs);

Q_SIGNALS:
    void updated();
    void logHealthChanged();

private:
    struct Second {
        qint64 second = -1; // epoch second this slot holds; other values: empty
        double requests = 0;
        double tokens = 0;
        double dollars = 0;
    };
    static constexpr int kSlots = kWindowSeconds + kDollarSeconds + 2;
    [[nodiscard]] const Second *at(qint64 second) const;
    [[nodiscard]] double dollarsPerHourAt(qint64 second) const;
    std::array<Second, kSlots> m_slots{};
    qint64 m_lastTick = 0; // the last whole second shown (the one before the tick's second)
    double m_rps = 0, m_tps = 0, m_dph = 0, m_maxRps = 0, m_maxTps = 0, m_maxDph = 0;
    qint64 m_inWindow = 0;
    QTimer m_timer;
    QString m_logProblem;
};

} // namespace gh::ui
