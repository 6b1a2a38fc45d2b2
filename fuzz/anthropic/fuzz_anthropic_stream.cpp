// Anthropic event stream -> OpenAI chunks: the client always gets a well-formed stream ending in [DONE].
#include "fuzzcommon.h"

void fuzz::one(const QByteArray &input)
{
    const auto size = size_t(input.size());
    auto t = gh::anthropicToOpenAIStream(QStringLiteral("client-model"), size % 2 == 0);
    const QByteArray out = fuzz::feedStream(*t, input);
    QString why;
    fuzz::check(streamcheck::checkOpenAI(out, &why), "well-formed OpenAI stream", why, out);
}
