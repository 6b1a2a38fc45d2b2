#pragma once
// Shared set-up of the view-model tests: a temporary data folder whose SQLite file is written
// through gh::Store, then a real in-process gh::Gateway on 127.0.0.1:0 and the window's Backend.
#include "backend.h"
#include "core/keyhash.h"
#include "gateway/gateway.h"
#include "spendaggregates.h"
#include "store/store.h"
#include <memory>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

namespace gh::ui::test {

inline RequestRecord record(const QString &id, qint64 startedAtMs, qint64 keyId, const QString &keyName,
    const QString &model, const QString &provider, std::optional<double> costUsd, int status = 200,
    qint64 inputTokens = 100, qint64 outputTokens = 50)
{
    RequestRecord r;
    r.id = id;
    r.startedAtMs = startedAtMs;
    r.keyId = keyId;
    r.keyName = keyName;
    r.endpoint = QStringLiteral("/v1/chat/completions");
    r.requestedModel = model;
    r.provider = provider;
    r.upstreamModel = model.section(u'/', 1);
    r.status = status;
    if (status >= 400)
        r.error = QStringLiteral("upstream answered %1").arg(status);
    r.latencyMs = 420;
    r.ttftMs = 120;
    r.usage.inputTokens = inputTokens;
    r.usage.outputTokens = outputTokens;
    r.usage.reported = true;
    if (costUsd)
        r.cost = fromUsd(*costUsd);
    r.attempts = 1;
    return r;
}

inline qint64 at(int y, int m, int d, int h, int min = 0)
{
    return QDateTime(QDate(y, m, d), QTime(h, min)).toMSecsSinceEpoch();
}

class UiFixture
{
public:
    UiFixture() { QVERIFY2(m_dir.isValid(), "no temporary folder"); }
    ~UiFixture()
    {
        backend.reset();
        gateway.reset();
    }

    [[nodiscard]] QString dataDir() const { return m_dir.path(); }
    [[nodiscard]] QString dbPath() const { return QDir(m_dir.path()).filePath(QStringLiteral("gatehouse.db")); }

    // Before start(): writes keys and requests with a Store of its own, then closes it.
    bool prepare(const QList<StoredKey> &keys, const QList<RequestRecord> &records)
    {
        Store store;
        QString error;
        if (!store.open(dbPath(), &error)) {
            qWarning() << "cannot open" << dbPath() << error;
            return false;
        }
        for (StoredKey k : keys) {
            if (k.secretHash.isEmpty())
                k.secretHash = hashSecret(QStringLiteral("gk-test-") + k.name);
            if (k.createdAtMs == 0)
                k.createdAtMs = 1;
            if (store.saveKey(k) == 0)
                return false;
        }
        for (const RequestRecord &r : records)
            store.appendRequest(r);
        store.flush();
        store.close();
        return true;
    }

    // Starts the gateway on a free port and the backend on top of it.
    bool start(qint64 fixedNowMs = 0)
    {
        gateway = std::make_unique<Gateway>();
        GatewayOptions options;
        options.dataDir = dataDir();
        options.port = 0;
        options.workers = 1;
        options.useKeychain = false;
        QElapsedTimer clock;
        clock.start();
        const auto started = gateway->start(options);
        gatewayStartMs = clock.elapsed();
        if (!started.ok) {
            qWarning() << "gateway did not start:" << started.error;
            return false;
        }
        backend = std::make_unique<Backend>(*gateway);
        if (fixedNowMs) {
            backend->setNowForTesting(fixedNowMs);
            // The clock is fixed after the aggregates' first read was queued: read again with it.
            backend->aggregates().reset();
        }
        return true;
    }

    // Appends to the running gateway's log and waits until it is committed.
    void append(const QList<RequestRecord> &records)
    {
        for (const RequestRecord &r : records)
            gateway->store().appendRequest(r);
        gateway->store().flush();
    }

    std::unique_ptr<Gateway> gateway;
    std::unique_ptr<Backend> backend;
    qint64 gatewayStartMs = 0;

private:
    QTemporaryDir m_dir;
};

// `expectedId`: the id the store will give it (they are assigned in insertion order: 1, 2, ...).
inline StoredKey key(qint64 expectedId, const QString &name, KeyLimits limits = {})
{
    Q_UNUSED(expectedId)
    StoredKey k;
    k.name = name;
    k.secretHint = QStringLiteral("…abcd");
    k.limits = limits;
    return k;
}

} // namespace gh::ui::test
