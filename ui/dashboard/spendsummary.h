#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// Spend of today, this week (from Monday) and this month, each with the whole previous period, in
// USD, from the spend aggregates (which refresh off the UI thread, throttled, as requests finish).
class SpendSummary : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(double today READ today NOTIFY changed)
    Q_PROPERTY(double week READ week NOTIFY changed)
    Q_PROPERTY(double month READ month NOTIFY changed)
    Q_PROPERTY(double todayPrevious READ todayPrevious NOTIFY changed)
    Q_PROPERTY(double weekPrevious READ weekPrevious NOTIFY changed)
    Q_PROPERTY(double monthPrevious READ monthPrevious NOTIFY changed)
    Q_PROPERTY(int requestsToday READ requestsToday NOTIFY changed)
    Q_PROPERTY(qint64 tokensToday READ tokensToday NOTIFY changed)
    Q_PROPERTY(bool hasData READ hasData NOTIFY changed)
    Q_PROPERTY(bool ready READ ready NOTIFY changed)
public:
    explicit SpendSummary(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // object reads nothing before it has one.
    explicit SpendSummary(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] double today() const { return m_values[0]; }
    [[nodiscard]] double week() const { return m_values[1]; }
    [[nodiscard]] double month() const { return m_values[2]; }
    [[nodiscard]] double todayPrevious() const { return m_values[3]; }
    [[nodiscard]] double weekPrevious() const { return m_values[4]; }
    [[nodiscard]] double monthPrevious() const { return m_values[5]; }
    [[nodiscard]] int requestsToday() const { return m_requestsToday; }
    [[nodiscard]] qint64 tokensToday() const { return m_tokensToday; }
    [[nodiscard]] bool hasData() const { return m_hasData; }
    [[nodiscard]] bool ready() const { return m_ready; }

Q_SIGNALS:
    void backendChanged();
    void changed();

private:
    void recompute();
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    double m_values[6] = {};
    int m_requestsToday = 0;
    qint64 m_tokensToday = 0;
    bool m_hasData = false;
    bool m_ready = false;
};

} // namespace gh::ui
