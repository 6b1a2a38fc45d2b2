#include "gateway/capturegate.h"
#include "capture/bodycapture.h"
#include "gateway/clientconnection.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include "store/requestrecord.h"

namespace gh {

void captureBegin(const GatewayContext &ctx, const KeyEntry &key, ClientConnection *conn)
{
    if (ctx.capture && conn && key.captureDays > 0 && key.storeBodies)
        conn->tapResponse(BodyCapture::kMaxBodyBytes);
}

void captureEnd(GatewayContext &ctx, const KeyEntry *key, const RequestRecord &record, const QByteArray &requestBody,
    ClientConnection *conn)
{
    if (!conn || !conn->tapping())
        return;
    CapturedExchange e;
    bool cut = false;
    e.response = conn->takeTap(&e.responseType, &cut);
    e.responseCut = cut;
    if (!ctx.capture || !key || key->captureDays <= 0 || !key->storeBodies || record.id.isEmpty())
        return;
    e.requestId = record.id;
    e.keyId = key->id;
    e.keyName = key->name;
    e.startedAtMs = record.startedAtMs;
    e.retentionDays = key->captureDays;
    e.request = requestBody; // implicitly shared: no copy here
    ctx.capture->submit(std::move(e));
}

} // namespace gh
