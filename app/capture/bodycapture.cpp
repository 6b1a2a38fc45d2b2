#include "capture/bodycapture.h"
#include "cache/responsecache.h"
#include "core/logging.h"
#include "secretscan/secretredact.h"
#include "secretscan/secretrules.h"
#include "store/capturestore.h"
#include <chrono>
#include <QDateTime>
#include <QDir>
#include <QStringList>

namespace gh {

namespace {

constexpr qint64 kDayMs = 86'400'000;
constexpr auto kSweepEvery = std::chrono::hours(1);
constexpr auto kBatchWindow = std::chrono::milliseconds(200);

// A body ready for the file: redacted, compressed; `note` says what was left out.
QByteArray prepare(QByteArray body, const char *what, qint64 *rawBytes, QStringList *notes)
{
    if (body.isEmpty()) {
        *rawBytes = 0;
        return {};
    }
    if (!BodyCapture::redact(&body)) {
        notes->append(QStringLiteral("%1 not kept: a secret in it could not be redacted").arg(QLatin1String(what)));
        *rawBytes = 0;
        return {};
    }
    *rawBytes = body.size();
    return ResponseCache::compress(body);
}

// The row that keeps one exchange: both bodies compressed (a body over kMaxBodyBytes is left out),
// with notes saying what was left out or cut.
store::CaptureRow captureRow(CapturedExchange &&e)
{
    store::CaptureRow r;
    QStringList notes;
    r.requestId = e.requestId;
    r.keyId = e.keyId;
    r.keyName = e.keyName;
    r.startedAtMs = e.startedAtMs;
    r.expiresAtMs = e.startedAtMs + qint64(qMax(1, e.retentionDays)) * kDayMs;
    if (e.request.size() > BodyCapture::kMaxBodyBytes) {
        notes.append(QStringLiteral("request not kept: larger than %1 MiB").arg(BodyCapture::kMaxBodyBytes >> 20));
        e.request.clear();
    }
    r.requestFrame = prepare(std::move(e.request), "request", &r.requestBytes, &notes);
    if (e.responseCut)
        notes.append(QStringLiteral("response cut at %1 MiB").arg(BodyCapture::kMaxBodyBytes >> 20));
    r.responseFrame = prepare(std::move(e.response), "response", &r.responseBytes, &notes);
    r.responseType = QString::fromLatin1(e.responseType);
    r.note = notes.join(QStringLiteral("; "));
    return r;
}

// What a retention sweep did, when it did something (a negative count: it failed with `error`).
void logSweep(qint64 deleted, const QString &error)
{
    if (deleted < 0)
        qCWarning(lcStore) << "capture: the retention sweep failed:" << error;
    else if (deleted > 0)
        qCInfo(lcStore) << "capture: the retention sweep deleted" << deleted << "captured exchange(s)";
}

} // namespace

BodyCapture::BodyCapture(Clock clock)
    : m_clock(std::move(clock))
{ }

BodyCapture::~BodyCapture()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

qint64 BodyCapture::now() const
{
    return m_clock ? m_clock() : QDateTime::currentMSecsSinceEpoch();
}

bool BodyCapture::open(const QString &path, QString *error)
{
    auto file = std::make_unique<store::CaptureStore>();
    if (!file->open(path, true, error))
        return false;
    m_file = std::move(file);
    {
        std::lock_guard lock(m_mutex);
        ++m_sweepsAsked; // the first sweep, at start
    }
    m_thread = std::thread([this] { run(); });
    return true;
}

void BodyCapture::setRetention(const QHash<qint64, int> &days)
{
    std::lock_guard lock(m_mutex);
    m_retention = days;
}

void BodyCapture::submit(CapturedExchange exchange)
{
    const qsizetype bytes = exchange.request.size() + exchange.response.size();
    {
        std::lock_guard lock(m_mutex);
        if (!m_file || m_stop || m_queuedBytes + bytes > kMaxQueuedBytes) {
            ++m_dropped;
            return;
        }
        m_queuedBytes += bytes;
        m_queue.push_back(std::move(exchange));
        ++m_submitted;
    }
    m_cv.notify_all();
}

qint64 BodyCapture::sweepNow()
{
    std::unique_lock lock(m_mutex);
    if (!m_file)
        return 0;
    const quint64 ticket = ++m_sweepsAsked;
    m_cv.notify_all();
    m_doneCv.wait(lock, [&] { return m_sweepsDone >= ticket || m_stop; });
    return m_lastSweepDeleted;
}

void BodyCapture::flush()
{
    std::unique_lock lock(m_mutex);
    const quint64 target = m_submitted;
    m_doneCv.wait(lock, [&] { return m_written >= target || !m_thread.joinable() || m_stop; });
}

qint64 BodyCapture::dropped() const
{
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

QString BodyCapture::pathIn(const QString &dataDir)
{
    return QDir(dataDir).filePath(QStringLiteral("captures.db"));
}

bool BodyCapture::redact(QByteArray *body)
{
    const auto rules = SecretRules::builtin();
    const QList<SecretFinding> findings = rules->scan(*body);
    if (findings.isEmpty())
        return true;
    QString rule;
    return redactSecrets(body, findings, &rule);
}

void BodyCapture::run()
{
    auto nextSweep = std::chrono::steady_clock::now() + kSweepEvery;
    for (;;) {
        std::vector<CapturedExchange> batch;
        bool sweep = false;
        quint64 sweepTicket = 0;
        QHash<qint64, int> retention;
        bool stopping = false;
        {
            std::unique_lock lock(m_mutex);
            m_cv.wait_until(
                lock, nextSweep, [&] { return m_stop || !m_queue.empty() || m_sweepsAsked > m_sweepsDone; });
            if (!m_queue.empty() && !m_stop && m_sweepsAsked == m_sweepsDone) {
                // Gather what comes in the next moments into one transaction.
                m_cv.wait_for(lock, kBatchWindow, [&] { return m_stop || m_sweepsAsked > m_sweepsDone; });
            }
            batch.swap(m_queue);
            m_queuedBytes = 0;
            sweepTicket = m_sweepsAsked;
            sweep = m_sweepsAsked > m_sweepsDone || std::chrono::steady_clock::now() >= nextSweep;
            retention = m_retention;
            stopping = m_stop;
        }
        if (!batch.empty()) {
            QList<store::CaptureRow> rows;
            rows.reserve(qsizetype(batch.size()));
            for (CapturedExchange &e : batch)
                rows.append(captureRow(std::move(e)));
            QString error;
            if (!m_file->insert(rows, &error))
                qCWarning(lcStore) << "capture: writing" << rows.size() << "captured exchange(s) failed:" << error;
            std::lock_guard lock(m_mutex);
            m_written += quint64(batch.size());
        }
        if (sweep) {
            QString error;
            const qint64 deleted = m_file->sweep(now(), retention, &error);
            logSweep(deleted, error);
            nextSweep = std::chrono::steady_clock::now() + kSweepEvery;
            std::lock_guard lock(m_mutex);
            m_lastSweepDeleted = qMax<qint64>(0, deleted);
            m_sweepsDone = sweepTicket;
        }
        m_doneCv.notify_all();
        if (stopping) {
            std::lock_guard lock(m_mutex);
            if (m_queue.empty())
                break;
        }
    }
    m_doneCv.notify_all();
}

std::optional<CapturedBodies> BodyCapture::read(const QString &path, const QString &requestId)
{
    store::CaptureStore file;
    QString error;
    if (!file.open(path, false, &error))
        return std::nullopt;
    const auto row = file.byRequest(requestId);
    if (!row)
        return std::nullopt;
    CapturedBodies b;
    b.requestId = row->requestId;
    b.keyName = row->keyName;
    b.startedAtMs = row->startedAtMs;
    b.expiresAtMs = row->expiresAtMs;
    b.responseType = row->responseType;
    b.note = row->note;
    if (row->requestBytes > 0)
        b.request = ResponseCache::decompress(row->requestFrame, row->requestBytes).value_or(QByteArray());
    if (row->responseBytes > 0)
        b.response = ResponseCache::decompress(row->responseFrame, row->responseBytes).value_or(QByteArray());
    return b;
}

qint64 BodyCapture::deleteKey(const QString &path, qint64 keyId, QString *error)
{
    store::CaptureStore file;
    if (!file.open(path, true, error))
        return -1;
    return file.deleteKey(keyId, error);
}

} // namespace gh
