#include "platform/filelimit.h"
#include <QtGlobal>
#include <limits>
#ifndef Q_OS_WIN
#include <sys/resource.h>
#endif
#ifdef Q_OS_MACOS
#include <sys/syslimits.h> // OPEN_MAX
#endif

namespace gh {

#ifndef Q_OS_WIN
static int clampToInt(rlim_t v)
{
    return v == RLIM_INFINITY || v > rlim_t(std::numeric_limits<int>::max()) ? std::numeric_limits<int>::max() : int(v);
}
#endif

int openFileLimit()
{
#ifdef Q_OS_WIN
    return -1;
#else
    struct rlimit rl {};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    return clampToInt(rl.rlim_cur);
#endif
}

int raiseOpenFileLimit()
{
#ifdef Q_OS_WIN
    return -1;
#else
    struct rlimit rl {};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t target = rl.rlim_max;
#ifdef Q_OS_MACOS
    // macOS refuses a soft limit above OPEN_MAX even when the hard limit is "unlimited".
    if (target == RLIM_INFINITY || target > rlim_t(OPEN_MAX))
        target = rlim_t(OPEN_MAX);
#endif
    if (target > rl.rlim_cur) {
        struct rlimit raised = rl;
        raised.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = target;
    }
    return clampToInt(rl.rlim_cur);
#endif
}

} // namespace gh
