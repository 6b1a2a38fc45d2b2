#include "pricing/pricecatalog.h"
#include <QTest>

using gh::CatalogModel;
using gh::MatchRule;
using gh::ModelPrice;
using gh::PriceCatalog;
using gh::Usage;

namespace {

// A small document in genai-prices' shape, with one model per rule kind, a tiered price, and
// prices that change on a date and by time of day.
const QByteArray kSmall = R"([
  {"id": "acme", "name": "Acme", "model_match": {"starts_with": "acme-"},
   "provider_match": {"contains": "acmeco"},
   "models": [
     {"id": "acme-eq", "match": {"equals": "acme-eq"}, "prices": {"input_mtok": 1, "output_mtok": 2}},
     {"id": "acme-sw", "match": {"starts_with": "acme-sw-"}, "prices": {"input_mtok": 3, "output_mtok": 4}},
     {"id": "acme-ew", "match": {"ends_with": "-turbo"}, "prices": {"input_mtok": 5, "output_mtok": 6}},
     {"id": "acme-co", "match": {"contains": "vision"}, "prices": {"input_mtok": 7, "output_mtok": 8}},
     {"id": "acme-re", "match": {"regex": "^acme-r[0-9]+$"}, "prices": {"input_mtok": 9, "output_mtok": 10}},
     {"id": "acme-or", "match": {"or": [{"equals": "acme-o1"}, {"equals": "acme-o2"}]}, "prices": {"input_mtok": 11, "output_mtok": 12}},
     {"id": "acme-and", "match": {"and": [{"starts_with": "acme-a"}, {"ends_with": "-pro"}]}, "prices": {"input_mtok": 13, "output_mtok": 14}},
     {"id": "acme-tier", "match": {"equals": "acme-tier"}, "context_window": 1000000,
      "prices": {"input_mtok": {"base": 1, "tiers": [{"start": 200000, "price": 2}]},
                 "output_mtok": {"base": 10, "tiers": [{"start": 200000, "price": 15}]},
                 "cache_read_mtok": 0.1, "cache_write_mtok": 1.25, "cache_write_1h_mtok": 2}},
     {"id": "acme-dated", "match": {"equals": "acme-dated"},
      "prices": [{"prices": {"input_mtok": 1, "output_mtok": 1}},
                 {"constraint": {"type": "start_date", "start_date": "2026-03-01"}, "prices": {"input_mtok": 2, "output_mtok": 2}}]},
     {"id": "acme-night", "match": {"equals": "acme-night"},
      "prices": [{"prices": {"input_mtok": 4, "output_mtok": 4}},
                 {"constraint": {"type": "time_of_date", "start_time": "16:30:00Z", "end_time": "00:30:00Z"}, "prices": {"input_mtok": 1, "output_mtok": 1}}]},
     {"id": "acme-embed", "match": {"equals": "acme-embed"}, "prices": {"input_mtok": 0.02}},
     {"id": "acme-snap-2025-09-29", "match": {"equals": "acme-snap-2025-09-29"}, "prices": {"input_mtok": 3, "output_mtok": 3}}
   ]},
  {"id": "hub", "name": "Hub", "api_pattern": "x", "fallback_model_providers": ["acme"],
   "models": [{"id": "hub/one", "match": {"equals": "hub/one"}, "prices": {"input_mtok": 1, "output_mtok": 1}}]}
])";

QString found(const PriceCatalog &c, const QString &vendor, const QString &model)
{
    const CatalogModel *m = c.find(vendor, model);
    return m ? m->name : QStringLiteral("<unpriced>");
}

QDateTime utc(const char *iso)
{
    return QDateTime::fromString(QString::fromLatin1(iso), Qt::ISODate).toUTC();
}

} // namespace

class TestPriceCatalog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void matchRules_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("expected");
        QTest::newRow("equals") << "acme-eq" << "acme-eq";
        QTest::newRow("equals, any case") << "ACME-EQ" << "acme-eq";
        QTest::newRow("equals is not a prefix") << "acme-eq-2" << "<unpriced>";
        QTest::newRow("starts_with") << "acme-sw-large" << "acme-sw";
        QTest::newRow("ends_with") << "acme-x-turbo" << "acme-ew";
        QTest::newRow("contains") << "acme-vision-1" << "acme-co";
        QTest::newRow("regex") << "acme-r12" << "acme-re";
        QTest::newRow("regex anchors hold") << "acme-r12x" << "<unpriced>";
        QTest::newRow("or, first") << "acme-o1" << "acme-or";
        QTest::newRow("or, second") << "acme-o2" << "acme-or";
        QTest::newRow("and, both") << "acme-a7-pro" << "acme-and";
        QTest::newRow("and, one is not enough") << "acme-a7" << "<unpriced>";
        QTest::newRow("compact date expands") << "acme-snap-20250929" << "acme-snap-2025-09-29";
        QTest::newRow("impossible date stays") << "acme-snap-20250931" << "<unpriced>";
        QTest::newRow("no loose prefix") << "acme-eqx" << "<unpriced>";
        QTest::newRow("unknown") << "other" << "<unpriced>";
    }
    void matchRules()
    {
        QFETCH(QString, model);
        QFETCH(QString, expected);
        QString error;
        const PriceCatalog c = PriceCatalog::fromJson(kSmall, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(found(c, QStringLiteral("acme"), model), expected);
    }

    void providersAndFamilies()
    {
        const PriceCatalog c = PriceCatalog::fromJson(kSmall);
        QCOMPARE(c.providers().size(), 2);
        QCOMPARE(c.size(), 13);
        QCOMPARE(c.vendorFor(QStringLiteral("acme")), QStringLiteral("acme"));
        QCOMPARE(c.vendorFor(QStringLiteral("my-acmeco")), QStringLiteral("acme")); // provider_match
        QCOMPARE(c.vendorFor(QStringLiteral("nobody")), QString());
        QCOMPARE(c.familyOf(QStringLiteral("acme-brand-new")), QStringLiteral("acme")); // model_match
        QCOMPARE(c.familyOf(QStringLiteral("hub/one")), QString());
        // A provider's fallback providers price what it does not list itself.
        QCOMPARE(found(c, QStringLiteral("hub"), QStringLiteral("acme-eq")), QStringLiteral("acme-eq"));
        QCOMPARE(found(c, QStringLiteral("hub"), QStringLiteral("hub/one")), QStringLiteral("hub/one"));
    }

    void tieredPrices()
    {
        const PriceCatalog c = PriceCatalog::fromJson(kSmall);
        const CatalogModel *m = c.find(QStringLiteral("acme"), QStringLiteral("acme-tier"));
        QVERIFY(m);
        QCOMPARE(m->contextWindow, qint64(1000000));
        QVERIFY(m->price.isTiered());
        // 100k prompt tokens: the base prices. 1.00 × 0.1 + 10 × 0.001 = 0.11 USD.
        Usage small;
        small.inputTokens = 100000;
        small.outputTokens = 1000;
        QCOMPARE(gh::costOf(small, m->price), std::optional<gh::NanoUsd>(110'000'000));
        // 250k prompt tokens (cache reads count towards the prompt): every token at the tier price.
        // 200k × 2 + 50k cached × 0.1 (no tier) + 1000 × 15 = 0.4 + 0.005 + 0.015 = 0.42 USD.
        Usage large;
        large.inputTokens = 200000;
        large.cacheReadTokens = 50000;
        large.outputTokens = 1000;
        QCOMPARE(gh::costOf(large, m->price), std::optional<gh::NanoUsd>(420'000'000));
        // Exactly at the threshold is still the base tier (the tier starts above it).
        Usage edge;
        edge.inputTokens = 200000;
        QCOMPARE(gh::costOf(edge, m->price), std::optional<gh::NanoUsd>(200'000'000));
        // Reservations use the tier the estimated prompt reaches.
        QCOMPARE(gh::worstCaseCost(250000, 0, m->price), std::optional<gh::NanoUsd>(500'000'000));
    }

    void pricesThatChangeOverTime()
    {
        const PriceCatalog c = PriceCatalog::fromJson(kSmall);
        const CatalogModel *dated = c.find(QStringLiteral("acme"), QStringLiteral("acme-dated"));
        QVERIFY(dated);
        QCOMPARE(dated->priceAt(utc("2026-02-28T23:59:59Z")).input, std::optional<double>(1));
        QCOMPARE(dated->priceAt(utc("2026-03-01T00:00:00Z")).input, std::optional<double>(2));
        const CatalogModel *night = c.find(QStringLiteral("acme"), QStringLiteral("acme-night"));
        QVERIFY(night);
        QCOMPARE(night->priceAt(utc("2026-05-01T12:00:00Z")).input, std::optional<double>(4));
        QCOMPARE(night->priceAt(utc("2026-05-01T16:30:00Z")).input, std::optional<double>(1));
        QCOMPARE(night->priceAt(utc("2026-05-01T23:00:00Z")).input, std::optional<double>(1));
        QCOMPARE(night->priceAt(utc("2026-05-01T00:29:59Z")).input, std::optional<double>(1));
        QCOMPARE(night->priceAt(utc("2026-05-01T00:30:00Z")).input, std::optional<double>(4));
    }

    void inputOnlyModelsBillNoOutput()
    {
        const PriceCatalog c = PriceCatalog::fromJson(kSmall);
        const CatalogModel *m = c.find(QStringLiteral("acme"), QStringLiteral("acme-embed"));
        QVERIFY(m);
        QVERIFY(m->price.isPriced());
        QCOMPARE(m->price.output, std::optional<double>(0.0));
    }

    void diffCountsChanges()
    {
        const PriceCatalog before = PriceCatalog::fromJson(kSmall);
        QByteArray changed = kSmall;
        changed.replace(R"("id": "acme-eq", "match": {"equals": "acme-eq"}, "prices": {"input_mtok": 1,)",
                        R"("id": "acme-eq", "match": {"equals": "acme-eq"}, "prices": {"input_mtok": 1.5,)");
        changed.replace(R"({"id": "hub/one", "match": {"equals": "hub/one"}, "prices": {"input_mtok": 1, "output_mtok": 1}})",
                        R"({"id": "hub/two", "match": {"equals": "hub/two"}, "prices": {"input_mtok": 1, "output_mtok": 1}})");
        QString error;
        const PriceCatalog after = PriceCatalog::fromJson(changed, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const gh::CatalogDiff d = before.diff(after);
        QCOMPARE(d.added, 1);
        QCOMPARE(d.removed, 1);
        QCOMPARE(d.repriced, 1);
        QCOMPARE(before.diff(before).summary(), QStringLiteral("0 added, 0 removed, 0 re-priced"));
    }

    void rejectsMalformedDocuments_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("error");
        QTest::newRow("not JSON") << QByteArray("[{") << "invalid JSON";
        QTest::newRow("truncated") << kSmall.left(kSmall.size() / 2) << "invalid JSON";
        QTest::newRow("empty list") << QByteArray("[]") << "expected 1 to";
        QTest::newRow("wrong shape") << QByteArray(R"({"vendors": {}})") << "providers: missing or not an array";
        QTest::newRow("a number") << QByteArray("42") << "invalid JSON";
        QTest::newRow("no models") << QByteArray(R"([{"id": "a"}])") << "[0].models: missing or not an array";
        QTest::newRow("unknown rule") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"like": "m"}, "prices": {}}]}])") << "unknown match rule \"like\"";
        QTest::newRow("bad regex") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"regex": "a{2,1}"}, "prices": {}}]}])") << "invalid regular expression";
        QTest::newRow("negative price") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {"input_mtok": -1}}]}])") << "non-negative";
        QTest::newRow("string price") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {"input_mtok": "1"}}]}])") << "not a number";
        QTest::newRow("bad tier") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {"input_mtok": {"base": 1, "tiers": [{"start": -5, "price": 1}]}}}]}])") << "non-negative integer";
        QTest::newRow("bad date") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": [{"constraint": {"start_date": "2026-13-01"}, "prices": {}}]}]}])") << "YYYY-MM-DD";
        QTest::newRow("bad time") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": [{"constraint": {"start_time": "25:00:00Z", "end_time": "01:00:00Z"}, "prices": {}}]}]}])") << "time of day";
        QTest::newRow("duplicate model") << QByteArray(R"([{"id": "a", "models": [{"id": "m", "match": {"equals": "m"}, "prices": {}}, {"id": "m", "match": {"equals": "m"}, "prices": {}}]}])") << "duplicate model";
        QByteArray deep = R"({"equals": "m"})";
        for (int i = 0; i < 40; ++i)
            deep = R"({"or": [)" + deep + "]}";
        QTest::newRow("rules nested too deeply") << (R"([{"id": "a", "models": [{"id": "m", "match": )" + deep + R"(, "prices": {}}]}])") << "nested too deeply";
    }
    void rejectsMalformedDocuments()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, error);
        QString actual;
        const PriceCatalog c = PriceCatalog::fromJson(json, &actual);
        QVERIFY2(actual.contains(error), qPrintable(actual));
        QVERIFY(c.isEmpty());
    }

    void bundledCatalogIsThePackageData()
    {
        const PriceCatalog &c = PriceCatalog::bundled();
        QVERIFY(!c.isEmpty());
        QVERIFY2(c.source().startsWith(QLatin1String("npm:@pydantic/genai-prices@")), qPrintable(c.source()));
        QVERIFY(c.takenOn().isValid());
        QVERIFY(c.size() > 1000);
        for (const char *vendor : {"anthropic", "openai", "google", "deepseek", "mistral", "x-ai", "openrouter"})
            QVERIFY2(c.provider(QString::fromLatin1(vendor)), vendor);
        // The provider ids Gatehouse's provider picker uses map onto the catalog's.
        QCOMPARE(c.vendorFor(QStringLiteral("xai")), QStringLiteral("x-ai"));
        QCOMPARE(c.vendorFor(QStringLiteral("gemini")), QStringLiteral("google"));
    }

    // Real ids as tools send them -> the catalog model and its prices, and the cost of one usage
    // (1,200 prompt tokens of which 200 cached, 500 output). The expected figures were computed by
    // the package's own calcPrice() (at 2026-12-07T12:00Z); a few checked by hand against the
    // vendors' list prices: claude-opus-4-8 $5/$25, claude-haiku-4-5 $1/$5, claude-sonnet-4-5
    // $3/$15, gpt-5 $1.25/$10, gemini-2.5-pro $1.25/$10 (2.50/15 above 200k prompt tokens).
    void realIds_data()
    {
        QTest::addColumn<QString>("vendor");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("catalogId");
        QTest::addColumn<double>("input");
        QTest::addColumn<double>("output");
        QTest::addColumn<double>("costUsd");
        auto row = [](const char *vendor, const char *model, const char *catalogId, double input, double output, double cost) {
            QTest::addRow("%s %s", vendor, model) << QString::fromLatin1(vendor) << QString::fromLatin1(model)
                                                  << QString::fromLatin1(catalogId) << input << output << cost;
        };
        row("anthropic", "claude-opus-4-8", "claude-opus-4-8", 5, 25, 0.017600000000);
        row("anthropic", "claude-sonnet-5", "claude-sonnet-5", 2, 10, 0.007040000000);
        row("anthropic", "claude-haiku-4-5-20251001", "claude-haiku-4-5", 1, 5, 0.003520000000);
        row("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5", 3, 15, 0.010560000000);
        row("anthropic", "claude-sonnet-4-5", "claude-sonnet-4-5", 3, 15, 0.010560000000);
        row("anthropic", "claude-opus-4-1-20250805", "claude-opus-4-1", 15, 75, 0.052800000000);
        row("anthropic", "claude-opus-4-20250514", "claude-opus-4-0", 15, 75, 0.052800000000);
        row("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4-0", 3, 15, 0.010560000000);
        row("anthropic", "claude-3-7-sonnet-20250219", "claude-3-7-sonnet-latest", 3, 15, 0.010560000000);
        row("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest", 0.8, 4, 0.002816000000);
        row("anthropic", "claude-3-5-haiku-latest", "claude-3-5-haiku-latest", 0.8, 4, 0.002816000000);
        row("anthropic", "claude-haiku-4-5", "claude-haiku-4-5", 1, 5, 0.003520000000);
        row("anthropic", "claude-opus-4-5-20251101", "claude-opus-4-5", 5, 25, 0.017600000000);
        row("anthropic", "claude-opus-4-6", "claude-opus-4-6", 5, 25, 0.017600000000);
        row("anthropic", "claude-sonnet-4-6", "claude-sonnet-4-6", 3, 15, 0.010560000000);
        row("anthropic", "claude-opus-4-7", "claude-opus-4-7", 5, 25, 0.017600000000);
        row("anthropic", "claude-3-haiku-20240307", "claude-3-haiku", 0.25, 1.25, 0.000881000000);
        row("openai", "gpt-5", "gpt-5", 1.25, 10, 0.006275000000);
        row("openai", "gpt-5-mini", "gpt-5-mini", 0.25, 2, 0.001255000000);
        row("openai", "gpt-5-nano", "gpt-5-nano", 0.05, 0.4, 0.000251000000);
        row("openai", "gpt-5-codex", "gpt-5", 1.25, 10, 0.006275000000);
        row("openai", "gpt-5.1", "gpt-5.1", 1.25, 10, 0.006275000000);
        row("openai", "gpt-5.1-codex", "gpt-5.1", 1.25, 10, 0.006275000000);
        row("openai", "gpt-5.1-codex-mini", "gpt-5.1-codex-mini", 0.25, 2, 0.001255000000);
        row("openai", "gpt-5.2", "gpt-5.2", 1.75, 14, 0.008785000000);
        row("openai", "gpt-5.3-codex", "gpt-5.3-codex", 1.75, 14, 0.008785000000);
        row("openai", "gpt-5.4", "gpt-5.4", 2.5, 15, 0.010050000000);
        row("openai", "gpt-5.4-mini", "gpt-5.4-mini", 0.75, 4.5, 0.003015000000);
        row("openai", "gpt-5.5", "gpt-5.5", 5, 30, 0.020100000000);
        row("openai", "gpt-4.1", "gpt-4.1", 2, 8, 0.006100000000);
        row("openai", "gpt-4.1-mini", "gpt-4.1-mini", 0.4, 1.6, 0.001220000000);
        row("openai", "gpt-4.1-nano", "gpt-4.1-nano", 0.1, 0.4, 0.000305000000);
        row("openai", "gpt-4o", "gpt-4o", 2.5, 10, 0.007750000000);
        row("openai", "gpt-4o-2024-08-06", "gpt-4o", 2.5, 10, 0.007750000000);
        row("openai", "gpt-4o-mini", "gpt-4o-mini", 0.15, 0.6, 0.000465000000);
        row("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", 0.15, 0.6, 0.000465000000);
        row("openai", "o3", "o3", 2, 8, 0.006100000000);
        row("openai", "o3-mini", "o3-mini", 1.1, 4.4, 0.003410000000);
        row("openai", "o4-mini", "o4-mini", 1.1, 4.4, 0.003355000000);
        row("openai", "o1", "o1", 15, 60, 0.046500000000);
        row("openai", "codex-mini-latest", "codex-mini", 1.5, 6, 0.004575000000);
        row("openai", "text-embedding-3-small", "text-embedding-3-small", 0.02, -1, 0.000024000000);
        row("openai", "gpt-4.1-2025-04-14", "gpt-4.1", 2, 8, 0.006100000000);
        row("openai", "gpt-5-2025-08-07", "gpt-5", 1.25, 10, 0.006275000000);
        row("google", "gemini-2.5-pro", "gemini-2.5-pro", 1.25, 10, 0.006275000000);
        row("google", "gemini-2.5-flash", "gemini-2.5-flash", 0.3, 2.5, 0.001556000000);
        row("google", "gemini-2.5-flash-lite", "gemini-2.5-flash-lite", 0.1, 0.4, 0.000302000000);
        row("google", "gemini-3-pro-preview", "gemini-3-pro-preview", 2, 12, 0.008040000000);
        row("google", "gemini-3-flash-preview", "gemini-3-flash-preview", 0.5, 3, 0.002010000000);
        row("google", "gemini-3.1-pro-preview", "gemini-3.1-pro-preview", 2, 12, 0.008040000000);
        row("google", "gemini-2.0-flash", "gemini-2.0-flash", 0.1, 0.4, 0.000305000000);
        row("google", "gemini-2.0-flash-001", "gemini-2.0-flash", 0.1, 0.4, 0.000305000000);
        row("google", "gemini-1.5-pro", "gemini-1.5-pro", 1.25, 5, 0.004000000000);
        row("google", "gemini-3.5-flash", "gemini-3.5-flash", 1.5, 9, 0.006030000000);
        row("deepseek", "deepseek-chat", "deepseek-chat", 0.27, 1.1, 0.000834000000);
        row("deepseek", "deepseek-reasoner", "deepseek-reasoner", 0.55, 2.19, 0.001673000000);
        row("mistral", "mistral-large-latest", "mistral-large", 2, 6, 0.005400000000);
        row("mistral", "mistral-small-latest", "mistral-small-latest", 0.1, 0.3, 0.000270000000);
        row("mistral", "codestral-latest", "codestral", 0.3, 0.9, 0.000810000000);
        row("mistral", "mistral-medium-latest", "mistral-medium-latest", 1.5, 7.5, 0.005280000000);
        row("x-ai", "grok-4", "grok-4-0709", 3, 15, 0.010650000000);
        row("x-ai", "grok-3", "grok-3", 3, 15, 0.010650000000);
        row("x-ai", "grok-3-mini", "grok-3-mini", 0.3, 0.5, 0.000565000000);
        row("x-ai", "grok-code-fast-1", "grok-code-fast-1", 0.2, 1.5, 0.000954000000);
        row("x-ai", "grok-4-fast-reasoning", "grok-4-fast-reasoning", 0.2, 0.5, 0.000460000000);
        row("openrouter", "anthropic/claude-opus-4.8", "anthropic/claude-opus-4.8", 5, 25, 0.017600000000);
        row("openrouter", "anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4.5", 3, 15, 0.010560000000);
        row("openrouter", "openai/gpt-5", "openai/gpt-5", 1.25, 10, 0.006275000000);
        row("openrouter", "google/gemini-2.5-pro", "google/gemini-2.5-pro", 1.25, 10, 0.006312000000);
        row("openrouter", "anthropic/claude-haiku-4.5-20251001", "anthropic/claude-haiku-4.5", 1, 5, 0.003520000000);
        row("moonshotai", "kimi-k2-0905-preview", "kimi-k2-0905-preview", 0.6, 2.5, 0.001880000000);
        row("groq", "llama-3.3-70b-versatile", "llama-3.3-70b-versatile", 0.59, 0.79, 0.001103000000);
    }
    void realIds()
    {
        QFETCH(QString, vendor);
        QFETCH(QString, model);
        QFETCH(QString, catalogId);
        QFETCH(double, input);
        QFETCH(double, output);
        QFETCH(double, costUsd);
        const PriceCatalog &c = PriceCatalog::bundled();
        const CatalogModel *m = c.find(vendor, model);
        QVERIFY2(m, qPrintable(model));
        QCOMPARE(m->name, catalogId);
        const ModelPrice p = m->priceAt(utc("2026-12-07T12:00:00Z"));
        QCOMPARE(p.input, std::optional<double>(input));
        QCOMPARE(p.output, std::optional<double>(output < 0 ? 0.0 : output));
        Usage u; // Gatehouse's usage: input is the uncached part
        u.inputTokens = 1000;
        u.cacheReadTokens = 200;
        u.outputTokens = 500;
        const auto cost = gh::costOf(u, p);
        QVERIFY(cost);
        QVERIFY2(qAbs(double(*cost) - costUsd * 1e9) <= 1.0,
                 qPrintable(QStringLiteral("%1 nano-USD, expected %2").arg(*cost).arg(costUsd * 1e9, 0, 'f', 0)));
    }

    void theThreeTimesCase()
    {
        // anthropic/claude-opus-4-8 was priced as claude-opus-4 by prefix: $15/$75 instead of $5/$25.
        const PriceCatalog &c = PriceCatalog::bundled();
        const CatalogModel *m = c.find(QStringLiteral("anthropic"), QStringLiteral("claude-opus-4-8"));
        QVERIFY(m);
        QCOMPARE(m->name, QStringLiteral("claude-opus-4-8"));
        QCOMPARE(m->price.input, std::optional<double>(5));
        QCOMPARE(m->price.output, std::optional<double>(25));
        // A name no rule matches is unpriced, not its neighbour.
        QCOMPARE(found(c, QStringLiteral("anthropic"), QStringLiteral("claude-opus-4-9-preview")), QStringLiteral("<unpriced>"));
        QCOMPARE(found(c, QStringLiteral("openai"), QStringLiteral("gpt-99")), QStringLiteral("<unpriced>"));
    }

    void familiesOfBareNames_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("vendor");
        QTest::newRow("claude") << "claude-opus-4-8" << "anthropic";
        QTest::newRow("claude, future") << "claude-sonnet-9" << "anthropic";
        QTest::newRow("gpt") << "gpt-5.9-codex" << "openai";
        QTest::newRow("o-series") << "o3-pro" << "openai";
        QTest::newRow("codex") << "codex-mini-latest" << "openai";
        QTest::newRow("gemini") << "gemini-3-pro-preview" << "google";
        QTest::newRow("deepseek") << "deepseek-chat" << "deepseek";
        QTest::newRow("mistral") << "mistral-large-latest" << "mistral";
        QTest::newRow("codestral") << "codestral-latest" << "mistral";
        QTest::newRow("grok") << "grok-4" << "x-ai";
        QTest::newRow("kimi") << "kimi-k2" << "moonshotai";
        QTest::newRow("a host's own listing") << "llama-3.3-70b" << "cerebras";
        QTest::newRow("unknown") << "llama3" << "";
        QTest::newRow("provider/model is not bare") << "anthropic/claude-opus-4.8" << "";
    }
    void familiesOfBareNames()
    {
        QFETCH(QString, model);
        QFETCH(QString, vendor);
        QCOMPARE(PriceCatalog::bundled().familyOf(model), vendor);
    }
};

QTEST_GUILESS_MAIN(TestPriceCatalog)
#include "tst_pricecatalog.moc"
