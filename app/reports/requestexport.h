#pragma once
#include "store/logqueries.h"
#include <QByteArray>
#include <QString>
#include <functional>
#include <optional>

class QIODevice;

namespace gh {

// The request log as a file for other tools: CSV (one row per request, the Activity page's columns)
// or JSON Lines (one object per request, every field of the row). Rows are read with a cursor and
// written in pieces of about 1 MiB, so memory stays the same for ten rows or ten million.
enum class ExportFormat { Csv, JsonLines };
[[nodiscard]] std::optional<ExportFormat> exportFormatFromName(const QString &name); // "csv", "jsonl" (or "ndjson")
[[nodiscard]] QString exportFormatExtension(ExportFormat format);                   // "csv", "jsonl"

struct ExportOutcome {
    bool ok = false;
    bool cancelled = false;
    qint64 rows = 0;  // written
    qint64 total = 0; // matched the filter when the export began
    QString error;    // why it failed (the file or the database)
};

// Writes the rows `filter` selects, newest first, as they were when the export began (rows logged
// meanwhile are left out). `progress(rows, total)` is called about every 1% and at the end; returning
// false cancels the export (what was written stays; the outcome says cancelled).
[[nodiscard]] ExportOutcome exportRequests(LogQueries &queries, const ActivityFilter &filter, ExportFormat format, QIODevice &out,
                                           const std::function<bool(qint64 rows, qint64 total)> &progress = {});

// The pieces, for the tests and other writers.
[[nodiscard]] QByteArray csvHeader();
[[nodiscard]] QByteArray csvLine(const RequestRecord &record);  // ends with CRLF
[[nodiscard]] QByteArray jsonLine(const RequestRecord &record); // ends with LF
// A CSV field, quoted when it must be; text a spreadsheet would run as a formula (=, +, -, @ first)
// is prefixed with an apostrophe, since model names and errors come from clients and providers.
[[nodiscard]] QString csvText(const QString &value);

} // namespace gh
