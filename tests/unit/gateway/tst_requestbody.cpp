// Reading the few request fields the gateway needs and editing them in place, byte for byte.
#include "gateway/requestbody.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using gh::Endpoint;
using gh::RequestFields;

Q_DECLARE_METATYPE(gh::Endpoint)

namespace {

std::optional<RequestFields> inspect(
    QByteArray body, Endpoint endpoint = Endpoint::ChatCompletions, QString *error = nullptr)
{
    QString e;
    auto f = gh::inspectRequestBody(body, endpoint, &e);
    if (error)
        *error = e;
    if (f)
        Q_ASSERT(e.isEmpty());
    return f;
}

QJsonObject parseObject(const QByteArray &json, bool *ok)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    *ok = pe.error == QJsonParseError::NoError && doc.isObject();
    return doc.object();
}

} // namespace

class TestRequestBody : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void endpointPaths()
    {
        QCOMPARE(QByteArray(gh::endpointPath(Endpoint::ChatCompletions)), QByteArray("/chat/completions"));
        QCOMPARE(QByteArray(gh::endpointPath(Endpoint::Completions)), QByteArray("/completions"));
        QCOMPARE(QByteArray(gh::endpointPath(Endpoint::Embeddings)), QByteArray("/embeddings"));
        QCOMPARE(QByteArray(gh::endpointPath(Endpoint::Responses)), QByteArray("/responses"));
    }

    void readsFields()
    {
        const QByteArray body
            = R"({"model":"openai/gpt-4.1-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":100})";
        const auto f = inspect(body);
        QVERIFY(f);
        QCOMPARE(f->model, QStringLiteral("openai/gpt-4.1-mini"));
        QCOMPARE(body.mid(f->modelOffset, f->modelLength), QByteArray("\"openai/gpt-4.1-mini\""));
        QVERIFY(f->stream);
        QCOMPARE(f->maxTokens, std::optional<qint64>(100));
        QVERIFY(!f->clientWantsUsage);
        QCOMPARE(f->streamOptionsOffset, -1);
        QCOMPARE(f->includeUsageOffset, -1);
        QCOMPARE(f->objectEnd, body.size() - 1);
    }

    void maxTokens_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<std::optional<qint64>>("expected");
        const QByteArray head = R"({"model":"m","messages":[],)";
        QTest::newRow("none") << QByteArray(R"({"model":"m","messages":[]})") << std::optional<qint64>();
        QTest::newRow("max_tokens") << head + R"("max_tokens": 5})" << std::optional<qint64>(5);
        QTest::newRow("null") << head + R"("max_tokens": null})" << std::optional<qint64>();
        QTest::newRow("zero") << head + R"("max_tokens": 0})" << std::optional<qint64>(0);
        QTest::newRow("completion wins after")
            << head + R"("max_tokens": 5, "max_completion_tokens": 7})" << std::optional<qint64>(7);
        QTest::newRow("completion wins before")
            << head + R"("max_completion_tokens": 7, "max_tokens": 5})" << std::optional<qint64>(7);
        QTest::newRow("output tokens") << head + R"("max_output_tokens": 4096})" << std::optional<qint64>(4096);
        QTest::newRow("big") << head + R"("max_tokens": 9007199254740993})"
                             << std::optional<qint64>(9007199254740993LL);
    }
    void maxTokens()
    {
        QFETCH(QByteArray, body);
        QFETCH(std::optional<qint64>, expected);
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->maxTokens, expected);
    }

    void streamField_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("stream");
        QTest::newRow("absent") << QByteArray(R"({"model":"m","messages":[]})") << false;
        QTest::newRow("true") << QByteArray(R"({"model":"m","messages":[],"stream":true})") << true;
        QTest::newRow("false") << QByteArray(R"({"model":"m","messages":[],"stream":false})") << false;
        QTest::newRow("null") << QByteArray(R"({"model":"m","messages":[],"stream":null})") << false;
        QTest::newRow("nested is not top-level")
            << QByteArray(R"({"model":"m","messages":[{"stream":true}],"metadata":{"stream":true}})") << false;
    }
    void streamField()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, stream);
        const auto f = inspect(body);
        QVERIFY(f);
        QCOMPARE(f->stream, stream);
    }

    void escapedModelNames_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("model");
        QTest::newRow("slash escaped") << QByteArray(R"({"model":"openai\/gpt-4o","messages":[]})")
                                       << QStringLiteral("openai/gpt-4o");
        QTest::newRow("unicode escape") << QByteArray(R"({"model":"caf\u00e9/\u6a21\u578b","messages":[]})")
                                        << QStringLiteral("caf\u00e9/\u6a21\u578b");
        QTest::newRow("surrogate pair") << QByteArray(R"({"model":"x\ud83d\ude00","messages":[]})")
                                        << QStringLiteral("x\U0001F600");
        QTest::newRow("raw utf-8") << QByteArray("{\"model\":\"mod\xc3\xa8le\",\"messages\":[]}")
                                   << QStringLiteral("mod\u00e8le");
        QTest::newRow("quotes and backslashes")
            << QByteArray("{\"model\":\"a\\\"b\\\\c\",\"messages\":[]}") << QStringLiteral("a\"b\\c");
        QTest::newRow("structural characters")
            << QByteArray("{\"model\":\"a,b}c]d:\",\"messages\":[]}") << QStringLiteral("a,b}c]d:");
        QTest::newRow("escaped key") << QByteArray(R"({"mod\u0065l":"m","messages":[]})") << QStringLiteral("m");
        QTest::newRow("empty") << QByteArray(R"({"model":"","messages":[]})") << QString();
    }
    void escapedModelNames()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, model);
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->model, model);
        QCOMPARE(body.at(f->modelOffset), '"');
        QCOMPARE(body.at(f->modelOffset + f->modelLength - 1), '"');
        // The replacement is exactly that token.
        const QByteArray out = gh::rewriteRequestBody(body, *f, QStringLiteral("up"), true);
        QCOMPARE(out, body.left(f->modelOffset) + "\"up\"" + body.mid(f->modelOffset + f->modelLength));
    }

    // Byte-exact rewrites: only the model token and the include_usage option change.
    void rewrite_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("upstream");
        QTest::addColumn<bool>("requireUsage");
        QTest::addColumn<QByteArray>("expected");

        QTest::newRow("model only, not streaming")
            << QByteArray(R"({"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}]})")
            << QStringLiteral("gpt-4o") << true
            << QByteArray(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})");
        QTest::newRow("stream adds stream_options")
            << QByteArray(R"({"model":"openai/gpt-4o","stream":true,"messages":[]})") << QStringLiteral("gpt-4o")
            << true
            << QByteArray(R"({"model":"gpt-4o","stream":true,"messages":[],"stream_options":{"include_usage":true}})");
        QTest::newRow("stream but usage not required")
            << QByteArray(R"({"model":"openai/gpt-4o","stream":true,"messages":[]})") << QStringLiteral("gpt-4o")
            << false << QByteArray(R"({"model":"gpt-4o","stream":true,"messages":[]})");
        QTest::newRow("stream false") << QByteArray(R"({"model":"a/b","stream":false,"messages":[]})")
                                      << QStringLiteral("b") << true
                                      << QByteArray(R"({"model":"b","stream":false,"messages":[]})");
        QTest::newRow("same model, nothing to do")
            << QByteArray(R"({"model":"gpt-4o","messages":[]})") << QStringLiteral("gpt-4o") << true
            << QByteArray(R"({"model":"gpt-4o","messages":[]})");
        QTest::newRow("same model escaped stays as the client wrote it")
            << QByteArray(R"({"model":"gpt\u002d4o","messages":[]})") << QStringLiteral("gpt-4o") << true
            << QByteArray(R"({"model":"gpt\u002d4o","messages":[]})");
        QTest::newRow("whitespace everywhere")
            << QByteArray("\r\n { \t\"model\" \r\n : \t \"p/m\" \n , \"messages\" : [ ] , \"stream\" : true \n } \n ")
            << QStringLiteral("m") << true
            << QByteArray("\r\n { \t\"model\" \r\n : \t \"m\" \n , \"messages\" : [ ] , \"stream\" : true \n "
                          ",\"stream_options\":{\"include_usage\":true}} \n ");
        QTest::newRow("stream_options without include_usage")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":{"other":1},"messages":[]})")
            << QStringLiteral("m") << true
            << QByteArray(
                   R"({"model":"m","stream":true,"stream_options":{"include_usage":true,"other":1},"messages":[]})");
        QTest::newRow("stream_options with spaces")
            << QByteArray(
                   "{\"model\":\"p/m\",\"stream\":true,\"stream_options\": { \"other\" : [1, {}] } ,\"messages\":[]}")
            << QStringLiteral("m") << true
            << QByteArray("{\"model\":\"m\",\"stream\":true,\"stream_options\": {\"include_usage\":true, \"other\" : "
                          "[1, {}] } ,\"messages\":[]}");
        QTest::newRow("include_usage false")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":{"include_usage":false},"messages":[]})")
            << QStringLiteral("m") << true
            << QByteArray(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
        QTest::newRow("include_usage false with spaces")
            << QByteArray("{\"stream_options\" : { \"x\": 1, \"include_usage\" :  false  , \"y\":2 }, "
                          "\"model\":\"p/m\",\"stream\":true,\"messages\":[]}")
            << QStringLiteral("m") << true
            << QByteArray("{\"stream_options\" : { \"x\": 1, \"include_usage\" :  true  , \"y\":2 }, "
                          "\"model\":\"m\",\"stream\":true,\"messages\":[]}");
        QTest::newRow("include_usage null")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":{"include_usage":null},"messages":[]})")
            << QStringLiteral("m") << true
            << QByteArray(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
        QTest::newRow("include_usage true is left alone")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":{"include_usage":true},"messages":[]})")
            << QStringLiteral("m") << true
            << QByteArray(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
        QTest::newRow("empty stream_options")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":{},"messages":[]})") << QStringLiteral("m")
            << true
            << QByteArray(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
        QTest::newRow("empty stream_options with spaces")
            << QByteArray("{\"model\":\"p/m\",\"stream\":true,\"stream_options\":{ \n },\"messages\":[]}")
            << QStringLiteral("m") << true
            << QByteArray(
                   "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true \n },\"messages\":[]}");
        QTest::newRow("stream_options null")
            << QByteArray(R"({"model":"p/m","stream":true,"stream_options":null,"messages":[]})") << QStringLiteral("m")
            << true
            << QByteArray(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
        QTest::newRow("stream_options before model")
            << QByteArray(R"({"stream_options":{},"stream":true,"messages":[],"model":"p/m"})")
            << QStringLiteral("longer-upstream-name") << true
            << QByteArray(
                   R"({"stream_options":{"include_usage":true},"stream":true,"messages":[],"model":"longer-upstream-name"})");
        QTest::newRow("nested model keys untouched")
            << QByteArray(
                   "{\"messages\":[{\"role\":\"user\",\"content\":\"{\\\"model\\\":\\\"x\\\"}\",\"model\":\"inner\"}],"
                   R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"model":{"type":"string"}}}}}],)"
                   R"("metadata":{"model":"m2","stream_options":{}},"model":"outer","stream":true})")
            << QStringLiteral("up") << true
            << QByteArray(
                   "{\"messages\":[{\"role\":\"user\",\"content\":\"{\\\"model\\\":\\\"x\\\"}\",\"model\":\"inner\"}],"
                   R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"model":{"type":"string"}}}}}],)"
                   R"("metadata":{"model":"m2","stream_options":{}},"model":"up","stream":true,"stream_options":{"include_usage":true}})");
        QTest::newRow("cache_control kept exactly")
            << QByteArray(
                   R"({"model":"anthropic/claude","messages":[{"role":"system","content":[{"type":"text","text":"long prefix","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"q"}],"temperature":0.70,"stream":true})")
            << QStringLiteral("claude") << true
            << QByteArray(
                   R"({"model":"claude","messages":[{"role":"system","content":[{"type":"text","text":"long prefix","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"q"}],"temperature":0.70,"stream":true,"stream_options":{"include_usage":true}})");
        QTest::newRow("upstream name needing escapes")
            << QByteArray(R"({"model":"p/x","messages":[]})") << QStringLiteral("we\"ird\\na\u00efve\n") << true
            << QByteArray("{\"model\":\"we\\\"ird\\\\na\xc3\xafve\\n\",\"messages\":[]}");
        QTest::newRow("model token followed by spaces")
            << QByteArray("{\"model\" : \"p/m\"   ,\"messages\":[]}") << QStringLiteral("mm") << true
            << QByteArray("{\"model\" : \"mm\"   ,\"messages\":[]}");
        QTest::newRow("last duplicate model is the one read and replaced")
            << QByteArray(R"({"model":"first","model":"p/m","messages":[]})") << QStringLiteral("m") << true
            << QByteArray(R"({"model":"first","model":"m","messages":[]})");
    }
    void rewrite()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, upstream);
        QFETCH(bool, requireUsage);
        QFETCH(QByteArray, expected);
        const QByteArray original = body;
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        const QByteArray out = gh::rewriteRequestBody(body, *f, upstream, requireUsage);
        QCOMPARE(out, expected);
        QCOMPARE(body, original); // the input is never modified

        // The result is JSON with the new model; the rest of the document is what the client sent.
        bool ok = false;
        const QJsonObject rewritten = parseObject(out, &ok);
        QVERIFY2(ok, out.constData());
        if (QTest::currentDataTag() != QByteArray("last duplicate model is the one read and replaced")) {
            QCOMPARE(rewritten.value(QStringLiteral("model")).toString(), upstream);
            QJsonObject before = parseObject(original, &ok);
            QVERIFY(ok);
            QJsonObject after = rewritten;
            const bool forced = requireUsage && f->stream && !f->clientWantsUsage;
            if (forced) {
                const QJsonObject opts = after.value(QStringLiteral("stream_options")).toObject();
                QCOMPARE(opts.value(QStringLiteral("include_usage")), QJsonValue(true));
                QJsonObject beforeOpts = before.value(QStringLiteral("stream_options")).toObject();
                QJsonObject afterOpts = opts;
                beforeOpts.remove(QStringLiteral("include_usage"));
                afterOpts.remove(QStringLiteral("include_usage"));
                QCOMPARE(afterOpts, beforeOpts);
                before.remove(QStringLiteral("stream_options"));
                after.remove(QStringLiteral("stream_options"));
            }
            before.remove(QStringLiteral("model"));
            after.remove(QStringLiteral("model"));
            QCOMPARE(after, before);
        }
    }

    void clientWantsUsage_data()
    {
        QTest::addColumn<QByteArray>("options");
        QTest::addColumn<bool>("wants");
        QTest::newRow("absent") << QByteArray() << false;
        QTest::newRow("true") << QByteArray(R"(,"stream_options":{"include_usage":true})") << true;
        QTest::newRow("false") << QByteArray(R"(,"stream_options":{"include_usage":false})") << false;
        QTest::newRow("null") << QByteArray(R"(,"stream_options":{"include_usage":null})") << false;
        QTest::newRow("empty") << QByteArray(R"(,"stream_options":{})") << false;
        QTest::newRow("options null") << QByteArray(R"(,"stream_options":null)") << false;
        QTest::newRow("escaped key") << QByteArray(R"(,"stream_options":{"include\u005fusage":true})") << true;
        QTest::newRow("among others") << QByteArray(
            R"(,"stream_options":{"a":{"include_usage":false},"include_usage":true,"b":[]})")
                                      << true;
        QTest::newRow("only nested") << QByteArray(R"(,"stream_options":{"a":{"include_usage":true}})") << false;
    }
    void clientWantsUsage()
    {
        QFETCH(QByteArray, options);
        QFETCH(bool, wants);
        const QByteArray body = R"({"model":"m","messages":[],"stream":true)" + options + "}";
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->clientWantsUsage, wants);
        // Whatever the client sent, upstream always gets include_usage true, exactly once.
        const QByteArray out = gh::rewriteRequestBody(body, *f, QStringLiteral("m"), true);
        bool ok = false;
        const QJsonObject o = parseObject(out, &ok);
        QVERIFY2(ok, out.constData());
        QCOMPARE(o.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")),
            QJsonValue(true));
        QCOMPARE(out.count("\"stream_options\""), 1);
        QVERIFY(out.count("include_usage") + out.count("include\\u005fusage") <= 2);
        if (wants)
            QCOMPARE(out, body);
    }

    void invalid_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("empty") << QByteArray() << QStringLiteral("empty");
        QTest::newRow("blank") << QByteArray(" \r\n\t ") << QStringLiteral("empty");
        QTest::newRow("not json") << QByteArray("model=gpt-4o&messages=hi") << QStringLiteral("JSON");
        QTest::newRow("truncated") << QByteArray(R"({"model":"m","messages":[)") << QStringLiteral("JSON");
        QTest::newRow("truncated object")
            << QByteArray(R"({"model":"m","messages":[]})").chopped(1) << QStringLiteral("JSON");
        QTest::newRow("trailing comma") << QByteArray(R"({"model":"m","messages":[],})") << QStringLiteral("JSON");
        QTest::newRow("missing colon") << QByteArray(R"({"model" "m","messages":[]})") << QStringLiteral("JSON");
        QTest::newRow("single quotes") << QByteArray("{'model':'m','messages':[]}") << QStringLiteral("JSON");
        QTest::newRow("unterminated string") << QByteArray("{\"model\":\"m,\"messages\":[]}") << QStringLiteral("JSON");
        QTest::newRow("bad literal inside messages")
            << QByteArray(R"({"model":"m","messages":[tru]})") << QStringLiteral("JSON");
        QTest::newRow("bad nesting inside messages")
            << QByteArray(R"({"model":"m","messages":[}]})") << QStringLiteral("JSON");
        QTest::newRow("bad number in skipped field")
            << QByteArray(R"({"model":"m","messages":[],"temperature":1.2.3})") << QStringLiteral("JSON");
        QTest::newRow("control character in string")
            << QByteArray("{\"model\":\"m\",\"messages\":[{\"content\":\"a\x01b\"}]}") << QStringLiteral("JSON");
        QTest::newRow("invalid utf-8") << QByteArray("{\"model\":\"m\",\"messages\":[{\"content\":\"\xff\xfe\"}]}")
                                       << QStringLiteral("JSON");
        QTest::newRow("trailing garbage") << QByteArray(R"({"model":"m","messages":[]} x)") << QStringLiteral("JSON");
        QTest::newRow("two objects") << QByteArray(R"({"model":"m","messages":[]}{"model":"n","messages":[]})")
                                     << QStringLiteral("JSON");
        QTest::newRow("trailing brace") << QByteArray(R"({"model":"m","messages":[]}})") << QStringLiteral("JSON");
        QTest::newRow("array") << QByteArray(R"([{"model":"m","messages":[]}])") << QStringLiteral("object");
        QTest::newRow("string") << QByteArray(R"("model")") << QStringLiteral("object");
        QTest::newRow("number") << QByteArray("42") << QStringLiteral("object");
        QTest::newRow("null") << QByteArray("null") << QStringLiteral("object");
        QTest::newRow("true") << QByteArray("true") << QStringLiteral("object");
        QTest::newRow("model not a string") << QByteArray(R"({"model":4,"messages":[]})") << QStringLiteral("'model'");
        QTest::newRow("model null") << QByteArray(R"({"model":null,"messages":[]})") << QStringLiteral("'model'");
        QTest::newRow("model object") << QByteArray(R"({"model":{"id":"m"},"messages":[]})")
                                      << QStringLiteral("'model'");
        QTest::newRow("stream not a boolean")
            << QByteArray(R"({"model":"m","messages":[],"stream":"true"})") << QStringLiteral("'stream'");
        QTest::newRow("stream a number") << QByteArray(R"({"model":"m","messages":[],"stream":1})")
                                         << QStringLiteral("'stream'");
        QTest::newRow("max_tokens negative")
            << QByteArray(R"({"model":"m","messages":[],"max_tokens":-1})") << QStringLiteral("'max_tokens'");
        QTest::newRow("max_tokens fraction")
            << QByteArray(R"({"model":"m","messages":[],"max_tokens":1.5})") << QStringLiteral("'max_tokens'");
        QTest::newRow("max_tokens string")
            << QByteArray(R"({"model":"m","messages":[],"max_tokens":"10"})") << QStringLiteral("'max_tokens'");
        QTest::newRow("max_completion_tokens huge")
            << QByteArray(R"({"model":"m","messages":[],"max_completion_tokens":1e400})") << QString();
        QTest::newRow("stream_options array")
            << QByteArray(R"({"model":"m","messages":[],"stream":true,"stream_options":[]})")
            << QStringLiteral("'stream_options'");
        QTest::newRow("stream_options string")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":"x"})") << QStringLiteral("'stream_options'");
        QTest::newRow("include_usage a string")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":"yes"}})")
            << QStringLiteral("include_usage");
        QTest::newRow("include_usage an object")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":{}}})")
            << QStringLiteral("include_usage");
        // Broken literals where a null is allowed (simdjson reports them as errors, not as "not null").
        QTest::newRow("stream nul") << QByteArray(R"({"model":"m","messages":[],"stream":nul})") << QString();
        QTest::newRow("stream nulls") << QByteArray(R"({"model":"m","messages":[],"stream":nulls})") << QString();
        QTest::newRow("max_tokens nul") << QByteArray(R"({"model":"m","messages":[],"max_tokens":nul})") << QString();
        QTest::newRow("messages nul") << QByteArray(R"({"model":"m","messages":nul})") << QString();
        QTest::newRow("stream_options nul")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":nul})") << QString();
        QTest::newRow("include_usage nul")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":nul}})") << QString();
        QTest::newRow("stream_options truncated")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":true)")
            << QStringLiteral("JSON");
        QTest::newRow("stream_options unclosed")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":true})")
            << QStringLiteral("JSON");
        QTest::newRow("missing comma in skipped array")
            << QByteArray(R"({"model":"m","messages":[1 2]})") << QStringLiteral("JSON");
        QTest::newRow("missing comma in skipped object")
            << QByteArray(R"({"model":"m","messages":[{"a":1 "b":2}]})") << QStringLiteral("JSON");
        QTest::newRow("bad escape in skipped string")
            << QByteArray(R"({"model":"m","messages":["\q"]})") << QStringLiteral("JSON");
        QTest::newRow("stream_options broken inside")
            << QByteArray(R"({"model":"m","messages":[],"stream_options":{"include_usage":tru}})") << QString();
    }
    void invalid()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, mentions);
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(!f, qPrintable(QStringLiteral("accepted, model %1").arg(f ? f->model : QString())));
        QVERIFY(!error.isEmpty());
        if (!mentions.isEmpty())
            QVERIFY2(error.contains(mentions), qPrintable(error));
    }

    // The validation of the values the gateway does not read accepts every valid JSON document.
    void acceptsValidJson_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::newRow("numbers") << QByteArray(
            R"({"model":"m","messages":[],"a":[0,-0,1.5,-2e-7,1E+2,3e10,-9223372036854775808,18446744073709551615,1.7976931348623157e308,5e-324]})");
        QTest::newRow("literals and empties")
            << QByteArray(R"({"model":"m","messages":[],"a":[true,false,null,{},[],"",{"":null}]})");
        QTest::newRow("escapes") << QByteArray(
            "{\"model\":\"m\",\"messages\":[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\ud83d\\ude00\"]}");
        QTest::newRow("unicode keys") << QByteArray(
            "{\"model\":\"m\",\"messages\":[],\"m\xc3\xa9ta\":{\"\xe6\xa8\xa1\":1}}");
        QTest::newRow("whitespace") << QByteArray(
            " {\n\t\"model\"\r\n:\"m\" ,\"messages\" : [ 1 , { \"a\" : [ ] } ] , \"x\" : null }\n");
        QTest::newRow("real chat request") << QByteArray(
            R"({"model":"openai/gpt-4.1-mini","messages":[{"role":"system","content":"You are terse."},)"
            R"({"role":"user","content":[{"type":"text","text":"What is in this image?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]},)"
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\","
            "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},"
            R"({"role":"tool","tool_call_id":"call_1","content":"18C"}],)"
            R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}}],)"
            R"("tool_choice":"auto","response_format":{"type":"json_schema","json_schema":{"name":"r","schema":{"type":"object"}}},)"
            R"("temperature":0.2,"top_p":1,"n":1,"seed":42,"logit_bias":{"50256":-100},"user":"u-1","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":256})");
    }
    void acceptsValidJson()
    {
        QFETCH(QByteArray, body);
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        bool ok = false;
        parseObject(gh::rewriteRequestBody(body, *f, QStringLiteral("up"), true), &ok);
        QVERIFY(ok);
    }

    // Deep nesting is refused, not a stack overflow.
    void deepNesting()
    {
        for (int depth : {100, 2000, 200000}) {
            const QByteArray body
                = R"({"model":"m","messages":)" + QByteArray(depth, '[') + QByteArray(depth, ']') + "}";
            QString error;
            const auto f = inspect(body, Endpoint::ChatCompletions, &error);
            if (depth == 100)
                QVERIFY2(f, qPrintable(error));
            else
                QVERIFY(!f && !error.isEmpty());
        }
    }

    void requiredFields_data()
    {
        QTest::addColumn<Endpoint>("endpoint");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("missing"); // empty: accepted
        QTest::newRow("chat ok") << Endpoint::ChatCompletions << QByteArray(R"({"model":"m","messages":[]})")
                                 << QString();
        QTest::newRow("chat no messages")
            << Endpoint::ChatCompletions << QByteArray(R"({"model":"m","prompt":"x"})") << QStringLiteral("messages");
        QTest::newRow("chat null messages")
            << Endpoint::ChatCompletions << QByteArray(R"({"model":"m","messages":null})")
            << QStringLiteral("messages");
        QTest::newRow("chat nested messages only")
            << Endpoint::ChatCompletions << QByteArray(R"({"model":"m","metadata":{"messages":[]}})")
            << QStringLiteral("messages");
        QTest::newRow("chat no model") << Endpoint::ChatCompletions << QByteArray(R"({"messages":[]})")
                                       << QStringLiteral("model");
        QTest::newRow("chat nested model only")
            << Endpoint::ChatCompletions << QByteArray(R"({"messages":[{"model":"m"}]})") << QStringLiteral("model");
        QTest::newRow("empty object") << Endpoint::ChatCompletions << QByteArray("{}") << QStringLiteral("model");
        QTest::newRow("completions ok") << Endpoint::Completions << QByteArray(R"({"model":"m","prompt":"Say this"})")
                                        << QString();
        QTest::newRow("completions no prompt")
            << Endpoint::Completions << QByteArray(R"({"model":"m","messages":[]})") << QStringLiteral("prompt");
        QTest::newRow("embeddings ok") << Endpoint::Embeddings << QByteArray(R"({"input":["a","b"],"model":"m"})")
                                       << QString();
        QTest::newRow("embeddings no input")
            << Endpoint::Embeddings << QByteArray(R"({"model":"m","prompt":"a"})") << QStringLiteral("input");
        QTest::newRow("responses ok") << Endpoint::Responses
                                      << QByteArray(R"({"model":"m","input":"hi","max_output_tokens":9})") << QString();
        QTest::newRow("responses no input")
            << Endpoint::Responses << QByteArray(R"({"model":"m","messages":[]})") << QStringLiteral("input");
    }
    void requiredFields()
    {
        QFETCH(Endpoint, endpoint);
        QFETCH(QByteArray, body);
        QFETCH(QString, missing);
        QString error;
        const auto f = inspect(body, endpoint, &error);
        if (missing.isEmpty()) {
            QVERIFY2(f, qPrintable(error));
            QCOMPARE(f->model, QStringLiteral("m"));
        } else {
            QVERIFY(!f);
            QCOMPARE(error, QStringLiteral("Missing required field: '%1'.").arg(missing));
        }
    }

    // The body's buffer may be grown for the parser's padding, never changed.
    void paddingAndSharing()
    {
        const QByteArray text = R"({"model":"p/m","messages":[],"stream":true})";
        // Exactly-sized buffer, implicitly shared with another copy.
        QByteArray body(text.constData(), text.size());
        body.squeeze();
        const QByteArray copy = body;
        QString error;
        auto f = gh::inspectRequestBody(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(body, text);
        QCOMPARE(copy, text);
        // Raw data the QByteArray does not own.
        QByteArray raw = QByteArray::fromRawData(text.constData(), text.size());
        f = gh::inspectRequestBody(raw, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(raw, text);
        QCOMPARE(gh::rewriteRequestBody(raw, *f, QStringLiteral("m"), true),
            QByteArray(R"({"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}})"));
        // A buffer with spare capacity holding stale bytes past its end.
        QByteArray spare(4096, '}');
        spare = text;
        spare.reserve(4096);
        f = gh::inspectRequestBody(spare, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->objectEnd, text.size() - 1);
        // A null error pointer is allowed.
        QByteArray bad = "nope";
        QVERIFY(!gh::inspectRequestBody(bad, Endpoint::ChatCompletions, nullptr));
    }

    void largeBody()
    {
        QByteArray body = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + QByteArray(3 * 1024 * 1024, 'x')
            + "\"}],\"model\":\"p/m\",\"stream\":true,\"stream_options\":{\"include_usage\":false}}";
        QString error;
        const auto f = inspect(body, Endpoint::ChatCompletions, &error);
        QVERIFY2(f, qPrintable(error));
        const QByteArray out = gh::rewriteRequestBody(body, *f, QStringLiteral("m"), true);
        QCOMPARE(out.size(), body.size() - 3); // "p/m" -> "m" (-2), false -> true (-1)
        QVERIFY(out.endsWith(R"("model":"m","stream":true,"stream_options":{"include_usage":true}})"));
        QVERIFY(out.startsWith(body.left(body.indexOf("\"model\""))));
    }
};

QTEST_GUILESS_MAIN(TestRequestBody)
#include "tst_requestbody.moc"
