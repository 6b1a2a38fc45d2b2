#pragma once
#include "backend.h"
#include "store/whatif.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QStringList>
#include <QTimer>
#include <QVariantList>
#include <QtQml/qqmlregistration.h>

#include <QtCharts/QAbstractBarSeries>

namespace gh::ui {

// The What-if page: a slice of the request log (the last `days` UTC days, optionally one key, one
// model and one client session) re-priced on a `candidate` model or route at the prices the gateway
// would bill it (catalog, config, the user's own), one row per UTC day, oldest first. Besides the
// totals: the requests longer than the candidate's context window, the capabilities the slice's
// models have and the candidate lacks, and the Compare votes of the candidate and of those models.
// Read on the query thread (store/whatif.h) when an input changes, at most every 2 s while
// requests are logged, at once when the log is cleared; `loading` meanwhile.
//
// A route is priced as its first target (where an ordered route sends requests while it is up).
class WhatIfModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    // The slice and the candidate
    Q_PROPERTY(int days READ days WRITE setDays NOTIFY inputChanged)
    Q_PROPERTY(int keyId READ keyId WRITE setKeyId NOTIFY inputChanged) // 0: every key
    Q_PROPERTY(QString model READ model WRITE setModel NOTIFY inputChanged) // "": every model
    Q_PROPERTY(QString session READ session WRITE setSession NOTIFY inputChanged) // "": every session
    Q_PROPERTY(QString candidate READ candidate WRITE setCandidate NOTIFY inputChanged) // a model id or a route id
    // What can be picked: [{value, label}]; models and sessions of the period as last read
    Q_PROPERTY(QVariantList keyOptions READ keyOptions NOTIFY optionsChanged)
    Q_PROPERTY(QStringList modelOptions READ modelOptions NOTIFY optionsChanged)
    Q_PROPERTY(QStringList sessionOptions READ sessionOptions NOTIFY optionsChanged)
    Q_PROPERTY(QVariantList candidateOptions READ candidateOptions NOTIFY optionsChanged)
    // The answer
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(bool ready READ ready NOTIFY resultChanged)
    Q_PROPERTY(QString error READ error NOTIFY resultChanged)
    Q_PROPERTY(qint64 requests READ requests NOTIFY resultChanged)
    Q_PROPERTY(double actualCost READ actualCost NOTIFY resultChanged)
    Q_PROPERTY(qint64 unpricedActual READ unpricedActual NOTIFY resultChanged)
    Q_PROPERTY(bool candidatePriced READ candidatePriced NOTIFY resultChanged)
    Q_PROPERTY(double candidateCost READ candidateCost NOTIFY resultChanged) // -1: unpriced
    Q_PROPERTY(double difference READ difference NOTIFY resultChanged) // candidate - actual; 0 unpriced
    Q_PROPERTY(bool candidateCaches READ candidateCaches NOTIFY resultChanged) // has a cache-read price
    Q_PROPERTY(QString candidateModel READ candidateModel NOTIFY resultChanged) // the model a route resolves to
    Q_PROPERTY(qint64 contextWindow READ contextWindow NOTIFY resultChanged) // 0: unknown
    Q_PROPERTY(qint64 overContext READ overContext NOTIFY resultChanged) // -1: unknown window or not read
    Q_PROPERTY(bool capabilitiesKnown READ capabilitiesKnown NOTIFY resultChanged)
    Q_PROPERTY(QStringList missingCapabilities READ missingCapabilities NOTIFY resultChanged)
    // [{model, rounds, wins, winRate, candidate: bool}]: the candidate first, then the slice's models with votes
    Q_PROPERTY(QVariantList evidence READ evidence NOTIFY resultChanged)
    Q_PROPERTY(QStringList dayLabels READ dayLabels NOTIFY resultChanged)
    Q_PROPERTY(double maxDayCost READ maxDayCost NOTIFY resultChanged)
    Q_PROPERTY(int count READ rowCount NOTIFY resultChanged)
public:
    enum Roles {
        DayRole = Qt::UserRole + 1, // UTC midnight of the day, ms
        LabelRole, // the day as the chart shows it
        RequestsRole, // requests of the slice that day
        ActualRole, // USD spent (priced requests)
        CandidateRole, // USD on the candidate; -1: unpriced
        DifferenceRole, // candidate - actual in USD; 0 when unpriced
    };
    Q_ENUM(Roles)

    static constexpr int kMaxDays = 366;

    explicit WhatIfModel(QObject *parent = nullptr);
    // With its backend (tests); QML sets `backend` instead.
    explicit WhatIfModel(Backend *backend, QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);

    [[nodiscard]] int days() const { return m_days; }
    void setDays(int days); // 1..kMaxDays
    [[nodiscard]] int keyId() const { return m_keyId; }
    void setKeyId(int keyId);
    [[nodiscard]] QString model() const { return m_model; }
    void setModel(const QString &model);
    [[nodiscard]] QString session() const { return m_session; }
    void setSession(const QString &session);
    [[nodiscard]] QString candidate() const { return m_candidate; }
    void setCandidate(const QString &candidate);

    [[nodiscard]] QVariantList keyOptions() const;
    [[nodiscard]] QStringList modelOptions() const { return m_modelOptions; }
    [[nodiscard]] QStringList sessionOptions() const { return m_sessionOptions; }
    [[nodiscard]] QVariantList candidateOptions() const;

    [[nodiscard]] bool loading() const { return m_running; }
    [[nodiscard]] bool ready() const { return m_ready; }
    [[nodiscard]] QString error() const { return m_error; }
    [[nodiscard]] qint64 requests() const { return m_report.result.requests; }
    [[nodiscard]] double actualCost() const { return toUsd(m_report.result.actualTotal); }
    [[nodiscard]] qint64 unpricedActual() const { return m_report.result.unpricedActual; }
    [[nodiscard]] bool candidatePriced() const { return m_report.result.candidateTotal.has_value(); }
    [[nodiscard]] double candidateCost() const;
    [[nodiscard]] double difference() const;
    [[nodiscard]] bool candidateCaches() const { return m_resolved.price.cacheRead.has_value(); }
    [[nodiscard]] QString candidateModel() const { return m_resolved.model; }
    [[nodiscard]] qint64 contextWindow() const { return m_resolved.contextWindow; }
    [[nodiscard]] qint64 overContext() const;
    [[nodiscard]] bool capabilitiesKnown() const { return m_resolved.capabilities.has_value(); }
    [[nodiscard]] QStringList missingCapabilities() const { return m_missing; }
    [[nodiscard]] QVariantList evidence() const;
    [[nodiscard]] QStringList dayLabels() const { return m_labels; }
    [[nodiscard]] double maxDayCost() const;

    // Replaces the series' bar sets with two, one value per day in the display currency: what was
    // spent and what the candidate would have cost. colors: [spent, candidate]; empty: the chart's.
    Q_INVOKABLE void fillChart(QAbstractBarSeries *series, const QVariantList &colors = {}) const;

    // Reads again now.
    Q_INVOKABLE void refresh();
    [[nodiscard]] bool isIdle() const { return !m_running && !m_again; } // tests

Q_SIGNALS:
    void backendChanged();
    void inputChanged();
    void optionsChanged();
    void loadingChanged();
    void resultChanged();

private:
    // The candidate as the gateway would bill it now.
    struct Resolved {
        bool found = false;
        QString model; // the model id (a route's first target)
        ModelPrice price;
        qint64 contextWindow = 0;
        std::optional<QStringList> capabilities;
    };
    struct Answer {
        whatif::Report report;
        QList<whatif::ModelUse> modelsInPeriod;
        QStringList sessions;
    };
    [[nodiscard]] Resolved resolve(const QString &candidate) const;
    void readOptions();
    void apply(Answer answer, const Resolved &resolved);
    void changed(); // an input changed: re-read
    QPointer<Backend> m_backend;
    int m_days = 30;
    int m_keyId = 0;
    QString m_model;
    QString m_session;
    QString m_candidate;
    QVariantList m_candidateOptions;
    QStringList m_modelOptions;
    QStringList m_sessionOptions;
    whatif::Report m_report;
    Resolved m_resolved;
    QStringList m_missing;
    QStringList m_labels;
    QString m_error;
    bool m_ready = false;
    bool m_running = false;
    bool m_again = false;
    int m_generation = 0;
    QTimer m_throttle;
};

} // namespace gh::ui
