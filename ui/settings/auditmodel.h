#pragma once
#include "backend.h"
#include <QAbstractListModel>
#include <QPointer>
#include <QtQml/qqmlregistration.h>
#include <QUrl>

namespace gh::ui {

// The audit trail (store/audittrail.h, docs/capture.md): the latest control-plane changes, newest
// first, for the Settings page; exportable as CSV or JSON Lines.
class AuditModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(gh::ui::Backend *backend READ backend WRITE setBackend NOTIFY backendChanged)
    Q_PROPERTY(int limit READ limit WRITE setLimit NOTIFY limitChanged)
    Q_PROPERTY(int count READ count NOTIFY countChanged)
public:
    enum Role {
        AtMsRole = Qt::UserRole + 1, // when, ms since the epoch
        OriginRole, // "window", "config", "cli", "api"
        ActionRole, // "key.create", "key.limits", ...
        SubjectRole, // the key's name, the provider's id, ...
        OldValueRole, // compact JSON of the changed members before ("" when created)
        NewValueRole, // after ("" when removed)
        SummaryRole, // "day_usd: 5 → 9" for the list
    };
    Q_ENUM(Role)

    explicit AuditModel(QObject *parent = nullptr);
    explicit AuditModel(Backend *backend, QObject *parent = nullptr);
    [[nodiscard]] Backend *backend() const { return m_backend; }
    void setBackend(Backend *backend);
    [[nodiscard]] int limit() const { return m_limit; }
    void setLimit(int limit);
    [[nodiscard]] int count() const { return int(m_rows.size()); }

    [[nodiscard]] int rowCount(const QModelIndex &parent = {}) const override;
    [[nodiscard]] QVariant data(const QModelIndex &index, int role) const override;
    [[nodiscard]] QHash<int, QByteArray> roleNames() const override;

    // Re-reads the latest `limit` entries.
    Q_INVOKABLE void reload();
    // Writes the whole trail to `url` as "csv" or "jsonl"; false when it cannot (exportFinished says why).
    Q_INVOKABLE bool exportTo(const QUrl &url, const QString &format);
    // "day_usd: 5 → 9, rpm: null → 60" from the two JSON objects.
    [[nodiscard]] static QString summary(const QString &oldValue, const QString &newValue);

Q_SIGNALS:
    void backendChanged();
    void limitChanged();
    void countChanged();
    void exportFinished(bool ok, const QString &message);

private:
    QPointer<Backend> m_backend;
    int m_limit = 200;
    QList<AuditEntry> m_rows;
};

} // namespace gh::ui
