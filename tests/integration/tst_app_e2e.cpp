// The desktop app end to end: the real gatehouse binary WITH its window (not --headless) on a
// private Xvfb display, configured with the mock upstream as its provider and a key. Requests go
// through the gateway (three models, one of them failing upstream); then what the window shows —
// the dashboard's spend summary and the rows of the Activity page, read through the app's
// test-only probe (ui/uiprobe.h, GATEHOUSE_UI_PROBE) — must match sums and rows computed from the
// database (data-dir/gatehouse.db, SQLite C API). More requests while the Activity page is open
// must appear at its top. Screenshots of both pages are saved to
// $TMPDIR/gatehouse-e2e-screens/ (overwritten each run) as evidence; the launch-to-first-frame
// time and the RSS are printed. Skips only when Xvfb is not installed.
#include "gatewaytestkit.h"
#include "requestlogdb.h"
#include "testsupport.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace gh::test;

namespace {

const QByteArray kSecret = "gk-e2e-window-0001";

struct DbFigures {
    double today = 0, week = 0, month = 0;
    int requestsToday = 0;
    QList<LoggedRequest> newestFirst;
};

DbFigures figuresFrom(QList<LoggedRequest> rows)
{
    // The dashboard's periods in local time: today, this week from Monday, this month.
    const QDate today = QDate::currentDate();
    const qint64 dayStart = QDateTime(today, QTime(0, 0)).toMSecsSinceEpoch();
    const qint64 weekStart = QDateTime(today.addDays(1 - today.dayOfWeek()), QTime(0, 0)).toMSecsSinceEpoch();
    const qint64 monthStart = QDateTime(QDate(today.year(), today.month(), 1), QTime(0, 0)).toMSecsSinceEpoch();
    DbFigures f;
    for (const LoggedRequest &r : rows) {
        const double cost = r.costUsd();
        if (r.startedAtMs >= dayStart) {
            f.today += cost;
            ++f.requestsToday;
        }
        if (r.startedAtMs >= weekStart)
            f.week += cost;
        if (r.startedAtMs >= monthStart)
            f.month += cost;
    }
    std::sort(rows.begin(), rows.end(), [](const LoggedRequest &a, const LoggedRequest &b) {
        return a.startedAtMs != b.startedAtMs ? a.startedAtMs > b.startedAtMs : a.seq > b.seq;
    });
    f.newestFirst = rows;
    return f;
}

bool near(double a, double b)
{
    return std::abs(a - b) < 1e-9 + 1e-9 * std::abs(b);
}

} // namespace

class TestAppE2E : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<MockUpstream> m_mock;
    QProcess m_xvfb;
    QProcess m_app;
    QString m_display;
    QString m_probePath;
    QString m_dataDir;
    QString m_screensDir;
    quint16 m_port = 0;
    qint64 m_launchedAtMs = 0;
    QJsonObject m_last;

    QString appOutput() const
    {
        QFile out(m_dir->filePath(QStringLiteral("app.out"))), err(m_dir->filePath(QStringLiteral("app.err")));
        QString text;
        if (out.open(QIODevice::ReadOnly))
            text += QString::fromUtf8(out.readAll());
        if (err.open(QIODevice::ReadOnly))
            text += QString::fromUtf8(err.readAll());
        return text;
    }

    // The probe's latest snapshot (kept in m_last; the file is replaced atomically).
    QJsonObject snapshot()
    {
        QFile f(m_probePath);
        if (f.open(QIODevice::ReadOnly)) {
            const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
            if (!o.isEmpty())
                m_last = o;
        }
        return m_last;
    }

    QString lastSnapshotText() const { return QString::fromUtf8(QJsonDocument(m_last).toJson()); }

    bool command(const QString &line)
    {
        // Appended: the probe reads and removes the whole file at its next tick.
        QFile f(m_probePath + QStringLiteral(".cmd"));
        if (!f.open(QIODevice::Append))
            return false;
        f.write(line.toUtf8() + '\n');
        return true;
    }

    HttpResponse chat(const QString &model, bool stream = false)
    {
        HttpClient client(m_port);
        return client.post("/v1/chat/completions",
            QJsonDocument(chatRequest(model, QStringLiteral("Hello from the e2e test"), stream, stream))
                .toJson(QJsonDocument::Compact),
            bearer(kSecret));
    }

    // The figures the window shows equal the database's, and so do the Activity rows when `activity`.
    QString mismatch(const DbFigures &db, bool activity)
    {
        const QJsonObject s = snapshot();
        const QJsonObject summary = s.value(QStringLiteral("summary")).toObject();
        if (summary.isEmpty() || !summary.value(QStringLiteral("ready")).toBool())
            return QStringLiteral("the dashboard's summary is not ready");
        if (summary.value(QStringLiteral("requestsToday")).toInt() != db.requestsToday)
            return QStringLiteral("requestsToday %1, database %2")
                .arg(summary.value(QStringLiteral("requestsToday")).toInt())
                .arg(db.requestsToday);
        for (const auto &[name, value] : {std::pair{QStringLiteral("today"), db.today},
                 std::pair{QStringLiteral("week"), db.week}, std::pair{QStringLiteral("month"), db.month}}) {
            if (!near(summary.value(name).toDouble(), value))
                return QStringLiteral("%1: window %2, database %3")
                    .arg(name)
                    .arg(summary.value(name).toDouble(), 0, 'g', 12)
                    .arg(value, 0, 'g', 12);
        }
        if (!activity)
            return {};
        const QJsonObject a = s.value(QStringLiteral("activity")).toObject();
        if (a.isEmpty())
            return QStringLiteral("no Activity page yet");
        if (a.value(QStringLiteral("totalCount")).toInt() != db.newestFirst.size())
            return QStringLiteral("Activity totalCount %1, database %2")
                .arg(a.value(QStringLiteral("totalCount")).toInt())
                .arg(db.newestFirst.size());
        const QJsonArray rows = a.value(QStringLiteral("rows")).toArray();
        // Every row fits in the 820-pixel window (36-pixel rows): all are shown, newest first.
        if (rows.size() != db.newestFirst.size())
            return QStringLiteral("Activity shows %1 rows, database has %2").arg(rows.size()).arg(db.newestFirst.size());
        for (int i = 0; i < rows.size(); ++i) {
            const QJsonObject row = rows.at(i).toObject();
            const LoggedRequest &r = db.newestFirst.at(i);
            if (!row.value(QStringLiteral("loaded")).toBool())
                return QStringLiteral("row %1 not loaded yet").arg(i);
            if (row.value(QStringLiteral("index")).toInt() != i)
                return QStringLiteral("row %1 has index %2").arg(i).arg(row.value(QStringLiteral("index")).toInt());
            if (row.value(QStringLiteral("requestId")).toString() != r.id)
                return QStringLiteral("row %1: %2, database %3").arg(i).arg(row.value(QStringLiteral("requestId")).toString(), r.id);
            const double cost = r.costNanoUsd ? r.costUsd() : -1.0;
            if (!near(row.value(QStringLiteral("cost")).toDouble(), cost))
                return QStringLiteral("row %1 (%2): cost %3, database %4")
                    .arg(i)
                    .arg(r.id)
                    .arg(row.value(QStringLiteral("cost")).toDouble())
                    .arg(cost);
            if (row.value(QStringLiteral("status")).toInt() != r.status)
                return QStringLiteral("row %1 (%2): status %3, database %4")
                    .arg(i)
                    .arg(r.id)
                    .arg(row.value(QStringLiteral("status")).toInt())
                    .arg(r.status);
            if (row.value(QStringLiteral("model")).toString() != r.requestedModel)
                return QStringLiteral("row %1 (%2): model %3, database %4")
                    .arg(i)
                    .arg(r.id, row.value(QStringLiteral("model")).toString(), r.requestedModel);
        }
        return {};
    }

    // Waits until the window agrees with the database, up to 15 s; the last difference otherwise.
    QString waitForAgreement(int expectedRows, bool activity)
    {
        RequestLogDb db(m_dataDir);
        const QList<LoggedRequest> rows = db.waitForCount(expectedRows, 10000);
        if (rows.size() != expectedRows)
            return QStringLiteral("the database has %1 rows, expected %2 (%3)").arg(rows.size()).arg(expectedRows).arg(db.errorString());
        const DbFigures figures = figuresFrom(rows);
        QString problem;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 15000) {
            problem = mismatch(figures, activity);
            if (problem.isEmpty())
                return {};
            QTest::qWait(100);
        }
        return problem + QStringLiteral("\nlast snapshot:\n") + lastSnapshotText();
    }

    bool grab(const QString &name)
    {
        const QString path = QDir(m_screensDir).filePath(name);
        QFile::remove(path);
        if (!command(QStringLiteral("grab ") + path))
            return false;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 10000) {
            if (snapshot().value(QStringLiteral("grabs")).toArray().contains(path))
                break;
            QTest::qWait(100);
        }
        const QImage image(path);
        if (image.isNull())
            return false;
        // Not a blank frame: a real page has many colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        qInfo("screenshot %s: %dx%d, %d colours", qPrintable(path), image.width(), image.height(), int(colours.size()));
        return colours.size() > 8;
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString xvfb = QStandardPaths::findExecutable(QStringLiteral("Xvfb"));
        if (xvfb.isEmpty())
            QSKIP("Xvfb is not installed");
        QString error;
        const QString gatehouse = binaryFromEnv("GATEHOUSE_BIN", &error);
        QVERIFY2(!gatehouse.isEmpty(), qPrintable(error));

        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_screensDir = QDir::temp().filePath(QStringLiteral("gatehouse-e2e-screens"));
        QVERIFY(QDir().mkpath(m_screensDir));

        // A private X server; it picks a free display and prints its number (-displayfd 1).
        m_xvfb.setProgram(xvfb);
        m_xvfb.setArguments({QStringLiteral("-displayfd"), QStringLiteral("1"), QStringLiteral("-screen"),
            QStringLiteral("0"), QStringLiteral("1440x900x24"), QStringLiteral("-nolisten"), QStringLiteral("tcp")});
        m_xvfb.setProcessChannelMode(QProcess::SeparateChannels);
        m_xvfb.start();
        QVERIFY2(m_xvfb.waitForStarted(5000), qPrintable(m_xvfb.errorString()));
        QByteArray number;
        QElapsedTimer clock;
        clock.start();
        while (!number.contains('\n') && clock.elapsed() < 10000 && m_xvfb.state() == QProcess::Running) {
            m_xvfb.waitForReadyRead(200);
            number += m_xvfb.readAllStandardOutput();
        }
        QVERIFY2(number.contains('\n'), qPrintable(QStringLiteral("Xvfb did not report a display: %1")
                                                  .arg(QString::fromUtf8(m_xvfb.readAllStandardError()))));
        m_display = QStringLiteral(":") + QString::fromLatin1(number.trimmed());

        m_mock = std::make_unique<MockUpstream>();
        QVERIFY2(m_mock->isRunning(), qPrintable(m_mock->errorString()));
        const QString mock = QStringLiteral("mock");
        const QJsonObject config{
            {QStringLiteral("providers"), QJsonArray{mockProvider(*m_mock)}},
            {QStringLiteral("models"),
                QJsonArray{
                    mockModel(QStringLiteral("mock/gpt"), mock, QStringLiteral("ok@p=1000,c=500"), 2.0, 8.0),
                    mockModel(QStringLiteral("mock/claude"), mock, QStringLiteral("ok@p=300,c=120"), 3.0, 15.0),
                    mockModel(QStringLiteral("mock/free"), mock, QStringLiteral("ok@p=50,c=10"), std::nullopt,
                        std::nullopt),
                    mockModel(QStringLiteral("mock/broken"), mock, QStringLiteral("fail-500"), 1.0, 1.0),
                }},
            {QStringLiteral("keys"), QJsonArray{testKey(QStringLiteral("e2e"), QString::fromLatin1(kSecret))}},
        };
        const QString configPath = m_dir->filePath(QStringLiteral("config.json"));
        QVERIFY(writeJsonFile(configPath, config, &error));
        m_dataDir = m_dir->filePath(QStringLiteral("data"));
        m_probePath = m_dir->filePath(QStringLiteral("probe.json"));

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("DISPLAY"), m_display);
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("xcb"));
        env.remove(QStringLiteral("WAYLAND_DISPLAY"));
        env.insert(QStringLiteral("GATEHOUSE_NO_KEYCHAIN"), QStringLiteral("1"));
        env.insert(QStringLiteral("GATEHOUSE_WORKERS"), QStringLiteral("1"));
        env.insert(QStringLiteral("GATEHOUSE_THEME"), QStringLiteral("light"));
        env.insert(QString::fromLatin1(kProviderKeyEnv), QString::fromLatin1(kProviderKey));
        env.insert(QStringLiteral("GATEHOUSE_UI_PROBE"), m_probePath);
        env.insert(QStringLiteral("GATEHOUSE_UI_PROBE_INTERVAL"), QStringLiteral("200"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir->filePath(QStringLiteral("xdg-config")));
        m_app.setProcessEnvironment(env);
        m_app.setStandardOutputFile(m_dir->filePath(QStringLiteral("app.out")));
        m_app.setStandardErrorFile(m_dir->filePath(QStringLiteral("app.err")));
        m_app.setProgram(gatehouse);
        m_app.setArguments({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--data-dir"), m_dataDir,
            QStringLiteral("--config"), configPath});
        m_launchedAtMs = QDateTime::currentMSecsSinceEpoch();
        m_app.start();
        QVERIFY2(m_app.waitForStarted(5000), qPrintable(m_app.errorString()));

        // The listening line, then the window's first frame.
        const QRegularExpression listening(QStringLiteral("listening on http://127\\.0\\.0\\.1:(\\d+)"));
        clock.restart();
        while (m_port == 0 && clock.elapsed() < 15000 && m_app.state() == QProcess::Running) {
            const auto match = listening.match(appOutput());
            if (match.hasMatch())
                m_port = quint16(match.captured(1).toUInt());
            else
                QTest::qWait(50);
        }
        QVERIFY2(m_port != 0, qPrintable(QStringLiteral("the app did not start:\n") + appOutput()));
        clock.restart();
        while (snapshot().value(QStringLiteral("firstFrameMs")).toInteger(-1) < 0 && clock.elapsed() < 20000
            && m_app.state() == QProcess::Running)
            QTest::qWait(50);
        const QJsonObject s = snapshot();
        QVERIFY2(s.value(QStringLiteral("firstFrameMs")).toInteger(-1) >= 0,
            qPrintable(QStringLiteral("no first frame:\n") + appOutput() + lastSnapshotText()));
        QVERIFY(s.value(QStringLiteral("visible")).toBool());
        qInfo("first frame: %lld ms after the process started, %lld ms after the test launched it",
            s.value(QStringLiteral("firstFrameMs")).toInteger(),
            s.value(QStringLiteral("firstFrameEpochMs")).toInteger() - m_launchedAtMs);
    }

    void cleanupTestCase()
    {
        if (m_app.state() == QProcess::Running) {
            m_app.terminate();
            if (!m_app.waitForFinished(10000)) {
                m_app.kill();
                m_app.waitForFinished(3000);
                QFAIL("the app did not quit on SIGTERM");
            }
        }
        if (m_xvfb.state() == QProcess::Running) {
            m_xvfb.terminate();
            if (!m_xvfb.waitForFinished(5000))
                m_xvfb.kill();
        }
        m_mock.reset();
        if (m_app.exitStatus() == QProcess::NormalExit && m_app.exitCode() == 0)
            return;
        QFAIL(qPrintable(QStringLiteral("the app exited with %1:\n%2").arg(m_app.exitCode()).arg(appOutput())));
    }

    void dashboardMatchesTheDatabase()
    {
        // Eleven requests: three models (one unpriced), one streamed, and an upstream failure.
        const QStringList models{QStringLiteral("mock/gpt"), QStringLiteral("mock/claude"), QStringLiteral("mock/gpt"),
            QStringLiteral("mock/free"), QStringLiteral("mock/claude"), QStringLiteral("mock/gpt"),
            QStringLiteral("mock/claude"), QStringLiteral("mock/gpt"), QStringLiteral("mock/free"),
            QStringLiteral("mock/gpt")};
        for (int i = 0; i < models.size(); ++i) {
            const HttpResponse r = chat(models.at(i), i == 4);
            QVERIFY2(r.complete && r.status == 200, qPrintable(r.describe()));
        }
        const HttpResponse failed = chat(QStringLiteral("mock/broken"));
        QVERIFY2(failed.complete && failed.status >= 500, qPrintable(failed.describe()));

        const QString problem = waitForAgreement(11, false);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        // Real money was counted: the priced requests cost something.
        QVERIFY(snapshot().value(QStringLiteral("summary")).toObject().value(QStringLiteral("today")).toDouble() > 0);
        QVERIFY(grab(QStringLiteral("dashboard-light.png")));
    }

    void activityMatchesTheDatabase()
    {
        QVERIFY(command(QStringLiteral("page 4"))); // Activity
        QTRY_COMPARE_WITH_TIMEOUT(snapshot().value(QStringLiteral("currentPage")).toInt(), 4, 10000);
        QString problem = waitForAgreement(11, true);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));

        // Live: two more requests appear at the top while the page is open.
        QVERIFY(chat(QStringLiteral("mock/claude")).status == 200);
        QVERIFY(chat(QStringLiteral("mock/gpt")).status == 200);
        problem = waitForAgreement(13, true);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(grab(QStringLiteral("activity-light.png")));
        qInfo("RSS with the window open after 13 requests: %lld kB",
            snapshot().value(QStringLiteral("rssKb")).toInteger());
    }

    void dashboardAgainAfterMoreTraffic()
    {
        QVERIFY(command(QStringLiteral("page 0")));
        QTRY_COMPARE_WITH_TIMEOUT(snapshot().value(QStringLiteral("currentPage")).toInt(), 0, 10000);
        const QString problem = waitForAgreement(13, false);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(snapshot().value(QStringLiteral("errors")).toArray().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAppE2E)
#include "tst_app_e2e.moc"
