#include "gateway/gateway.h"
#include "cache/responsecache.h"
#include "capture/bodycapture.h"
#include "pricing/catalogupdater.h"
#include "budget/budgetledger.h"
#include "core/logging.h"
#include "gateway/forgetkey.h"
#include "gateway/gatewayserver.h"
#include "gateway/guardrailgate.h"
#include "secretscan/secretrules.h"
#include "secrets/secretstore.h"
#include "budget/budgetlease.h"
#include "store/pgleasestore.h"
#include "store/store.h"
#include <QCoreApplication>
#include "telemetry/telemetry.h"
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QThread>

namespace gh {

// The longest the exit waits for the OTLP collector to take the spans of the last requests.
static constexpr int kOtlpDrainMs = 2'000;

Gateway::Gateway(QObject *parent)
    : QObject(parent)
    , m_events(new GatewayEvents(this))
    , m_telemetry(new Telemetry(&m_context.registry, this))
    , m_store(std::make_unique<Store>())
{
    qRegisterMetaType<gh::RequestRecord>("gh::RequestRecord");
    m_context.store = m_store.get();
    m_context.events = m_events;
    // The secret rules are compiled once per process (about 150 ms), here rather than in the first request.
    (void)SecretRules::builtin();
    // Telemetry: every finished request, counted on the worker that finished it (a short lock;
    // the OTLP export only queues it).
    m_context.telemetry = m_telemetry;
    connect(m_events, &GatewayEvents::requestFinished, m_telemetry,
            [telemetry = m_telemetry](const RequestRecord &r) { telemetry->record(r); }, Qt::DirectConnection);
}

Gateway::~Gateway()
{
    qDeleteAll(m_retired);
    m_retired.clear();
    delete m_server;
    m_server = nullptr;
    stopLeases();
    m_store->close();
    m_context.responseCache = nullptr; // the workers are gone (m_server deleted above)
    m_context.capture = nullptr;
}

quint16 Gateway::port() const
{
    return m_server ? m_server->port() : 0;
}

static std::optional<NanoUsd> nano(std::optional<double> usd)
{
    if (!usd)
        return std::nullopt;
    return fromUsd(*usd);
}

void Gateway::rebuildLedger()
{
    for (const StoredKey &k : m_store->keys()) {
        if (k.revoked) {
            m_context.ledger.removeKey(k.id);
            continue;
        }
        BudgetLimits limits;
        limits.limit[int(Period::Day)] = nano(k.limits.dayUsd);
        limits.limit[int(Period::Week)] = nano(k.limits.weekUsd);
        limits.limit[int(Period::Month)] = nano(k.limits.monthUsd);
        limits.limit[int(Period::Total)] = nano(k.limits.totalUsd);
        m_context.ledger.setLimits(k.id, limits);
    }
}

void Gateway::reload(QStringList *warnings)
{
    reloadProviders(nullptr, warnings);
}

void Gateway::reloadWith(const QHash<QString, QString> &fromKeychain, QStringList *warnings)
{
    reloadProviders(&fromKeychain, warnings);
}

void Gateway::reloadProviders(const QHash<QString, QString> *fromKeychain, QStringList *warnings)
{
    const QList<ProviderConfig> providers = m_store->providers();
    QHash<QString, Registry::ProviderSecret> secrets;
    bool keychain = m_options.useKeychain;
    for (const ProviderConfig &p : providers) {
        QString source;
        QString error;
        std::optional<QString> value;
        if (keychain && fromKeychain) {
            if (const auto it = fromKeychain->constFind(p.id); it != fromKeychain->cend()) {
                value = *it;
                source = QStringLiteral("keychain");
            }
        } else if (keychain) {
            value = SecretStore::read(p.id, &error, 3000);
            if (value)
                source = QStringLiteral("keychain");
            else if (!error.isEmpty() && warnings)
                warnings->append(QStringLiteral("provider %1: keychain: %2").arg(p.id, error));
            if (!value && error.contains(QLatin1String("unavailable"), Qt::CaseInsensitive))
                keychain = false; // no keychain here: do not wait on it for every provider
        }
        if (!value && !p.apiKeyEnv.isEmpty()) {
            const QString env = qEnvironmentVariable(p.apiKeyEnv.toUtf8().constData());
            if (!env.isEmpty()) {
                value = env;
                source = QStringLiteral("env:") + p.apiKeyEnv;
            }
        }
        if (value)
            secrets.insert(p.id, {*value, source});
    }
    m_secrets = secrets;
    rebuildRegistry(providers, warnings);
}

bool Gateway::forgetKey(const QString &name, QString *summary, QString *error)
{
    ForgetKeyReport report;
    if (!gh::forgetKey(*m_store, m_responseCache.get(), m_capture.get(), m_options.dataDir, name, &report, error))
        return false;
    reloadKeys();
    if (summary)
        *summary = report.summary(name);
    return true;
}

void Gateway::applyTeamConfigChange(const QSet<QString> &tables)
{
    QStringList names = tables.values();
    names.sort();
    qCInfo(lcGateway).noquote() << "another instance changed" << names.join(QLatin1String(", ")) << "- reloading";
    if (!tables.contains(QStringLiteral("providers")) || !m_options.useKeychain) {
        // Without a keychain reload() reads only the environment: it does not block.
        if (tables.contains(QStringLiteral("providers")))
            reload();
        else
            reloadKeys();
        Q_EMIT configChangedElsewhere();
        return;
    }
    // A provider added elsewhere needs its key from this machine's keychain: read without blocking
    // this thread; keys, routes and limits apply at once meanwhile.
    reloadKeys();
    QStringList ids;
    for (const ProviderConfig &p : m_store->providers())
        ids.append(p.id);
    SecretStore::readAllAsync(ids, this, [this](const QHash<QString, QString> &found, const QStringList &errors) {
        for (const QString &e : errors)
            qCWarning(lcGateway).noquote() << "keychain:" << e;
        reloadWith(found);
        Q_EMIT configChangedElsewhere();
    });
}

void Gateway::reloadKeys()
{
    rebuildRegistry(m_store->providers(), nullptr);
}

void Gateway::rebuildRegistry(const QList<ProviderConfig> &providers, QStringList *warnings)
{
    QList<KeyEntry> keys;
    QList<QByteArray> hashes;
    const QHash<QString, GuardrailPolicy> guardrails = loadKeyGuardrails(*m_store);
    const ResponseCachePolicies cachePolicies = loadResponseCachePolicies(*m_store);
    QHash<qint64, int> captureRetention;
    for (const StoredKey &k : m_store->keys()) {
        KeyEntry e;
        e.id = k.id;
        e.name = k.name;
        e.allowModels = k.allowModels;
        e.limits = k.limits;
        e.allowUnpriced = k.allowUnpriced;
        e.paused = k.paused;
        e.revoked = k.revoked;
        e.rpm = k.rpm;
        e.tpm = k.tpm;
        e.budget = k.budget;
        e.secretScan = k.secretScan;
        e.requirePolicy = k.requirePolicy;
        e.guardrails = guardrails.value(k.name);
        if (auto it = cachePolicies.keys.constFind(k.name); it != cachePolicies.keys.cend())
            e.responseCache = *it;
        e.storeBodies = !cachePolicies.noBodies.contains(k.name);
        e.captureDays = cachePolicies.captureDays.value(k.name);
        if (e.captureDays > 0)
            captureRetention.insert(k.id, e.captureDays);
        keys.append(e);
        hashes.append(k.secretHash);
    }
    QList<RouteConfig> routes = m_store->routes();
    for (RouteConfig &r : routes) {
        if (auto it = cachePolicies.routes.constFind(r.id); it != cachePolicies.routes.cend())
            r.responseCache = *it;
    }
    m_context.registry.setSnapshot(Registry::build(providers, m_store->models(), keys, hashes, m_secrets, warnings,
                                                   routes, m_store->voteStats(), loadAliases(*m_store)));
    const GatewaySettings settings = loadGatewaySettings(*m_store);
    m_context.health.setSettings(settings.breaker);
    m_context.guardrails.setThresholds(settings.guardrails);
    m_context.setSettings(settings);
    if (m_responseCache)
        m_responseCache->setMaxBytes(settings.responseCacheMaxBytes);
    m_captureRetention = captureRetention;
    if (m_capture)
        m_capture->setRetention(captureRetention);
    m_telemetry->applySettings(settings); // telemetry: the OTLP endpoint and headers
    rebuildLedger();
}

bool Gateway::restartListener(quint16 port, QString *error)
{
    if (m_stopping || !m_server) {
        if (error)
            *error = QStringLiteral("the gateway is not running");
        return false;
    }
    if (port != 0 && port == m_server->port())
        return true;
    auto *next = new GatewayServer(&m_context);
    if (!next->listen(port, m_workerCount, error)) {
        delete next;
        return false;
    }
    GatewayServer *old = m_server;
    const quint16 oldPort = old->port();
    m_server = next;
    m_retired.append(old);
    old->stopListening();
    old->drain(m_context.settings()->shutdownGraceMs, [this, old] {
        old->stopWorkers();
        if (m_retired.removeOne(old))
            old->deleteLater();
    });
    qCInfo(lcGateway) << "listening on 127.0.0.1:" << m_server->port() << "(moved from port" << oldPort << ")";
    Q_EMIT portChanged(m_server->port());
    return true;
}

namespace {

// Why the data folder could not be created, saying so when it is the usual reason: the nearest
// folder that exists is read-only.
QString dataFolderError(const QString &dataDir)
{
    QString error = QStringLiteral("cannot create the data folder %1").arg(QDir::toNativeSeparators(dataDir));
    QFileInfo parent(QFileInfo(dataDir).absoluteFilePath());
    while (!parent.exists() && parent.absolutePath() != parent.absoluteFilePath())
        parent = QFileInfo(parent.absolutePath());
    if (parent.exists() && !parent.isWritable())
        error += QStringLiteral(": %1 is read-only. Pick another folder with --data-dir.").arg(QDir::toNativeSeparators(parent.absoluteFilePath()));
    return error;
}

// Applies --config to the store; false (exit code 2) with the error in `result` when the file is
// invalid or cannot be applied.
// The config file, read before the store opens (its "store" says which one). False, with the exit
// code and message in `result`, when it cannot be read; true and no config without a path.
bool loadStartConfig(const QString &path, std::optional<Config> &config, Gateway::StartResult &result)
{
    if (path.isEmpty())
        return true;
    ConfigError configError;
    config = loadConfigFile(path, &configError);
    if (!config) {
        result.exitCode = 2;
        result.error = configError.toString();
        return false;
    }
    return true;
}

bool applyStartConfig(const Config &config, const QString &path, Store &store, Gateway::StartResult &result)
{
    ApplyResult applied = applyConfig(config, store, path);
    if (!applied.ok) {
        result.exitCode = 2;
        result.error = applied.error;
        return false;
    }
    result.generatedKeys = applied.generated;
    qCInfo(lcConfig) << "applied" << path << "with" << applied.changes << "change(s)";
    return true;
}

// --store, else the config's "store", else the SQLite file in the data folder.
QString storeLocationFor(const GatewayOptions &options, const std::optional<Config> &config)
{
    QString location = !options.store.isEmpty() ? options.store : config ? config->store : QString();
    if (location.isEmpty() || location == QLatin1String("sqlite"))
        location = QDir(options.dataDir).filePath(QStringLiteral("gatehouse.db"));
    return location;
}

// The response cache's answers (cache/responsecache.h); a file that cannot be used leaves it in
// memory only, which is said once.
std::unique_ptr<ResponseCache> openResponseCache(const QString &dataDir, qint64 maxBytes, QStringList &warnings)
{
    auto cache = std::make_unique<ResponseCache>();
    QString cacheError;
    if (!cache->open(QDir(dataDir).filePath(QStringLiteral("response-cache.db")), maxBytes, &cacheError))
        warnings.append(QStringLiteral("response cache: %1 (answers are kept in memory only)").arg(cacheError));
    return cache;
}

// Captured bodies (capture/bodycapture.h, docs/capture.md). Opened whether or not a key captures
// now, so that the retention sweep runs after a key stopped capturing; null when it cannot open.
std::unique_ptr<BodyCapture> openCapture(const QString &dataDir, const QHash<qint64, int> &retention, QStringList &warnings)
{
    auto capture = std::make_unique<BodyCapture>();
    capture->setRetention(retention);
    QString captureError;
    if (capture->open(BodyCapture::pathIn(dataDir), &captureError))
        return capture;
    warnings.append(QStringLiteral("capture: %1 (no bodies are captured)").arg(captureError));
    return nullptr;
}

// Spend per key and period is rebuilt from the log, never kept only in memory; so are the
// overshoots shown on each key's card and by /v1/key.
void restoreLedger(Store &store, BudgetLedger &ledger)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (const StoredKey &k : store.keys()) {
        for (int i = 0; i < kPeriodCount; ++i) {
            const auto p = Period(i);
            ledger.setSpent(k.id, p, store.spendSince(k.id, periodStartMs(p, now)), now);
        }
    }
    const QHash<qint64, KeyOvershoots> overshoots = store.overshootsByKey();
    for (auto it = overshoots.cbegin(); it != overshoots.cend(); ++it)
        ledger.setOvershoots(it.key(), BudgetLedger::Overshoots{it->count, it->amount}, now);
}

} // namespace

Gateway::StartResult Gateway::start(const GatewayOptions &options)
{
    StartResult result;
    m_options = options;
    if (!QDir().mkpath(options.dataDir)) {
        result.exitCode = 1;
        result.error = dataFolderError(options.dataDir);
        return result;
    }
    QString error;
    {
        // A refreshed price catalog in the data folder, when valid, replaces the bundled one.
        QString catalogWarning;
        PriceCatalog::setCurrent(CatalogUpdater::loadStored(options.dataDir, &catalogWarning));
        if (!catalogWarning.isEmpty())
            result.warnings.append(catalogWarning);
    }
    std::optional<Config> config;
    if (!loadStartConfig(options.configPath, config, result))
        return result;
    m_store->setInstanceId(Store::instanceIdFor(options.dataDir));
    m_store->setLocalDir(options.dataDir);
    if (!m_store->open(storeLocationFor(options, config), &error)) {
        result.exitCode = 1;
        result.error = error; // Store::open's message names the database and says what is wrong
        return result;
    }
    connect(m_store.get(), &Store::configChangedElsewhere, this, &Gateway::applyTeamConfigChange, Qt::UniqueConnection);
    if (config && !applyStartConfig(*config, options.configPath, *m_store, result))
        return result;
    reload(&result.warnings);
    m_responseCache = openResponseCache(options.dataDir, m_context.settings()->responseCacheMaxBytes, result.warnings);
    m_context.responseCache = m_responseCache.get();
    m_capture = openCapture(options.dataDir, m_captureRetention, result.warnings);
    if (m_capture)
        m_context.capture = m_capture.get();
    restoreLedger(*m_store, m_context.ledger);
    startGuardrails();
    startLeases(config && config->leaseTtlMs ? *config->leaseTtlMs : LeasePolicy{}.ttlMs);

    const auto settings = m_context.settings();
    const int port = options.port.value_or(settings->port.value_or(kDefaultPort));
    // --workers, else the stored setting, else one per core the process may run on (Qt reads the
    // affinity mask): a sleeping worker costs nothing, and each busy one needs a core.
    int workers = options.workers;
    const char *chosenBy = "--workers";
    if (workers <= 0) {
        workers = settings->workers;
        chosenBy = "the workers setting";
    }
    if (workers <= 0) {
        workers = qMax(1, QThread::idealThreadCount());
        chosenBy = "one per core";
    }
    workers = qMin(workers, kMaxWorkers);
    m_workerCount = workers;
    m_context.workers.store(workers);
    qCInfo(lcGateway).noquote() << "serving with" << workers << "worker thread(s) (" << chosenBy << "," << QThread::idealThreadCount() << "core(s) )";
    m_context.pausedAll.store(options.paused); // before the first request can arrive
    if (options.paused) {
        const AuditOriginScope origin(AuditOrigin::Cli);
        m_store->recordChange(QStringLiteral("gateway.pause"), QStringLiteral("all keys"), QJsonObject{{QStringLiteral("paused"), false}},
                              QJsonObject{{QStringLiteral("paused"), true}});
    }
    m_server = new GatewayServer(&m_context);
    if (!m_server->listen(quint16(port), workers, &error)) {
        result.exitCode = 1;
        result.error = error;
        return result;
    }
    result.ok = true;
    return result;
}

void Gateway::startLeases(qint64 ttlMs)
{
    if (!m_store->isTeamStore() || m_leases)
        return;
    LeasePolicy policy;
    policy.ttlMs = ttlMs;
    // Stop reserving a quarter of the TTL before the store would reclaim (and never less than 500 ms).
    policy.marginMs = qMax<qint64>(500, ttlMs / 4);
    policy.idleMs = qMin<qint64>(policy.idleMs, ttlMs / 2);
    m_leaseStore = std::make_unique<PgLeaseStore>(m_store->path(), m_store->instanceId());
    m_leases = std::make_unique<BudgetLease>(m_leaseStore.get(), policy);
    m_context.ledger.setGate(m_leases.get());
    m_leases->start();
    qCInfo(lcGateway) << "budgets are shared with the team's other instances through leases of" << ttlMs << "ms";
}

void Gateway::stopLeases()
{
    if (!m_leases)
        return;
    m_context.ledger.setGate(nullptr);
    m_leases->stop();
    m_leases.reset();
    m_leaseStore.reset();
}

void Gateway::startGuardrails()
{
    // Every active pause (a pause survives a restart) and enough of the latest trips for each key's
    // list in GET /v1/key.
    qint64 maxId = 0;
    QList<GuardrailTrip> trips;
    for (const GuardrailTripRow &row : m_store->guardrailTripsToRestore(500, &maxId))
        trips.append(guardrailTripFromRow(row));
    m_context.guardrails.restore(trips, maxId + 1);
    int active = 0;
    for (const GuardrailTrip &t : std::as_const(trips))
        active += t.active ? 1 : 0;
    if (active > 0)
        qCInfo(lcGateway) << "restored" << active << "guardrail pause(s)";
    // The listener runs on a worker, under the guardrails' lock: it only posts to this thread,
    // where the store is written (no disk on the request path) and the window is told.
    Guardrails::Listener listener;
    listener.tripped = [this](const GuardrailTrip &trip) {
        QMetaObject::invokeMethod(this, [this, trip] {
            m_store->saveGuardrailTrip(guardrailTripRow(trip));
            Q_EMIT guardrailTripped(trip);
        }, Qt::QueuedConnection);
    };
    listener.resumed = [this](const QList<qint64> &ids, qint64 atMs, const QString &by) {
        QMetaObject::invokeMethod(this, [this, ids, atMs, by] {
            m_store->endGuardrailTrips(ids, atMs, by);
            Q_EMIT guardrailsResumed(ids);
        }, Qt::QueuedConnection);
    };
    m_context.guardrails.setListener(std::move(listener));
}

int Gateway::resumeGuardrails(qint64 keyId, const QString &session, const QString &by)
{
    return m_context.guardrails.resume(keyId, session, by);
}

bool Gateway::keepGuardrailPaused(qint64 tripId)
{
    return m_store->keepGuardrailTrip(tripId, QDateTime::currentMSecsSinceEpoch());
}

void Gateway::shutdown(std::function<void()> done)
{
    if (m_stopping)
        return;
    m_stopping = true;
    m_context.shuttingDown.store(true);
    if (!m_server) {
        m_store->close();
        if (done)
            done();
        Q_EMIT stopped();
        return;
    }
    m_server->stopListening();
    for (GatewayServer *old : std::as_const(m_retired))
        old->stopListening();
    const int grace = m_context.settings()->shutdownGraceMs;
    m_server->drain(grace, [this, done, grace] {
        m_server->stopWorkers();
        stopLeases(); // every reservation is settled: the leases go back with their spend
        // Trips and resumes the workers posted (startGuardrails) are written before the store closes.
        QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
        m_store->close(); // every finished request is committed before we return
        if (m_responseCache)
            m_responseCache->flush();
        if (m_capture)
            m_capture->flush();
        // Spans of the last requests go to the collector before the process ends, within a bound.
        m_telemetry->exporter().drain(qBound(0, grace, kOtlpDrainMs), [this, done] {
            if (done)
                done();
            Q_EMIT stopped();
        });
    });
}

} // namespace gh
