#pragma once
#include "backend.h"
#include "routing/health.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// How the window shows one target's health: a state for the dot's colour and a tooltip.
struct HealthView {
    QString state; // "healthy" | "degraded" | "down" | "unknown"
    QString tip;   // "Circuit closed · 3% errors · first token 420 ms · 85 tokens/s"
    friend bool operator==(const HealthView &, const HealthView &) = default;
};

// unknown: no traffic seen yet; down: circuit open, or unavailable until a Retry-After; degraded:
// half-open (a probe is allowed) or an error rate above kDegradedErrorRate; healthy otherwise.
// `seen`: whether the tracker knows the target at all (HealthTracker::snapshot() contains it).
[[nodiscard]] HealthView describeHealth(const TargetHealth &health, bool seen, qint64 nowMs);
inline constexpr double kDegradedErrorRate = 0.2;

// The models of one provider with their live health (the gateway's circuit breakers and speed
// averages, read once a second): the models the config names, those that saw traffic and those a
// route uses; catalog models without traffic are only counted (`quietCount`).
class HealthModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString provider READ provider WRITE setProvider NOTIFY providerChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(int quietCount READ quietCount NOTIFY countChanged)
public:
    enum Roles {
        ModelIdRole = Qt::UserRole + 1, // "openai/gpt-4.1"
        ShortNameRole, // "gpt-4.1" (the id without the provider prefix)
        HealthRole, // "healthy" | "degraded" | "down" | "unknown"
        HealthTipRole, // state, error rate, time to first token, tokens/s, last error
    };
    Q_ENUM(Roles)

    explicit HealthModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit HealthModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QString provider() const { return m_provider; }
    void setProvider(const QString &provider);
    [[nodiscard]] int quietCount() const { return m_quiet; }

    // Reads the models and the tracker again (the timer calls it every second).
    void refresh(qint64 nowMs);

Q_SIGNALS:
    void backendChanged();
    void providerChanged();
    void countChanged();

private:
    struct Row {
        QString modelId;
        HealthView view;
    };
    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    QString m_provider;
    QList<Row> m_rows;
    int m_quiet = 0;
    QTimer m_timer;
};

} // namespace gh::ui
