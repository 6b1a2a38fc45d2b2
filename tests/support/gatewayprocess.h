#pragma once

#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace gh::test {

// The gatehouse binary (path from GATEHOUSE_BIN) running headless as a child process:
//   gatehouse <extraArgs> --headless --port 0 --data-dir <dataDir> [--config <file>]
// start() waits for `Gatehouse gateway listening on http://127.0.0.1:PORT` on stdout. stdout and
// stderr go to files (never a pipe that could fill up and block the gateway while a test does
// blocking I/O), so stdoutText()/stderrText() are always current. The destructor kills the process.
class GatewayProcess
{
public:
    GatewayProcess();
    ~GatewayProcess();
    GatewayProcess(const GatewayProcess &) = delete;
    GatewayProcess &operator=(const GatewayProcess &) = delete;

    // The data folder: by default "data" inside a temporary folder owned by this object, kept
    // across restarts so a test can stop the gateway and start it again on the same data.
    [[nodiscard]] QString dataDir() const { return m_dataDir; }
    void setDataDir(const QString &dir) { m_dataDir = dir; }
    // A scratch folder owned by this object (configs, logs).
    [[nodiscard]] QString workDir() const { return m_workDir.path(); }

    // Environment of the process (default: the test's own), e.g. provider API key variables.
    void setEnvironment(const QProcessEnvironment &env) { m_env = env; }
    void setEnv(const QString &name, const QString &value) { m_env.insert(name, value); }

    // Writes a JSON config into workDir() and returns its path (empty on failure).
    QString writeConfig(const QJsonObject &config, const QString &fileName = QStringLiteral("config.json"));

    // Starts the gateway and waits for its listening line. False when it could not start, exited
    // (then exitCode() and stderrText() tell why, e.g. exit code 2 for a bad config) or timed out.
    bool start(const QStringList &extraArgs = {}, const QString &configFile = {}, int timeoutMs = 15000);

    [[nodiscard]] bool isRunning() const;
    [[nodiscard]] quint16 port() const { return m_port; }
    // "http://127.0.0.1:PORT"
    [[nodiscard]] QString baseUrl() const;
    [[nodiscard]] qint64 pid() const;
    [[nodiscard]] QString errorString() const { return m_error; }

    // Output of the current (or last) run so far.
    [[nodiscard]] QString stdoutText() const;
    [[nodiscard]] QString stderrText() const;
    // stdout lines printed before the listening line (e.g. generated key secrets).
    [[nodiscard]] QStringList linesBeforeListening() const { return m_linesBefore; }
    // Polls stdout and stderr until `text` appears; false on timeout.
    bool waitForOutput(const QString &text, int timeoutMs = 5000) const;

    // SIGTERM, then waits. Returns the exit code; -1 if the process crashed or died of a signal,
    // -2 if it did not exit within timeoutMs (it is then killed).
    int terminate(int timeoutMs = 10000);
    // SIGKILL, then waits.
    void kill();
    // Waits for the process to exit by itself; false on timeout.
    bool waitForExit(int timeoutMs);
    // Exit code of the last run that ended (-1 after a crash or a signal).
    [[nodiscard]] int exitCode() const { return m_exitCode; }

private:
    void noteExit();

    QTemporaryDir m_workDir;
    QString m_dataDir;
    QProcessEnvironment m_env;
    std::unique_ptr<QProcess> m_process;
    QString m_stdoutPath;
    QString m_stderrPath;
    QStringList m_linesBefore;
    quint16 m_port = 0;
    int m_exitCode = -1;
    int m_runs = 0;
    QString m_error;
};

} // namespace gh::test
