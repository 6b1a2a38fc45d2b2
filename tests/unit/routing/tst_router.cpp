// Router::plan: strategies, capability and key skips, availability ordering and prompt-cache affinity.
#include "routing/router.h"
#include <memory>
#include <QRandomGenerator>
#include <QTest>

using gh::AffinityTable;
using gh::BreakerSettings;
using gh::HealthTracker;
using gh::KeyEntry;
using gh::ModelConfig;
using gh::ModelEntry;
using gh::ProviderEntry;
using gh::RegistrySnapshot;
using gh::RequestTraits;
using gh::RoutePlan;
using gh::Router;
using gh::RouteStrategy;
using gh::RouteTarget;
using gh::VoteStats;

namespace {

const QString kBig = QStringLiteral("alpha/big"); // $3 / $15, 200k context, tools + vision + json_schema
const QString kMid = QStringLiteral("beta/mid"); // $1 / $4, 128k context, tools only
const QString kSmall = QStringLiteral("gamma/small"); // $2 / $0.10, 16k context, vision + json_schema
const QString kLocal = QStringLiteral("delta/local"); // unpriced, capabilities unknown, context unknown
const QString kTwin = QStringLiteral("gamma/twin"); // priced like beta/mid, capabilities unknown
const QString kOff = QStringLiteral("off/x"); // on a disabled provider
const QString kSmart = QStringLiteral("smart");

std::shared_ptr<const ProviderEntry> provider(const QString &id, bool enabled = true)
{
    auto p = std::make_shared<ProviderEntry>();
    p->config.id = id;
    p->config.baseUrl = QUrl(QStringLiteral("https://%1.example/v1").arg(id));
    p->config.enabled = enabled;
    p->host = (id + QStringLiteral(".example")).toLatin1();
    p->port = 443;
    p->tls = true;
    return p;
}

void addModel(RegistrySnapshot &s, const QString &id, std::optional<double> in, std::optional<double> out,
    qint64 context, std::optional<QStringList> caps)
{
    const qsizetype slash = id.indexOf(u'/');
    ModelConfig m;
    m.id = id;
    m.provider = id.left(slash);
    m.upstreamModel = id.mid(slash + 1);
    m.price.input = in;
    m.price.output = out;
    m.contextWindow = context;
    m.capabilities = std::move(caps);
    s.models.insert(id, ModelEntry{m, s.providers.value(m.provider), true});
    s.idsByUpstream[m.upstreamModel].append(id);
}

RegistrySnapshot snapshot()
{
    RegistrySnapshot s;
    for (const QString &id :
        {QStringLiteral("alpha"), QStringLiteral("beta"), QStringLiteral("gamma"), QStringLiteral("delta")})
        s.providers.insert(id, provider(id));
    s.providers.insert(QStringLiteral("off"), provider(QStringLiteral("off"), false));
    addModel(s, kBig, 3, 15, 200'000,
        QStringList{QStringLiteral("tools"), QStringLiteral("vision"), QStringLiteral("json_schema")});
    addModel(s, kMid, 1, 4, 128'000, QStringList{QStringLiteral("tools")});
    addModel(s, kSmall, 2, 0.1, 16'000, QStringList{QStringLiteral("vision"), QStringLiteral("json_schema")});
    addModel(s, kLocal, std::nullopt, std::nullopt, 0, std::nullopt);
    addModel(s, kTwin, 1, 4, 0, std::nullopt);
    addModel(s, kOff, 1, 1, 0, std::nullopt);
    addModel(s, QStringLiteral("beta/big"), 3, 15, 0, std::nullopt); // makes the bare name "big" ambiguous
    return s;
}

QList<RouteTarget> targets(const QStringList &ids, const QList<int> &weights = {})
{
    QList<RouteTarget> list;
    for (qsizetype i = 0; i < ids.size(); ++i)
        list.append({ids[i], i < weights.size() ? weights[i] : 1});
    return list;
}

QStringList ids(const RoutePlan &plan)
{
    QStringList out;
    for (const ModelEntry &m : plan.targets)
        out.append(m.config.id);
    return out;
}

QString skipReason(const RoutePlan &plan, const QString &id)
{
    for (const auto &s : plan.skipped)
        if (s.modelId == id)
            return s.reason;
    return {};
}

KeyEntry key(qint64 id = 7)
{
    KeyEntry k;
    k.id = id;
    k.name = QStringLiteral("scripts");
    return k;
}

RequestTraits traits(qint64 in = 1000, qint64 out = 1000)
{
    RequestTraits t;
    t.estimatedInputTokens = in;
    t.expectedOutputTokens = out;
    return t;
}

// A fixed sequence of "random" numbers.
std::function<double()> sequence(QList<double> values)
{
    auto pos = std::make_shared<qsizetype>(0);
    return [values, pos]() { return values.isEmpty() ? 0.0 : values[(*pos)++ % values.size()]; };
}

const auto kNoRandom = sequence({0.0});

} // namespace

class TestRouter : public QObject
{
    Q_OBJECT

    HealthTracker m_health{BreakerSettings{2, 10'000}};
    AffinityTable m_affinity{60 * 60 * 1000, 1000};
    Router m_router{m_health, m_affinity};
    RegistrySnapshot m_reg = snapshot();

    RoutePlan plan(RouteStrategy strategy, const QStringList &list, const RequestTraits &t = traits(),
        const KeyEntry &k = key(), qint64 now = 1'000'000, const std::function<double()> &random = kNoRandom,
        const QString &route = kSmart, const std::function<bool(const QString &)> &room = {},
        const QList<int> &weights = {})
    {
        return m_router.plan(m_reg, route, strategy, targets(list, weights), t, k, now, random, room);
    }

private Q_SLOTS:
    void init()
    {
        m_health.clear();
        m_affinity.clear();
        m_reg = snapshot();
    }

    void ordered()
    {
        const RoutePlan p = plan(RouteStrategy::Ordered, {kMid, kBig, kSmall, kLocal});
        QCOMPARE(ids(p), (QStringList{kMid, kBig, kSmall, kLocal}));
        QVERIFY(p.skipped.isEmpty());
        QVERIFY(!p.affinityHit);
        QCOMPARE(p.decidedBy, QStringLiteral("ordered"));
        QCOMPARE(p.targets.first().provider->config.id, QStringLiteral("beta"));
    }

    void cheapestWeighsInputAndOutput()
    {
        // Long prompt, short answer: input price dominates. beta 0.0104, gamma 0.02001, alpha 0.0315.
        RoutePlan p = plan(RouteStrategy::Cheapest, {kBig, kSmall, kLocal, kMid}, traits(10'000, 100));
        QCOMPARE(ids(p), (QStringList{kMid, kSmall, kBig, kLocal})); // unpriced last
        QVERIFY2(p.decidedBy.startsWith(QStringLiteral("cheapest")), qPrintable(p.decidedBy));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("$0.0104")), qPrintable(p.decidedBy));
        QVERIFY(p.decidedBy.contains(kMid));
        // Short prompt, long answer: output price dominates. gamma 0.0012, beta 0.0401, alpha 0.1503.
        p = plan(RouteStrategy::Cheapest, {kBig, kLocal, kMid, kSmall}, traits(100, 10'000));
        QCOMPARE(ids(p), (QStringList{kSmall, kMid, kBig, kLocal}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("$0.001200")), qPrintable(p.decidedBy));
    }

    void cheapestUsesTypicalOutputWhenUnknown()
    {
        // No expected output given: 512 typical output tokens count at the output price.
        // 100 in: beta 0.0001 + 0.002048, gamma 0.0002 + 0.0000512 -> gamma (with 0 output: beta).
        // 5000 in: beta 0.005 + 0.002048, gamma 0.01 + 0.0000512 -> beta.
        RoutePlan p = plan(RouteStrategy::Cheapest, {kMid, kSmall}, traits(100, 0));
        QCOMPARE(ids(p), (QStringList{kSmall, kMid}));
        p = plan(RouteStrategy::Cheapest, {kMid, kSmall}, traits(5000, 0));
        QCOMPARE(ids(p), (QStringList{kMid, kSmall}));
    }

    void cheapestTiesKeepConfiguredOrder()
    {
        QCOMPARE(ids(plan(RouteStrategy::Cheapest, {kTwin, kMid})), (QStringList{kTwin, kMid}));
        QCOMPARE(ids(plan(RouteStrategy::Cheapest, {kMid, kTwin})), (QStringList{kMid, kTwin}));
        const RoutePlan p = plan(RouteStrategy::Cheapest, {kLocal, QStringLiteral("gamma/new-model")});
        QCOMPARE(ids(p), (QStringList{kLocal, QStringLiteral("gamma/new-model")}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("no priced target")), qPrintable(p.decidedBy));
    }

    void fastest()
    {
        // alpha: 200 ms + n / 100 tok/s; beta: 1000 ms + n / 500 tok/s.
        m_health.recordSuccess(kBig, 0, 200, 100);
        m_health.recordSuccess(kMid, 0, 1000, 500);
        // Long answers favour throughput: alpha 200 + 10000 ms, beta 1000 + 2000 ms.
        RoutePlan p = plan(RouteStrategy::Fastest, {kBig, kMid}, traits(100, 1000));
        QCOMPARE(ids(p), (QStringList{kMid, kBig}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("3000 ms")), qPrintable(p.decidedBy));
        // Short answers favour time to first token: alpha 300 ms, beta 1020 ms.
        p = plan(RouteStrategy::Fastest, {kMid, kBig}, traits(100, 10));
        QCOMPARE(ids(p), (QStringList{kBig, kMid}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("300 ms")), qPrintable(p.decidedBy));
        // Never measured targets go first, in the configured order, so each gets measured once.
        p = plan(RouteStrategy::Fastest, {kBig, kSmall, kMid, kLocal}, traits(100, 10));
        QCOMPARE(ids(p), (QStringList{kSmall, kLocal, kBig, kMid}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("not measured")), qPrintable(p.decidedBy));
        // Measured without throughput (not streamed): the time to first byte alone.
        m_health.recordSuccess(kLocal, 0, 250, -1);
        m_health.recordSuccess(kSmall, 0, 5000, -1);
        p = plan(RouteStrategy::Fastest, {kSmall, kMid, kBig, kLocal}, traits(100, 10));
        QCOMPARE(ids(p), (QStringList{kLocal, kBig, kMid, kSmall}));
    }

    void weightedFixedSequence()
    {
        // Weights 1, 3, 6 (total 10). 0.5 -> point 5 -> gamma; then among alpha+beta (4): 0.5 -> 2 -> beta.
        RoutePlan p = plan(RouteStrategy::Weighted, {kBig, kMid, kSmall}, traits(), key(), 0, sequence({0.5, 0.5}),
            kSmart, {}, {1, 3, 6});
        QCOMPARE(ids(p), (QStringList{kSmall, kMid, kBig}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("weighted")) && p.decidedBy.contains(QStringLiteral("60%")),
            qPrintable(p.decidedBy));
        p = plan(RouteStrategy::Weighted, {kBig, kMid, kSmall}, traits(), key(), 0, sequence({0.05, 0.99}), kSmart, {},
            {1, 3, 6});
        QCOMPARE(ids(p), (QStringList{kBig, kSmall, kMid}));
        // Out of range numbers are clamped rather than trusted.
        p = plan(RouteStrategy::Weighted, {kBig, kMid, kSmall}, traits(), key(), 0, sequence({1.5, -3, qQNaN()}),
            kSmart, {}, {1, 3, 6});
        QCOMPARE(ids(p), (QStringList{kSmall, kBig, kMid}));
        // Weight 0 only after the others; all zero: configured order.
        p = plan(
            RouteStrategy::Weighted, {kBig, kMid, kSmall}, traits(), key(), 0, sequence({0.0}), kSmart, {}, {0, 5, 0});
        QCOMPARE(ids(p), (QStringList{kMid, kBig, kSmall}));
        p = plan(RouteStrategy::Weighted, {kBig, kMid}, traits(), key(), 0, sequence({0.9}), kSmart, {}, {0, 0});
        QCOMPARE(ids(p), (QStringList{kBig, kMid}));
        // No generator given: the global one, still a permutation.
        p = plan(RouteStrategy::Weighted, {kBig, kMid, kSmall}, traits(), key(), 0, {}, kSmart, {}, {1, 1, 1});
        QStringList sorted = ids(p);
        sorted.sort();
        QCOMPARE(sorted, (QStringList{kBig, kMid, kSmall}));
    }

    void weightedDistribution()
    {
        QRandomGenerator gen(20261122);
        const auto random = [&gen]() { return gen.generateDouble(); };
        constexpr int kDraws = 10'000;
        QHash<QString, int> first;
        QHash<QString, int> second;
        for (int i = 0; i < kDraws; ++i) {
            const RoutePlan p = plan(RouteStrategy::Weighted, {kBig, kMid, kSmall, kLocal}, traits(), key(), i, random,
                QString(), {}, {1, 3, 6, 0});
            QCOMPARE(p.targets.size(), 4);
            QCOMPARE(p.targets.last().config.id, kLocal);
            ++first[p.targets[0].config.id];
            ++second[p.targets[1].config.id];
        }
        const auto near = [](int count, double expected) { return qAbs(double(count) / kDraws - expected) < 0.02; };
        QVERIFY2(near(first[kBig], 0.1), qPrintable(QString::number(first[kBig])));
        QVERIFY2(near(first[kMid], 0.3), qPrintable(QString::number(first[kMid])));
        QVERIFY2(near(first[kSmall], 0.6), qPrintable(QString::number(first[kSmall])));
        QCOMPARE(first.value(kLocal), 0);
        // Without replacement: P(second = alpha) = 0.3 * 1/7 + 0.6 * 1/4 = 0.1929.
        QVERIFY2(near(second[kBig], 0.3 / 7 + 0.6 / 4), qPrintable(QString::number(second[kBig])));
    }

    void quality()
    {
        m_reg.votes.insert(kBig, VoteStats{10, 8, 0}); // (8+1)/12 = 0.75
        m_reg.votes.insert(kMid, VoteStats{10, 2, 1}); // (2+1)/12 = 0.25
        // kSmall never voted: (0+1)/2 = 0.5
        RoutePlan p = plan(RouteStrategy::Quality, {kMid, kSmall, kBig});
        QCOMPARE(ids(p), (QStringList{kBig, kSmall, kMid}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("quality")) && p.decidedBy.contains(QStringLiteral("0.75")),
            qPrintable(p.decidedBy));
        // A high error rate pulls the winner down: 0.75 * (1 - 0.8) = 0.15.
        m_health.recordFailure(kBig, 0, QStringLiteral("HTTP 500"));
        m_health.recordSuccess(kBig, 1, -1, -1);
        QVERIFY(qFuzzyCompare(m_health.health(kBig).errorRate, 0.8));
        p = plan(RouteStrategy::Quality, {kMid, kSmall, kBig});
        QCOMPARE(ids(p), (QStringList{kSmall, kMid, kBig}));
    }

    void qualityFallsBackToOrderedWithFewVotes()
    {
        m_reg.votes.insert(kBig, VoteStats{2, 2, 0});
        m_reg.votes.insert(kMid, VoteStats{2, 0, 0});
        m_reg.votes.insert(kLocal, VoteStats{100, 100, 0}); // not in the route: does not count
        RoutePlan p = plan(RouteStrategy::Quality, {kMid, kBig});
        QCOMPARE(ids(p), (QStringList{kMid, kBig}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("ordered")) && p.decidedBy.contains(QStringLiteral("4")),
            qPrintable(p.decidedBy));
        // One more round reaches kMinQualityVotes (5): ranked.
        m_reg.votes.insert(kMid, VoteStats{3, 0, 0});
        p = plan(RouteStrategy::Quality, {kMid, kBig});
        QCOMPARE(ids(p), (QStringList{kBig, kMid}));
    }

    void skipsTargetsThatCannotServe()
    {
        RequestTraits t = traits(20'000, 100);
        RoutePlan p = plan(RouteStrategy::Ordered, {kSmall, kMid, kBig}, t);
        QCOMPARE(ids(p), (QStringList{kMid, kBig}));
        QCOMPARE(p.skipped.size(), 1);
        QCOMPARE(p.skipped[0].modelId, kSmall);
        QCOMPARE(p.skipped[0].provider, QStringLiteral("gamma"));
        QCOMPARE(p.skipped[0].reason, QStringLiteral("context window 16000 tokens < ~20000 estimated input tokens"));
        // Unknown context window: never skipped for size.
        QCOMPARE(ids(plan(RouteStrategy::Ordered, {kLocal}, traits(10'000'000, 10))), QStringList{kLocal});

        t = traits();
        t.tools = true;
        p = plan(RouteStrategy::Ordered, {kSmall, kMid, kLocal}, t);
        QCOMPARE(ids(p), (QStringList{kMid, kLocal})); // unknown capabilities: assumed able
        QVERIFY2(skipReason(p, kSmall).contains(QStringLiteral("tool")), qPrintable(skipReason(p, kSmall)));

        t = traits();
        t.images = true;
        p = plan(RouteStrategy::Ordered, {kMid, kSmall, kBig}, t);
        QCOMPARE(ids(p), (QStringList{kSmall, kBig}));
        QVERIFY2(skipReason(p, kMid).contains(QStringLiteral("vision")), qPrintable(skipReason(p, kMid)));

        t = traits();
        t.jsonSchema = true;
        p = plan(RouteStrategy::Ordered, {kMid, kSmall}, t);
        QCOMPARE(ids(p), QStringList{kSmall});
        QVERIFY2(skipReason(p, kMid).contains(QStringLiteral("JSON schema")), qPrintable(skipReason(p, kMid)));

        // Everything at once: only alpha/big can.
        t = traits(20'000, 10);
        t.tools = t.images = t.jsonSchema = true;
        p = plan(RouteStrategy::Cheapest, {kSmall, kMid, kBig}, t);
        QCOMPARE(ids(p), QStringList{kBig});
        QCOMPARE(p.skipped.size(), 2);
    }

    void skipsUnresolvableTargets()
    {
        const RoutePlan p = plan(RouteStrategy::Ordered,
            {QStringLiteral("nobody/x"), kOff, QStringLiteral("big"), kMid, kMid, QStringLiteral("no-such-model")});
        QCOMPARE(ids(p), QStringList{kMid});
        QCOMPARE(p.skipped.size(), 5);
        QCOMPARE(skipReason(p, QStringLiteral("nobody/x")), QStringLiteral("unknown model"));
        QCOMPARE(p.skipped[0].provider, QStringLiteral("nobody"));
        QCOMPARE(skipReason(p, kOff), QStringLiteral("provider disabled"));
        QVERIFY2(skipReason(p, QStringLiteral("big")).startsWith(QStringLiteral("ambiguous")),
            qPrintable(skipReason(p, QStringLiteral("big"))));
        QVERIFY(skipReason(p, QStringLiteral("big")).contains(kBig));
        QVERIFY(skipReason(p, kMid).contains(QStringLiteral("twice")));
        QCOMPARE(skipReason(p, QStringLiteral("no-such-model")), QStringLiteral("unknown model"));
        // A bare upstream name that one provider offers resolves to its id.
        QCOMPARE(ids(plan(RouteStrategy::Ordered, {QStringLiteral("mid")})), QStringList{kMid});
    }

    void keyChecks()
    {
        KeyEntry k = key();
        k.allowModels = {QStringLiteral("alpha/*"), QStringLiteral("delta/*")};
        RoutePlan p = plan(RouteStrategy::Ordered, {kMid, kBig, kLocal}, traits(), k);
        QCOMPARE(ids(p), (QStringList{kBig, kLocal}));
        QVERIFY2(skipReason(p, kMid).contains(QStringLiteral("may not use")), qPrintable(skipReason(p, kMid)));

        // A key with spending limits refuses unpriced targets unless it allows them.
        k = key();
        k.limits.monthUsd = 10;
        p = plan(RouteStrategy::Ordered, {kLocal, kMid, QStringLiteral("gamma/new-model")}, traits(), k);
        QCOMPARE(ids(p), QStringList{kMid});
        QVERIFY2(skipReason(p, kLocal).contains(QStringLiteral("unpriced")), qPrintable(skipReason(p, kLocal)));
        QVERIFY(skipReason(p, QStringLiteral("gamma/new-model")).contains(QStringLiteral("unpriced")));
        k.allowUnpriced = true;
        QCOMPARE(ids(plan(RouteStrategy::Ordered, {kLocal, kMid}, traits(), k)), (QStringList{kLocal, kMid}));
        // Unlimited keys may use unpriced targets.
        QCOMPARE(ids(plan(RouteStrategy::Ordered, {kLocal, kMid})), (QStringList{kLocal, kMid}));
    }

    void nothingCanServe()
    {
        RequestTraits t = traits();
        t.jsonSchema = true;
        const RoutePlan p = plan(RouteStrategy::Fastest, {kMid, QStringLiteral("nobody/x")}, t);
        QVERIFY(p.targets.isEmpty());
        QCOMPARE(p.skipped.size(), 2);
        QVERIFY(!p.decidedBy.isEmpty());
        QVERIFY(plan(RouteStrategy::Ordered, {}).targets.isEmpty());
    }

    void unavailableTargetsMoveBehind()
    {
        const qint64 now = 1'000'000;
        // alpha: circuit open until now + 10 s; beta: rate limited until now + 3 s.
        m_health.recordFailure(kBig, now - 1, QStringLiteral("HTTP 500"));
        m_health.recordFailure(kBig, now, QStringLiteral("HTTP 500"));
        m_health.recordRateLimited(kMid, now, now + 3000);
        RoutePlan p = plan(RouteStrategy::Ordered, {kBig, kMid, kSmall, kLocal}, traits(), key(), now);
        QCOMPARE(ids(p), (QStringList{kSmall, kLocal, kMid, kBig})); // the soonest available first
        QVERIFY(p.skipped.isEmpty());
        QVERIFY2(p.decidedBy.startsWith(QStringLiteral("ordered")), qPrintable(p.decidedBy));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("alpha/big circuit open for 10 s")), qPrintable(p.decidedBy));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("beta/mid rate limited for 3 s")), qPrintable(p.decidedBy));
        // The cheapest choice is demoted the same way.
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, traits(10'000, 100), key(), now);
        QCOMPARE(ids(p), (QStringList{kSmall, kMid, kBig}));
        // Once the Retry-After passed, beta is back in its place; after the cooldown alpha is too.
        p = plan(RouteStrategy::Ordered, {kBig, kMid, kSmall}, traits(), key(), now + 3000);
        QCOMPARE(ids(p), (QStringList{kMid, kSmall, kBig}));
        p = plan(RouteStrategy::Ordered, {kBig, kMid, kSmall}, traits(), key(), now + 10'000);
        QCOMPARE(ids(p), (QStringList{kBig, kMid, kSmall}));
        QCOMPARE(p.decidedBy, QStringLiteral("ordered"));
        // Planning does not take the probe slot: admit() does.
        QCOMPARE(m_health.health(kBig).state, gh::TargetHealth::State::Open);
    }

    void providerWithoutRoomMovesBehind()
    {
        const qint64 now = 1'000'000;
        m_health.recordRateLimited(kSmall, now, now + 5000);
        const auto room = [](const QString &providerId) { return providerId != QStringLiteral("alpha"); };
        const RoutePlan p
            = plan(RouteStrategy::Ordered, {kSmall, kBig, kMid}, traits(), key(), now, kNoRandom, kSmart, room);
        // With room, then a full provider, then the unavailable target.
        QCOMPARE(ids(p), (QStringList{kMid, kBig, kSmall}));
        QVERIFY2(p.decidedBy.contains(QStringLiteral("alpha/big provider at its rate limit")), qPrintable(p.decidedBy));
    }

    void affinityHitMovesToFront()
    {
        const qint64 now = 1'000'000;
        RequestTraits t = traits(100, 10'000); // cheapest: gamma, beta, alpha
        t.prefixHashes = {0xAAAA, 0xBBBB};
        QCOMPARE(
            ids(plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now)), (QStringList{kSmall, kMid, kBig}));
        // beta served an earlier request with the same prefix.
        m_router.rememberAffinity(key().id, kSmart, t, kMid, now);
        QCOMPARE(m_affinity.size(), 2);
        RoutePlan p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 1000);
        QCOMPARE(ids(p), (QStringList{kMid, kSmall, kBig}));
        QVERIFY(p.affinityHit);
        QVERIFY2(p.decidedBy.startsWith(QStringLiteral("affinity")) && p.decidedBy.contains(QStringLiteral("cheapest")),
            qPrintable(p.decidedBy));

        // Only the shorter prefix is shared (a new conversation with the same system prompt and tools).
        RequestTraits other = t;
        other.prefixHashes = {0xCCCC, 0xBBBB};
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, other, key(), now + 1000);
        QVERIFY(p.affinityHit);
        QCOMPARE(p.targets.first().config.id, kMid);
        // The most specific prefix wins when both are known.
        m_router.rememberAffinity(key().id, kSmart, RequestTraits{0, 0, false, false, false, {0xCCCC}}, kBig, now);
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, other, key(), now + 1000);
        QCOMPARE(p.targets.first().config.id, kBig);

        // Misses: another key, another route, no route (a model named directly), no prefixes.
        QVERIFY(!plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(8), now + 1000).affinityHit);
        QVERIFY(!plan(
            RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 1000, kNoRandom, QStringLiteral("other"))
                     .affinityHit);
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 1000, kNoRandom, QString());
        QVERIFY(!p.affinityHit);
        QCOMPARE(p.targets.first().config.id, kSmall);
        QVERIFY(
            !plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, traits(100, 10'000), key(), now + 1000).affinityHit);
        // rememberAffinity without a route stores nothing.
        const int size = m_affinity.size();
        m_router.rememberAffinity(key().id, QString(), t, kBig, now);
        QCOMPARE(m_affinity.size(), size);
    }

    void affinityIgnoredWhenTargetUnusable()
    {
        const qint64 now = 1'000'000;
        RequestTraits t = traits(100, 10'000);
        t.prefixHashes = {0x1234};
        m_router.rememberAffinity(key().id, kSmart, t, kMid, now);
        // The warm target is rate limited: the strategy decides, the target stays as a last resort.
        m_health.recordRateLimited(kMid, now, now + 60'000);
        RoutePlan p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 1000);
        QVERIFY(!p.affinityHit);
        QCOMPARE(ids(p), (QStringList{kSmall, kBig, kMid}));
        // Its provider is full: same.
        const auto noRoomForBeta = [](const QString &id) { return id != QStringLiteral("beta"); };
        p = plan(
            RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 61'000, kNoRandom, kSmart, noRoomForBeta);
        QVERIFY(!p.affinityHit);
        QCOMPARE(ids(p), (QStringList{kSmall, kBig, kMid}));
        // Available again: back to the warm target.
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, t, key(), now + 61'000);
        QVERIFY(p.affinityHit);
        QCOMPARE(p.targets.first().config.id, kMid);
        // Not in this plan (cannot serve images): ignored.
        RequestTraits withImage = t;
        withImage.images = true;
        p = plan(RouteStrategy::Cheapest, {kBig, kMid, kSmall}, withImage, key(), now + 62'000);
        QVERIFY(!p.affinityHit);
        QCOMPARE(ids(p), (QStringList{kSmall, kBig}));
        // Not in the route at all: ignored.
        p = plan(RouteStrategy::Cheapest, {kBig, kSmall}, t, key(), now + 63'000);
        QVERIFY(!p.affinityHit);
    }

    void affinityExpires()
    {
        AffinityTable shortLived(1000, 10);
        Router router(m_health, shortLived);
        RequestTraits t = traits(100, 10'000);
        t.prefixHashes = {99};
        router.rememberAffinity(1, kSmart, t, kBig, 0);
        KeyEntry k = key(1);
        RoutePlan p
            = router.plan(m_reg, kSmart, RouteStrategy::Cheapest, targets({kMid, kBig, kSmall}), t, k, 900, kNoRandom);
        QVERIFY(p.affinityHit);
        QCOMPARE(p.targets.first().config.id, kBig);
        p = router.plan(m_reg, kSmart, RouteStrategy::Cheapest, targets({kMid, kBig, kSmall}), t, k, 2000, kNoRandom);
        QVERIFY(!p.affinityHit);
        QCOMPARE(p.targets.first().config.id, kSmall);
    }

    // The measurement in small: 20 growing turns on a weighted route with two equal targets
    // all land on the first target that served the conversation.
    void conversationStaysOnOneTarget()
    {
        QRandomGenerator gen(7);
        const auto random = [&gen]() { return gen.generateDouble(); };
        QString servedBy;
        QSet<QString> firstChoices;
        for (int turn = 0; turn < 20; ++turn) {
            RequestTraits t = traits(1000 + turn * 500, 200);
            t.prefixHashes = {quint64(1000 + turn), 0x5157E4}; // the first message differs per turn here
            const RoutePlan p = plan(
                RouteStrategy::Weighted, {kMid, kTwin}, t, key(), 1'000'000 + turn * 1000, random, kSmart, {}, {1, 1});
            QVERIFY(!p.targets.isEmpty());
            if (turn > 0)
                QVERIFY(p.affinityHit);
            if (servedBy.isEmpty())
                servedBy = p.targets.first().config.id;
            QCOMPARE(p.targets.first().config.id, servedBy);
            m_router.rememberAffinity(key().id, kSmart, t, p.targets.first().config.id, 1'000'000 + turn * 1000);
        }
        // Without affinity the same draws would have spread over both targets.
        for (int i = 0; i < 20; ++i)
            firstChoices.insert(
                plan(RouteStrategy::Weighted, {kMid, kTwin}, traits(), key(), 0, random, QString(), {}, {1, 1})
                    .targets.first()
                    .config.id);
        QCOMPARE(firstChoices.size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestRouter)
#include "tst_router.moc"
