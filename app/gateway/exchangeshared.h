#pragma once
// Internal to Exchange's stage files (exchange*.cpp): limits and small helpers they share.
#include "gateway/gatewayerror.h"
#include "core/money.h"
#include "formats/formatadapter.h"
#include "pricing/price.h"
#include <QRandomGenerator>
#include <QString>

namespace gh::exchangedetail {

inline constexpr qint64 kDefaultMaxOutput = 16'384;            // when neither the request nor the model says
// Non-streamed responses: a success the client takes as it is (no translation) is relayed as it
// arrives once it outgrows kRelayThreshold (bodyrelay.h); below that it is held so that a body that is
// not JSON can still fail over. What must be held whole is bounded: a translated success (the
// translators need the whole document) and count_tokens by kMaxBufferedBody, an error by kMaxErrorBody.
inline constexpr qint64 kRelayThreshold = 1024 * 1024;
inline constexpr qint64 kMaxBufferedBody = 64ll * 1024 * 1024;
inline constexpr qint64 kMaxErrorBody = 4ll * 1024 * 1024;
inline constexpr qint64 kHighWater = 1024 * 1024;
// Room in the input bound for the output-limit field a clamp may add to the body.
inline constexpr qint64 kClampEditBytes = 48;
// Anthropic's smallest thinking budget (budget_tokens >= 1024, and below max_tokens).
inline constexpr qint64 kMinThinkingBudget = 1024;
// System prompt + tools at least this long (about 1,000 tokens, the providers' smallest cacheable
// prefix) get an affinity entry of their own, shared by every conversation that starts with them.
inline constexpr qsizetype kAffinityHeadBytes = 4096;

// A per-thread generator seeded from the system CSPRNG, for request ids, weighted draws and backoff
// jitter: none of them is secret, and the global generator takes a lock for every number.
inline QRandomGenerator &threadRng()
{
    thread_local QRandomGenerator rng(QRandomGenerator::system()->generate());
    return rng;
}

// "req_", 9 base-36 digits of the arrival time in ms (good until the year 5188), 11 random ones
// (56 bits). Ids that grow with time are appended at the end of the log's unique index instead of
// inserted at random places in it: with random ids the writer touched one index page per row, which
// cost more than the row itself once the log outgrew SQLite's page cache (writer_bench).
inline QString newRequestId(qint64 arrivalMs)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char id[24] = {'r', 'e', 'q', '_'};
    quint64 t = quint64(qMax<qint64>(0, arrivalMs));
    for (int i = 12; i >= 4; --i, t /= 36)
        id[i] = digits[t % 36];
    QRandomGenerator &rng = threadRng();
    for (int i = 13; i < 24; ++i)
        id[i] = digits[rng.bounded(36)];
    return QString::fromLatin1(id, 24);
}

inline QString usd(NanoUsd v)
{
    const double d = toUsd(v);
    return QStringLiteral("$") + QString::number(d, 'f', d < 0.01 ? 6 : 4);
}

inline ErrorInfo errorInfo(const GatewayError &e)
{
    return ErrorInfo{e.status, e.type, e.code, e.message};
}


} // namespace gh::exchangedetail
