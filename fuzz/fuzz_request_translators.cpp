// Request, response and error translators: any input gives either a refusal naming a feature or a
// valid JSON object (the raw-splicing of passthrough content must never break the document).
#include "fuzzcommon.h"
#include <QJsonDocument>
#include <QJsonObject>

namespace {
void validObject(const QByteArray &out, const char *what)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(out, &pe);
    fuzz::check(pe.error == QJsonParseError::NoError && doc.isObject(), what, pe.errorString(), out);
}
void request(const std::optional<QByteArray> &out, const gh::TranslateError &err, const char *what)
{
    if (out)
        validObject(*out, what);
    else
        fuzz::check(
            !err.feature.isEmpty() && !err.message.isEmpty(), "a refusal names the feature", QString::fromLatin1(what));
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

    validObject(gh::anthropicResponseToOpenAI(input, QStringLiteral("m")), "anthropicResponseToOpenAI");
    validObject(gh::openAIResponseToAnthropic(input, QStringLiteral("m")), "openAIResponseToAnthropic");
    validObject(gh::geminiResponseToOpenAI(input, QStringLiteral("m")), "geminiResponseToOpenAI");
    validObject(
        gh::openAIResponseToAnthropic(gh::geminiResponseToOpenAI(input, QStringLiteral("m")), QStringLiteral("m")),
        "gemini->openAI->anthropic response");
    const int status = 400 + int(size % 200);
    validObject(gh::openAIErrorToAnthropic(status, input), "openAIErrorToAnthropic");
    validObject(gh::anthropicErrorToOpenAI(status, input), "anthropicErrorToOpenAI");
    validObject(gh::geminiErrorToOpenAI(status, input), "geminiErrorToOpenAI");
    return 0;
}
