#pragma once
#include <QHash>
#include <QMutex>
#include <QString>
#include <deque>
#include <optional>

namespace gh {

// Rolling-window rate limits (requests per minute and tokens per minute) per key or per provider.
// acquire() checks and records atomically, so parallel requests cannot slip past a limit together.
// Tokens are counted at admission with the request's estimate and corrected with adjust() once the
// real usage is known. Thread-safe.
class RateLimiter
{
public:
    static constexpr qint64 kWindowMs = 60'000;

    struct Limits {
        std::optional<int> rpm;
        std::optional<qint64> tpm;
        [[nodiscard]] bool any() const { return rpm || tpm; }
    };
    struct Ticket {
        quint64 id = 0; // 0: nothing recorded (no limits)
        QString name;
        qint64 atMs = 0;
        explicit operator bool() const { return id != 0; }
    };
    struct Result {
        bool admitted = false;
        Ticket ticket;            // when admitted
        qint64 retryAfterMs = 0;  // when refused: how long until this request would fit
        QString limit;            // when refused: "rpm" or "tpm"
        qint64 limitValue = 0;
    };

    // `tokens`: the request's estimated tokens. A request larger than the whole tpm limit is refused
    // with retryAfterMs = -1 (it can never fit).
    [[nodiscard]] Result acquire(const QString &name, const Limits &limits, qint64 tokens, qint64 nowMs);
    // Whether acquire() would admit now (without recording anything).
    [[nodiscard]] bool hasRoom(const QString &name, const Limits &limits, qint64 tokens, qint64 nowMs) const;
    // Replaces the ticket's token estimate by the real count.
    void adjust(const Ticket &ticket, qint64 actualTokens);
    void clear();

private:
    struct Entry {
        quint64 id;
        qint64 atMs;
        qint64 tokens;
    };
    struct Window {
        std::deque<Entry> entries; // oldest first, all within kWindowMs of the last call
        qint64 tokens = 0;
    };
    static void expire(Window &w, qint64 nowMs);
    mutable QMutex m_mutex;
    QHash<QString, Window> m_windows;
    quint64 m_nextId = 1;
};

} // namespace gh
