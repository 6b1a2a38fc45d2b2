#pragma once
#include "config/datapolicy.h"
#include "routing/registry.h"

namespace gh {

// The data policy a target works under: the model's own "data_policy" over its provider's, over
// the provider's published terms (resources/data-policies.json, by catalog vendor; a local server's
// are "local"). Fields no layer states are unknown.
[[nodiscard]] DataPolicy effectiveDataPolicy(const ModelEntry &model);
[[nodiscard]] DataPolicy effectiveDataPolicy(const ProviderConfig &provider);
// The published terms a provider's policy starts from (nullptr: none known, every field unknown).
[[nodiscard]] const PublishedPolicy *publishedPolicyFor(const ProviderConfig &provider);

// Why `key` may not send to `model` under its require_policy, naming the rule:
// "data policy: key 'eu-only' requires region eu; region is unknown". Empty when it may.
[[nodiscard]] QString dataPolicyRefusal(const ModelEntry &model, const KeyEntry &key);
// Whether a skip reason is one of dataPolicyRefusal()'s.
[[nodiscard]] bool isDataPolicyReason(const QString &reason);

} // namespace gh
