#include "providerrequests.h"

#include <QList>
#include <QSet>

#include <simdjson.h>

#include <string_view>

namespace gh::mock {

namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

QByteArray bytes(std::string_view v)
{
    return QByteArray(v.data(), static_cast<qsizetype>(v.size()));
}

QByteArray n(size_t v)
{
    return QByteArray::number(static_cast<qulonglong>(v));
}

bool parse(const QByteArray &body, object *out)
{
    thread_local simdjson::dom::parser parser;
    element doc;
    if (parser.parse(body.constData(), static_cast<size_t>(body.size())).get(doc) != SUCCESS)
        return false;
    return doc.get_object().get(*out) == SUCCESS;
}

// Anthropic: the problem with one message, or empty. Collects its tool_use ids and the ids its
// tool_result blocks answer.
QByteArray checkAnthropicMessage(element message, size_t i, const QSet<QByteArray> &previousToolUses,
    QList<QByteArray> *toolUses, QSet<QByteArray> *answered)
{
    const QByteArray at = "messages." + n(i);
    std::string_view role;
    if (message["role"].get_string().get(role) != SUCCESS)
        return at + ".role: Field required";
    if (role != "user" && role != "assistant") {
        return at + ".role: Input should be 'user' or 'assistant' (got \"" + bytes(role)
            + "\"; the Messages API takes the system prompt in the top-level `system` parameter)";
    }
    element content;
    if (message["content"].get(content) != SUCCESS)
        return at + ".content: Field required";
    if (content.is_string())
        return {};
    array blocks;
    if (content.get_array().get(blocks) != SUCCESS)
        return at + ".content: Input should be a valid list";
    size_t j = 0;
    for (element block : blocks) {
        const QByteArray blockAt = at + ".content." + n(j++);
        std::string_view type;
        if (block["type"].get_string().get(type) != SUCCESS)
            return blockAt + ".type: Field required";
        if (type == "tool_use") {
            std::string_view id;
            if (role != "assistant")
                return blockAt + ": tool_use blocks are only allowed in assistant messages";
            if (block["id"].get_string().get(id) != SUCCESS)
                return blockAt + ".id: Field required";
            object input;
            if (block["input"].get_object().get(input) != SUCCESS)
                return blockAt + ".input: Input should be a valid dictionary";
            toolUses->append(bytes(id));
        } else if (type == "tool_result") {
            std::string_view id;
            if (role != "user")
                return blockAt + ": tool_result blocks are only allowed in user messages";
            if (block["tool_use_id"].get_string().get(id) != SUCCESS)
                return blockAt + ".tool_use_id: Field required";
            if (!previousToolUses.contains(bytes(id))) {
                return blockAt + ": unexpected `tool_use_id` found in `tool_result` blocks: " + bytes(id)
                    + ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message.";
            }
            answered->insert(bytes(id));
        } else if (type == "text") {
            std::string_view text;
            if (block["text"].get_string().get(text) != SUCCESS)
                return blockAt + ".text: Field required";
        } else if (type == "image" || type == "document") {
            object source;
            if (block["source"].get_object().get(source) != SUCCESS)
                return blockAt + ".source: Field required";
        }
    }
    return {};
}

// Proto3 JSON accepts both the camelCase and the original snake_case names.
QByteArray camel(std::string_view name)
{
    QByteArray out;
    bool upper = false;
    for (const char c : name) {
        if (c == '_') {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return out;
}

QByteArray unknownFieldProblem(object obj, const QSet<QByteArray> &known, QByteArrayView where)
{
    for (auto field : obj) {
        if (!known.contains(camel(field.key))) {
            QByteArray out = "Invalid JSON payload received. Unknown name \"" + bytes(field.key) + '"';
            if (!where.isEmpty())
                out += " at '" + where.toByteArray() + '\'';
            return out + ": Cannot find field.";
        }
    }
    return {};
}

} // namespace

ProviderRequest readAnthropicRequest(const QByteArray &body, bool countTokens)
{
    ProviderRequest r;
    object obj;
    if (!parse(body, &obj)) {
        r.problem = "The request body is not valid JSON";
        return r;
    }
    r.json = true;
    std::string_view model;
    if (obj["model"].get_string().get(model) == SUCCESS)
        r.model = bytes(model);
    bool stream = false;
    if (obj["stream"].get_bool().get(stream) == SUCCESS)
        r.stream = stream;

    auto fail = [&r](const QByteArray &problem) {
        r.problem = problem;
        return r;
    };
    if (!r.model)
        return fail("model: Field required");
    if (!countTokens) {
        int64_t maxTokens = 0;
        element mt;
        if (obj["max_tokens"].get(mt) != SUCCESS)
            return fail("max_tokens: Field required");
        if (mt.get_int64().get(maxTokens) != SUCCESS)
            return fail("max_tokens: Input should be a valid integer");
        if (maxTokens < 1)
            return fail("max_tokens: Input should be greater than or equal to 1");
    }
    element system;
    if (obj["system"].get(system) == SUCCESS && !system.is_string() && !system.is_array())
        return fail("system: Input should be a valid string or a list of text blocks");
    array messages;
    if (obj["messages"].get_array().get(messages) != SUCCESS)
        return fail("messages: Field required");
    if (messages.size() == 0)
        return fail("messages: at least one message is required");

    QSet<QByteArray> previousToolUses;
    size_t i = 0;
    for (element message : messages) {
        QList<QByteArray> toolUses;
        QSet<QByteArray> answered;
        const QByteArray problem = checkAnthropicMessage(message, i, previousToolUses, &toolUses, &answered);
        if (!problem.isEmpty())
            return fail(problem);
        for (const QByteArray &id : std::as_const(previousToolUses)) {
            if (!answered.contains(id)) {
                return fail("messages." + n(i - 1)
                    + ": `tool_use` ids were found without `tool_result` blocks immediately after: " + id
                    + ". Each `tool_use` block must have a corresponding `tool_result` block in the next message.");
            }
        }
        previousToolUses = QSet<QByteArray>(toolUses.cbegin(), toolUses.cend());
        ++i;
    }

    array tools;
    QByteArray firstTool;
    if (obj["tools"].get_array().get(tools) == SUCCESS) {
        size_t k = 0;
        for (element tool : tools) {
            const QByteArray at = "tools." + n(k++);
            std::string_view type;
            if (tool["type"].get_string().get(type) == SUCCESS && type != "custom")
                continue; // a server tool (web_search_..., bash_..., ...)
            std::string_view name;
            if (tool["name"].get_string().get(name) != SUCCESS || name.empty())
                return fail(at + ".name: Field required");
            object schema;
            if (tool["input_schema"].get_object().get(schema) != SUCCESS)
                return fail(at + ".input_schema: Field required");
            if (firstTool.isEmpty())
                firstTool = bytes(name);
        }
    }
    std::string_view choice;
    if (obj.at_pointer("/tool_choice/type").get_string().get(choice) == SUCCESS) {
        if (choice == "none") {
            firstTool.clear();
        } else if (choice == "tool") {
            std::string_view name;
            if (obj.at_pointer("/tool_choice/name").get_string().get(name) != SUCCESS)
                return fail("tool_choice.tool.name: Field required");
            firstTool = bytes(name);
        } else if (choice != "auto" && choice != "any") {
            return fail("tool_choice: Input tag '" + bytes(choice)
                + "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'");
        }
    }
    r.toolName = firstTool;
    return r;
}

ProviderRequest readGeminiRequest(const QByteArray &body, bool countTokens)
{
    ProviderRequest r;
    object obj;
    if (!parse(body, &obj)) {
        r.problem = "Invalid JSON payload received.";
        return r;
    }
    r.json = true;
    if (countTokens)
        return r;
    auto fail = [&r](const QByteArray &problem) {
        r.problem = problem;
        return r;
    };
    static const QSet<QByteArray> topLevel{"contents", "systemInstruction", "tools", "toolConfig", "generationConfig",
        "safetySettings", "cachedContent", "labels", "model"};
    if (const QByteArray p = unknownFieldProblem(obj, topLevel, {}); !p.isEmpty())
        return fail(p);
    static const QSet<QByteArray> generation{"stopSequences", "responseMimeType", "responseSchema",
        "responseJsonSchema", "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK",
        "seed", "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers",
        "speechConfig", "thinkingConfig", "mediaResolution"};
    object config;
    auto generationConfig = obj["generationConfig"];
    if (generationConfig.error() != SUCCESS)
        generationConfig = obj["generation_config"];
    if (generationConfig.get_object().get(config) == SUCCESS) {
        if (const QByteArray p = unknownFieldProblem(config, generation, "generation_config"); !p.isEmpty())
            return fail(p);
    }

    array contents;
    if (obj["contents"].get_array().get(contents) != SUCCESS || contents.size() == 0)
        return fail("* GenerateContentRequest.contents: contents is not specified");
    size_t i = 0;
    for (element content : contents) {
        std::string_view role;
        if (content["role"].get_string().get(role) == SUCCESS && role != "user" && role != "model")
            return fail("Please use a valid role: user, model.");
        array parts;
        if (content["parts"].get_array().get(parts) != SUCCESS || parts.size() == 0)
            return fail("* GenerateContentRequest.contents[" + n(i) + "].parts: contents.parts must not be empty.");
        ++i;
    }

    QByteArray firstTool;
    array tools;
    if (obj["tools"].get_array().get(tools) == SUCCESS) {
        size_t k = 0;
        for (element tool : tools) {
            array declarations;
            auto decl = tool["functionDeclarations"];
            if (decl.error() != SUCCESS)
                decl = tool["function_declarations"];
            if (decl.get_array().get(declarations) == SUCCESS) {
                size_t m = 0;
                for (element d : declarations) {
                    std::string_view name;
                    if (d["name"].get_string().get(name) != SUCCESS || name.empty()) {
                        return fail("* GenerateContentRequest.tools[" + n(k) + "].function_declarations[" + n(m)
                            + "].name: Name cannot be empty.");
                    }
                    if (firstTool.isEmpty())
                        firstTool = bytes(name);
                    ++m;
                }
            }
            ++k;
        }
    }
    std::string_view mode;
    if (obj.at_pointer("/toolConfig/functionCallingConfig/mode").get_string().get(mode) == SUCCESS && mode == "NONE")
        firstTool.clear();
    std::string_view allowed;
    if (!firstTool.isEmpty()
        && obj.at_pointer("/toolConfig/functionCallingConfig/allowedFunctionNames/0").get_string().get(allowed)
            == SUCCESS)
        firstTool = bytes(allowed);
    r.toolName = firstTool;
    return r;
}

} // namespace gh::mock
