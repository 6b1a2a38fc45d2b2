#pragma once
#include <QByteArray>
#include <QString>
#include <optional>

namespace gh {

struct GatewayContext;
struct KeyEntry;
class RegistrySnapshot;

// The control endpoints: Gatehouse's own answers, never forwarded to a provider, never billed or
// logged. The proxy path (Exchange) only authenticates and sends what these build; a new control
// endpoint (e.g. metrics) is a route in gateway/routes.cpp and a body builder here.

// GET /healthz: status, version, requests in flight (not counting the one asking), paused.
[[nodiscard]] QByteArray healthBody(const GatewayContext &ctx);
// GET|HEAD /: something is here (tools probe their base URL). No key needed.
[[nodiscard]] QByteArray rootBody();
// GET /v1/models: the models, routes, aliases and families the key may use, with price and health.
[[nodiscard]] QByteArray modelsBody(const GatewayContext &ctx, const RegistrySnapshot &registry, const KeyEntry &key);
// GET /v1beta/models: the same models and routes in Google's ListModelsResponse shape.
[[nodiscard]] QByteArray geminiModelsBody(const RegistrySnapshot &registry, const KeyEntry &key);
// GET /v1/key: the key's limits, spend, overshoots and guardrail state.
[[nodiscard]] QByteArray keyInfoBody(GatewayContext &ctx, const KeyEntry &key);
// POST /v1/key/resume: lifts the key's guardrail pauses ({} or {"session": id}); nullopt with
// *error for a body of another shape.
[[nodiscard]] std::optional<QByteArray> keyResumeBody(GatewayContext &ctx, const KeyEntry &key, const QByteArray &body, QString *error);

} // namespace gh
