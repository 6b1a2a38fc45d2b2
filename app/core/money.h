#pragma once
#include <QtGlobal>
#include <cmath>

namespace gh {

// Money is counted in integer nano-dollars (1e-9 USD) so sums over millions of requests are exact
// and budget comparisons never suffer from floating-point drift. int64 holds ±9.2 billion USD.
using NanoUsd = qint64;
inline constexpr NanoUsd kNanoPerUsd = 1'000'000'000;

[[nodiscard]] inline double toUsd(NanoUsd v) { return double(v) / double(kNanoPerUsd); }
[[nodiscard]] inline NanoUsd fromUsd(double usd) { return NanoUsd(std::llround(usd * double(kNanoPerUsd))); }

} // namespace gh
