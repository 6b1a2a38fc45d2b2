#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QList>
#include <QMutex>
#include <QString>

#include <deque>
#include <optional>
#include <utility>

namespace gh::mock {

// Tokens the mock reported in a usage object (what a real provider would bill).
// OpenAI: prompt_tokens (includes cached_tokens), completion_tokens. Anthropic: promptTokens is
// input_tokens (excludes both cache counts), cacheRead/cacheWrite/cacheWrite1h the cache_* counts.
// Gemini: promptTokenCount (includes cachedTokens = cachedContentTokenCount), candidatesTokenCount,
// reasoningTokens = thoughtsTokenCount.
struct Billed
{
    qint64 promptTokens = 0;
    qint64 completionTokens = 0;
    qint64 cachedTokens = 0;
    qint64 cacheReadTokens = 0;
    qint64 cacheWriteTokens = 0;   // 5-minute cache writes
    qint64 cacheWrite1hTokens = 0; // 1-hour cache writes
    qint64 reasoningTokens = 0;
};

// Every request the mock received, shared by all connection threads. Keeps the most recent
// `capacity` requests (0: records nothing), so a long benchmark run does not grow without bound.
class RequestLog
{
public:
    struct Entry
    {
        quint64 id = 0;
        QByteArray method;
        QByteArray path;
        QList<std::pair<QByteArray, QByteArray>> headers; // names already lower-case
        QByteArray body;
        std::optional<Billed> billed;
        QByteArray model;     // the upstream model name, once the request was read (empty: none)
        QByteArray behaviour; // what the mock did: the behaviour after any chaos draw ("ok", "fail-503", ...)
    };

    explicit RequestLog(int capacity);

    // Records a request and returns its id (0 when recording is off).
    quint64 add(Entry entry);
    // Sets what was billed for a recorded request, once its usage was written to the client.
    void setBilled(quint64 id, const Billed &billed);
    // Sets the model a recorded request named and the behaviour the mock chose for it.
    void setModel(quint64 id, const QByteArray &model, const QByteArray &behaviour);
    void clear();

    // [{id, method, path, headers: {name: value}, body, body_size, model | null, behaviour | null,
    //   billed: {prompt_tokens, completion_tokens, cached_tokens, cache_read_tokens, cache_write_tokens,
    //   cache_write_1h_tokens, reasoning_tokens} | null}, ...]
    [[nodiscard]] QJsonArray toJson() const;
    [[nodiscard]] int capacity() const { return m_capacity; }

private:
    Entry *find(quint64 id); // under m_mutex
    mutable QMutex m_mutex;
    std::deque<Entry> m_entries;
    quint64 m_nextId = 1;
    int m_capacity;
};

} // namespace gh::mock
