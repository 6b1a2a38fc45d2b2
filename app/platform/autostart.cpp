#include "platform/autostart.h"
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSettings>
#include <QVariant>

Q_LOGGING_CATEGORY(lcPlatform, "gatehouse.platform")

namespace gh {

namespace {

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

bool isAbsolute(const QString &path)
{
    return !path.isEmpty() && QDir::isAbsolutePath(path);
}

// The string-value escapes of the Desktop Entry Specification: \\ \n \t \r, and \s for a
// leading space (which readers would otherwise trim).
QString escapeDesktopValue(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value.at(i);
        if (c == u'\\')
            out += QLatin1String("\\\\");
        else if (c == u'\n')
            out += QLatin1String("\\n");
        else if (c == u'\t')
            out += QLatin1String("\\t");
        else if (c == u'\r')
            out += QLatin1String("\\r");
        else if (c == u' ' && i == 0)
            out += QLatin1String("\\s");
        else
            out += c;
    }
    return out;
}

// The [Desktop Entry] group of a .desktop file as key -> raw value; empty when unreadable.
QHash<QString, QString> readDesktopEntry(const QString &path)
{
    QHash<QString, QString> keys;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return keys;
    bool inEntry = false;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        if (line.startsWith(u'[')) {
            inEntry = line == QLatin1String("[Desktop Entry]");
            continue;
        }
        if (!inEntry)
            continue;
        const qsizetype eq = line.indexOf(u'=');
        if (eq <= 0)
            continue;
        keys.insert(line.left(eq).trimmed(), line.mid(eq + 1).trimmed());
    }
    return keys;
}

bool desktopEntryEnabled(const QString &path)
{
    if (!QFileInfo(path).isFile())
        return false;
    const QHash<QString, QString> keys = readDesktopEntry(path);
    if (keys.value(QStringLiteral("Hidden")).compare(QLatin1String("true"), Qt::CaseInsensitive) == 0)
        return false;
    if (keys.value(QStringLiteral("X-GNOME-Autostart-enabled")).compare(QLatin1String("false"), Qt::CaseInsensitive)
        == 0)
        return false;
    return true;
}

// The system-wide autostart folders ($XDG_CONFIG_DIRS, default /etc/xdg), most important first.
QStringList xdgSystemAutostartDirs()
{
    QStringList dirs;
    const QStringList configDirs = qEnvironmentVariable("XDG_CONFIG_DIRS").split(u':', Qt::SkipEmptyParts);
    for (const QString &d : configDirs)
        if (isAbsolute(d))
            dirs << QDir::cleanPath(d + QLatin1String("/autostart"));
    if (dirs.isEmpty())
        dirs << QStringLiteral("/etc/xdg/autostart");
    return dirs;
}

QString systemDesktopEntry(const LaunchAtLoginEntry &entry)
{
    for (const QString &dir : xdgSystemAutostartDirs()) {
        const QString path = dir + u'/' + entry.id + QLatin1String(".desktop");
        if (QFileInfo(path).isFile())
            return path;
    }
    return {};
}

bool writeFileAtomically(const QString &path, const QByteArray &contents, QString *error)
{
    const QString dir = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(dir)) {
        setError(error, QStringLiteral("cannot create the folder %1").arg(QDir::toNativeSeparators(dir)));
        return false;
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        setError(error, QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    file.write(contents);
    if (!file.commit()) {
        setError(error, QStringLiteral("cannot write %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    return true;
}

bool removeFile(const QString &path, QString *error)
{
    const QFileInfo info(path);
    if (!info.exists() && !info.isSymLink())
        return true;
    QFile file(path);
    if (!file.remove()) {
        setError(error, QStringLiteral("cannot remove %1: %2").arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    return true;
}

bool validateEntry(const LaunchAtLoginEntry &entry, QString *error)
{
    if (entry.id.isEmpty() || entry.id.contains(u'/') || entry.id.contains(u'\\')) {
        setError(error, QStringLiteral("invalid launch-at-login id '%1'").arg(entry.id));
        return false;
    }
    if (entry.name.isEmpty() || entry.name.contains(u'/') || entry.name.contains(u'\\')) {
        setError(error, QStringLiteral("invalid launch-at-login name '%1'").arg(entry.name));
        return false;
    }
    return true;
}

bool validateProgram(const LaunchAtLoginEntry &entry, QString *error)
{
    if (!isAbsolute(entry.program)) {
        setError(
            error, QStringLiteral("cannot launch at login: the program path '%1' is not absolute").arg(entry.program));
        return false;
    }
    return true;
}

QString xmlEscape(const QString &s)
{
    return s.toHtmlEscaped();
}

#ifdef Q_OS_WIN
const QString kRunKey = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
// Task Manager's Startup tab (and Settings > Apps > Startup) keep the user's on/off choice here, as
// a 12-byte REG_BINARY whose first byte is even when enabled and odd when disabled.
const QString kStartupApprovedKey
    = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run");

bool disabledInStartupApproved(const QString &valueName)
{
    QSettings approved(kStartupApprovedKey, QSettings::NativeFormat);
    if (!approved.contains(valueName))
        return false;
    const QVariant v = approved.value(valueName);
    // QSettings returns REG_BINARY as a QByteArray or as the bytes read as UTF-16 (Qt version).
    int first = -1;
    if (v.typeId() == QMetaType::QByteArray) {
        const QByteArray b = v.toByteArray();
        if (!b.isEmpty())
            first = static_cast<unsigned char>(b.at(0));
    } else {
        const QString s = v.toString();
        if (!s.isEmpty())
            first = s.at(0).unicode() & 0xff;
    }
    return first >= 0 && (first & 1) != 0;
}

bool syncOk(QSettings &settings, const QString &what, QString *error)
{
    settings.sync();
    if (settings.status() != QSettings::NoError) {
        setError(error, QStringLiteral("cannot write the registry key %1").arg(what));
        return false;
    }
    return true;
}
#endif

#ifdef Q_OS_MACOS
QString launchAgentPath(const LaunchAtLoginEntry &entry)
{
    return QDir::homePath() + QLatin1String("/Library/LaunchAgents/") + entry.id + QLatin1String(".plist");
}
#endif

} // namespace

QString xdgAutostartDir()
{
    QString base = qEnvironmentVariable("XDG_CONFIG_HOME");
    if (!isAbsolute(base))
        base = QDir::homePath() + QLatin1String("/.config");
    return QDir::cleanPath(base + QLatin1String("/autostart"));
}

QString desktopExecArgument(const QString &argument)
{
    static const QString reserved = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    bool needsQuotes = argument.isEmpty();
    for (QChar c : argument)
        if (reserved.contains(c))
            needsQuotes = true;
    QString quoted;
    if (needsQuotes) {
        quoted += u'"';
        for (QChar c : argument) {
            if (c == u'"' || c == u'`' || c == u'$' || c == u'\\')
                quoted += u'\\';
            quoted += c;
        }
        quoted += u'"';
    } else {
        quoted = argument;
    }
    // '%' starts a field code (%f, %u...): a literal one is written %%.
    quoted.replace(u'%', QLatin1String("%%"));
    // Then the general string escape, which readers undo before they split the command line.
    return escapeDesktopValue(quoted);
}

QByteArray xdgAutostartDesktopEntry(const LaunchAtLoginEntry &entry)
{
    QStringList exec{desktopExecArgument(entry.program)};
    for (const QString &a : entry.arguments)
        exec << desktopExecArgument(a);
    QString text;
    text += QLatin1String("[Desktop Entry]\n");
    text += QLatin1String("Type=Application\n");
    text += QLatin1String("Name=") + escapeDesktopValue(entry.name) + u'\n';
    if (!entry.comment.isEmpty())
        text += QLatin1String("Comment=") + escapeDesktopValue(entry.comment) + u'\n';
    text += QLatin1String("Exec=") + exec.join(u' ') + u'\n';
    text += QLatin1String("Icon=gatehouse\n");
    text += QLatin1String("Terminal=false\n");
    text += QLatin1String("X-GNOME-Autostart-enabled=true\n");
    return text.toUtf8();
}

QString windowsRunCommand(const LaunchAtLoginEntry &entry)
{
    // The program is always quoted (a path with a space would otherwise be split); arguments follow
    // the CommandLineToArgvW rules: backslashes are literal except before a quote.
    auto quote = [](const QString &arg, bool always) {
        const bool needs = always || arg.isEmpty() || arg.contains(u' ') || arg.contains(u'\t') || arg.contains(u'"');
        if (!needs)
            return arg;
        QString out(u'"');
        int backslashes = 0;
        for (QChar c : arg) {
            if (c == u'\\') {
                ++backslashes;
                continue;
            }
            if (c == u'"') {
                out += QString(backslashes * 2 + 1, u'\\');
                out += u'"';
            } else {
                out += QString(backslashes, u'\\');
                out += c;
            }
            backslashes = 0;
        }
        out += QString(backslashes * 2, u'\\');
        out += u'"';
        return out;
    };
    QString program = entry.program;
    program.replace(u'/', u'\\'); // native separators, on any system (the string is for Windows)
    QStringList parts{quote(program, true)};
    for (const QString &a : entry.arguments)
        parts << quote(a, false);
    return parts.join(u' ');
}

QByteArray launchAgentPlist(const LaunchAtLoginEntry &entry)
{
    QString xml;
    xml += QLatin1String("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                         "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                         "<plist version=\"1.0\">\n<dict>\n");
    xml += QLatin1String("  <key>Label</key>\n  <string>") + xmlEscape(entry.id) + QLatin1String("</string>\n");
    xml += QLatin1String("  <key>ProgramArguments</key>\n  <array>\n");
    xml += QLatin1String("    <string>") + xmlEscape(entry.program) + QLatin1String("</string>\n");
    for (const QString &a : entry.arguments)
        xml += QLatin1String("    <string>") + xmlEscape(a) + QLatin1String("</string>\n");
    xml += QLatin1String("  </array>\n");
    xml += QLatin1String("  <key>RunAtLoad</key>\n  <true/>\n");
    // Only in the user's graphical session, and launchd must not restart it after the user quits.
    xml += QLatin1String("  <key>LimitLoadToSessionType</key>\n  <string>Aqua</string>\n");
    xml += QLatin1String("  <key>KeepAlive</key>\n  <false/>\n");
    xml += QLatin1String("  <key>ProcessType</key>\n  <string>Interactive</string>\n");
    xml += QLatin1String("</dict>\n</plist>\n");
    return xml.toUtf8();
}

LaunchAtLoginEntry defaultLaunchAtLoginEntry()
{
    LaunchAtLoginEntry entry;
    entry.id = QString::fromUtf16(kAppId);
    entry.name = QStringLiteral("Gatehouse");
    entry.comment = QStringLiteral("Local gateway between your AI tools and model providers");
    // An AppImage mounts itself at a new path on every start: launch the image, not the mount.
    const QString appImage = qEnvironmentVariable("APPIMAGE");
    if (isAbsolute(appImage) && QFileInfo(appImage).isFile())
        entry.program = appImage;
    else if (QCoreApplication::instance())
        entry.program = QCoreApplication::applicationFilePath();
    return entry;
}

QString launchAtLoginLocation(const LaunchAtLoginEntry &entry)
{
#if defined(Q_OS_WIN)
    return kRunKey + u'\\' + entry.name;
#elif defined(Q_OS_MACOS)
    return launchAgentPath(entry);
#else
    return xdgAutostartDir() + u'/' + entry.id + QLatin1String(".desktop");
#endif
}

bool setLaunchAtLogin(const LaunchAtLoginEntry &entry, bool enabled, QString *error)
{
    if (!validateEntry(entry, error))
        return false;
    if (enabled && !validateProgram(entry, error))
        return false;
#if defined(Q_OS_WIN)
    QSettings run(kRunKey, QSettings::NativeFormat);
    if (enabled)
        run.setValue(entry.name, windowsRunCommand(entry));
    else
        run.remove(entry.name);
    if (!syncOk(run, kRunKey, error))
        return false;
    if (enabled) {
        // Turning it on in Gatehouse also overrides an earlier "disabled" in Task Manager.
        QSettings approved(kStartupApprovedKey, QSettings::NativeFormat);
        if (approved.contains(entry.name)) {
            approved.remove(entry.name);
            if (!syncOk(approved, kStartupApprovedKey, error))
                return false;
        }
    }
#elif defined(Q_OS_MACOS)
    const QString path = launchAgentPath(entry);
    if (enabled ? !writeFileAtomically(path, launchAgentPlist(entry), error) : !removeFile(path, error))
        return false;
#else
    const QString path = launchAtLoginLocation(entry);
    if (enabled) {
        if (!writeFileAtomically(path, xdgAutostartDesktopEntry(entry), error))
            return false;
    } else if (!systemDesktopEntry(entry).isEmpty()) {
        // A system-wide entry of the same name would start it anyway: shadow it with a hidden one.
        QByteArray hidden = "[Desktop Entry]\nType=Application\nName=" + escapeDesktopValue(entry.name).toUtf8()
            + "\nExec=" + desktopExecArgument(entry.program.isEmpty() ? entry.id : entry.program).toUtf8()
            + "\nHidden=true\n";
        if (!writeFileAtomically(path, hidden, error))
            return false;
    } else if (!removeFile(path, error)) {
        return false;
    }
#endif
    qCDebug(lcPlatform) << "launch at login" << (enabled ? "enabled:" : "disabled:") << launchAtLoginLocation(entry);
    return true;
}

bool launchAtLoginEnabled(const LaunchAtLoginEntry &entry)
{
    if (!validateEntry(entry, nullptr))
        return false;
#if defined(Q_OS_WIN)
    const QSettings run(kRunKey, QSettings::NativeFormat);
    return !run.value(entry.name).toString().isEmpty() && !disabledInStartupApproved(entry.name);
#elif defined(Q_OS_MACOS)
    return QFileInfo(launchAgentPath(entry)).isFile();
#else
    const QString user = launchAtLoginLocation(entry);
    if (QFileInfo(user).isFile())
        return desktopEntryEnabled(user); // the user's file overrides a system-wide one
    const QString system = systemDesktopEntry(entry);
    return !system.isEmpty() && desktopEntryEnabled(system);
#endif
}

bool setLaunchAtLogin(bool enabled, QString *error)
{
    return setLaunchAtLogin(defaultLaunchAtLoginEntry(), enabled, error);
}

bool launchAtLoginEnabled()
{
    return launchAtLoginEnabled(defaultLaunchAtLoginEntry());
}

} // namespace gh
