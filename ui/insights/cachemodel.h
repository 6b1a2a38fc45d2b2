#pragma once
#include "analyticsmodelbase.h"
#include <QStringList>
#include <QVariantList>

#include <QtCharts/QAbstractBarSeries>
#include <QtCharts/QXYSeries>

namespace gh::ui {

// Prompt caching over a period (store/analytics.h, on the query thread): one row per provider,
// model or key (`groupBy`) with its share of prompt tokens read from cache, cache writes and the
// dollars the reads saved against the uncached input price; the totals; a chart per hour (24 h) or
// local day; and, per key, where consecutive prompts start to differ (the prefix diagnosis).
// period, count, loading, ready, refresh(): AnalyticsModelBase.
class CacheModel : public AnalyticsModelBase
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(QString groupBy READ groupBy WRITE setGroupBy NOTIFY groupByChanged)
    Q_PROPERTY(double hitRate READ hitRate NOTIFY resultChanged)
    Q_PROPERTY(double saved READ saved NOTIFY resultChanged)
    Q_PROPERTY(qint64 promptTokens READ promptTokens NOTIFY resultChanged)
    Q_PROPERTY(qint64 cacheReadTokens READ cacheReadTokens NOTIFY resultChanged)
    Q_PROPERTY(qint64 cacheWriteTokens READ cacheWriteTokens NOTIFY resultChanged)
    Q_PROPERTY(qint64 unpricedReadTokens READ unpricedReadTokens NOTIFY resultChanged)
    Q_PROPERTY(QStringList chartLabels READ chartLabels NOTIFY resultChanged)
    Q_PROPERTY(double chartMaxTokens READ chartMaxTokens NOTIFY resultChanged)
    Q_PROPERTY(int poorKeys READ poorKeys NOTIFY resultChanged)
    // Gatehouse's response cache over the period: answers served from it, lookups, dollars saved.
    Q_PROPERTY(qint64 responseHits READ responseHits NOTIFY resultChanged)
    Q_PROPERTY(qint64 responseLookups READ responseLookups NOTIFY resultChanged)
    Q_PROPERTY(double responseSaved READ responseSaved NOTIFY resultChanged)
public:
    // A key's hit rate below this, over at least kPoorMinPromptTokens prompt tokens, is "poor".
    static constexpr double kPoorHitRate = 0.5;
    static constexpr qint64 kPoorMinPromptTokens = 10'000;

    enum Roles {
        NameRole = Qt::UserRole + 1, // provider id, model id or key name ("" : no key)
        KeyIdRole, // by key: the key's id
        RequestsRole, // requests in the period
        PromptTokensRole, // uncached input + cache reads + cache writes
        InputTokensRole, // uncached input
        CacheReadTokensRole, // read from cache
        CacheWriteTokensRole, // written to cache (both TTLs)
        HitRateRole, // cache reads / prompt tokens, 0..1; -1 without prompt tokens
        SavedRole, // USD the cache reads saved against the uncached input price
        UnpricedReadTokensRole, // cache reads of models without an input price (not in `saved`)
        ShareRole, // 0..1 of the period's prompt tokens
        PoorRole, // by key: a poor hit rate (see kPoorHitRate)
        DiagnosisRole, // by key: where its consecutive prompts start to differ, one sentence; "" : unknown
        DiagnosisByteRole, // by key: byte offset of the most common first difference; -1 when none
        DiagnosisSectionRole, // by key: "system" | "tools" | "messages" | ""
        MaxHitRateRole, // the highest hit rate its cache writes leave: (input + reads) / prompt tokens; -1 without
        SavedAtFullHitRole, // USD saved at MaxHitRateRole (analytics::CacheGroup::savedAtFullHit)
    };
    Q_ENUM(Roles)

    explicit CacheModel(QObject *parent = nullptr);
    // With its backend (tests); QML sets `backend` instead.
    explicit CacheModel(Backend *backend, QObject *parent = nullptr);

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QString groupBy() const { return m_groupBy; }
    void setGroupBy(const QString &groupBy); // "provider" | "model" | "key"
    [[nodiscard]] double hitRate() const { return m_report.total.sums.cacheHitRate(); }
    [[nodiscard]] double saved() const { return toUsd(m_report.total.saved); }
    [[nodiscard]] qint64 promptTokens() const { return m_report.total.sums.promptTokens(); }
    [[nodiscard]] qint64 cacheReadTokens() const { return m_report.total.sums.cacheReadTokens; }
    [[nodiscard]] qint64 cacheWriteTokens() const;
    [[nodiscard]] qint64 unpricedReadTokens() const { return m_report.total.unpricedReadTokens; }
    [[nodiscard]] QStringList chartLabels() const { return m_labels; }
    [[nodiscard]] double chartMaxTokens() const;
    [[nodiscard]] int poorKeys() const;
    [[nodiscard]] qint64 responseHits() const { return m_report.responseHits; }
    [[nodiscard]] qint64 responseLookups() const { return m_report.responseLookups; }
    [[nodiscard]] double responseSaved() const { return toUsd(m_report.responseSaved); }

    // Fills the chart: three bar sets stacked per bucket (tokens read from cache, written to cache,
    // uncached input) and, when `hitRate` is given, its points (x = bucket index, y = hit rate in %,
    // buckets without prompt tokens left out). colors: [read, written, uncached]; token counts are
    // divided by `unit` (1000: thousands) for the axis.
    Q_INVOKABLE void fillChart(
        QAbstractBarSeries *bars, QXYSeries *hitRate = nullptr, const QVariantList &colors = {}, double unit = 1) const;
    // The saved dollars of one chart bucket, for its tooltip.
    Q_INVOKABLE [[nodiscard]] double savedAt(int bucket) const;
    // The what-if of a row: USD its cache reads would have saved at `hitRate` (of its prompt tokens,
    // 0..MaxHitRateRole; clamped) instead of its actual rate, the tokens moving between uncached
    // input and cache reads in each of its models alike and its cache writes as they were. At the
    // actual rate it is SavedRole (to the nano-dollar of each model's rounding).
    Q_INVOKABLE [[nodiscard]] double savedAtHitRate(int row, double hitRate) const;

    [[nodiscard]] const analytics::CacheReport &report() const { return m_report; }

    struct Result {
        analytics::CacheReport report;
        QHash<qint64, analytics::PrefixDiagnosis> diagnoses; // by key id
        QStringList labels;
    };

Q_SIGNALS:
    void groupByChanged();

protected:
    void backendAttached() override;
    void start() override;

private:
    [[nodiscard]] const QList<analytics::CacheGroup> &rows() const;
    [[nodiscard]] QString diagnosisText(const analytics::PrefixDiagnosis &d) const;
    QString m_groupBy = QStringLiteral("model");
    analytics::CacheReport m_report;
    QHash<qint64, analytics::PrefixDiagnosis> m_diagnoses;
    QStringList m_labels;
};

} // namespace gh::ui
