// Anthropic event stream -> OpenAI chunks: the client always gets a well-formed stream ending in [DONE].
#include "fuzzcommon.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietLogs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::bytes(data, size);
    auto t = gh::anthropicToOpenAIStream(QStringLiteral("client-model"), size % 2 == 0);
    const QByteArray out = fuzz::feedStream(*t, input);
    QString why;
    fuzz::check(streamcheck::checkOpenAI(out, &why), "well-formed OpenAI stream", why, out);
    return 0;
}
