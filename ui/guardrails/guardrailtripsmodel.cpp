#include "guardrailtripsmodel.h"
#include "guardrailcenter.h"
#include "store/queryrunner.h"
#include <QJsonDocument>
#include <QJsonObject>

namespace gh::ui {

namespace {

constexpr qint64 kMinuteMs = 60'000;

QStringList hashesOf(const QJsonObject &evidence)
{
    QStringList out;
    for (const char *name : {"content_hash", "result_hash"}) {
        const QString h = evidence.value(QLatin1String(name)).toString();
        if (!h.isEmpty())
            out.append(h);
    }
    for (const QJsonValue &v : evidence.value(QLatin1String("recent_request_hashes")).toArray()) {
        if (!out.contains(v.toString()))
            out.append(v.toString());
    }
    return out;
}

// The evidence's numbers for people: "answered before: 4", one per line; hashes and the kind left out.
QStringList evidenceLines(const QJsonObject &evidence)
{
    QStringList out;
    for (auto it = evidence.begin(); it != evidence.end(); ++it) {
        if (it.key() == QLatin1String("kind") || it.key().endsWith(QLatin1String("hash"))
            || it.key().endsWith(QLatin1String("hashes")))
            continue;
        QString name = it.key();
        name.replace(u'_', u' ');
        const QJsonValue v = it.value();
        const QString value = v.isDouble()
            ? (it.key().endsWith(QLatin1String("usd")) ? QStringLiteral("$%1").arg(v.toDouble(), 0, 'f', 4)
                                                       : QString::number(v.toDouble(), 'g', 6))
            : v.toVariant().toString();
        out.append(QStringLiteral("%1: %2").arg(name, value));
    }
    return out;
}

} // namespace

GuardrailTripsModel::GuardrailTripsModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

void GuardrailTripsModel::setCenter(GuardrailCenter *center)
{
    if (center == m_center)
        return;
    if (m_center)
        disconnect(m_center, nullptr, this, nullptr);
    m_center = center;
    if (m_center)
        connect(m_center, &GuardrailCenter::changed, this, &GuardrailTripsModel::refresh);
    Q_EMIT centerChanged();
    refresh();
}

void GuardrailTripsModel::setLimit(int limit)
{
    limit = std::max(0, limit);
    if (limit == m_limit)
        return;
    m_limit = limit;
    Q_EMIT limitChanged();
    refresh();
}

int GuardrailTripsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

QVariant GuardrailTripsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &r = m_rows.at(index.row());
    const GuardrailTripRow &t = r.trip;
    switch (role) {
    case TripIdRole:
        return t.id;
    case KeyIdRole:
        return t.keyId;
    case Qt::DisplayRole:
    case KeyNameRole:
        return t.keyName;
    case SessionRole:
        return t.session;
    case DetectorRole:
        return t.detector;
    case PausedRole:
        return t.action == QLatin1String("pause");
    case ActiveRole:
        return t.active;
    case SummaryRole:
        return t.summary;
    case KindRole:
        return QJsonDocument::fromJson(t.evidence).object().value(QLatin1String("kind")).toString();
    case EvidenceRole:
        return evidenceLines(QJsonDocument::fromJson(t.evidence).object());
    case HashesRole:
        return hashesOf(QJsonDocument::fromJson(t.evidence).object());
    case CostSoFarRole:
        return toUsd(t.costSoFar);
    case AtRole:
        return t.atMs;
    case RequestIdRole:
        return t.requestId;
    case EndedAtRole:
        return t.endedAtMs;
    case EndedByRole:
        return t.endedBy;
    case KeptAtRole:
        return t.keptAtMs;
    case CurveRole:
        return QVariant::fromValue(r.curve);
    default:
        return {};
    }
}

QHash<int, QByteArray> GuardrailTripsModel::roleNames() const
{
    return {{TripIdRole, "tripId"}, {KeyIdRole, "keyId"}, {KeyNameRole, "keyName"}, {SessionRole, "session"},
        {DetectorRole, "detector"}, {PausedRole, "paused"}, {ActiveRole, "active"}, {SummaryRole, "summary"},
        {KindRole, "kind"}, {EvidenceRole, "evidence"}, {HashesRole, "hashes"}, {CostSoFarRole, "costSoFar"},
        {AtRole, "at"}, {RequestIdRole, "requestId"}, {EndedAtRole, "endedAt"}, {EndedByRole, "endedBy"},
        {KeptAtRole, "keptAt"}, {CurveRole, "curve"}};
}

void GuardrailTripsModel::refresh()
{
    if (!m_center)
        return;
    if (m_running) {
        m_again = true;
        return;
    }
    m_running = true;
    const int limit = m_limit;
    m_center->queries().run<QList<Row>>(
        this,
        [limit](LogQueries &q) {
            QList<Row> rows;
            for (const GuardrailTripRow &t : q.guardrailTrips(limit)) {
                Row r;
                r.trip = t;
                const qint64 tripMinute = t.atMs / kMinuteMs * kMinuteMs;
                const qint64 from = tripMinute - kCurveBefore * kMinuteMs;
                r.curve = QList<double>(kCurveBefore + 1 + kCurveAfter, 0.0);
                const qint64 to = tripMinute + (kCurveAfter + 1) * kMinuteMs;
                // A session the log does not name (a prompt-prefix or body hash: only the client's
                // session header is logged) shows its key's curve.
                QList<MinuteSpend> minutes = q.spendPerMinute(t.keyId, t.session, from, to);
                if (minutes.isEmpty() && !t.session.isEmpty())
                    minutes = q.spendPerMinute(t.keyId, QString(), from, to);
                for (const MinuteSpend &m : std::as_const(minutes)) {
                    const qint64 slot = (m.minuteMs - from) / kMinuteMs;
                    if (slot >= 0 && slot < r.curve.size())
                        r.curve[slot] = toUsd(m.cost);
                }
                rows.append(r);
            }
            return rows;
        },
        [this](QList<Row> rows) { apply(std::move(rows)); });
}

void GuardrailTripsModel::apply(QList<Row> rows)
{
    m_running = false;
    const bool countChange = rows.size() != m_rows.size();
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
    if (countChange)
        Q_EMIT countChanged();
    Q_EMIT refreshed();
    if (m_again) {
        m_again = false;
        refresh();
    }
}

} // namespace gh::ui
