#pragma once
#include "formats/common/translate.h"
#include <QByteArray>
#include <QString>
#include <memory>
#include <optional>

// OpenAI's Responses API as a client's format, for providers that do not speak it: its requests into
// the internal form (OpenAI chat) and the internal responses and streams back into Responses objects
// and events. Pure functions and a stream state machine, like translate/.
namespace gh {

// POST /v1/responses body -> chat completions. instructions and system/developer messages become
// system messages; input items (messages with text and images, function_call and
// function_call_output paired by call_id) become the conversation; function tools (also inside a
// `namespace`), tool_choice, text.format, reasoning.effort and max_output_tokens their chat
// counterparts. Reasoning items are OpenAI's own encrypted state and are not carried; OpenAI's hosted
// tools (web_search, file_search, ...) are not offered to a model that cannot run them.
// previous_response_id is refused: only OpenAI keeps the conversation it names (send the whole
// conversation with store: false instead).
[[nodiscard]] std::optional<QByteArray> responsesToOpenAIChat(
    const QByteArray &body, const QString &upstreamModel, TranslateError *err);

// chat.completion -> a Responses `response` object (output items, usage, status).
[[nodiscard]] QByteArray openAIResponseToResponses(const QByteArray &body, const QString &clientModel);

// OpenAI chunks (with the usage chunk) -> the Responses event sequence: response.created,
// response.in_progress, output items opened and closed (response.output_item.added,
// response.content_part.added, response.output_text.delta ... .done, function calls with
// response.function_call_arguments.delta / .done), then response.completed (or .incomplete) with
// the usage; an error ends it with response.failed.
[[nodiscard]] std::unique_ptr<StreamTranslator> openAIToResponsesStream(const QString &clientModel);

// An error event of a Responses stream ({"type":"error","code","message","param"}).
[[nodiscard]] QByteArray responsesErrorEvent(const QByteArray &code, const QString &message);

} // namespace gh
