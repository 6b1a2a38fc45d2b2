#pragma once
#include "analyticsmodelbase.h"
#include <QVariantList>

namespace gh::ui {

// Every model used in a period, from the user's own traffic (store/analytics.h over the rollups, on
// the query thread): requests, spend, cost per 1k output tokens, p50/p95 latency, p50 time to first
// token, tokens/s, error rate, cache hit rate and Compare wins, with a trend of requests per slice
// of the period. Sorted by `sortBy` (a role name). Re-read at most every 2 s while requests finish.
// period, count, loading, ready, refresh(): AnalyticsModelBase.
class RankingsModel : public AnalyticsModelBase
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int keyId READ keyId WRITE setKeyId NOTIFY keyIdChanged)
    Q_PROPERTY(QString sortBy READ sortBy WRITE setSortBy NOTIFY sortChanged)
    Q_PROPERTY(bool descending READ descending WRITE setDescending NOTIFY sortChanged)
    Q_PROPERTY(QVariantList savings READ savings NOTIFY resultChanged)
    Q_PROPERTY(QVariantList keys READ keys NOTIFY keysChanged)
    Q_PROPERTY(double totalSpend READ totalSpend NOTIFY resultChanged)
    Q_PROPERTY(qint64 totalRequests READ totalRequests NOTIFY resultChanged)
    Q_PROPERTY(int slices READ slices NOTIFY resultChanged)
public:
    enum Roles {
        ModelRole = Qt::UserRole + 1, // model id (provider/upstream model for rows logged before model ids)
        ProviderRole, // provider id that served most of its requests
        RequestsRole, // requests in the period (refused ones included)
        SpendRole, // USD of its priced requests
        CostPer1kOutputRole, // USD per 1,000 output tokens; -1 when unknown
        P50LatencyRole, // ms, ok requests; -1 when none
        P95LatencyRole, // ms
        P50TtftRole, // ms to the first token; -1 when none
        TokensPerSecondRole, // streamed output tokens per second after the first token; -1 when none
        ErrorRateRole, // 0..1 of the requests sent upstream (cancelled ones left out); -1 when none
        CacheHitRateRole, // 0..1 of the prompt tokens read from cache; -1 without prompt tokens
        WinsRole, // Compare rounds won in the period
        RoundsRole, // Compare rounds it took part in
        WinRateRole, // wins / rounds; -1 without rounds
        TrendRole, // list<real> of requests per slice, oldest first
        SpendTrendRole, // list<real> of USD per slice
        UnpricedRole, // requests with tokens but no price
    };
    Q_ENUM(Roles)

    explicit RankingsModel(QObject *parent = nullptr);
    // With its backend (tests); QML sets `backend` instead.
    explicit RankingsModel(Backend *backend, QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] int keyId() const { return m_keyId; }
    void setKeyId(int keyId); // -1: every key
    [[nodiscard]] QString sortBy() const { return m_sortBy; }
    void setSortBy(const QString &role);
    [[nodiscard]] bool descending() const { return m_descending; }
    void setDescending(bool descending);
    // [{model, alternative, spend, alternativeCost, saving, modelWinRate, alternativeWinRate,
    //   modelRounds, alternativeRounds}], largest saving first (USD).
    [[nodiscard]] QVariantList savings() const;
    [[nodiscard]] QVariantList keys() const; // [{keyId, name}] of the stored keys, for the filter
    [[nodiscard]] double totalSpend() const;
    [[nodiscard]] qint64 totalRequests() const;
    [[nodiscard]] int slices() const { return m_slices; }

    // Clicking a column header: sorts by it, or flips the order when it already does.
    Q_INVOKABLE void toggleSort(const QString &role);

Q_SIGNALS:
    void keyIdChanged();
    void sortChanged();
    void keysChanged();

protected:
    void backendAttached() override;
    void start() override;

private:
    void sortRows(bool notify);
    [[nodiscard]] QVariant value(const analytics::ModelRanking &m, int role) const;
    int m_keyId = -1;
    QString m_sortBy = QStringLiteral("spend");
    bool m_descending = true;
    int m_slices = 7;
    analytics::Rankings m_result;
    QList<int> m_order; // rows of m_result.models in display order
};

} // namespace gh::ui
