#pragma once
#include <QString>

// The store a data folder uses when --store is not given: the choice made in the window's Settings
// ("Join" a team store, "Leave team"), kept in the folder's file "store-location" and read at start.
// Order at start: --store, then this saved choice, then the config file's "store", then the SQLite
// file in the data folder. The file holds the team URL as the user typed it, password included (as
// a config file's "store" does), so it is written readable by its owner only.
namespace gh::storelocation {

// The saved location: a postgres:// URL, or "" for the data folder's SQLite file.
[[nodiscard]] QString saved(const QString &dataDir);
// Saves a postgres:// URL, or (an empty or "sqlite" location) removes the choice: back to the
// SQLite file. False and *error (no secret in it) when the file cannot be written or removed.
bool save(const QString &dataDir, const QString &location, QString *error);

// A location fit to show: a URL without its password, a file path as it is.
[[nodiscard]] QString redacted(const QString &location);

// When the saved team store could not be opened at start and this run fell back to the SQLite
// file: why (set by the executable, read by the window's Settings). Empty otherwise.
void setFallbackReason(const QString &reason);
[[nodiscard]] QString fallbackReason();

} // namespace gh::storelocation
