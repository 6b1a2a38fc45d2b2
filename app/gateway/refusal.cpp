#include "gateway/refusal.h"

namespace gh {

QString refusalKind(const GatewayError &error)
{
    const QByteArray &c = error.code;
    if (c == "budget_exceeded" || c == "model_unpriced")
        return QStringLiteral("budget");
    if (c == "model_not_allowed" || c == "data_policy_refused")
        return QStringLiteral("policy");
    if (c == "secret_detected")
        return QStringLiteral("secret");
    if (c == "guardrail_paused")
        return QStringLiteral("guardrail");
    return {};
}

GatewayError dataPolicyError(const QString &modelId, const QString &why)
{
    GatewayError e = GatewayError::badRequest(
        QStringLiteral("Model '%1' is refused by a data policy (%2). Pick a model whose provider meets the key's "
                       "require_policy, or correct the provider's data_policy (Providers page or the config) if it is wrong.")
            .arg(modelId, why),
        "data_policy_refused");
    // The same request would be refused again: clients must not retry it.
    e.extraHeaders.emplaceBack("x-should-retry", "false");
    return e;
}

} // namespace gh
