// Every pair of formats, through the adapters as the gateway composes them (client.toInternalRequest
// -> provider.fromInternalRequest; provider.toInternalResponse -> client.fromInternalResponse;
// composeStreams(provider, client)): the four client formats (OpenAI chat, Responses, Anthropic,
// Gemini) times the three provider formats (OpenAI, Anthropic, Gemini; the Responses API's provider
// side is OpenAI's). One conversation in each client format (system text, a user turn, an earlier
// tool call and its result, a tool) must reach every provider with all of it and the call paired
// with its result; one answer from each provider (text, a tool call, usage with cached tokens) must
// reach every client with all of it and the same normalized usage, whole and streamed. The same-format
// pairs are normally passed through untouched; here they go the long way too (a clamp does that).
#include "formats/formatadapter.h"
#include "formats/gemini/geminiinbound.h"
#include "formats/providerevents.h"
#include "goldenkit.h"
#include "pairsdata.h"
#include <QTest>

using namespace gh;

using namespace pairs;

namespace {

// The normalized usage a client reads from a whole response in its own format.
Usage clientUsage(WireFormat f, const QByteArray &body)
{
    Usage u;
    switch (f) {
    case WireFormat::OpenAIChat:
    case WireFormat::OpenAIResponses: (void)usageFromOpenAIResponse(body, &u); break;
    case WireFormat::Anthropic: (void)usageFromAnthropicResponse(body, &u); break;
    case WireFormat::Gemini: (void)usageFromGeminiResponse(body, &u); break;
    }
    return u;
}

// The call paired with its result, in the provider's own request shape.
bool callPaired(ProviderFormat f, const QJsonObject &body, QString *why)
{
    QString callId;
    QString resultId;
    for (const QJsonValue &mv : body.value(f == ProviderFormat::Gemini ? QStringLiteral("contents") : QStringLiteral("messages")).toArray()) {
        const QJsonObject m = mv.toObject();
        if (f == ProviderFormat::OpenAI) {
            for (const QJsonValue &c : m.value(QStringLiteral("tool_calls")).toArray())
                callId = c.toObject().value(QStringLiteral("id")).toString();
            if (m.value(QStringLiteral("role")) == QStringLiteral("tool"))
                resultId = m.value(QStringLiteral("tool_call_id")).toString();
        } else if (f == ProviderFormat::Anthropic) {
            for (const QJsonValue &b : m.value(QStringLiteral("content")).toArray()) {
                if (b.toObject().value(QStringLiteral("type")) == QStringLiteral("tool_use"))
                    callId = b.toObject().value(QStringLiteral("id")).toString();
                if (b.toObject().value(QStringLiteral("type")) == QStringLiteral("tool_result"))
                    resultId = b.toObject().value(QStringLiteral("tool_use_id")).toString();
            }
        } else {
            for (const QJsonValue &p : m.value(QStringLiteral("parts")).toArray()) {
                if (p.toObject().contains(QStringLiteral("functionCall")))
                    callId = p.toObject().value(QStringLiteral("functionCall")).toObject().value(QStringLiteral("name")).toString();
                if (p.toObject().contains(QStringLiteral("functionResponse")))
                    resultId = p.toObject().value(QStringLiteral("functionResponse")).toObject().value(QStringLiteral("name")).toString();
            }
        }
    }
    *why = QStringLiteral("call '%1', result '%2'").arg(callId, resultId);
    return !callId.isEmpty() && callId == resultId;
}

const WireFormat kClients[] = {WireFormat::OpenAIChat, WireFormat::OpenAIResponses, WireFormat::Anthropic, WireFormat::Gemini};
const ProviderFormat kProviders[] = {ProviderFormat::OpenAI, ProviderFormat::Anthropic, ProviderFormat::Gemini};

} // namespace

void addPairs()
{
    QTest::addColumn<int>("client");
    QTest::addColumn<int>("provider");
    for (const WireFormat c : kClients) {
        for (const ProviderFormat p : kProviders)
            QTest::addRow("%s to %s", wireFormatName(c), qPrintable(formatName(p))) << int(c) << int(p);
    }
}

class TestPairs : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void requests_data() { addPairs(); }
    void requests()
    {
        QFETCH(int, client);
        QFETCH(int, provider);
        const FormatAdapter &c = adapterFor(WireFormat(client));
        const FormatAdapter &p = adapterFor(ProviderFormat(provider));
        TranslateError err;
        QByteArray body = clientRequest(c.format());
        // A Gemini client's body is translated at admission (the stream flag is in its URL).
        std::optional<QByteArray> internal = c.format() == WireFormat::Gemini ? geminiToOpenAIChat(body, QStringLiteral("u"), false, &err)
                                                                               : c.toInternalRequest(body, QStringLiteral("u"), &err);
        QVERIFY2(internal, qPrintable(err.feature + u' ' + err.message));
        const auto upstream = p.fromInternalRequest(*internal, QStringLiteral("u"), 4096, &err);
        QVERIFY2(upstream, qPrintable(err.feature + u' ' + err.message));
        for (const char *mark : {"SYS-MARK", "USER-MARK", "TOOL-RESULT", "get_weather", "Paris"})
            QVERIFY2(upstream->contains(mark), qPrintable(QStringLiteral("%1 missing from %2").arg(QLatin1String(mark), QString::fromUtf8(*upstream))));
        QString why;
        QVERIFY2(callPaired(ProviderFormat(provider), QJsonDocument::fromJson(*upstream).object(), &why), qPrintable(why + u'\n' + QString::fromUtf8(*upstream)));
    }

    void responses_data() { addPairs(); }
    void responses()
    {
        QFETCH(int, client);
        QFETCH(int, provider);
        const FormatAdapter &c = adapterFor(WireFormat(client));
        const FormatAdapter &p = adapterFor(ProviderFormat(provider));
        const QByteArray upstream = providerResponse(ProviderFormat(provider));
        Usage billed;
        QVERIFY(p.usageFromResponse(upstream, &billed, nullptr));
        const QByteArray out = c.fromInternalResponse(p.toInternalResponse(upstream, QStringLiteral("m")), QStringLiteral("m"));
        const QJsonValue error = QJsonDocument::fromJson(out).object().value(QStringLiteral("error"));
        QVERIFY2(error.isUndefined() || error.isNull(), out.constData()); // a Response carries "error": null
        for (const char *mark : {"REPLY-MARK", "get_weather", "Rome"})
            QVERIFY2(out.contains(mark), qPrintable(QStringLiteral("%1 missing from %2").arg(QLatin1String(mark), QString::fromUtf8(out))));
        // What the client reads is what the provider billed: 100 input (30 cached), 20 output.
        const Usage seen = clientUsage(c.format(), out);
        QCOMPARE(seen.totalInput(), billed.totalInput());
        QCOMPARE(seen.cacheReadTokens, billed.cacheReadTokens);
        QCOMPARE(seen.outputTokens, billed.outputTokens);
        QCOMPARE(billed.totalInput(), 100);
        QCOMPARE(billed.cacheReadTokens, 30);
    }

    void streams_data() { addPairs(); }
    void streams()
    {
        QFETCH(int, client);
        QFETCH(int, provider);
        const FormatAdapter &c = adapterFor(WireFormat(client));
        const FormatAdapter &p = adapterFor(ProviderFormat(provider));
        auto t = composeStreams(p, c, QStringLiteral("m"), true);
        QByteArray out;
        Usage side; // the gateway's side parser on the provider's events
        for (const Event &e : providerStream(ProviderFormat(provider))) {
            (void)p.inspectEvent(e.name, e.data, &side);
            if (t)
                out += t->feed(e.name, e.data);
            else
                out += "data: " + e.data + "\n\n"; // OpenAI to OpenAI: relayed as it is
        }
        if (t) {
            out += t->finish();
            QVERIFY(t->ended());
            QVERIFY(!t->sawError());
        }
        for (const char *mark : {"REPLY-", "MARK", "get_weather", "Rome"})
            QVERIFY2(out.contains(mark), qPrintable(QStringLiteral("%1 missing from %2").arg(QLatin1String(mark), QString::fromUtf8(out))));
        QCOMPARE(side.totalInput(), 100);
        QCOMPARE(side.cacheReadTokens, 30);
        QCOMPARE(side.outputTokens, 20);
        if (t) {
            QCOMPARE(t->usage().totalInput(), 100);
            QCOMPARE(t->usage().outputTokens, 20);
        }
        // Each client format's own end of stream.
        switch (c.format()) {
        case WireFormat::OpenAIChat: QVERIFY(out.trimmed().endsWith("data: [DONE]")); break;
        case WireFormat::OpenAIResponses: QVERIFY(out.contains("event: response.completed")); break;
        case WireFormat::Anthropic: QVERIFY(out.trimmed().endsWith("{\"type\":\"message_stop\"}")); break;
        case WireFormat::Gemini: QVERIFY(out.contains("\"finishReason\"") && out.contains("usageMetadata")); break;
        }
    }
};

QTEST_GUILESS_MAIN(TestPairs)
#include "tst_pairs.moc"
