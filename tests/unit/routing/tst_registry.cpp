// Model resolution, key allow-lists and how config models merge with the bundled catalog.
#include "pricing/pricecatalog.h"
#include "routing/registry.h"
#include <QTest>

using gh::KeyEntry;
using gh::ModelConfig;
using gh::ModelEntry;
using gh::ProviderConfig;
using gh::ProviderFormat;
using gh::Registry;
using gh::RegistrySnapshot;
using ResolveError = gh::RegistrySnapshot::ResolveError;

namespace {

ProviderConfig provider(const QString &id, const QString &url, bool enabled = true, const QString &catalog = {},
    ProviderFormat format = ProviderFormat::OpenAI)
{
    ProviderConfig p;
    p.id = id;
    p.baseUrl = QUrl(url);
    p.enabled = enabled;
    p.catalog = catalog;
    p.format = format;
    return p;
}

ModelConfig model(const QString &id, const QString &providerId, const QString &upstream,
    std::optional<double> input = {}, std::optional<double> output = {})
{
    ModelConfig m;
    m.id = id;
    m.provider = providerId;
    m.upstreamModel = upstream;
    m.price.input = input;
    m.price.output = output;
    return m;
}

std::shared_ptr<const RegistrySnapshot> build(
    const QList<ProviderConfig> &providers, const QList<ModelConfig> &models = {}, QStringList *warnings = nullptr)
{
    return Registry::build(providers, models, {}, {}, {}, warnings);
}

const QString kOpenAI = QStringLiteral("https://api.openai.com/v1");

// The catalog models a provider of `vendor` offers: all but the deprecated ones.
QList<gh::CatalogModel> offered(const QString &vendor)
{
    QList<gh::CatalogModel> out;
    for (const gh::CatalogModel &c : gh::PriceCatalog::bundled().models(vendor)) {
        if (!c.deprecated)
            out.append(c);
    }
    return out;
}

} // namespace

class TestRegistry : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void catalogIsBundled()
    {
        const gh::PriceCatalog &c = gh::PriceCatalog::bundled();
        QVERIFY(c.size() > 20);
        QVERIFY(c.find(QStringLiteral("openai"), QStringLiteral("gpt-4.1-mini")));
    }

    void catalogModelsForKnownVendors()
    {
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
            provider(QStringLiteral("gemini"),
                QStringLiteral("https://generativelanguage.googleapis.com/v1beta/openai"), true,
                QStringLiteral("google")),
            provider(QStringLiteral("ollama"), QStringLiteral("http://127.0.0.1:11434/v1"))});
        const auto openaiModels = offered(QStringLiteral("openai"));
        const auto googleModels = offered(QStringLiteral("google"));
        QCOMPARE(snap->models.size(), openaiModels.size() + googleModels.size()); // ollama: no catalog vendor
        for (const gh::CatalogModel &c : openaiModels) {
            const QString id = QStringLiteral("openai/") + c.name;
            QVERIFY2(snap->models.contains(id), qPrintable(id));
            const ModelEntry &e = snap->models[id];
            QCOMPARE(e.config.upstreamModel, c.name);
            QCOMPARE(e.config.provider, QStringLiteral("openai"));
            QCOMPARE(e.config.price, c.price);
            QCOMPARE(e.config.contextWindow, c.contextWindow);
            QCOMPARE(e.config.maxOutputTokens, c.maxOutputTokens);
            QVERIFY(e.config.fromCatalog);
            QVERIFY(e.listed);
            QCOMPARE(e.provider->config.id, QStringLiteral("openai"));
        }
        // A provider whose id differs from its catalog vendor gets the vendor's models under its own id.
        QVERIFY(snap->models.contains(QStringLiteral("gemini/gemini-2.5-flash")));
        QVERIFY(!snap->models.contains(QStringLiteral("google/gemini-2.5-flash")));
        // The order for /v1/models is sorted and complete.
        QStringList sorted = snap->models.keys();
        sorted.sort();
        QCOMPARE(snap->modelOrder, sorted);
        QCOMPARE(snap->idsByUpstream.value(QStringLiteral("gpt-4.1-mini")),
            QStringList{QStringLiteral("openai/gpt-4.1-mini")});
    }

    void providerEntries()
    {
        QHash<QString, Registry::ProviderSecret> secrets;
        secrets.insert(QStringLiteral("openai"), {QStringLiteral("sk-test"), QStringLiteral("env:OPENAI_API_KEY")});
        secrets.insert(QStringLiteral("claude"), {QStringLiteral("sk-ant"), QStringLiteral("keychain")});
        secrets.insert(QStringLiteral("gem"), {QStringLiteral("AIza"), QStringLiteral("keychain")});
        const auto snap = Registry::build(
            {provider(QStringLiteral("openai"), kOpenAI),
                provider(QStringLiteral("local"), QStringLiteral("http://127.0.0.1:11434/v1//")),
                provider(QStringLiteral("bare"), QStringLiteral("http://localhost")),
                provider(QStringLiteral("v6"), QStringLiteral("http://[::1]:8080/api/v1/")),
                provider(QStringLiteral("claude"), QStringLiteral("https://api.anthropic.com/v1"), true, {},
                    ProviderFormat::Anthropic),
                provider(QStringLiteral("gem"), QStringLiteral("https://generativelanguage.googleapis.com:8443/v1beta"),
                    true, {}, ProviderFormat::Gemini)},
            {}, {}, {}, secrets);
        QCOMPARE(snap->providers.size(), 6);
        const auto &openai = *snap->providers[QStringLiteral("openai")];
        QCOMPARE(openai.host, QByteArray("api.openai.com"));
        QCOMPARE(openai.port, quint16(443));
        QVERIFY(openai.tls);
        QCOMPARE(openai.basePath, QByteArray("/v1"));
        QCOMPARE(openai.authName, QByteArray("authorization"));
        QCOMPARE(openai.authValue, QByteArray("Bearer sk-test"));
        QCOMPARE(openai.keySource, QStringLiteral("env:OPENAI_API_KEY"));

        const auto &local = *snap->providers[QStringLiteral("local")];
        QCOMPARE(local.host, QByteArray("127.0.0.1"));
        QCOMPARE(local.port, quint16(11434));
        QVERIFY(!local.tls);
        QCOMPARE(local.basePath, QByteArray("/v1"));
        QVERIFY(local.authName.isEmpty());
        QVERIFY(local.authValue.isEmpty());
        QVERIFY(local.keySource.isEmpty());

        const auto &bare = *snap->providers[QStringLiteral("bare")];
        QCOMPARE(bare.port, quint16(80));
        QCOMPARE(bare.basePath, QByteArray());

        const auto &v6 = *snap->providers[QStringLiteral("v6")];
        QCOMPARE(v6.host, QByteArray("::1"));
        QCOMPARE(v6.port, quint16(8080));
        QCOMPARE(v6.basePath, QByteArray("/api/v1"));

        const auto &claude = *snap->providers[QStringLiteral("claude")];
        QCOMPARE(claude.authName, QByteArray("x-api-key"));
        QCOMPARE(claude.authValue, QByteArray("sk-ant"));
        const auto &gem = *snap->providers[QStringLiteral("gem")];
        QCOMPARE(gem.authName, QByteArray("x-goog-api-key"));
        QCOMPARE(gem.port, quint16(8443));
    }

    void resolveListedIds()
    {
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI)});
        ResolveError error = ResolveError::Unknown;
        const auto m = snap->resolve(QStringLiteral("openai/gpt-4.1-mini"), &error);
        QVERIFY(m);
        QCOMPARE(error, ResolveError::None);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-4.1-mini"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("gpt-4.1-mini"));
        QVERIFY(m->listed);
        QVERIFY(m->config.price.isPriced());
        QCOMPARE(m->provider->config.id, QStringLiteral("openai"));
        // Without the optional out-parameters.
        QVERIFY(snap->resolve(QStringLiteral("openai/o3")));
        // Case matters: ids are exact.
        QVERIFY(!snap->resolve(QStringLiteral("OpenAI/gpt-4.1-mini"), &error));
        QCOMPARE(error, ResolveError::Unknown);
    }

    void resolveBareUpstreamNames()
    {
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
            provider(QStringLiteral("deepseek"), QStringLiteral("https://api.deepseek.com/v1"))});
        ResolveError error = ResolveError::Unknown;
        auto m = snap->resolve(QStringLiteral("gpt-4.1-mini"), &error);
        QVERIFY(m);
        QCOMPARE(error, ResolveError::None);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-4.1-mini"));
        m = snap->resolve(QStringLiteral("deepseek-chat"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.id, QStringLiteral("deepseek/deepseek-chat"));
        QCOMPARE(m->provider->config.id, QStringLiteral("deepseek"));
        // A bare name nobody offers.
        QVERIFY(!snap->resolve(QStringLiteral("llama3"), &error));
        QCOMPARE(error, ResolveError::Unknown);
        QVERIFY(!snap->resolve(QString(), &error));
        QCOMPARE(error, ResolveError::Unknown);
        // A dated snapshot the catalog does not list by that name: OpenAI's family, sent as asked and
        // priced by the catalog's match rules.
        m = snap->resolve(QStringLiteral("gpt-4.1-mini-2025-04-14"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-4.1-mini-2025-04-14"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("gpt-4.1-mini-2025-04-14"));
        QVERIFY(!m->listed);
        QCOMPARE(m->config.price, gh::PriceCatalog::bundled().find(QStringLiteral("openai"), QStringLiteral("gpt-4.1-mini"))->price);
    }

    void ambiguousNames()
    {
        // A second provider that offers OpenAI's catalog too: the first of the vendor's providers in
        // the config's order serves a bare name.
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
            provider(QStringLiteral("azure"), QStringLiteral("https://example.openai.azure.com/openai/v1"), true,
                QStringLiteral("openai"))});
        ResolveError error = ResolveError::None;
        QStringList candidates;
        auto first = snap->resolve(QStringLiteral("gpt-4o"), &error, &candidates);
        QVERIFY(first);
        QCOMPARE(first->config.id, QStringLiteral("openai/gpt-4o"));
        const auto reversed = build({provider(QStringLiteral("azure"), QStringLiteral("https://example.openai.azure.com/openai/v1"), true,
                                         QStringLiteral("openai")),
            provider(QStringLiteral("openai"), kOpenAI)});
        QCOMPARE(reversed->resolve(QStringLiteral("gpt-4o"))->config.id, QStringLiteral("azure/gpt-4o"));
        // A family name the catalog does not list either: the same rule.
        QCOMPARE(reversed->resolve(QStringLiteral("gpt-9-experimental"))->config.id, QStringLiteral("azure/gpt-9-experimental"));
        // Pinned: the named provider.
        QCOMPARE(snap->resolve(QStringLiteral("gpt-4o"), &error, nullptr, QStringLiteral("azure"))->config.id,
                 QStringLiteral("azure/gpt-4o"));
        QVERIFY(!snap->resolve(QStringLiteral("gpt-4o"), &error, nullptr, QStringLiteral("nobody")));
        QCOMPARE(error, ResolveError::Unknown);

        // Two providers of no catalog vendor listing the same name: ambiguous.
        const auto locals = build({provider(QStringLiteral("lm"), QStringLiteral("http://127.0.0.1:1/v1")),
                                      provider(QStringLiteral("ol"), QStringLiteral("http://127.0.0.1:2/v1"))},
            {model(QStringLiteral("lm/qwen"), QStringLiteral("lm"), QStringLiteral("qwen"), 0.0, 0.0),
                model(QStringLiteral("ol/qwen"), QStringLiteral("ol"), QStringLiteral("qwen"), 0.0, 0.0)});
        QVERIFY(!locals->resolve(QStringLiteral("qwen"), &error, &candidates));
        QCOMPARE(error, ResolveError::Ambiguous);
        QCOMPARE(candidates, (QStringList{QStringLiteral("lm/qwen"), QStringLiteral("ol/qwen")}));
        QCOMPARE(locals->resolve(QStringLiteral("qwen"), &error, nullptr, QStringLiteral("ol"))->config.id, QStringLiteral("ol/qwen"));
        // Naming the provider resolves it.
        auto m = snap->resolve(QStringLiteral("azure/gpt-4o"), &error, &candidates);
        QVERIFY(m);
        QCOMPARE(error, ResolveError::None);
        QCOMPARE(m->provider->config.id, QStringLiteral("azure"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("gpt-4o"));
        // Without the candidates pointer.
        QVERIFY(!locals->resolve(QStringLiteral("qwen"), &error));
        QCOMPARE(error, ResolveError::Ambiguous);
    }

    // A disabled provider does not offer its models, so it does not make a name ambiguous either.
    void disabledProviders()
    {
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
            provider(QStringLiteral("azure"), QStringLiteral("https://example.openai.azure.com/openai/v1"), false,
                QStringLiteral("openai")),
            provider(QStringLiteral("deepseek"), QStringLiteral("https://api.deepseek.com/v1"), false)});
        ResolveError error = ResolveError::None;
        QStringList candidates;
        auto m = snap->resolve(QStringLiteral("gpt-4o"), &error, &candidates);
        QVERIFY(m);
        QCOMPARE(error, ResolveError::None);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-4o"));
        QVERIFY(!snap->resolve(QStringLiteral("azure/gpt-4o"), &error));
        QCOMPARE(error, ResolveError::ProviderDisabled);
        QVERIFY(!snap->resolve(QStringLiteral("azure/some-deployment"), &error));
        QCOMPARE(error, ResolveError::ProviderDisabled);
        QVERIFY(!snap->resolve(QStringLiteral("deepseek-chat"), &error));
        QCOMPARE(error, ResolveError::ProviderDisabled);
        QVERIFY(!snap->resolve(QStringLiteral("deepseek/deepseek-chat"), &error));
        QCOMPARE(error, ResolveError::ProviderDisabled);
        // A later successful resolve resets the error.
        QVERIFY(snap->resolve(QStringLiteral("openai/gpt-4o"), &error));
        QCOMPARE(error, ResolveError::None);
    }

    void unlistedModels()
    {
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
            provider(QStringLiteral("ollama"), QStringLiteral("http://127.0.0.1:11434/v1")),
            provider(QStringLiteral("openrouter"), QStringLiteral("https://openrouter.ai/api/v1"))});
        ResolveError error = ResolveError::None;
        auto m = snap->resolve(QStringLiteral("openai/gpt-99-preview"), &error);
        QVERIFY(m);
        QCOMPARE(error, ResolveError::None);
        QVERIFY(!m->listed);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-99-preview"));
        QCOMPARE(m->config.provider, QStringLiteral("openai"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("gpt-99-preview"));
        QVERIFY(!m->config.price.isPriced()); // unknown price: unpriced, never $0
        QCOMPARE(m->provider->config.id, QStringLiteral("openai"));

        m = snap->resolve(QStringLiteral("ollama/llama3.2:3b"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.upstreamModel, QStringLiteral("llama3.2:3b"));
        QVERIFY(!m->listed);
        // Everything after the first slash is the upstream name.
        m = snap->resolve(QStringLiteral("openrouter/meta-llama/llama-3.3-70b-instruct"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.provider, QStringLiteral("openrouter"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("meta-llama/llama-3.3-70b-instruct"));

        for (const QString &name : {QStringLiteral("openai/"), QStringLiteral("/gpt-4o"),
                 QStringLiteral("nobody/gpt-4o"), QStringLiteral("/"), QStringLiteral("OPENAI/gpt-4o")}) {
            QVERIFY2(!snap->resolve(name, &error), qPrintable(name));
            QCOMPARE(error, ResolveError::Unknown);
        }
        // Unlisted models do not appear in the listings.
        QVERIFY(!snap->models.contains(QStringLiteral("openai/gpt-99-preview")));
        QVERIFY(!snap->modelOrder.contains(QStringLiteral("openai/gpt-99-preview")));
    }

    void configOverridesCatalog()
    {
        ModelConfig cheaper
            = model(QStringLiteral("openai/gpt-4o"), QStringLiteral("openai"), QStringLiteral("gpt-4o"), 1.0, 2.0);
        cheaper.contextWindow = 1000;
        ModelConfig noPrice
            = model(QStringLiteral("openai/gpt-4.1"), QStringLiteral("openai"), QStringLiteral("gpt-4.1"));
        ModelConfig alias
            = model(QStringLiteral("openai/fast"), QStringLiteral("openai"), QStringLiteral("gpt-4.1-mini-2025-04-14"));
        alias.maxOutputTokens = 100;
        ModelConfig cacheOnly = model(QStringLiteral("openai/o3"), QStringLiteral("openai"), QStringLiteral("o3"));
        cacheOnly.price.cacheRead = 0.05;
        ModelConfig inputOnly
            = model(QStringLiteral("openai/o4-mini"), QStringLiteral("openai"), QStringLiteral("o4-mini"), 9.0);
        ModelConfig unknown
            = model(QStringLiteral("openai/secret-model"), QStringLiteral("openai"), QStringLiteral("secret-model"));
        ModelConfig free
            = model(QStringLiteral("local/qwen"), QStringLiteral("local"), QStringLiteral("qwen2.5:7b"), 0.0, 0.0);
        ModelConfig orphan = model(QStringLiteral("ghost/x"), QStringLiteral("ghost"), QStringLiteral("x"), 1.0, 1.0);

        QStringList warnings;
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
                                    provider(QStringLiteral("local"), QStringLiteral("http://127.0.0.1:1234/v1"))},
            {cheaper, noPrice, alias, cacheOnly, inputOnly, unknown, free, orphan}, &warnings);
        const gh::PriceCatalog &catalog = gh::PriceCatalog::bundled();
        Q_UNUSED(catalog);
        auto catalogModel
            = [&](const char *name) { return *catalog.find(QStringLiteral("openai"), QString::fromLatin1(name)); };

        // Explicit prices win; the missing limits come from the catalog.
        const ModelEntry &c = snap->models[QStringLiteral("openai/gpt-4o")];
        QCOMPARE(c.config.price.input, std::optional<double>(1.0));
        QCOMPARE(c.config.price.output, std::optional<double>(2.0));
        QCOMPARE(c.config.price.cacheRead, std::nullopt);
        QCOMPARE(c.config.contextWindow, 1000);
        QCOMPARE(c.config.maxOutputTokens, catalogModel("gpt-4o").maxOutputTokens);
        QVERIFY(!c.config.fromCatalog);
        QVERIFY(c.listed);

        // No pricing: the catalog's.
        const ModelEntry &n = snap->models[QStringLiteral("openai/gpt-4.1")];
        QCOMPARE(n.config.price, catalogModel("gpt-4.1").price);
        QCOMPARE(n.config.contextWindow, catalogModel("gpt-4.1").contextWindow);

        // An alias of a dated snapshot finds the catalog entry by the catalog's match rules.
        const ModelEntry &a = snap->models[QStringLiteral("openai/fast")];
        QCOMPARE(a.config.price, catalogModel("gpt-4.1-mini").price);
        QCOMPARE(a.config.maxOutputTokens, 100);
        QCOMPARE(a.config.upstreamModel, QStringLiteral("gpt-4.1-mini-2025-04-14"));

        // Only a cache price given: input/output from the catalog, the given cache price kept.
        const ModelEntry &o = snap->models[QStringLiteral("openai/o3")];
        QCOMPARE(o.config.price.input, catalogModel("o3").price.input);
        QCOMPARE(o.config.price.output, catalogModel("o3").price.output);
        QCOMPARE(o.config.price.cacheRead, std::optional<double>(0.05));

        // An explicit partial price is the user's: not silently completed (and so unpriced).
        const ModelEntry &i = snap->models[QStringLiteral("openai/o4-mini")];
        QCOMPARE(i.config.price.input, std::optional<double>(9.0));
        QCOMPARE(i.config.price.output, std::nullopt);
        QVERIFY(!i.config.price.isPriced());

        // Not in the catalog and no price: unpriced but listed.
        const ModelEntry &u = snap->models[QStringLiteral("openai/secret-model")];
        QVERIFY(!u.config.price.isPriced());
        QVERIFY(u.listed);

        // A free local model is priced at 0.
        const ModelEntry &f = snap->models[QStringLiteral("local/qwen")];
        QVERIFY(f.config.price.isPriced());
        QCOMPARE(f.config.price.input, std::optional<double>(0.0));
        QVERIFY(snap->resolve(QStringLiteral("qwen2.5:7b")));

        // A model of an unknown provider is skipped with a warning.
        QVERIFY(!snap->models.contains(QStringLiteral("ghost/x")));
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(warnings.first().contains(QStringLiteral("ghost")), qPrintable(warnings.first()));

        // The catalog entry of the aliased snapshot stays, and the config override replaced (not
        // duplicated) the catalog's own gpt-4o.
        QVERIFY(snap->models.contains(QStringLiteral("openai/gpt-4.1-mini")));
        QCOMPARE(snap->idsByUpstream.value(QStringLiteral("gpt-4o")), QStringList{QStringLiteral("openai/gpt-4o")});
        // The catalog's openai models, plus openai/fast, openai/secret-model and local/qwen.
        QCOMPARE(snap->models.size(), offered(QStringLiteral("openai")).size() + 3);
    }

    // One provider offering the same upstream model under two ids is not ambiguous.
    void aliasOfTheSameProvider()
    {
        ModelConfig alias
            = model(QStringLiteral("openai/fast"), QStringLiteral("openai"), QStringLiteral("gpt-4.1-mini"), 0.1, 0.2);
        ModelConfig alias2 = model(QStringLiteral("local/a"), QStringLiteral("local"), QStringLiteral("m"), 0.0, 0.0);
        ModelConfig alias3 = model(QStringLiteral("local/b"), QStringLiteral("local"), QStringLiteral("m"), 0.0, 0.0);
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI),
                                    provider(QStringLiteral("local"), QStringLiteral("http://127.0.0.1:1/v1"))},
            {alias, alias2, alias3});
        ResolveError error = ResolveError::None;
        auto m = snap->resolve(QStringLiteral("gpt-4.1-mini"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.id, QStringLiteral("openai/gpt-4.1-mini")); // the canonical id
        m = snap->resolve(QStringLiteral("openai/fast"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.price.input, std::optional<double>(0.1));
        m = snap->resolve(QStringLiteral("m"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.id, QStringLiteral("local/a")); // no canonical id: the first, deterministically
    }

    void globs_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("match");
        QTest::newRow("exact") << "openai/gpt-4o"
                               << "openai/gpt-4o" << true;
        QTest::newRow("exact differs") << "openai/gpt-4o"
                                       << "openai/gpt-4o-mini" << false;
        QTest::newRow("prefix star") << "openai/*"
                                     << "openai/gpt-4o" << true;
        QTest::newRow("prefix star other provider") << "openai/*"
                                                    << "anthropic/claude" << false;
        QTest::newRow("star matches empty") << "openai/*"
                                            << "openai/" << true;
        QTest::newRow("star matches slashes") << "openrouter/*"
                                              << "openrouter/meta-llama/llama-3" << true;
        QTest::newRow("infix") << "*mini*"
                               << "openai/gpt-4.1-mini-2025" << true;
        QTest::newRow("infix no") << "*mini*"
                                  << "openai/gpt-4.1" << false;
        QTest::newRow("question") << "openai/o?"
                                  << "openai/o3" << true;
        QTest::newRow("question needs one") << "openai/o?"
                                            << "openai/o" << false;
        QTest::newRow("question exactly one") << "openai/o?"
                                              << "openai/o3-pro" << false;
        QTest::newRow("backtracking") << "a*ab"
                                      << "aaab" << true;
        QTest::newRow("backtracking 2") << "*a*b*c"
                                        << "xaxbxbxc" << true;
        QTest::newRow("backtracking fail") << "a*b*c"
                                           << "aXbYd" << false;
        QTest::newRow("double star") << "**"
                                     << "" << true;
        QTest::newRow("star only") << "*"
                                   << "anything/at/all" << true;
        QTest::newRow("empty pattern") << ""
                                       << "" << true;
        QTest::newRow("empty pattern vs text") << ""
                                               << "a" << false;
        QTest::newRow("case sensitive") << "OpenAI/*"
                                        << "openai/gpt-4o" << false;
        QTest::newRow("trailing text") << "openai/gpt"
                                       << "openai/gpt-4o" << false;
        QTest::newRow("unicode") << QStringLiteral("local/\u6a21*") << QStringLiteral("local/\u6a21\u578b") << true;
        QTest::newRow("dots literal") << "openai/gpt-4.1"
                                      << "openai/gpt-401" << false;
    }
    void globs()
    {
        QFETCH(QString, pattern);
        QFETCH(QString, text);
        QFETCH(bool, match);
        QCOMPARE(gh::globMatch(pattern, text), match);
    }

    void keyAllows()
    {
        KeyEntry all;
        QVERIFY(all.allows(QStringLiteral("anything/at-all")));
        KeyEntry k;
        k.allowModels = {QStringLiteral("openai/*"), QStringLiteral("anthropic/claude-*-4*")};
        QVERIFY(k.allows(QStringLiteral("openai/gpt-4o")));
        QVERIFY(k.allows(QStringLiteral("anthropic/claude-sonnet-4-5")));
        QVERIFY(!k.allows(QStringLiteral("anthropic/claude-3-haiku")));
        QVERIFY(!k.allows(QStringLiteral("gpt-4o"))); // checked against the resolved id, never the bare name
        QVERIFY(!k.allows(QString()));
    }

    void keysByHash()
    {
        KeyEntry a;
        a.id = 1;
        a.name = QStringLiteral("scripts");
        KeyEntry b;
        b.id = 2;
        b.name = QStringLiteral("cursor");
        b.paused = true;
        const QByteArray ha(32, '\x01');
        const QByteArray hb(32, '\x02');
        const auto snap = Registry::build({}, {}, {a, b}, {ha, hb}, {});
        QCOMPARE(snap->keysByHash.size(), 2);
        const KeyEntry *ka = snap->keyByHash(ha);
        QVERIFY(ka);
        QCOMPARE(ka->name, QStringLiteral("scripts"));
        const KeyEntry *kb = snap->keyByHash(hb);
        QVERIFY(kb);
        QVERIFY(kb->paused);
        QVERIFY(!snap->keyByHash(QByteArray(32, '\x03')));
        QVERIFY(!snap->keyByHash(QByteArray()));
        // Mismatched lists: only the pairs that exist.
        const auto partial = Registry::build({}, {}, {a, b}, {ha}, {});
        QCOMPARE(partial->keysByHash.size(), 1);
    }

    void snapshotSwap()
    {
        Registry r;
        const auto empty = r.snapshot();
        QVERIFY(empty);
        QVERIFY(empty->models.isEmpty());
        QVERIFY(!empty->resolve(QStringLiteral("openai/gpt-4o")));
        const auto next = build({provider(QStringLiteral("openai"), kOpenAI)});
        r.setSnapshot(next);
        QCOMPARE(r.snapshot().get(), next.get());
        // The old snapshot stays usable by whoever still holds it.
        QVERIFY(empty->models.isEmpty());
        QVERIFY(r.snapshot()->resolve(QStringLiteral("openai/gpt-4o")));
    }

    void emptyConfiguration()
    {
        const auto snap = build({});
        ResolveError error = ResolveError::None;
        QVERIFY(!snap->resolve(QStringLiteral("gpt-4o"), &error));
        QCOMPARE(error, ResolveError::Unknown);
        QVERIFY(snap->modelOrder.isEmpty());
        QVERIFY(snap->routes.isEmpty() && snap->routeOrder.isEmpty() && snap->votes.isEmpty());
    }

    void catalogCapabilities()
    {
        // The catalog (genai-prices) does not say what a model can do: catalog models have unknown
        // capabilities (assumed able), and the config's list is the only source.
        const auto snap = build({provider(QStringLiteral("openai"), kOpenAI)},
                                {model(QStringLiteral("openai/own"), QStringLiteral("openai"), QStringLiteral("own-model")),
                                 [] {
                                     ModelConfig m = model(QStringLiteral("openai/o3-plain"), QStringLiteral("openai"), QStringLiteral("o3"));
                                     m.capabilities = QStringList{QStringLiteral("reasoning")};
                                     return m;
                                 }()});
        const ModelEntry e = snap->models.value(QStringLiteral("openai/text-embedding-3-small"));
        QVERIFY(e.config.fromCatalog);
        QVERIFY(!e.config.capabilities);
        QCOMPARE(snap->models.value(QStringLiteral("openai/o3-plain")).config.capabilities,
                 std::optional<QStringList>(QStringList{QStringLiteral("reasoning")}));
        // The file's price-less entry still takes the catalog's price.
        QCOMPARE(snap->models.value(QStringLiteral("openai/o3-plain")).config.price,
                 gh::PriceCatalog::bundled().find(QStringLiteral("openai"), QStringLiteral("o3"))->price);
        QVERIFY(!snap->models.value(QStringLiteral("openai/own")).config.capabilities);
        QVERIFY(snap->models.value(QStringLiteral("openai/own")).config.can(u"vision"));
    }

    // Config aliases: globs in order, the first match wins; the rest of the name resolution follows.
    void aliases()
    {
        const QList<gh::ModelAlias> aliases{{QStringLiteral("claude-opus-*"), QStringLiteral("smart")},
                                            {QStringLiteral("claude-*"), QStringLiteral("deepseek/deepseek-chat")}};
        const auto snap = Registry::build({provider(QStringLiteral("deepseek"), QStringLiteral("https://api.deepseek.com/v1"))}, {}, {}, {}, {},
                                          nullptr, {}, {}, aliases);
        QCOMPARE(snap->applyAliases(QStringLiteral("claude-opus-4-8")), QStringLiteral("smart"));
        QCOMPARE(snap->applyAliases(QStringLiteral("claude-haiku-4-5")), QStringLiteral("deepseek/deepseek-chat"));
        QCOMPARE(snap->applyAliases(QStringLiteral("gpt-5")), QStringLiteral("gpt-5"));
        QCOMPARE(snap->aliases, aliases);
    }

    // Bare names of a vendor's family and the aggregator fallback.
    void families()
    {
        const auto snap = build({provider(QStringLiteral("work"), QStringLiteral("https://api.anthropic.com/v1"), true,
                                          QStringLiteral("anthropic"), ProviderFormat::Anthropic),
                                 provider(QStringLiteral("g"), QStringLiteral("https://generativelanguage.googleapis.com/v1beta"), true,
                                          QStringLiteral("google"), ProviderFormat::Gemini)});
        ResolveError error = ResolveError::None;
        // Listed by both (Google lists Claude for Vertex): the vendor's own provider wins.
        QCOMPARE(snap->resolve(QStringLiteral("claude-opus-4-8"), &error)->config.id, QStringLiteral("work/claude-opus-4-8"));
        auto m = snap->resolve(QStringLiteral("claude-sonnet-4-5-20250929"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.provider, QStringLiteral("work"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("claude-sonnet-4-5-20250929"));
        QCOMPARE(m->config.price.input, std::optional<double>(3));
        m = snap->resolve(QStringLiteral("claude-nova-7"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.provider, QStringLiteral("work"));
        QVERIFY(!m->config.price.isPriced());
        QCOMPARE(snap->resolve(QStringLiteral("gemini-2.5-pro"))->config.provider, QStringLiteral("g"));
        QVERIFY(!snap->resolve(QStringLiteral("gpt-5"), &error)); // no OpenAI provider
        QCOMPARE(error, ResolveError::Unknown);
        QCOMPARE(snap->servedFamilies(), (QStringList{QStringLiteral("anthropic"), QStringLiteral("google")}));

        // Only OpenRouter: Claude as anthropic/… in its naming, priced as OpenRouter's model.
        const auto router = build({provider(QStringLiteral("openrouter"), QStringLiteral("https://openrouter.ai/api/v1"))});
        m = router->resolve(QStringLiteral("claude-opus-4-8"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.provider, QStringLiteral("openrouter"));
        QCOMPARE(m->config.upstreamModel, QStringLiteral("anthropic/claude-opus-4.8"));
        QCOMPARE(m->config.price.input, std::optional<double>(5));
        m = router->resolve(QStringLiteral("claude-haiku-4-5-20251001"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.upstreamModel, QStringLiteral("anthropic/claude-haiku-4.5"));
        m = router->resolve(QStringLiteral("claude-nova-7-1"), &error);
        QVERIFY(m);
        QCOMPARE(m->config.upstreamModel, QStringLiteral("anthropic/claude-nova-7.1"));
        QVERIFY(!m->config.price.isPriced());
    }

    // anthropic/claude-opus-4-8 was priced as claude-opus-4 by prefix (3x); now as itself.
    void providerSlashModelIsPricedByTheMatchRules()
    {
        const auto snap = build({provider(QStringLiteral("anthropic"), QStringLiteral("https://api.anthropic.com/v1"), true, {},
                                          ProviderFormat::Anthropic)});
        auto m = snap->resolve(QStringLiteral("anthropic/claude-opus-4-8-20261001"));
        QVERIFY(m);
        QCOMPARE(m->config.price.input, std::optional<double>(5));
        QCOMPARE(m->config.price.output, std::optional<double>(25));
        m = snap->resolve(QStringLiteral("anthropic/claude-opus-4-9"));
        QVERIFY(m);
        QVERIFY(!m->config.price.isPriced());
    }

    void localProvidersArePricedZero()
    {
        ProviderConfig local = provider(QStringLiteral("ollama"), QStringLiteral("http://127.0.0.1:11434/v1"));
        local.local = true;
        const ProviderConfig remote = provider(QStringLiteral("lan"), QStringLiteral("http://127.0.0.1:9999/v1"));
        const auto snap = build({local, remote},
            {model(QStringLiteral("ollama/llama3"), QStringLiteral("ollama"), QStringLiteral("llama3")),
             model(QStringLiteral("ollama/priced"), QStringLiteral("ollama"), QStringLiteral("priced"), 0.5, 1.0),
             model(QStringLiteral("lan/x"), QStringLiteral("lan"), QStringLiteral("x"))});
        // Listed without a price: $0, known.
        const gh::ModelPrice listed = snap->models.value(QStringLiteral("ollama/llama3")).config.price;
        QVERIFY(listed.isPriced());
        QCOMPARE(*listed.input, 0.0);
        QCOMPARE(*listed.output, 0.0);
        // The user's own price wins.
        QCOMPARE(snap->models.value(QStringLiteral("ollama/priced")).config.price.input.value_or(-1), 0.5);
        // Any other model of the local server: $0 as well.
        const auto unlisted = snap->resolve(QStringLiteral("ollama/qwen2.5:7b"));
        QVERIFY(unlisted && unlisted->config.price.isPriced());
        QCOMPARE(unlisted->config.price.output.value_or(-1), 0.0);
        // A provider not marked local stays unpriced: a wrong number is worse than a missing one.
        QVERIFY(!snap->models.value(QStringLiteral("lan/x")).config.price.isPriced());
        QVERIFY(!snap->resolve(QStringLiteral("lan/y"))->config.price.isPriced());
    }

    void routesAndVotes()
    {
        using gh::RouteConfig;
        using gh::RouteStrategy;
        const RouteConfig smart{QStringLiteral("smart"), RouteStrategy::Ordered,
                                {{QStringLiteral("anthropic/claude-sonnet-4-5"), 1}, {QStringLiteral("openai/gpt-4.1"), 2}}};
        const RouteConfig cheap{QStringLiteral("cheap"), RouteStrategy::Cheapest, {{QStringLiteral("openai/gpt-4.1-mini"), 1}}};
        // Same id as a listed model: dropped, the model wins.
        const RouteConfig shadow{QStringLiteral("llama"), RouteStrategy::Ordered, {{QStringLiteral("openai/gpt-4.1"), 1}}};
        const QHash<QString, gh::VoteStats> votes{{QStringLiteral("openai/gpt-4.1"), gh::VoteStats{10, 6, 1}},
                                                  {QStringLiteral("anthropic/claude-sonnet-4-5"), gh::VoteStats{10, 3, 1}}};
        QStringList warnings;
        const auto snap = Registry::build({provider(QStringLiteral("openai"), kOpenAI)},
                                          {model(QStringLiteral("llama"), QStringLiteral("openai"), QStringLiteral("llama-3"))}, {},
                                          {}, {}, &warnings, {smart, shadow, cheap}, votes);
        QCOMPARE(snap->routes.size(), 2);
        QCOMPARE(snap->routes.value(QStringLiteral("smart")), smart);
        QCOMPARE(snap->routes.value(QStringLiteral("cheap")), cheap);
        QVERIFY(!snap->routes.contains(QStringLiteral("llama")));
        QCOMPARE(snap->routeOrder, (QStringList{QStringLiteral("cheap"), QStringLiteral("smart")})); // sorted
        QCOMPARE(warnings, QStringList{QStringLiteral("route llama: ignored, a model has the same id")});
        QVERIFY(snap->resolve(QStringLiteral("llama"))); // still the model
        QCOMPARE(snap->votes, votes);
        // Routes are not models: resolve() does not know them.
        QVERIFY(!snap->resolve(QStringLiteral("smart")));
        QVERIFY(!snap->modelOrder.contains(QStringLiteral("smart")));
    }

    void keyRateLimitsAreCarried()
    {
        KeyEntry limited;
        limited.id = 1;
        limited.name = QStringLiteral("agent");
        limited.rpm = 60;
        limited.tpm = 100'000;
        KeyEntry free;
        free.id = 2;
        free.name = QStringLiteral("free");
        const QByteArray h1(32, '1');
        const QByteArray h2(32, '2');
        const auto snap = Registry::build({}, {}, {limited, free}, {h1, h2}, {});
        QCOMPARE(snap->keyByHash(h1)->rpm, std::optional<int>(60));
        QCOMPARE(snap->keyByHash(h1)->tpm, std::optional<qint64>(100'000));
        QVERIFY(!snap->keyByHash(h2)->rpm && !snap->keyByHash(h2)->tpm);
    }
};

QTEST_GUILESS_MAIN(TestRegistry)
#include "tst_registry.moc"
