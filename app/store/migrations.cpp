#include "store/migrations.h"
#include "core/logging.h"
#include <sqlite3.h>
#include <array>

namespace gh::store {

namespace {

// clang-format off
constexpr std::array kMigrations{
    Migration{1, "request log, keys, providers, models, settings", R"sql(
CREATE TABLE requests (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT    NOT NULL UNIQUE,
    started_at_ms         INTEGER NOT NULL,
    key_id                INTEGER NOT NULL DEFAULT 0,
    key_name              TEXT    NOT NULL DEFAULT '',
    endpoint              TEXT    NOT NULL DEFAULT '',
    requested_model       TEXT    NOT NULL DEFAULT '',
    provider              TEXT    NOT NULL DEFAULT '',
    upstream_model        TEXT    NOT NULL DEFAULT '',
    status                INTEGER NOT NULL DEFAULT 0,
    error                 TEXT    NOT NULL DEFAULT '',
    latency_ms            INTEGER NOT NULL DEFAULT 0,
    ttft_ms               INTEGER NOT NULL DEFAULT -1,
    input_tokens          INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens      INTEGER NOT NULL DEFAULT 0,
    usage_reported        INTEGER NOT NULL DEFAULT 0,
    estimated             INTEGER NOT NULL DEFAULT 0,
    cost_nano_usd         INTEGER,              -- NULL: unpriced
    stream                INTEGER NOT NULL DEFAULT 0,
    attempts              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX requests_key_time ON requests (key_id, started_at_ms);
CREATE INDEX requests_time ON requests (started_at_ms);

CREATE TABLE keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: the log refers to it
    name           TEXT    NOT NULL UNIQUE,
    secret_hash    BLOB    NOT NULL UNIQUE,           -- SHA-256 of the secret; the secret is never stored
    secret_hint    TEXT    NOT NULL DEFAULT '',
    allow_models   TEXT    NOT NULL DEFAULT '[]',     -- JSON array of glob patterns
    limit_day      REAL,
    limit_week     REAL,
    limit_month    REAL,
    limit_total    REAL,
    allow_unpriced INTEGER NOT NULL DEFAULT 0,
    paused         INTEGER NOT NULL DEFAULT 0,
    revoked        INTEGER NOT NULL DEFAULT 0,
    created_at_ms  INTEGER NOT NULL
);

CREATE TABLE providers (
    id          TEXT PRIMARY KEY,
    format      TEXT    NOT NULL,
    base_url    TEXT    NOT NULL,
    api_key_env TEXT    NOT NULL DEFAULT '',
    catalog     TEXT    NOT NULL DEFAULT '',
    enabled     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE models (
    id                   TEXT PRIMARY KEY,
    provider             TEXT    NOT NULL,
    upstream_model       TEXT    NOT NULL,
    price_input          REAL,                 -- USD per million tokens; NULL: unknown
    price_output         REAL,
    price_cache_read     REAL,
    price_cache_write    REAL,
    price_cache_write_1h REAL,
    context_window       INTEGER NOT NULL DEFAULT 0,
    max_output_tokens    INTEGER NOT NULL DEFAULT 0,
    from_catalog         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

PRAGMA application_id = 1195922225;
)sql"},
    Migration{2, "routes, attempts, rate limits, capabilities, votes, prompt prefixes", R"sql(
ALTER TABLE requests ADD COLUMN route TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN model_id TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN rpm INTEGER;
ALTER TABLE keys ADD COLUMN tpm INTEGER;
ALTER TABLE providers ADD COLUMN rpm INTEGER;
ALTER TABLE providers ADD COLUMN tpm INTEGER;
ALTER TABLE models ADD COLUMN capabilities TEXT;   -- JSON array, NULL: unknown

CREATE TABLE attempts (
    request_id    TEXT    NOT NULL,
    idx           INTEGER NOT NULL,
    model_id      TEXT    NOT NULL,
    provider      TEXT    NOT NULL DEFAULT '',
    outcome       TEXT    NOT NULL,             -- "ok", "failed", "skipped"
    status        INTEGER NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT '',
    started_at_ms INTEGER NOT NULL,
    latency_ms    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (request_id, idx)
) WITHOUT ROWID;

CREATE TABLE routes (
    id       TEXT PRIMARY KEY,
    strategy TEXT    NOT NULL,
    targets  TEXT    NOT NULL,                  -- JSON [{"model", "weight"}]
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE votes (
    round_id      TEXT    NOT NULL,
    model_id      TEXT    NOT NULL,
    result        INTEGER NOT NULL,             -- 1: best, 0: not chosen, -1: all bad
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (round_id, model_id)
);

CREATE TABLE prompt_prefixes (
    request_seq   INTEGER PRIMARY KEY,          -- requests.seq
    key_id        INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    system_bytes  INTEGER NOT NULL,
    tools_bytes   INTEGER NOT NULL,
    blocks        BLOB    NOT NULL              -- little-endian u64 per 1 KiB block
);
CREATE INDEX prompt_prefixes_key ON prompt_prefixes (key_id, request_seq);

-- Only the latest 200 rows of each key are kept.
CREATE TRIGGER prompt_prefixes_keep_latest AFTER INSERT ON prompt_prefixes
BEGIN
    DELETE FROM prompt_prefixes
     WHERE key_id = NEW.key_id
       AND request_seq <= (SELECT request_seq FROM prompt_prefixes WHERE key_id = NEW.key_id
                            ORDER BY request_seq DESC LIMIT 1 OFFSET 200);
END;
)sql"},
    Migration{3, "Compare conversations and their messages", R"sql(
CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    title         TEXT    NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    panes         TEXT    NOT NULL DEFAULT '[]'  -- JSON [{"model", "system", "temperature"}]
);
CREATE INDEX conversations_updated ON conversations (updated_at_ms);

CREATE TABLE messages (
    conversation_id   TEXT    NOT NULL,
    round             INTEGER NOT NULL,         -- 1-based
    pane              INTEGER NOT NULL,         -- -1: the user's message, shared by every pane
    role              TEXT    NOT NULL,         -- "user" | "assistant"
    content           TEXT    NOT NULL DEFAULT '',
    images            TEXT    NOT NULL DEFAULT '[]', -- JSON array of data: URLs (user messages)
    model_id          TEXT    NOT NULL DEFAULT '',   -- the model that served
    request_id        TEXT    NOT NULL DEFAULT '',   -- requests.id
    input_tokens      INTEGER NOT NULL DEFAULT 0,    -- uncached, as in the request log
    output_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cost_nano_usd     INTEGER,                       -- NULL: unpriced or unknown
    ttft_ms           INTEGER NOT NULL DEFAULT -1,
    tokens_per_s      REAL    NOT NULL DEFAULT 0,
    error             TEXT    NOT NULL DEFAULT '',
    vote              INTEGER NOT NULL DEFAULT -2,   -- 1 best, 0 not chosen, -1 all bad, -2 none
    created_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, round, pane, role)
) WITHOUT ROWID;
)sql"},
    Migration{4, "hourly and daily rollups of the request log for Rankings and Cache", R"sql(
-- Rollups of the request log per UTC hour (grain 0, t = started_at_ms / 3600000) and UTC day (grain 1,
-- t = started_at_ms / 86400000) x key x model x provider, kept by the triggers below (so they also
-- follow rows written by other tools, e.g. the sqlite3 shell) and backfilled here. `model` is the
-- model id that served (or was tried last), else provider/upstream_model for rows logged before
-- model_id existed, else ''. A request is:
--   refused   when it never reached a provider (attempts = 0: authentication, budget, rate limit);
--   cancelled when the client went away (499) after it was sent upstream;
--   an error  when it was sent upstream and did not end 2xx without error (499 excluded);
--   ok        when 2xx without error: only these feed the latency / TTFT histograms and tokens/s.
CREATE TABLE rollups (
    grain                 INTEGER NOT NULL,            -- 0: hour, 1: day (UTC)
    t                     INTEGER NOT NULL,            -- started_at_ms / (3600000 | 86400000)
    key_id                INTEGER NOT NULL,
    model                 TEXT    NOT NULL,
    provider              TEXT    NOT NULL,
    requests              INTEGER NOT NULL DEFAULT 0,
    refused               INTEGER NOT NULL DEFAULT 0,
    cancelled             INTEGER NOT NULL DEFAULT 0,
    errors                INTEGER NOT NULL DEFAULT 0,
    cost_nano_usd         INTEGER NOT NULL DEFAULT 0,  -- priced requests only
    unpriced              INTEGER NOT NULL DEFAULT 0,  -- with tokens but no cost (unpriced model)
    input_tokens          INTEGER NOT NULL DEFAULT 0,  -- uncached input, as logged
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    stream_output_tokens  INTEGER NOT NULL DEFAULT 0,  -- ok streamed rows with a first token and output
    stream_generation_ms  INTEGER NOT NULL DEFAULT 0,  -- their latency_ms - ttft_ms
    PRIMARY KEY (grain, t, key_id, model, provider)
) WITHOUT ROWID;

-- Latency (metric 0) and time-to-first-token (metric 1) histograms of ok requests in log-spaced
-- buckets: bucket k holds values v with lo(k) <= v < lo(k + 1), lo = 0, 1, 2, ... then round(2^(i/4))
-- (about 19% wide), up to one hour and beyond.
CREATE TABLE latency_buckets (
    bucket INTEGER PRIMARY KEY,
    lo     INTEGER NOT NULL UNIQUE
);
INSERT INTO latency_buckets (bucket, lo) VALUES
(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, 10), (10, 11), (11, 13), (12, 16),
(13, 19), (14, 23), (15, 27), (16, 32), (17, 38), (18, 45), (19, 54), (20, 64), (21, 76), (22, 91), (23, 108),
(24, 128), (25, 152), (26, 181), (27, 215), (28, 256), (29, 304), (30, 362), (31, 431), (32, 512), (33, 609),
(34, 724), (35, 861), (36, 1024), (37, 1218), (38, 1448), (39, 1722), (40, 2048), (41, 2435), (42, 2896), (43,
3444), (44, 4096), (45, 4871), (46, 5793), (47, 6889), (48, 8192), (49, 9742), (50, 11585), (51, 13777), (52,
16384), (53, 19484), (54, 23170), (55, 27554), (56, 32768), (57, 38968), (58, 46341), (59, 55109), (60,
65536), (61, 77936), (62, 92682), (63, 110218), (64, 131072), (65, 155872), (66, 185364), (67, 220436), (68,
262144), (69, 311744), (70, 370728), (71, 440872), (72, 524288), (73, 623487), (74, 741455), (75, 881744),
(76, 1048576), (77, 1246974), (78, 1482910), (79, 1763488), (80, 2097152), (81, 2493948), (82, 2965821), (83,
3526975);

CREATE TABLE rollup_latency (
    grain  INTEGER NOT NULL,
    t      INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    model  TEXT    NOT NULL,
    metric INTEGER NOT NULL,                           -- 0: latency_ms, 1: ttft_ms
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (grain, t, key_id, model, metric, bucket)
) WITHOUT ROWID;

-- One row per request with the figures above (the backfill below and the analytics' partial hours).
CREATE VIEW request_facts AS
SELECT seq, started_at_ms, key_id, CASE WHEN model_id <> '' THEN model_id WHEN provider <> '' AND upstream_model <> '' THEN provider || '/' || upstream_model ELSE '' END AS model, provider,
       1 AS requests,
       attempts = 0 AS refused,
       attempts > 0 AND status = 499 AS cancelled,
       attempts > 0 AND status <> 499 AND NOT (status BETWEEN 200 AND 299 AND error = '') AS errors,
       coalesce(cost_nano_usd, 0) AS cost_nano_usd,
       cost_nano_usd IS NULL AND input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > 0 AS unpriced,
       input_tokens AS input_tokens,
       cache_read_tokens AS cache_read_tokens,
       cache_write_tokens AS cache_write_tokens,
       cache_write_1h_tokens AS cache_write_1h_tokens,
       output_tokens AS output_tokens,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND stream AND ttft_ms >= 0 AND latency_ms > ttft_ms AND output_tokens > 0 THEN output_tokens ELSE 0 END AS stream_output_tokens,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND stream AND ttft_ms >= 0 AND latency_ms > ttft_ms AND output_tokens > 0 THEN latency_ms - ttft_ms ELSE 0 END AS stream_generation_ms,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') THEN (SELECT bucket FROM latency_buckets WHERE lo <= max(0, latency_ms) ORDER BY lo DESC LIMIT 1) END AS latency_bucket,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND ttft_ms >= 0 THEN (SELECT bucket FROM latency_buckets WHERE lo <= max(0, ttft_ms) ORDER BY lo DESC LIMIT 1) END AS ttft_bucket
  FROM requests;

INSERT INTO rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, stream_output_tokens, stream_generation_ms)
SELECT 0, started_at_ms / 3600000, key_id, model, provider, sum(requests), sum(refused), sum(cancelled), sum(errors), sum(cost_nano_usd), sum(unpriced), sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens), sum(stream_output_tokens), sum(stream_generation_ms)
  FROM request_facts GROUP BY 2, 3, 4, 5;
INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
SELECT 0, started_at_ms / 3600000, key_id, model, 0, latency_bucket, count(*)
  FROM request_facts WHERE latency_bucket IS NOT NULL GROUP BY 2, 3, 4, 6;
INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
SELECT 0, started_at_ms / 3600000, key_id, model, 1, ttft_bucket, count(*)
  FROM request_facts WHERE ttft_bucket IS NOT NULL GROUP BY 2, 3, 4, 6;
INSERT INTO rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, stream_output_tokens, stream_generation_ms)
SELECT 1, started_at_ms / 86400000, key_id, model, provider, sum(requests), sum(refused), sum(cancelled), sum(errors), sum(cost_nano_usd), sum(unpriced), sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens), sum(stream_output_tokens), sum(stream_generation_ms)
  FROM request_facts GROUP BY 2, 3, 4, 5;
INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
SELECT 1, started_at_ms / 86400000, key_id, model, 0, latency_bucket, count(*)
  FROM request_facts WHERE latency_bucket IS NOT NULL GROUP BY 2, 3, 4, 6;
INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
SELECT 1, started_at_ms / 86400000, key_id, model, 1, ttft_bucket, count(*)
  FROM request_facts WHERE ttft_bucket IS NOT NULL GROUP BY 2, 3, 4, 6;

-- Plain statements per grain rather than one INSERT ... SELECT over both: 40% less work per row.
CREATE TRIGGER requests_rollup_insert AFTER INSERT ON requests
BEGIN
    INSERT INTO rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, stream_output_tokens, stream_generation_ms)
    VALUES (0, NEW.started_at_ms / 3600000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, NEW.provider,
            1,
            NEW.attempts = 0,
            NEW.attempts > 0 AND NEW.status = 499,
            NEW.attempts > 0 AND NEW.status <> 499 AND NOT (NEW.status BETWEEN 200 AND 299 AND NEW.error = ''),
            coalesce(NEW.cost_nano_usd, 0),
            NEW.cost_nano_usd IS NULL AND NEW.input_tokens + NEW.cache_read_tokens + NEW.cache_write_tokens + NEW.cache_write_1h_tokens + NEW.output_tokens > 0,
            NEW.input_tokens,
            NEW.cache_read_tokens,
            NEW.cache_write_tokens,
            NEW.cache_write_1h_tokens,
            NEW.output_tokens,
            CASE WHEN (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.stream AND NEW.ttft_ms >= 0 AND NEW.latency_ms > NEW.ttft_ms AND NEW.output_tokens > 0 THEN NEW.output_tokens ELSE 0 END,
            CASE WHEN (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.stream AND NEW.ttft_ms >= 0 AND NEW.latency_ms > NEW.ttft_ms AND NEW.output_tokens > 0 THEN NEW.latency_ms - NEW.ttft_ms ELSE 0 END)
    ON CONFLICT (grain, t, key_id, model, provider) DO UPDATE SET
        requests = requests + excluded.requests,
        refused = refused + excluded.refused,
        cancelled = cancelled + excluded.cancelled,
        errors = errors + excluded.errors,
        cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd,
        unpriced = unpriced + excluded.unpriced,
        input_tokens = input_tokens + excluded.input_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        stream_output_tokens = stream_output_tokens + excluded.stream_output_tokens,
        stream_generation_ms = stream_generation_ms + excluded.stream_generation_ms;
    INSERT INTO rollups (grain, t, key_id, model, provider, requests, refused, cancelled, errors, cost_nano_usd, unpriced, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, stream_output_tokens, stream_generation_ms)
    VALUES (1, NEW.started_at_ms / 86400000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, NEW.provider,
            1,
            NEW.attempts = 0,
            NEW.attempts > 0 AND NEW.status = 499,
            NEW.attempts > 0 AND NEW.status <> 499 AND NOT (NEW.status BETWEEN 200 AND 299 AND NEW.error = ''),
            coalesce(NEW.cost_nano_usd, 0),
            NEW.cost_nano_usd IS NULL AND NEW.input_tokens + NEW.cache_read_tokens + NEW.cache_write_tokens + NEW.cache_write_1h_tokens + NEW.output_tokens > 0,
            NEW.input_tokens,
            NEW.cache_read_tokens,
            NEW.cache_write_tokens,
            NEW.cache_write_1h_tokens,
            NEW.output_tokens,
            CASE WHEN (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.stream AND NEW.ttft_ms >= 0 AND NEW.latency_ms > NEW.ttft_ms AND NEW.output_tokens > 0 THEN NEW.output_tokens ELSE 0 END,
            CASE WHEN (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.stream AND NEW.ttft_ms >= 0 AND NEW.latency_ms > NEW.ttft_ms AND NEW.output_tokens > 0 THEN NEW.latency_ms - NEW.ttft_ms ELSE 0 END)
    ON CONFLICT (grain, t, key_id, model, provider) DO UPDATE SET
        requests = requests + excluded.requests,
        refused = refused + excluded.refused,
        cancelled = cancelled + excluded.cancelled,
        errors = errors + excluded.errors,
        cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd,
        unpriced = unpriced + excluded.unpriced,
        input_tokens = input_tokens + excluded.input_tokens,
        cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
        cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
        cache_write_1h_tokens = cache_write_1h_tokens + excluded.cache_write_1h_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        stream_output_tokens = stream_output_tokens + excluded.stream_output_tokens,
        stream_generation_ms = stream_generation_ms + excluded.stream_generation_ms;
    INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
    SELECT 0, NEW.started_at_ms / 3600000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, 0, (SELECT bucket FROM latency_buckets WHERE lo <= max(0, NEW.latency_ms) ORDER BY lo DESC LIMIT 1), 1
     WHERE (NEW.status BETWEEN 200 AND 299 AND NEW.error = '')
    ON CONFLICT (grain, t, key_id, model, metric, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
    SELECT 0, NEW.started_at_ms / 3600000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, 1, (SELECT bucket FROM latency_buckets WHERE lo <= max(0, NEW.ttft_ms) ORDER BY lo DESC LIMIT 1), 1
     WHERE (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.ttft_ms >= 0
    ON CONFLICT (grain, t, key_id, model, metric, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
    SELECT 1, NEW.started_at_ms / 86400000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, 0, (SELECT bucket FROM latency_buckets WHERE lo <= max(0, NEW.latency_ms) ORDER BY lo DESC LIMIT 1), 1
     WHERE (NEW.status BETWEEN 200 AND 299 AND NEW.error = '')
    ON CONFLICT (grain, t, key_id, model, metric, bucket) DO UPDATE SET n = n + 1;
    INSERT INTO rollup_latency (grain, t, key_id, model, metric, bucket, n)
    SELECT 1, NEW.started_at_ms / 86400000, NEW.key_id, CASE WHEN NEW.model_id <> '' THEN NEW.model_id WHEN NEW.provider <> '' AND NEW.upstream_model <> '' THEN NEW.provider || '/' || NEW.upstream_model ELSE '' END, 1, (SELECT bucket FROM latency_buckets WHERE lo <= max(0, NEW.ttft_ms) ORDER BY lo DESC LIMIT 1), 1
     WHERE (NEW.status BETWEEN 200 AND 299 AND NEW.error = '') AND NEW.ttft_ms >= 0
    ON CONFLICT (grain, t, key_id, model, metric, bucket) DO UPDATE SET n = n + 1;
END;

-- Deleting rows (clearing the log) takes them out again.
CREATE TRIGGER requests_rollup_delete AFTER DELETE ON requests
BEGIN
    UPDATE rollups SET requests = requests - (1), refused = refused - (OLD.attempts = 0), cancelled = cancelled - (OLD.attempts > 0 AND OLD.status = 499), errors = errors - (OLD.attempts > 0 AND OLD.status <> 499 AND NOT (OLD.status BETWEEN 200 AND 299 AND OLD.error = '')), cost_nano_usd = cost_nano_usd - (coalesce(OLD.cost_nano_usd, 0)), unpriced = unpriced - (OLD.cost_nano_usd IS NULL AND OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens + OLD.cache_write_1h_tokens + OLD.output_tokens > 0), input_tokens = input_tokens - (OLD.input_tokens), cache_read_tokens = cache_read_tokens - (OLD.cache_read_tokens), cache_write_tokens = cache_write_tokens - (OLD.cache_write_tokens), cache_write_1h_tokens = cache_write_1h_tokens - (OLD.cache_write_1h_tokens), output_tokens = output_tokens - (OLD.output_tokens), stream_output_tokens = stream_output_tokens - (CASE WHEN (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.stream AND OLD.ttft_ms >= 0 AND OLD.latency_ms > OLD.ttft_ms AND OLD.output_tokens > 0 THEN OLD.output_tokens ELSE 0 END), stream_generation_ms = stream_generation_ms - (CASE WHEN (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.stream AND OLD.ttft_ms >= 0 AND OLD.latency_ms > OLD.ttft_ms AND OLD.output_tokens > 0 THEN OLD.latency_ms - OLD.ttft_ms ELSE 0 END)
     WHERE grain = 0 AND t = OLD.started_at_ms / 3600000 AND key_id = OLD.key_id AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND provider = OLD.provider;
    UPDATE rollups SET requests = requests - (1), refused = refused - (OLD.attempts = 0), cancelled = cancelled - (OLD.attempts > 0 AND OLD.status = 499), errors = errors - (OLD.attempts > 0 AND OLD.status <> 499 AND NOT (OLD.status BETWEEN 200 AND 299 AND OLD.error = '')), cost_nano_usd = cost_nano_usd - (coalesce(OLD.cost_nano_usd, 0)), unpriced = unpriced - (OLD.cost_nano_usd IS NULL AND OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens + OLD.cache_write_1h_tokens + OLD.output_tokens > 0), input_tokens = input_tokens - (OLD.input_tokens), cache_read_tokens = cache_read_tokens - (OLD.cache_read_tokens), cache_write_tokens = cache_write_tokens - (OLD.cache_write_tokens), cache_write_1h_tokens = cache_write_1h_tokens - (OLD.cache_write_1h_tokens), output_tokens = output_tokens - (OLD.output_tokens), stream_output_tokens = stream_output_tokens - (CASE WHEN (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.stream AND OLD.ttft_ms >= 0 AND OLD.latency_ms > OLD.ttft_ms AND OLD.output_tokens > 0 THEN OLD.output_tokens ELSE 0 END), stream_generation_ms = stream_generation_ms - (CASE WHEN (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.stream AND OLD.ttft_ms >= 0 AND OLD.latency_ms > OLD.ttft_ms AND OLD.output_tokens > 0 THEN OLD.latency_ms - OLD.ttft_ms ELSE 0 END)
     WHERE grain = 1 AND t = OLD.started_at_ms / 86400000 AND key_id = OLD.key_id AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND provider = OLD.provider;
    UPDATE rollup_latency SET n = n - 1
     WHERE (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND grain = 0 AND t = OLD.started_at_ms / 3600000 AND key_id = OLD.key_id
       AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 0 AND bucket = (SELECT bucket FROM latency_buckets WHERE lo <= max(0, OLD.latency_ms) ORDER BY lo DESC LIMIT 1);
    UPDATE rollup_latency SET n = n - 1
     WHERE (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.ttft_ms >= 0 AND grain = 0 AND t = OLD.started_at_ms / 3600000 AND key_id = OLD.key_id
       AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 1 AND bucket = (SELECT bucket FROM latency_buckets WHERE lo <= max(0, OLD.ttft_ms) ORDER BY lo DESC LIMIT 1);
    UPDATE rollup_latency SET n = n - 1
     WHERE (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND grain = 1 AND t = OLD.started_at_ms / 86400000 AND key_id = OLD.key_id
       AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 0 AND bucket = (SELECT bucket FROM latency_buckets WHERE lo <= max(0, OLD.latency_ms) ORDER BY lo DESC LIMIT 1);
    UPDATE rollup_latency SET n = n - 1
     WHERE (OLD.status BETWEEN 200 AND 299 AND OLD.error = '') AND OLD.ttft_ms >= 0 AND grain = 1 AND t = OLD.started_at_ms / 86400000 AND key_id = OLD.key_id
       AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 1 AND bucket = (SELECT bucket FROM latency_buckets WHERE lo <= max(0, OLD.ttft_ms) ORDER BY lo DESC LIMIT 1);
END;
)sql"},
    Migration{5, "rollups and prompt prefix retention kept by the request-log writer, per batch", R"sql(
-- The per-row insert triggers cost the writer most of its throughput: the writer now folds each
-- batch into one delta per rollup row (the same figures as request_facts) and trims prompt_prefixes
-- to the latest 200 rows per key once per batch. Deleting requests still subtracts (requests_rollup_delete).
DROP TRIGGER requests_rollup_insert;
DROP TRIGGER prompt_prefixes_keep_latest;
)sql"},
    Migration{6, "attempts keyed by the request's seq", R"sql(
-- Keyed by the random request id, every attempt row was an insert into a random place of a B-tree:
-- it cost the writer more than the request row itself (45,000 against 109,000 rows/s, writer_bench).
-- The request's seq grows with every row, so attempts are now appended at the end.
CREATE TABLE attempts_by_seq (
    request_seq   INTEGER NOT NULL,   -- requests.seq
    idx           INTEGER NOT NULL,   -- 1-based order within the request (skips included)
    model_id      TEXT    NOT NULL,
    provider      TEXT    NOT NULL DEFAULT '',
    outcome       TEXT    NOT NULL,   -- "ok", "failed", "skipped"
    status        INTEGER NOT NULL DEFAULT 0,
    error         TEXT    NOT NULL DEFAULT '',
    started_at_ms INTEGER NOT NULL,
    latency_ms    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (request_seq, idx)
) WITHOUT ROWID;
INSERT INTO attempts_by_seq
    SELECT r.seq, a.idx, a.model_id, a.provider, a.outcome, a.status, a.error, a.started_at_ms, a.latency_ms
      FROM attempts a JOIN requests r ON r.id = a.request_id;
DROP TABLE attempts;
ALTER TABLE attempts_by_seq RENAME TO attempts;
)sql"},
    Migration{7, "prompt block hashes from XXH3", R"sql(
-- The prompt's 1 KiB block hashes are now XXH3 (they were XXH64): stored ones would never match new
-- ones, and the Cache page would call every key's prefix changed. The next requests refill the table.
DELETE FROM prompt_prefixes;
)sql"},
    Migration{8, "pending rows of answered requests, recovered flag", R"sql(
-- A stream's pending row is committed before its first byte reaches the client and deleted with the
-- final row. One left at start-up is a request the process died in: the recovery pass logs it at
-- its reservation with recovered = 1.
CREATE TABLE pending_requests (
    id                TEXT    PRIMARY KEY,
    started_at_ms     INTEGER NOT NULL,
    key_id            INTEGER NOT NULL DEFAULT 0,
    key_name          TEXT    NOT NULL DEFAULT '',
    endpoint          TEXT    NOT NULL DEFAULT '',
    requested_model   TEXT    NOT NULL DEFAULT '',
    route             TEXT    NOT NULL DEFAULT '',
    model_id          TEXT    NOT NULL DEFAULT '',
    provider          TEXT    NOT NULL DEFAULT '',
    upstream_model    TEXT    NOT NULL DEFAULT '',
    reserved_nano_usd INTEGER NOT NULL DEFAULT 0, -- -1: an unpriced model (recovered as unpriced)
    stream            INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
ALTER TABLE requests ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{9, "the client's session id on the request log", R"sql(
-- Claude Code sends x-claude-code-session-id on every request of one session: Activity filters on
-- it and the Dashboard sums today's spend per session. Rows without a session are not indexed.
ALTER TABLE requests ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_session_time ON requests (session_id, started_at_ms) WHERE session_id <> '';
)sql"},
    Migration{10, "budget policy per key: clamp or refuse", R"sql(
-- What a key does when a request's worst case does not fit what remains of its budget:
-- "clamp" lowers the request's output limit to what fits (never below min_output_tokens), "refuse" answers 402.
ALTER TABLE keys ADD COLUMN on_short_budget TEXT NOT NULL DEFAULT 'clamp';
ALTER TABLE keys ADD COLUMN min_output_tokens INTEGER NOT NULL DEFAULT 1024;
)sql"},
    Migration{11, "overshoots on the request log", R"sql(
-- A request whose settled cost exceeded its reservation (the reservation bounds what the provider may
-- bill, so the target is none): by how much. The keys' overshoot counts are rebuilt from it at start.
ALTER TABLE requests ADD COLUMN overshoot_nano_usd INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{12, "guardrail trips", R"sql(
-- Every guardrail trip (docs/guardrails.md) with its evidence, and how a pause ended: a pause
-- survives a restart (the gateway restores the active ones at start) and the window lists them.
-- Kept by "Clear log": clearing the history must not lift a pause.
CREATE TABLE guardrail_trips (
    id             INTEGER PRIMARY KEY,            -- the gateway's trip id (GET /v1/key shows it)
    at_ms          INTEGER NOT NULL,
    key_id         INTEGER NOT NULL,
    key_name       TEXT    NOT NULL DEFAULT '',
    session_id     TEXT    NOT NULL DEFAULT '',    -- the paused / judged session; '': the whole key
    detector       TEXT    NOT NULL,               -- repetition | velocity | blowup
    action         TEXT    NOT NULL,               -- alert | pause
    request_id     TEXT    NOT NULL DEFAULT '',    -- the request that tripped it
    summary        TEXT    NOT NULL DEFAULT '',
    evidence       TEXT    NOT NULL DEFAULT '{}',  -- JSON: hashes, counts, $, tokens
    cost_nano_usd  INTEGER NOT NULL DEFAULT 0,     -- what the scope had spent when it tripped
    active         INTEGER NOT NULL DEFAULT 0,     -- a pause not lifted yet
    ended_at_ms    INTEGER NOT NULL DEFAULT 0,
    ended_by       TEXT    NOT NULL DEFAULT '',    -- window | api
    kept_at_ms     INTEGER NOT NULL DEFAULT 0      -- a person chose "Keep paused"
);
CREATE INDEX guardrail_trips_active ON guardrail_trips (key_id) WHERE active = 1;
CREATE INDEX guardrail_trips_request ON guardrail_trips (request_id);
)sql"},
    Migration{13, "the response cache's verdict and saving on the request log; local providers", R"sql(
-- cache_status: '' (no response_cache policy applied), 'hit', 'miss' or 'bypass'. A hit is charged
-- nothing (cost_nano_usd 0, no tokens): cache_saved_nano_usd is what the same answer cost when it was
-- bought, so the Cache page can sum the savings. The answers themselves are not in this database
-- (response-cache.db, store/responsecachestore.h).
ALTER TABLE requests ADD COLUMN cache_status TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN cache_saved_nano_usd INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_cache_lookups ON requests (started_at_ms) WHERE cache_status IN ('hit', 'miss');
-- A provider on this machine (found by local discovery, or "local": true in the config): its models
-- without a price of their own are priced $0 as local, never unpriced.
ALTER TABLE providers ADD COLUMN local INTEGER NOT NULL DEFAULT 0;
)sql"},
    Migration{14, "secret scanning: the key's mode, the findings on the request log", R"sql(
-- What a key's requests do when their prompt holds a secret: off, warn (the default), redact, block.
ALTER TABLE keys ADD COLUMN secret_scan TEXT NOT NULL DEFAULT 'warn';
-- The secrets found in a request's prompt, as "rule-id@offset+length" joined by ',' (byte offsets in
-- the body as the client sent it). Never the secret itself.
ALTER TABLE requests ADD COLUMN secret_findings TEXT NOT NULL DEFAULT '';
)sql"},
    Migration{15, "data policies: a provider's and a model's, a key's requirement; refusals on the request log", R"sql(
-- What a provider (or one of its models) does with prompts, over its published terms: the config's
-- "data_policy" object as compact JSON, '' when nothing is stated (config/datapolicy.h).
ALTER TABLE providers ADD COLUMN data_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN data_policy TEXT NOT NULL DEFAULT '';
-- The data policy a key's targets must meet ("require_policy" as compact JSON), '' for none.
ALTER TABLE keys ADD COLUMN require_policy TEXT NOT NULL DEFAULT '';
-- Why a request was refused before it was forwarded: budget, policy, secret or guardrail ('' when it
-- was not refused); the reason is the row's error. Activity filters on it and the Dashboard counts it.
ALTER TABLE requests ADD COLUMN refusal TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_refusals ON requests (started_at_ms) WHERE refusal <> '';
)sql"},
    Migration{16, "the audit trail of control-plane changes", R"sql(
-- Every change of a key, limit, provider, model, route, setting or pause, with where it came from
-- (window, config, cli, api) and the members that changed, before and after, as JSON. Never a
-- secret (store/audittrail.h). Kept by "Clear log" and by "delete everything about a key" (which
-- adds its own row): it is the record of those too.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at_ms     INTEGER NOT NULL,
    origin    TEXT    NOT NULL,             -- window | config | cli | api
    action    TEXT    NOT NULL,             -- key.create, key.pause, provider.update, setting.gateway...
    subject   TEXT    NOT NULL DEFAULT '',  -- the key's name, the provider's / model's / route's id...
    old_value TEXT    NOT NULL DEFAULT '',  -- JSON object of the changed members before ('' if created)
    new_value TEXT    NOT NULL DEFAULT ''   -- after ('' if removed)
);
CREATE INDEX audit_log_time ON audit_log (at_ms);
)sql"},
    Migration{18, "request sizes per day, key and model, for the what-if", R"sql(
-- The what-if (store/whatif.h) re-prices history on a candidate whose price may change with the
-- prompt's size (long-context tiers) and counts the requests too long for its context window. Both
-- depend on each request's size, which the rollups do not keep: a scan of 1M rows took 0.3-1.7 s.
-- rollup_sizes is a histogram of request sizes per UTC day, key and model with the usage of each
-- bucket summed, kept by the request-log writer with the other rollups.
--
-- Bucket k holds sizes s with above(k) < s <= above(k + 1). A tier "above T tokens" and a window of
-- W tokens split the buckets exactly when T (W) is one of the bounds, which are every tier start and
-- context window of the bundled genai-prices catalog (taken 2026-12), powers of two from 1,024 and
-- round thousands. A candidate with any other bound is priced from the request rows (exact, slower).
CREATE TABLE size_buckets (
    bucket INTEGER PRIMARY KEY,
    above  INTEGER NOT NULL UNIQUE
);
INSERT INTO size_buckets (bucket, above) VALUES
(0, -1), (1, 0), (2, 512), (3, 1000), (4, 1024), (5, 2000), (6, 2048), (7, 4000), (8, 4095), (9, 4096), (10,
6144), (11, 8000), (12, 8191), (13, 8192), (14, 10000), (15, 12288), (16, 16000), (17, 16384), (18, 16385),
(19, 20000), (20, 24000), (21, 30000), (22, 32000), (23, 32768), (24, 40960), (25, 50000), (26, 60000), (27,
60288), (28, 64000), (29, 65535), (30, 65536), (31, 81920), (32, 100000), (33, 110000), (34, 120000), (35,
123000), (36, 127072), (37, 128000), (38, 131000), (39, 131072), (40, 144000), (41, 150000), (42, 160000),
(43, 163000), (44, 163840), (45, 196000), (46, 199999), (47, 200000), (48, 202000), (49, 202752), (50,
202800), (51, 204800), (52, 205000), (53, 250000), (54, 256000), (55, 262000), (56, 262144), (57, 264000),
(58, 265536), (59, 271999), (60, 272000), (61, 300000), (62, 328000), (63, 400000), (64, 500000), (65,
512000), (66, 524288), (67, 600000), (68, 700000), (69, 800000), (70, 890000), (71, 900000), (72, 1000000),
(73, 1000192), (74, 1040000), (75, 1047576), (76, 1048000), (77, 1048576), (78, 1050000), (79, 1310720), (80,
1500000), (81, 2000000), (82, 2097152), (83, 3000000), (84, 4000000), (85, 4194304), (86, 5000000), (87,
8388608), (88, 10000000), (89, 16777216);

CREATE TABLE rollup_sizes (
    t                     INTEGER NOT NULL,            -- started_at_ms / 86400000 (UTC day)
    key_id                INTEGER NOT NULL,
    model                 TEXT    NOT NULL,            -- as in rollups
    metric                INTEGER NOT NULL,            -- 0: prompt tokens (cached included), 1: prompt + output
    bucket                INTEGER NOT NULL,            -- size_buckets.bucket
    n                     INTEGER NOT NULL,            -- requests
    input_tokens          INTEGER NOT NULL DEFAULT 0,  -- metric 0 only: the bucket's usage
    cache_read_tokens     INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens    INTEGER NOT NULL DEFAULT 0,
    cache_write_1h_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (t, key_id, model, metric, bucket)
) WITHOUT ROWID;

-- Requests without tokens (refused, failed before usage) are not counted: they cost nothing anywhere
-- and fit every window.
INSERT INTO rollup_sizes (t, key_id, model, metric, bucket, n, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens)
SELECT t, key_id, model, 0, (SELECT bucket FROM size_buckets WHERE above < p ORDER BY above DESC LIMIT 1), count(*),
       sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens), sum(output_tokens)
  FROM (SELECT started_at_ms / 86400000 AS t, key_id, model, input_tokens, cache_read_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
               input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens AS p
          FROM request_facts WHERE input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > 0)
 GROUP BY 1, 2, 3, 5;
INSERT INTO rollup_sizes (t, key_id, model, metric, bucket, n)
SELECT t, key_id, model, 1, (SELECT bucket FROM size_buckets WHERE above < s ORDER BY above DESC LIMIT 1), count(*)
  FROM (SELECT started_at_ms / 86400000 AS t, key_id, model,
               input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens AS s
          FROM request_facts WHERE input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > 0)
 GROUP BY 1, 2, 3, 5;

-- Deleting rows takes them out again (as requests_rollup_delete does for the rollups; Clear log
-- drops both triggers for its one delete of everything).
CREATE TRIGGER requests_rollup_sizes_delete AFTER DELETE ON requests
 WHEN OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens + OLD.cache_write_1h_tokens + OLD.output_tokens > 0
BEGIN
    UPDATE rollup_sizes SET n = n - 1, input_tokens = input_tokens - OLD.input_tokens, cache_read_tokens = cache_read_tokens - OLD.cache_read_tokens,
           cache_write_tokens = cache_write_tokens - OLD.cache_write_tokens, cache_write_1h_tokens = cache_write_1h_tokens - OLD.cache_write_1h_tokens,
           output_tokens = output_tokens - OLD.output_tokens
     WHERE t = OLD.started_at_ms / 86400000 AND key_id = OLD.key_id AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 0
       AND bucket = (SELECT bucket FROM size_buckets WHERE above < OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens + OLD.cache_write_1h_tokens ORDER BY above DESC LIMIT 1);
    UPDATE rollup_sizes SET n = n - 1
     WHERE t = OLD.started_at_ms / 86400000 AND key_id = OLD.key_id AND model = CASE WHEN OLD.model_id <> '' THEN OLD.model_id WHEN OLD.provider <> '' AND OLD.upstream_model <> '' THEN OLD.provider || '/' || OLD.upstream_model ELSE '' END AND metric = 1
       AND bucket = (SELECT bucket FROM size_buckets WHERE above < OLD.input_tokens + OLD.cache_read_tokens + OLD.cache_write_tokens + OLD.cache_write_1h_tokens + OLD.output_tokens ORDER BY above DESC LIMIT 1);
END;
)sql"},
    Migration{19, "the instance that served each request", kInstanceMigrationSql},
    // One instance's Rankings and Cache read its rows (the rollups have no instance): the view says
    // whose each row is. Otherwise migration 4's view as it was.
    Migration{21, "the instance of each row in request_facts", R"sql(
DROP VIEW request_facts;
CREATE VIEW request_facts AS
SELECT seq, started_at_ms, key_id, CASE WHEN model_id <> '' THEN model_id WHEN provider <> '' AND upstream_model <> '' THEN provider || '/' || upstream_model ELSE '' END AS model, provider,
       1 AS requests,
       attempts = 0 AS refused,
       attempts > 0 AND status = 499 AS cancelled,
       attempts > 0 AND status <> 499 AND NOT (status BETWEEN 200 AND 299 AND error = '') AS errors,
       coalesce(cost_nano_usd, 0) AS cost_nano_usd,
       cost_nano_usd IS NULL AND input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens + output_tokens > 0 AS unpriced,
       input_tokens AS input_tokens,
       cache_read_tokens AS cache_read_tokens,
       cache_write_tokens AS cache_write_tokens,
       cache_write_1h_tokens AS cache_write_1h_tokens,
       output_tokens AS output_tokens,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND stream AND ttft_ms >= 0 AND latency_ms > ttft_ms AND output_tokens > 0 THEN output_tokens ELSE 0 END AS stream_output_tokens,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND stream AND ttft_ms >= 0 AND latency_ms > ttft_ms AND output_tokens > 0 THEN latency_ms - ttft_ms ELSE 0 END AS stream_generation_ms,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') THEN (SELECT bucket FROM latency_buckets WHERE lo <= max(0, latency_ms) ORDER BY lo DESC LIMIT 1) END AS latency_bucket,
       CASE WHEN (status BETWEEN 200 AND 299 AND error = '') AND ttft_ms >= 0 THEN (SELECT bucket FROM latency_buckets WHERE lo <= max(0, ttft_ms) ORDER BY lo DESC LIMIT 1) END AS ttft_bucket,
       instance_id
  FROM requests;
)sql"},
};
// clang-format on

static_assert(kApplicationId == 1195922225, "keep the application_id in migration 1 in sync");

constexpr bool migrationsAreOrdered()
{
    for (std::size_t i = 0; i < kMigrations.size(); ++i) {
        // Ascending, each above the last. Gaps are allowed while branches that each add their own
        // number are merged (a number is assigned per branch); a release has none.
        if (kMigrations[i].version <= (i == 0 ? 0 : kMigrations[i - 1].version))
            return false;
    }
    return true;
}
static_assert(migrationsAreOrdered(), "migrations must be numbered in ascending order");

QString lastError(sqlite3 *db) { return QString::fromUtf8(sqlite3_errmsg(db)); }

bool exec(sqlite3 *db, const char *sql, QString *error)
{
    char *msg = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) == SQLITE_OK)
        return true;
    if (error)
        *error = msg ? QString::fromUtf8(msg) : lastError(db);
    sqlite3_free(msg);
    return false;
}

// Runs a query that returns one integer (a PRAGMA or a count).
bool queryInt(sqlite3 *db, const char *sql, int *out, QString *error)
{
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(stmt, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK && error)
        *error = lastError(db);
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK;
}

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

} // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latestSchemaVersion() { return kMigrations.back().version; }

bool migrate(sqlite3 *db, QString *error)
{
    QString why;
    int version = 0;
    int appId = 0;
    int objects = 0;
    if (!queryInt(db, "PRAGMA user_version", &version, &why) || !queryInt(db, "PRAGMA application_id", &appId, &why)
        || !queryInt(db, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", &objects, &why)) {
        setError(error, QStringLiteral("cannot read the database: %1").arg(why));
        return false;
    }
    const int latest = latestSchemaVersion();
    if (version > latest) {
        setError(error, QStringLiteral("the database has schema version %1, newer than this version of Gatehouse "
                                       "supports (%2); use a newer Gatehouse or another data directory")
                            .arg(version)
                            .arg(latest));
        return false;
    }
    if ((version == 0 && objects > 0) || (version > 0 && appId != kApplicationId)) {
        setError(error, QStringLiteral("the file is a SQLite database of another application, not a Gatehouse database"));
        return false;
    }

    for (const Migration &m : kMigrations) {
        if (m.version <= version)
            continue;
        // IMMEDIATE takes the write lock first, so two processes opening the same new file do not
        // both run a migration: the second re-reads the version inside its transaction.
        if (!exec(db, "BEGIN IMMEDIATE", &why)) {
            setError(error, QStringLiteral("cannot start migration %1: %2").arg(m.version).arg(why));
            return false;
        }
        int current = 0;
        bool ok = queryInt(db, "PRAGMA user_version", &current, &why);
        if (ok && current < m.version) {
            const QByteArray setVersion = "PRAGMA user_version = " + QByteArray::number(m.version);
            ok = exec(db, m.sql, &why) && exec(db, setVersion.constData(), &why);
        }
        if (ok)
            ok = exec(db, "COMMIT", &why);
        if (!ok) {
            exec(db, "ROLLBACK", nullptr);
            setError(error, QStringLiteral("migration %1 (%2) failed: %3").arg(m.version).arg(QLatin1String(m.description), why));
            return false;
        }
        if (current < m.version)
            qCInfo(lcStore) << "migrated the database to schema version" << m.version << "(" << m.description << ")";
        version = m.version;
    }
    return true;
}

} // namespace gh::store
