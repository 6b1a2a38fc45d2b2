#include "mockserver.h"
#include "localservers.h"
#include "chaos.h"
#include "promptbytes.h"
#include "providerreplies.h"
#include "providerrequests.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>
#include <QTimer>

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <string_view>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace gh::mock {

namespace {

std::atomic<quint64> g_sequence{0};
// OTLP trace exports received at a .../flaky-N/v1/traces path (the first N are answered 503).
std::atomic<int> g_flakyTraces{0};

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Site Overloaded";
    default: return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Status";
    }
}

// fail-NNN with NNN in 400..599: NNN; else 0.
int failureStatus(const QByteArray &behaviour)
{
    if (!behaviour.startsWith("fail-"))
        return 0;
    bool ok = false;
    const int status = behaviour.sliced(5).toInt(&ok);
    return ok && status >= 400 && status <= 599 ? status : 0;
}

QByteArray statusLine(int status)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
}

QByteArray pathOnly(const QByteArray &url)
{
    const qsizetype q = url.indexOf('?');
    return q < 0 ? url : url.first(q);
}

// What the mock needs from a request body, read without building a document tree of Qt objects.
struct BodyFields
{
    bool valid = false;
    bool isObject = false;
    std::optional<QByteArray> model;
    bool stream = false;
    bool includeUsage = false;
    qint64 inputs = -1; // embeddings: number of vectors asked for; -1 when "input" is missing
    QByteArray toolName; // chat: the tool a reply calls (first offered, or the one tool_choice forces)
};

QByteArray bytesOf(std::string_view v)
{
    return QByteArray(v.data(), static_cast<qsizetype>(v.size()));
}

// OpenAI chat: "tools": [{"type": "function", "function": {"name": ...}}], "tool_choice": "none" |
// "auto" | "required" | {"type": "function", "function": {"name": ...}}.
QByteArray openAIToolName(simdjson::dom::object obj)
{
    simdjson::dom::array tools;
    if (obj["tools"].get_array().get(tools) != simdjson::SUCCESS || tools.size() == 0)
        return {};
    std::string_view choice;
    if (obj["tool_choice"].get_string().get(choice) == simdjson::SUCCESS && choice == "none")
        return {};
    std::string_view name;
    if (obj.at_pointer("/tool_choice/function/name").get_string().get(name) == simdjson::SUCCESS)
        return bytesOf(name);
    for (simdjson::dom::element tool : tools) {
        if (tool.at_pointer("/function/name").get_string().get(name) == simdjson::SUCCESS)
            return bytesOf(name);
    }
    return {};
}

BodyFields readBody(const QByteArray &body)
{
    thread_local simdjson::dom::parser parser;
    BodyFields f;
    simdjson::dom::element doc;
    if (parser.parse(body.constData(), static_cast<size_t>(body.size())).get(doc) != simdjson::SUCCESS)
        return f;
    f.valid = true;
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS)
        return f;
    f.isObject = true;
    std::string_view model;
    if (obj["model"].get_string().get(model) == simdjson::SUCCESS)
        f.model = QByteArray(model.data(), static_cast<qsizetype>(model.size()));
    bool b = false;
    if (obj["stream"].get_bool().get(b) == simdjson::SUCCESS)
        f.stream = b;
    b = false;
    if (obj.at_pointer("/stream_options/include_usage").get_bool().get(b) == simdjson::SUCCESS)
        f.includeUsage = b;
    f.toolName = openAIToolName(obj);
    simdjson::dom::element input;
    if (obj["input"].get(input) == simdjson::SUCCESS) {
        if (input.is_string()) {
            f.inputs = 1;
        } else if (input.is_array()) {
            simdjson::dom::array arr = input.get_array().value_unsafe();
            const size_t n = arr.size();
            if (n == 0)
                f.inputs = 0;
            else if (arr.at(0).value_unsafe().is_number())
                f.inputs = 1; // one input given as token ids
            else
                f.inputs = static_cast<qint64>(n);
        } else {
            f.inputs = 0;
        }
    }
    return f;
}

// max-bill: bills the most a provider's rules allow. Prompt tokens = the body's bytes (no tokenizer
// emits fewer than one byte per token), completion tokens = the request's output limit
// (max_completion_tokens, max_tokens, max_output_tokens or generationConfig.maxOutputTokens; 4096
// when absent), and a stream keeps sending text past that limit: its content is about 4 bytes per
// token allowed, so an estimate from the bytes received overshoots the limit. Explicit params win.
void applyMaxBill(Params *params, const QByteArray &body, bool stream)
{
    if (params->behaviour != "max-bill")
        return;
    qint64 limit = 4096;
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.constData(), static_cast<size_t>(body.size())).get(doc) == simdjson::SUCCESS) {
        for (const char *pointer : {"/max_completion_tokens", "/max_tokens", "/max_output_tokens", "/generationConfig/maxOutputTokens"}) {
            int64_t n = 0;
            if (doc.at_pointer(pointer).get_int64().get(n) == simdjson::SUCCESS && n >= 0) {
                limit = n;
                break;
            }
        }
    }
    if (!params->has("p"))
        params->values.insert("p", QByteArray::number(body.size()));
    if (!params->has("c"))
        params->values.insert("c", QByteArray::number(limit));
    if (stream && !params->has("pad")) {
        const qint64 chunks = std::max<qint64>(1, params->integer("chunks", 5));
        params->values.insert("pad", QByteArray::number(std::min<qint64>(limit * 4 / chunks + 1, 8 * 1024 * 1024)));
    }
}

// The tool a reply calls: none unless the request offered one; `tools=0` answers with text anyway,
// `tool=NAME` calls NAME instead.
QByteArray chosenTool(const Params &params, const QByteArray &offered)
{
    if (offered.isEmpty() || params.values.value("tools") == "0")
        return {};
    return params.has("tool") ? params.values.value("tool") : offered;
}

void setResetOnClose(QTcpSocket *socket)
{
#ifdef Q_OS_UNIX
    const qintptr fd = socket->socketDescriptor();
    if (fd >= 0) {
        struct linger l{};
        l.l_onoff = 1;
        l.l_linger = 0;
        ::setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
#else
    Q_UNUSED(socket);
#endif
}

} // namespace

// ---------------------------------------------------------------------------------------------
// MockServer

MockServer::MockServer(const ServerConfig *config, int threads, QObject *parent)
    : QTcpServer(parent)
    , m_config(config)
{
    setListenBacklogSize(1024);
    if (threads > 1) {
        for (int i = 0; i < threads; ++i) {
            auto *thread = new QThread(this);
            auto *anchor = new QObject;
            anchor->moveToThread(thread);
            connect(thread, &QThread::finished, anchor, &QObject::deleteLater);
            thread->start();
            m_threads.push_back(thread);
            m_anchors.push_back(anchor);
        }
    }
}

MockServer::~MockServer()
{
    for (QThread *t : m_threads) {
        t->quit();
        t->wait();
    }
}

void MockServer::incomingConnection(qintptr handle)
{
    if (m_anchors.empty()) {
        new Connection(handle, m_config);
        return;
    }
    QObject *anchor = m_anchors[m_next++ % m_anchors.size()];
    const ServerConfig *config = m_config;
    QMetaObject::invokeMethod(anchor, [handle, config] { new Connection(handle, config); }, Qt::QueuedConnection);
}

// ---------------------------------------------------------------------------------------------
// Connection: HTTP parsing

const llhttp_settings_t *Connection::settings()
{
    static const llhttp_settings_t s = [] {
        llhttp_settings_t st;
        llhttp_settings_init(&st);
        st.on_message_begin = &Connection::onMessageBegin;
        st.on_url = &Connection::onUrl;
        st.on_header_field = &Connection::onHeaderField;
        st.on_header_value = &Connection::onHeaderValue;
        st.on_headers_complete = &Connection::onHeadersComplete;
        st.on_body = &Connection::onBody;
        st.on_message_complete = &Connection::onMessageComplete;
        return st;
    }();
    return &s;
}

Connection::Connection(qintptr handle, const ServerConfig *config)
    : m_config(config)
    , m_socket(new QTcpSocket(this))
{
    llhttp_init(&m_parser, HTTP_REQUEST, settings());
    m_parser.data = this;
    if (!m_socket->setSocketDescriptor(handle)) {
        deleteLater();
        return;
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_socket, &QTcpSocket::readyRead, this, &Connection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError) {
        if (m_socket->state() != QAbstractSocket::ConnectedState)
            deleteLater();
    });
    if (m_socket->bytesAvailable() > 0)
        QMetaObject::invokeMethod(this, &Connection::onReadyRead, Qt::QueuedConnection);
}

Connection::~Connection() = default;

bool Connection::connected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

int Connection::onMessageBegin(llhttp_t *p)
{
    auto *self = static_cast<Connection *>(p->data);
    self->m_req = Request{};
    self->m_field.clear();
    self->m_value.clear();
    self->m_inValue = false;
    return 0;
}

int Connection::onUrl(llhttp_t *p, const char *at, size_t len)
{
    static_cast<Connection *>(p->data)->m_req.url.append(at, static_cast<qsizetype>(len));
    return 0;
}

void Connection::pushHeader()
{
    m_req.headers.append({m_field.toLower(), m_value.trimmed()});
    m_field.clear();
    m_value.clear();
    m_inValue = false;
}

int Connection::onHeaderField(llhttp_t *p, const char *at, size_t len)
{
    auto *self = static_cast<Connection *>(p->data);
    if (self->m_inValue)
        self->pushHeader();
    self->m_field.append(at, static_cast<qsizetype>(len));
    return 0;
}

int Connection::onHeaderValue(llhttp_t *p, const char *at, size_t len)
{
    auto *self = static_cast<Connection *>(p->data);
    self->m_inValue = true;
    self->m_value.append(at, static_cast<qsizetype>(len));
    return 0;
}

int Connection::onHeadersComplete(llhttp_t *p)
{
    auto *self = static_cast<Connection *>(p->data);
    if (self->m_inValue || !self->m_field.isEmpty())
        self->pushHeader();
    self->m_req.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(p)));
    const qint64 limit = self->m_config->maxBodyBytes;
    if (limit > 0 && (p->flags & F_CONTENT_LENGTH) && p->content_length > static_cast<quint64>(limit)) {
        // Answer now, without reading the body, and stop parsing this connection.
        Request tooLarge;
        tooLarge.method = "413";
        tooLarge.url = self->m_req.url;
        tooLarge.keepAlive = false;
        self->m_pending.push_back(std::move(tooLarge));
        self->m_parseFailed = true;
        return HPE_PAUSED;
    }
    if (p->content_length > 0 && p->content_length < (quint64(256) << 20))
        self->m_req.body.reserve(static_cast<qsizetype>(p->content_length));
    for (const auto &[name, value] : std::as_const(self->m_req.headers)) {
        // Answer "Expect: 100-continue" only when no earlier response is still being written.
        if (name == "expect" && value.toLower() == "100-continue" && !self->m_busy && self->m_pending.empty())
            self->m_socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return 0;
}

int Connection::onBody(llhttp_t *p, const char *at, size_t len)
{
    static_cast<Connection *>(p->data)->m_req.body.append(at, static_cast<qsizetype>(len));
    return 0;
}

int Connection::onMessageComplete(llhttp_t *p)
{
    auto *self = static_cast<Connection *>(p->data);
    self->m_req.keepAlive = llhttp_should_keep_alive(p) != 0;
    self->m_pending.push_back(std::move(self->m_req));
    self->m_req = Request{};
    return 0;
}

void Connection::onReadyRead()
{
    const QByteArray data = m_socket->readAll();
    if (m_parseFailed || data.isEmpty())
        return;
    const llhttp_errno_t err = llhttp_execute(&m_parser, data.constData(), static_cast<size_t>(data.size()));
    if (err != HPE_OK && err != HPE_CLOSED_CONNECTION && !m_parseFailed) {
        m_parseFailed = true;
        // Answer the complete requests first, then the error, then close.
        Request bad;
        bad.method = "!";
        bad.url = llhttp_get_error_reason(&m_parser);
        bad.keepAlive = false;
        m_pending.push_back(std::move(bad));
    }
    dispatch();
}

void Connection::dispatch()
{
    if (m_dispatching)
        return;
    m_dispatching = true;
    while (!m_busy && !m_pending.empty() && connected()) {
        Request r = std::move(m_pending.front());
        m_pending.pop_front();
        m_busy = true;
        m_keepAlive = r.keepAlive;
        handle(std::move(r));
    }
    m_dispatching = false;
}

void Connection::finishResponse()
{
    m_busy = false;
    if (!m_keepAlive) {
        m_pending.clear();
        m_socket->disconnectFromHost();
        return;
    }
    dispatch();
}

// ---------------------------------------------------------------------------------------------
// Connection: answering

void Connection::sendFull(int status, const QByteArray &body, const QByteArray &extraHeaders, QByteArrayView contentType)
{
    QByteArray out = statusLine(status);
    out += "Content-Type: " + contentType.toByteArray() + "\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\n";
    if (!m_requestId.isEmpty())
        out += "x-request-id: " + m_requestId + "\r\n";
    if (!m_keepAlive)
        out += "Connection: close\r\n";
    out += extraHeaders;
    out += "\r\n";
    out += body;
    m_socket->write(out);
    m_socket->flush();
    finishResponse();
}

void Connection::sendError(int status, QByteArrayView message, QByteArrayView type, QByteArrayView code,
                           const QByteArray &extraHeaders)
{
    sendFull(status, errorBody(message, type, code), extraHeaders);
}

void Connection::handle(Request request)
{
    m_requestId.clear();
    if (request.method == "!") {
        sendError(400, "mock: malformed HTTP request: " + request.url, "invalid_request_error", "bad_request");
        return;
    }
    if (request.method == "413") {
        sendError(413, "mock: the request body exceeds " + QByteArray::number(m_config->maxBodyBytes) + " bytes",
                  "invalid_request_error", "request_too_large");
        return;
    }
    const QByteArray path = pathOnly(request.url);
    if (path.endsWith("/_mock/requests")) {
        sendFull(200, QJsonDocument(m_config->log->toJson()).toJson(QJsonDocument::Compact));
        return;
    }
    if (path.endsWith("/_mock/billing")) {
        sendFull(200, QJsonDocument(m_config->state->billingJson()).toJson(QJsonDocument::Compact));
        return;
    }
    if (path.endsWith("/_mock/reset")) {
        m_config->log->clear();
        m_config->state->clear();
        sendFull(200, "{\"ok\":true}");
        return;
    }

    if (!m_config->localKind.isEmpty() && request.method == "GET") {
        if (auto body = localServerReply(m_config->localKind, path, m_config->models)) {
            sendFull(200, *body);
            return;
        }
    }
    const Endpoint endpoint = endpointForPath(path);
    RequestLog::Entry entry;
    entry.method = request.method;
    entry.path = request.url;
    entry.headers = request.headers;
    entry.body = request.body;
    const quint64 recordId = m_config->log->add(std::move(entry));
    m_requestId = "req_mock_" + QByteArray::number(++g_sequence);

    // An OpenTelemetry collector stand-in: OTLP/HTTP JSON trace exports are recorded like any request
    // (GET /_mock/requests shows their bodies) and accepted; under a path with /flaky-N/ the first N
    // are answered 503 (a collector that is restarting).
    if (path.endsWith("/v1/traces") && request.method == "POST") {
        const qsizetype flaky = path.indexOf("/flaky-");
        if (flaky >= 0) {
            const int failures = path.mid(flaky + 7, path.indexOf('/', flaky + 7) - flaky - 7).toInt();
            if (g_flakyTraces.fetch_add(1) < failures) {
                sendError(503, "mock collector: unavailable", "server_error", "unavailable");
                return;
            }
        }
        bool json = false;
        for (const auto &[name, value] : request.headers)
            json = json || (name.compare("content-type", Qt::CaseInsensitive) == 0 && value.startsWith("application/json"));
        if (!json || QJsonDocument::fromJson(request.body).object().value(QStringLiteral("resourceSpans")).toArray().isEmpty()) {
            sendError(400, "mock collector: not an OTLP/JSON ExportTraceServiceRequest", "invalid_request_error", "bad_request");
            return;
        }
        sendFull(200, "{\"partialSuccess\":{}}");
        return;
    }
    if (endpoint == Endpoint::Unknown) {
        sendError(404, "mock: unknown endpoint " + path, "invalid_request_error", "unknown_url");
        return;
    }
    if (endpoint == Endpoint::Models) {
        if (request.method != "GET") {
            sendError(405, "mock: use GET for " + path, "invalid_request_error", "method_not_allowed");
            return;
        }
        sendFull(200, modelsBody(m_config->models, 1700000000));
        return;
    }
    if (request.method != "POST") {
        sendError(405, "mock: use POST for " + path, "invalid_request_error", "method_not_allowed");
        return;
    }
    if (formatOf(endpoint) != Format::OpenAI) {
        handleProviderApi(request, endpoint, recordId);
        return;
    }
    handleApi(request, endpoint, recordId);
}

// ---------------------------------------------------------------------------------------------
// Connection: what every format shares

void Connection::beginRequest(quint64 recordId, const QByteArray &model, Endpoint endpoint, const QByteArray &body,
                              bool stream, Params *params)
{
    m_current = Current{};
    m_current.model = model;
    m_current.format = formatOf(endpoint);
    m_config->state->received(model);
    if (params->behaviour == "chaos") {
        const ChaosDraw draw = chaosDraw(params->values.value("seed").toULongLong(),
                                         m_config->state->nextChaosIndex(model), params->number("fail", 0.5), stream);
        params->behaviour = draw.behaviour;
        if (draw.retryAfter >= 0)
            params->values.insert("retry_after", QByteArray::number(draw.retryAfter));
        if (draw.behaviour == "error-in-stream")
            params->values.insert("after", "0");
    }
    m_current.cache = params->flag("cache");
    if (m_current.cache)
        m_current.prompt = promptBytes(endpoint, body);
    m_config->log->setModel(recordId, model, params->behaviour);
}

qint64 Connection::simulatedCacheTokens()
{
    if (!m_current.cache)
        return -1;
    return m_config->state->cachedTokens(m_current.format, m_current.model, m_current.prompt);
}

void Connection::sendOk(const QByteArray &body, const QByteArray &extraHeaders, const std::optional<Billed> &usage,
                        qint64 delayMs)
{
    // Billed just before the last byte is written, so a client holding the whole answer sees it billed.
    if (delayMs > 0) {
        QTimer::singleShot(static_cast<int>(delayMs), this, [this, body, extraHeaders, usage] {
            if (!connected())
                return;
            m_config->state->bill(m_current.model, m_current.format, usage);
            sendFull(200, body, extraHeaders);
        });
        return;
    }
    if (m_current.idleAfter < 0 || m_current.idleMs <= 0) {
        m_config->state->bill(m_current.model, m_current.format, usage);
        sendFull(200, body, extraHeaders);
        return;
    }
    // idle-stream without streaming: the head and half of the body, the pause, the rest.
    QByteArray out = statusLine(200) + "Content-Type: application/json\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\n";
    if (!m_requestId.isEmpty())
        out += "x-request-id: " + m_requestId + "\r\n";
    if (!m_keepAlive)
        out += "Connection: close\r\n";
    out += extraHeaders + "\r\n" + body.first(body.size() / 2);
    m_socket->write(out);
    m_socket->flush();
    const QByteArray rest = body.sliced(body.size() / 2);
    QTimer::singleShot(static_cast<int>(m_current.idleMs), this, [this, rest, usage] {
        if (!connected())
            return;
        m_config->state->bill(m_current.model, m_current.format, usage);
        m_socket->write(rest);
        m_socket->flush();
        finishResponse();
    });
}

void Connection::sendOpenAIFailure(int status, const Params &params, const QByteArray &model, const QByteArray &authorization)
{
    if (params.integer("echo_auth", 0) == 1) {
        // A provider that quotes the credentials it was sent, in the message and as a field.
        QByteArray quoted = authorization;
        quoted.replace('\\', "\\\\").replace('"', "\\\"");
        const QByteArray body = "{\"error\":{\"message\":\"mock: Incorrect API key provided: " + quoted
            + " (fail-" + QByteArray::number(status) + ")\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\","
              "\"request_headers\":{\"authorization\":\"" + quoted + "\"}}}";
        sendFull(status, body, {});
        return;
    }
    QByteArray headers;
    const QByteArray retryAfter = params.values.value("retry_after", status == 429 ? QByteArray("1") : QByteArray());
    if (!retryAfter.isEmpty())
        headers += "Retry-After: " + retryAfter + "\r\n";
    const QByteArray tag = " (fail-" + QByteArray::number(status) + ')';
    switch (status) {
    case 400:
        sendError(400, "mock: the upstream rejected the request" + tag, "invalid_request_error", "invalid_value", headers);
        return;
    case 401:
        sendError(401, "mock: Incorrect API key provided" + tag, "invalid_request_error", "invalid_api_key", headers);
        return;
    case 403:
        sendError(403, "mock: you are not allowed to use this model" + tag, "invalid_request_error", "model_not_allowed",
                  headers);
        return;
    case 404:
        sendError(404, "mock: The model `" + model + "` does not exist or you do not have access to it" + tag,
                  "invalid_request_error", "model_not_found", headers);
        return;
    case 408:
        sendError(408, "mock: the request timed out" + tag, "server_error", "timeout", headers);
        return;
    case 413:
        sendError(413, "mock: the request is too large" + tag, "invalid_request_error", "request_too_large", headers);
        return;
    case 429: {
        const QByteArray seconds = retryAfter.isEmpty() ? QByteArray("0") : retryAfter;
        headers += "x-ratelimit-remaining-requests: 0\r\nx-ratelimit-reset-requests: " + seconds + "s\r\n";
        sendError(429, "mock: rate limit reached, retry after " + seconds + " s", "requests", "rate_limit_exceeded",
                  headers);
        return;
    }
    default:
        if (status >= 500)
            sendError(status, "mock: the upstream failed" + tag, "server_error", {}, headers);
        else
            sendError(status, "mock: the upstream refused the request" + tag, "invalid_request_error", {}, headers);
        return;
    }
}

void Connection::closeWithoutAnswer()
{
    m_pending.clear();
    m_parseFailed = true; // ignore anything else the client sends
    m_socket->disconnectFromHost();
}

void Connection::handleApi(const Request &request, Endpoint endpoint, quint64 recordId)
{
    const BodyFields fields = readBody(request.body);
    if (!fields.valid || !fields.isObject) {
        sendError(400, "mock: the request body is not a JSON object", "invalid_request_error", "invalid_json");
        return;
    }
    if (!fields.model) {
        sendError(400, "mock: missing required parameter: 'model'", "invalid_request_error", "missing_required_parameter");
        return;
    }
    const bool stream = fields.stream && endpoint != Endpoint::Embeddings;
    Params params = parseModel(*fields.model);
    beginRequest(recordId, *fields.model, endpoint, request.body, stream, &params);
    applyMaxBill(&params, request.body, stream);
    const QByteArray b = params.behaviour;
    const qint64 defaultPrompt = (request.body.size() + 3) / 4;
    const qint64 promptTokens = params.integer("p", defaultPrompt);

    ReplyContext ctx;
    ctx.endpoint = endpoint;
    ctx.model = *fields.model;
    ctx.created = QDateTime::currentSecsSinceEpoch();
    if (params.integer("echo_auth", 0) == 1) {
        for (const auto &[name, value] : request.headers)
            if (name == "authorization")
                ctx.echo = ' ' + value;
    }
    const QByteArray seq = QByteArray::number(g_sequence.load());
    ctx.id = endpoint == Endpoint::Responses ? "resp_mock_" + seq
        : endpoint == Endpoint::Completions  ? "cmpl-mock-" + seq
                                             : "chatcmpl-mock-" + seq;
    if (endpoint == Endpoint::Chat)
        ctx.toolName = chosenTool(params, fields.toolName);

    if (endpoint == Endpoint::Embeddings && fields.inputs < 0) {
        sendError(400, "mock: missing required parameter: 'input'", "invalid_request_error", "missing_required_parameter");
        return;
    }

    if (const int status = failureStatus(b)) {
        QByteArray authorization;
        for (const auto &[name, value] : request.headers)
            if (name == "authorization")
                authorization = value;
        sendOpenAIFailure(status, params, *fields.model, authorization);
        return;
    }
    if (b == "reset-before" || b == "reset-before-head") {
        resetConnection(false);
        return;
    }
    if (b == "close-before") {
        closeWithoutAnswer();
        return;
    }
    if (b == "hang")
        return; // stays busy until the client goes away
    if (b == "bad-json") {
        if (stream) {
            StreamPlan plan;
            plan.events = {"data: {\"id\":\"chatcmpl-mock\",\"choices\":[{\"delta\":{\"content\":\"Hel\n\n",
                           "data: [DONE]\n\n"};
            startStream(std::move(plan));
        } else {
            sendFull(200, "{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion\",\"choices\":[{\"message\":");
        }
        return;
    }
    if (b == "reset-mid-stream") {
        const qint64 after = params.integer("after", 2);
        if (!stream) {
            // Announce the whole body, send half of it, then reset.
            const QByteArray body = nonStreamBody(ctx, contentPieces(params.integer("c", 10), 0).join(), std::nullopt);
            QByteArray out = statusLine(200) + "Content-Type: application/json\r\nContent-Length: "
                + QByteArray::number(body.size()) + "\r\nx-request-id: " + m_requestId + "\r\n\r\n"
                + body.first(body.size() / 2);
            m_socket->write(out);
            m_socket->flush();
            resetConnection(true);
            return;
        }
        StreamPlan plan;
        plan.events = streamHead(ctx, fields.includeUsage);
        for (const QByteArray &piece : contentPieces(after, params.integer("pad", 0)))
            plan.events.append(streamDelta(ctx, piece, fields.includeUsage));
        plan.delayMs = params.integer("delay", 0);
        plan.resetAtEnd = true;
        startStream(std::move(plan));
        return;
    }
    if (b == "error-in-stream") {
        const qint64 after = params.integer("after", 1);
        StreamPlan plan;
        if (after > 0) {
            plan.events = streamHead(ctx, fields.includeUsage);
            for (const QByteArray &piece : contentPieces(after, params.integer("pad", 0)))
                plan.events.append(streamDelta(ctx, piece, fields.includeUsage));
        }
        plan.events.append(streamError(ctx, after > 0 ? QByteArrayView("mock: the upstream failed in the middle of the stream")
                                                      : QByteArrayView("mock: the upstream failed before any content")));
        plan.delayMs = params.integer("delay", 0);
        startStream(std::move(plan));
        return;
    }
    if (b == "slow-headers" || b == "slow-head") {
        const qint64 delay = params.integer("delay", 1000);
        const qint64 vectors = fields.inputs;
        const bool includeUsage = fields.includeUsage;
        Params rest = params;
        rest.values.remove("delay"); // the wait before the head, not a delay between events
        QTimer::singleShot(static_cast<int>(delay), this, [=, this] {
            if (connected())
                replyOk(ctx, rest, stream, includeUsage, true, promptTokens, vectors, recordId, 0);
        });
        return;
    }
    if (b == "slow-first-token") {
        m_current.idleAfter = 0;
        m_current.pauseAfterHead = true;
        m_current.idleMs = std::max<qint64>(0, params.integer("delay", 1000));
        Params rest = params;
        rest.values.remove("delay"); // the pause, not a delay between events
        replyOk(ctx, rest, stream, fields.includeUsage, true, promptTokens, fields.inputs, recordId, 0);
        return;
    }
    if (b == "idle-stream") {
        m_current.idleAfter = std::max<qint64>(0, params.integer("after", 1));
        m_current.idleMs = std::max<qint64>(0, params.integer("delay", 1000));
        Params rest = params;
        rest.values.remove("delay"); // the pause, not a delay between events
        replyOk(ctx, rest, stream, fields.includeUsage, true, promptTokens, fields.inputs, recordId, 0);
        return;
    }
    const bool reportUsage = b != "no-usage";
    const qint64 defaultDelay = b == "stream-slow" ? 100 : 0;
    replyOk(ctx, params, stream, fields.includeUsage, reportUsage, promptTokens, fields.inputs, recordId, defaultDelay);
}

void Connection::replyOk(const ReplyContext &ctx, const Params &params, bool stream, bool includeUsage,
                         bool reportUsage, qint64 promptTokens, qint64 vectors, quint64 recordId, qint64 defaultDelay)
{
    Billed billed;
    billed.promptTokens = promptTokens;
    billed.cachedTokens = params.integer("cached", 0);
    if (const qint64 cached = simulatedCacheTokens(); cached >= 0)
        billed.cachedTokens = std::min(cached, promptTokens);
    const qint64 pad = params.integer("pad", 0);

    if (ctx.endpoint == Endpoint::Embeddings) {
        billed.completionTokens = 0;
        billed.cachedTokens = 0;
        if (reportUsage)
            m_config->log->setBilled(recordId, billed);
        sendOk(embeddingsBody(ctx, vectors, params.integer("dims", 8), reportUsage ? std::optional(billed) : std::nullopt),
               {}, reportUsage ? std::optional(billed) : std::nullopt);
        return;
    }
    if (ctx.endpoint == Endpoint::Chat && !ctx.toolName.isEmpty()) {
        // A tool call instead of text: content null, the arguments in pieces when streamed.
        const ToolCall call{"call_mock_" + ctx.id.mid(ctx.id.lastIndexOf('-') + 1), ctx.toolName, kToolArguments};
        billed.completionTokens = params.integer("c", 10);
        const bool usageInStream = reportUsage && includeUsage;
        if (!stream) {
            if (reportUsage)
                m_config->log->setBilled(recordId, billed);
            const std::optional<Billed> usage = reportUsage ? std::optional(billed) : std::nullopt;
            sendOk(openai::toolCallBody(ctx, call, usage), {}, usage);
            return;
        }
        StreamPlan plan;
        plan.events = openai::toolCallEvents(ctx, call, usageInStream ? std::optional(billed) : std::nullopt, includeUsage);
        if (usageInStream) {
            plan.usageEvent = plan.events.size() - 2;
            plan.billed = billed;
            plan.recordId = recordId;
        }
        plan.billAtEnd = true;
        plan.billUsage = usageInStream ? std::optional(billed) : std::nullopt;
        if (m_current.idleAfter >= 0) {
            // slow-first-token: the first chunk already names the tool (as OpenAI's does), so the pause
            // comes before it, right after the headers.
            plan.pauseBefore = m_current.idleAfter == 0 ? 0 : std::min<qsizetype>(1 + m_current.idleAfter, plan.events.size());
            plan.pauseMs = m_current.idleMs;
        }
        plan.delayMs = params.integer("delay", defaultDelay);
        startStream(std::move(plan));
        return;
    }
    if (!stream) {
        const qint64 delay = params.integer("delay", defaultDelay);
        billed.completionTokens = params.integer("c", 10);
        const std::optional<Billed> usage = reportUsage ? std::optional(billed) : std::nullopt;
        const QByteArray body = nonStreamBody(ctx, contentPieces(billed.completionTokens, pad).join() + ctx.echo, usage);
        if (reportUsage)
            m_config->log->setBilled(recordId, billed);
        // stream-slow asked without streaming: the whole reply comes after all the delays.
        sendOk(body, {}, usage, delay > 0 && defaultDelay > 0 ? delay * params.integer("chunks", 5) : 0);
        return;
    }

    const qint64 chunks = params.integer("chunks", 5);
    billed.completionTokens = params.integer("c", chunks);
    QList<QByteArray> pieces = contentPieces(chunks, pad);
    if (!pieces.isEmpty())
        pieces.last() += ctx.echo;
    // Chat and completions send usage only when asked (stream_options.include_usage); the Responses
    // API always ends with response.completed, which carries the usage.
    const bool usageInStream = reportUsage && (ctx.endpoint == Endpoint::Responses || includeUsage);
    const bool usageField = includeUsage && ctx.endpoint != Endpoint::Responses;

    StreamPlan plan;
    plan.events = streamHead(ctx, usageField);
    const qsizetype headSize = plan.events.size();
    for (const QByteArray &piece : pieces)
        plan.events.append(streamDelta(ctx, piece, usageField));
    plan.events.append(streamTail(ctx, pieces.join(), usageInStream ? std::optional(billed) : std::nullopt, usageField));
    if (usageInStream) {
        // The usage rides on the last event before [DONE] (chat, completions) or on response.completed.
        plan.usageEvent = ctx.endpoint == Endpoint::Responses ? plan.events.size() - 1 : plan.events.size() - 2;
        plan.billed = billed;
        plan.recordId = recordId;
    }
    plan.billAtEnd = true;
    plan.billUsage = usageInStream ? std::optional(billed) : std::nullopt;
    if (m_current.idleAfter >= 0) {
        plan.pauseBefore = m_current.idleAfter == 0 && !m_current.pauseAfterHead ? 0 : headSize + std::min<qsizetype>(m_current.idleAfter, pieces.size());
        plan.pauseMs = m_current.idleMs;
    }
    plan.delayMs = params.integer("delay", defaultDelay);
    startStream(std::move(plan));
}

void Connection::startStream(StreamPlan plan)
{
    QByteArray head = statusLine(200)
        + "Content-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n";
    if (!m_requestId.isEmpty())
        head += "x-request-id: " + m_requestId + "\r\n";
    if (!m_keepAlive && !plan.resetAtEnd)
        head += "Connection: close\r\n";
    head += "\r\n";
    m_socket->write(head);
    m_socket->flush();
    m_stream = std::move(plan);
    if (m_stream.pauseBefore == 0 && m_stream.pauseMs > 0) {
        QTimer::singleShot(static_cast<int>(m_stream.pauseMs), this, &Connection::streamStep);
        return;
    }
    streamStep();
}

void Connection::writeChunk(const QByteArray &data)
{
    m_socket->write(QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
    m_socket->flush();
}

void Connection::streamStep()
{
    while (connected()) {
        if (m_stream.next >= m_stream.events.size()) {
            if (m_stream.resetAtEnd) {
                resetConnection(true);
            } else {
                // Billed before the last bytes leave, so a client that has the whole answer sees it billed.
                if (m_stream.billAtEnd)
                    m_config->state->bill(m_current.model, m_current.format, m_stream.billUsage);
                m_socket->write("0\r\n\r\n");
                m_socket->flush();
                finishResponse();
            }
            return;
        }
        writeChunk(m_stream.events[m_stream.next]);
        if (m_stream.next == m_stream.usageEvent)
            m_config->log->setBilled(m_stream.recordId, m_stream.billed);
        ++m_stream.next;
        qint64 wait = 0;
        if (m_stream.next == m_stream.pauseBefore)
            wait = m_stream.pauseMs;
        else if (m_stream.next < m_stream.events.size())
            wait = m_stream.delayMs;
        if (wait > 0) {
            QTimer::singleShot(static_cast<int>(wait), this, &Connection::streamStep);
            return;
        }
    }
}

void Connection::resetConnection(bool afterFlush)
{
    m_pending.clear();
    m_parseFailed = true; // ignore anything else the client sends
    auto abortNow = [this] {
        setResetOnClose(m_socket);
        m_socket->abort();
        deleteLater();
    };
    if (!afterFlush) {
        abortNow();
        return;
    }
    // Let what was written reach the peer before the RST, which would otherwise discard it.
    m_socket->flush();
    auto abortSoon = [this, abortNow] {
        if (m_socket->bytesToWrite() > 0)
            return;
        QTimer::singleShot(20, this, abortNow);
    };
    if (m_socket->bytesToWrite() > 0)
        connect(m_socket, &QTcpSocket::bytesWritten, this, abortSoon);
    else
        abortSoon();
}

} // namespace gh::mock

// ---------------------------------------------------------------------------------------------
// Anthropic Messages and Gemini generateContent

namespace gh::mock {

void Connection::sendProviderError(Format format, int status, QByteArrayView message, const QByteArray &extraHeaders)
{
    if (format == Format::Anthropic) {
        sendFull(status, anthropic::errorBody(anthropic::errorType(status), message, m_requestId),
                 "request-id: " + m_requestId + "\r\n" + extraHeaders);
        return;
    }
    sendFull(status, gemini::errorBody(status, message), extraHeaders);
}

void Connection::handleProviderApi(const Request &request, Endpoint endpoint, quint64 recordId)
{
    const Format format = formatOf(endpoint);
    const bool countTokens = endpoint == Endpoint::AnthropicCountTokens || endpoint == Endpoint::GeminiCountTokens;
    const ProviderRequest body = format == Format::Anthropic ? readAnthropicRequest(request.body, countTokens)
                                                             : readGeminiRequest(request.body, countTokens);
    const QByteArray model = format == Format::Anthropic ? body.model.value_or(QByteArray())
                                                         : geminiModelFromPath(request.url);
    if (!body.problem.isEmpty()) {
        sendProviderError(format, 400, body.problem);
        return;
    }
    if (model.isEmpty()) {
        sendProviderError(format, 404, "mock: no model in " + pathOnly(request.url));
        return;
    }
    const bool stream = !countTokens && (format == Format::Anthropic ? body.stream : endpoint == Endpoint::GeminiStream);
    Params params = parseModel(model);
    if (countTokens && params.behaviour == "chaos")
        params.behaviour = "ok"; // count_tokens is never faulted by chaos
    beginRequest(recordId, model, endpoint, request.body, stream, &params);
    applyMaxBill(&params, request.body, stream);
    const QByteArray b = params.behaviour;

    if (const int status = failureStatus(b)) {
        sendProviderFailure(format, status, params, model);
        return;
    }
    if (b == "reset-before" || b == "reset-before-head") {
        resetConnection(false);
        return;
    }
    if (b == "close-before") {
        closeWithoutAnswer();
        return;
    }
    if (b == "hang")
        return;

    const qint64 promptTokens = params.integer("p", (request.body.size() + 3) / 4);
    if (countTokens) {
        sendFull(200, format == Format::Anthropic ? anthropic::countTokensBody(promptTokens)
                                                  : gemini::countTokensBody(promptTokens));
        return;
    }

    ReplyContext ctx;
    ctx.endpoint = endpoint;
    ctx.model = model;
    ctx.created = QDateTime::currentSecsSinceEpoch();
    const QByteArray seq = QByteArray::number(g_sequence.load());
    ctx.id = format == Format::Anthropic ? "msg_mock_" + seq : "mock-" + seq;
    ctx.toolName = chosenTool(params, body.toolName);
    const qint64 after = params.integer("after", b == "reset-mid-stream" ? 2 : 1);
    const qint64 pad = params.integer("pad", 0);

    if (b == "bad-json") {
        if (stream) {
            StreamPlan plan;
            if (format == Format::Anthropic) {
                plan.events = anthropic::streamHead(ctx, std::nullopt);
                plan.events.append("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
                                   "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\n\n");
                plan.events.append("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
            } else {
                plan.events = {"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hel\r\n\r\n"};
            }
            startStream(std::move(plan));
        } else {
            sendFull(200, format == Format::Anthropic ? QByteArray("{\"id\":\"msg_mock\",\"type\":\"message\",\"content\":[")
                                                      : QByteArray("{\"candidates\":[{\"content\":"));
        }
        return;
    }
    if (b == "reset-mid-stream") {
        if (!stream) {
            const QByteArray text = contentPieces(params.integer("c", 10), 0).join();
            const QByteArray full = format == Format::Anthropic ? anthropic::messageBody(ctx, text, std::nullopt, std::nullopt)
                                                                : gemini::generateBody(ctx, text, std::nullopt, std::nullopt);
            m_socket->write(statusLine(200) + "Content-Type: application/json\r\nContent-Length: "
                            + QByteArray::number(full.size()) + "\r\nx-request-id: " + m_requestId + "\r\n\r\n"
                            + full.first(full.size() / 2));
            m_socket->flush();
            resetConnection(true);
            return;
        }
        StreamPlan plan;
        if (format == Format::Anthropic)
            plan.events = anthropic::streamHead(ctx, std::nullopt);
        for (const QByteArray &piece : contentPieces(after, pad))
            plan.events.append(format == Format::Anthropic ? anthropic::textDelta(piece)
                                                           : gemini::textChunk(ctx, piece, std::nullopt));
        plan.delayMs = params.integer("delay", 0);
        plan.resetAtEnd = true;
        startStream(std::move(plan));
        return;
    }
    if (b == "error-in-stream") {
        const int status = static_cast<int>(params.integer("status", format == Format::Anthropic ? 529 : 503));
        const QByteArray message = format == Format::Anthropic ? QByteArray("mock: Overloaded (error inside the stream)")
                                                               : QByteArray("mock: The model is overloaded. Please try again later.");
        if (!stream) {
            sendProviderError(format, status, message);
            return;
        }
        StreamPlan plan;
        if (after > 0) {
            if (format == Format::Anthropic) {
                // Input usage arrives with message_start before the failure, as with the real API.
                Billed billed;
                billed.promptTokens = promptTokens;
                plan.events = anthropic::streamHead(ctx, billed);
            }
            for (const QByteArray &piece : contentPieces(after, pad))
                plan.events.append(format == Format::Anthropic ? anthropic::textDelta(piece)
                                                               : gemini::textChunk(ctx, piece, std::nullopt));
        }
        plan.events.append(format == Format::Anthropic ? anthropic::streamError(anthropic::errorType(status), message)
                                                       : gemini::streamError(status, message));
        plan.delayMs = params.integer("delay", 0);
        startStream(std::move(plan));
        return;
    }
    if (b == "slow-headers" || b == "slow-head") {
        const qint64 delay = params.integer("delay", 1000);
        Params rest = params;
        rest.values.remove("delay"); // the wait before the head, not a delay between events
        QTimer::singleShot(static_cast<int>(delay), this, [=, this] {
            if (connected())
                replyProviderOk(ctx, rest, stream, true, promptTokens, recordId, 0);
        });
        return;
    }
    if (b == "slow-first-token") {
        m_current.idleAfter = 0;
        m_current.pauseAfterHead = true;
        m_current.idleMs = std::max<qint64>(0, params.integer("delay", 1000));
        Params rest = params;
        rest.values.remove("delay"); // the pause, not a delay between events
        replyProviderOk(ctx, rest, stream, true, promptTokens, recordId, 0);
        return;
    }
    if (b == "idle-stream") {
        m_current.idleAfter = std::max<qint64>(0, after);
        m_current.idleMs = std::max<qint64>(0, params.integer("delay", 1000));
        Params rest = params;
        rest.values.remove("delay"); // the pause, not a delay between events
        replyProviderOk(ctx, rest, stream, true, promptTokens, recordId, 0);
        return;
    }
    replyProviderOk(ctx, params, stream, b != "no-usage", promptTokens, recordId, b == "stream-slow" ? 100 : 0);
}

void Connection::replyProviderOk(const ReplyContext &ctx, const Params &params, bool stream, bool reportUsage,
                                 qint64 promptTokens, quint64 recordId, qint64 defaultDelay)
{
    const Format format = formatOf(ctx.endpoint);
    const qint64 simulated = simulatedCacheTokens();
    Billed billed;
    billed.promptTokens = promptTokens;
    if (format == Format::Anthropic) {
        billed.cacheReadTokens = params.integer("cache_read", 0);
        billed.cacheWriteTokens = params.integer("cache_write", 0);
        billed.cacheWrite1hTokens = params.integer("cache_write_1h", 0);
        if (simulated >= 0) {
            // p is the whole prompt; input_tokens is what was not read from the cache.
            billed.cacheReadTokens = std::min(simulated, promptTokens);
            billed.promptTokens = promptTokens - billed.cacheReadTokens;
        }
    } else {
        billed.cachedTokens = simulated >= 0 ? std::min(simulated, promptTokens) : params.integer("cached", 0);
        billed.reasoningTokens = params.integer("thoughts", 0);
    }
    const qint64 pad = params.integer("pad", 0);
    std::optional<ToolCall> tool;
    if (!ctx.toolName.isEmpty())
        tool = ToolCall{format == Format::Anthropic ? "toolu_mock_" + ctx.id.mid(9) : QByteArray(), ctx.toolName,
                        kToolArguments};
    const QByteArray extra = format == Format::Anthropic ? "request-id: " + m_requestId + "\r\n" : QByteArray();

    if (!stream) {
        billed.completionTokens = params.integer("c", 10);
        const std::optional<Billed> finalUsage = reportUsage ? std::optional(billed) : std::nullopt;
        const QByteArray text = contentPieces(billed.completionTokens, pad).join();
        const QByteArray body = format == Format::Anthropic ? anthropic::messageBody(ctx, text, tool, finalUsage)
                                                            : gemini::generateBody(ctx, text, tool, finalUsage);
        if (reportUsage)
            m_config->log->setBilled(recordId, billed);
        const qint64 delay = params.integer("delay", defaultDelay);
        sendOk(body, extra, finalUsage, delay > 0 && defaultDelay > 0 ? delay * params.integer("chunks", 5) : 0);
        return;
    }

    const qint64 chunks = params.integer("chunks", 5);
    billed.completionTokens = params.integer("c", chunks);
    const QList<QByteArray> pieces = contentPieces(chunks, pad);
    StreamPlan plan;
    qsizetype headSize = 0;
    if (format == Format::Anthropic) {
        plan.events = anthropic::streamHead(ctx, reportUsage ? std::optional(billed) : std::nullopt);
        headSize = plan.events.size();
        for (const QByteArray &piece : pieces)
            plan.events.append(anthropic::textDelta(piece));
        plan.events.append(anthropic::streamTail(tool, reportUsage ? std::optional(billed) : std::nullopt));
        plan.usageEvent = plan.events.size() - 2; // message_delta
    } else {
        // Text pieces with the running usage; the last one (or the function call) with the final usage.
        if (!tool) {
            for (qsizetype i = 0; i + 1 < pieces.size(); ++i) {
                Billed running;
                running.promptTokens = billed.promptTokens;
                running.completionTokens = i + 1;
                plan.events.append(gemini::textChunk(ctx, pieces[i], reportUsage ? std::optional(running) : std::nullopt));
            }
        }
        plan.events.append(gemini::lastChunk(ctx, tool || pieces.isEmpty() ? QByteArray() : pieces.last(), tool,
                                             reportUsage ? std::optional(billed) : std::nullopt));
        plan.usageEvent = plan.events.size() - 1;
    }
    if (reportUsage) {
        plan.billed = billed;
        plan.recordId = recordId;
    } else {
        plan.usageEvent = -1;
    }
    plan.billAtEnd = true;
    plan.billUsage = reportUsage ? std::optional(billed) : std::nullopt;
    if (m_current.idleAfter >= 0) {
        plan.pauseBefore = m_current.idleAfter == 0 && !m_current.pauseAfterHead ? 0 : std::min<qsizetype>(headSize + m_current.idleAfter, plan.events.size());
        plan.pauseMs = m_current.idleMs;
    }
    plan.delayMs = params.integer("delay", defaultDelay);
    startStream(std::move(plan));
}

void Connection::sendProviderFailure(Format format, int status, const Params &params, const QByteArray &model)
{
    QByteArray headers;
    const QByteArray retryAfter = params.values.value("retry_after", status == 429 ? QByteArray("1") : QByteArray());
    if (!retryAfter.isEmpty())
        headers += "Retry-After: " + retryAfter + "\r\n";
    const QByteArray tag = " (fail-" + QByteArray::number(status) + ')';
    switch (status) {
    case 400:
        sendProviderError(format, 400, "mock: the upstream rejected the request" + tag, headers);
        return;
    case 401:
        sendProviderError(format, 401,
                          (format == Format::Anthropic ? QByteArray("mock: invalid x-api-key")
                                                       : QByteArray("mock: API key not valid. Please pass a valid API key."))
                              + tag,
                          headers);
        return;
    case 403:
        sendProviderError(format, 403, "mock: your API key does not have permission to use this resource" + tag, headers);
        return;
    case 404:
        sendProviderError(format, 404, "mock: model: " + model + " not found" + tag, headers);
        return;
    case 408:
        sendProviderError(format, 408, "mock: the request timed out" + tag, headers);
        return;
    case 429:
        if (format == Format::Anthropic)
            headers += "anthropic-ratelimit-requests-remaining: 0\r\n";
        sendProviderError(format, 429,
                          "mock: rate limit reached, retry after " + (retryAfter.isEmpty() ? QByteArray("0") : retryAfter)
                              + " s",
                          headers);
        return;
    default:
        sendProviderError(format, status,
                          (status >= 500 ? QByteArray("mock: the upstream failed") : QByteArray("mock: the upstream refused the request"))
                              + tag,
                          headers);
        return;
    }
}

} // namespace gh::mock
