#pragma once
#include "config/config.h"
#include "store/requestrecord.h"
#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMutex>
#include <QObject>
#include <atomic>
#include <deque>
#include <functional>

class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace gh {

// Exports one OpenTelemetry span per finished request, and one child span per upstream attempt, to
// an OTLP/HTTP collector (JSON encoding, POST to the configured traces URL), following the GenAI
// semantic conventions (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
// gen_ai.response.model, gen_ai.usage.*), with the cost as gatehouse.cost_usd.
//
// enqueue() is called on the gateway's worker threads and only appends to a bounded queue under a
// short lock: it never waits on the network. When the queue is full the oldest request is dropped
// (and counted). The exporter's own thread (the one it lives on, normally the main thread) sends a
// batch when batchSize requests wait or flushIntervalMs after the first one, one POST at a time;
// a collector that answers 429/502/503/504 or cannot be reached gets the batch again after a
// back-off, anything else drops it.
//
// Prompt and response content is never part of a span: the request record holds none. (Content
// capture per key does not exist; when it does, only a key with capture on may add it here.)
class OtlpExporter : public QObject
{
    Q_OBJECT
public:
    // vendorOf: a provider id -> its catalog vendor ("openai", "anthropic", "google"...), for
    // gen_ai.provider.name; may return an empty string.
    explicit OtlpExporter(std::function<QString(const QString &)> vendorOf, QObject *parent = nullptr);
    ~OtlpExporter() override;

    // On the exporter's thread. An empty endpoint stops the export (what waits is dropped).
    void setSettings(const OtlpSettings &settings);
    // Any thread; returns at once.
    void enqueue(const RequestRecord &record);

    [[nodiscard]] bool enabled() const { return m_enabled.load(std::memory_order_relaxed); }
    [[nodiscard]] qint64 exported() const { return m_exported.load(); }  // spans the collector accepted
    [[nodiscard]] qint64 dropped() const { return m_dropped.load(); }    // spans dropped (queue full, refused)
    [[nodiscard]] qint64 failures() const { return m_failures.load(); }  // failed POSTs
    [[nodiscard]] int queued() const;

    // The ExportTraceServiceRequest of these records, as JSON (public for the tests). Random span
    // ids; the trace id and the request span's parent are the caller's traceparent, else random.
    [[nodiscard]] QJsonObject exportRequest(const QList<RequestRecord> &records) const;
    // "chat", "text_completion", "embeddings" from the endpoint; empty for endpoints that are no
    // model call (/v1/messages/count_tokens), which are not exported.
    [[nodiscard]] static QString operationName(const QString &endpoint);
    // The semantic conventions' well-known provider names ("gcp.gemini", "x_ai"...) for a catalog
    // vendor; the vendor (or the provider id) itself otherwise.
    [[nodiscard]] static QString providerName(const QString &vendor, const QString &providerId);

    // Sends what waits now (tests, shutdown).
    void flush();
    // At shutdown: sends everything that waits, batch after batch, without back-off or retries, then
    // calls done. What is still unsent after timeoutMs is dropped (counted, and said in the log), so a
    // collector that is down never holds the exit up for longer than that.
    void drain(int timeoutMs, std::function<void()> done);

Q_SIGNALS:
    void batchFinished(bool ok); // after each POST (tests)

private:
    void post(QList<RequestRecord> batch);
    void finishDrain();

    std::function<QString(const QString &)> m_vendorOf;
    QNetworkAccessManager *m_nam = nullptr;
    QTimer *m_timer = nullptr;
    OtlpSettings m_settings;
    QList<QPair<QByteArray, QByteArray>> m_headers; // resolved (environment variables read)
    mutable QMutex m_mutex;
    std::deque<RequestRecord> m_queue; // guarded by m_mutex
    int m_maxQueue = 0;                // guarded by m_mutex
    int m_batchSize = 1;               // guarded by m_mutex
    bool m_wakePosted = false;         // guarded by m_mutex
    bool m_posting = false;
    int m_backoffMs = 0;
    std::function<void()> m_drainDone; // set while draining at shutdown
    QTimer *m_drainDeadline = nullptr;
    QNetworkReply *m_inFlight = nullptr;
    std::atomic<bool> m_enabled{false};
    std::atomic<qint64> m_exported{0};
    std::atomic<qint64> m_dropped{0};
    std::atomic<qint64> m_failures{0};
};

} // namespace gh
