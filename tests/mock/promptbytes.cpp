#include "promptbytes.h"

#include <simdjson.h>

#include <array>
#include <string_view>
#include <utility>

namespace gh::mock {

namespace {

// The slot of `key` in the prompt for `endpoint`, or -1 when it is not part of the prompt.
int slotOf(Endpoint endpoint, std::string_view key)
{
    switch (endpoint) {
    case Endpoint::Chat:
    case Endpoint::AnthropicMessages:
        return key == "system" ? 0 : key == "tools" ? 1 : key == "messages" ? 2 : -1;
    case Endpoint::Completions:
        return key == "prompt" ? 0 : -1;
    case Endpoint::Responses:
        return key == "instructions" ? 0 : key == "tools" ? 1 : key == "input" ? 2 : -1;
    case Endpoint::GeminiGenerate:
    case Endpoint::GeminiStream:
        if (key == "systemInstruction" || key == "system_instruction")
            return 0;
        return key == "tools" ? 1 : key == "contents" ? 2 : -1;
    default:
        return -1;
    }
}

std::string_view trimmed(std::string_view v)
{
    while (!v.empty() && (v.back() == ' ' || v.back() == '\n' || v.back() == '\r' || v.back() == '\t'))
        v.remove_suffix(1);
    return v;
}

} // namespace

QByteArray promptBytes(Endpoint endpoint, const QByteArray &body)
{
    if (slotOf(endpoint, "tools") < 0 && slotOf(endpoint, "prompt") < 0)
        return {};
    using namespace simdjson;
    thread_local ondemand::parser parser;
    const padded_string padded(body.constData(), static_cast<size_t>(body.size()));
    ondemand::document doc;
    if (parser.iterate(padded).get(doc) != SUCCESS)
        return {};
    ondemand::object obj;
    if (doc.get_object().get(obj) != SUCCESS)
        return {};
    std::array<QByteArray, 3> parts;
    for (auto fieldResult : obj) {
        ondemand::field field;
        if (std::move(fieldResult).get(field) != SUCCESS)
            return {};
        std::string_view key;
        if (field.unescaped_key().get(key) != SUCCESS)
            return {};
        const int slot = slotOf(endpoint, key);
        if (slot < 0)
            continue; // the value is skipped by the next iteration
        ondemand::value value = field.value();
        ondemand::json_type type;
        if (value.type().get(type) != SUCCESS)
            return {};
        std::string_view raw;
        error_code err = SUCCESS;
        if (type == ondemand::json_type::array) {
            ondemand::array a;
            err = value.get_array().get(a);
            if (!err)
                err = a.raw_json().get(raw);
        } else if (type == ondemand::json_type::object) {
            ondemand::object o;
            err = value.get_object().get(o);
            if (!err)
                err = o.raw_json().get(raw);
        } else {
            raw = trimmed(value.raw_json_token());
        }
        if (err != SUCCESS)
            return {};
        parts[static_cast<size_t>(slot)] = QByteArray(raw.data(), static_cast<qsizetype>(raw.size()));
    }
    return parts[0] + parts[1] + parts[2];
}

} // namespace gh::mock
