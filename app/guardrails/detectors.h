#pragma once
#include "core/money.h"
#include <QHash>
#include <QList>
#include <QString>
#include <optional>
#include <vector>

namespace gh {

// The numbers the detectors judge by. The defaults and the reasoning behind each are in
// docs/guardrails.md; the tests construct their own.
struct GuardrailThresholds {
    // Repetition: the same message list (requestshape.h) answered this many times within the
    // window trips on the next send. Only answered sends count, so a retry after a 429 or a 5xx
    // (the same list again) never adds up.
    int repeatCount = 5;
    qint64 repeatWindowMs = 10 * 60'000;
    // ...when the list holds at least this much text. A short prompt sent over and over (a health
    // check, a benchmark, a test suite's "hi") costs little each time and is left to the velocity
    // detector; an agent's turn carries its task, context and tool output (Claude Code's first
    // request alone carries several KB of reminders and instructions).
    qint64 minRequestBytes = 1024;
    // ...and the same last message (a tool result, an error text) coming back this many times in
    // one session within the window, each time in a conversation that grew (a retry does not grow it).
    int resultRepeatCount = 5;
    qint64 minResultBytes = 64;   // shorter last messages ("ok", "done") are not judged
    // Spend velocity: $ over the last velocityWindowMinutes above velocityFactor x the trailing
    // baseline (spend per active minute before that window, scaled to the window) and above the floor.
    int velocityWindowMinutes = 10;
    double velocityFactor = 5.0;
    NanoUsd velocityFloor = 2 * kNanoPerUsd;   // per velocity window
    int baselineMinActiveMinutes = 10;         // less history than this: no baseline, no K x check
    // Projected overrun: at the window's rate, the day limit is reached within this long, and the
    // rate is at least projectionFloor per window.
    qint64 projectionMs = 60 * 60'000;
    NanoUsd projectionFloor = kNanoPerUsd / 2;
    // Token blow-up: this many answered turns in a row with a prompt past blowupFraction of the
    // model's context window and at most blowupMaxOutput output tokens.
    double blowupFraction = 0.6;
    qint64 blowupMaxOutput = 256;
    int blowupTurns = 3;
    // An alert is not repeated for the same detector and scope within this long.
    qint64 alertCooldownMs = 30 * 60'000;
    // Bounded memory: sessions idle this long are forgotten, and at most maxSessions are kept
    // (the least recently seen go first); at most maxHashesPerKey message lists per key.
    qint64 sessionIdleMs = 2 * 60 * 60'000;
    int maxSessions = 4096;
    int maxHashesPerKey = 4096;
    int maxTripsPerKey = 50;
};

// Spend in one-minute buckets over a trailing span, in a ring: O(1) to add, O(span) to read.
class SpendMeter
{
public:
    explicit SpendMeter(int minutes = 60);
    void add(qint64 nowMs, NanoUsd amount);
    // The spend of the last `minutes` minutes, the current one included.
    [[nodiscard]] NanoUsd recent(qint64 nowMs, int minutes) const;
    // The spend per active minute (a minute with any spend) in the buckets older than the last
    // `windowMinutes`, times windowMinutes; std::nullopt with fewer than minActive active minutes.
    [[nodiscard]] std::optional<NanoUsd> baseline(qint64 nowMs, int windowMinutes, int minActive) const;

private:
    std::vector<NanoUsd> m_amount;
    std::vector<qint64> m_minute; // the minute (ms / 60000) each slot holds; another: stale
};

struct VelocityVerdict {
    bool tripped = false;
    NanoUsd recent = 0;               // spend in the window
    std::optional<NanoUsd> baseline;  // the usual spend per window
};
// Spend velocity on one meter (a key's or a session's).
[[nodiscard]] VelocityVerdict judgeVelocity(const SpendMeter &meter, qint64 nowMs, const GuardrailThresholds &t);

struct ProjectionVerdict {
    bool tripped = false;
    qint64 minutesLeft = -1; // at the current rate, until the day limit is reached
};
// The projected overrun of a day limit with `remaining` left at `recent` per velocity window.
[[nodiscard]] ProjectionVerdict judgeProjection(NanoUsd recent, NanoUsd remaining, const GuardrailThresholds &t);

// The same message list answered again and again, per key: how often each list was answered
// within the window. Sends that fail (a 429, a 5xx) are never recorded.
class RepetitionDetector
{
public:
    // How many times `hash` was answered within the window before now.
    [[nodiscard]] int answeredBefore(quint64 hash, qint64 nowMs, const GuardrailThresholds &t) const;
    // Whether those answers and a send from `session` span more than one session.
    [[nodiscard]] bool spansSessions(quint64 hash, const QString &session) const;
    void answered(quint64 hash, const QString &session, qint64 nowMs, const GuardrailThresholds &t);
    void clear() { m_entries.clear(); }

private:
    struct Entry {
        QList<qint64> times; // ascending, at most repeatCount
        QString session;
        bool manySessions = false;
    };
    QHash<quint64, Entry> m_entries;
};

// The same last message (tool result, error text) in consecutive turns of a growing conversation,
// per session: how many times it came back within the window.
class ResultRepeatDetector
{
public:
    // Records a send and returns how many times its last message was seen (this one included);
    // 0 when it is not judged (too short) or when the conversation did not grow (a retry).
    int observe(quint64 lastTurnHash, qint64 lastTurnBytes, int messageCount, qint64 nowMs, const GuardrailThresholds &t);
    void clear();

private:
    struct Entry {
        QList<qint64> times;
    };
    QHash<quint64, Entry> m_entries;
    int m_lastMessageCount = 0;
    quint64 m_lastHash = 0;
};

// Prompts near the context window with tiny outputs, turn after turn, per session.
class BlowupDetector
{
public:
    // Records an answered turn and returns the streak it extends (0: broken or not judged).
    int observe(qint64 promptTokens, qint64 outputTokens, qint64 contextWindow, const GuardrailThresholds &t);
    void clear() { m_streak = 0; }

private:
    int m_streak = 0;
};

} // namespace gh
