#include "formats/formatadapter.h"
#include "formats/anthropic/anthropicadapter.h"
#include "formats/gemini/geminiadapter.h"
#include "formats/openai_chat/openaichatadapter.h"
#include "formats/openai_responses/openairesponsesadapter.h"

namespace gh {

const char *wireFormatName(WireFormat f)
{
    switch (f) {
    case WireFormat::OpenAIChat: return "OpenAI chat completions";
    case WireFormat::OpenAIResponses: return "OpenAI Responses";
    case WireFormat::Anthropic: return "Anthropic Messages";
    case WireFormat::Gemini: return "Gemini";
    }
    return "unknown";
}

const FormatAdapter &adapterFor(WireFormat format)
{
    static const OpenAIChatAdapter openAIChat;
    static const OpenAIResponsesAdapter openAIResponses;
    static const AnthropicAdapter anthropic;
    static const GeminiAdapter gemini;
    switch (format) {
    case WireFormat::OpenAIChat: return openAIChat;
    case WireFormat::OpenAIResponses: return openAIResponses;
    case WireFormat::Anthropic: return anthropic;
    case WireFormat::Gemini: return gemini;
    }
    return openAIChat;
}

const FormatAdapter &adapterFor(ProviderFormat format)
{
    switch (format) {
    case ProviderFormat::OpenAI: return adapterFor(WireFormat::OpenAIChat);
    case ProviderFormat::Anthropic: return adapterFor(WireFormat::Anthropic);
    case ProviderFormat::Gemini: return adapterFor(WireFormat::Gemini);
    }
    return adapterFor(WireFormat::OpenAIChat);
}

std::unique_ptr<StreamTranslator> composeStreams(const FormatAdapter &provider, const FormatAdapter &client,
                                                 const QString &clientModel, bool clientWantsUsage)
{
    auto down = client.fromInternalStream(clientModel);
    // A client translator needs the internal usage chunk to report usage in its own shape.
    auto up = provider.toInternalStream(clientModel, down ? true : clientWantsUsage);
    if (up && down)
        return chainStreams(std::move(up), std::move(down));
    return up ? std::move(up) : std::move(down);
}

} // namespace gh
