#include "gateway/guardrailgate.h"
#include "gateway/gatewaycontext.h"
#include "routing/registry.h"
#include "store/requestrecord.h"
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

namespace gh {

std::optional<GatewayError> guardrailAdmit(GatewayContext &ctx, const KeyEntry &key, const QString &headerSession, QByteArray &body,
                                           quint64 prefixHash, const QString &requestId, bool anthropicClient, GuardrailTicket *ticket)
{
    ticket->keyId = key.id;
    ticket->keyName = key.name;
    ticket->policy = key.guardrails;
    ticket->dayLimit = key.limits.dayUsd.has_value();
    ticket->shape = readRequestShape(body);
    ticket->session = Guardrails::sessionFor(headerSession, ticket->shape, prefixHash);
    if (const auto trip = ctx.guardrails.admit(*ticket, requestId))
        return guardrailRefusal(*trip, anthropicClient);
    return std::nullopt;
}

void guardrailSettle(GatewayContext &ctx, const GuardrailTicket &ticket, const RequestRecord &record, const ModelEntry *model)
{
    if (!ticket.admitted)
        return;
    GuardrailOutcome o;
    o.status = record.status;
    o.cost = record.cost.value_or(0);
    o.promptTokens = record.usage.inputTokens + record.usage.cacheReadTokens + record.usage.cacheWriteTokens;
    o.outputTokens = record.usage.outputTokens;
    o.contextWindow = model ? model->config.contextWindow : 0;
    if (ticket.dayLimit && o.cost > 0)
        o.dayRemaining = ctx.ledger.status(ticket.keyId, QDateTime::currentMSecsSinceEpoch())[int(Period::Day)].remaining();
    ctx.guardrails.settle(ticket, o, record.id);
}

GatewayError guardrailRefusal(const GuardrailTrip &trip, bool anthropicClient)
{
    const QString scope = trip.session.isEmpty() ? QStringLiteral("key '%1'").arg(trip.keyName)
                                                 : QStringLiteral("session %1 of key '%2'").arg(trip.session, trip.keyName);
    const QString resumeBody = trip.session.isEmpty() ? QString() : QStringLiteral(" with {\"session\": \"%1\"}").arg(trip.session);
    const QString message =
        QStringLiteral("Gatehouse paused %1: its %2 guardrail detected that %3. Retrying will not help: a person resumes it in the "
                       "Gatehouse window or with POST /v1/key/resume (the same key)%4.")
            .arg(scope, detectorName(trip.detector), trip.summary, resumeBody);
    GatewayError e = GatewayError::paused(message, anthropicClient, "guardrail_paused");
    e.extraHeaders.emplaceBack("x-gatehouse-guardrail", detectorName(trip.detector).toLatin1());
    return e;
}

GuardrailTripRow guardrailTripRow(const GuardrailTrip &trip)
{
    GuardrailTripRow r;
    r.id = trip.id;
    r.atMs = trip.atMs;
    r.keyId = trip.keyId;
    r.keyName = trip.keyName;
    r.session = trip.session;
    r.detector = detectorName(trip.detector);
    r.action = guardModeName(trip.action);
    r.requestId = trip.requestId;
    r.summary = trip.summary;
    r.evidence = QJsonDocument(trip.evidence).toJson(QJsonDocument::Compact);
    r.costSoFar = trip.costSoFar;
    r.active = trip.active;
    r.endedAtMs = trip.endedAtMs;
    r.endedBy = trip.endedBy;
    return r;
}

GuardrailTrip guardrailTripFromRow(const GuardrailTripRow &row)
{
    GuardrailTrip t;
    t.id = row.id;
    t.atMs = row.atMs;
    t.keyId = row.keyId;
    t.keyName = row.keyName;
    t.session = row.session;
    t.detector = row.detector == QLatin1String("velocity") ? Detector::Velocity
               : row.detector == QLatin1String("blowup")   ? Detector::Blowup
                                                           : Detector::Repetition;
    const bool known = row.detector == QLatin1String("repetition") || row.detector == QLatin1String("velocity")
                    || row.detector == QLatin1String("blowup");
    t.action = known && row.action == QLatin1String("pause") ? GuardMode::Pause : GuardMode::Alert;
    t.requestId = row.requestId;
    t.summary = row.summary;
    t.evidence = QJsonDocument::fromJson(row.evidence).object();
    t.costSoFar = row.costSoFar;
    t.active = row.active && t.action == GuardMode::Pause;
    t.endedAtMs = row.endedAtMs;
    t.endedBy = row.endedBy;
    return t;
}

QJsonObject guardrailKeyJson(const GatewayContext &ctx, const KeyEntry &key)
{
    QJsonArray trips, pausedSessions;
    bool keyPaused = false;
    for (const GuardrailTrip &t : ctx.guardrails.trips(key.id)) {
        trips.append(t.toJson());
        if (t.active && t.session.isEmpty())
            keyPaused = true;
        else if (t.active)
            pausedSessions.append(t.session);
    }
    return {{QStringLiteral("policy"), key.guardrails.toJson()},
            {QStringLiteral("paused"), keyPaused},
            {QStringLiteral("paused_sessions"), pausedSessions},
            {QStringLiteral("trips"), trips}};
}

} // namespace gh
