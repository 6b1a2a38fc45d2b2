#pragma once
#include "core/money.h"
#include "providers/usage.h"
#include <QString>
#include <optional>

namespace gh {

// One row of the request log. Prompt and response bodies are never part of it.
struct RequestRecord {
    QString id;                 // "req_…", also sent to the client as x-gatehouse-request-id
    qint64 startedAtMs = 0;     // ms since the epoch (UTC) when the request arrived
    qint64 keyId = 0;           // 0: no key (refused before authentication)
    QString keyName;
    QString endpoint;           // "/v1/chat/completions"
    QString requestedModel;     // what the client asked for
    QString provider;           // provider id that served (or was tried last); empty if none
    QString upstreamModel;
    int status = 0;             // HTTP status sent to the client (499: client went away)
    QString error;              // empty on success; a short message otherwise (never a secret)
    qint64 latencyMs = 0;       // arrival to last byte
    qint64 ttftMs = -1;         // arrival to first upstream body byte; -1 when not streamed/none
    Usage usage;
    std::optional<NanoUsd> cost; // std::nullopt: unpriced
    bool stream = false;
    int attempts = 0;           // upstream attempts made
    friend bool operator==(const RequestRecord &, const RequestRecord &) = default;
};

} // namespace gh
