#include "spendaggregates.h"
#include "queryrunner.h"
#include <QDateTime>
#include <sqlite3.h>
#include <unordered_map>

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
    m_queries.run<Batch>(
        this,
        [fromMs, afterSeq, full](sqlite3 *db) {
            Batch b;
            b.full = full;
            if (!db)
                return b;
            // One read transaction: the max seq and the rows up to it come from the same snapshot.
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
            {
                Query max(db, "SELECT COALESCE(MAX(seq), 0) FROM requests");
                if (!max.next()) {
                    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
                    return b;
                }
                b.maxSeq = max.integer(0);
            }
            if (b.maxSeq < afterSeq) { // the log was cleared behind our back: read it all again
                b.full = true;
            }
            // The full read walks the time index from the window's start; an update walks the rowids
            // committed since the last one (the unary + keeps SQLite from picking the other index).
            // Rows are grouped here rather than by GROUP BY: interning the few distinct texts and
            // hashing small integer tuples is several times faster than SQLite's sorter over 1M rows.
            Query q(db,
                b.full
                    ? "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                      "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens, "
                      "status BETWEEN 200 AND 299 "
                      "FROM requests WHERE +seq > ?1 AND +seq <= ?2 AND started_at_ms >= ?3"
                    : "SELECT started_at_ms, key_id, key_name, requested_model, provider, cost_nano_usd, "
                      "input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens, "
                      "status BETWEEN 200 AND 299 "
                      "FROM requests WHERE seq > ?1 AND seq <= ?2 AND +started_at_ms >= ?3");
            q.bind(1, b.full ? 0 : afterSeq);
            q.bind(2, b.maxSeq);
            q.bind(3, fromMs);
            QHash<QByteArray, int> textIds;
            QStringList texts;
            auto intern = [&](int column) {
                const auto *p = reinterpret_cast<const char *>(q.rawText(column));
                const QByteArray raw = QByteArray::fromRawData(p ? p : "", p ? q.bytes(column) : 0);
                auto it = textIds.constFind(raw);
                if (it != textIds.cend())
                    return *it;
                const QByteArray copy(raw.constData(), raw.size());
                texts.append(QString::fromUtf8(copy));
                return *textIds.insert(copy, int(texts.size()) - 1);
            };
            struct GroupIds {
                qint64 bucket, keyId;
                int keyName, model, provider;
                bool operator==(const GroupIds &) const = default;
            };
            struct GroupHash {
                size_t operator()(const GroupIds &g) const noexcept
                {
                    return size_t(qHashMulti(0, g.bucket, g.keyId, g.keyName, g.model, g.provider));
                }
            };
            std::unordered_map<GroupIds, Cell, GroupHash> groups;
            while (q.next()) {
                const GroupIds g{q.integer(0) / 900000, q.integer(1), intern(2), intern(3), intern(4)};
                Cell &c = groups[g];
                const bool answered = q.integer(7) != 0;
                if (!q.isNull(5))
                    c.cost += q.integer(5);
                else if (answered)
                    c.unpriced += 1;
                c.requests += 1;
                c.tokens += q.integer(6);
                c.answered += answered ? 1 : 0;
            }
            b.rows.reserve(qsizetype(groups.size()));
            for (const auto &[g, cell] : groups)
                b.rows.append(
                    Row{g.bucket, g.keyId, texts.at(g.keyName), texts.at(g.model), texts.at(g.provider), cell});
            b.ok = q.done();
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
            return b;
        },
        [this, generation](Batch b) {
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

void SpendAggregates::apply(const Batch &batch)
{
    if (batch.full)
        m_cells.clear();
    QHash<qint64, QDate> days; // bucket -> local date
    for (const Row &r : batch.rows) {
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
