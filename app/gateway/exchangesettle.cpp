// Exchange, the settlement stage: the cost (settlement.h), the reservation settled or released, the
// rate limiters adjusted, the row logged.
#include "gateway/exchange.h"
#include "gateway/exchangeshared.h"
#include "budget/reservation.h"
#include "core/keyhash.h"
#include "core/logging.h"
#include "gateway/clientconnection.h"
#include "gateway/admission.h"
#include "gateway/controlendpoints.h"
#include "gateway/gatewaycontext.h"
#include "formats/gemini/geminiinbound.h"
#include "formats/openai_chat/openaistream.h"
#include "gateway/secretscangate.h" // [secretscan]
#include "gateway/settlement.h"
#include "pricing/price.h"
#include "routing/retrypolicy.h"
#include "store/requestjournal.h"
#include "store/store.h"
#include "telemetry/telemetry.h"
#include "version.h"
#include <QDateTime>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QUrl>

namespace gh {

using namespace exchangedetail;

void Exchange::estimateMissingUsage()
{
    if (!m_record.usage.reported)
        m_record.usage = estimatedUsage(m_estimatedInput, m_outputBytes, m_outputLimit);
}

void Exchange::finishSuccess()
{
    finalize(m_upstreamStatus, QString(), true);
    auto h = baseHeaders();
    const QByteArray contentType = (m_upstreamContentType.isEmpty() || m_translate) ? QByteArray("application/json") : m_upstreamContentType;
    h.emplaceBack("content-type", contentType);
    h.emplaceBack("x-gatehouse-cost-usd", m_record.cost ? QByteArray::number(toUsd(*m_record.cost), 'f', 9) : QByteArray("unpriced"));
    if (m_record.usage.estimated)
        h.emplaceBack("x-gatehouse-usage", "estimated");
    const QByteArray upstreamId = upstreamRequestId();
    if (!upstreamId.isEmpty())
        h.emplaceBack("x-upstream-request-id", upstreamId);
    const QByteArray body = m_translate ? translateResponse(m_upstreamBody) : m_upstreamBody;
    if (!m_clamp) // [response cache] fill: a whole 2xx answer, stored before the client has it
        responseCacheFill(m_ctx->responseCache, &m_cache, false, contentType, body, m_record);
    m_conn->sendResponse(m_upstreamStatus, h, body);
    done();
}

void Exchange::finalize(int status, const QString &error, bool charge)
{
    if (m_finished)
        return;
    m_finished = true;
    GatewayContext *ctx = m_ctx;
    if (m_retryTimer)
        m_retryTimer->stop();
    if (m_attemptOpen) {
        const bool ok = status >= 200 && status < 400;
        closeAttempt(ok ? AttemptRecord::Outcome::Ok : AttemptRecord::Outcome::Failed, m_upstreamStatus, ok ? QString() : error);
        if (ok)
            recordSuccessHealth();
        else if (status >= 500 && m_model)
            ctx->health.recordFailure(m_model->config.id, QDateTime::currentMSecsSinceEpoch(), error);
    }
    if (m_noLog) {
        if (m_reservation)
            ctx->ledger.release(m_reservation);
        m_reservation = {};
        return;
    }
    m_record.status = status;
    m_record.error = error;
    m_record.latencyMs = m_arrival.elapsed();
    if (m_clamp)
        noteOnServedAttempt(QStringLiteral("max_tokens clamped %1->%2 to fit the key's budget").arg(m_clamp->first).arg(m_clamp->second));
    const Settlement settled = settle({m_record.usage, charge, m_model.has_value(),
                                       m_model ? m_model->priceAt(QDateTime::currentDateTimeUtc()) : ModelPrice(),
                                       m_reservation ? std::optional<NanoUsd>(m_reservation.amount) : std::nullopt});
    m_record.usage = settled.usage;
    m_record.cost = settled.cost;
    const qint64 tokens = settled.tokens;
    if (m_keyTicket)
        ctx->keyLimits.adjust(m_keyTicket, tokens);
    if (m_providerTicket)
        ctx->providerLimits.adjust(m_providerTicket, tokens);
    settleReservation(charge);
    guardrailSettle(*ctx, m_guard, m_record, m_model ? &*m_model : nullptr);
    ctx->requestsServed.fetch_add(1);
    logRecord();
}

// The reservation becomes the request's cost (settled) or is given back (released).
void Exchange::settleReservation(bool charge)
{
    GatewayContext *ctx = m_ctx;
    if (m_reservation) {
        if (charge) {
            const NanoUsd reserved = m_reservation.amount;
            const NanoUsd over = ctx->ledger.settle(m_reservation, m_record.cost.value_or(0), QDateTime::currentMSecsSinceEpoch());
            m_record.overshoot = over;
            if (over > 0) {
                qCWarning(lcGateway) << "overshoot: request" << m_record.id << "of key" << m_record.keyName << "cost"
                                     << toUsd(over) << "USD more than its reservation";
                noteOnServedAttempt(QStringLiteral("overshoot: cost %1 exceeded the reservation %2 by %3")
                                        .arg(usd(m_record.cost.value_or(0)), usd(reserved), usd(over)));
            }
        } else
            ctx->ledger.release(m_reservation);
        m_reservation = {};
    }
}

// The row goes to the log (and the watchers); see the comment inside for when the answer waits on it.
void Exchange::logRecord()
{
    GatewayContext *ctx = m_ctx;
    if (ctx->store) {
        // A response not yet started goes out once its row is safe: written to the worker's journal
        // (one write(), RequestJournal), or else committed to the log. A stream's row settles its
        // pending row (holdForPendingRow()); journaled too, a stream cut by a crash is logged at its
        // cost rather than at its reservation.
        const bool waits = !m_headSent && m_conn && m_conn->canWrite() && !ctx->shuttingDown.load();
        RequestJournal *journal = m_conn ? m_conn->journal() : nullptr;
        const bool journaled = journal && journal->append(m_record);
        if (waits && !journaled)
            ctx->store->appendRequest(m_record, m_conn->holdOutput());
        else
            ctx->store->appendRequest(m_record);
    }
    if (ctx->events)
        ctx->events->publish(m_record);
}

} // namespace gh
