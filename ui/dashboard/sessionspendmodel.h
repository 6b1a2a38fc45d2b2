#pragma once
#include "backend.h"
#include "store/logqueries.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// Today's spend per client session (Claude Code's x-claude-code-session-id on the request log),
// most expensive first: the Dashboard's "Sessions today". Read on the query thread, again whenever
// rows are committed.
class SessionSpendModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
public:
    enum Roles {
        SessionRole = Qt::UserRole + 1, // the session id
        KeyNameRole, // the key its requests used (the last one, if several)
        CostRole, // USD today (priced requests)
        RequestsRole, // requests today
        UnpricedRole, // answered requests today without a price
        FirstAtRole, // ms since the epoch of its first request today
        LastAtRole, // ms since the epoch of its latest request
        DurationRole, // ms from its first request's start to its latest's
        FailedRole, // requests today that did not succeed
        ModelsRole, // its model mix: a list of {model, requests, cost, share (of its spend, 0..1)}, most spend first
    };
    Q_ENUM(Roles)

    explicit SessionSpendModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit SessionSpendModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int limit() const { return m_limit; }
    void setLimit(int limit);

    using Row = SessionSpend; // store/logqueries.h

Q_SIGNALS:
    void backendChanged();
    void limitChanged();
    void countChanged();
    void refreshed(); // a query's result was applied (tests)

private:
    void refresh();
    void apply(QList<Row> rows);
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QList<Row> m_rows;
    int m_limit = 5;
    bool m_running = false;
    bool m_again = false;
};

} // namespace gh::ui
