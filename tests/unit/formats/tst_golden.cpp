// Golden tests: every file pair under golden/ (inputs built from the providers' documented examples)
// is translated and compared semantically with the expected output (both parsed).
//
//   request/<direction>/NAME.in.json  -> NAME.out.json, or NAME.error.json {"feature": "..."} for a refusal
//   response/<direction>/NAME.in.json -> NAME.out.json
//   error/<direction>/STATUS_NAME.in.json (or .in.txt) -> STATUS_NAME.out.json
//   stream/<direction>/NAME.in.sse    -> NAME.out.sse; comment lines in the input set options:
//       ": include_usage", ": fail STATUS MESSAGE" (end with fail() instead of finish()), ": saw_error"
// Expected values may use "<any>" and "<prefix:abc>" for generated ids and timestamps.
#include "goldenkit.h"
#include "formats/anthropic/anthropictranslate.h"
#include "formats/gemini/geminitranslate.h"
#include <QTest>

using namespace gh;

namespace {
const QString kAnthropicModel = QStringLiteral("claude-sonnet-4-20250514");
const QString kOpenAIModel = QStringLiteral("gpt-4o");
const QString kClientModel = QStringLiteral("client-model");
constexpr qint64 kDefaultMaxTokens = 4096;

void addRows(const QString &kind, const QStringList &directions, const QString &inSuffix)
{
    QTest::addColumn<QString>("direction");
    QTest::addColumn<QString>("name");
    int rows = 0;
    for (const QString &d : directions) {
        for (const QString &name : golden::cases(kind + QLatin1Char('/') + d, inSuffix)) {
            QTest::newRow(qPrintable(d + QLatin1Char('/') + name)) << d << name;
            ++rows;
        }
    }
    QVERIFY2(rows > 0, "no golden files found");
}
} // namespace

class TestGolden : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requests_data()
    {
        addRows(QStringLiteral("request"),
            {QStringLiteral("openai_to_anthropic"), QStringLiteral("anthropic_to_openai"),
                QStringLiteral("openai_to_gemini")},
            QStringLiteral(".in.json"));
    }
    void requests()
    {
        QFETCH(QString, direction);
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("request/") + direction + QLatin1Char('/') + name);
        const QByteArray in = golden::read(base + QLatin1String(".in.json"));
        QVERIFY2(!in.isEmpty(), "empty input");
        TranslateError err;
        std::optional<QByteArray> out;
        if (direction == QLatin1String("openai_to_anthropic"))
            out = openAIChatToAnthropic(in, kAnthropicModel, kDefaultMaxTokens, &err);
        else if (direction == QLatin1String("anthropic_to_openai"))
            out = anthropicToOpenAIChat(in, kOpenAIModel, &err);
        else
            out = openAIChatToGemini(in, &err);

        if (QFile::exists(base + QLatin1String(".error.json"))) {
            QVERIFY2(!out, out ? out->constData() : "");
            bool ok = false;
            const QJsonObject expected
                = golden::parse(golden::read(base + QLatin1String(".error.json")), &ok).toObject();
            QVERIFY(ok);
            QCOMPARE(err.feature, expected.value(QLatin1String("feature")).toString());
            QVERIFY2(!err.message.isEmpty(), "a refusal explains itself");
            return;
        }
        QVERIFY2(out, qPrintable(err.feature + QLatin1String(": ") + err.message));
        QString why;
        QVERIFY2(golden::matchJson(golden::read(base + QLatin1String(".out.json")), *out, &why),
            qPrintable(why + QLatin1String("\noutput: ") + QString::fromUtf8(*out)));
    }

    void responses_data()
    {
        addRows(QStringLiteral("response"),
            {QStringLiteral("anthropic_to_openai"), QStringLiteral("openai_to_anthropic"),
                QStringLiteral("gemini_to_openai")},
            QStringLiteral(".in.json"));
    }
    void responses()
    {
        QFETCH(QString, direction);
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("response/") + direction + QLatin1Char('/') + name);
        const QByteArray in = golden::read(base + QLatin1String(".in.json"));
        TranslateError err;
        QByteArray out;
        if (direction == QLatin1String("anthropic_to_openai"))
            out = anthropicResponseToOpenAI(in, kClientModel, &err);
        else if (direction == QLatin1String("openai_to_anthropic"))
            out = openAIResponseToAnthropic(in, kClientModel, &err);
        else
            out = geminiResponseToOpenAI(in, kClientModel, &err);
        QString why;
        QVERIFY2(golden::matchJson(golden::read(base + QLatin1String(".out.json")), out, &why),
            qPrintable(why + QLatin1String("\noutput: ") + QString::fromUtf8(out)));
        // An error-shaped upstream body is reported through err as well.
        QCOMPARE(!err.feature.isEmpty(), name.startsWith(QLatin1String("error")));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("direction");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("input");
        for (const QString &d : {QStringLiteral("openai_to_anthropic"), QStringLiteral("anthropic_to_openai"),
                 QStringLiteral("gemini_to_openai")}) {
            for (const QString &suffix : {QStringLiteral(".in.json"), QStringLiteral(".in.txt")}) {
                for (const QString &name : golden::cases(QStringLiteral("error/") + d, suffix))
                    QTest::newRow(qPrintable(d + QLatin1Char('/') + name)) << d << name << name + suffix;
            }
        }
    }
    void errors()
    {
        QFETCH(QString, direction);
        QFETCH(QString, name);
        QFETCH(QString, input);
        const QString dir = golden::dir(QStringLiteral("error/") + direction + QLatin1Char('/'));
        const int status = name.section(QLatin1Char('_'), 0, 0).toInt();
        QVERIFY2(status >= 400, "error golden names start with the HTTP status");
        const QByteArray in = golden::read(dir + input);
        QByteArray out;
        if (direction == QLatin1String("openai_to_anthropic"))
            out = openAIErrorToAnthropic(status, in);
        else if (direction == QLatin1String("anthropic_to_openai"))
            out = anthropicErrorToOpenAI(status, in);
        else
            out = geminiErrorToOpenAI(status, in);
        QString why;
        QVERIFY2(golden::matchJson(golden::read(dir + name + QLatin1String(".out.json")), out, &why),
            qPrintable(why + QLatin1String("\noutput: ") + QString::fromUtf8(out)));
    }

    void anthropicErrorTypes()
    {
        // The statuses of Anthropic's error documentation, and the ones Gatehouse adds.
        const QList<QPair<int, QByteArray>> table = {{400, "invalid_request_error"}, {401, "authentication_error"},
            {402, "billing_error"}, {403, "permission_error"}, {404, "not_found_error"}, {413, "request_too_large"},
            {429, "rate_limit_error"}, {500, "api_error"}, {529, "overloaded_error"}, {503, "overloaded_error"},
            {504, "timeout_error"}, {502, "api_error"}, {422, "invalid_request_error"}};
        for (const auto &[status, type] : table)
            QCOMPARE(anthropicErrorType(status), type);
        QString why;
        QVERIFY2(
            golden::matchJson(
                R"({"type":"error","error":{"type":"billing_error","message":"Budget exhausted for key 'scripts'"}})",
                anthropicErrorBody(402, QStringLiteral("Budget exhausted for key 'scripts'")), &why),
            qPrintable(why));
    }

    void streams_data()
    {
        addRows(QStringLiteral("stream"),
            {QStringLiteral("anthropic_to_openai"), QStringLiteral("openai_to_anthropic"),
                QStringLiteral("gemini_to_openai")},
            QStringLiteral(".in.sse"));
    }
    void streams()
    {
        QFETCH(QString, direction);
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("stream/") + direction + QLatin1Char('/') + name);
        QStringList options;
        const QList<golden::SseEvent> events
            = golden::parseSse(golden::read(base + QLatin1String(".in.sse")), &options);
        QVERIFY(!events.isEmpty());
        const bool includeUsage = options.contains(QLatin1String("include_usage"));
        std::unique_ptr<StreamTranslator> t;
        if (direction == QLatin1String("anthropic_to_openai"))
            t = anthropicToOpenAIStream(kClientModel, includeUsage);
        else if (direction == QLatin1String("openai_to_anthropic"))
            t = openAIToAnthropicStream(kClientModel);
        else
            t = geminiToOpenAIStream(kClientModel, includeUsage);

        QByteArray out;
        for (const golden::SseEvent &e : events) {
            const QByteArray piece = t->feed(e.name, e.data);
            QVERIFY2(piece.isEmpty() || piece.endsWith("\n\n"), piece.constData()); // whole events only
            out += piece;
        }
        QString failOption;
        for (const QString &o : options) {
            if (o.startsWith(QLatin1String("fail ")))
                failOption = o;
        }
        if (!failOption.isEmpty()) {
            out += t->fail(failOption.section(QLatin1Char(' '), 1, 1).toInt(), failOption.section(QLatin1Char(' '), 2));
        } else {
            out += t->finish();
        }
        QVERIFY(t->ended());
        QVERIFY(t->finish().isEmpty()); // closed once
        QCOMPARE(t->sawError(), options.contains(QLatin1String("saw_error")));
        if (t->sawError())
            QVERIFY(!t->errorMessage().isEmpty());
        QString why;
        QVERIFY2(golden::matchSse(golden::read(base + QLatin1String(".out.sse")), out, &why), qPrintable(why));
    }
};

QTEST_GUILESS_MAIN(TestGolden)
#include "tst_golden.moc"
