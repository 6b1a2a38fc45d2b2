#include "pricing/pricecatalog.h"

#include "core/logging.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QSet>

#include <cmath>

namespace gh {

namespace {

// Parsing state: the first error wins and names the JSON path where it was found.
struct Parser {
    QString error;

    bool fail(const QString &path, const QString &problem)
    {
        if (error.isEmpty())
            error = path.isEmpty() ? problem : path + QLatin1String(": ") + problem;
        return false;
    }

    // A price in USD per million tokens: a non-negative number, or null/absent for "unknown".
    bool price(const QJsonObject &o, QLatin1String key, const QString &path, bool required,
               std::optional<double> &out)
    {
        const QJsonValue v = o.value(key);
        const QString p = path + QLatin1Char('.') + key;
        if (v.isUndefined()) {
            if (required)
                return fail(p, QStringLiteral("missing (use null for an unknown price)"));
            return true;
        }
        if (v.isNull())
            return true;
        if (!v.isDouble())
            return fail(p, QStringLiteral("not a number"));
        const double d = v.toDouble();
        if (!std::isfinite(d) || d < 0)
            return fail(p, QStringLiteral("must be a non-negative number of USD per million tokens"));
        if (d > 1e6)
            return fail(p, QStringLiteral("implausible price (over 1,000,000 USD per million tokens)"));
        out = d;
        return true;
    }

    // A token count: a non-negative integer, 0 when absent or null.
    bool count(const QJsonObject &o, QLatin1String key, const QString &path, qint64 &out)
    {
        const QJsonValue v = o.value(key);
        const QString p = path + QLatin1Char('.') + key;
        if (v.isUndefined() || v.isNull())
            return true;
        if (!v.isDouble())
            return fail(p, QStringLiteral("not a number"));
        const double d = v.toDouble();
        if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 9.0e15)
            return fail(p, QStringLiteral("must be a non-negative integer"));
        out = qint64(d);
        return true;
    }

    bool model(const QJsonValue &value, const QString &vendor, const QString &path, CatalogModel &out)
    {
        if (!value.isObject())
            return fail(path, QStringLiteral("not an object"));
        const QJsonObject o = value.toObject();
        const QJsonValue name = o.value(QLatin1String("model"));
        if (!name.isString() || name.toString().trimmed().isEmpty())
            return fail(path + QLatin1String(".model"), QStringLiteral("missing or not a non-empty string"));
        if (name.toString().trimmed() != name.toString())
            return fail(path + QLatin1String(".model"), QStringLiteral("has leading or trailing spaces"));
        out.vendor = vendor;
        out.name = name.toString();
        if (!price(o, QLatin1String("input"), path, true, out.price.input)
            || !price(o, QLatin1String("output"), path, true, out.price.output)
            || !price(o, QLatin1String("cache_read"), path, false, out.price.cacheRead)
            || !price(o, QLatin1String("cache_write"), path, false, out.price.cacheWrite)
            || !price(o, QLatin1String("cache_write_1h"), path, false, out.price.cacheWrite1h)
            || !count(o, QLatin1String("context_window"), path, out.contextWindow)
            || !count(o, QLatin1String("max_output_tokens"), path, out.maxOutputTokens))
            return false;
        const QJsonValue caps = o.value(QLatin1String("capabilities"));
        if (!caps.isUndefined() && !caps.isNull()) {
            if (!caps.isArray())
                return fail(path + QLatin1String(".capabilities"), QStringLiteral("not an array"));
            const QJsonArray a = caps.toArray();
            for (qsizetype i = 0; i < a.size(); ++i) {
                if (!a.at(i).isString() || a.at(i).toString().isEmpty())
                    return fail(path + QStringLiteral(".capabilities[%1]").arg(i), QStringLiteral("not a non-empty string"));
                out.capabilities.append(a.at(i).toString());
            }
        }
        if (out.contextWindow > 0 && out.maxOutputTokens > out.contextWindow)
            return fail(path + QLatin1String(".max_output_tokens"), QStringLiteral("larger than context_window"));
        return true;
    }
};

} // namespace

PriceCatalog PriceCatalog::fromJson(const QByteArray &json, QString *error)
{
    Parser parser;
    PriceCatalog catalog;
    auto failed = [&]() {
        if (error)
            *error = parser.error;
        return PriceCatalog();
    };

    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        parser.fail(QString(), QStringLiteral("invalid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString()));
        return failed();
    }
    if (!doc.isObject()) {
        parser.fail(QString(), QStringLiteral("the catalog is not a JSON object"));
        return failed();
    }
    const QJsonObject root = doc.object();

    const QJsonValue takenOn = root.value(QLatin1String("taken_on"));
    if (!takenOn.isString()) {
        parser.fail(QStringLiteral("taken_on"), QStringLiteral("missing or not a string (YYYY-MM-DD)"));
        return failed();
    }
    const QString takenOnText = takenOn.toString();
    catalog.m_takenOn = QDate::fromString(takenOnText, Qt::ISODate);
    if (takenOnText.size() != 10 || !catalog.m_takenOn.isValid()) {
        parser.fail(QStringLiteral("taken_on"), QStringLiteral("not a date in the form YYYY-MM-DD"));
        return failed();
    }
    const QJsonValue source = root.value(QLatin1String("source"));
    if (!source.isUndefined() && !source.isString()) {
        parser.fail(QStringLiteral("source"), QStringLiteral("not a string"));
        return failed();
    }

    const QJsonValue vendors = root.value(QLatin1String("vendors"));
    if (!vendors.isObject()) {
        parser.fail(QStringLiteral("vendors"), QStringLiteral("missing or not an object"));
        return failed();
    }
    const QJsonObject vendorObject = vendors.toObject();
    for (auto it = vendorObject.begin(); it != vendorObject.end(); ++it) {
        const QString vendor = it.key();
        const QString vendorPath = QStringLiteral("vendors.") + vendor;
        if (vendor.isEmpty()) {
            parser.fail(QStringLiteral("vendors"), QStringLiteral("empty vendor id"));
            return failed();
        }
        if (!it.value().isArray()) {
            parser.fail(vendorPath, QStringLiteral("not an array of models"));
            return failed();
        }
        const QJsonArray entries = it.value().toArray();
        QList<CatalogModel> models;
        QSet<QString> names;
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const QString path = vendorPath + QStringLiteral("[%1]").arg(i);
            CatalogModel m;
            if (!parser.model(entries.at(i), vendor, path, m))
                return failed();
            if (names.contains(m.name)) {
                parser.fail(path + QLatin1String(".model"), QStringLiteral("duplicate model \"%1\"").arg(m.name));
                return failed();
            }
            names.insert(m.name);
            models.append(std::move(m));
        }
        catalog.m_byVendor.insert(vendor, models);
    }
    if (error)
        error->clear();
    return catalog;
}

const PriceCatalog &PriceCatalog::bundled()
{
    static const PriceCatalog catalog = [] {
        const QString path = QStringLiteral(":/gatehouse/prices.json");
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            qCCritical(lcPricing) << "cannot open the bundled price catalog" << path << file.errorString();
            return PriceCatalog();
        }
        QString error;
        PriceCatalog parsed = fromJson(file.readAll(), &error);
        if (!error.isEmpty())
            qCCritical(lcPricing).noquote() << "the bundled price catalog is invalid:" << error;
        return parsed;
    }();
    return catalog;
}

bool PriceCatalog::hasVendor(const QString &vendor) const
{
    return m_byVendor.contains(vendor);
}

QList<CatalogModel> PriceCatalog::models(const QString &vendor) const
{
    return m_byVendor.value(vendor);
}

const CatalogModel *PriceCatalog::find(const QString &vendor, const QString &model) const
{
    const auto it = m_byVendor.constFind(vendor);
    if (it == m_byVendor.constEnd() || model.isEmpty())
        return nullptr;
    const CatalogModel *best = nullptr;
    for (const CatalogModel &m : *it) {
        if (m.name == model)
            return &m;
        if (model.size() > m.name.size() && model.startsWith(m.name) && model.at(m.name.size()) == u'-'
            && (!best || m.name.size() > best->name.size()))
            best = &m;
    }
    return best;
}

int PriceCatalog::size() const
{
    int n = 0;
    for (const auto &list : m_byVendor)
        n += int(list.size());
    return n;
}

} // namespace gh
