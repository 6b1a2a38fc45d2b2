#include "config/datapolicy.h"
#include "core/logging.h"
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <cmath>

namespace gh {

namespace {

// Retention is stated in days; ten years is already "forever" for a prompt.
constexpr int kMaxRetentionDays = 3650;

const QRegularExpression &regionPattern()
{
    static const QRegularExpression re(QStringLiteral("^[a-z0-9][a-z0-9-]{0,31}$"));
    return re;
}

bool readDays(const QJsonValue &v, std::optional<int> *out)
{
    if (v.isString() && v.toString() == QLatin1String("none")) {
        *out = 0;
        return true;
    }
    if (!v.isDouble())
        return false;
    const double d = v.toDouble();
    if (!std::isfinite(d) || std::floor(d) != d || d < 0 || d > kMaxRetentionDays)
        return false;
    *out = int(d);
    return true;
}

bool readRegion(const QJsonValue &v, QString *out)
{
    if (!v.isString())
        return false;
    const QString r = v.toString().trimmed().toLower();
    if (!regionPattern().match(r).hasMatch())
        return false;
    *out = r;
    return true;
}

void setError(QString *field, QString *message, const QString &f, const QString &m)
{
    if (field)
        *field = f;
    if (message)
        *message = m;
}

QString daysText(int days)
{
    return days == 0 ? QStringLiteral("none") : days == 1 ? QStringLiteral("1 day") : QStringLiteral("%1 days").arg(days);
}

} // namespace

QString trainingName(Training t)
{
    switch (t) {
    case Training::Yes:
        return QStringLiteral("yes");
    case Training::No:
        return QStringLiteral("no");
    case Training::OptOut:
        return QStringLiteral("opt-out");
    }
    return {};
}

std::optional<Training> trainingFromName(const QString &name)
{
    for (Training t : {Training::Yes, Training::No, Training::OptOut})
        if (name == trainingName(t))
            return t;
    return std::nullopt;
}

DataPolicy DataPolicy::over(const DataPolicy &base) const
{
    DataPolicy p = base;
    if (retainsDays)
        p.retainsDays = retainsDays;
    if (trains)
        p.trains = trains;
    if (zdr)
        p.zdr = zdr;
    if (region)
        p.region = region;
    return p;
}

QJsonObject DataPolicy::toJson() const
{
    QJsonObject o;
    if (retainsDays)
        o.insert(QStringLiteral("retains_prompts"), *retainsDays == 0 ? QJsonValue(QStringLiteral("none")) : QJsonValue(*retainsDays));
    if (trains)
        o.insert(QStringLiteral("trains_on_data"), trainingName(*trains));
    if (zdr)
        o.insert(QStringLiteral("zdr"), *zdr);
    if (region)
        o.insert(QStringLiteral("region"), *region);
    return o;
}

QJsonObject PolicyRequirement::toJson() const
{
    QJsonObject o;
    if (zdr)
        o.insert(QStringLiteral("zdr"), true);
    if (noTraining)
        o.insert(QStringLiteral("trains_on_data"), QStringLiteral("no"));
    if (maxRetentionDays)
        o.insert(QStringLiteral("max_retention_days"), *maxRetentionDays);
    if (!regions.isEmpty())
        o.insert(QStringLiteral("regions"), QJsonArray::fromStringList(regions));
    return o;
}

QString PolicyRequirement::describe() const
{
    QStringList parts;
    if (zdr)
        parts.append(QStringLiteral("zdr"));
    if (noTraining)
        parts.append(QStringLiteral("no training"));
    if (maxRetentionDays)
        parts.append(*maxRetentionDays == 0 ? QStringLiteral("no retention") : QStringLiteral("retention <= %1").arg(daysText(*maxRetentionDays)));
    if (!regions.isEmpty())
        parts.append(QStringLiteral("region %1").arg(regions.join(QStringLiteral(" or "))));
    return parts.join(QStringLiteral(", "));
}

std::optional<DataPolicy> dataPolicyFromJson(const QJsonValue &v, QString *field, QString *message)
{
    if (!v.isObject()) {
        setError(field, message, QString(), QStringLiteral("must be an object"));
        return std::nullopt;
    }
    const QJsonObject o = v.toObject();
    DataPolicy p;
    for (auto it = o.begin(); it != o.end(); ++it) {
        const QString key = it.key();
        const QJsonValue value = it.value();
        if (value.isNull())
            continue; // null: not stated (unknown), like a missing member
        if (key == QLatin1String("retains_prompts")) {
            if (!readDays(value, &p.retainsDays)) {
                setError(field, message, key, QStringLiteral("must be a number of days from 0 to %1, \"none\" or null").arg(kMaxRetentionDays));
                return std::nullopt;
            }
        } else if (key == QLatin1String("trains_on_data")) {
            const auto t = value.isString() ? trainingFromName(value.toString()) : std::nullopt;
            if (!t) {
                setError(field, message, key, QStringLiteral("must be \"yes\", \"no\", \"opt-out\" or null"));
                return std::nullopt;
            }
            p.trains = t;
        } else if (key == QLatin1String("zdr")) {
            if (!value.isBool()) {
                setError(field, message, key, QStringLiteral("must be true, false or null"));
                return std::nullopt;
            }
            p.zdr = value.toBool();
        } else if (key == QLatin1String("region")) {
            QString r;
            if (!readRegion(value, &r)) {
                setError(field, message, key, QStringLiteral("must be a region name such as \"eu\" or \"us\" (letters, digits, '-') or null"));
                return std::nullopt;
            }
            p.region = r;
        } else {
            setError(field, message, key, QStringLiteral("unknown field (expected retains_prompts, trains_on_data, zdr, region)"));
            return std::nullopt;
        }
    }
    return p;
}

namespace {

// A list of region names, each once, in the order given; false when it is not one.
bool readRegions(const QJsonValue &value, QStringList &regions)
{
    if (!value.isArray())
        return false;
    for (const QJsonValue &e : value.toArray()) {
        QString region;
        if (!readRegion(e, &region))
            return false;
        if (!regions.contains(region))
            regions.append(region);
    }
    return true;
}

// One member of a key's require_policy into `r`; what is wrong with its value, or an empty string.
QString readRequirementField(const QString &key, const QJsonValue &value, PolicyRequirement &r)
{
    if (key == QLatin1String("zdr")) {
        if (!value.isBool())
            return QStringLiteral("must be true or false");
        r.zdr = value.toBool();
    } else if (key == QLatin1String("trains_on_data")) {
        // Only "no" is a requirement; "any" (or null) states none.
        if (value.isNull() || value.toString() == QLatin1String("any"))
            r.noTraining = false;
        else if (value.toString() == QLatin1String("no"))
            r.noTraining = true;
        else
            return QStringLiteral("must be \"no\" or \"any\"");
    } else if (key == QLatin1String("max_retention_days")) {
        if (!value.isNull() && !readDays(value, &r.maxRetentionDays))
            return QStringLiteral("must be a number of days from 0 to %1, \"none\" or null").arg(kMaxRetentionDays);
    } else if (key == QLatin1String("regions")) {
        if (!readRegions(value, r.regions))
            return QStringLiteral("must be a list of region names, e.g. [\"eu\"]");
    } else {
        return QStringLiteral("unknown field (expected zdr, trains_on_data, max_retention_days, regions)");
    }
    return {};
}

} // namespace

std::optional<PolicyRequirement> policyRequirementFromJson(const QJsonValue &v, QString *field, QString *message)
{
    if (!v.isObject()) {
        setError(field, message, QString(), QStringLiteral("must be an object"));
        return std::nullopt;
    }
    const QJsonObject o = v.toObject();
    PolicyRequirement r;
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (const QString why = readRequirementField(it.key(), it.value(), r); !why.isEmpty()) {
            setError(field, message, it.key(), why);
            return std::nullopt;
        }
    }
    return r;
}

QString requireShortfall(const PolicyRequirement &required, const DataPolicy &policy)
{
    if (required.zdr && policy.zdr != true)
        return QStringLiteral("requires zdr; zdr is %1").arg(policy.zdr ? QStringLiteral("off") : QStringLiteral("unknown"));
    if (required.noTraining && policy.trains != Training::No)
        return QStringLiteral("requires no training; trains_on_data is %1").arg(policy.trains ? trainingName(*policy.trains) : QStringLiteral("unknown"));
    if (required.maxRetentionDays) {
        // ZDR in force means nothing is retained, whatever the default retention says.
        const std::optional<int> retained = policy.zdr == true ? std::optional<int>(0) : policy.retainsDays;
        if (!retained || *retained > *required.maxRetentionDays)
            return QStringLiteral("requires %1; retains_prompts is %2")
                .arg(*required.maxRetentionDays == 0 ? QStringLiteral("no retention") : QStringLiteral("retention <= %1").arg(daysText(*required.maxRetentionDays)),
                     retained ? daysText(*retained) : QStringLiteral("unknown"));
    }
    if (!required.regions.isEmpty() && (!policy.region || !required.regions.contains(*policy.region)))
        return QStringLiteral("requires region %1; region is %2")
            .arg(required.regions.join(QStringLiteral(" or ")), policy.region ? *policy.region : QStringLiteral("unknown"));
    return {};
}

const PublishedPolicy *publishedPolicy(const QString &vendor)
{
    static const QHash<QString, PublishedPolicy> table = [] {
        QHash<QString, PublishedPolicy> out;
        QFile f(QStringLiteral(":/gatehouse/data-policies.json"));
        if (!f.open(QIODevice::ReadOnly)) {
            qCWarning(lcConfig) << "the providers' published data policies could not be read:" << f.errorString();
            return out;
        }
        const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
        const QJsonObject providers = root.value(QStringLiteral("providers")).toObject();
        for (auto it = providers.begin(); it != providers.end(); ++it) {
            const QJsonObject o = it.value().toObject();
            PublishedPolicy p;
            p.vendor = it.key();
            p.name = o.value(QStringLiteral("name")).toString();
            p.source = o.value(QStringLiteral("source")).toString();
            p.date = o.value(QStringLiteral("date")).toString();
            p.note = o.value(QStringLiteral("note")).toString();
            QString field, message;
            const auto policy = dataPolicyFromJson(o.value(QStringLiteral("policy")), &field, &message);
            if (!policy) {
                // A wrong value is worse than a missing one: the vendor's terms count as unknown.
                qCWarning(lcConfig) << "data-policies.json:" << p.vendor << field << message << "- its policy is unknown";
                continue;
            }
            p.policy = *policy;
            out.insert(p.vendor, p);
        }
        return out;
    }();
    const auto it = table.constFind(vendor);
    return it == table.cend() ? nullptr : &*it;
}

} // namespace gh
