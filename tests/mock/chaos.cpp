#include "chaos.h"

#include <algorithm>
#include <array>

namespace gh::mock {

namespace {

// SplitMix64: a small, well-mixed, platform-independent hash.
quint64 mix(quint64 x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A uniform double in [0, 1).
double unit(quint64 bits)
{
    return static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
}

} // namespace

ChaosDraw chaosDraw(quint64 seed, quint64 index, double fail, bool stream)
{
    static const std::array<const char *, 9> faults{"fail-500", "fail-502", "fail-503", "fail-504", "fail-529",
        "fail-429", "fail-408", "reset-before", "error-in-stream"};
    const quint64 base = mix(seed ^ mix(index));
    const double p = std::clamp(fail, 0.0, 1.0);
    ChaosDraw draw;
    if (!(unit(mix(base + 1)) < p)) {
        draw.behaviour = "ok";
        return draw;
    }
    const quint64 count = stream ? faults.size() : faults.size() - 1;
    draw.behaviour = faults[mix(base + 2) % count];
    if (draw.behaviour == "fail-429")
        draw.retryAfter = 0;
    return draw;
}

} // namespace gh::mock
