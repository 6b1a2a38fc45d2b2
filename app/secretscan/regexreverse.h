#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace gh {

// The regex (RE2 syntax) that matches the reversed strings of `pattern`'s matches: sequences are
// read backwards, ^ and $ (and \A and \z) trade places, capture groups become non-capturing,
// classes, escapes, quantifiers and flag groups are kept. Word boundaries are symmetric.
// With RE2's longest_match and ANCHOR_START on the reversed text, it finds the leftmost start of a
// match that ends at a given offset, which a forward regex cannot do without scanning from afar.
// nullopt for what it does not handle (\Q...\E, back references, lookarounds, unbalanced
// parentheses): the caller then does without.
[[nodiscard]] std::optional<std::string> reverseRegex(std::string_view pattern);

} // namespace gh
