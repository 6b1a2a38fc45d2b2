#pragma once
#include "providers/usage.h"
#include <memory>
#include <optional>
#include <QByteArray>
#include <QByteArrayView>
#include <QString>

// What every format's translators share: the refusal type, the stream translator interface and its
// chaining, the OpenAI error type of a status. The translators themselves live with their adapter
// (formats/<format>/*translate.h); OpenAI chat completions is the internal form they translate to
// and from. Pure functions and stream state machines: no I/O, no gateway state.
//
// Passthrough content whose key order matters to the model (tool parameter schemas, JSON schemas,
// tool-call arguments) is copied in its original key order; the envelope around it is rebuilt.
// A request feature the target cannot express is refused (TranslateError naming it), never dropped.
//
// Two conventions keep multi-turn state that OpenAI's format has no field for:
// - Anthropic thinking blocks come back in an OpenAI message as `reasoning_content` (text) plus
//   `thinking_blocks` [{type, thinking, signature} | {type: redacted_thinking, data}]; a client that
//   sends the message back gets the signed blocks restored for Anthropic (needed with tool use).
// - Gemini's thought signature on a function call travels as
//   tool_calls[].extra_content.google.thought_signature, as Google's OpenAI-compatible endpoint does.
namespace gh {

// Why a request cannot be translated: the gateway answers 400 naming `feature`.
struct TranslateError {
    QString feature; // the request field or feature, e.g. "n", "logprobs", "messages[2].content[0].input_audio"
    QString message; // a sentence for people
};

// The forced tool that carries OpenAI's response_format (json_object / json_schema) on Anthropic.
// Its tool_use input is turned back into the message content (JSON text) in responses and streams.
inline constexpr char kResponseFormatToolName[] = "gatehouse_json_response";

// The OpenAI error type the gateway uses for a status (invalid_request_error, authentication_error, ...).
[[nodiscard]] QByteArray openAIErrorType(int status);

// ---- Streams -----------------------------------------------------------------------------------
// Stateful translators fed one upstream SSE event at a time (eventName may be empty; data is the
// event's data lines joined), returning the client-format SSE bytes to send (possibly empty).
class StreamTranslator
{
public:
    virtual ~StreamTranslator() = default;
    virtual QByteArray feed(QByteArrayView eventName, QByteArrayView data) = 0;
    // The upstream ended cleanly: close the client stream properly (empty when already closed).
    virtual QByteArray finish() = 0;
    // The upstream broke: an error event in the client's format and the end of its stream.
    virtual QByteArray fail(int status, const QString &message) = 0;
    // An error arrived inside the (200) upstream stream; it was passed on to the client.
    [[nodiscard]] virtual bool sawError() const = 0;
    [[nodiscard]] virtual QString errorMessage() const = 0;
    // The client stream has been closed ([DONE] / message_stop / error event sent).
    [[nodiscard]] virtual bool ended() const = 0;
    // The upstream's usage as reported so far, normalized (reported=false when none was seen).
    [[nodiscard]] virtual Usage usage() const = 0;
};

// `first`'s output fed event by event into `second` (e.g. Gemini -> OpenAI -> Anthropic: create the
// first with includeUsage = true so the second sees usage). usage() is the first's (the upstream's).
[[nodiscard]] std::unique_ptr<StreamTranslator> chainStreams(
    std::unique_ptr<StreamTranslator> first, std::unique_ptr<StreamTranslator> second);

} // namespace gh
