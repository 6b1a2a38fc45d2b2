#include "uiprobe.h"
#include "comparepanesmodel.h"
#include "comparesession.h"
#include "activitymodel.h"
#include "spendsummary.h"
#include <algorithm>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QQuickItem>
#include <QQuickWindow>
#include <QSaveFile>
#include <QSet>
#include <QVariant>

#ifdef Q_OS_LINUX
#include <ctime>
#include <unistd.h>
#endif

Q_DECLARE_LOGGING_CATEGORY(lcUi)

namespace gh::ui {

namespace {

qint64 computeProcessStart()
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
#ifdef Q_OS_LINUX
    // Field 22 of /proc/self/stat: start time in clock ticks after boot (CLOCK_BOOTTIME).
    QFile stat(QStringLiteral("/proc/self/stat"));
    if (stat.open(QIODevice::ReadOnly)) {
        const QByteArray text = stat.readAll();
        const qsizetype close = text.lastIndexOf(')'); // the command name may contain spaces
        const QList<QByteArray> fields = text.mid(close + 2).split(' ');
        // fields[0] is field 3 (state), so field 22 is fields[19].
        timespec boot{};
        const long ticks = sysconf(_SC_CLK_TCK);
        if (fields.size() > 19 && ticks > 0 && clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
            bool ok = false;
            const qint64 startTicks = fields.at(19).toLongLong(&ok);
            if (ok) {
                const qint64 bootNowMs = qint64(boot.tv_sec) * 1000 + boot.tv_nsec / 1000000;
                return now - (bootNowMs - startTicks * 1000 / ticks);
            }
        }
    }
#endif
    return now;
}

// Evaluated when the library's static data is initialised, i.e. as the process starts.
const qint64 g_processStart = computeProcessStart();

qint64 rssKb()
{
#ifdef Q_OS_LINUX
    QFile status(QStringLiteral("/proc/self/status"));
    if (status.open(QIODevice::ReadOnly)) {
        for (const QByteArray &line : status.readAll().split('\n')) {
            if (line.startsWith("VmRSS:"))
                return line.mid(6).trimmed().split(' ').value(0).toLongLong();
        }
    }
#endif
    return -1;
}

// Every object below `root` in both trees (QObject children and visual children).
template<typename Visit>
void walk(QObject *root, Visit &&visit)
{
    QSet<QObject *> seen;
    QList<QObject *> todo{root};
    while (!todo.isEmpty()) {
        QObject *o = todo.takeLast();
        if (!o || seen.contains(o))
            continue;
        seen.insert(o);
        if (visit(o))
            return;
        todo.append(o->children());
        if (auto *item = qobject_cast<QQuickItem *>(o)) {
            for (QQuickItem *child : item->childItems())
                todo.append(child);
        }
    }
}

double percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = qsizetype(p * double(values.size() - 1) + 0.5);
    return values.at(std::clamp<qsizetype>(index, 0, values.size() - 1));
}

} // namespace

qint64 UiProbe::processStartEpochMs()
{
    return g_processStart;
}

UiProbe::UiProbe(QQuickWindow *window, QString path, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_path(std::move(path))
{
    connect(window, &QQuickWindow::frameSwapped, this, &UiProbe::onFrame, Qt::DirectConnection);
    const int interval = qEnvironmentVariableIntValue("GATEHOUSE_UI_PROBE_INTERVAL");
    m_timer.setInterval(interval > 0 ? interval : 500);
    connect(&m_timer, &QTimer::timeout, this, &UiProbe::tick);
    m_timer.start();
    qCInfo(lcUi) << "test probe: writing snapshots of the window to" << m_path;
    QTimer::singleShot(0, this, &UiProbe::tick);
}

void UiProbe::attachIfRequested(QQuickWindow *window, QObject *owner)
{
    const QString path = qEnvironmentVariable("GATEHOUSE_UI_PROBE");
    if (!path.isEmpty() && window)
        new UiProbe(window, path, owner);
}

void UiProbe::onFrame()
{
    // frameSwapped comes from the render thread with the threaded render loop: only note the time
    // here and hand the rest to this object's thread.
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QMetaObject::invokeMethod(this, [this, now] {
        ++m_frames;
        if (m_firstFrameMs < 0) {
            m_firstFrameEpochMs = now;
            m_firstFrameMs = now - g_processStart;
            qCInfo(lcUi) << "test probe: first frame" << m_firstFrameMs << "ms after the process started";
            writeSnapshot();
        }
        if (m_comparing) {
            if (m_compareFrameClock.isValid())
                m_compareFrames << double(m_compareFrameClock.nsecsElapsed()) / 1e6;
            m_compareFrameClock.restart();
        }
        if (m_scrollFramesLeft <= 0)
            return;
        QQuickItem *list = findActivityList();
        if (!list) {
            m_scrollFramesLeft = 0;
            m_errors << QStringLiteral("scroll: no Activity list");
            return;
        }
        if (m_frameClock.isValid())
            m_frameTimes << double(m_frameClock.nsecsElapsed()) / 1e6;
        m_frameClock.restart();
        // Rows the view shows without data yet (their page is still being fetched).
        const auto *contentItem = list->property("contentItem").value<QQuickItem *>();
        const double top = list->property("contentY").toDouble();
        if (contentItem) {
            for (QQuickItem *child : contentItem->childItems()) {
                if (child->isVisible() && child->property("loaded").isValid() && !child->property("loaded").toBool()
                    && child->y() + child->height() > top && child->y() < top + list->height())
                    ++m_unloadedSeen;
            }
        }
        if (--m_scrollFramesLeft == 0) {
            int endIndex = -1;
            QMetaObject::invokeMethod(list, "indexAt", Q_RETURN_ARG(int, endIndex), Q_ARG(qreal, 1.0), Q_ARG(qreal, top + 1));
            double sum = 0;
            for (double t : m_frameTimes)
                sum += t;
            const QJsonObject result{{QStringLiteral("frames"), m_frameTimes.size()},
                {QStringLiteral("meanMs"), m_frameTimes.isEmpty() ? 0.0 : sum / double(m_frameTimes.size())},
                {QStringLiteral("p50Ms"), percentile(m_frameTimes, 0.5)},
                {QStringLiteral("p95Ms"), percentile(m_frameTimes, 0.95)},
                {QStringLiteral("p99Ms"), percentile(m_frameTimes, 0.99)},
                {QStringLiteral("maxMs"), m_frameTimes.isEmpty() ? 0.0 : *std::max_element(m_frameTimes.begin(), m_frameTimes.end())},
                {QStringLiteral("over33Ms"), int(std::count_if(m_frameTimes.begin(), m_frameTimes.end(), [](double t) { return t > 33.4; }))},
                {QStringLiteral("startIndex"), m_scrollStartIndex}, {QStringLiteral("endIndex"), endIndex},
                {QStringLiteral("unloadedRowFrames"), m_unloadedSeen}};
            m_scrollResult = QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact));
            writeSnapshot();
            return;
        }
        list->setProperty("contentY", top + m_scrollStep);
        m_window->update();
    });
}

void UiProbe::tick()
{
    runCommands();
    writeSnapshot();
}

void UiProbe::runCommands()
{
    QFile file(m_path + QStringLiteral(".cmd"));
    if (!file.exists() || !file.open(QIODevice::ReadOnly))
        return;
    const QString text = QString::fromUtf8(file.readAll());
    file.close();
    file.remove();
    for (const QString &line : text.split(u'\n', Qt::SkipEmptyParts))
        runCommand(line.trimmed());
}

void UiProbe::runCommand(const QString &line)
{
    if (!m_window)
        return;
    const QString verb = line.section(u' ', 0, 0);
    const QString arg = line.section(u' ', 1);
    if (verb == QLatin1String("page")) {
        m_window->setProperty("currentPage", arg.toInt());
    } else if (verb == QLatin1String("grab")) {
        const QImage image = m_window->grabWindow();
        if (!image.isNull() && image.save(arg))
            m_grabs << arg;
        else
            m_errors << QStringLiteral("grab: cannot save %1").arg(arg);
    } else if (verb == QLatin1String("jump")) {
        QQuickItem *list = findActivityList();
        ActivityModel *model = findActivity();
        if (!list || !model) {
            m_errors << QStringLiteral("jump: no Activity list");
            return;
        }
        const int row = std::clamp(int(arg.toDouble() * model->rowCount()), 0, std::max(0, model->rowCount() - 1));
        QMetaObject::invokeMethod(list, "positionViewAtIndex", Q_ARG(int, row), Q_ARG(int, 1 /* Beginning */));
    } else if (verb == QLatin1String("scroll")) {
        QQuickItem *list = findActivityList();
        if (!list) {
            m_errors << QStringLiteral("scroll: no Activity list");
            return;
        }
        m_scrollFramesLeft = arg.section(u' ', 0, 0).toInt();
        m_scrollStep = arg.section(u' ', 1, 1).toDouble();
        m_frameTimes.clear();
        m_frameClock.invalidate();
        m_unloadedSeen = 0;
        m_scrollResult.clear();
        const double top = list->property("contentY").toDouble();
        QMetaObject::invokeMethod(list, "indexAt", Q_RETURN_ARG(int, m_scrollStartIndex), Q_ARG(qreal, 1.0), Q_ARG(qreal, top + 1));
        m_window->update();
    } else if (verb == QLatin1String("compare")) {
        // compare MODEL,MODEL,... MESSAGE: one Compare round with a pane per model, measured until
        // every answer ended: frame intervals and how late a 4 ms UI-thread timer fired (stalls).
        CompareSession *session = nullptr;
        walk(m_window, [&session](QObject *o) { return (session = qobject_cast<CompareSession *>(o)) != nullptr; });
        if (!session) {
            m_errors << QStringLiteral("compare: open the Compare page first");
            return;
        }
        const QStringList models = arg.section(u' ', 0, 0).split(u',', Qt::SkipEmptyParts);
        const QString message = arg.section(u' ', 1);
        session->newConversation();
        while (session->panes()->rowCount() > models.size() && session->removePane(session->panes()->rowCount() - 1)) { }
        while (session->panes()->rowCount() < models.size() && session->addPane()) { }
        for (int i = 0; i < models.size(); ++i)
            session->setPaneModel(i, models.at(i));
        m_compareFrames.clear();
        m_compareFrameClock.invalidate();
        m_maxStallMs = 0;
        m_stallsOver16 = 0;
        m_compareResult.clear();
        m_stallTimer.setInterval(4);
        m_stallTimer.setTimerType(Qt::PreciseTimer);
        disconnect(&m_stallTimer, nullptr, this, nullptr);
        connect(&m_stallTimer, &QTimer::timeout, this, [this] {
            const double late = double(m_stallClock.nsecsElapsed()) / 1e6 - 4.0;
            m_maxStallMs = std::max(m_maxStallMs, late);
            m_stallsOver16 += late > 16.0;
            m_stallClock.restart();
        });
        m_stallClock.start();
        m_stallTimer.start();
        m_compareClock.start();
        m_comparing = true;
        disconnect(m_compareDone);
        m_compareDone = connect(session, &CompareSession::busyChanged, this, [this, session] {
            if (session->busy() || !m_comparing)
                return;
            disconnect(m_compareDone);
            m_comparing = false;
            m_stallTimer.stop();
            double sum = 0;
            for (double t : m_compareFrames)
                sum += t;
            const QJsonObject result{{QStringLiteral("panes"), session->panes()->rowCount()},
                {QStringLiteral("roundMs"), m_compareClock.elapsed()},
                {QStringLiteral("frames"), m_compareFrames.size()},
                {QStringLiteral("meanFrameMs"), m_compareFrames.isEmpty() ? 0.0 : sum / double(m_compareFrames.size())},
                {QStringLiteral("p95FrameMs"), percentile(m_compareFrames, 0.95)},
                {QStringLiteral("maxFrameMs"), m_compareFrames.isEmpty() ? 0.0 : *std::max_element(m_compareFrames.begin(), m_compareFrames.end())},
                {QStringLiteral("maxStallMs"), m_maxStallMs},
                {QStringLiteral("stallsOver16Ms"), m_stallsOver16}};
            m_compareResult = QString::fromUtf8(QJsonDocument(result).toJson(QJsonDocument::Compact));
            writeSnapshot();
        });
        if (!session->send(message)) {
            m_comparing = false;
            m_stallTimer.stop();
            m_errors << QStringLiteral("compare: the round could not be sent");
        }
    } else {
        m_errors << QStringLiteral("unknown command: %1").arg(line);
    }
}

SpendSummary *UiProbe::findSummary() const
{
    SpendSummary *found = nullptr;
    if (m_window)
        walk(m_window, [&found](QObject *o) { return (found = qobject_cast<SpendSummary *>(o)) != nullptr; });
    return found;
}

ActivityModel *UiProbe::findActivity() const
{
    ActivityModel *found = nullptr;
    if (m_window)
        walk(m_window, [&found](QObject *o) { return (found = qobject_cast<ActivityModel *>(o)) != nullptr; });
    return found;
}

QQuickItem *UiProbe::findActivityList() const
{
    ActivityModel *model = findActivity();
    QQuickItem *found = nullptr;
    if (!model || !m_window)
        return nullptr;
    walk(m_window->contentItem(), [&](QObject *o) {
        auto *item = qobject_cast<QQuickItem *>(o);
        if (item && item->inherits("QQuickListView") && item->property("model").value<QObject *>() == model)
            found = item;
        return found != nullptr;
    });
    return found;
}

void UiProbe::writeSnapshot()
{
    if (!m_window)
        return;
    QJsonObject o{{QStringLiteral("pid"), qint64(QCoreApplication::applicationPid())},
        {QStringLiteral("writtenAtMs"), QDateTime::currentMSecsSinceEpoch()},
        {QStringLiteral("processStartMs"), g_processStart}, {QStringLiteral("firstFrameMs"), m_firstFrameMs},
        {QStringLiteral("firstFrameEpochMs"), m_firstFrameEpochMs}, {QStringLiteral("frames"), m_frames},
        {QStringLiteral("rssKb"), rssKb()}, {QStringLiteral("currentPage"), m_window->property("currentPage").toInt()},
        {QStringLiteral("compare"), m_compareResult.isEmpty() ? QJsonValue() : QJsonValue(QJsonDocument::fromJson(m_compareResult.toUtf8()).object())},
        {QStringLiteral("visible"), m_window->isVisible()}, {QStringLiteral("grabs"), QJsonArray::fromStringList(m_grabs)},
        {QStringLiteral("errors"), QJsonArray::fromStringList(m_errors)}};

    if (SpendSummary *s = findSummary()) {
        o.insert(QStringLiteral("summary"),
            QJsonObject{{QStringLiteral("ready"), s->ready()}, {QStringLiteral("today"), s->today()},
                {QStringLiteral("week"), s->week()}, {QStringLiteral("month"), s->month()},
                {QStringLiteral("todayPrevious"), s->todayPrevious()}, {QStringLiteral("weekPrevious"), s->weekPrevious()},
                {QStringLiteral("monthPrevious"), s->monthPrevious()}, {QStringLiteral("requestsToday"), s->requestsToday()},
                {QStringLiteral("tokensToday"), s->tokensToday()}, {QStringLiteral("hasData"), s->hasData()}});
    } else {
        o.insert(QStringLiteral("summary"), QJsonValue::Null);
    }

    ActivityModel *activity = findActivity();
    QQuickItem *list = findActivityList();
    if (activity && list) {
        // The delegates the list view shows (inside its viewport), by row.
        QList<QQuickItem *> shown;
        const double top = list->property("contentY").toDouble();
        if (auto *contentItem = list->property("contentItem").value<QQuickItem *>()) {
            for (QQuickItem *child : contentItem->childItems()) {
                if (child->isVisible() && child->property("requestId").isValid()
                    && child->y() + child->height() > top && child->y() < top + list->height())
                    shown << child;
            }
        }
        std::sort(shown.begin(), shown.end(),
            [](QQuickItem *a, QQuickItem *b) { return a->property("index").toInt() < b->property("index").toInt(); });
        QJsonArray rows;
        for (QQuickItem *row : shown) {
            rows.append(QJsonObject{{QStringLiteral("index"), row->property("index").toInt()},
                {QStringLiteral("requestId"), row->property("requestId").toString()},
                {QStringLiteral("cost"), row->property("cost").toDouble()},
                {QStringLiteral("status"), row->property("status").toInt()},
                {QStringLiteral("model"), row->property("model").toString()},
                {QStringLiteral("loaded"), row->property("loaded").toBool()}});
        }
        o.insert(QStringLiteral("activity"),
            QJsonObject{{QStringLiteral("totalCount"), activity->totalCount()},
                {QStringLiteral("loading"), activity->loading()}, {QStringLiteral("idle"), activity->isIdle()},
                {QStringLiteral("contentY"), top}, {QStringLiteral("rows"), rows}});
    } else {
        o.insert(QStringLiteral("activity"), QJsonValue::Null);
    }
    o.insert(QStringLiteral("scroll"),
        m_scrollResult.isEmpty() ? QJsonValue(QJsonValue::Null)
                                 : QJsonValue(QJsonDocument::fromJson(m_scrollResult.toUtf8()).object()));

    QSaveFile out(m_path);
    if (!out.open(QIODevice::WriteOnly))
        return;
    out.write(QJsonDocument(o).toJson(QJsonDocument::Indented));
    out.commit();
}

} // namespace gh::ui
