#pragma once

#include "mockreplies.h"

#include <QByteArray>

// The part of a request body a provider's prompt cache keys on, for the cache simulation.
namespace gh::mock {

// The raw bytes (as sent, whitespace and key order untouched) of the prompt-relevant fields of a
// request body, concatenated in this order whatever their order in the body:
//   OpenAI chat: system, tools, messages; completions: prompt; responses: instructions, tools, input;
//   Anthropic: system, tools, messages; Gemini: systemInstruction, tools, contents (either spelling).
// Empty when the body is not a JSON object or has none of them (embeddings, count_tokens).
[[nodiscard]] QByteArray promptBytes(Endpoint endpoint, const QByteArray &body);

} // namespace gh::mock
