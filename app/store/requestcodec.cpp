#include "store/requestcodec.h"
#include "store/sqlite.h"

namespace gh::store {

QByteArray insertRequestSql()
{
    QByteArray sql = QByteArray("INSERT INTO requests (") + kRequestColumns + ") VALUES (";
    for (int i = 1; i <= kRequestColumnCount; ++i)
        sql += (i > 1 ? ", ?" : "?") + QByteArray::number(i);
    return sql + ')';
}

namespace {

// The first six columns of both rows: id, started_at_ms, key_id, key_name, endpoint, requested_model.
void bindHead(sqlite::Statement &s, const RequestRecord &r)
{
    s.bindText(1, r.id);
    s.bindInt(2, r.startedAtMs);
    s.bindInt(3, r.keyId);
    s.bindText(4, r.keyName);
    s.bindText(5, r.endpoint);
    s.bindText(6, r.requestedModel);
}

void readHead(const sqlite::Statement &s, int c, RequestRecord &r)
{
    r.id = s.text(c + 0);
    r.startedAtMs = s.integer(c + 1);
    r.keyId = s.integer(c + 2);
    r.keyName = s.text(c + 3);
    r.endpoint = s.text(c + 4);
    r.requestedModel = s.text(c + 5);
}

} // namespace

void bindRequest(sqlite::Statement &s, const RequestRecord &r)
{
    bindHead(s, r);
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
}

RequestRecord readRequest(const sqlite::Statement &s, int first)
{
    RequestRecord r;
    const int c = first;
    readHead(s, c, r);
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
    return r;
}

void bindPending(sqlite::Statement &s, const RequestRecord &r)
{
    bindHead(s, r);
    s.bindText(7, r.route);
    s.bindText(8, r.modelId);
    s.bindText(9, r.provider);
    s.bindText(10, r.upstreamModel);
    s.bindInt(11, r.reserved);
    s.bindBool(12, r.stream);
    s.bindInt(13, r.attempts);
}

RequestRecord readPending(const sqlite::Statement &s)
{
    RequestRecord r;
    readHead(s, 0, r);
    r.route = s.text(6);
    r.modelId = s.text(7);
    r.provider = s.text(8);
    r.upstreamModel = s.text(9);
    r.reserved = s.integer(10);
    r.stream = s.boolean(11);
    r.attempts = int(s.integer(12));
    return r;
}

} // namespace gh::store
