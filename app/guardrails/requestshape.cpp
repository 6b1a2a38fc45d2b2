#include "guardrails/requestshape.h"
#include <simdjson.h>
// The state struct on the stack (thread_local) rather than XXH3_createState() per request.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>
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

// Feeds a value's normalized form into one or two XXH3 streams (the whole list, and the message
// being walked when it is the last so far).
class Feeder
{
public:
    Feeder(XXH3_state_t *list, XXH3_state_t *turn) : m_list(list), m_turn(turn) { }

    void add(const void *p, size_t n)
    {
        XXH3_64bits_update(m_list, p, n);
        XXH3_64bits_update(m_turn, p, n);
    }
    void tag(char t) { add(&t, 1); }
    qint64 textBytes = 0;

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
            std::string_view s;
            if (auto err = v.get_string().get(s))
                return err;
            tag('s');
            add(s.data(), s.size());
            textBytes += qint64(s.size());
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
    XXH3_state_t *m_list;
    XXH3_state_t *m_turn;
};

QString hintOf(const char *field, std::string_view value)
{
    if (value.empty())
        return {};
    return QLatin1String(field) + u':' + shortHash(XXH3_64bits_withSeed(value.data(), value.size(), kSeed));
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
    thread_local XXH3_state_t list;
    thread_local XXH3_state_t turn;
    padded_string_view view(body.constData(), size_t(body.size()), size_t(body.capacity()));
    ondemand::document doc;
    ondemand::object root;
    if (parser.iterate(view).get(doc) || doc.get_object().get(root))
        return shape;
    XXH3_64bits_reset_withSeed(&list, kSeed);
    QString user, sessionId, userId;
    bool haveList = false;
    RequestShape read;
    for (auto member : root) {
        ondemand::field field;
        std::string_view key;
        if (std::move(member).get(field) || field.unescaped_key().get(key))
            return shape;
        ondemand::value value = field.value();
        if (key == "messages" || key == "input") {
            ondemand::json_type type;
            if (value.type().get(type))
                return shape;
            XXH3_64bits_reset_withSeed(&turn, kSeed);
            if (type == ondemand::json_type::string) { // Responses: "input": "text", one user turn
                Feeder f(&list, &turn);
                if (f.value(value, 0))
                    return shape;
                read.messageCount = 1;
                read.lastTurnBytes = f.textBytes;
                read.textBytes = f.textBytes;
                read.lastTurnHash = XXH3_64bits_digest(&turn);
                haveList = true;
                continue;
            }
            if (type != ondemand::json_type::array)
                continue;
            ondemand::array array;
            if (value.get_array().get(array))
                return shape;
            for (auto element : array) {
                ondemand::value e;
                if (element.get(e))
                    return shape;
                // Each message gets a fresh turn stream; the last one's digest is kept.
                XXH3_64bits_reset_withSeed(&turn, kSeed);
                Feeder f(&list, &turn);
                if (f.value(e, 0))
                    return shape;
                ++read.messageCount;
                read.lastTurnBytes = f.textBytes;
                read.textBytes += f.textBytes;
                read.lastTurnHash = XXH3_64bits_digest(&turn);
            }
            haveList = read.messageCount > 0;
        } else if (key == "user") {
            std::string_view s;
            if (!value.get_string().get(s))
                user = hintOf("user", s);
        } else if (key == "metadata") {
            ondemand::object meta;
            if (value.get_object().get(meta))
                continue;
            for (auto m : meta) {
                ondemand::field mf;
                std::string_view mk, s;
                if (std::move(m).get(mf) || mf.unescaped_key().get(mk))
                    break;
                if (mk == "session_id" && !mf.value().get_string().get(s))
                    sessionId = hintOf("metadata.session_id", s);
                else if (mk == "user_id" && !mf.value().get_string().get(s))
                    userId = hintOf("metadata.user_id", s);
            }
        }
    }
    if (haveList) {
        shape = read;
        shape.contentHash = XXH3_64bits_digest(&list);
        if (shape.contentHash == 0)
            shape.contentHash = 1;
        if (shape.lastTurnHash == 0)
            shape.lastTurnHash = 1;
    }
    shape.sessionHint = !sessionId.isEmpty() ? sessionId : !userId.isEmpty() ? userId : user;
    return shape;
}

} // namespace gh
