#include "telemetry/metricsregistry.h"
#include "budget/budgetledger.h"
#include "version.h"
#include "routing/health.h"
#include "routing/registry.h"
#include <QList>
#include <algorithm>
#include <cmath>

namespace gh {

namespace {

// A number as Prometheus reads it: integers without a fraction, others with enough digits to
// round-trip, and the special values spelled as the format wants them.
QByteArray number(double v)
{
    if (std::isnan(v))
        return QByteArrayLiteral("NaN");
    if (std::isinf(v))
        return v > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    if (v == std::floor(v) && std::fabs(v) < 9e15)
        return QByteArray::number(qint64(v));
    return QByteArray::number(v, 'g', 17);
}

QByteArray number(qint64 v)
{
    return QByteArray::number(v);
}

struct Writer {
    QByteArray out;
    void family(const char *name, const char *type, const char *help)
    {
        out += "# HELP ";
        out += name;
        out += ' ';
        out += help;
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type;
        out += '\n';
    }
    // labels: name="value" pairs, already escaped, joined with commas; empty for none.
    void sample(const char *name, const QByteArray &labels, const QByteArray &value, const char *suffix = "")
    {
        out += name;
        out += suffix;
        if (!labels.isEmpty()) {
            out += '{';
            out += labels;
            out += '}';
        }
        out += ' ';
        out += value;
        out += '\n';
    }
};

QByteArray label(const char *name, QStringView value)
{
    QByteArray out(name);
    out += "=\"";
    out += MetricsRegistry::escapeLabel(value);
    out += '"';
    return out;
}

// For the gateway's own names ("ok", "day", "half_open"), which need no escaping.
QByteArray label(const char *name, const char *value)
{
    return QByteArray(name) + "=\"" + value + '"';
}

QByteArray join(std::initializer_list<QByteArray> parts)
{
    QByteArray out;
    for (const QByteArray &p : parts) {
        if (p.isEmpty())
            continue;
        if (!out.isEmpty())
            out += ',';
        out += p;
    }
    return out;
}

template <typename Map> QList<typename Map::key_type> sortedKeys(const Map &map, auto less)
{
    QList<typename Map::key_type> keys = map.keys();
    std::sort(keys.begin(), keys.end(), less);
    return keys;
}

} // namespace

QByteArray MetricsRegistry::escapeLabel(QStringView value)
{
    QByteArray utf8 = value.toUtf8();
    if (!utf8.contains('\\') && !utf8.contains('"') && !utf8.contains('\n'))
        return utf8;
    QByteArray out;
    out.reserve(utf8.size() + 8);
    for (const char c : utf8) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

template <size_t N> void MetricsRegistry::Histogram<N>::observe(double v, const std::array<double, N> &bounds)
{
    ++count;
    sum += v;
    for (size_t i = 0; i < N; ++i) {
        if (v <= bounds[i]) {
            ++buckets[i];
            return;
        }
    }
}

QString MetricsRegistry::boundedLocked(QSet<QString> &seen, int cap, const QString &value)
{
    if (value.isEmpty() || seen.contains(value))
        return value;
    if (seen.size() >= cap)
        return QString::fromLatin1(kOther);
    seen.insert(value);
    return value;
}

void MetricsRegistry::record(const RequestRecord &r)
{
    if (r.pending)
        return;
    QMutexLocker lock(&m_mutex);
    const QString key = boundedLocked(m_keys, kMaxKeys, r.keyName);
    const QString model = boundedLocked(m_models, kMaxModels, r.modelId);
    Counts &c = m_series[SeriesKey{key, model, r.provider, r.status}];
    ++c.requests;
    if (r.cost)
        c.cost += *r.cost;
    else if (!r.usage.isEmpty())
        ++c.unpriced;
    c.input += r.usage.inputTokens;
    c.output += r.usage.outputTokens;
    c.cacheRead += r.usage.cacheReadTokens;
    c.cacheWrite += r.usage.cacheWriteTokens;
    c.cacheWrite1h += r.usage.cacheWrite1hTokens;
    c.reasoning += r.usage.reasoningTokens;
    // Latency and TTFT of requests that reached a target; refusals before routing would only
    // measure the gateway's own speed under one empty label.
    if (!r.modelId.isEmpty()) {
        const TargetKey target{model, r.provider};
        m_latency[target].observe(double(r.latencyMs) / 1000.0, kLatencyBuckets);
        if (r.stream && r.ttftMs >= 0)
            m_ttft[target].observe(double(r.ttftMs) / 1000.0, kTtftBuckets);
    }
    for (const AttemptRecord &a : r.attemptLog) {
        const QString attemptModel = boundedLocked(m_models, kMaxModels, a.modelId);
        ++m_attempts[AttemptKey{attemptModel, a.provider, int(a.outcome)}];
    }
}

namespace {

// The series with the status folded away (tokens and cost do not depend on it).
template <typename Series> Series withoutStatus(const Series &series)
{
    Series byTarget;
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        auto k = it.key();
        k.status = 0;
        auto &c = byTarget[k];
        c.cost += it->cost;
        c.unpriced += it->unpriced;
        c.input += it->input;
        c.output += it->output;
        c.cacheRead += it->cacheRead;
        c.cacheWrite += it->cacheWrite;
        c.cacheWrite1h += it->cacheWrite1h;
        c.reasoning += it->reasoning;
    }
    return byTarget;
}

// A histogram family by target (model, provider), cumulative buckets as Prometheus wants them.
template <typename Map, typename Bounds>
void writeHistogram(Writer &w, const char *name, const char *help, const Map &map, const Bounds &bounds)
{
    using Key = typename Map::key_type;
    w.family(name, "histogram", help);
    const auto targetLess = [](const Key &a, const Key &b) { return std::tie(a.model, a.provider) < std::tie(b.model, b.provider); };
    for (const Key &k : sortedKeys(map, targetLess)) {
        const auto &h = map.value(k);
        const QByteArray base = join({label("model", k.model), label("provider", k.provider)});
        qint64 cumulative = 0;
        for (size_t i = 0; i < bounds.size(); ++i) {
            cumulative += h.buckets[i];
            w.sample(name, base + ",le=\"" + number(bounds[i]) + '"', number(cumulative), "_bucket");
        }
        w.sample(name, base + ",le=\"+Inf\"", number(h.count), "_bucket");
        w.sample(name, base, number(h.sum), "_sum");
        w.sample(name, base, number(h.count), "_count");
    }
}

// Budgets of the configured keys (bounded by the configuration, not by traffic).
void writeBudgets(Writer &w, const RegistrySnapshot &registry, const BudgetLedger &ledger, qint64 nowMs)
{
    QList<const KeyEntry *> keys;
    for (const KeyEntry &k : registry.keysByHash)
        if (!k.revoked)
            keys.append(&k);
    std::sort(keys.begin(), keys.end(), [](const KeyEntry *a, const KeyEntry *b) { return a->name < b->name; });
    w.family("gatehouse_budget_limit_usd", "gauge", "A key's spending cap for the period, in US dollars.");
    QByteArray spent, remaining;
    for (const KeyEntry *k : keys) {
        const BudgetLedger::KeyStatus status = ledger.status(k->id, nowMs);
        for (int p = 0; p < kPeriodCount; ++p) {
            const auto &ps = status[size_t(p)];
            if (!ps.limit)
                continue;
            const QByteArray labels = join({label("key", k->name), label("period", periodName(Period(p)))});
            w.sample("gatehouse_budget_limit_usd", labels, number(toUsd(*ps.limit)));
            spent += "gatehouse_budget_spent_usd{" + labels + "} " + number(toUsd(ps.spent)) + '\n';
            remaining += "gatehouse_budget_remaining_usd{" + labels + "} " + number(toUsd(ps.remaining().value_or(0))) + '\n';
        }
    }
    w.family("gatehouse_budget_spent_usd", "gauge", "What a key spent in the current period, in US dollars.");
    w.out += spent;
    w.family("gatehouse_budget_remaining_usd", "gauge",
             "What a key may still spend in the current period (cap minus spent minus reserved by requests in flight), in US dollars.");
    w.out += remaining;
}

// Breakers of every configured target, in the stateset style (one series per state, 1 for the
// current one).
void writeBreakers(Writer &w, const RegistrySnapshot &registry, const HealthTracker &health)
{
    const QHash<QString, TargetHealth> healthNow = health.snapshot();
    w.family("gatehouse_breaker_state", "gauge", "Circuit breaker state per target (1 for the current state).");
    QByteArray failures;
    for (const QString &id : registry.modelOrder) {
        const TargetHealth h = healthNow.value(id);
        const QByteArray target = label("target", id);
        for (const auto state : {TargetHealth::State::Closed, TargetHealth::State::Open, TargetHealth::State::HalfOpen})
            w.sample("gatehouse_breaker_state", target + ',' + label("state", TargetHealth::stateName(state)),
                     h.state == state ? "1" : "0");
        failures += "gatehouse_breaker_consecutive_failures{" + target + "} " + number(qint64(h.consecutiveFailures)) + '\n';
    }
    w.family("gatehouse_breaker_consecutive_failures", "gauge", "Failures in a row per target (the breaker opens at its threshold).");
    w.out += failures;
}

void writeOtlpCounters(Writer &w, const MetricsRegistry::Live &live)
{
    if (live.otlpDropped < 0)
        return;
    w.family("gatehouse_otlp_spans_exported_total", "counter", "Request spans the OTLP collector accepted.");
    w.sample("gatehouse_otlp_spans_exported_total", {}, number(live.otlpExported));
    w.family("gatehouse_otlp_spans_dropped_total", "counter", "Request spans dropped: the export queue was full or the collector refused them.");
    w.sample("gatehouse_otlp_spans_dropped_total", {}, number(live.otlpDropped));
    w.family("gatehouse_otlp_export_failures_total", "counter", "Export batches that failed.");
    w.sample("gatehouse_otlp_export_failures_total", {}, number(live.otlpFailed));
}

} // namespace

QByteArray MetricsRegistry::render(const RegistrySnapshot &registry, const BudgetLedger &ledger,
                                   const HealthTracker &health, const Live &live, qint64 nowMs) const
{
    Writer w;
    w.out.reserve(16 * 1024);
    w.family("gatehouse_build_info", "gauge", "Gatehouse version (always 1).");
    w.sample("gatehouse_build_info", label("version", QStringLiteral(GATEHOUSE_VERSION)), "1");
    w.family("gatehouse_in_flight_requests", "gauge", "Requests being served now.");
    w.sample("gatehouse_in_flight_requests", {}, number(qint64(live.inFlight)));
    w.family("gatehouse_open_connections", "gauge", "Client connections open now.");
    w.sample("gatehouse_open_connections", {}, number(qint64(live.openConnections)));

    {
        QMutexLocker lock(&m_mutex);
        const auto series = sortedKeys(m_series, [](const SeriesKey &a, const SeriesKey &b) {
            return std::tie(a.key, a.model, a.provider, a.status) < std::tie(b.key, b.model, b.provider, b.status);
        });
        auto labelsOf = [](const SeriesKey &k, bool withStatus) {
            return join({label("key", k.key), label("model", k.model), label("provider", k.provider),
                         withStatus ? label("status", QString::number(k.status)) : QByteArray()});
        };
        w.family("gatehouse_requests_total", "counter", "Finished requests by key, model, provider and HTTP status.");
        for (const SeriesKey &k : series)
            w.sample("gatehouse_requests_total", labelsOf(k, true), number(m_series.value(k).requests));

        const QHash<SeriesKey, Counts> byTarget = withoutStatus(m_series);
        const auto targets = sortedKeys(byTarget, [](const SeriesKey &a, const SeriesKey &b) {
            return std::tie(a.key, a.model, a.provider) < std::tie(b.key, b.model, b.provider);
        });
        w.family("gatehouse_tokens_total", "counter",
                 "Tokens by kind: input (uncached), cache_read, cache_write (5 minutes), cache_write_1h, output (reasoning included), reasoning.");
        for (const SeriesKey &k : targets) {
            const Counts &c = byTarget.value(k);
            const QByteArray base = labelsOf(k, false);
            const std::pair<const char *, qint64> kinds[] = {{"input", c.input},          {"cache_read", c.cacheRead},
                                                             {"cache_write", c.cacheWrite}, {"cache_write_1h", c.cacheWrite1h},
                                                             {"output", c.output},        {"reasoning", c.reasoning}};
            for (const auto &[kind, value] : kinds)
                w.sample("gatehouse_tokens_total", base + ",kind=\"" + kind + '"', number(value));
        }
        w.family("gatehouse_cost_usd_total", "counter", "Cost at the prices in force, in US dollars (unpriced requests add nothing).");
        for (const SeriesKey &k : targets)
            w.sample("gatehouse_cost_usd_total", labelsOf(k, false), number(toUsd(byTarget.value(k).cost)));
        w.family("gatehouse_unpriced_requests_total", "counter", "Requests with usage on a model that has no price.");
        for (const SeriesKey &k : targets)
            w.sample("gatehouse_unpriced_requests_total", labelsOf(k, false), number(byTarget.value(k).unpriced));

        writeHistogram(w, "gatehouse_request_duration_seconds", "From a request's arrival to its last byte, by the model that served it.",
                       m_latency, kLatencyBuckets);
        writeHistogram(w, "gatehouse_time_to_first_token_seconds", "From a streamed request's arrival to its first generated content.",
                       m_ttft, kTtftBuckets);

        w.family("gatehouse_upstream_attempts_total", "counter", "Upstream attempts by target and outcome (ok, failed, skipped).");
        const auto attempts = sortedKeys(m_attempts, [](const AttemptKey &a, const AttemptKey &b) {
            return std::tie(a.model, a.provider, a.outcome) < std::tie(b.model, b.provider, b.outcome);
        });
        for (const AttemptKey &k : attempts)
            w.sample("gatehouse_upstream_attempts_total",
                     join({label("model", k.model), label("provider", k.provider),
                           label("outcome", outcomeName(AttemptRecord::Outcome(k.outcome)))}),
                     number(m_attempts.value(k)));
    }

    writeBudgets(w, registry, ledger, nowMs);
    writeBreakers(w, registry, health);
    writeOtlpCounters(w, live);
    return w.out;
}

} // namespace gh
