#pragma once
#include "gateway/gatewayerror.h"
#include <QString>

namespace gh {

// A request Gatehouse itself refused before forwarding it, by kind (RequestRecord::refusal, the
// requests.refusal column; Activity filters on it and the Dashboard counts it):
//   "budget"    a spending limit, or an unpriced model on a key with limits;
//   "policy"    the key's allow_models or its require_policy (data policies);
//   "secret"    a secret in the prompt of a key with secret_scan "block";
//   "guardrail" a guardrail paused the key or the session.
// Empty for any other error (a bad request, a provider's failure, a rate limit, a pause by hand).
// The reason is the row's error message, which never holds a secret.
[[nodiscard]] QString refusalKind(const GatewayError &error);

// The refusal of a request whose model does not meet the key's require_policy: 400
// data_policy_refused naming the model and the rule `why` (routing/datapolicycheck.h), not retried.
[[nodiscard]] GatewayError dataPolicyError(const QString &modelId, const QString &why);

} // namespace gh
