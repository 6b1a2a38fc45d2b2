#pragma once
#include <QByteArray>
#include <QString>
#include <QStringList>
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
    struct Token {
        qsizetype offset = -1;
        qsizetype length = 0;
    };
    // The value tokens of every output-limit field present (a clamp rewrites them all), in body order.
    QList<Token> outputLimitFields;
    // Anthropic thinking.budget_tokens (Messages only), and its value token.
    std::optional<qint64> thinkingBudget;
    qsizetype thinkingBudgetOffset = -1;
    qsizetype thinkingBudgetLength = 0;
    bool clientWantsUsage = false;   // stream_options.include_usage is true
    qsizetype streamOptionsOffset = -1;   // '{' of the stream_options object (or its null token)
    qsizetype streamOptionsNullLength = 0; // > 0: stream_options is null, this long at streamOptionsOffset
    bool streamOptionsEmpty = false;
    qsizetype includeUsageOffset = -1;    // the include_usage value token
    qsizetype includeUsageLength = 0;
    qsizetype objectEnd = -1;        // the closing '}' of the top-level object

    // For routing (chat completions and messages; false/empty for the other endpoints):
    bool hasTools = false;           // a non-empty `tools` (or legacy `functions`) array
    bool hasImages = false;          // an image part in the messages (image_url / image / input_image)
    int imageCount = 0;              // how many such parts (the budget's input bound counts each)
    bool wantsJsonSchema = false;    // response_format.type == "json_schema" (OpenAI) or output_format (Anthropic)
    // Hashes of the prompt's leading blocks, from the raw bytes (no reformatting): the system prompt
    // (Anthropic `system`, or OpenAI's leading system/developer messages), the tools, and the first
    // other message. headHash covers system + tools only; prefixHash also the first other message.
    // 0: that part is absent.
    quint64 prefixHash = 0;
    quint64 headHash = 0;
    qsizetype headBytes = 0;         // size of system + tools in bytes
    // For the Cache page's prefix diagnosis: the prompt as raw bytes (system, then tools, then the
    // messages / input array, concatenated in that order) hashed in kPromptBlockBytes blocks, at most
    // kMaxPromptBlocks. Two requests' prompts first differ inside the first block whose hashes differ.
    static constexpr int kPromptBlockBytes = 1024;
    static constexpr int kMaxPromptBlocks = 64;
    QList<quint64> promptBlocks;
    qsizetype systemBytes = 0;       // where the tools start in that concatenation
    qsizetype toolsBytes = 0;        // systemBytes + toolsBytes: where the messages start
    // An OpenAI-style per-request fallback list: "models": ["a", "b"]. Removed from the body that goes
    // upstream (providers reject unknown fields); offsets cover the member and one adjacent comma.
    QStringList fallbackModels;
    qsizetype modelsMemberOffset = -1;
    qsizetype modelsMemberLength = 0;
};

// Reads the fields; returns std::nullopt with a message for the client when the body is not valid
// JSON, not an object, or misses a field the endpoint requires (the message names it).
// The body's capacity is grown when needed for the parser's padding (no copy otherwise).
[[nodiscard]] std::optional<RequestFields> inspectRequestBody(QByteArray &body, Endpoint endpoint, QString *error);

// The body to send upstream: the client's bytes with the model replaced by `upstreamModel` and,
// when `requireUsage` is set for a stream, stream_options.include_usage forced to true. Nothing else
// changes: no field is reordered, added or removed (prompt caches depend on it), except the
// gateway's own `models` fallback list, which is cut out.
[[nodiscard]] QByteArray rewriteRequestBody(const QByteArray &body, const RequestFields &fields,
                                            const QString &upstreamModel, bool requireUsage);

// The body with every output-limit field set to `limit` and, when `thinkingBudget` is given, the
// thinking budget set to it: only those value tokens change, byte for byte the rest stays (prompt
// caches depend on it). A body without an output-limit field gets `"<addName>":limit` appended at
// the end of the top-level object.
[[nodiscard]] QByteArray rewriteOutputLimit(const QByteArray &body, const RequestFields &fields, qint64 limit,
                                            std::optional<qint64> thinkingBudget, QByteArrayView addName);

} // namespace gh
