// Reading the few request fields the gateway needs and editing them in place, byte for byte.
#include "gateway/requestbody.h"
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <algorithm>

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

    // ---- Routing traits ----

    void traits_data()
    {
        QTest::addColumn<Endpoint>("endpoint");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("tools");
        QTest::addColumn<bool>("images");
        QTest::addColumn<bool>("jsonSchema");
        const auto chat = Endpoint::ChatCompletions;
        const auto msgs = Endpoint::Messages;
        const auto resp = Endpoint::Responses;
        QTest::newRow("chat plain") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})")
                                    << false << false << false;
        QTest::newRow("chat tools") << chat
            << QByteArray(R"({"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f"}}]})")
            << true << false << false;
        QTest::newRow("chat empty tools") << chat << QByteArray(R"({"model":"m","messages":[],"tools":[]})")
                                          << false << false << false;
        QTest::newRow("chat null tools") << chat << QByteArray(R"({"model":"m","messages":[],"tools":null})")
                                         << false << false << false;
        QTest::newRow("chat tools not an array") << chat << QByteArray(R"({"model":"m","messages":[],"tools":{"a":1}})")
                                                 << false << false << false;
        QTest::newRow("chat legacy functions") << chat
            << QByteArray(R"({"model":"m","messages":[],"functions":[{"name":"f","parameters":{}}]})")
            << true << false << false;
        QTest::newRow("chat image") << chat << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is it"},{"image_url":{"url":"data:,"},"type":"image_url"}]}]})")
            << false << true << false;
        QTest::newRow("chat image in a later message") << chat << QByteArray(
            R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"a"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]})")
            << false << true << false;
        QTest::newRow("chat image words in text") << chat << QByteArray(
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"image_url\"}]},"
            "{\"role\":\"user\",\"content\":\"{\\\"type\\\":\\\"image_url\\\"}\"}],\"type\":\"image_url\"}")
            << false << false << false;
        QTest::newRow("chat anthropic image type") << chat << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{}}]}]})")
            << false << false << false;
        QTest::newRow("chat json_schema") << chat << QByteArray(
            R"({"model":"m","messages":[],"response_format":{"json_schema":{"name":"r","schema":{"type":"object"}},"type":"json_schema"}})")
            << false << false << true;
        QTest::newRow("chat json_object") << chat
            << QByteArray(R"({"model":"m","messages":[],"response_format":{"type":"json_object"}})")
            << false << false << false;
        QTest::newRow("chat response_format string") << chat
            << QByteArray(R"({"model":"m","messages":[],"response_format":"json_schema"})") << false << false << false;
        QTest::newRow("chat everything") << chat << QByteArray(
            R"({"model":"m","tools":[{"type":"function"}],"response_format":{"type":"json_schema"},"messages":[{"role":"user","content":[{"type":"image_url"}]}]})")
            << true << true << true;

        QTest::newRow("messages plain") << msgs
            << QByteArray(R"({"model":"m","max_tokens":10,"system":"s","messages":[{"role":"user","content":"hi"}]})")
            << false << false << false;
        QTest::newRow("messages tools") << msgs << QByteArray(
            R"({"model":"m","messages":[],"tools":[{"name":"f","input_schema":{"type":"object"}}]})")
            << true << false << false;
        QTest::newRow("messages image") << msgs << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}]})")
            << false << true << false;
        QTest::newRow("messages image in tool_result") << msgs << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"x"},{"type":"image","source":{}}]}]}]})")
            << false << true << false;
        QTest::newRow("messages tool_result text") << msgs << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"image"}]}]})")
            << false << false << false;
        QTest::newRow("messages openai image type") << msgs << QByteArray(
            R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})")
            << false << false << false;
        QTest::newRow("messages output_format") << msgs << QByteArray(
            R"({"model":"m","messages":[],"output_format":{"type":"json_schema","schema":{"type":"object"}}})")
            << false << false << true;
        QTest::newRow("messages output_config") << msgs << QByteArray(
            R"({"model":"m","messages":[],"output_config":{"effort":"low","format":{"type":"json_schema","schema":{}}}})")
            << false << false << true;
        QTest::newRow("messages output_config without format") << msgs
            << QByteArray(R"({"model":"m","messages":[],"output_config":{"effort":"low"}})") << false << false << false;

        QTest::newRow("responses plain") << resp << QByteArray(R"({"model":"m","input":"hi","instructions":"be brief"})")
                                         << false << false << false;
        QTest::newRow("responses tools") << resp
            << QByteArray(R"({"model":"m","input":[],"tools":[{"type":"web_search"}]})") << true << false << false;
        QTest::newRow("responses image") << resp << QByteArray(
            R"({"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"?"},{"type":"input_image","image_url":"data:,"}]}]})")
            << false << true << false;
        QTest::newRow("responses json_schema") << resp << QByteArray(
            R"({"model":"m","input":"x","text":{"verbosity":"low","format":{"type":"json_schema","name":"r","schema":{}}}})")
            << false << false << true;
        QTest::newRow("responses text format") << resp
            << QByteArray(R"({"model":"m","input":"x","text":{"format":{"type":"text"}}})") << false << false << false;

        // Other endpoints: no traits, whatever the body says.
        QTest::newRow("completions") << Endpoint::Completions << QByteArray(
            R"({"model":"m","prompt":"x","tools":[{"type":"function"}],"response_format":{"type":"json_schema"}})")
            << false << false << false;
        QTest::newRow("count_tokens") << Endpoint::CountTokens << QByteArray(
            R"({"model":"m","tools":[{"name":"f"}],"messages":[{"role":"user","content":[{"type":"image"}]}]})")
            << false << false << false;
    }
    void traits()
    {
        QFETCH(Endpoint, endpoint);
        QFETCH(QByteArray, body);
        QFETCH(bool, tools);
        QFETCH(bool, images);
        QFETCH(bool, jsonSchema);
        QString error;
        const auto f = inspect(body, endpoint, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->hasTools, tools);
        QCOMPARE(f->hasImages, images);
        QCOMPARE(f->wantsJsonSchema, jsonSchema);
        if (endpoint != Endpoint::ChatCompletions && endpoint != Endpoint::Messages && endpoint != Endpoint::Responses) {
            QCOMPARE(f->prefixHash, quint64(0));
            QCOMPARE(f->headHash, quint64(0));
            QCOMPARE(f->headBytes, 0);
            QVERIFY(f->promptBlocks.isEmpty());
        }
    }

    // The system, tools and message parts are the raw bytes of the body, whatever their formatting.
    void promptParts_data()
    {
        QTest::addColumn<Endpoint>("endpoint");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("system");
        QTest::addColumn<QByteArray>("tools");
        QTest::addColumn<QByteArray>("messages");
        const QByteArray sys1 = R"({"role":"system","content":"You are terse."})";
        const QByteArray sys2 = R"({ "content": [{"type":"text","text":"Rules"}], "role" : "developer" })";
        const QByteArray user = R"({"role":"user","content":"hi"})";
        const QByteArray late = R"({"role":"system","content":"late"})";
        const QByteArray tools = R"([ {"type":"function","function":{"name":"f"}} ])";
        QTest::newRow("chat")
            << Endpoint::ChatCompletions
            << "{\"model\":\"m\",\"messages\":[ " + sys1 + " ,\n" + sys2 + ", " + user + " , " + late + " ],\"tools\": " + tools + " }"
            << sys1 + " ,\n" + sys2 << tools << user + " , " + late;
        QTest::newRow("chat no system")
            << Endpoint::ChatCompletions << "{\"model\":\"m\",\"messages\":[" + user + "," + late + "]}" << QByteArray()
            << QByteArray() << user + "," + late;
        QTest::newRow("chat only system")
            << Endpoint::ChatCompletions << "{\"model\":\"m\",\"messages\":[" + sys1 + "]}" << sys1 << QByteArray()
            << QByteArray();
        QTest::newRow("chat tools and functions")
            << Endpoint::ChatCompletions
            << "{\"model\":\"m\",\"functions\":[{\"name\":\"g\"}],\"messages\":[" + user + "],\"tools\":" + tools + "}"
            << QByteArray() << tools + R"([{"name":"g"}])" << user;
        QTest::newRow("messages string system")
            << Endpoint::Messages
            << "{\"model\":\"m\",\"messages\":[" + user + "],\"system\" : \"Be \\\"brief\\\"\" ,\"tools\":" + tools + "}"
            << QByteArray("\"Be \\\"brief\\\"\"") << tools << user;
        QTest::newRow("messages array system")
            << Endpoint::Messages
            << "{\"system\":[{\"type\":\"text\",\"text\":\"S\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"model\":\"m\",\"messages\":[" + user + "," + user + "]}"
            << QByteArray(R"([{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}])") << QByteArray()
            << user + "," + user;
        QTest::newRow("messages null system")
            << Endpoint::Messages << "{\"system\":null,\"model\":\"m\",\"messages\":[" + user + "]}" << QByteArray()
            << QByteArray() << user;
        QTest::newRow("responses instructions and system items")
            << Endpoint::Responses
            << "{\"model\":\"m\",\"instructions\":\"I\",\"input\":[" + sys1 + "," + user + "],\"tools\":" + tools + "}"
            << "\"I\"" + sys1 << tools << user;
        QTest::newRow("responses string input")
            << Endpoint::Responses << QByteArray(R"({"model":"m","input":"hello there"})") << QByteArray()
            << QByteArray() << QByteArray(R"("hello there")");
    }
    void promptParts()
    {
        QFETCH(Endpoint, endpoint);
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, system);
        QFETCH(QByteArray, tools);
        QFETCH(QByteArray, messages);
        QString error;
        const auto f = inspect(body, endpoint, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->systemBytes, system.size());
        QCOMPARE(f->toolsBytes, tools.size());
        QCOMPARE(f->headBytes, system.size() + tools.size());
        QCOMPARE(f->headHash == 0, system.isEmpty() && tools.isEmpty());
        QVERIFY(f->prefixHash != 0);
        const qsizetype total = system.size() + tools.size() + messages.size();
        QCOMPARE(f->promptBlocks.size(), (total + 1023) / 1024);
        // The same parts in another body (other members, other order) give the same hashes.
        QByteArray other = "{\"model\":\"other\",\"temperature\":1,";
        if (endpoint == Endpoint::ChatCompletions) {
            other += "\"messages\":[" + system + (system.isEmpty() || messages.isEmpty() ? "" : ",") + messages + "]";
            if (!tools.isEmpty()) {
                // Both chat rows with tools use the same tools array; the second adds functions after it.
                other += ",\"tools\":" + tools.left(tools.indexOf(']') + 1);
                if (tools.size() > tools.indexOf(']') + 1)
                    other += ",\"functions\":" + tools.mid(tools.indexOf(']') + 1);
            }
        } else if (endpoint == Endpoint::Messages) {
            other += "\"messages\":[" + messages + "]" + (system.isEmpty() ? QByteArray() : ",\"system\":" + system)
                + (tools.isEmpty() ? QByteArray() : ",\"tools\":" + tools);
        } else {
            return; // Responses: covered by the other rows' logic already
        }
        other += "}";
        const auto g = inspect(other, endpoint, &error);
        QVERIFY2(g, qPrintable(error + QLatin1Char(' ') + QString::fromUtf8(other)));
        QCOMPARE(g->systemBytes, f->systemBytes);
        QCOMPARE(g->toolsBytes, f->toolsBytes);
        QCOMPARE(g->headHash, f->headHash);
        QCOMPARE(g->prefixHash, f->prefixHash);
        QCOMPARE(g->promptBlocks, f->promptBlocks);
    }

    // A growing conversation keeps its prefix hash; a changed system prompt, tool or first message does not.
    void prefixHash_data()
    {
        QTest::addColumn<Endpoint>("endpoint");
        QTest::newRow("chat") << Endpoint::ChatCompletions;
        QTest::newRow("messages") << Endpoint::Messages;
        QTest::newRow("responses") << Endpoint::Responses;
    }
    void prefixHash()
    {
        QFETCH(Endpoint, endpoint);
        auto body = [&](const QByteArray &system, const QByteArray &tool, int turns, const QByteArray &first = "Hello") {
            QByteArray items;
            for (int i = 0; i < turns; ++i) {
                if (i > 0)
                    items += ',';
                items += i == 0 ? "{\"role\":\"user\",\"content\":\"" + first + "\"}"
                                : QByteArray("{\"role\":\"") + (i % 2 ? "assistant" : "user") + "\",\"content\":\"turn "
                                      + QByteArray::number(i) + "\"}";
            }
            const QByteArray tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"" + tool + "\"}}]";
            switch (endpoint) {
            case Endpoint::ChatCompletions:
                return "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"" + system + "\"}," + items + "]" + tools + "}";
            case Endpoint::Messages:
                return "{\"model\":\"m\",\"max_tokens\":5,\"system\":\"" + system + "\",\"messages\":[" + items + "]" + tools + "}";
            default:
                return "{\"model\":\"m\",\"instructions\":\"" + system + "\",\"input\":[" + items + "]" + tools + "}";
            }
        };
        auto read = [&](const QByteArray &b) {
            QString error;
            auto f = inspect(b, endpoint, &error);
            if (!f)
                qWarning() << error << b;
            return f.value_or(RequestFields());
        };
        const RequestFields first = read(body("Be brief.", "f", 1));
        QVERIFY(first.prefixHash != 0);
        QVERIFY(first.headHash != 0);
        QVERIFY(first.prefixHash != first.headHash);
        for (int turns = 2; turns <= 20; ++turns) {
            const RequestFields f = read(body("Be brief.", "f", turns));
            QCOMPARE(f.prefixHash, first.prefixHash);
            QCOMPARE(f.headHash, first.headHash);
            QCOMPARE(f.headBytes, first.headBytes);
        }
        const RequestFields otherSystem = read(body("Be verbose.", "f", 5));
        QVERIFY(otherSystem.prefixHash != first.prefixHash);
        QVERIFY(otherSystem.headHash != first.headHash);
        const RequestFields otherTool = read(body("Be brief.", "g", 5));
        QVERIFY(otherTool.prefixHash != first.prefixHash);
        QVERIFY(otherTool.headHash != first.headHash);
        const RequestFields otherFirst = read(body("Be brief.", "f", 5, "Hi"));
        QVERIFY(otherFirst.prefixHash != first.prefixHash);
        QCOMPARE(otherFirst.headHash, first.headHash); // same system and tools
        // Bytes moved between the parts change the hash even though the concatenation is the same.
        const RequestFields moved = read(body("Be brief", "f", 1, ".Hello"));
        QVERIFY(moved.prefixHash != first.prefixHash);
    }

    void noPrompt()
    {
        // Nothing to hash: no system, no tools, no messages.
        const auto f = inspect(R"({"model":"m","messages":[]})");
        QVERIFY(f);
        QCOMPARE(f->prefixHash, quint64(0));
        QCOMPARE(f->headHash, quint64(0));
        QCOMPARE(f->headBytes, 0);
        QVERIFY(f->promptBlocks.isEmpty());
        // Only a first message: a prefix hash but no head.
        const auto g = inspect(R"({"model":"m","messages":[{"role":"user","content":"x"}]})");
        QVERIFY(g);
        QVERIFY(g->prefixHash != 0);
        QCOMPARE(g->headHash, quint64(0));
        QCOMPARE(g->promptBlocks.size(), 1);
    }

    // The hashes are stored and compared across runs: they must not depend on the process (no random
    // seed). A change of hash function has to be deliberate (and comes with a migration that drops the
    // stored block hashes). These XXH3 values were computed outside the gateway, with libxxhash over
    // the spans this body's traits are read from: system message, tools array, first other message.
    void hashesAreStable()
    {
        const auto f = inspect(
            R"({"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"U"}],"tools":[]})");
        QVERIFY(f);
        QCOMPARE(f->headHash, quint64(0xf56ed800315593deULL));
        QCOMPARE(f->prefixHash, quint64(0xf12f91b89164601dULL));
        QCOMPARE(f->promptBlocks, QList<quint64>{quint64(0xd419df2ba11c7637ULL)});
    }

    // Two prompts' block hashes first differ at the block that holds their first differing byte.
    void promptBlocks_data()
    {
        QTest::addColumn<int>("systemSize");
        QTest::addColumn<int>("toolsSize");
        QTest::addColumn<int>("messagesSize");
        QTest::addColumn<int>("changeAt"); // in the concatenation system + tools + messages
        QTest::newRow("in the system") << 3000 << 500 << 5000 << 2050;
        QTest::newRow("first content byte") << 3000 << 500 << 5000 << 1;
        QTest::newRow("in tools, block straddles") << 900 << 500 << 5000 << 1030;
        QTest::newRow("last byte of a block") << 900 << 500 << 5000 << 2047;
        QTest::newRow("first byte of a block") << 900 << 500 << 5000 << 2048;
        QTest::newRow("in the messages") << 100 << 0 << 9000 << 7777;
        QTest::newRow("last content byte") << 100 << 300 << 2000 << 2397;
        QTest::newRow("beyond the cap") << 1000 << 1000 << 80000 << 70000;
    }
    void promptBlocks()
    {
        QFETCH(int, systemSize);
        QFETCH(int, toolsSize);
        QFETCH(int, messagesSize);
        QFETCH(int, changeAt);
        // Parts of exact sizes: "sss..." strings; the tools an array holding one string.
        const QByteArray system = '"' + QByteArray(systemSize - 2, 's') + '"';
        const QByteArray tools = toolsSize ? "[\"" + QByteArray(toolsSize - 4, 't') + "\"]" : QByteArray();
        const QByteArray head = "{\"role\":\"user\",\"content\":\"";
        const QByteArray messages = head + QByteArray(messagesSize - head.size() - 2, 'm') + "\"}";
        QCOMPARE(messages.size(), messagesSize);
        const QByteArray prompt = system + tools + messages;
        auto build = [](const QByteArray &p, int systemSize, int toolsSize) {
            QByteArray b = "{\"model\":\"m\",\"system\":" + p.left(systemSize);
            if (toolsSize)
                b += ",\"tools\":" + p.mid(systemSize, toolsSize);
            return b + ",\"messages\":[" + p.mid(systemSize + toolsSize) + "]}";
        };
        QByteArray changed = prompt;
        // Change a byte inside a string's content (the quotes and brackets stay).
        const char c = changed[changeAt];
        QVERIFY2(c == 's' || c == 't' || c == 'm', "the test changes string content only");
        changed[changeAt] = 'X';
        QString error;
        const auto a = inspect(build(prompt, systemSize, toolsSize), Endpoint::Messages, &error);
        QVERIFY2(a, qPrintable(error));
        const auto b = inspect(build(changed, systemSize, toolsSize), Endpoint::Messages, &error);
        QVERIFY2(b, qPrintable(error));
        QCOMPARE(a->systemBytes, systemSize);
        QCOMPARE(a->toolsBytes, toolsSize);
        const int expectedBlocks = std::min<int>((prompt.size() + 1023) / 1024, RequestFields::kMaxPromptBlocks);
        QCOMPARE(a->promptBlocks.size(), expectedBlocks);
        QCOMPARE(b->promptBlocks.size(), expectedBlocks);
        const int changedBlock = changeAt / RequestFields::kPromptBlockBytes;
        for (int i = 0; i < expectedBlocks; ++i) {
            if (i == changedBlock)
                QVERIFY2(a->promptBlocks[i] != b->promptBlocks[i], qPrintable(QString::number(i)));
            else
                QVERIFY2(a->promptBlocks[i] == b->promptBlocks[i], qPrintable(QString::number(i)));
        }
        // Blocks hash their own bytes only: equal content at equal positions gives equal hashes
        // (all-'m' blocks in the middle of the messages).
        const int contentStart = systemSize + toolsSize + int(head.size());
        const int contentEnd = int(prompt.size()) - 2;
        const int firstFull = (contentStart + 1023) / 1024;
        if ((firstFull + 2) * 1024 <= contentEnd && firstFull + 1 < expectedBlocks) {
            QCOMPARE(a->promptBlocks[firstFull], a->promptBlocks[firstFull + 1]);
            QVERIFY(a->promptBlocks[firstFull] != a->promptBlocks[0]);
        }
        // Whole-prompt hashes: a change beyond the first message only changes the blocks.
        if (changeAt >= systemSize + toolsSize)
            QCOMPARE(a->headHash, b->headHash);
        else
            QVERIFY(a->headHash != b->headHash);
    }

    // ---- The per-request fallback list ----

    void fallbackModels_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QStringList>("models");
        QTest::addColumn<QString>("error"); // non-empty: refused with a message containing it
        QTest::newRow("none") << QByteArray(R"({"model":"m","messages":[]})") << QStringList() << QString();
        QTest::newRow("two") << QByteArray(R"({"model":"m","models":["a/x","b/y"],"messages":[]})")
                             << QStringList{QStringLiteral("a/x"), QStringLiteral("b/y")} << QString();
        QTest::newRow("escaped") << QByteArray(R"({"model":"m","models":["caf\u00e9"],"messages":[]})")
                                 << QStringList{QStringLiteral("caf\u00e9")} << QString();
        QTest::newRow("empty list") << QByteArray(R"({"model":"m","models":[],"messages":[]})") << QStringList()
                                    << QString();
        QTest::newRow("null") << QByteArray(R"({"model":"m","models":null,"messages":[]})") << QStringList() << QString();
        QStringList ten;
        QByteArray tenJson;
        for (int i = 0; i < 10; ++i) {
            ten << QStringLiteral("p/m%1").arg(i);
            tenJson += (i ? ",\"p/m" : "\"p/m") + QByteArray::number(i) + "\"";
        }
        QTest::newRow("ten") << R"({"model":"m","messages":[],"models":[)" + tenJson + "]}" << ten << QString();
        QTest::newRow("eleven") << R"({"model":"m","messages":[],"models":[)" + tenJson + ",\"x\"]}" << QStringList()
                                << QStringLiteral("'models'");
        QTest::newRow("a string") << QByteArray(R"({"model":"m","messages":[],"models":"a"})") << QStringList()
                                  << QStringLiteral("'models'");
        QTest::newRow("an object") << QByteArray(R"({"model":"m","messages":[],"models":{"a":1}})") << QStringList()
                                   << QStringLiteral("'models'");
        QTest::newRow("a number inside") << QByteArray(R"({"model":"m","messages":[],"models":["a",1]})")
                                         << QStringList() << QStringLiteral("'models'");
        QTest::newRow("nested array") << QByteArray(R"({"model":"m","messages":[],"models":[["a"]]})") << QStringList()
                                      << QStringLiteral("'models'");
        QTest::newRow("empty name") << QByteArray(R"({"model":"m","messages":[],"models":["a",""]})") << QStringList()
                                    << QStringLiteral("'models'");
        QTest::newRow("twice") << QByteArray(R"({"model":"m","models":["a"],"messages":[],"models":["b"]})")
                               << QStringList() << QStringLiteral("'models'");
        QTest::newRow("broken literal") << QByteArray(R"({"model":"m","messages":[],"models":nul})") << QStringList()
                                        << QStringLiteral("'models'");
        QTest::newRow("unclosed") << QByteArray(R"({"model":"m","messages":[],"models":["a")") << QStringList()
                                  << QStringLiteral("JSON");
    }
    void fallbackModels()
    {
        QFETCH(QByteArray, body);
        QFETCH(QStringList, models);
        QFETCH(QString, error);
        QString e;
        const auto f = inspect(body, Endpoint::ChatCompletions, &e);
        if (!error.isEmpty()) {
            QVERIFY2(!f, "accepted");
            QVERIFY2(e.contains(error), qPrintable(e));
            return;
        }
        QVERIFY2(f, qPrintable(e));
        QCOMPARE(f->fallbackModels, models);
        QCOMPARE(f->modelsMemberOffset >= 0, body.contains("\"models\""));
    }

    // The `models` member is cut with one adjacent comma; every other byte stays.
    void rewriteCutsModels_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("expected"); // with the model kept and no usage edit
        QTest::newRow("first") << QByteArray(R"({"models":["a","b"],"model":"m","messages":[]})")
                               << QByteArray(R"({"model":"m","messages":[]})");
        QTest::newRow("middle") << QByteArray(R"({"model":"m","models":["a"],"messages":[]})")
                                << QByteArray(R"({"model":"m","messages":[]})");
        QTest::newRow("last") << QByteArray(R"({"model":"m","messages":[],"models":["a"]})")
                              << QByteArray(R"({"model":"m","messages":[]})");
        QTest::newRow("first of two, spaced") << QByteArray("{ \"models\" : [ \"a\" ] ,\n \"model\":\"m\", \"messages\":[]}")
                                   << QByteArray("{ \n \"model\":\"m\", \"messages\":[]}");
        QTest::newRow("middle, spaced") << QByteArray("{\"model\":\"m\" , \"models\" : [\"a\"] , \"messages\":[]}")
                                        << QByteArray("{\"model\":\"m\"  , \"messages\":[]}");
        QTest::newRow("last, spaced") << QByteArray("{\"model\":\"m\",\"messages\":[] ,\n\t\"models\":[\"a\"]\n}")
                                      << QByteArray("{\"model\":\"m\",\"messages\":[] \n}");
        QTest::newRow("null") << QByteArray(R"({"model":"m","models":null,"messages":[]})")
                              << QByteArray(R"({"model":"m","messages":[]})");
        QTest::newRow("key with escapes") << QByteArray(R"({"model":"m","mod\u0065ls":["a"],"messages":[]})")
                                          << QByteArray(R"({"model":"m","messages":[]})");
    }
    void rewriteCutsModels()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, expected);
        // (`models` cannot be the only member: `model` is required.)
        const Endpoint endpoint = Endpoint::ChatCompletions;
        QString error;
        auto f = inspect(body, endpoint, &error);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(gh::rewriteRequestBody(body, *f, QStringLiteral("m"), false), expected);
        // The result is the same JSON object minus `models`.
        bool ok = false;
        QJsonObject in = parseObject(body, &ok);
        QVERIFY(ok);
        in.remove(QStringLiteral("models"));
        const QByteArray out = gh::rewriteRequestBody(body, *f, QStringLiteral("up/x"), true);
        QJsonObject outObject = parseObject(out, &ok);
        QVERIFY2(ok, out.constData());
        in.insert(QStringLiteral("model"), QStringLiteral("up/x"));
        QCOMPARE(outObject, in); // not a stream: no usage option
        // With a stream the usage option is added too, next to the cut.
        QByteArray streamed = body;
        streamed.insert(streamed.lastIndexOf('}'), ",\"stream\":true");
        f = inspect(streamed, endpoint, &error);
        QVERIFY2(f, qPrintable(error));
        const QByteArray out2 = gh::rewriteRequestBody(streamed, *f, QStringLiteral("up/x"), true);
        outObject = parseObject(out2, &ok);
        QVERIFY2(ok, out2.constData());
        QVERIFY(!outObject.contains(QStringLiteral("models")));
        QCOMPARE(outObject.value(QStringLiteral("stream_options")).toObject().value(QStringLiteral("include_usage")),
                 QJsonValue(true));
        const auto again = inspect(out2, endpoint, &error);
        QVERIFY2(again, qPrintable(error));
        QCOMPARE(again->modelsMemberOffset, -1);
        QCOMPARE(again->model, QStringLiteral("up/x"));
    }

    void rewriteCutsModelsForEveryEndpoint()
    {
        QByteArray body = R"({"model":"m","system":"s","models":["a/b"],"max_tokens":5,"messages":[]})";
        const auto f = inspect(body, Endpoint::Messages);
        QVERIFY(f);
        QCOMPARE(f->fallbackModels, QStringList{QStringLiteral("a/b")});
        QCOMPARE(gh::rewriteRequestBody(body, *f, QStringLiteral("m"), false),
                 QByteArray(R"({"model":"m","system":"s","max_tokens":5,"messages":[]})"));
        body = R"({"input":"x","models":["a/b"],"model":"m"})";
        const auto g = inspect(body, Endpoint::Embeddings);
        QVERIFY(g);
        QCOMPARE(gh::rewriteRequestBody(body, *g, QStringLiteral("m"), false), QByteArray(R"({"input":"x","model":"m"})"));
    }

    // Malformed values where traits are read: refused when the JSON is broken, tolerated (no trait)
    // when it is valid JSON of an unexpected shape.
    void traitsMalformed_data()
    {
        QTest::addColumn<Endpoint>("endpoint");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("accepted");
        const auto chat = Endpoint::ChatCompletions;
        const auto msgs = Endpoint::Messages;
        const auto resp = Endpoint::Responses;
        QTest::newRow("chat messages an object") << chat << QByteArray(R"({"model":"m","messages":{"role":"user"}})") << true;
        QTest::newRow("chat message a string") << chat << QByteArray(R"({"model":"m","messages":["hi",1,null]})") << true;
        QTest::newRow("chat role a number") << chat << QByteArray(R"({"model":"m","messages":[{"role":1,"content":"x"}]})") << true;
        QTest::newRow("chat content an object") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","content":{"type":"image_url"}}]})") << true;
        QTest::newRow("chat part a string") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","content":["image_url"]}]})") << true;
        QTest::newRow("chat part type a number") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","content":[{"type":5}]}]})") << true;
        QTest::newRow("chat broken part") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url" "x":1}]}]})") << false;
        QTest::newRow("chat broken role") << chat << QByteArray(R"({"model":"m","messages":[{"role":"us\er"}]})") << false;
        QTest::newRow("chat broken literal in message") << chat << QByteArray(R"({"model":"m","messages":[{"role":"user","name":nul}]})") << false;
        QTest::newRow("chat broken tools") << chat << QByteArray(R"({"model":"m","messages":[],"tools":[{"a":tru}]})") << false;
        QTest::newRow("chat tools unclosed") << chat << QByteArray(R"({"model":"m","messages":[],"tools":[{"a":1}})") << false;
        QTest::newRow("chat broken response_format") << chat << QByteArray(R"({"model":"m","messages":[],"response_format":{"type":"json_schema","x":[1 2]}})") << false;
        QTest::newRow("chat response_format type array") << chat << QByteArray(R"({"model":"m","messages":[],"response_format":{"type":["json_schema"]}})") << true;
        QTest::newRow("messages system a number") << msgs << QByteArray(R"({"model":"m","system":5,"messages":[]})") << true;
        QTest::newRow("messages broken system") << msgs << QByteArray(R"({"model":"m","system":[{"text":"a"]},"messages":[]})") << false;
        QTest::newRow("messages broken tool_result") << msgs << QByteArray(R"({"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","content":[{"type":"image",}]}]}]})") << false;
        QTest::newRow("messages broken output_config") << msgs << QByteArray(R"({"model":"m","messages":[],"output_config":{"format":{"type":"json_schema","schema":{"a"}}}})") << false;
        QTest::newRow("responses input a number") << resp << QByteArray(R"({"model":"m","input":42})") << true;
        QTest::newRow("responses broken instructions") << resp << QByteArray(R"({"model":"m","instructions":"a\qb","input":"x"})") << false;
        QTest::newRow("responses broken text") << resp << QByteArray(R"({"model":"m","input":"x","text":{"format":nul}})") << false;
        QTest::newRow("responses input null") << resp << QByteArray(R"({"model":"m","input":null})") << false;
    }
    void traitsMalformed()
    {
        QFETCH(Endpoint, endpoint);
        QFETCH(QByteArray, body);
        QFETCH(bool, accepted);
        QString error;
        const auto f = inspect(body, endpoint, &error);
        QCOMPARE(bool(f), accepted);
        if (!f) {
            QVERIFY(!error.isEmpty());
            return;
        }
        QVERIFY(!f->hasImages);
        QVERIFY(!f->hasTools);
        QVERIFY(!f->wantsJsonSchema);
    }

    void deepNestingInTraits()
    {
        for (const Endpoint e : {Endpoint::ChatCompletions, Endpoint::Messages, Endpoint::Responses}) {
            const QByteArray field = e == Endpoint::Responses ? "input" : "messages";
            for (int depth : {100, 2000}) {
                const QByteArray body = "{\"model\":\"m\",\"" + field
                    + "\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"content\":[{\"x\":" + QByteArray(depth, '[')
                    + QByteArray(depth, ']') + "}]}]}]}";
                QString error;
                const auto f = inspect(body, e, &error);
                if (depth == 100)
                    QVERIFY2(f, qPrintable(error));
                else
                    QVERIFY(!f && !error.isEmpty());
            }
        }
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

    // A clamp edits only the output-limit values (all of them) and the thinking budget, byte for byte.
    void rewriteOutputLimitEditsOnlyThoseBytes()
    {
        const QByteArray both = R"({"model":"m", "max_tokens" : 32000,"messages":[{"role":"user","content":"max_tokens 5"}],"max_completion_tokens":  16000 })";
        auto f = inspect(both);
        QVERIFY(f);
        QCOMPARE(f->outputLimitFields.size(), 2);
        QCOMPARE(gh::rewriteOutputLimit(both, *f, 700, std::nullopt, "max_tokens"),
                 QByteArray(R"({"model":"m", "max_tokens" : 700,"messages":[{"role":"user","content":"max_tokens 5"}],"max_completion_tokens":  700 })"));

        const QByteArray none = "{\"model\":\"m\",\"messages\":[]}\n";
        f = inspect(none);
        QVERIFY(f && f->outputLimitFields.isEmpty());
        QCOMPARE(gh::rewriteOutputLimit(none, *f, 1234, std::nullopt, "max_completion_tokens"),
                 QByteArray("{\"model\":\"m\",\"messages\":[],\"max_completion_tokens\":1234}\n"));

        const QByteArray thinking = R"({"model":"m","max_tokens":32000,"thinking":{"type":"enabled","budget_tokens":20000},"messages":[{"role":"user","content":"hi"}]})";
        f = inspect(thinking, Endpoint::Messages);
        QVERIFY(f);
        QCOMPARE(f->thinkingBudget, std::optional<qint64>(20000));
        QCOMPARE(gh::rewriteOutputLimit(thinking, *f, 4000, 2976, "max_tokens"),
                 QByteArray(R"({"model":"m","max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":2976},"messages":[{"role":"user","content":"hi"}]})"));
        // The edited body reads back as the new limit.
        QByteArray edited = gh::rewriteOutputLimit(thinking, *f, 4000, 2976, "max_tokens");
        f = inspect(edited, Endpoint::Messages);
        QVERIFY(f);
        QCOMPARE(f->maxTokens, std::optional<qint64>(4000));
        QCOMPARE(f->thinkingBudget, std::optional<qint64>(2976));

        QString error;
        QVERIFY(!inspect(R"({"model":"m","max_tokens":10,"thinking":{"budget_tokens":"lots"},"messages":[]})", Endpoint::Messages, &error));
        QVERIFY2(error.contains(QLatin1String("budget_tokens")), qPrintable(error));
    }

    void imagePartsAreCounted()
    {
        const QByteArray body = R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x/1.png"}},{"type":"image_url","image_url":{"url":"https://x/2.png"}}]}]})";
        const auto f = inspect(body);
        QVERIFY(f);
        QVERIFY(f->hasImages);
        QCOMPARE(f->imageCount, 2);
    }
};

QTEST_GUILESS_MAIN(TestRequestBody)
#include "tst_requestbody.moc"
