// The Responses API as a client's format (formats/openai_responses/responsesinbound.h): any request
// body gives a refusal or a valid internal (OpenAI chat) object the provider translators take in
// turn; any internal response a valid Responses object; any chunk sequence a stream of named events,
// each a JSON object whose type is its event name, ending once.
#include "fuzzcommon.h"
#include "formats/openai_responses/responsesinbound.h"
#include <QJsonDocument>
#include <QJsonObject>

void fuzz::one(const QByteArray &input)
{
    gh::TranslateError err;
    if (const auto internal = gh::responsesToOpenAIChat(input, QStringLiteral("m"), &err)) {
        fuzz::validObject(*internal, "responsesToOpenAIChat");
        gh::TranslateError next;
        if (auto a = gh::openAIChatToAnthropic(*internal, QStringLiteral("claude"), 1024, &next))
            fuzz::validObject(*a, "responses->openAI->anthropic");
        next = {};
        if (auto g = gh::openAIChatToGemini(*internal, &next))
            fuzz::validObject(*g, "responses->openAI->gemini");
    } else {
        fuzz::check(!err.message.isEmpty(), "a refusal explains itself", err.feature);
    }
    fuzz::validObject(gh::openAIResponseToResponses(input, QStringLiteral("m")), "openAIResponseToResponses");

    auto t = gh::openAIToResponsesStream(QStringLiteral("m"));
    const QByteArray out = fuzz::feedStream(*t, input);
    fuzz::check(t->ended(), "the stream ended");
    QByteArray name;
    for (const QByteArray &line : out.split('\n')) {
        if (line.startsWith("event: ")) {
            name = line.mid(7);
        } else if (line.startsWith("data: ")) {
            const QJsonObject o = QJsonDocument::fromJson(line.mid(6)).object();
            fuzz::check(o.value(QLatin1String("type")).toString().toUtf8() == name, "each event's type is its name", QString::fromUtf8(line), out);
        } else {
            fuzz::check(line.isEmpty(), "only event and data lines", QString::fromUtf8(line), out);
        }
    }
}
