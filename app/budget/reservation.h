#pragma once
#include "config/config.h"
#include "core/money.h"
#include "pricing/price.h"
#include <QString>

namespace gh {

// The budget reservation as an upper bound of what a provider can bill for one request.
//
// Input: every UTF-8 byte of the body counts as one token (tokenizers emit at least one byte per
// token, so no text bills more tokens than it has bytes; the JSON envelope of each message is longer
// than the few tokens of per-message overhead providers add), plus
//   - each image part at the provider's published per-image maximum (an image sent by URL is a few
//     bytes in the body but a full image upstream),
//   - the hidden system prompt a provider adds when tools are present,
//   - a per-request overhead (reply priming, role markers of the turn the model writes).
// Output: the request's output limit (or the clamp), never an estimate.
struct InputBoundParts {
    qint64 bodyBytes = 0;   // the larger of the client's body and the body sent upstream
    int images = 0;         // image parts in the messages
    bool tools = false;     // a non-empty tools array
};

// Per-image maxima, in tokens, as each provider documents them:
//  - Anthropic: about width × height / 750 after the API downsizes an image to at most about
//    1.15 megapixels (1568 px on the long edge): at most about 1,600 tokens.
//  - OpenAI: tile models bill 85 + 170 per 512 px tile after scaling into 2048 × 2048 and the short
//    side to 768 px: at most 8 tiles, 1,445 tokens (gpt-5 and o-series use smaller figures); patch
//    models (gpt-4.1-mini/nano, o4-mini) cap at 1,536 patches × a multiplier of at most 2.46:
//    3,779 tokens. gpt-4o-mini bills 2,833 + 5,667 per tile: 48,169 tokens at 8 tiles.
//  - Gemini: 258 tokens per 768 × 768 tile; an image's tiles are not capped in the documentation
//    we could check, so 4,096 tokens (about 16 tiles) is a conservative figure, not a documented one.
inline constexpr qint64 kAnthropicImageTokens = 1'600;
inline constexpr qint64 kOpenAIImageTokens = 3'779;
inline constexpr qint64 kOpenAIMiniImageTokens = 48'169;
inline constexpr qint64 kGeminiImageTokens = 4'096;
// Anthropic documents the system prompt it adds for tool use (346 tokens with tool_choice auto or
// none on Claude 4 models) plus up to 735 for the computer-use tool, 700 for the text editor and
// 245 for bash: 2,048 covers all of them together. OpenAI and Gemini do not publish the figure; the
// tools' JSON is in the body already, so the same 2,048 is a margin for their framing.
inline constexpr qint64 kToolsOverheadTokens = 2'048;
// OpenAI's documented chat framing: 3 tokens per message plus 3 priming the reply; the message's
// own JSON bytes cover the former, this covers the latter and the role markers of the answer.
inline constexpr qint64 kRequestOverheadTokens = 16;

[[nodiscard]] qint64 imageTokenMaximum(ProviderFormat format, const QString &upstreamModel);
[[nodiscard]] qint64 inputTokenBound(const InputBoundParts &parts, ProviderFormat format, const QString &upstreamModel);

// The largest output limit n such that worstCaseCost(inputTokens, n, price) <= remaining, at most
// `ceiling`; -1 when even the input alone does not fit (or the model is unpriced).
[[nodiscard]] qint64 outputTokensThatFit(NanoUsd remaining, qint64 inputTokens, qint64 ceiling, const ModelPrice &price);

} // namespace gh
