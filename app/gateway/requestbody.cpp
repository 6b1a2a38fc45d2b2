#include "gateway/requestbody.h"
#include "gateway/gatewayerror.h"
#include <simdjson.h>
#include <xxhash.h>
#ifdef GH_XXHASH_DISPATCH
#include <xxh_x86dispatch.h>
#endif
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace gh {

const char *endpointPath(Endpoint e)
{
    switch (e) {
    case Endpoint::ChatCompletions: return "/chat/completions";
    case Endpoint::Completions: return "/completions";
    case Endpoint::Embeddings: return "/embeddings";
    case Endpoint::Responses: return "/responses";
    case Endpoint::Messages: return "/messages";
    case Endpoint::CountTokens: return "/messages/count_tokens";
    }
    return "";
}

namespace {

// simdjson's raw tokens run up to the next structural character; drop trailing white space.
qsizetype tokenLength(std::string_view token)
{
    qsizetype n = qsizetype(token.size());
    while (n > 0 && (token[n - 1] == ' ' || token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == '\t'))
        --n;
    return n;
}

const char *requiredField(Endpoint e)
{
    switch (e) {
    case Endpoint::ChatCompletions: return "messages";
    case Endpoint::Completions: return "prompt";
    case Endpoint::Embeddings: return "input";
    case Endpoint::Responses: return "input";
    case Endpoint::Messages: return "messages";
    case Endpoint::CountTokens: return "messages";
    }
    return nullptr;
}

simdjson::error_code validateValue(simdjson::ondemand::value value, int depth = 0);

// The On-Demand walking loops. Each calls fn for every member / element and stops at the first error,
// simdjson's or fn's (an error_code, SUCCESS to go on).

// fn(key, value) for each member of the object.
template <typename Fn>
simdjson::error_code eachField(simdjson::ondemand::object object, Fn &&fn)
{
    for (auto field : object) {
        std::string_view key;
        if (auto err = field.unescaped_key().get(key))
            return err;
        simdjson::ondemand::value v;
        if (auto err = field.value().get(v))
            return err;
        if (auto err = fn(key, v))
            return err;
    }
    return simdjson::SUCCESS;
}

// fn(value) for each element of the array.
template <typename Fn>
simdjson::error_code eachElement(simdjson::ondemand::array array, Fn &&fn)
{
    for (auto element : array) {
        simdjson::ondemand::value v;
        if (auto err = element.get(v))
            return err;
        if (auto err = fn(v))
            return err;
    }
    return simdjson::SUCCESS;
}

// Whether `value` is of type `wanted`; a value of another type is validated, at `depth`.
simdjson::error_code isOfType(simdjson::ondemand::value value, simdjson::ondemand::json_type wanted, int depth, bool *is)
{
    simdjson::ondemand::json_type type;
    if (auto err = value.type().get(type))
        return err;
    *is = type == wanted;
    return *is ? simdjson::SUCCESS : validateValue(value, depth);
}

// eachField() when `value` is an object; any other value is only validated, at `depth`.
template <typename Fn>
simdjson::error_code forEachField(simdjson::ondemand::value value, int depth, Fn &&fn)
{
    using namespace simdjson;
    bool isObject = false;
    if (auto err = isOfType(value, ondemand::json_type::object, depth, &isObject); err || !isObject)
        return err;
    ondemand::object object;
    if (auto err = value.get_object().get(object))
        return err;
    return eachField(object, fn);
}

// eachElement() when `value` is an array; any other value is only validated, at `depth`.
template <typename Fn>
simdjson::error_code forEachElement(simdjson::ondemand::value value, int depth, Fn &&fn)
{
    using namespace simdjson;
    bool isArray = false;
    if (auto err = isOfType(value, ondemand::json_type::array, depth, &isArray); err || !isArray)
        return err;
    ondemand::array array;
    if (auto err = value.get_array().get(array))
        return err;
    return eachElement(array, fn);
}

// fn(string) when `value` is a string; any other value is only validated, at `depth`.
template <typename Fn>
simdjson::error_code ifString(simdjson::ondemand::value value, int depth, Fn &&fn)
{
    using namespace simdjson;
    bool isString = false;
    if (auto err = isOfType(value, ondemand::json_type::string, depth, &isString); err || !isString)
        return err;
    std::string_view s;
    if (auto err = value.get_string().get(s))
        return err;
    fn(s);
    return SUCCESS;
}

// On-Demand skips the values it is not asked for by counting brackets, without checking them; walk
// them so that invalid JSON is refused here (400) rather than forwarded.
simdjson::error_code validateValue(simdjson::ondemand::value value, int depth)
{
    using namespace simdjson;
    constexpr int kMaxDepth = 512;
    if (depth > kMaxDepth)
        return DEPTH_ERROR;
    ondemand::json_type type;
    if (auto err = value.type().get(type))
        return err;
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (auto err = value.get_object().get(object))
            return err;
        return eachField(object, [depth](std::string_view, ondemand::value v) { return validateValue(v, depth + 1); });
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (auto err = value.get_array().get(array))
            return err;
        return eachElement(array, [depth](ondemand::value v) { return validateValue(v, depth + 1); });
    }
    case ondemand::json_type::string: {
        std::string_view s;
        return value.get_string().get(s);
    }
    case ondemand::json_type::number: {
        ondemand::number n;
        return value.get_number().get(n);
    }
    case ondemand::json_type::boolean: {
        bool b = false;
        return value.get_bool().get(b);
    }
    case ondemand::json_type::null: {
        bool isNull = false;
        if (auto err = value.is_null().get(isNull))
            return err;
        return isNull ? SUCCESS : INCORRECT_TYPE;
    }
    }
    return TAPE_ERROR;
}

// XXH3 (xxHash's 64-bit hash), seeded: the same value in every process and on every machine, so
// block hashes can be stored and compared across runs. With libxxhash's x86 dispatch (AVX2/AVX-512
// picked at run time) it hashes a 100 KB prompt about 4x faster than XXH64 did (BENCHMARKS.md, "Closing
// the 16-connection gap"); a 100 KB prompt is hashed twice per request (affinity prefix and 1 KiB blocks).
quint64 hash64(const char *data, size_t len, quint64 seed)
{
#ifdef GH_XXHASH_DISPATCH
    return XXH3_64bits_withSeed_dispatch(data, len, seed);
#else
    return XXH3_64bits_withSeed(data, len, seed);
#endif
}

constexpr qsizetype kMaxFallbackModels = 10;

constexpr quint64 kHashSeed = 0x6761746568736531ULL; // fixed: hashes are stored and compared across runs

bool isSpace(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// A value's raw bytes in the body.
struct Span {
    const char *begin = nullptr;
    const char *end = nullptr;
    [[nodiscard]] qsizetype size() const { return end - begin; }
    [[nodiscard]] bool present() const { return begin != nullptr && end > begin; }
};

// What the routing traits are read from, collected during the one pass over the body.
struct PromptParts {
    bool hasTools = false;
    bool hasImages = false;
    int imageCount = 0; // image parts, for the budget's input bound
    bool wantsJsonSchema = false;
    std::array<Span, 2> system; // Responses: instructions, then leading system/developer input items
    std::array<Span, 2> tools;  // tools, then the legacy functions
    Span messages;              // the non-system messages (or input items), first to last
    Span firstMessage;
};

// Walks the values the traits are read from, validating everything it passes like validateValue().
class TraitWalker
{
public:
    TraitWalker(simdjson::ondemand::document &doc, Endpoint endpoint, PromptParts &parts)
        : m_doc(doc), m_parts(parts), m_endpoint(endpoint)
    {
        switch (endpoint) {
        case Endpoint::ChatCompletions: m_imageType = "image_url"; break;
        case Endpoint::Messages: m_imageType = "image"; break;
        case Endpoint::Responses: m_imageType = "input_image"; break;
        default: break;
        }
    }

    // A member of the top-level object that is not one of the common fields.
    simdjson::error_code member(std::string_view key, simdjson::ondemand::value value)
    {
        switch (m_endpoint) {
        case Endpoint::ChatCompletions: return chatCompletionsMember(key, value);
        case Endpoint::Messages: return messagesMember(key, value);
        case Endpoint::Responses: return responsesMember(key, value);
        case Endpoint::Completions:
        case Endpoint::Embeddings:
        case Endpoint::CountTokens:
            break;
        }
        return validateValue(value);
    }

    simdjson::error_code chatCompletionsMember(std::string_view key, simdjson::ondemand::value value)
    {
        if (key == "messages")
            return messages(value, true);
        if (key == "tools")
            return tools(value, &m_parts.tools[0]);
        if (key == "functions")
            return tools(value, &m_parts.tools[1]);
        if (key == "response_format")
            return typeIs(value, "json_schema", &m_parts.wantsJsonSchema);
        return validateValue(value);
    }

    simdjson::error_code messagesMember(std::string_view key, simdjson::ondemand::value value)
    {
        if (key == "system")
            return span(value, &m_parts.system[0]);
        if (key == "messages")
            return messages(value, false);
        if (key == "tools")
            return tools(value, &m_parts.tools[0]);
        if (key == "output_format" || key == "response_format")
            return typeIs(value, "json_schema", &m_parts.wantsJsonSchema);
        if (key == "output_config")
            return memberTypeIs(value, "format", "json_schema", &m_parts.wantsJsonSchema);
        return validateValue(value);
    }

    simdjson::error_code responsesMember(std::string_view key, simdjson::ondemand::value value)
    {
        if (key == "instructions")
            return span(value, &m_parts.system[0]);
        if (key == "input")
            return messages(value, true);
        if (key == "tools")
            return tools(value, &m_parts.tools[0]);
        if (key == "text")
            return memberTypeIs(value, "format", "json_schema", &m_parts.wantsJsonSchema);
        return validateValue(value);
    }

    // The end of the value just consumed: the next token, with the white space before it dropped.
    simdjson::error_code endOfValue(const char **end)
    {
        const char *p = nullptr;
        if (auto err = m_doc.current_location().get(p))
            return err;
        while (isSpace(p[-1]))
            --p;
        *end = p;
        return simdjson::SUCCESS;
    }

    // Consumes (and validates) a value; its raw span is set unless it is null.
    simdjson::error_code span(simdjson::ondemand::value value, Span *out, simdjson::ondemand::json_type *typeOut = nullptr)
    {
        using namespace simdjson;
        ondemand::json_type type;
        if (auto err = value.type().get(type))
            return err;
        if (typeOut)
            *typeOut = type;
        const char *begin = value.raw_json_token().data();
        if (auto err = validateValue(value))
            return err;
        if (type == ondemand::json_type::null)
            return SUCCESS;
        out->begin = begin;
        return endOfValue(&out->end);
    }

    // `tools` / `functions`: present when not null; counts when it is a non-empty array.
    simdjson::error_code tools(simdjson::ondemand::value value, Span *out)
    {
        using namespace simdjson;
        ondemand::json_type type;
        if (auto err = value.type().get(type))
            return err;
        if (type != ondemand::json_type::array)
            return span(value, out);
        out->begin = value.raw_json_token().data();
        ondemand::array array;
        if (auto err = value.get_array().get(array))
            return err;
        auto element = [this](ondemand::value v) {
            if (auto err = validateValue(v, 1))
                return err;
            m_parts.hasTools = true;
            return SUCCESS;
        };
        if (auto err = eachElement(array, element))
            return err;
        return endOfValue(&out->end);
    }

    // Whether an object's "type" is `wanted` (other types: false), e.g. response_format.
    simdjson::error_code typeIs(simdjson::ondemand::value value, std::string_view wanted, bool *is, int depth = 0)
    {
        return forEachField(value, depth, [&](std::string_view key, simdjson::ondemand::value v) {
            return key == "type" ? stringIs(v, wanted, is, depth + 1) : validateValue(v, depth + 1);
        });
    }

    // Whether object.<member>.type is `wanted` (Responses text.format, Anthropic output_config.format).
    simdjson::error_code memberTypeIs(simdjson::ondemand::value value, std::string_view member, std::string_view wanted, bool *is)
    {
        return forEachField(value, 0, [&](std::string_view key, simdjson::ondemand::value v) {
            return key == member ? typeIs(v, wanted, is, 1) : validateValue(v, 1);
        });
    }

    // The messages (chat, Anthropic) or input items (Responses): leading system/developer messages
    // are the system part when `leadingSystem`; image parts are looked for in every content array.
    simdjson::error_code messages(simdjson::ondemand::value value, bool leadingSystem)
    {
        using namespace simdjson;
        ondemand::json_type type;
        if (auto err = value.type().get(type))
            return err;
        if (type == ondemand::json_type::string) { // Responses: "input": "text"
            if (auto err = span(value, &m_parts.messages))
                return err;
            m_parts.firstMessage = m_parts.messages;
            return SUCCESS;
        }
        if (type != ondemand::json_type::array)
            return validateValue(value);
        ondemand::array array;
        if (auto err = value.get_array().get(array))
            return err;
        Span &system = m_parts.system[1];
        bool leading = leadingSystem;
        return eachElement(array, [&](ondemand::value v) {
            const char *begin = v.raw_json_token().data();
            bool isSystem = false;
            if (auto err = message(v, &isSystem))
                return err;
            const char *end = nullptr;
            if (auto err = endOfValue(&end))
                return err;
            if (leading && isSystem) {
                if (!system.begin)
                    system.begin = begin;
                system.end = end;
                return SUCCESS;
            }
            leading = false;
            if (!m_parts.firstMessage.begin) {
                m_parts.firstMessage = {begin, end};
                m_parts.messages.begin = begin;
            }
            m_parts.messages.end = end;
            return SUCCESS;
        });
    }

private:
    simdjson::error_code stringIs(simdjson::ondemand::value value, std::string_view wanted, bool *is, int depth)
    {
        return ifString(value, depth, [&](std::string_view s) {
            if (s == wanted)
                *is = true;
        });
    }

    simdjson::error_code countImage(simdjson::ondemand::value value, int depth)
    {
        return ifString(value, depth, [&](std::string_view s) {
            if (s == m_imageType) {
                m_parts.hasImages = true;
                ++m_parts.imageCount;
            }
        });
    }

    // One message: its role, and image parts in its content.
    simdjson::error_code message(simdjson::ondemand::value value, bool *isSystem)
    {
        return forEachField(value, 1, [&](std::string_view key, simdjson::ondemand::value v) {
            if (key == "role")
                return ifString(v, 2, [&](std::string_view role) { *isSystem = role == "system" || role == "developer"; });
            if (key == "content")
                return content(v, 2, true);
            return validateValue(v, 2);
        });
    }

    // A content array: parts whose type is the endpoint's image type; one level of nested content
    // (Anthropic tool_result parts carry their own content array).
    simdjson::error_code content(simdjson::ondemand::value value, int depth, bool nested)
    {
        namespace ondemand = simdjson::ondemand;
        return forEachElement(value, depth, [&](ondemand::value part) {
            return forEachField(part, depth + 1, [&](std::string_view key, ondemand::value v) {
                if (key == "type" && m_imageType)
                    return countImage(v, depth + 2);
                if (key == "content" && nested)
                    return content(v, depth + 2, false);
                return validateValue(v, depth + 2);
            });
        });
    }

    simdjson::ondemand::document &m_doc;
    PromptParts &m_parts;
    Endpoint m_endpoint;
    const char *m_imageType = nullptr;
};

// Feeds byte ranges and hashes them in fixed-size blocks, as if they were one concatenated buffer;
// a block is copied only when it straddles two ranges.
class BlockHasher
{
public:
    explicit BlockHasher(QList<quint64> &out) : m_out(out) { }
    void add(const char *p, qsizetype n)
    {
        constexpr qsizetype kBlock = RequestFields::kPromptBlockBytes;
        while (n > 0 && !full()) {
            if (m_fill == 0 && n >= kBlock) {
                m_out.append(hash64(p, size_t(kBlock), kHashSeed));
                p += kBlock;
                n -= kBlock;
                continue;
            }
            const qsizetype take = std::min(n, kBlock - m_fill);
            std::memcpy(m_buffer.data() + m_fill, p, size_t(take));
            m_fill += take;
            p += take;
            n -= take;
            if (m_fill == kBlock) {
                m_out.append(hash64(m_buffer.data(), size_t(kBlock), kHashSeed));
                m_fill = 0;
            }
        }
    }
    void add(const Span &s)
    {
        if (s.present())
            add(s.begin, s.size());
    }
    void finish()
    {
        if (m_fill > 0 && !full())
            m_out.append(hash64(m_buffer.data(), size_t(m_fill), kHashSeed));
        m_fill = 0;
    }

private:
    [[nodiscard]] bool full() const { return m_out.size() >= RequestFields::kMaxPromptBlocks; }
    QList<quint64> &m_out;
    std::array<char, RequestFields::kPromptBlockBytes> m_buffer;
    qsizetype m_fill = 0;
};

// A hash over parts, each part tagged so that bytes moved from one part to the next change it.
quint64 chainHash(quint64 h, const Span &s, quint64 tag)
{
    return s.present() ? hash64(s.begin, size_t(s.size()), h + tag) : h;
}

void computeTraits(const PromptParts &parts, RequestFields &f)
{
    f.hasTools = parts.hasTools;
    f.hasImages = parts.hasImages;
    f.imageCount = parts.imageCount;
    f.wantsJsonSchema = parts.wantsJsonSchema;
    for (const Span &s : parts.system)
        f.systemBytes += s.present() ? s.size() : 0;
    for (const Span &s : parts.tools)
        f.toolsBytes += s.present() ? s.size() : 0;
    f.headBytes = f.systemBytes + f.toolsBytes;
    quint64 h = kHashSeed;
    for (const Span &s : parts.system)
        h = chainHash(h, s, 1);
    for (const Span &s : parts.tools)
        h = chainHash(h, s, 2);
    if (f.headBytes > 0)
        f.headHash = h != 0 ? h : 1;
    if (f.headBytes > 0 || parts.firstMessage.present()) {
        h = chainHash(h, parts.firstMessage, 3);
        f.prefixHash = h != 0 ? h : 1;
    }
    const qsizetype total = f.headBytes + (parts.messages.present() ? parts.messages.size() : 0);
    if (total == 0)
        return;
    f.promptBlocks.reserve(std::min<qsizetype>((total + RequestFields::kPromptBlockBytes - 1) / RequestFields::kPromptBlockBytes,
                                               RequestFields::kMaxPromptBlocks));
    BlockHasher blocks(f.promptBlocks);
    for (const Span &s : parts.system)
        blocks.add(s);
    for (const Span &s : parts.tools)
        blocks.add(s);
    blocks.add(parts.messages);
    blocks.finish();
}

// Reads the top-level members of a request body into RequestFields, one reader per member the
// gateway needs (the others go to the TraitWalker). A reader returns false with the message for the
// client in message(); messages name the field and say what it must be.
class TopLevelReader
{
public:
    TopLevelReader(QByteArray &body, Endpoint endpoint, TraitWalker &walker, RequestFields &f)
        : m_body(body)
        , m_base(body.constData())
        , m_endpoint(endpoint)
        , m_required(requiredField(endpoint))
        , m_walker(walker)
        , m_f(f)
    { }

    bool read(simdjson::ondemand::field &field)
    {
        const char *keyStart = field.key().raw() - 1; // the key's opening quote
        std::string_view key;
        if (auto err = field.unescaped_key().get(key))
            return invalid(err);
        simdjson::ondemand::value &value = field.value();
        if (key == "model")
            return readModel(key, value);
        if (key == "stream")
            return readStream(key, value);
        if (key == "max_tokens" || key == "max_completion_tokens" || key == "max_output_tokens")
            return readOutputLimit(key, value);
        if (key == "thinking" && m_endpoint == Endpoint::Messages)
            return readThinking(key, value);
        if (key == "stream_options")
            return readStreamOptions(key, value);
        if (key == "models")
            return readFallbackModels(key, keyStart, value);
        return readOther(key, value);
    }

    // After the last member: the required fields are there and nothing follows the object.
    bool finish(simdjson::ondemand::document &doc)
    {
        // Nothing may follow the object (on-demand stops reading at its closing brace).
        const char *trailing = nullptr;
        if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS)
            return fail(QStringLiteral("Invalid JSON in request body: trailing content after the object."));
        if (!m_hasModel)
            return fail(QStringLiteral("Missing required field: 'model'."));
        if (m_required && !m_hasRequired)
            return fail(QStringLiteral("Missing required field: '%1'.").arg(QLatin1String(m_required)));
        // The closing brace of the top-level object.
        qsizetype end = m_body.size() - 1;
        while (end >= 0 && (m_body[end] == ' ' || m_body[end] == '\n' || m_body[end] == '\r' || m_body[end] == '\t'))
            --end;
        if (end < 0 || m_body[end] != '}')
            return fail(QStringLiteral("Invalid JSON in request body: trailing content after the object."));
        m_f.objectEnd = end;
        return true;
    }

    bool invalid(simdjson::error_code err)
    {
        return fail(QStringLiteral("Invalid JSON in request body: %1").arg(QString::fromLatin1(simdjson::error_message(err))));
    }

    [[nodiscard]] const QString &message() const { return m_message; }

private:
    bool fail(const QString &message)
    {
        m_message = message;
        return false;
    }

    bool fieldError(std::string_view key, const char *what)
    {
        return fail(QStringLiteral("Invalid request: field '%1' %2.").arg(QString::fromUtf8(key.data(), qsizetype(key.size())), QLatin1String(what)));
    }

    // Whether the value is JSON null (false also when it cannot be read as one).
    static bool isNullValue(simdjson::ondemand::value &value)
    {
        bool isNull = false;
        return value.is_null().get(isNull) == simdjson::SUCCESS && isNull;
    }

    bool readModel(std::string_view key, simdjson::ondemand::value &value)
    {
        const std::string_view token = value.raw_json_token();
        std::string_view s;
        if (value.get_string().get(s))
            return fieldError(key, "must be a string");
        m_f.model = QString::fromUtf8(s.data(), qsizetype(s.size()));
        m_f.modelOffset = token.data() - m_base;
        m_f.modelLength = tokenLength(token);
        m_hasModel = true;
        return true;
    }

    bool readStream(std::string_view key, simdjson::ondemand::value &value)
    {
        bool b = false;
        if (value.get_bool().get(b) && !isNullValue(value))
            return fieldError(key, "must be a boolean");
        m_f.stream = b;
        return true;
    }

    bool readOutputLimit(std::string_view key, simdjson::ondemand::value &value)
    {
        const std::string_view token = value.raw_json_token(); // before the value is consumed
        int64_t n = 0;
        if (value.get_int64().get(n))
            return isNullValue(value) || fieldError(key, "must be a non-negative integer");
        if (n < 0)
            return fieldError(key, "must be a non-negative integer");
        // max_completion_tokens wins over the deprecated max_tokens when both are present.
        if (!m_f.maxTokens || key != "max_tokens")
            m_f.maxTokens = n;
        // Every occurrence (a repeated key too: providers' parsers differ on which one wins).
        m_f.outputLimitFields.append({token.data() - m_base, tokenLength(token)});
        return true;
    }

    // Anthropic extended thinking: budget_tokens must stay below max_tokens (a clamp edits it).
    bool readThinking(std::string_view key, simdjson::ondemand::value &value)
    {
        using namespace simdjson;
        ondemand::json_type type;
        if (auto err = value.type().get(type))
            return invalid(err);
        if (type != ondemand::json_type::object) {
            if (auto err = m_walker.member(key, value))
                return invalid(err);
            return true;
        }
        ondemand::object thinking;
        if (value.get_object().get(thinking))
            return fieldError(key, "must be an object");
        bool badBudget = false;
        const error_code err = eachField(thinking, [&](std::string_view tk, ondemand::value tv) {
            if (tk != "budget_tokens")
                return validateValue(tv);
            const std::string_view ttoken = tv.raw_json_token();
            int64_t b = 0;
            if (tv.get_int64().get(b) || b < 0) {
                badBudget = true;
                return INCORRECT_TYPE;
            }
            m_f.thinkingBudget = b;
            m_f.thinkingBudgetOffset = ttoken.data() - m_base;
            m_f.thinkingBudgetLength = tokenLength(ttoken);
            return SUCCESS;
        });
        if (badBudget)
            return fail(QStringLiteral("Invalid request: field 'thinking.budget_tokens' must be a non-negative integer."));
        if (err)
            return invalid(err);
        return true;
    }

    bool readStreamOptions(std::string_view key, simdjson::ondemand::value &value)
    {
        using namespace simdjson;
        const std::string_view token = value.raw_json_token();
        if (isNullValue(value)) {
            m_f.streamOptionsOffset = token.data() - m_base;
            m_f.streamOptionsNullLength = tokenLength(token);
            return true;
        }
        ondemand::object opts;
        if (value.get_object().get(opts))
            return fieldError(key, "must be an object");
        m_f.streamOptionsOffset = token.data() - m_base; // the '{'
        m_f.streamOptionsNullLength = 0;
        qsizetype i = m_f.streamOptionsOffset + 1;
        while (i < m_body.size() && (m_body[i] == ' ' || m_body[i] == '\n' || m_body[i] == '\r' || m_body[i] == '\t'))
            ++i;
        m_f.streamOptionsEmpty = i < m_body.size() && m_body[i] == '}';
        bool badUsage = false;
        const error_code err = eachField(opts, [&](std::string_view ok, ondemand::value iv) {
            if (ok != "include_usage")
                return validateValue(iv);
            const std::string_view itoken = iv.raw_json_token();
            m_f.includeUsageOffset = itoken.data() - m_base;
            m_f.includeUsageLength = tokenLength(itoken);
            bool b = false;
            if (iv.get_bool().get(b) && !isNullValue(iv)) {
                badUsage = true; // reported below with its own message
                return INCORRECT_TYPE;
            }
            m_f.clientWantsUsage = b;
            return SUCCESS;
        });
        if (badUsage)
            return fail(QStringLiteral("Invalid request: field 'stream_options.include_usage' must be a boolean."));
        if (err)
            return invalid(err);
        return true;
    }

    // The gateway's own per-request fallback list, cut out of the body sent upstream.
    bool readFallbackModels(std::string_view key, const char *keyStart, simdjson::ondemand::value &value)
    {
        using namespace simdjson;
        if (m_f.modelsMemberOffset >= 0)
            return fieldError(key, "must appear only once");
        ondemand::json_type type;
        if (auto err = value.type().get(type))
            return invalid(err);
        if (type == ondemand::json_type::array) {
            ondemand::array list;
            if (auto err = value.get_array().get(list))
                return invalid(err);
            for (auto element : list) {
                ondemand::value v;
                if (auto err = element.get(v))
                    return invalid(err);
                std::string_view s;
                if (v.get_string().get(s) || s.empty() || m_f.fallbackModels.size() >= kMaxFallbackModels)
                    return fieldError(key, "must be an array of at most 10 model names");
                m_f.fallbackModels.append(QString::fromUtf8(s.data(), qsizetype(s.size())));
            }
        } else if (type != ondemand::json_type::null || !isNullValue(value)) {
            return fieldError(key, "must be an array of at most 10 model names");
        }
        const char *valueEnd = nullptr;
        if (auto err = m_walker.endOfValue(&valueEnd))
            return invalid(err);
        cutFallbackMember(keyStart - m_base, valueEnd - m_base);
        return true;
    }

    // The member [start, stop) and one adjacent comma: the one before it, or after it when it comes first.
    void cutFallbackMember(qsizetype start, qsizetype stop)
    {
        qsizetype before = start - 1;
        while (before > 0 && isSpace(m_base[before]))
            --before;
        if (m_base[before] == ',') {
            m_f.modelsMemberOffset = before;
            m_f.modelsMemberLength = stop - before;
            return;
        }
        qsizetype after = stop;
        while (after < m_body.size() && isSpace(m_base[after]))
            ++after;
        m_f.modelsMemberOffset = start;
        m_f.modelsMemberLength = (after < m_body.size() && m_base[after] == ',' ? after + 1 : stop) - start;
    }

    // Any other member: the endpoint's required field is noted, and the routing traits walk it.
    bool readOther(std::string_view key, simdjson::ondemand::value &value)
    {
        if (m_required && key == m_required) {
            bool isNull = false;
            if (auto err = value.is_null().get(isNull))
                return invalid(err);
            m_hasRequired = !isNull;
        }
        if (auto err = m_walker.member(key, value))
            return invalid(err);
        return true;
    }

    QByteArray &m_body;
    const char *m_base;
    Endpoint m_endpoint;
    const char *m_required;
    TraitWalker &m_walker;
    RequestFields &m_f;
    bool m_hasModel = false;
    bool m_hasRequired = false;
    QString m_message;
};

} // namespace

std::optional<RequestFields> inspectRequestBody(QByteArray &body, Endpoint endpoint, QString *error)
{
    // Note: every simdjson_result is read with .get(); converting one to a value throws on error
    // (e.g. is_null() on the broken literal `nul`), which would take the gateway down.
    using namespace simdjson;
    auto fail = [&](const QString &message) -> std::optional<RequestFields> {
        if (error)
            *error = message;
        return std::nullopt;
    };
    if (body.trimmed().isEmpty())
        return fail(QStringLiteral("Request body is empty: expected a JSON object."));
    if (body.capacity() - body.size() < qsizetype(SIMDJSON_PADDING))
        body.reserve(body.size() + SIMDJSON_PADDING);
    thread_local ondemand::parser parser;
    padded_string_view view(body.constData(), size_t(body.size()), size_t(body.capacity()));
    RequestFields f;
    PromptParts parts;
    ondemand::document doc;
    TraitWalker walker(doc, endpoint, parts);
    TopLevelReader reader(body, endpoint, walker, f);
    if (auto err = parser.iterate(view).get(doc)) {
        reader.invalid(err);
        return fail(reader.message());
    }
    ondemand::object root;
    if (doc.get_object().get(root))
        return fail(QStringLiteral("Invalid request body: expected a JSON object."));
    for (auto member : root) {
        ondemand::field field;
        if (auto err = std::move(member).get(field)) {
            reader.invalid(err);
            return fail(reader.message());
        }
        if (!reader.read(field))
            return fail(reader.message());
    }
    if (!reader.finish(doc))
        return fail(reader.message());
    computeTraits(parts, f);
    return f;
}

namespace {

// A replacement of body bytes [offset, offset + length) by `text` (length 0: an insertion).
struct BodyEdit {
    qsizetype offset;
    qsizetype length;
    QByteArray text;
};

// The body with the edits made, every other byte as it was (the prompt prefix stays cacheable).
QByteArray applyEdits(const QByteArray &body, std::vector<BodyEdit> edits)
{
    if (edits.empty())
        return body;
    std::sort(edits.begin(), edits.end(), [](const BodyEdit &a, const BodyEdit &b) { return a.offset < b.offset; });
    qsizetype added = 0;
    for (const BodyEdit &e : edits)
        added += e.text.size();
    QByteArray out;
    out.reserve(body.size() + added);
    qsizetype pos = 0;
    for (const BodyEdit &e : edits) {
        out.append(body.constData() + pos, e.offset - pos);
        out.append(e.text);
        pos = e.offset + e.length;
    }
    out.append(body.constData() + pos, body.size() - pos);
    return out;
}

} // namespace

QByteArray rewriteRequestBody(const QByteArray &body, const RequestFields &f, const QString &upstreamModel, bool requireUsage)
{
    std::vector<BodyEdit> edits;
    if (f.modelOffset >= 0 && upstreamModel != f.model)
        edits.push_back({f.modelOffset, f.modelLength, jsonString(upstreamModel)});
    if (f.modelsMemberOffset >= 0 && f.modelsMemberLength > 0)
        edits.push_back({f.modelsMemberOffset, f.modelsMemberLength, QByteArray()});
    if (requireUsage && f.stream && !f.clientWantsUsage) {
        if (f.includeUsageOffset >= 0)
            edits.push_back({f.includeUsageOffset, f.includeUsageLength, "true"});
        else if (f.streamOptionsNullLength > 0) // "stream_options": null
            edits.push_back({f.streamOptionsOffset, f.streamOptionsNullLength, "{\"include_usage\":true}"});
        else if (f.streamOptionsOffset >= 0)
            edits.push_back({f.streamOptionsOffset + 1, 0, f.streamOptionsEmpty ? QByteArray("\"include_usage\":true") : QByteArray("\"include_usage\":true,")});
        else if (f.objectEnd >= 0)
            edits.push_back({f.objectEnd, 0, ",\"stream_options\":{\"include_usage\":true}"});
    }
    return applyEdits(body, std::move(edits));
}

QByteArray rewriteOutputLimit(const QByteArray &body, const RequestFields &f, qint64 limit,
                              std::optional<qint64> thinkingBudget, QByteArrayView addName)
{
    std::vector<BodyEdit> edits;
    const QByteArray value = QByteArray::number(limit);
    for (const RequestFields::Token &t : f.outputLimitFields)
        edits.push_back({t.offset, t.length, value});
    if (f.outputLimitFields.isEmpty() && f.objectEnd >= 0)
        edits.push_back({f.objectEnd, 0, ",\"" + addName.toByteArray() + "\":" + value});
    if (thinkingBudget && f.thinkingBudgetOffset >= 0)
        edits.push_back({f.thinkingBudgetOffset, f.thinkingBudgetLength, QByteArray::number(*thinkingBudget)});
    return applyEdits(body, std::move(edits));
}

} // namespace gh
