#include "spendreportexport.h"
#include "reports/spendreport.h"
#include "store/logqueries.h"
#include <QCoreApplication>
#include <QDateTime>
#include <QSaveFile>
#include <QThread>
#include <memory>

namespace gh::ui {

SpendReportExport::SpendReportExport(QObject *parent)
    : QObject(parent)
{
}

SpendReportExport::SpendReportExport(Backend *backend, QObject *parent)
    : SpendReportExport(parent)
{
    setBackend(backend);
}

void SpendReportExport::setBackend(Backend *backend)
{
    if (!adoptBackend(m_backend, backend, "SpendReportExport"))
        return;
    announceBackend(this);
}

QPair<qint64, qint64> SpendReportExport::period(const QString &name, const QDateTime &now)
{
    const QDate today = now.date();
    const QDate firstOfMonth(today.year(), today.month(), 1);
    const auto ms = [](QDate d) { return QDateTime(d, QTime(0, 0)).toMSecsSinceEpoch(); };
    if (name == QLatin1String("this-month"))
        return {ms(firstOfMonth), ms(today.addDays(1))};
    if (name == QLatin1String("last-month"))
        return {ms(firstOfMonth.addMonths(-1)), ms(firstOfMonth)};
    if (name == QLatin1String("last-30-days"))
        return {ms(today.addDays(-29)), ms(today.addDays(1))};
    return {0, 0};
}

bool SpendReportExport::write(const QUrl &url, const QString &format, const QString &periodName)
{
    const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
    const auto [fromMs, toMs] = period(periodName, QDateTime::fromMSecsSinceEpoch(m_backend ? m_backend->nowMs() : QDateTime::currentMSecsSinceEpoch()));
    if (!m_backend || m_busy || (format != QLatin1String("html") && format != QLatin1String("csv")) || toMs <= fromMs) {
        Q_EMIT finished(false, tr("The spend report could not start"), path);
        return false;
    }
    // Written under a temporary name and renamed when complete: a failed report leaves no file.
    auto file = std::make_shared<QSaveFile>(path);
    if (path.isEmpty() || !file->open(QIODevice::WriteOnly)) {
        Q_EMIT finished(false, tr("Cannot write %1: %2").arg(path, file->errorString()), path);
        return false;
    }
    m_busy = true;
    Q_EMIT busyChanged();
    std::shared_ptr<LogQueries> queries = m_backend->store().openQueries();
    QPointer<SpendReportExport> self(this);
    QThread *thread = QThread::create([file, queries, self, format, path, fromMs = fromMs, toMs = toMs] {
        QString error;
        const SpendReport report = buildSpendReport(*queries, fromMs, toMs);
        if (!report.ok) {
            error = tr("the request log could not be read");
            file->cancelWriting();
        } else {
            const QByteArray bytes = format == QLatin1String("csv") ? spendReportCsv(report) : spendReportHtml(report);
            if (file->write(bytes) != bytes.size() || !file->commit())
                error = file->errorString();
        }
        const qint64 requests = report.requests();
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, error, path, requests] {
                if (!self)
                    return;
                self->m_busy = false;
                Q_EMIT self->busyChanged();
                if (error.isEmpty())
                    Q_EMIT self->finished(true, tr("Spend report of %n request(s) written to %1", nullptr, int(qMin<qint64>(requests, INT_MAX))).arg(path), path);
                else
                    Q_EMIT self->finished(false, tr("The spend report failed: %1").arg(error), path);
            },
            Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start(QThread::LowPriority);
    return true;
}

} // namespace gh::ui
