#pragma once
#include "backend.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The keys or models that spent the most in the current day, week or month.
class TopSpendModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString groupBy READ groupBy WRITE setGroupBy NOTIFY groupByChanged)
    Q_PROPERTY(QString period READ period WRITE setPeriod NOTIFY periodChanged)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(double total READ total NOTIFY countChanged)
public:
    enum Roles {
        NameRole = Qt::UserRole + 1, // key name or model id
        CostRole, // USD in the period
        RequestsRole, // requests in the period
        ShareRole, // 0..1 of the period's spend (of its requests when nothing was spent)
        TokensRole, // input + output tokens in the period
        UnpricedRole, // answered requests without a price (their cost is unknown: the amount is a floor)
    };
    Q_ENUM(Roles)

    explicit TopSpendModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit TopSpendModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QString groupBy() const { return m_groupBy; }
    void setGroupBy(const QString &groupBy); // "key" | "model"
    [[nodiscard]] QString period() const { return m_period; }
    void setPeriod(const QString &period); // "day" | "week" | "month"
    [[nodiscard]] int limit() const { return m_limit; }
    void setLimit(int limit);
    [[nodiscard]] double total() const { return m_total; } // USD of the whole period

Q_SIGNALS:
    void backendChanged();
    void groupByChanged();
    void periodChanged();
    void limitChanged();
    void countChanged();

private:
    struct Row {
        QString name;
        double cost = 0;
        qint64 requests = 0;
        qint64 tokens = 0;
        qint64 unpriced = 0;
        double share = 0;
    };
    void recompute();
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QString m_groupBy = QStringLiteral("key");
    QString m_period = QStringLiteral("month");
    int m_limit = 5;
    QList<Row> m_rows;
    double m_total = 0;
};

} // namespace gh::ui
