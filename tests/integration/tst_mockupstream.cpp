// The mock upstream and the test-support library, checked against each other: every behaviour of
// mock_upstream through the raw HttpClient, and GatewayProcess against a scripted stand-in.
#include "testsupport.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace gh::test;

namespace {

QJsonObject parseObject(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

QByteArray chatBody(const QString &model, bool stream = false, bool includeUsage = false)
{
    return QJsonDocument(chatRequest(model, QStringLiteral("Say hello"), stream, includeUsage)).toJson(QJsonDocument::Compact);
}

// Requests in the three wire formats, and what a test reads back from their answers.
enum class Wire { OpenAI, Responses, Anthropic, Gemini };

Wire wireOf(const QString &name)
{
    if (name == QLatin1String("anthropic"))
        return Wire::Anthropic;
    if (name == QLatin1String("gemini"))
        return Wire::Gemini;
    if (name == QLatin1String("responses"))
        return Wire::Responses;
    return Wire::OpenAI;
}

struct Turn
{
    bool user = true;
    QString text;
};

QByteArray compact(const QJsonArray &a)
{
    return QJsonDocument(a).toJson(QJsonDocument::Compact);
}

QByteArray compact(const QJsonObject &o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

// A request: its path, its body and the prompt bytes the mock's cache simulation keys on
// (tests/mock/promptbytes.h), serialized here the same way the body serializes them.
struct WireRequest
{
    QByteArray path;
    QByteArray body;
    QByteArray prompt;
};

WireRequest wireRequest(Wire wire, const QString &model, bool stream, const QString &system, const QList<Turn> &turns)
{
    WireRequest r;
    switch (wire) {
    case Wire::OpenAI:
    case Wire::Responses: {
        QJsonArray messages;
        if (!system.isEmpty())
            messages.append(QJsonObject{{"role", "system"}, {"content", system}});
        for (const Turn &t : turns)
            messages.append(QJsonObject{{"role", t.user ? "user" : "assistant"}, {"content", t.text}});
        QJsonObject body{{"model", model}, {wire == Wire::OpenAI ? "messages" : "input", messages}};
        if (stream) {
            body.insert("stream", true);
            if (wire == Wire::OpenAI)
                body.insert("stream_options", QJsonObject{{"include_usage", true}});
        }
        r.path = wire == Wire::OpenAI ? "/v1/chat/completions" : "/v1/responses";
        r.body = compact(body);
        r.prompt = compact(messages);
        break;
    }
    case Wire::Anthropic: {
        QJsonArray messages;
        for (const Turn &t : turns)
            messages.append(QJsonObject{{"role", t.user ? "user" : "assistant"}, {"content", t.text}});
        QJsonObject body{{"model", model}, {"max_tokens", 64}, {"messages", messages}};
        if (!system.isEmpty()) {
            body.insert("system", system);
            const QByteArray quoted = compact(QJsonArray{system});
            r.prompt = quoted.mid(1, quoted.size() - 2); // the string literal alone
        }
        if (stream)
            body.insert("stream", true);
        r.path = "/v1/messages";
        r.body = compact(body);
        r.prompt += compact(messages);
        break;
    }
    case Wire::Gemini: {
        QJsonArray contents;
        for (const Turn &t : turns)
            contents.append(QJsonObject{{"role", t.user ? "user" : "model"}, {"parts", QJsonArray{QJsonObject{{"text", t.text}}}}});
        QJsonObject body{{"contents", contents}};
        if (!system.isEmpty()) {
            const QJsonObject instruction{{"parts", QJsonArray{QJsonObject{{"text", system}}}}};
            body.insert("systemInstruction", instruction);
            r.prompt = compact(instruction);
        }
        r.path = "/v1beta/models/" + QUrl::toPercentEncoding(model)
            + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        r.body = compact(body);
        r.prompt += compact(contents);
        break;
    }
    }
    return r;
}

WireRequest simpleRequest(Wire wire, const QString &model, bool stream)
{
    return wireRequest(wire, model, stream, {}, {Turn{true, QStringLiteral("Say hello")}});
}

// The usage an answer reported, raw and normalized as gh::Usage (input excludes cache reads).
struct SeenUsage
{
    bool reported = false;
    qint64 prompt = 0;    // OpenAI prompt_tokens, Anthropic input_tokens, Gemini promptTokenCount
    qint64 cacheRead = 0; // OpenAI cached_tokens, Anthropic cache_read_input_tokens, Gemini cachedContentTokenCount
    qint64 cacheWrite = 0;
    qint64 output = 0;    // including Gemini's thoughts
    [[nodiscard]] qint64 input(Wire wire) const { return wire == Wire::Anthropic ? prompt : prompt - cacheRead; }
};

void readOpenAIUsage(const QJsonObject &u, SeenUsage *s)
{
    s->reported = true;
    if (u.contains("input_tokens")) { // the Responses API
        s->prompt = u.value("input_tokens").toInteger();
        s->cacheRead = u.value("input_tokens_details").toObject().value("cached_tokens").toInteger();
        s->output = u.value("output_tokens").toInteger();
        return;
    }
    s->prompt = u.value("prompt_tokens").toInteger();
    s->cacheRead = u.value("prompt_tokens_details").toObject().value("cached_tokens").toInteger();
    s->output = u.value("completion_tokens").toInteger();
}

void readAnthropicUsage(const QJsonObject &u, SeenUsage *s)
{
    s->reported = true;
    s->prompt = u.value("input_tokens").toInteger();
    s->cacheRead = u.value("cache_read_input_tokens").toInteger();
    s->cacheWrite = u.value("cache_creation_input_tokens").toInteger();
    s->output = u.value("output_tokens").toInteger();
}

void readGeminiUsage(const QJsonObject &u, SeenUsage *s)
{
    s->reported = true;
    s->prompt = u.value("promptTokenCount").toInteger();
    s->cacheRead = u.value("cachedContentTokenCount").toInteger();
    s->output = u.value("candidatesTokenCount").toInteger() + u.value("thoughtsTokenCount").toInteger();
}

SeenUsage usageOf(Wire wire, const HttpResponse &r)
{
    SeenUsage s;
    const bool stream = r.header("content-type").startsWith("text/event-stream");
    if (!stream) {
        const QJsonObject o = r.json();
        if (wire == Wire::Gemini && o.contains("usageMetadata"))
            readGeminiUsage(o.value("usageMetadata").toObject(), &s);
        else if (o.value("usage").isObject())
            wire == Wire::Anthropic ? readAnthropicUsage(o.value("usage").toObject(), &s)
                                    : readOpenAIUsage(o.value("usage").toObject(), &s);
        return s;
    }
    for (const SseEvent &e : r.events) {
        const QJsonObject o = QJsonDocument::fromJson(e.data).object();
        switch (wire) {
        case Wire::OpenAI:
            if (o.value("usage").isObject())
                readOpenAIUsage(o.value("usage").toObject(), &s);
            break;
        case Wire::Responses:
            if (e.event == "response.completed" && o.value("response").toObject().value("usage").isObject())
                readOpenAIUsage(o.value("response").toObject().value("usage").toObject(), &s);
            break;
        case Wire::Anthropic:
            if (e.event == "message_start" && o.value("message").toObject().value("usage").isObject()) {
                const qint64 output = s.output;
                readAnthropicUsage(o.value("message").toObject().value("usage").toObject(), &s);
                s.output = output;
            } else if (e.event == "message_delta" && o.value("usage").isObject()) {
                s.output = o.value("usage").toObject().value("output_tokens").toInteger();
            }
            break;
        case Wire::Gemini:
            if (o.value("usageMetadata").isObject()) // running totals: the last one counts
                readGeminiUsage(o.value("usageMetadata").toObject(), &s);
            break;
        }
    }
    return s;
}

// An error event of the wire format inside a 200 stream.
bool isStreamError(Wire wire, const SseEvent &e)
{
    const QJsonObject o = QJsonDocument::fromJson(e.data).object();
    switch (wire) {
    case Wire::Anthropic:
        return e.event == "error" && o.value("type").toString() == QLatin1String("error")
            && !o.value("error").toObject().value("type").toString().isEmpty();
    case Wire::Responses:
        return e.event == "error" && o.value("type").toString() == QLatin1String("error");
    case Wire::OpenAI:
    case Wire::Gemini:
        return e.event.isEmpty() && o.value("error").isObject()
            && !o.value("error").toObject().value("message").toString().isEmpty();
    }
    return false;
}

// The status an error body of the wire format names, or 0 when the body is not one.
int errorBodyStatus(Wire wire, int httpStatus, const QJsonObject &o)
{
    const QJsonObject error = o.value("error").toObject();
    switch (wire) {
    case Wire::Anthropic:
        return o.value("type").toString() == QLatin1String("error") && !error.value("type").toString().isEmpty()
                && !error.value("message").toString().isEmpty()
            ? httpStatus
            : 0;
    case Wire::Gemini:
        return error.value("status").toString().isEmpty() ? 0 : error.value("code").toInt();
    default:
        return !error.value("type").toString().isEmpty() && !error.value("message").toString().isEmpty() ? httpStatus : 0;
    }
}

// Whether the answer is what `behaviour` (as the mock recorded it) promises; empty when it is.
QString outcomeMismatch(Wire wire, const QString &behaviour, const HttpResponse &r, bool stream)
{
    const QString got = QStringLiteral(" (%1: %2)").arg(behaviour, r.describe());
    if (behaviour.startsWith(QLatin1String("fail-"))) {
        const int status = behaviour.mid(5).toInt();
        if (r.status != status || !r.complete)
            return QStringLiteral("expected status %1").arg(status) + got;
        if (errorBodyStatus(wire, r.status, r.json()) != status)
            return QStringLiteral("not an error body") + got;
        if (status == 429 && r.header("retry-after") != "0")
            return QStringLiteral("429 without Retry-After: 0") + got;
        return {};
    }
    if (behaviour == QLatin1String("reset-before"))
        return r.status == 0 && r.raw.isEmpty() && r.peerClosed ? QString() : QStringLiteral("expected a reset") + got;
    if (behaviour == QLatin1String("error-in-stream")) {
        if (!stream)
            return QStringLiteral("a stream error without a stream") + got;
        return r.status == 200 && r.complete && r.events.size() == 1 && isStreamError(wire, r.events.first())
            ? QString()
            : QStringLiteral("expected one error event") + got;
    }
    if (behaviour == QLatin1String("ok")) {
        if (r.status != 200 || !r.complete || !usageOf(wire, r).reported)
            return QStringLiteral("expected a complete answer with usage") + got;
        if (stream && (r.events.isEmpty() || isStreamError(wire, r.events.first())))
            return QStringLiteral("expected a stream") + got;
        return {};
    }
    return QStringLiteral("unexpected behaviour") + got;
}

qint64 commonPrefix(const QByteArray &a, const QByteArray &b)
{
    const qsizetype n = qMin(a.size(), b.size());
    qsizetype i = 0;
    while (i < n && a[i] == b[i])
        ++i;
    return i;
}

// What the mock's cache simulation promises for a prompt after `earlier` ones.
qint64 expectedCachedTokens(const QByteArray &prompt, const QList<QByteArray> &earlier)
{
    qint64 longest = 0;
    for (const QByteArray &e : earlier)
        longest = qMax(longest, commonPrefix(e, prompt));
    return longest < 1024 ? 0 : (longest / 4) / 128 * 128;
}

QString longText(const QString &seed, int words)
{
    QStringList out;
    for (int i = 0; i < words; ++i)
        out << QStringLiteral("%1-%2").arg(seed).arg(i);
    return out.join(u' ');
}

} // namespace

class TestMockUpstream : public QObject
{
    Q_OBJECT

    std::unique_ptr<MockUpstream> m_mock;

    HttpResponse chat(const QString &model, bool stream = false, bool includeUsage = false, RequestOptions options = {})
    {
        HttpClient client(m_mock->port());
        return client.post("/v1/chat/completions", chatBody(model, stream, includeUsage), {}, options);
    }
    HttpResponse send(const WireRequest &request, RequestOptions options = {})
    {
        HttpClient client(m_mock->port());
        return client.post(request.path, request.body, {{"Content-Type", "application/json"}}, options);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
        QVERIFY(m_mock->port() != 0);
        QCOMPARE(m_mock->baseUrl(), QStringLiteral("http://127.0.0.1:%1/v1").arg(m_mock->port()));
    }
    void init() { QVERIFY2(m_mock->reset(), qPrintable(m_mock->errorString())); }
    void cleanupTestCase() { m_mock.reset(); }

    // ---- the SSE helper, offline -----------------------------------------------------------
    void sseSplitting()
    {
        const QByteArray body = ": comment\r\n"
                                "data: {\"a\":1}\r\n\r\n"
                                "event: ping\n"
                                "data: line1\n"
                                "data:line2\n\n"
                                "event: empty\n\n"
                                "data: [DONE]\n\n"
                                "data: unterminated";
        const QList<QByteArray> data = sseEvents(body);
        QCOMPARE(data, (QList<QByteArray>{"{\"a\":1}", "line1\nline2", "[DONE]"}));
        const QList<SseEvent> events = parseSse(body);
        QCOMPARE(events.size(), 3);
        QCOMPARE(events[1].event, QByteArray("ping"));
        QVERIFY(events[0].event.isEmpty());
    }

    // ---- non-streaming replies -------------------------------------------------------------
    void nonStreamOkWithParameters()
    {
        const HttpResponse r = chat(QStringLiteral("ok@p=12,c=7,cached=3"));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Content-Type").startsWith("application/json"));
        QCOMPARE(r.header("content-length").toLongLong(), r.body.size());
        const QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("chat.completion"));
        QCOMPARE(o.value("model").toString(), QStringLiteral("ok@p=12,c=7,cached=3"));
        const QJsonObject choice = o.value("choices").toArray().at(0).toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QStringLiteral("stop"));
        QCOMPARE(choice.value("message").toObject().value("content").toString().split(u' ').size(), 7);
        const QJsonObject usage = o.value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), 12);
        QCOMPARE(usage.value("completion_tokens").toInt(), 7);
        QCOMPARE(usage.value("total_tokens").toInt(), 19);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 3);
    }
    void defaultPromptTokensFromBodySize()
    {
        const QByteArray body = chatBody(QStringLiteral("ok"));
        HttpClient client(m_mock->port());
        const HttpResponse r = client.post("/openai/v1/chat/completions", body); // any prefix
        QCOMPARE(r.status, 200);
        const QJsonObject usage = r.json().value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), static_cast<int>((body.size() + 3) / 4));
        QCOMPARE(usage.value("completion_tokens").toInt(), 10);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 0);
    }
    void failures_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("type");
        QTest::newRow("500") << "fail-500" << 500 << "server_error";
        QTest::newRow("502") << "fail-502" << 502 << "server_error";
        QTest::newRow("503") << "fail-503" << 503 << "server_error";
        QTest::newRow("400") << "fail-400" << 400 << "invalid_request_error";
        QTest::newRow("401") << "fail-401" << 401 << "invalid_request_error";
        QTest::newRow("429") << "fail-429" << 429 << "requests";
    }
    void failures()
    {
        QFETCH(QString, model);
        QFETCH(int, status);
        QFETCH(QString, type);
        const HttpResponse r = chat(model);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, status);
        const QJsonObject error = r.json().value("error").toObject();
        QCOMPARE(error.value("type").toString(), type);
        QVERIFY(!error.value("message").toString().isEmpty());
        QVERIFY(error.contains("code"));
        // Nothing was billed for a failure.
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
    }
    void rateLimitHeaders()
    {
        const HttpResponse r = chat(QStringLiteral("fail-429@retry_after=7"));
        QCOMPARE(r.status, 429);
        QCOMPARE(r.header("Retry-After"), QByteArray("7"));
        QCOMPARE(r.json().value("error").toObject().value("code").toString(), QStringLiteral("rate_limit_exceeded"));
        QCOMPARE(chat(QStringLiteral("fail-429")).header("retry-after"), QByteArray("1"));
    }
    void badJsonReply()
    {
        const HttpResponse r = chat(QStringLiteral("bad-json"));
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        QJsonParseError err{};
        QJsonDocument::fromJson(r.body, &err);
        QVERIFY(err.error != QJsonParseError::NoError);
    }
    void noUsage()
    {
        const HttpResponse r = chat(QStringLiteral("no-usage"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.json().contains("usage"));
        QVERIFY(!r.json().value("choices").toArray().isEmpty());
        QVERIFY(m_mock->lastRequest().value("billed").isNull());

        const HttpResponse s = chat(QStringLiteral("no-usage"), true, true);
        QCOMPARE(s.status, 200);
        for (const QByteArray &d : s.eventData()) {
            if (d != "[DONE]")
                QVERIFY2(parseObject(d).value("usage").isNull(), d.constData());
        }
        QCOMPARE(s.eventData().last(), QByteArray("[DONE]"));
    }
    void invalidRequests()
    {
        HttpClient client(m_mock->port());
        HttpResponse r = client.post("/v1/chat/completions", "{not json");
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value("error").toObject().value("type").toString(), QStringLiteral("invalid_request_error"));
        r = client.post("/v1/chat/completions", "{\"messages\":[]}");
        QCOMPARE(r.status, 400);
        QVERIFY(r.json().value("error").toObject().value("message").toString().contains("model"));
        r = client.post("/v1/nothing-here", chatBody(QStringLiteral("ok")));
        QCOMPARE(r.status, 404);
        r = client.get("/v1/chat/completions");
        QCOMPARE(r.status, 405);
    }

    // ---- streams ---------------------------------------------------------------------------
    void streamWithoutUsage()
    {
        const HttpResponse r = chat(QStringLiteral("ok"), true, false);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        QCOMPARE(r.header("transfer-encoding"), QByteArray("chunked"));
        const QList<QByteArray> data = r.eventData();
        // role chunk, 5 content chunks, the finish chunk, [DONE]
        QCOMPARE(data.size(), 8);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QString text;
        for (qsizetype i = 0; i + 1 < data.size(); ++i) {
            const QJsonObject chunk = parseObject(data[i]);
            QCOMPARE(chunk.value("object").toString(), QStringLiteral("chat.completion.chunk"));
            QVERIFY(!chunk.contains("usage"));
            const QJsonObject choice = chunk.value("choices").toArray().at(0).toObject();
            text += choice.value("delta").toObject().value("content").toString();
            QCOMPARE(choice.value("finish_reason").toString(), i == data.size() - 2 ? QStringLiteral("stop") : QString());
        }
        QCOMPARE(text, QStringLiteral("Hello from the mock upstream"));
        // Every SSE event was its own HTTP chunk.
        QCOMPARE(r.chunks.size(), data.size());
        QCOMPARE(sseEvents(r.body), data);
        // A provider bills the stream even though it did not report usage: the mock records what it reported.
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
    }
    void streamWithUsage()
    {
        const HttpResponse r = chat(QStringLiteral("ok@chunks=3,p=40,cached=8"), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 1 + 3 + 1 + 1 + 1);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        const QJsonObject usageChunk = parseObject(data[data.size() - 2]);
        QVERIFY(usageChunk.value("choices").toArray().isEmpty());
        const QJsonObject usage = usageChunk.value("usage").toObject();
        QCOMPARE(usage.value("prompt_tokens").toInt(), 40);
        QCOMPARE(usage.value("completion_tokens").toInt(), 3);
        QCOMPARE(usage.value("prompt_tokens_details").toObject().value("cached_tokens").toInt(), 8);
        // The other chunks carry "usage": null, as OpenAI's do.
        const QJsonObject first = parseObject(data.first());
        QVERIFY(first.contains("usage") && first.value("usage").isNull());
        const QJsonObject billed = m_mock->lastRequest().value("billed").toObject();
        QCOMPARE(billed.value("prompt_tokens").toInt(), 40);
        QCOMPARE(billed.value("completion_tokens").toInt(), 3);
        QCOMPARE(billed.value("cached_tokens").toInt(), 8);
    }
    void streamChunksArriveAsSent()
    {
        const int delay = 150;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=%1,chunks=4").arg(delay), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        const QList<SseEvent> events = r.events;
        QCOMPARE(events.size(), 1 + 4 + 1 + 1 + 1);
        // The first event comes with the headers; event i is sent i * delay later, and each one
        // arrives on its own (two events read together would show a gap near 0).
        QVERIFY2(events.first().atMs < delay, qPrintable(QString::number(events.first().atMs)));
        for (qsizetype i = 1; i < events.size(); ++i) {
            const double gap = events[i].atMs - events[i - 1].atMs;
            QVERIFY2(events[i].atMs >= i * delay * 0.95, qPrintable(QStringLiteral("event %1 at %2 ms").arg(i).arg(events[i].atMs)));
            QVERIFY2(gap >= delay * 0.4, qPrintable(QStringLiteral("gap %1 ms before event %2").arg(gap).arg(i)));
        }
        QVERIFY2(r.elapsedMs < (events.size() + 1) * delay * 3, qPrintable(QString::number(r.elapsedMs)));
    }
    void resetMidStream()
    {
        const HttpResponse r = chat(QStringLiteral("reset-mid-stream@after=2"), true, true);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.peerClosed);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 3); // the role chunk and two content chunks, then nothing
        QVERIFY(!data.contains("[DONE]"));
        QVERIFY(m_mock->lastRequest().value("billed").isNull());
        // The mock itself is fine afterwards.
        QCOMPARE(chat(QStringLiteral("ok")).status, 200);
    }
    void resetMidBody()
    {
        const HttpResponse r = chat(QStringLiteral("reset-mid-stream"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.peerClosed);
        QVERIFY(!r.body.isEmpty());
        QVERIFY(r.body.size() < r.header("content-length").toLongLong());
    }
    void resetBefore()
    {
        const HttpResponse r = chat(QStringLiteral("reset-before"));
        QCOMPARE(r.status, 0);
        QVERIFY(r.raw.isEmpty());
        QVERIFY(r.peerClosed);
        QVERIFY(!r.error.isEmpty());
    }
    void errorInStream()
    {
        const HttpResponse r = chat(QStringLiteral("error-in-stream"), true, true);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 3); // role, one content chunk, the error
        const QJsonObject error = parseObject(data.last()).value("error").toObject();
        QCOMPARE(error.value("type").toString(), QStringLiteral("server_error"));
        QVERIFY(!error.value("message").toString().isEmpty());
        QVERIFY(!data.contains("[DONE]"));
    }
    void hangTimesOut()
    {
        RequestOptions options;
        options.timeoutMs = 300;
        const HttpResponse r = chat(QStringLiteral("hang"), false, false, options);
        QVERIFY(r.timedOut);
        QCOMPARE(r.status, 0);
        QVERIFY(r.elapsedMs >= 290);
        QVERIFY(m_mock->waitForRequests(1));
    }
    void slowHeaders()
    {
        const HttpResponse r = chat(QStringLiteral("slow-headers@delay=300"));
        QCOMPARE(r.status, 200);
        QVERIFY2(r.headersAtMs >= 280, qPrintable(QString::number(r.headersAtMs)));
        QVERIFY(r.json().contains("usage"));
    }
    void badJsonInStream()
    {
        const HttpResponse r = chat(QStringLiteral("bad-json"), true);
        QCOMPARE(r.status, 200);
        QVERIFY(r.complete);
        const QList<QByteArray> data = r.eventData();
        QVERIFY(!data.isEmpty());
        QJsonParseError err{};
        QJsonDocument::fromJson(data.first(), &err);
        QVERIFY(err.error != QJsonParseError::NoError);
    }

    // ---- other endpoints -------------------------------------------------------------------
    void embeddings()
    {
        HttpClient client(m_mock->port());
        QJsonObject body{{"model", "text-embedding-3-small@p=9"}, {"input", QJsonArray{"a", "b", "c"}}};
        HttpResponse r = client.postJson("/v1/embeddings", body);
        QCOMPARE(r.status, 200);
        QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("list"));
        const QJsonArray data = o.value("data").toArray();
        QCOMPARE(data.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject e = data[i].toObject();
            QCOMPARE(e.value("index").toInt(), i);
            QCOMPARE(e.value("embedding").toArray().size(), 8);
            QVERIFY(e.value("embedding").toArray().at(0).isDouble());
        }
        QVERIFY(data[0].toObject().value("embedding") != data[1].toObject().value("embedding"));
        QCOMPARE(o.value("usage").toObject().value("prompt_tokens").toInt(), 9);
        QCOMPARE(m_mock->lastRequest().value("billed").toObject().value("prompt_tokens").toInt(), 9);

        body = {{"model", "e@dims=3"}, {"input", "one string"}};
        r = client.postJson("/v1/embeddings", body);
        o = r.json();
        QCOMPARE(o.value("data").toArray().size(), 1);
        QCOMPARE(o.value("data").toArray().at(0).toObject().value("embedding").toArray().size(), 3);

        r = client.postJson("/v1/embeddings", QJsonObject{{"model", "e"}});
        QCOMPARE(r.status, 400);
    }
    void models()
    {
        HttpClient client(m_mock->port());
        const HttpResponse r = client.get("/v1/models");
        QCOMPARE(r.status, 200);
        const QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("list"));
        QStringList ids;
        for (const QJsonValue &m : o.value("data").toArray()) {
            QCOMPARE(m.toObject().value("object").toString(), QStringLiteral("model"));
            ids << m.toObject().value("id").toString();
        }
        QVERIFY(ids.contains(QStringLiteral("ok")));
    }
    void legacyCompletions()
    {
        HttpClient client(m_mock->port());
        const QJsonObject body{{"model", "ok@c=4"}, {"prompt", "Once upon"}};
        HttpResponse r = client.postJson("/v1/completions", body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json().value("object").toString(), QStringLiteral("text_completion"));
        QCOMPARE(r.json().value("choices").toArray().at(0).toObject().value("text").toString(),
                 QStringLiteral("Hello from the mock"));
        QCOMPARE(r.json().value("usage").toObject().value("completion_tokens").toInt(), 4);

        QJsonObject streaming = body;
        streaming.insert("stream", true);
        streaming.insert("stream_options", QJsonObject{{"include_usage", true}});
        r = client.postJson("/v1/completions", streaming);
        const QList<QByteArray> data = r.eventData();
        QCOMPARE(data.size(), 5 + 1 + 1 + 1); // content, finish, usage, [DONE]
        QCOMPARE(parseObject(data.first()).value("choices").toArray().at(0).toObject().value("text").toString(),
                 QStringLiteral("Hello"));
    }
    void responsesApi()
    {
        HttpClient client(m_mock->port());
        QJsonObject body{{"model", "ok@c=3,p=11,cached=2"}, {"input", "Hi"}};
        HttpResponse r = client.postJson("/v1/responses", body);
        QCOMPARE(r.status, 200);
        QJsonObject o = r.json();
        QCOMPARE(o.value("object").toString(), QStringLiteral("response"));
        QCOMPARE(o.value("status").toString(), QStringLiteral("completed"));
        QCOMPARE(o.value("usage").toObject().value("input_tokens").toInt(), 11);
        QCOMPARE(o.value("usage").toObject().value("output_tokens").toInt(), 3);
        QCOMPARE(o.value("usage").toObject().value("input_tokens_details").toObject().value("cached_tokens").toInt(), 2);

        body.insert("stream", true);
        r = client.postJson("/v1/responses", body);
        QVERIFY(r.complete);
        const QList<SseEvent> events = r.events;
        QVERIFY(events.size() >= 3);
        // OpenAI's event order: the message item and its text part open before the first delta and
        // close before response.completed (Codex CLI drops deltas that come without an open item).
        QList<QByteArray> names;
        for (const SseEvent &e : events)
            names.append(e.event);
        QCOMPARE(names,
            (QList<QByteArray>{"response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed"}));
        QCOMPARE(parseObject(events.at(11).data).value("item").toObject().value("content").toArray().at(0)
                     .toObject().value("text").toString(),
            QStringLiteral("Hello from the mock upstream"));
        QCOMPARE(parseObject(events.last().data).value("response").toObject().value("usage").toObject().value("output_tokens").toInt(), 3);
    }

    // ---- recording -------------------------------------------------------------------------
    void recordingAndReset()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok@p=5,c=2"));
        QCOMPARE(client.post("/v1/chat/completions?x=1", body, {{"X-Test-Header", "abc"}, {"Authorization", "Bearer sk-up"}}).status, 200);
        QCOMPARE(client.get("/v1/models").status, 200);
        const QJsonArray requests = m_mock->receivedRequests();
        QCOMPARE(requests.size(), 2);
        const QJsonObject first = requests[0].toObject();
        QCOMPARE(first.value("method").toString(), QStringLiteral("POST"));
        QCOMPARE(first.value("path").toString(), QStringLiteral("/v1/chat/completions?x=1"));
        QCOMPARE(first.value("body").toString().toUtf8(), body);
        const QJsonObject headers = first.value("headers").toObject();
        QCOMPARE(headers.value("x-test-header").toString(), QStringLiteral("abc"));
        QCOMPARE(headers.value("authorization").toString(), QStringLiteral("Bearer sk-up"));
        QVERIFY(!headers.contains("X-Test-Header"));
        const QJsonObject billed = first.value("billed").toObject();
        QCOMPARE(billed.value("prompt_tokens").toInt(), 5);
        QCOMPARE(billed.value("completion_tokens").toInt(), 2);
        QCOMPARE(billed.value("cached_tokens").toInt(), 0);
        QCOMPARE(requests[1].toObject().value("method").toString(), QStringLiteral("GET"));
        QVERIFY(requests[1].toObject().value("billed").isNull());

        QVERIFY(m_mock->reset());
        QCOMPARE(m_mock->receivedRequests().size(), 0);
    }

    // ---- HTTP handling and the client's modes ----------------------------------------------
    void keepAliveReuse()
    {
        HttpClient client(m_mock->port());
        client.setKeepAlive(true);
        for (int i = 0; i < 20; ++i)
            QCOMPARE(client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"), i % 2 == 1, true)).status, 200);
        QCOMPARE(client.connectionsOpened(), 1);
        QCOMPARE(m_mock->receivedRequests().size(), 20);
    }
    void pipelinedRequests()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok"));
        const QByteArray one = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        const HttpResponse r = client.sendRaw(one + one + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
        QCOMPARE(r.status, 200);
        QVERIFY(m_mock->waitForRequests(3));
    }
    void chunkedRequestBody()
    {
        HttpClient client(m_mock->port());
        RequestOptions options;
        options.chunkedUpload = true;
        options.uploadChunkBytes = 1024;
        QString prompt;
        for (int i = 0; i < 1000; ++i)
            prompt += QStringLiteral("word%1 ").arg(i);
        const QByteArray body = QJsonDocument(chatRequest(QStringLiteral("ok"), prompt)).toJson(QJsonDocument::Compact);
        QVERIFY(body.size() > 4096);
        const HttpResponse r = client.post("/v1/chat/completions", body, {}, options);
        QCOMPARE(r.status, 200);
        const QJsonObject rec = m_mock->lastRequest();
        QCOMPARE(rec.value("body").toString().toUtf8(), body);
        QCOMPARE(rec.value("headers").toObject().value("transfer-encoding").toString(), QStringLiteral("chunked"));
        QCOMPARE(rec.value("billed").toObject().value("prompt_tokens").toInt(), static_cast<int>((body.size() + 3) / 4));
    }
    void expectContinue()
    {
        HttpClient client(m_mock->port());
        const QByteArray body = chatBody(QStringLiteral("ok"));
        const HttpResponse r = client.sendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                              "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(r.raw.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
        QCOMPARE(r.status, 200); // the interim response is skipped
        QVERIFY(r.complete);
        QVERIFY(r.json().contains("choices"));
    }
    void malformedRequest()
    {
        HttpClient client(m_mock->port());
        const HttpResponse r = client.sendRaw("NOT HTTP AT ALL\r\n\r\n");
        QCOMPARE(r.status, 400);
        QVERIFY(r.complete);
        QCOMPARE(r.header("connection").toLower(), QByteArray("close"));
    }
    void largeBodyUpload()
    {
        HttpClient client(m_mock->port());
        const qint64 size = 8 * 1024 * 1024;
        const HttpResponse r = client.requestLargeBody("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, size);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 400); // not JSON, but all of it was read
        QCOMPARE(r.uploadedBytes, size);
        QCOMPARE(m_mock->lastRequest().value("body_size").toInteger(), size);
    }
    void hugeBodyAnsweredEarly()
    {
        // The server refuses the body after its headers and closes: the client still gets the 413
        // while it is sending, and stops sending.
        MockUpstream limited({QStringLiteral("--max-body"), QStringLiteral("1048576")});
        QVERIFY2(limited.isRunning(), qPrintable(limited.errorString()));
        HttpClient client(limited.port());
        const qint64 size = 50 * 1024 * 1024;
        const HttpResponse r = client.requestLargeBody("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, size);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 413);
        QCOMPARE(r.json().value("error").toObject().value("code").toString(), QStringLiteral("request_too_large"));
        QVERIFY2(r.uploadedBytes < size, qPrintable(QString::number(r.uploadedBytes)));
        // A body under the limit is served normally.
        QCOMPARE(client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"))).status, 200);
    }
    void slowReader()
    {
        RequestOptions options;
        options.readChunkBytes = 1024;
        options.readIntervalMs = 20;
        const HttpResponse r = chat(QStringLiteral("ok@chunks=20,pad=1000"), true, true, options);
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.eventData().size(), 1 + 20 + 1 + 1 + 1);
        // More than 20 KB read 1 KB at a time, 20 ms apart.
        QVERIFY(r.body.size() > 20 * 1000);
        QVERIFY2(r.elapsedMs >= 20 * 18, qPrintable(QString::number(r.elapsedMs)));
    }
    void disconnectAfterSomeBytes()
    {
        RequestOptions options;
        options.disconnectAfterBodyBytes = 1;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=100,chunks=20"), true, true, options);
        QVERIFY(r.aborted);
        QVERIFY(!r.complete);
        QVERIFY(!r.body.isEmpty());
        QVERIFY2(r.elapsedMs < 1000, qPrintable(QString::number(r.elapsedMs)));
        QTest::qWait(250); // the mock notices the client left and keeps serving others
        QCOMPARE(chat(QStringLiteral("ok")).status, 200);
    }
    void headersOnly()
    {
        RequestOptions options;
        options.headersOnly = true;
        const HttpResponse r = chat(QStringLiteral("stream-slow@delay=500,chunks=10"), true, false, options);
        QCOMPARE(r.status, 200);
        QVERIFY(!r.complete);
        QVERIFY(r.elapsedMs < 1000);
    }
    void concurrentClients()
    {
        MockUpstream threaded({QStringLiteral("--threads"), QStringLiteral("2")});
        QVERIFY2(threaded.isRunning(), qPrintable(threaded.errorString()));
        const int clients = 32;
        const int perClient = 25;
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < clients; ++t) {
            threads.emplace_back([&, t] {
                HttpClient client(threaded.port());
                client.setKeepAlive(t % 2 == 0);
                for (int i = 0; i < perClient; ++i) {
                    const HttpResponse r = client.post("/v1/chat/completions", chatBody(QStringLiteral("ok"), i % 3 == 0, true));
                    if (r.status == 200 && r.complete)
                        ++ok;
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QCOMPARE(ok.load(), clients * perClient);
        QCOMPARE(threaded.receivedRequests().size(), clients * perClient);
    }
    void stoppedMockRefusesConnections()
    {
        MockUpstream other;
        QVERIFY(other.isRunning());
        const quint16 port = other.port();
        other.stop();
        QVERIFY(!other.isRunning());
        HttpClient client(port);
        const HttpResponse r = client.get("/v1/models");
        QCOMPARE(r.status, 0);
        QVERIFY(r.error.contains("cannot connect"));
    }

    // ---- fault injection for routing and failover ------------------------------------------
    void failStatuses_data()
    {
        QTest::addColumn<QString>("wire");
        QTest::addColumn<int>("status");
        for (const char *wire : {"openai", "anthropic", "gemini"}) {
            for (int status : {400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529, 599})
                QTest::addRow("%s-%d", wire, status) << QString::fromLatin1(wire) << status;
        }
    }
    void failStatuses()
    {
        QFETCH(QString, wire);
        QFETCH(int, status);
        const Wire w = wireOf(wire);
        const QString model = QStringLiteral("fail-%1").arg(status);
        for (const bool stream : {false, true}) {
            const HttpResponse r = send(simpleRequest(w, model, stream));
            QVERIFY2(r.complete, qPrintable(r.describe()));
            QCOMPARE(r.status, status);
            QVERIFY(r.header("content-type").startsWith("application/json"));
            QCOMPARE(errorBodyStatus(w, r.status, r.json()), status);
            // Only 429 carries a Retry-After unless one is asked for.
            QCOMPARE(r.hasHeader("retry-after"), status == 429);
            if (status == 429)
                QCOMPARE(r.header("retry-after"), QByteArray("1"));
        }
        // retry_after adds the header to any status.
        const QString withRetry = model + QStringLiteral("@retry_after=4");
        const HttpResponse r = send(simpleRequest(w, withRetry, false));
        QCOMPARE(r.status, status);
        QCOMPARE(r.header("retry-after"), QByteArray("4"));
        // Failures bill nothing; each request is counted and recorded with its behaviour.
        QCOMPARE(m_mock->billedTotal(), MockBilled{});
        QCOMPARE(m_mock->requestCount(model), 2);
        QCOMPARE(m_mock->behavioursOf(model), QStringList({model, model}));
        QCOMPARE(m_mock->behavioursOf(withRetry), QStringList{model});
    }
    void failTypes()
    {
        // The error's kind in each format's own vocabulary.
        QCOMPARE(send(simpleRequest(Wire::OpenAI, "fail-504", false)).json().value("error").toObject().value("type").toString(),
                 QStringLiteral("server_error"));
        const QJsonObject timeout = send(simpleRequest(Wire::OpenAI, "fail-408", false)).json().value("error").toObject();
        QCOMPARE(timeout.value("code").toString(), QStringLiteral("timeout"));
        QCOMPARE(send(simpleRequest(Wire::OpenAI, "fail-404", false)).json().value("error").toObject().value("code").toString(),
                 QStringLiteral("model_not_found"));
        auto anthropicType = [this](const QString &model) {
            return send(simpleRequest(Wire::Anthropic, model, false)).json().value("error").toObject().value("type").toString();
        };
        QCOMPARE(anthropicType("fail-529"), QStringLiteral("overloaded_error"));
        QCOMPARE(anthropicType("fail-429"), QStringLiteral("rate_limit_error"));
        QCOMPARE(anthropicType("fail-504"), QStringLiteral("timeout_error"));
        QCOMPARE(anthropicType("fail-500"), QStringLiteral("api_error"));
        auto geminiStatus = [this](const QString &model) {
            return send(simpleRequest(Wire::Gemini, model, false)).json().value("error").toObject().value("status").toString();
        };
        QCOMPARE(geminiStatus("fail-429"), QStringLiteral("RESOURCE_EXHAUSTED"));
        QCOMPARE(geminiStatus("fail-503"), QStringLiteral("UNAVAILABLE"));
        QCOMPARE(geminiStatus("fail-504"), QStringLiteral("DEADLINE_EXCEEDED"));
        // Outside 400..599 the name is just a model name: the answer is ok.
        for (const char *name : {"fail-200", "fail-600", "fail-399", "fail-abc"}) {
            for (const Wire w : {Wire::OpenAI, Wire::Anthropic, Wire::Gemini}) {
                const HttpResponse r = send(simpleRequest(w, QString::fromLatin1(name), false));
                QVERIFY2(r.status == 200 && usageOf(w, r).reported, qPrintable(r.describe()));
            }
        }
    }
    void firstEventError_data()
    {
        QTest::addColumn<QString>("wire");
        for (const char *wire : {"openai", "responses", "anthropic", "gemini"})
            QTest::newRow(wire) << QString::fromLatin1(wire);
    }
    void firstEventError()
    {
        QFETCH(QString, wire);
        const Wire w = wireOf(wire);
        const HttpResponse r = send(simpleRequest(w, "error-in-stream@after=0", true));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("content-type").startsWith("text/event-stream"));
        // The error is the first and only event: no role chunk, no message_start, no content.
        QCOMPARE(r.events.size(), 1);
        QVERIFY2(isStreamError(w, r.events.first()), r.events.first().data.constData());
        if (w == Wire::Anthropic)
            QCOMPARE(QJsonDocument::fromJson(r.events.first().data).object().value("error").toObject().value("type").toString(),
                     QStringLiteral("overloaded_error"));
        QVERIFY(!r.body.contains("[DONE]"));
        QVERIFY(!usageOf(w, r).reported);

        // By default the error comes after some content.
        const HttpResponse later = send(simpleRequest(w, "error-in-stream", true));
        QVERIFY2(later.complete && later.events.size() >= 2, qPrintable(later.describe()));
        QVERIFY(!isStreamError(w, later.events.first()));
        QVERIFY(isStreamError(w, later.events.last()));
        QCOMPARE(m_mock->billedTotal(), MockBilled{});
        QCOMPARE(m_mock->behavioursOf("error-in-stream@after=0"), QStringList{"error-in-stream"});
    }
    void noAnswerBeforeHead_data()
    {
        QTest::addColumn<QString>("wire");
        QTest::addColumn<QString>("model");
        for (const char *wire : {"openai", "anthropic", "gemini"}) {
            for (const char *model : {"reset-before", "reset-before-head", "close-before"})
                QTest::addRow("%s-%s", wire, model) << QString::fromLatin1(wire) << QString::fromLatin1(model);
        }
    }
    void noAnswerBeforeHead()
    {
        QFETCH(QString, wire);
        QFETCH(QString, model);
        const Wire w = wireOf(wire);
        const WireRequest request = wireRequest(w, model, true, longText("big", 2000), {Turn{true, "Hi"}});
        const HttpResponse r = send(request);
        QCOMPARE(r.status, 0);
        QVERIFY(r.raw.isEmpty());
        QVERIFY(r.peerClosed);
        QVERIFY(!r.timedOut);
        // The whole request was read before the connection went away.
        QVERIFY(m_mock->waitForRequests(1));
        const QJsonObject rec = m_mock->lastRequest();
        QCOMPARE(rec.value("body").toString().toUtf8(), request.body);
        QCOMPARE(rec.value("model").toString(), model);
        QCOMPARE(m_mock->requestCount(model), 1);
        QCOMPARE(m_mock->billedTotal(), MockBilled{});
        // The mock serves the next request normally.
        QCOMPARE(send(simpleRequest(w, "ok", false)).status, 200);
    }
    void slowHead_data()
    {
        QTest::addColumn<QString>("wire");
        QTest::addColumn<bool>("stream");
        for (const char *wire : {"openai", "anthropic", "gemini"}) {
            QTest::addRow("%s-stream", wire) << QString::fromLatin1(wire) << true;
            QTest::addRow("%s-body", wire) << QString::fromLatin1(wire) << false;
        }
    }
    void slowHead()
    {
        QFETCH(QString, wire);
        QFETCH(bool, stream);
        const Wire w = wireOf(wire);
        RequestOptions quick;
        quick.timeoutMs = 150;
        const HttpResponse early = send(simpleRequest(w, "slow-head@delay=400", stream), quick);
        QVERIFY(early.timedOut);
        QVERIFY(early.raw.isEmpty()); // not even a status line before the delay
        const HttpResponse r = send(simpleRequest(w, "slow-head@delay=300", stream));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY2(r.headersAtMs >= 280, qPrintable(QString::number(r.headersAtMs)));
        QVERIFY(usageOf(w, r).reported);
        // The wait is before the head only: the events follow without delay.
        QVERIFY2(r.elapsedMs < 280 + 250, qPrintable(QString::number(r.elapsedMs)));
    }
    void idleStream_data()
    {
        slowHead_data();
    }
    void idleStream()
    {
        QFETCH(QString, wire);
        QFETCH(bool, stream);
        const Wire w = wireOf(wire);
        const int pause = 400;
        const HttpResponse r = send(simpleRequest(w, QStringLiteral("idle-stream@after=2,delay=%1").arg(pause), stream));
        QVERIFY2(r.complete, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QVERIFY(usageOf(w, r).reported);
        QCOMPARE(m_mock->billedTotal().requests, 1);
        QVERIFY2(r.headersAtMs < pause / 2, qPrintable(QString::number(r.headersAtMs)));
        if (!stream) {
            // The head and half of the body at once, the rest after the pause.
            QVERIFY2(r.firstBodyAtMs >= 0 && r.firstBodyAtMs < pause / 2, qPrintable(QString::number(r.firstBodyAtMs)));
            QVERIFY2(r.elapsedMs >= pause * 0.95, qPrintable(QString::number(r.elapsedMs)));
            QVERIFY(!r.json().isEmpty());
            return;
        }
        // The head events and two content events at once, then the pause, then the rest at once.
        const int head = w == Wire::Anthropic ? 3 : w == Wire::Gemini ? 0 : 1;
        QVERIFY(r.events.size() > head + 2);
        for (int i = 0; i < r.events.size(); ++i) {
            const double at = r.events[i].atMs;
            if (i < head + 2)
                QVERIFY2(at < pause / 2, qPrintable(QStringLiteral("event %1 at %2 ms").arg(i).arg(at)));
            else
                QVERIFY2(at >= pause * 0.95 && at < pause * 2, qPrintable(QStringLiteral("event %1 at %2 ms").arg(i).arg(at)));
        }
        QVERIFY(!isStreamError(w, r.events.last()));

        // after=0: the headers, then the pause before any event.
        const HttpResponse silent = send(simpleRequest(w, QStringLiteral("idle-stream@after=0,delay=%1").arg(pause), true));
        QVERIFY2(silent.complete && silent.status == 200, qPrintable(silent.describe()));
        QVERIFY2(silent.headersAtMs < pause / 2, qPrintable(QString::number(silent.headersAtMs)));
        QVERIFY2(silent.firstBodyAtMs >= pause * 0.95, qPrintable(QString::number(silent.firstBodyAtMs)));
        QVERIFY(usageOf(w, silent).reported);
    }

    // ---- chaos -------------------------------------------------------------------------------
    void chaosDeterminism()
    {
        const QString model = QStringLiteral("chaos@fail=0.5,seed=42");
        const int n = 60;
        // Sends n streamed requests to `chaosModel` (each followed by one to `other`, if any) and
        // checks every answer against the behaviour the mock recorded for it.
        auto run = [&](const QString &chaosModel, const QString &other) {
            QList<HttpResponse> answers;
            for (int i = 0; i < n; ++i) {
                answers << send(simpleRequest(Wire::OpenAI, chaosModel, true));
                if (!other.isEmpty())
                    send(simpleRequest(Wire::Anthropic, other, true));
            }
            const QStringList behaviours = m_mock->behavioursOf(chaosModel);
            if (behaviours.size() != n)
                return QStringList{QStringLiteral("recorded %1 requests").arg(behaviours.size())};
            for (int i = 0; i < n; ++i) {
                const QString mismatch = outcomeMismatch(Wire::OpenAI, behaviours[i], answers[i], true);
                if (!mismatch.isEmpty())
                    return QStringList{QStringLiteral("request %1: ").arg(i) + mismatch};
            }
            return behaviours;
        };
        const QStringList first = run(model, {});
        QCOMPARE(first.size(), n);
        const qsizetype oks = first.count(QStringLiteral("ok"));
        QVERIFY2(oks > n / 5 && oks < n * 4 / 5, qPrintable(first.join(u' ')));
        QCOMPARE(m_mock->billed(model).requests, oks);
        QCOMPARE(m_mock->requestCount(model), n);

        // The same sequence after a reset, even with another chaos model's requests in between.
        QVERIFY(m_mock->reset());
        QCOMPARE(run(model, QStringLiteral("chaos@fail=0.5,seed=42,c=3")), first);
        QCOMPARE(m_mock->requestCount(QStringLiteral("chaos@fail=0.5,seed=42,c=3")), n);
        // Another seed gives another sequence.
        const QStringList other = run(QStringLiteral("chaos@fail=0.5,seed=43"), {});
        QCOMPARE(other.size(), n);
        QVERIFY(other != first);
    }
    void chaosFaultMix_data()
    {
        QTest::addColumn<QString>("wire");
        QTest::addColumn<bool>("stream");
        for (const char *wire : {"openai", "anthropic", "gemini"}) {
            QTest::addRow("%s-stream", wire) << QString::fromLatin1(wire) << true;
            QTest::addRow("%s-body", wire) << QString::fromLatin1(wire) << false;
        }
    }
    void chaosFaultMix()
    {
        QFETCH(QString, wire);
        QFETCH(bool, stream);
        const Wire w = wireOf(wire);
        QStringList kinds{"fail-500", "fail-502", "fail-503", "fail-504", "fail-529", "fail-429", "fail-408", "reset-before"};
        if (stream)
            kinds << QStringLiteral("error-in-stream");

        // fail=1: every request faulted, every fault of the list drawn, each answered as promised.
        const QString always = QStringLiteral("chaos@fail=1,seed=5");
        const int n = 20 * static_cast<int>(kinds.size());
        QList<HttpResponse> answers;
        for (int i = 0; i < n; ++i)
            answers << send(simpleRequest(w, always, stream));
        const QStringList behaviours = m_mock->behavioursOf(always);
        QCOMPARE(behaviours.size(), n);
        for (int i = 0; i < n; ++i) {
            QVERIFY2(kinds.contains(behaviours[i]), qPrintable(behaviours[i]));
            const QString mismatch = outcomeMismatch(w, behaviours[i], answers[i], stream);
            QVERIFY2(mismatch.isEmpty(), qPrintable(QStringLiteral("request %1: ").arg(i) + mismatch));
        }
        for (const QString &kind : std::as_const(kinds))
            QVERIFY2(behaviours.contains(kind), qPrintable(kind + QStringLiteral(" never drawn")));
        QCOMPARE(m_mock->billedTotal(), MockBilled{});

        // fail=0: never faulted, answered with usage and billed.
        const QString never = QStringLiteral("chaos@fail=0,seed=5,c=3");
        for (int i = 0; i < 20; ++i) {
            const HttpResponse r = send(simpleRequest(w, never, stream));
            QVERIFY2(outcomeMismatch(w, QStringLiteral("ok"), r, stream).isEmpty(), qPrintable(r.describe()));
            QCOMPARE(usageOf(w, r).output, 3);
        }
        QCOMPARE(m_mock->billed(never).requests, 20);
        QCOMPARE(m_mock->billed(never).outputTokens, 60);
        QCOMPARE(m_mock->behavioursOf(never), QStringList(20, QStringLiteral("ok")));

        // fail=0.3: about 30 % faulted.
        const QString some = QStringLiteral("chaos@fail=0.3,seed=9");
        for (int i = 0; i < 200; ++i)
            send(simpleRequest(w, some, stream));
        const qsizetype faults = 200 - m_mock->behavioursOf(some).count(QStringLiteral("ok"));
        QVERIFY2(faults >= 35 && faults <= 85, qPrintable(QString::number(faults)));
        QCOMPARE(m_mock->billed(some).requests, 200 - faults);
    }

    // ---- prompt-cache simulation -------------------------------------------------------------
    void cacheConversation_data()
    {
        slowHead_data();
    }
    void cacheConversation()
    {
        QFETCH(QString, wire);
        QFETCH(bool, stream);
        const Wire w = wireOf(wire);
        const QString model = QStringLiteral("ok@cache=1");
        const QString system = longText(QStringLiteral("system"), 300); // about 3 KB
        QList<Turn> turns{Turn{true, QStringLiteral("What is the capital of France?")}};
        QList<QByteArray> earlier;
        qint64 cachedSum = 0;
        for (int turn = 1; turn <= 6; ++turn) {
            const WireRequest req = wireRequest(w, model, stream, system, turns);
            const HttpResponse r = send(req);
            QVERIFY2(r.status == 200 && r.complete, qPrintable(r.describe()));
            const SeenUsage u = usageOf(w, r);
            QVERIFY(u.reported);
            const qint64 expected = expectedCachedTokens(req.prompt, earlier);
            if (turn == 1)
                QCOMPARE(expected, 0);
            else
                QVERIFY2(expected >= 768, qPrintable(QString::number(expected))); // the test's own premise
            QCOMPARE(u.cacheRead, expected);
            QCOMPARE(u.cacheRead % 128, 0);
            // OpenAI and Gemini count cached tokens inside the prompt; Anthropic's input_tokens excludes them.
            const qint64 whole = (req.body.size() + 3) / 4;
            QCOMPARE(w == Wire::Anthropic ? u.prompt + u.cacheRead : u.prompt, whole);
            cachedSum += u.cacheRead;
            earlier << req.prompt;
            turns << Turn{false, QStringLiteral("Paris, I believe.")} << Turn{true, QStringLiteral("And turn %1?").arg(turn)};
        }
        const MockBilled billed = m_mock->billed(model);
        QCOMPARE(billed.requests, 6);
        QCOMPARE(billed.cacheReadTokens, cachedSum);

        // A different first message: nothing in common worth caching.
        const HttpResponse other = send(wireRequest(w, model, stream, longText(QStringLiteral("other"), 300), turns));
        QCOMPARE(other.status, 200);
        QCOMPARE(usageOf(w, other).cacheRead, 0);
        // Without cache=1 the same conversation reports nothing cached (existing tests keep their numbers).
        const HttpResponse plain = send(wireRequest(w, QStringLiteral("ok"), stream, system, turns));
        QCOMPARE(usageOf(w, plain).cacheRead, 0);
        // Each model name has its own cache: a first request misses, the same prompt again hits in full.
        const WireRequest fresh = wireRequest(w, QStringLiteral("ok@cache=1,c=3"), stream, system, turns);
        QCOMPARE(usageOf(w, send(fresh)).cacheRead, 0);
        QCOMPARE(usageOf(w, send(fresh)).cacheRead, qint64(fresh.prompt.size() / 4 / 128 * 128));
        // Failures do not fill the cache.
        const WireRequest failing = wireRequest(w, QStringLiteral("fail-500@cache=1"), stream, system, turns);
        QCOMPARE(send(failing).status, 500);
        QVERIFY(m_mock->reset());
        QCOMPARE(usageOf(w, send(wireRequest(w, model, stream, system, turns))).cacheRead, 0); // reset forgets
    }
    void cacheOtherEndpoints()
    {
        // The Responses API: input_tokens_details.cached_tokens; a format's cache is its own.
        const QString system = longText(QStringLiteral("sys"), 300);
        const QList<Turn> turns{Turn{true, QStringLiteral("Hello")}};
        QCOMPARE(usageOf(Wire::Responses, send(wireRequest(Wire::Responses, "ok@cache=1", false, system, turns))).cacheRead, 0);
        const WireRequest again = wireRequest(Wire::Responses, "ok@cache=1", false, system, turns);
        QCOMPARE(usageOf(Wire::Responses, send(again)).cacheRead, qint64(again.prompt.size() / 4 / 128 * 128));
        // The chat endpoint in the same format has other prompt bytes (same messages, so the same
        // cache entry as Responses' input): OpenAI keys its cache on the prompt, not the endpoint.
        const WireRequest chat = wireRequest(Wire::OpenAI, "ok@cache=1", false, system, turns);
        QCOMPARE(usageOf(Wire::OpenAI, send(chat)).cacheRead, qint64(chat.prompt.size() / 4 / 128 * 128));
        // Anthropic with the same model name and text starts cold.
        QCOMPARE(usageOf(Wire::Anthropic, send(wireRequest(Wire::Anthropic, "ok@cache=1", false, system, turns))).cacheRead, 0);
    }

    // ---- billing and per-model counts -----------------------------------------------------
    void billingTotals()
    {
        struct Case
        {
            Wire wire;
            QString model;
            bool stream;
            bool billed; // a completed successful answer
        };
        const QList<Case> cases{
            {Wire::OpenAI, "ok@p=100,c=7", false, true},
            {Wire::OpenAI, "ok@chunks=3,cached=20,p=50", true, true},
            {Wire::Responses, "ok@p=33,c=4,cached=5", true, true},
            {Wire::Responses, "ok@p=33,c=4,cached=5", false, true},
            {Wire::Anthropic, "ok@cache_read=30,cache_write=12,p=80,c=4", false, true},
            {Wire::Anthropic, "ok@cache_read=30,cache_write=12,p=80,c=4", true, true},
            {Wire::Gemini, "ok@thoughts=5,cached=10,p=60,c=6", false, true},
            {Wire::Gemini, "ok@thoughts=5,cached=10,p=60,c=6", true, true},
            {Wire::OpenAI, "no-usage", false, true},
            {Wire::Anthropic, "idle-stream@delay=50,p=9", true, true},
            {Wire::Gemini, "slow-head@delay=50,p=8", false, true},
            {Wire::OpenAI, "fail-429", false, false},
            {Wire::Anthropic, "fail-500", true, false},
            {Wire::Gemini, "reset-mid-stream@after=2", true, false},
            {Wire::Anthropic, "reset-mid-stream@after=2", true, false},
            {Wire::OpenAI, "reset-mid-stream", false, false},
            {Wire::Anthropic, "error-in-stream@p=70", true, false}, // message_start reported input, still unbilled
            {Wire::OpenAI, "error-in-stream@after=0", true, false},
            {Wire::Gemini, "reset-before", false, false},
            {Wire::OpenAI, "bad-json", true, false},
        };
        QHash<QString, MockBilled> expected;
        MockBilled total;
        for (int round = 0; round < 2; ++round) {
            for (const Case &c : cases) {
                const HttpResponse r = send(simpleRequest(c.wire, c.model, c.stream));
                QCOMPARE(r.status == 200 && r.complete, c.billed || c.model == QLatin1String("bad-json")
                                                            || c.model.startsWith(QLatin1String("error-in-stream")));
                if (!c.billed)
                    continue;
                const SeenUsage u = usageOf(c.wire, r);
                MockBilled &e = expected[c.model];
                e.requests += 1;
                e.inputTokens += u.input(c.wire);
                e.cacheReadTokens += u.cacheRead;
                e.cacheWriteTokens += u.cacheWrite;
                e.outputTokens += u.output;
                total.requests += 1;
                total.inputTokens += u.input(c.wire);
                total.cacheReadTokens += u.cacheRead;
                total.cacheWriteTokens += u.cacheWrite;
                total.outputTokens += u.output;
            }
        }
        // An OpenAI stream without include_usage reports no usage: billed as a request, no tokens.
        HttpClient client(m_mock->port());
        QCOMPARE(client.post("/v1/chat/completions", chatBody(QStringLiteral("ok@c=2"), true, false)).status, 200);
        expected[QStringLiteral("ok@c=2")].requests += 1;
        total.requests += 1;
        // A stream the client leaves early is not billed.
        RequestOptions leave;
        leave.disconnectAfterBodyBytes = 1;
        QVERIFY(chat(QStringLiteral("stream-slow@delay=50,chunks=10"), true, true, leave).aborted);
        QTest::qWait(700); // the stream would have ended by now

        QCOMPARE(expected.value("ok@p=100,c=7"), (MockBilled{2, 200, 14, 0, 0, 0, 0}));
        QCOMPARE(expected.value("ok@cache_read=30,cache_write=12,p=80,c=4"), (MockBilled{4, 320, 16, 120, 48, 0, 0}));
        const QJsonObject billing = m_mock->billing();
        const QJsonObject byModel = billing.value("by_model").toObject();
        for (auto it = expected.cbegin(); it != expected.cend(); ++it) {
            MockBilled got = MockBilled::fromJson(byModel.value(it.key()).toObject());
            got.reasoningTokens = 0; // informational, part of outputTokens
            QVERIFY2(got == *it, qPrintable(it.key() + QStringLiteral(": ")
                                            + QString::fromUtf8(compact(byModel.value(it.key()).toObject()))));
        }
        QCOMPARE(byModel.size(), expected.size()); // failed, reset and abandoned requests bill nothing
        QCOMPARE(MockBilled::fromJson(byModel.value("ok@thoughts=5,cached=10,p=60,c=6").toObject()).reasoningTokens, 20);
        MockBilled totals = m_mock->billedTotal();
        totals.reasoningTokens = 0;
        QCOMPARE(totals, total);
        QCOMPARE(billing.value("requests").toInteger(), total.requests);
    }
    void requestCountsPerModel()
    {
        for (int i = 0; i < 3; ++i)
            QCOMPARE(send(simpleRequest(Wire::OpenAI, "ok@c=1", i % 2 == 0)).status, 200);
        for (int i = 0; i < 2; ++i)
            QCOMPARE(send(simpleRequest(Wire::Anthropic, "fail-503", false)).status, 503);
        QCOMPARE(send(simpleRequest(Wire::Gemini, "reset-before", true)).status, 0);
        HttpClient client(m_mock->port());
        QCOMPARE(client.post("/v1/chat/completions", "{\"messages\":[]}").status, 400); // names no model
        QCOMPARE(client.get("/v1/models").status, 200);

        const QMap<QString, qint64> counts{{"ok@c=1", 3}, {"fail-503", 2}, {"reset-before", 1}};
        QCOMPARE(m_mock->requestsByModel(), counts);
        QCOMPARE(m_mock->requestCount("ok@c=1"), 3);
        QCOMPARE(m_mock->requestCount("never-asked"), 0);
        QCOMPARE(m_mock->billing().value("received_total").toInteger(), 6);
        QCOMPARE(m_mock->behavioursOf("fail-503"), QStringList({"fail-503", "fail-503"}));
        const QJsonArray recorded = m_mock->receivedRequests();
        QCOMPARE(recorded.size(), 8);
        QVERIFY(recorded.at(6).toObject().value("model").isNull());
        QVERIFY(recorded.at(7).toObject().value("behaviour").isNull());

        QVERIFY(m_mock->reset());
        QVERIFY(m_mock->requestsByModel().isEmpty());
        QCOMPARE(m_mock->billedTotal(), MockBilled{});
    }

    // ---- GatewayProcess, against a scripted stand-in for gatehouse --------------------------
    void gatewayProcessLifecycle()
    {
#ifndef Q_OS_UNIX
        QSKIP("uses a shell script as a stand-in gateway");
#else
        QTemporaryDir dir;
        const QString script = dir.filePath("fake-gatehouse.sh");
        QFile f(script);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("#!/bin/sh\n"
                "echo \"args: $*\" >&2\n"
                "echo \"env: $FAKE_VAR\" >&2\n"
                "case \"$*\" in *bad.json*) echo 'bad.json: providers[0].base_url: not a URL' >&2; exit 2;; esac\n"
                "trap 'echo stopping >&2; exit 0' TERM\n"
                "echo 'Generated key scripts: gk-secret-1'\n"
                "echo 'Generated key other: gk-secret-2'\n"
                "echo 'Gatehouse gateway listening on http://127.0.0.1:45678'\n"
                "while :; do sleep 0.05; done\n");
        f.close();
        QVERIFY(f.setPermissions(f.permissions() | QFileDevice::ExeOwner));
        const QByteArray saved = qgetenv("GATEHOUSE_BIN");
        qputenv("GATEHOUSE_BIN", script.toLocal8Bit());
        auto restore = qScopeGuard([&] {
            if (saved.isNull())
                qunsetenv("GATEHOUSE_BIN");
            else
                qputenv("GATEHOUSE_BIN", saved);
        });

        GatewayProcess gw;
        gw.setEnv("FAKE_VAR", "42");
        const QString config = gw.writeConfig(QJsonObject{{"providers", QJsonArray{}}});
        QVERIFY(!config.isEmpty());
        QCOMPARE(QJsonDocument::fromJson([&] { QFile c(config); c.open(QIODevice::ReadOnly); return c.readAll(); }())
                     .object().value("providers").toArray().size(), 0);
        QVERIFY2(gw.start({"--verbose"}, config), qPrintable(gw.errorString()));
        QCOMPARE(gw.port(), quint16(45678));
        QCOMPARE(gw.baseUrl(), QStringLiteral("http://127.0.0.1:45678"));
        QCOMPARE(gw.linesBeforeListening(),
                 (QStringList{"Generated key scripts: gk-secret-1", "Generated key other: gk-secret-2"}));
        QVERIFY(gw.waitForOutput("env: 42"));
        QVERIFY2(gw.stderrText().contains(QStringLiteral("args: --verbose --headless --port 0 --data-dir %1 --config %2")
                                              .arg(gw.dataDir(), config)),
                 qPrintable(gw.stderrText()));
        QVERIFY(gw.isRunning());
        QCOMPARE(gw.terminate(), 0);
        QVERIFY(!gw.isRunning());
        QVERIFY(gw.stderrText().contains("stopping"));

        // A start-up failure: start() says so and keeps the exit code and the message.
        const QString bad = gw.writeConfig(QJsonObject{}, "bad.json");
        QVERIFY(!gw.start({}, bad));
        QCOMPARE(gw.exitCode(), 2);
        QVERIFY(gw.stderrText().contains("providers[0].base_url"));
        QVERIFY(gw.errorString().contains("code 2"));

        // kill() ends it at once.
        QVERIFY(gw.start());
        gw.kill();
        QVERIFY(!gw.isRunning());
        QCOMPARE(gw.exitCode(), -1);
#endif
    }
};

QTEST_GUILESS_MAIN(TestMockUpstream)
#include "tst_mockupstream.moc"
