#pragma once

#include <QByteArray>

#include <optional>

// What the mock reads from Anthropic Messages and Gemini generateContent request bodies, and the
// checks the real APIs make that a translating gateway can get wrong. A request they would refuse
// gets `problem` set, and the mock answers 400 with that message in the provider's error shape.
namespace gh::mock {

struct ProviderRequest {
    bool json = false; // a JSON object
    std::optional<QByteArray> model; // Anthropic: the body's "model" (Gemini names it in the URL)
    bool stream = false; // Anthropic: "stream": true
    QByteArray toolName; // the tool a reply would call; empty when none is offered or allowed
    QByteArray problem; // non-empty: why the provider would answer 400
};

// Anthropic Messages (and count_tokens, which has no max_tokens):
// - model (string) and messages (non-empty array) are required, max_tokens (integer >= 1) too;
// - message roles are "user" or "assistant" (a "system" role is refused: system is top level);
// - content is a string or an array of blocks that each have a type;
// - every tool_result answers a tool_use id of the previous (assistant) message, and every tool_use
//   is answered by a tool_result in the next message;
// - custom tools have a name and an input_schema object.
// The tool: tool_choice {"type":"tool","name"} or the first custom tool; none for tool_choice "none".
[[nodiscard]] ProviderRequest readAnthropicRequest(const QByteArray &body, bool countTokens);

// Gemini GenerateContentRequest (field names in camelCase or snake_case, as the API accepts):
// - only known top-level fields (contents, systemInstruction, tools, toolConfig, generationConfig,
//   safetySettings, cachedContent, labels, model); unknown ones are refused as Google does
//   ("Invalid JSON payload received. Unknown name ..."), and the same for generationConfig;
// - contents is a non-empty array; each content's role is "user" or "model"; parts are non-empty;
// - every functionDeclaration has a name.
// The tool: toolConfig.functionCallingConfig (mode NONE: none; allowedFunctionNames[0]) or the
// first declaration. countTokens accepts {"contents"} or {"generateContentRequest"} unchecked.
[[nodiscard]] ProviderRequest readGeminiRequest(const QByteArray &body, bool countTokens);

} // namespace gh::mock
