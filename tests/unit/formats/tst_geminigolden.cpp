// Golden tests of the Gemini API as a client's format (formats/gemini/geminiinbound.h), in the
// golden layout (goldenkit.h), under golden/gemini/:
//   request/gemini_to_openai/NAME.in.json  -> NAME.out.json, or NAME.error.json {"feature": "..."}
//   response/openai_to_gemini/NAME.in.json -> NAME.out.json
//   error/openai_to_gemini/STATUS_NAME.in.json (or .in.txt) -> STATUS_NAME.out.json
//   stream/openai_to_gemini/NAME.in.sse    -> NAME.out.sse (": fail STATUS MESSAGE", ": saw_error")
// Inputs follow Google's generateContent reference (ai.google.dev/api/generate-content) and the
// shapes Gemini CLI and @google/genai send.
#include "formats/gemini/geminiinbound.h"
#include "goldenkit.h"
#include <QTest>

using namespace gh;

namespace {
const QString kModel = QStringLiteral("client-model");

QString mismatch(const QString &why, const QByteArray &out)
{
    return why + QLatin1String("\noutput: ") + QString::fromUtf8(out);
}
} // namespace

class TestGeminiGolden : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requests_data()
    {
        QTest::addColumn<QString>("name");
        for (const QString &name : golden::cases(QStringLiteral("request/gemini_to_openai"), QStringLiteral(".in.json")))
            QTest::newRow(qPrintable(name)) << name;
    }
    void requests()
    {
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("request/gemini_to_openai/") + name);
        TranslateError err;
        const bool stream = name.contains(QLatin1String("stream"));
        const auto out = geminiToOpenAIChat(golden::read(base + QLatin1String(".in.json")), kModel, stream, &err);
        if (QFile::exists(base + QLatin1String(".error.json"))) {
            QVERIFY2(!out, out ? out->constData() : "");
            bool ok = false;
            const QJsonObject expected = golden::parse(golden::read(base + QLatin1String(".error.json")), &ok).toObject();
            QVERIFY(ok);
            QCOMPARE(err.feature, expected.value(QLatin1String("feature")).toString());
            QVERIFY2(!err.message.isEmpty(), "a refusal explains itself");
            return;
        }
        QVERIFY2(out, qPrintable(err.feature + QLatin1String(": ") + err.message));
        QString why;
        QVERIFY2(golden::matchJson(golden::read(base + QLatin1String(".out.json")), *out, &why), qPrintable(mismatch(why, *out)));
    }

    void responses_data()
    {
        QTest::addColumn<QString>("name");
        for (const QString &name : golden::cases(QStringLiteral("response/openai_to_gemini"), QStringLiteral(".in.json")))
            QTest::newRow(qPrintable(name)) << name;
    }
    void responses()
    {
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("response/openai_to_gemini/") + name);
        const QByteArray out = openAIResponseToGemini(golden::read(base + QLatin1String(".in.json")), kModel);
        QString why;
        QVERIFY2(golden::matchJson(golden::read(base + QLatin1String(".out.json")), out, &why), qPrintable(mismatch(why, out)));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("input");
        for (const QString &suffix : {QStringLiteral(".in.json"), QStringLiteral(".in.txt")}) {
            for (const QString &name : golden::cases(QStringLiteral("error/openai_to_gemini"), suffix))
                QTest::newRow(qPrintable(name)) << name << name + suffix;
        }
    }
    void errors()
    {
        QFETCH(QString, name);
        QFETCH(QString, input);
        const QString dir = golden::dir(QStringLiteral("error/openai_to_gemini/"));
        const int status = name.section(QLatin1Char('_'), 0, 0).toInt();
        const QByteArray out = openAIErrorToGemini(status, golden::read(dir + input));
        QString why;
        QVERIFY2(golden::matchJson(golden::read(dir + name + QLatin1String(".out.json")), out, &why), qPrintable(mismatch(why, out)));
    }

    void errorStatuses()
    {
        // google.rpc.Code names for the statuses the gateway answers with.
        const QList<QPair<int, QString>> table = {{400, QStringLiteral("INVALID_ARGUMENT")}, {401, QStringLiteral("UNAUTHENTICATED")},
            {403, QStringLiteral("PERMISSION_DENIED")}, {404, QStringLiteral("NOT_FOUND")}, {429, QStringLiteral("RESOURCE_EXHAUSTED")},
            {500, QStringLiteral("INTERNAL")}, {503, QStringLiteral("UNAVAILABLE")}, {504, QStringLiteral("DEADLINE_EXCEEDED")}};
        for (const auto &[status, name] : table) {
            const QJsonObject e = QJsonDocument::fromJson(geminiErrorBody(status, QStringLiteral("m"))).object().value(QLatin1String("error")).toObject();
            QCOMPARE(e.value(QLatin1String("code")).toInt(), status);
            QCOMPARE(e.value(QLatin1String("status")).toString(), name);
            QCOMPARE(e.value(QLatin1String("message")).toString(), QStringLiteral("m"));
        }
    }

    void streams_data()
    {
        QTest::addColumn<QString>("name");
        for (const QString &name : golden::cases(QStringLiteral("stream/openai_to_gemini"), QStringLiteral(".in.sse")))
            QTest::newRow(qPrintable(name)) << name;
    }
    void streams()
    {
        QFETCH(QString, name);
        const QString base = golden::dir(QStringLiteral("stream/openai_to_gemini/") + name);
        QStringList options;
        const QList<golden::SseEvent> events = golden::parseSse(golden::read(base + QLatin1String(".in.sse")), &options);
        QVERIFY(!events.isEmpty());
        auto t = openAIToGeminiStream(kModel);
        QByteArray out;
        for (const golden::SseEvent &e : events) {
            const QByteArray piece = t->feed(e.name, e.data);
            QVERIFY2(piece.isEmpty() || piece.endsWith("\n\n"), piece.constData());
            out += piece;
        }
        QString failOption;
        for (const QString &o : options) {
            if (o.startsWith(QLatin1String("fail ")))
                failOption = o;
        }
        out += failOption.isEmpty() ? t->finish() : t->fail(failOption.section(QLatin1Char(' '), 1, 1).toInt(), failOption.section(QLatin1Char(' '), 2));
        QVERIFY(t->ended());
        QVERIFY(t->finish().isEmpty());
        QCOMPARE(t->sawError(), options.contains(QLatin1String("saw_error")));
        QString why;
        QVERIFY2(golden::matchSse(golden::read(base + QLatin1String(".out.sse")), out, &why), qPrintable(mismatch(why, out)));
    }
};

QTEST_GUILESS_MAIN(TestGeminiGolden)
#include "tst_geminigolden.moc"
