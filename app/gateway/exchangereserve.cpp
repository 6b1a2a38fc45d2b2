// Exchange, the budget reservation stage: the worst case reserved on the key's ledger, lowered to
// what fits when the key clamps.
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

bool Exchange::reserveFor(const ModelEntry &model, UpstreamRequest *request, GatewayError *error)
{
    // The worst case: the input bound (see budget/reservation.h) at the highest input-side price,
    // plus the most output the request allows.
    const ModelPrice price = model.priceAt(QDateTime::currentDateTimeUtc()); // the price in force now
    const qint64 modelMax = model.config.maxOutputTokens;
    qint64 asked = 0;
    if (m_endpoint != Endpoint::Embeddings) {
        asked = m_fields.maxTokens.value_or(modelMax > 0 ? modelMax : kDefaultMaxOutput);
        if (modelMax > 0)
            asked = qMin(asked, modelMax);
    }
    m_outputLimit = asked;
    m_inputBound = inputTokenBound({qMax(m_body.size(), request->body.size()) + kClampEditBytes, m_fields.imageCount, m_fields.hasTools},
                                   model.provider->config.format, model.config.upstreamModel);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    std::optional<qint64> thinkingBudget;
    // Two passes at most: the full request, then the clamped one. Another request may take what
    // remained between them; the clamp is then computed again from the new refusal (a third pass).
    for (int pass = 0; pass < 3; ++pass) {
        const NanoUsd worstCase = price.isPriced() ? worstCaseCost(m_inputBound, m_outputLimit, price).value_or(0) : 0;
        auto reservation = m_ctx->ledger.reserve(m_key->id, worstCase, now);
        if (auto *granted = std::get_if<BudgetLedger::Reservation>(&reservation)) {
            m_reservation = *granted;
            if (m_outputLimit == asked)
                return true;
            if (!clampOutputLimit(model, asked, m_outputLimit, thinkingBudget, request, error)) {
                m_ctx->ledger.release(m_reservation);
                m_reservation = {};
                return false;
            }
            return true;
        }
        if (!lowerAfterRefusal(std::get<BudgetLedger::Refusal>(reservation), model, price, asked, &thinkingBudget, error))
            return false;
    }
    *error = GatewayError::budgetExhausted(QStringLiteral("Key '%1''s budget is being taken by concurrent requests; retry in a moment.").arg(m_key->name));
    return false;
}

// The reservation was refused: lowers m_outputLimit (and *thinkingBudget) to what fits when the
// key's policy allows it; false with *error when it does not.
bool Exchange::lowerAfterRefusal(const BudgetLedger::Refusal &refusal, const ModelEntry &model, const ModelPrice &price,
                                 qint64 asked, std::optional<qint64> *thinkingBudget, GatewayError *error)
{
    const BudgetPolicy &policy = m_key->budget;
    const qint64 fits = price.isPriced() ? outputTokensThatFit(refusal.remaining, m_inputBound, m_outputLimit, price) : -1;
    if (m_endpoint == Endpoint::Embeddings || !price.isPriced()) {
        *error = budgetRefusal(refusal, model, -1, QString());
        return false;
    }
    if (policy.onShortBudget == ShortBudget::Refuse) {
        *error = budgetRefusal(refusal, model, fits, QStringLiteral("The key refuses such requests instead of lowering their output limit (on_short_budget: \"refuse\")."));
        return false;
    }
    if (fits < policy.minOutputTokens) {
        *error = budgetRefusal(refusal, model, fits,
                               fits < 0 ? QString()
                                        : QStringLiteral("Gatehouse lowers the output limit only down to the key's min_output_tokens (%1).").arg(policy.minOutputTokens));
        return false;
    }
    if (m_fields.thinkingBudget && *m_fields.thinkingBudget >= fits) {
        // budget_tokens must stay below max_tokens: keep min_output_tokens for the answer when
        // possible, never below the provider's smallest thinking budget.
        const qint64 budget = qMax(kMinThinkingBudget, fits - policy.minOutputTokens);
        if (budget >= fits) {
            *error = budgetRefusal(refusal, model, fits,
                                   QStringLiteral("Lowering max_tokens to %1 leaves no room for thinking.budget_tokens (%2; at least %3 and below max_tokens).")
                                       .arg(fits).arg(*m_fields.thinkingBudget).arg(kMinThinkingBudget));
            return false;
        }
        *thinkingBudget = budget;
    } else {
        thinkingBudget->reset();
    }
    m_outputLimit = qMin(fits, asked);
    return true;
}

bool Exchange::clampOutputLimit(const ModelEntry &model, qint64 asked, qint64 limit, std::optional<qint64> thinkingBudget,
                                UpstreamRequest *request, GatewayError *error)
{
    // The field a body without one gets: OpenAI's own API wants max_completion_tokens on chat
    // (reasoning models refuse max_tokens); compatible servers and the other endpoints use their
    // documented names.
    QByteArrayView name = "max_tokens";
    if (m_endpoint == Endpoint::Responses)
        name = "max_output_tokens";
    else if (m_endpoint == Endpoint::ChatCompletions && model.provider->host.endsWith("api.openai.com"))
        name = "max_completion_tokens";
    QByteArray edited = rewriteOutputLimit(m_body, m_fields, limit, thinkingBudget, name);
    QString why;
    auto fields = inspectRequestBody(edited, m_endpoint, &why);
    if (!fields || fields->maxTokens != limit) {
        *error = GatewayError::internal(QStringLiteral("Gatehouse could not lower the request's output limit: %1").arg(why));
        return false;
    }
    m_body = std::move(edited);
    m_fields = *fields;
    m_nativeBody.clear(); // the client's own bytes no longer carry the limit: the edited body is translated
    if (!prepareUpstreamBody(&request->body, &request->path, error))
        return false;
    // A failover that clamps again still reports what the client asked for.
    m_clamp = std::make_pair(m_clamp ? m_clamp->first : asked, limit);
    return true;
}

GatewayError Exchange::budgetRefusal(const BudgetLedger::Refusal &refusal, const ModelEntry &model, qint64 fits, const QString &why) const
{
    const QString period = QLatin1String(periodName(refusal.period));
    if (refusal.storeUnreachable) {
        // A team instance that cannot reach the team store for more of the key's budget (docs/team.md).
        return GatewayError::budgetExhausted(
            QStringLiteral("Key '%1''s budget is shared with the team, and this Gatehouse cannot reach the team store for more of it: "
                           "what it still held (%2) does not cover this request (up to %3). Retry when the team store is back.")
                .arg(m_key->name, usd(refusal.remaining), usd(refusal.worstCase)));
    }
    if (refusal.exhausted()) {
        return GatewayError::budgetExhausted(
            QStringLiteral("Budget exhausted for key '%1': %2 of its %3 limit of %4 is spent. Raise the limit or wait for the next %3.")
                .arg(m_key->name, usd(refusal.spent), period, usd(refusal.limit)));
    }
    QString hint;
    if (fits > 0)
        hint = QStringLiteral(" An output limit (max_tokens) of at most %1 would fit.").arg(fits);
    else if (fits == 0)
        hint = QStringLiteral(" Not even max_tokens 1 fits; raise the limit or wait for the next %1.").arg(period);
    else
        hint = QStringLiteral(" Even its input alone does not fit; raise the limit or wait for the next %1.").arg(period);
    if (!why.isEmpty())
        hint += QLatin1Char(' ') + why;
    const NanoUsd over = refusal.worstCase - refusal.remaining;
    return GatewayError::budgetExhausted(
        QStringLiteral("This request is too large for what remains of key '%1''s %2 budget, by %3: it could cost up to %4 with %5 "
                       "(at most %6 input tokens and %7 output tokens), and %8 remains (limit %9, %10 spent, %11 reserved by requests in flight).%12")
            .arg(m_key->name, period, usd(over), usd(refusal.worstCase), model.config.id)
            .arg(m_inputBound)
            .arg(m_outputLimit)
            .arg(usd(refusal.remaining), usd(refusal.limit), usd(refusal.spent), usd(refusal.reserved), hint));
}

void Exchange::noteOnServedAttempt(const QString &note)
{
    if (m_record.attemptLog.isEmpty())
        return;
    QString &error = m_record.attemptLog.last().error;
    error = error.isEmpty() ? note : error + QStringLiteral("; ") + note;
}

} // namespace gh
