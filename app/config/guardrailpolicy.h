#pragma once
#include "core/money.h"
#include <QJsonObject>
#include <QString>
#include <optional>

namespace gh {

// What a guardrail trip does on a key (docs/guardrails.md): nothing, one log line and a recorded
// trip, or that plus refusing the session's (or the key's) further requests until resumed.
enum class GuardMode { Off, Alert, Pause };
[[nodiscard]] QString guardModeName(GuardMode mode);
[[nodiscard]] std::optional<GuardMode> guardModeFromName(const QString &name);

// A key's "guardrails": {"repetition": "pause", "velocity": "alert", "blowup": "alert"}. The
// defaults are every key's: a loop pauses (it only burns money), a spike or a blow-up only alerts
// (both have legitimate causes a person should judge).
struct GuardrailPolicy {
    GuardMode repetition = GuardMode::Pause;
    GuardMode velocity = GuardMode::Alert;
    GuardMode blowup = GuardMode::Alert;
    [[nodiscard]] QJsonObject toJson() const;
    // Members left out keep their defaults; false with *error naming the member when one is wrong.
    static bool fromJson(const QJsonObject &o, GuardrailPolicy *out, QString *error);
    friend bool operator==(const GuardrailPolicy &, const GuardrailPolicy &) = default;
};

// The numbers the detectors judge by. The defaults and the reasoning behind each are in
// docs/guardrails.md; the tests construct their own, a config sets them with "settings":
// {"guardrails": {...}} (toJson() / fromJson(): the members a person may tune; the memory bounds
// at the end are not among them).
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

    // {"repeat_count": 5, "repeat_window_minutes": 10, ...}: every tunable member.
    [[nodiscard]] QJsonObject toJson() const;
    // Members left out keep their defaults; false with *error naming the member when one is wrong
    // (not a number, out of its range) or unknown.
    static bool fromJson(const QJsonObject &o, GuardrailThresholds *out, QString *error);
    friend bool operator==(const GuardrailThresholds &, const GuardrailThresholds &) = default;
};

} // namespace gh
