// OpenAI-shaped errors and the JSON string escaping they (and the body rewrite) rely on.
#include "gateway/gatewayerror.h"
#include "http/sseframer.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using gh::GatewayError;

namespace {

// Parses `"..."` (a JSON string literal) back into a QString through QJsonDocument.
std::optional<QString> parseJsonString(const QByteArray &literal)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson("[" + literal + "]", &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isArray() || doc.array().size() != 1
        || !doc.array().at(0).isString())
        return std::nullopt;
    return doc.array().at(0).toString();
}

QJsonObject errorObject(const QByteArray &json)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (pe.error != QJsonParseError::NoError)
        qWarning("not JSON: %s (%s)", json.constData(), qPrintable(pe.errorString()));
    return doc.object();
}

} // namespace

class TestGatewayError : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void factories_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("badRequest") << 0 << 400 << QByteArray("invalid_request_error") << QByteArray("invalid_request");
        QTest::newRow("unauthorized") << 1 << 401 << QByteArray("authentication_error")
                                      << QByteArray("invalid_api_key");
        QTest::newRow("forbidden") << 2 << 403 << QByteArray("permission_error") << QByteArray("model_not_allowed");
        QTest::newRow("notFound") << 3 << 404 << QByteArray("invalid_request_error") << QByteArray("model_not_found");
        QTest::newRow("budgetExhausted") << 4 << 402 << QByteArray("insufficient_quota")
                                         << QByteArray("budget_exceeded");
        QTest::newRow("upstream") << 5 << 502 << QByteArray("upstream_error") << QByteArray("upstream_error");
        QTest::newRow("timeout") << 6 << 504 << QByteArray("upstream_error") << QByteArray("upstream_timeout");
        QTest::newRow("unavailable") << 7 << 503 << QByteArray("service_unavailable")
                                     << QByteArray("service_unavailable");
        QTest::newRow("internal") << 8 << 500 << QByteArray("server_error") << QByteArray("internal_error");
    }
    void factories()
    {
        QFETCH(int, which);
        QFETCH(int, status);
        QFETCH(QByteArray, type);
        QFETCH(QByteArray, code);
        const QString m = QStringLiteral("message %1").arg(which);
        const GatewayError errors[]
            = {GatewayError::badRequest(m), GatewayError::unauthorized(m), GatewayError::forbidden(m),
                GatewayError::notFound(m), GatewayError::budgetExhausted(m), GatewayError::upstream(m),
                GatewayError::timeout(m), GatewayError::unavailable(m), GatewayError::internal(m)};
        const GatewayError &e = errors[which];
        QCOMPARE(e.status, status);
        QCOMPARE(e.type, type);
        QCOMPARE(e.code, code);
        QCOMPARE(e.message, m);
        QVERIFY(e.extraHeaders.isEmpty());

        const QJsonObject root = errorObject(e.toOpenAIJson());
        QCOMPARE(root.keys(), QStringList{QStringLiteral("error")});
        const QJsonObject err = root.value(QStringLiteral("error")).toObject();
        QCOMPARE(err.value(QStringLiteral("message")).toString(), m);
        QCOMPARE(err.value(QStringLiteral("type")).toString(), QString::fromLatin1(type));
        QCOMPARE(err.value(QStringLiteral("code")).toString(), QString::fromLatin1(code));
        QVERIFY(err.contains(QStringLiteral("param")));
        QVERIFY(err.value(QStringLiteral("param")).isNull());
    }

    void customCodes()
    {
        QCOMPARE(GatewayError::badRequest(QStringLiteral("x"), "ambiguous_model").code, QByteArray("ambiguous_model"));
        QCOMPARE(GatewayError::forbidden(QStringLiteral("x"), "key_paused").code, QByteArray("key_paused"));
        QCOMPARE(GatewayError::notFound(QStringLiteral("x"), "not_found").code, QByteArray("not_found"));
        QCOMPARE(GatewayError::upstream(QStringLiteral("x"), "upstream_reset").code, QByteArray("upstream_reset"));
        QCOMPARE(GatewayError::unavailable(QStringLiteral("x"), "shutting_down").code, QByteArray("shutting_down"));
    }

    void exactShape()
    {
        const GatewayError e = GatewayError::unauthorized(QStringLiteral("Unknown key."));
        QCOMPARE(e.toOpenAIJson(),
            QByteArray(
                R"({"error":{"message":"Unknown key.","type":"authentication_error","param":null,"code":"invalid_api_key"}})"));
        QCOMPARE(e.toOpenAIStreamEvent(), "data: " + e.toOpenAIJson() + "\n\n");
    }

    void tooLarge()
    {
        const GatewayError e = GatewayError::tooLarge(32ll * 1024 * 1024);
        QCOMPARE(e.status, 413);
        QCOMPARE(e.code, QByteArray("request_too_large"));
        QVERIFY2(e.message.contains(QStringLiteral("33554432 bytes")), qPrintable(e.message));
        QVERIFY2(e.message.contains(QStringLiteral("(32 MiB)")), qPrintable(e.message));
        QVERIFY(e.message.contains(QStringLiteral("max_body_mb")));
        const GatewayError small = GatewayError::tooLarge(1536 * 1024);
        QVERIFY2(small.message.contains(QStringLiteral("(1.5 MiB)")), qPrintable(small.message));
        QCOMPARE(errorObject(small.toOpenAIJson())
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("message"))
                     .toString(),
            small.message);
    }

    void messagesSurviveTheRoundTrip_data()
    {
        QTest::addColumn<QString>("message");
        QTest::newRow("plain") << QStringLiteral("Model 'x' does not exist.");
        QTest::newRow("quotes") << QStringLiteral("say \"hi\" and 'bye'");
        QTest::newRow("backslashes") << QStringLiteral("C:\\path\\to\\\"file\\\"");
        QTest::newRow("newlines and tabs") << QStringLiteral("line1\nline2\r\n\tindent");
        QTest::newRow("controls") << QString::fromUtf8("nul\0 bell\x07 esc\x1b unit\x1f del\x7f", 26);
        QTest::newRow("unicode") << QStringLiteral("caf\u00e9 \u6a21\u578b \U0001F600 \u2028\u2029");
        QTest::newRow("json inside") << QStringLiteral("{\"error\":{\"message\":\"nested\"}}");
        QTest::newRow("slash") << QStringLiteral("</script>");
        QTest::newRow("empty") << QString();
    }
    void messagesSurviveTheRoundTrip()
    {
        QFETCH(QString, message);
        const QByteArray literal = gh::jsonString(message);
        QVERIFY(literal.startsWith('"') && literal.endsWith('"'));
        const auto back = parseJsonString(literal);
        QVERIFY2(back, literal.constData());
        QCOMPARE(*back, message);
        // Escaped output never carries a raw control character.
        for (char c : literal)
            QVERIFY(static_cast<unsigned char>(c) >= 0x20);

        const GatewayError e = GatewayError::upstream(message);
        QCOMPARE(errorObject(e.toOpenAIJson())
                     .value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("message"))
                     .toString(),
            message);

        // The stream event is one SSE event whose data is the same JSON, whatever the message holds.
        const QByteArray event = e.toOpenAIStreamEvent();
        gh::SseFramer framer;
        QList<QByteArray> events;
        framer.feed(event, [&](QByteArrayView ev) { events.append(ev.toByteArray()); });
        QCOMPARE(events.size(), 1);
        QVERIFY(framer.pending().isEmpty());
        QCOMPARE(gh::SseFramer::eventData(events[0]), e.toOpenAIJson());
    }

    void everyAsciiByte()
    {
        QByteArray all;
        for (int c = 0; c < 128; ++c)
            all.append(char(c));
        const QByteArray literal = gh::jsonString(QByteArrayView(all));
        const auto back = parseJsonString(literal);
        QVERIFY2(back, literal.constData());
        QCOMPARE(back->toLatin1(), all);
        QCOMPARE(gh::jsonString(QByteArrayView("\x01")), QByteArray("\"\\u0001\""));
        QCOMPARE(gh::jsonString(QByteArrayView("a\"b\\c\n")), QByteArray("\"a\\\"b\\\\c\\n\""));
    }

    void utf8PassesThrough()
    {
        // Non-ASCII text stays UTF-8 (no \u escapes needed, fewer bytes).
        QCOMPARE(gh::jsonString(QStringLiteral("\u00e9")), QByteArray("\"\xc3\xa9\""));
        QCOMPARE(gh::jsonString(QByteArrayView("\xe6\xa8\xa1")), QByteArray("\"\xe6\xa8\xa1\""));
        // A lone surrogate in a QString still gives valid UTF-8 JSON.
        QString lone;
        lone.append(QChar(0xD800));
        lone.append(u'x');
        const auto back = parseJsonString(gh::jsonString(lone));
        QVERIFY(back);
        QVERIFY(back->endsWith(u'x'));
    }

    void extraHeadersAreKept()
    {
        GatewayError e = GatewayError::unavailable(QStringLiteral("busy"));
        e.extraHeaders.append(qMakePair(QByteArray("retry-after"), QByteArray("3")));
        const GatewayError copy = e;
        QCOMPARE(copy.extraHeaders.size(), 1);
        QCOMPARE(copy.extraHeaders.first().second, QByteArray("3"));
    }
};

QTEST_GUILESS_MAIN(TestGatewayError)
#include "tst_gatewayerror.moc"
