#include "mockupstream.h"

#include "httpclient.h"
#include "testhelpers.h"

#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QThread>

namespace gh::test {

MockUpstream::MockUpstream(const QStringList &extraArgs, int timeoutMs)
{
    const QString bin = binaryFromEnv("MOCK_UPSTREAM_BIN", &m_error);
    if (bin.isEmpty())
        return;
    m_process = std::make_unique<QProcess>();
    m_process->setReadChannel(QProcess::StandardOutput);
    // The mock only prints its listening line on stdout; its stderr goes to the test's log.
    m_process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process->start(bin, QStringList{QStringLiteral("--port"), QStringLiteral("0")} + extraArgs);
    if (!m_process->waitForStarted(timeoutMs)) {
        m_error = QStringLiteral("cannot start %1: %2").arg(bin, m_process->errorString());
        m_process.reset();
        return;
    }
    static const QRegularExpression line(QStringLiteral("^mock upstream listening on http://127\\.0\\.0\\.1:(\\d+)\\s*$"));
    QByteArray out;
    const QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        if (m_process->canReadLine() || m_process->waitForReadyRead(static_cast<int>(qMax<qint64>(1, deadline.remainingTime())))) {
            while (m_process->canReadLine()) {
                const QString l = QString::fromUtf8(m_process->readLine());
                out += l.toUtf8();
                const QRegularExpressionMatch m = line.match(l);
                if (m.hasMatch()) {
                    m_port = static_cast<quint16>(m.captured(1).toUInt());
                    return;
                }
            }
        }
        if (m_process->state() != QProcess::Running) {
            m_error = QStringLiteral("mock_upstream exited (code %1) before listening; output: %2")
                          .arg(m_process->exitCode())
                          .arg(QString::fromUtf8(out + m_process->readAll()));
            m_process.reset();
            return;
        }
    }
    m_error = QStringLiteral("mock_upstream did not print its listening line within %1 ms; output: %2")
                  .arg(timeoutMs)
                  .arg(QString::fromUtf8(out));
    stop();
}

MockUpstream::~MockUpstream()
{
    stop();
}

void MockUpstream::stop()
{
    if (!m_process)
        return;
    if (m_process->state() != QProcess::NotRunning) {
        m_process->kill();
        m_process->waitForFinished(5000);
    }
    m_process.reset();
}

bool MockUpstream::isRunning() const
{
    return m_process && m_port != 0 && m_process->state() == QProcess::Running;
}

QString MockUpstream::baseUrl() const
{
    return rootUrl() + QStringLiteral("/v1");
}

QString MockUpstream::rootUrl() const
{
    return QStringLiteral("http://127.0.0.1:%1").arg(m_port);
}

QJsonArray MockUpstream::receivedRequests()
{
    if (!isRunning())
        return {};
    HttpClient client(m_port);
    RequestOptions options;
    options.timeoutMs = 10000;
    const HttpResponse r = client.get(QByteArrayLiteral("/_mock/requests"), {}, options);
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.body, &err);
    if (r.status != 200 || !doc.isArray()) {
        m_error = QStringLiteral("GET /_mock/requests: ") + r.describe();
        return {};
    }
    return doc.array();
}

QJsonObject MockUpstream::lastRequest()
{
    const QJsonArray all = receivedRequests();
    return all.isEmpty() ? QJsonObject() : all.last().toObject();
}

bool MockUpstream::waitForRequests(int count, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    for (;;) {
        if (receivedRequests().size() >= count)
            return true;
        if (deadline.hasExpired() || !isRunning())
            return false;
        QThread::msleep(20);
    }
}

QJsonObject MockUpstream::billing()
{
    if (!isRunning())
        return {};
    HttpClient client(m_port);
    RequestOptions options;
    options.timeoutMs = 10000;
    const HttpResponse r = client.get(QByteArrayLiteral("/_mock/billing"), {}, options);
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(r.body, &err);
    if (r.status != 200 || !doc.isObject()) {
        m_error = QStringLiteral("GET /_mock/billing: ") + r.describe();
        return {};
    }
    return doc.object();
}

MockBilled MockBilled::fromJson(const QJsonObject &o)
{
    MockBilled b;
    b.requests = o.value(QStringLiteral("requests")).toInteger();
    b.inputTokens = o.value(QStringLiteral("input_tokens")).toInteger();
    b.outputTokens = o.value(QStringLiteral("output_tokens")).toInteger();
    b.cacheReadTokens = o.value(QStringLiteral("cache_read_tokens")).toInteger();
    b.cacheWriteTokens = o.value(QStringLiteral("cache_write_tokens")).toInteger();
    b.cacheWrite1hTokens = o.value(QStringLiteral("cache_write_1h_tokens")).toInteger();
    b.reasoningTokens = o.value(QStringLiteral("reasoning_tokens")).toInteger();
    return b;
}

MockBilled MockUpstream::billed(const QString &model)
{
    return MockBilled::fromJson(billing().value(QStringLiteral("by_model")).toObject().value(model).toObject());
}

MockBilled MockUpstream::billedTotal()
{
    return MockBilled::fromJson(billing().value(QStringLiteral("totals")).toObject());
}

QMap<QString, qint64> MockUpstream::requestsByModel()
{
    QMap<QString, qint64> out;
    const QJsonObject received = billing().value(QStringLiteral("received")).toObject();
    for (auto it = received.constBegin(); it != received.constEnd(); ++it)
        out.insert(it.key(), it.value().toInteger());
    return out;
}

qint64 MockUpstream::requestCount(const QString &model)
{
    return billing().value(QStringLiteral("received")).toObject().value(model).toInteger();
}

QStringList MockUpstream::behavioursOf(const QString &model)
{
    QStringList out;
    for (const QJsonValue &v : receivedRequests()) {
        const QJsonObject r = v.toObject();
        if (r.value(QStringLiteral("model")).toString() == model)
            out.append(r.value(QStringLiteral("behaviour")).toString());
    }
    return out;
}

bool MockUpstream::reset()
{
    if (!isRunning())
        return false;
    HttpClient client(m_port);
    const HttpResponse r = client.post(QByteArrayLiteral("/_mock/reset"), {});
    if (r.status != 200) {
        m_error = QStringLiteral("POST /_mock/reset: ") + r.describe();
        return false;
    }
    return true;
}

} // namespace gh::test
