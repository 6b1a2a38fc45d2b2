#include "budget/ratelimiter.h"
#include <algorithm>
#include <QMutexLocker>

namespace gh {

namespace {

// Every this many admissions, windows of names that were not used for a minute are dropped
// (acquire() drops the window it touches when it becomes empty; this catches the idle ones).
constexpr quint64 kSweepEvery = 512;

// An entry recorded at atMs counts for [atMs, atMs + kWindowMs): at atMs + kWindowMs its slot is free.
bool expired(qint64 atMs, qint64 nowMs)
{
    return atMs + RateLimiter::kWindowMs <= nowMs;
}

struct Decision {
    bool admitted = true;
    qint64 retryAfterMs = 0;
    const char *limit = nullptr;
    qint64 limitValue = 0;
};

// The decision for a window whose first `first` entries are already expired (hasRoom() does not
// remove them) and whose live entries hold `liveTokens`.
template <typename Entries>
Decision decide(const Entries &entries, size_t first, qint64 liveTokens, const RateLimiter::Limits &limits,
    qint64 tokens, qint64 nowMs)
{
    Decision d;
    const auto live = qint64(entries.size() - first);
    qint64 rpmWait = 0;
    if (limits.rpm) {
        const qint64 rpm = *limits.rpm;
        if (rpm <= 0) {
            rpmWait = -1;
        } else if (live >= rpm) {
            // The (live - rpm + 1)-th live entry has to leave before one more request fits.
            const auto &e = entries[first + size_t(live - rpm)];
            rpmWait = e.atMs + RateLimiter::kWindowMs - nowMs;
        }
    }
    qint64 tpmWait = 0;
    if (limits.tpm) {
        const qint64 tpm = *limits.tpm;
        if (tokens > tpm) {
            tpmWait = -1;
        } else if (liveTokens + tokens > tpm) {
            // Walk from the oldest until enough tokens have left the window.
            qint64 remaining = liveTokens;
            for (size_t i = first; i < entries.size(); ++i) {
                remaining -= entries[i].tokens;
                if (remaining + tokens <= tpm) {
                    tpmWait = entries[i].atMs + RateLimiter::kWindowMs - nowMs;
                    break;
                }
            }
            // Adjusted counts can only make `remaining` reach 0 by the last entry, and tokens <= tpm.
            Q_ASSERT(tpmWait > 0);
        }
    }
    if (rpmWait == 0 && tpmWait == 0)
        return d;
    d.admitted = false;
    // A request fits only once both limits let it: report the limit that binds longest.
    const bool tpmBinds = tpmWait < 0 || (rpmWait >= 0 && tpmWait > rpmWait);
    if (tpmBinds) {
        d.limit = "tpm";
        d.limitValue = *limits.tpm;
        d.retryAfterMs = tpmWait;
    } else {
        d.limit = "rpm";
        d.limitValue = *limits.rpm;
        d.retryAfterMs = rpmWait;
    }
    return d;
}

} // namespace

void RateLimiter::expire(Window &w, qint64 nowMs)
{
    while (!w.entries.empty() && expired(w.entries.front().atMs, nowMs)) {
        w.tokens -= w.entries.front().tokens;
        w.entries.pop_front();
    }
    if (w.entries.empty())
        w.tokens = 0;
}

RateLimiter::Result RateLimiter::acquire(const QString &name, const Limits &limits, qint64 tokens, qint64 nowMs)
{
    Result r;
    r.ticket.name = name;
    r.ticket.atMs = nowMs;
    if (!limits.any()) {
        r.admitted = true; // nothing to count against: nothing recorded
        return r;
    }
    tokens = std::max<qint64>(tokens, 0);

    QMutexLocker lock(&m_mutex);
    auto it = m_windows.find(name);
    if (it != m_windows.end()) {
        expire(it.value(), nowMs);
        if (it.value().entries.empty()) {
            m_windows.erase(it);
            it = m_windows.end();
        }
    }
    static const std::deque<Entry> kNoEntries;
    const std::deque<Entry> &entries = it != m_windows.end() ? it.value().entries : kNoEntries;
    const qint64 liveTokens = it != m_windows.end() ? it.value().tokens : 0;
    const Decision d = decide(entries, 0, liveTokens, limits, tokens, nowMs);
    if (!d.admitted) {
        r.retryAfterMs = d.retryAfterMs;
        r.limit = QString::fromLatin1(d.limit);
        r.limitValue = d.limitValue;
        return r;
    }
    if (it == m_windows.end())
        it = m_windows.insert(name, Window{});
    Window &w = it.value();
    // Keep the deque ordered by time even when callers' clocks disagree by a little: an entry never
    // counts as older than the one before it (it then leaves the window slightly late, never early).
    const qint64 atMs = w.entries.empty() ? nowMs : std::max(nowMs, w.entries.back().atMs);
    const quint64 id = m_nextId++;
    w.entries.push_back(Entry{id, atMs, tokens});
    w.tokens += tokens;
    if (id % kSweepEvery == 0) {
        // (QHash::erase may move other entries: `w` is not used after this.) The window just
        // recorded into is not empty, so it stays.
        for (auto s = m_windows.begin(); s != m_windows.end();) {
            expire(s.value(), nowMs);
            s = s.value().entries.empty() ? m_windows.erase(s) : std::next(s);
        }
    }
    r.admitted = true;
    r.ticket.id = id;
    r.ticket.atMs = atMs;
    return r;
}

bool RateLimiter::hasRoom(const QString &name, const Limits &limits, qint64 tokens, qint64 nowMs) const
{
    if (!limits.any())
        return true;
    tokens = std::max<qint64>(tokens, 0);
    QMutexLocker lock(&m_mutex);
    const auto it = m_windows.constFind(name);
    if (it == m_windows.cend()) {
        static const std::deque<Entry> kNoEntries;
        return decide(kNoEntries, 0, 0, limits, tokens, nowMs).admitted;
    }
    const Window &w = it.value();
    size_t first = 0;
    qint64 liveTokens = w.tokens;
    while (first < w.entries.size() && expired(w.entries[first].atMs, nowMs))
        liveTokens -= w.entries[first++].tokens;
    return decide(w.entries, first, liveTokens, limits, tokens, nowMs).admitted;
}

void RateLimiter::adjust(const Ticket &ticket, qint64 actualTokens)
{
    if (!ticket)
        return;
    actualTokens = std::max<qint64>(actualTokens, 0);
    QMutexLocker lock(&m_mutex);
    const auto it = m_windows.find(ticket.name);
    if (it == m_windows.end())
        return; // the window was emptied: the entry has left it already
    Window &w = it.value();
    // Ids grow with every admission and entries are appended, so the deque is ordered by id.
    const auto e = std::lower_bound(
        w.entries.begin(), w.entries.end(), ticket.id, [](const Entry &entry, quint64 id) { return entry.id < id; });
    if (e == w.entries.end() || e->id != ticket.id)
        return; // expired meanwhile: nothing left to correct
    w.tokens += actualTokens - e->tokens;
    e->tokens = actualTokens;
}

void RateLimiter::clear()
{
    QMutexLocker lock(&m_mutex);
    m_windows.clear();
}

} // namespace gh
