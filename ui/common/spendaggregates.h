#pragma once
#include "core/money.h"
#include "store/logqueries.h"
#include <functional>
#include <QDate>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

namespace gh {
class QueryRunner;
}

namespace gh::ui {

// Spend of the recent past (the previous calendar month and at least the last 30 days) per local
// day, key, model and provider, kept in memory for the dashboard. Filled by one grouped query when
// the window opens, then only the rows committed since (seq > the last one seen) are read, on the
// query thread. Everything the dashboard shows is summed from here on the UI thread, in microseconds.
class SpendAggregates : public QObject
{
    Q_OBJECT
public:
    using Cell = SpendCell; // store/logqueries.h
    struct Group {
        QDate day; // local date the request started on
        qint64 keyId = 0;
        QString keyName; // as logged
        QString model; // the model the client asked for
        QString provider;
        friend bool operator==(const Group &, const Group &) = default;
    };

    SpendAggregates(QueryRunner &queries, std::function<qint64()> clock, QObject *parent = nullptr);

    // Reads what was committed since the last call (everything the first time). Calls made while a
    // read runs are merged into one more read after it.
    void refresh();
    // Forgets everything and reads the window again (after the log was cleared).
    void reset();

    [[nodiscard]] bool isReady() const { return m_ready; }
    [[nodiscard]] qint64 lastSeq() const { return m_lastSeq; }
    [[nodiscard]] QDate windowStart() const; // first day the aggregates cover (from the clock)

    // Sums over days in [from, to] (inclusive), optionally per group.
    [[nodiscard]] Cell total(QDate from, QDate to) const;
    [[nodiscard]] QHash<Group, Cell> groups(QDate from, QDate to) const;
    [[nodiscard]] const QHash<Group, Cell> &all() const { return m_cells; }

Q_SIGNALS:
    void changed();

private:
    void start(bool full);
    void apply(const SpendScan &batch);
    QueryRunner &m_queries;
    std::function<qint64()> m_clock;
    QHash<Group, Cell> m_cells;
    qint64 m_lastSeq = 0;
    int m_generation = 0;
    bool m_running = false;
    bool m_again = false;
    bool m_ready = false;
};

size_t qHash(const SpendAggregates::Group &g, size_t seed = 0);

} // namespace gh::ui
