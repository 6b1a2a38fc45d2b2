#pragma once
#include "store/requestrecord.h"
#include <QByteArray>

namespace gh::sqlite {
class Statement;
}

// The request log's row codec for the SQLite back-end: the columns of a `requests` row, how a
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
      "recovered, session_id, overshoot_nano_usd, cache_status, cache_saved_nano_usd, secret_findings, refusal";
inline constexpr int kRequestColumnCount = 32;
// INSERT INTO requests (kRequestColumns) VALUES (?1..?32), for bindRequest().
[[nodiscard]] QByteArray insertRequestSql();

// Binds every column of `r` (?1..?32 in kRequestColumns order).
void bindRequest(sqlite::Statement &s, const RequestRecord &r);
// Reads the kRequestColumns starting at column `first` (attempts and prompt blocks are not part of it).
[[nodiscard]] RequestRecord readRequest(const sqlite::Statement &s, int first = 0);

// The pending_requests row of a request still being answered (migration 8; RequestRecord::pending):
// its columns in readPending()'s order, bound as ?1..?13 by bindPending().
inline constexpr char kPendingColumns[]
    = "id, started_at_ms, key_id, key_name, endpoint, requested_model, route, model_id, provider, upstream_model, "
      "reserved_nano_usd, stream, attempts";
void bindPending(sqlite::Statement &s, const RequestRecord &r);
// The pending row's fields (status, error, cost and the flags are the recovery's to set).
[[nodiscard]] RequestRecord readPending(const sqlite::Statement &s);

} // namespace gh::store
