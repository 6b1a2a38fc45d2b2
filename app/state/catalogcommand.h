#pragma once
#include <QString>
#include <QStringList>

namespace gh {

// The command line's `catalog` commands (arguments after "catalog"):
//   update [--from FILE|URL] [--data-dir DIR]   fetch, validate and install a price catalog
//   refresh on|off [--data-dir DIR]             allow or forbid network refreshes (offline use)
//   show [--data-dir DIR]                       the catalog in use: source, date, size
// Returns the process exit code: 0 done, 1 failed (nothing changed), 2 not understood.
[[nodiscard]] int runCatalogCommand(const QStringList &arguments, const QString &defaultDataDir);

} // namespace gh
