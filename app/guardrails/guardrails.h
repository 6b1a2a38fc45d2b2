#pragma once
#include "config/guardrailpolicy.h"
#include "guardrails/detectors.h"
#include "guardrails/requestshape.h"
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QLoggingCategory>
#include <QMutex>
#include <QString>
#include <functional>
#include <optional>

Q_DECLARE_LOGGING_CATEGORY(lcGuardrails)

namespace gh {

// The circuit breaker for agents (issue 17, docs/guardrails.md): per key, and per session where
// one is known, three detectors judge every model request on the worker thread that serves it:
//   - repetition: the same message list answered again and again, or the same tool result /
//     error text coming back turn after turn (judged at admission, before anything is reserved);
//   - spend velocity: $ per 10 minutes far above the key's or session's own baseline, or a day
//     limit reached within the hour at the current rate (judged when the request settles);
//   - token blow-up: prompts near the context window with tiny outputs, turn after turn (settle).
// A trip alerts (one log line, recorded for GET /v1/key) or pauses the session or the key: further
// requests are refused (admit()) until resume(). Thread-safe: one lock, held for O(1) work per
// request (the velocity baseline reads a few hundred integers); no SQL, no I/O. Memory is bounded
// (detectors.h: sessions, hashes and trips are capped). Trips and pauses are told to a Listener as
// they happen (the gateway persists them, table guardrail_trips) and restore()d at start, so a pause
// survives a restart; what the detectors counted lives in memory only.
enum class Detector { Repetition, Velocity, Blowup };
[[nodiscard]] QString detectorName(Detector d);

struct GuardrailTrip {
    qint64 id = 0;
    Detector detector = Detector::Repetition;
    GuardMode action = GuardMode::Alert; // Alert or Pause
    qint64 keyId = 0;
    QString keyName;
    QString session;        // the paused / judged session; empty: the whole key
    qint64 atMs = 0;
    QString requestId;      // the request that tripped it
    QString summary;        // what was detected, with its numbers, for people
    QJsonObject evidence;   // the same numbers for programs (hashes, counts, $, tokens)
    NanoUsd costSoFar = 0;  // what the scope spent before it tripped: a session its last hour, a key its last 6 hours
    bool active = false;    // a pause not resumed yet
    qint64 endedAtMs = 0;   // when the pause was lifted; 0: not (or an alert)
    QString endedBy;        // who lifted it: "window", "api" (POST /v1/key/resume)
    [[nodiscard]] QJsonObject toJson() const;
};

// What an exchange carries from admission to settlement.
struct GuardrailTicket {
    qint64 keyId = 0;
    QString keyName;
    GuardrailPolicy policy;
    QString session;        // see Guardrails::sessionFor(); empty: none known
    RequestShape shape;
    bool dayLimit = false;  // the key has a day limit (projected overrun)
    bool admitted = false;  // admit() ran and let it through
};

// What a settled request tells the guardrails.
struct GuardrailOutcome {
    int status = 0;
    NanoUsd cost = 0;                  // what was charged (0 when unpriced or refused)
    qint64 promptTokens = 0;           // input + cache read + cache write
    qint64 outputTokens = 0;
    qint64 contextWindow = 0;          // the model's; 0: unknown (no blow-up judgement)
    std::optional<NanoUsd> dayRemaining; // the key's day limit minus spend; nullopt: no day limit
};

class Guardrails
{
public:
    using Clock = std::function<qint64()>; // ms since the epoch
    explicit Guardrails(GuardrailThresholds thresholds = {}, Clock clock = {});

    // Told of every trip as it is recorded, and of every pause lifted (ids, when, by whom). Called
    // under the engine's lock, on the thread that tripped or resumed (a gateway worker): they must
    // only queue the news for another thread and return, never call back into this object.
    struct Listener {
        std::function<void(const GuardrailTrip &)> tripped;
        std::function<void(const QList<qint64> &ids, qint64 atMs, const QString &by)> resumed;
    };
    // Set before the first request.
    void setListener(Listener listener);
    // The thresholds apply from the next request on; what the detectors counted stays.
    void setThresholds(const GuardrailThresholds &thresholds);
    // At start: the persisted trips (active pauses and the latest of each key, any order) and the
    // id the next trip gets (above every persisted one). Active ones pause their session or key again.
    void restore(const QList<GuardrailTrip> &trips, qint64 nextTripId);

    // The session a request belongs to: Claude Code's session header, else what the body names
    // (RequestShape::sessionHint), else its conversation's prompt-prefix hash; empty when none.
    [[nodiscard]] static QString sessionFor(const QString &headerSession, const RequestShape &shape, quint64 prefixHash);

    // Before a request is forwarded: std::nullopt to go on, or the (active) trip that refuses it,
    // either an earlier pause of its session or key or one this request trips now.
    [[nodiscard]] std::optional<GuardrailTrip> admit(GuardrailTicket &ticket, const QString &requestId);
    // After it was answered and settled (every outcome; refusals included).
    void settle(const GuardrailTicket &ticket, const GuardrailOutcome &outcome, const QString &requestId);

    // Lifts the pauses of a key (every session when `session` is empty) and forgets what its
    // detectors counted, so the resumed work starts afresh. Returns how many pauses were lifted.
    // `by` says who resumed ("window", "api"): recorded with the trips it ended.
    int resume(qint64 keyId, const QString &session = {}, const QString &by = QStringLiteral("api"));
    // The key's trips, newest first (at most maxTripsPerKey).
    [[nodiscard]] QList<GuardrailTrip> trips(qint64 keyId) const;
    [[nodiscard]] GuardrailThresholds thresholds() const;
    // Pauses in force now (sessions and keys), over every key.
    [[nodiscard]] int activePauses() const;
    [[nodiscard]] int sessionCount() const;

private:
    struct Session {
        qint64 keyId = 0;
        qint64 lastSeenMs = 0;
        ResultRepeatDetector results;
        BlowupDetector blowup;
        SpendMeter spend{60};
        QHash<int, qint64> lastAlert; // detector -> when it last alerted
        QList<quint64> recentHashes;  // content hashes of its latest sends, newest last (evidence)
    };
    struct KeyState {
        RepetitionDetector repetition;
        SpendMeter spend{6 * 60};
        QHash<int, qint64> lastAlert;
        qint64 pausedTrip = 0;                 // the trip pausing the whole key; 0: none
        QHash<QString, qint64> pausedSessions; // session -> the trip pausing it
        QList<GuardrailTrip> trips;            // newest last
        qint64 quietUntilMs = 0;               // after a resume: velocity is not judged until then
    };
    [[nodiscard]] qint64 now() const;
    Session &sessionOf(qint64 keyId, const QString &session, qint64 nowMs);
    void evictSessions(qint64 nowMs);
    // Records a trip (and its pause), logs it once. Returns it.
    GuardrailTrip trip(KeyState &key, const GuardrailTicket &ticket, Detector d, GuardMode mode, const QString &session,
                       const QString &requestId, const QString &summary, const QJsonObject &evidence, qint64 nowMs);
    [[nodiscard]] const GuardrailTrip *findTrip(const KeyState &key, qint64 id) const;

    GuardrailThresholds m_t;
    Clock m_clock;
    mutable QMutex m_mutex;
    QHash<qint64, KeyState> m_keys;
    QHash<QString, Session> m_sessions; // by keyId + '\n' + session
    qint64 m_nextTripId = 1;
    Listener m_listener;
};

} // namespace gh
