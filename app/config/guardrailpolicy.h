#pragma once
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

} // namespace gh
