#pragma once
#include "backend.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QStringList>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <QtCharts/QAbstractBarSeries>

namespace gh::ui {

// Spend per local day of the last 30 days (today included), stacked by provider: one row per day
// and provider (days oldest first, providers by their 30-day spend, largest first). Providers that
// spent nothing in the 30 days are left out.
class SpendByDayModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QStringList providers READ providers NOTIFY changed)
    Q_PROPERTY(QStringList days READ days NOTIFY changed)
    Q_PROPERTY(double maxDayTotal READ maxDayTotal NOTIFY changed)
    Q_PROPERTY(double total READ total NOTIFY changed)
    Q_PROPERTY(int count READ rowCount NOTIFY changed)
public:
    static constexpr int kDays = 30;
    enum Roles {
        DayRole = Qt::UserRole + 1, // "yyyy-MM-dd"
        ProviderRole, // provider id
        CostRole, // USD spent that day through that provider
        DayTotalRole, // USD spent that day through every provider
    };
    Q_ENUM(Roles)

    explicit SpendByDayModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit SpendByDayModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QStringList providers() const { return m_providers; }
    [[nodiscard]] QStringList days() const { return m_days; }
    [[nodiscard]] double maxDayTotal() const { return m_maxDayTotal; }
    [[nodiscard]] double total() const { return m_total; }
    // USD of one day (index into days()) and provider (index into providers()).
    [[nodiscard]] double cost(int day, int provider) const;

    // Replaces the series' bar sets: one QBarSet per provider, one value per day, in the display
    // currency.
    // colors: one per provider (cycled), e.g. the window theme's series colors; empty: the chart theme's.
    Q_INVOKABLE void fillStackedBars(QAbstractBarSeries *series, const QVariantList &colors = {}) const;

Q_SIGNALS:
    void backendChanged();
    void changed();

private:
    void recompute();
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QStringList m_providers;
    QStringList m_days;
    QList<double> m_costs; // [day * providers + provider]
    QList<double> m_dayTotals; // [day]
    double m_maxDayTotal = 0;
    double m_total = 0;
};

} // namespace gh::ui
