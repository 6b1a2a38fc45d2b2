#include "activitymodel.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "queryrunner.h"
#include "routing/registry.h"
#include <algorithm>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QLoggingCategory>
#include <QThread>
#include <sqlite3.h>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

constexpr const char *kColumns
    = "seq, id, started_at_ms, key_id, key_name, endpoint, requested_model, provider, upstream_model, status, error, "
      "latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, "
      "reasoning_tokens, usage_reported, estimated, cost_nano_usd, stream, attempts, route, model_id, session_id";

void bindAll(sqlite3_stmt *stmt, const QList<ActivityModel::Arg> &args)
{
    for (int i = 0; i < args.size(); ++i) {
        if (const auto *n = std::get_if<qint64>(&args[i])) {
            sqlite3_bind_int64(stmt, i + 1, *n);
        } else {
            const QByteArray utf8 = std::get<QString>(args[i]).toUtf8();
            sqlite3_bind_text(stmt, i + 1, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
        }
    }
}

// A prepared statement with its arguments bound; empty when it cannot be prepared.
struct Stmt {
    sqlite3_stmt *s = nullptr;
    Stmt(sqlite3 *db, const QByteArray &sql, const QList<ActivityModel::Arg> &args)
    {
        if (!db)
            return;
        if (sqlite3_prepare_v2(db, sql.constData(), int(sql.size()), &s, nullptr) != SQLITE_OK) {
            qCWarning(lcUi) << "activity query failed to prepare:" << sqlite3_errmsg(db) << sql;
            sqlite3_finalize(s);
            s = nullptr;
            return;
        }
        bindAll(s, args);
    }
    ~Stmt() { sqlite3_finalize(s); }
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;
    bool step() { return s && sqlite3_step(s) == SQLITE_ROW; }
};

qint64 scalar(sqlite3 *db, const QByteArray &sql, const QList<ActivityModel::Arg> &args, bool *ok = nullptr)
{
    Stmt st(db, sql, args);
    const bool row = st.step();
    if (ok)
        *ok = st.s != nullptr;
    return row ? sqlite3_column_int64(st.s, 0) : 0;
}

bool isOk(const RequestRecord &r)
{
    return r.status >= 200 && r.status < 300 && r.error.isEmpty();
}

QString csvField(const QString &v)
{
    if (!v.contains(u',') && !v.contains(u'"') && !v.contains(u'\n') && !v.contains(u'\r'))
        return v;
    QString q = v;
    q.replace(u'"', QStringLiteral("\"\""));
    return u'"' + q + u'"';
}

const QList<QString> kDistinctColumns{QStringLiteral("key"), QStringLiteral("model"), QStringLiteral("provider"),
    QStringLiteral("upstreamModel"), QStringLiteral("session")};

QString distinctColumnName(const QString &column)
{
    if (column == QLatin1String("key") || column == QLatin1String("keyName"))
        return QStringLiteral("key");
    if (column == QLatin1String("model") || column == QLatin1String("requestedModel"))
        return QStringLiteral("model");
    if (column == QLatin1String("provider"))
        return QStringLiteral("provider");
    if (column == QLatin1String("upstreamModel"))
        return QStringLiteral("upstreamModel");
    if (column == QLatin1String("session") || column == QLatin1String("sessionId"))
        return QStringLiteral("session");
    return {};
}

} // namespace

QByteArray ActivityModel::columns()
{
    return kColumns;
}

ActivityModel::Row ActivityModel::readRow(void *statement)
{
    auto *s = static_cast<sqlite3_stmt *>(statement);
    auto text = [s](int c) {
        const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(s, c));
        return p ? QString::fromUtf8(p, sqlite3_column_bytes(s, c)) : QString();
    };
    auto integer = [s](int c) { return sqlite3_column_int64(s, c); };
    Row row;
    RequestRecord &r = row.record;
    row.seq = integer(0);
    r.id = text(1);
    r.startedAtMs = integer(2);
    r.keyId = integer(3);
    r.keyName = text(4);
    r.endpoint = text(5);
    r.requestedModel = text(6);
    r.provider = text(7);
    r.upstreamModel = text(8);
    r.status = int(integer(9));
    r.error = text(10);
    r.latencyMs = integer(11);
    r.ttftMs = integer(12);
    r.usage.inputTokens = integer(13);
    r.usage.cacheReadTokens = integer(14);
    r.usage.cacheWriteTokens = integer(15);
    r.usage.cacheWrite1hTokens = integer(16);
    r.usage.outputTokens = integer(17);
    r.usage.reasoningTokens = integer(18);
    r.usage.reported = integer(19) != 0;
    r.usage.estimated = integer(20) != 0;
    if (sqlite3_column_type(s, 21) != SQLITE_NULL)
        r.cost = integer(21);
    r.stream = integer(22) != 0;
    r.attempts = int(integer(23));
    r.route = text(24);
    r.modelId = text(25);
    r.sessionId = text(26);
    return row;
}

void ActivityModel::appendFilter(const Filter &f, QByteArray &sql, QList<Arg> &args)
{
    if (f.keyId > 0) {
        sql += " AND key_id = ?";
        args.append(f.keyId);
    } else if (!f.key.isEmpty()) {
        sql += " AND key_name = ?";
        args.append(f.key);
    }
    if (!f.model.isEmpty()) {
        sql += " AND requested_model = ?";
        args.append(f.model);
    }
    if (!f.provider.isEmpty()) {
        sql += " AND provider = ?";
        args.append(f.provider);
    }
    if (!f.session.isEmpty()) {
        sql += " AND session_id = ?"; // requests_session_time index
        args.append(f.session);
    }
    if (f.status == QLatin1String("ok"))
        sql += " AND status BETWEEN 200 AND 299 AND error = ''";
    else if (f.status == QLatin1String("error"))
        sql += " AND NOT (status BETWEEN 200 AND 299 AND error = '')";
    if (f.fromMs > 0) {
        sql += " AND started_at_ms >= ?";
        args.append(f.fromMs);
    }
    if (f.toMs > 0) {
        sql += " AND started_at_ms <= ?";
        args.append(f.toMs);
    }
    if (f.search.startsWith(QLatin1String("req_"))) {
        // A whole id or its start: a range on the unique index of id (UTF-8 order, BINARY collation).
        sql += " AND id >= ? AND id < ?";
        args.append(f.search);
        args.append(f.search + QChar(0xDBFF) + QChar(0xDFFF)); // U+10FFFF: above any continuation
    } else if (!f.search.isEmpty()) {
        // Any part of an id (a piece copied from a client's log without the "req_"): a scan, on
        // the query thread, case-insensitive like the ids' base-36 digits allow.
        sql += " AND instr(lower(id), ?) > 0";
        args.append(f.search.toLower());
    }
}

ActivityModel::ActivityModel(QObject *parent)
    : QAbstractListModel(parent)
    , m_backend(Backend::instance())
{
    m_reloadTimer.setSingleShot(true);
    connect(&m_reloadTimer, &QTimer::timeout, this, &ActivityModel::reload);
    if (!m_backend)
        return;
    connect(m_backend, &Backend::logChanged, this, &ActivityModel::refresh);
    connect(m_backend, &Backend::logCleared, this, [this] {
        m_distinct.clear();
        m_distinctSeq = -1;
        beginResetModel();
        m_total = 0;
        m_maxSeq = 0;
        invalidateCache();
        endResetModel();
        Q_EMIT totalCountChanged();
        Q_EMIT distinctValuesChanged();
        reload();
    });
    connect(m_backend, &Backend::keysChanged, this, [this] {
        // A key filter follows the key's id; a rename or a new key may change which one it is.
        qint64 keyId = 0;
        for (const StoredKey &k : m_backend->keys()) {
            if (k.name == m_filter.key)
                keyId = k.id;
        }
        if (keyId != m_filter.keyId) {
            m_filter.keyId = keyId;
            scheduleReload();
        }
        Q_EMIT distinctValuesChanged();
    });
    connect(m_backend, &Backend::providersChanged, this, &ActivityModel::distinctValuesChanged);
    reload();
}

ActivityModel::~ActivityModel() = default;

int ActivityModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_total;
}

QHash<int, QByteArray> ActivityModel::roleNames() const
{
    return {{RequestIdRole, "requestId"}, {StartedAtRole, "startedAt"}, {KeyNameRole, "keyName"}, {ModelRole, "model"},
        {ProviderRole, "provider"}, {UpstreamModelRole, "upstreamModel"}, {StatusRole, "status"}, {ErrorRole, "error"},
        {LatencyMsRole, "latencyMs"}, {TtftMsRole, "ttftMs"}, {InputTokensRole, "inputTokens"},
        {OutputTokensRole, "outputTokens"}, {CacheReadTokensRole, "cacheReadTokens"},
        {CacheWriteTokensRole, "cacheWriteTokens"}, {CostRole, "cost"}, {EstimatedRole, "estimated"},
        {StreamRole, "stream"}, {AttemptsRole, "attempts"}, {OkRole, "ok"}, {LoadedRole, "loaded"},
        {SessionRole, "session"}};
}

const ActivityModel::Row *ActivityModel::rowAt(int row) const
{
    if (row < 0 || row >= m_total)
        return nullptr;
    const int bottom = m_total - 1 - row;
    const int page = bottom / kPageSize;
    auto it = m_pages.constFind(page);
    if (it == m_pages.cend()) {
        requestPage(page);
        return nullptr;
    }
    touch(page);
    const int at = bottom - page * kPageSize;
    return at < it->rows.size() ? &it->rows.at(at) : nullptr;
}

QVariant ActivityModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    static const Row empty;
    const Row *found = rowAt(index.row());
    const Row &row = found ? *found : empty;
    const RequestRecord &r = row.record;
    switch (role) {
    case RequestIdRole:
    case Qt::DisplayRole:
        return r.id;
    case StartedAtRole:
        return r.startedAtMs;
    case KeyNameRole:
        return r.keyName;
    case ModelRole:
        return r.requestedModel;
    case ProviderRole:
        return r.provider;
    case UpstreamModelRole:
        return r.upstreamModel;
    case SessionRole:
        return r.sessionId;
    case StatusRole:
        return r.status;
    case ErrorRole:
        return r.error;
    case LatencyMsRole:
        return r.latencyMs;
    case TtftMsRole:
        return r.ttftMs;
    case InputTokensRole:
        return r.usage.inputTokens;
    case OutputTokensRole:
        return r.usage.outputTokens;
    case CacheReadTokensRole:
        return r.usage.cacheReadTokens;
    case CacheWriteTokensRole:
        return r.usage.cacheWriteTokens + r.usage.cacheWrite1hTokens;
    case CostRole:
        return r.cost ? toUsd(*r.cost) : -1.0;
    case EstimatedRole:
        return r.usage.estimated;
    case StreamRole:
        return r.stream;
    case AttemptsRole:
        return r.attempts;
    case OkRole:
        return found && isOk(r);
    case LoadedRole:
        return found != nullptr;
    default:
        return {};
    }
}

QVariantMap ActivityModel::get(int row) const
{
    QVariantMap out;
    const Row *found = rowAt(row);
    if (!found)
        return out;
    const QHash<int, QByteArray> roles = roleNames();
    const QModelIndex i = index(row);
    for (auto it = roles.cbegin(); it != roles.cend(); ++it)
        out.insert(QString::fromLatin1(it.value()), data(i, it.key()));
    const RequestRecord &r = found->record;
    out.insert(QStringLiteral("endpoint"), r.endpoint);
    out.insert(QStringLiteral("keyId"), r.keyId);
    out.insert(QStringLiteral("reasoningTokens"), r.usage.reasoningTokens);
    out.insert(QStringLiteral("cacheWrite1hTokens"), r.usage.cacheWrite1hTokens);
    out.insert(QStringLiteral("usageReported"), r.usage.reported);
    out.insert(QStringLiteral("route"), r.route);
    out.insert(QStringLiteral("servedModel"), r.modelId);
    return out;
}

QVariantList ActivityModel::attemptsOf(const QString &requestId) const
{
    QVariantList out;
    Backend *backend = Backend::instance();
    if (!backend || requestId.isEmpty())
        return out;
    // A primary-key read of a few rows: cheap enough for the UI thread.
    for (const AttemptRecord &a : backend->store().attempts(requestId)) {
        out.append(QVariantMap{{QStringLiteral("index"), a.index},
                               {QStringLiteral("model"), a.modelId},
                               {QStringLiteral("provider"), a.provider},
                               {QStringLiteral("outcome"), QString::fromLatin1(outcomeName(a.outcome))},
                               {QStringLiteral("status"), a.status},
                               {QStringLiteral("error"), a.error},
                               {QStringLiteral("latencyMs"), a.latencyMs}});
    }
    return out;
}

// --- filters ---

void ActivityModel::setKeyFilter(const QString &v)
{
    if (v == m_filter.key)
        return;
    m_filter.key = v;
    m_filter.keyId = 0;
    if (m_backend && !v.isEmpty()) {
        for (const StoredKey &k : m_backend->keys()) {
            if (k.name == v)
                m_filter.keyId = k.id;
        }
    }
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setModelFilter(const QString &v)
{
    if (v == m_filter.model)
        return;
    m_filter.model = v;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setProviderFilter(const QString &v)
{
    if (v == m_filter.provider)
        return;
    m_filter.provider = v;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setSessionFilter(const QString &v)
{
    if (v == m_filter.session)
        return;
    m_filter.session = v;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setStatusFilter(const QString &v)
{
    const QString status = v.isEmpty() ? QStringLiteral("all") : v;
    if (status != QLatin1String("all") && status != QLatin1String("ok") && status != QLatin1String("error")) {
        qCWarning(lcUi) << "ActivityModel: statusFilter must be all, ok or error, not" << v;
        return;
    }
    if (status == m_filter.status)
        return;
    m_filter.status = status;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setFromMs(qint64 v)
{
    v = std::max<qint64>(0, v);
    if (v == m_filter.fromMs)
        return;
    m_filter.fromMs = v;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setToMs(qint64 v)
{
    v = std::max<qint64>(0, v);
    if (v == m_filter.toMs)
        return;
    m_filter.toMs = v;
    Q_EMIT filterChanged();
    scheduleReload();
}

void ActivityModel::setSearch(const QString &v)
{
    const QString s = v.trimmed();
    if (s == m_filter.search)
        return;
    m_filter.search = s;
    Q_EMIT filterChanged();
    scheduleReload(150); // typing: one query when the user pauses
}

bool ActivityModel::filtered() const
{
    return !m_filter.key.isEmpty() || !m_filter.model.isEmpty() || !m_filter.provider.isEmpty()
        || !m_filter.session.isEmpty() || m_filter.status != QLatin1String("all") || m_filter.fromMs > 0 || m_filter.toMs > 0
        || !m_filter.search.isEmpty();
}

void ActivityModel::clearFilters()
{
    const Filter cleared;
    if (cleared == m_filter)
        return;
    m_filter = cleared;
    Q_EMIT filterChanged();
    scheduleReload();
}

// --- counting and refreshing ---

void ActivityModel::scheduleReload(int delayMs)
{
    setLoading(true);
    m_reloadTimer.start(delayMs);
}

void ActivityModel::setLoading(bool loading)
{
    if (loading == m_loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged();
}

void ActivityModel::updateLoading()
{
    setLoading(m_reloadTimer.isActive() || m_refreshing || !m_pending.isEmpty());
}

void ActivityModel::invalidateCache()
{
    ++m_generation;
    m_pages.clear();
    m_lru.clear();
    m_pending.clear();
}

namespace {
struct Count {
    bool ok = false;
    qint64 maxSeq = 0;
    qint64 total = 0;
    qint64 head = 0; // refresh: new rows above the previous top
    qint64 topStarted = 0;
    qint64 topSeq = 0;
    qint64 selectedRow = -1; // the selected request's row under the filter, -1 when it is left out
};

// The row of request `id` among the rows `where` selects (newest first), -1 when it is not one of
// them: one primary-key read, then a count of the rows above it.
qint64 locateRow(sqlite3 *db, const QString &id, const QByteArray &where, const QList<ActivityModel::Arg> &args)
{
    if (id.isEmpty())
        return -1;
    QList<ActivityModel::Arg> findArgs = args;
    findArgs << id;
    Stmt find(db, "SELECT started_at_ms, seq FROM requests" + where + " AND id = ?", findArgs);
    if (!find.step())
        return -1;
    const qint64 started = sqlite3_column_int64(find.s, 0);
    const qint64 seq = sqlite3_column_int64(find.s, 1);
    QList<ActivityModel::Arg> aboveArgs = args;
    aboveArgs << started << started << seq;
    return scalar(db,
        "SELECT COUNT(*) FROM requests" + where + " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?)",
        aboveArgs);
}
} // namespace

void ActivityModel::reload()
{
    if (!m_backend)
        return;
    m_reloadTimer.stop();
    ++m_generation;
    const int generation = m_generation;
    m_refreshing = true;
    m_refreshAgain = false;
    setLoading(true);
    const Filter filter = m_filter;
    const QString selected = m_selected;
    ++m_locateGeneration; // a locate query in flight answers for the old filter
    m_backend->queries().run<Count>(
        this,
        [filter, selected](sqlite3 *db) {
            Count c;
            if (!db)
                return c;
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
            c.maxSeq = scalar(db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
            // "+seq": the watermark must not steer the plan to a scan of the whole table by rowid.
            QByteArray where = " WHERE +seq <= ?";
            QList<Arg> args{c.maxSeq};
            appendFilter(filter, where, args);
            // Unfiltered, inside this read transaction every row is under the watermark: COUNT(*)
            // without a condition lets SQLite count the smallest index.
            c.total = filter == Filter() ? scalar(db, "SELECT COUNT(*) FROM requests", {})
                                         : scalar(db, "SELECT COUNT(*) FROM requests" + where, args);
            Stmt top(db,
                "SELECT started_at_ms, seq FROM requests" + where + " ORDER BY started_at_ms DESC, seq DESC LIMIT 1",
                args);
            if (top.step()) {
                c.topStarted = sqlite3_column_int64(top.s, 0);
                c.topSeq = sqlite3_column_int64(top.s, 1);
            }
            c.selectedRow = locateRow(db, selected, where, args);
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
            return c;
        },
        [this, generation, selected](Count c) {
            if (generation != m_generation)
                return;
            m_refreshing = false;
            beginResetModel();
            invalidateCache();
            m_total = int(std::min<qint64>(c.total, std::numeric_limits<int>::max()));
            m_maxSeq = c.maxSeq;
            m_topStarted = c.topStarted;
            m_topSeq = c.topSeq;
            endResetModel();
            if (selected == m_selected) {
                if (c.selectedRow < 0 || c.selectedRow >= c.total)
                    setSelection(QString(), -1);
                else
                    setSelection(m_selected, int(c.selectedRow));
            }
            Q_EMIT totalCountChanged();
            if (m_distinctSeq >= 0)
                fetchDistinct(false);
            if (m_refreshAgain)
                refresh();
            updateLoading();
        });
}

void ActivityModel::refresh()
{
    if (!m_backend)
        return;
    if (m_refreshing || m_reloadTimer.isActive()) {
        m_refreshAgain = true;
        return;
    }
    m_refreshing = true;
    m_refreshAgain = false;
    const int generation = m_generation;
    const Filter filter = m_filter;
    const qint64 after = m_maxSeq;
    const qint64 topStarted = m_topStarted;
    const qint64 topSeq = m_topSeq;
    const bool hasTop = m_total > 0;
    const QString selected = m_selected;
    m_backend->queries().run<Count>(
        this,
        [filter, after, topStarted, topSeq, hasTop, selected](sqlite3 *db) {
            Count c;
            if (!db)
                return c;
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
            c.maxSeq = scalar(db, "SELECT COALESCE(MAX(seq), 0) FROM requests", {}, &c.ok);
            if (c.maxSeq < after) { // emptied behind our back
                sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
                c.ok = false;
                return c;
            }
            QByteArray where = " WHERE seq > ? AND seq <= ?";
            QList<Arg> args{after, c.maxSeq};
            appendFilter(filter, where, args);
            c.total = scalar(db, "SELECT COUNT(*) FROM requests" + where, args);
            if (c.total > 0) {
                if (hasTop) {
                    QList<Arg> headArgs = args;
                    headArgs << topStarted << topStarted << topSeq;
                    c.head = scalar(db,
                        "SELECT COUNT(*) FROM requests" + where
                            + " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?)",
                        headArgs);
                } else {
                    c.head = c.total;
                }
                QByteArray all = " WHERE +seq <= ?";
                QList<Arg> allArgs{c.maxSeq};
                appendFilter(filter, all, allArgs);
                Stmt top(db,
                    "SELECT started_at_ms, seq FROM requests" + all + " ORDER BY started_at_ms DESC, seq DESC LIMIT 1",
                    allArgs);
                if (top.step()) {
                    c.topStarted = sqlite3_column_int64(top.s, 0);
                    c.topSeq = sqlite3_column_int64(top.s, 1);
                }
                c.selectedRow = locateRow(db, selected, all, allArgs); // new rows may sit above it
            }
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
            return c;
        },
        [this, generation, selected](Count c) {
            if (generation != m_generation)
                return;
            m_refreshing = false;
            if (!c.ok) {
                reload();
                return;
            }
            const qint64 added = c.total;
            if (added > 0) {
                const int oldTotal = m_total;
                const int n = int(std::min<qint64>(added, std::numeric_limits<int>::max() - oldTotal));
                beginInsertRows({}, 0, n - 1);
                m_total += n;
                m_maxSeq = c.maxSeq;
                m_topStarted = c.topStarted;
                m_topSeq = c.topSeq;
                endInsertRows();
                if (selected == m_selected && !m_selected.isEmpty() && c.selectedRow >= 0)
                    setSelection(m_selected, int(c.selectedRow));
                if (c.head != added) {
                    // Some new rows started before rows already shown (long requests finish late):
                    // positions below the top moved, so everything cached is stale.
                    invalidateCache();
                    Q_EMIT dataChanged(index(0), index(m_total - 1));
                } else if (oldTotal % kPageSize != 0) {
                    // The top page was partial: it has more rows now.
                    const int topPage = (oldTotal - 1) / kPageSize;
                    m_pages.remove(topPage);
                    m_lru.removeAll(topPage);
                }
                Q_EMIT totalCountChanged();
            } else {
                m_maxSeq = c.maxSeq;
            }
            if (m_distinctSeq >= 0)
                fetchDistinct(false);
            if (m_refreshAgain)
                refresh();
            updateLoading();
        });
}

// --- the selected request ---

void ActivityModel::setSelectedRequest(const QString &requestId)
{
    const QString id = requestId.trimmed();
    if (id == m_selected)
        return;
    if (id.isEmpty()) {
        setSelection(QString(), -1);
        return;
    }
    // Usually a row the user just clicked: its row is known from the cached pages.
    for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it) {
        for (int at = 0; at < it->rows.size(); ++at) {
            if (it->rows.at(at).record.id == id) {
                setSelection(id, m_total - 1 - (it.key() * kPageSize + at));
                return;
            }
        }
    }
    setSelection(id, -1);
    locateSelected();
}

void ActivityModel::setSelection(const QString &requestId, int row)
{
    if (requestId == m_selected && row == m_selectedRow)
        return;
    m_selected = requestId;
    m_selectedRow = row;
    Q_EMIT selectedChanged();
}

void ActivityModel::locateSelected()
{
    if (!m_backend || m_selected.isEmpty())
        return;
    const int generation = ++m_locateGeneration;
    const Filter filter = m_filter;
    const QString selected = m_selected;
    const qint64 maxSeq = m_maxSeq;
    m_backend->queries().run<qint64>(
        this,
        [filter, selected, maxSeq](sqlite3 *db) -> qint64 {
            if (!db)
                return -1;
            QByteArray where = " WHERE +seq <= ?";
            QList<Arg> args{maxSeq};
            appendFilter(filter, where, args);
            return locateRow(db, selected, where, args);
        },
        [this, generation, selected](qint64 row) {
            if (generation != m_locateGeneration || selected != m_selected)
                return;
            if (row < 0 || row >= m_total)
                setSelection(QString(), -1);
            else
                setSelection(m_selected, int(row));
        });
}

// --- pages ---

void ActivityModel::touch(int page) const
{
    if (!m_lru.isEmpty() && m_lru.constLast() == page)
        return;
    m_lru.removeOne(page);
    m_lru.append(page);
}

void ActivityModel::requestPage(int page) const
{
    if (m_pending.contains(page) || !m_backend)
        return;
    auto *self = const_cast<ActivityModel *>(this);
    m_pending.insert(page);
    self->setLoading(true);

    const int total = m_total;
    const int first = page * kPageSize; // bottom index of the page's oldest row
    const int count = std::min(kPageSize, total - first);
    const PageRequest request{page, m_generation, total};
    QByteArray sql = "SELECT " + columns() + " FROM requests WHERE +seq <= ?";
    QList<Arg> args{m_maxSeq};
    appendFilter(m_filter, sql, args);
    bool descending = true; // rows come newest first and are reversed
    auto newer = m_pages.constFind(page + 1);
    auto older = m_pages.constFind(page - 1);
    if (newer != m_pages.cend() && !newer->rows.isEmpty()) {
        // Keyset: the rows just below the newer page's oldest row.
        const RequestRecord &edge = newer->rows.constFirst().record;
        sql += " AND started_at_ms <= ? AND (started_at_ms < ? OR seq < ?) ORDER BY started_at_ms DESC, seq DESC LIMIT "
               "?";
        args << edge.startedAtMs << edge.startedAtMs << newer->rows.constFirst().seq << qint64(count);
    } else if (older != m_pages.cend() && older->rows.size() == kPageSize) {
        // Keyset: the rows just above the older page's newest row.
        const RequestRecord &edge = older->rows.constLast().record;
        sql += " AND started_at_ms >= ? AND (started_at_ms > ? OR seq > ?) ORDER BY started_at_ms ASC, seq ASC LIMIT ?";
        args << edge.startedAtMs << edge.startedAtMs << older->rows.constLast().seq << qint64(count);
        descending = false;
    } else {
        // OFFSET from whichever end of the index is nearer.
        const int fromTop = total - (first + count);
        if (first < fromTop) {
            sql += " ORDER BY started_at_ms ASC, seq ASC LIMIT ? OFFSET ?";
            args << qint64(count) << qint64(first);
            descending = false;
        } else {
            sql += " ORDER BY started_at_ms DESC, seq DESC LIMIT ? OFFSET ?";
            args << qint64(count) << qint64(fromTop);
        }
    }
    m_backend->queries().run<QList<Row>>(
        self,
        [sql, args, descending](sqlite3 *db) {
            QList<Row> rows;
            Stmt st(db, sql, args);
            while (st.step())
                rows.append(readRow(st.s));
            if (descending)
                std::reverse(rows.begin(), rows.end());
            return rows;
        },
        [self, request](QList<Row> rows) { self->storePage(request, std::move(rows)); });
}

void ActivityModel::storePage(const PageRequest &request, QList<Row> rows)
{
    if (request.generation != m_generation)
        return;
    m_pending.remove(request.page);
    const int first = request.page * kPageSize;
    const int expected = std::min(kPageSize, m_total - first);
    if (expected <= 0) {
        updateLoading();
        return;
    }
    if (rows.size() != expected) {
        if (request.total != m_total) {
            // The top page grew while it was being read: read it again.
            requestPage(request.page);
            updateLoading();
            return;
        }
        qCWarning(lcUi) << "activity page" << request.page << "has" << rows.size() << "rows, expected" << expected;
    }
    m_pages.insert(request.page, Page{std::move(rows)});
    touch(request.page);
    while (m_lru.size() > kMaxPages) {
        const int evict = m_lru.takeFirst();
        m_pages.remove(evict);
    }
    // Rows are counted from the top in the view: bottom indices [first, first + expected).
    const int topRow = m_total - 1 - (first + expected - 1);
    const int bottomRow = m_total - 1 - first;
    Q_EMIT dataChanged(index(std::max(0, topRow)), index(std::min(m_total - 1, bottomRow)));
    updateLoading();
}

// --- distinct values ---

QStringList ActivityModel::distinctValues(const QString &column)
{
    const QString name = distinctColumnName(column);
    if (name.isEmpty()) {
        qCWarning(lcUi) << "ActivityModel.distinctValues: unknown column" << column;
        return {};
    }
    if (m_distinctSeq < 0 && !m_distinctRunning)
        fetchDistinct(true);
    QSet<QString> values = m_distinct.value(name);
    if (m_backend) {
        if (name == QLatin1String("key")) {
            for (const StoredKey &k : m_backend->keys())
                values.insert(k.name);
        } else if (name == QLatin1String("provider")) {
            for (const auto &p : m_backend->context().registry.snapshot()->providers)
                values.insert(p->config.id);
        }
    }
    values.remove(QString());
    QStringList out(values.cbegin(), values.cend());
    std::sort(out.begin(), out.end(),
        [](const QString &a, const QString &b) { return QString::localeAwareCompare(a, b) < 0; });
    return out;
}

void ActivityModel::fetchDistinct(bool full)
{
    if (!m_backend || m_distinctRunning)
        return;
    if (!full && m_distinctSeq >= m_maxSeq)
        return;
    m_distinctRunning = true;
    const qint64 after = full ? 0 : m_distinctSeq;
    const qint64 upTo = m_maxSeq;
    struct Result {
        QHash<QString, QSet<QString>> values;
        qint64 upTo = 0;
    };
    m_backend->queries().run<Result>(
        this,
        [after, upTo](sqlite3 *db) {
            Result r;
            r.upTo = upTo;
            static const char *const kSql[] = {"key_name", "requested_model", "provider", "upstream_model", "session_id"};
            for (int i = 0; i < 5; ++i) {
                Stmt st(db, QByteArray("SELECT DISTINCT ") + kSql[i] + " FROM requests WHERE seq > ? AND seq <= ?",
                    {after, upTo});
                QSet<QString> &set = r.values[kDistinctColumns[i]];
                while (st.step()) {
                    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(st.s, 0));
                    if (p && *p)
                        set.insert(QString::fromUtf8(p));
                }
            }
            return r;
        },
        [this](Result r) {
            m_distinctRunning = false;
            m_distinctSeq = std::max(m_distinctSeq, r.upTo);
            mergeDistinct(r.values);
            if (m_distinctSeq < m_maxSeq)
                fetchDistinct(false);
        });
}

void ActivityModel::mergeDistinct(const QHash<QString, QSet<QString>> &values)
{
    bool grew = false;
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        QSet<QString> &set = m_distinct[it.key()];
        const qsizetype before = set.size();
        set.unite(it.value());
        grew = grew || set.size() != before;
    }
    if (grew)
        Q_EMIT distinctValuesChanged();
}

// --- export ---

bool ActivityModel::exportCsv(const QUrl &url)
{
    if (!m_backend || m_exporting)
        return false;
    const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
    auto file = std::make_shared<QFile>(path);
    if (path.isEmpty() || !file->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        Q_EMIT exportFinished(false, tr("Cannot write %1: %2").arg(path, file->errorString()), 0);
        return false;
    }
    m_exporting = true;
    Q_EMIT exportingChanged();
    QByteArray sql = "SELECT " + columns() + " FROM requests WHERE seq <= ?";
    QList<Arg> args{m_maxSeq};
    appendFilter(m_filter, sql, args);
    sql += " ORDER BY started_at_ms DESC, seq DESC";
    const QString dbPath = m_backend->store().path();
    QPointer<ActivityModel> self(this);
    // Its own thread and connection: a long export does not hold up the pages the view asks for.
    QThread *thread = QThread::create([file, sql, args, dbPath, self] {
        int rows = 0;
        QString error;
        sqlite3 *db = nullptr;
        if (sqlite3_open_v2(QFile::encodeName(dbPath).constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            error = QString::fromUtf8(sqlite3_errmsg(db));
        } else {
            sqlite3_busy_timeout(db, 5000);
            Stmt st(db, sql, args);
            QByteArray out
                = "request_id,started_at,key,model,provider,upstream_model,status,error,latency_ms,ttft_ms,"
                  "input_tokens,cache_read_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost_usd,"
                  "estimated,stream,attempts,endpoint\r\n";
            while (st.step()) {
                const Row row = readRow(st.s);
                const RequestRecord &r = row.record;
                const QStringList fields{r.id,
                    QDateTime::fromMSecsSinceEpoch(r.startedAtMs, Qt::UTC).toString(Qt::ISODateWithMs), r.keyName,
                    r.requestedModel, r.provider, r.upstreamModel, QString::number(r.status), r.error,
                    QString::number(r.latencyMs), QString::number(r.ttftMs), QString::number(r.usage.inputTokens),
                    QString::number(r.usage.cacheReadTokens),
                    QString::number(r.usage.cacheWriteTokens + r.usage.cacheWrite1hTokens),
                    QString::number(r.usage.outputTokens), QString::number(r.usage.reasoningTokens),
                    r.cost ? QString::number(toUsd(*r.cost), 'f', 9) : QString(),
                    r.usage.estimated ? QStringLiteral("1") : QStringLiteral("0"),
                    r.stream ? QStringLiteral("1") : QStringLiteral("0"), QString::number(r.attempts), r.endpoint};
                QString line;
                for (qsizetype i = 0; i < fields.size(); ++i) {
                    if (i > 0)
                        line += u',';
                    line += csvField(fields[i]);
                }
                out += line.toUtf8() + "\r\n";
                ++rows;
                if (out.size() > (1 << 20)) {
                    if (file->write(out) != out.size())
                        break;
                    out.clear();
                }
            }
            if (file->write(out) != out.size() || !file->flush())
                error = file->errorString();
            if (!st.s)
                error = QString::fromUtf8(sqlite3_errmsg(db));
        }
        sqlite3_close(db);
        file->close();
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, error, rows, path = file->fileName()] {
                if (!self)
                    return;
                self->m_exporting = false;
                Q_EMIT self->exportingChanged();
                if (error.isEmpty())
                    Q_EMIT self->exportFinished(
                        true, tr("Exported %n request(s) to %1", nullptr, rows).arg(path), rows);
                else
                    Q_EMIT self->exportFinished(false, tr("Export failed: %1").arg(error), rows);
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start(QThread::LowPriority);
    return true;
}

} // namespace gh::ui
