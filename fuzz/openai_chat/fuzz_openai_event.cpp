// The gateway's side parser of OpenAI-format stream events and response bodies, and the usage parsers.
#include "formats/openai_chat/openaistream.h"
#include "fuzzcommon.h"
#include "providers/usage.h"

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    gh::Usage usage;
    const gh::OpenAIEventInfo info = gh::inspectOpenAIEvent(input, &usage);
    fuzz::check(info.outputBytes >= 0, "output bytes are not negative");
    fuzz::check(!info.error || !info.errorMessage.isNull(), "an error carries a message");
    gh::Usage body;
    qint64 outputBytes = 0;
    (void)gh::usageFromOpenAIResponse(input, &body, &outputBytes);
    (void)gh::isValidJson(input);
    (void)gh::upstreamErrorMessage(input);
    const std::string_view view(input.constData(), size_t(input.size()));
    gh::Usage u;
    (void)gh::parseOpenAIUsage(view, u);
    (void)gh::parseAnthropicUsage(view, u);
    (void)gh::parseGeminiUsage(view, u);
}
