#pragma once
#include "formats/openai_chat/openaistream.h"
#include "providers/usage.h"
#include <QByteArray>

namespace gh {

// Side parsers for the Anthropic and Gemini wire formats, the counterparts of inspectOpenAIEvent():
// they read usage, errors and generated-text size from one event without changing it.

// One Anthropic Messages stream event. message_start carries input usage, message_delta the
// cumulative output; both are merged into *usage (mergeAnthropicUsage). `done` on message_stop.
[[nodiscard]] OpenAIEventInfo inspectAnthropicEvent(QByteArrayView eventName, QByteArrayView data, Usage *usage);
// A complete Anthropic Messages response: its usage object and generated text size.
[[nodiscard]] bool usageFromAnthropicResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes = nullptr);

// One streamGenerateContent (alt=sse) chunk: usageMetadata is cumulative, the last one wins.
[[nodiscard]] OpenAIEventInfo inspectGeminiEvent(QByteArrayView data, Usage *usage);
[[nodiscard]] bool usageFromGeminiResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes = nullptr);

} // namespace gh
