#include "core/keyhash.h"
#include "state/configapply.h"
#include "store/store.h"
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

// JSON test data lives in ordinary string literals: moc (Qt 6.4) misreads "//" inside raw strings.
class TestConfigApply : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_store = std::make_unique<Store>();
        QString error;
        QVERIFY2(m_store->open(m_dir->filePath(QStringLiteral("gatehouse.db")), &error), qPrintable(error));
    }

    void cleanup()
    {
        m_store.reset();
        m_dir.reset();
    }

    void firstApplyInsertsEverything()
    {
        const Config config = parse(kFull);
        const ApplyResult result = applyConfig(config, *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY2(result.ok, qPrintable(result.error));
        // 2 providers + 2 models + 3 keys + settings.
        QCOMPARE(result.changes, 8);

        QCOMPARE(m_store->providers().size(), 2);
        const QList<ProviderConfig> providers = m_store->providers();
        const auto openai = std::find_if(providers.begin(), providers.end(), [](const ProviderConfig &p) { return p.id == u"openai"; });
        QVERIFY(openai != providers.end());
        QCOMPARE(openai->baseUrl, QUrl(QStringLiteral("https://api.openai.com/v1")));
        QCOMPARE(openai->apiKeyEnv, QStringLiteral("OPENAI_API_KEY"));

        const QList<ModelConfig> models = m_store->models();
        QCOMPARE(models.size(), 2);
        const auto mini = std::find_if(models.begin(), models.end(), [](const ModelConfig &m) { return m.id == u"openai/gpt-4.1-mini"; });
        QVERIFY(mini != models.end());
        QCOMPARE(*mini, config.models.at(0));

        // The key with a secret in the file: only its hash and hint are stored.
        const auto scripts = m_store->keyByName(QStringLiteral("scripts"));
        QVERIFY(scripts);
        QCOMPARE(scripts->secretHash, hashSecret(QStringView(u"gk-local-example")));
        QCOMPARE(scripts->secretHint, secretHint(QStringLiteral("gk-local-example")));
        QCOMPARE(scripts->allowModels, QStringList{QStringLiteral("openai/*")});
        QCOMPARE(scripts->limits.dayUsd, std::optional<double>(2.0));
        QVERIFY(!scripts->limits.totalUsd);
        QVERIFY(scripts->createdAtMs > 0);

        // The keys without one got generated secrets, returned once, stored as hashes.
        QCOMPARE(result.generated.size(), 2);
        QStringList generatedNames;
        for (const GeneratedKey &g : result.generated) {
            generatedNames.append(g.name);
            QVERIFY(g.secret.startsWith(u"gk-"));
            const auto stored = m_store->keyByName(g.name);
            QVERIFY(stored);
            QCOMPARE(stored->secretHash, hashSecret(QStringView(g.secret)));
            QCOMPARE(stored->secretHint, secretHint(g.secret));
        }
        generatedNames.sort();
        QCOMPARE(generatedNames, (QStringList{QStringLiteral("cursor"), QStringLiteral("notebook")}));
        QVERIFY(result.generated[0].secret != result.generated[1].secret);
        QVERIFY(m_store->keyByName(QStringLiteral("cursor"))->allowUnpriced);

        const GatewaySettings settings = loadGatewaySettings(*m_store);
        QCOMPARE(settings, *config.settings);
        QCOMPARE(settings.port, std::optional<int>(8787));
        QCOMPARE(settings.allowedOrigins, QStringList{QStringLiteral("http://localhost:3000")});
    }

    void applyingTwiceChangesNothing()
    {
        const Config config = parse(kFull);
        const ApplyResult first = applyConfig(config, *m_store);
        QVERIFY2(first.ok, qPrintable(first.error));
        QVERIFY(first.changes > 0);
        const QList<StoredKey> keysBefore = m_store->keys();
        const QList<ProviderConfig> providersBefore = m_store->providers();
        const QList<ModelConfig> modelsBefore = m_store->models();
        const QString settingsBefore = m_store->setting(QLatin1String(kGatewaySettingsKey));

        const ApplyResult second = applyConfig(config, *m_store);
        QVERIFY2(second.ok, qPrintable(second.error));
        QCOMPARE(second.changes, 0);
        QVERIFY(second.generated.isEmpty());
        QCOMPARE(m_store->keys(), keysBefore); // generated secrets kept
        QCOMPARE(m_store->providers(), providersBefore);
        QCOMPARE(m_store->models(), modelsBefore);
        QCOMPARE(m_store->setting(QLatin1String(kGatewaySettingsKey)), settingsBefore);

        // The same file parsed again (a restart) changes nothing either.
        const ApplyResult third = applyConfig(parse(kFull), *m_store);
        QVERIFY(third.ok);
        QCOMPARE(third.changes, 0);

        // Also after reopening the database.
        const QString path = m_store->path();
        m_store->close();
        QVERIFY(m_store->open(path));
        const ApplyResult fourth = applyConfig(parse(kFull), *m_store);
        QVERIFY(fourth.ok);
        QCOMPARE(fourth.changes, 0);
    }

    void changesAreCountedAndApplied()
    {
        QVERIFY(applyConfig(parse(kFull), *m_store).ok);
        const auto cursorBefore = m_store->keyByName(QStringLiteral("cursor"));
        QVERIFY(cursorBefore);

        // New price for one model, new limit for one key, new base URL for one provider.
        QByteArray changed = kFull;
        changed.replace("\"input\": 0.4,", "\"input\": 0.5,");
        changed.replace("\"day_usd\": 2.0", "\"day_usd\": 3.0");
        changed.replace("http://127.0.0.1:11434/v1", "http://127.0.0.1:11435/v1");
        QVERIFY(changed != kFull);
        const ApplyResult result = applyConfig(parse(changed), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QCOMPARE(result.changes, 3);
        QVERIFY(result.generated.isEmpty());

        const QList<ModelConfig> models = m_store->models();
        const auto mini = std::find_if(models.begin(), models.end(), [](const ModelConfig &m) { return m.id == u"openai/gpt-4.1-mini"; });
        QCOMPARE(mini->price.input, std::optional<double>(0.5));
        QCOMPARE(m_store->keyByName(QStringLiteral("scripts"))->limits.dayUsd, std::optional<double>(3.0));
        const QList<ProviderConfig> providers = m_store->providers();
        const auto ollama = std::find_if(providers.begin(), providers.end(), [](const ProviderConfig &p) { return p.id == u"ollama"; });
        QCOMPARE(ollama->baseUrl.port(), 11435);
        // A key the change did not touch kept its generated secret.
        QCOMPARE(m_store->keyByName(QStringLiteral("cursor"))->secretHash, cursorBefore->secretHash);
    }

    void existingKeyKeepsItsSecretUnlessTheFileSetsOne()
    {
        // A key created in the UI, then mentioned in the file without a secret: the secret stays.
        StoredKey uiKey;
        uiKey.name = QStringLiteral("scripts");
        uiKey.secretHash = hashSecret(QStringView(u"gk-made-in-the-ui"));
        uiKey.secretHint = secretHint(QStringLiteral("gk-made-in-the-ui"));
        uiKey.paused = true;
        uiKey.createdAtMs = 1234;
        const qint64 id = m_store->saveKey(uiKey);
        QVERIFY(id > 0);

        const char *withoutSecret = "{\"keys\": [{\"name\": \"scripts\", \"limits\": {\"month_usd\": 5}}]}";
        ApplyResult result = applyConfig(parse(withoutSecret), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QCOMPARE(result.changes, 1); // the limit
        QVERIFY(result.generated.isEmpty());
        auto stored = m_store->keyByName(QStringLiteral("scripts"));
        QCOMPARE(stored->id, id);
        QCOMPARE(stored->secretHash, uiKey.secretHash);
        QCOMPARE(stored->limits.monthUsd, std::optional<double>(5.0));
        // What the file cannot express is the UI's: kept.
        QVERIFY(stored->paused);
        QCOMPARE(stored->createdAtMs, 1234);

        // The file gives a different secret: its hash replaces the old one.
        const char *withSecret = "{\"keys\": [{\"name\": \"scripts\", \"secret\": \"gk-from-the-file\", \"limits\": {\"month_usd\": 5}}]}";
        result = applyConfig(parse(withSecret), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QCOMPARE(result.changes, 1);
        QVERIFY(result.generated.isEmpty());
        stored = m_store->keyByName(QStringLiteral("scripts"));
        QCOMPARE(stored->id, id);
        QCOMPARE(stored->secretHash, hashSecret(QStringView(u"gk-from-the-file")));
        QCOMPARE(stored->secretHint, secretHint(QStringLiteral("gk-from-the-file")));
        QVERIFY(stored->paused);

        // The same secret again: no change.
        result = applyConfig(parse(withSecret), *m_store);
        QVERIFY(result.ok);
        QCOMPARE(result.changes, 0);
    }

    void itemsNotInTheFileAreKept()
    {
        ProviderConfig uiProvider;
        uiProvider.id = QStringLiteral("groq");
        uiProvider.baseUrl = QUrl(QStringLiteral("https://api.groq.com/openai/v1"));
        QVERIFY(m_store->saveProvider(uiProvider));
        ModelConfig uiModel;
        uiModel.id = QStringLiteral("groq/llama-3.3-70b");
        uiModel.provider = QStringLiteral("groq");
        uiModel.upstreamModel = QStringLiteral("llama-3.3-70b");
        QVERIFY(m_store->saveModel(uiModel));
        StoredKey uiKey;
        uiKey.name = QStringLiteral("from the UI");
        uiKey.secretHash = hashSecret(QStringView(u"gk-ui-secret"));
        QVERIFY(m_store->saveKey(uiKey) > 0);

        const ApplyResult result = applyConfig(parse(kFull), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QCOMPARE(m_store->providers().size(), 3);
        QCOMPARE(m_store->models().size(), 3);
        QCOMPARE(m_store->keys().size(), 4);
        QVERIFY(m_store->keyByName(QStringLiteral("from the UI")));
        const QList<ModelConfig> models = m_store->models();
        QVERIFY(std::find(models.begin(), models.end(), uiModel) != models.end());
    }

    // Aliases: a file with the list replaces the stored one (in its order), a file without it leaves
    // it alone, and applying the same list again changes nothing.
    void aliasesAreStoredInOrder()
    {
        const QByteArray withAliases = R"({"aliases": [{"match": "claude-opus-*", "to": "smart"},
                                                      {"match": "claude-*", "to": "deepseek/deepseek-chat"}]})";
        ApplyResult result = applyConfig(parse(withAliases), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QCOMPARE(result.changes, 1);
        const QList<ModelAlias> expected{{QStringLiteral("claude-opus-*"), QStringLiteral("smart")},
                                         {QStringLiteral("claude-*"), QStringLiteral("deepseek/deepseek-chat")}};
        QCOMPARE(loadAliases(*m_store), expected);
        QCOMPARE(applyConfig(parse(withAliases), *m_store).changes, 0);
        QCOMPARE(applyConfig(parse(R"({"providers": []})"), *m_store).changes, 0);
        QCOMPARE(loadAliases(*m_store), expected);
        result = applyConfig(parse(R"({"aliases": []})"), *m_store);
        QVERIFY(result.ok);
        QCOMPARE(result.changes, 1);
        QVERIFY(loadAliases(*m_store).isEmpty());
    }

    // A key's guardrails are stored by key name (the defaults are not stored at all); applying the
    // same file again changes nothing, and a file that sets the defaults again removes the entry.
    void keyGuardrailsAreStored()
    {
        const QByteArray custom = R"({"keys": [{"name": "scripts", "guardrails": {"repetition": "alert", "velocity": "pause"}},
                                                {"name": "plain"}]})";
        ApplyResult result = applyConfig(parse(custom), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        QHash<QString, GuardrailPolicy> stored = loadKeyGuardrails(*m_store);
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.value(QStringLiteral("scripts")).repetition, GuardMode::Alert);
        QCOMPARE(stored.value(QStringLiteral("scripts")).velocity, GuardMode::Pause);
        QCOMPARE(stored.value(QStringLiteral("scripts")).blowup, GuardMode::Alert);
        QCOMPARE(applyConfig(parse(custom), *m_store).changes, 0);
        result = applyConfig(parse(R"({"keys": [{"name": "scripts"}]})"), *m_store);
        QVERIFY(result.ok);
        QCOMPARE(result.changes, 1);
        QVERIFY(loadKeyGuardrails(*m_store).isEmpty());
        // A damaged setting gives the defaults, never a crash.
        m_store->setSetting(QLatin1String(kKeyGuardrailsKey), QStringLiteral("{\"scripts\": {\"velocity\": 7}}"));
        QVERIFY(loadKeyGuardrails(*m_store).isEmpty());
        m_store->setSetting(QLatin1String(kKeyGuardrailsKey), QStringLiteral("[1"));
        QVERIFY(loadKeyGuardrails(*m_store).isEmpty());
    }

    // The keys' and routes' response_cache and store_bodies are stored by name; applying the same
    // file again changes nothing; a key or route the file lists without one is off again.
    void responseCachePoliciesAreStored()
    {
        const QByteArray custom = R"({"providers": [{"id": "openai", "base_url": "https:\/\/api.openai.com\/v1"}],
                                       "keys": [{"name": "evals", "response_cache": {"ttl_s": 3600, "shared": true}},
                                                {"name": "private", "store_bodies": false}, {"name": "plain"}],
                                       "routes": [{"id": "step", "targets": [{"model": "openai/gpt-4.1"}],
                                                   "response_cache": {"ttl_s": 60, "tool_calls": true}}]})";
        ApplyResult result = applyConfig(parse(custom), *m_store);
        QVERIFY2(result.ok, qPrintable(result.error));
        ResponseCachePolicies stored = loadResponseCachePolicies(*m_store);
        QCOMPARE(stored.keys.size(), 1);
        QCOMPARE(stored.keys.value(QStringLiteral("evals")).ttlS, 3600);
        QVERIFY(stored.keys.value(QStringLiteral("evals")).shared);
        QCOMPARE(stored.routes.value(QStringLiteral("step")).ttlS, 60);
        QVERIFY(stored.routes.value(QStringLiteral("step")).toolCalls);
        QCOMPARE(stored.noBodies, QSet<QString>{QStringLiteral("private")});
        QCOMPARE(applyConfig(parse(custom), *m_store).changes, 0);
        result = applyConfig(parse(R"({"keys": [{"name": "evals"}, {"name": "private"}]})"), *m_store);
        QVERIFY(result.ok);
        stored = loadResponseCachePolicies(*m_store);
        QVERIFY(stored.keys.isEmpty());
        QVERIFY(stored.noBodies.isEmpty());
        QCOMPARE(stored.routes.size(), 1); // the file did not list the route: it keeps its policy
        // A damaged entry is off, never guessed.
        m_store->setSetting(QLatin1String(kResponseCacheKey), QStringLiteral("{\"keys\": {\"evals\": {\"ttl_s\": -1}}}"));
        QVERIFY(loadResponseCachePolicies(*m_store).keys.isEmpty());
        m_store->setSetting(QLatin1String(kResponseCacheKey), QStringLiteral("[1"));
        QVERIFY(loadResponseCachePolicies(*m_store).keys.isEmpty());
    }

    void secretUsedByAnotherKeyIsRefused()
    {
        StoredKey other;
        other.name = QStringLiteral("other");
        other.secretHash = hashSecret(QStringView(u"gk-local-example"));
        QVERIFY(m_store->saveKey(other) > 0);
        const QList<ProviderConfig> providersBefore = m_store->providers();

        const ApplyResult result = applyConfig(parse(kFull), *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY(!result.ok);
        QCOMPARE(result.error,
                 QStringLiteral("gatehouse.json: keys[0].secret: same secret as the existing key \"other\"; every key needs its own secret"));
        QVERIFY(!result.error.contains(u"gk-local-example"));
        QVERIFY(result.generated.isEmpty());
        QCOMPARE(result.changes, 0);
        // Nothing was written.
        QCOMPARE(m_store->providers(), providersBefore);
        QVERIFY(m_store->models().isEmpty());
        QCOMPARE(m_store->keys().size(), 1);
        QCOMPARE(m_store->setting(QLatin1String(kGatewaySettingsKey)), QString());
    }

    void secretMovedBetweenKeysInOneFile()
    {
        // "a" has secret S in the store; the file gives S to "b" and a new secret to "a": fine.
        QVERIFY(applyConfig(parse("{\"keys\": [{\"name\": \"a\", \"secret\": \"gk-secret-one\"}]}"), *m_store).ok);
        const ApplyResult swap = applyConfig(
            parse("{\"keys\": [{\"name\": \"a\", \"secret\": \"gk-secret-two\"}, {\"name\": \"b\", \"secret\": \"gk-secret-one\"}]}"),
            *m_store);
        QVERIFY2(swap.ok, qPrintable(swap.error));
        QCOMPARE(m_store->keyByName(QStringLiteral("b"))->secretHash, hashSecret(QStringView(u"gk-secret-one")));

        // But a file that gives "c" the secret "a" keeps (a is in the file without a secret) is refused,
        // and the error points at the secret in the file.
        const ApplyResult clash = applyConfig(
            parse("{\"keys\": [{\"name\": \"a\"}, {\"name\": \"c\", \"secret\": \"gk-secret-two\"}]}"), *m_store);
        QVERIFY(!clash.ok);
        QCOMPARE(clash.error, QStringLiteral("keys[1].secret: same secret as key \"a\"; every key needs its own secret"));
        QVERIFY(!m_store->keyByName(QStringLiteral("c")));
    }

    void settingsDefaultsAndRoundTrip()
    {
        // Nothing stored: the defaults.
        QCOMPARE(loadGatewaySettings(*m_store), GatewaySettings{});

        // A file without settings leaves the stored ones alone.
        GatewaySettings custom;
        custom.port = 9000;
        custom.maxBodyBytes = 1024;
        custom.allowedOrigins = {QStringLiteral("https://app.example")};
        custom.timeouts = {1, 2, 3};
        custom.shutdownGraceMs = 0;
        saveGatewaySettings(*m_store, custom);
        QCOMPARE(loadGatewaySettings(*m_store), custom);
        const ApplyResult noSettings = applyConfig(parse("{}"), *m_store);
        QVERIFY(noSettings.ok);
        QCOMPARE(noSettings.changes, 0);
        QCOMPARE(loadGatewaySettings(*m_store), custom);

        // A settings object replaces them; fields it leaves out take their defaults.
        const ApplyResult replaced = applyConfig(parse("{\"settings\": {\"max_body_mb\": 2}}"), *m_store);
        QVERIFY(replaced.ok);
        QCOMPARE(replaced.changes, 1);
        GatewaySettings expected;
        expected.maxBodyBytes = 2 * 1024 * 1024;
        QCOMPARE(loadGatewaySettings(*m_store), expected);

        // JSON round trip of every field.
        QCOMPARE(gatewaySettingsFromJson(gatewaySettingsToJson(custom)), custom);
    }

    void damagedStoredSettingsFallBackToDefaults()
    {
        m_store->setSetting(QLatin1String(kGatewaySettingsKey), QStringLiteral("not json"));
        QCOMPARE(loadGatewaySettings(*m_store), GatewaySettings{});

        // Bad fields take their default, good ones are kept.
        m_store->setSetting(QLatin1String(kGatewaySettingsKey),
                            QStringLiteral("{\"port\": \"x\", \"max_body_bytes\": -5, \"allowed_origins\": [1],"
                                           " \"timeouts\": {\"connect_ms\": 0, \"idle_ms\": 77}, \"shutdown_grace_ms\": 10}"));
        const GatewaySettings s = loadGatewaySettings(*m_store);
        QVERIFY(!s.port);
        QCOMPARE(s.maxBodyBytes, GatewaySettings{}.maxBodyBytes);
        QVERIFY(s.allowedOrigins.isEmpty());
        QCOMPARE(s.timeouts.connectMs, UpstreamTimeouts{}.connectMs);
        QCOMPARE(s.timeouts.idleMs, 77);
        QCOMPARE(s.shutdownGraceMs, 10);
    }

    void routesLimitsAndCapabilitiesAreApplied()
    {
        const Config config = parse(kRouted);
        const ApplyResult first = applyConfig(config, *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY2(first.ok, qPrintable(first.error));
        // 1 provider + 1 model + 2 routes + 1 key + settings.
        QCOMPARE(first.changes, 6);

        QCOMPARE(m_store->routes(), config.routes);
        QCOMPARE(m_store->routes()[0].id, QStringLiteral("smart")); // the file's order
        QCOMPARE(m_store->providers(), config.providers);
        QCOMPARE(m_store->providers()[0].rpm, std::optional<int>(500));
        QCOMPARE(m_store->models(), config.models);
        QCOMPARE(m_store->models()[0].capabilities, std::optional<QStringList>(QStringList{QStringLiteral("tools")}));
        const auto agent = m_store->keyByName(QStringLiteral("agent"));
        QVERIFY(agent);
        QCOMPARE(agent->rpm, std::optional<int>(60));
        QCOMPARE(agent->tpm, std::optional<qint64>(100000));
        const GatewaySettings settings = loadGatewaySettings(*m_store);
        QCOMPARE(settings, *config.settings);
        QCOMPARE(settings.retry, (RetrySettings{5, 100, 2000, 3000}));
        QCOMPARE(settings.breaker, (BreakerSettings{4, 15000}));

        // Idempotent, also after a restart.
        const ApplyResult second = applyConfig(parse(kRouted), *m_store);
        QVERIFY2(second.ok, qPrintable(second.error));
        QCOMPARE(second.changes, 0);
        const QString path = m_store->path();
        m_store->close();
        QVERIFY(m_store->open(path));
        QCOMPARE(applyConfig(parse(kRouted), *m_store).changes, 0);

        // A route the window added (and its place) is kept; a changed route is updated in place; a
        // changed key limit is applied; one removed from the file is cleared (items are described
        // completely).
        const RouteConfig uiRoute{QStringLiteral("ui-made"), RouteStrategy::Fastest, {{QStringLiteral("openai/gpt-4.1"), 1}}};
        QVERIFY(m_store->saveRoute(uiRoute));
        QByteArray changed = kRouted;
        changed.replace("\"strategy\": \"cheapest\"", "\"strategy\": \"quality\"");
        changed.replace("\"rpm\": 60, \"tpm\": 100000", "\"rpm\": 120");
        const ApplyResult third = applyConfig(parse(changed), *m_store);
        QVERIFY2(third.ok, qPrintable(third.error));
        QCOMPARE(third.changes, 2); // the route and the key
        const QList<RouteConfig> routes = m_store->routes();
        QCOMPARE(routes.size(), 3);
        QCOMPARE(routes[0].id, QStringLiteral("smart"));
        QCOMPARE(routes[1].id, QStringLiteral("budget"));
        QCOMPARE(routes[1].strategy, RouteStrategy::Quality);
        QCOMPARE(routes[2], uiRoute);
        QCOMPARE(m_store->keyByName(QStringLiteral("agent"))->rpm, std::optional<int>(120));
        QVERIFY(!m_store->keyByName(QStringLiteral("agent"))->tpm);
        QCOMPARE(applyConfig(parse(changed), *m_store).changes, 0);
    }

    void routeAndModelIdsNeverClash()
    {
        // A route may not shadow a model the store already has...
        ModelConfig stored;
        stored.id = QStringLiteral("smart");
        stored.provider = QStringLiteral("openai");
        stored.upstreamModel = QStringLiteral("gpt-4.1");
        QVERIFY(m_store->saveModel(stored));
        ApplyResult result = applyConfig(parse(kRouted), *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY(!result.ok);
        QCOMPARE(result.error, QStringLiteral("gatehouse.json: routes[0].id: \"smart\" is already the id of a stored model; "
                                              "a route must not shadow a model"));
        // ... and nothing was written.
        QVERIFY(m_store->routes().isEmpty());
        QVERIFY(m_store->providers().isEmpty());
        QVERIFY(m_store->keys().isEmpty());
        QVERIFY(m_store->removeModel(stored.id));

        // Nor may a model in the file take the id of a stored route.
        QVERIFY(m_store->saveRoute(RouteConfig{QStringLiteral("mini"), RouteStrategy::Ordered, {{QStringLiteral("a/b"), 1}}}));
        result = applyConfig(parse("{\"providers\": [{\"id\": \"openai\", \"base_url\": \"https://api.openai.com/v1\"}],"
                                   " \"models\": [{\"id\": \"x\", \"provider\": \"openai\"}, {\"id\": \"mini\", \"provider\": \"openai\"}]}"),
                             *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY(!result.ok);
        QCOMPARE(result.error, QStringLiteral("gatehouse.json: models[1].id: \"mini\" is already the id of a stored route; "
                                              "a route and a model cannot share an id"));
        QVERIFY(m_store->models().isEmpty());

        // In one Config built without the parser (the window, say), the clash is caught too.
        Config config = parse(kRouted);
        ModelConfig clash = config.models.first();
        clash.id = QStringLiteral("budget");
        config.models.append(clash);
        result = applyConfig(config, *m_store);
        QVERIFY(!result.ok);
        QCOMPARE(result.error, QStringLiteral("routes[1].id: \"budget\" is also a model id (models[1]); a route must not shadow a model"));
    }

    void retryAndBreakerSettingsJson()
    {
        GatewaySettings custom;
        custom.retry = RetrySettings{7, 10, 20, 30};
        custom.breaker = BreakerSettings{9, 1234};
        custom.guardrails.repeatCount = 7;
        custom.guardrails.velocityFloor = kNanoPerUsd / 4;
        const QJsonObject json = gatewaySettingsToJson(custom);
        QCOMPARE(json.value(QStringLiteral("retry")).toObject().value(QStringLiteral("max_attempts")).toInt(), 7);
        QCOMPARE(json.value(QStringLiteral("breaker")).toObject().value(QStringLiteral("cooldown_ms")).toInt(), 1234);
        QCOMPARE(gatewaySettingsFromJson(json), custom);
        // Stored thresholds that are not valid any more read as the defaults, with a warning.
        QJsonObject badGuard = json;
        badGuard.insert(QStringLiteral("guardrails"), QJsonObject{{QStringLiteral("repeat_count"), -3}});
        QCOMPARE(gatewaySettingsFromJson(badGuard).guardrails, GuardrailThresholds{});

        // Settings stored before retries existed read as the defaults.
        m_store->setSetting(QLatin1String(kGatewaySettingsKey), QStringLiteral("{\"shutdown_grace_ms\": 10}"));
        GatewaySettings s = loadGatewaySettings(*m_store);
        QCOMPARE(s.retry, RetrySettings{});
        QCOMPARE(s.breaker, BreakerSettings{});
        QCOMPARE(s.shutdownGraceMs, 10);

        // Bad fields take their default, good ones are kept.
        m_store->setSetting(QLatin1String(kGatewaySettingsKey),
                            QStringLiteral("{\"retry\": {\"max_attempts\": 0, \"backoff_base_ms\": 5, \"backoff_max_ms\": -1,"
                                           " \"max_retry_after_ms\": 1.5}, \"breaker\": {\"failure_threshold\": 1000, \"cooldown_ms\": 99}}"));
        s = loadGatewaySettings(*m_store);
        QCOMPARE(s.retry.maxAttempts, RetrySettings{}.maxAttempts);
        QCOMPARE(s.retry.backoffBaseMs, 5);
        QCOMPARE(s.retry.backoffMaxMs, RetrySettings{}.backoffMaxMs);
        QCOMPARE(s.retry.maxRetryAfterMs, RetrySettings{}.maxRetryAfterMs);
        QCOMPARE(s.breaker.failureThreshold, BreakerSettings{}.failureThreshold);
        QCOMPARE(s.breaker.cooldownMs, 99);
        // A maximum below the base is raised to it.
        m_store->setSetting(QLatin1String(kGatewaySettingsKey),
                            QStringLiteral("{\"retry\": {\"backoff_base_ms\": 900, \"backoff_max_ms\": 100}}"));
        s = loadGatewaySettings(*m_store);
        QCOMPARE(s.retry.backoffBaseMs, 900);
        QCOMPARE(s.retry.backoffMaxMs, 900);
    }

    // Telemetry settings survive the store: the scrape token as its hash only, the OTLP headers with
    // their environment variable names (never a value read from them).
    void telemetrySettingsJson()
    {
        GatewaySettings custom;
        custom.metrics.tokenHash = hashSecret(QStringView(u"scrape-token-0123456789"));
        custom.otlp.endpoint = QUrl(QStringLiteral("http://127.0.0.1:4318/v1/traces"));
        // By name, as the config (a JSON object) lists them.
        custom.otlp.headers = {OtlpHeader{QStringLiteral("authorization"), {}, QStringLiteral("OTLP_AUTH")},
                               OtlpHeader{QStringLiteral("x-team"), QStringLiteral("platform"), {}}};
        custom.otlp.batchSize = 10;
        const QJsonObject json = gatewaySettingsToJson(custom);
        const QByteArray text = QJsonDocument(json).toJson();
        QVERIFY(!text.contains("scrape-token"));
        QVERIFY(text.contains("OTLP_AUTH"));
        QCOMPARE(gatewaySettingsFromJson(json), custom);
        QVERIFY(!gatewaySettingsFromJson(gatewaySettingsToJson(GatewaySettings{})).metrics.enabled());

        // A damaged hash or endpoint leaves the feature off.
        m_store->setSetting(QLatin1String(kGatewaySettingsKey),
                            QStringLiteral("{\"metrics\": {\"token_sha256\": \"abc\"}, \"otlp\": {\"endpoint\": \"not a url\"}}"));
        const GatewaySettings s = loadGatewaySettings(*m_store);
        QVERIFY(!s.metrics.enabled());
        QVERIFY(!s.otlp.enabled());
    }

    void closedStoreIsAnError()
    {
        m_store->close();
        const ApplyResult result = applyConfig(parse(kFull), *m_store, QStringLiteral("gatehouse.json"));
        QVERIFY(!result.ok);
        QCOMPARE(result.error, QStringLiteral("gatehouse.json: cannot apply: the store is not open"));
    }

private:
    static Config parse(const QByteArray &json)
    {
        ConfigError error;
        const auto config = parseConfig(json, QStringLiteral("gatehouse.json"), &error);
        if (!config)
            qFatal("test config does not parse: %s", qPrintable(error.toString()));
        return *config;
    }

    static inline const QByteArray kFull =
        "{\n"
        "  \"providers\": [\n"
        "    {\"id\": \"openai\", \"format\": \"openai\", \"base_url\": \"https://api.openai.com/v1\",\n"
        "     \"api_key_env\": \"OPENAI_API_KEY\"},\n"
        "    {\"id\": \"ollama\", \"base_url\": \"http://127.0.0.1:11434/v1\"}\n"
        "  ],\n"
        "  \"models\": [\n"
        "    {\"id\": \"openai/gpt-4.1-mini\", \"provider\": \"openai\",\n"
        "     \"pricing\": {\"input\": 0.4, \"output\": 1.6, \"cache_read\": 0.1, \"cache_write\": 0.0},\n"
        "     \"context_window\": 1047576, \"max_output_tokens\": 32768},\n"
        "    {\"id\": \"ollama/llama3\", \"provider\": \"ollama\"}\n"
        "  ],\n"
        "  \"keys\": [\n"
        "    {\"name\": \"scripts\", \"secret\": \"gk-local-example\", \"allow_models\": [\"openai/*\"],\n"
        "     \"limits\": {\"day_usd\": 2.0, \"week_usd\": 10.0, \"month_usd\": 30.0, \"total_usd\": null}},\n"
        "    {\"name\": \"cursor\", \"allow_unpriced\": true},\n"
        "    {\"name\": \"notebook\", \"allow_models\": [\"ollama/*\"]}\n"
        "  ],\n"
        "  \"settings\": {\"port\": 8787, \"allowed_origins\": [\"http://localhost:3000\"]}\n"
        "}\n";

    static inline const QByteArray kRouted =
        "{\n"
        "  \"providers\": [{\"id\": \"openai\", \"base_url\": \"https://api.openai.com/v1\", \"rpm\": 500, \"tpm\": 2000000}],\n"
        "  \"models\": [{\"id\": \"openai/gpt-4.1\", \"provider\": \"openai\", \"capabilities\": [\"tools\"]}],\n"
        "  \"keys\": [{\"name\": \"agent\", \"secret\": \"gk-agent-secret-1\", \"rpm\": 60, \"tpm\": 100000}],\n"
        "  \"routes\": [\n"
        "    {\"id\": \"smart\", \"targets\": [{\"model\": \"anthropic/claude-sonnet-4-5\"}, {\"model\": \"openai/gpt-4.1\"}]},\n"
        "    {\"id\": \"budget\", \"strategy\": \"cheapest\",\n"
        "     \"targets\": [{\"model\": \"openai/gpt-4.1-mini\", \"weight\": 3}, {\"model\": \"openai/gpt-4.1-nano\", \"weight\": 0}]}\n"
        "  ],\n"
        "  \"settings\": {\"retry\": {\"max_attempts\": 5, \"backoff_base_ms\": 100, \"backoff_max_ms\": 2000,\n"
        "                \"max_retry_after_ms\": 3000}, \"breaker\": {\"failure_threshold\": 4, \"cooldown_ms\": 15000}}\n"
        "}\n";

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store> m_store;
};

QTEST_GUILESS_MAIN(TestConfigApply)
#include "tst_configapply.moc"
