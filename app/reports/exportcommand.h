#pragma once
#include <QString>
#include <QStringList>

namespace gh {

// The command line's `export` commands (arguments after "export"), for headless use:
//   requests [--format csv|jsonl] [--out FILE] [--from DATE] [--to DATE] [--key NAME] [--model M]
//            [--provider P] [--session S] [--status all|ok|error] [--search TEXT] [--data-dir DIR]
//       the request log filtered as the Activity page filters it, newest first, streamed to FILE
//       (stdout without --out or with "-"), with progress on stderr
//   spend [--format csv|html] [--out FILE] [--from DATE] [--to DATE] [--data-dir DIR]
//       spend per key, model and provider; html is a printable page with the dashboard's charts
// DATE: YYYY-MM-DD (a UTC day; --to includes it) or an ISO 8601 date and time. The spend report's
// period defaults to the last 30 days, today included.
// Returns the process exit code: 0 done, 1 failed, 2 not understood.
[[nodiscard]] int runExportCommand(const QStringList &arguments, const QString &defaultDataDir);

} // namespace gh
