// OpenAI chunks -> Anthropic events: message_start ... message_stop (or an error event), always well formed.
#include "fuzzcommon.h"

void fuzz::one(const QByteArray &input)
{
    auto t = gh::openAIToAnthropicStream(QStringLiteral("client-model"));
    const QByteArray out = fuzz::feedStream(*t, input);
    QString why;
    fuzz::check(streamcheck::checkAnthropic(out, &why), "well-formed Anthropic stream", why, out);
}
