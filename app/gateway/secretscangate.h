#pragma once
#include "gateway/gatewayerror.h"
#include <QByteArray>
#include <optional>

namespace gh {

struct KeyEntry;
struct RequestRecord;

// Where the request path meets the secret scanner (secretscan/), so that Exchange only calls this.
// At admission, before the body is read for routing: scans the body as the client sent it
// (messages, tool results, the system prompt, tool definitions: the whole JSON text) unless the
// key's secret_scan is off, and puts what it found on record->secretFindings (rule and position,
// never the secret). A body this worker scanned before is answered from the scan's memo
// (secretscan/scanmemo.h): the same findings. Then, by the key's mode:
//  - warn: nothing else (the log row says what was found);
//  - redact: each secret in *body is replaced by [REDACTED:<rule-id>#n];
//  - block: a GatewayError naming the rule and where it is, in the client's format.
// A redaction that cannot be made without breaking the JSON (a match across a string boundary)
// refuses the request as block does: the secret is never sent because it could not be removed.
[[nodiscard]] std::optional<GatewayError> secretScanAdmit(const KeyEntry &key, QByteArray *body, RequestRecord *record);

} // namespace gh
