#pragma once
#include "backend.h"
#include "config/config.h"
#include "healthmodel.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QTimer>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The routes (named aliases: a client sends `"model": "smart"`) with their strategy and ordered
// targets, each target with its live health (read from the gateway once a second). Create, edit,
// reorder and delete go to the store and apply to the running gateway at once.
class RoutesModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QStringList modelIds READ modelIds NOTIFY modelIdsChanged)
    Q_PROPERTY(int healthRevision READ healthRevision NOTIFY healthRevisionChanged)
public:
    static constexpr int kMaxWeight = 1000;
    static constexpr int kMaxIdLength = 64;

    enum Roles {
        RouteIdRole = Qt::UserRole + 1, // "smart": the alias clients send as the model
        StrategyRole, // "ordered" | "cheapest" | "fastest" | "weighted" | "quality"
        StrategyLabelRole, // "Ordered"
        StrategyHintRole, // what the strategy does, in one line
        TargetsRole, // [{model, weight, share, health, healthTip, known}] in the route's order
        TargetCountRole, // number of targets
        RouteHealthRole, // the best of the targets' health: "healthy" | "degraded" | "down" | "unknown"
    };
    Q_ENUM(Roles)

    explicit RoutesModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit RoutesModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    // Model ids a target may name (the registry's, local providers' included), sorted.
    [[nodiscard]] QStringList modelIds() const { return m_modelIds; }
    // Goes up with every health reading (once a second); bindings on healthOf() depend on it.
    [[nodiscard]] int healthRevision() const { return m_healthRevision; }

    // [{value, label, hint}] for each strategy, in the order the editor shows them.
    Q_INVOKABLE [[nodiscard]] QVariantList strategies() const;
    Q_INVOKABLE [[nodiscard]] QString strategyHint(const QString &strategy) const;
    // "" when `id` may name a route (editing `originalId`; "" for a new one), else why not.
    Q_INVOKABLE [[nodiscard]] QString validateId(const QString &id, const QString &originalId) const;
    // "" when `model` may be a target, else why not.
    Q_INVOKABLE [[nodiscard]] QString validateTarget(const QString &model) const;
    // Creates (originalId "") or replaces the route `originalId` (renamed when id differs).
    // targets: [{model, weight}] in order. "" when saved, else the error; nothing is written then.
    Q_INVOKABLE QString saveRoute(const QString &originalId, const QString &id, const QString &strategy,
        const QVariantList &targets);
    // Moves one target of a saved route (the card's order is the routing order).
    Q_INVOKABLE QString moveTarget(const QString &routeId, int from, int to);
    Q_INVOKABLE bool remove(const QString &routeId);
    Q_INVOKABLE [[nodiscard]] int indexOf(const QString &routeId) const;
    // The live health of a model id: "healthy" | "degraded" | "down" | "unknown", and its tooltip.
    Q_INVOKABLE [[nodiscard]] QString healthOf(const QString &modelId) const;
    Q_INVOKABLE [[nodiscard]] QString healthTipOf(const QString &modelId) const;

    // Reads the health tracker again and updates the rows whose targets changed (every second).
    void refreshHealth(qint64 nowMs);

Q_SIGNALS:
    void backendChanged();
    void countChanged();
    void modelIdsChanged();
    void healthRevisionChanged();

private:
    void reload();
    void reloadModelIds();
    [[nodiscard]] HealthView viewOf(const QString &modelId) const;
    [[nodiscard]] QString validate(const RouteConfig &route, const QString &originalId) const;
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QList<RouteConfig> m_routes;
    QStringList m_modelIds;
    QHash<QString, HealthView> m_health; // by model id, as last read
    int m_healthRevision = 0;
    QTimer m_timer;
};

} // namespace gh::ui
