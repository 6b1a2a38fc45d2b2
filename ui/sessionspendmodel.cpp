#include "sessionspendmodel.h"
#include "backend.h"
#include "queryrunner.h"
#include <QDateTime>
#include <sqlite3.h>

namespace gh::ui {

SessionSpendModel::SessionSpendModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_backend(Backend::instance())
{
    if (!m_backend)
        return;
    connect(m_backend, &Backend::logChanged, this, &SessionSpendModel::refresh);
    connect(m_backend, &Backend::logCleared, this, &SessionSpendModel::refresh);
    connect(m_backend, &Backend::dayChanged, this, &SessionSpendModel::refresh);
    refresh();
}

int SessionSpendModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant SessionSpendModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
    case SessionRole:
        return r.session;
    case KeyNameRole:
        return r.keyName;
    case CostRole:
        return double(r.costNano) / 1e9;
    case RequestsRole:
        return r.requests;
    case UnpricedRole:
        return r.unpriced;
    case FirstAtRole:
        return r.firstAtMs;
    case LastAtRole:
        return r.lastAtMs;
    default:
        return {};
    }
}

QHash<int, QByteArray> SessionSpendModel::roleNames() const
{
    return {{SessionRole, "session"}, {KeyNameRole, "keyName"}, {CostRole, "cost"}, {RequestsRole, "requests"},
        {UnpricedRole, "unpriced"}, {FirstAtRole, "firstAt"}, {LastAtRole, "lastAt"}};
}

void SessionSpendModel::setLimit(int limit)
{
    limit = std::max(0, limit);
    if (limit == m_limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    refresh();
}

void SessionSpendModel::refresh()
{
    if (!m_backend)
        return;
    if (m_running) {
        m_again = true; // one more run after this one: rows committed meanwhile are counted
        return;
    }
    m_running = true;
    // Today in local time, as the key budgets' day period.
    const qint64 sinceMs = QDateTime(m_backend->today(), QTime(0, 0)).toMSecsSinceEpoch();
    const int limit = m_limit;
    m_backend->queries().run<QList<Row>>(
        this,
        [sinceMs, limit](sqlite3 *db) {
            QList<Row> rows;
            if (!db || limit <= 0)
                return rows;
            // requests_session_time index: only rows with a session are in it.
            static const char kSql[]
                = "SELECT session_id, (SELECT key_name FROM requests l WHERE l.session_id = r.session_id "
                  "AND l.started_at_ms >= ?1 ORDER BY l.seq DESC LIMIT 1), SUM(COALESCE(cost_nano_usd, 0)), COUNT(*), "
                  "SUM(cost_nano_usd IS NULL AND status BETWEEN 200 AND 299), MIN(started_at_ms), MAX(started_at_ms) "
                  "FROM requests r WHERE session_id <> '' AND started_at_ms >= ?1 GROUP BY session_id "
                  "ORDER BY 3 DESC, 7 DESC LIMIT ?2";
            sqlite3_stmt *st = nullptr;
            if (sqlite3_prepare_v2(db, kSql, -1, &st, nullptr) != SQLITE_OK) {
                sqlite3_finalize(st);
                return rows;
            }
            sqlite3_bind_int64(st, 1, sinceMs);
            sqlite3_bind_int(st, 2, limit);
            auto text = [st](int c) {
                const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(st, c));
                return p ? QString::fromUtf8(p, sqlite3_column_bytes(st, c)) : QString();
            };
            while (sqlite3_step(st) == SQLITE_ROW) {
                Row r;
                r.session = text(0);
                r.keyName = text(1);
                r.costNano = sqlite3_column_int64(st, 2);
                r.requests = sqlite3_column_int64(st, 3);
                r.unpriced = sqlite3_column_int64(st, 4);
                r.firstAtMs = sqlite3_column_int64(st, 5);
                r.lastAtMs = sqlite3_column_int64(st, 6);
                rows.append(r);
            }
            sqlite3_finalize(st);
            return rows;
        },
        [this](QList<Row> rows) {
            m_running = false;
            apply(std::move(rows));
            Q_EMIT refreshed();
            if (m_again) {
                m_again = false;
                refresh();
            }
        });
}

void SessionSpendModel::apply(QList<Row> rows)
{
    if (rows == m_rows)
        return;
    const bool countChanges = rows.size() != m_rows.size();
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
    if (countChanges)
        Q_EMIT countChanged();
}

} // namespace gh::ui
