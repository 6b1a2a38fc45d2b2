#pragma once
#include "store/logqueries.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

class GuardrailCenter;

// The guardrail trips, newest first, with their evidence and the spend per minute of the tripped
// key or session around each trip (the rate curve): the Guardrails page's list. Read on the query
// thread from the guardrail_trips table and the request log, again after every trip, resume, kept
// pause or mode change. Set `center` (Guardrails in QML): nothing is read without it.
class GuardrailTripsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::GuardrailCenter *center READ center WRITE setCenter NOTIFY centerChanged)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    // The rate curve: minutes before the trip, the trip's minute, minutes after.
    static constexpr int kCurveBefore = 30;
    static constexpr int kCurveAfter = 5;

    enum Roles {
        TripIdRole = Qt::UserRole + 1, // the trip's id (GET /v1/key shows it too)
        KeyIdRole, // the key's id
        KeyNameRole, // the key's name
        SessionRole, // the paused / judged session; "" for the whole key
        DetectorRole, // "repetition", "velocity", "blowup"
        PausedRole, // true: the trip paused; false: an alert
        ActiveRole, // a pause still in force
        SummaryRole, // what was detected, with its numbers
        KindRole, // evidence kind: same_request, same_result, spend_rate, projected_overrun, token_blowup
        EvidenceRole, // the evidence's numbers as "name: value" lines (hashes excluded)
        HashesRole, // the repeated hash(es), then the session's latest request hashes
        CostSoFarRole, // USD the scope had spent when it tripped
        AtRole, // ms since the epoch
        RequestIdRole, // the request that tripped it
        EndedAtRole, // ms since the epoch when it was resumed; 0: not
        EndedByRole, // "window", "api"; "" when not resumed
        KeptAtRole, // ms since the epoch when a person chose "Keep paused"; 0: not
        CurveRole, // list<real>: USD per minute from kCurveBefore minutes before to kCurveAfter after
    };
    Q_ENUM(Roles)

    explicit GuardrailTripsModel(QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] GuardrailCenter *center() const { return m_center; }
    void setCenter(GuardrailCenter *center);
    [[nodiscard]] int limit() const { return m_limit; }
    void setLimit(int limit);

    struct Row {
        GuardrailTripRow trip;
        QList<double> curve; // USD per minute
    };

    Q_INVOKABLE void refresh();

Q_SIGNALS:
    void centerChanged();
    void limitChanged();
    void countChanged();
    void refreshed(); // a query's result was applied (tests)

private:
    void apply(QList<Row> rows);
    QPointer<GuardrailCenter> m_center;
    QList<Row> m_rows;
    int m_limit = 50;
    bool m_running = false;
    bool m_again = false;
};

} // namespace gh::ui
