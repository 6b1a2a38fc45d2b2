#include "guardrails/requestshape.h"
#include <simdjson.h>
#include <xxhash.h>
#include <optional>
#include <string>
#include <string_view>

namespace gh {

namespace {

constexpr quint64 kSeed = 0x6775617264726c31ULL; // fixed: hashes are shown and compared across runs
constexpr int kMaxDepth = 64; // deeper than any real message; beyond it the value is skipped

bool volatileMember(std::string_view key)
{
    return key == "cache_control" || key == "id" || key == "tool_use_id" || key == "tool_call_id" || key == "call_id"
        || key == "signature";
}

// Writes a value's normalized form into one buffer, hashed once at the end (one XXH3 call over
// the whole list runs at memory speed; an XXH3 update per token cost 30x more on a 100 KB body).
class Feeder
{
public:
    explicit Feeder(std::string &out) : m_out(out) { }

    void add(const void *p, size_t n) { m_out.append(static_cast<const char *>(p), n); }
    void tag(char t) { m_out.push_back(t); }
    qint64 textBytes = 0;

    // long-function: one case per JSON type of a recursive walk; with a method per type it cost
    // 2.4 % more instructions on this per-request path (callgrind, bench/guardrails_bench 100).
    // NOLINTNEXTLINE(readability-function-cognitive-complexity): the same switch, the same reason
    simdjson::error_code value(simdjson::ondemand::value v, int depth)
    {
        using namespace simdjson;
        if (depth > kMaxDepth)
            return SUCCESS;
        ondemand::json_type type;
        if (auto err = v.type().get(type))
            return err;
        switch (type) {
        case ondemand::json_type::object: {
            ondemand::object o;
            if (auto err = v.get_object().get(o))
                return err;
            tag('{');
            for (auto field : o) {
                std::string_view key;
                if (auto err = field.unescaped_key().get(key))
                    return err;
                if (volatileMember(key))
                    continue; // on-demand skips the unread value
                tag('k');
                add(key.data(), key.size());
                if (auto err = value(field.value(), depth + 1))
                    return err;
            }
            tag('}');
            return SUCCESS;
        }
        case ondemand::json_type::array: {
            ondemand::array a;
            if (auto err = v.get_array().get(a))
                return err;
            tag('[');
            for (auto element : a) {
                ondemand::value e;
                if (auto err = element.get(e))
                    return err;
                if (auto err = value(e, depth + 1))
                    return err;
            }
            tag(']');
            return SUCCESS;
        }
        case ondemand::json_type::string: {
            // The string as written, escapes included: unescaping every string halved the speed,
            // and a client writes the same text with the same escapes each time it sends it.
            std::string_view raw = v.raw_json_token();
            while (!raw.empty() && raw.back() != '"')
                raw.remove_suffix(1); // white space after the closing quote
            if (raw.size() < 2 || raw.front() != '"')
                return STRING_ERROR;
            raw = raw.substr(1, raw.size() - 2);
            tag('s');
            add(raw.data(), raw.size());
            textBytes += qint64(raw.size());
            return SUCCESS;
        }
        case ondemand::json_type::boolean: {
            bool b = false;
            if (auto err = v.get_bool().get(b))
                return err;
            tag(b ? 't' : 'f');
            return SUCCESS;
        }
        case ondemand::json_type::null: {
            bool isNull = false;
            if (auto err = v.is_null().get(isNull))
                return err;
            if (!isNull)
                return INCORRECT_TYPE;
            tag('n');
            return SUCCESS;
        }
        default: { // a number: its token as written
            double unused = 0;
            if (auto err = v.get_double().get(unused))
                return err;
            std::string_view raw = v.raw_json_token();
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
                raw.remove_suffix(1);
            tag('v');
            add(raw.data(), raw.size());
            return SUCCESS;
        }
        }
    }

private:
    std::string &m_out;
};

QString hintOf(const char *field, std::string_view value)
{
    if (value.empty())
        return {};
    return QLatin1String(field) + u':' + shortHash(XXH3_64bits_withSeed(value.data(), value.size(), kSeed));
}

// The message list as read so far: its counts, and where its last message sits in the buffer.
struct MessageList {
    RequestShape read;
    size_t lastStart = 0;
    size_t lastEnd = 0;
    bool haveList = false;
};

// "messages" (or Responses' "input": a list, or one string for one user turn) normalized into
// `normalized`, each message followed by '|'. False when the body is broken (then no shape is
// read); a value of another type leaves `list` as it was.
bool readMessageList(simdjson::ondemand::value value, std::string &normalized, MessageList &list)
{
    using namespace simdjson;
    ondemand::json_type type;
    if (value.type().get(type))
        return false;
    normalized.clear();
    if (type == ondemand::json_type::string) {
        Feeder f(normalized);
        if (f.value(value, 0))
            return false;
        list.read = RequestShape{};
        list.read.messageCount = 1;
        list.read.lastTurnBytes = f.textBytes;
        list.read.textBytes = f.textBytes;
        list.lastStart = 0;
        list.lastEnd = normalized.size();
        list.haveList = true;
        return true;
    }
    if (type != ondemand::json_type::array)
        return true;
    ondemand::array array;
    if (value.get_array().get(array))
        return false;
    list.read = RequestShape{};
    for (auto element : array) {
        ondemand::value e;
        if (element.get(e))
            return false;
        const size_t start = normalized.size();
        Feeder f(normalized);
        if (f.value(e, 0))
            return false;
        normalized.push_back('|'); // message boundary
        ++list.read.messageCount;
        list.read.lastTurnBytes = f.textBytes;
        list.read.textBytes += f.textBytes;
        list.lastStart = start;
        list.lastEnd = normalized.size();
    }
    list.haveList = list.read.messageCount > 0;
    return true;
}

// A string member as a hint (a hash, never the value); nothing when it is not a string.
std::optional<QString> stringHint(const char *field, simdjson::ondemand::value value)
{
    std::string_view s;
    if (value.get_string().get(s))
        return std::nullopt;
    return hintOf(field, s);
}

// The shape of a message list that was read: its counts, and the hashes of the whole list and of
// its last message (never 0, which means "no list").
RequestShape hashedShape(const MessageList &list, const std::string &normalized)
{
    RequestShape shape = list.read;
    shape.contentHash = XXH3_64bits_withSeed(normalized.data(), normalized.size(), kSeed);
    shape.lastTurnHash = XXH3_64bits_withSeed(normalized.data() + list.lastStart, list.lastEnd - list.lastStart, kSeed);
    if (shape.contentHash == 0)
        shape.contentHash = 1;
    if (shape.lastTurnHash == 0)
        shape.lastTurnHash = 1;
    return shape;
}

// metadata.session_id and metadata.user_id, as hints (hashes, never the values).
void readMetadataHints(simdjson::ondemand::value value, QString &sessionId, QString &userId)
{
    using namespace simdjson;
    ondemand::object meta;
    if (value.get_object().get(meta))
        return;
    for (auto m : meta) {
        ondemand::field mf;
        std::string_view mk, s;
        if (std::move(m).get(mf) || mf.unescaped_key().get(mk))
            return;
        if (mk == "session_id" && !mf.value().get_string().get(s))
            sessionId = hintOf("metadata.session_id", s);
        else if (mk == "user_id" && !mf.value().get_string().get(s))
            userId = hintOf("metadata.user_id", s);
    }
}

} // namespace

QString shortHash(quint64 h)
{
    return QStringLiteral("%1").arg(h, 16, 16, QLatin1Char('0'));
}

RequestShape readRequestShape(QByteArray &body)
{
    using namespace simdjson;
    RequestShape shape;
    if (body.isEmpty())
        return shape;
    if (body.capacity() - body.size() < qsizetype(SIMDJSON_PADDING))
        body.reserve(body.size() + SIMDJSON_PADDING);
    thread_local ondemand::parser parser;
    thread_local std::string normalized;
    // The buffer keeps its capacity between requests, up to 4 MiB: one huge prompt must not pin
    // its size in every worker for good.
    struct Trim {
        ~Trim()
        {
            if (normalized.capacity() > 4u * 1024 * 1024)
                std::string().swap(normalized);
        }
    } trim;
    normalized.clear();
    normalized.reserve(size_t(body.size())); // the normalized list is never longer than the body
    padded_string_view view(body.constData(), size_t(body.size()), size_t(body.capacity()));
    ondemand::document doc;
    ondemand::object root;
    if (parser.iterate(view).get(doc) || doc.get_object().get(root))
        return shape;
    QString user, sessionId, userId;
    MessageList list;
    for (auto member : root) {
        ondemand::field field;
        std::string_view key;
        if (std::move(member).get(field) || field.unescaped_key().get(key))
            return shape;
        ondemand::value value = field.value();
        if (key == "messages" || key == "input") {
            if (!readMessageList(value, normalized, list))
                return shape;
        } else if (key == "user") {
            if (std::optional<QString> hint = stringHint("user", value))
                user = *hint;
        } else if (key == "metadata") {
            readMetadataHints(value, sessionId, userId);
        }
    }
    if (list.haveList)
        shape = hashedShape(list, normalized);
    shape.sessionHint = !sessionId.isEmpty() ? sessionId : !userId.isEmpty() ? userId : user;
    return shape;
}

} // namespace gh
