#pragma once
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QtQml/qqmlregistration.h>
#include <QVariantList>
#include <QVariantMap>

class QQmlEngine;
class QJSEngine;

namespace gh {
class Gateway;
class QueryRunner;
struct GuardrailTrip;
} // namespace gh

namespace gh::ui {

// The guardrails (issue 17, docs/guardrails.md) as the window sees them: `Guardrails` in QML.
// Counts the pauses in force (the tray badge), resumes and keeps pauses, edits each key's modes
// (off / alert / pause per detector) and knows which logged requests tripped one (the Activity
// marker). Given its gateway and query thread by the window (gatehouseui.cpp) or a test; the models
// of the Guardrails page take it as a property (GuardrailTripsModel.center).
class GuardrailCenter : public QObject
{
    Q_OBJECT
    QML_NAMED_ELEMENT(Guardrails)
    QML_SINGLETON
    Q_PROPERTY(int activePauses READ activePauses NOTIFY activePausesChanged)
    Q_PROPERTY(int revision READ revision NOTIFY changed)
public:
    GuardrailCenter(Gateway &gateway, QueryRunner &queries, QObject *parent = nullptr);
    ~GuardrailCenter() override;

    // The object QML's `Guardrails` is: the one the window made (C++-owned); nullptr before.
    static GuardrailCenter *create(QQmlEngine *, QJSEngine *);

    [[nodiscard]] Gateway &gateway() const { return m_gateway; }
    [[nodiscard]] QueryRunner &queries() const { return m_queries; }
    [[nodiscard]] int activePauses() const { return m_activePauses; }
    [[nodiscard]] int revision() const { return m_revision; }

    // Lifts the pauses of a key (one session's when `session` is not empty), recorded as by "window".
    Q_INVOKABLE int resume(qint64 keyId, const QString &session);
    // The person keeps trip `tripId` paused (recorded with the trip; the pause stays).
    Q_INVOKABLE bool keepPaused(qint64 tripId);
    // Every key that is not revoked: {keyId, name, repetition, velocity, blowup} (modes as names).
    [[nodiscard]] Q_INVOKABLE QVariantList keyModes() const;
    // Sets one detector's mode ("off", "alert", "pause") on a key, stored with the keys' guardrails
    // and applied to the running gateway at once. False when a name is not known.
    Q_INVOKABLE bool setKeyMode(const QString &keyName, const QString &detector, const QString &mode);
    // Whether the logged request `requestId` tripped a guardrail (the Activity marker).
    [[nodiscard]] Q_INVOKABLE bool trippedBy(const QString &requestId) const
    {
        return m_trippingRequests.contains(requestId);
    }

Q_SIGNALS:
    // A guardrail tripped (alert or pause), after the trip was stored.
    void tripped(qint64 tripId, qint64 keyId, const QString &keyName, const QString &session, const QString &detector,
        bool paused, const QString &summary);
    void changed(); // a trip, a resume, a kept pause or a mode changed
    void activePausesChanged();
    void keyModesChanged();

private:
    void onTripped(const GuardrailTrip &trip);
    void updateActivePauses();
    Gateway &m_gateway;
    QueryRunner &m_queries;
    QSet<QString> m_trippingRequests;
    int m_activePauses = 0;
    int m_revision = 0;
};

} // namespace gh::ui
