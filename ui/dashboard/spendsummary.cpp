#include "spendsummary.h"
#include "backend.h"
#include "spendaggregates.h"

namespace gh::ui {

SpendSummary::SpendSummary(QObject *parent)
    : QObject(parent)
{
}

SpendSummary::SpendSummary(Backend *backend, QObject *parent)
    : SpendSummary(parent)
{
    setBackend(backend);
}

void SpendSummary::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SpendSummary"))
        return;
    attachBackend();
    announceBackend(this);
}

void SpendSummary::attachBackend()
{
    connect(&m_backend->aggregates(), &SpendAggregates::changed, this, &SpendSummary::recompute);
    connect(m_backend, &Backend::dayChanged, this, &SpendSummary::recompute);
    recompute();
}

void SpendSummary::recompute()
{
    const SpendAggregates &a = m_backend->aggregates();
    const QDate today = m_backend->today();
    const QDate weekStart = today.addDays(1 - today.dayOfWeek()); // Monday
    const QDate monthStart(today.year(), today.month(), 1);
    const QDate previousMonthStart = monthStart.addMonths(-1);
    const SpendAggregates::Cell day = a.total(today, today);
    const QDate open = today;
    m_values[0] = toUsd(a.total(today, open).cost);
    m_values[1] = toUsd(a.total(weekStart, open).cost);
    m_values[2] = toUsd(a.total(monthStart, open).cost);
    m_values[3] = toUsd(a.total(today.addDays(-1), today.addDays(-1)).cost);
    m_values[4] = toUsd(a.total(weekStart.addDays(-7), weekStart.addDays(-1)).cost);
    m_values[5] = toUsd(a.total(previousMonthStart, monthStart.addDays(-1)).cost);
    m_requestsToday = int(day.requests);
    m_tokensToday = day.tokens;
    m_hasData = m_backend->hasRequests();
    m_ready = a.isReady();
    Q_EMIT changed();
}

} // namespace gh::ui
