// The "Connect a tool" generator (app/connect): which model each tool's snippet names, and what the
// snippets say for today's tool versions. tests/sdk/cli.test.mjs runs the real tools with them.
#include "connect/snippets.h"
#include <QTest>

using namespace gh;

namespace {

ProviderConfig provider(const QString &id, ProviderFormat format, bool enabled = true)
{
    ProviderConfig p;
    p.id = id;
    p.format = format;
    p.baseUrl = QUrl(QStringLiteral("http://127.0.0.1:9/v1"));
    p.enabled = enabled;
    return p;
}

ModelConfig model(const QString &id, bool priced = true)
{
    ModelConfig m;
    m.id = id;
    m.provider = id.section(u'/', 0, 0);
    m.upstreamModel = id.section(u'/', 1);
    if (priced) {
        m.price.input = 1.0;
        m.price.output = 2.0;
    }
    return m;
}

std::shared_ptr<const RegistrySnapshot> registry(const QList<ProviderConfig> &providers, const QList<ModelConfig> &models)
{
    return Registry::build(providers, models, {}, {}, {});
}

ConnectRequest request(const QString &tool, const QStringList &allow = {})
{
    ConnectRequest r;
    r.tool = tool;
    r.origin = QStringLiteral("http://127.0.0.1:8484");
    r.keyName = QStringLiteral("agent");
    r.allowModels = allow;
    return r;
}

} // namespace

class TestSnippets : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void eachToolNamesAModelItsFormatServes()
    {
        const auto reg = registry(
            {provider(QStringLiteral("oai"), ProviderFormat::OpenAI), provider(QStringLiteral("claude"), ProviderFormat::Anthropic),
                provider(QStringLiteral("off"), ProviderFormat::Anthropic, false)},
            {model(QStringLiteral("claude/sonnet")), model(QStringLiteral("claude/cheap"), false), model(QStringLiteral("oai/gpt")),
                model(QStringLiteral("off/aaa"))});
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("claude-code"), {}), QStringLiteral("claude/sonnet"));
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("anthropic-sdk"), {}), QStringLiteral("claude/sonnet"));
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("codex"), {}), QStringLiteral("oai/gpt"));
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("openai-sdk"), {}), QStringLiteral("oai/gpt"));
        // The key's patterns decide; a translatable model serves a chat tool when no OpenAI one is allowed.
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("curl"), {QStringLiteral("claude/*")}), QStringLiteral("claude/sonnet"));
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("claude-code"), {QStringLiteral("oai/*")}), QStringLiteral("oai/gpt"));
        // Codex's Responses requests are translated too: an Anthropic-only key offers it Claude.
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("codex"), {QStringLiteral("claude/*")}), QStringLiteral("claude/sonnet"));
        // Priced before unpriced; an exact allowed id first; a disabled provider never.
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("claude-code"), {QStringLiteral("claude/cheap")}), QStringLiteral("claude/cheap"));
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("claude-code"), {QStringLiteral("off/*")}), QString());
        QCOMPARE(pickSnippetModel(*reg, QStringLiteral("emacs"), {}), QString());
    }

    void claudeCode()
    {
        const auto reg = registry({provider(QStringLiteral("claude"), ProviderFormat::Anthropic)}, {model(QStringLiteral("claude/sonnet"))});
        auto r = request(QStringLiteral("claude-code"));
        const ConnectSnippet s = connectSnippet(*reg, r);
        QVERIFY(s.ok);
        QCOMPARE(s.model, QStringLiteral("claude/sonnet"));
#ifndef Q_OS_WIN
        QCOMPARE(s.text, QStringLiteral("export ANTHROPIC_BASE_URL=\"http://127.0.0.1:8484\"\n"
                                        "export ANTHROPIC_AUTH_TOKEN=\"<your agent key>\"\n"
                                        "export ANTHROPIC_MODEL=\"claude/sonnet\"\n"
                                        "export ANTHROPIC_DEFAULT_OPUS_MODEL=\"claude/sonnet\"\n"
                                        "export ANTHROPIC_DEFAULT_SONNET_MODEL=\"claude/sonnet\"\n"
                                        "export ANTHROPIC_DEFAULT_HAIKU_MODEL=\"claude/sonnet\"\n"
                                        "claude\n"));
#endif
        r.secret = QStringLiteral("gk-secret-1");
        r.model = QStringLiteral("claude/opus");
        const QString text = connectSnippet(*reg, r).text;
        QVERIFY(text.contains(QStringLiteral("ANTHROPIC_AUTH_TOKEN")) && text.contains(QStringLiteral("gk-secret-1")));
        QVERIFY(text.contains(QStringLiteral("ANTHROPIC_MODEL")) && text.contains(QStringLiteral("claude/opus")));
        QVERIFY(!text.contains(QStringLiteral("<your")));
    }

    void codexUsesTheResponsesWire()
    {
        const auto reg = registry({provider(QStringLiteral("oai"), ProviderFormat::OpenAI)}, {model(QStringLiteral("oai/gpt"))});
        const QString text = connectSnippet(*reg, request(QStringLiteral("codex"))).text;
        QVERIFY2(text.contains(QStringLiteral("wire_api = \"responses\"\n")), qPrintable(text));
        QVERIFY(!text.contains(QStringLiteral("\"chat\"")));
        QVERIFY(text.contains(QStringLiteral("model = \"oai/gpt\"\n")));
        QVERIFY(text.contains(QStringLiteral("base_url = \"http://127.0.0.1:8484/v1\"\n")));
        QVERIFY(text.contains(QStringLiteral("env_key = \"GATEHOUSE_API_KEY\"\n")));
    }

    void aiSdkUsesTheProviderPackageOfTheFormat()
    {
        const auto reg = registry(
            {provider(QStringLiteral("oai"), ProviderFormat::OpenAI), provider(QStringLiteral("claude"), ProviderFormat::Anthropic)},
            {model(QStringLiteral("oai/gpt")), model(QStringLiteral("claude/sonnet"))});
        const QString openai = connectSnippet(*reg, request(QStringLiteral("ai-sdk"))).text;
        QVERIFY2(openai.contains(QStringLiteral("createOpenAI({ baseURL: 'http://127.0.0.1:8484/v1'")), qPrintable(openai));
        QVERIFY(openai.contains(QStringLiteral("gatehouse.chat('oai/gpt')")));
        const QString anthropic = connectSnippet(*reg, request(QStringLiteral("ai-sdk"), {QStringLiteral("claude/*")})).text;
        // @ai-sdk/anthropic appends /messages to its base URL, which therefore ends in /v1.
        QVERIFY2(anthropic.contains(QStringLiteral("createAnthropic({ baseURL: 'http://127.0.0.1:8484/v1'")), qPrintable(anthropic));
        QVERIFY(anthropic.contains(QStringLiteral("gatehouse('claude/sonnet')")));
    }

    void everyToolHasASnippet_data()
    {
        QTest::addColumn<QString>("tool");
        for (const QString &t : snippetTools())
            QTest::newRow(qPrintable(t)) << t;
    }
    void everyToolHasASnippet()
    {
        QFETCH(QString, tool);
        QVERIFY(!snippetToolTitle(tool).isEmpty());
        const auto reg = registry({provider(QStringLiteral("oai"), ProviderFormat::OpenAI)}, {model(QStringLiteral("oai/gpt"))});
        auto r = request(tool);
        r.secret = QStringLiteral("gk-secret-2");
        const ConnectSnippet s = connectSnippet(*reg, r);
        QVERIFY(s.ok);
        QVERIFY(s.text.endsWith(u'\n'));
        QVERIFY2(s.text.contains(QStringLiteral("gk-secret-2")), qPrintable(s.text));
        QVERIFY2(s.text.contains(QStringLiteral("http://127.0.0.1:8484")), qPrintable(s.text));
        QVERIFY2(s.text.contains(QStringLiteral("oai/gpt")), qPrintable(s.text));
        QVERIFY2(!s.text.contains(QStringLiteral("openai/gpt-4.1-mini")), "no hard-coded model");
    }

    void noReachableModelIsSaid()
    {
        const auto reg = registry({}, {});
        const ConnectSnippet s = connectSnippet(*reg, request(QStringLiteral("curl")));
        QVERIFY(s.ok);
        QVERIFY(s.model.isEmpty());
        QVERIFY2(s.text.startsWith(QStringLiteral("# This key reaches no model yet")), qPrintable(s.text));
        QVERIFY(!s.text.contains(QStringLiteral("gpt-4.1-mini")));
    }

    void geminiCliPrefersAGeminiModelAndSelectsKeySignIn()
    {
        const auto reg = registry({provider(QStringLiteral("oai"), ProviderFormat::OpenAI), provider(QStringLiteral("g"), ProviderFormat::Gemini)},
                                  {model(QStringLiteral("oai/gpt")), model(QStringLiteral("g/flash"))});
        const ConnectSnippet s = connectSnippet(*reg, request(QStringLiteral("gemini-cli")));
        QCOMPARE(s.model, QStringLiteral("g/flash"));
        QVERIFY2(s.text.contains(QStringLiteral("\"selectedType\": \"gemini-api-key\"")), qPrintable(s.text));
        QVERIFY2(s.text.contains(QStringLiteral("GOOGLE_GEMINI_BASE_URL=\"http://127.0.0.1:8484\"")), qPrintable(s.text));
        QVERIFY2(s.text.contains(QStringLiteral("GEMINI_MODEL=\"g/flash\"")), qPrintable(s.text));
        // Any model is translated: an OpenAI-format one when that is all the key reaches.
        const auto onlyOpenAI = registry({provider(QStringLiteral("oai"), ProviderFormat::OpenAI)}, {model(QStringLiteral("oai/gpt"))});
        QCOMPARE(connectSnippet(*onlyOpenAI, request(QStringLiteral("gemini-cli"))).model, QStringLiteral("oai/gpt"));
    }

    void unknownTool()
    {
        const auto reg = registry({}, {});
        const ConnectSnippet s = connectSnippet(*reg, request(QStringLiteral("emacs")));
        QVERIFY(!s.ok);
        QVERIFY(s.text.isEmpty());
        QVERIFY(s.error.contains(QStringLiteral("claude-code")));
    }
};

QTEST_GUILESS_MAIN(TestSnippets)
#include "tst_snippets.moc"
