#include "pricing/price.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gh {

namespace {

constexpr qint64 kMax = std::numeric_limits<qint64>::max();
constexpr qint64 kMillion = 1'000'000;
// Prices above a billion USD per million tokens are not prices but input errors.
constexpr double kMaxUsdPerMillion = 1e9;

qint64 satAdd(qint64 a, qint64 b) // a, b >= 0
{
    return a > kMax - b ? kMax : a + b;
}

qint64 satMul(qint64 a, qint64 b) // a, b >= 0
{
    if (a == 0 || b == 0)
        return 0;
    return a > kMax / b ? kMax : a * b;
}

// USD per million tokens -> nano-USD per million tokens, an exact integer for any price given with
// up to nine decimals (0.40 -> 400'000'000, where 0.40 * 1e3 per token in floating point would not
// be exact). std::nullopt for negative, non-finite or absurd prices.
std::optional<qint64> nanoPerMillion(double usdPerMillion)
{
    if (!std::isfinite(usdPerMillion) || usdPerMillion < 0 || usdPerMillion > kMaxUsdPerMillion)
        return std::nullopt;
    return qint64(std::llround(usdPerMillion * double(kNanoPerUsd)));
}

// Resolved per-token-kind prices in nano-USD per million tokens, defaults applied.
struct Resolved {
    qint64 input = 0, output = 0, cacheRead = 0, cacheWrite = 0, cacheWrite1h = 0;
};

std::optional<Resolved> resolve(const ModelPrice &price)
{
    if (!price.isPriced())
        return std::nullopt;
    const auto in = nanoPerMillion(*price.input);
    const auto out = nanoPerMillion(*price.output);
    if (!in || !out)
        return std::nullopt;
    Resolved r;
    r.input = *in;
    r.output = *out;
    auto orDefault = [](const std::optional<double> &p, qint64 fallback) -> std::optional<qint64> {
        return p ? nanoPerMillion(*p) : std::optional<qint64>(fallback);
    };
    const auto read = orDefault(price.cacheRead, r.input);
    const auto write = orDefault(price.cacheWrite, r.input);
    if (!read || !write)
        return std::nullopt;
    r.cacheRead = *read;
    r.cacheWrite = *write;
    const auto write1h = orDefault(price.cacheWrite1h, r.cacheWrite);
    if (!write1h)
        return std::nullopt;
    r.cacheWrite1h = *write1h;
    return r;
}

// Exact accumulation of sum(tokens × nanoPerMillion) / 1e6: whole nano-dollars plus a remainder in
// millionths of a nano-dollar, so only the final sum is rounded (up).
class Accumulator
{
public:
    void add(qint64 tokens, qint64 nanoPerMillion)
    {
        tokens = std::max<qint64>(tokens, 0);
        // tokens × p / 1e6 with tokens = q·1e6 + r and p = a·1e6 + b:
        //   q·p + r·a + r·b / 1e6, where r·b < 1e12 cannot overflow.
        const qint64 q = tokens / kMillion, r = tokens % kMillion;
        const qint64 a = nanoPerMillion / kMillion, b = nanoPerMillion % kMillion;
        m_whole = satAdd(m_whole, satAdd(satMul(q, nanoPerMillion), r * a));
        m_fraction += r * b;
        m_whole = satAdd(m_whole, m_fraction / kMillion);
        m_fraction %= kMillion;
    }
    [[nodiscard]] NanoUsd roundedUp() const { return satAdd(m_whole, m_fraction > 0 ? 1 : 0); }

private:
    qint64 m_whole = 0;
    qint64 m_fraction = 0; // millionths of a nano-dollar, < 1e6 between calls
};

} // namespace

bool ModelPrice::isTiered() const
{
    return !inputTiers.isEmpty() || !outputTiers.isEmpty() || !cacheReadTiers.isEmpty() || !cacheWriteTiers.isEmpty()
        || !cacheWrite1hTiers.isEmpty();
}

ModelPrice ModelPrice::atPromptTokens(qint64 promptTokens) const
{
    ModelPrice flat = *this;
    auto apply = [promptTokens](std::optional<double> &slot, QList<PriceTier> &tiers) {
        for (const PriceTier &t : std::as_const(tiers)) {
            if (promptTokens > t.above && slot)
                slot = t.usdPerMillion;
        }
        tiers.clear();
    };
    apply(flat.input, flat.inputTiers);
    apply(flat.output, flat.outputTiers);
    apply(flat.cacheRead, flat.cacheReadTiers);
    apply(flat.cacheWrite, flat.cacheWriteTiers);
    apply(flat.cacheWrite1h, flat.cacheWrite1hTiers);
    return flat;
}

std::optional<NanoUsd> costOf(const Usage &usage, const ModelPrice &price)
{
    const auto p = resolve(price.isTiered() ? price.atPromptTokens(usage.totalInput()) : price);
    if (!p)
        return std::nullopt;
    Accumulator acc;
    acc.add(usage.inputTokens, p->input);
    acc.add(usage.cacheReadTokens, p->cacheRead);
    acc.add(usage.cacheWriteTokens, p->cacheWrite);
    acc.add(usage.cacheWrite1hTokens, p->cacheWrite1h);
    acc.add(usage.outputTokens, p->output);
    return acc.roundedUp();
}

std::optional<NanoUsd> worstCaseCost(qint64 inputTokens, qint64 maxOutputTokens, const ModelPrice &price)
{
    const auto p = resolve(price.isTiered() ? price.atPromptTokens(inputTokens) : price);
    if (!p)
        return std::nullopt;
    // Cache reads never cost more than input in practice, but a reservation must not be too small
    // whatever the configuration says.
    const qint64 inputSide = std::max({p->input, p->cacheRead, p->cacheWrite, p->cacheWrite1h});
    Accumulator acc;
    acc.add(inputTokens, inputSide);
    acc.add(maxOutputTokens, p->output);
    return acc.roundedUp();
}

} // namespace gh
