#include "budget/reservation.h"

#include <limits>

namespace gh {

namespace {

qint64 addSat(qint64 a, qint64 b)
{
    constexpr qint64 hi = std::numeric_limits<qint64>::max();
    return a > hi - b ? hi : a + b;
}

} // namespace

qint64 imageTokenMaximum(ProviderFormat format, const QString &upstreamModel)
{
    switch (format) {
    case ProviderFormat::Anthropic:
        return kAnthropicImageTokens;
    case ProviderFormat::Gemini:
        return kGeminiImageTokens;
    case ProviderFormat::OpenAI:
        break;
    }
    // gpt-4o-mini bills images at 33x the tokens of gpt-4o (same dollars, a lower token price).
    return upstreamModel.contains(QLatin1String("4o-mini"), Qt::CaseInsensitive) ? kOpenAIMiniImageTokens : kOpenAIImageTokens;
}

qint64 inputTokenBound(const InputBoundParts &parts, ProviderFormat format, const QString &upstreamModel)
{
    qint64 tokens = addSat(qMax<qint64>(0, parts.bodyBytes), kRequestOverheadTokens);
    if (parts.images > 0)
        tokens = addSat(tokens, qint64(parts.images) * imageTokenMaximum(format, upstreamModel));
    if (parts.tools)
        tokens = addSat(tokens, kToolsOverheadTokens);
    return tokens;
}

qint64 outputTokensThatFit(NanoUsd remaining, qint64 inputTokens, qint64 ceiling, const ModelPrice &price)
{
    const auto fits = [&](qint64 n) {
        const auto cost = worstCaseCost(inputTokens, n, price);
        return cost && *cost <= remaining;
    };
    if (remaining < 0 || !fits(0))
        return -1;
    if (ceiling <= 0 || fits(ceiling))
        return qMax<qint64>(0, ceiling);
    // worstCaseCost grows with n: the largest n that fits, by bisection (at most ~63 steps).
    qint64 lo = 0;       // fits
    qint64 hi = ceiling; // does not fit
    while (hi - lo > 1) {
        const qint64 mid = lo + (hi - lo) / 2;
        if (fits(mid))
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

} // namespace gh
