#include "auditmodel.h"
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QSet>
#include <QTimeZone>

namespace gh::ui {

namespace {

QString valueText(const QJsonValue &v)
{
    if (v.isUndefined())
        return QStringLiteral("—");
    if (v.isString())
        return v.toString();
    if (v.isNull())
        return QStringLiteral("none");
    if (v.isDouble())
        return QString::number(v.toDouble());
    if (v.isBool())
        return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    return QString::fromUtf8(QJsonDocument::fromVariant(v.toVariant()).toJson(QJsonDocument::Compact));
}

QString csvField(const QString &s)
{
    if (!s.contains(u',') && !s.contains(u'"') && !s.contains(u'\n'))
        return s;
    QString q = s;
    q.replace(u'"', QStringLiteral("\"\""));
    return u'"' + q + u'"';
}

} // namespace

AuditModel::AuditModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

AuditModel::AuditModel(Backend *backend, QObject *parent)
    : QAbstractListModel(parent)
{
    setBackend(backend);
}

void AuditModel::setBackend(Backend *backend)
{
    if (m_backend == backend)
        return;
    m_backend = backend;
    Q_EMIT backendChanged();
    reload();
}

void AuditModel::setLimit(int limit)
{
    limit = qBound(1, limit, 100'000);
    if (m_limit == limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    reload();
}

void AuditModel::reload()
{
    beginResetModel();
    m_rows = m_backend ? m_backend->store().auditEntries(m_limit) : QList<AuditEntry>();
    endResetModel();
    Q_EMIT countChanged();
}

int AuditModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant AuditModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AuditEntry &e = m_rows.at(index.row());
    switch (role) {
    case AtMsRole:
        return e.atMs;
    case OriginRole:
        return e.origin;
    case ActionRole:
        return e.action;
    case SubjectRole:
        return e.subject;
    case OldValueRole:
        return e.oldValue;
    case NewValueRole:
        return e.newValue;
    case SummaryRole:
        return summary(e.oldValue, e.newValue);
    default:
        return {};
    }
}

QHash<int, QByteArray> AuditModel::roleNames() const
{
    return {{AtMsRole, "atMs"}, {OriginRole, "origin"}, {ActionRole, "action"}, {SubjectRole, "subject"},
        {OldValueRole, "oldValue"}, {NewValueRole, "newValue"}, {SummaryRole, "summary"}};
}

QString AuditModel::summary(const QString &oldValue, const QString &newValue)
{
    const QJsonObject before = QJsonDocument::fromJson(oldValue.toUtf8()).object();
    const QJsonObject after = QJsonDocument::fromJson(newValue.toUtf8()).object();
    if (before.isEmpty() && after.isEmpty())
        return {};
    if (before.isEmpty())
        return tr("created");
    if (after.isEmpty())
        return tr("removed");
    QStringList parts;
    QStringList names = before.keys();
    for (const QString &k : after.keys())
        if (!names.contains(k))
            names.append(k);
    for (const QString &k : std::as_const(names))
        parts.append(QStringLiteral("%1: %2 → %3").arg(k, valueText(before.value(k)), valueText(after.value(k))));
    return parts.join(QStringLiteral(", "));
}

bool AuditModel::exportTo(const QUrl &url, const QString &format)
{
    const bool jsonl = format == QLatin1String("jsonl");
    if (!m_backend || (!jsonl && format != QLatin1String("csv"))) {
        Q_EMIT exportFinished(false, tr("Unknown export format '%1'").arg(format));
        return false;
    }
    const QString path = url.isLocalFile() ? url.toLocalFile() : url.toString();
    QSaveFile file(path);
    if (path.isEmpty() || !file.open(QIODevice::WriteOnly)) {
        Q_EMIT exportFinished(false, tr("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    if (!jsonl)
        file.write("time_utc,origin,action,subject,old_value,new_value\n");
    // The trail is small (a row per change a person or a config made): pages of 1,000.
    qint64 written = 0;
    for (int offset = 0;; offset += 1000) {
        const QList<AuditEntry> page = m_backend->store().auditEntries(1000, offset);
        for (const AuditEntry &e : page) {
            const QString time = QDateTime::fromMSecsSinceEpoch(e.atMs).toUTC().toString(Qt::ISODateWithMs);
            if (jsonl) {
                QJsonObject o{{QStringLiteral("time"), time}, {QStringLiteral("origin"), e.origin},
                    {QStringLiteral("action"), e.action}, {QStringLiteral("subject"), e.subject}};
                o.insert(QStringLiteral("old"), QJsonDocument::fromJson(e.oldValue.toUtf8()).object());
                o.insert(QStringLiteral("new"), QJsonDocument::fromJson(e.newValue.toUtf8()).object());
                file.write(QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n');
            } else {
                file.write(QStringList{time, e.origin, e.action, csvField(e.subject), csvField(e.oldValue),
                               csvField(e.newValue)}
                               .join(u',')
                               .toUtf8()
                    + '\n');
            }
            ++written;
        }
        if (page.size() < 1000)
            break;
    }
    if (!file.commit()) {
        Q_EMIT exportFinished(false, tr("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    Q_EMIT exportFinished(true, tr("%n change(s) exported", nullptr, int(written)));
    return true;
}

} // namespace gh::ui
