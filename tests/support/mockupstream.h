#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <memory>

class QProcess;

namespace gh::test {

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

    // Every request received since the start or the last reset(), oldest first:
    // {id, method, path, headers: {lower-case name: value}, body, body_size,
    //  billed: {prompt_tokens, completion_tokens, cached_tokens} | null}.
    // An empty array when the mock cannot be reached (see errorString()).
    [[nodiscard]] QJsonArray receivedRequests();
    // The last one, or an empty object.
    [[nodiscard]] QJsonObject lastRequest();
    // Polls until at least `count` requests were received; false on timeout.
    bool waitForRequests(int count, int timeoutMs = 5000);
    // Forgets the recorded requests.
    bool reset();
    // Kills the process (the port then refuses connections); the destructor does it too.
    void stop();

private:
    std::unique_ptr<QProcess> m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace gh::test
