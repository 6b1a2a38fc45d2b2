#pragma once
#include "config/guardrailpolicy.h"
#include "core/money.h"
#include <QHash>
#include <QList>
#include <QString>
#include <optional>
#include <vector>

namespace gh {

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
