#include "cachemodel.h"
#include <algorithm>
#include <QColor>
#include <QDateTime>
#include <QtCharts/QBarSet>

namespace gh::ui {

namespace {

constexpr qint64 kHourMs = 3'600'000;

// The chart's bucket edges and labels: hours for 24 h, local days otherwise (several days a bar when
// "all" spans more than 60 days).
void chartBuckets(const QString &period, qint64 nowMs, qint64 firstMs, QList<qint64> *edges, QStringList *labels)
{
    if (period == QLatin1String("day")) {
        const qint64 last = nowMs / kHourMs * kHourMs;
        for (int h = 23; h >= 0; --h) {
            const qint64 start = last - h * kHourMs;
            edges->append(start);
            labels->append(QDateTime::fromMSecsSinceEpoch(start).toString(QStringLiteral("HH:mm")));
        }
        edges->append(last + kHourMs);
        return;
    }
    const QDate today = QDateTime::fromMSecsSinceEpoch(nowMs).date();
    QDate first = today.addDays(period == QLatin1String("week") ? -6 : -29);
    if (period == QLatin1String("all"))
        first = std::min(today, QDateTime::fromMSecsSinceEpoch(firstMs).date());
    const qint64 days = first.daysTo(today) + 1;
    const int step = int(std::max<qint64>(1, (days + 59) / 60));
    for (QDate d = first; d <= today; d = d.addDays(step)) {
        edges->append(d.startOfDay().toMSecsSinceEpoch());
        labels->append(QLocale().toString(d, QStringLiteral("MMM d")));
    }
    const QDate end = first.addDays(qint64(labels->size()) * step);
    edges->append(end.startOfDay().toMSecsSinceEpoch());
}

} // namespace

CacheModel::CacheModel(QObject *parent)
    : AnalyticsModelBase("CacheModel", parent)
{
}

CacheModel::CacheModel(Backend *backend, QObject *parent)
    : CacheModel(parent)
{
    setBackend(backend);
}

void CacheModel::backendAttached()
{
    connect(backend(), &Backend::keysChanged, this, &CacheModel::refresh); // renames
}

void CacheModel::setGroupBy(const QString &groupBy)
{
    if (groupBy != QLatin1String("provider") && groupBy != QLatin1String("model") && groupBy != QLatin1String("key")) {
        qWarning("CacheModel: groupBy must be \"provider\", \"model\" or \"key\", not \"%s\"", qPrintable(groupBy));
        return;
    }
    if (groupBy == m_groupBy)
        return;
    const int before = rowCount();
    beginResetModel();
    m_groupBy = groupBy;
    endResetModel();
    Q_EMIT groupByChanged();
    if (rowCount() != before)
        Q_EMIT countChanged();
}

void CacheModel::start()
{
    const qint64 now = backend()->nowMs();
    const QString period = this->period();
    const analytics::Period p = periodRange(period, now);
    run<Result>(
        [p, period, now, prices = gatewayPrices()](LogQueries &queries) {
            Result r;
            analytics::CacheQuery q;
            q.period = p;
            q.prices = prices;
            qint64 first = now;
            if (period == QLatin1String("all"))
                first = queries.firstRolledUpDayMs().value_or(now);
            chartBuckets(period, now, first, &q.chartEdges, &r.labels);
            r.report = queries.cacheReport(q);
            if (r.report.ok) {
                for (const analytics::CacheGroup &k : std::as_const(r.report.byKey)) {
                    if (k.keyId > 0)
                        r.diagnoses.insert(k.keyId, queries.diagnosePrefixes(k.keyId));
                }
            }
            return r;
        },
        [this](Result result) {
            replaceRows(result.report.ok, result.report.error, "cache figures", [&] {
                m_report = std::move(result.report);
                m_diagnoses = std::move(result.diagnoses);
                m_labels = std::move(result.labels);
            });
        });
}

const QList<analytics::CacheGroup> &CacheModel::rows() const
{
    if (m_groupBy == QLatin1String("provider"))
        return m_report.byProvider;
    if (m_groupBy == QLatin1String("key"))
        return m_report.byKey;
    return m_report.byModel;
}

int CacheModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(rows().size());
}

QString CacheModel::diagnosisText(const analytics::PrefixDiagnosis &d) const
{
    if (d.pairs == 0)
        return {};
    if (d.block < 0)
        return tr("Each of the last %1 prompts starts with the whole previous one").arg(d.pairs + 1);
    const QString where = d.section == QLatin1String("system") ? tr("inside the system prompt")
        : d.section == QLatin1String("tools")                  ? tr("inside the tool definitions")
                                                               : tr("inside the messages");
    const QString byte = d.byte == 0 ? tr("the very start") : tr("about byte %1").arg(QLocale().toString(d.byte));
    return tr("Prompts differ from the previous one from %1, %2, in %3 of the last %4 requests")
        .arg(byte, where)
        .arg(d.atBlock)
        .arg(d.pairs);
}

QVariant CacheModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const analytics::CacheGroup &g = rows().at(index.row());
    const bool byKey = m_groupBy == QLatin1String("key");
    const auto diagnosis = byKey ? m_diagnoses.constFind(g.keyId) : m_diagnoses.cend();
    const bool diagnosed = diagnosis != m_diagnoses.cend();
    switch (role) {
    case NameRole:
    case Qt::DisplayRole:
        return g.name;
    case KeyIdRole:
        return g.keyId;
    case RequestsRole:
        return g.sums.requests;
    case PromptTokensRole:
        return g.sums.promptTokens();
    case InputTokensRole:
        return g.sums.inputTokens;
    case CacheReadTokensRole:
        return g.sums.cacheReadTokens;
    case CacheWriteTokensRole:
        return g.sums.cacheWriteTokens + g.sums.cacheWrite1hTokens;
    case HitRateRole:
        return g.sums.cacheHitRate();
    case SavedRole:
        return toUsd(g.saved);
    case UnpricedReadTokensRole:
        return g.unpricedReadTokens;
    case MaxHitRateRole: {
        const qint64 prompt = g.sums.promptTokens();
        return prompt > 0 ? double(g.sums.inputTokens + g.sums.cacheReadTokens) / double(prompt) : -1.0;
    }
    case SavedAtFullHitRole:
        return toUsd(g.savedAtFullHit);
    case ShareRole: {
        const qint64 all = m_report.total.sums.promptTokens();
        return all > 0 ? double(g.sums.promptTokens()) / double(all) : 0.0;
    }
    case PoorRole:
        return byKey && g.sums.promptTokens() >= kPoorMinPromptTokens && g.sums.cacheHitRate() < kPoorHitRate;
    case DiagnosisRole:
        return diagnosed ? diagnosisText(*diagnosis) : QString();
    case DiagnosisByteRole:
        return diagnosed ? diagnosis->byte : qint64(-1);
    case DiagnosisSectionRole:
        return diagnosed ? diagnosis->section : QString();
    default:
        return {};
    }
}

QHash<int, QByteArray> CacheModel::roleNames() const
{
    return {{NameRole, "name"}, {KeyIdRole, "keyId"}, {RequestsRole, "requests"}, {PromptTokensRole, "promptTokens"},
        {InputTokensRole, "inputTokens"}, {CacheReadTokensRole, "cacheReadTokens"},
        {CacheWriteTokensRole, "cacheWriteTokens"}, {HitRateRole, "hitRate"}, {SavedRole, "saved"},
        {UnpricedReadTokensRole, "unpricedReadTokens"}, {ShareRole, "share"}, {PoorRole, "poor"},
        {DiagnosisRole, "diagnosis"}, {DiagnosisByteRole, "diagnosisByte"}, {DiagnosisSectionRole, "diagnosisSection"},
        {MaxHitRateRole, "maxHitRate"}, {SavedAtFullHitRole, "savedAtFullHit"}};
}

qint64 CacheModel::cacheWriteTokens() const
{
    return m_report.total.sums.cacheWriteTokens + m_report.total.sums.cacheWrite1hTokens;
}

double CacheModel::chartMaxTokens() const
{
    qint64 max = 0;
    for (const analytics::CacheBucket &b : m_report.chart)
        max = std::max(max, b.sums.promptTokens());
    return double(max);
}

int CacheModel::poorKeys() const
{
    int n = 0;
    for (const analytics::CacheGroup &g : m_report.byKey) {
        if (g.keyId > 0 && g.sums.promptTokens() >= kPoorMinPromptTokens && g.sums.cacheHitRate() < kPoorHitRate)
            ++n;
    }
    return n;
}

double CacheModel::savedAtHitRate(int row, double hitRate) const
{
    const QList<analytics::CacheGroup> &groups = rows();
    if (row < 0 || row >= groups.size())
        return 0.0;
    const analytics::CacheGroup &g = groups.at(row);
    const qint64 prompt = g.sums.promptTokens();
    const qint64 readable = g.sums.inputTokens + g.sums.cacheReadTokens;
    if (prompt <= 0 || readable <= 0)
        return 0.0;
    // The share of the readable tokens read at that rate of all prompt tokens.
    const double share = std::clamp(hitRate, 0.0, 1.0) * double(prompt) / double(readable);
    return std::min(share, 1.0) * toUsd(g.savedAtFullHit);
}

double CacheModel::savedAt(int bucket) const
{
    return bucket >= 0 && bucket < m_report.chart.size() ? toUsd(m_report.chart.at(bucket).saved) : 0.0;
}

void CacheModel::fillChart(QAbstractBarSeries *bars, QXYSeries *hitRate, const QVariantList &colors, double unit) const
{
    if (!(unit > 0))
        unit = 1;
    if (bars) {
        bars->clear();
        const QStringList names{tr("Read from cache"), tr("Written to cache"), tr("Uncached")};
        for (int s = 0; s < 3; ++s) {
            auto *set = new QBarSet(names.at(s));
            if (s < colors.size()) {
                const QColor color = colors.at(s).value<QColor>();
                set->setColor(color);
                set->setBorderColor(color);
            }
            QList<qreal> values;
            values.reserve(m_report.chart.size());
            for (const analytics::CacheBucket &b : m_report.chart) {
                values.append(double(s == 0    ? b.sums.cacheReadTokens
                                      : s == 1 ? b.sums.cacheWriteTokens + b.sums.cacheWrite1hTokens
                                               : b.sums.inputTokens)
                    / unit);
            }
            set->append(values);
            bars->append(set);
        }
    }
    if (hitRate) {
        QList<QPointF> points;
        for (int i = 0; i < m_report.chart.size(); ++i) {
            const double rate = m_report.chart.at(i).sums.cacheHitRate();
            if (rate >= 0)
                points.append(QPointF(i, rate * 100.0));
        }
        hitRate->replace(points);
    }
}

} // namespace gh::ui
