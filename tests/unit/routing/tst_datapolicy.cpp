// Data policies (config/datapolicy.h, routing/datapolicycheck.h): the config's "data_policy" and
// "require_policy" are read strictly, layers apply model over provider over published terms, an
// unknown never meets a requirement, and the published terms carried as data load with their source.
#include "config/config.h"
#include "routing/datapolicycheck.h"
#include <QJsonDocument>
#include <QTest>

using namespace gh;

namespace {

std::optional<Config> parse(const QByteArray &json, ConfigError *error)
{
    return parseConfig(json, QStringLiteral("test.json"), error);
}

ModelEntry entry(const ProviderConfig &provider, const DataPolicy &own = {})
{
    auto p = std::make_shared<ProviderEntry>();
    p->config = provider;
    ModelEntry m;
    m.config.id = provider.id + QStringLiteral("/m");
    m.config.provider = provider.id;
    m.config.dataPolicy = own;
    m.provider = p;
    return m;
}

} // namespace

class TestDataPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void configReadsPoliciesAndRequirements()
    {
        ConfigError error;
        const auto c = parse("{"
            "            \"providers\": [{\"id\": \"eu\", \"base_url\": \"https://eu.example/v1\","
            "                           \"data_policy\": {\"retains_prompts\": \"none\", \"trains_on_data\": \"no\", \"zdr\": true, \"region\": \"EU\"}}],"
            "            \"models\": [{\"id\": \"eu/big\", \"provider\": \"eu\", \"data_policy\": {\"trains_on_data\": \"opt-out\", \"retains_prompts\": 7}}],"
            "            \"keys\": [{\"name\": \"k\", \"require_policy\": {\"zdr\": true, \"trains_on_data\": \"no\", \"max_retention_days\": 0, \"regions\": [\"eu\", \"EU\"]}}]"
            "        }", &error);
        QVERIFY2(c, qPrintable(error.toString()));
        const DataPolicy &p = c->providers.at(0).dataPolicy;
        QCOMPARE(p.retainsDays, std::optional<int>(0));
        QCOMPARE(p.trains, std::optional<Training>(Training::No));
        QCOMPARE(p.zdr, std::optional<bool>(true));
        QCOMPARE(p.region, std::optional<QString>(QStringLiteral("eu"))); // lower case
        QCOMPARE(c->models.at(0).dataPolicy.trains, std::optional<Training>(Training::OptOut));
        QCOMPARE(c->models.at(0).dataPolicy.retainsDays, std::optional<int>(7));
        const PolicyRequirement &r = c->keys.at(0).requirePolicy;
        QVERIFY(r.zdr && r.noTraining);
        QCOMPARE(r.maxRetentionDays, std::optional<int>(0));
        QCOMPARE(r.regions, QStringList{QStringLiteral("eu")}); // duplicates folded
        QCOMPARE(r.describe(), QStringLiteral("zdr, no training, no retention, region eu"));
        // The stored form reads back to the same values.
        QString field, message;
        QCOMPARE(dataPolicyFromJson(p.toJson(), &field, &message), std::optional<DataPolicy>(p));
        QCOMPARE(policyRequirementFromJson(r.toJson(), &field, &message), std::optional<PolicyRequirement>(r));
    }

    void configRejectsWrongValues_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("path");
        const QByteArray provider = "{\"providers\": [{\"id\": \"p\", \"base_url\": \"https://p.example/v1\", \"data_policy\": %1}]}";
        const QByteArray key = "{\"keys\": [{\"name\": \"k\", \"require_policy\": %1}]}";
        QTest::newRow("policy not an object") << QByteArray(provider).replace("%1", "\"zdr\"") << "providers[0].data_policy";
        QTest::newRow("unknown field") << QByteArray(provider).replace("%1", "{\"zdr\": true, \"gdpr\": true}") << "providers[0].data_policy.gdpr";
        QTest::newRow("negative days") << QByteArray(provider).replace("%1", "{\"retains_prompts\": -1}") << "providers[0].data_policy.retains_prompts";
        QTest::newRow("fractional days") << QByteArray(provider).replace("%1", "{\"retains_prompts\": 1.5}") << "providers[0].data_policy.retains_prompts";
        QTest::newRow("training word") << QByteArray(provider).replace("%1", "{\"trains_on_data\": \"sometimes\"}") << "providers[0].data_policy.trains_on_data";
        QTest::newRow("zdr string") << QByteArray(provider).replace("%1", "{\"zdr\": \"yes\"}") << "providers[0].data_policy.zdr";
        QTest::newRow("region spaces") << QByteArray(provider).replace("%1", "{\"region\": \"eu west\"}") << "providers[0].data_policy.region";
        QTest::newRow("require unknown") << QByteArray(key).replace("%1", "{\"soc2\": true}") << "keys[0].require_policy.soc2";
        QTest::newRow("require training yes") << QByteArray(key).replace("%1", "{\"trains_on_data\": \"yes\"}") << "keys[0].require_policy.trains_on_data";
        QTest::newRow("require regions string") << QByteArray(key).replace("%1", "{\"regions\": \"eu\"}") << "keys[0].require_policy.regions";
    }
    void configRejectsWrongValues()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, path);
        ConfigError error;
        QVERIFY(!parse(json, &error));
        QCOMPARE(error.path, path);
        QVERIFY(!error.message.isEmpty());
    }

    void unknownNeverMeetsARequirement()
    {
        PolicyRequirement r;
        QVERIFY(requireShortfall(r, {}).isEmpty()); // no requirement: anything goes
        r.zdr = true;
        QCOMPARE(requireShortfall(r, {}), QStringLiteral("requires zdr; zdr is unknown"));
        DataPolicy p;
        p.zdr = false;
        QCOMPARE(requireShortfall(r, p), QStringLiteral("requires zdr; zdr is off"));
        p.zdr = true;
        QVERIFY(requireShortfall(r, p).isEmpty());
        r = {};
        r.noTraining = true;
        p.trains = Training::OptOut; // trains unless the account opted out: not "no"
        QCOMPARE(requireShortfall(r, p), QStringLiteral("requires no training; trains_on_data is opt-out"));
        r = {};
        r.maxRetentionDays = 0;
        p = {};
        p.retainsDays = 30;
        QCOMPARE(requireShortfall(r, p), QStringLiteral("requires no retention; retains_prompts is 30 days"));
        p.zdr = true; // ZDR in force: nothing is kept, whatever the default retention
        QVERIFY(requireShortfall(r, p).isEmpty());
        r = {};
        r.regions = {QStringLiteral("eu")};
        QCOMPARE(requireShortfall(r, {}), QStringLiteral("requires region eu; region is unknown"));
        p.region = QStringLiteral("us");
        QCOMPARE(requireShortfall(r, p), QStringLiteral("requires region eu; region is us"));
    }

    void layersApplyModelOverProviderOverPublishedTerms()
    {
        // OpenAI's published terms (resources/data-policies.json), with their source.
        const PublishedPolicy *openai = publishedPolicy(QStringLiteral("openai"));
        QVERIFY(openai);
        QVERIFY(openai->source.startsWith(QLatin1String("https://")));
        QVERIFY(!openai->date.isEmpty());
        QCOMPARE(openai->policy.retainsDays, std::optional<int>(30));
        QCOMPARE(openai->policy.trains, std::optional<Training>(Training::No));
        QVERIFY(!openai->policy.region); // the terms do not fix it: unknown
        QVERIFY(!publishedPolicy(QStringLiteral("no-such-vendor")));

        ProviderConfig provider;
        provider.id = QStringLiteral("work-openai");
        provider.catalog = QStringLiteral("openai"); // the published terms are the catalog vendor's
        provider.dataPolicy.zdr = true;              // this organisation has ZDR
        ModelEntry m = entry(provider);
        DataPolicy effective = effectiveDataPolicy(m);
        QCOMPARE(effective.retainsDays, std::optional<int>(30));
        QCOMPARE(effective.zdr, std::optional<bool>(true));
        m.config.dataPolicy.trains = Training::Yes; // one model differs
        effective = effectiveDataPolicy(m);
        QCOMPARE(effective.trains, std::optional<Training>(Training::Yes));
        QCOMPARE(effective.zdr, std::optional<bool>(true));

        KeyEntry key;
        key.name = QStringLiteral("strict");
        key.requirePolicy.noTraining = true;
        QCOMPARE(dataPolicyRefusal(m, key), QStringLiteral("data policy: key 'strict' requires no training; trains_on_data is yes"));
        QVERIFY(isDataPolicyReason(dataPolicyRefusal(m, key)));
        m.config.dataPolicy = {};
        QVERIFY(dataPolicyRefusal(m, key).isEmpty());

        // A local server: nothing leaves the machine.
        ProviderConfig local;
        local.id = QStringLiteral("ollama");
        local.local = true;
        key.requirePolicy.zdr = true;
        key.requirePolicy.regions = {QStringLiteral("local")};
        QVERIFY(dataPolicyRefusal(entry(local), key).isEmpty());
        // A provider nobody published terms for: unknown, refused.
        ProviderConfig unknown;
        unknown.id = QStringLiteral("somewhere");
        QCOMPARE(dataPolicyRefusal(entry(unknown), key), QStringLiteral("data policy: key 'strict' requires zdr; zdr is unknown"));
    }
};

QTEST_GUILESS_MAIN(TestDataPolicy)
#include "tst_datapolicy.moc"
