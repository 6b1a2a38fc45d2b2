// Request, response and error translators: any input gives either a refusal naming a feature or a
// valid JSON object (the raw-splicing of passthrough content must never break the document).
#include "fuzzcommon.h"
#include <QJsonDocument>
#include <QJsonObject>

namespace {
void request(const std::optional<QByteArray> &out, const gh::TranslateError &err, const char *what)
{
    if (out)
        fuzz::validObject(*out, what);
    else
        fuzz::check(
            !err.feature.isEmpty() && !err.message.isEmpty(), "a refusal names the feature", QString::fromLatin1(what));
}
} // namespace

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    gh::TranslateError err;
    const auto anthropic = gh::openAIChatToAnthropic(input, QStringLiteral("claude"), 1024, &err);
    request(anthropic, err, "openAIChatToAnthropic");
    err = {};
    const auto openai = gh::anthropicToOpenAIChat(input, QStringLiteral("gpt"), &err);
    request(openai, err, "anthropicToOpenAIChat");
    err = {};
    request(gh::openAIChatToGemini(input, &err), err, "openAIChatToGemini");
    if (anthropic) { // compositions
        err = {};
        request(gh::anthropicToOpenAIChat(*anthropic, QStringLiteral("gpt"), &err), err, "openAI->anthropic->openAI");
    }
    if (openai) {
        err = {};
        request(gh::openAIChatToGemini(*openai, &err), err, "anthropic->openAI->gemini");
    }

    fuzz::validObject(gh::anthropicResponseToOpenAI(input, QStringLiteral("m")), "anthropicResponseToOpenAI");
    fuzz::validObject(gh::openAIResponseToAnthropic(input, QStringLiteral("m")), "openAIResponseToAnthropic");
    fuzz::validObject(gh::geminiResponseToOpenAI(input, QStringLiteral("m")), "geminiResponseToOpenAI");
    fuzz::validObject(
        gh::openAIResponseToAnthropic(gh::geminiResponseToOpenAI(input, QStringLiteral("m")), QStringLiteral("m")),
        "gemini->openAI->anthropic response");
    const int status = 400 + int(size % 200);
    fuzz::validObject(gh::openAIErrorToAnthropic(status, input), "openAIErrorToAnthropic");
    fuzz::validObject(gh::anthropicErrorToOpenAI(status, input), "anthropicErrorToOpenAI");
    fuzz::validObject(gh::geminiErrorToOpenAI(status, input), "geminiErrorToOpenAI");
}
