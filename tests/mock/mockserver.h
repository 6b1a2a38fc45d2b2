#pragma once

#include "mockreplies.h"
#include "requestlog.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>

#include <llhttp.h>

#include <deque>
#include <optional>
#include <utility>
#include <vector>

class QThread;

// The mock upstream: an OpenAI-, Anthropic- and Gemini-format provider that misbehaves on demand.
//
// Endpoints (matched on the path suffix, any prefix): POST .../chat/completions, .../completions,
// .../embeddings, .../responses; GET .../models (OpenAI); POST .../messages and
// .../messages/count_tokens (Anthropic); POST .../models/MODEL:generateContent,
// :streamGenerateContent (SSE, as with alt=sse) and :countTokens (Gemini); GET /_mock/requests (what
// was received, as JSON, headers included); POST /_mock/reset (forget it).
//
// The model selects the behaviour: `<behaviour>[@k=v,k=v]`, from the body's "model" field (OpenAI,
// Anthropic) or from the URL (Gemini, percent-decoded: models/ok%40cached%3D5:generateContent).
//   ok               normal reply; streamed (SSE, chunked) if the body has "stream": true (Anthropic,
//                    OpenAI) or the method is streamGenerateContent (Gemini)
//   fail-500/502/503 an error body with that status (in the format's own shape)
//   fail-429         429 with Retry-After (param retry_after, default 1)
//   fail-400         400 with an invalid request error body
//   fail-401         401 with an authentication error body
//   fail-403/404/504/529  Anthropic and Gemini only: that status (529: Anthropic's overloaded_error)
//   reset-before     close the connection (RST) without answering
//   reset-mid-stream send the head and `after` (default 2) content events, then RST
//   error-in-stream  200 SSE, `after` (default 1) content events, an error event, then the end
//                    (Anthropic: `event: error` overloaded_error; Gemini: a data event with an error
//                    object, status from param `status`, default 503). Not streamed: OpenAI sends the
//                    same SSE; Anthropic/Gemini answer that error as a plain error response.
//   hang             never answer
//   slow-headers     wait `delay` ms (default 1000) before answering as ok
//   stream-slow      as ok, with `delay` ms (default 100) between stream events
//   bad-json         200 whose body (or SSE data) is not valid JSON
//   no-usage         as ok, without any usage object
// Any other name behaves as ok. Parameters: p (prompt tokens, default body bytes / 4 rounded up;
// Anthropic: input_tokens, which excludes the cache counts; Gemini: promptTokenCount, which includes
// cachedContentTokenCount), c (completion tokens, default 10, or the number of content chunks for
// streams), cached (OpenAI cached_tokens / Gemini cachedContentTokenCount, default 0), cache_read,
// cache_write, cache_write_1h (Anthropic cache_read_input_tokens and 5-minute / 1-hour cache
// creation tokens, default 0), thoughts (Gemini thoughtsTokenCount, default 0),
// chunks (content events of a stream, default 5), delay (ms between stream events, default 0), pad
// (filler bytes added to each content piece), dims (embedding size, default 8).
//
// Tools: when the request offers tools (OpenAI chat "tools", Anthropic "tools", Gemini
// functionDeclarations), the reply calls the first one (or the one tool_choice / toolConfig forces)
// with the arguments {"city":"Paris","unit":"celsius"}: OpenAI a tool_calls message (content null,
// finish_reason tool_calls), Anthropic a text block then a tool_use block (stop_reason tool_use),
// Gemini a functionCall part. Param tools=0 answers with text anyway; tool=NAME calls NAME.
//
// Anthropic and Gemini requests are checked as the real APIs do (see providerrequests.h: required
// fields, roles, tool_use/tool_result pairing, Gemini's unknown fields); a request they would refuse
// gets a 400 in their shape, before any behaviour.
// With --max-body N, a request whose Content-Length exceeds N gets 413 right after its headers and
// the connection is closed without reading the body (as a gateway with a body limit does).
namespace gh::mock {

struct ServerConfig
{
    RequestLog *log = nullptr;
    QList<QByteArray> models; // listed by GET .../models
    qint64 maxBodyBytes = 0;  // > 0: answer 413 and close as soon as a larger Content-Length is seen
};

class MockServer : public QTcpServer
{
    Q_OBJECT
public:
    // threads <= 1: connections are served on the calling thread.
    MockServer(const ServerConfig *config, int threads, QObject *parent = nullptr);
    ~MockServer() override;

protected:
    void incomingConnection(qintptr handle) override;

private:
    const ServerConfig *m_config;
    std::vector<QThread *> m_threads;
    std::vector<QObject *> m_anchors; // one QObject living in each worker thread
    size_t m_next = 0;
};

// One accepted connection: parses requests with llhttp (keep-alive, pipelining, chunked bodies)
// and answers them one at a time, in order.
class Connection : public QObject
{
    Q_OBJECT
public:
    Connection(qintptr handle, const ServerConfig *config);
    ~Connection() override;

private:
    struct Request
    {
        QByteArray method;
        QByteArray url;
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;
        bool keepAlive = true;
    };
    struct StreamPlan
    {
        QList<QByteArray> events;
        qsizetype next = 0;
        qint64 delayMs = 0;
        qsizetype usageEvent = -1; // index of the event that carries the usage
        Billed billed;
        quint64 recordId = 0;
        bool resetAtEnd = false; // RST instead of the terminating chunk
    };

    static int onMessageBegin(llhttp_t *p);
    static int onUrl(llhttp_t *p, const char *at, size_t len);
    static int onHeaderField(llhttp_t *p, const char *at, size_t len);
    static int onHeaderValue(llhttp_t *p, const char *at, size_t len);
    static int onHeadersComplete(llhttp_t *p);
    static int onBody(llhttp_t *p, const char *at, size_t len);
    static int onMessageComplete(llhttp_t *p);
    static const llhttp_settings_t *settings();

    void onReadyRead();
    void dispatch();
    void handle(Request request);
    void finishResponse();
    void pushHeader();

    void handleApi(const Request &request, Endpoint endpoint, quint64 recordId);
    // Anthropic Messages and Gemini generateContent (see the behaviours above).
    void handleProviderApi(const Request &request, Endpoint endpoint, quint64 recordId);
    void replyProviderOk(const ReplyContext &ctx, const Params &params, bool stream, bool reportUsage,
                         qint64 promptTokens, quint64 recordId, qint64 defaultDelay);
    // An error body in the format's shape (Anthropic's type from the status, Gemini's status name).
    void sendProviderError(Format format, int status, QByteArrayView message, const QByteArray &extraHeaders = {});
    void replyOk(const ReplyContext &ctx, const Params &params, bool stream, bool includeUsage, bool reportUsage,
                 qint64 promptTokens, qint64 vectors, quint64 recordId, qint64 defaultDelay);
    void sendFull(int status, const QByteArray &body, const QByteArray &extraHeaders = {},
                  QByteArrayView contentType = "application/json");
    void sendError(int status, QByteArrayView message, QByteArrayView type, QByteArrayView code,
                   const QByteArray &extraHeaders = {});
    void startStream(StreamPlan plan);
    void streamStep();
    void writeChunk(const QByteArray &data);
    void resetConnection(bool afterFlush);
    [[nodiscard]] bool connected() const;

    const ServerConfig *m_config;
    QTcpSocket *m_socket;
    llhttp_t m_parser{};
    bool m_parseFailed = false;

    // The request being parsed.
    Request m_req;
    QByteArray m_field;
    QByteArray m_value;
    bool m_inValue = false;

    std::deque<Request> m_pending;
    bool m_busy = false;        // a response is being produced
    bool m_dispatching = false; // guards dispatch() against re-entry
    bool m_keepAlive = true;    // of the request being answered
    QByteArray m_requestId;
    StreamPlan m_stream;
};

} // namespace gh::mock
