// AliasesModel on a running gateway: aliases added, edited, moved and deleted through the model land
// in the store and in the gateway's registry at once, in order (the first match wins); bad input is
// refused with a reason and writes nothing; "Test a name" answers what the gateway would serve.
#include "aliasesmodel.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include "state/configapply.h"
#include "uitestfixture.h"
#include <QAbstractItemModelTester>
#include <QSignalSpy>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

class TestAliasesModel : public QObject
{
    Q_OBJECT
private:
    UiFixture m_fx;

    [[nodiscard]] QList<ModelAlias> stored() const { return loadAliases(m_fx.gateway->store()); }
    [[nodiscard]] QString live(const QString &name) const
    {
        return m_fx.gateway->context().registry.snapshot()->applyAliases(name);
    }
    static QVariant role(const QAbstractItemModel &m, int row, int role) { return m.data(m.index(row, 0), role); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_fx.prepare({}, {}));
        QVERIFY(m_fx.start());
        Store &store = m_fx.gateway->store();
        for (const char *id : {"mock", "other"}) {
            ProviderConfig p;
            p.id = QLatin1String(id);
            p.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:9/v1"));
            QVERIFY(store.saveProvider(p));
        }
        for (const char *name : {"gpt", "claude"}) {
            ModelConfig m;
            m.id = QStringLiteral("mock/") + QLatin1String(name);
            m.provider = QStringLiteral("mock");
            m.upstreamModel = QLatin1String(name);
            QVERIFY(store.saveModel(m));
        }
        // The same upstream name on two providers: a bare "shared" is ambiguous.
        for (const char *provider : {"mock", "other"}) {
            ModelConfig m;
            m.id = QLatin1String(provider) + QStringLiteral("/shared");
            m.provider = QLatin1String(provider);
            m.upstreamModel = QStringLiteral("shared");
            QVERIFY(store.saveModel(m));
        }
        RouteConfig route;
        route.id = QStringLiteral("smart");
        route.targets = {RouteTarget{QStringLiteral("mock/claude"), 1}, RouteTarget{QStringLiteral("mock/gpt"), 1}};
        QVERIFY(store.saveRoute(route));
        m_fx.backend->providersEdited();
        m_fx.backend->routesEdited();
        QVERIFY(m_fx.gateway->context().registry.snapshot()->routes.contains(QStringLiteral("smart")));
    }

    void init()
    {
        QVERIFY(saveAliases(m_fx.gateway->store(), {}));
        m_fx.backend->routesEdited();
    }

    void emptyAndTargets()
    {
        AliasesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.rowCount(), 0);
        // Routes first, then models.
        const QStringList targets = m.targets();
        QVERIFY2(targets.size() >= 5, qPrintable(targets.join(u',')));
        QCOMPARE(targets.first(), QStringLiteral("smart"));
        QVERIFY(targets.contains(QStringLiteral("mock/gpt")));
        QCOMPARE(m.roleNames().value(AliasesModel::MatchRole), QByteArray("match"));
        QCOMPARE(m.roleNames().value(AliasesModel::TargetKindRole), QByteArray("targetKind"));
        QCOMPARE(m.kindOf(QStringLiteral("smart")), QStringLiteral("route"));
        QCOMPARE(m.kindOf(QStringLiteral("mock/gpt")), QStringLiteral("model"));
        // Any model of a known provider, listed or not (free text provider/model).
        QCOMPARE(m.kindOf(QStringLiteral("mock/brand-new")), QStringLiteral("model"));
        QCOMPARE(m.kindOf(QStringLiteral("nowhere/model")), QStringLiteral("unknown"));
    }

    void validationWritesNothing()
    {
        AliasesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(m.validateMatch(QStringLiteral("claude-opus-*"), -1).isEmpty());
        QVERIFY(!m.validateMatch(QString(), -1).isEmpty());
        QVERIFY(!m.validateMatch(QStringLiteral("   "), -1).isEmpty());
        QVERIFY(!m.validateMatch(QStringLiteral("claude opus"), -1).isEmpty());
        QVERIFY(!m.validateMatch(QString(AliasesModel::kMaxMatchLength + 1, u'x'), -1).isEmpty());
        QVERIFY(m.validateTarget(QStringLiteral("smart")).isEmpty());
        QVERIFY(m.validateTarget(QStringLiteral("mock/gpt")).isEmpty());
        QVERIFY(m.validateTarget(QStringLiteral("mock/brand-new")).isEmpty());
        QVERIFY(!m.validateTarget(QString()).isEmpty());
        QVERIFY(!m.validateTarget(QStringLiteral("two words")).isEmpty());
        const QString unknown = m.validateTarget(QStringLiteral("nowhere/model"));
        QVERIFY2(unknown.contains(QStringLiteral("nowhere/model")), qPrintable(unknown));
        const QString ambiguous = m.validateTarget(QStringLiteral("shared"));
        QVERIFY2(
            ambiguous.contains(QStringLiteral("mock/shared")) && ambiguous.contains(QStringLiteral("other/shared")),
            qPrintable(ambiguous));

        QSignalSpy resets(&m, &QAbstractItemModel::modelReset);
        QVERIFY(!m.saveAlias(-1, QString(), QStringLiteral("smart")).isEmpty());
        QVERIFY(!m.saveAlias(-1, QStringLiteral("claude-*"), QString()).isEmpty());
        QVERIFY(!m.saveAlias(-1, QStringLiteral("claude-*"), QStringLiteral("nowhere/model")).isEmpty());
        QVERIFY(!m.saveAlias(-1, QStringLiteral("claude-*"), QStringLiteral("shared")).isEmpty());
        QVERIFY(!m.saveAlias(5, QStringLiteral("claude-*"), QStringLiteral("smart")).isEmpty()); // no such row
        QVERIFY(!m.saveAlias(-2, QStringLiteral("claude-*"), QStringLiteral("smart")).isEmpty());
        QVERIFY(!m.move(0, 1).isEmpty());
        QVERIFY(!m.remove(0));
        QCOMPARE(m.rowCount(), 0);
        QCOMPARE(resets.count(), 0);
        QVERIFY(stored().isEmpty());
    }

    void addEditMoveDeleteApplyAtOnce()
    {
        AliasesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy counts(&m, &AliasesModel::countChanged);

        QCOMPARE(m.saveAlias(-1, QStringLiteral(" claude-opus-* "), QStringLiteral("smart")), QString());
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(counts.count(), 1);
        QCOMPARE(role(m, 0, AliasesModel::MatchRole).toString(), QStringLiteral("claude-opus-*")); // trimmed
        QCOMPARE(role(m, 0, AliasesModel::TargetKindRole).toString(), QStringLiteral("route"));
        QCOMPARE(role(m, 0, AliasesModel::ProblemRole).toString(), QString());
        QCOMPARE(stored(), (QList<ModelAlias>{{QStringLiteral("claude-opus-*"), QStringLiteral("smart")}}));
        QCOMPARE(live(QStringLiteral("claude-opus-4-8")), QStringLiteral("smart"));

        // A second, broader one: appended, so tried after the first.
        QCOMPARE(m.saveAlias(-1, QStringLiteral("claude-*"), QStringLiteral("mock/gpt")), QString());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(live(QStringLiteral("claude-opus-4-8")), QStringLiteral("smart"));
        QCOMPARE(live(QStringLiteral("claude-haiku-4-5")), QStringLiteral("mock/gpt"));
        QVERIFY(!m.validateMatch(QStringLiteral("claude-*"), -1).isEmpty()); // a duplicate pattern
        QVERIFY(m.validateMatch(QStringLiteral("claude-*"), 1).isEmpty()); // its own row

        // Moved up: now it catches the opus names too.
        QCOMPARE(m.move(1, 0), QString());
        QCOMPARE(role(m, 0, AliasesModel::MatchRole).toString(), QStringLiteral("claude-*"));
        QCOMPARE(stored().first().match, QStringLiteral("claude-*"));
        QCOMPARE(live(QStringLiteral("claude-opus-4-8")), QStringLiteral("mock/gpt"));
        QCOMPARE(m.test(QStringLiteral("claude-opus-4-8")).value(QStringLiteral("row")).toInt(), 0);

        // Edited in place: the target of row 0 becomes the route.
        QCOMPARE(m.saveAlias(0, QStringLiteral("claude-*"), QStringLiteral("smart")), QString());
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(live(QStringLiteral("claude-haiku-4-5")), QStringLiteral("smart"));
        // Renaming it onto the other row's pattern is refused.
        QVERIFY(!m.saveAlias(0, QStringLiteral("claude-opus-*"), QStringLiteral("smart")).isEmpty());
        QCOMPARE(stored().size(), 2);

        // Deleted: the remaining one serves again.
        QVERIFY(m.remove(0));
        QCOMPARE(m.rowCount(), 1);
        QCOMPARE(live(QStringLiteral("claude-haiku-4-5")), QStringLiteral("claude-haiku-4-5"));
        QCOMPARE(live(QStringLiteral("claude-opus-4-8")), QStringLiteral("smart"));
        QVERIFY(m.remove(0));
        QCOMPARE(m.rowCount(), 0);
        QVERIFY(stored().isEmpty());
        QCOMPARE(live(QStringLiteral("claude-opus-4-8")), QStringLiteral("claude-opus-4-8"));
    }

    void testAName()
    {
        AliasesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(m.test(QStringLiteral("  ")).isEmpty());
        QCOMPARE(m.saveAlias(-1, QStringLiteral("claude-opus-*"), QStringLiteral("smart")), QString());
        QCOMPARE(m.saveAlias(-1, QStringLiteral("gpt-?o"), QStringLiteral("mock/brand-new")), QString());

        QVariantMap r = m.test(QStringLiteral("claude-opus-4-8"));
        QCOMPARE(r.value(QStringLiteral("matched")).toBool(), true);
        QCOMPARE(r.value(QStringLiteral("row")).toInt(), 0);
        QCOMPARE(r.value(QStringLiteral("served")).toString(), QStringLiteral("smart"));
        QCOMPARE(r.value(QStringLiteral("kind")).toString(), QStringLiteral("route"));
        QCOMPARE(r.value(QStringLiteral("ok")).toBool(), true);
        QVERIFY2(r.value(QStringLiteral("detail")).toString().contains(QStringLiteral("mock/claude")),
            qPrintable(r.value(QStringLiteral("detail")).toString()));

        r = m.test(QStringLiteral("gpt-4o"));
        QCOMPARE(r.value(QStringLiteral("row")).toInt(), 1);
        QCOMPARE(r.value(QStringLiteral("served")).toString(), QStringLiteral("mock/brand-new"));
        QCOMPARE(r.value(QStringLiteral("kind")).toString(), QStringLiteral("model"));
        QCOMPARE(r.value(QStringLiteral("ok")).toBool(), true);
        QCOMPARE(
            m.test(QStringLiteral("gpt-4oo")).value(QStringLiteral("matched")).toBool(), false); // '?' is one character

        // No alias: the name is served as itself.
        r = m.test(QStringLiteral("mock/gpt"));
        QCOMPARE(r.value(QStringLiteral("matched")).toBool(), false);
        QCOMPARE(r.value(QStringLiteral("served")).toString(), QStringLiteral("mock/gpt"));
        QCOMPARE(r.value(QStringLiteral("ok")).toBool(), true);
        r = m.test(QStringLiteral("nowhere/model"));
        QCOMPARE(r.value(QStringLiteral("ok")).toBool(), false);
        QCOMPARE(r.value(QStringLiteral("kind")).toString(), QStringLiteral("unknown"));
        r = m.test(QStringLiteral("shared"));
        QCOMPARE(r.value(QStringLiteral("ok")).toBool(), false);
        QVERIFY(!r.value(QStringLiteral("detail")).toString().isEmpty());

        // The model and the gateway agree on every name.
        for (const char *name : {"claude-opus-4-8", "gpt-4o", "gpt-5", "mock/gpt"})
            QCOMPARE(m.test(QLatin1String(name)).value(QStringLiteral("served")).toString(), live(QLatin1String(name)));
    }

    void staleTargetAndOutsideChanges()
    {
        AliasesModel m(m_fx.backend.get());
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        RouteConfig route;
        route.id = QStringLiteral("temp");
        route.targets = {RouteTarget{QStringLiteral("mock/gpt"), 1}};
        QVERIFY(m_fx.gateway->store().saveRoute(route));
        m_fx.backend->routesEdited();
        QVERIFY(m.targets().contains(QStringLiteral("temp")));
        QCOMPARE(m.saveAlias(-1, QStringLiteral("o3*"), QStringLiteral("temp")), QString());

        // The route goes away: the alias stays, flagged, and can still be moved or deleted.
        QVERIFY(m_fx.gateway->store().removeRoute(QStringLiteral("temp")));
        m_fx.backend->routesEdited();
        QVERIFY(!m.targets().contains(QStringLiteral("temp")));
        QCOMPARE(role(m, 0, AliasesModel::TargetKindRole).toString(), QStringLiteral("unknown"));
        QVERIFY(!role(m, 0, AliasesModel::ProblemRole).toString().isEmpty());
        QCOMPARE(m.test(QStringLiteral("o3-mini")).value(QStringLiteral("ok")).toBool(), false);

        // Written by someone else (a config file applied): read again on the next change notice.
        QVERIFY(saveAliases(m_fx.gateway->store(),
            {{QStringLiteral("a*"), QStringLiteral("smart")}, {QStringLiteral("a*"), QStringLiteral("mock/gpt")}}));
        m_fx.backend->routesEdited();
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(role(m, 0, AliasesModel::ShadowedByRole).toInt(), 0);
        QCOMPARE(role(m, 1, AliasesModel::ShadowedByRole).toInt(), 1);
        QVERIFY(m.remove(1));
        QCOMPARE(m.rowCount(), 1);
    }
};

QTEST_GUILESS_MAIN(TestAliasesModel)
#include "tst_aliasesmodel.moc"
