#pragma once
#include "store/requestrecord.h"
#include <QByteArray>

// The request log's row codec for both back-ends: the columns of a `requests` row, how a
// RequestRecord is bound into one and read back out of one, and the rule for "the request
// succeeded". Every reader and writer of the table uses these, so a column added by a migration is
// added here once.
namespace gh::store {

// The rule for success, in C++ and in SQL (the same rule): the client got a 2xx and no error was
// recorded (a stream that failed after its 200 head has an error).
[[nodiscard]] inline bool isSuccess(int status, const QString &error)
{
    return status >= 200 && status <= 299 && error.isEmpty();
}
[[nodiscard]] inline bool isSuccess(const RequestRecord &r) { return isSuccess(r.status, r.error); }
// A condition over a `requests` row (or the request_facts view), parenthesised.
inline constexpr char kSucceededSql[] = "(status BETWEEN 200 AND 299 AND error = '')";

// The columns readRequest() reads, in its order: "id, started_at_ms, ...".
inline constexpr char kRequestColumns[]
    = "id, started_at_ms, key_id, key_name, endpoint, requested_model, provider, upstream_model, status, error, "
      "latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, "
      "output_tokens, reasoning_tokens, usage_reported, estimated, cost_nano_usd, stream, attempts, route, model_id, "
      "recovered, session_id, overshoot_nano_usd, cache_status, cache_saved_nano_usd, secret_findings, refusal, "
      "instance_id";
inline constexpr int kRequestColumnCount = 33;
// INSERT INTO requests (kRequestColumns) VALUES (?1..?33), for bindRequest().
[[nodiscard]] QByteArray insertRequestSql();

// The functions below are templates over the back-end's statement class (sqlite::Statement,
// pg::Statement), which share their bind and column method names: one codec for both back-ends.

namespace detail {

// The first six columns of both rows: id, started_at_ms, key_id, key_name, endpoint, requested_model.
template<class S>
void bindHead(S &s, const RequestRecord &r)
{
    s.bindText(1, r.id);
    s.bindInt(2, r.startedAtMs);
    s.bindInt(3, r.keyId);
    s.bindText(4, r.keyName);
    s.bindText(5, r.endpoint);
    s.bindText(6, r.requestedModel);
}

template<class S>
void readHead(const S &s, int c, RequestRecord &r)
{
    r.id = s.text(c + 0);
    r.startedAtMs = s.integer(c + 1);
    r.keyId = s.integer(c + 2);
    r.keyName = s.text(c + 3);
    r.endpoint = s.text(c + 4);
    r.requestedModel = s.text(c + 5);
}

} // namespace detail

// Binds every column of `r` (?1..?33 in kRequestColumns order); `instanceId` when the record has none.
template<class S>
void bindRequest(S &s, const RequestRecord &r, const QString &instanceId = {})
{
    detail::bindHead(s, r);
    s.bindText(7, r.provider);
    s.bindText(8, r.upstreamModel);
    s.bindInt(9, r.status);
    s.bindText(10, r.error);
    s.bindInt(11, r.latencyMs);
    s.bindInt(12, r.ttftMs);
    s.bindInt(13, r.usage.inputTokens);
    s.bindInt(14, r.usage.cacheReadTokens);
    s.bindInt(15, r.usage.cacheWriteTokens);
    s.bindInt(16, r.usage.cacheWrite1hTokens);
    s.bindInt(17, r.usage.outputTokens);
    s.bindInt(18, r.usage.reasoningTokens);
    s.bindBool(19, r.usage.reported);
    s.bindBool(20, r.usage.estimated);
    s.bindOptInt(21, r.cost);
    s.bindBool(22, r.stream);
    s.bindInt(23, r.attempts);
    s.bindText(24, r.route);
    s.bindText(25, r.modelId);
    s.bindBool(26, r.recovered);
    s.bindText(27, r.sessionId);
    s.bindInt(28, r.overshoot);
    s.bindText(29, r.cacheStatus);
    s.bindInt(30, r.cacheSaved);
    s.bindText(31, r.secretFindings);
    s.bindText(32, r.refusal);
    s.bindText(33, r.instanceId.isEmpty() ? instanceId : r.instanceId);
}

// Reads the kRequestColumns starting at column `first` (attempts and prompt blocks are not part of it).
template<class S>
[[nodiscard]] RequestRecord readRequest(const S &s, int first = 0)
{
    RequestRecord r;
    const int c = first;
    detail::readHead(s, c, r);
    r.provider = s.text(c + 6);
    r.upstreamModel = s.text(c + 7);
    r.status = int(s.integer(c + 8));
    r.error = s.text(c + 9);
    r.latencyMs = s.integer(c + 10);
    r.ttftMs = s.integer(c + 11);
    r.usage.inputTokens = s.integer(c + 12);
    r.usage.cacheReadTokens = s.integer(c + 13);
    r.usage.cacheWriteTokens = s.integer(c + 14);
    r.usage.cacheWrite1hTokens = s.integer(c + 15);
    r.usage.outputTokens = s.integer(c + 16);
    r.usage.reasoningTokens = s.integer(c + 17);
    r.usage.reported = s.boolean(c + 18);
    r.usage.estimated = s.boolean(c + 19);
    r.cost = s.optInteger(c + 20);
    r.stream = s.boolean(c + 21);
    r.attempts = int(s.integer(c + 22));
    r.route = s.text(c + 23);
    r.modelId = s.text(c + 24);
    r.recovered = s.boolean(c + 25);
    r.sessionId = s.text(c + 26);
    r.overshoot = s.integer(c + 27);
    r.cacheStatus = s.text(c + 28);
    r.cacheSaved = s.integer(c + 29);
    r.secretFindings = s.text(c + 30);
    r.refusal = s.text(c + 31);
    r.instanceId = s.text(c + 32);
    return r;
}

// The pending_requests row of a request still being answered (migration 8; RequestRecord::pending):
// its columns in readPending()'s order, bound as ?1..?14 by bindPending().
inline constexpr char kPendingColumns[]
    = "id, started_at_ms, key_id, key_name, endpoint, requested_model, route, model_id, provider, upstream_model, "
      "reserved_nano_usd, stream, attempts, instance_id";
template<class S>
void bindPending(S &s, const RequestRecord &r, const QString &instanceId = {})
{
    detail::bindHead(s, r);
    s.bindText(7, r.route);
    s.bindText(8, r.modelId);
    s.bindText(9, r.provider);
    s.bindText(10, r.upstreamModel);
    s.bindInt(11, r.reserved);
    s.bindBool(12, r.stream);
    s.bindInt(13, r.attempts);
    s.bindText(14, r.instanceId.isEmpty() ? instanceId : r.instanceId);
}
// The pending row's fields (status, error, cost and the flags are the recovery's to set).
template<class S>
[[nodiscard]] RequestRecord readPending(const S &s)
{
    RequestRecord r;
    detail::readHead(s, 0, r);
    r.route = s.text(6);
    r.modelId = s.text(7);
    r.provider = s.text(8);
    r.upstreamModel = s.text(9);
    r.reserved = s.integer(10);
    r.stream = s.boolean(11);
    r.attempts = int(s.integer(12));
    r.instanceId = s.text(13);
    return r;
}

} // namespace gh::store
