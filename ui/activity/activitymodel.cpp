#include "activitymodel.h"
#include "backend.h"
#include "gateway/gateway.h"
#include "store/queryrunner.h"
#include "store/requestcodec.h"
#include "reports/requestexport.h"
#include "routing/registry.h"
#include <algorithm>
#include <limits>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QSaveFile>
#include <QLoggingCategory>
#include <QThread>

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

bool isOk(const RequestRecord &r)
{
    return store::isSuccess(r);
}

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

ActivityModel::ActivityModel(QObject *parent)
    : QAbstractListModel(parent)
{
    m_reloadTimer.setSingleShot(true);
    connect(&m_reloadTimer, &QTimer::timeout, this, &ActivityModel::reload);
}

ActivityModel::ActivityModel(Backend *backend, QObject *parent)
    : ActivityModel(parent)
{
    setBackend(backend);
}

void ActivityModel::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "ActivityModel"))
        return;
    attachBackend();
    announceBackend(this);
}

void ActivityModel::attachBackend()
{
    connect(m_backend, &Backend::logChanged, this, &ActivityModel::refresh);
    // The log emptied, or the team scope changed (other rows, other distinct values): read anew.
    const auto restart = [this] {
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
    };
    connect(m_backend, &Backend::logCleared, this, restart);
    connect(m_backend, &Backend::instanceScopeChanged, this, restart);
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
    // A key filter set before the backend could not be looked up then.
    for (const StoredKey &k : m_backend->keys()) {
        if (!m_filter.key.isEmpty() && k.name == m_filter.key)
            m_filter.keyId = k.id;
    }
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
        {SessionRole, "session"}, {RefusalRole, "refusal"}, {InstanceRole, "instance"}};
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
    case RefusalRole:
        return r.refusal;
    case InstanceRole:
        return r.instanceId;
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
    if (!m_backend || requestId.isEmpty())
        return out;
    // A primary-key read of a few rows: cheap enough for the UI thread.
    for (const AttemptRecord &a : m_backend->store().attempts(requestId)) {
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
    if (status != QLatin1String("all") && status != QLatin1String("ok") && status != QLatin1String("error")
        && status != QLatin1String("refused")) {
        qCWarning(lcUi) << "ActivityModel: statusFilter must be all, ok, error or refused, not" << v;
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

void ActivityModel::setRefusalFilter(const QString &v)
{
    static const QStringList kinds{QString(), QStringLiteral("budget"), QStringLiteral("policy"), QStringLiteral("secret"),
                                   QStringLiteral("guardrail")};
    if (!kinds.contains(v)) {
        qCWarning(lcUi) << "ActivityModel: refusalFilter must be empty, budget, policy, secret or guardrail, not" << v;
        return;
    }
    if (v == m_filter.refusal)
        return;
    m_filter.refusal = v;
    Q_EMIT filterChanged();
    // Only a "refused" status reads the kind: another status shows the same rows.
    if (m_filter.status == QLatin1String("refused"))
        scheduleReload();
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
    m_backend->queries().run<ActivityCount>(
        this, [filter, selected](LogQueries &q) { return q.countActivity(filter, selected); },
        [this, generation, selected](ActivityCount c) {
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
    m_backend->queries().run<ActivityCount>(
        this,
        [filter, after, topStarted, topSeq, hasTop, selected](LogQueries &q) {
            return q.countNewActivity(filter, after, hasTop, topStarted, topSeq, selected);
        },
        [this, generation, selected](ActivityCount c) {
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
        [filter, selected, maxSeq](LogQueries &q) { return q.locateActivity(filter, maxSeq, selected); },
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
    ActivityPageQuery query;
    query.filter = m_filter;
    query.maxSeq = m_maxSeq;
    query.count = count;
    auto newer = m_pages.constFind(page + 1);
    auto older = m_pages.constFind(page - 1);
    if (newer != m_pages.cend() && !newer->rows.isEmpty()) {
        // Keyset: the rows just below the newer page's oldest row.
        query.from = ActivityPageQuery::From::Below;
        query.edgeStarted = newer->rows.constFirst().record.startedAtMs;
        query.edgeSeq = newer->rows.constFirst().seq;
    } else if (older != m_pages.cend() && older->rows.size() == kPageSize) {
        // Keyset: the rows just above the older page's newest row.
        query.from = ActivityPageQuery::From::Above;
        query.edgeStarted = older->rows.constLast().record.startedAtMs;
        query.edgeSeq = older->rows.constLast().seq;
    } else {
        // OFFSET from whichever end of the index is nearer.
        const int fromTop = total - (first + count);
        query.from = first < fromTop ? ActivityPageQuery::From::Bottom : ActivityPageQuery::From::Top;
        query.offset = first < fromTop ? first : fromTop;
    }
    m_backend->queries().run<QList<Row>>(
        self, [query](LogQueries &q) { return q.activityPage(query); },
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
        this, [after, upTo](LogQueries &q) { return Result{q.activityDistinct(after, upTo), upTo}; },
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

bool ActivityModel::exportTo(const QUrl &url, const QString &formatName)
{
    const auto format = exportFormatFromName(formatName);
    if (!m_backend || m_exporting || !format)
        return false;
    const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
    // Written under a temporary name and renamed when complete: a failed or cancelled export leaves
    // no file that looks whole.
    auto file = std::make_shared<QSaveFile>(path);
    if (path.isEmpty() || !file->open(QIODevice::WriteOnly)) {
        Q_EMIT exportFinished(false, tr("Cannot write %1: %2").arg(path, file->errorString()), 0);
        return false;
    }
    m_exporting = true;
    m_exportProgress = 0;
    m_exportCancel = std::make_shared<std::atomic<bool>>(false);
    Q_EMIT exportingChanged();
    Q_EMIT exportProgressChanged();
    const Filter filter = m_filter;
    // Its own thread and connection (opened here, used only there): a long export does not hold up
    // the pages the view asks for.
    std::shared_ptr<LogQueries> queries = m_backend->store().openQueries();
    QPointer<ActivityModel> self(this);
    auto cancel = m_exportCancel;
    QThread *thread = QThread::create([file, filter, queries, self, cancel, format = *format, path] {
        // Progress reaches the window at most every 1% of the rows (exportRequests' step).
        const ExportOutcome outcome = exportRequests(*queries, filter, format, *file, [self, cancel](qint64 rows, qint64 total) {
            const double share = total > 0 ? double(rows) / double(total) : 1.0;
            QMetaObject::invokeMethod(
                QCoreApplication::instance(),
                [self, share] {
                    if (self && self->m_exporting) {
                        self->m_exportProgress = share;
                        Q_EMIT self->exportProgressChanged();
                    }
                },
                Qt::QueuedConnection);
            return !cancel->load();
        });
        QString error = outcome.error;
        if (outcome.ok && !file->commit())
            error = file->errorString();
        else if (!outcome.ok)
            file->cancelWriting();
        const bool cancelled = outcome.cancelled;
        const int rows = int(qMin<qint64>(outcome.rows, std::numeric_limits<int>::max()));
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, error, rows, path, cancelled] {
                if (!self)
                    return;
                self->m_exporting = false;
                Q_EMIT self->exportingChanged();
                if (cancelled)
                    Q_EMIT self->exportFinished(false, tr("Export cancelled"), rows);
                else if (error.isEmpty())
                    Q_EMIT self->exportFinished(true, tr("Exported %n request(s) to %1", nullptr, rows).arg(path), rows);
                else
                    Q_EMIT self->exportFinished(false, tr("Export failed: %1").arg(error), rows);
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start(QThread::LowPriority);
    return true;
}

void ActivityModel::cancelExport()
{
    if (m_exporting && m_exportCancel)
        m_exportCancel->store(true);
}

} // namespace gh::ui
