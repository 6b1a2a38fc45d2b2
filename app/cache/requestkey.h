#pragma once
#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPair>
#include <QString>
#include <optional>

namespace gh {

// What makes two requests "the same" for the response cache (docs/response-cache.md).
struct CacheKeyInput {
    QByteArrayView endpoint;  // the client's path: "/v1/chat/completions", "/v1/messages"...
    QByteArrayView body;      // the client's JSON body
    QString scope;            // "key:<id>", or "shared" for the keys that share their answers
    QString target;           // the model or route the request was planned to (after aliases)
    // Request headers that change the answer (anthropic-version, anthropic-beta, openai-beta), as sent.
    QList<QPair<QByteArray, QByteArray>> headers;
};

// The request's key: SHA-256 over the scope, endpoint, target, those headers and the normalized body:
// the JSON object re-serialized with its members sorted and no whitespace (so key order and spacing
// do not matter), without `stream_options`, and with `stream` kept (a stream and a JSON answer are
// different entries: each is replayed exactly as it was received). std::nullopt with *why when the
// body is not a JSON object. *deterministic, when given, is isDeterministicRequest() of the same
// parse (the body is parsed once).
[[nodiscard]] std::optional<QByteArray> responseCacheKey(const CacheKeyInput &in, QString *why, bool *deterministic = nullptr);

// Whether the request asks for a deterministic answer: `temperature` 0 (chat, completions, responses,
// messages); embeddings always are. An absent temperature is the provider's default, 1.
[[nodiscard]] bool isDeterministicRequest(QByteArrayView endpoint, QByteArrayView body);

// Whether an answer (a JSON body or SSE bytes, in any client format) calls a tool: an OpenAI
// `tool_calls` array with an element or a legacy `function_call`, an Anthropic `tool_use` block,
// a Responses `function_call` item. Read from the bytes as the client received them.
[[nodiscard]] bool answerCallsTools(QByteArrayView answer);

// Whether SSE bytes, as the client received them, end the way a whole stream of its format ends:
// `data: [DONE]` (chat, completions), a `response.completed` event (responses) or `message_stop`
// (messages). A stream that stopped anywhere else was cut, and is not replayed.
[[nodiscard]] bool isCompleteStream(QByteArrayView sse);

} // namespace gh
