#pragma once
#include "core/money.h"
#include "providers/usage.h"
#include <QList>
#include <QString>
#include <optional>

namespace gh {

// One upstream attempt of a request, or a target the router skipped (and why).
struct AttemptRecord {
    enum class Outcome { Ok, Failed, Skipped };
    int index = 0;              // 1-based order within the request (skips included)
    QString modelId;            // "openai/gpt-4.1": the target
    QString provider;
    Outcome outcome = Outcome::Failed;
    int status = 0;             // the provider's HTTP status; 0 when none (connection error, skip)
    QString error;              // why it failed or was skipped; empty when Ok
    qint64 startedAtMs = 0;     // ms since the epoch
    qint64 latencyMs = 0;       // start of the attempt to its outcome (0 for skips)
    friend bool operator==(const AttemptRecord &, const AttemptRecord &) = default;
};
[[nodiscard]] const char *outcomeName(AttemptRecord::Outcome o); // "ok", "failed", "skipped"

// One row of the request log. Prompt and response bodies are never part of it.
struct RequestRecord {
    QString id;                 // "req_…", also sent to the client as x-gatehouse-request-id
    qint64 startedAtMs = 0;     // ms since the epoch (UTC) when the request arrived
    qint64 keyId = 0;           // 0: no key (refused before authentication)
    QString keyName;
    QString endpoint;           // "/v1/chat/completions"
    QString requestedModel;     // what the client asked for
    QString route;              // the route alias when the requested model was one; empty otherwise
    QString modelId;            // the model id (target) that served, or was tried last; empty if none
    QString provider;           // provider id that served (or was tried last); empty if none
    QString upstreamModel;
    QString sessionId;          // the client's session (Claude Code's x-claude-code-session-id); empty if none
    int status = 0;             // HTTP status sent to the client (499: client went away)
    QString error;              // empty on success; a short message otherwise (never a secret)
    qint64 latencyMs = 0;       // arrival to last byte
    qint64 ttftMs = -1;         // arrival to the stream's first generated content (text, reasoning, tool call); -1 when not streamed/none
    Usage usage;
    std::optional<NanoUsd> cost; // std::nullopt: unpriced
    bool stream = false;
    int attempts = 0;           // upstream attempts made (skips not counted)
    QList<AttemptRecord> attemptLog;
    // Hashes of the prompt's 1 KiB blocks (RequestFields::promptBlocks) and where its system part and
    // tools end; the store keeps them for the latest requests of each key (prompt_prefixes table).
    QList<quint64> promptBlocks;
    qint64 promptSystemBytes = 0;
    qint64 promptToolsBytes = 0; // every attempt and skip, in order; stored in the attempts table
    // A pending row (table pending_requests), written before a stream's first byte reaches the client:
    // the request's reservation, charged by the recovery pass at the next start if the process dies
    // before the final row (same id) is written. The final row deletes it.
    bool pending = false;
    bool settlesPending = false;  // a final row whose pending row was written
    NanoUsd reserved = 0;         // pending rows: the reservation (what recovery charges); -1: unpriced model
    bool recovered = false;       // written by the recovery pass: charged at its reservation
    // By how much the settled cost exceeded the request's reservation (BudgetLedger::settle); 0 when
    // it did not. The reservation is an upper bound of what the provider can bill: the target is 0.
    NanoUsd overshoot = 0;
    // The response cache's verdict (cache/responsecache.h): "" when no response_cache policy applied,
    // "hit" (answered from the cache, charged $0), "miss" (forwarded, and stored when cacheable) or
    // "bypass" (a policy applied but the request was not cacheable: no-store, sampled, no bodies).
    QString cacheStatus;
    NanoUsd cacheSaved = 0;       // a hit: what the answer cost when it was bought (0 when unpriced)
    // The secrets the scanner found in the prompt (secretscan/): "rule-id@offset+length" joined by
    // ',', byte offsets in the body as the client sent it. Never the secret's bytes.
    QString secretFindings;
    // Why Gatehouse refused the request before forwarding it: "budget", "policy", "secret" or
    // "guardrail" (gateway/refusal.h); empty when it did not. The reason is `error`.
    QString refusal;
    // The caller's W3C trace context (`traceparent: 00-<trace-id>-<parent-id>-<flags>`), validated,
    // as lower-case hex; empty without one. Not stored in the log: the OTLP export makes the
    // request's span a child of the caller's (telemetry/otlpexporter.h).
    QByteArray traceId;      // 32 hex digits
    QByteArray parentSpanId; // 16 hex digits
    // The Gatehouse instance that served the request (Store::setInstanceId(): one per data folder),
    // so that instances sharing a team database tell their rows apart. Empty when appended: the store
    // stamps its own.
    QString instanceId;
    friend bool operator==(const RequestRecord &, const RequestRecord &) = default;
};

} // namespace gh
