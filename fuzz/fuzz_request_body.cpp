// The gateway's request-body reader and in-place rewrite: an accepted body, rewritten, is still one
// valid JSON document whose model is the upstream's.
#include "formats/openai_chat/openaistream.h"
#include "fuzzcommon.h"
#include "gateway/requestbody.h"

void fuzz::one(const QByteArray &input)
{
    if (input.isEmpty())
        return;
    const auto endpoint = static_cast<gh::Endpoint>(uint8_t(input.at(0)) % 4);
    QByteArray body = input.mid(1);
    QString error;
    const auto fields = gh::inspectRequestBody(body, endpoint, &error);
    if (!fields) {
        fuzz::check(!error.isEmpty(), "a rejected body is explained");
        return;
    }
    for (const bool requireUsage : {false, true}) {
        QByteArray out = gh::rewriteRequestBody(body, *fields, QStringLiteral("upstream-model"), requireUsage);
        fuzz::check(gh::isValidJson(out), "the rewritten body is valid JSON", {}, out);
        QString again;
        const auto reread = gh::inspectRequestBody(out, endpoint, &again);
        fuzz::check(reread.has_value(), "the rewritten body is accepted again", again, out);
        fuzz::check(reread->model == QLatin1String("upstream-model"), "the rewritten body names the upstream model",
            reread->model, out);
        if (requireUsage && fields->stream)
            fuzz::check(reread->clientWantsUsage, "include_usage is set when required", {}, out);
    }
}
