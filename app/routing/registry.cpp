#include "routing/registry.h"
#include "core/logging.h"
#include "pricing/pricecatalog.h"
#include <QMutexLocker>
#include <QRegularExpression>
#include <algorithm>

namespace gh {

namespace {
// A local server's price: $0 per token, known (it runs on the user's own machine).
ModelPrice localPrice()
{
    ModelPrice p;
    p.input = 0.0;
    p.output = 0.0;
    return p;
}
} // namespace

bool globMatch(QStringView pattern, QStringView text)
{
    // Iterative wildcard match with backtracking to the last '*'.
    qsizetype p = 0, t = 0, star = -1, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == u'?' || pattern[p] == text[t])) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == u'*') {
            star = p++;
            mark = t;
        } else if (star >= 0) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == u'*')
        ++p;
    return p == pattern.size();
}

bool KeyEntry::allows(const QString &modelId) const
{
    if (allowModels.isEmpty())
        return true;
    return std::any_of(allowModels.cbegin(), allowModels.cend(),
                       [&](const QString &pattern) { return globMatch(pattern, modelId); });
}

const KeyEntry *RegistrySnapshot::keyByHash(const QByteArray &hash) const
{
    auto it = keysByHash.constFind(hash);
    return it == keysByHash.cend() ? nullptr : &it.value();
}

ModelPrice ModelEntry::priceAt(const QDateTime &when) const
{
    if (schedule.size() < 2)
        return config.price;
    CatalogModel m;
    m.schedule = schedule;
    return m.priceAt(when);
}

QString RegistrySnapshot::vendorOf(const ProviderConfig &provider) const
{
    if (!catalog)
        return {};
    return catalog->vendorFor(provider.catalog.isEmpty() ? provider.id : provider.catalog);
}

QString RegistrySnapshot::applyAliases(const QString &name) const
{
    for (const ModelAlias &a : aliases) {
        if (globMatch(a.match, name))
            return a.to;
    }
    return name;
}

QStringList RegistrySnapshot::servedFamilies() const
{
    QStringList out;
    for (const QString &id : providerOrder) {
        const auto p = providers.value(id);
        if (!p || !p->config.enabled)
            continue;
        const QString vendor = vendorOf(p->config);
        const CatalogProvider *cp = catalog ? catalog->provider(vendor) : nullptr;
        if (cp && cp->modelMatch && !out.contains(vendor))
            out.append(vendor);
    }
    return out;
}

namespace {

// OpenRouter writes a vendor's versions with dots: claude-opus-4-8 is anthropic/claude-opus-4.8.
// Only a single-digit version pair is joined, so a snapshot date (-20251001) stays as it is.
QString dottedVersions(const QString &name)
{
    static const QRegularExpression re(QStringLiteral("(?<=-\\d)-(?=\\d(?:\\D|$))"));
    QString out = name;
    return out.replace(re, QStringLiteral("."));
}

// The prefix an aggregator uses for a vendor's models.
QString aggregatorPrefix(const QString &vendor)
{
    if (vendor == u"mistral")
        return QStringLiteral("mistralai");
    return vendor;
}

bool isAggregator(const QString &vendor)
{
    return vendor == u"openrouter";
}

using ResolveError = RegistrySnapshot::ResolveError;

std::optional<ModelEntry> failWith(ResolveError *error, ResolveError e)
{
    if (error)
        *error = e;
    return std::nullopt;
}

// Any model of a known provider, listed or not: priced when the catalog's rules know it.
ModelEntry unlistedModel(const RegistrySnapshot &snap, const std::shared_ptr<const ProviderEntry> &p, const QString &upstream)
{
    ModelEntry entry;
    entry.config.id = p->config.id + u'/' + upstream;
    entry.config.provider = p->config.id;
    entry.config.upstreamModel = upstream;
    entry.provider = p;
    entry.listed = false;
    if (p->config.local) {
        entry.config.price = localPrice();
    } else if (snap.catalog) {
        if (const CatalogModel *c = snap.catalog->find(snap.vendorOf(p->config), upstream)) {
            entry.config.price = c->price;
            entry.config.contextWindow = c->contextWindow;
            entry.config.fromCatalog = true;
            if (c->schedule.size() > 1)
                entry.schedule = c->schedule;
        }
    }
    return entry;
}

// A bare name on the provider the request pins (x-gatehouse-provider).
std::optional<ModelEntry> resolvePinned(const RegistrySnapshot &snap, const QString &name, const QString &pinnedProvider,
                                        ResolveError *error, QStringList *candidates)
{
    const auto pit = snap.providers.constFind(pinnedProvider);
    if (pit == snap.providers.cend()) {
        if (candidates)
            *candidates = snap.providerOrder;
        return failWith(error, ResolveError::Unknown);
    }
    if (!(*pit)->config.enabled)
        return failWith(error, ResolveError::ProviderDisabled);
    const QString canonical = pinnedProvider + u'/' + name;
    if (auto it = snap.models.constFind(canonical); it != snap.models.cend())
        return *it;
    const QString vendor = snap.vendorOf((*pit)->config);
    if (isAggregator(vendor) && snap.catalog) {
        const QString family = snap.catalog->familyOf(name);
        if (!family.isEmpty())
            return unlistedModel(snap, *pit, snap.aggregatorUpstream(family, name));
    }
    return unlistedModel(snap, *pit, name);
}

// The ids that list an upstream name on enabled providers, and those providers (each once).
struct Listings {
    QStringList enabled;
    QStringList providerIds;
};

Listings enabledListings(const RegistrySnapshot &snap, const QStringList &ids)
{
    Listings out;
    for (const QString &id : ids) {
        const auto mit = snap.models.constFind(id);
        if (mit == snap.models.cend() || !mit->provider->config.enabled)
            continue;
        out.enabled.append(id);
        if (!out.providerIds.contains(mit->config.provider))
            out.providerIds.append(mit->config.provider);
    }
    return out;
}

// Among several providers listing a bare name, the vendor's own (Vertex lists Claude too): the
// first of them in providerOrder, its canonical id when listed. Empty when none is the vendor's.
QString vendorsOwnListing(const RegistrySnapshot &snap, const QString &name, const Listings &listings)
{
    const QString family = snap.catalog ? snap.catalog->familyOf(name) : QString();
    if (family.isEmpty())
        return {};
    for (const QString &id : snap.providerOrder) {
        const auto p = snap.providers.value(id);
        if (!listings.providerIds.contains(id) || snap.vendorOf(p->config) != family)
            continue;
        const QString canonical = id + u'/' + name;
        for (const QString &candidate : listings.enabled) {
            if (snap.models.value(candidate).config.provider == id)
                return listings.enabled.contains(canonical) ? canonical : candidate;
        }
    }
    return {};
}

// The id a bare upstream name resolves as among the ids listing it. Empty when only disabled
// providers list it, or when several providers do and none is the vendor's own: then `ambiguous`
// is set and `candidates` gets the enabled ids.
QString listedUpstreamId(const RegistrySnapshot &snap, const QString &name, const QStringList &ids,
                         QStringList *candidates, bool *ambiguous)
{
    const Listings listings = enabledListings(snap, ids);
    if (listings.providerIds.size() == 1) {
        const QString canonical = listings.providerIds.first() + u'/' + name;
        return listings.enabled.contains(canonical) ? canonical : listings.enabled.first();
    }
    if (listings.providerIds.size() > 1) {
        if (QString id = vendorsOwnListing(snap, name, listings); !id.isEmpty())
            return id;
        if (candidates)
            *candidates = listings.enabled;
        *ambiguous = true;
    }
    return {};
}

// A bare name of a vendor's family: the first enabled provider of that vendor in providerOrder,
// else the first aggregator.
std::optional<ModelEntry> resolveByFamily(const RegistrySnapshot &snap, const QString &name, ResolveError *error)
{
    bool byFamilyRule = false;
    const QString family = snap.catalog->familyOf(name, &byFamilyRule);
    if (family.isEmpty())
        return failWith(error, ResolveError::Unknown);
    std::shared_ptr<const ProviderEntry> direct, aggregator;
    bool disabled = false;
    for (const QString &id : snap.providerOrder) {
        const auto p = snap.providers.value(id);
        const QString vendor = snap.vendorOf(p->config);
        const bool serves = vendor == family;
        if (!serves && !isAggregator(vendor))
            continue;
        if (!p->config.enabled) {
            disabled = disabled || serves;
            continue;
        }
        if (serves && !direct)
            direct = p;
        else if (!serves && !aggregator)
            aggregator = p;
    }
    if (direct)
        return unlistedModel(snap, direct, name);
    // An aggregator names a model by its maker (anthropic/…): only for a maker's family rule,
    // not for a host's own listing of an open model.
    if (aggregator && byFamilyRule)
        return unlistedModel(snap, aggregator, snap.aggregatorUpstream(family, name));
    return failWith(error, disabled ? ResolveError::ProviderDisabled : ResolveError::Unknown);
}

} // namespace

std::optional<ModelEntry> RegistrySnapshot::resolve(const QString &name, ResolveError *error, QStringList *candidates,
                                                    const QString &pinnedProvider) const
{
    if (error)
        *error = ResolveError::None;
    if (auto it = models.constFind(name); it != models.cend()) {
        if (!it->provider->config.enabled)
            return failWith(error, ResolveError::ProviderDisabled);
        return *it;
    }
    const bool bare = !name.contains(u'/');
    if (bare && !pinnedProvider.isEmpty())
        return resolvePinned(*this, name, pinnedProvider, error, candidates);
    // A bare upstream name offered by exactly one provider. Disabled providers do not count, and one
    // provider listing the name under several ids (an alias and the catalog entry) is not ambiguous:
    // its canonical provider/name id wins.
    if (auto it = idsByUpstream.constFind(name); it != idsByUpstream.cend()) {
        bool ambiguous = false;
        if (const QString id = listedUpstreamId(*this, name, *it, candidates, &ambiguous); !id.isEmpty())
            return resolve(id, error, candidates);
        if (ambiguous)
            return failWith(error, ResolveError::Ambiguous);
        // Listed only by disabled providers: another provider of the family may still serve it.
    }
    // provider/anything: a model the catalog and the config do not list (new models, local models).
    const qsizetype slash = name.indexOf(u'/');
    if (slash > 0 && slash + 1 < name.size()) {
        auto pit = providers.constFind(name.left(slash));
        if (pit != providers.cend()) {
            if (!(*pit)->config.enabled)
                return failWith(error, ResolveError::ProviderDisabled);
            return unlistedModel(*this, *pit, name.mid(slash + 1));
        }
    }
    if (bare && catalog)
        return resolveByFamily(*this, name, error);
    return failWith(error, ResolveError::Unknown);
}

QString RegistrySnapshot::aggregatorUpstream(const QString &family, const QString &name) const
{
    // The aggregator's own id for the model when the catalog knows one, else vendor/name with
    // dotted versions (its naming), unpriced.
    const QString prefix = aggregatorPrefix(family) + u'/';
    if (catalog) {
        for (const QString &candidate : {prefix + name, prefix + dottedVersions(name)}) {
            if (const CatalogModel *c = catalog->find(QStringLiteral("openrouter"), candidate))
                return c->name;
        }
    }
    return prefix + dottedVersions(name);
}

std::shared_ptr<const RegistrySnapshot> Registry::snapshot() const
{
    QMutexLocker lock(&m_mutex);
    return m_snapshot;
}

void Registry::setSnapshot(std::shared_ptr<const RegistrySnapshot> snapshot)
{
    QMutexLocker lock(&m_mutex);
    m_snapshot = std::move(snapshot);
}

static ModelConfig fromCatalog(const CatalogModel &c, const QString &providerId)
{
    ModelConfig m;
    m.id = providerId + u'/' + c.name;
    m.provider = providerId;
    m.upstreamModel = c.name;
    m.price = c.price;
    m.contextWindow = c.contextWindow;
    m.maxOutputTokens = c.maxOutputTokens;
    m.fromCatalog = true;
    // The catalog lists what a model can do; an entry without the list says nothing (unknown).
    if (!c.capabilities.isEmpty())
        m.capabilities = c.capabilities;
    return m;
}

namespace {

// What the request path needs of a provider: its pool key, base path and auth header.
std::shared_ptr<ProviderEntry> providerEntry(const ProviderConfig &p, const Registry::ProviderSecret &secret)
{
    auto entry = std::make_shared<ProviderEntry>();
    entry->config = p;
    entry->tls = p.baseUrl.scheme() == u"https";
    entry->host = p.baseUrl.host(QUrl::FullyEncoded).toLatin1();
    entry->port = quint16(p.baseUrl.port(entry->tls ? 443 : 80));
    entry->poolKey = (entry->tls ? QByteArray("https://") : QByteArray("http://")) + entry->host + ':' + QByteArray::number(entry->port);
    QByteArray path = p.baseUrl.path(QUrl::FullyEncoded).toLatin1();
    while (path.endsWith('/'))
        path.chop(1);
    entry->basePath = path;
    entry->keySource = secret.source;
    if (!secret.value.isEmpty()) {
        switch (p.format) {
        case ProviderFormat::OpenAI:
            entry->authName = "authorization";
            entry->authValue = "Bearer " + secret.value.toUtf8();
            break;
        case ProviderFormat::Anthropic:
            entry->authName = "x-api-key";
            entry->authValue = secret.value.toUtf8();
            break;
        case ProviderFormat::Gemini:
            entry->authName = "x-goog-api-key";
            entry->authValue = secret.value.toUtf8();
            break;
        }
    }
    return entry;
}

// A configured model with what it leaves out taken from the catalog's entry for its upstream model:
// prices (with any cache price the config gives; then `schedule` stays empty, else it gets the
// catalog's price schedule), context window, output limit, capabilities.
ModelConfig withCatalogDefaults(ModelConfig m, const CatalogModel &c, QList<ScheduledPrice> &schedule)
{
    if (!m.price.input && !m.price.output) {
        // The user's price, when given, wins; a catalog price that changes over time
        // follows its schedule unless a cache price is overridden.
        if (!m.price.cacheRead && !m.price.cacheWrite && !m.price.cacheWrite1h)
            schedule = c.schedule;
        // The catalog's prices, with any cache price the config does give.
        ModelPrice merged = c.price;
        if (m.price.cacheRead) {
            merged.cacheRead = m.price.cacheRead;
            merged.cacheReadTiers.clear();
        }
        if (m.price.cacheWrite) {
            merged.cacheWrite = m.price.cacheWrite;
            merged.cacheWriteTiers.clear();
        }
        if (m.price.cacheWrite1h) {
            merged.cacheWrite1h = m.price.cacheWrite1h;
            merged.cacheWrite1hTiers.clear();
        }
        m.price = merged;
    }
    if (m.contextWindow == 0)
        m.contextWindow = c.contextWindow;
    if (m.maxOutputTokens == 0)
        m.maxOutputTokens = c.maxOutputTokens;
    if (!m.capabilities && !c.capabilities.isEmpty())
        m.capabilities = c.capabilities;
    return m;
}

// Adds (or replaces) a model of a known provider; a local provider's unpriced model costs nothing.
void addModel(RegistrySnapshot &snap, const ModelConfig &m, const QList<ScheduledPrice> &schedule, QStringList *warnings)
{
    auto pit = snap.providers.constFind(m.provider);
    if (pit == snap.providers.cend()) {
        if (warnings)
            warnings->append(QStringLiteral("model %1: unknown provider %2").arg(m.id, m.provider));
        return;
    }
    ModelEntry e{m, *pit, true, schedule.size() > 1 ? schedule : QList<ScheduledPrice>()};
    if ((*pit)->config.local && !e.config.price.isPriced())
        e.config.price = localPrice();
    snap.models.insert(m.id, e);
}

// The routes as aliases; one whose id is a model's, or listed twice, is left out with a warning.
void addRoutes(RegistrySnapshot &snap, const QList<RouteConfig> &routes, QStringList *warnings)
{
    for (const RouteConfig &r : routes) {
        if (snap.models.contains(r.id)) {
            qCWarning(lcConfig) << "route" << r.id << "ignored: a model has the same id";
            if (warnings)
                warnings->append(QStringLiteral("route %1: ignored, a model has the same id").arg(r.id));
            continue;
        }
        if (snap.routes.contains(r.id)) {
            if (warnings)
                warnings->append(QStringLiteral("route %1: listed twice, the first one is used").arg(r.id));
            continue;
        }
        snap.routes.insert(r.id, r);
        snap.routeOrder.append(r.id);
    }
    snap.routeOrder.sort();
}

} // namespace

std::shared_ptr<const RegistrySnapshot>
Registry::build(const QList<ProviderConfig> &providers, const QList<ModelConfig> &models, const QList<KeyEntry> &keys,
                const QList<QByteArray> &keyHashes, const QHash<QString, ProviderSecret> &secrets, QStringList *warnings,
                const QList<RouteConfig> &routes, const QHash<QString, VoteStats> &votes,
                const QList<ModelAlias> &aliases, std::shared_ptr<const PriceCatalog> catalogPtr)
{
    auto snap = std::make_shared<RegistrySnapshot>();
    snap->catalog = catalogPtr ? std::move(catalogPtr) : PriceCatalog::current();
    snap->aliases = aliases;
    const PriceCatalog &catalog = *snap->catalog;

    for (const ProviderConfig &p : providers) {
        snap->providers.insert(p.id, providerEntry(p, secrets.value(p.id)));
        if (!snap->providerOrder.contains(p.id))
            snap->providerOrder.append(p.id);
    }

    // Catalog models (not the deprecated ones) for providers whose catalog vendor is known.
    for (const ProviderConfig &p : providers) {
        const CatalogProvider *vendor = catalog.provider(snap->vendorOf(p));
        if (!vendor)
            continue;
        for (const CatalogModel &c : vendor->models) {
            if (!c.deprecated)
                addModel(*snap, fromCatalog(c, p.id), c.schedule, warnings);
        }
    }
    // Models from the configuration override catalog entries; missing prices and limits are taken
    // from the catalog when it knows the upstream model.
    for (const ModelConfig &m : models) {
        auto pit = snap->providers.constFind(m.provider);
        QList<ScheduledPrice> schedule;
        const CatalogModel *c =
            pit != snap->providers.cend() ? catalog.find(snap->vendorOf((*pit)->config), m.upstreamModel) : nullptr;
        const ModelConfig merged = c ? withCatalogDefaults(m, *c, schedule) : m;
        addModel(*snap, merged, schedule, warnings);
    }

    for (auto it = snap->models.cbegin(); it != snap->models.cend(); ++it)
        snap->idsByUpstream[it->config.upstreamModel].append(it.key());
    for (auto &ids : snap->idsByUpstream)
        ids.sort();
    snap->modelOrder = snap->models.keys();
    snap->modelOrder.sort();

    addRoutes(*snap, routes, warnings);
    snap->votes = votes;

    for (qsizetype i = 0; i < keys.size() && i < keyHashes.size(); ++i)
        snap->keysByHash.insert(keyHashes[i], keys[i]);
    return snap;
}

} // namespace gh
