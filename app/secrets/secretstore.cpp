#include "secrets/secretstore.h"
#include "core/logging.h"
#include <QCoreApplication>
#include <QMutex>
#include <QPointer>
#include <QSemaphore>
#include <QThread>
#include <memory>
#include <qt6keychain/keychain.h>

// QtKeychain runs its jobs through one global, non-thread-safe JobExecutor that lives in the thread
// that first used it, and (with libsecret) completes them from that thread's GLib main context. So
// every job is created, started and finished on one dedicated keychain thread with its own event
// loop; callers on any thread (with or without an event loop of their own) post the job there and
// wait on a semaphore with a timeout. A job that times out keeps running on the keychain thread and
// deletes itself when it completes, so nothing is ever freed while the backend still refers to it.

namespace gh {

namespace {

enum class Op { Read, Write, Remove };

struct Outcome {
    QSemaphore done;
    QKeychain::Error error = QKeychain::NoError;
    QString errorString;
    QString data; // the secret, for reads
    std::function<void()> then; // asynchronous calls: runs on the keychain thread once finished
};

class KeychainThread
{
public:
    static KeychainThread &instance()
    {
        static KeychainThread *self = new KeychainThread; // deliberately leaked: see stop()
        return *self;
    }

    // Posts one job to the keychain thread. False when the thread is not running (after shutdown).
    bool post(Op op, const QString &account, const QString &secret, const std::shared_ptr<Outcome> &outcome)
    {
        QMutexLocker lock(&m_mutex);
        if (!m_thread || !m_thread->isRunning() || m_stopped)
            return false;
        return QMetaObject::invokeMethod(m_context, [op, account, secret, outcome] { start(op, account, secret, outcome); },
                                         Qt::QueuedConnection);
    }

    [[nodiscard]] bool isKeychainThread() const { return QThread::currentThread() == m_thread; }

private:
    KeychainThread()
    {
        m_thread = new QThread;
        m_thread->setObjectName(QStringLiteral("gatehouse-keychain"));
        m_context = new QObject;
        m_context->moveToThread(m_thread);
        QObject::connect(m_thread, &QThread::finished, m_context, &QObject::deleteLater);
        m_thread->start();
        // Stop the thread with the application so no event loop runs while statics are destroyed.
        qAddPostRoutine(&KeychainThread::stop);
    }

    static void stop()
    {
        KeychainThread &self = instance();
        QMutexLocker lock(&self.m_mutex);
        if (self.m_stopped)
            return;
        self.m_stopped = true;
        self.m_thread->quit();
        // A backend that hangs must not hang the exit: after the grace period the thread is left
        // running (and the QThread object leaked) instead of being destroyed while it runs.
        if (!self.m_thread->wait(3000))
            qCWarning(lcSecrets) << "the keychain thread did not stop in time";
    }

    // Runs on the keychain thread.
    static void start(Op op, const QString &account, const QString &secret, const std::shared_ptr<Outcome> &outcome)
    {
        QKeychain::Job *job = nullptr;
        switch (op) {
        case Op::Read:
            job = new QKeychain::ReadPasswordJob(QLatin1String(SecretStore::kService));
            break;
        case Op::Write: {
            auto *write = new QKeychain::WritePasswordJob(QLatin1String(SecretStore::kService));
            write->setTextData(secret);
            job = write;
            break;
        }
        case Op::Remove:
            job = new QKeychain::DeletePasswordJob(QLatin1String(SecretStore::kService));
            break;
        }
        job->setAutoDelete(false); // deleted below, only once it has finished
        job->setInsecureFallback(false); // never a plain-text file
        job->setKey(account);
        QObject::connect(job, &QKeychain::Job::finished, job, [outcome, op](QKeychain::Job *j) {
            outcome->error = j->error();
            outcome->errorString = j->errorString();
            if (op == Op::Read && j->error() == QKeychain::NoError)
                outcome->data = static_cast<QKeychain::ReadPasswordJob *>(j)->textData();
            j->deleteLater();
            outcome->done.release();
            if (outcome->then)
                outcome->then();
        });
        job->start();
    }

    QMutex m_mutex;
    QThread *m_thread = nullptr;
    QObject *m_context = nullptr;
    bool m_stopped = false;
};

// Runs one keychain operation and waits for it. Returns nullptr (and sets *error) on timeout or when
// no keychain thread is available.
std::shared_ptr<Outcome> run(Op op, const QString &account, const QString &secret, int timeoutMs, QString *error)
{
    KeychainThread &thread = KeychainThread::instance();
    if (thread.isKeychainThread()) {
        // Waiting here would deadlock: the job can only finish on this very thread.
        *error = QStringLiteral("keychain unavailable (called from its own thread)");
        return nullptr;
    }
    auto outcome = std::make_shared<Outcome>();
    if (!thread.post(op, account, secret, outcome)) {
        *error = QStringLiteral("keychain unavailable (the application is shutting down)");
        return nullptr;
    }
    if (!outcome->done.tryAcquire(1, std::max(timeoutMs, 1))) {
        *error = QStringLiteral("keychain unavailable (no answer within %1 ms)").arg(timeoutMs);
        return nullptr;
    }
    return outcome;
}

// Starts one keychain operation without waiting; `finished` runs on the keychain thread with the
// outcome (or with an outcome whose errorString says why the job could not be posted).
void post(Op op, const QString &account, const QString &secret, std::function<void(const Outcome &)> finished)
{
    auto outcome = std::make_shared<Outcome>();
    Outcome *raw = outcome.get(); // the job's handler holds `outcome`: no cycle through `then`
    outcome->then = [raw, finished] { finished(*raw); };
    KeychainThread &thread = KeychainThread::instance();
    if (!thread.post(op, account, secret, outcome)) {
        outcome->error = QKeychain::OtherError;
        outcome->errorString = QStringLiteral("the application is shutting down");
        finished(*outcome);
    }
}

// Delivers `call` on the application's (main) thread, unless the object `guard` watches is gone by
// then. The guard is made by the caller on the main thread and only read there.
void deliver(const QPointer<QObject> &guard, std::function<void()> call)
{
    QCoreApplication *app = QCoreApplication::instance();
    if (!app)
        return;
    QMetaObject::invokeMethod(
        app,
        [guard, call = std::move(call)] {
            if (guard)
                call();
        },
        Qt::QueuedConnection);
}

// Errors start with "keychain unavailable" whenever the keychain itself cannot be used (no backend,
// no Secret Service on the bus, no answer), so callers can stop asking it for further providers.
QString describe(QKeychain::Error code, const QString &message)
{
    const QString detail = message.isEmpty() ? QStringLiteral("error %1").arg(int(code)) : message;
    switch (code) {
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        return QStringLiteral("keychain access denied (%1)").arg(detail);
    case QKeychain::CouldNotDeleteEntry:
        return QStringLiteral("keychain could not delete the entry (%1)").arg(detail);
    default:
        return QStringLiteral("keychain unavailable (%1)").arg(detail);
    }
}

bool validAccount(const QString &providerId, QString *error)
{
    if (providerId.isEmpty()) {
        *error = QStringLiteral("empty provider id");
        return false;
    }
    return true;
}

} // namespace

bool SecretStore::keychainAvailable(int timeoutMs)
{
    // A harmless read of an account no provider can have (provider ids are [a-z0-9._-]).
    QString error;
    const auto outcome = run(Op::Read, QStringLiteral("Gatehouse probe"), QString(), timeoutMs, &error);
    if (!outcome) {
        qCDebug(lcSecrets) << "keychain unavailable:" << error;
        return false;
    }
    const bool ok = outcome->error == QKeychain::NoError || outcome->error == QKeychain::EntryNotFound;
    if (!ok)
        qCDebug(lcSecrets) << "keychain unavailable:" << describe(outcome->error, outcome->errorString);
    return ok;
}

SecretStore::Result SecretStore::write(const QString &providerId, const QString &secret, int timeoutMs)
{
    Result result;
    if (!validAccount(providerId, &result.error))
        return result;
    if (secret.isEmpty()) {
        result.error = QStringLiteral("empty secret for provider %1").arg(providerId);
        return result;
    }
    const auto outcome = run(Op::Write, providerId, secret, timeoutMs, &result.error);
    if (!outcome) {
        qCWarning(lcSecrets) << "writing the key of" << providerId << "failed:" << result.error;
        return result;
    }
    if (outcome->error != QKeychain::NoError) {
        result.error = describe(outcome->error, outcome->errorString);
        qCWarning(lcSecrets) << "writing the key of" << providerId << "failed:" << result.error;
        return result;
    }
    qCDebug(lcSecrets) << "stored the key of" << providerId << "in the keychain";
    result.ok = true;
    return result;
}

std::optional<QString> SecretStore::read(const QString &providerId, QString *error, int timeoutMs)
{
    QString err;
    if (error)
        error->clear();
    if (!validAccount(providerId, &err)) {
        if (error)
            *error = err;
        return std::nullopt;
    }
    const auto outcome = run(Op::Read, providerId, QString(), timeoutMs, &err);
    if (!outcome) {
        if (error)
            *error = err;
        return std::nullopt;
    }
    if (outcome->error == QKeychain::EntryNotFound)
        return std::nullopt; // none stored: not an error
    if (outcome->error != QKeychain::NoError) {
        if (error)
            *error = describe(outcome->error, outcome->errorString);
        return std::nullopt;
    }
    return outcome->data;
}

SecretStore::Result SecretStore::remove(const QString &providerId, int timeoutMs)
{
    Result result;
    if (!validAccount(providerId, &result.error))
        return result;
    const auto outcome = run(Op::Remove, providerId, QString(), timeoutMs, &result.error);
    if (!outcome)
        return result;
    // Removing what is not there leaves the keychain as asked: success.
    if (outcome->error != QKeychain::NoError && outcome->error != QKeychain::EntryNotFound) {
        result.error = describe(outcome->error, outcome->errorString);
        qCWarning(lcSecrets) << "removing the key of" << providerId << "failed:" << result.error;
        return result;
    }
    result.ok = true;
    return result;
}

void SecretStore::writeAsync(const QString &providerId, const QString &secret, QObject *ctx,
                             std::function<void(Result)> done)
{
    const QPointer<QObject> context(ctx);
    Result invalid;
    if (!validAccount(providerId, &invalid.error) || secret.isEmpty()) {
        if (invalid.error.isEmpty())
            invalid.error = QStringLiteral("empty secret for provider %1").arg(providerId);
        deliver(context, [done, invalid] { done(invalid); });
        return;
    }
    post(Op::Write, providerId, secret, [providerId, context, done](const Outcome &o) {
        Result r;
        r.ok = o.error == QKeychain::NoError;
        if (!r.ok) {
            r.error = describe(o.error, o.errorString);
            qCWarning(lcSecrets) << "writing the key of" << providerId << "failed:" << r.error;
        }
        deliver(context, [done, r] { done(r); });
    });
}

void SecretStore::removeAsync(const QString &providerId, QObject *ctx, std::function<void(Result)> done)
{
    const QPointer<QObject> context(ctx);
    Result invalid;
    if (!validAccount(providerId, &invalid.error)) {
        deliver(context, [done, invalid] { done(invalid); });
        return;
    }
    post(Op::Remove, providerId, QString(), [context, done](const Outcome &o) {
        Result r;
        r.ok = o.error == QKeychain::NoError || o.error == QKeychain::EntryNotFound;
        if (!r.ok)
            r.error = describe(o.error, o.errorString);
        deliver(context, [done, r] { done(r); });
    });
}

void SecretStore::readAllAsync(const QStringList &providerIds, QObject *ctx,
                               std::function<void(QHash<QString, QString>, QStringList)> done)
{
    const QPointer<QObject> context(ctx);
    struct Batch {
        QMutex mutex;
        int left = 0;
        QHash<QString, QString> found;
        QStringList errors;
    };
    auto batch = std::make_shared<Batch>();
    batch->left = int(providerIds.size());
    if (batch->left == 0) {
        deliver(context, [done] { done({}, {}); });
        return;
    }
    for (const QString &id : providerIds) {
        post(Op::Read, id, QString(), [batch, id, context, done](const Outcome &o) {
            QMutexLocker lock(&batch->mutex);
            if (o.error == QKeychain::NoError)
                batch->found.insert(id, o.data);
            else if (o.error != QKeychain::EntryNotFound)
                batch->errors.append(QStringLiteral("provider %1: keychain: %2").arg(id, describe(o.error, o.errorString)));
            if (--batch->left > 0)
                return;
            QHash<QString, QString> found = std::move(batch->found);
            QStringList errors = std::move(batch->errors);
            lock.unlock();
            deliver(context, [done, found, errors] { done(found, errors); });
        });
    }
}

std::optional<QString> SecretStore::resolve(const QString &providerId, const QString &envName, QString *source,
                                            bool tryKeychain)
{
    if (source)
        source->clear();
    if (tryKeychain && !providerId.isEmpty()) {
        QString error;
        const auto secret = read(providerId, &error);
        if (secret && !secret->isEmpty()) {
            if (source)
                *source = QStringLiteral("keychain");
            return secret;
        }
        if (!error.isEmpty())
            qCDebug(lcSecrets) << "no key for" << providerId << "from the keychain:" << error;
    }
    if (!envName.isEmpty()) {
        const QString value = qEnvironmentVariable(envName.toLocal8Bit().constData());
        if (!value.isEmpty()) {
            if (source)
                *source = QStringLiteral("env:") + envName;
            return value;
        }
    }
    return std::nullopt;
}

} // namespace gh
