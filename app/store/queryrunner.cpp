#include "store/queryrunner.h"
#include <QSemaphore>

namespace gh {

QueryRunner::QueryRunner(std::function<std::unique_ptr<LogQueries>()> open, QObject *parent)
    : QObject(parent)
    , m_open(std::move(open))
{
    m_thread.setObjectName(QStringLiteral("ui-queries"));
    m_worker = new QObject;
    m_worker->moveToThread(&m_thread);
    // Runs on the worker thread as its event loop ends: the connection is closed there.
    connect(
        &m_thread, &QThread::finished, m_worker, [this] { m_queries.reset(); }, Qt::DirectConnection);
    m_thread.start();
}

QueryRunner::~QueryRunner()
{
    m_thread.quit();
    m_thread.wait();
    delete m_worker;
    m_queries.reset();
}

void QueryRunner::post(std::function<void()> job)
{
    QMetaObject::invokeMethod(m_worker, std::move(job), Qt::QueuedConnection);
}

void QueryRunner::waitForIdle()
{
    QSemaphore done;
    post([&done] { done.release(); });
    done.acquire();
}

void QueryRunner::setInstanceScope(const QString &instanceId)
{
    if (instanceId == m_scope)
        return;
    m_scope = instanceId;
    post([this, instanceId] {
        m_workerScope = instanceId;
        if (m_queries)
            m_queries->setInstanceScope(instanceId);
    });
}

LogQueries &QueryRunner::queries()
{
    if (!m_queries) {
        m_queries = m_open();
        if (!m_workerScope.isEmpty())
            m_queries->setInstanceScope(m_workerScope);
    }
    return *m_queries;
}

} // namespace gh
