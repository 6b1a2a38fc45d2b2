#include "backend.h"
#include "budget/budgetledger.h"
#include "core/keyhash.h"
#include "gateway/gateway.h"
#include "store/queryrunner.h"
#include "secrets/secretstore.h"
#include "spendaggregates.h"
#include "teamstate.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMetaProperty>
#include <QSet>
#include <QPointer>
#include <QThread>

Q_LOGGING_CATEGORY(lcUi, "gatehouse.ui")

namespace gh::ui {

Backend::Backend(Gateway &gateway, QObject *parent)
    : QObject(parent)
    , m_gateway(gateway)
    , m_queries(std::make_unique<QueryRunner>([&store = gateway.store()] { return store.openQueries(); }))
{
    m_aggregates = new SpendAggregates(
        *m_queries, [this] { return nowMs(); }, this);
    m_keys = store().keys();
    // Before the first query: it sets the scope the queries read with.
    m_team = new TeamState(*this, this);
    m_keychainAvailable = gateway.usesKeychain();

    m_logThrottle.setSingleShot(true);
    m_logThrottle.setInterval(400);
    connect(&m_logThrottle, &QTimer::timeout, this, [this] {
        if (!m_committedPending)
            return;
        m_committedPending = false;
        m_aggregates->refresh();
        Q_EMIT logChanged();
        m_logThrottle.start(); // a quiet period before the next notification
    });
    connect(&store(), &Store::requestsCommitted, this, &Backend::onCommitted, Qt::QueuedConnection);

    connect(gateway.events(), &GatewayEvents::requestFinished, this, [this] { m_finishedThisSecond = true; });
    m_second.setInterval(1000);
    m_today = today();
    connect(&m_second, &QTimer::timeout, this, [this] {
        if (today() != m_today) {
            m_today = today();
            Q_EMIT dayChanged();
        }
        if (!m_finishedThisSecond)
            return;
        m_finishedThisSecond = false;
        Q_EMIT activityTick();
    });
    m_second.start();

    m_keysReload.setSingleShot(true);
    m_keysReload.setInterval(250);
    connect(&m_keysReload, &QTimer::timeout, this, [this] { m_gateway.reloadKeys(); });

    m_aggregates->refresh();
}

Backend::~Backend()
{
    delete m_team; // before the members it reads go
    m_team = nullptr;
    if (m_keysReload.isActive())
        m_gateway.reloadKeys();
}

void announceBackend(QObject *object)
{
    const QMetaObject *meta = object->metaObject();
    QSet<int> emitted;
    for (int i = QObject::staticMetaObject.propertyCount(); i < meta->propertyCount(); ++i) {
        const QMetaProperty property = meta->property(i);
        if (!property.hasNotifySignal() || property.notifySignal().parameterCount() != 0)
            continue;
        if (!emitted.contains(property.notifySignalIndex())) {
            emitted.insert(property.notifySignalIndex());
            property.notifySignal().invoke(object, Qt::DirectConnection);
        }
    }
}

bool adoptBackend(QPointer<Backend> &slot, Backend *backend, const char *owner)
{
    if (!backend || slot == backend)
        return false;
    if (slot) {
        qCWarning(lcUi, "%s: the backend is set once; another one is ignored", owner);
        return false;
    }
    slot = backend;
    return true;
}

Store &Backend::store() const
{
    return m_gateway.store();
}

GatewayContext &Backend::context() const
{
    return m_gateway.context();
}

qint64 Backend::nowMs() const
{
    return m_fixedNowMs ? m_fixedNowMs : QDateTime::currentMSecsSinceEpoch();
}

QDate Backend::today() const
{
    return QDateTime::fromMSecsSinceEpoch(nowMs()).date();
}

void Backend::onCommitted()
{
    m_committedPending = true;
    if (!m_logThrottle.isActive())
        m_logThrottle.start(0);
}

bool Backend::hasRequests() const
{
    return m_aggregates->lastSeq() > 0;
}

QJsonValue Backend::uiSetting(const QString &name, const QJsonValue &fallback) const
{
    auto cached = m_settingsCache.constFind(name);
    if (cached != m_settingsCache.cend())
        return cached->isUndefined() ? fallback : *cached;
    const QString text = store().setting(QStringLiteral("ui.") + name);
    QJsonValue value = QJsonValue::Undefined;
    if (!text.isEmpty()) {
        // Stored as a one-element array so any JSON value (a bare string too) round-trips.
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray("[") + text.toUtf8() + ']');
        if (doc.isArray() && doc.array().size() == 1)
            value = doc.array().at(0);
        else
            qCWarning(lcUi) << "setting ui." << name << "is not valid JSON; using the default";
    }
    const_cast<Backend *>(this)->m_settingsCache.insert(name, value);
    return value.isUndefined() ? fallback : value;
}

void Backend::setUiSetting(const QString &name, const QJsonValue &value)
{
    if (uiSetting(name) == value)
        return;
    QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    text = text.mid(1, text.size() - 2); // the value without the array brackets
    store().setSetting(QStringLiteral("ui.") + name, QString::fromUtf8(text));
    m_settingsCache.insert(name, value);
    Q_EMIT uiSettingChanged(name);
}

void Backend::probeKeychain()
{
    if (!m_gateway.usesKeychain())
        return;
    QPointer<Backend> self(this);
    // QtKeychain's synchronous calls spin a local event loop: keep that off the UI thread.
    QThread *thread = QThread::create([self] {
        const bool available = SecretStore::keychainAvailable(3000);
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, available] {
                if (!self || self->m_keychainAvailable == available)
                    return;
                self->m_keychainAvailable = available;
                qCInfo(lcUi) << "OS keychain" << (available ? "available" : "not available");
                Q_EMIT self->keychainAvailableChanged();
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

QString Backend::keyName(qint64 keyId, const QString &fallback) const
{
    for (const StoredKey &k : m_keys) {
        if (k.id == keyId)
            return k.name;
    }
    return fallback;
}

void Backend::keysEdited(bool coalesce)
{
    m_keys = store().keys();
    if (coalesce) {
        m_keysReload.start();
    } else {
        m_keysReload.stop();
        m_gateway.reloadKeys();
    }
    Q_EMIT keysChanged();
}

QString Backend::chatSecret()
{
    if (!m_chatSecret.isEmpty())
        return m_chatSecret;
    const QString name(kChatKeyName);
    StoredKey key = store().keyByName(name).value_or(StoredKey{});
    if (key.id == 0) {
        key.name = name;
        key.createdAtMs = QDateTime::currentMSecsSinceEpoch();
    }
    const QString secret = generateSecret();
    key.secretHash = hashSecret(secret);
    key.secretHint = secretHint(secret);
    const qint64 id = store().saveKey(key);
    if (id == 0) {
        qCWarning(lcUi) << "cannot save the built-in key" << name;
        return {};
    }
    m_chatKeyId = id;
    m_chatSecret = secret;
    keysEdited();
    return m_chatSecret;
}

void Backend::providersEdited(std::function<void()> applied)
{
    if (!m_gateway.usesKeychain()) {
        QStringList warnings;
        m_gateway.reload(&warnings); // environment variables only: nothing to wait for
        for (const QString &w : std::as_const(warnings))
            qCWarning(lcUi) << "reload:" << w;
        Q_EMIT providersChanged();
        if (applied)
            applied();
        return;
    }
    // Providers added, enabled or removed apply now with the keys already known...
    m_gateway.reloadKeys();
    Q_EMIT providersChanged();
    // ...and the keychain's answer (new or replaced keys) applies when it comes. Only the latest
    // read counts: an older one may not have seen a key written since.
    const int generation = ++m_secretsGeneration;
    QStringList ids;
    for (const ProviderConfig &p : store().providers())
        ids.append(p.id);
    SecretStore::readAllAsync(ids, this,
        [this, generation, applied = std::move(applied)](QHash<QString, QString> found, QStringList errors) {
            if (generation == m_secretsGeneration) {
                for (const QString &e : std::as_const(errors))
                    qCWarning(lcUi) << "reload:" << e;
                m_gateway.reloadWith(found);
                Q_EMIT providersChanged();
            }
            // A newer read is under way: it saw at least as much, and the gateway has this answer's
            // keys by the time that one lands. `applied` still runs so a caller's test is not lost.
            if (applied)
                applied();
        });
}

void Backend::routesEdited()
{
    m_keysReload.stop();
    m_gateway.reloadKeys();
    Q_EMIT routesChanged();
}

void Backend::clearLog(std::function<void(bool, QString)> done)
{
    struct Outcome {
        bool ok = false;
        QString error;
    };
    Store *store = &this->store();
    m_queries->run<Outcome>(
        this,
        [store](LogQueries &) {
            Outcome o;
            o.ok = store->clearLog(&o.error);
            return o;
        },
        [this, done = std::move(done)](Outcome o) {
            if (o.ok) {
                // What the budgets counted came from the log: it starts again from zero.
                const qint64 now = nowMs();
                for (const StoredKey &k : std::as_const(m_keys)) {
                    for (int i = 0; i < kPeriodCount; ++i)
                        context().ledger.setSpent(k.id, Period(i), 0, now);
                }
                m_aggregates->reset();
                Q_EMIT logCleared();
            }
            if (done)
                done(o.ok, o.error);
        });
}

} // namespace gh::ui
