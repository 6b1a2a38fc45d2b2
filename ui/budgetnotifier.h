#pragma once
#include <QObject>
#include <QSet>

namespace gh::ui {

class Backend;

// Watches every key's spend against its limits and reports when a key crosses 80% or 100% of a
// day, week, month or total limit: once per key, period and threshold within a period, remembered
// in the settings so a restart does not repeat it. Checks once a second while requests finish, and
// after limits change.
class BudgetNotifier : public QObject
{
    Q_OBJECT
public:
    explicit BudgetNotifier(Backend &backend, QObject *parent = nullptr);

    // Compares the ledger with the limits now (the backend's clock).
    void check();

Q_SIGNALS:
    // percent: 80 or 100; amounts in USD.
    void thresholdCrossed(
        qint64 keyId, const QString &keyName, const QString &period, int percent, double spent, double limit);

private:
    Backend &m_backend;
    QSet<QString> m_sent; // "keyId:period:periodStartMs:percent"
};

} // namespace gh::ui
