#pragma once
#include "core/money.h"
#include "store/requestrecord.h"
#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QSet>
#include <QString>
#include <array>
#include <atomic>

namespace gh {

class BudgetLedger;
class HealthTracker;
class RegistrySnapshot;

// Counters and histograms of finished requests since the process started, rendered in the
// Prometheus text exposition format (version 0.0.4) by GET /metrics.
//
// Label cardinality is bounded: series are labelled by key name, model id, provider and HTTP status
// only (never a request or session id), and at most kMaxKeys key names and kMaxModels model ids get
// their own series; the rest are counted under "_other" (a client may name any provider/model, and
// each name would otherwise become a series forever). Thread-safe: record() may be called from any
// thread, render() from a gateway worker.
class MetricsRegistry
{
public:
    static constexpr int kMaxKeys = 512;
    static constexpr int kMaxModels = 256;
    static constexpr const char *kOther = "_other";
    // Upper bounds in seconds. Latency covers a cached one-token answer to a long agent turn; TTFT
    // the first token of a stream.
    static constexpr std::array<double, 13> kLatencyBuckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300};
    static constexpr std::array<double, 11> kTtftBuckets{0.05, 0.1, 0.2, 0.35, 0.5, 1, 2, 3.5, 5, 10, 30};

    // Counts one finished request (pending rows, written before a stream's end, are ignored: the
    // final row of the same request follows).
    void record(const RequestRecord &record);

    // Process-wide gauges read at scrape time.
    struct Live {
        int inFlight = 0;
        int openConnections = 0;
        qint64 otlpDropped = -1;  // spans dropped by a full export queue; -1: no exporter
        qint64 otlpExported = -1;
        qint64 otlpFailed = -1;   // batches the collector refused or did not answer
    };
    // The whole exposition: the recorded counters plus budget remaining per key and period (from the
    // ledger, keys of `registry`) and breaker state per target (from `health`).
    [[nodiscard]] QByteArray render(const RegistrySnapshot &registry, const BudgetLedger &ledger,
                                    const HealthTracker &health, const Live &live, qint64 nowMs) const;

    // "a\"b" -> a\"b with \\, \" and \n escaped, as label values must be.
    [[nodiscard]] static QByteArray escapeLabel(QStringView value);

private:
    struct Counts {
        qint64 requests = 0;
        qint64 unpriced = 0;        // finished with usage but no price
        NanoUsd cost = 0;
        qint64 input = 0;
        qint64 output = 0;
        qint64 cacheRead = 0;
        qint64 cacheWrite = 0;
        qint64 cacheWrite1h = 0;
        qint64 reasoning = 0;
    };
    template <size_t N> struct Histogram {
        std::array<qint64, N> buckets{}; // non-cumulative: buckets[i] counts values in (b[i-1], b[i]]
        qint64 count = 0;                // includes values above the last bound (+Inf)
        double sum = 0;
        void observe(double v, const std::array<double, N> &bounds);
    };
    struct SeriesKey {
        QString key, model, provider;
        int status = 0;
        friend bool operator==(const SeriesKey &, const SeriesKey &) = default;
    };
    friend size_t qHash(const SeriesKey &k, size_t seed) { return qHashMulti(seed, k.key, k.model, k.provider, k.status); }
    struct TargetKey {
        QString model, provider;
        friend bool operator==(const TargetKey &, const TargetKey &) = default;
    };
    friend size_t qHash(const TargetKey &k, size_t seed) { return qHashMulti(seed, k.model, k.provider); }
    struct AttemptKey {
        QString model, provider;
        int outcome = 0;
        friend bool operator==(const AttemptKey &, const AttemptKey &) = default;
    };
    friend size_t qHash(const AttemptKey &k, size_t seed) { return qHashMulti(seed, k.model, k.provider, k.outcome); }

    QString boundedLocked(QSet<QString> &seen, int cap, const QString &value);

    mutable QMutex m_mutex;
    QSet<QString> m_keys;   // key names with their own series
    QSet<QString> m_models; // model ids with their own series
    QHash<SeriesKey, Counts> m_series;
    QHash<TargetKey, Histogram<kLatencyBuckets.size()>> m_latency;
    QHash<TargetKey, Histogram<kTtftBuckets.size()>> m_ttft;
    QHash<AttemptKey, qint64> m_attempts;
};

} // namespace gh
