#pragma once
#include "gateway/gatewayerror.h"
#include "guardrails/guardrails.h"
#include "store/storeinterfaces.h"
#include <QJsonObject>
#include <optional>

namespace gh {

struct GatewayContext;
struct KeyEntry;
struct ModelEntry;
struct RequestRecord;

// Where the request path meets the guardrails (guardrails/guardrails.h), so that Exchange only
// calls these.

// At admission, after the body was inspected: reads the request's shape, fills *ticket and asks
// the guardrails. A GatewayError (guardrailRefusal()) when the session or key is paused.
[[nodiscard]] std::optional<GatewayError> guardrailAdmit(GatewayContext &ctx, const KeyEntry &key, const QString &headerSession,
                                                         QByteArray &body, quint64 prefixHash, const QString &requestId,
                                                         bool anthropicClient, GuardrailTicket *ticket);
// When the request is settled (its cost known), whatever its outcome.
void guardrailSettle(GatewayContext &ctx, const GuardrailTicket &ticket, const RequestRecord &record, const ModelEntry *model);

// The refusal of a paused session or key: code guardrail_paused, `x-should-retry: false`, and the
// status each client family stops on rather than retries (the same choice as "Pause all", measured
// with the real clients): 400 invalid_request_error for OpenAI-format clients (Codex CLI retries a
// 403 five times and stops at once only on 400/404), 403 permission_error for Anthropic-format ones
// (Claude Code resends a 400 with fewer messages, and sends a 403 with x-should-retry: false once).
// Never 429 or 5xx: the SDKs retry those, and the pause has no end they could wait for.
[[nodiscard]] GatewayError guardrailRefusal(const GuardrailTrip &trip, bool anthropicClient);

// A trip as the store keeps it (table guardrail_trips), and back; a row that does not name a known
// detector is read as a repetition alert (never as a pause it was not).
[[nodiscard]] GuardrailTripRow guardrailTripRow(const GuardrailTrip &trip);
[[nodiscard]] GuardrailTrip guardrailTripFromRow(const GuardrailTripRow &row);

// "guardrails" of GET /v1/key: the key's policy, whether it (or which sessions) are paused, its trips.
[[nodiscard]] QJsonObject guardrailKeyJson(const GatewayContext &ctx, const KeyEntry &key);

} // namespace gh
