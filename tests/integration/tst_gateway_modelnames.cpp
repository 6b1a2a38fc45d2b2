// Model names as tools send them, through the real gateway against the mock upstream's dialects:
// bare names of a vendor's family (Claude Code's claude-opus-4-8, dated ids, names the catalog does
// not know yet) reach the provider of that vendor, unchanged upstream and priced by the catalog's
// match rules (never a neighbour's price); config aliases; pinning a provider with the
// x-gatehouse-provider header; /v1/models listing aliases and families; HEAD / and GET /.
#include "providerstestkit.h"

#include <cmath>

using namespace gh::test;
using namespace gh::test::providers;

namespace {

const QByteArray kSecret = "gk-itest-modelnames-0001";

// Cost in nano-USD of logged usage at a model's catalog prices (USD per million tokens): the
// Anthropic dialect reports input without cache, so every token is at the plain price here.
qint64 nanoAt(const LoggedRequest &r, double input, double output)
{
    return qint64(std::ceil((double(r.inputTokens) * input + double(r.outputTokens) * output) * 1000.0 - 1e-6));
}

} // namespace

class TestGatewayModelNames : public QObject
{
    Q_OBJECT

    GatewayHarness m_h;

    HttpResponse messages(const QString &model, const Headers &extra = {})
    {
        HttpClient client(m_h.gateway->port());
        Headers h = anthropicHeaders(kSecret);
        h.append(extra);
        return client.post("/v1/messages", compact(messagesRequest(model)), h);
    }
    HttpResponse chat(const QString &model, const Headers &extra = {})
    {
        HttpClient client(m_h.gateway->port());
        Headers h = bearer(kSecret);
        h.append(extra);
        return client.post("/v1/chat/completions", compact(chatCompletionRequest(model)), h);
    }
    LoggedRequest logged(const HttpResponse &r)
    {
        const auto row = m_h.db->waitFor(QString::fromLatin1(r.header("x-gatehouse-request-id")));
        return row ? *row : LoggedRequest();
    }
    QString upstreamModel()
    {
        return recordedBody(m_h.mock->lastRequest()).value(QStringLiteral("model")).toString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_h.startMock(), qPrintable(m_h.error));
        QJsonObject claude = provider(*m_h.mock, QStringLiteral("claude"), QStringLiteral("anthropic"));
        claude.insert(QStringLiteral("catalog"), QStringLiteral("anthropic"));
        QJsonObject oai = provider(*m_h.mock, QStringLiteral("oai"), QStringLiteral("openai"));
        oai.insert(QStringLiteral("catalog"), QStringLiteral("openai"));
        QJsonObject gem = provider(*m_h.mock, QStringLiteral("gem"), QStringLiteral("gemini"));
        gem.insert(QStringLiteral("catalog"), QStringLiteral("google"));
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{claude, oai, gem}},
            {QStringLiteral("aliases"),
                QJsonArray{QJsonObject{{QStringLiteral("match"), QStringLiteral("claude-haiku-*")},
                                       {QStringLiteral("to"), QStringLiteral("oai/gpt-4.1-mini")}},
                           QJsonObject{{QStringLiteral("match"), QStringLiteral("house-*")},
                                       {QStringLiteral("to"), QStringLiteral("claude-sonnet-4-5")}}}},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("modelnames"), QString::fromLatin1(kSecret))}},
        };
        QVERIFY2(m_h.startGateway(config), qPrintable(m_h.error));
    }

    void init() { QVERIFY2(m_h.mock->reset(), qPrintable(m_h.mock->errorString())); }

    void cleanupTestCase()
    {
        if (m_h.gatewayRunning())
            QVERIFY2(m_h.stop(), qPrintable(m_h.error));
    }

    void rootAnswersWithoutAKey()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse head = client.request("HEAD", "/");
        QCOMPARE(head.status, 200);
        QVERIFY(head.body.isEmpty());
        const HttpResponse get = client.get("/");
        QCOMPARE(get.status, 200);
        QCOMPARE(parseObject(get.body).value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    }

    // A HEAD answer is the GET answer's head without its body, on every GET endpoint: a body would
    // be read as the start of the next response on the same connection.
    void headAnswersCarryNoBody_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::newRow("/") << QByteArray("/");
        QTest::newRow("/healthz") << QByteArray("/healthz");
        QTest::newRow("/v1/models") << QByteArray("/v1/models");
        QTest::newRow("/v1/key") << QByteArray("/v1/key");
        QTest::newRow("unknown (404)") << QByteArray("/v1/nothing-here");
    }
    void headAnswersCarryNoBody()
    {
        QFETCH(QByteArray, path);
        HttpClient client(m_h.gateway->port());
        client.setKeepAlive(true);
        client.setBearer(kSecret);
        const HttpResponse head = client.request("HEAD", path);
        QVERIFY2(head.status > 0 && head.body.isEmpty(), qPrintable(head.describe()));
        const HttpResponse get = client.get(path);
        QCOMPARE(get.status, head.status);
        QVERIFY2(!get.body.isEmpty(), qPrintable(get.describe()));
        // /healthz: its in_flight figure may differ by a digit; a 404 names the method it got.
        if (path != "/healthz" && head.status == 200)
            QCOMPARE(head.header("content-length"), QByteArray::number(get.body.size()));
        const HttpResponse again = client.get("/healthz");
        QCOMPARE(again.status, 200);
        QCOMPARE(parseObject(again.body).value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    }

    // Claude Code's defaults and Anthropic's dated ids reach the Anthropic-format provider as sent,
    // priced as the catalog's model they match.
    void claudeNamesReachTheAnthropicProvider_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<double>("input");
        QTest::addColumn<double>("output");
        QTest::newRow("claude-opus-4-8") << "claude-opus-4-8" << 5.0 << 25.0;
        QTest::newRow("claude-sonnet-5") << "claude-sonnet-5" << 2.0 << 10.0;
        QTest::newRow("dated sonnet 4.5") << "claude-sonnet-4-5-20250929" << 3.0 << 15.0;
        QTest::newRow("dated opus 4.1") << "claude-opus-4-1-20250805" << 15.0 << 75.0;
        QTest::newRow("-latest") << "claude-3-5-haiku-latest" << -1.0 << -1.0; // the alias claude-haiku-* does not match
    }
    void claudeNamesReachTheAnthropicProvider()
    {
        QFETCH(QString, model);
        QFETCH(double, input);
        QFETCH(double, output);
        const HttpResponse r = messages(model);
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("claude"));
        QCOMPARE(upstreamModel(), model);
        const LoggedRequest row = logged(r);
        QCOMPARE(row.provider, QStringLiteral("claude"));
        QVERIFY(row.outputTokens > 0);
        if (input >= 0) {
            QVERIFY(row.costNanoUsd);
            QCOMPARE(*row.costNanoUsd, nanoAt(row, input, output));
        }
    }

    void aNameTheCatalogDoesNotKnowIsServedUnpriced()
    {
        const HttpResponse r = messages(QStringLiteral("claude-sonnet-9-preview"));
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("claude"));
        QCOMPARE(upstreamModel(), QStringLiteral("claude-sonnet-9-preview"));
        const LoggedRequest row = logged(r);
        QVERIFY2(!row.costNanoUsd, "an unknown model is unpriced, not $0 and not a neighbour's price");
    }

    // The 3x case: provider/model is priced as the model itself, not as claude-opus-4 by prefix.
    void providerSlashModelIsPricedAsItself()
    {
        const HttpResponse r = messages(QStringLiteral("claude/claude-opus-4-8"));
        QVERIFY2(r.status == 200, r.body.constData());
        const LoggedRequest row = logged(r);
        QVERIFY(row.costNanoUsd);
        QCOMPARE(*row.costNanoUsd, nanoAt(row, 5.0, 25.0));
    }

    void otherFamilies_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QByteArray>("provider");
        QTest::newRow("codex") << "gpt-5-codex" << QByteArray("oai");
        QTest::newRow("gpt-5.x") << "gpt-5.4" << QByteArray("oai");
        QTest::newRow("o-series") << "o4-mini" << QByteArray("oai");
        QTest::newRow("gemini cli") << "gemini-2.5-pro" << QByteArray("gem");
        QTest::newRow("gemini 3") << "gemini-3-pro-preview" << QByteArray("gem");
    }
    void otherFamilies()
    {
        QFETCH(QString, model);
        QFETCH(QByteArray, provider);
        const HttpResponse r = chat(model);
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), provider);
        QVERIFY(logged(r).costNanoUsd);
    }

    void aliasesRedirectAToolsFixedSlots()
    {
        HttpResponse r = messages(QStringLiteral("claude-haiku-4-5-20251001"));
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("oai"));
        QCOMPARE(r.header("x-gatehouse-model"), QByteArray("oai/gpt-4.1-mini"));
        QCOMPARE(upstreamModel(), QStringLiteral("gpt-4.1-mini"));
        // An alias to a bare name goes through the family rule.
        r = chat(QStringLiteral("house-default"));
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("claude"));
    }

    void pinningAProvider()
    {
        HttpResponse r = chat(QStringLiteral("claude-opus-4-8"), {{"x-gatehouse-provider", "oai"}});
        QVERIFY2(r.status == 200, r.body.constData());
        QCOMPARE(r.header("x-gatehouse-provider"), QByteArray("oai"));
        QCOMPARE(upstreamModel(), QStringLiteral("claude-opus-4-8"));
        r = chat(QStringLiteral("claude-opus-4-8"), {{"x-gatehouse-provider", "nobody"}});
        QCOMPARE(r.status, 400);
        QVERIFY2(errorMessage(r).contains(QLatin1String("nobody")), qPrintable(errorMessage(r)));
    }

    void unknownNamesAreRefused()
    {
        const HttpResponse r = chat(QStringLiteral("llama-unheard-of"));
        QCOMPARE(r.status, 404);
        QCOMPARE(openAIErrorProblem(r), QString());
    }

    void modelsListsAliasesAndFamilies()
    {
        HttpClient client(m_h.gateway->port());
        const HttpResponse r = client.get("/v1/models", bearer(kSecret));
        QCOMPARE(r.status, 200);
        const QJsonObject doc = parseObject(r.body);
        bool alias = false;
        for (const QJsonValue &v : doc.value(QStringLiteral("data")).toArray()) {
            const QJsonObject m = v.toObject();
            if (m.value(QStringLiteral("id")).toString() == u"claude-haiku-*") {
                alias = true;
                QCOMPARE(m.value(QStringLiteral("gatehouse")).toObject().value(QStringLiteral("to")).toString(),
                         QStringLiteral("oai/gpt-4.1-mini"));
            }
        }
        QVERIFY(alias);
        QStringList families;
        for (const QJsonValue &v : doc.value(QStringLiteral("gatehouse_families")).toArray())
            families.append(v.toObject().value(QStringLiteral("vendor")).toString());
        families.sort(); // in the providers' order, which the store keeps by id
        QCOMPARE(families, QStringList({QStringLiteral("anthropic"), QStringLiteral("google"), QStringLiteral("openai")}));
    }
};

QTEST_GUILESS_MAIN(TestGatewayModelNames)
#include "tst_gateway_modelnames.moc"
