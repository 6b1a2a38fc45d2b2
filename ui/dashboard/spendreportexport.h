#pragma once
#include "backend.h"
#include <QObject>
#include <QPointer>
#include <QUrl>
#include <QtQml/qqmlregistration.h>

namespace gh::ui {

// The Dashboard's "Spend report": the spend of a period per key, model and provider
// (reports/spendreport.h, as `gatehouse export spend` writes it), as a printable HTML page with the
// Dashboard's charts or as CSV, written to a file off the UI thread.
class SpendReportExport : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(bool busy READ busy NOTIFY busyChanged)
public:
    explicit SpendReportExport(QObject *parent = nullptr);
    explicit SpendReportExport(Backend *backend, QObject *parent = nullptr); // tests
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    [[nodiscard]] bool busy() const { return m_busy; }

    // The period's [from, to) in ms, local time: "this-month" (so far), "last-month", "last-30-days"
    // (today included). {0, 0} for an unknown name.
    [[nodiscard]] static QPair<qint64, qint64> period(const QString &name, const QDateTime &now);
    // Writes the report of `periodName` to `url` as "html" or "csv"; false (and finished(false, why))
    // when it cannot start. The file appears only once complete.
    Q_INVOKABLE bool write(const QUrl &url, const QString &format, const QString &periodName);

Q_SIGNALS:
    void backendChanged();
    void busyChanged();
    void finished(bool ok, const QString &message, const QString &path);

private:
    QPointer<Backend> m_backend;
    bool m_busy = false;
};

} // namespace gh::ui
