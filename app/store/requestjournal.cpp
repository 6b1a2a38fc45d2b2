#include "store/requestjournal.h"
#include "core/logging.h"
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QIODevice>
#include <optional>
#include <algorithm>
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
// The payload's own version: a later build reads what an earlier one wrote, field by field.
// 2: secretFindings after error; the response cache's status and saving after the prompt blocks.
// 3: refusal last.
constexpr quint8 kPayloadVersion = 3;
constexpr quint8 kOldestPayloadVersion = 1;

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

// The payload: fixed-width little-endian integers, strings as a u32 byte count and UTF-8. Written
// by hand: QDataStream took about 14,000 instructions a row (UTF-16 strings through a QBuffer),
// QByteArray::append per field about 9,000.
class Writer
{
public:
    // Writes from the end of `out`, which it grows by doubling; finish() trims it.
    explicit Writer(QByteArray &out) : m_out(out), m_pos(out.size()) { }
    void u8(quint8 v) { *room(1) = char(v); }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void i32(qint32 v) { putLe(room(4), quint64(quint32(v)), 4); }
    void i64(qint64 v) { putLe(room(8), quint64(v), 8); }
    void u64(quint64 v) { putLe(room(8), v, 8); }
    void str(const QString &v)
    {
        // Nearly every string here is ASCII (ids, model names, paths): copied without a conversion.
        const qsizetype n = v.size();
        const char16_t *chars = reinterpret_cast<const char16_t *>(v.constData());
        qsizetype i = 0;
        char *dst = room(4 + n) + 4;
        for (; i < n && chars[i] < 0x80; ++i)
            dst[i] = char(chars[i]);
        if (i == n) {
            putLe(dst - 4, quint64(n), 4);
            return;
        }
        m_pos -= 4 + n;
        const QByteArray utf8 = v.toUtf8();
        putLe(room(4), quint64(utf8.size()), 4);
        std::memcpy(room(utf8.size()), utf8.constData(), size_t(utf8.size()));
    }
    void finish() { m_out.resize(m_pos); }

private:
    char *room(qsizetype n)
    {
        if (m_pos + n > m_out.size())
            m_out.resize(std::max(m_out.size() * 2, m_pos + n));
        char *at = m_out.data() + m_pos;
        m_pos += n;
        return at;
    }
    QByteArray &m_out;
    qsizetype m_pos;
};

class Reader
{
public:
    Reader(const char *data, qsizetype size) : m_p(data), m_end(data + size) { }
    [[nodiscard]] bool ok() const { return m_ok; }
    [[nodiscard]] bool atEnd() const { return m_p == m_end; }
    quint8 u8() { return quint8(fixed(1)); }
    bool boolean() { return u8() != 0; }
    qint32 i32() { return qint32(quint32(fixed(4))); }
    qint64 i64() { return qint64(fixed(8)); }
    quint64 u64() { return fixed(8); }
    QString str()
    {
        const quint64 n = fixed(4);
        if (!m_ok || n > quint64(m_end - m_p)) {
            m_ok = false;
            return {};
        }
        QString v = QString::fromUtf8(m_p, qsizetype(n));
        m_p += n;
        return v;
    }
    // A count of items of at least `minBytes` each: damage if more than the rest could hold.
    quint32 count(qsizetype minBytes)
    {
        const quint64 n = fixed(4);
        if (!m_ok || qsizetype(n) * minBytes > m_end - m_p) {
            m_ok = false;
            return 0;
        }
        return quint32(n);
    }

private:
    quint64 fixed(int bytes)
    {
        if (!m_ok || m_end - m_p < bytes) {
            m_ok = false;
            return 0;
        }
        const quint64 v = getLe(m_p, bytes);
        m_p += bytes;
        return v;
    }
    const char *m_p;
    const char *m_end;
    bool m_ok = true;
};

// Reads one payload; std::nullopt when it is not a whole record of this format.
std::optional<RequestRecord> decodePayload(const char *data, qsizetype size, quint8 *version)
{
    Reader in(data, size);
    *version = in.u8();
    if (*version < kOldestPayloadVersion || *version > kPayloadVersion)
        return std::nullopt;
    RequestRecord r;
    for (QString *v : {&r.id, &r.keyName, &r.endpoint, &r.requestedModel, &r.route, &r.modelId, &r.provider,
                       &r.upstreamModel, &r.sessionId, &r.error})
        *v = in.str();
    if (*version >= 2)
        r.secretFindings = in.str();
    qint64 cost = 0;
    for (qint64 *v : {&r.startedAtMs, &r.keyId, &r.latencyMs, &r.ttftMs, &r.usage.inputTokens, &r.usage.cacheReadTokens,
                      &r.usage.cacheWriteTokens, &r.usage.cacheWrite1hTokens, &r.usage.outputTokens,
                      &r.usage.reasoningTokens, &cost, &r.promptSystemBytes, &r.promptToolsBytes, &r.reserved,
                      &r.overshoot})
        *v = in.i64();
    r.status = in.i32();
    r.attempts = in.i32();
    bool hasCost = false;
    for (bool *v : {&r.usage.reported, &r.usage.estimated, &hasCost, &r.stream, &r.pending, &r.settlesPending,
                    &r.recovered})
        *v = in.boolean();
    if (hasCost)
        r.cost = cost;
    const quint32 attempts = in.count(4 + 4 + 4 + 1 + 4 + 4 + 8 + 8);
    for (quint32 i = 0; i < attempts && in.ok(); ++i) {
        AttemptRecord a;
        a.index = in.i32();
        a.modelId = in.str();
        a.provider = in.str();
        const quint8 outcome = in.u8();
        a.outcome = outcome <= quint8(AttemptRecord::Outcome::Skipped) ? AttemptRecord::Outcome(outcome)
                                                                       : AttemptRecord::Outcome::Failed;
        a.status = in.i32();
        a.error = in.str();
        a.startedAtMs = in.i64();
        a.latencyMs = in.i64();
        r.attemptLog.append(std::move(a));
    }
    const quint32 blocks = in.count(8);
    r.promptBlocks.reserve(blocks);
    for (quint32 i = 0; i < blocks && in.ok(); ++i)
        r.promptBlocks.append(in.u64());
    if (*version >= 2) {
        r.cacheStatus = in.str();
        r.cacheSaved = in.i64();
    }
    if (*version >= 3)
        r.refusal = in.str();
    if (!in.ok() || !in.atEnd() || r.id.isEmpty())
        return std::nullopt;
    return r;
}

} // namespace

// Every field of RequestRecord, in the order decodePayload() reads them. A field added to
// RequestRecord is added here under a new kPayloadVersion (tst_requestjournal round-trips a record
// with every field set).
QByteArray RequestJournal::encode(const RequestRecord &r)
{
    QByteArray out(kHeader + 512 + r.promptBlocks.size() * 8 + r.attemptLog.size() * 128, Qt::Uninitialized);
    out.resize(kHeader);
    Writer w(out);
    w.u8(kPayloadVersion);
    for (const QString *v : {&r.id, &r.keyName, &r.endpoint, &r.requestedModel, &r.route, &r.modelId, &r.provider,
                             &r.upstreamModel, &r.sessionId, &r.error, &r.secretFindings})
        w.str(*v);
    for (qint64 v : {r.startedAtMs, r.keyId, r.latencyMs, r.ttftMs, r.usage.inputTokens, r.usage.cacheReadTokens,
                     r.usage.cacheWriteTokens, r.usage.cacheWrite1hTokens, r.usage.outputTokens, r.usage.reasoningTokens,
                     r.cost.value_or(0), r.promptSystemBytes, r.promptToolsBytes, r.reserved, r.overshoot})
        w.i64(v);
    w.i32(r.status);
    w.i32(r.attempts);
    for (bool v : {r.usage.reported, r.usage.estimated, r.cost.has_value(), r.stream, r.pending, r.settlesPending,
                   r.recovered})
        w.boolean(v);
    w.i32(qint32(r.attemptLog.size()));
    for (const AttemptRecord &a : r.attemptLog) {
        w.i32(a.index);
        w.str(a.modelId);
        w.str(a.provider);
        w.u8(quint8(a.outcome));
        w.i32(a.status);
        w.str(a.error);
        w.i64(a.startedAtMs);
        w.i64(a.latencyMs);
    }
    w.i32(qint32(r.promptBlocks.size()));
    for (quint64 b : r.promptBlocks)
        w.u64(b);
    w.str(r.cacheStatus);
    w.i64(r.cacheSaved);
    w.str(r.refusal);
    w.finish();
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
        quint8 version = 0;
        if (std::optional<RequestRecord> r = decodePayload(payload, qsizetype(length), &version))
            result.records.push_back(std::move(*r));
        else // a whole record with a good checksum that this build cannot read: skip it, keep the rest
            qCWarning(lcStore) << "journal: skipped a record this build cannot read (format" << version << ")";
        at += kHeader + qsizetype(length);
    }
    return result;
}

QString RequestJournal::dirFor(const QString &databasePath) { return databasePath + QStringLiteral(".journal.d"); }

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
