#pragma once
#include <QByteArray>
#include <QString>
#include <optional>

namespace gh {

enum class Endpoint { ChatCompletions, Completions, Embeddings, Responses, Messages, CountTokens };
[[nodiscard]] const char *endpointPath(Endpoint e); // "/chat/completions" (after the /v1 prefix)

// The few fields of an OpenAI-format request body the gateway needs, read without building a
// document (simdjson On-Demand), with the byte offsets needed to edit them in place.
struct RequestFields {
    QString model;
    qsizetype modelOffset = -1;      // the model's JSON string token, quotes included
    qsizetype modelLength = 0;
    bool stream = false;
    std::optional<qint64> maxTokens; // max_completion_tokens / max_tokens / max_output_tokens
    bool clientWantsUsage = false;   // stream_options.include_usage is true
    qsizetype streamOptionsOffset = -1;   // '{' of the stream_options object (or its null token)
    qsizetype streamOptionsNullLength = 0; // > 0: stream_options is null, this long at streamOptionsOffset
    bool streamOptionsEmpty = false;
    qsizetype includeUsageOffset = -1;    // the include_usage value token
    qsizetype includeUsageLength = 0;
    qsizetype objectEnd = -1;        // the closing '}' of the top-level object
};

// Reads the fields; returns std::nullopt with a message for the client when the body is not valid
// JSON, not an object, or misses a field the endpoint requires (the message names it).
// The body's capacity is grown when needed for the parser's padding (no copy otherwise).
[[nodiscard]] std::optional<RequestFields> inspectRequestBody(QByteArray &body, Endpoint endpoint, QString *error);

// The body to send upstream: the client's bytes with the model replaced by `upstreamModel` and,
// when `requireUsage` is set for a stream, stream_options.include_usage forced to true. Nothing else
// changes: no field is reordered, added or removed (prompt caches depend on it).
[[nodiscard]] QByteArray rewriteRequestBody(const QByteArray &body, const RequestFields &fields,
                                            const QString &upstreamModel, bool requireUsage);

} // namespace gh
