#pragma once
#include <QObject>
#include <QSet>

namespace gh::ui {

class Backend;

// Watches every key's spend against its limits and reports when a key crosses 80% or 100% of a
// day, week, month or total limit: once per key, period and threshold within a period, remembered
// in the settings so a restart does not repeat it. Checks once a second while requests finish, and
// after limits change. A key that refuses a request for its budget (402) while below 100% (what
// remains is less than the request's worst case, e.g. at 99.9%) counts as having reached the limit
// of its tightest period: the 100% notice is sent then, once per period as well.
class BudgetNotifier : public QObject
{
    Q_OBJECT
public:
    explicit BudgetNotifier(Backend &backend, QObject *parent = nullptr);

    // Compares the ledger with the limits now (the backend's clock).
    void check();
    // A request of `keyId` was refused for its budget (402): the key can no longer afford requests.
    void refused(qint64 keyId);

Q_SIGNALS:
    // percent: 80 or 100; amounts in USD.
    void thresholdCrossed(
        qint64 keyId, const QString &keyName, const QString &period, int percent, double spent, double limit);

private:
    void remember();
    Backend &m_backend;
    QSet<QString> m_sent; // "keyId:period:periodStartMs:percent"
};

} // namespace gh::ui
