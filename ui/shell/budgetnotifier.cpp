#include "budgetnotifier.h"
#include "backend.h"
#include "budget/budgetledger.h"
#include "gateway/gateway.h"
#include "gateway/gatewaycontext.h"
#include <QJsonArray>

namespace gh::ui {

namespace {
const QString kSetting = QStringLiteral("budgetNotices");
}

BudgetNotifier::BudgetNotifier(Backend &backend, QObject *parent)
    : QObject(parent)
    , m_backend(backend)
{
    for (const QJsonValue &v : backend.uiSetting(kSetting, QJsonArray()).toArray())
        m_sent.insert(v.toString());
    connect(&backend, &Backend::activityTick, this, &BudgetNotifier::check);
    connect(&backend, &Backend::keysChanged, this, &BudgetNotifier::check);
    if (GatewayEvents *events = backend.gateway().events()) {
        connect(events, &GatewayEvents::requestFinished, this, [this](const RequestRecord &r) {
            if (r.status == 402 && r.keyId > 0)
                refused(r.keyId);
        });
    }
}

void BudgetNotifier::refused(qint64 keyId)
{
    const qint64 now = m_backend.nowMs();
    for (const StoredKey &k : m_backend.keys()) {
        if (k.id != keyId || k.revoked)
            continue;
        // The limited period with the least left is the one that refused.
        const auto status = m_backend.context().ledger.status(k.id, now);
        int tightest = -1;
        NanoUsd least = 0;
        for (int p = 0; p < kPeriodCount; ++p) {
            const auto remaining = status[p].remaining();
            if (status[p].limit && remaining && (tightest < 0 || *remaining < least)) {
                tightest = p;
                least = *remaining;
            }
        }
        if (tightest < 0)
            return;
        const QString mark = QStringLiteral("%1:%2:%3:100")
                                 .arg(k.id)
                                 .arg(QLatin1String(periodName(Period(tightest))))
                                 .arg(periodStartMs(Period(tightest), now));
        if (m_sent.contains(mark))
            return;
        m_sent.insert(mark);
        remember();
        Q_EMIT thresholdCrossed(k.id, k.name, QLatin1String(periodName(Period(tightest))), 100,
            toUsd(status[tightest].spent), toUsd(*status[tightest].limit));
        return;
    }
}

void BudgetNotifier::remember()
{
    QJsonArray list;
    for (const QString &s : std::as_const(m_sent))
        list.append(s);
    m_backend.setUiSetting(kSetting, list);
}

void BudgetNotifier::check()
{
    const qint64 now = m_backend.nowMs();
    qint64 starts[kPeriodCount];
    for (int p = 0; p < kPeriodCount; ++p)
        starts[p] = periodStartMs(Period(p), now);
    QSet<QString> current; // what is still relevant: entries of the current periods
    bool changed = false;
    for (const StoredKey &k : m_backend.keys()) {
        if (k.revoked)
            continue;
        const auto status = m_backend.context().ledger.status(k.id, now);
        for (int p = 0; p < kPeriodCount; ++p) {
            const auto &limit = status[p].limit;
            const QString prefix
                = QStringLiteral("%1:%2:%3:").arg(k.id).arg(QLatin1String(periodName(Period(p)))).arg(starts[p]);
            for (const int percent : {80, 100}) {
                if (m_sent.contains(prefix + QString::number(percent)))
                    current.insert(prefix + QString::number(percent));
            }
            if (!limit || *limit <= 0)
                continue;
            const double fraction = double(status[p].spent) / double(*limit);
            int crossed = 0;
            for (const int percent : {80, 100}) {
                if (fraction * 100 >= percent && !m_sent.contains(prefix + QString::number(percent))) {
                    current.insert(prefix + QString::number(percent));
                    m_sent.insert(prefix + QString::number(percent));
                    crossed = percent; // only the highest one crossed is worth a notification
                    changed = true;
                }
            }
            if (crossed)
                Q_EMIT thresholdCrossed(
                    k.id, k.name, QLatin1String(periodName(Period(p))), crossed, toUsd(status[p].spent), toUsd(*limit));
        }
    }
    if (current != m_sent) { // old periods drop out
        m_sent = current;
        changed = true;
    }
    if (changed)
        remember();
}

} // namespace gh::ui
