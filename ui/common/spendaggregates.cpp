#include "spendaggregates.h"
#include "store/queryrunner.h"
#include <QDateTime>

namespace gh::ui {

size_t qHash(const SpendAggregates::Group &g, size_t seed)
{
    return qHashMulti(seed, g.day, g.keyId, g.keyName, g.model, g.provider);
}

SpendAggregates::SpendAggregates(QueryRunner &queries, std::function<qint64()> clock, QObject *parent)
    : QObject(parent)
    , m_queries(queries)
    , m_clock(std::move(clock))
{ }

QDate SpendAggregates::windowStart() const
{
    const QDate today = QDateTime::fromMSecsSinceEpoch(m_clock()).date();
    const QDate previousMonth = QDate(today.year(), today.month(), 1).addMonths(-1);
    return qMin(previousMonth, today.addDays(-30));
}

void SpendAggregates::refresh()
{
    if (m_running) {
        m_again = true;
        return;
    }
    start(!m_ready);
}

void SpendAggregates::reset()
{
    ++m_generation;
    m_cells.clear();
    m_lastSeq = 0;
    m_ready = false;
    m_again = false;
    m_running = false;
    Q_EMIT changed();
    start(true);
}

void SpendAggregates::start(bool full)
{
    m_running = true;
    const qint64 fromMs = windowStart().startOfDay().toMSecsSinceEpoch();
    const qint64 afterSeq = full ? 0 : m_lastSeq;
    const int generation = m_generation;
    m_queries.run<SpendScan>(
        this, [fromMs, afterSeq, full](LogQueries &q) { return q.scanSpend(fromMs, afterSeq, full); },
        [this, generation](SpendScan b) {
            if (generation != m_generation)
                return;
            m_running = false;
            if (b.ok)
                apply(b);
            if (m_again) {
                m_again = false;
                start(!m_ready);
            }
        });
}

void SpendAggregates::apply(const SpendScan &batch)
{
    if (batch.full)
        m_cells.clear();
    QHash<qint64, QDate> days; // bucket -> local date
    for (const SpendRow &r : batch.rows) {
        auto day = days.find(r.bucket);
        if (day == days.end())
            day = days.insert(r.bucket, QDateTime::fromMSecsSinceEpoch(r.bucket * 900000).date());
        Cell &c = m_cells[Group{*day, r.keyId, r.keyName, r.model, r.provider}];
        c.cost += r.cell.cost;
        c.requests += r.cell.requests;
        c.tokens += r.cell.tokens;
        c.answered += r.cell.answered;
        c.unpriced += r.cell.unpriced;
    }
    // Days that left the window are no longer needed.
    const QDate first = windowStart();
    m_cells.removeIf([&first](const QHash<Group, Cell>::iterator it) { return it.key().day < first; });
    m_lastSeq = batch.maxSeq;
    m_ready = true;
    Q_EMIT changed();
}

SpendAggregates::Cell SpendAggregates::total(QDate from, QDate to) const
{
    Cell sum;
    for (auto it = m_cells.cbegin(); it != m_cells.cend(); ++it) {
        if (it.key().day < from || it.key().day > to)
            continue;
        sum.cost += it->cost;
        sum.requests += it->requests;
        sum.tokens += it->tokens;
        sum.answered += it->answered;
        sum.unpriced += it->unpriced;
    }
    return sum;
}

QHash<SpendAggregates::Group, SpendAggregates::Cell> SpendAggregates::groups(QDate from, QDate to) const
{
    QHash<Group, Cell> out;
    for (auto it = m_cells.cbegin(); it != m_cells.cend(); ++it) {
        if (it.key().day >= from && it.key().day <= to)
            out.insert(it.key(), it.value());
    }
    return out;
}

} // namespace gh::ui
