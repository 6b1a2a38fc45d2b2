#pragma once
// The conversation, answer and stream of tst_pairs.cpp in each format (kept out of the test's .cpp:
// moc does not read raw string literals that span lines).
#include "formats/formatadapter.h"
#include <QByteArray>
#include <QList>

namespace pairs {

using namespace gh;

inline const QByteArray kSchema = R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})";

inline QByteArray clientRequest(WireFormat f)
{
    switch (f) {
    case WireFormat::OpenAIChat:
        return R"({"model":"m","max_tokens":100,"messages":[{"role":"system","content":"SYS-MARK"},{"role":"user","content":"USER-MARK"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"TOOL-RESULT"}],
            "tools":[{"type":"function","function":{"name":"get_weather","parameters":)" + kSchema + "}}]}";
    case WireFormat::OpenAIResponses:
        return R"({"model":"m","max_output_tokens":100,"instructions":"SYS-MARK","input":[{"role":"user","content":"USER-MARK"},
            {"type":"function_call","call_id":"call_1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
            {"type":"function_call_output","call_id":"call_1","output":"TOOL-RESULT"}],
            "tools":[{"type":"function","name":"get_weather","parameters":)" + kSchema + "}]}";
    case WireFormat::Anthropic:
        return R"({"model":"m","max_tokens":100,"system":"SYS-MARK","messages":[{"role":"user","content":"USER-MARK"},
            {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"TOOL-RESULT"}]}],
            "tools":[{"name":"get_weather","input_schema":)" + kSchema + "}]}";
    case WireFormat::Gemini:
        return R"({"systemInstruction":{"parts":[{"text":"SYS-MARK"}]},"contents":[{"role":"user","parts":[{"text":"USER-MARK"}]},
            {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
            {"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"result":"TOOL-RESULT"}}}]}],
            "tools":[{"functionDeclarations":[{"name":"get_weather","parametersJsonSchema":)" + kSchema + R"(}]}],"generationConfig":{"maxOutputTokens":100}})";
    }
    return {};
}

// The provider's answer: "REPLY-MARK", a call of get_weather for Rome; 100 input tokens of which 30
// cached, 20 output tokens.
inline QByteArray providerResponse(ProviderFormat f)
{
    switch (f) {
    case ProviderFormat::OpenAI:
        return R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"u","choices":[{"index":0,"message":{"role":"assistant","content":"REPLY-MARK",
            "tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":30}}})";
    case ProviderFormat::Anthropic:
        return R"({"id":"msg_1","type":"message","role":"assistant","model":"u","content":[{"type":"text","text":"REPLY-MARK"},
            {"type":"tool_use","id":"toolu_9","name":"get_weather","input":{"city":"Rome"}}],"stop_reason":"tool_use","stop_sequence":null,
            "usage":{"input_tokens":70,"cache_read_input_tokens":30,"cache_creation_input_tokens":0,"output_tokens":20}})";
    case ProviderFormat::Gemini:
        return R"({"candidates":[{"content":{"role":"model","parts":[{"text":"REPLY-MARK"},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},
            "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":30,"candidatesTokenCount":20,"totalTokenCount":120}})";
    }
    return {};
}

struct Event {
    QByteArray name;
    QByteArray data;
};

inline QList<Event> providerStream(ProviderFormat f)
{
    switch (f) {
    case ProviderFormat::OpenAI:
        return {{{}, R"({"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":"REPLY-"},"finish_reason":null}]})"},
                {{}, R"({"id":"c","choices":[{"index":0,"delta":{"content":"MARK"},"finish_reason":null}]})"},
                {{}, R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})"},
                {{}, R"({"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Rome\"}"}}]},"finish_reason":null}]})"},
                {{}, R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"},
                {{}, R"({"id":"c","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":30}}})"},
                {{}, "[DONE]"}};
    case ProviderFormat::Anthropic:
        return {{"message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"u","content":[],"usage":{"input_tokens":70,"cache_read_input_tokens":30,"output_tokens":1}}})"},
                {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
                {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"REPLY-"}})"},
                {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"MARK"}})"},
                {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
                {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}})"},
                {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Rome\"}"}})"},
                {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
                {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20}})"},
                {"message_stop", R"({"type":"message_stop"})"}};
    case ProviderFormat::Gemini:
        return {{{}, R"({"candidates":[{"content":{"role":"model","parts":[{"text":"REPLY-"}]},"index":0}],"usageMetadata":{"promptTokenCount":100,"totalTokenCount":100}})"},
                {{}, R"({"candidates":[{"content":{"role":"model","parts":[{"text":"MARK"}]},"index":0}],"usageMetadata":{"promptTokenCount":100,"totalTokenCount":100}})"},
                {{}, R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},"finishReason":"STOP","index":0}],
                       "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":30,"candidatesTokenCount":20,"totalTokenCount":120}})"}};
    }
    return {};
}

} // namespace pairs
