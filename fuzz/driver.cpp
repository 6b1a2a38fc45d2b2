// The libFuzzer entry points of every target: logs off, then the target's fuzz::one().
#include "fuzzcommon.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    qputenv("QT_LOGGING_RULES", "gatehouse.*=false");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz::one(QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)));
    return 0;
}
