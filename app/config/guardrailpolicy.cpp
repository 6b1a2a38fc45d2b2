#include "config/guardrailpolicy.h"
#include <QStringList>

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
