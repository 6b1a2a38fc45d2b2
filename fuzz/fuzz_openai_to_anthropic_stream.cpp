// OpenAI chunks -> Anthropic events: message_start ... message_stop (or an error event), always well formed.
#include "fuzzcommon.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    fuzz::quietLogs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::bytes(data, size);
    auto t = gh::openAIToAnthropicStream(QStringLiteral("client-model"));
    const QByteArray out = fuzz::feedStream(*t, input);
    QString why;
    fuzz::check(streamcheck::checkAnthropic(out, &why), "well-formed Anthropic stream", why, out);
    return 0;
}
