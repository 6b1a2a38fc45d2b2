#pragma once
#include "providers/usage.h"
#include <QByteArray>
#include <QString>

namespace gh {

// What the side parser learns from one OpenAI-format stream event's data (the JSON after `data:`).
struct OpenAIEventInfo {
    bool done = false;          // data: [DONE]
    bool hasUsage = false;      // a non-null usage object (usage is filled)
    bool usageOnly = false;     // the include_usage chunk: usage with an empty choices array
    bool error = false;         // an error object inside the 200 stream
    QString errorMessage;
    qint64 outputBytes = 0;     // generated text bytes (content, reasoning, tool arguments)
    // Generated output: text, reasoning/thinking, a refusal or a tool call (its name or arguments).
    // Not a role-only delta, message_start, a ping or an empty delta. The first such event of a
    // stream is its first token (the request's time to first token).
    bool content = false;
    bool malformed = false;     // not JSON
};

// Reads an event of a chat/completions, completions or responses stream.
[[nodiscard]] OpenAIEventInfo inspectOpenAIEvent(QByteArrayView data, Usage *usage);

// Reads the usage of a complete (non-streaming) OpenAI-format response body. Returns false when
// the body is not JSON or carries no usage. *outputBytes receives the generated text size.
[[nodiscard]] bool usageFromOpenAIResponse(QByteArrayView body, Usage *usage, qint64 *outputBytes = nullptr);

// Whether the body is one complete, valid JSON document (a full parse: for the rare bodies whose
// usage could not be read).
[[nodiscard]] bool isValidJson(QByteArrayView body);

// The provider's own error message from an OpenAI-style error body, or a short excerpt of the body.
[[nodiscard]] QString upstreamErrorMessage(QByteArrayView body);

} // namespace gh
