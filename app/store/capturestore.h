#pragma once
#include <optional>
#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

struct sqlite3;

namespace gh::store {

// One captured exchange (docs/capture.md) as the file keeps it: the bodies as zstd frames.
struct CaptureRow {
    QString requestId; // requests.id in gatehouse.db
    qint64 keyId = 0;
    QString keyName;
    qint64 startedAtMs = 0; // the request's arrival, as on its log row
    qint64 expiresAtMs = 0; // deleted by the retention sweep from then on
    qint64 requestBytes = 0; // uncompressed sizes
    qint64 responseBytes = 0;
    QByteArray requestFrame; // zstd frames; empty when nothing was kept (see note)
    QByteArray responseFrame;
    QString responseType; // the response's content type ("text/event-stream" for a stream)
    QString note; // what was left out and why ("response cut at 4 MiB", ...)
};

// The captured bodies' file (captures.db in the data folder). Its own SQLite file rather than a
// table of gatehouse.db, as the response cache's: the bodies are large blobs deleted in bulk by the
// retention sweep, which would bloat the request log's file and compete with its one writer; and
// the bodies stay apart from the accounting (deleting this file loses no request row or money).
// One instance per thread (the capture writer's, a reader's).
class CaptureStore
{
public:
    CaptureStore() = default;
    ~CaptureStore();
    CaptureStore(const CaptureStore &) = delete;
    CaptureStore &operator=(const CaptureStore &) = delete;

    // Opens (creating when `create` and missing) and migrates the file; false with *error otherwise.
    bool open(const QString &path, bool create, QString *error);
    [[nodiscard]] bool isOpen() const { return m_db != nullptr; }
    // One transaction; a row of the same request replaces the stored one.
    bool insert(const QList<CaptureRow> &rows, QString *error);
    // The retention sweep: deletes every row whose expiry is at or before nowMs and, for the keys in
    // `retentionDays` (key id → days), every row older than their retention now (a retention made
    // shorter applies to what was captured before). Returns the rows deleted, -1 on failure.
    qint64 sweep(qint64 nowMs, const QHash<qint64, int> &retentionDays, QString *error);
    // Deletes every row of the key; the rows deleted, -1 on failure.
    qint64 deleteKey(qint64 keyId, QString *error);
    [[nodiscard]] std::optional<CaptureRow> byRequest(const QString &requestId) const;
    // How many rows and compressed bytes the file holds (the Settings page).
    [[nodiscard]] QPair<qint64, qint64> totals() const;

private:
    sqlite3 *m_db = nullptr;
};

} // namespace gh::store
