#include "pricing/pricecatalog.h"

#include "core/logging.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QMutex>
#include <QMutexLocker>
#include <QSet>
#include <QTime>

#include <cmath>

namespace gh {

bool MatchRule::matches(const QString &name) const
{
    switch (kind) {
    case Kind::Never:
        return false;
    case Kind::Equals:
        return name.compare(text, Qt::CaseInsensitive) == 0;
    case Kind::StartsWith:
        return name.startsWith(text, Qt::CaseInsensitive);
    case Kind::EndsWith:
        return name.endsWith(text, Qt::CaseInsensitive);
    case Kind::Contains:
        return name.contains(text, Qt::CaseInsensitive);
    case Kind::Regex:
        return regex.match(name).hasMatch();
    case Kind::Or:
        return std::any_of(children.cbegin(), children.cend(), [&](const MatchRule &r) { return r.matches(name); });
    case Kind::And:
        return !children.isEmpty()
            && std::all_of(children.cbegin(), children.cend(), [&](const MatchRule &r) { return r.matches(name); });
    }
    return false;
}

ModelPrice CatalogModel::priceAt(const QDateTime &when) const
{
    if (schedule.size() == 1)
        return schedule.first().price;
    const QDateTime utc = when.toUTC();
    const int second = utc.time().msecsSinceStartOfDay() / 1000;
    // As genai-prices does: the last entry whose constraint holds, else the first entry.
    for (qsizetype i = schedule.size() - 1; i >= 0; --i) {
        const ScheduledPrice &s = schedule.at(i);
        switch (s.constraint) {
        case ScheduledPrice::Constraint::None:
            return s.price;
        case ScheduledPrice::Constraint::StartDate:
            if (utc >= s.startsAt)
                return s.price;
            break;
        case ScheduledPrice::Constraint::TimeOfDay:
            if (s.endSecond < s.startSecond ? (second >= s.startSecond || second < s.endSecond)
                                            : (second >= s.startSecond && second < s.endSecond))
                return s.price;
            break;
        }
    }
    return schedule.isEmpty() ? ModelPrice() : schedule.first().price;
}

QString CatalogDiff::summary() const
{
    return QStringLiteral("%1 added, %2 removed, %3 re-priced").arg(added).arg(removed).arg(repriced);
}

namespace {

// Limits that keep a hostile or broken document from costing much: the real data has ~45 providers,
// ~1,700 models and match trees a few levels deep.
constexpr int kMaxDepth = 16;
constexpr qsizetype kMaxProviders = 1000;
constexpr qsizetype kMaxModels = 100000;

// Parsing state: the first error wins and names the JSON path where it was found.
struct Parser {
    QString error;
    qsizetype models = 0;

    bool fail(const QString &path, const QString &problem)
    {
        if (error.isEmpty())
            error = path.isEmpty() ? problem : path + QLatin1String(": ") + problem;
        return false;
    }

    bool rule(const QJsonValue &value, const QString &path, int depth, MatchRule &out)
    {
        if (depth > kMaxDepth)
            return fail(path, QStringLiteral("match rules nested too deeply"));
        if (!value.isObject() || value.toObject().size() != 1)
            return fail(path, QStringLiteral("a match rule must be an object with exactly one key"));
        const QJsonObject o = value.toObject();
        const QString key = o.begin().key();
        const QJsonValue v = o.begin().value();
        static const QHash<QString, MatchRule::Kind> text{
            {QStringLiteral("equals"), MatchRule::Kind::Equals},
            {QStringLiteral("starts_with"), MatchRule::Kind::StartsWith},
            {QStringLiteral("ends_with"), MatchRule::Kind::EndsWith},
            {QStringLiteral("contains"), MatchRule::Kind::Contains},
        };
        if (auto it = text.constFind(key); it != text.cend()) {
            if (!v.isString() || v.toString().isEmpty())
                return fail(path + u'.' + key, QStringLiteral("not a non-empty string"));
            out.kind = *it;
            out.text = v.toString().toLower();
            return true;
        }
        if (key == u"regex") {
            if (!v.isString() || v.toString().isEmpty())
                return fail(path + u'.' + key, QStringLiteral("not a non-empty string"));
            out.kind = MatchRule::Kind::Regex;
            out.regex = QRegularExpression(v.toString());
            if (!out.regex.isValid())
                return fail(path + u'.' + key, QStringLiteral("invalid regular expression: %1").arg(out.regex.errorString()));
            out.regex.optimize();
            return true;
        }
        if (key == u"or" || key == u"and") {
            if (!v.isArray() || v.toArray().isEmpty())
                return fail(path + u'.' + key, QStringLiteral("not a non-empty array of rules"));
            out.kind = key == u"or" ? MatchRule::Kind::Or : MatchRule::Kind::And;
            const QJsonArray a = v.toArray();
            for (qsizetype i = 0; i < a.size(); ++i) {
                MatchRule child;
                if (!rule(a.at(i), path + u'.' + key + QStringLiteral("[%1]").arg(i), depth + 1, child))
                    return false;
                out.children.append(std::move(child));
            }
            return true;
        }
        return fail(path, QStringLiteral("unknown match rule \"%1\"").arg(key));
    }

    // A price in USD per million tokens: a non-negative number, or a tiered price
    // {"base": n, "tiers": [{"start": tokens, "price": n}]}.
    bool price(const QJsonValue &v, const QString &path, std::optional<double> &out, QList<PriceTier> &tiers)
    {
        auto number = [&](const QJsonValue &n, const QString &p, double &d) {
            if (!n.isDouble())
                return fail(p, QStringLiteral("not a number"));
            d = n.toDouble();
            if (!std::isfinite(d) || d < 0)
                return fail(p, QStringLiteral("must be a non-negative number of USD per million tokens"));
            if (d > 1e6)
                return fail(p, QStringLiteral("implausible price (over 1,000,000 USD per million tokens)"));
            return true;
        };
        if (v.isObject()) {
            const QJsonObject o = v.toObject();
            double base = 0;
            if (!number(o.value(QLatin1String("base")), path + QLatin1String(".base"), base))
                return false;
            const QJsonValue t = o.value(QLatin1String("tiers"));
            if (!t.isArray())
                return fail(path + QLatin1String(".tiers"), QStringLiteral("not an array"));
            const QJsonArray a = t.toArray();
            for (qsizetype i = 0; i < a.size(); ++i) {
                const QString tp = path + QStringLiteral(".tiers[%1]").arg(i);
                const QJsonObject tier = a.at(i).toObject();
                PriceTier pt;
                const QJsonValue start = tier.value(QLatin1String("start"));
                if (!start.isDouble() || start.toDouble() < 0 || start.toDouble() != std::floor(start.toDouble()) || start.toDouble() > 9.0e15)
                    return fail(tp + QLatin1String(".start"), QStringLiteral("must be a non-negative integer"));
                pt.above = qint64(start.toDouble());
                if (!number(tier.value(QLatin1String("price")), tp + QLatin1String(".price"), pt.usdPerMillion))
                    return false;
                tiers.append(pt);
            }
            std::sort(tiers.begin(), tiers.end(), [](const PriceTier &x, const PriceTier &y) { return x.above < y.above; });
            out = base;
            return true;
        }
        double d = 0;
        if (!number(v, path, d))
            return false;
        out = d;
        return true;
    }

    bool modelPrice(const QJsonValue &value, const QString &path, ModelPrice &out)
    {
        // The prices Gatehouse's usage counts, each with its tiers.
        struct Field {
            QLatin1String name;
            std::optional<double> ModelPrice::*price;
            QList<PriceTier> ModelPrice::*tiers;
        };
        static const Field fields[] = {
            {QLatin1String("input_mtok"), &ModelPrice::input, &ModelPrice::inputTiers},
            {QLatin1String("output_mtok"), &ModelPrice::output, &ModelPrice::outputTiers},
            {QLatin1String("cache_read_mtok"), &ModelPrice::cacheRead, &ModelPrice::cacheReadTiers},
            {QLatin1String("cache_write_mtok"), &ModelPrice::cacheWrite, &ModelPrice::cacheWriteTiers},
            {QLatin1String("cache_write_1h_mtok"), &ModelPrice::cacheWrite1h, &ModelPrice::cacheWrite1hTiers},
        };
        if (!value.isObject())
            return fail(path, QStringLiteral("not an object"));
        const QJsonObject o = value.toObject();
        bool otherOutput = false;
        for (auto it = o.begin(); it != o.end(); ++it) {
            const QString key = it.key();
            const QString p = path + u'.' + key;
            const auto field = std::find_if(std::begin(fields), std::end(fields), [&](const Field &f) { return key == f.name; });
            if (field != std::end(fields)) {
                if (!price(*it, p, out.*(field->price), out.*(field->tiers)))
                    return false;
                continue;
            }
            // Audio, image, search and per-request prices: Gatehouse's usage has no such counts,
            // but the value must still be a price.
            std::optional<double> ignored;
            QList<PriceTier> ignoredTiers;
            if (!price(*it, p, ignored, ignoredTiers))
                return false;
            if (key.startsWith(QLatin1String("output_")))
                otherOutput = true;
        }
        // A text model with an input price and no output price (embeddings, moderation) bills no
        // output; one priced for audio or image output only stays unpriced for text.
        if (out.input && !out.output && !otherOutput)
            out.output = 0.0;
        return true;
    }

    bool schedule(const QJsonValue &value, const QString &path, QList<ScheduledPrice> &out)
    {
        if (value.isObject()) {
            ScheduledPrice s;
            if (!modelPrice(value, path, s.price))
                return false;
            out.append(s);
            return true;
        }
        if (!value.isArray() || value.toArray().isEmpty())
            return fail(path, QStringLiteral("neither a price object nor a non-empty list of conditional prices"));
        const QJsonArray a = value.toArray();
        for (qsizetype i = 0; i < a.size(); ++i) {
            const QString p = path + QStringLiteral("[%1]").arg(i);
            const QJsonObject c = a.at(i).toObject();
            ScheduledPrice s;
            if (!modelPrice(c.value(QLatin1String("prices")), p + QLatin1String(".prices"), s.price))
                return false;
            const QJsonValue constraint = c.value(QLatin1String("constraint"));
            if (!constraint.isUndefined() && !constraint.isNull()
                && !priceConstraint(constraint.toObject(), p + QLatin1String(".constraint"), s))
                return false;
            out.append(s);
        }
        return true;
    }

    // When a conditional price applies: from a start date on, or between two times of day.
    bool priceConstraint(const QJsonObject &k, const QString &cp, ScheduledPrice &s)
    {
        if (k.contains(QLatin1String("start_date"))) {
            const QString text = k.value(QLatin1String("start_date")).toString();
            const QDate d = QDate::fromString(text, Qt::ISODate);
            if (text.size() != 10 || !d.isValid())
                return fail(cp + QLatin1String(".start_date"), QStringLiteral("not a date in the form YYYY-MM-DD"));
            s.constraint = ScheduledPrice::Constraint::StartDate;
            s.startsAt = QDateTime(d, QTime(0, 0), Qt::UTC);
            return true;
        }
        if (k.contains(QLatin1String("start_time")) && k.contains(QLatin1String("end_time"))) {
            s.constraint = ScheduledPrice::Constraint::TimeOfDay;
            return timeOfDay(k.value(QLatin1String("start_time")), cp + QLatin1String(".start_time"), s.startSecond)
                && timeOfDay(k.value(QLatin1String("end_time")), cp + QLatin1String(".end_time"), s.endSecond);
        }
        return fail(cp, QStringLiteral("neither a start date nor a time of day"));
    }

    // "HH:MM:SS[.fff](Z|±HH:MM)" -> seconds after 00:00 UTC.
    bool timeOfDay(const QJsonValue &v, const QString &path, int &out)
    {
        static const QRegularExpression re(QStringLiteral("^(\\d{2}):(\\d{2}):(\\d{2})(?:\\.\\d+)?(Z|([+-])(\\d{2}):(\\d{2}))$"));
        const auto m = re.match(v.toString());
        if (!v.isString() || !m.hasMatch())
            return fail(path, QStringLiteral("not a time of day like 16:30:00Z"));
        const int h = m.captured(1).toInt(), mi = m.captured(2).toInt(), s = m.captured(3).toInt();
        if (h > 23 || mi > 59 || s > 59)
            return fail(path, QStringLiteral("not a time of day like 16:30:00Z"));
        int offset = 0;
        if (m.captured(4) != u"Z")
            offset = (m.captured(6).toInt() * 60 + m.captured(7).toInt()) * 60 * (m.captured(5) == u"+" ? 1 : -1);
        out = ((h * 3600 + mi * 60 + s - offset) % 86400 + 86400) % 86400;
        return true;
    }

    bool model(const QJsonValue &value, const QString &vendor, const QString &path, CatalogModel &out)
    {
        if (!value.isObject())
            return fail(path, QStringLiteral("not an object"));
        const QJsonObject o = value.toObject();
        const QJsonValue id = o.value(QLatin1String("id"));
        if (!id.isString() || id.toString().trimmed().isEmpty())
            return fail(path + QLatin1String(".id"), QStringLiteral("missing or not a non-empty string"));
        out.vendor = vendor;
        out.name = id.toString();
        out.displayName = o.value(QLatin1String("name")).toString();
        if (!rule(o.value(QLatin1String("match")), path + QLatin1String(".match"), 0, out.match))
            return false;
        if (!schedule(o.value(QLatin1String("prices")), path + QLatin1String(".prices"), out.schedule))
            return false;
        const QJsonValue cw = o.value(QLatin1String("context_window"));
        if (!cw.isUndefined() && !cw.isNull()) {
            if (!cw.isDouble() || cw.toDouble() < 0 || cw.toDouble() > 9.0e15)
                return fail(path + QLatin1String(".context_window"), QStringLiteral("must be a non-negative integer"));
            out.contextWindow = qint64(cw.toDouble());
        }
        out.deprecated = o.value(QLatin1String("deprecated")).toBool(false);
        out.price = out.priceAt(QDateTime::currentDateTimeUtc());
        return true;
    }

    bool provider(const QJsonValue &value, const QString &path, CatalogProvider &out)
    {
        if (!value.isObject())
            return fail(path, QStringLiteral("not an object"));
        const QJsonObject o = value.toObject();
        const QJsonValue id = o.value(QLatin1String("id"));
        if (!id.isString() || id.toString().isEmpty())
            return fail(path + QLatin1String(".id"), QStringLiteral("missing or not a non-empty string"));
        out.id = id.toString();
        out.name = o.value(QLatin1String("name")).toString(out.id);
        for (const char *key : {"model_match", "provider_match"}) {
            const QJsonValue r = o.value(QLatin1String(key));
            if (r.isUndefined() || r.isNull())
                continue;
            MatchRule m;
            if (!rule(r, path + u'.' + QLatin1String(key), 0, m))
                return false;
            (qstrcmp(key, "model_match") == 0 ? out.modelMatch : out.providerMatch) = std::move(m);
        }
        for (const QJsonValue &f : o.value(QLatin1String("fallback_model_providers")).toArray())
            out.fallbackProviders.append(f.toString());
        const QJsonValue models = o.value(QLatin1String("models"));
        if (!models.isArray())
            return fail(path + QLatin1String(".models"), QStringLiteral("missing or not an array"));
        const QJsonArray a = models.toArray();
        this->models += a.size();
        if (this->models > kMaxModels)
            return fail(path + QLatin1String(".models"), QStringLiteral("more than %1 models in all").arg(kMaxModels));
        QSet<QString> ids;
        for (qsizetype i = 0; i < a.size(); ++i) {
            CatalogModel m;
            const QString mp = path + QStringLiteral(".models[%1]").arg(i);
            if (!model(a.at(i), out.id, mp, m))
                return false;
            if (ids.contains(m.name))
                return fail(mp + QLatin1String(".id"), QStringLiteral("duplicate model \"%1\"").arg(m.name));
            ids.insert(m.name);
            out.models.append(std::move(m));
        }
        return true;
    }
};

// -20250929 -> -2025-09-29 when it is a real date followed by '-', ':' or the end, as genai-prices
// normalizes Anthropic's compact snapshot dates before a second lookup.
QString expandCompactDates(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("-(20\\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\\d|3[01])(?=-|:|$)"));
    QString out;
    qsizetype last = 0;
    auto it = re.globalMatch(name);
    while (it.hasNext()) {
        const auto m = it.next();
        out += name.mid(last, m.capturedStart() - last);
        const QDate d(m.captured(1).toInt(), m.captured(2).toInt(), m.captured(3).toInt());
        out += d.isValid() ? QStringLiteral("-%1-%2-%3").arg(m.captured(1), m.captured(2), m.captured(3)) : m.captured(0);
        last = m.capturedEnd();
    }
    return out + name.mid(last);
}

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
    QJsonArray providers;
    QString prefix;
    if (doc.isArray()) {
        providers = doc.array();
    } else if (doc.isObject()) {
        const QJsonObject root = doc.object();
        const QJsonValue p = root.value(QLatin1String("providers"));
        if (!p.isArray()) {
            parser.fail(QStringLiteral("providers"), QStringLiteral("missing or not an array"));
            return failed();
        }
        providers = p.toArray();
        prefix = QStringLiteral("providers");
        catalog.m_source = root.value(QLatin1String("source")).toString();
        const QString takenOn = root.value(QLatin1String("taken_on")).toString();
        if (!takenOn.isEmpty()) {
            catalog.m_takenOn = QDate::fromString(takenOn, Qt::ISODate);
            if (takenOn.size() != 10 || !catalog.m_takenOn.isValid()) {
                parser.fail(QStringLiteral("taken_on"), QStringLiteral("not a date in the form YYYY-MM-DD"));
                return failed();
            }
        }
    } else {
        parser.fail(QString(), QStringLiteral("the catalog is neither a list of providers nor an object"));
        return failed();
    }
    if (providers.isEmpty() || providers.size() > kMaxProviders) {
        parser.fail(prefix, QStringLiteral("expected 1 to %1 providers, found %2").arg(kMaxProviders).arg(providers.size()));
        return failed();
    }
    for (qsizetype i = 0; i < providers.size(); ++i) {
        CatalogProvider p;
        if (!parser.provider(providers.at(i), prefix + QStringLiteral("[%1]").arg(i), p))
            return failed();
        if (catalog.m_index.contains(p.id)) {
            parser.fail(prefix + QStringLiteral("[%1].id").arg(i), QStringLiteral("duplicate provider \"%1\"").arg(p.id));
            return failed();
        }
        catalog.m_index.insert(p.id, catalog.m_providers.size());
        catalog.m_providers.append(std::move(p));
    }
    if (error)
        error->clear();
    return catalog;
}

const PriceCatalog &PriceCatalog::bundled()
{
    static const PriceCatalog catalog = [] {
        const QString path = QStringLiteral(":/gatehouse/genai-prices.json");
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

namespace {
QMutex g_currentMutex;
std::shared_ptr<const PriceCatalog> g_current; // guarded by g_currentMutex
} // namespace

std::shared_ptr<const PriceCatalog> PriceCatalog::current()
{
    QMutexLocker lock(&g_currentMutex);
    if (!g_current)
        g_current = std::shared_ptr<const PriceCatalog>(&bundled(), [](const PriceCatalog *) {});
    return g_current;
}

void PriceCatalog::setCurrent(std::shared_ptr<const PriceCatalog> catalog)
{
    QMutexLocker lock(&g_currentMutex);
    g_current = std::move(catalog);
}

QString PriceCatalog::vendorFor(const QString &providerIdOrCatalog) const
{
    const QString id = providerIdOrCatalog.trimmed().toLower();
    if (id.isEmpty())
        return {};
    if (m_index.contains(id))
        return id;
    for (const CatalogProvider &p : m_providers) {
        if (p.providerMatch && p.providerMatch->matches(id))
            return p.id;
    }
    return {};
}

const CatalogProvider *PriceCatalog::provider(const QString &vendor) const
{
    const QString id = vendorFor(vendor);
    const auto it = m_index.constFind(id);
    return it == m_index.cend() ? nullptr : &m_providers.at(*it);
}

QList<CatalogModel> PriceCatalog::models(const QString &vendor) const
{
    const CatalogProvider *p = provider(vendor);
    return p ? p->models : QList<CatalogModel>();
}

const CatalogModel *PriceCatalog::find(const QString &vendor, const QString &model) const
{
    const CatalogProvider *p = provider(vendor);
    const QString name = model.trimmed();
    if (!p || name.isEmpty())
        return nullptr;
    auto direct = [](const CatalogProvider &prov, const QString &n) -> const CatalogModel * {
        for (const CatalogModel &m : prov.models) {
            if (m.match.matches(n))
                return &m;
        }
        return nullptr;
    };
    auto withFallbacks = [&](const QString &n) -> const CatalogModel * {
        if (const CatalogModel *m = direct(*p, n))
            return m;
        for (const QString &f : p->fallbackProviders) {
            const auto it = m_index.constFind(f);
            if (it != m_index.cend()) {
                if (const CatalogModel *m = direct(m_providers.at(*it), n))
                    return m;
            }
        }
        return nullptr;
    };
    if (const CatalogModel *m = withFallbacks(name))
        return m;
    const QString expanded = expandCompactDates(name);
    return expanded != name ? withFallbacks(expanded) : nullptr;
}

QString PriceCatalog::familyOf(const QString &model, bool *byFamilyRule) const
{
    if (byFamilyRule)
        *byFamilyRule = false;
    const QString name = model.trimmed();
    if (name.isEmpty() || name.contains(u'/'))
        return {};
    for (const CatalogProvider &p : m_providers) {
        if (p.modelMatch && p.modelMatch->matches(name)) {
            if (byFamilyRule)
                *byFamilyRule = true;
            return p.id;
        }
    }
    // Names outside the family rules (codex-mini is OpenAI's but not gpt-*): the first provider with
    // a family rule that lists the model itself.
    for (const CatalogProvider &p : m_providers) {
        if (!p.modelMatch)
            continue;
        for (const CatalogModel &m : p.models) {
            if (m.match.matches(name))
                return p.id;
        }
    }
    return {};
}

int PriceCatalog::size() const
{
    int n = 0;
    for (const CatalogProvider &p : m_providers)
        n += int(p.models.size());
    return n;
}

CatalogDiff PriceCatalog::diff(const PriceCatalog &newer) const
{
    CatalogDiff d;
    QHash<QString, const CatalogModel *> old;
    for (const CatalogProvider &p : m_providers) {
        for (const CatalogModel &m : p.models)
            old.insert(p.id + u'\n' + m.name, &m);
    }
    QSet<QString> seen;
    for (const CatalogProvider &p : newer.m_providers) {
        for (const CatalogModel &m : p.models) {
            const QString key = p.id + u'\n' + m.name;
            seen.insert(key);
            const CatalogModel *before = old.value(key);
            if (!before) {
                ++d.added;
            } else if (before->schedule.size() != m.schedule.size()
                       || !std::equal(before->schedule.cbegin(), before->schedule.cend(), m.schedule.cbegin(),
                                      [](const ScheduledPrice &a, const ScheduledPrice &b) {
                                          return a.constraint == b.constraint && a.startsAt == b.startsAt
                                              && a.startSecond == b.startSecond && a.endSecond == b.endSecond && a.price == b.price;
                                      })) {
                ++d.repriced;
            }
        }
    }
    for (auto it = old.cbegin(); it != old.cend(); ++it)
        d.removed += seen.contains(it.key()) ? 0 : 1;
    return d;
}

} // namespace gh
