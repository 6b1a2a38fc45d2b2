#include "refusalsummary.h"
#include "store/logqueries.h"
#include "store/queryrunner.h"
#include <QDateTime>

namespace gh::ui {

RefusalSummary::RefusalSummary(QObject *parent)
    : QObject(parent)
{
}

RefusalSummary::RefusalSummary(Backend *backend, QObject *parent)
    : RefusalSummary(parent)
{
    setBackend(backend);
}

void RefusalSummary::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "RefusalSummary"))
        return;
    connect(m_backend, &Backend::logChanged, this, &RefusalSummary::refresh);
    connect(m_backend, &Backend::logCleared, this, &RefusalSummary::refresh);
    connect(m_backend, &Backend::instanceScopeChanged, this, &RefusalSummary::refresh);
    connect(m_backend, &Backend::dayChanged, this, &RefusalSummary::refresh);
    refresh();
    announceBackend(this);
}

void RefusalSummary::refresh()
{
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true; // one more count after this one: rows committed meanwhile are counted
        return;
    }
    m_running = true;
    // Today in local time, as the key budgets' day period and the Dashboard's other "today" figures.
    const qint64 sinceMs = QDateTime(m_backend->today(), QTime(0, 0)).toMSecsSinceEpoch();
    m_backend->queries().run<QHash<QString, qint64>>(
        this, [sinceMs](LogQueries &q) { return q.refusalCounts(sinceMs); },
        [this](QHash<QString, qint64> counts) {
            m_running = false;
            apply(counts);
            Q_EMIT refreshed();
            if (m_again) {
                m_again = false;
                refresh();
            }
        });
}

void RefusalSummary::apply(const QHash<QString, qint64> &counts)
{
    int budget = 0, policy = 0, secret = 0, guardrail = 0, other = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        const int n = int(std::min<qint64>(it.value(), std::numeric_limits<int>::max() / 8));
        if (it.key() == QLatin1String("budget"))
            budget = n;
        else if (it.key() == QLatin1String("policy"))
            policy = n;
        else if (it.key() == QLatin1String("secret"))
            secret = n;
        else if (it.key() == QLatin1String("guardrail"))
            guardrail = n;
        else
            other += n;
    }
    if (budget == m_budget && policy == m_policy && secret == m_secret && guardrail == m_guardrail && other == m_other)
        return;
    m_budget = budget;
    m_policy = policy;
    m_secret = secret;
    m_guardrail = guardrail;
    m_other = other;
    Q_EMIT changed();
}

} // namespace gh::ui
