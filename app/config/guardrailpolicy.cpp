#include "config/guardrailpolicy.h"
#include <QStringList>
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace gh {

QString guardModeName(GuardMode mode)
{
    switch (mode) {
    case GuardMode::Off: return QStringLiteral("off");
    case GuardMode::Alert: return QStringLiteral("alert");
    case GuardMode::Pause: return QStringLiteral("pause");
    }
    return QStringLiteral("alert");
}

std::optional<GuardMode> guardModeFromName(const QString &name)
{
    if (name == QLatin1String("off"))
        return GuardMode::Off;
    if (name == QLatin1String("alert"))
        return GuardMode::Alert;
    if (name == QLatin1String("pause"))
        return GuardMode::Pause;
    return std::nullopt;
}

QJsonObject GuardrailPolicy::toJson() const
{
    return {{QStringLiteral("repetition"), guardModeName(repetition)},
            {QStringLiteral("velocity"), guardModeName(velocity)},
            {QStringLiteral("blowup"), guardModeName(blowup)}};
}

bool GuardrailPolicy::fromJson(const QJsonObject &o, GuardrailPolicy *out, QString *error)
{
    GuardrailPolicy p;
    const std::pair<const char *, GuardMode *> members[] = {
        {"repetition", &p.repetition}, {"velocity", &p.velocity}, {"blowup", &p.blowup}};
    for (auto it = o.begin(); it != o.end(); ++it) {
        GuardMode *target = nullptr;
        for (const auto &[name, mode] : members) {
            if (it.key() == QLatin1String(name))
                target = mode;
        }
        if (!target) {
            *error = QStringLiteral("unknown member '%1' (expected repetition, velocity, blowup)").arg(it.key());
            return false;
        }
        const auto mode = it.value().isString() ? guardModeFromName(it.value().toString()) : std::nullopt;
        if (!mode) {
            *error = QStringLiteral("'%1' must be \"off\", \"alert\" or \"pause\"").arg(it.key());
            return false;
        }
        *target = *mode;
    }
    *out = p;
    return true;
}

} // namespace gh

namespace gh {

namespace {

// One tunable member of GuardrailThresholds: its JSON name, its range, and how it maps.
struct ThresholdField {
    const char *name;
    double min, max;
    bool integer;
    const char *unit; // for the error message
    std::function<double(const GuardrailThresholds &)> get;
    std::function<void(GuardrailThresholds &, double)> set;
};

const std::vector<ThresholdField> &thresholdFields()
{
    using T = GuardrailThresholds;
    constexpr double kMinute = 60'000.0;
    static const std::vector<ThresholdField> fields{
        {"repeat_count", 2, 1000, true, "", [](const T &t) { return double(t.repeatCount); },
         [](T &t, double v) { t.repeatCount = int(v); }},
        {"repeat_window_minutes", 1, 1440, true, " (minutes)", [=](const T &t) { return double(t.repeatWindowMs) / kMinute; },
         [=](T &t, double v) { t.repeatWindowMs = qint64(v * kMinute); }},
        {"min_request_bytes", 0, 1e9, true, " (bytes)", [](const T &t) { return double(t.minRequestBytes); },
         [](T &t, double v) { t.minRequestBytes = qint64(v); }},
        {"result_repeat_count", 2, 1000, true, "", [](const T &t) { return double(t.resultRepeatCount); },
         [](T &t, double v) { t.resultRepeatCount = int(v); }},
        {"min_result_bytes", 0, 1e9, true, " (bytes)", [](const T &t) { return double(t.minResultBytes); },
         [](T &t, double v) { t.minResultBytes = qint64(v); }},
        // A session's meter spans 60 minutes: the window must leave room for its baseline.
        {"velocity_window_minutes", 1, 30, true, " (minutes)", [](const T &t) { return double(t.velocityWindowMinutes); },
         [](T &t, double v) { t.velocityWindowMinutes = int(v); }},
        {"velocity_factor", 1, 1000, false, "", [](const T &t) { return t.velocityFactor; },
         [](T &t, double v) { t.velocityFactor = v; }},
        {"velocity_floor_usd", 0, 1e6, false, " (USD)", [](const T &t) { return toUsd(t.velocityFloor); },
         [](T &t, double v) { t.velocityFloor = NanoUsd(std::llround(v * double(kNanoPerUsd))); }},
        {"baseline_min_active_minutes", 1, 300, true, " (minutes)", [](const T &t) { return double(t.baselineMinActiveMinutes); },
         [](T &t, double v) { t.baselineMinActiveMinutes = int(v); }},
        {"projection_minutes", 1, 1440, true, " (minutes)", [=](const T &t) { return double(t.projectionMs) / kMinute; },
         [=](T &t, double v) { t.projectionMs = qint64(v * kMinute); }},
        {"projection_floor_usd", 0, 1e6, false, " (USD)", [](const T &t) { return toUsd(t.projectionFloor); },
         [](T &t, double v) { t.projectionFloor = NanoUsd(std::llround(v * double(kNanoPerUsd))); }},
        {"blowup_fraction", 0.01, 1, false, "", [](const T &t) { return t.blowupFraction; },
         [](T &t, double v) { t.blowupFraction = v; }},
        {"blowup_max_output_tokens", 0, 1e7, true, " (tokens)", [](const T &t) { return double(t.blowupMaxOutput); },
         [](T &t, double v) { t.blowupMaxOutput = qint64(v); }},
        {"blowup_turns", 1, 1000, true, "", [](const T &t) { return double(t.blowupTurns); },
         [](T &t, double v) { t.blowupTurns = int(v); }},
        {"alert_cooldown_minutes", 0, 10080, true, " (minutes)", [=](const T &t) { return double(t.alertCooldownMs) / kMinute; },
         [=](T &t, double v) { t.alertCooldownMs = qint64(v * kMinute); }},
    };
    return fields;
}

QString numberText(double v)
{
    return QString::number(v, 'g', 10);
}

} // namespace

QJsonObject GuardrailThresholds::toJson() const
{
    QJsonObject o;
    for (const ThresholdField &f : thresholdFields())
        o.insert(QLatin1String(f.name), f.get(*this));
    return o;
}

bool GuardrailThresholds::fromJson(const QJsonObject &o, GuardrailThresholds *out, QString *error)
{
    GuardrailThresholds t = *out;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const auto &fields = thresholdFields();
        const auto f = std::find_if(fields.begin(), fields.end(), [&](const ThresholdField &x) { return it.key() == QLatin1String(x.name); });
        if (f == fields.end()) {
            QStringList names;
            for (const ThresholdField &x : fields)
                names.append(QLatin1String(x.name));
            *error = QStringLiteral("unknown member '%1' (expected %2)").arg(it.key(), names.join(QStringLiteral(", ")));
            return false;
        }
        const double v = it.value().toDouble(std::nan(""));
        const bool ok = it.value().isDouble() && std::isfinite(v) && v >= f->min && v <= f->max && (!f->integer || std::floor(v) == v);
        if (!ok) {
            *error = QStringLiteral("'%1' must be %2 from %3 to %4%5")
                         .arg(it.key(), f->integer ? QStringLiteral("an integer") : QStringLiteral("a number"), numberText(f->min),
                              numberText(f->max), QLatin1String(f->unit));
            return false;
        }
        f->set(t, v);
    }
    *out = t;
    return true;
}

} // namespace gh
