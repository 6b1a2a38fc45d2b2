#pragma once

#include "mockreplies.h"
#include "mockstate.h"
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
// :streamGenerateContent (SSE, as with alt=sse) and :countTokens (Gemini).
// Control endpoints: GET /_mock/requests (what was received, as JSON, headers included, with the
// model each request named and the behaviour the mock chose); GET /_mock/billing (see below);
// POST .../v1/traces: an OTLP/HTTP JSON collector stand-in (recorded, answered 200; 400 when the
// body is no ExportTraceServiceRequest; under .../flaky-N/v1/traces the first N get 503).
// POST /_mock/reset (forgets the requests, the billing, the per-model counters and the prompt cache).
//
// The model selects the behaviour: `<behaviour>[@k=v,k=v]`, from the body's "model" field (OpenAI,
// Anthropic) or from the URL (Gemini, percent-decoded: models/ok%40cached%3D5:generateContent).
// The same in every format unless said otherwise:
//   ok               normal reply; streamed (SSE, chunked) if the body has "stream": true (Anthropic,
//                    OpenAI) or the method is streamGenerateContent (Gemini)
//   fail-NNN         NNN in 400..599: an error body with that status in the format's own shape
//                    (OpenAI: 400 invalid_value, 401 invalid_api_key, 404 model_not_found, 408 timeout,
//                    429 type "requests" code rate_limit_exceeded, 5xx server_error; Anthropic's type and
//                    Gemini's status name from the status, 529: overloaded_error). Param retry_after=V
//                    adds "Retry-After: V" (V verbatim) to any of them; 429 has Retry-After: 1 by default.
//                    OpenAI format, param echo_auth=1: the error message and a "request_headers" member
//                    quote the request's Authorization header, as a careless provider or proxy does.
//                    On ok (OpenAI format), echo_auth=1 puts that header at the end of the answer's
//                    content, streamed or not.
//   reset-before     read the request, then close the connection with a RST without any response
//   reset-before-head  the same (an alias)
//   close-before     read the request, then close the connection cleanly (FIN) without any response
//   reset-mid-stream send the head and `after` (default 2) content events, then RST
//   error-in-stream  200 SSE, `after` (default 1) content events, an error event, then the end
//                    (Anthropic: `event: error` overloaded_error; Gemini: a data event with an error
//                    object, status from param `status`, default 503). after=0: the error is the first
//                    and only event (no role chunk, no message_start). Not streamed: OpenAI sends the
//                    same SSE; Anthropic/Gemini answer that error as a plain error response.
//   hang             never answer
//   slow-headers     wait `delay` ms (default 1000) before answering as ok (nothing at all is sent
//                    before: for first-byte timeouts; no delay between the stream's events after)
//   slow-head        the same (an alias)
//   idle-stream      as ok, but a pause of `delay` ms (default 1000) in the stream (for idle timeouts):
//                    after=N (default 1) >= 1: the head events (OpenAI chat: the role chunk; Responses:
//                    response.created to response.content_part.added; Anthropic: message_start,
//                    content_block_start, ping; Gemini: none) and N content events, the pause, then
//                    the rest; after=0: the pause comes right after the response headers, before any
//                    event. No delay between the other events. Not streamed: the headers and the
//                    first half of the body, the pause, the rest.
//   slow-first-token as ok, but a pause of `delay` ms (default 1000) between the head events (the same
//                    as idle-stream's: role chunk, response.created.., message_start..; Gemini: none, the
//                    pause follows the response headers) and the first content event (text or tool
//                    call), as a model that thinks before its first token. An OpenAI chat tool call
//                    has no head event (its first chunk names the tool): the pause follows the
//                    response headers. Not streamed: as idle-stream.
//   stream-slow      as ok, with `delay` ms (default 100) between stream events
//   max-bill         as ok, billing the most a provider's rules allow: p = the body's bytes, c = the
//                    request's output limit (4096 when absent), and a stream's text runs past that
//                    limit (pad so the content is about 4 bytes per allowed token); explicit p, c, pad win
//   bad-json         200 whose body (or SSE data) is not valid JSON
//   no-usage         as ok, without any usage object
//   chaos            per request, with probability `fail` (default 0.5) a fault drawn uniformly from
//                    fail-500, fail-502, fail-503, fail-504, fail-529, fail-429 (Retry-After: 0),
//                    fail-408, reset-before and (streams only) error-in-stream with after=0; otherwise
//                    ok. Deterministic: the draw depends only on `seed` (default 0) and the number of
//                    earlier chaos requests with the same model name since the start or the last reset
//                    (see chaos.h). The other parameters apply as with ok. count_tokens is never faulted.
// Any other name behaves as ok. Parameters: p (prompt tokens, default body bytes / 4 rounded up;
// Anthropic: input_tokens, which excludes the cache counts; Gemini: promptTokenCount, which includes
// cachedContentTokenCount), c (completion tokens, default 10, or the number of content chunks for
// streams), cached (OpenAI cached_tokens / Gemini cachedContentTokenCount, default 0), cache_read,
// cache_write, cache_write_1h (Anthropic cache_read_input_tokens and 5-minute / 1-hour cache
// creation tokens, default 0), thoughts (Gemini thoughtsTokenCount, default 0),
// chunks (content events of a stream, default 5), delay (ms between stream events, default 0), pad
// (filler bytes added to each content piece), dims (embedding size, default 8).
//
// Prompt-cache simulation, with cache=1 in any behaviour that answers ok ("ok@cache=1",
// "chaos@fail=0.3,seed=1,cache=1", ...): the mock remembers, per model name and format (OpenAI,
// Anthropic and Gemini each have their own cache), the prompts it answered (not those it failed)
// (the raw bytes of the prompt fields as sent, see promptbytes.h). A prompt that shares a prefix of
// L >= 1024 bytes with an earlier one reports (L / 4) rounded down to a multiple of 128 cached
// tokens: OpenAI prompt_tokens_details.cached_tokens (Responses: input_tokens_details), included in
// prompt_tokens; Anthropic cache_read_input_tokens, NOT included in input_tokens (input_tokens =
// p - cache read); Gemini cachedContentTokenCount, included in promptTokenCount. p is then the whole
// prompt in every format; the cached / cache_read params are ignored.
//
// Billing (GET /_mock/billing): {"requests": N, "by_model": {model: {"requests", "input_tokens",
// "output_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
// "reasoning_tokens"}}, "totals": {same fields}, "received": {model: N}, "received_total": N}.
// A request is billed when its successful response was completely sent (the last byte of a body,
// the end of a stream): it counts in "requests" and adds the usage the response reported (none when
// it reported none, e.g. no-usage or an OpenAI stream without include_usage). Failures, resets,
// errors in streams, hangs, bad-json and streams the client left early bill nothing. Token counts
// are normalized as gh::Usage: input_tokens excludes cache reads (OpenAI/Gemini prompt minus cached;
// Anthropic input_tokens), output_tokens includes Gemini's thoughts, cache_write_tokens is the
// 5-minute (default) cache write and cache_write_1h_tokens the 1-hour one. "received" counts every
// request that named a model (OpenAI/Anthropic body, Gemini URL), whatever happened to it.
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
    MockState *state = nullptr; // billing, per-model counters, prompt cache
    QList<QByteArray> models; // listed by GET .../models
    qint64 maxBodyBytes = 0;  // > 0: answer 413 and close as soon as a larger Content-Length is seen
    QByteArray localKind;     // --as: also answer that local server's native API (localservers.h)
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
        qsizetype pauseBefore = -1; // idle-stream: pause pauseMs before sending this event (or the end)
        qint64 pauseMs = 0;
        bool billAtEnd = false; // a successful answer: bill billUsage once the stream ended
        std::optional<Billed> billUsage;
    };
    // The request being answered (set once its model is known).
    struct Current
    {
        QByteArray model;
        Format format = Format::OpenAI;
        bool cache = false;   // cache=1: simulate the provider's prompt cache
        QByteArray prompt;    // the prompt bytes (when cache)
        qint64 idleAfter = -1; // idle-stream: content events before the pause
        bool pauseAfterHead = false; // slow-first-token: the pause follows the head events
        qint64 idleMs = 0;
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

    // Counts the request for its model, turns chaos into the behaviour drawn, records the model and
    // the behaviour, and sets m_current.
    void beginRequest(quint64 recordId, const QByteArray &model, Endpoint endpoint, const QByteArray &body, bool stream,
                      Params *params);
    // The simulated cached tokens of the current request (remembering its prompt), or -1 without cache=1.
    [[nodiscard]] qint64 simulatedCacheTokens();
    // A successful non-streamed answer: billed, then sent (after `delayMs`, or split around the
    // idle-stream pause).
    void sendOk(const QByteArray &body, const QByteArray &extraHeaders, const std::optional<Billed> &usage,
                qint64 delayMs = 0);
    void sendOpenAIFailure(int status, const Params &params, const QByteArray &model, const QByteArray &authorization = {});
    // fail-NNN for Anthropic and Gemini.
    void sendProviderFailure(Format format, int status, const Params &params, const QByteArray &model);
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
    // Closes the connection cleanly (FIN) without answering.
    void closeWithoutAnswer();
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
    Current m_current;
};

} // namespace gh::mock
