#include "routing/registry.h"
#include "core/logging.h"
#include "pricing/pricecatalog.h"
#include <QMutexLocker>
#include <algorithm>

namespace gh {

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

std::optional<ModelEntry> RegistrySnapshot::resolve(const QString &name, ResolveError *error, QStringList *candidates) const
{
    auto fail = [&](ResolveError e) -> std::optional<ModelEntry> {
        if (error)
            *error = e;
        return std::nullopt;
    };
    if (error)
        *error = ResolveError::None;
    if (auto it = models.constFind(name); it != models.cend()) {
        if (!it->provider->config.enabled)
            return fail(ResolveError::ProviderDisabled);
        return *it;
    }
    // A bare upstream name offered by exactly one provider. Disabled providers do not count, and one
    // provider listing the name under several ids (an alias and the catalog entry) is not ambiguous:
    // its canonical provider/name id wins.
    if (auto it = idsByUpstream.constFind(name); it != idsByUpstream.cend()) {
        QStringList enabled;
        QStringList providerIds;
        for (const QString &id : *it) {
            const auto mit = models.constFind(id);
            if (mit == models.cend() || !mit->provider->config.enabled)
                continue;
            enabled.append(id);
            if (!providerIds.contains(mit->config.provider))
                providerIds.append(mit->config.provider);
        }
        if (enabled.isEmpty())
            return fail(ResolveError::ProviderDisabled);
        if (providerIds.size() == 1) {
            const QString canonical = providerIds.first() + u'/' + name;
            return resolve(enabled.contains(canonical) ? canonical : enabled.first(), error, candidates);
        }
        if (candidates)
            *candidates = enabled;
        return fail(ResolveError::Ambiguous);
    }
    // provider/anything: a model the catalog and the config do not list (new models, local models).
    const qsizetype slash = name.indexOf(u'/');
    if (slash > 0 && slash + 1 < name.size()) {
        auto pit = providers.constFind(name.left(slash));
        if (pit != providers.cend()) {
            if (!(*pit)->config.enabled)
                return fail(ResolveError::ProviderDisabled);
            ModelEntry entry;
            entry.config.id = name;
            entry.config.provider = (*pit)->config.id;
            entry.config.upstreamModel = name.mid(slash + 1);
            entry.provider = *pit;
            entry.listed = false;
            return entry;
        }
    }
    return fail(ResolveError::Unknown);
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

std::shared_ptr<const RegistrySnapshot>
Registry::build(const QList<ProviderConfig> &providers, const QList<ModelConfig> &models, const QList<KeyEntry> &keys,
                const QList<QByteArray> &keyHashes, const QHash<QString, ProviderSecret> &secrets, QStringList *warnings,
                const QList<RouteConfig> &routes, const QHash<QString, VoteStats> &votes)
{
    auto snap = std::make_shared<RegistrySnapshot>();
    const PriceCatalog &catalog = PriceCatalog::bundled();

    for (const ProviderConfig &p : providers) {
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
        const auto secret = secrets.value(p.id);
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
        snap->providers.insert(p.id, entry);
    }

    auto addModel = [&](const ModelConfig &m) {
        auto pit = snap->providers.constFind(m.provider);
        if (pit == snap->providers.cend()) {
            if (warnings)
                warnings->append(QStringLiteral("model %1: unknown provider %2").arg(m.id, m.provider));
            return;
        }
        ModelEntry e{m, *pit, true};
        snap->models.insert(m.id, e);
    };

    // Bundled catalog models for providers whose catalog vendor is known.
    for (const ProviderConfig &p : providers) {
        const QString vendor = p.catalog.isEmpty() ? p.id : p.catalog;
        if (!catalog.hasVendor(vendor))
            continue;
        for (const CatalogModel &c : catalog.models(vendor))
            addModel(fromCatalog(c, p.id));
    }
    // Models from the configuration override catalog entries; missing prices and limits are taken
    // from the catalog when it knows the upstream model.
    for (ModelConfig m : models) {
        auto pit = snap->providers.constFind(m.provider);
        if (pit != snap->providers.cend()) {
            const ProviderConfig &p = (*pit)->config;
            const QString vendor = p.catalog.isEmpty() ? p.id : p.catalog;
            if (const CatalogModel *c = catalog.find(vendor, m.upstreamModel)) {
                if (!m.price.input && !m.price.output) {
                    // The catalog's prices, with any cache price the config does give.
                    ModelPrice merged = c->price;
                    if (m.price.cacheRead)
                        merged.cacheRead = m.price.cacheRead;
                    if (m.price.cacheWrite)
                        merged.cacheWrite = m.price.cacheWrite;
                    if (m.price.cacheWrite1h)
                        merged.cacheWrite1h = m.price.cacheWrite1h;
                    m.price = merged;
                }
                if (m.contextWindow == 0)
                    m.contextWindow = c->contextWindow;
                if (m.maxOutputTokens == 0)
                    m.maxOutputTokens = c->maxOutputTokens;
                if (!m.capabilities && !c->capabilities.isEmpty())
                    m.capabilities = c->capabilities;
            }
        }
        addModel(m);
    }

    for (auto it = snap->models.cbegin(); it != snap->models.cend(); ++it)
        snap->idsByUpstream[it->config.upstreamModel].append(it.key());
    for (auto &ids : snap->idsByUpstream)
        ids.sort();
    snap->modelOrder = snap->models.keys();
    snap->modelOrder.sort();

    for (const RouteConfig &r : routes) {
        if (snap->models.contains(r.id)) {
            qCWarning(lcConfig) << "route" << r.id << "ignored: a model has the same id";
            if (warnings)
                warnings->append(QStringLiteral("route %1: ignored, a model has the same id").arg(r.id));
            continue;
        }
        if (snap->routes.contains(r.id)) {
            if (warnings)
                warnings->append(QStringLiteral("route %1: listed twice, the first one is used").arg(r.id));
            continue;
        }
        snap->routes.insert(r.id, r);
        snap->routeOrder.append(r.id);
    }
    snap->routeOrder.sort();
    snap->votes = votes;

    for (qsizetype i = 0; i < keys.size() && i < keyHashes.size(); ++i)
        snap->keysByHash.insert(keyHashes[i], keys[i]);
    return snap;
}

} // namespace gh
