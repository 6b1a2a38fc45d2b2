// RoutesModel and HealthModel on a running gateway: routes created, edited, renamed, reordered and
// deleted through the model land in the store (and the gateway's registry); bad input is refused
// with a reason and writes nothing; target health follows the gateway's health tracker.
#include "gateway/gatewaycontext.h"
#include "healthmodel.h"
#include "routesmodel.h"
#include "routing/registry.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

QVariantMap target(const QString &model, int weight = 1)
{
    return {{QStringLiteral("model"), model}, {QStringLiteral("weight"), weight}};
}

QStringList targetModels(const RouteConfig &r)
{
    QStringList out;
    for (const RouteTarget &t : r.targets)
        out << t.model;
    return out;
}

} // namespace

class TestRoutesModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

    [[nodiscard]] std::optional<RouteConfig> stored(const QString &id) const
    {
        for (const RouteConfig &r : m_fx.gateway->store().routes()) {
            if (r.id == id)
                return r;
        }
        return std::nullopt;
    }
    static QVariant role(const QAbstractItemModel &m, int row, int role) { return m.data(m.index(row, 0), role); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({}, {}));
        QVERIFY(m_fx.start());
        Store &store = m_fx.gateway->store();
        ProviderConfig p;
        p.id = QStringLiteral("mock");
        p.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:9/v1"));
        QVERIFY(store.saveProvider(p));
        for (const char *name : {"gpt", "claude", "mini"}) {
            ModelConfig m;
            m.id = QStringLiteral("mock/") + QLatin1String(name);
            m.provider = p.id;
            m.upstreamModel = QLatin1String(name);
            QVERIFY(store.saveModel(m));
        }
        m_fx.backend->providersEdited();
        QVERIFY(m_fx.gateway->context().registry.snapshot()->models.contains(QStringLiteral("mock/gpt")));
    }

    void init() { m_fx.gateway->context().health.clear(); }

    void emptyAndModelIds()
    {
        RoutesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0);
        const QStringList ids = m.modelIds();
        QVERIFY2(ids.contains(QStringLiteral("mock/gpt")) && ids.contains(QStringLiteral("mock/claude"))
                && ids.contains(QStringLiteral("mock/mini")),
            qPrintable(ids.join(u',')));
        QVERIFY(std::is_sorted(ids.cbegin(), ids.cend(),
            [](const QString &a, const QString &b) { return a.compare(b, Qt::CaseInsensitive) < 0; }));
        QCOMPARE(m.strategies().size(), 5);
        QCOMPARE(m.strategies().first().toMap().value(QStringLiteral("value")).toString(), QStringLiteral("ordered"));
        QVERIFY(!m.strategyHint(QStringLiteral("weighted")).isEmpty());
        QVERIFY(m.strategyHint(QStringLiteral("nonsense")).isEmpty());
        QCOMPARE(m.roleNames().value(RoutesModel::TargetsRole), QByteArray("targets"));
    }

    void validationWritesNothing()
    {
        RoutesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(m.validateId(QStringLiteral("smart"), {}).isEmpty());
        QVERIFY(!m.validateId(QString(), {}).isEmpty());
        QVERIFY(!m.validateId(QStringLiteral("   "), {}).isEmpty());
        QVERIFY(!m.validateId(QStringLiteral("a/b"), {}).isEmpty());
        QVERIFY(!m.validateId(QStringLiteral("mock/gpt"), {}).isEmpty());
        QVERIFY(!m.validateId(QStringLiteral("two words"), {}).isEmpty());
        QVERIFY(!m.validateId(QString(RoutesModel::kMaxIdLength + 1, u'x'), {}).isEmpty());
        QVERIFY(m.validateTarget(QStringLiteral("mock/gpt")).isEmpty());
        QVERIFY(!m.validateTarget(QString()).isEmpty());
        QVERIFY(!m.validateTarget(QStringLiteral("nowhere/model")).isEmpty());

        const QList<std::pair<QString, QVariantList>> bad{
            {QStringLiteral("ordered"), {}}, // no target
            {QStringLiteral("ordered"), {target(QStringLiteral("mock/gpt")), target(QStringLiteral("mock/gpt"))}},
            {QStringLiteral("ordered"), {target(QStringLiteral("nowhere/model"))}},
            {QStringLiteral("weighted"), {target(QStringLiteral("mock/gpt"), 0), target(QStringLiteral("mock/claude"), 0)}},
            {QStringLiteral("ordered"), {target(QStringLiteral("mock/gpt"), -1)}},
            {QStringLiteral("ordered"), {target(QStringLiteral("mock/gpt"), RoutesModel::kMaxWeight + 1)}},
            {QStringLiteral("random"), {target(QStringLiteral("mock/gpt"))}}, // no such strategy
        };
        for (const auto &[strategy, targets] : bad) {
            const QString error = m.saveRoute({}, QStringLiteral("smart"), strategy, targets);
            QVERIFY2(!error.isEmpty(), qPrintable(strategy));
        }
        QVERIFY(!m.saveRoute({}, QStringLiteral("a/b"), QStringLiteral("ordered"), {target(QStringLiteral("mock/gpt"))})
                     .isEmpty());
        QVERIFY(m_fx.gateway->store().routes().isEmpty());
        QCOMPARE(m.rowCount(), 0);
    }

    void createEditReorderDelete()
    {
        RoutesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy count(&m, &RoutesModel::countChanged);

        // Create
        QCOMPARE(m.saveRoute({}, QStringLiteral(" smart "), QStringLiteral("ordered"),
                     {target(QStringLiteral("mock/claude")), target(QStringLiteral("mock/gpt"), 3)}),
            QString());
        auto r = stored(QStringLiteral("smart"));
        QVERIFY(r);
        QCOMPARE(r->strategy, RouteStrategy::Ordered);
        QCOMPARE(targetModels(*r), (QStringList{QStringLiteral("mock/claude"), QStringLiteral("mock/gpt")}));
        QCOMPARE(r->targets.at(1).weight, 3);
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(count.size(), 1);
        QCOMPARE(role(m, 0, RoutesModel::RouteIdRole).toString(), QStringLiteral("smart"));
        QCOMPARE(role(m, 0, RoutesModel::StrategyRole).toString(), QStringLiteral("ordered"));
        QCOMPARE(role(m, 0, RoutesModel::TargetCountRole).toInt(), 2);
        QVERIFY(!role(m, 0, RoutesModel::StrategyHintRole).toString().isEmpty());
        const QVariantList targets = role(m, 0, RoutesModel::TargetsRole).toList();
        QCOMPARE(targets.size(), 2);
        QCOMPARE(targets.at(0).toMap().value(QStringLiteral("model")).toString(), QStringLiteral("mock/claude"));
        QCOMPARE(targets.at(0).toMap().value(QStringLiteral("known")).toBool(), true);
        QCOMPARE(targets.at(0).toMap().value(QStringLiteral("share")).toDouble(), -1.0); // not weighted
        // The running gateway knows the alias at once.
        QVERIFY(m_fx.gateway->context().registry.snapshot()->routes.contains(QStringLiteral("smart")));

        // The name is taken now, and a second model sees the route too.
        QVERIFY(!m.validateId(QStringLiteral("smart"), {}).isEmpty());
        QVERIFY(m.validateId(QStringLiteral("smart"), QStringLiteral("smart")).isEmpty());
        QVERIFY(!m.saveRoute({}, QStringLiteral("smart"), QStringLiteral("ordered"), {target(QStringLiteral("mock/mini"))})
                     .isEmpty());
        QCOMPARE(targetModels(*stored(QStringLiteral("smart"))).size(), 2);
        RoutesModel other(m_fx.backend.get());
        QCOMPARE(other.rowCount(), 1);

        // Edit: weighted, with shares
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        QCOMPARE(m.saveRoute(QStringLiteral("smart"), QStringLiteral("smart"), QStringLiteral("weighted"),
                     {target(QStringLiteral("mock/claude"), 30), target(QStringLiteral("mock/gpt"), 10),
                         target(QStringLiteral("mock/mini"), 0)}),
            QString());
        r = stored(QStringLiteral("smart"));
        QCOMPARE(r->strategy, RouteStrategy::Weighted);
        QCOMPARE(r->targets.size(), 3);
        QCOMPARE(r->targets.at(0).weight, 30);
        QVERIFY(!changed.isEmpty());
        QCOMPARE(m.rowCount(), 1);
        const QVariantList shares = role(m, 0, RoutesModel::TargetsRole).toList();
        QCOMPARE(shares.at(0).toMap().value(QStringLiteral("share")).toDouble(), 0.75);
        QCOMPARE(shares.at(2).toMap().value(QStringLiteral("share")).toDouble(), 0.0);

        // Reorder: the store keeps the new order
        QCOMPARE(m.moveTarget(QStringLiteral("smart"), 2, 0), QString());
        QCOMPARE(targetModels(*stored(QStringLiteral("smart"))),
            (QStringList{QStringLiteral("mock/mini"), QStringLiteral("mock/claude"), QStringLiteral("mock/gpt")}));
        QCOMPARE(stored(QStringLiteral("smart"))->targets.at(1).weight, 30); // weights travel with their model
        QVERIFY(!m.moveTarget(QStringLiteral("smart"), 0, 3).isEmpty());
        QVERIFY(!m.moveTarget(QStringLiteral("nope"), 0, 1).isEmpty());
        QCOMPARE(role(m, 0, RoutesModel::TargetsRole).toList().at(0).toMap().value(QStringLiteral("model")).toString(),
            QStringLiteral("mock/mini"));

        // Rename: one route under the new name
        QCOMPARE(m.saveRoute(QStringLiteral("smart"), QStringLiteral("clever"), QStringLiteral("ordered"),
                     {target(QStringLiteral("mock/gpt"))}),
            QString());
        QVERIFY(!stored(QStringLiteral("smart")));
        QVERIFY(stored(QStringLiteral("clever")));
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(role(m, 0, RoutesModel::RouteIdRole).toString(), QStringLiteral("clever"));

        // A second route sorts by name
        QCOMPARE(m.saveRoute({}, QStringLiteral("Alpha"), QStringLiteral("fastest"), {target(QStringLiteral("mock/mini"))}),
            QString());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(role(m, 0, RoutesModel::RouteIdRole).toString(), QStringLiteral("Alpha"));
        QCOMPARE(m.indexOf(QStringLiteral("clever")), 1);
        // A route is not a target
        QVERIFY(!m.validateTarget(QStringLiteral("Alpha")).isEmpty());

        // Delete
        QVERIFY(m.remove(QStringLiteral("clever")));
        QVERIFY(m.remove(QStringLiteral("Alpha")));
        QVERIFY(!m.remove(QStringLiteral("clever")));
        QVERIFY(m_fx.gateway->store().routes().isEmpty());
        QCOMPARE(m.rowCount(), 0);
        QVERIFY(!m_fx.gateway->context().registry.snapshot()->routes.contains(QStringLiteral("clever")));
        QTRY_COMPARE(other.rowCount(), 0);
    }

    void describeHealthStates()
    {
        const qint64 now = 1'000'000;
        QCOMPARE(describeHealth({}, false, now).state, QStringLiteral("unknown"));
        TargetHealth h;
        h.successes = 10;
        h.ttftMs = 420;
        h.tokensPerSecond = 85;
        HealthView v = describeHealth(h, true, now);
        QCOMPARE(v.state, QStringLiteral("healthy"));
        QVERIFY2(v.tip.contains(QStringLiteral("420 ms")) && v.tip.contains(QStringLiteral("85 tokens/s")), qPrintable(v.tip));
        h.errorRate = 0.3;
        h.failures = 4;
        h.lastError = QStringLiteral("upstream answered 502");
        v = describeHealth(h, true, now);
        QCOMPARE(v.state, QStringLiteral("degraded"));
        QVERIFY2(v.tip.contains(QStringLiteral("30%")) && v.tip.contains(QStringLiteral("upstream answered 502")),
            qPrintable(v.tip));
        h.errorRate = 0.1;
        h.state = TargetHealth::State::HalfOpen;
        QCOMPARE(describeHealth(h, true, now).state, QStringLiteral("degraded"));
        h.state = TargetHealth::State::Open;
        QCOMPARE(describeHealth(h, true, now).state, QStringLiteral("down"));
        h.state = TargetHealth::State::Closed;
        h.availableAtMs = now + 5000; // a Retry-After
        v = describeHealth(h, true, now);
        QCOMPARE(v.state, QStringLiteral("down"));
        QVERIFY2(v.tip.contains(QStringLiteral("5 s")), qPrintable(v.tip));
        h.availableAtMs = now - 1;
        QCOMPARE(describeHealth(h, true, now).state, QStringLiteral("healthy"));
    }

    void liveHealth()
    {
        RoutesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.saveRoute({}, QStringLiteral("smart"), QStringLiteral("ordered"),
                     {target(QStringLiteral("mock/gpt")), target(QStringLiteral("mock/claude"))}),
            QString());
        QCOMPARE(role(m, 0, RoutesModel::RouteHealthRole).toString(), QStringLiteral("unknown"));
        QCOMPARE(m.healthOf(QStringLiteral("mock/gpt")), QStringLiteral("unknown"));

        HealthTracker &health = m_fx.gateway->context().health;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (int i = 0; i < 3; ++i) // the default breaker opens after 3 failures in a row
            health.recordFailure(QStringLiteral("mock/gpt"), now, QStringLiteral("connection refused"));
        health.recordSuccess(QStringLiteral("mock/claude"), now, 300, 50);

        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        QSignalSpy revision(&m, &RoutesModel::healthRevisionChanged);
        m.refreshHealth(now);
        QCOMPARE(changed.size(), 1);
        QVERIFY(changed.first().at(2).value<QList<int>>().contains(RoutesModel::TargetsRole));
        QCOMPARE(revision.size(), 1);
        const QVariantList targets = role(m, 0, RoutesModel::TargetsRole).toList();
        QCOMPARE(targets.at(0).toMap().value(QStringLiteral("health")).toString(), QStringLiteral("down"));
        QVERIFY(targets.at(0).toMap().value(QStringLiteral("healthTip")).toString().contains(QStringLiteral("connection refused")));
        QCOMPARE(targets.at(1).toMap().value(QStringLiteral("health")).toString(), QStringLiteral("healthy"));
        QCOMPARE(role(m, 0, RoutesModel::RouteHealthRole).toString(), QStringLiteral("healthy"));
        QCOMPARE(m.healthOf(QStringLiteral("mock/gpt")), QStringLiteral("down"));

        // Nothing new: no row changes.
        changed.clear();
        m.refreshHealth(now);
        QCOMPARE(changed.size(), 0);

        // The whole route is down when every target is.
        for (int i = 0; i < 3; ++i)
            health.recordFailure(QStringLiteral("mock/claude"), now, QStringLiteral("HTTP 503"));
        m.refreshHealth(now);
        QCOMPARE(role(m, 0, RoutesModel::RouteHealthRole).toString(), QStringLiteral("down"));

        QVERIFY(m.remove(QStringLiteral("smart")));
    }

    void providerHealthModel()
    {
        HealthModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0); // no provider chosen
        QSignalSpy count(&m, &HealthModel::countChanged);
        m.setProvider(QStringLiteral("mock"));
        QCOMPARE(count.size(), 1);
        QCOMPARE(m.rowCount(), 3); // the config's models, sorted
        QCOMPARE(role(m, 0, HealthModel::ModelIdRole).toString(), QStringLiteral("mock/claude"));
        QCOMPARE(role(m, 0, HealthModel::ShortNameRole).toString(), QStringLiteral("claude"));
        QCOMPARE(role(m, 0, HealthModel::HealthRole).toString(), QStringLiteral("unknown"));
        QCOMPARE(m.quietCount(), 0);

        HealthTracker &health = m_fx.gateway->context().health;
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        health.recordRateLimited(QStringLiteral("mock/gpt"), now, now + 60'000);
        // A model that is not configured but saw traffic shows up too.
        health.recordSuccess(QStringLiteral("mock/extra"), now, 200, 40);
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        m.refresh(now);
        QCOMPARE(m.rowCount(), 4);
        QCOMPARE(m.data(m.index(1), HealthModel::ModelIdRole).toString(), QStringLiteral("mock/extra"));
        QCOMPARE(m.data(m.index(1), HealthModel::HealthRole).toString(), QStringLiteral("healthy"));
        QCOMPARE(m.data(m.index(2), HealthModel::HealthRole).toString(), QStringLiteral("down"));
        QVERIFY(m.data(m.index(2), HealthModel::HealthTipRole).toString().contains(QStringLiteral("Rate limited")));

        // Only the changed row is updated afterwards.
        health.recordSuccess(QStringLiteral("mock/claude"), now, 250, 60);
        changed.clear();
        m.refresh(now);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.first().at(0).toModelIndex().row(), 0);
        QCOMPARE(m.data(m.index(0), HealthModel::HealthRole).toString(), QStringLiteral("healthy"));

        m.setProvider(QStringLiteral("other"));
        QCOMPARE(m.rowCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestRoutesModel)
#include "tst_routesmodel.moc"
