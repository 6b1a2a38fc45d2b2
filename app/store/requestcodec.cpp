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

void bindRequest(sqlite::Statement &s, const RequestRecord &r)
{
    s.bindText(1, r.id);
    s.bindInt(2, r.startedAtMs);
    s.bindInt(3, r.keyId);
    s.bindText(4, r.keyName);
    s.bindText(5, r.endpoint);
    s.bindText(6, r.requestedModel);
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
}

RequestRecord readRequest(const sqlite::Statement &s, int first)
{
    RequestRecord r;
    const int c = first;
    r.id = s.text(c + 0);
    r.startedAtMs = s.integer(c + 1);
    r.keyId = s.integer(c + 2);
    r.keyName = s.text(c + 3);
    r.endpoint = s.text(c + 4);
    r.requestedModel = s.text(c + 5);
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
    return r;
}

} // namespace gh::store
