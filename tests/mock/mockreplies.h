#pragma once

#include "requestlog.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QList>

#include <optional>

// The OpenAI wire format as the mock writes it: reply bodies and SSE events. Pure functions, no I/O.
namespace gh::mock {

enum class Endpoint {
    Chat,
    Completions,
    Embeddings,
    Responses,
    Models,
    AnthropicMessages,    // .../messages
    AnthropicCountTokens, // .../messages/count_tokens
    GeminiGenerate,       // .../models/M:generateContent
    GeminiStream,         // .../models/M:streamGenerateContent (alt=sse)
    GeminiCountTokens,    // .../models/M:countTokens
    Unknown
};

enum class Format { OpenAI, Anthropic, Gemini };
[[nodiscard]] Format formatOf(Endpoint endpoint);

// Endpoint from a request path: matched on the suffix, so any prefix (/v1, /openai/v1, ...) works.
[[nodiscard]] Endpoint endpointForPath(QByteArrayView path);
// Gemini: the model named in .../models/MODEL:method, percent-decoded; empty when there is none.
[[nodiscard]] QByteArray geminiModelFromPath(QByteArrayView path);

// The "model" field: `<behaviour>` optionally followed by `@k=v,k=v`.
struct Params
{
    QByteArray behaviour;
    QHash<QByteArray, QByteArray> values;

    [[nodiscard]] bool has(const char *name) const { return values.contains(QByteArray(name)); }
    // The integer value of `name`, or `fallback` when it is missing or not a number.
    [[nodiscard]] qint64 integer(const char *name, qint64 fallback) const;
    // The floating-point value of `name`, or `fallback` when it is missing or not a number.
    [[nodiscard]] double number(const char *name, double fallback) const;
    // A flag: "1", "true", "yes" or "on".
    [[nodiscard]] bool flag(const char *name) const;
};
[[nodiscard]] Params parseModel(QByteArrayView model);

// A JSON string literal (with quotes) for arbitrary bytes, escaped as RFC 8259 requires.
[[nodiscard]] QByteArray jsonString(QByteArrayView text);

struct ReplyContext
{
    Endpoint endpoint = Endpoint::Chat;
    QByteArray model; // echoed back as received
    QByteArray id;    // chatcmpl-mock-N, cmpl-mock-N, resp_mock_N, msg_mock_N (Anthropic), mock-N (Gemini)
    qint64 created = 0;
    QByteArray toolName; // non-empty: the reply calls this tool (the request offered tools)
    QByteArray echo;     // echo_auth=1 on a success: the Authorization header received, at the end of the content
};

// The content of a reply split into `count` pieces ("Hello", " from", " the", ...), each followed
// by `pad` filler characters.
[[nodiscard]] QList<QByteArray> contentPieces(qint64 count, qint64 pad);

[[nodiscard]] QByteArray nonStreamBody(const ReplyContext &ctx, const QByteArray &content,
                                       const std::optional<Billed> &usage);
[[nodiscard]] QByteArray embeddingsBody(const ReplyContext &ctx, qint64 vectors, qint64 dims,
                                        const std::optional<Billed> &usage);
[[nodiscard]] QByteArray modelsBody(const QList<QByteArray> &models, qint64 created);
// {"error": {"message", "type", "param": null, "code"}}
[[nodiscard]] QByteArray errorBody(QByteArrayView message, QByteArrayView type, QByteArrayView code);

// Complete SSE events ("data: ...\n\n", or "event: ...\ndata: ...\n\n" for the Responses API).
[[nodiscard]] QList<QByteArray> streamHead(const ReplyContext &ctx, bool includeUsageField);
[[nodiscard]] QByteArray streamDelta(const ReplyContext &ctx, const QByteArray &piece, bool includeUsageField);
// The finish chunk, the usage chunk (when `usage` is set) and the end marker.
[[nodiscard]] QList<QByteArray> streamTail(const ReplyContext &ctx, const QByteArray &fullText,
                                           const std::optional<Billed> &usage, bool includeUsageField);
[[nodiscard]] QByteArray streamError(const ReplyContext &ctx, QByteArrayView message);

} // namespace gh::mock
