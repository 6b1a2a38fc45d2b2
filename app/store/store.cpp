#include "store/store.h"
#include "core/logging.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/pgconfigrepository.h"
#include "store/pgconfigwatcher.h"
#include "store/pglogreader.h"
#include "store/pglogwriter.h"
#include "store/pgmigrations.h"
#include "store/sqlite.h"
#include "store/sqliteconfigrepository.h"
#include "store/sqlitelogreader.h"
#include "store/sqlitelogwriter.h"
#include "store/requestjournal.h"
#include <QDateTime>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QSysInfo>
#include <QThread>
#include <sqlite3.h>
#include <atomic>

namespace gh {

namespace {

constexpr int kBusyTimeoutMs = 5'000;

using sqlite::Statement;
using sqlite::exec;

} // namespace

struct Store::Private {
    QString path; // the database file, or the team database's URL
    bool postgres = false;
    QString instanceId; // stamped on the rows this store logs (setInstanceId)
    QString localDir;   // a team store's local folder (its request journals)
    std::atomic<bool> open{false};
    // The SQLite back-end. The control-plane connection: reads and key/provider/model/settings
    // writes, any thread.
    SqliteControlConnection conn;
    // For the store's lifetime; closed, the writer refuses records and the others find no connection.
    std::unique_ptr<SqliteLogWriter> sqliteWriter;
    SqliteLogReader sqliteReader{conn};
    SqliteConfigRepository sqliteConfig{conn};
    // The PostgreSQL back-end (a team store), the same parts.
    PgControlConnection pgConn;
    std::unique_ptr<PgLogWriter> pgWriter;
    PgLogReader pgReader{pgConn};
    PgConfigRepository pgConfig{pgConn};
    // Other instances' configuration changes (a team store only; lives on the opening thread).
    std::unique_ptr<PgConfigWatcher> watcher;
    // The back-end in use (SQLite while closed).
    RequestLogWriter *writer = nullptr;
    RequestLogReader *reader = &sqliteReader;
    ConfigRepository *config = &sqliteConfig;
    void use(bool pg)
    {
        postgres = pg;
        writer = pg ? static_cast<RequestLogWriter *>(pgWriter.get()) : sqliteWriter.get();
        reader = pg ? static_cast<RequestLogReader *>(&pgReader) : &sqliteReader;
        config = pg ? static_cast<ConfigRepository *>(&pgConfig) : &sqliteConfig;
    }
    void closeConnections()
    {
        watcher.reset();
        sqliteWriter->close();
        pgWriter->close();
        {
            std::lock_guard lock(conn.mutex);
            sqlite::close(conn.db);
            conn.db = nullptr;
        }
        std::lock_guard lock(pgConn.mutex);
        pgConn.open = false;
        pgConn.conn.close();
    }
};

Store::Store(QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    // The writer's events come from its thread: the signals are connected queued by their users.
    const BatchedLogWriter::Events events{[this](int count) { Q_EMIT requestsCommitted(count); },
                                          [this] { Q_EMIT logHealthChanged(); }};
    d->sqliteWriter = std::make_unique<SqliteLogWriter>(events);
    d->pgWriter = std::make_unique<PgLogWriter>(events);
    d->use(false);
}

void Store::setInstanceId(const QString &id)
{
    d->instanceId = id;
    d->sqliteWriter->setInstanceId(id);
    d->pgWriter->setInstanceId(id);
}

QString Store::instanceId() const { return d->instanceId; }

QString Store::instanceIdFor(const QString &dataDir)
{
    const QString path = QDir(dataDir).filePath(QStringLiteral("instance-id"));
    QFile file(path);
    if (file.open(QIODevice::ReadOnly)) {
        const QString id = QString::fromUtf8(file.readAll()).trimmed();
        if (!id.isEmpty() && id.size() <= 128)
            return id;
    }
    file.close();
    QString host = QSysInfo::machineHostName().left(48);
    for (QChar &c : host) {
        if (!c.isLetterOrNumber() && c != QLatin1Char('-') && c != QLatin1Char('.'))
            c = QLatin1Char('-');
    }
    const QString id = (host.isEmpty() ? QStringLiteral("gatehouse") : host) + QLatin1Char('-')
        + QString::number(QRandomGenerator::system()->generate(), 16).rightJustified(8, QLatin1Char('0'));
    QSaveFile out(path);
    if (!QDir().mkpath(dataDir) || !out.open(QIODevice::WriteOnly) || out.write(id.toUtf8() + '\n') < 0 || !out.commit()) {
        qCWarning(lcStore).noquote() << "cannot write" << QDir::toNativeSeparators(path) << "- this run's rows carry the id" << id;
    }
    return id;
}

void Store::setLocalDir(const QString &dir) { d->localDir = dir; }

bool Store::isTeamStore() const { return d->postgres; }

bool Store::openPostgres(const QString &url, QString *error)
{
    auto fail = [&](const QString &message) {
        d->closeConnections();
        d->use(false);
        const QString full = QStringLiteral("cannot open the team database %1: %2").arg(pg::redactedUrl(url), message);
        qCWarning(lcStore).noquote() << full;
        if (error)
            *error = full;
        return false;
    };
    d->use(true);
    QString why;
    bool ready = false;
    {
        std::lock_guard lock(d->pgConn.mutex);
        ready = d->pgConn.conn.open(url, &why) && store::postgres::migrate(d->pgConn.conn, &why);
        d->pgConn.open = ready;
    }
    if (!ready)
        return fail(why); // closeConnections() takes the mutex
    // The journals are local files: a folder of this machine's, not the server's.
    const QString journals = d->localDir.isEmpty() ? QString() : RequestJournal::dirFor(QDir(d->localDir).filePath(QStringLiteral("team")));
    if (!d->pgWriter->open(url, journals, &why))
        return fail(why);
    d->path = url;
    d->open = true;
    // The watcher's socket notifier and timers need the event loop of the store's thread.
    if (QThread::currentThread() == thread())
        startWatcher(url);
    else
        QMetaObject::invokeMethod(this, [this, url] { if (d->open && d->postgres) startWatcher(url); }, Qt::QueuedConnection);
    qCInfo(lcStore).noquote() << "opened the team database" << pg::redactedUrl(url) << "schema version"
                              << store::postgres::latestSchemaVersion() << "as instance" << d->instanceId;
    return true;
}

void Store::startWatcher(const QString &url)
{
    {
        std::lock_guard lock(d->pgConn.mutex);
        d->pgConn.backendPid = d->pgConn.conn.backendPid();
    }
    d->watcher = std::make_unique<PgConfigWatcher>([this] { return d->pgConn.backendPid.load(); });
    connect(d->watcher.get(), &PgConfigWatcher::changed, this, &Store::configChangedElsewhere);
    QString why;
    if (!d->watcher->start(url, &why))
        qCWarning(lcStore).noquote() << "cannot listen for the team's configuration changes yet (retrying):" << why;
}

Store::~Store() { close(); }

bool Store::open(const QString &path, QString *error)
{
    auto report = [&](const QString &message) {
        const QString full = QStringLiteral("cannot open the database %1: %2").arg(QDir::toNativeSeparators(path), message);
        qCWarning(lcStore).noquote() << full;
        if (error)
            *error = full;
        return false;
    };
    if (d->open)
        return report(QStringLiteral("this store is already open (%1)").arg(QDir::toNativeSeparators(d->path)));
    if (pg::isPostgresUrl(path))
        return openPostgres(path, error);
    d->use(false);
    auto fail = [&](const QString &message) {
        d->closeConnections();
        return report(message);
    };
    if (path.isEmpty())
        return fail(QStringLiteral("no path given"));

    const QFileInfo info(path);
    if (info.isDir())
        return fail(QStringLiteral("it is a directory"));
    if (!QDir().mkpath(info.absolutePath()))
        return fail(QStringLiteral("cannot create the directory %1").arg(QDir::toNativeSeparators(info.absolutePath())));

    // The WAL and its index are files next to the database: the folder must be writable too.
    if (!QFileInfo(info.absolutePath()).isWritable())
        return fail(QStringLiteral("the data folder %1 is read-only: Gatehouse must be able to write its request log "
                                   "there. Make it writable or choose another folder with --data-dir.")
                        .arg(QDir::toNativeSeparators(info.absolutePath())));
    QString why;
    d->conn.db = sqlite::open(path, sqlite::Access::ReadWriteCreate, kBusyTimeoutMs, &why);
    if (!d->conn.db)
        return fail(why);
    // SQLite opens a file it cannot write read-only without an error; every write would then fail
    // with a message about the database, not about the folder the user can fix.
    if (sqlite3_db_readonly(d->conn.db, "main") == 1)
        return fail(QStringLiteral("the data folder %1 (or the database file in it) is read-only: Gatehouse must be able to "
                                   "write its request log there. Make it writable or choose another folder with --data-dir.")
                        .arg(QDir::toNativeSeparators(info.absolutePath())));
    // The first read of the file: a file that is not SQLite (or is damaged) fails here.
    if (!exec(d->conn.db, "SELECT count(*) FROM sqlite_schema", &why))
        return fail(QStringLiteral("not a readable SQLite database (%1)").arg(why));

    // WAL: readers never block the writer and a commit is one append to the log. NORMAL sync in WAL
    // mode keeps every committed transaction across a crash of the process (a power cut may lose the
    // last ones, never corrupt the file).
    {
        Statement wal(d->conn.db, "PRAGMA journal_mode = WAL");
        if (wal.step() != SQLITE_ROW)
            return fail(QStringLiteral("cannot switch to WAL mode (%1)").arg(wal.error()));
        if (wal.text(0).compare(QLatin1String("wal"), Qt::CaseInsensitive) != 0)
            qCWarning(lcStore) << "the file system does not support WAL mode; journal mode is" << wal.text(0);
    }
    if (!exec(d->conn.db, "PRAGMA synchronous = NORMAL", &why) || !exec(d->conn.db, "PRAGMA foreign_keys = ON", &why))
        return fail(why);
    if (!store::migrate(d->conn.db, &why))
        return fail(why);

    if (!d->sqliteWriter->open(path, &why))
        return fail(why);
    d->path = path;
    {
        std::lock_guard lock(d->conn.mutex);
        d->conn.path = path;
    }
    d->open = true;
    qCInfo(lcStore).noquote() << "opened" << QDir::toNativeSeparators(path) << "schema version" << schemaVersion();
    return true;
}

void Store::close()
{
    if (!d->open.exchange(false))
        return;
    d->closeConnections();
    qCInfo(lcStore).noquote() << "closed" << (d->postgres ? pg::redactedUrl(d->path) : QDir::toNativeSeparators(d->path));
}

bool Store::isOpen() const { return d->open; }

QString Store::path() const { return d->path; }

QString Store::journalDir(const QString &databasePath) { return RequestJournal::dirFor(databasePath); }

std::unique_ptr<RequestJournal> Store::openJournal(const QString &tag)
{
    if (!isOpen())
        return nullptr;
    RequestJournal::LogProgress progress;
    const RequestLogWriter *writer = d->writer;
    progress.accepted = [writer] { return writer->acceptedCount(); };
    progress.committed = [writer] { return writer->committedCount(); };
    progress.flush = [this] { flush(); };
    QString dir = journalDir(d->path);
    if (d->postgres) {
        if (d->localDir.isEmpty())
            return nullptr; // no local folder given: a team store without journals
        dir = RequestJournal::dirFor(QDir(d->localDir).filePath(QStringLiteral("team")));
    }
    return std::make_unique<RequestJournal>(dir, tag, std::move(progress));
}

int Store::schemaVersion() { return store::latestSchemaVersion(); }

// --- request log: the writer ---

void Store::setBatchWindowMs(int ms) { d->writer->setBatchWindowMs(ms); }

void Store::appendRequest(const RequestRecord &record, std::function<void()> onDurable)
{
    d->writer->append(record, std::move(onDurable));
}

void Store::flush() { d->writer->flush(); }

Store::LogHealth Store::logHealth() const { return d->writer->health(); }

bool Store::isBufferFull() const { return d->writer->isBufferFull(); }

void Store::setBufferCapacity(int rows) { d->writer->setBufferCapacity(rows); }

// --- request log: reads ---

std::optional<RequestRecord> Store::request(const QString &id) const
{
    return d->reader->request(id);
}

QList<AttemptRecord> Store::attempts(const QString &requestId) const
{
    return d->reader->attempts(requestId);
}

qint64 Store::requestCount() const { return d->reader->requestCount(); }

QList<RequestRecord> Store::recentRequests(int limit, int offset) const
{
    return d->reader->recentRequests(limit, offset);
}

QHash<qint64, KeyOvershoots> Store::overshootsByKey() const
{
    if (!isOpen())
        return {};
    return d->reader->overshootsByKey();
}

NanoUsd Store::spendSince(qint64 keyId, qint64 sinceMs) const
{
    return d->reader->spendSince(keyId, sinceMs);
}

std::unique_ptr<LogQueries> Store::openQueries() const
{
    // A connection of the queries' own, opened by them on their thread (a team store: at the first
    // query, and again after an outage).
    return d->postgres ? openPostgresLogQueries(d->path) : openSqliteLogQueries(d->path);
}

QStringList Store::logTables()
{
    return {QStringLiteral("requests"), QStringLiteral("attempts"), QStringLiteral("prompt_prefixes"),
            QStringLiteral("rollups"), QStringLiteral("rollup_latency"), QStringLiteral("rollup_sizes")};
}

QStringList Store::keptTables()
{
    // pending_requests: the rows of streams still in flight. Their final rows come after the clear
    // (and delete them); deleting them here would lose the charge of one answered when the process dies.
    // latency_buckets, size_buckets: the histogram bounds, fixed data of migrations 4 and 18.
    // guardrail_trips: an active pause must not be lifted by clearing the history.
    return {QStringLiteral("keys"), QStringLiteral("providers"), QStringLiteral("models"), QStringLiteral("settings"),
            QStringLiteral("routes"), QStringLiteral("votes"), QStringLiteral("conversations"),
            QStringLiteral("messages"), QStringLiteral("latency_buckets"), QStringLiteral("pending_requests"),
            QStringLiteral("guardrail_trips"), QStringLiteral("size_buckets"),
            QStringLiteral("audit_log")};
}

bool Store::clearLog(QString *error)
{
    QString why = QStringLiteral("the store is not open");
    if (d->open) {
        flush(); // rows still queued are deleted too
        if (d->reader->clearLog(&why)) {
            qCInfo(lcStore) << "the request log was cleared";
            return true;
        }
    }
    qCWarning(lcStore) << "clearing the request log failed:" << why;
    if (error)
        *error = why;
    return false;
}

// --- configuration ---

QList<StoredKey> Store::keys() const { return d->config->keys(); }

std::optional<StoredKey> Store::keyByName(const QString &name) const
{
    return d->config->keyByName(name);
}

qint64 Store::saveKey(const StoredKey &key)
{
    std::optional<StoredKey> before;
    if (key.id != 0)
        for (const StoredKey &k : d->config->keys())
            if (k.id == key.id)
                before = k;
    const qint64 id = d->config->saveKey(key);
    if (id == 0)
        return id;
    if (!before) {
        recordChange(QStringLiteral("key.create"), key.name, {}, auditJson(key));
    } else {
        QJsonObject o, n;
        if (auditDiff(auditJson(*before), auditJson(key), &o, &n))
            recordChange(keyAuditAction(o, n), key.name, o, n);
    }
    return id;
}

QList<ProviderConfig> Store::providers() const
{
    return d->config->providers();
}

namespace {
// The stored one of `id` among `all`.
template<typename T>
std::optional<T> findById(const QList<T> &all, const QString &id)
{
    for (const T &x : all)
        if (x.id == id)
            return x;
    return std::nullopt;
}
} // namespace

template<typename T>
void Store::recordSave(const char *kind, const std::optional<T> &before, const T &after)
{
    if (!before) {
        recordChange(QLatin1String(kind) + QStringLiteral(".create"), after.id, {}, auditJson(after));
        return;
    }
    QJsonObject o, n;
    if (auditDiff(auditJson(*before), auditJson(after), &o, &n))
        recordChange(QLatin1String(kind) + QStringLiteral(".update"), after.id, o, n);
}

bool Store::saveProvider(const ProviderConfig &provider)
{
    const auto before = findById(d->config->providers(), provider.id);
    const bool ok = d->config->saveProvider(provider);
    if (ok)
        recordSave("provider", before, provider);
    return ok;
}

bool Store::removeProvider(const QString &id)
{
    const auto before = findById(d->config->providers(), id);
    const bool ok = d->config->removeProvider(id);
    if (ok && before)
        recordChange(QStringLiteral("provider.remove"), id, auditJson(*before), {});
    return ok;
}

QList<ModelConfig> Store::models() const { return d->config->models(); }

bool Store::saveModel(const ModelConfig &model)
{
    const auto before = findById(d->config->models(), model.id);
    const bool ok = d->config->saveModel(model);
    if (ok)
        recordSave("model", before, model);
    return ok;
}

bool Store::removeModel(const QString &id)
{
    const auto before = findById(d->config->models(), id);
    const bool ok = d->config->removeModel(id);
    if (ok && before)
        recordChange(QStringLiteral("model.remove"), id, auditJson(*before), {});
    return ok;
}

QList<RouteConfig> Store::routes() const { return d->config->routes(); }

bool Store::saveRoute(const RouteConfig &route)
{
    const auto before = findById(d->config->routes(), route.id);
    const bool ok = d->config->saveRoute(route);
    if (ok)
        recordSave("route", before, route);
    return ok;
}

bool Store::removeRoute(const QString &id)
{
    const auto before = findById(d->config->routes(), id);
    const bool ok = d->config->removeRoute(id);
    if (ok && before)
        recordChange(QStringLiteral("route.remove"), id, auditJson(*before), {});
    return ok;
}

bool Store::recordChange(const QString &action, const QString &subject, const QJsonObject &before, const QJsonObject &after)
{
    AuditEntry e;
    e.atMs = QDateTime::currentMSecsSinceEpoch();
    e.origin = auditOriginName(AuditOriginScope::current());
    e.action = action;
    e.subject = subject;
    if (!before.isEmpty())
        e.oldValue = QString::fromUtf8(QJsonDocument(before).toJson(QJsonDocument::Compact));
    if (!after.isEmpty())
        e.newValue = QString::fromUtf8(QJsonDocument(after).toJson(QJsonDocument::Compact));
    return d->config->appendAudit(e);
}

QList<AuditEntry> Store::auditEntries(int limit, int offset) const
{
    return d->config->auditEntries(limit, offset);
}

bool Store::forgetKey(const QString &name, ForgottenKey *counts, QString *error)
{
    QString why = QStringLiteral("the store is not open");
    const auto key = keyByName(name);
    if (d->open && !key)
        why = QStringLiteral("no key is named '%1'").arg(name);
    ForgottenKey c;
    if (d->open && key) {
        flush(); // its rows still queued go too
        if (d->reader->forgetKey(key->id, &c, &why)) {
            // The key's per-name settings, so that a new key of the same name starts without them.
            for (const char *settingName : {"key_guardrails", "response_cache"}) {
                const QString stored = d->config->setting(QLatin1String(settingName), QString());
                QJsonObject o = QJsonDocument::fromJson(stored.toUtf8()).object();
                if (o.isEmpty())
                    continue;
                o.remove(name); // key_guardrails: by key name
                for (const char *member : {"keys", "capture"}) {
                    if (!o.contains(QLatin1String(member)))
                        continue;
                    QJsonObject inner = o.value(QLatin1String(member)).toObject();
                    inner.remove(name);
                    o.insert(QLatin1String(member), inner);
                }
                if (o.contains(QLatin1String("no_bodies"))) {
                    QJsonArray noBodies = o.value(QLatin1String("no_bodies")).toArray();
                    for (qsizetype i = noBodies.size() - 1; i >= 0; --i)
                        if (noBodies.at(i).toString() == name)
                            noBodies.removeAt(i);
                    o.insert(QStringLiteral("no_bodies"), noBodies);
                }
                d->config->setSetting(QLatin1String(settingName), QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)));
            }
            recordChange(QStringLiteral("key.delete"), name, auditJson(*key),
                         QJsonObject{{QStringLiteral("deleted_requests"), c.requests},
                                     {QStringLiteral("deleted_attempts"), c.attempts},
                                     {QStringLiteral("deleted_sessions"), c.sessions},
                                     {QStringLiteral("deleted_guardrail_trips"), c.trips}});
            qCInfo(lcStore) << "deleted key" << name << "and" << c.requests << "request(s) of it";
            if (counts)
                *counts = c;
            return true;
        }
    }
    qCWarning(lcStore) << "deleting key" << name << "failed:" << why;
    if (error)
        *error = why;
    return false;
}

bool Store::saveRoundVotes(const QString &roundId, const QList<Vote> &votes)
{
    return d->config->saveRoundVotes(roundId, votes);
}

QHash<QString, VoteStats> Store::voteStats() const
{
    return d->config->voteStats();
}

QString Store::setting(const QString &key, const QString &fallback) const
{
    return d->config->setting(key, fallback);
}

void Store::setSetting(const QString &key, const QString &value)
{
    // The window's own preferences ("ui.*") are not control-plane changes.
    const bool audited = !key.startsWith(QLatin1String("ui."));
    const QString before = audited ? d->config->setting(key, QString()) : QString();
    d->config->setSetting(key, value);
    if (!audited || before == value)
        return;
    QJsonObject o, n;
    if (auditDiff(before.isEmpty() ? QJsonObject() : auditSettingJson(before), auditSettingJson(value), &o, &n))
        recordChange(QStringLiteral("setting.") + key, key, o, n);
}

bool Store::saveGuardrailTrip(const GuardrailTripRow &trip)
{
    return d->config->saveGuardrailTrip(trip);
}

bool Store::endGuardrailTrips(const QList<qint64> &ids, qint64 atMs, const QString &by)
{
    const bool ok = d->config->endGuardrailTrips(ids, atMs, by);
    if (ok && !ids.isEmpty()) {
        QJsonArray list;
        for (qint64 id : ids)
            list.append(id);
        const AuditOriginScope origin(by == QLatin1String("api") ? AuditOrigin::Api : AuditOriginScope::current());
        recordChange(QStringLiteral("guardrail.resume"), QString(), QJsonObject{{QStringLiteral("paused_trips"), list}}, QJsonObject{{QStringLiteral("paused_trips"), QJsonArray()}});
    }
    return ok;
}

bool Store::keepGuardrailTrip(qint64 id, qint64 atMs)
{
    return d->config->keepGuardrailTrip(id, atMs);
}

QList<GuardrailTripRow> Store::guardrailTripsToRestore(int latest, qint64 *maxId) const
{
    return d->config->guardrailTripsToRestore(latest, maxId);
}

} // namespace gh
