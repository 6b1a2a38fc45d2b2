#include "gateway/settlement.h"

namespace gh {

Settlement settle(const SettlementInput &in)
{
    Settlement out;
    out.usage = (!in.charge && !in.usage.reported) ? Usage{} : in.usage;
    if (in.hasModel && in.price.isPriced())
        out.cost = costOf(out.usage, in.price);
    else if (in.hasModel)
        out.cost = std::nullopt; // unpriced: unknown, never $0
    else
        out.cost = NanoUsd(0);
    if (out.usage.estimated && in.reserved && out.cost && *out.cost > *in.reserved)
        out.cost = *in.reserved;
    out.tokens = out.usage.inputTokens + out.usage.cacheReadTokens + out.usage.cacheWriteTokens
        + out.usage.cacheWrite1hTokens + out.usage.outputTokens;
    return out;
}

Usage estimatedUsage(qint64 estimatedInputTokens, qint64 outputBytes, qint64 outputLimit)
{
    Usage u;
    u.inputTokens = estimatedInputTokens;
    u.outputTokens = estimateTokens(outputBytes);
    if (outputLimit >= 0)
        u.outputTokens = qMin(u.outputTokens, outputLimit);
    u.estimated = true;
    return u;
}

} // namespace gh
