#pragma once
#include "store/storeinterfaces.h"
#include <QString>
#include <QStringList>

namespace gh {

class BodyCapture;
class ResponseCache;
class Store;

// What "delete everything about key X" removed, in every file of the data folder.
struct ForgetKeyReport {
    ForgottenKey log; // gatehouse.db: rows, attempts, sessions, trips, pending rows, the key
    qint64 captures = 0; // captures.db
    qint64 cachedAnswers = 0; // response-cache.db (answers its requests filled, shared ones too)
    [[nodiscard]] QString summary(const QString &name) const;
};

// Deletes everything about the key named `name`: Store::forgetKey() (which records the deletion in
// the audit trail), then its captured bodies and its cached answers. `capture` and `cache` are the
// running gateway's (nullptr: their files in `dataDir` are opened for the deletion). What is kept:
// the audit trail (its earlier changes and this deletion) and Compare conversations (not tied to a
// key). False and *error when the key does not exist or the database part failed (then nothing of
// the other files is touched either).
bool forgetKey(Store &store, ResponseCache *cache, BodyCapture *capture, const QString &dataDir, const QString &name,
    ForgetKeyReport *report, QString *error);

// `gatehouse forget-key NAME [--data-dir DIR] --yes`: the same from the command line, with the
// gateway stopped. Returns the exit code (0 done, 1 failed, 2 usage).
int runForgetKeyCommand(const QStringList &arguments, const QString &defaultDataDir);

} // namespace gh
