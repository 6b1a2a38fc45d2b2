#include "providersmodel.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "routing/datapolicycheck.h"
#include "routing/registry.h"
#include "secrets/secretstore.h"
#include "store/requestrecord.h"
#include <algorithm>
#include <cmath>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>

namespace gh::ui {

namespace {

struct Known {
    const char *id;
    const char *name;
    const char *format;
    const char *baseUrl;
    bool needsKey;
    const char *keyEnv;
};

// Gemini and Anthropic are reached with their own authentication headers; Gemini through its
// OpenAI-compatible endpoint so OpenAI-format clients can use it.
constexpr Known kKnown[] = {
    {"openai", "OpenAI", "openai", "https://api.openai.com/v1", true, "OPENAI_API_KEY"},
    {"anthropic", "Anthropic", "anthropic", "https://api.anthropic.com/v1", true, "ANTHROPIC_API_KEY"},
    {"google", "Google Gemini", "gemini", "https://generativelanguage.googleapis.com/v1beta/openai", true,
        "GEMINI_API_KEY"},
    {"openrouter", "OpenRouter", "openai", "https://openrouter.ai/api/v1", true, "OPENROUTER_API_KEY"},
    {"deepseek", "DeepSeek", "openai", "https://api.deepseek.com/v1", true, "DEEPSEEK_API_KEY"},
    {"mistral", "Mistral", "openai", "https://api.mistral.ai/v1", true, "MISTRAL_API_KEY"},
    {"xai", "xAI", "openai", "https://api.x.ai/v1", true, "XAI_API_KEY"},
    {"groq", "Groq", "openai", "https://api.groq.com/openai/v1", true, "GROQ_API_KEY"},
    {"together", "Together AI", "openai", "https://api.together.xyz/v1", true, "TOGETHER_API_KEY"},
    {"ollama", "Ollama", "openai", "http://127.0.0.1:11434/v1", false, ""},
    {"lmstudio", "LM Studio", "openai", "http://127.0.0.1:1234/v1", false, ""},
    {"custom", "Custom (OpenAI-compatible)", "openai", "", false, ""},
};

const Known *known(const QString &id)
{
    for (const Known &k : kKnown) {
        if (id == QLatin1String(k.id))
            return &k;
    }
    return nullptr;
}

QString providerErrorMessage(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonValue error = doc.object().value(QStringLiteral("error"));
        if (error.isObject()) {
            const QString m = error.toObject().value(QStringLiteral("message")).toString();
            if (!m.isEmpty())
                return m;
        }
        if (error.isString())
            return error.toString();
        const QString m = doc.object().value(QStringLiteral("message")).toString();
        if (!m.isEmpty())
            return m;
    }
    if (doc.isArray() && !doc.array().isEmpty()) // Gemini answers some errors as [{"error": ...}]
        return providerErrorMessage(QJsonDocument(doc.array().first().toObject()).toJson());
    return QString::fromUtf8(body.left(200)).simplified();
}

QStringList modelIds(const QByteArray &body, bool *ok)
{
    QStringList ids;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    *ok = doc.isObject();
    const QJsonObject o = doc.object();
    if (o.value(QStringLiteral("data")).isArray()) { // OpenAI, Anthropic and the compatible ones
        for (const QJsonValue &m : o.value(QStringLiteral("data")).toArray())
            ids.append(m.toObject().value(QStringLiteral("id")).toString());
    } else if (o.value(QStringLiteral("models")).isArray()) { // Gemini's native list, Ollama's /api/tags
        for (const QJsonValue &m : o.value(QStringLiteral("models")).toArray()) {
            QString name = m.toObject().value(QStringLiteral("name")).toString();
            if (name.startsWith(QLatin1String("models/")))
                name = name.mid(7);
            ids.append(name);
        }
    } else {
        *ok = false;
    }
    ids.removeAll(QString());
    return ids;
}

} // namespace

ProvidersModel::ProvidersModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

ProvidersModel::ProvidersModel(Backend *backend, QObject *parent)
    : ProvidersModel(parent)
{
    setBackend(backend);
}

void ProvidersModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "ProvidersModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void ProvidersModel::attachBackend()
{
    // A view may hold this model before QML gives it its backend: the first load is a reset.
    beginResetModel();
    m_providers = m_backend->store().providers();
    endResetModel();
    Q_EMIT countChanged();
    connect(m_backend, &Backend::providersChanged, this, &ProvidersModel::reloadProviders);
    connect(m_backend, &Backend::keychainAvailableChanged, this, [this] {
        Q_EMIT keychainAvailableChanged();
        if (!m_backend->keychainAvailable())
            return;
        // The keyring answers again (unlocked): store the keys it refused before.
        for (auto it = m_keyStates.cbegin(); it != m_keyStates.cend(); ++it) {
            if (it.value().first == QLatin1String("failed") && m_pendingKeys.contains(it.key()))
                QMetaObject::invokeMethod(this, [this, id = it.key()] { retryApiKey(id); }, Qt::QueuedConnection);
        }
    });
    connect(m_backend->gateway().events(), &GatewayEvents::requestFinished, this,
        [this](const RequestRecord &r) { recordRequest(r, QDateTime::currentMSecsSinceEpoch()); });
    m_healthTimer.setInterval(2000);
    connect(&m_healthTimer, &QTimer::timeout, this, [this] {
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        for (qsizetype i = 0; i < m_providers.size(); ++i) {
            const QString id = m_providers[i].id;
            const QString h = health(id, now);
            if (m_health.value(id) != h) {
                m_health.insert(id, h);
                Q_EMIT dataChanged(index(int(i)), index(int(i)), {HealthRole});
            }
        }
    });
    m_healthTimer.start();
}

ProvidersModel::~ProvidersModel() = default;

bool ProvidersModel::keychainAvailable() const
{
    return m_backend && m_backend->keychainAvailable();
}

int ProvidersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_providers.size());
}

QHash<int, QByteArray> ProvidersModel::roleNames() const
{
    return {{ProviderIdRole, "providerId"}, {DisplayNameRole, "displayName"}, {FormatRole, "format"},
        {BaseUrlRole, "baseUrl"}, {KeySourceRole, "keySource"}, {HasKeyRole, "hasKey"}, {EnabledRole, "enabled"},
        {ModelCountRole, "modelCount"}, {TestStateRole, "testState"}, {TestMessageRole, "testMessage"},
        {HealthRole, "health"}, {ApiKeyEnvRole, "apiKeyEnv"}, {NeedsKeyRole, "needsKey"},
        {TestModelsRole, "testModels"}, {KeyStateRole, "keyState"}, {KeyMessageRole, "keyMessage"},
        {PolicySummaryRole, "policySummary"}, {PolicyRole, "policy"}};
}

QVariant ProvidersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ProviderConfig &p = m_providers.at(index.row());
    const auto snapshot = m_backend->context().registry.snapshot();
    const auto entry = snapshot->providers.value(p.id);
    const Test test = m_tests.value(p.id);
    switch (role) {
    case ProviderIdRole:
        return p.id;
    case DisplayNameRole:
    case Qt::DisplayRole: {
        const Known *k = known(p.id);
        return k ? QString::fromLatin1(k->name) : p.id;
    }
    case FormatRole:
        return formatName(p.format);
    case BaseUrlRole:
        return p.baseUrl.toString();
    case KeySourceRole:
        return entry ? entry->keySource : QString();
    case HasKeyRole:
        return entry && !entry->keySource.isEmpty();
    case EnabledRole:
        return p.enabled;
    case ModelCountRole: {
        if (test.modelCount >= 0)
            return test.modelCount;
        int n = 0;
        for (const ModelEntry &m : snapshot->models) {
            if (m.listed && m.config.provider == p.id)
                ++n;
        }
        return n;
    }
    case TestStateRole:
        return test.state;
    case TestMessageRole:
        return test.message;
    case HealthRole:
        return health(p.id, QDateTime::currentMSecsSinceEpoch());
    case ApiKeyEnvRole:
        return p.apiKeyEnv;
    case NeedsKeyRole: {
        const Known *k = known(p.id);
        return k ? k->needsKey : true;
    }
    case TestModelsRole:
        return test.models;
    case KeyStateRole:
        return m_keyStates.value(p.id).first;
    case KeyMessageRole:
        return m_keyStates.value(p.id).second;
    case PolicySummaryRole:
        return dataPolicySummary(effectiveDataPolicy(p));
    case PolicyRole:
        return dataPolicyMap(p);
    default:
        return {};
    }
}

int ProvidersModel::indexOf(const QString &providerId) const
{
    for (qsizetype i = 0; i < m_providers.size(); ++i) {
        if (m_providers[i].id == providerId)
            return int(i);
    }
    return -1;
}

QVariantList ProvidersModel::knownProviders() const
{
    QVariantList out;
    for (const Known &k : kKnown) {
        out.append(QVariantMap{{QStringLiteral("id"), QString::fromLatin1(k.id)},
            {QStringLiteral("name"), QString::fromLatin1(k.name)},
            {QStringLiteral("format"), QString::fromLatin1(k.format)},
            {QStringLiteral("baseUrl"), QString::fromLatin1(k.baseUrl)}, {QStringLiteral("needsKey"), k.needsKey},
            {QStringLiteral("keyEnv"), QString::fromLatin1(k.keyEnv)}});
    }
    return out;
}

void ProvidersModel::reloadProviders()
{
    beginResetModel();
    m_providers = m_backend->store().providers();
    endResetModel();
    Q_EMIT countChanged();
}

QString ProvidersModel::addProvider(
    const QString &id, const QString &format, const QString &baseUrl, const QString &apiKey, const QString &apiKeyEnv)
{
    if (!m_backend)
        return tr("The gateway is not running.");
    const QString pid = id.trimmed();
    static const QRegularExpression idPattern(QStringLiteral("^[a-z0-9][a-z0-9._-]{0,39}$"));
    if (!idPattern.match(pid).hasMatch())
        return tr("The id must be 1 to 40 lowercase letters, digits, '.', '_' or '-' (it prefixes model names, e.g. "
                  "“%1/gpt-4.1”).")
            .arg(pid.isEmpty() ? QStringLiteral("openai") : pid);
    if (indexOf(pid) >= 0)
        return tr("A provider with the id “%1” already exists.").arg(pid);
    const auto f = formatFromName(format.isEmpty() ? QStringLiteral("openai") : format);
    if (!f)
        return tr("Unknown API format “%1” (openai, anthropic or gemini).").arg(format);
    const QUrl url(baseUrl.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        || url.host().isEmpty())
        return tr("The base URL must be an http:// or https:// address, e.g. https://api.openai.com/v1.");
    static const QRegularExpression envPattern(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    const QString env = apiKeyEnv.trimmed();
    if (!env.isEmpty() && !envPattern.match(env).hasMatch())
        return tr("“%1” is not an environment variable name.").arg(env);
    const QString key = apiKey.trimmed();
    if (!key.isEmpty()) {
        if (!m_backend->keychainAvailable())
            return tr("No OS keychain is available, so Gatehouse cannot store the API key safely. Put the key in an "
                      "environment variable (e.g. %1), enter that variable's name instead of the key, and start "
                      "Gatehouse from that environment.")
                .arg(env.isEmpty() ? pid.toUpper().replace(u'-', u'_').replace(u'.', u'_') + QStringLiteral("_API_KEY")
                                   : env);
    }
    ProviderConfig p;
    p.id = pid;
    p.format = *f;
    QUrl clean = url;
    QString path = clean.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    clean.setPath(path);
    p.baseUrl = clean;
    p.apiKeyEnv = env;
    p.enabled = true;
    if (!m_backend->store().saveProvider(p))
        return tr("The provider could not be saved.");
    m_backend->providersEdited();
    if (!key.isEmpty()) {
        m_pendingKeys.insert(pid, key);
        storeKey(pid);
    }
    return {};
}

bool ProvidersModel::hasBaseUrl(const QString &baseUrl) const
{
    auto norm = [](QString u) {
        while (u.endsWith(u'/'))
            u.chop(1);
        return u.replace(QLatin1String("://localhost:"), QLatin1String("://127.0.0.1:"));
    };
    const QString wanted = norm(baseUrl);
    return std::any_of(m_providers.cbegin(), m_providers.cend(),
        [&](const ProviderConfig &p) { return norm(p.baseUrl.toString()) == wanted; });
}

QString ProvidersModel::addLocalProvider(const QString &id, const QString &baseUrl, const QStringList &models)
{
    if (!m_backend)
        return tr("The gateway is not running.");
    if (hasBaseUrl(baseUrl))
        return tr("A provider already points at %1.").arg(baseUrl);
    const QUrl url(baseUrl, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != QLatin1String("http") || url.host() != QLatin1String("127.0.0.1"))
        return tr("A local server is reached on 127.0.0.1 only.");
    QString pid = id;
    for (int n = 2; indexOf(pid) >= 0; ++n)
        pid = id + QStringLiteral("-%1").arg(n);
    ProviderConfig p;
    p.id = pid;
    p.format = ProviderFormat::OpenAI;
    p.baseUrl = url;
    p.enabled = true;
    p.local = true;
    if (!m_backend->store().saveProvider(p))
        return tr("The provider could not be saved.");
    for (const QString &name : models) {
        ModelConfig m;
        m.id = pid + u'/' + name;
        m.provider = pid;
        m.upstreamModel = name;
        if (!m_backend->store().saveModel(m))
            return tr("The model %1 could not be saved.").arg(name);
    }
    m_backend->providersEdited();
    return {};
}

QString ProvidersModel::updateProvider(
    const QString &providerId, const QString &format, const QString &baseUrl, const QString &apiKeyEnv)
{
    const int row = indexOf(providerId);
    if (!m_backend || row < 0)
        return tr("No such provider.");
    const auto f = formatFromName(format.isEmpty() ? QStringLiteral("openai") : format);
    if (!f)
        return tr("Unknown API format “%1” (openai, anthropic or gemini).").arg(format);
    const QUrl url(baseUrl.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        || url.host().isEmpty())
        return tr("The base URL must be an http:// or https:// address, e.g. https://api.openai.com/v1.");
    static const QRegularExpression envPattern(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    const QString env = apiKeyEnv.trimmed();
    if (!env.isEmpty() && !envPattern.match(env).hasMatch())
        return tr("“%1” is not an environment variable name.").arg(env);
    ProviderConfig p = m_providers.at(row);
    QUrl clean = url;
    QString path = clean.path();
    while (path.endsWith(u'/'))
        path.chop(1);
    clean.setPath(path);
    p.format = *f;
    p.baseUrl = clean;
    p.apiKeyEnv = env;
    if (p == m_providers.at(row))
        return {};
    if (!m_backend->store().saveProvider(p))
        return tr("The provider could not be saved.");
    m_tests.remove(providerId); // the old test says nothing about the new address
    m_backend->providersEdited();
    return {};
}

void ProvidersModel::setKeyState(const QString &providerId, const QString &state, const QString &message)
{
    if (state.isEmpty())
        m_keyStates.remove(providerId);
    else
        m_keyStates.insert(providerId, {state, message});
    const int row = indexOf(providerId);
    if (row >= 0)
        Q_EMIT dataChanged(index(row), index(row), {KeyStateRole, KeyMessageRole});
}

void ProvidersModel::storeKey(const QString &providerId)
{
    const QString key = m_pendingKeys.value(providerId);
    if (!m_backend || key.isEmpty())
        return;
    setKeyState(providerId, QStringLiteral("saving"),
        tr("Saving the key to the keychain… If your keyring asks for its password, unlock it: the key is kept "
           "until then."));
    QPointer<ProvidersModel> self(this);
    SecretStore::writeAsync(providerId, key, this, [self, providerId, key](SecretStore::Result r) {
        if (!self || self->m_pendingKeys.value(providerId) != key)
            return; // replaced by a newer key meanwhile: its own write reports
        if (!r.ok) {
            if (self->m_testAfterKey.remove(providerId))
                self->setTest(providerId, {QStringLiteral("error"), tr("Not tested: the key is not stored yet."), -1, {}});
            self->setKeyState(providerId, QStringLiteral("failed"),
                tr("The keychain did not store the key (%1). It is kept until Gatehouse closes: unlock the keyring "
                   "and retry.")
                    .arg(r.error));
            return;
        }
        self->m_pendingKeys.remove(providerId);
        self->setKeyState(providerId, QString(), QString());
        self->m_tests.remove(providerId);
        const bool test = self->m_testAfterKey.remove(providerId);
        self->m_backend->providersEdited([self, providerId, test] {
            if (self && test)
                self->testConnection(providerId);
        });
    });
}

void ProvidersModel::retryApiKey(const QString &providerId)
{
    if (m_pendingKeys.contains(providerId))
        storeKey(providerId);
}

QString ProvidersModel::setApiKey(const QString &providerId, const QString &apiKey)
{
    if (!m_backend || indexOf(providerId) < 0)
        return tr("No such provider.");
    if (!m_backend->keychainAvailable())
        return tr("No OS keychain is available. Set the key in the environment variable named for this provider "
                  "and restart Gatehouse.");
    const QString key = apiKey.trimmed();
    if (!key.isEmpty()) {
        m_pendingKeys.insert(providerId, key);
        storeKey(providerId);
        return {};
    }
    m_pendingKeys.remove(providerId);
    QPointer<ProvidersModel> self(this);
    SecretStore::removeAsync(providerId, this, [self, providerId](SecretStore::Result r) {
        if (!self)
            return;
        if (!r.ok) {
            if (self->m_testAfterKey.remove(providerId))
                self->setTest(providerId, {QStringLiteral("error"), tr("Not tested: the key is not stored yet."), -1, {}});
            self->setKeyState(providerId, QStringLiteral("failed"), tr("The keychain refused: %1").arg(r.error));
            return;
        }
        self->setKeyState(providerId, QString(), QString());
        self->m_tests.remove(providerId);
        self->m_backend->providersEdited();
    });
    return {};
}

QString dataPolicySummary(const DataPolicy &policy)
{
    QStringList parts;
    parts.append(!policy.retainsDays ? QObject::tr("retention unknown")
                 : *policy.retainsDays == 0 ? QObject::tr("keeps nothing")
                 : *policy.retainsDays == 1 ? QObject::tr("keeps 1 day")
                                            : QObject::tr("keeps %1 days").arg(*policy.retainsDays));
    parts.append(!policy.trains ? QObject::tr("training unknown")
                 : *policy.trains == Training::No  ? QObject::tr("no training")
                 : *policy.trains == Training::Yes ? QObject::tr("trains on data")
                                                   : QObject::tr("trains unless opted out"));
    parts.append(!policy.zdr ? QObject::tr("ZDR unknown") : *policy.zdr ? QObject::tr("ZDR on") : QObject::tr("ZDR off"));
    parts.append(policy.region ? QObject::tr("region %1").arg(*policy.region) : QObject::tr("region unknown"));
    return parts.join(QStringLiteral(" · "));
}

QVariantMap dataPolicyMap(const ProviderConfig &provider)
{
    const PublishedPolicy *published = publishedPolicyFor(provider);
    const DataPolicy effective = effectiveDataPolicy(provider);
    const DataPolicy &own = provider.dataPolicy;
    auto retains = [](const std::optional<int> &d) {
        return !d ? QString() : *d == 0 ? QStringLiteral("none") : QString::number(*d);
    };
    return {
        // In force (every layer): "" when unknown.
        {QStringLiteral("retainsPrompts"), retains(effective.retainsDays)},
        {QStringLiteral("trainsOnData"), effective.trains ? trainingName(*effective.trains) : QString()},
        {QStringLiteral("zdr"), effective.zdr ? (*effective.zdr ? QStringLiteral("true") : QStringLiteral("false")) : QString()},
        {QStringLiteral("region"), effective.region.value_or(QString())},
        // The provider's own settings (the editor's fields): "" where the published terms apply.
        {QStringLiteral("ownRetainsPrompts"), retains(own.retainsDays)},
        {QStringLiteral("ownTrainsOnData"), own.trains ? trainingName(*own.trains) : QString()},
        {QStringLiteral("ownZdr"), own.zdr ? (*own.zdr ? QStringLiteral("true") : QStringLiteral("false")) : QString()},
        {QStringLiteral("ownRegion"), own.region.value_or(QString())},
        {QStringLiteral("edited"), !own.isEmpty()},
        // Where the defaults come from.
        {QStringLiteral("source"), published ? published->source : QString()},
        {QStringLiteral("sourceName"), published ? published->name : QString()},
        {QStringLiteral("sourceDate"), published ? published->date : QString()},
        {QStringLiteral("note"), published ? published->note : QString()},
    };
}

QString ProvidersModel::setDataPolicy(const QString &providerId, const QVariantMap &policy)
{
    const int row = indexOf(providerId);
    if (!m_backend || row < 0)
        return tr("Unknown provider %1.").arg(providerId);
    // The editor's strings in the config's JSON form, read by the config's own parser.
    QJsonObject o;
    const QString retains = policy.value(QStringLiteral("retains_prompts")).toString().trimmed();
    if (retains == QLatin1String("none"))
        o.insert(QStringLiteral("retains_prompts"), retains);
    else if (!retains.isEmpty()) {
        bool ok = false;
        const int days = retains.toInt(&ok);
        if (!ok)
            return tr("Retention must be a number of days or \"none\".");
        o.insert(QStringLiteral("retains_prompts"), days);
    }
    if (const QString t = policy.value(QStringLiteral("trains_on_data")).toString(); !t.isEmpty())
        o.insert(QStringLiteral("trains_on_data"), t);
    if (const QString z = policy.value(QStringLiteral("zdr")).toString(); !z.isEmpty()) {
        if (z != QLatin1String("true") && z != QLatin1String("false"))
            return tr("ZDR must be on, off or the published terms.");
        o.insert(QStringLiteral("zdr"), z == QLatin1String("true"));
    }
    if (const QString r = policy.value(QStringLiteral("region")).toString().trimmed(); !r.isEmpty())
        o.insert(QStringLiteral("region"), r);
    QString field, message;
    const auto parsed = dataPolicyFromJson(o, &field, &message);
    if (!parsed)
        return field.isEmpty() ? message : QStringLiteral("%1: %2").arg(field, message);
    ProviderConfig p = m_providers.at(row);
    if (p.dataPolicy == *parsed)
        return {};
    p.dataPolicy = *parsed;
    if (!m_backend->store().saveProvider(p))
        return tr("The provider could not be saved.");
    m_backend->providersEdited();
    return {};
}

bool ProvidersModel::setEnabled(const QString &providerId, bool enabled)
{
    const int row = indexOf(providerId);
    if (!m_backend || row < 0)
        return false;
    ProviderConfig p = m_providers.at(row);
    if (p.enabled == enabled)
        return true;
    p.enabled = enabled;
    if (!m_backend->store().saveProvider(p))
        return false;
    m_backend->providersEdited();
    return true;
}

bool ProvidersModel::remove(const QString &providerId)
{
    if (!m_backend || indexOf(providerId) < 0)
        return false;
    if (!m_backend->store().removeProvider(providerId))
        return false;
    for (const ModelConfig &m : m_backend->store().models()) {
        if (m.provider == providerId)
            m_backend->store().removeModel(m.id);
    }
    m_pendingKeys.remove(providerId);
    m_keyStates.remove(providerId);
    if (m_backend->keychainAvailable()) // nothing stored is fine too; nobody waits for the answer
        SecretStore::removeAsync(providerId, this, [](const SecretStore::Result &) { });
    m_tests.remove(providerId);
    m_outcomes.remove(providerId);
    m_backend->providersEdited();
    return true;
}

void ProvidersModel::setTest(const QString &providerId, const Test &test)
{
    m_tests.insert(providerId, test);
    const int row = indexOf(providerId);
    if (row >= 0)
        Q_EMIT dataChanged(index(row), index(row), {TestStateRole, TestMessageRole, ModelCountRole, TestModelsRole});
}

void ProvidersModel::testConnection(const QString &providerId)
{
    if (!m_backend || indexOf(providerId) < 0)
        return;
    if (m_keyStates.value(providerId).first == QLatin1String("saving")) {
        // The key typed with it is not stored yet: test with it once the keychain has it.
        m_testAfterKey.insert(providerId);
        setTest(providerId, {QStringLiteral("testing"), tr("Waiting for the keychain to store the key…"), -1, {}});
        return;
    }
    const auto entry = m_backend->context().registry.snapshot()->providers.value(providerId);
    if (!entry) {
        setTest(providerId, {QStringLiteral("error"), tr("The gateway has not loaded this provider."), -1, {}});
        Q_EMIT testFinished(providerId, false, m_tests.value(providerId).message);
        return;
    }
    if (!m_network)
        m_network = new QNetworkAccessManager(this);
    QUrl url = entry->config.baseUrl;
    url.setPath(url.path() + QStringLiteral("/models"));
    QNetworkRequest request(url);
    request.setTransferTimeout(15000);
    request.setRawHeader("user-agent", "Gatehouse");
    if (!entry->authName.isEmpty())
        request.setRawHeader(entry->authName, entry->authValue);
    if (entry->config.format == ProviderFormat::Anthropic)
        request.setRawHeader("anthropic-version", "2023-06-01");
    setTest(providerId, {QStringLiteral("testing"), tr("Asking %1 for its models…").arg(url.host()), -1, {}});
    QNetworkReply *reply = m_network->get(request);
    // The secret, to scrub from whatever the provider echoes back.
    QByteArray secret = entry->authValue;
    if (secret.startsWith("Bearer "))
        secret = secret.mid(7);
    connect(reply, &QNetworkReply::finished, this, [this, reply, providerId, secret] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        Test t;
        bool parsed = false;
        const QStringList ids = status == 200 ? modelIds(body, &parsed) : QStringList();
        if (status == 200 && parsed) {
            t.state = QStringLiteral("ok");
            t.modelCount = int(ids.size());
            t.models = ids;
            QStringList sample = ids.mid(0, 3);
            t.message = ids.isEmpty() ? tr("Connected. The provider lists no models.")
                                      : tr("Connected: %n model(s), e.g. %1.", nullptr, int(ids.size()))
                                            .arg(sample.join(QStringLiteral(", ")));
        } else {
            t.state = QStringLiteral("error");
            if (status == 0)
                t.message = reply->errorString();
            else if (status == 200)
                t.message = tr("The answer is not a model list.");
            else
                t.message = tr("HTTP %1: %2").arg(status).arg(providerErrorMessage(body));
            if (secret.size() >= 4)
                t.message.replace(QString::fromUtf8(secret), QStringLiteral("…"));
        }
        setTest(providerId, t);
        Q_EMIT testFinished(providerId, t.state == QLatin1String("ok"), t.message);
    });
}

void ProvidersModel::recordRequest(const RequestRecord &record, qint64 nowMs)
{
    if (record.provider.isEmpty() || record.status == 499)
        return;
    const bool failed
        = record.status >= 500 || record.status == 429 || (record.status < 300 && !record.error.isEmpty());
    QList<Outcome> &list = m_outcomes[record.provider];
    list.append({nowMs, failed});
    // Bounded: the oldest go first, and at most the last 10,000 count.
    while (!list.isEmpty() && (list.constFirst().atMs < nowMs - kHealthWindowMs || list.size() > 10000))
        list.removeFirst();
}

QString ProvidersModel::health(const QString &providerId, qint64 nowMs) const
{
    const QList<Outcome> list = m_outcomes.value(providerId);
    int total = 0;
    int failed = 0;
    for (const Outcome &o : list) {
        if (o.atMs < nowMs - kHealthWindowMs)
            continue;
        ++total;
        failed += o.failed ? 1 : 0;
    }
    if (total == 0)
        return QStringLiteral("unknown");
    const double rate = double(failed) / total;
    if (rate < 0.1)
        return QStringLiteral("ok");
    if (rate < 0.5)
        return QStringLiteral("degraded");
    return QStringLiteral("down");
}

QStringList ProvidersModel::pricedModelNames(const QString &providerId) const
{
    QStringList names = m_tests.value(providerId).models;
    if (m_backend) {
        const auto snapshot = m_backend->context().registry.snapshot();
        for (const ModelEntry &e : snapshot->models) {
            if (e.config.provider == providerId && !names.contains(e.config.upstreamModel))
                names.append(e.config.upstreamModel);
        }
    }
    names.sort(Qt::CaseInsensitive);
    return names;
}

QVariantMap ProvidersModel::modelPrice(const QString &providerId, const QString &upstreamModel) const
{
    QVariantMap out{{QStringLiteral("modelId"), providerId + u'/' + upstreamModel}, {QStringLiteral("priced"), false},
        {QStringLiteral("input"), -1.0}, {QStringLiteral("output"), -1.0}, {QStringLiteral("cacheRead"), -1.0},
        {QStringLiteral("source"), QString()}};
    if (!m_backend)
        return out;
    const auto snapshot = m_backend->context().registry.snapshot();
    for (const ModelEntry &e : snapshot->models) {
        if (e.config.provider != providerId || e.config.upstreamModel != upstreamModel)
            continue;
        const ModelPrice &p = e.config.price;
        out.insert(QStringLiteral("modelId"), e.config.id);
        out.insert(QStringLiteral("priced"), p.isPriced());
        out.insert(QStringLiteral("input"), p.input.value_or(-1));
        out.insert(QStringLiteral("output"), p.output.value_or(-1));
        out.insert(QStringLiteral("cacheRead"), p.cacheRead.value_or(-1));
        out.insert(QStringLiteral("source"),
            p.isPriced() ? (e.config.fromCatalog ? QStringLiteral("catalog") : QStringLiteral("yours")) : QString());
        break;
    }
    return out;
}

QString ProvidersModel::setModelPrice(
    const QString &providerId, const QString &upstreamModel, double input, double output, double cacheRead)
{
    if (!m_backend || indexOf(providerId) < 0)
        return tr("No such provider.");
    const QString upstream = upstreamModel.trimmed();
    if (upstream.isEmpty())
        return tr("Choose or type the model's name.");
    auto valid = [](double v) { return std::isfinite(v) && v >= 0 && v <= 1e6; };
    if (!valid(input) || !valid(output))
        return tr("Give the input and output prices in dollars per million tokens, e.g. 0.4 and 1.6.");
    if (cacheRead >= 0 && !valid(cacheRead))
        return tr("The cache read price must be a number of dollars per million tokens.");
    ModelConfig model;
    bool found = false;
    for (const ModelConfig &m : m_backend->store().models()) {
        if (m.provider == providerId && m.upstreamModel == upstream) {
            model = m;
            found = true;
            break;
        }
    }
    if (!found) {
        model.id = providerId + u'/' + upstream;
        model.provider = providerId;
        model.upstreamModel = upstream;
    }
    model.price.input = input;
    model.price.output = output;
    model.price.cacheRead = cacheRead >= 0 ? std::optional<double>(cacheRead) : std::nullopt;
    model.fromCatalog = false;
    if (!m_backend->store().saveModel(model))
        return tr("The price could not be saved.");
    m_backend->providersEdited();
    return {};
}

} // namespace gh::ui
