#include "pricing/pricecatalog.h"
#include <QTest>

using gh::CatalogModel;
using gh::PriceCatalog;

namespace {
const QByteArray kSmall = R"({
  "taken_on": "2025-10-15", "source": "test",
  "vendors": {
    "openai": [
      {"model": "gpt-4.1", "input": 2.00, "output": 8.00, "cache_read": 0.50, "context_window": 1047576, "max_output_tokens": 32768},
      {"model": "gpt-4.1-mini", "input": 0.40, "output": 1.60, "cache_read": 0.10, "cache_write": null,
       "context_window": 1047576, "max_output_tokens": 32768, "capabilities": ["tools", "vision", "json_schema"]},
      {"model": "gpt-4o", "input": 2.50, "output": 10.00},
      {"model": "gpt-4o-2024-05-13", "input": 5.00, "output": 15.00},
      {"model": "o3", "input": 2.00, "output": 8.00},
      {"model": "o3-mini", "input": 1.10, "output": 4.40},
      {"model": "mystery", "input": null, "output": null}
    ],
    "anthropic": [
      {"model": "claude-opus-4", "input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75, "cache_write_1h": 30},
      {"model": "claude-opus-4-1", "input": 15, "output": 75},
      {"model": "claude-sonnet-4", "input": 3, "output": 15}
    ],
    "empty": []
  }
})";

QString findName(const PriceCatalog &c, const char *vendor, const char *model)
{
    const CatalogModel *m = c.find(QString::fromLatin1(vendor), QString::fromLatin1(model));
    return m ? m->name : QStringLiteral("<none>");
}
} // namespace

class TestPriceCatalog : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesADocument()
    {
        QString error = QStringLiteral("stale");
        const PriceCatalog c = PriceCatalog::fromJson(kSmall, &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(c.takenOn(), QDate(2025, 10, 15));
        QCOMPARE(c.size(), 10);
        QVERIFY(c.hasVendor(QStringLiteral("openai")));
        QVERIFY(c.hasVendor(QStringLiteral("empty")));
        QVERIFY(!c.hasVendor(QStringLiteral("xai")));
        QCOMPARE(c.models(QStringLiteral("anthropic")).size(), 3);
        QVERIFY(c.models(QStringLiteral("xai")).isEmpty());

        const CatalogModel *m = c.find(QStringLiteral("openai"), QStringLiteral("gpt-4.1-mini"));
        QVERIFY(m);
        QCOMPARE(m->vendor, QStringLiteral("openai"));
        QCOMPARE(m->price.input, std::optional<double>(0.40));
        QCOMPARE(m->price.output, std::optional<double>(1.60));
        QCOMPARE(m->price.cacheRead, std::optional<double>(0.10));
        QCOMPARE(m->price.cacheWrite, std::nullopt);
        QCOMPARE(m->price.cacheWrite1h, std::nullopt);
        QCOMPARE(m->contextWindow, qint64(1047576));
        QCOMPARE(m->maxOutputTokens, qint64(32768));
        QCOMPARE(m->capabilities, QStringList({QStringLiteral("tools"), QStringLiteral("vision"), QStringLiteral("json_schema")}));

        const CatalogModel *opus = c.find(QStringLiteral("anthropic"), QStringLiteral("claude-opus-4"));
        QVERIFY(opus);
        QCOMPARE(opus->price.cacheWrite, std::optional<double>(18.75));
        QCOMPARE(opus->price.cacheWrite1h, std::optional<double>(30.0));

        // null prices load as unpriced: their cost is unknown, not $0.
        const CatalogModel *mystery = c.find(QStringLiteral("openai"), QStringLiteral("mystery"));
        QVERIFY(mystery);
        QVERIFY(!mystery->price.isPriced());
    }

    void lookup_data()
    {
        QTest::addColumn<QString>("vendor");
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("expected");
        QTest::newRow("exact") << "openai" << "gpt-4.1" << "gpt-4.1";
        QTest::newRow("exact longer") << "openai" << "gpt-4.1-mini" << "gpt-4.1-mini";
        QTest::newRow("dated snapshot") << "openai" << "gpt-4.1-mini-2025-04-14" << "gpt-4.1-mini";
        QTest::newRow("dated snapshot of shorter") << "openai" << "gpt-4.1-2025-04-14" << "gpt-4.1";
        QTest::newRow("exact snapshot entry wins") << "openai" << "gpt-4o-2024-05-13" << "gpt-4o-2024-05-13";
        QTest::newRow("other snapshot") << "openai" << "gpt-4o-2024-08-06" << "gpt-4o";
        QTest::newRow("o3-mini snapshot") << "openai" << "o3-mini-2025-01-31" << "o3-mini";
        QTest::newRow("o3 snapshot") << "openai" << "o3-2025-04-16" << "o3";
        QTest::newRow("anthropic dated") << "anthropic" << "claude-opus-4-20250514" << "claude-opus-4";
        QTest::newRow("anthropic dated longer") << "anthropic" << "claude-opus-4-1-20250805" << "claude-opus-4-1";
        QTest::newRow("anthropic latest alias") << "anthropic" << "claude-sonnet-4-0" << "claude-sonnet-4";
        QTest::newRow("not followed by dash") << "openai" << "gpt-4.10" << "<none>";
        QTest::newRow("not followed by dash 2") << "openai" << "o3mini" << "<none>";
        QTest::newRow("shorter than any") << "openai" << "gpt-4" << "<none>";
        QTest::newRow("trailing dash only") << "openai" << "gpt-4o-" << "gpt-4o";
        QTest::newRow("case matters") << "openai" << "GPT-4.1" << "<none>";
        QTest::newRow("wrong vendor") << "anthropic" << "gpt-4.1" << "<none>";
        QTest::newRow("unknown vendor") << "xai" << "grok-4" << "<none>";
        QTest::newRow("empty model") << "openai" << "" << "<none>";
        QTest::newRow("empty vendor list") << "empty" << "anything" << "<none>";
    }
    void lookup()
    {
        QFETCH(QString, vendor);
        QFETCH(QString, model);
        QFETCH(QString, expected);
        const PriceCatalog c = PriceCatalog::fromJson(kSmall);
        QCOMPARE(findName(c, vendor.toLatin1().constData(), model.toLatin1().constData()), expected);
    }

    void bundledCatalogLoadsAndIsSane()
    {
        const PriceCatalog &c = PriceCatalog::bundled();
        QVERIFY(c.takenOn().isValid());
        QVERIFY(c.takenOn() >= QDate(2025, 1, 1));
        QVERIFY(c.takenOn() <= QDate::currentDate());
        QVERIFY(c.size() >= 40);
        QCOMPARE(&c, &PriceCatalog::bundled());

        const QStringList vendors = {QStringLiteral("openai"), QStringLiteral("anthropic"), QStringLiteral("google"),
                                     QStringLiteral("deepseek"), QStringLiteral("mistral"), QStringLiteral("xai")};
        int seen = 0;
        for (const QString &vendor : vendors) {
            QVERIFY2(c.hasVendor(vendor), qPrintable(vendor));
            for (const CatalogModel &m : c.models(vendor)) {
                ++seen;
                const QByteArray what = (vendor + QLatin1Char('/') + m.name).toUtf8();
                QCOMPARE(m.vendor, vendor);
                QVERIFY2(m.price.isPriced(), what.constData());
                const double in = *m.price.input, out = *m.price.output;
                QVERIFY2(in > 0 && in < 1000, what.constData());
                QVERIFY2(m.contextWindow > 0, what.constData());
                QVERIFY2(m.maxOutputTokens <= m.contextWindow, what.constData());
                // Every entry is found by its own name (no shadowing, no duplicates).
                QVERIFY2(c.find(vendor, m.name) && c.find(vendor, m.name)->name == m.name, what.constData());
                if (m.capabilities.contains(QStringLiteral("embeddings"))) {
                    QVERIFY2(out == 0, what.constData());
                    QCOMPARE(m.maxOutputTokens, qint64(0));
                    continue;
                }
                QVERIFY2(out >= in && out < 1000, what.constData());
                QVERIFY2(m.maxOutputTokens > 0, what.constData());
                // Cache reads are discounted; cache writes cost at least plain input, 1h at least 5m.
                if (m.price.cacheRead)
                    QVERIFY2(*m.price.cacheRead >= 0 && *m.price.cacheRead < in, what.constData());
                if (m.price.cacheWrite)
                    QVERIFY2(*m.price.cacheWrite >= in, what.constData());
                if (m.price.cacheWrite1h)
                    QVERIFY2(m.price.cacheWrite && *m.price.cacheWrite1h >= *m.price.cacheWrite, what.constData());
                // Every priced model has a cost for a real request.
                gh::Usage u;
                u.inputTokens = 1000;
                u.outputTokens = 1000;
                QVERIFY2(gh::costOf(u, m.price).value_or(0) > 0, what.constData());
            }
        }
        QCOMPARE(seen, c.size());
    }

    void bundledCatalogCoversTheCommonModels()
    {
        const PriceCatalog &c = PriceCatalog::bundled();
        const QList<QPair<QString, QStringList>> required = {
            {QStringLiteral("openai"), {"gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o",
                                        "gpt-4o-mini", "o3", "o4-mini", "o3-mini", "text-embedding-3-small", "text-embedding-3-large"}},
            {QStringLiteral("anthropic"), {"claude-opus-4-1", "claude-opus-4", "claude-sonnet-4-5", "claude-sonnet-4",
                                           "claude-3-7-sonnet", "claude-haiku-4-5", "claude-3-5-haiku"}},
            {QStringLiteral("google"), {"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash",
                                        "gemini-embedding-001"}},
            {QStringLiteral("deepseek"), {"deepseek-chat", "deepseek-reasoner"}},
            {QStringLiteral("mistral"), {"mistral-large-latest", "mistral-medium-latest", "mistral-small-latest",
                                         "codestral-latest", "mistral-embed"}},
            {QStringLiteral("xai"), {"grok-4", "grok-3", "grok-3-mini", "grok-code-fast-1"}},
        };
        for (const auto &[vendor, names] : required) {
            for (const QString &name : names) {
                const CatalogModel *m = c.find(vendor, name);
                QVERIFY2(m && m->name == name, qPrintable(vendor + QLatin1Char('/') + name));
            }
        }
        // Anthropic's cache prices follow its published multipliers of the input price (except Claude 3
        // Haiku, whose published cache prices are rounded: $0.30 write, $0.50 1h write, $0.03 read).
        for (const CatalogModel &m : c.models(QStringLiteral("anthropic"))) {
            if (m.name == QLatin1String("claude-3-haiku"))
                continue;
            const double in = *m.price.input;
            QVERIFY2(m.price.cacheRead && qFuzzyCompare(*m.price.cacheRead, in * 0.1), qPrintable(m.name));
            QVERIFY2(m.price.cacheWrite && qFuzzyCompare(*m.price.cacheWrite, in * 1.25), qPrintable(m.name));
            QVERIFY2(m.price.cacheWrite1h && qFuzzyCompare(*m.price.cacheWrite1h, in * 2), qPrintable(m.name));
        }
        // Dated snapshots resolve through the bundled catalog too.
        QCOMPARE(findName(c, "openai", "gpt-4.1-mini-2025-04-14"), QStringLiteral("gpt-4.1-mini"));
        QCOMPARE(findName(c, "anthropic", "claude-sonnet-4-5-20250929"), QStringLiteral("claude-sonnet-4-5"));
        QCOMPARE(findName(c, "anthropic", "claude-3-5-haiku-20241022"), QStringLiteral("claude-3-5-haiku"));
        QCOMPARE(findName(c, "google", "gemini-2.5-flash-lite-preview-06-17"), QStringLiteral("gemini-2.5-flash-lite"));
        QCOMPARE(findName(c, "xai", "grok-4-0709"), QStringLiteral("grok-4"));
        QCOMPARE(findName(c, "xai", "grok-4-fast-reasoning"), QStringLiteral("grok-4-fast-reasoning"));
    }

    void rejectsMalformedDocuments_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("errorPart");
        auto doc = [](const char *models) {
            return QByteArray(R"({"taken_on": "2025-10-15", "vendors": {"openai": [)") + models + "]}}";
        };
        QTest::newRow("empty") << QByteArray() << "invalid JSON";
        QTest::newRow("syntax") << QByteArray(R"({"taken_on": "2025-10-15", "vendors": {)") << "invalid JSON";
        QTest::newRow("trailing") << QByteArray(R"({"taken_on": "2025-10-15", "vendors": {}} x)") << "invalid JSON";
        QTest::newRow("array root") << QByteArray("[]") << "not a JSON object";
        QTest::newRow("no date") << QByteArray(R"({"vendors": {}})") << "taken_on";
        QTest::newRow("bad date") << QByteArray(R"({"taken_on": "2025-13-01", "vendors": {}})") << "taken_on";
        QTest::newRow("date with time") << QByteArray(R"({"taken_on": "2025-10-15T00:00:00", "vendors": {}})") << "taken_on";
        QTest::newRow("date not string") << QByteArray(R"({"taken_on": 20251015, "vendors": {}})") << "taken_on";
        QTest::newRow("source not string") << QByteArray(R"({"taken_on": "2025-10-15", "source": 1, "vendors": {}})") << "source";
        QTest::newRow("no vendors") << QByteArray(R"({"taken_on": "2025-10-15"})") << "vendors";
        QTest::newRow("vendors array") << QByteArray(R"({"taken_on": "2025-10-15", "vendors": []})") << "vendors";
        QTest::newRow("vendor not array") << QByteArray(R"({"taken_on": "2025-10-15", "vendors": {"openai": {}}})") << "vendors.openai";
        QTest::newRow("entry not object") << doc("1") << "vendors.openai[0]";
        QTest::newRow("no model name") << doc(R"({"input": 1, "output": 2})") << "vendors.openai[0].model";
        QTest::newRow("empty model name") << doc(R"({"model": "", "input": 1, "output": 2})") << "vendors.openai[0].model";
        QTest::newRow("model name not string") << doc(R"({"model": 5, "input": 1, "output": 2})") << "vendors.openai[0].model";
        QTest::newRow("missing input") << doc(R"({"model": "a", "output": 2})") << "vendors.openai[0].input";
        QTest::newRow("missing output") << doc(R"({"model": "a", "input": 2})") << "vendors.openai[0].output";
        QTest::newRow("string price") << doc(R"({"model": "a", "input": "0.40", "output": 2})") << "vendors.openai[0].input";
        QTest::newRow("negative price") << doc(R"({"model": "a", "input": 1, "output": -2})") << "vendors.openai[0].output";
        QTest::newRow("absurd price") << doc(R"({"model": "a", "input": 1, "output": 1e12})") << "vendors.openai[0].output";
        QTest::newRow("bad cache price") << doc(R"({"model": "a", "input": 1, "output": 2, "cache_read": true})") << "vendors.openai[0].cache_read";
        QTest::newRow("bad 1h price") << doc(R"({"model": "a", "input": 1, "output": 2, "cache_write_1h": [1]})") << "vendors.openai[0].cache_write_1h";
        QTest::newRow("fractional window") << doc(R"({"model": "a", "input": 1, "output": 2, "context_window": 1.5})") << "vendors.openai[0].context_window";
        QTest::newRow("negative max output") << doc(R"({"model": "a", "input": 1, "output": 2, "max_output_tokens": -1})") << "vendors.openai[0].max_output_tokens";
        QTest::newRow("output above window") << doc(R"({"model": "a", "input": 1, "output": 2, "context_window": 10, "max_output_tokens": 11})") << "vendors.openai[0].max_output_tokens";
        QTest::newRow("capabilities not array") << doc(R"({"model": "a", "input": 1, "output": 2, "capabilities": "tools"})") << "vendors.openai[0].capabilities";
        QTest::newRow("capability not string") << doc(R"({"model": "a", "input": 1, "output": 2, "capabilities": ["tools", 3]})") << "vendors.openai[0].capabilities[1]";
        QTest::newRow("duplicate model") << doc(R"({"model": "a", "input": 1, "output": 2}, {"model": "b", "input": 1, "output": 2}, {"model": "a", "input": 1, "output": 2})") << "vendors.openai[2].model";
        QTest::newRow("second entry bad") << doc(R"({"model": "a", "input": 1, "output": 2}, {"model": "b", "input": 1})") << "vendors.openai[1].output";
    }
    void rejectsMalformedDocuments()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, errorPart);
        QString error;
        const PriceCatalog c = PriceCatalog::fromJson(json, &error);
        QVERIFY2(error.contains(errorPart), qPrintable(QStringLiteral("error \"%1\" should mention \"%2\"").arg(error, errorPart)));
        // A failed parse yields an empty catalog, never a partial one.
        QCOMPARE(c.size(), 0);
        QVERIFY(!c.takenOn().isValid());
        QVERIFY(!c.hasVendor(QStringLiteral("openai")));
        // Without an error pointer it fails the same way.
        QCOMPARE(PriceCatalog::fromJson(json).size(), 0);
    }

    void minimalDocumentIsValid()
    {
        QString error;
        const PriceCatalog c = PriceCatalog::fromJson(R"({"taken_on": "2024-02-29", "vendors": {}})", &error);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(c.takenOn(), QDate(2024, 2, 29));
        QCOMPARE(c.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestPriceCatalog)
#include "tst_pricecatalog.moc"
