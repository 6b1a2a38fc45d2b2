#pragma once
#include "http/httpheaders.h"
#include <QByteArray>
#include <memory>
#include <optional>

namespace gh {

// An incremental HTTP/1.1 parser (llhttp) for requests (the gateway) and responses (the upstream
// client). It pauses after each complete message so the owner handles one message at a time:
// feed() returns MessageComplete with the number of bytes consumed; the rest is the next message.
class HttpParser
{
public:
    enum class Type { Request, Response };
    enum class Result { NeedMore, MessageComplete, Error };
    // Why feed() failed: a limit of setLimits() (the peer sent too much) or anything else.
    enum class ErrorKind { None, Malformed, RequestLineTooLong, HeadersTooLarge };

    // Bounds on what one message head may hold, checked as the bytes arrive (a 256 MiB header is
    // refused after its first `maxHeaderBytes`, never buffered whole).
    struct Limits {
        qsizetype maxUrlBytes = 16 * 1024;      // the request target
        qsizetype maxHeaderBytes = 64 * 1024;   // names and values of every field together
        int maxHeaderCount = 200;
    };

    // Receives the parts of a message as they are parsed. Body data points into the fed buffer.
    class Handler
    {
    public:
        virtual ~Handler() = default;
        virtual void onHeadersComplete(HttpParser &parser) { Q_UNUSED(parser); }
        virtual void onBody(HttpParser &parser, const char *data, size_t length) = 0;
    };

    HttpParser(Type type, Handler *handler);
    ~HttpParser();
    HttpParser(const HttpParser &) = delete;
    HttpParser &operator=(const HttpParser &) = delete;

    // Parses up to `length` bytes; *consumed tells how many were used (all of them unless a message
    // completed or an error occurred). After MessageComplete call startNext() before feeding more.
    Result feed(const char *data, size_t length, size_t *consumed);
    // The peer closed the connection: completes a message delimited by EOF.
    Result finish();
    void startNext();
    void setLimits(const Limits &limits) { m_limits = limits; }

    // Valid from onHeadersComplete on.
    [[nodiscard]] const QByteArray &method() const { return m_method; }
    [[nodiscard]] const QByteArray &url() const { return m_url; }
    [[nodiscard]] int status() const { return m_status; }
    [[nodiscard]] const HttpHeaders &headers() const { return m_headers; }
    [[nodiscard]] std::optional<quint64> contentLength() const { return m_contentLength; }
    [[nodiscard]] bool keepAlive() const;
    [[nodiscard]] int httpMinor() const;
    [[nodiscard]] bool headersDone() const { return m_headersDone; }
    [[nodiscard]] bool messageStarted() const { return m_messageStarted; }
    [[nodiscard]] QByteArray errorReason() const;
    [[nodiscard]] ErrorKind errorKind() const { return m_errorKind; }
    // The HTTP major version of the request line (0 for a request line without one: HTTP/0.9).
    [[nodiscard]] int httpMajor() const;

private:
    struct Callbacks;
    friend struct Callbacks;
    void resetMessage();
    int refuse(ErrorKind kind, const QByteArray &reason); // fails the message; returns -1 for llhttp

    Type m_type;
    Handler *m_handler;
    struct Impl;
    std::unique_ptr<Impl> d;
    // A header name or value being read: a view into the buffer being parsed, or (once it came in
    // pieces, or that buffer's feed() ended) its own copy. The copy keeps its capacity.
    struct Piece {
        QByteArrayView view;
        QByteArray text;
        [[nodiscard]] QByteArrayView bytes() const { return view.isNull() ? QByteArrayView(text) : view; }
        void spill()
        {
            if (!view.isNull()) {
                text.append(view);
                view = {};
            }
        }
        void clear()
        {
            view = {};
            text.truncate(0);
        }
    };
    QByteArray m_method, m_url;
    Piece m_field, m_value;
    int m_status = 0;
    HttpHeaders m_headers;
    std::optional<quint64> m_contentLength;
    bool m_headersDone = false;
    bool m_messageStarted = false;
    bool m_complete = false;
    bool m_keepAlive = false;
    QByteArray m_error;
    ErrorKind m_errorKind = ErrorKind::None;
    Limits m_limits;
    qsizetype m_headerBytes = 0; // names and values of the current message so far
    int m_headerCount = 0;
};

} // namespace gh
