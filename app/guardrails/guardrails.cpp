#include "guardrails/guardrails.h"
#include <QDateTime>
#include <QJsonArray>
#include <QSet>
#include <algorithm>
#include <vector>

Q_LOGGING_CATEGORY(lcGuardrails, "gatehouse.guardrails")

namespace gh {

namespace {

QString usd(NanoUsd v)
{
    return QStringLiteral("$%1").arg(toUsd(v), 0, 'f', toUsd(v) < 1.0 ? 4 : 2);
}

// "1 message", "3 messages": the summaries are read by people.
QString counted(qint64 n, const char *one, const char *many)
{
    return QString::number(n) + u' ' + QLatin1String(n == 1 ? one : many);
}

QString minutesText(qint64 ms)
{
    return counted(qMax<qint64>(1, (ms + 59'999) / 60'000), "minute", "minutes");
}

QString sessionKey(qint64 keyId, const QString &session)
{
    return QString::number(keyId) + u'\n' + session;
}

// What a detector found: the trip's one-line summary and its evidence.
struct Finding {
    QString summary;
    QJsonObject evidence;
};

// The same message list, answered `before` times within the window, sent again.
Finding sameRequestFinding(const RequestShape &shape, int before, bool acrossSessions, const GuardrailThresholds &t)
{
    return {QStringLiteral("the same request (%1, content hash %2) was answered %3 in the last %4%5 and was sent again")
                .arg(counted(shape.messageCount, "message", "messages"))
                .arg(shortHash(shape.contentHash))
                .arg(counted(before, "time", "times"))
                .arg(minutesText(t.repeatWindowMs))
                .arg(acrossSessions ? QStringLiteral(" across several sessions") : QString()),
            {{QStringLiteral("kind"), QStringLiteral("same_request")},
             {QStringLiteral("content_hash"), shortHash(shape.contentHash)},
             {QStringLiteral("messages"), shape.messageCount},
             {QStringLiteral("answered_before"), before},
             {QStringLiteral("window_minutes"), t.repeatWindowMs / 60'000},
             {QStringLiteral("threshold"), t.repeatCount}}};
}

// The same last message (a tool result, an error) back `seen` times while the conversation grew.
Finding sameResultFinding(const RequestShape &shape, int seen, const GuardrailThresholds &t)
{
    return {QStringLiteral("the same tool result or message (%1, hash %2) came back %3 in the last %4 "
                           "while the conversation grew to %5")
                .arg(counted(shape.lastTurnBytes, "byte", "bytes"))
                .arg(shortHash(shape.lastTurnHash))
                .arg(counted(seen, "time", "times"))
                .arg(minutesText(t.repeatWindowMs))
                .arg(counted(shape.messageCount, "message", "messages")),
            {{QStringLiteral("kind"), QStringLiteral("same_result")},
             {QStringLiteral("result_hash"), shortHash(shape.lastTurnHash)},
             {QStringLiteral("result_bytes"), shape.lastTurnBytes},
             {QStringLiteral("times"), seen},
             {QStringLiteral("messages"), shape.messageCount},
             {QStringLiteral("window_minutes"), t.repeatWindowMs / 60'000},
             {QStringLiteral("threshold"), t.resultRepeatCount}}};
}

// A spend rate over its usual; `who` is "key" or "session".
Finding spendRateFinding(const char *who, const VelocityVerdict &v, const GuardrailThresholds &t)
{
    const double factor = double(v.recent) / double(qMax<NanoUsd>(1, *v.baseline));
    return {QStringLiteral("the %1 spent %2 in the last %3, %4 times its usual %5 per %3 (trips above %6 times and %7)")
                .arg(QLatin1String(who))
                .arg(usd(v.recent))
                .arg(counted(t.velocityWindowMinutes, "minute", "minutes"))
                .arg(factor, 0, 'f', 1)
                .arg(usd(*v.baseline))
                .arg(t.velocityFactor, 0, 'g', 3)
                .arg(usd(t.velocityFloor)),
            {{QStringLiteral("kind"), QStringLiteral("spend_rate")},
             {QStringLiteral("recent_usd"), toUsd(v.recent)},
             {QStringLiteral("baseline_usd"), toUsd(*v.baseline)},
             {QStringLiteral("window_minutes"), t.velocityWindowMinutes},
             {QStringLiteral("factor"), factor},
             {QStringLiteral("threshold_factor"), t.velocityFactor},
             {QStringLiteral("floor_usd"), toUsd(t.velocityFloor)}}};
}

// The day limit reached soon at the current rate.
Finding projectedOverrunFinding(NanoUsd recent, NanoUsd dayRemaining, const ProjectionVerdict &p, const GuardrailThresholds &t)
{
    return {QStringLiteral("at %1 per %2 the day limit is reached in about %3 (%4 left)")
                .arg(usd(recent))
                .arg(counted(t.velocityWindowMinutes, "minute", "minutes"))
                .arg(counted(p.minutesLeft, "minute", "minutes"))
                .arg(usd(dayRemaining)),
            {{QStringLiteral("kind"), QStringLiteral("projected_overrun")},
             {QStringLiteral("recent_usd"), toUsd(recent)},
             {QStringLiteral("window_minutes"), t.velocityWindowMinutes},
             {QStringLiteral("day_remaining_usd"), toUsd(dayRemaining)},
             {QStringLiteral("minutes_left"), p.minutesLeft},
             {QStringLiteral("threshold_minutes"), t.projectionMs / 60'000}}};
}

// Prompts near the context window turn after turn, with next to nothing back.
Finding tokenBlowupFinding(int streak, const GuardrailOutcome &outcome, const GuardrailThresholds &t)
{
    const double share = double(outcome.promptTokens) / double(outcome.contextWindow);
    return {QStringLiteral("%1 turns in a row sent prompts past %2% of the model's %3-token context window (last: %4 tokens, %5%) "
                           "and got at most %6 output tokens back (last: %7)")
                .arg(streak)
                .arg(qRound(t.blowupFraction * 100))
                .arg(outcome.contextWindow)
                .arg(outcome.promptTokens)
                .arg(qRound(share * 100))
                .arg(t.blowupMaxOutput)
                .arg(outcome.outputTokens),
            {{QStringLiteral("kind"), QStringLiteral("token_blowup")},
             {QStringLiteral("turns"), streak},
             {QStringLiteral("prompt_tokens"), outcome.promptTokens},
             {QStringLiteral("output_tokens"), outcome.outputTokens},
             {QStringLiteral("context_window"), outcome.contextWindow},
             {QStringLiteral("threshold_fraction"), t.blowupFraction},
             {QStringLiteral("threshold_output_tokens"), t.blowupMaxOutput}}};
}

} // namespace

QString detectorName(Detector d)
{
    switch (d) {
    case Detector::Repetition: return QStringLiteral("repetition");
    case Detector::Velocity: return QStringLiteral("velocity");
    case Detector::Blowup: return QStringLiteral("blowup");
    }
    return QStringLiteral("repetition");
}

QJsonObject GuardrailTrip::toJson() const
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("detector"), detectorName(detector)},
            {QStringLiteral("action"), guardModeName(action)},
            {QStringLiteral("scope"), session.isEmpty() ? QStringLiteral("key") : QStringLiteral("session")},
            {QStringLiteral("session"), session.isEmpty() ? QJsonValue() : QJsonValue(session)},
            {QStringLiteral("at"), QDateTime::fromMSecsSinceEpoch(atMs).toUTC().toString(Qt::ISODateWithMs)},
            {QStringLiteral("request_id"), requestId},
            {QStringLiteral("summary"), summary},
            {QStringLiteral("evidence"), evidence},
            {QStringLiteral("cost_so_far_usd"), toUsd(costSoFar)},
            {QStringLiteral("active"), active},
            {QStringLiteral("ended_at"), endedAtMs > 0 ? QJsonValue(QDateTime::fromMSecsSinceEpoch(endedAtMs).toUTC().toString(Qt::ISODateWithMs))
                                                       : QJsonValue()},
            {QStringLiteral("ended_by"), endedBy.isEmpty() ? QJsonValue() : QJsonValue(endedBy)}};
}

void Guardrails::setListener(Listener listener)
{
    QMutexLocker lock(&m_mutex);
    m_listener = std::move(listener);
}

void Guardrails::setThresholds(const GuardrailThresholds &thresholds)
{
    QMutexLocker lock(&m_mutex);
    m_t = thresholds;
}

GuardrailThresholds Guardrails::thresholds() const
{
    QMutexLocker lock(&m_mutex);
    return m_t;
}

int Guardrails::activePauses() const
{
    QMutexLocker lock(&m_mutex);
    int n = 0;
    for (const KeyState &k : m_keys)
        n += (k.pausedTrip ? 1 : 0) + int(k.pausedSessions.size());
    return n;
}

void Guardrails::restore(const QList<GuardrailTrip> &trips, qint64 nextTripId)
{
    QList<GuardrailTrip> sorted = trips;
    std::sort(sorted.begin(), sorted.end(), [](const GuardrailTrip &a, const GuardrailTrip &b) { return a.id < b.id; });
    QMutexLocker lock(&m_mutex);
    for (const GuardrailTrip &t : std::as_const(sorted)) {
        KeyState &key = m_keys[t.keyId];
        if (findTrip(key, t.id))
            continue;
        key.trips.append(t);
        if (t.active) {
            if (t.session.isEmpty())
                key.pausedTrip = t.id;
            else
                key.pausedSessions.insert(t.session, t.id);
        }
        m_nextTripId = qMax(m_nextTripId, t.id + 1);
    }
    m_nextTripId = qMax(m_nextTripId, nextTripId);
    for (KeyState &key : m_keys) {
        while (key.trips.size() > qMax(1, m_t.maxTripsPerKey)) {
            const auto old = std::find_if(key.trips.begin(), key.trips.end(), [](const GuardrailTrip &x) { return !x.active; });
            if (old == key.trips.end())
                break;
            key.trips.erase(old);
        }
    }
}

Guardrails::Guardrails(GuardrailThresholds thresholds, Clock clock)
    : m_t(thresholds)
    , m_clock(std::move(clock))
{
}

qint64 Guardrails::now() const
{
    return m_clock ? m_clock() : QDateTime::currentMSecsSinceEpoch();
}

QString Guardrails::sessionFor(const QString &headerSession, const RequestShape &shape, quint64 prefixHash)
{
    if (!headerSession.isEmpty())
        return headerSession;
    if (!shape.sessionHint.isEmpty())
        return shape.sessionHint;
    if (prefixHash != 0)
        return QStringLiteral("prefix:") + shortHash(prefixHash);
    return {};
}

int Guardrails::sessionCount() const
{
    QMutexLocker lock(&m_mutex);
    return int(m_sessions.size());
}

Guardrails::Session &Guardrails::sessionOf(qint64 keyId, const QString &session, qint64 nowMs)
{
    const QString k = sessionKey(keyId, session);
    auto it = m_sessions.find(k);
    if (it == m_sessions.end()) {
        if (m_sessions.size() >= m_t.maxSessions)
            evictSessions(nowMs);
        it = m_sessions.insert(k, Session{});
        it->keyId = keyId;
    }
    it->lastSeenMs = nowMs;
    return *it;
}

void Guardrails::evictSessions(qint64 nowMs)
{
    // Idle sessions first; then the least recently seen quarter. Runs once per maxSessions / 4 new
    // sessions at most, so O(1) amortised per request. A paused session keeps its pause (it is
    // held by the key, not here); only what its detectors counted is forgotten.
    for (auto it = m_sessions.begin(); it != m_sessions.end();)
        it = nowMs - it->lastSeenMs > m_t.sessionIdleMs ? m_sessions.erase(it) : std::next(it);
    const qsizetype target = qMax<qsizetype>(1, m_t.maxSessions * 3 / 4);
    if (m_sessions.size() < target)
        return;
    std::vector<qint64> seen;
    seen.reserve(size_t(m_sessions.size()));
    for (const Session &s : std::as_const(m_sessions))
        seen.push_back(s.lastSeenMs);
    const size_t drop = size_t(m_sessions.size() - target) + 1;
    std::nth_element(seen.begin(), seen.begin() + qsizetype(drop - 1), seen.end());
    const qint64 cutoff = seen[drop - 1];
    size_t dropped = 0;
    for (auto it = m_sessions.begin(); it != m_sessions.end() && dropped < drop;) {
        if (it->lastSeenMs <= cutoff) {
            it = m_sessions.erase(it);
            ++dropped;
        } else {
            ++it;
        }
    }
}

const GuardrailTrip *Guardrails::findTrip(const KeyState &key, qint64 id) const
{
    for (const GuardrailTrip &t : key.trips) {
        if (t.id == id)
            return &t;
    }
    return nullptr;
}

GuardrailTrip Guardrails::trip(KeyState &key, const GuardrailTicket &ticket, Detector d, GuardMode mode, const QString &session,
                               const QString &requestId, const QString &summary, const QJsonObject &evidence, qint64 nowMs)
{
    GuardrailTrip t;
    t.id = m_nextTripId++;
    t.detector = d;
    t.action = mode;
    t.keyId = ticket.keyId;
    t.keyName = ticket.keyName;
    t.session = session;
    t.atMs = nowMs;
    t.requestId = requestId;
    t.summary = summary;
    t.evidence = evidence;
    if (!session.isEmpty()) {
        const auto s = m_sessions.constFind(sessionKey(ticket.keyId, session));
        t.costSoFar = s == m_sessions.constEnd() ? 0 : s->spend.recent(nowMs, 60);
        if (s != m_sessions.constEnd() && !s->recentHashes.isEmpty()) {
            QJsonArray hashes;
            for (const quint64 h : s->recentHashes)
                hashes.append(shortHash(h));
            t.evidence.insert(QStringLiteral("recent_request_hashes"), hashes); // oldest first
        }
    } else {
        t.costSoFar = key.spend.recent(nowMs, 6 * 60);
    }
    t.active = mode == GuardMode::Pause;
    if (t.active) {
        if (session.isEmpty())
            key.pausedTrip = t.id;
        else
            key.pausedSessions.insert(session, t.id);
    }
    key.trips.append(t);
    // Bounded: the oldest trips that pause nothing go first; an active pause keeps its trip.
    while (key.trips.size() > qMax(1, m_t.maxTripsPerKey)) {
        const auto old = std::find_if(key.trips.begin(), key.trips.end(), [](const GuardrailTrip &x) { return !x.active; });
        if (old == key.trips.end())
            break;
        key.trips.erase(old);
    }
    const QString scope = session.isEmpty() ? QStringLiteral("key '%1'").arg(ticket.keyName)
                                            : QStringLiteral("session %1 of key '%2'").arg(session, ticket.keyName);
    qCWarning(lcGuardrails).noquote() << QStringLiteral("guardrail %1 tripped (%2) on %3: %4 [request %5]")
                                             .arg(detectorName(d), mode == GuardMode::Pause ? QStringLiteral("paused") : QStringLiteral("alert"),
                                                  scope, summary, requestId);
    if (m_listener.tripped)
        m_listener.tripped(t);
    return t;
}

std::optional<GuardrailTrip> Guardrails::admit(GuardrailTicket &ticket, const QString &requestId)
{
    const qint64 t = now();
    QMutexLocker lock(&m_mutex);
    KeyState &key = m_keys[ticket.keyId];
    if (key.pausedTrip) {
        if (const GuardrailTrip *p = findTrip(key, key.pausedTrip))
            return *p;
    }
    if (!ticket.session.isEmpty()) {
        if (const auto it = key.pausedSessions.constFind(ticket.session); it != key.pausedSessions.constEnd()) {
            if (const GuardrailTrip *p = findTrip(key, *it))
                return *p;
        }
    }
    ticket.admitted = true;
    const GuardMode mode = ticket.policy.repetition;
    if (mode == GuardMode::Off)
        return std::nullopt;
    const RequestShape &shape = ticket.shape;
    const int rep = int(Detector::Repetition);
    Session *session = ticket.session.isEmpty() ? nullptr : &sessionOf(ticket.keyId, ticket.session, t);
    if (session && shape.contentHash != 0) {
        session->recentHashes.append(shape.contentHash);
        if (session->recentHashes.size() > 8)
            session->recentHashes.removeFirst();
    }

    // The same message list, answered repeatCount - 1 times within the window, sent again.
    const int before = key.repetition.answeredBefore(shape.contentHash, t, m_t);
    if (shape.contentHash != 0 && shape.textBytes >= m_t.minRequestBytes && before >= m_t.repeatCount - 1) {
        const bool keyWide = ticket.session.isEmpty() || key.repetition.spansSessions(shape.contentHash, ticket.session);
        const QString scope = keyWide ? QString() : ticket.session;
        QHash<int, qint64> &alerts = keyWide || !session ? key.lastAlert : session->lastAlert;
        if (mode == GuardMode::Pause || t - alerts.value(rep, -m_t.alertCooldownMs) >= m_t.alertCooldownMs) {
            alerts.insert(rep, t);
            const Finding f = sameRequestFinding(shape, before, keyWide && !ticket.session.isEmpty(), m_t);
            GuardrailTrip tr = trip(key, ticket, Detector::Repetition, mode, scope, requestId, f.summary, f.evidence, t);
            if (mode == GuardMode::Pause) {
                ticket.admitted = false;
                return tr;
            }
        }
    }
    // The same last message (a tool result, an error) coming back turn after turn.
    if (session) {
        const int seen = session->results.observe(shape.lastTurnHash, shape.lastTurnBytes, shape.messageCount, t, m_t);
        if (seen >= m_t.resultRepeatCount
            && (mode == GuardMode::Pause || t - session->lastAlert.value(rep, -m_t.alertCooldownMs) >= m_t.alertCooldownMs)) {
            session->lastAlert.insert(rep, t);
            const Finding f = sameResultFinding(shape, seen, m_t);
            GuardrailTrip tr = trip(key, ticket, Detector::Repetition, mode, ticket.session, requestId, f.summary, f.evidence, t);
            if (mode == GuardMode::Pause) {
                ticket.admitted = false;
                return tr;
            }
        }
    }
    return std::nullopt;
}

void Guardrails::settle(const GuardrailTicket &ticket, const GuardrailOutcome &outcome, const QString &requestId)
{
    if (!ticket.admitted)
        return;
    const qint64 t = now();
    QMutexLocker lock(&m_mutex);
    KeyState &key = m_keys[ticket.keyId];
    const bool ok = outcome.status >= 200 && outcome.status < 300;
    Session *session = ticket.session.isEmpty() ? nullptr : &sessionOf(ticket.keyId, ticket.session, t);
    if (ok)
        key.repetition.answered(ticket.shape.contentHash, ticket.session, t, m_t);
    if (outcome.cost > 0) {
        key.spend.add(t, outcome.cost);
        if (session)
            session->spend.add(t, outcome.cost);
    }
    const bool keyPaused = key.pausedTrip != 0;
    const bool sessionPaused = keyPaused || (session && key.pausedSessions.contains(ticket.session));
    // Cooldown slots: one per detector, and one for the projected overrun (a different finding
    // from a spike, with the same mode).
    constexpr int kProjectionSlot = 100;
    auto mayTrip = [&](QHash<int, qint64> &alerts, int slot, GuardMode mode) {
        // A pause trips once (further requests are refused); an alert once per cooldown.
        if (mode == GuardMode::Off)
            return false;
        const qint64 last = alerts.value(slot, -m_t.alertCooldownMs);
        if (t - last < m_t.alertCooldownMs)
            return false;
        alerts.insert(slot, t);
        return true;
    };

    const GuardMode velocity = ticket.policy.velocity;
    if (velocity != GuardMode::Off && outcome.cost > 0 && t >= key.quietUntilMs && !keyPaused) {
        const VelocityVerdict kv = judgeVelocity(key.spend, t, m_t);
        bool keyTripped = false;
        if (kv.tripped && mayTrip(key.lastAlert, int(Detector::Velocity), velocity)) {
            keyTripped = true;
            const Finding f = spendRateFinding("key", kv, m_t);
            trip(key, ticket, Detector::Velocity, velocity, QString(), requestId, f.summary, f.evidence, t);
        }
        if (!keyTripped && outcome.dayRemaining) {
            const ProjectionVerdict p = judgeProjection(kv.recent, *outcome.dayRemaining, m_t);
            if (p.tripped && mayTrip(key.lastAlert, kProjectionSlot, velocity)) {
                keyTripped = true;
                const Finding f = projectedOverrunFinding(kv.recent, *outcome.dayRemaining, p, m_t);
                trip(key, ticket, Detector::Velocity, velocity, QString(), requestId, f.summary, f.evidence, t);
            }
        }
        if (!keyTripped && session && !sessionPaused) {
            const VelocityVerdict sv = judgeVelocity(session->spend, t, m_t);
            if (sv.tripped && mayTrip(session->lastAlert, int(Detector::Velocity), velocity)) {
                const Finding f = spendRateFinding("session", sv, m_t);
                trip(key, ticket, Detector::Velocity, velocity, ticket.session, requestId, f.summary, f.evidence, t);
            }
        }
    }

    const GuardMode blowup = ticket.policy.blowup;
    if (blowup != GuardMode::Off && ok && session && !sessionPaused) {
        const int streak = session->blowup.observe(outcome.promptTokens, outcome.outputTokens, outcome.contextWindow, m_t);
        if (streak >= m_t.blowupTurns && mayTrip(session->lastAlert, int(Detector::Blowup), blowup)) {
            const Finding f = tokenBlowupFinding(streak, outcome, m_t);
            trip(key, ticket, Detector::Blowup, blowup, ticket.session, requestId, f.summary, f.evidence, t);
        }
    }
}

int Guardrails::resume(qint64 keyId, const QString &session, const QString &by)
{
    const qint64 t = now();
    QMutexLocker lock(&m_mutex);
    const auto kit = m_keys.find(keyId);
    if (kit == m_keys.end())
        return 0;
    KeyState &key = *kit;
    QSet<qint64> lifted;
    if (session.isEmpty()) {
        if (key.pausedTrip)
            lifted.insert(key.pausedTrip);
        for (const qint64 id : std::as_const(key.pausedSessions))
            lifted.insert(id);
        key.pausedTrip = 0;
        key.pausedSessions.clear();
        key.lastAlert.clear();
        key.quietUntilMs = t + qint64(m_t.velocityWindowMinutes) * 60'000;
        for (Session &s : m_sessions) {
            if (s.keyId == keyId) {
                s.results.clear();
                s.blowup.clear();
                s.lastAlert.clear();
            }
        }
    } else {
        if (const auto it = key.pausedSessions.constFind(session); it != key.pausedSessions.constEnd())
            lifted.insert(*it);
        key.pausedSessions.remove(session);
        if (const auto it = m_sessions.find(sessionKey(keyId, session)); it != m_sessions.end()) {
            it->results.clear();
            it->blowup.clear();
            it->lastAlert.clear();
        }
    }
    // What the repetition detector counted is the evidence of the loop that was just judged by a
    // person: counted again, the next send would trip at once.
    key.repetition.clear();
    for (GuardrailTrip &tr : key.trips) {
        if (lifted.contains(tr.id)) {
            tr.active = false;
            tr.endedAtMs = t;
            tr.endedBy = by;
        }
    }
    if (!lifted.isEmpty() && m_listener.resumed) {
        QList<qint64> ids(lifted.begin(), lifted.end());
        std::sort(ids.begin(), ids.end());
        m_listener.resumed(ids, t, by);
    }
    if (!lifted.isEmpty())
        qCInfo(lcGuardrails).noquote() << QStringLiteral("resumed %1 pause(s) of key %2%3")
                                              .arg(lifted.size())
                                              .arg(keyId)
                                              .arg(session.isEmpty() ? QString() : QStringLiteral(" (session %1)").arg(session));
    return int(lifted.size());
}

QList<GuardrailTrip> Guardrails::trips(qint64 keyId) const
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_keys.constFind(keyId);
    if (it == m_keys.constEnd())
        return {};
    QList<GuardrailTrip> out = it->trips;
    std::reverse(out.begin(), out.end());
    return out;
}

} // namespace gh
