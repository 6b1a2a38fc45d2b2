#include "config/config.h"
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace gh;

class TestConfig : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void errors_data();
    void errors();
    void errorNeverContainsTheSecret();
    void syntaxErrorPosition();
    void issueExample();
    void fullFile();
    void emptyObjectAndDefaults();
    void formats();
    void errorToString();
    void loadFile();
    void nullErrorPointerIsAllowed();
    void routesAndLimits();
    void responseCacheAndLocal();
    void strategies();
    void shippedExamplesParse();
};

// moc (Qt 6.4) does not understand raw string literals: it reads "//" in a URL inside one as a
// comment. It only needs the slot declarations above, so the bodies are hidden from it.
#ifndef Q_MOC_RUN


namespace {

const QString kFile = QStringLiteral("gatehouse.json");

// The example of issue 2, verbatim. (Written as "openai/" "*" only because moc reads a slash-star
// inside a raw string literal as the start of a comment and then finds no class in this file.)
const char *kIssueExample = R"({
  "providers": [
    {"id": "openai", "format": "openai", "base_url": "https://api.openai.com/v1",
     "api_key_env": "OPENAI_API_KEY"}
  ],
  "models": [
    {"id": "openai/gpt-4.1-mini", "provider": "openai", "upstream_model": "gpt-4.1-mini",
     "pricing": {"input": 0.40, "output": 1.60, "cache_read": 0.10, "cache_write": 0.0},
     "context_window": 1047576, "max_output_tokens": 32768}
  ],
  "keys": [
    {"name": "scripts", "secret": "gk-local-example", "allow_models": ["openai/)" "*" R"("],
     "limits": {"day_usd": 2.0, "week_usd": 10.0, "month_usd": 30.0, "total_usd": null}}
  ]
})";

// A valid provider list that error cases build on.
const QByteArray kProviders = R"("providers": [{"id": "openai", "base_url": "https://api.openai.com/v1"}])";

QByteArray withProviders(const QByteArray &rest)
{
    return "{" + kProviders + ", " + rest + "}";
}

QString errorOf(const QByteArray &json)
{
    ConfigError error;
    const auto config = parseConfig(json, kFile, &error);
    if (config)
        return QStringLiteral("(parsed without error)");
    return error.toString();
}

} // namespace


void TestConfig::errors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");

    auto row = [](const char *name, const QByteArray &json, const char *expected) {
        QTest::newRow(name) << json << QString::fromUtf8(expected);
    };

    // --- the file itself ---
    row("empty file", "", "gatehouse.json: the file is empty (expected a JSON object)");
    row("whitespace only", "  \n\t ", "gatehouse.json: the file is empty (expected a JSON object)");
    row("missing comma", "{\n  \"providers\": []\n  \"keys\": []\n}",
        "gatehouse.json:3:4: invalid JSON: unterminated object");
        // The string runs to the end of the file, where the parser notices.
        row("unterminated string", "{\n  \"keys\": [{\"name\": \"scr\n", "gatehouse.json:3:1: invalid JSON: unterminated string");
    row("trailing comma in array", "{\"keys\": [\n  {},\n]}", "gatehouse.json:3:2: invalid JSON: object is missing after a comma");
    row("garbage after the document", "{}\n}", "gatehouse.json:2:1: invalid JSON: garbage at the end of the document");
    // --- store ---
    row("store not a string", "{\"store\": 5}",
        "gatehouse.json: store: must be a string: a postgres:// URL, or \"sqlite\" for this machine's file");
    row("store not a postgres URL", "{\"store\": \"mysql://db/gh\"}",
        "gatehouse.json: store: must be a postgres:// (postgresql://) URL, or \"sqlite\" for this machine's file");
    row("lease_ttl_ms too short", "{\"lease_ttl_ms\": 999}",
        "gatehouse.json: lease_ttl_ms: must be a whole number of milliseconds from 1000 to 600000");
    row("lease_ttl_ms not whole", "{\"lease_ttl_ms\": 1500.5}",
        "gatehouse.json: lease_ttl_ms: must be a whole number of milliseconds from 1000 to 600000");
    row("lease_ttl_ms a string", "{\"lease_ttl_ms\": \"10s\"}",
        "gatehouse.json: lease_ttl_ms: must be a whole number of milliseconds from 1000 to 600000");
    // Columns count characters, not UTF-8 bytes: "é" is one column.
    row("column counts characters", "{\"keys\": [{\"name\": \"é\" x}]}",
        "gatehouse.json:1:25: invalid JSON: unterminated object");
    row("top level is an array", "[]", "gatehouse.json: the top level must be a JSON object");
    // Qt's parser accepts only an object or an array at the top.
        row("top level is a string", "\"x\"", "gatehouse.json:1:2: invalid JSON: illegal value");
        row("top level is an unterminated array", "[1", "gatehouse.json:1:3: invalid JSON: invalid termination by number");
        row("misspelt field, one edit", R"({"providers": [{"id": "a", "base_url": "https://a.test", "enable": true}]})",
            "gatehouse.json: providers[0].enable: unknown field (did you mean \"enabled\"?)");
    row("unknown top-level field", R"({"listen": 8080})", "gatehouse.json: listen: unknown field");
    row("misspelt top-level field", R"({"provider": []})",
        "gatehouse.json: provider: unknown field (did you mean \"providers\"?)");

    // --- providers ---
    row("providers not an array", R"({"providers": {}})", "gatehouse.json: providers: must be an array");
    row("provider not an object", R"({"providers": ["openai"]})", "gatehouse.json: providers[0]: must be an object");
    row("provider id missing", R"({"providers": [{"base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].id: is required");
    row("provider id empty", R"({"providers": [{"id": "", "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].id: must not be empty");
    row("provider id not a string", R"({"providers": [{"id": 7, "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].id: must be a string");
    row("provider id upper case", R"({"providers": [{"id": "OpenAI", "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].id: must contain only lower-case letters, digits, '.', '_' and '-'");
    row("provider id with slash", R"({"providers": [{"id": "a/b", "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].id: must contain only lower-case letters, digits, '.', '_' and '-'");
    row("duplicate provider id",
        R"({"providers": [{"id": "openai", "base_url": "https://a.test"}, {"id": "openai", "base_url": "https://b.test"}]})",
        "gatehouse.json: providers[1].id: duplicate provider id \"openai\"");
    row("unknown format", R"({"providers": [{"id": "a", "format": "azure", "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].format: unknown format \"azure\" (expected openai, anthropic or gemini)");
    row("format not a string", R"({"providers": [{"id": "a", "format": 1, "base_url": "https://x.test"}]})",
        "gatehouse.json: providers[0].format: must be a string");
    row("base_url missing", R"({"providers": [{"id": "a"}]})", "gatehouse.json: providers[0].base_url: is required");
    row("base_url not a URL",
        R"({"providers": [{"id": "a", "base_url": "https://a.test"}, {"id": "b", "base_url": "api.example.com/v1"}]})",
        "gatehouse.json: providers[1].base_url: not a URL");
    row("base_url without host", R"({"providers": [{"id": "a", "base_url": "https://"}]})",
        "gatehouse.json: providers[0].base_url: not a URL");
    row("base_url with spaces", R"({"providers": [{"id": "a", "base_url": "https://a b.test/v1"}]})",
        "gatehouse.json: providers[0].base_url: not a URL");
    row("base_url wrong scheme", R"({"providers": [{"id": "a", "base_url": "ftp://files.test/v1"}]})",
        "gatehouse.json: providers[0].base_url: must be an http:// or https:// URL");
    row("base_url with query", R"({"providers": [{"id": "a", "base_url": "https://a.test/v1?x=1"}]})",
        "gatehouse.json: providers[0].base_url: must not have a query or fragment");
    row("api_key_env invalid name", R"({"providers": [{"id": "a", "base_url": "https://a.test", "api_key_env": "1KEY"}]})",
        "gatehouse.json: providers[0].api_key_env: not a valid environment variable name (letters, digits and '_', not starting with a digit)");
    row("api_key_env with dash", R"({"providers": [{"id": "a", "base_url": "https://a.test", "api_key_env": "MY-KEY"}]})",
        "gatehouse.json: providers[0].api_key_env: not a valid environment variable name (letters, digits and '_', not starting with a digit)");
    row("api_key_env empty", R"({"providers": [{"id": "a", "base_url": "https://a.test", "api_key_env": ""}]})",
        "gatehouse.json: providers[0].api_key_env: not a valid environment variable name (letters, digits and '_', not starting with a digit)");
    row("api_key_env not a string", R"({"providers": [{"id": "a", "base_url": "https://a.test", "api_key_env": true}]})",
        "gatehouse.json: providers[0].api_key_env: must be a string");
    row("aliases not a list", R"({"aliases": {"match": "a", "to": "b"}})", "gatehouse.json: aliases: must be an array");
    row("alias without to", R"({"aliases": [{"match": "claude-*"}]})", "gatehouse.json: aliases[0].to: is required");
    row("alias with spaces", R"({"aliases": [{"match": "claude *", "to": "smart"}]})", "gatehouse.json: aliases[0].match: must not contain spaces");
    row("catalog empty", R"({"providers": [{"id": "a", "base_url": "https://a.test", "catalog": ""}]})",
        "gatehouse.json: providers[0].catalog: must not be empty");
    row("catalog not a string", R"({"providers": [{"id": "a", "base_url": "https://a.test", "catalog": ["openai"]}]})",
        "gatehouse.json: providers[0].catalog: must be a string");
    row("catalog upper case", R"({"providers": [{"id": "a", "base_url": "https://a.test", "catalog": "Google"}]})",
        "gatehouse.json: providers[0].catalog: must contain only lower-case letters, digits, '.', '_' and '-'");
    row("enabled not a bool", R"({"providers": [{"id": "a", "base_url": "https://a.test", "enabled": "yes"}]})",
        "gatehouse.json: providers[0].enabled: must be true or false");
    row("unknown provider field", R"({"providers": [{"id": "a", "base_url": "https://a.test", "region": "eu"}]})",
        "gatehouse.json: providers[0].region: unknown field");
    row("misspelt provider field", R"({"providers": [{"id": "a", "baseUrl": "https://a.test"}]})",
        "gatehouse.json: providers[0].baseUrl: unknown field (did you mean \"base_url\"?)");

    // --- models ---
    row("models not an array", withProviders(R"("models": "openai/gpt-4o")"), "gatehouse.json: models: must be an array");
    row("model not an object", withProviders(R"("models": [1])"), "gatehouse.json: models[0]: must be an object");
    row("model id missing", withProviders(R"("models": [{"provider": "openai"}])"), "gatehouse.json: models[0].id: is required");
    row("model id with space", withProviders(R"("models": [{"id": "openai/gpt 4", "provider": "openai"}])"),
        "gatehouse.json: models[0].id: must not contain spaces");
    row("model provider missing", withProviders(R"("models": [{"id": "openai/gpt-4o"}])"),
        "gatehouse.json: models[0].provider: is required");
    row("model provider unknown",
        withProviders(R"("models": [{"id": "a", "provider": "openai"}, {"id": "b", "provider": "openai"},
                                    {"id": "c", "provider": "opnai"}])"),
        "gatehouse.json: models[2].provider: unknown provider \"opnai\"");
    row("model provider declared nowhere", R"({"models": [{"id": "x", "provider": "openai"}]})",
        "gatehouse.json: models[0].provider: unknown provider \"openai\"");
    row("duplicate model id",
        withProviders(R"("models": [{"id": "openai/gpt-4o", "provider": "openai"}, {"id": "openai/gpt-4o", "provider": "openai"}])"),
        "gatehouse.json: models[1].id: duplicate model id \"openai/gpt-4o\"");
    row("id is only the provider prefix", withProviders(R"("models": [{"id": "openai/", "provider": "openai"}])"),
        "gatehouse.json: models[0].id: has no model name after \"openai/\"");
    row("upstream_model empty", withProviders(R"("models": [{"id": "m", "provider": "openai", "upstream_model": ""}])"),
        "gatehouse.json: models[0].upstream_model: must not be empty");
    row("pricing not an object", withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": 0.4}])"),
        "gatehouse.json: models[0].pricing: must be an object");
    row("negative input price", withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"input": -1}}])"),
        "gatehouse.json: models[0].pricing.input: must be a number >= 0");
    row("output price as a string",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"input": 1, "output": "2"}}])"),
        "gatehouse.json: models[0].pricing.output: must be a number >= 0");
    row("null cache_read price", withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"cache_read": null}}])"),
        "gatehouse.json: models[0].pricing.cache_read: must be a number >= 0");
    row("negative cache_write price",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"cache_write": -0.5}}])"),
        "gatehouse.json: models[0].pricing.cache_write: must be a number >= 0");
    row("bad cache_write_1h price",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"cache_write_1h": false}}])"),
        "gatehouse.json: models[0].pricing.cache_write_1h: must be a number >= 0");
    row("unknown pricing field",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "pricing": {"per_request": 1}}])"),
        "gatehouse.json: models[0].pricing.per_request: unknown field");
    row("context_window zero", withProviders(R"("models": [{"id": "m", "provider": "openai", "context_window": 0}])"),
        "gatehouse.json: models[0].context_window: must be a positive integer");
    row("context_window fractional", withProviders(R"("models": [{"id": "m", "provider": "openai", "context_window": 1.5}])"),
        "gatehouse.json: models[0].context_window: must be a positive integer");
    row("context_window string", withProviders(R"("models": [{"id": "m", "provider": "openai", "context_window": "128k"}])"),
        "gatehouse.json: models[0].context_window: must be a positive integer");
    row("max_output_tokens negative",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "max_output_tokens": -1}])"),
        "gatehouse.json: models[0].max_output_tokens: must be a positive integer");
    row("unknown model field", withProviders(R"("models": [{"id": "m", "provider": "openai", "aliases": []}])"),
        "gatehouse.json: models[0].aliases: unknown field");

    // --- keys ---
    row("keys not an array", R"({"keys": {"name": "a"}})", "gatehouse.json: keys: must be an array");
    row("key not an object", R"({"keys": ["scripts"]})", "gatehouse.json: keys[0]: must be an object");
    row("key name missing", R"({"keys": [{"secret": "gk-12345678"}]})", "gatehouse.json: keys[0].name: is required");
    row("key name empty", R"({"keys": [{"name": ""}]})", "gatehouse.json: keys[0].name: must not be empty");
    row("key name with control character", R"({"keys": [{"name": "a\tb"}]})",
        "gatehouse.json: keys[0].name: must not contain control characters");
    row("duplicate key name", R"({"keys": [{"name": "cursor"}, {"name": "scripts"}, {"name": "scripts"}]})",
        "gatehouse.json: keys[2].name: duplicate key name \"scripts\"");
    row("duplicate key name at 1", R"({"keys": [{"name": "scripts"}, {"name": "scripts"}]})",
        "gatehouse.json: keys[1].name: duplicate key name \"scripts\"");
    row("secret too short", R"({"keys": [{"name": "a", "secret": "short"}]})",
        "gatehouse.json: keys[0].secret: must be at least 8 characters");
    row("secret not a string", R"({"keys": [{"name": "a", "secret": 12345678}]})",
        "gatehouse.json: keys[0].secret: must be a string");
    row("secret null", R"({"keys": [{"name": "a", "secret": null}]})", "gatehouse.json: keys[0].secret: must be a string");
    row("secret with a space", R"({"keys": [{"name": "a", "secret": "gk-1234 5678"}]})",
        "gatehouse.json: keys[0].secret: must not contain spaces or control characters");
    row("secret shared by two keys",
        R"({"keys": [{"name": "a", "secret": "gk-shared-secret"}, {"name": "b", "secret": "gk-shared-secret"}]})",
        "gatehouse.json: keys[1].secret: same secret as keys[0] (\"a\"); every key needs its own secret");
    row("allow_models not an array", R"({"keys": [{"name": "a", "allow_models": "openai\u002F*"}]})",
        "gatehouse.json: keys[0].allow_models: must be an array");
    row("allow_models holds a number", R"({"keys": [{"name": "a", "allow_models": ["openai\u002F*", 3]}]})",
        "gatehouse.json: keys[0].allow_models[1]: must be a non-empty string (a model id, * matches anything)");
    row("allow_models holds an empty string", R"({"keys": [{"name": "a", "allow_models": [""]}]})",
        "gatehouse.json: keys[0].allow_models[0]: must be a non-empty string (a model id, * matches anything)");
    row("limits not an object", R"({"keys": [{"name": "a", "limits": 5}]})", "gatehouse.json: keys[0].limits: must be an object");
    row("negative day limit", R"({"keys": [{"name": "a", "limits": {"day_usd": -1}}]})",
        "gatehouse.json: keys[0].limits.day_usd: must be a number >= 0 or null");
    row("week limit as a string", R"({"keys": [{"name": "a", "limits": {"week_usd": "10"}}]})",
        "gatehouse.json: keys[0].limits.week_usd: must be a number >= 0 or null");
    row("month limit as a bool", R"({"keys": [{"name": "a", "limits": {"month_usd": true}}]})",
        "gatehouse.json: keys[0].limits.month_usd: must be a number >= 0 or null");
    row("total limit negative", R"({"keys": [{"name": "a"}, {"name": "b", "limits": {"total_usd": -0.01}}]})",
        "gatehouse.json: keys[1].limits.total_usd: must be a number >= 0 or null");
    row("misspelt limit", R"({"keys": [{"name": "a", "limits": {"daily_usd": 1}}]})",
        "gatehouse.json: keys[0].limits.daily_usd: unknown field (did you mean \"day_usd\"?)");
    row("allow_unpriced not a bool", R"({"keys": [{"name": "a", "allow_unpriced": "true"}]})",
        "gatehouse.json: keys[0].allow_unpriced: must be true or false");
    row("unknown key field", R"({"keys": [{"name": "a", "paused": true}]})", "gatehouse.json: keys[0].paused: unknown field");
    row("on_short_budget unknown", R"({"keys": [{"name": "a", "on_short_budget": "shrink"}]})",
        "gatehouse.json: keys[0].on_short_budget: must be \"clamp\" or \"refuse\"");
    row("min_output_tokens zero", R"({"keys": [{"name": "a", "min_output_tokens": 0}]})",
        "gatehouse.json: keys[0].min_output_tokens: must be an integer from 1 to 1000000 (tokens)");
    row("response_cache without ttl", R"({"keys": [{"name": "a", "response_cache": {}}]})",
        "gatehouse.json: keys[0].response_cache: ttl_s: must be an integer from 1 to 2592000 (seconds)");
    row("response_cache ttl zero", R"({"keys": [{"name": "a", "response_cache": {"ttl_s": 0}}]})",
        "gatehouse.json: keys[0].response_cache: ttl_s: must be an integer from 1 to 2592000 (seconds)");
    row("response_cache unknown member", R"({"keys": [{"name": "a", "response_cache": {"ttl_s": 5, "ttl": 5}}]})",
        "gatehouse.json: keys[0].response_cache: unknown field \"ttl\" (known: ttl_s, sampled, tool_calls, shared)");
    row("response_cache flag not a bool", R"({"keys": [{"name": "a", "response_cache": {"ttl_s": 5, "sampled": 1}}]})",
        "gatehouse.json: keys[0].response_cache: sampled: must be true or false");
    row("route response_cache shared", R"({"routes": [{"id": "r", "targets": [{"model": "a/b"}], "response_cache": {"ttl_s": 5, "shared": true}}]})",
        "gatehouse.json: routes[0].response_cache.shared: is a key's choice: set it in the key's response_cache");
    row("store_bodies not a bool", R"({"keys": [{"name": "a", "store_bodies": "no"}]})",
        "gatehouse.json: keys[0].store_bodies: must be true or false");
    row("capture not an object", R"({"keys": [{"name": "a", "capture": true}]})",
        "gatehouse.json: keys[0].capture: must be an object");
    row("capture retention zero", R"({"keys": [{"name": "a", "capture": {"bodies": true, "retention_days": 0}}]})",
        "gatehouse.json: keys[0].capture.retention_days: must be an integer from 1 to 3650 (days)");
    row("capture unknown member", R"({"keys": [{"name": "a", "capture": {"bodis": true}}]})",
        "gatehouse.json: keys[0].capture.bodis: unknown field (did you mean \"bodies\"?)");
    row("capture without storing bodies", R"({"keys": [{"name": "a", "store_bodies": false, "capture": {"bodies": true}}]})",
        "gatehouse.json: keys[0].capture.bodies: cannot be true on a key with \"store_bodies\": false");
    row("local not a bool", R"({"providers": [{"id": "o", "base_url": "http://127.0.0.1:11434/v1", "local": "yes"}]})",
        "gatehouse.json: providers[0].local: must be true or false");
    row("response_cache_max_mb zero", R"({"settings": {"response_cache_max_mb": 0}})",
        "gatehouse.json: settings.response_cache_max_mb: must be an integer from 1 to 1000000 (MiB)");
    row("guardrails not an object", R"({"keys": [{"name": "a", "guardrails": "pause"}]})",
        "gatehouse.json: keys[0].guardrails: must be an object");
    row("guardrail mode unknown", R"({"keys": [{"name": "a", "guardrails": {"velocity": "stop"}}]})",
        "gatehouse.json: keys[0].guardrails: 'velocity' must be \"off\", \"alert\" or \"pause\"");
    row("guardrail unknown detector", R"({"keys": [{"name": "a", "guardrails": {"loops": "off"}}]})",
        "gatehouse.json: keys[0].guardrails: unknown member 'loops' (expected repetition, velocity, blowup)");

    // --- settings ---
    row("settings not an object", R"({"settings": []})", "gatehouse.json: settings: must be an object");
    row("guardrail thresholds not an object", R"({"settings": {"guardrails": 5}})", "gatehouse.json: settings.guardrails: must be an object");
    row("guardrail threshold out of range", R"({"settings": {"guardrails": {"repeat_count": 1}}})",
        "gatehouse.json: settings.guardrails: 'repeat_count' must be an integer from 2 to 1000");
    row("guardrail threshold fractional", R"({"settings": {"guardrails": {"velocity_window_minutes": 2.5}}})",
        "gatehouse.json: settings.guardrails: 'velocity_window_minutes' must be an integer from 1 to 30 (minutes)");
    row("guardrail threshold unknown", R"({"settings": {"guardrails": {"repeat": 3}}})",
        "gatehouse.json: settings.guardrails: unknown member 'repeat' (expected repeat_count, repeat_window_minutes, min_request_bytes, "
        "result_repeat_count, min_result_bytes, velocity_window_minutes, velocity_factor, velocity_floor_usd, baseline_min_active_minutes, "
        "projection_minutes, projection_floor_usd, blowup_fraction, blowup_max_output_tokens, blowup_turns, alert_cooldown_minutes)");
    row("port too large", R"({"settings": {"port": 70000}})", "gatehouse.json: settings.port: must be an integer from 0 to 65535");
    row("port negative", R"({"settings": {"port": -1}})", "gatehouse.json: settings.port: must be an integer from 0 to 65535");
    row("port fractional", R"({"settings": {"port": 80.5}})", "gatehouse.json: settings.port: must be an integer from 0 to 65535");
    row("port as a string", R"({"settings": {"port": "8080"}})", "gatehouse.json: settings.port: must be an integer from 0 to 65535");
    row("max_body_mb zero", R"({"settings": {"max_body_mb": 0}})",
        "gatehouse.json: settings.max_body_mb: must be a number > 0 and at most 65536");
    row("max_body_mb negative", R"({"settings": {"max_body_mb": -5}})",
        "gatehouse.json: settings.max_body_mb: must be a number > 0 and at most 65536");
    row("max_body_mb huge", R"({"settings": {"max_body_mb": 1e300}})",
        "gatehouse.json: settings.max_body_mb: must be a number > 0 and at most 65536");
    row("max_body_mb string", R"({"settings": {"max_body_mb": "32"}})",
        "gatehouse.json: settings.max_body_mb: must be a number > 0 and at most 65536");
    row("allowed_origins not an array", R"({"settings": {"allowed_origins": "http://localhost:3000"}})",
        "gatehouse.json: settings.allowed_origins: must be an array");
    row("origin without scheme", R"({"settings": {"allowed_origins": ["http://localhost:3000", "localhost:3000"]}})",
        "gatehouse.json: settings.allowed_origins[1]: not an origin (scheme://host[:port], e.g. http://localhost:3000)");
    row("origin with a path", R"({"settings": {"allowed_origins": ["http://localhost:3000/"]}})",
        "gatehouse.json: settings.allowed_origins[0]: not an origin (scheme://host[:port], e.g. http://localhost:3000)");
    row("origin wildcard", R"({"settings": {"allowed_origins": ["*"]}})",
        "gatehouse.json: settings.allowed_origins[0]: not an origin (scheme://host[:port], e.g. http://localhost:3000)");
    row("origin port out of range", R"({"settings": {"allowed_origins": ["http://localhost:99999"]}})",
        "gatehouse.json: settings.allowed_origins[0]: not an origin (scheme://host[:port], e.g. http://localhost:3000)");
    row("origin not a string", R"({"settings": {"allowed_origins": [3000]}})",
        "gatehouse.json: settings.allowed_origins[0]: must be a string");
    row("timeouts not an object", R"({"settings": {"timeouts": 1000}})", "gatehouse.json: settings.timeouts: must be an object");
    row("connect_ms zero", R"({"settings": {"timeouts": {"connect_ms": 0}}})",
        "gatehouse.json: settings.timeouts.connect_ms: must be a positive integer (milliseconds)");
    row("first_byte_ms fractional", R"({"settings": {"timeouts": {"first_byte_ms": 1.5}}})",
        "gatehouse.json: settings.timeouts.first_byte_ms: must be a positive integer (milliseconds)");
    row("idle_ms too large", R"({"settings": {"timeouts": {"idle_ms": 1e12}}})",
        "gatehouse.json: settings.timeouts.idle_ms: must be a positive integer (milliseconds)");
    row("unknown timeout", R"({"settings": {"timeouts": {"read_ms": 5}}})",
        "gatehouse.json: settings.timeouts.read_ms: unknown field");
    row("shutdown_grace_ms negative", R"({"settings": {"shutdown_grace_ms": -1}})",
        "gatehouse.json: settings.shutdown_grace_ms: must be an integer >= 0 (milliseconds)");
    row("unknown setting", R"({"settings": {"host": "0.0.0.0"}})", "gatehouse.json: settings.host: unknown field");

    // --- rate limits, capabilities, retry and breaker ---
    row("key rpm zero", R"({"keys": [{"name": "a", "rpm": 0}]})",
        "gatehouse.json: keys[0].rpm: must be an integer from 1 to 1000000 (requests per minute) or null");
    row("key rpm too large", R"({"keys": [{"name": "a", "rpm": 1000001}]})",
        "gatehouse.json: keys[0].rpm: must be an integer from 1 to 1000000 (requests per minute) or null");
    row("key rpm fractional", R"({"keys": [{"name": "a", "rpm": 1.5}]})",
        "gatehouse.json: keys[0].rpm: must be an integer from 1 to 1000000 (requests per minute) or null");
    row("key rpm string", R"({"keys": [{"name": "a", "rpm": "60"}]})",
        "gatehouse.json: keys[0].rpm: must be an integer from 1 to 1000000 (requests per minute) or null");
    row("key tpm negative", R"({"keys": [{"name": "a", "tpm": -5}]})",
        "gatehouse.json: keys[0].tpm: must be an integer from 1 to 1000000000000 (tokens per minute) or null");
    row("key tpm too large", R"({"keys": [{"name": "a", "tpm": 1e13}]})",
        "gatehouse.json: keys[0].tpm: must be an integer from 1 to 1000000000000 (tokens per minute) or null");
    row("misspelt key rpm", R"({"keys": [{"name": "a", "rpms": 5}]})",
        "gatehouse.json: keys[0].rpms: unknown field (did you mean \"rpm\"?)");
    row("provider rpm zero", R"({"providers": [{"id": "a", "base_url": "https://a.test", "rpm": 0}]})",
        "gatehouse.json: providers[0].rpm: must be an integer from 1 to 1000000 (requests per minute) or null");
    row("provider tpm string", R"({"providers": [{"id": "a", "base_url": "https://a.test", "tpm": "1k"}]})",
        "gatehouse.json: providers[0].tpm: must be an integer from 1 to 1000000000000 (tokens per minute) or null");
    row("capabilities not an array", withProviders(R"("models": [{"id": "m", "provider": "openai", "capabilities": "tools"}])"),
        "gatehouse.json: models[0].capabilities: must be an array");
    row("unknown capability",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "capabilities": ["tools", "audio"]}])"),
        "gatehouse.json: models[0].capabilities[1]: must be one of \"tools\", \"vision\", \"json_schema\", \"reasoning\", \"embeddings\"");
    row("capability not a string", withProviders(R"("models": [{"id": "m", "provider": "openai", "capabilities": [1]}])"),
        "gatehouse.json: models[0].capabilities[0]: must be one of \"tools\", \"vision\", \"json_schema\", \"reasoning\", \"embeddings\"");
    row("duplicate capability",
        withProviders(R"("models": [{"id": "m", "provider": "openai", "capabilities": ["vision", "vision"]}])"),
        "gatehouse.json: models[0].capabilities[1]: duplicate capability \"vision\"");
    row("retry not an object", R"({"settings": {"retry": 3}})", "gatehouse.json: settings.retry: must be an object");
    row("max_attempts zero", R"({"settings": {"retry": {"max_attempts": 0}}})",
        "gatehouse.json: settings.retry.max_attempts: must be an integer from 1 to 10");
    row("max_attempts eleven", R"({"settings": {"retry": {"max_attempts": 11}}})",
        "gatehouse.json: settings.retry.max_attempts: must be an integer from 1 to 10");
    row("backoff_base_ms negative", R"({"settings": {"retry": {"backoff_base_ms": -1}}})",
        "gatehouse.json: settings.retry.backoff_base_ms: must be an integer from 0 to 3600000 (milliseconds)");
    row("backoff_max_ms below base", R"({"settings": {"retry": {"backoff_base_ms": 500, "backoff_max_ms": 100}}})",
        "gatehouse.json: settings.retry.backoff_max_ms: backoff_max_ms (100) must not be less than backoff_base_ms (500)");
    row("backoff_base_ms above the default max", R"({"settings": {"retry": {"backoff_base_ms": 5000}}})",
        "gatehouse.json: settings.retry.backoff_base_ms: backoff_max_ms (4000) must not be less than backoff_base_ms (5000)");
    row("max_retry_after_ms string", R"({"settings": {"retry": {"max_retry_after_ms": "10s"}}})",
        "gatehouse.json: settings.retry.max_retry_after_ms: must be an integer from 0 to 3600000 (milliseconds)");
    row("unknown retry field", R"({"settings": {"retry": {"attempts": 2}}})",
        "gatehouse.json: settings.retry.attempts: unknown field");
    row("breaker not an object", R"({"settings": {"breaker": true}})", "gatehouse.json: settings.breaker: must be an object");
    row("failure_threshold zero", R"({"settings": {"breaker": {"failure_threshold": 0}}})",
        "gatehouse.json: settings.breaker.failure_threshold: must be an integer from 1 to 100");
    row("failure_threshold 101", R"({"settings": {"breaker": {"failure_threshold": 101}}})",
        "gatehouse.json: settings.breaker.failure_threshold: must be an integer from 1 to 100");
    row("cooldown_ms zero", R"({"settings": {"breaker": {"cooldown_ms": 0}}})",
        "gatehouse.json: settings.breaker.cooldown_ms: must be an integer from 1 to 86400000 (milliseconds)");
    row("unknown breaker field", R"({"settings": {"breaker": {"threshold": 3}}})",
        "gatehouse.json: settings.breaker.threshold: unknown field");

    // --- routes ---
    const QByteArray target = R"("targets": [{"model": "openai/gpt-4.1"}])";
    row("routes not an array", R"({"routes": {"id": "smart"}})", "gatehouse.json: routes: must be an array");
    row("route not an object", R"({"routes": ["smart"]})", "gatehouse.json: routes[0]: must be an object");
    row("route id missing", "{\"routes\": [{" + target + "}]}", "gatehouse.json: routes[0].id: is required");
    row("route id empty", "{\"routes\": [{\"id\": \"\", " + target + "}]}", "gatehouse.json: routes[0].id: must not be empty");
    row("route id not a string", "{\"routes\": [{\"id\": 5, " + target + "}]}", "gatehouse.json: routes[0].id: must be a string");
    row("route id with slash", "{\"routes\": [{\"id\": \"team/smart\", " + target + "}]}",
        "gatehouse.json: routes[0].id: must not contain '/' (model ids do; a route is an alias)");
    row("route id with space", "{\"routes\": [{\"id\": \"my route\", " + target + "}]}",
        "gatehouse.json: routes[0].id: must not contain spaces");
    row("duplicate route id",
        "{\"routes\": [{\"id\": \"smart\", " + target + "}, {\"id\": \"fast\", " + target + "}, {\"id\": \"smart\", " + target + "}]}",
        "gatehouse.json: routes[2].id: duplicate route id \"smart\"");
    row("route id equal to a model id",
        withProviders(R"("models": [{"id": "gpt-4.1", "provider": "openai"}, {"id": "smart", "provider": "openai"}],
                         "routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1"}]}])"),
        "gatehouse.json: routes[0].id: \"smart\" is also a model id (models[1]); a route must not shadow a model");
    row("unknown strategy", "{\"routes\": [{\"id\": \"smart\", \"strategy\": \"random\", " + target + "}]}",
        "gatehouse.json: routes[0].strategy: unknown strategy \"random\" (expected ordered, cheapest, fastest, weighted or quality)");
    row("strategy upper case", "{\"routes\": [{\"id\": \"smart\", \"strategy\": \"Ordered\", " + target + "}]}",
        "gatehouse.json: routes[0].strategy: unknown strategy \"Ordered\" (expected ordered, cheapest, fastest, weighted or quality)");
    row("targets missing", R"({"routes": [{"id": "smart"}]})", "gatehouse.json: routes[0].targets: is required");
    row("targets empty", R"({"routes": [{"id": "smart", "targets": []}]})",
        "gatehouse.json: routes[0].targets: must have at least one target");
    row("targets not an array", R"({"routes": [{"id": "smart", "targets": "openai/gpt-4.1"}]})",
        "gatehouse.json: routes[0].targets: must be an array");
    row("target not an object", R"({"routes": [{"id": "smart", "targets": ["openai/gpt-4.1"]}]})",
        "gatehouse.json: routes[0].targets[0]: must be an object");
    row("target model missing", R"({"routes": [{"id": "smart", "targets": [{"weight": 2}]}]})",
        "gatehouse.json: routes[0].targets[0].model: is required");
    row("target model without provider",
        R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1"}, {"model": "gpt-4.1"}]}]})",
        "gatehouse.json: routes[0].targets[1].model: must be a model id of the form provider/name (a route cannot target another route)");
    row("target model with empty provider", R"({"routes": [{"id": "smart", "targets": [{"model": "/gpt-4.1"}]}]})",
        "gatehouse.json: routes[0].targets[0].model: must be a model id of the form provider/name (a route cannot target another route)");
    row("target model with empty name", R"({"routes": [{"id": "smart", "targets": [{"model": "openai/"}]}]})",
        "gatehouse.json: routes[0].targets[0].model: must be a model id of the form provider/name (a route cannot target another route)");
    row("duplicate target",
        R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1"}, {"model": "openai/gpt-4.1", "weight": 3}]}]})",
        "gatehouse.json: routes[0].targets[1].model: duplicate target \"openai/gpt-4.1\" (also targets[0])");
    row("weight negative", R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1", "weight": -1}]}]})",
        "gatehouse.json: routes[0].targets[0].weight: must be an integer from 0 to 1000");
    row("weight too large", R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1", "weight": 1001}]}]})",
        "gatehouse.json: routes[0].targets[0].weight: must be an integer from 0 to 1000");
    row("weight fractional", R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1", "weight": 0.5}]}]})",
        "gatehouse.json: routes[0].targets[0].weight: must be an integer from 0 to 1000");
    row("unknown target field", R"({"routes": [{"id": "smart", "targets": [{"model": "openai/gpt-4.1", "priority": 1}]}]})",
        "gatehouse.json: routes[0].targets[0].priority: unknown field");
    row("misspelt route field", "{\"routes\": [{\"id\": \"smart\", \"stratgy\": \"ordered\", " + target + "}]}",
        "gatehouse.json: routes[0].stratgy: unknown field (did you mean \"strategy\"?)");
    row("misspelt routes", R"({"route": []})", "gatehouse.json: route: unknown field (did you mean \"routes\"?)");
}

void TestConfig::errors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    QCOMPARE(errorOf(json), expected);
}

void TestConfig::errorNeverContainsTheSecret()
{
    const QString error =
        errorOf(R"({"keys": [{"name": "a", "secret": "gk-very-secret-1"}, {"name": "b", "secret": "gk-very-secret-1"}]})");
    QVERIFY(error.contains(u"keys[1].secret"));
    QVERIFY2(!error.contains(u"very-secret"), qPrintable(error));
}

void TestConfig::syntaxErrorPosition()
{
    ConfigError error;
    QVERIFY(!parseConfig("{\n  \"providers\": [\n    {\"id\": \"a\",, \"base_url\": \"https://a.test\"}\n  ]\n}", kFile, &error));
    QCOMPARE(error.line, 3);
    QVERIFY2(error.column >= 15 && error.column <= 17, qPrintable(error.toString()));
    QVERIFY(error.path.isEmpty());
    QVERIFY(error.message.startsWith(u"invalid JSON: "));
    // A byte-order mark is not a column.
    QVERIFY(!parseConfig("{\"keys\": x}", kFile, &error));
    const int column = error.column;
    QVERIFY(!parseConfig("\xEF\xBB\xBF{\"keys\": x}", kFile, &error));
    QCOMPARE(error.line, 1);
    QCOMPARE(error.column, column);
}

void TestConfig::issueExample()
{
    ConfigError error;
    const auto config = parseConfig(kIssueExample, kFile, &error);
    QVERIFY2(config, qPrintable(error.toString()));

    QCOMPARE(config->providers.size(), 1);
    const ProviderConfig &p = config->providers.at(0);
    QCOMPARE(p.id, QStringLiteral("openai"));
    QCOMPARE(p.format, ProviderFormat::OpenAI);
    QCOMPARE(p.baseUrl, QUrl(QStringLiteral("https://api.openai.com/v1")));
    QCOMPARE(p.apiKeyEnv, QStringLiteral("OPENAI_API_KEY"));
    QVERIFY(p.catalog.isEmpty());
    QVERIFY(p.enabled);

    QCOMPARE(config->models.size(), 1);
    const ModelConfig &m = config->models.at(0);
    QCOMPARE(m.id, QStringLiteral("openai/gpt-4.1-mini"));
    QCOMPARE(m.provider, QStringLiteral("openai"));
    QCOMPARE(m.upstreamModel, QStringLiteral("gpt-4.1-mini"));
    QCOMPARE(m.price.input, std::optional<double>(0.40));
    QCOMPARE(m.price.output, std::optional<double>(1.60));
    QCOMPARE(m.price.cacheRead, std::optional<double>(0.10));
    QCOMPARE(m.price.cacheWrite, std::optional<double>(0.0));
    QVERIFY(!m.price.cacheWrite1h);
    QVERIFY(m.price.isPriced());
    QCOMPARE(m.contextWindow, 1047576);
    QCOMPARE(m.maxOutputTokens, 32768);
    QVERIFY(!m.fromCatalog);

    QCOMPARE(config->keys.size(), 1);
    const KeyConfig &k = config->keys.at(0);
    QCOMPARE(k.name, QStringLiteral("scripts"));
    QCOMPARE(k.secret, std::optional<QString>(QStringLiteral("gk-local-example")));
    QCOMPARE(k.allowModels, QStringList{QStringLiteral("openai/*")});
    QCOMPARE(k.limits.dayUsd, std::optional<double>(2.0));
    QCOMPARE(k.limits.weekUsd, std::optional<double>(10.0));
    QCOMPARE(k.limits.monthUsd, std::optional<double>(30.0));
    QVERIFY(!k.limits.totalUsd);
    QVERIFY(!k.allowUnpriced);

    QVERIFY(!config->settings);
}

void TestConfig::fullFile()
{
    const QByteArray json = R"({
      "providers": [
        {"id": "anthropic", "format": "anthropic", "base_url": "https://api.anthropic.com/v1/",
         "api_key_env": "ANTHROPIC_API_KEY", "catalog": "anthropic"},
        {"id": "google", "format": "gemini", "base_url": "https://generativelanguage.googleapis.com/v1beta",
         "api_key_env": "_GEMINI_KEY_2", "enabled": false},
        {"id": "openrouter", "base_url": "https://openrouter.ai/api/v1", "catalog": "openai"},
        {"id": "ollama", "format": "openai", "base_url": "http://127.0.0.1:11434/v1"}
      ],
      "models": [
        {"id": "anthropic/claude-sonnet-4", "provider": "anthropic",
         "pricing": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "cache_write_1h": 6}},
        {"id": "openrouter/anthropic/claude-3.5-haiku", "provider": "openrouter"},
        {"id": "llama3", "provider": "ollama", "pricing": {"input": 0, "output": 0},
         "context_window": 8192, "max_output_tokens": 2048},
        {"id": "gemini-flash", "provider": "google", "upstream_model": "gemini-2.5-flash",
         "pricing": {"input": 0.3}}
      ],
      "keys": [
        {"name": "Claude Code", "secret": "gk-claude-code-0001", "limits": {"month_usd": 50}},
        {"name": "scripts", "allow_models": ["ollama\u002F*", "llama3"], "allow_unpriced": true,
         "on_short_budget": "refuse", "min_output_tokens": 4096, "guardrails": {"repetition": "alert", "blowup": "off"},
         "limits": {"day_usd": null, "week_usd": 0, "month_usd": null, "total_usd": 1000}},
        {"name": "empty"}
      ],
      "settings": {
        "port": 0, "max_body_mb": 1.5,
        "allowed_origins": ["HTTP://LocalHost:3000", "https://[::1]:8443", "app://obsidian.md", "http://localhost:3000"],
        "timeouts": {"connect_ms": 2000, "first_byte_ms": 30000, "idle_ms": 45000},
        "shutdown_grace_ms": 0
      }
    })";
    ConfigError error;
    const auto config = parseConfig(json, kFile, &error);
    QVERIFY2(config, qPrintable(error.toString()));

    QCOMPARE(config->providers.size(), 4);
    QCOMPARE(config->providers[0].format, ProviderFormat::Anthropic);
    // The trailing slash of a base URL is dropped: the path prefix is what matters.
    QCOMPARE(config->providers[0].baseUrl.toString(), QStringLiteral("https://api.anthropic.com/v1"));
    QCOMPARE(config->providers[0].catalog, QStringLiteral("anthropic"));
    QCOMPARE(config->providers[1].format, ProviderFormat::Gemini);
    QCOMPARE(config->providers[1].apiKeyEnv, QStringLiteral("_GEMINI_KEY_2"));
    QVERIFY(!config->providers[1].enabled);
    QCOMPARE(config->providers[2].format, ProviderFormat::OpenAI); // the default
    QVERIFY(config->providers[2].apiKeyEnv.isEmpty());
    QCOMPARE(config->providers[3].baseUrl.port(), 11434);
    QCOMPARE(config->providers[3].baseUrl.scheme(), QStringLiteral("http"));

    QCOMPARE(config->models.size(), 4);
    const ModelConfig &sonnet = config->models[0];
    QCOMPARE(sonnet.upstreamModel, QStringLiteral("claude-sonnet-4"));
    QCOMPARE(sonnet.price.cacheWrite1h, std::optional<double>(6.0));
    QCOMPARE(sonnet.price.cacheWrite, std::optional<double>(3.75));
    QCOMPARE(sonnet.contextWindow, 0); // unknown
    // upstream_model defaults to what follows "<provider>/", which may itself hold a slash.
    QCOMPARE(config->models[1].upstreamModel, QStringLiteral("anthropic/claude-3.5-haiku"));
    QVERIFY(!config->models[1].price.input && !config->models[1].price.output);
    QVERIFY(!config->models[1].price.isPriced());
    // Without the prefix, the whole id.
    QCOMPARE(config->models[2].upstreamModel, QStringLiteral("llama3"));
    QCOMPARE(config->models[2].price.input, std::optional<double>(0.0));
    QVERIFY(config->models[2].price.isPriced()); // free is priced, at $0
    QCOMPARE(config->models[2].contextWindow, 8192);
    QCOMPARE(config->models[2].maxOutputTokens, 2048);
    QCOMPARE(config->models[3].upstreamModel, QStringLiteral("gemini-2.5-flash"));
    QVERIFY(!config->models[3].price.isPriced()); // input only

    QCOMPARE(config->keys.size(), 3);
    QCOMPARE(config->keys[0].name, QStringLiteral("Claude Code"));
    QCOMPARE(config->keys[0].limits.monthUsd, std::optional<double>(50.0));
    QVERIFY(!config->keys[0].limits.dayUsd);
    QVERIFY(config->keys[0].allowModels.isEmpty());
    QVERIFY(!config->keys[1].secret);
    QCOMPARE(config->keys[1].allowModels, (QStringList{QStringLiteral("ollama/*"), QStringLiteral("llama3")}));
    QVERIFY(config->keys[1].allowUnpriced);
    QCOMPARE(config->keys[1].budget.onShortBudget, gh::ShortBudget::Refuse);
    QCOMPARE(config->keys[1].budget.minOutputTokens, qint64(4096));
    QCOMPARE(config->keys[1].guardrails.repetition, GuardMode::Alert);
    QCOMPARE(config->keys[1].guardrails.velocity, GuardMode::Alert); // the default kept
    QCOMPARE(config->keys[1].guardrails.blowup, GuardMode::Off);
    QCOMPARE(config->keys[0].guardrails, GuardrailPolicy{});
    QCOMPARE(config->keys[0].budget, gh::BudgetPolicy{}); // clamp, 1024
    QCOMPARE(config->keys[1].limits.weekUsd, std::optional<double>(0.0));
    QCOMPARE(config->keys[1].limits.totalUsd, std::optional<double>(1000.0));
    QVERIFY(!config->keys[1].limits.dayUsd && !config->keys[1].limits.monthUsd);
    QVERIFY(!config->keys[2].limits.any());

    QVERIFY(config->settings);
    const GatewaySettings &s = *config->settings;
    QCOMPARE(s.port, std::optional<int>(0));
    QCOMPARE(s.maxBodyBytes, qint64(1.5 * 1024 * 1024));
    // Lower-cased the way browsers send them, duplicates dropped.
    QCOMPARE(s.allowedOrigins, (QStringList{QStringLiteral("http://localhost:3000"), QStringLiteral("https://[::1]:8443"),
                                            QStringLiteral("app://obsidian.md")}));
    QCOMPARE(s.timeouts.connectMs, 2000);
    QCOMPARE(s.timeouts.firstByteMs, 30000);
    QCOMPARE(s.timeouts.idleMs, 45000);
    QCOMPARE(s.shutdownGraceMs, 0);
}

void TestConfig::emptyObjectAndDefaults()
{
    ConfigError error;
    const auto empty = parseConfig("{}", kFile, &error);
    QVERIFY(empty);
    QVERIFY(empty->providers.isEmpty() && empty->models.isEmpty() && empty->keys.isEmpty());
    QVERIFY(!empty->settings);
    QVERIFY(empty->store.isEmpty()); // SQLite, unless --store says otherwise
    const auto team = parseConfig(R"({"store": " postgresql://gh@db.example:5432/team "})", kFile, &error);
    QVERIFY(team);
    QCOMPARE(team->store, QStringLiteral("postgresql://gh@db.example:5432/team"));
    QVERIFY(!team->leaseTtlMs); // the default, 10 s (budget/budgetlease.h)
    const auto ttl = parseConfig(R"({"lease_ttl_ms": 4000})", kFile, &error);
    QVERIFY(ttl);
    QCOMPARE(ttl->leaseTtlMs, std::optional<qint64>(4'000));

    const auto defaults = parseConfig(R"({"settings": {"timeouts": {}}})", kFile, &error);
    QVERIFY(defaults && defaults->settings);
    QCOMPARE(*defaults->settings, GatewaySettings{});
    QVERIFY(!defaults->settings->port);
    QCOMPARE(defaults->settings->maxBodyBytes, 32ll * 1024 * 1024);
    QCOMPARE(defaults->settings->timeouts.connectMs, 10'000);
    QCOMPARE(defaults->settings->shutdownGraceMs, 5'000);

    const auto partial = parseConfig(R"({"settings": {"timeouts": {"idle_ms": 7}}})", kFile, &error);
    QVERIFY(partial && partial->settings);
    QCOMPARE(partial->settings->timeouts.idleMs, 7);
    QCOMPARE(partial->settings->timeouts.connectMs, UpstreamTimeouts{}.connectMs);

    const auto guard = parseConfig(R"({"settings": {"guardrails": {"repeat_count": 3, "velocity_factor": 2.5}}})", kFile, &error);
    QVERIFY(guard && guard->settings);
    QCOMPARE(guard->settings->guardrails.repeatCount, 3);
    QCOMPARE(guard->settings->guardrails.velocityFactor, 2.5);
    QCOMPARE(guard->settings->guardrails.blowupTurns, GuardrailThresholds{}.blowupTurns);
}

void TestConfig::formats()
{
    for (ProviderFormat f : {ProviderFormat::OpenAI, ProviderFormat::Anthropic, ProviderFormat::Gemini})
        QCOMPARE(formatFromName(formatName(f)), std::optional<ProviderFormat>(f));
    QCOMPARE(formatName(ProviderFormat::OpenAI), QStringLiteral("openai"));
    QCOMPARE(formatName(ProviderFormat::Anthropic), QStringLiteral("anthropic"));
    QCOMPARE(formatName(ProviderFormat::Gemini), QStringLiteral("gemini"));
    QVERIFY(!formatFromName(QStringLiteral("OpenAI")));
    QVERIFY(!formatFromName(QString()));
    QVERIFY(!formatFromName(QStringLiteral("azure")));
}

void TestConfig::errorToString()
{
    QCOMPARE((ConfigError{QStringLiteral("a.json"), QStringLiteral("providers[1].base_url"), QStringLiteral("not a URL")}.toString()),
             QStringLiteral("a.json: providers[1].base_url: not a URL"));
    QCOMPARE((ConfigError{QStringLiteral("a.json"), QString(), QStringLiteral("the file is empty")}.toString()),
             QStringLiteral("a.json: the file is empty"));
    ConfigError syntax{QStringLiteral("a.json"), QString(), QStringLiteral("invalid JSON: illegal value")};
    syntax.line = 4;
    syntax.column = 9;
    QCOMPARE(syntax.toString(), QStringLiteral("a.json:4:9: invalid JSON: illegal value"));
}

void TestConfig::loadFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString missing = dir.filePath(QStringLiteral("missing.json"));
    ConfigError error;
    QVERIFY(!loadConfigFile(missing, &error));
    QVERIFY2(error.toString().startsWith(missing + QStringLiteral(": cannot read the file: ")), qPrintable(error.toString()));

    const QString good = dir.filePath(QStringLiteral("gatehouse.json"));
    {
        QFile f(good);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kIssueExample);
    }
    const auto config = loadConfigFile(good, &error);
    QVERIFY2(config, qPrintable(error.toString()));
    QCOMPARE(config->keys.size(), 1);

    const QString bad = dir.filePath(QStringLiteral("bad.json"));
    {
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"providers": [{"id": "a", "base_url": "https://a.test"}, {"id": "b", "base_url": "nope"}]})");
    }
    QVERIFY(!loadConfigFile(bad, &error));
    QCOMPARE(error.toString(), bad + QStringLiteral(": providers[1].base_url: not a URL"));
    QCOMPARE(error.file, bad);
    QCOMPARE(error.path, QStringLiteral("providers[1].base_url"));
    QCOMPARE(error.message, QStringLiteral("not a URL"));

    // A directory is not a readable config file.
    QVERIFY(!loadConfigFile(dir.path(), &error));
    QVERIFY(error.toString().startsWith(dir.path() + QStringLiteral(": ")));
}

void TestConfig::nullErrorPointerIsAllowed()
{
    QVERIFY(!parseConfig("[", kFile, nullptr));
    QVERIFY(!parseConfig(R"({"x": 1})", kFile, nullptr));
    QVERIFY(parseConfig("{}", kFile, nullptr));
}

void TestConfig::responseCacheAndLocal()
{
    const QByteArray json = R"({
      "providers": [{"id": "ollama", "base_url": "http://127.0.0.1:11434/v1", "local": true},
                    {"id": "openai", "base_url": "https://api.openai.com/v1"}],
      "keys": [{"name": "evals", "response_cache": {"ttl_s": 3600}},
               {"name": "ci", "response_cache": {"ttl_s": 60, "sampled": true, "tool_calls": true, "shared": true}, "store_bodies": false},
               {"name": "plain", "capture": {"bodies": true}},
               {"name": "debug", "capture": {"bodies": true, "retention_days": 30}},
               {"name": "off", "capture": {"bodies": false, "retention_days": 30}}],
      "routes": [{"id": "step", "targets": [{"model": "openai/gpt-4.1"}], "response_cache": {"ttl_s": 600, "tool_calls": true}}],
      "settings": {"response_cache_max_mb": 64}
    })";
    gh::ConfigError error;
    const auto config = gh::parseConfig(json, QStringLiteral("gatehouse.json"), &error);
    QVERIFY2(config, qPrintable(error.toString()));
    QVERIFY(config->providers.at(0).local);
    QVERIFY(!config->providers.at(1).local);
    QCOMPARE(config->keys.at(0).responseCache->ttlS, 3600);
    QVERIFY(!config->keys.at(0).responseCache->sampled);
    QVERIFY(config->keys.at(0).storeBodies);
    const gh::ResponseCachePolicy ci = *config->keys.at(1).responseCache;
    QVERIFY(ci.sampled && ci.toolCalls && ci.shared);
    QVERIFY(!config->keys.at(1).storeBodies);
    QVERIFY(!config->keys.at(2).responseCache);
    // Capture: off by default; on with its retention (default 7 days); "bodies": false is off.
    QCOMPARE(config->keys.at(0).captureRetentionDays, 0);
    QCOMPARE(config->keys.at(2).captureRetentionDays, 7);
    QCOMPARE(config->keys.at(3).captureRetentionDays, 30);
    QCOMPARE(config->keys.at(4).captureRetentionDays, 0);
    QCOMPARE(config->routes.at(0).responseCache->ttlS, 600);
    QVERIFY(config->routes.at(0).responseCache->toolCalls);
    QCOMPARE(config->settings->responseCacheMaxBytes, 64LL * 1024 * 1024);
    // The stored form reads back the same.
    gh::ResponseCachePolicy back;
    QString why;
    QVERIFY(gh::ResponseCachePolicy::fromJson(ci.toJson(), &back, &why));
    QCOMPARE(back, ci);
}

void TestConfig::routesAndLimits()
{
    const QByteArray json = R"({
      "providers": [
        {"id": "anthropic", "format": "anthropic", "base_url": "https://api.anthropic.com/v1", "rpm": 50, "tpm": 400000},
        {"id": "openai", "base_url": "https://api.openai.com/v1", "rpm": null}
      ],
      "models": [
        {"id": "openai/gpt-4.1", "provider": "openai", "capabilities": ["tools", "vision", "json_schema"]},
        {"id": "openai/text-embedding-3-small", "provider": "openai", "capabilities": ["embeddings"]},
        {"id": "openai/bare", "provider": "openai", "capabilities": []},
        {"id": "openai/unknown", "provider": "openai"}
      ],
      "keys": [
        {"name": "agent", "rpm": 60, "tpm": 1000000000000},
        {"name": "free", "rpm": null, "tpm": null},
        {"name": "plain"}
      ],
      "routes": [
        {"id": "smart", "strategy": "ordered",
         "targets": [{"model": "anthropic/claude-sonnet-4-5"}, {"model": "openai/gpt-4.1", "weight": 1}]},
        {"id": "split", "strategy": "weighted",
         "targets": [{"model": "openai/gpt-4.1", "weight": 0}, {"model": "anthropic/claude-haiku-4-5", "weight": 1000}]},
        {"id": "local.default_1", "targets": [{"model": "ollama/llama3.2:3b"}]}
      ],
      "settings": {
        "retry": {"max_attempts": 10, "backoff_base_ms": 0, "backoff_max_ms": 0, "max_retry_after_ms": 0},
        "breaker": {"failure_threshold": 100, "cooldown_ms": 1}
      }
    })";
    ConfigError error;
    const auto config = parseConfig(json, kFile, &error);
    QVERIFY2(config, qPrintable(error.toString()));

    QCOMPARE(config->providers[0].rpm, std::optional<int>(50));
    QCOMPARE(config->providers[0].tpm, std::optional<qint64>(400000));
    QVERIFY(!config->providers[1].rpm && !config->providers[1].tpm);

    QCOMPARE(config->models[0].capabilities,
             std::optional<QStringList>(QStringList{QStringLiteral("tools"), QStringLiteral("vision"), QStringLiteral("json_schema")}));
    QVERIFY(config->models[0].can(u"vision"));
    QVERIFY(!config->models[0].can(u"reasoning"));
    QCOMPARE(config->models[1].capabilities, std::optional<QStringList>(QStringList{QStringLiteral("embeddings")}));
    QCOMPARE(config->models[2].capabilities, std::optional<QStringList>(QStringList{})); // can do none of them
    QVERIFY(!config->models[2].can(u"tools"));
    QVERIFY(!config->models[3].capabilities); // unknown: assumed able
    QVERIFY(config->models[3].can(u"tools"));

    QCOMPARE(config->keys[0].rpm, std::optional<int>(60));
    QCOMPARE(config->keys[0].tpm, std::optional<qint64>(1'000'000'000'000));
    QVERIFY(!config->keys[1].rpm && !config->keys[1].tpm);
    QVERIFY(!config->keys[2].rpm && !config->keys[2].tpm);

    QCOMPARE(config->routes.size(), 3);
    const RouteConfig &smart = config->routes[0];
    QCOMPARE(smart.id, QStringLiteral("smart"));
    QCOMPARE(smart.strategy, RouteStrategy::Ordered);
    QCOMPARE(smart.targets, (QList<RouteTarget>{{QStringLiteral("anthropic/claude-sonnet-4-5"), 1},
                                                {QStringLiteral("openai/gpt-4.1"), 1}}));
    QCOMPARE(config->routes[1].strategy, RouteStrategy::Weighted);
    QCOMPARE(config->routes[1].targets[0].weight, 0);
    QCOMPARE(config->routes[1].targets[1].weight, 1000);
    QCOMPARE(config->routes[2].strategy, RouteStrategy::Ordered); // the default
    // The name after the provider may hold anything but spaces (Ollama tags have ':').
    QCOMPARE(config->routes[2].targets[0].model, QStringLiteral("ollama/llama3.2:3b"));

    QVERIFY(config->settings);
    QCOMPARE(config->settings->retry, (RetrySettings{10, 0, 0, 0}));
    QCOMPARE(config->settings->breaker, (BreakerSettings{100, 1}));
    QCOMPARE(config->settings->timeouts, UpstreamTimeouts{}); // untouched

    // Defaults when the objects are there but empty, or left out.
    const auto defaults = parseConfig(R"({"settings": {"retry": {}, "breaker": {}}})", kFile, &error);
    QVERIFY2(defaults && defaults->settings, qPrintable(error.toString()));
    QCOMPARE(*defaults->settings, GatewaySettings{});
    QCOMPARE(defaults->settings->retry.maxAttempts, 3);
    QCOMPARE(defaults->settings->breaker.failureThreshold, 3);
    QCOMPARE(defaults->settings->breaker.cooldownMs, 30'000);
    const auto partial = parseConfig(R"({"settings": {"retry": {"backoff_max_ms": 9000}}})", kFile, &error);
    QVERIFY(partial && partial->settings);
    QCOMPARE(partial->settings->retry.backoffMaxMs, 9000);
    QCOMPARE(partial->settings->retry.backoffBaseMs, RetrySettings{}.backoffBaseMs);
    QVERIFY(parseConfig("{}", kFile, &error)->routes.isEmpty());
}

void TestConfig::strategies()
{
    const QList<std::pair<RouteStrategy, QString>> names{{RouteStrategy::Ordered, QStringLiteral("ordered")},
                                                         {RouteStrategy::Cheapest, QStringLiteral("cheapest")},
                                                         {RouteStrategy::Fastest, QStringLiteral("fastest")},
                                                         {RouteStrategy::Weighted, QStringLiteral("weighted")},
                                                         {RouteStrategy::Quality, QStringLiteral("quality")}};
    for (const auto &[strategy, name] : names) {
        QCOMPARE(strategyName(strategy), name);
        QCOMPARE(strategyFromName(name), std::optional<RouteStrategy>(strategy));
    }
    QVERIFY(!strategyFromName(QString()));
    QVERIFY(!strategyFromName(QStringLiteral("Cheapest")));
    QVERIFY(!strategyFromName(QStringLiteral("random")));
}

void TestConfig::shippedExamplesParse()
{
    // examples/gatehouse.json and the first example of docs/config.md, as shipped.
    const QString example = QStringLiteral(GH_SOURCE_DIR "/examples/gatehouse.json");
    QVERIFY2(QFile::exists(example), qPrintable(example + QStringLiteral(" not found")));
    ConfigError error;
    const auto config = loadConfigFile(example, &error);
    QVERIFY2(config, qPrintable(error.toString()));
    QVERIFY(!config->routes.isEmpty());
    QVERIFY(std::any_of(config->keys.cbegin(), config->keys.cend(), [](const KeyConfig &k) { return k.rpm && k.tpm; }));

    const QString docs = QStringLiteral(GH_SOURCE_DIR "/docs/config.md");
    QVERIFY2(QFile::exists(docs), qPrintable(docs + QStringLiteral(" not found")));
    QFile file(docs);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray text = file.readAll();
    const qsizetype start = text.indexOf("```json\n");
    QVERIFY(start >= 0);
    const qsizetype end = text.indexOf("```", start + 8);
    QVERIFY(end > start);
    const auto documented = parseConfig(text.mid(start + 8, end - start - 8), QStringLiteral("config.md"), &error);
    QVERIFY2(documented, qPrintable(error.toString()));
    QCOMPARE(documented->routes.size(), 1);
    QCOMPARE(documented->keys.at(0).rpm, std::optional<int>(60));
    QCOMPARE(documented->settings->breaker.cooldownMs, 30000);
}

#endif // Q_MOC_RUN

QTEST_GUILESS_MAIN(TestConfig)
#include "tst_config.moc"
