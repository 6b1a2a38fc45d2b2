// Loads the whole window offscreen the way the app does (gh::ui::showMainWindow on a real in-process
// gateway with keys, a provider and a request log), shows every page in turn, lets each render a
// few frames, and fails on any warning from QML: the qml/js logging categories, and any message
// that points into the QML sources (qrc:/...). Once in the light and once in the dark theme
// (GATEHOUSE_THEME), each with a fresh engine and gateway.
#include "gatehouseui.h"
#include "uitestfixture.h"
#include <QApplication>
#include <QJSValue>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QMutexLocker>
#include <QQuickItem>
#include <QQuickWindow>
#include <QScopeGuard>

using namespace gh;
using namespace gh::ui;
using namespace gh::ui::test;

namespace {

QMutex g_mutex;
QStringList g_warnings;
QtMessageHandler g_previous = nullptr;

bool fromQml(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type != QtWarningMsg && type != QtCriticalMsg && type != QtFatalMsg)
        return false;
    const QLatin1String category(context.category ? context.category : "");
    return category.startsWith(QLatin1String("qml")) || category.startsWith(QLatin1String("js"))
        || category.startsWith(QLatin1String("qt.qml")) || category.startsWith(QLatin1String("qt.quick"))
        || message.contains(QLatin1String("qrc:/")) || message.contains(QLatin1String(".qml:"))
        || (context.file && QByteArray(context.file).startsWith("qrc:/"));
}

void recordMessages(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (fromQml(type, context, message)) {
        QMutexLocker lock(&g_mutex);
        g_warnings << QStringLiteral("[%1] %2%3")
                          .arg(QString::fromLatin1(context.category ? context.category : "default"), message,
                              context.file ? QStringLiteral(" (%1:%2)").arg(QString::fromUtf8(context.file)).arg(context.line)
                                           : QString());
    }
    if (g_previous)
        g_previous(type, context, message);
}

QStringList takeWarnings()
{
    QMutexLocker lock(&g_mutex);
    return std::exchange(g_warnings, {});
}

// Every object below `root`, both through QObject children and visual children.
QList<QObject *> descendants(QObject *root)
{
    QList<QObject *> out;
    QSet<QObject *> seen;
    QList<QObject *> todo{root};
    while (!todo.isEmpty()) {
        QObject *o = todo.takeLast();
        if (!o || seen.contains(o))
            continue;
        seen.insert(o);
        out << o;
        todo.append(o->children());
        if (auto *item = qobject_cast<QQuickItem *>(o))
            for (QQuickItem *child : item->childItems())
                todo.append(child);
    }
    return out;
}

// The pages as Main.qml declares them (its one page list, `pages`): the file name of each, in rail
// order. A page added to the list is smoke-tested without a line here.
QStringList pagesOf(QQuickWindow *window)
{
    QStringList out;
    QVariant list = window->property("pages"); // a JS array: a QJSValue in a QVariant
    if (list.metaType() == QMetaType::fromType<QJSValue>())
        list = list.value<QJSValue>().toVariant();
    for (const QVariant &page : list.toList())
        out << page.toMap().value(QStringLiteral("file")).toString().section(u'/', -1).section(u'.', 0, 0);
    return out;
}

} // namespace

class TestPageSmoke : public QObject
{
    Q_OBJECT

    // The page's Loader in Main.qml's StackLayout (source ends with /NAME.qml, in its feature folder).
    static QQuickItem *loaderOf(QQuickWindow *window, const QString &page)
    {
        for (QObject *o : descendants(window->contentItem())) {
            if (o->inherits("QQuickLoader")
                && o->property("source").toUrl().toString().endsWith(QStringLiteral("/%1.qml").arg(page)))
                return qobject_cast<QQuickItem *>(o);
        }
        return nullptr;
    }

    void runAllPages(const QString &theme)
    {
        qputenv("GATEHOUSE_THEME", theme.toUtf8());
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        const QString gpt = QStringLiteral("mock/gpt"), claude = QStringLiteral("mock/claude");
        UiFixture fx;
        // A log with successes, an unpriced row and errors over the last days.
        QList<RequestRecord> log;
        for (int i = 0; i < 40; ++i) {
            log << record(QStringLiteral("req_smoke_%1").arg(i, 3, 10, QLatin1Char('0')), now - qint64(i) * 3 * 3600 * 1000,
                1 + i % 2, i % 2 ? QStringLiteral("scripts") : QStringLiteral("claude-code"), i % 3 ? gpt : claude,
                QStringLiteral("mock"), i % 7 == 3 ? std::nullopt : std::optional<double>(0.01 * (i + 1)),
                i % 11 == 5 ? 502 : 200);
            if (i % 2 == 0) // Claude Code's sessions: the Dashboard lists them, Activity filters on them
                log.last().sessionId = QStringLiteral("3f1c9a2e-0b7d-4e55-9a41-%1").arg(i % 4, 12, 10, QLatin1Char('0'));
        }
        QVERIFY(fx.prepare({}, log));

        // A provider (its key from an environment variable), two keys with limits and aliases, from a config.
        const QString configPath = QDir(fx.dataDir()).filePath(QStringLiteral("config.json"));
        {
            const QJsonObject config{
                {QStringLiteral("providers"),
                    QJsonArray{QJsonObject{{QStringLiteral("id"), QStringLiteral("mock")},
                        {QStringLiteral("format"), QStringLiteral("openai")},
                        {QStringLiteral("base_url"), QStringLiteral("http://127.0.0.1:9/v1")},
                        {QStringLiteral("api_key_env"), QStringLiteral("GH_SMOKE_PROVIDER_KEY")}}}},
                {QStringLiteral("keys"),
                    QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("claude-code")},
                                   {QStringLiteral("secret"), QStringLiteral("gk-smoke-0001")},
                                   {QStringLiteral("limits"),
                                       QJsonObject{{QStringLiteral("day_usd"), 1.0}, {QStringLiteral("month_usd"), 20.0}}}},
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("scripts")},
                            {QStringLiteral("secret"), QStringLiteral("gk-smoke-0002")}}}},
                // Aliases in each state the Routes page shows: served, serving nothing, never reached.
                {QStringLiteral("aliases"),
                    QJsonArray{QJsonObject{{QStringLiteral("match"), QStringLiteral("claude-opus-*")},
                                   {QStringLiteral("to"), QStringLiteral("mock/gpt-4o")}},
                        QJsonObject{{QStringLiteral("match"), QStringLiteral("o3*")},
                            {QStringLiteral("to"), QStringLiteral("nowhere/model")}},
                        QJsonObject{{QStringLiteral("match"), QStringLiteral("o3*")},
                            {QStringLiteral("to"), QStringLiteral("mock/o3")}}}},
            };
            QFile f(configPath);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QJsonDocument(config).toJson());
        }
        qputenv("GH_SMOKE_PROVIDER_KEY", "sk-smoke");

        auto gateway = std::make_unique<Gateway>();
        GatewayOptions options;
        options.dataDir = fx.dataDir();
        options.port = 0;
        options.workers = 1;
        options.useKeychain = false;
        options.configPath = configPath;
        const auto started = gateway->start(options);
        QVERIFY2(started.ok, qPrintable(started.error));

        takeWarnings();
        QVERIFY(showMainWindow(*gateway));
        QQuickWindow *window = nullptr;
        for (QWindow *w : QGuiApplication::topLevelWindows())
            if (auto *q = qobject_cast<QQuickWindow *>(w); q && q->property("currentPage").isValid())
                window = q;
        QVERIFY2(window, "no Gatehouse window");
        int frames = 0;
        connect(window, &QQuickWindow::frameSwapped, this, [&frames] { ++frames; });
        QVERIFY(QTest::qWaitForWindowExposed(window));

        // The QML goes first on quit (showMainWindow's teardown), while the gateway still exists: also
        // when a check below fails.
        const auto teardown = qScopeGuard([&gateway] {
            QMetaObject::invokeMethod(qApp, "aboutToQuit");
            QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
            gateway.reset();
        });
        const QStringList pages = pagesOf(window);
        QVERIFY2(pages.size() >= 9 && pages.contains(QStringLiteral("SettingsPage")), qPrintable(pages.join(u',')));
        QStringList problems; // every page's warnings, reported together
        for (int page = 0; page < pages.size(); ++page) {
            window->setProperty("currentPage", page);
            QQuickItem *loader = loaderOf(window, pages.at(page));
            QVERIFY2(loader, qPrintable(pages.at(page)));
            // Loader.Ready is 1; an item and a few rendered frames afterwards.
            QTRY_COMPARE_WITH_TIMEOUT(loader->property("status").toInt(), 1, 10000);
            QVERIFY(loader->property("item").value<QObject *>());
            QVERIFY(loader->isVisible());
            const int before = frames;
            window->update();
            QTRY_VERIFY_WITH_TIMEOUT(frames >= before + 3 || (window->update(), false), 10000);
            QTest::qWait(300); // queued model results, delayed bindings
            const QStringList warnings = takeWarnings();
            if (!warnings.isEmpty())
                problems << QStringLiteral("%1 (%2 theme): %3 QML warning(s):\n  %4")
                                .arg(pages.at(page), theme)
                                .arg(warnings.size())
                                .arg(warnings.join(QStringLiteral("\n  ")));
        }
        // Back to the dashboard once every page exists (pages are kept): still silent.
        window->setProperty("currentPage", 0);
        window->update();
        QTest::qWait(300);
        if (const QStringList warnings = takeWarnings(); !warnings.isEmpty())
            problems << QStringLiteral("back on the dashboard (%1 theme):\n  %2").arg(theme, warnings.join(QStringLiteral("\n  ")));

        // A session opened as the Dashboard's "Sessions today" does: Activity with its timeline, its
        // 10 requests (i = 0, 4, ..., 36) in order, and still silent.
        QVERIFY(QMetaObject::invokeMethod(window, "openPage",
            Q_ARG(QString, QStringLiteral("activity/session:3f1c9a2e-0b7d-4e55-9a41-000000000000"))));
        QQuickItem *activityPage = loaderOf(window, QStringLiteral("ActivityPage"))->property("item").value<QQuickItem *>();
        QVERIFY(activityPage);
        auto *timeline = activityPage->findChild<QQuickItem *>(QStringLiteral("sessionTimeline"));
        QVERIFY(timeline);
        QTRY_VERIFY(timeline->isVisible());
        auto *steps = activityPage->findChild<QQuickItem *>(QStringLiteral("sessionSteps"));
        QVERIFY(steps);
        QTRY_COMPARE(steps->property("count").toInt(), 10);
        window->update();
        QTest::qWait(300);
        if (const QStringList warnings = takeWarnings(); !warnings.isEmpty())
            problems << QStringLiteral("a session's timeline (%1 theme):\n  %2").arg(theme, warnings.join(QStringLiteral("\n  ")));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
    }

private Q_SLOTS:
    void initTestCase() { g_previous = qInstallMessageHandler(recordMessages); }
    void cleanupTestCase() { qInstallMessageHandler(g_previous); }

    void lightTheme() { runAllPages(QStringLiteral("light")); }
    void darkTheme() { runAllPages(QStringLiteral("dark")); }
};

QTEST_MAIN(TestPageSmoke)
#include "tst_pagesmoke.moc"
