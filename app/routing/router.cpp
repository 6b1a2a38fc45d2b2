#include "routing/router.h"
#include "core/logging.h"
#include "routing/datapolicycheck.h"
#include <algorithm>
#include <cmath>
#include <QRandomGenerator>
#include <vector>
#include <QStringBuilder>
#include <QStringList>

namespace gh {

namespace {

// One target that passed every check, with what the strategies sort by.
struct Candidate {
    const ModelEntry *entry = nullptr; // into plan()'s list of resolved targets
    int weight = 1;
    double key = 0; // the strategy's sort key (lower first)
    bool ranked = true; // false: sorts after every ranked candidate (unpriced, ...)
};

QString usd(double v)
{
    // Enough digits for small per-request costs: $0.0012, $0.000034.
    if (v >= 1)
        return QStringLiteral("$%1").arg(v, 0, 'f', 2);
    if (v >= 0.01)
        return QStringLiteral("$%1").arg(v, 0, 'f', 4);
    return QStringLiteral("$%1").arg(v, 0, 'f', 6);
}

QString resolveReason(RegistrySnapshot::ResolveError error, const QStringList &candidates)
{
    switch (error) {
    case RegistrySnapshot::ResolveError::ProviderDisabled:
        return QStringLiteral("provider disabled");
    case RegistrySnapshot::ResolveError::Ambiguous:
        return QStringLiteral("ambiguous model name (%1)").arg(candidates.join(QStringLiteral(", ")));
    case RegistrySnapshot::ResolveError::Unknown:
    case RegistrySnapshot::ResolveError::None:
        break;
    }
    return QStringLiteral("unknown model");
}

// Why the target cannot serve this request, or an empty string when it can.
QString cannotServe(const ModelEntry &m, const RequestTraits &traits, const KeyEntry &key)
{
    if (m.provider && !m.provider->config.enabled)
        return QStringLiteral("provider disabled");
    if (!key.allows(m.config.id))
        return QStringLiteral("key \"%1\" may not use this model").arg(key.name);
    if (QString why = dataPolicyRefusal(m, key); !why.isEmpty())
        return why;
    if (key.limits.any() && !key.allowUnpriced && !m.config.price.isPriced())
        return QStringLiteral("unpriced model on a key with spending limits");
    if (m.config.contextWindow > 0 && traits.estimatedInputTokens > m.config.contextWindow)
        return QStringLiteral("context window %1 tokens < ~%2 estimated input tokens")
            .arg(m.config.contextWindow)
            .arg(traits.estimatedInputTokens);
    if (traits.tools && !m.config.can(u"tools"))
        return QStringLiteral("no tool calling (tools were sent)");
    if (traits.images && !m.config.can(u"vision"))
        return QStringLiteral("no vision (images were sent)");
    if (traits.jsonSchema && !m.config.can(u"json_schema"))
        return QStringLiteral("no JSON schema support (response_format asks for one)");
    return {};
}

void sortByKey(std::vector<Candidate> &list)
{
    std::stable_sort(list.begin(), list.end(), [](const Candidate &a, const Candidate &b) {
        if (a.ranked != b.ranked)
            return a.ranked;
        return a.ranked && a.key < b.key;
    });
}

// Resolves the route's targets (each kept in `resolved`, which must not reallocate: the candidates
// point into it) and returns those that can serve this request; the others go to `skipped` with why.
std::vector<Candidate> resolveCandidates(const RegistrySnapshot &registry, const QList<RouteTarget> &targets,
    const RequestTraits &traits, const KeyEntry &key, std::vector<ModelEntry> &resolved, QList<SkippedTarget> &skipped)
{
    // (Small vectors of pointers into `resolved`: this runs for every routed request.)
    std::vector<Candidate> candidates;
    candidates.reserve(size_t(targets.size()));
    resolved.reserve(size_t(targets.size())); // never reallocates: candidates point into it
    for (const RouteTarget &target : targets) {
        RegistrySnapshot::ResolveError error = RegistrySnapshot::ResolveError::None;
        QStringList ambiguous;
        std::optional<ModelEntry> entry = registry.resolve(target.model, &error, &ambiguous);
        if (!entry) {
            QString provider;
            if (const qsizetype slash = target.model.indexOf(u'/'); slash > 0)
                provider = target.model.left(slash);
            skipped.append({target.model, provider, resolveReason(error, ambiguous)});
            continue;
        }
        const QString &id = entry->config.id;
        if (std::any_of(resolved.begin(), resolved.end(), [&](const ModelEntry &m) { return m.config.id == id; })) {
            skipped.append({id, entry->config.provider, QStringLiteral("listed twice in the route")});
            continue;
        }
        resolved.push_back(std::move(*entry));
        const ModelEntry &m = resolved.back();
        if (const QString reason = cannotServe(m, traits, key); !reason.isEmpty()) {
            skipped.append({m.config.id, m.config.provider, reason});
            continue;
        }
        candidates.push_back({&m, std::max(0, target.weight)});
    }
    return candidates;
}

// The cheapest first by the expected cost of this request; unpriced targets last.
QString orderByCost(std::vector<Candidate> &candidates, qint64 inputTokens, qint64 outputTokens)
{
    for (Candidate &c : candidates) {
        const ModelPrice &p = c.entry->config.price;
        c.ranked = p.isPriced();
        if (c.ranked)
            c.key = (double(inputTokens) * *p.input + double(outputTokens) * *p.output) / 1e6;
    }
    sortByKey(candidates);
    const Candidate &first = candidates.front();
    return first.ranked ? QStringLiteral("cheapest: ~%1 (%2)").arg(usd(first.key), first.entry->config.id)
                        : QStringLiteral("cheapest: no priced target, ordered");
}

// The fastest first by measured time to first token plus the expected output at the measured rate.
QString orderBySpeed(std::vector<Candidate> &candidates, const HealthTracker &health, qint64 outputTokens)
{
    // Unmeasured targets first (key -1, in the configured order), so that each gets measured once.
    for (Candidate &c : candidates) {
        const TargetHealth h = health.health(c.entry->config.id);
        if (h.ttftMs < 0) {
            c.key = -1;
        } else {
            c.key = h.ttftMs;
            if (h.tokensPerSecond > 0)
                c.key += double(outputTokens) / h.tokensPerSecond * 1000.0;
        }
    }
    sortByKey(candidates);
    const Candidate &first = candidates.front();
    return first.key < 0 ? QStringLiteral("fastest: %1 not measured yet").arg(first.entry->config.id)
                         : QStringLiteral("fastest: ~%1 ms expected (%2)").arg(qRound64(first.key)).arg(first.entry->config.id);
}

// A weighted draw without replacement: each next target drawn in proportion to its weight among
// those left; weight-0 targets last, in the configured order.
QString orderByWeight(std::vector<Candidate> &candidates, const std::function<double()> &random)
{
    const auto draw = [&random]() {
        double r = random ? random() : QRandomGenerator::global()->generateDouble();
        if (!std::isfinite(r) || r < 0)
            r = 0;
        return std::min(r, std::nextafter(1.0, 0.0));
    };
    std::vector<Candidate> pool;
    std::vector<Candidate> zero;
    for (const Candidate &c : std::as_const(candidates))
        (c.weight > 0 ? pool : zero).push_back(c);
    std::vector<Candidate> order;
    order.reserve(candidates.size());
    double firstShare = 0;
    while (!pool.empty()) {
        qint64 total = 0;
        for (const Candidate &c : std::as_const(pool))
            total += c.weight;
        const double point = draw() * double(total);
        size_t pick = pool.size() - 1;
        double acc = 0;
        for (size_t i = 0; i < pool.size(); ++i) {
            acc += pool[i].weight;
            if (point < acc) {
                pick = i;
                break;
            }
        }
        if (order.empty())
            firstShare = double(pool[pick].weight) / double(total);
        order.push_back(pool[pick]);
        pool.erase(pool.begin() + std::ptrdiff_t(pick));
    }
    order.insert(order.end(), zero.begin(), zero.end());
    candidates = std::move(order);
    return firstShare > 0
        // Concatenated rather than arg()-formatted: this runs for every routed request.
        ? u"weighted: drew " % candidates.front().entry->config.id % u" (" % QString::number(qRound(firstShare * 100))
            % u"% share)"
        : QStringLiteral("weighted: every weight is 0, ordered");
}

// The best first by Compare votes (Laplace-smoothed win rate times the success rate), once the
// resolved targets have kMinQualityVotes voted rounds between them; before that, the configured order.
QString orderByVotes(std::vector<Candidate> &candidates, const std::vector<ModelEntry> &resolved,
    const RegistrySnapshot &registry, const HealthTracker &health)
{
    qint64 rounds = 0;
    for (const ModelEntry &m : resolved)
        rounds += std::max(0, registry.votes.value(m.config.id).rounds);
    if (rounds < Router::kMinQualityVotes)
        return QStringLiteral("quality: only %1 voted rounds (< %2), ordered").arg(rounds).arg(Router::kMinQualityVotes);
    for (Candidate &c : candidates) {
        const VoteStats v = registry.votes.value(c.entry->config.id);
        const int r = std::max(0, v.rounds);
        const int w = std::clamp(v.wins, 0, r);
        const double errorRate = std::clamp(health.health(c.entry->config.id).errorRate, 0.0, 1.0);
        c.key = -(double(w + 1) / double(r + 2) * (1.0 - errorRate)); // higher score first
    }
    sortByKey(candidates);
    return QStringLiteral("quality: score %1 (%2) over %3 voted rounds")
        .arg(QString::number(-candidates.front().key, 'f', 2), candidates.front().entry->config.id, QString::number(rounds));
}

// A candidate in its final place: available ones first (group 0), then those whose provider is at
// its own rate limit (1), then circuit-open or rate-limited ones, the soonest available first (2).
struct Placed {
    Candidate c;
    int group = 0;
    qint64 availableAt = 0;
    bool usable = true; // available now and its provider has room
};

// Unavailable targets stay as a last resort, behind the available ones; `demoted` says why each moved.
std::vector<Placed> placeUnavailableLast(const std::vector<Candidate> &candidates, const HealthTracker &health,
    qint64 nowMs, const std::function<bool(const QString &)> &providerHasRoom, QStringList &demoted)
{
    std::vector<Placed> placed;
    placed.reserve(candidates.size());
    for (const Candidate &c : candidates) {
        const QString &id = c.entry->config.id;
        Placed p{c};
        if (!health.available(id, nowMs)) {
            p.group = 2;
            p.availableAt = health.availableAtMs(id);
            p.usable = false;
            const TargetHealth h = health.health(id);
            const QString why = h.state == TargetHealth::State::Open ? QStringLiteral("circuit open")
                : h.state == TargetHealth::State::HalfOpen           ? QStringLiteral("circuit half-open, probe out")
                                                                     : QStringLiteral("rate limited");
            const qint64 seconds = (std::max<qint64>(0, p.availableAt - nowMs) + 999) / 1000;
            demoted.append(QStringLiteral("%1 %2 for %3 s").arg(id, why, QString::number(seconds)));
        } else if (providerHasRoom && c.entry->provider && !providerHasRoom(c.entry->provider->config.id)) {
            p.group = 1;
            p.usable = false;
            demoted.append(QStringLiteral("%1 provider at its rate limit").arg(id));
        }
        placed.push_back(p);
    }
    std::stable_sort(placed.begin(), placed.end(), [](const Placed &a, const Placed &b) {
        if (a.group != b.group)
            return a.group < b.group;
        return a.group == 2 && a.availableAt < b.availableAt;
    });
    return placed;
}

// Moves the target with a warm prompt cache for this key and route to the front while it is usable;
// whether one did.
bool preferWarmCache(std::vector<Placed> &placed, AffinityTable &affinity, qint64 keyId, const QString &route,
    const QList<quint64> &prefixHashes, qint64 nowMs)
{
    if (route.isEmpty())
        return false;
    for (const quint64 hash : prefixHashes) {
        const std::optional<QString> hit = affinity.lookup(keyId, route, hash, nowMs);
        if (!hit)
            continue;
        const auto it = std::find_if(
            placed.begin(), placed.end(), [&](const Placed &p) { return p.usable && p.c.entry->config.id == *hit; });
        if (it == placed.end())
            continue;
        std::rotate(placed.begin(), it, it + 1);
        return true;
    }
    return false;
}

} // namespace

Router::Router(HealthTracker &health, AffinityTable &affinity)
    : m_health(health)
    , m_affinity(affinity)
{ }

RoutePlan Router::plan(const RegistrySnapshot &registry, const QString &route, RouteStrategy strategy,
    const QList<RouteTarget> &targets, const RequestTraits &traits, const KeyEntry &key, qint64 nowMs,
    const std::function<double()> &random, const std::function<bool(const QString &)> &providerHasRoom) const
{
    RoutePlan plan;

    // 1. Resolve the targets and drop those that cannot serve this request.
    std::vector<ModelEntry> resolved; // every target that resolved (the quality strategy counts their votes)
    std::vector<Candidate> candidates = resolveCandidates(registry, targets, traits, key, resolved, plan.skipped);
    for (const SkippedTarget &s : std::as_const(plan.skipped))
        qCDebug(lcGateway).noquote() << "route" << route << "skips" << s.modelId << "-" << s.reason;
    if (candidates.empty()) {
        plan.decidedBy = QStringLiteral("no target can serve the request");
        return plan;
    }

    // 2. The strategy's order.
    const qint64 outputTokens = traits.expectedOutputTokens > 0 ? traits.expectedOutputTokens : kTypicalOutputTokens;
    const qint64 inputTokens = std::max<qint64>(0, traits.estimatedInputTokens);
    QString decided;
    switch (strategy) {
    case RouteStrategy::Ordered: decided = QStringLiteral("ordered"); break;
    case RouteStrategy::Cheapest: decided = orderByCost(candidates, inputTokens, outputTokens); break;
    case RouteStrategy::Fastest: decided = orderBySpeed(candidates, m_health, outputTokens); break;
    case RouteStrategy::Weighted: decided = orderByWeight(candidates, random); break;
    case RouteStrategy::Quality: decided = orderByVotes(candidates, resolved, registry, m_health); break;
    }

    // 3. Unavailable targets stay as a last resort.
    QStringList demoted;
    std::vector<Placed> placed = placeUnavailableLast(candidates, m_health, nowMs, providerHasRoom, demoted);

    // 4. A warm prompt-cache affinity wins over the strategy while its target is usable.
    plan.affinityHit = preferWarmCache(placed, m_affinity, key.id, route, traits.prefixHashes, nowMs);

    plan.targets.reserve(qsizetype(placed.size()));
    for (const Placed &p : placed)
        plan.targets.append(*p.c.entry);
    plan.decidedBy = plan.affinityHit
        ? u"affinity: " % plan.targets.first().config.id % u" has a warm prompt cache (else " % decided % u')'
        : decided;
    if (!demoted.isEmpty())
        plan.decidedBy += QStringLiteral("; last resort: ") + demoted.join(QStringLiteral(", "));
    qCDebug(lcGateway).noquote() << "route" << route << "plan:" << plan.decidedBy;
    return plan;
}

void Router::rememberAffinity(
    qint64 keyId, const QString &route, const RequestTraits &traits, const QString &modelId, qint64 nowMs)
{
    if (route.isEmpty() || modelId.isEmpty())
        return;
    for (const quint64 hash : traits.prefixHashes)
        m_affinity.remember(keyId, route, hash, modelId, nowMs);
}

} // namespace gh
