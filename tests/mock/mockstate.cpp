#include "mockstate.h"

#include <QMutexLocker>

#include <algorithm>

namespace gh::mock {

qint64 commonPrefixBytes(QByteArrayView a, QByteArrayView b)
{
    const qsizetype n = std::min(a.size(), b.size());
    const auto mismatch = std::mismatch(a.begin(), a.begin() + n, b.begin());
    return static_cast<qint64>(mismatch.first - a.begin());
}

qint64 cachedTokensForPrefix(qint64 prefixBytes)
{
    if (prefixBytes < kMinCachedPrefixBytes)
        return 0;
    return (prefixBytes / 4) / kCacheBlockTokens * kCacheBlockTokens;
}

QJsonObject BillingTotals::toJson() const
{
    return QJsonObject{{QStringLiteral("requests"), requests}, {QStringLiteral("input_tokens"), inputTokens},
        {QStringLiteral("output_tokens"), outputTokens}, {QStringLiteral("cache_read_tokens"), cacheReadTokens},
        {QStringLiteral("cache_write_tokens"), cacheWriteTokens},
        {QStringLiteral("cache_write_1h_tokens"), cacheWrite1hTokens},
        {QStringLiteral("reasoning_tokens"), reasoningTokens}};
}

MockState::MockState(qsizetype promptsPerModel)
    : m_promptsPerModel(std::max<qsizetype>(1, promptsPerModel))
{ }

void MockState::received(const QByteArray &model)
{
    QMutexLocker lock(&m_mutex);
    ++m_received[model];
}

quint64 MockState::nextChaosIndex(const QByteArray &model)
{
    QMutexLocker lock(&m_mutex);
    return m_chaos[model]++;
}

qint64 MockState::cachedTokens(Format format, const QByteArray &model, const QByteArray &prompt)
{
    if (prompt.isEmpty())
        return 0;
    const QByteArray key = QByteArray::number(static_cast<int>(format)) + ':' + model;
    QMutexLocker lock(&m_mutex);
    std::deque<QByteArray> &seen = m_prompts[key];
    qint64 longest = 0;
    bool known = false;
    for (const QByteArray &earlier : seen) {
        const qint64 common = commonPrefixBytes(earlier, prompt);
        longest = std::max(longest, common);
        if (common == prompt.size() && earlier.size() == prompt.size())
            known = true;
    }
    if (!known) {
        seen.push_back(prompt);
        while (static_cast<qsizetype>(seen.size()) > m_promptsPerModel)
            seen.pop_front();
    }
    return cachedTokensForPrefix(longest);
}

void MockState::bill(const QByteArray &model, Format format, const std::optional<Billed> &usage)
{
    QMutexLocker lock(&m_mutex);
    BillingTotals &t = m_billing[model];
    ++t.requests;
    if (!usage)
        return;
    const Billed &b = *usage;
    switch (format) {
    case Format::Anthropic:
        t.inputTokens += b.promptTokens;
        t.cacheReadTokens += b.cacheReadTokens;
        t.cacheWriteTokens += b.cacheWriteTokens;
        t.cacheWrite1hTokens += b.cacheWrite1hTokens;
        t.outputTokens += b.completionTokens;
        break;
    case Format::OpenAI:
        t.inputTokens += b.promptTokens - b.cachedTokens;
        t.cacheReadTokens += b.cachedTokens;
        t.outputTokens += b.completionTokens;
        t.reasoningTokens += b.reasoningTokens;
        break;
    case Format::Gemini:
        t.inputTokens += b.promptTokens - b.cachedTokens;
        t.cacheReadTokens += b.cachedTokens;
        t.outputTokens += b.completionTokens + b.reasoningTokens;
        t.reasoningTokens += b.reasoningTokens;
        break;
    }
}

void MockState::clear()
{
    QMutexLocker lock(&m_mutex);
    m_received.clear();
    m_chaos.clear();
    m_prompts.clear();
    m_billing.clear();
}

QJsonObject MockState::billingJson() const
{
    QMutexLocker lock(&m_mutex);
    QJsonObject byModel;
    BillingTotals totals;
    for (auto it = m_billing.cbegin(); it != m_billing.cend(); ++it) {
        byModel.insert(QString::fromUtf8(it.key()), it->toJson());
        totals.requests += it->requests;
        totals.inputTokens += it->inputTokens;
        totals.outputTokens += it->outputTokens;
        totals.cacheReadTokens += it->cacheReadTokens;
        totals.cacheWriteTokens += it->cacheWriteTokens;
        totals.cacheWrite1hTokens += it->cacheWrite1hTokens;
        totals.reasoningTokens += it->reasoningTokens;
    }
    QJsonObject received;
    qint64 receivedTotal = 0;
    for (auto it = m_received.cbegin(); it != m_received.cend(); ++it) {
        received.insert(QString::fromUtf8(it.key()), *it);
        receivedTotal += *it;
    }
    return QJsonObject{{QStringLiteral("requests"), totals.requests}, {QStringLiteral("by_model"), byModel},
        {QStringLiteral("totals"), totals.toJson()}, {QStringLiteral("received"), received},
        {QStringLiteral("received_total"), receivedTotal}};
}

} // namespace gh::mock
