#pragma once
#include "backend.h"
#include "store/logqueries.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtCharts/QXYSeries> // complete for moc: fillCumulative() is invokable
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// One client session's requests as a timeline, oldest first, with the cost accumulating along it
// (Activity's session view, opened from the filter or from the Dashboard's "Sessions today"). Read
// on the query thread, again whenever rows are committed.
class SessionTimelineModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString session READ session WRITE setSession NOTIFY sessionChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY changed)
    Q_PROPERTY(double totalCost READ totalCost NOTIFY changed) // USD, priced requests
    Q_PROPERTY(int unpriced READ unpriced NOTIFY changed) // answered (2xx) without a price
    Q_PROPERTY(int failed READ failed NOTIFY changed) // not a success (store::isSuccess)
    Q_PROPERTY(double firstAt READ firstAt NOTIFY changed) // ms since the epoch; 0 when empty
    Q_PROPERTY(double lastAt READ lastAt NOTIFY changed)
    Q_PROPERTY(bool truncated READ truncated NOTIFY changed) // more than kLimit requests: the first kLimit shown
public:
    static constexpr int kLimit = 5000;

    enum Roles {
        RequestIdRole = Qt::UserRole + 1, // "req_…"
        StartedAtRole, // ms since the epoch
        OffsetRole, // ms since the session's first request
        ModelRole, // the model the client asked for ("modelName": a delegate's `model` is the model itself)
        ProviderRole, // the provider that served (or was tried last)
        StatusRole, // the HTTP status sent to the client
        OkRole, // a success (store::isSuccess)
        ErrorRole, // why it failed; empty on success
        PricedRole, // it has a price (an unpriced request adds nothing to the total)
        CostRole, // USD of this request (0 when unpriced)
        CumulativeRole, // USD of this and every earlier request
        InputTokensRole, // input tokens, cached or not
        OutputTokensRole, // output tokens
    };
    Q_ENUM(Roles)

    explicit SessionTimelineModel(QObject *parent = nullptr);
    explicit SessionTimelineModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    [[nodiscard]] QString session() const { return m_session; }
    void setSession(const QString &session);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] double totalCost() const;
    [[nodiscard]] int unpriced() const { return m_unpriced; }
    [[nodiscard]] int failed() const { return m_failed; }
    [[nodiscard]] double firstAt() const;
    [[nodiscard]] double lastAt() const;
    [[nodiscard]] bool truncated() const { return m_truncated; }

    // The cumulative cost as a step line over minutes since the first request, in the display
    // currency: each request raises it at its start.
    Q_INVOKABLE void fillCumulative(QXYSeries *series) const;

Q_SIGNALS:
    void backendChanged();
    void sessionChanged();
    void changed();
    void refreshed(); // a query's result was applied (tests)

private:
    void refresh();
    void apply(QList<SessionStep> steps, bool truncated);
    QPointer<Backend> m_backend;
    QString m_session;
    QList<SessionStep> m_steps;
    int m_unpriced = 0;
    int m_failed = 0;
    bool m_truncated = false;
    bool m_running = false;
    bool m_again = false;
};

} // namespace gh::ui
