#include "guardrails/detectors.h"
#include <algorithm>

namespace gh {

namespace {

void dropBefore(QList<qint64> &times, qint64 since)
{
    qsizetype n = 0;
    while (n < times.size() && times.at(n) < since)
        ++n;
    if (n > 0)
        times.remove(0, n);
}

// Forgets the lists not answered within the window, then the least recently answered quarter: a
// flood of distinct requests must not switch the detector off (a loop's list is answered every few
// seconds, so it stays among the most recent). Runs once per maxHashesPerKey / 4 new lists at most:
// O(1) amortised.
template <typename Entries> void makeRoom(Entries &entries, qint64 nowMs, const GuardrailThresholds &t)
{
    const qint64 since = nowMs - t.repeatWindowMs;
    for (auto it = entries.begin(); it != entries.end();)
        it = (it->times.isEmpty() || it->times.last() < since) ? entries.erase(it) : std::next(it);
    const qsizetype target = qMax<qsizetype>(1, qsizetype(t.maxHashesPerKey) * 3 / 4);
    if (entries.size() < target)
        return;
    std::vector<qint64> last;
    last.reserve(size_t(entries.size()));
    for (const auto &e : std::as_const(entries))
        last.push_back(e.times.last());
    const size_t drop = size_t(entries.size() - target) + 1;
    std::nth_element(last.begin(), last.begin() + qsizetype(drop - 1), last.end());
    const qint64 cutoff = last[drop - 1];
    size_t dropped = 0;
    for (auto it = entries.begin(); it != entries.end() && dropped < drop;) {
        if (it->times.last() <= cutoff) {
            it = entries.erase(it);
            ++dropped;
        } else {
            ++it;
        }
    }
}

} // namespace

SpendMeter::SpendMeter(int minutes)
    : m_amount(size_t(qMax(1, minutes)), 0)
    , m_minute(size_t(qMax(1, minutes)), -1)
{
}

void SpendMeter::add(qint64 nowMs, NanoUsd amount)
{
    if (amount <= 0)
        return;
    const qint64 minute = nowMs / 60'000;
    const size_t slot = size_t(minute % qint64(m_amount.size()));
    if (m_minute[slot] != minute) {
        m_minute[slot] = minute;
        m_amount[slot] = 0;
    }
    m_amount[slot] += amount;
}

NanoUsd SpendMeter::recent(qint64 nowMs, int minutes) const
{
    const qint64 now = nowMs / 60'000;
    const qint64 size = qint64(m_amount.size());
    const qint64 count = qMin<qint64>(minutes, size);
    NanoUsd sum = 0;
    qint64 slot = now % size; // walked down with a wrap, not a division per minute
    for (qint64 m = now; m > now - count; --m) {
        if (m_minute[size_t(slot)] == m)
            sum += m_amount[size_t(slot)];
        slot = slot == 0 ? size - 1 : slot - 1;
    }
    return sum;
}

std::optional<NanoUsd> SpendMeter::baseline(qint64 nowMs, int windowMinutes, int minActive) const
{
    const qint64 now = nowMs / 60'000;
    const qint64 size = qint64(m_amount.size());
    if (windowMinutes >= size)
        return std::nullopt;
    NanoUsd sum = 0;
    int active = 0;
    qint64 slot = (now - windowMinutes) % size;
    for (qint64 m = now - windowMinutes; m > now - size; --m) {
        if (m_minute[size_t(slot)] == m && m_amount[size_t(slot)] > 0) {
            sum += m_amount[size_t(slot)];
            ++active;
        }
        slot = slot == 0 ? size - 1 : slot - 1;
    }
    if (active < qMax(1, minActive))
        return std::nullopt;
    return sum / active * windowMinutes;
}

VelocityVerdict judgeVelocity(const SpendMeter &meter, qint64 nowMs, const GuardrailThresholds &t)
{
    VelocityVerdict v;
    v.recent = meter.recent(nowMs, t.velocityWindowMinutes);
    v.baseline = meter.baseline(nowMs, t.velocityWindowMinutes, t.baselineMinActiveMinutes);
    v.tripped = v.baseline && v.recent >= t.velocityFloor && double(v.recent) > t.velocityFactor * double(*v.baseline);
    return v;
}

ProjectionVerdict judgeProjection(NanoUsd recent, NanoUsd remaining, const GuardrailThresholds &t)
{
    ProjectionVerdict p;
    if (recent <= 0 || remaining <= 0 || recent < t.projectionFloor)
        return p;
    // At `recent` per window of velocityWindowMinutes: remaining / recent windows.
    const double minutes = double(remaining) * double(qMax(1, t.velocityWindowMinutes)) / double(recent);
    p.minutesLeft = qint64(minutes);
    p.tripped = minutes * 60'000.0 < double(t.projectionMs);
    return p;
}

int RepetitionDetector::answeredBefore(quint64 hash, qint64 nowMs, const GuardrailThresholds &t) const
{
    const auto it = m_entries.constFind(hash);
    if (it == m_entries.constEnd())
        return 0;
    const qint64 since = nowMs - t.repeatWindowMs;
    return int(std::count_if(it->times.begin(), it->times.end(), [since](qint64 x) { return x >= since; }));
}

bool RepetitionDetector::spansSessions(quint64 hash, const QString &session) const
{
    const auto it = m_entries.constFind(hash);
    return it != m_entries.constEnd() && (it->manySessions || it->session != session);
}

void RepetitionDetector::answered(quint64 hash, const QString &session, qint64 nowMs, const GuardrailThresholds &t)
{
    if (hash == 0)
        return;
    if (m_entries.size() >= t.maxHashesPerKey && !m_entries.contains(hash))
        makeRoom(m_entries, nowMs, t);
    Entry &e = m_entries[hash];
    dropBefore(e.times, nowMs - t.repeatWindowMs);
    if (e.times.isEmpty()) {
        e.session = session;
        e.manySessions = false;
    } else if (e.session != session) {
        e.manySessions = true;
    }
    e.times.append(nowMs);
    while (e.times.size() > qMax(1, t.repeatCount))
        e.times.removeFirst();
}

int ResultRepeatDetector::observe(quint64 lastTurnHash, qint64 lastTurnBytes, int messageCount, qint64 nowMs,
                                  const GuardrailThresholds &t)
{
    // A send with as many messages as the last one (a retry, a resend) or fewer (a compaction, a
    // new conversation in the same session) is not a new turn.
    const bool grew = messageCount > m_lastMessageCount;
    m_lastMessageCount = messageCount;
    if (!grew || lastTurnHash == 0 || lastTurnBytes < t.minResultBytes)
        return 0;
    if (m_entries.size() >= 64 && !m_entries.contains(lastTurnHash)) {
        const qint64 since = nowMs - t.repeatWindowMs;
        for (auto it = m_entries.begin(); it != m_entries.end();)
            it = (it->times.isEmpty() || it->times.last() < since) ? m_entries.erase(it) : std::next(it);
        if (m_entries.size() >= 64)
            m_entries.clear(); // 64 distinct long results within one window: not a loop on one
    }
    Entry &e = m_entries[lastTurnHash];
    dropBefore(e.times, nowMs - t.repeatWindowMs);
    e.times.append(nowMs);
    while (e.times.size() > qMax(1, t.resultRepeatCount))
        e.times.removeFirst();
    m_lastHash = lastTurnHash;
    return int(e.times.size());
}

void ResultRepeatDetector::clear()
{
    m_entries.clear();
    m_lastHash = 0;
}

int BlowupDetector::observe(qint64 promptTokens, qint64 outputTokens, qint64 contextWindow, const GuardrailThresholds &t)
{
    if (contextWindow <= 0 || promptTokens <= 0) {
        m_streak = 0;
        return 0;
    }
    const bool near = double(promptTokens) >= t.blowupFraction * double(contextWindow);
    m_streak = (near && outputTokens <= t.blowupMaxOutput) ? m_streak + 1 : 0;
    return m_streak;
}

} // namespace gh
