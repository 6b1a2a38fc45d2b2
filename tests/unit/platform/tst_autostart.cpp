#include "platform/autostart.h"
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

namespace {

// Splits a desktop entry Exec value back into arguments the way a desktop environment does
// (string-value unescape first, then the quoting rules, then %% -> %), so the writer is checked
// against an independent reader rather than against its own output.
QStringList parseExec(const QString &value)
{
    QString unescaped;
    for (qsizetype i = 0; i < value.size(); ++i) {
        if (value.at(i) == u'\\' && i + 1 < value.size()) {
            const QChar n = value.at(++i);
            unescaped += n == u's' ? QChar(u' ')
                : n == u'n'        ? QChar(u'\n')
                : n == u't'        ? QChar(u'\t')
                : n == u'r'        ? QChar(u'\r')
                                   : n;
        } else {
            unescaped += value.at(i);
        }
    }
    QStringList args;
    QString current;
    bool inArg = false, quoted = false;
    for (qsizetype i = 0; i < unescaped.size(); ++i) {
        const QChar c = unescaped.at(i);
        if (quoted) {
            if (c == u'\\' && i + 1 < unescaped.size()) {
                current += unescaped.at(++i);
            } else if (c == u'"') {
                quoted = false;
            } else {
                current += c;
            }
        } else if (c == u'"') {
            quoted = inArg = true;
        } else if (c == u' ') {
            if (inArg)
                args << current;
            current.clear();
            inArg = false;
        } else {
            current += c;
            inArg = true;
        }
    }
    if (inArg)
        args << current;
    for (QString &a : args)
        a.replace(QLatin1String("%%"), QLatin1String("%"));
    return args;
}

QHash<QString, QString> desktopKeys(const QByteArray &text)
{
    QHash<QString, QString> keys;
    const QList<QByteArray> lines = text.split('\n');
    if (lines.value(0) != "[Desktop Entry]")
        return {};
    for (const QByteArray &line : lines.mid(1)) {
        const qsizetype eq = line.indexOf('=');
        if (eq > 0)
            keys.insert(QString::fromUtf8(line.left(eq)), QString::fromUtf8(line.mid(eq + 1)));
    }
    return keys;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString &path, const QByteArray &data)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    f.write(data);
}

} // namespace

class TestAutostart : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QByteArray m_oldConfigHome, m_oldConfigDirs, m_oldHome;

    gh::LaunchAtLoginEntry oddEntry() const
    {
        gh::LaunchAtLoginEntry e = gh::defaultLaunchAtLoginEntry();
        e.id = QStringLiteral("io.github.gatehouse.AutostartTest");
        e.name = QStringLiteral("Gatehouse Test");
        e.program = m_tmp.path() + QStringLiteral("/My Apps/gate\"house$ 100%/gatehouse");
        e.arguments
            = {QStringLiteral("--data-dir"), QStringLiteral("C:\\odd dir\\"), QStringLiteral("plain"), QString()};
        return e;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_oldConfigHome = qgetenv("XDG_CONFIG_HOME");
        m_oldConfigDirs = qgetenv("XDG_CONFIG_DIRS");
        m_oldHome = qgetenv("HOME");
        // Never touch the real user's autostart folder or LaunchAgents.
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_tmp.filePath(QStringLiteral("config"))));
        qputenv("XDG_CONFIG_DIRS", QFile::encodeName(m_tmp.filePath(QStringLiteral("sysconfig"))));
        qputenv("HOME", QFile::encodeName(m_tmp.filePath(QStringLiteral("home"))));
        QDir().mkpath(m_tmp.filePath(QStringLiteral("home")));
    }
    void cleanupTestCase()
    {
        qputenv("XDG_CONFIG_HOME", m_oldConfigHome);
        qputenv("XDG_CONFIG_DIRS", m_oldConfigDirs);
        qputenv("HOME", m_oldHome);
    }

    void defaultEntryIsThisExecutable()
    {
        const gh::LaunchAtLoginEntry e = gh::defaultLaunchAtLoginEntry();
        QCOMPARE(e.id, QStringLiteral("io.github.gatehouse.Gatehouse"));
        QCOMPARE(e.name, QStringLiteral("Gatehouse"));
        if (qEnvironmentVariableIsEmpty("APPIMAGE"))
            QCOMPARE(e.program, QCoreApplication::applicationFilePath());
        QVERIFY(e.arguments.isEmpty());
    }

    void xdgAutostartDirFollowsTheSpec()
    {
        QCOMPARE(gh::xdgAutostartDir(), m_tmp.filePath(QStringLiteral("config/autostart")));
        // A relative XDG_CONFIG_HOME is invalid and ignored: $HOME/.config is used.
        qputenv("XDG_CONFIG_HOME", "relative/config");
        QCOMPARE(gh::xdgAutostartDir(), m_tmp.filePath(QStringLiteral("home/.config/autostart")));
        qunsetenv("XDG_CONFIG_HOME");
        QCOMPARE(gh::xdgAutostartDir(), m_tmp.filePath(QStringLiteral("home/.config/autostart")));
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_tmp.filePath(QStringLiteral("config"))));
    }

    void execQuotingRoundTrips_data()
    {
        QTest::addColumn<QString>("arg");
        QTest::addColumn<QString>("written");
        QTest::newRow("plain") << QStringLiteral("/usr/bin/gatehouse") << QStringLiteral("/usr/bin/gatehouse");
        QTest::newRow("space") << QStringLiteral("/opt/My App/gatehouse")
                               << QStringLiteral("\"/opt/My App/gatehouse\"");
        QTest::newRow("percent") << QStringLiteral("/opt/100%/gh") << QStringLiteral("/opt/100%%/gh");
        QTest::newRow("dollar") << QStringLiteral("/a$b") << QStringLiteral("\"/a\\\\$b\"");
        QTest::newRow("quote") << QStringLiteral("/a\"b") << QStringLiteral("\"/a\\\\\"b\"");
        // A literal backslash needs four in the file (quote escape, then the string escape).
        QTest::newRow("backslash") << QStringLiteral("/a\\b") << QStringLiteral("\"/a\\\\\\\\b\"");
        QTest::newRow("empty") << QString() << QStringLiteral("\"\"");
        QTest::newRow("unicode") << QStringLiteral("/home/zoë/gatehouse") << QStringLiteral("/home/zoë/gatehouse");
    }
    void execQuotingRoundTrips()
    {
        QFETCH(QString, arg);
        QFETCH(QString, written);
        QCOMPARE(gh::desktopExecArgument(arg), written);
        QCOMPARE(parseExec(gh::desktopExecArgument(arg)), QStringList{arg});
    }

    void desktopEntryContents()
    {
        const gh::LaunchAtLoginEntry e = oddEntry();
        const QHash<QString, QString> keys = desktopKeys(gh::xdgAutostartDesktopEntry(e));
        QCOMPARE(keys.value(QStringLiteral("Type")), QStringLiteral("Application"));
        QCOMPARE(keys.value(QStringLiteral("Name")), QStringLiteral("Gatehouse Test"));
        QCOMPARE(keys.value(QStringLiteral("Icon")), QStringLiteral("gatehouse"));
        QCOMPARE(keys.value(QStringLiteral("X-GNOME-Autostart-enabled")), QStringLiteral("true"));
        QCOMPARE(parseExec(keys.value(QStringLiteral("Exec"))), QStringList{e.program} + e.arguments);
    }

    void enableWritesTheXdgEntry()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the XDG autostart file is used on Linux and other XDG desktops");
#else
        const QString path = m_tmp.filePath(QStringLiteral("config/autostart/io.github.gatehouse.Gatehouse.desktop"));
        QCOMPARE(gh::launchAtLoginLocation(gh::defaultLaunchAtLoginEntry()), path);
        QVERIFY(!gh::launchAtLoginEnabled());

        QString error;
        QVERIFY2(gh::setLaunchAtLogin(true, &error), qPrintable(error));
        QVERIFY(QFileInfo(path).isFile());
        QVERIFY(gh::launchAtLoginEnabled());
        const QHash<QString, QString> keys = desktopKeys(readAll(path));
        QCOMPARE(parseExec(keys.value(QStringLiteral("Exec"))), QStringList{QCoreApplication::applicationFilePath()});

        const QString validator = QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate"));
        if (!validator.isEmpty()) {
            QProcess p;
            p.start(validator, {path});
            QVERIFY(p.waitForFinished(30000));
            const QByteArray out = p.readAllStandardOutput() + p.readAllStandardError();
            QVERIFY2(p.exitCode() == 0 && !out.contains("error"), out.constData());
        }

        // Enabling twice is harmless; disabling removes the file; disabling twice is harmless.
        QVERIFY2(gh::setLaunchAtLogin(true, &error), qPrintable(error));
        QVERIFY2(gh::setLaunchAtLogin(false, &error), qPrintable(error));
        QVERIFY(!QFileInfo::exists(path));
        QVERIFY(!gh::launchAtLoginEnabled());
        QVERIFY2(gh::setLaunchAtLogin(false, &error), qPrintable(error));
#endif
    }

    void oddPathsSurviveTheRoundTrip()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the XDG autostart file is used on Linux and other XDG desktops");
#else
        const gh::LaunchAtLoginEntry e = oddEntry();
        QString error;
        QVERIFY2(gh::setLaunchAtLogin(e, true, &error), qPrintable(error));
        QVERIFY(gh::launchAtLoginEnabled(e));
        QVERIFY(!gh::launchAtLoginEnabled()); // a different id is a different entry
        const QHash<QString, QString> keys = desktopKeys(readAll(gh::launchAtLoginLocation(e)));
        QCOMPARE(keys.value(QStringLiteral("Name")), QStringLiteral("Gatehouse Test"));
        QCOMPARE(parseExec(keys.value(QStringLiteral("Exec"))), QStringList{e.program} + e.arguments);
        QVERIFY2(gh::setLaunchAtLogin(e, false, &error), qPrintable(error));
        QVERIFY(!gh::launchAtLoginEnabled(e));
#endif
    }

    void userDisabledEntryIsOffAndEnablingRepairsIt_data()
    {
        QTest::addColumn<QByteArray>("disabledLine");
        QTest::newRow("KDE Hidden") << QByteArray("Hidden=true");
        QTest::newRow("GNOME switch") << QByteArray("X-GNOME-Autostart-enabled=false");
    }
    void userDisabledEntryIsOffAndEnablingRepairsIt()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the XDG autostart file is used on Linux and other XDG desktops");
#else
        QFETCH(QByteArray, disabledLine);
        const QString path = gh::launchAtLoginLocation(gh::defaultLaunchAtLoginEntry());
        writeFile(path,
            "[Desktop Entry]\nType=Application\nName=Gatehouse\nExec=/old/path/gatehouse\n" + disabledLine + "\n");
        QVERIFY(!gh::launchAtLoginEnabled());
        QString error;
        QVERIFY2(gh::setLaunchAtLogin(true, &error), qPrintable(error));
        QVERIFY(gh::launchAtLoginEnabled());
        QVERIFY(!readAll(path).contains("/old/path"));
        QVERIFY2(gh::setLaunchAtLogin(false, &error), qPrintable(error));
        QVERIFY(!QFileInfo::exists(path));
#endif
    }

    void systemWideEntryIsShadowedWhenDisabled()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the XDG autostart file is used on Linux and other XDG desktops");
#else
        const QString system
            = m_tmp.filePath(QStringLiteral("sysconfig/autostart/io.github.gatehouse.Gatehouse.desktop"));
        writeFile(system, "[Desktop Entry]\nType=Application\nName=Gatehouse\nExec=gatehouse\n");
        QVERIFY(gh::launchAtLoginEnabled()); // a distribution's system-wide entry counts
        QString error;
        QVERIFY2(gh::setLaunchAtLogin(false, &error), qPrintable(error));
        QVERIFY(!gh::launchAtLoginEnabled());
        const QString user = gh::launchAtLoginLocation(gh::defaultLaunchAtLoginEntry());
        QCOMPARE(desktopKeys(readAll(user)).value(QStringLiteral("Hidden")), QStringLiteral("true"));
        QVERIFY(QFileInfo::exists(system)); // never touched
        QVERIFY2(gh::setLaunchAtLogin(true, &error), qPrintable(error));
        QVERIFY(gh::launchAtLoginEnabled());
        QVERIFY(QFile::remove(system));
        QVERIFY2(gh::setLaunchAtLogin(false, &error), qPrintable(error));
        QVERIFY(!QFileInfo::exists(user));
#endif
    }

    void unwritableFolderIsAnError()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the XDG autostart file is used on Linux and other XDG desktops");
#else
        // "autostart" exists as a regular file: neither mkpath nor root's permissions get past that.
        const QString blocked = m_tmp.filePath(QStringLiteral("blocked"));
        writeFile(blocked + QStringLiteral("/autostart"), "not a folder");
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(blocked));
        QString error;
        QVERIFY(!gh::setLaunchAtLogin(true, &error));
        QVERIFY2(error.contains(QStringLiteral("autostart")), qPrintable(error));
        QVERIFY(!gh::launchAtLoginEnabled());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_tmp.filePath(QStringLiteral("config"))));
#endif
    }

    void invalidEntriesAreRefused()
    {
        gh::LaunchAtLoginEntry e = gh::defaultLaunchAtLoginEntry();
        QString error;
        e.program = QStringLiteral("relative/gatehouse");
        QVERIFY(!gh::setLaunchAtLogin(e, true, &error));
        QVERIFY2(error.contains(QStringLiteral("not absolute")), qPrintable(error));
        e = gh::defaultLaunchAtLoginEntry();
        e.id = QStringLiteral("../escape");
        QVERIFY(!gh::setLaunchAtLogin(e, true, &error));
        QVERIFY(!gh::launchAtLoginEnabled(e));
        QVERIFY(!QFileInfo::exists(gh::xdgAutostartDir() + QStringLiteral("/../escape.desktop")));
    }

    void windowsRunCommandQuoting()
    {
        gh::LaunchAtLoginEntry e;
        e.program = QStringLiteral("C:/Program Files/Gatehouse/gatehouse.exe");
        QCOMPARE(gh::windowsRunCommand(e), QStringLiteral("\"C:\\Program Files\\Gatehouse\\gatehouse.exe\""));
        e.arguments = {QStringLiteral("--data-dir"), QStringLiteral("C:\\My Data\\"), QStringLiteral("say \"hi\""),
            QString(), QStringLiteral("a\\b")};
        // CommandLineToArgvW: 2n backslashes before a closing quote, 2n+1 before a literal quote.
        QCOMPARE(gh::windowsRunCommand(e),
            QStringLiteral("\"C:\\Program Files\\Gatehouse\\gatehouse.exe\" --data-dir \"C:\\My Data\\\\\" "
                           "\"say \\\"hi\\\"\" \"\" a\\b"));
    }

    void launchAgentPlistIsValid()
    {
        gh::LaunchAtLoginEntry e = gh::defaultLaunchAtLoginEntry();
        e.program = QStringLiteral("/Applications/R&D <x>/Gatehouse.app/Contents/MacOS/gatehouse");
        e.arguments = {QStringLiteral("--port"), QStringLiteral("8484")};
        QXmlStreamReader xml(gh::launchAgentPlist(e));
        QHash<QString, QStringList> values;
        QString key;
        while (!xml.atEnd()) {
            xml.readNext();
            if (!xml.isStartElement())
                continue;
            if (xml.name() == QLatin1String("key"))
                key = xml.readElementText();
            else if (xml.name() == QLatin1String("string"))
                values[key] << xml.readElementText();
            else if (xml.name() == QLatin1String("true") || xml.name() == QLatin1String("false"))
                values[key] << xml.name().toString();
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QCOMPARE(values.value(QStringLiteral("Label")), QStringList{QStringLiteral("io.github.gatehouse.Gatehouse")});
        QCOMPARE(values.value(QStringLiteral("ProgramArguments")), QStringList{e.program} + e.arguments);
        QCOMPARE(values.value(QStringLiteral("RunAtLoad")), QStringList{QStringLiteral("true")});
        QCOMPARE(values.value(QStringLiteral("KeepAlive")), QStringList{QStringLiteral("false")});
    }

    // The real thing on the other two systems (HOME points at a temp folder for macOS; on Windows the
    // test uses its own Run value name and removes it).
    void nativeRoundTripOnWindowsAndMacOS()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        gh::LaunchAtLoginEntry e = gh::defaultLaunchAtLoginEntry();
        e.id = QStringLiteral("io.github.gatehouse.AutostartTest");
        e.name = QStringLiteral("GatehouseAutostartTest");
        QString error;
        QVERIFY(!gh::launchAtLoginEnabled(e));
        QVERIFY2(gh::setLaunchAtLogin(e, true, &error), qPrintable(error));
        QVERIFY(gh::launchAtLoginEnabled(e));
#if defined(Q_OS_MACOS)
        QCOMPARE(gh::launchAtLoginLocation(e),
            m_tmp.filePath(QStringLiteral("home/Library/LaunchAgents/io.github.gatehouse.AutostartTest.plist")));
        QCOMPARE(readAll(gh::launchAtLoginLocation(e)), gh::launchAgentPlist(e));
#endif
        QVERIFY2(gh::setLaunchAtLogin(e, false, &error), qPrintable(error));
        QVERIFY(!gh::launchAtLoginEnabled(e));
#else
        QSKIP("Windows Run key and macOS LaunchAgent: tested on those systems");
#endif
    }
};

QTEST_GUILESS_MAIN(TestAutostart)
#include "tst_autostart.moc"
