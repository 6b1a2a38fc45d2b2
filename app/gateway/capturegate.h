#pragma once
#include <QByteArray>

namespace gh {

class ClientConnection;
struct GatewayContext;
struct KeyEntry;
struct RequestRecord;

// Where the request path meets body capture (capture/bodycapture.h, docs/capture.md), so that
// Exchange only calls these two.
// Once the key is known: when it captures, the connection starts keeping the response's bytes.
void captureBegin(const GatewayContext &ctx, const KeyEntry &key, ClientConnection *conn);
// When the exchange is answered (or the client went away): the request body (as forwarded, a
// redacting key's redactions made) and what the client received go to the capture writer, which
// redacts, compresses and writes them on its own thread. Nothing when the key does not capture.
void captureEnd(GatewayContext &ctx, const KeyEntry *key, const RequestRecord &record, const QByteArray &requestBody,
    ClientConnection *conn);

} // namespace gh
