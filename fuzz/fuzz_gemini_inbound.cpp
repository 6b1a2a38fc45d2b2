// The Gemini API as a client's format (formats/gemini/geminiinbound.h): any request body gives a
// refusal naming the feature or a valid internal (OpenAI chat) object that the provider-side
// translators take in turn; any internal response or error body gives a valid Google-shaped object.
#include "fuzzcommon.h"
#include "formats/gemini/geminiinbound.h"
#include <QJsonDocument>
#include <QJsonObject>

namespace {
void validObject(const QByteArray &out, const char *what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &pe);
    fuzz::check(pe.error == QJsonParseError::NoError && doc.isObject(), what, pe.errorString(), out);
}
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietLogs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::bytes(data, size);
    gh::TranslateError err;
    const auto internal = gh::geminiToOpenAIChat(input, QStringLiteral("m"), size % 2 == 0, &err);
    if (internal) {
        validObject(*internal, "geminiToOpenAIChat");
        gh::TranslateError next;
        if (auto a = gh::openAIChatToAnthropic(*internal, QStringLiteral("claude"), 1024, &next))
            validObject(*a, "gemini->openAI->anthropic");
        next = {};
        if (auto g = gh::openAIChatToGemini(*internal, &next))
            validObject(*g, "gemini->openAI->gemini");
    } else {
        fuzz::check(!err.message.isEmpty(), "a refusal explains itself", err.feature);
    }
    validObject(gh::openAIResponseToGemini(input, QStringLiteral("m")), "openAIResponseToGemini");
    validObject(gh::openAIResponseToGemini(gh::anthropicResponseToOpenAI(input, QStringLiteral("m")), QStringLiteral("m")),
                "anthropic->openAI->gemini response");
    validObject(gh::openAIErrorToGemini(400 + int(size % 200), input), "openAIErrorToGemini");
    return 0;
}
