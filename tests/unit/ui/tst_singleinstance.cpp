// SingleInstance: a second launch on the same data folder reaches the first; others do not.
#include "singleinstance.h"
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using gh::ui::SingleInstance;

class TestSingleInstance : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void raises()
    {
        QTemporaryDir a, b;
        QVERIFY(SingleInstance::serverName(a.path()) != SingleInstance::serverName(b.path()));
        QCOMPARE(SingleInstance::serverName(a.path()), SingleInstance::serverName(a.path() + "/"));
        QVERIFY(!SingleInstance::raiseRunning(a.path(), 300));
        SingleInstance first;
        QVERIFY(first.listen(a.path()));
        QSignalSpy raised(&first, &SingleInstance::raiseRequested);
        // The second instance blocks while it asks, as main() does: ask from another thread.
        bool answered = false;
        QThread *second = QThread::create([&] { answered = SingleInstance::raiseRunning(a.path(), 3000); });
        second->start();
        QTRY_VERIFY(second->isFinished());
        delete second;
        QVERIFY(answered);
        QCOMPARE(raised.size(), 1);
        QVERIFY(!SingleInstance::raiseRunning(b.path(), 300));
    }

    void staleSocketIsTakenOver()
    {
#ifdef Q_OS_UNIX
        // What a crashed instance leaves behind: the socket's file, with nobody listening.
        QTemporaryDir a;
        QFile stale(QDir::temp().filePath(SingleInstance::serverName(a.path())));
        QVERIFY(stale.open(QIODevice::WriteOnly));
        stale.close();
        QVERIFY(!SingleInstance::raiseRunning(a.path(), 300));
        SingleInstance next;
        QVERIFY(next.listen(a.path()));
        QSignalSpy raised(&next, &SingleInstance::raiseRequested);
        bool answered = false;
        QThread *second = QThread::create([&] { answered = SingleInstance::raiseRunning(a.path(), 3000); });
        second->start();
        QTRY_VERIFY(second->isFinished());
        delete second;
        QVERIFY(answered);
        QCOMPARE(raised.size(), 1);
#else
        QSKIP("socket files are a Unix matter");
#endif
    }
};

QTEST_GUILESS_MAIN(TestSingleInstance)
#include "tst_singleinstance.moc"
