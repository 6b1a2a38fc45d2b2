#pragma once
// Launch at login, the native way on each system:
//  - Linux and other XDG desktops: a .desktop file in $XDG_CONFIG_HOME/autostart (default ~/.config)
//    (XDG Autostart Specification 0.5);
//  - Windows: a value in HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run;
//  - macOS: a LaunchAgent property list in ~/Library/LaunchAgents, loaded by launchd at login.
// Nothing here needs administrator rights, and nothing takes effect before the next login.
#include <QString>
#include <QStringList>

namespace gh {

// What to start at login. The default entry (defaultLaunchAtLoginEntry) starts this executable
// (the AppImage when running from one) without arguments; the window's "start minimized" setting
// decides what it shows.
struct LaunchAtLoginEntry {
    QString id; // reverse-DNS id: the file name (id.desktop, id.plist) and the LaunchAgent label
    QString name; // display name: Name= of the .desktop file, the Run value's name on Windows
    QString comment; // Comment= of the .desktop file
    QString program; // absolute path of the executable
    QStringList arguments;
};

inline constexpr char16_t kAppId[] = u"io.github.gatehouse.Gatehouse";

// Turns launch at login on (writing the entry for the current executable, replacing a stale or
// user-disabled one) or off (removing it). False with *error set when the entry could not be
// written or removed.
bool setLaunchAtLogin(bool enabled, QString *error = nullptr);
// True when an entry for Gatehouse exists and has not been disabled by the user's desktop settings
// (Hidden=true or X-GNOME-Autostart-enabled=false on Linux, StartupApproved on Windows).
[[nodiscard]] bool launchAtLoginEnabled();

// The same for any entry: the functions above use defaultLaunchAtLoginEntry().
bool setLaunchAtLogin(const LaunchAtLoginEntry &entry, bool enabled, QString *error = nullptr);
[[nodiscard]] bool launchAtLoginEnabled(const LaunchAtLoginEntry &entry);
[[nodiscard]] LaunchAtLoginEntry defaultLaunchAtLoginEntry();

// Where the entry lives on this system: a file path, or the registry key and value name on Windows.
[[nodiscard]] QString launchAtLoginLocation(const LaunchAtLoginEntry &entry);

// The three formats, exposed so each can be tested on every system.
// The XDG autostart folder: $XDG_CONFIG_HOME/autostart when XDG_CONFIG_HOME is an absolute path,
// else $HOME/.config/autostart.
[[nodiscard]] QString xdgAutostartDir();
// The .desktop file's text (UTF-8, one [Desktop Entry] group).
[[nodiscard]] QByteArray xdgAutostartDesktopEntry(const LaunchAtLoginEntry &entry);
// One argument quoted for a desktop entry's Exec key (quoting rules of the Desktop Entry
// Specification, then the string-value escape of '\'): plain arguments stay as they are.
[[nodiscard]] QString desktopExecArgument(const QString &argument);
// The command line stored in the Windows Run value: the program in native separators and every
// argument quoted the way CommandLineToArgvW splits them.
[[nodiscard]] QString windowsRunCommand(const LaunchAtLoginEntry &entry);
// The LaunchAgent property list (XML, RunAtLoad, the program and its arguments).
[[nodiscard]] QByteArray launchAgentPlist(const LaunchAtLoginEntry &entry);

} // namespace gh
