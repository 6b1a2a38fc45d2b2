#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

#include <memory>

class QProcess;

namespace gh::test {

// What the mock billed for one model (or in total), normalized as gh::Usage: inputTokens excludes
// cache reads, outputTokens includes reasoning. See GET /_mock/billing in tests/mock/mockserver.h.
struct MockBilled
{
    qint64 requests = 0; // completed successful responses
    qint64 inputTokens = 0;
    qint64 outputTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0;   // 5-minute (default) cache writes
    qint64 cacheWrite1hTokens = 0; // 1-hour cache writes
    qint64 reasoningTokens = 0;    // part of outputTokens

    [[nodiscard]] static MockBilled fromJson(const QJsonObject &o);
    [[nodiscard]] qint64 totalInput() const { return inputTokens + cacheReadTokens + cacheWriteTokens + cacheWrite1hTokens; }
    friend bool operator==(const MockBilled &, const MockBilled &) = default;
};

// The mock_upstream program (path from MOCK_UPSTREAM_BIN) running as a child process: an
// OpenAI-format provider whose behaviour each request picks with its "model" field (see
// tests/mock/mockserver.h: "ok", "fail-429@retry_after=2", "stream-slow@delay=200,chunks=5", ...).
// Started by the constructor; check isRunning(). Stopped (killed) by the destructor.
class MockUpstream
{
public:
    // extraArgs go to mock_upstream (e.g. {"--threads", "2"}, {"--models", "a,b"}).
    explicit MockUpstream(const QStringList &extraArgs = {}, int timeoutMs = 10000);
    ~MockUpstream();
    MockUpstream(const MockUpstream &) = delete;
    MockUpstream &operator=(const MockUpstream &) = delete;

    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] QString errorString() const { return m_error; }
    [[nodiscard]] quint16 port() const { return m_port; }
    // "http://127.0.0.1:PORT/v1": what a provider's base_url points at.
    [[nodiscard]] QString baseUrl() const;
    // "http://127.0.0.1:PORT"
    [[nodiscard]] QString rootUrl() const;

    // Every request received since the start or the last reset(), oldest first (at most --record,
    // default 10000): {id, method, path, headers: {lower-case name: value}, body, body_size,
    //  model | null (the upstream model it named), behaviour | null (what the mock did, after any
    //  chaos draw: "ok", "fail-503", "reset-before", "error-in-stream", ...),
    //  billed: {prompt_tokens, completion_tokens, cached_tokens, cache_read_tokens, ...} | null}.
    // An empty array when the mock cannot be reached (see errorString()).
    [[nodiscard]] QJsonArray receivedRequests();
    // The last one, or an empty object.
    [[nodiscard]] QJsonObject lastRequest();
    // Polls until at least `count` requests were received; false on timeout.
    bool waitForRequests(int count, int timeoutMs = 5000);
    // Forgets the recorded requests, the billing, the request counts, the chaos counters and the
    // simulated prompt caches.
    bool reset();

    // GET /_mock/billing as is; an empty object when the mock cannot be reached (see errorString()).
    [[nodiscard]] QJsonObject billing();
    // What the mock billed for `model` (the upstream model name as sent), zeros when nothing.
    [[nodiscard]] MockBilled billed(const QString &model);
    // What the mock billed for all models together.
    [[nodiscard]] MockBilled billedTotal();
    // How many requests each model received since the start or the last reset (every outcome,
    // not bounded by --record).
    [[nodiscard]] QMap<QString, qint64> requestsByModel();
    // How many requests `model` received; 0 when none (or the mock cannot be reached).
    [[nodiscard]] qint64 requestCount(const QString &model);
    // The behaviour the mock chose for each recorded request of `model`, oldest first ("ok",
    // "fail-500", ...): the fault sequence of a chaos model.
    [[nodiscard]] QStringList behavioursOf(const QString &model);
    // Kills the process (the port then refuses connections); the destructor does it too.
    void stop();

private:
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace gh::test
