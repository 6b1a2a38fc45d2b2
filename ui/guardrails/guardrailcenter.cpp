#include "guardrailcenter.h"
#include "gateway/gateway.h"
#include "state/configapply.h"
#include "store/queryrunner.h"
#include "store/store.h"
#include <QJSEngine>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

GuardrailCenter *s_current = nullptr; // the window's, for QML's `Guardrails`

} // namespace

GuardrailCenter::GuardrailCenter(Gateway &gateway, QueryRunner &queries, QObject *parent)
    : QObject(parent)
    , m_gateway(gateway)
    , m_queries(queries)
{
    s_current = this;
    connect(&gateway, &Gateway::guardrailTripped, this, &GuardrailCenter::onTripped);
    connect(&gateway, &Gateway::guardrailsResumed, this, [this] {
        updateActivePauses();
        ++m_revision;
        Q_EMIT changed();
    });
    // The requests that tripped a guardrail, for the Activity marker: the stored trips, then each new one.
    m_queries.run<QSet<QString>>(
        this,
        [](LogQueries &q) {
            QSet<QString> ids;
            for (const GuardrailTripRow &t : q.guardrailTrips(5000))
                ids.insert(t.requestId);
            return ids;
        },
        [this](QSet<QString> ids) {
            m_trippingRequests.unite(ids);
            ++m_revision;
            Q_EMIT changed();
        });
    updateActivePauses();
}

GuardrailCenter::~GuardrailCenter()
{
    if (s_current == this)
        s_current = nullptr;
}

GuardrailCenter *GuardrailCenter::create(QQmlEngine *, QJSEngine *)
{
    if (s_current)
        QJSEngine::setObjectOwnership(s_current, QJSEngine::CppOwnership);
    return s_current;
}

void GuardrailCenter::onTripped(const GuardrailTrip &trip)
{
    m_trippingRequests.insert(trip.requestId);
    updateActivePauses();
    ++m_revision;
    Q_EMIT changed();
    Q_EMIT tripped(trip.id, trip.keyId, trip.keyName, trip.session, detectorName(trip.detector),
        trip.action == GuardMode::Pause, trip.summary);
}

void GuardrailCenter::updateActivePauses()
{
    const int n = m_gateway.context().guardrails.activePauses();
    if (n == m_activePauses)
        return;
    m_activePauses = n;
    Q_EMIT activePausesChanged();
}

int GuardrailCenter::resume(qint64 keyId, const QString &session)
{
    const int lifted = m_gateway.resumeGuardrails(keyId, session, QStringLiteral("window"));
    updateActivePauses();
    return lifted;
}

bool GuardrailCenter::keepPaused(qint64 tripId)
{
    const bool ok = m_gateway.keepGuardrailPaused(tripId);
    if (ok) {
        ++m_revision;
        Q_EMIT changed();
    }
    return ok;
}

QVariantList GuardrailCenter::keyModes() const
{
    QVariantList out;
    const QHash<QString, GuardrailPolicy> policies = loadKeyGuardrails(m_gateway.store());
    for (const StoredKey &k : m_gateway.store().keys()) {
        if (k.revoked)
            continue;
        const GuardrailPolicy p = policies.value(k.name);
        out.append(QVariantMap{{QStringLiteral("keyId"), k.id}, {QStringLiteral("name"), k.name},
            {QStringLiteral("repetition"), guardModeName(p.repetition)},
            {QStringLiteral("velocity"), guardModeName(p.velocity)},
            {QStringLiteral("blowup"), guardModeName(p.blowup)}});
    }
    return out;
}

bool GuardrailCenter::setKeyMode(const QString &keyName, const QString &detector, const QString &mode)
{
    const auto m = guardModeFromName(mode);
    if (!m || !m_gateway.store().keyByName(keyName))
        return false;
    Store &store = m_gateway.store();
    QJsonObject all = QJsonDocument::fromJson(store.setting(QLatin1String(kKeyGuardrailsKey)).toUtf8()).object();
    GuardrailPolicy p = loadKeyGuardrails(store).value(keyName);
    if (detector == QLatin1String("repetition"))
        p.repetition = *m;
    else if (detector == QLatin1String("velocity"))
        p.velocity = *m;
    else if (detector == QLatin1String("blowup"))
        p.blowup = *m;
    else
        return false;
    // The defaults are not stored (configapply: a key without an entry has them).
    if (p == GuardrailPolicy{})
        all.remove(keyName);
    else
        all.insert(keyName, p.toJson());
    const QString json = QString::fromUtf8(QJsonDocument(all).toJson(QJsonDocument::Compact));
    store.setSetting(QLatin1String(kKeyGuardrailsKey), json);
    if (store.setting(QLatin1String(kKeyGuardrailsKey)) != json) {
        qCWarning(lcUi) << "the guardrail modes of key" << keyName << "could not be saved";
        return false;
    }
    m_gateway.reloadKeys();
    ++m_revision;
    Q_EMIT keyModesChanged();
    Q_EMIT changed();
    return true;
}

} // namespace gh::ui
