#include "store/requestjournal.h"
#include "core/logging.h"
#include <QCoreApplication>
#include <QDataStream>
#include <QDir>
#include <QFileInfo>
#include <QIODevice>
#include <cerrno>
#include <cstring>
#include <xxhash.h>

#ifdef Q_OS_WIN
#include <fcntl.h>
#include <io.h>
#include <sys/locking.h>
#include <sys/stat.h>
#else
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace gh {

namespace {

constexpr char kMagic[4] = {'G', 'H', 'J', '1'};
constexpr qsizetype kHeader = 4 + 4 + 8;
constexpr quint32 kMaxPayload = 64 * 1024 * 1024; // far above any row; a larger length is damage
constexpr QDataStream::Version kStreamVersion = QDataStream::Qt_6_0;
// The payload's own version: a later build reads what an earlier one wrote, field by field.
constexpr quint8 kPayloadVersion = 1;

quint64 checksum(const char *data, qsizetype size) { return XXH3_64bits(data, size_t(size)); }

void putLe(char *out, quint64 v, int bytes)
{
    for (int i = 0; i < bytes; ++i)
        out[i] = char((v >> (8 * i)) & 0xff);
}

quint64 getLe(const char *in, int bytes)
{
    quint64 v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= quint64(quint8(in[i])) << (8 * i);
    return v;
}

// --- the platform part: an append-only file held with an exclusive advisory lock ---

int openLocked(const QString &path, bool create)
{
    const QByteArray native = QFile::encodeName(QDir::toNativeSeparators(path));
#ifdef Q_OS_WIN
    const int flags = _O_BINARY | _O_NOINHERIT | (create ? (_O_CREAT | _O_EXCL | _O_WRONLY | _O_APPEND) : _O_RDWR);
    const int fd = _open(native.constData(), flags, _S_IREAD | _S_IWRITE);
    if (fd < 0)
        return -1;
    _lseek(fd, 0, SEEK_SET);
    if (_locking(fd, _LK_NBLCK, 1) != 0) { // byte 0, whether or not the file has it
        _close(fd);
        return -1;
    }
    _lseek(fd, 0, SEEK_END);
#else
    const int flags = O_CLOEXEC | (create ? (O_CREAT | O_EXCL | O_WRONLY | O_APPEND) : O_RDWR);
    const int fd = ::open(native.constData(), flags, 0600);
    if (fd < 0)
        return -1;
    // Released by the kernel when the process dies, however it dies: what tells a live journal from
    // an orphan.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return -1;
    }
#endif
    return fd;
}

void closeFd(int fd)
{
#ifdef Q_OS_WIN
    _close(fd);
#else
    ::close(fd);
#endif
}

bool writeAll(int fd, const char *data, qsizetype size)
{
    while (size > 0) {
#ifdef Q_OS_WIN
        const int n = _write(fd, data, unsigned(std::min<qsizetype>(size, 1 << 30)));
#else
        const ssize_t n = ::write(fd, data, size_t(size));
#endif
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        if (n == 0)
            return false;
        data += n;
        size -= n;
    }
    return true;
}

QDataStream &operator<<(QDataStream &out, const Usage &u)
{
    return out << u.inputTokens << u.cacheReadTokens << u.cacheWriteTokens << u.cacheWrite1hTokens << u.outputTokens
               << u.reasoningTokens << u.reported << u.estimated;
}

QDataStream &operator>>(QDataStream &in, Usage &u)
{
    return in >> u.inputTokens >> u.cacheReadTokens >> u.cacheWriteTokens >> u.cacheWrite1hTokens >> u.outputTokens
        >> u.reasoningTokens >> u.reported >> u.estimated;
}

QDataStream &operator<<(QDataStream &out, const AttemptRecord &a)
{
    return out << qint32(a.index) << a.modelId << a.provider << quint8(a.outcome) << qint32(a.status) << a.error
               << a.startedAtMs << a.latencyMs;
}

QDataStream &operator>>(QDataStream &in, AttemptRecord &a)
{
    qint32 index = 0, status = 0;
    quint8 outcome = 0;
    in >> index >> a.modelId >> a.provider >> outcome >> status >> a.error >> a.startedAtMs >> a.latencyMs;
    a.index = index;
    a.status = status;
    a.outcome = outcome <= quint8(AttemptRecord::Outcome::Skipped) ? AttemptRecord::Outcome(outcome)
                                                                   : AttemptRecord::Outcome::Failed;
    return in;
}

} // namespace

// Every field of RequestRecord, in this order. A field added to RequestRecord is added at the end
// here, under a new kPayloadVersion (tst_requestjournal round-trips a record with every field set).
QByteArray RequestJournal::encode(const RequestRecord &r)
{
    QByteArray out(kHeader, Qt::Uninitialized);
    out.reserve(512 + r.promptBlocks.size() * 8 + r.attemptLog.size() * 96);
    {
        QDataStream s(&out, QIODevice::WriteOnly | QIODevice::Append);
        s.setVersion(kStreamVersion);
        s << kPayloadVersion << r.id << r.startedAtMs << r.keyId << r.keyName << r.endpoint << r.requestedModel << r.route
          << r.modelId << r.provider << r.upstreamModel << r.sessionId << qint32(r.status) << r.error << r.latencyMs
          << r.ttftMs << r.usage << r.cost.has_value() << r.cost.value_or(0) << r.stream << qint32(r.attempts)
          << quint32(r.attemptLog.size());
        for (const AttemptRecord &a : r.attemptLog)
            s << a;
        s << r.promptBlocks << r.promptSystemBytes << r.promptToolsBytes << r.pending << r.settlesPending
          << r.reserved << r.recovered;
    }
    const qsizetype payload = out.size() - kHeader;
    std::memcpy(out.data(), kMagic, 4);
    putLe(out.data() + 4, quint64(payload), 4);
    putLe(out.data() + 8, checksum(out.constData() + kHeader, payload), 8);
    return out;
}

RequestJournal::ReadResult RequestJournal::decodeAll(const QByteArray &file)
{
    ReadResult result;
    qsizetype at = 0;
    while (at < file.size()) {
        if (file.size() - at < kHeader || std::memcmp(file.constData() + at, kMagic, 4) != 0) {
            result.tornTail = true;
            break;
        }
        const quint64 length = getLe(file.constData() + at + 4, 4);
        if (length > kMaxPayload || qsizetype(length) > file.size() - at - kHeader) {
            result.tornTail = true;
            break;
        }
        const char *payload = file.constData() + at + kHeader;
        if (getLe(file.constData() + at + 8, 8) != checksum(payload, qsizetype(length))) {
            result.tornTail = true;
            break;
        }
        QDataStream s(QByteArray::fromRawData(payload, qsizetype(length)));
        s.setVersion(kStreamVersion);
        quint8 version = 0;
        s >> version;
        RequestRecord r;
        bool hasCost = false;
        NanoUsd cost = 0;
        qint32 status = 0, attempts = 0;
        s >> r.id >> r.startedAtMs >> r.keyId >> r.keyName >> r.endpoint >> r.requestedModel >> r.route >> r.modelId
            >> r.provider >> r.upstreamModel >> r.sessionId >> status >> r.error >> r.latencyMs >> r.ttftMs >> r.usage
            >> hasCost >> cost >> r.stream >> attempts;
        quint32 attemptCount = 0;
        s >> attemptCount;
        for (quint32 i = 0; i < attemptCount && s.status() == QDataStream::Ok; ++i) {
            AttemptRecord a;
            s >> a;
            r.attemptLog.append(std::move(a));
        }
        s >> r.promptBlocks >> r.promptSystemBytes >> r.promptToolsBytes >> r.pending >> r.settlesPending >> r.reserved
            >> r.recovered;
        if (version != kPayloadVersion || s.status() != QDataStream::Ok || r.id.isEmpty()) {
            // A whole record with a good checksum that this build cannot read: skip it, keep the rest.
            qCWarning(lcStore) << "journal: skipped a record this build cannot read (format" << version << ")";
            at += kHeader + qsizetype(length);
            continue;
        }
        r.status = status;
        r.attempts = attempts;
        if (hasCost)
            r.cost = cost;
        result.records.push_back(std::move(r));
        at += kHeader + qsizetype(length);
    }
    return result;
}

RequestJournal::RequestJournal(const QString &dir, const QString &tag, LogProgress progress)
    : m_dir(dir)
    , m_tag(tag)
    , m_progress(std::move(progress))
{
    if (!QDir().mkpath(m_dir)) {
        qCWarning(lcStore).noquote() << "journal: cannot create" << QDir::toNativeSeparators(m_dir)
                                     << "- answered requests wait for the log's commit instead";
        return;
    }
    openNext();
}

RequestJournal::~RequestJournal()
{
    sealCurrent();
    if (!m_sealed.empty() && m_progress.committed && m_progress.flush && m_progress.committed() < m_sealed.back().until)
        m_progress.flush();
    removeCommitted();
    // What is left holds rows the log has not committed (it cannot be written): kept for the next
    // start's replay.
    for (Sealed &s : m_sealed)
        closeFd(s.fd);
}

bool RequestJournal::openNext()
{
    // A name no other journal of this or an earlier process has: the pid, a counter, and a retry on
    // the rare clash with a leftover of a process that had the same pid.
    for (int tries = 0; tries < 1000; ++tries) {
        const QString path = QStringLiteral("%1/%2-%3-%4.journal")
                                 .arg(m_dir, m_tag)
                                 .arg(QCoreApplication::applicationPid())
                                 .arg(m_next++, 6, 10, QLatin1Char('0'));
        const int fd = openLocked(path, true);
        if (fd >= 0) {
            m_fd = fd;
            m_path = path;
            m_bytes = 0;
            return true;
        }
        if (errno != EEXIST)
            break;
    }
    qCWarning(lcStore).noquote() << "journal: cannot create a file in" << QDir::toNativeSeparators(m_dir) << "-"
                                 << QString::fromLocal8Bit(std::strerror(errno))
                                 << "- answered requests wait for the log's commit instead";
    m_fd = -1;
    m_path.clear();
    return false;
}

void RequestJournal::sealCurrent()
{
    if (m_fd < 0)
        return;
    m_sealed.push_back(Sealed{m_path, m_fd, m_progress.accepted ? m_progress.accepted() : 0});
    m_fd = -1;
    m_path.clear();
}

void RequestJournal::removeCommitted()
{
    if (m_sealed.empty() || !m_progress.committed)
        return;
    const quint64 committed = m_progress.committed();
    while (!m_sealed.empty() && committed >= m_sealed.front().until) {
        Sealed &s = m_sealed.front();
        QFile::remove(s.path); // before the unlock: no other process replays it meanwhile
        closeFd(s.fd);
        m_sealed.pop_front();
    }
}

bool RequestJournal::append(const RequestRecord &record)
{
    if (!m_sealed.empty())
        removeCommitted();
    if (m_fd < 0 || m_bytes >= m_rotateBytes) {
        // Rotation, or a retry after a failure: the records this file had are all accepted by the
        // log now (each append is followed by the log's appendRequest on this thread).
        sealCurrent();
        if (!openNext())
            return false;
    }
    const QByteArray bytes = encode(record);
    if (!writeAll(m_fd, bytes.constData(), bytes.size())) {
        const int error = errno;
        qCWarning(lcStore).noquote() << "journal: cannot write" << QDir::toNativeSeparators(m_path) << "-"
                                     << QString::fromLocal8Bit(std::strerror(error));
        // A partial record is ignored by replay (its checksum fails); the next append starts a new
        // file so that what follows it is read.
        sealCurrent();
        return false;
    }
    m_bytes += bytes.size();
    return true;
}

std::vector<RequestJournal::Orphan> RequestJournal::claimOrphans(const QString &dir)
{
    std::vector<Orphan> out;
    const QDir d(dir);
    if (!d.exists())
        return out;
    // Oldest first: a stream's pending row comes before its final row in the same file, and a
    // thread's files are numbered in order.
    const QFileInfoList files = d.entryInfoList({QStringLiteral("*.journal")}, QDir::Files, QDir::Name);
    for (const QFileInfo &f : files) {
        const int fd = openLocked(f.absoluteFilePath(), false);
        if (fd < 0)
            continue; // held by a running process (or unreadable: left alone)
        out.push_back(Orphan{f.absoluteFilePath(), fd});
    }
    return out;
}

void RequestJournal::release(Orphan &orphan, bool remove)
{
    if (remove)
        QFile::remove(orphan.path);
    if (orphan.fd >= 0)
        closeFd(orphan.fd);
    orphan.fd = -1;
}

} // namespace gh
