#pragma once
#include "backend.h"
#include "store/logqueries.h"
#include <QAbstractListModel>
#include <atomic>
#include <memory>
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QtQml/qqmlregistration.h>
#include <QUrl>
#include <QVariantMap>

namespace gh::ui {

// The request log, newest first (by start time), as a paged model over SQLite: rowCount() is the
// number of rows that match the filters, and rows are fetched on the query thread in pages of 200
// when a view asks for them (an LRU of 24 pages stays in memory), so a log of millions of rows
// scrolls without loading it. New requests appear at the top as they are committed.
//
// Row positions are counted from the bottom (the oldest row), so rows inserted at the top do not
// move what is cached; a page is fetched with a keyset condition when a neighbouring page is
// cached, else with OFFSET on the started_at_ms index (from whichever end is nearer). Every query
// is bounded by the highest seq seen at the last count, so the counted set stays fixed between
// refreshes even while the gateway writes.
class ActivityModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(QString keyFilter READ keyFilter WRITE setKeyFilter NOTIFY filterChanged)
    Q_PROPERTY(QString modelFilter READ modelFilter WRITE setModelFilter NOTIFY filterChanged)
    Q_PROPERTY(QString providerFilter READ providerFilter WRITE setProviderFilter NOTIFY filterChanged)
    Q_PROPERTY(QString sessionFilter READ sessionFilter WRITE setSessionFilter NOTIFY filterChanged)
    Q_PROPERTY(QString statusFilter READ statusFilter WRITE setStatusFilter NOTIFY filterChanged)
    Q_PROPERTY(QString refusalFilter READ refusalFilter WRITE setRefusalFilter NOTIFY filterChanged)
    Q_PROPERTY(qint64 fromMs READ fromMs WRITE setFromMs NOTIFY filterChanged)
    Q_PROPERTY(qint64 toMs READ toMs WRITE setToMs NOTIFY filterChanged)
    Q_PROPERTY(QString search READ search WRITE setSearch NOTIFY filterChanged)
    Q_PROPERTY(int totalCount READ totalCount NOTIFY totalCountChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(bool exporting READ exporting NOTIFY exportingChanged)
    // 0..1: the share of the filtered rows written so far by the export running now.
    Q_PROPERTY(double exportProgress READ exportProgress NOTIFY exportProgressChanged)
    Q_PROPERTY(bool filtered READ filtered NOTIFY filterChanged)
    Q_PROPERTY(QString selectedRequest READ selectedRequest WRITE setSelectedRequest NOTIFY selectedChanged)
    Q_PROPERTY(int selectedRow READ selectedRow NOTIFY selectedChanged)
public:
    static constexpr int kPageSize = 200;
    static constexpr int kMaxPages = 24;

    enum Roles {
        RequestIdRole = Qt::UserRole + 1, // "req_…"
        StartedAtRole, // ms since the epoch
        KeyNameRole, // Gatehouse key name ("" when refused before authentication)
        ModelRole, // the model the client asked for
        ProviderRole, // provider id that served it (or was tried last)
        UpstreamModelRole, // the provider's name for the model
        StatusRole, // HTTP status sent to the client
        ErrorRole, // short error message, "" on success
        LatencyMsRole, // arrival to last byte
        TtftMsRole, // arrival to the stream's first generated content, -1 when none
        InputTokensRole, // uncached input tokens
        OutputTokensRole, // output tokens (reasoning included)
        CacheReadTokensRole, // input tokens read from the provider's cache
        CacheWriteTokensRole, // input tokens written to the cache (both TTLs)
        CostRole, // USD, -1 when unpriced
        EstimatedRole, // some token counts are Gatehouse's estimate
        StreamRole, // streamed response
        AttemptsRole, // upstream attempts made
        OkRole, // 2xx without error
        LoadedRole, // false while the row's page is being fetched
        SessionRole, // the client's session id (Claude Code's x-claude-code-session-id), "" when none
        RefusalRole, // why Gatehouse refused it: "budget", "policy", "secret", "guardrail"; "" when it did not
        InstanceRole, // the instance that served it (RequestRecord::instanceId; a team store has several)
    };
    Q_ENUM(Roles)

    explicit ActivityModel(QObject *parent = nullptr);
    // With its backend (tests). QML sets `backend` instead; either way it is set once, and the
    // model reads nothing before it has one.
    explicit ActivityModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    ~ActivityModel() override;

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    [[nodiscard]] QString keyFilter() const { return m_filter.key; }
    void setKeyFilter(const QString &v);
    [[nodiscard]] QString modelFilter() const { return m_filter.model; }
    void setModelFilter(const QString &v);
    [[nodiscard]] QString providerFilter() const { return m_filter.provider; }
    void setProviderFilter(const QString &v);
    [[nodiscard]] QString sessionFilter() const { return m_filter.session; }
    void setSessionFilter(const QString &v);
    [[nodiscard]] QString statusFilter() const { return m_filter.status; }
    void setStatusFilter(const QString &v); // "all" | "ok" | "error" | "refused"
    // With statusFilter "refused": one kind of refusal ("budget", "policy", "secret", "guardrail"), "" for all.
    [[nodiscard]] QString refusalFilter() const { return m_filter.refusal; }
    void setRefusalFilter(const QString &v);
    [[nodiscard]] qint64 fromMs() const { return m_filter.fromMs; }
    void setFromMs(qint64 v);
    [[nodiscard]] qint64 toMs() const { return m_filter.toMs; }
    void setToMs(qint64 v);
    [[nodiscard]] QString search() const { return m_filter.search; }
    void setSearch(const QString &v); // request id prefix
    [[nodiscard]] bool filtered() const;
    [[nodiscard]] int totalCount() const { return m_total; }
    [[nodiscard]] bool loading() const { return m_loading; }
    [[nodiscard]] bool exporting() const { return m_exporting; }
    [[nodiscard]] double exportProgress() const { return m_exportProgress; }

    // Every logged field of a row (roles plus endpoint, keyId, reasoningTokens, cacheWrite1hTokens,
    // usageReported); empty while the row is not loaded.
    Q_INVOKABLE [[nodiscard]] QVariantMap get(int row) const;
    // The upstream attempts and skipped targets of a request, in order: maps with index, model,
    // provider, outcome ("ok", "failed", "skipped"), status, error, latencyMs.
    Q_INVOKABLE [[nodiscard]] QVariantList attemptsOf(const QString &requestId) const;
    // Writes the filtered rows (newest first) to a file on a thread of its own, streamed
    // (reports/requestexport.h): format "csv" or "jsonl". False when the file cannot be created or the
    // format is unknown; exportProgress moves as rows are written and exportFinished() reports the
    // outcome. exportCsv(url) is exportTo(url, "csv").
    Q_INVOKABLE bool exportTo(const QUrl &url, const QString &format);
    Q_INVOKABLE bool exportCsv(const QUrl &url) { return exportTo(url, QStringLiteral("csv")); }
    // Stops the export running now; the file is removed and exportFinished() says it was cancelled.
    Q_INVOKABLE void cancelExport();
    // Values seen in the log (and the configured keys / providers) for a filter combo box, sorted:
    // column "key", "model", "provider" or "upstreamModel". Filled off the UI thread: the list
    // grows and distinctValuesChanged() is emitted as values are found.
    Q_INVOKABLE [[nodiscard]] QStringList distinctValues(const QString &column);
    // Clears every filter.
    Q_INVOKABLE void clearFilters();

    // The request the detail pane shows, by id: selectedRow is its row among the filtered rows,
    // located again (in the count queries) after each filter change and each batch of new rows, so
    // the pane follows the request and not a row number. When a new filter leaves it out, the
    // selection is cleared (selectedRequest "", selectedRow -1).
    [[nodiscard]] QString selectedRequest() const { return m_selected; }
    void setSelectedRequest(const QString &requestId);
    [[nodiscard]] int selectedRow() const { return m_selectedRow; }

    // Tests: true when no count or page fetch is outstanding.
    [[nodiscard]] bool isIdle() const { return !m_loading && m_pending.isEmpty() && !m_refreshing; }
    [[nodiscard]] int cachedPages() const { return int(m_pages.size()); }

Q_SIGNALS:
    void backendChanged();
    void filterChanged();
    void totalCountChanged();
    void loadingChanged();
    void exportingChanged();
    void exportProgressChanged();
    void exportFinished(bool ok, const QString &message, int rows);
    void distinctValuesChanged();
    void selectedChanged();

public:
    using Filter = ActivityFilter; // store/logqueries.h
    using Row = ActivityRow;

private:
    struct Page {
        QList<Row> rows; // by bottom index, oldest first
    };
    struct PageRequest {
        int page = 0;
        int generation = 0;
        int total = 0; // m_total when asked
    };
    void scheduleReload(int delayMs = 0);
    void reload();
    void refresh();
    void requestPage(int page) const;
    void storePage(const PageRequest &request, QList<Row> rows);
    void touch(int page) const;
    void invalidateCache();
    void setLoading(bool loading);
    void updateLoading();
    const Row *rowAt(int row) const;
    void fetchDistinct(bool full);
    void setSelection(const QString &requestId, int row);
    void locateSelected();
    void mergeDistinct(const QHash<QString, QSet<QString>> &values);

    void attachBackend(); // connects to m_backend's signals and loads
    QPointer<Backend> m_backend;
    Filter m_filter;
    int m_total = 0;
    qint64 m_maxSeq = 0; // watermark: rows with seq <= m_maxSeq are the ones counted
    qint64 m_topStarted = 0; // the newest counted row (started_at_ms, seq)
    qint64 m_topSeq = 0;
    int m_generation = 0; // bumps when cached rows stop being valid
    bool m_loading = false;
    bool m_refreshing = false;
    bool m_refreshAgain = false;
    bool m_exporting = false;
    double m_exportProgress = 0;
    std::shared_ptr<std::atomic<bool>> m_exportCancel; // set by cancelExport(), read by the export's thread
    QTimer m_reloadTimer;
    QString m_selected;
    int m_selectedRow = -1;
    int m_locateGeneration = 0;
    mutable QHash<int, Page> m_pages;
    mutable QList<int> m_lru; // most recently used last
    mutable QSet<int> m_pending; // pages being fetched
    QHash<QString, QSet<QString>> m_distinct;
    qint64 m_distinctSeq = -1; // -1: not fetched yet
    bool m_distinctRunning = false;
};

} // namespace gh::ui
