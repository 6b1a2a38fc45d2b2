#pragma once
#include "core/money.h"
#include "providers/usage.h"
#include <QList>
#include <QString>
#include <optional>

namespace gh {

// A price that replaces a base price once a request's whole prompt (cached tokens included) has
// more than `above` tokens; it then applies to all of the request's tokens of that kind, as the
// vendors bill long-context requests (genai-prices' tiered prices).
struct PriceTier {
    qint64 above = 0;
    double usdPerMillion = 0;
    friend bool operator==(const PriceTier &, const PriceTier &) = default;
};

// Prices of one model in USD per million tokens. A model with no input or output price is unpriced:
// its cost is unknown, never $0.
struct ModelPrice {
    std::optional<double> input;
    std::optional<double> output;
    std::optional<double> cacheRead;    // absent: the input price (no discount known)
    std::optional<double> cacheWrite;   // absent: the input price
    std::optional<double> cacheWrite1h; // absent: cacheWrite
    // Tiers by prompt size, sorted by `above`; empty: the flat price.
    QList<PriceTier> inputTiers, outputTiers, cacheReadTiers, cacheWriteTiers, cacheWrite1hTiers;
    [[nodiscard]] bool isPriced() const { return input.has_value() && output.has_value(); }
    [[nodiscard]] bool isTiered() const;
    // The flat prices that apply to a request whose prompt has `promptTokens` tokens in all.
    [[nodiscard]] ModelPrice atPromptTokens(qint64 promptTokens) const;
    friend bool operator==(const ModelPrice &, const ModelPrice &) = default;
};

// Cost (tiers chosen by usage.totalInput()) = uncached input × input + cache read × cache_read + cache write × cache_write
//      + 1h cache write × cache_write_1h + output × output, rounded up to the next nano-dollar.
// std::nullopt when the model is unpriced.
[[nodiscard]] std::optional<NanoUsd> costOf(const Usage &usage, const ModelPrice &price);

// The worst case cost of a request before it runs, for budget reservations: every input token at the
// highest input-side price (cache writes can cost more than plain input) plus maxOutputTokens × output.
[[nodiscard]] std::optional<NanoUsd> worstCaseCost(qint64 inputTokens, qint64 maxOutputTokens, const ModelPrice &price);

} // namespace gh
