#pragma once
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QTimer>

class QQuickItem;
class QQuickWindow;

namespace gh::ui {

class ActivityModel;
class SpendSummary;

// A test-only window probe, off unless the environment variable GATEHOUSE_UI_PROBE names a file.
// Used by the end-to-end test (tests/integration/tst_app_e2e.cpp) and the desktop benchmarks.
//
// Every GATEHOUSE_UI_PROBE_INTERVAL ms (default 500) it writes, atomically, a JSON snapshot of what
// the window shows to that file:
//   {pid, writtenAtMs, processStartMs, firstFrameMs (ms after the process started, -1 before the
//    first frame), firstFrameEpochMs, frames, rssKb, currentPage, visible,
//    summary: the dashboard's SpendSummary {ready, today, week, month, requestsToday, ...} or null
//             while the dashboard page has not been created,
//    activity: the Activity page {totalCount, loading, rows: [{index, requestId, cost, status,
//              model, loaded}] of the delegates the list view shows, by index} or null,
//    scroll: the result of the last "scroll" command or null, grabs: files written so far}
// and it executes the commands it finds in the file "<probe file>.cmd" (one per line, the file is
// removed once read):
//   page N           show page N (0 dashboard, 1 keys, 2 providers, 3 activity, 4 settings)
//   grab FILE        save the window's contents (QQuickWindow::grabWindow) as an image file
//   jump FRACTION    position the Activity list at FRACTION (0..1) of its rows
//   scroll N PX      scroll the Activity list by PX pixels every frame for N frames and record
//                    the frame intervals (frameSwapped to frameSwapped)
// Nothing here changes what the window does when the variable is not set.
class UiProbe : public QObject
{
    Q_OBJECT
public:
    UiProbe(QQuickWindow *window, QString path, QObject *parent = nullptr);

    // Creates a probe on `window` (owned by `owner`) when GATEHOUSE_UI_PROBE is set.
    static void attachIfRequested(QQuickWindow *window, QObject *owner);

    // Wall-clock ms (epoch) when this process started (Linux: from /proc/self/stat; elsewhere when
    // the library was loaded).
    [[nodiscard]] static qint64 processStartEpochMs();

private:
    void tick();
    void runCommands();
    void runCommand(const QString &line);
    void writeSnapshot();
    void onFrame();
    [[nodiscard]] SpendSummary *findSummary() const;
    [[nodiscard]] ActivityModel *findActivity() const;
    [[nodiscard]] QQuickItem *findActivityList() const;

    QPointer<QQuickWindow> m_window;
    QString m_path;
    QTimer m_timer;
    qint64 m_firstFrameMs = -1;
    qint64 m_firstFrameEpochMs = -1;
    qint64 m_frames = 0;
    QStringList m_grabs;
    QStringList m_errors;

    // The "scroll" command in progress.
    int m_scrollFramesLeft = 0;
    double m_scrollStep = 0;
    QElapsedTimer m_frameClock;
    QList<double> m_frameTimes;
    int m_scrollStartIndex = -1;
    int m_unloadedSeen = 0;
    QString m_scrollResult; // JSON
    // "compare": a Compare round measured while it streams (frame intervals, UI-thread stalls).
    bool m_comparing = false;
    QList<double> m_compareFrames;
    QElapsedTimer m_compareFrameClock;
    QElapsedTimer m_compareClock;
    QTimer m_stallTimer;
    QElapsedTimer m_stallClock;
    double m_maxStallMs = 0;
    int m_stallsOver16 = 0;
    QString m_compareResult; // JSON
    QMetaObject::Connection m_compareDone;
};

} // namespace gh::ui
