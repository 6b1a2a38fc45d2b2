#include "requestlog.h"

#include <QJsonObject>
#include <QMutexLocker>

namespace gh::mock {

RequestLog::RequestLog(int capacity)
    : m_capacity(capacity)
{
}

quint64 RequestLog::add(Entry entry)
{
    if (m_capacity <= 0)
        return 0;
    QMutexLocker lock(&m_mutex);
    entry.id = m_nextId++;
    m_entries.push_back(std::move(entry));
    while (m_entries.size() > static_cast<size_t>(m_capacity))
        m_entries.pop_front();
    return m_entries.back().id;
}

RequestLog::Entry *RequestLog::find(quint64 id)
{
    // Ids are consecutive inside the deque, so the entry is found by offset.
    if (id == 0 || m_entries.empty() || id < m_entries.front().id || id > m_entries.back().id)
        return nullptr;
    return &m_entries[static_cast<size_t>(id - m_entries.front().id)];
}

void RequestLog::setBilled(quint64 id, const Billed &billed)
{
    QMutexLocker lock(&m_mutex);
    if (Entry *e = find(id))
        e->billed = billed;
}

void RequestLog::setModel(quint64 id, const QByteArray &model, const QByteArray &behaviour)
{
    QMutexLocker lock(&m_mutex);
    if (Entry *e = find(id)) {
        e->model = model;
        e->behaviour = behaviour;
    }
}

void RequestLog::clear()
{
    QMutexLocker lock(&m_mutex);
    m_entries.clear();
}

QJsonArray RequestLog::toJson() const
{
    QMutexLocker lock(&m_mutex);
    QJsonArray out;
    for (const Entry &e : m_entries) {
        QJsonObject headers;
        for (const auto &[name, value] : e.headers) {
            const QString key = QString::fromLatin1(name);
            const QString v = QString::fromUtf8(value);
            // Repeated headers are joined as HTTP allows for list-valued fields.
            headers.insert(key, headers.contains(key) ? headers.value(key).toString() + QStringLiteral(", ") + v : v);
        }
        QJsonObject o{{QStringLiteral("id"), static_cast<qint64>(e.id)},
                      {QStringLiteral("method"), QString::fromLatin1(e.method)},
                      {QStringLiteral("path"), QString::fromUtf8(e.path)},
                      {QStringLiteral("headers"), headers},
                      {QStringLiteral("body"), QString::fromUtf8(e.body)},
                      {QStringLiteral("body_size"), static_cast<qint64>(e.body.size())},
                      {QStringLiteral("model"), e.model.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(QString::fromUtf8(e.model))},
                      {QStringLiteral("behaviour"), e.behaviour.isEmpty() ? QJsonValue(QJsonValue::Null)
                                                                         : QJsonValue(QString::fromUtf8(e.behaviour))}};
        if (e.billed) {
            o.insert(QStringLiteral("billed"),
                     QJsonObject{{QStringLiteral("prompt_tokens"), e.billed->promptTokens},
                                 {QStringLiteral("completion_tokens"), e.billed->completionTokens},
                                 {QStringLiteral("cached_tokens"), e.billed->cachedTokens},
                                 {QStringLiteral("cache_read_tokens"), e.billed->cacheReadTokens},
                                 {QStringLiteral("cache_write_tokens"), e.billed->cacheWriteTokens},
                                 {QStringLiteral("cache_write_1h_tokens"), e.billed->cacheWrite1hTokens},
                                 {QStringLiteral("reasoning_tokens"), e.billed->reasoningTokens}});
        } else {
            o.insert(QStringLiteral("billed"), QJsonValue::Null);
        }
        out.append(o);
    }
    return out;
}

} // namespace gh::mock
