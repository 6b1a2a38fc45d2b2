#include "http/httpparser.h"
#include <array>
#include <llhttp.h>

namespace gh {

QByteArray HttpHeaders::value(QByteArrayView nameLower) const
{
    for (const auto &[name, value] : m_list)
        if (name == nameLower)
            return value;
    return {};
}

bool HttpHeaders::contains(QByteArrayView nameLower) const
{
    for (const auto &entry : m_list)
        if (entry.first == nameLower)
            return true;
    return false;
}

struct HttpParser::Impl {
    llhttp_t parser;
    llhttp_settings_t settings;
};

struct HttpParser::Callbacks {
    static HttpParser *self(llhttp_t *p) { return static_cast<HttpParser *>(p->data); }
    static int onMessageBegin(llhttp_t *p)
    {
        self(p)->resetMessage();
        self(p)->m_messageStarted = true;
        return 0;
    }
    static int onUrl(llhttp_t *p, const char *at, size_t n)
    {
        HttpParser *s = self(p);
        if (s->m_url.size() + qsizetype(n) > s->m_limits.maxUrlBytes)
            return s->refuse(ErrorKind::RequestLineTooLong, "request target longer than " + QByteArray::number(s->m_limits.maxUrlBytes) + " bytes");
        s->m_url.append(at, qsizetype(n));
        return 0;
    }
    static int onMethod(llhttp_t *p, const char *at, size_t n)
    {
        self(p)->m_method.append(at, qsizetype(n));
        return 0;
    }
    // A field name or value usually arrives in one piece: it is then only pointed at (the bytes stay
    // in the buffer being parsed) and copied when a second piece arrives or the buffer's feed() ends.
    static void piece(Piece &into, const char *at, size_t n)
    {
        if (into.text.isEmpty() && into.view.isNull()) {
            into.view = QByteArrayView(at, qsizetype(n));
            return;
        }
        into.spill();
        into.text.append(at, qsizetype(n));
    }
    // Counts header bytes as they arrive; -1 (the parser stops) once they exceed the limit.
    static int countHeaderBytes(HttpParser *s, size_t n)
    {
        s->m_headerBytes += qsizetype(n);
        if (s->m_headerBytes > s->m_limits.maxHeaderBytes)
            return s->refuse(ErrorKind::HeadersTooLarge, "header fields larger than " + QByteArray::number(s->m_limits.maxHeaderBytes) + " bytes");
        return 0;
    }
    static int onHeaderField(llhttp_t *p, const char *at, size_t n)
    {
        if (countHeaderBytes(self(p), n) != 0)
            return -1;
        piece(self(p)->m_field, at, n);
        return 0;
    }
    static int onHeaderValue(llhttp_t *p, const char *at, size_t n)
    {
        if (countHeaderBytes(self(p), n) != 0)
            return -1;
        piece(self(p)->m_value, at, n);
        return 0;
    }
    // RFC 9110 token characters: llhttp 8 lets white space and other separators into field names.
    static bool isToken(QByteArrayView name)
    {
        static constexpr auto kToken = [] {
            std::array<bool, 256> t{};
            for (int c = 0; c < 256; ++c)
                t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            for (const char *p = "!#$%&'*+-.^_`|~"; *p; ++p)
                t[uchar(*p)] = true;
            return t;
        }();
        if (name.isEmpty())
            return false;
        for (char c : name) {
            if (!kToken[uchar(c)])
                return false;
        }
        return true;
    }
    static int onHeaderValueComplete(llhttp_t *p)
    {
        HttpParser *s = self(p);
        QByteArrayView name = s->m_field.bytes();
        if (s->m_type == Type::Response) {
            name = name.trimmed(); // be lenient with upstreams ("Name : value")
        } else if (!isToken(name)) {
            // "Host : evil" must not become a header named "host ": refuse it (RFC 9112 section 5.1).
            return s->refuse(ErrorKind::Malformed, "HPE_INVALID_HEADER_TOKEN: Invalid header field name");
        }
        if (++s->m_headerCount > s->m_limits.maxHeaderCount)
            return s->refuse(ErrorKind::HeadersTooLarge, "more than " + QByteArray::number(s->m_limits.maxHeaderCount) + " header fields");
        // One allocation for the name and one for the value; the scratch buffers keep their capacity
        // for the next header (they are never shared, so truncating them does not reallocate).
        QByteArray lower(name.size(), Qt::Uninitialized);
        char *out = lower.data();
        for (char c : name)
            *out++ = (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
        s->m_headers.add(std::move(lower), s->m_value.bytes().trimmed().toByteArray());
        s->m_field.clear();
        s->m_value.clear();
        return 0;
    }
    static int onHeadersComplete(llhttp_t *p)
    {
        HttpParser *s = self(p);
        // "GET /healthz" with no version is HTTP/0.9, which has no headers (so no Host to check)
        // and no status line in its answer: refuse it, and anything but HTTP/1.x.
        if (s->m_type == Type::Request && p->http_major != 1)
            return s->refuse(ErrorKind::Malformed, "unsupported HTTP version " + QByteArray::number(p->http_major) + '.'
                                 + QByteArray::number(p->http_minor) + " (only HTTP/1.0 and HTTP/1.1 are served)");
        s->m_status = p->status_code;
        s->m_headersDone = true;
        s->m_keepAlive = llhttp_should_keep_alive(p) != 0;
        if (p->flags & F_CONTENT_LENGTH)
            s->m_contentLength = p->content_length;
        if (s->m_type == Type::Request && s->m_method.isEmpty())
            s->m_method = llhttp_method_name(llhttp_method_t(p->method));
        s->m_handler->onHeadersComplete(*s);
        return 0;
    }
    static int onBody(llhttp_t *p, const char *at, size_t n)
    {
        self(p)->m_handler->onBody(*self(p), at, n);
        return 0;
    }
    static int onMessageComplete(llhttp_t *p)
    {
        HttpParser *s = self(p);
        s->m_keepAlive = llhttp_should_keep_alive(p) != 0;
        s->m_complete = true;
        return HPE_PAUSED;
    }
};

HttpParser::HttpParser(Type type, Handler *handler)
    : m_type(type)
    , m_handler(handler)
    , d(std::make_unique<Impl>())
{
    if (type == Type::Response) {
        // Providers and their proxies add headers of their own: bounded, more generously.
        m_limits.maxHeaderBytes = 256 * 1024;
        m_limits.maxHeaderCount = 1000;
    }
    llhttp_settings_init(&d->settings);
    d->settings.on_message_begin = &Callbacks::onMessageBegin;
    d->settings.on_url = &Callbacks::onUrl;
    d->settings.on_header_field = &Callbacks::onHeaderField;
    d->settings.on_header_value = &Callbacks::onHeaderValue;
    d->settings.on_header_value_complete = &Callbacks::onHeaderValueComplete;
    d->settings.on_headers_complete = &Callbacks::onHeadersComplete;
    d->settings.on_body = &Callbacks::onBody;
    d->settings.on_message_complete = &Callbacks::onMessageComplete;
    llhttp_init(&d->parser, type == Type::Request ? HTTP_REQUEST : HTTP_RESPONSE, &d->settings);
    d->parser.data = this;
}

HttpParser::~HttpParser() = default;

void HttpParser::resetMessage()
{
    m_method.clear();
    m_url.clear();
    m_field.clear();
    m_value.clear();
    m_status = 0;
    m_headers.clear();
    m_contentLength.reset();
    m_headersDone = false;
    m_complete = false;
    m_headerBytes = 0;
    m_headerCount = 0;
}

int HttpParser::refuse(ErrorKind kind, const QByteArray &reason)
{
    m_errorKind = kind;
    m_error = reason;
    return -1;
}

HttpParser::Result HttpParser::feed(const char *data, size_t length, size_t *consumed)
{
    if (!m_error.isEmpty()) {
        *consumed = 0;
        return Result::Error;
    }
    const llhttp_errno_t err = llhttp_execute(&d->parser, data, length);
    // A name or value cut by the end of this buffer continues in the next one: keep its bytes.
    m_field.spill();
    m_value.spill();
    if (err == HPE_OK) {
        *consumed = length;
        return Result::NeedMore;
    }
    const char *pos = llhttp_get_error_pos(&d->parser);
    *consumed = pos ? size_t(pos - data) : length;
    if (err == HPE_PAUSED && m_complete)
        return Result::MessageComplete;
    if (m_error.isEmpty()) { // else a callback refused the message and said why
        m_error = QByteArray(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&d->parser);
        m_errorKind = ErrorKind::Malformed;
    }
    return Result::Error;
}

HttpParser::Result HttpParser::finish()
{
    if (!m_error.isEmpty())
        return Result::Error;
    if (m_complete)
        return Result::MessageComplete;
    if (!m_messageStarted)
        return Result::NeedMore; // closed between messages (llhttp would still call that unsafe)
    const llhttp_errno_t err = llhttp_finish(&d->parser);
    if (m_complete)
        return Result::MessageComplete;
    if (err == HPE_OK)
        return m_messageStarted ? Result::Error : Result::NeedMore;
    m_error = QByteArray(llhttp_errno_name(err)) + ": " + llhttp_get_error_reason(&d->parser);
    m_errorKind = ErrorKind::Malformed;
    return Result::Error;
}

void HttpParser::startNext()
{
    m_messageStarted = false;
    m_complete = false;
    m_headersDone = false;
    llhttp_resume(&d->parser);
}

bool HttpParser::keepAlive() const
{
    return m_keepAlive;
}

int HttpParser::httpMajor() const
{
    return d->parser.http_major;
}

int HttpParser::httpMinor() const
{
    return d->parser.http_minor;
}

QByteArray HttpParser::errorReason() const
{
    return m_error;
}

} // namespace gh
