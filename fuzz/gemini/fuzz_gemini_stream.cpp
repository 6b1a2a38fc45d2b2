// Gemini streamGenerateContent chunks -> OpenAI chunks, and on through OpenAI -> Anthropic (the
// composition used for Anthropic clients of a Gemini model).
#include "fuzzcommon.h"

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    QString why;
    auto t = gh::geminiToOpenAIStream(QStringLiteral("client-model"), size % 2 == 0);
    const QByteArray out = fuzz::feedStream(*t, input);
    fuzz::check(streamcheck::checkOpenAI(out, &why), "well-formed OpenAI stream", why, out);

    auto chain = gh::chainStreams(gh::geminiToOpenAIStream(QStringLiteral("x"), true),
        gh::openAIToAnthropicStream(QStringLiteral("client-model")));
    const QByteArray anthropic = fuzz::feedStream(*chain, input);
    fuzz::check(
        streamcheck::checkAnthropic(anthropic, &why), "well-formed Anthropic stream through the chain", why, anthropic);
}
