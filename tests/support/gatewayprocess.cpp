#include "gatewayprocess.h"

#include "testhelpers.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

namespace gh::test {

namespace {

QString readFile(const QString &path)
{
    QFile f(path);
    if (path.isEmpty() || !f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll());
}

} // namespace

GatewayProcess::GatewayProcess()
    : m_dataDir(m_workDir.filePath(QStringLiteral("data")))
    , m_env(QProcessEnvironment::systemEnvironment())
{
}

GatewayProcess::~GatewayProcess()
{
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    if (QTest::currentTestFailed()) {
        const QString err = stderrText();
        if (!err.isEmpty())
            qWarning("gatehouse stderr (last 4000 characters):\n%s", qPrintable(err.right(4000)));
    }
}

QString GatewayProcess::writeConfig(const QJsonObject &config, const QString &fileName)
{
    const QString path = m_workDir.filePath(fileName);
    if (!writeJsonFile(path, config, &m_error))
        return {};
    return path;
}

bool GatewayProcess::start(const QStringList &extraArgs, const QString &configFile, int timeoutMs)
{
    if (isRunning()) {
        m_error = QStringLiteral("already running");
        return false;
    }
    m_error.clear();
    m_port = 0;
    m_linesBefore.clear();
    m_exitCode = -1;
    const QString bin = binaryFromEnv("GATEHOUSE_BIN", &m_error);
    if (bin.isEmpty())
        return false;
    if (!m_workDir.isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder");
        return false;
    }
    QDir().mkpath(m_dataDir);

    ++m_runs;
    m_stdoutPath = m_workDir.filePath(QStringLiteral("stdout-%1.txt").arg(m_runs));
    m_stderrPath = m_workDir.filePath(QStringLiteral("stderr-%1.txt").arg(m_runs));
    m_process = std::make_unique<QProcess>();
    m_process->setProcessEnvironment(m_env);
    m_process->setStandardOutputFile(m_stdoutPath);
    m_process->setStandardErrorFile(m_stderrPath);
    QStringList args = extraArgs;
    args << QStringLiteral("--headless") << QStringLiteral("--port") << QStringLiteral("0")
         << QStringLiteral("--data-dir") << m_dataDir;
    if (!configFile.isEmpty())
        args << QStringLiteral("--config") << configFile;
    m_process->start(bin, args);
    if (!m_process->waitForStarted(timeoutMs)) {
        m_error = QStringLiteral("cannot start %1: %2").arg(bin, m_process->errorString());
        m_process.reset();
        return false;
    }

    static const QRegularExpression listening(
        QStringLiteral("^Gatehouse gateway listening on http://127\\.0\\.0\\.1:(\\d+)\\s*$"));
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        const QString out = stdoutText();
        const QStringList lines = out.split(QLatin1Char('\n'));
        // Only whole lines count: the last element is the unterminated rest.
        for (qsizetype i = 0; i + 1 < lines.size(); ++i) {
            const QRegularExpressionMatch m = listening.match(lines[i]);
            if (m.hasMatch()) {
                m_port = static_cast<quint16>(m.captured(1).toUInt());
                m_linesBefore = lines.mid(0, i);
                return true;
            }
        }
        // Waiting for the process to finish doubles as the poll interval.
        if (m_process->state() == QProcess::NotRunning || m_process->waitForFinished(10)) {
            noteExit();
            m_error = QStringLiteral("gatehouse exited with code %1 before listening; stderr: %2")
                          .arg(m_exitCode)
                          .arg(stderrText().right(2000));
            return false;
        }
        if (deadline.hasExpired()) {
            m_error = QStringLiteral("gatehouse did not print its listening line within %1 ms; stdout: %2; stderr: %3")
                          .arg(timeoutMs)
                          .arg(out.right(1000), stderrText().right(2000));
            kill();
            return false;
        }
    }
}

void GatewayProcess::noteExit()
{
    if (!m_process)
        return;
    m_exitCode = m_process->exitStatus() == QProcess::NormalExit ? m_process->exitCode() : -1;
}

bool GatewayProcess::isRunning() const
{
    return m_process && m_process->state() != QProcess::NotRunning;
}

QString GatewayProcess::baseUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

qint64 GatewayProcess::pid() const
{
    return m_process ? m_process->processId() : 0;
}

QString GatewayProcess::stdoutText() const
{
    return readFile(m_stdoutPath);
}

QString GatewayProcess::stderrText() const
{
    return readFile(m_stderrPath);
}

bool GatewayProcess::waitForOutput(const QString &text, int timeoutMs) const
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (stdoutText().contains(text) || stderrText().contains(text))
            return true;
        if (deadline.hasExpired())
            return false;
        QTest::qSleep(10);
    }
}

int GatewayProcess::terminate(int timeoutMs)
{
    if (!m_process)
        return m_exitCode;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->terminate();
        if (!m_process->waitForFinished(timeoutMs)) {
            kill();
            m_exitCode = -2;
            return -2;
        }
    }
    noteExit();
    return m_exitCode;
}

void GatewayProcess::kill()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    noteExit();
}

bool GatewayProcess::waitForExit(int timeoutMs)
{
    if (!m_process)
        return true;
    if (m_process->state() != QProcess::NotRunning && !m_process->waitForFinished(timeoutMs))
        return false;
    noteExit();
    return true;
}

} // namespace gh::test
