// The Gemini API as a client's format (formats/gemini/geminiinbound.h): any request body gives a
// refusal naming the feature or a valid internal (OpenAI chat) object that the provider-side
// translators take in turn; any internal response or error body gives a valid Google-shaped object.
#include "fuzzcommon.h"
#include "formats/gemini/geminiinbound.h"
#include <QJsonDocument>
#include <QJsonObject>

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    gh::TranslateError err;
    const auto internal = gh::geminiToOpenAIChat(input, QStringLiteral("m"), size % 2 == 0, &err);
    if (internal) {
        fuzz::validObject(*internal, "geminiToOpenAIChat");
        gh::TranslateError next;
        if (auto a = gh::openAIChatToAnthropic(*internal, QStringLiteral("claude"), 1024, &next))
            fuzz::validObject(*a, "gemini->openAI->anthropic");
        next = {};
        if (auto g = gh::openAIChatToGemini(*internal, &next))
            fuzz::validObject(*g, "gemini->openAI->gemini");
    } else {
        fuzz::check(!err.message.isEmpty(), "a refusal explains itself", err.feature);
    }
    fuzz::validObject(gh::openAIResponseToGemini(input, QStringLiteral("m")), "openAIResponseToGemini");
    fuzz::validObject(gh::openAIResponseToGemini(gh::anthropicResponseToOpenAI(input, QStringLiteral("m")), QStringLiteral("m")),
                "anthropic->openAI->gemini response");
    fuzz::validObject(gh::openAIErrorToGemini(400 + int(size % 200), input), "openAIErrorToGemini");
}
