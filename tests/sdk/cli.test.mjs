// The real tools, pinned in package.json (Claude Code, Codex CLI, Gemini CLI, the Vercel AI SDK and
// Google's @google/genai SDK), through a real
// Gatehouse gateway in front of mock_upstream, each configured with exactly the text
// `gatehouse connect TOOL --key NAME` prints (the generator the window's "Connect a tool" shows):
// environment variables parsed from it, Codex's config.toml and the AI SDK's program written from
// it. Only the key's placeholder is replaced by the key, as a user does. Checks the exit code, the
// reply, the key's spend against the mock's usage × the configured price, and the request log row.
//
// HOME / CODEX_HOME are temp dirs, the environment is built from scratch (no ANTHROPIC_* / OPENAI_*
// from the developer's shell), and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 keeps Claude Code
// off the network. Needs the sqlite3 command (scripts/deps.sh --test) to read the log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoogleGenAI } from '@google/genai';
import { PRICE, WEATHER_SCHEMA, mockModel, mockProvider, requireEnv, startStack } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = (name) => path.join(here, 'node_modules', '.bin', name);
const TOOL_TIMEOUT_MS = 120_000;

// One key per tool, each allowed the provider its tool should be pointed at: the snippet must find
// that model by itself (no --model).
const KEYS = {
  claude: { name: 'cli-claude', secret: 'gk-cli-claude-0123456789', allow: ['claude/*'] },
  claudeTranslated: { name: 'cli-claude-oai', secret: 'gk-cli-claude-oai-0123456789', allow: ['oai/*'] },
  codex: { name: 'cli-codex', secret: 'gk-cli-codex-0123456789', allow: ['oai/*'] },
  codexClaude: { name: 'cli-codex-claude', secret: 'gk-cli-codex-claude-0123456789', allow: ['claude/sonnet'] },
  aisdk: { name: 'cli-ai-sdk', secret: 'gk-cli-ai-sdk-0123456789', allow: ['oai/*'] },
  aisdkClaude: { name: 'cli-ai-sdk-claude', secret: 'gk-cli-ai-sdk-claude-0123456789', allow: ['claude/*'] },
  gemini: { name: 'cli-gemini', secret: 'gk-cli-gemini-0123456789', allow: ['oai/*'] },
  genai: { name: 'cli-genai', secret: 'gk-cli-genai-0123456789', allow: ['oai/*'] },
  genaiStream: { name: 'cli-genai-stream', secret: 'gk-cli-genai-stream-0123456789', allow: ['oai/*'] },
  genaiTools: { name: 'cli-genai-tools', secret: 'gk-cli-genai-tools-0123456789', allow: ['claude/*', 'oai/*'] },
};

const CLAUDE_UPSTREAM = 'ok@p=1200,chunks=6,cache_read=300,tools=0';
const OAI_UPSTREAM = 'ok@p=900,chunks=6,cached=100,tools=0';
const STREAMED_REPLY = 'Hello from the mock upstream with'; // 6 chunks

let stack;
let scratch;

before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  stack = await startStack((mockUrl) => ({
    providers: [mockProvider(mockUrl, 'claude', 'anthropic'), mockProvider(mockUrl, 'oai', 'openai')],
    models: [
      // The mock's fixed usage makes the spend exact: p prompt tokens, 6 content chunks. tools=0:
      // the agents offer tools, and a reply that always calls one would never end their turn.
      mockModel('claude/sonnet', 'claude', CLAUDE_UPSTREAM),
      mockModel('oai/gpt', 'oai', OAI_UPSTREAM),
      // Calls the first tool offered (the mock's default), for function calling through Gemini's format.
      mockModel('claude/tools', 'claude', 'ok@p=500,chunks=3'),
    ],
    keys: Object.values(KEYS).map((k) => ({ name: k.name, secret: k.secret, allow_models: k.allow })),
  }));
});

after(async () => {
  if (stack) await stack.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function run(file, args, { env, cwd, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // EPIPE when the process exits before reading its input
    child.stdin.end(input ?? '');
  });
}

// `gatehouse connect TOOL --key NAME` against the running gateway's database and port.
async function connectSnippet(tool, key, on = stack) {
  const port = new URL(on.gatewayUrl).port;
  const r = await run(requireEnv('GATEHOUSE_BIN'),
    ['connect', tool, '--key', key.name, '--data-dir', on.dataDir, '--port', port],
    { env: { PATH: process.env.PATH, GATEHOUSE_NO_KEYCHAIN: '1', QT_QPA_PLATFORM: 'offscreen' } });
  assert.equal(r.code, 0, `gatehouse connect ${tool}: ${r.stderr}`);
  const placeholder = `<your ${key.name} key>`;
  assert.ok(r.stdout.includes(placeholder), `the snippet names the key by a placeholder:\n${r.stdout}`);
  return r.stdout.replaceAll(placeholder, key.secret);
}

// `export NAME="value"` lines of a snippet.
function snippetEnv(text) {
  const env = {};
  for (const m of text.matchAll(/^export ([A-Z_][A-Z0-9_]*)="([^"]*)"$/gm)) env[m[1]] = m[2];
  return env;
}

// A clean environment for a tool: nothing from the developer's shell but PATH.
function toolEnv(home, extra) {
  return { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TERM: 'dumb', ...extra };
}

function freshHome(name) {
  const home = path.join(scratch, name);
  mkdirSync(home, { recursive: true });
  return home;
}

async function keyInfo(secret) {
  const res = await fetch(`${stack.gatewayUrl}/v1/key`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(res.status, 200);
  return res.json();
}

async function billing() {
  const res = await fetch(`${stack.mockUrl}/_mock/billing`);
  assert.equal(res.status, 200);
  return res.json();
}

// USD for the mock's normalized usage of one upstream model at the configured PRICE.
function costOf(u) {
  const perM = u.input_tokens * PRICE.input + u.output_tokens * PRICE.output + u.cache_read_tokens * PRICE.cache_read
    + u.cache_write_tokens * PRICE.cache_write + u.cache_write_1h_tokens * PRICE.cache_write_1h;
  return perM / 1e6;
}

// The log rows of a key, oldest first (the store's writer commits a stream's final row in its next
// batch: wait for `count` answered rows; a refused row may be committed before them).
async function logRows(keyName, count) {
  const db = path.join(stack.dataDir, 'gatehouse.db');
  const query = `SELECT endpoint, requested_model, provider, upstream_model, status, input_tokens, output_tokens,
    cache_read_tokens, cost_nano_usd, stream, session_id FROM requests WHERE key_name = '${keyName}' ORDER BY seq`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const out = await new Promise((resolve, reject) => execFile('sqlite3', ['-json', db, query],
      (err, stdout, stderr) => (err ? reject(new Error(`sqlite3: ${stderr || err.message}`)) : resolve(stdout))));
    const rows = out.trim() ? JSON.parse(out) : [];
    if (rows.filter((r) => r.status === 200).length >= count || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Spend of the key = sum over the mock's billed usage of the models it reached × price, and one
// answered log row per billed request.
// The mock was reset before the tool ran, and each key is used by one test only.
async function checkSpendAndLog(key, upstream) {
  const billed = await billing();
  const delta = billed.by_model[upstream];
  assert.ok(delta, `the mock billed ${upstream}: ${JSON.stringify(billed.by_model)}`);
  assert.ok(delta.requests >= 1, `requests billed for ${upstream}: ${delta.requests}`);
  const info = await keyInfo(key.secret);
  assert.ok(Math.abs(info.spend.total_usd - costOf(delta)) < 1e-9,
    `spend ${info.spend.total_usd} = ${JSON.stringify(delta)} × price = ${costOf(delta)}`);
  const rows = await logRows(key.name, delta.requests);
  const answered = rows.filter((r) => r.status === 200);
  assert.equal(answered.length, delta.requests, JSON.stringify(rows));
  const nano = rows.reduce((sum, r) => sum + (r.cost_nano_usd ?? 0), 0);
  assert.ok(Math.abs(nano / 1e9 - costOf(delta)) < 1e-9, `log cost ${nano} nano-USD`);
  return answered;
}

test('gatehouse connect refuses an unknown tool or key, and stray arguments, with exit code 2', async () => {
  const gatehouse = requireEnv('GATEHOUSE_BIN');
  const env = { PATH: process.env.PATH, GATEHOUSE_NO_KEYCHAIN: '1', QT_QPA_PLATFORM: 'offscreen' };
  const cases = [
    [['connect', 'emacs', '--data-dir', stack.dataDir], /unknown tool 'emacs'/],
    [['connect', 'claude-code', '--key', 'nobody', '--data-dir', stack.dataDir], /no key named 'nobody'/],
    [['connect', '--data-dir', stack.dataDir], /which tool/],
    [['connect', 'curl', 'extra', '--data-dir', stack.dataDir], /unexpected argument 'extra'/],
    [['frobnicate', '--data-dir', stack.dataDir], /unknown command 'frobnicate'/],
    [['--headles'], /Unknown option 'headles'/],
    [['--key', 'x', '--data-dir', stack.dataDir], /--key and --model belong to/],
  ];
  for (const [args, message] of cases) {
    const r = await run(gatehouse, args, { env });
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.signal ?? ''}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('claude -p through an Anthropic provider, configured by the claude-code snippet', async () => {
  const snippet = await connectSnippet('claude-code', KEYS.claude);
  const env = snippetEnv(snippet);
  assert.equal(env.ANTHROPIC_BASE_URL, stack.gatewayUrl);
  assert.equal(env.ANTHROPIC_MODEL, 'claude/sonnet');
  const home = freshHome('claude');
  await stack.resetUpstream();
  const r = await run(bin('claude'), ['-p', 'Say hi'], {
    cwd: home, env: toolEnv(home, { ...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
  });
  assert.equal(r.code, 0, `claude exited ${r.code} ${r.signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.stdout.trim(), STREAMED_REPLY);

  const received = (await stack.upstreamRequests()).filter((q) => q.path.split('?')[0] === '/v1/messages');
  assert.ok(received.length >= 1);
  for (const q of received) {
    const body = JSON.parse(q.body);
    assert.equal(body.model, CLAUDE_UPSTREAM);
    assert.ok(!JSON.stringify(q).includes(KEYS.claude.secret), 'the Gatehouse key never reaches the provider');
    // Forwarded untouched: Claude Code's billing block is still the first system block.
    assert.match(body.system[0].text, /^x-anthropic-billing-header: /);
  }
  const rows = await checkSpendAndLog(KEYS.claude, CLAUDE_UPSTREAM);
  for (const row of rows) {
    assert.equal(row.requested_model, 'claude/sonnet');
    assert.equal(row.provider, 'claude');
    assert.equal(row.status, 200);
  }
  // Claude Code's x-claude-code-session-id: one session for the whole run, on every row.
  const sessions = new Set(rows.map((row) => row.session_id));
  assert.equal(sessions.size, 1, JSON.stringify([...sessions]));
  assert.match([...sessions][0], /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
});

test('claude -p through an OpenAI-format provider (translated), configured by the claude-code snippet', async () => {
  const snippet = await connectSnippet('claude-code', KEYS.claudeTranslated);
  const env = snippetEnv(snippet);
  assert.equal(env.ANTHROPIC_MODEL, 'oai/gpt');
  const home = freshHome('claude-oai');
  await stack.resetUpstream();
  const r = await run(bin('claude'), ['-p', 'Say hi'], {
    cwd: home, env: toolEnv(home, { ...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
  });
  assert.equal(r.code, 0, `claude exited ${r.code} ${r.signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.stdout.trim(), STREAMED_REPLY);
  const received = (await stack.upstreamRequests()).filter((q) => q.path === '/v1/chat/completions');
  assert.ok(received.length >= 1);
  for (const q of received) {
    // The translated prompt starts with Claude Code's own system text, not its per-request billing
    // block, so the provider's prefix cache can hit on the next turn.
    assert.ok(!q.body.includes('x-anthropic-billing-header'), 'the billing block is dropped in translation');
    const first = JSON.parse(q.body).messages[0];
    assert.equal(first.role, 'system');
  }
  const rows = await checkSpendAndLog(KEYS.claudeTranslated, OAI_UPSTREAM);
  for (const row of rows) {
    assert.equal(row.requested_model, 'oai/gpt');
    assert.equal(row.provider, 'oai');
    assert.equal(row.status, 200);
  }
});

test('codex exec through the Responses API, configured by the codex snippet', async () => {
  const snippet = await connectSnippet('codex', KEYS.codex);
  const marker = '# then, in your shell:\n';
  assert.ok(snippet.includes(marker), snippet);
  const toml = snippet.slice(0, snippet.indexOf(marker));
  assert.match(toml, /^wire_api = "responses"$/m);
  const codexHome = freshHome('codex/.codex');
  writeFileSync(path.join(codexHome, 'config.toml'), toml);
  const home = path.dirname(codexHome);
  await stack.resetUpstream();
  const r = await run(bin('codex'), ['exec', '--skip-git-repo-check', 'Say hi'], {
    cwd: home, env: toolEnv(home, { ...snippetEnv(snippet), CODEX_HOME: codexHome }),
  });
  assert.equal(r.code, 0, `codex exited ${r.code} ${r.signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.stdout.trim(), STREAMED_REPLY);
  const received = (await stack.upstreamRequests()).filter((q) => q.path === '/v1/responses');
  assert.ok(received.length >= 1, JSON.stringify((await stack.upstreamRequests()).map((q) => q.path)));
  const rows = await checkSpendAndLog(KEYS.codex, OAI_UPSTREAM);
  for (const row of rows) {
    assert.equal(row.endpoint, '/v1/responses');
    assert.equal(row.requested_model, 'oai/gpt');
    assert.equal(row.status, 200);
  }
});

test('codex exec through an Anthropic provider (the Responses API translated), configured by the codex snippet', async () => {
  const snippet = await connectSnippet('codex', KEYS.codexClaude);
  const marker = '# then, in your shell:\n';
  const toml = snippet.slice(0, snippet.indexOf(marker));
  assert.match(toml, /^model = "claude\/sonnet"$/m);
  const codexHome = freshHome('codex-claude/.codex');
  writeFileSync(path.join(codexHome, 'config.toml'), toml);
  const home = path.dirname(codexHome);
  await stack.resetUpstream();
  const r = await run(bin('codex'), ['exec', '--skip-git-repo-check', 'Say hi'], {
    cwd: home, env: toolEnv(home, { ...snippetEnv(snippet), CODEX_HOME: codexHome }),
  });
  assert.equal(r.code, 0, `codex exited ${r.code} ${r.signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.stdout.trim(), STREAMED_REPLY);
  const received = await stack.upstreamRequests();
  assert.ok(received.length >= 1);
  for (const q of received) {
    assert.equal(q.path.split('?')[0], '/v1/messages');
    const body = JSON.parse(q.body);
    assert.equal(body.model, CLAUDE_UPSTREAM);
    assert.match(JSON.stringify(body.system), /Codex/, 'Codex\'s instructions lead the prompt');
    assert.ok(body.tools.some((t) => t.name === 'exec_command'), 'its function tools are offered');
    assert.ok(!JSON.stringify(q).includes(KEYS.codexClaude.secret));
  }
  const rows = await checkSpendAndLog(KEYS.codexClaude, CLAUDE_UPSTREAM);
  for (const row of rows) {
    assert.equal(row.endpoint, '/v1/responses');
    assert.equal(row.requested_model, 'claude/sonnet');
    assert.equal(row.provider, 'claude');
    assert.equal(row.stream, 1);
  }
});

// Writes the program of an ai-sdk snippet next to node_modules (so its imports resolve as in a
// user's project), runs it with the snippet's environment and returns the result.
async function runAiSdkSnippet(snippet, name) {
  const start = snippet.indexOf('// app.mjs');
  assert.ok(start > 0, snippet);
  const program = path.join(here, `.ai-sdk-snippet-${process.pid}.mjs`);
  writeFileSync(program, snippet.slice(start));
  try {
    const home = freshHome(name);
    return await run(process.execPath, [program], { cwd: here, env: toolEnv(home, snippetEnv(snippet)) });
  } finally {
    rmSync(program, { force: true });
  }
}

test('the Vercel AI SDK program of the ai-sdk snippet (@ai-sdk/openai), run as written', async () => {
  const snippet = await connectSnippet('ai-sdk', KEYS.aisdk);
  assert.match(snippet, /from '@ai-sdk\/openai'/);
  await stack.resetUpstream();
  const r = await runAiSdkSnippet(snippet, 'ai-sdk');
  assert.equal(r.code, 0, `node exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.match(r.stdout.trim(), /^Hello from the mock upstream/); // not streamed: the whole reply
  const rows = await checkSpendAndLog(KEYS.aisdk, OAI_UPSTREAM);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].endpoint, '/v1/chat/completions');
});

test('the Vercel AI SDK program of the ai-sdk snippet (@ai-sdk/anthropic), run as written', async () => {
  const snippet = await connectSnippet('ai-sdk', KEYS.aisdkClaude);
  assert.match(snippet, /from '@ai-sdk\/anthropic'/);
  await stack.resetUpstream();
  const r = await runAiSdkSnippet(snippet, 'ai-sdk-claude');
  assert.equal(r.code, 0, `node exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.match(r.stdout.trim(), /^Hello from the mock upstream/);
  const rows = await checkSpendAndLog(KEYS.aisdkClaude, CLAUDE_UPSTREAM);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].endpoint, '/v1/messages');
  assert.equal(rows[0].provider, 'claude');
});

test('the curl snippet, run by sh as written', async () => {
  const key = KEYS.aisdk;
  const snippet = await connectSnippet('curl', key);
  const r = await run('sh', ['-c', snippet], { env: { PATH: process.env.PATH } });
  assert.equal(r.code, 0, r.stderr);
  const reply = JSON.parse(r.stdout);
  assert.equal(reply.object, 'chat.completion');
  assert.match(reply.choices[0].message.content, /^Hello from the mock upstream/);
});

// "Pause all" (here gatehouse --paused): the agents stop at the first refusal instead of retrying
// it (Codex CLI retries a 403 five times, Claude Code sends a 400 again with fewer messages: see
// GatewayError::paused). One log row per tool, and nothing reaches the provider.
test('a paused gateway: claude -p and codex exec stop at the first answer', async () => {
  const paused = await startStack((mockUrl) => ({
    providers: [mockProvider(mockUrl, 'claude', 'anthropic'), mockProvider(mockUrl, 'oai', 'openai')],
    models: [mockModel('claude/sonnet', 'claude', CLAUDE_UPSTREAM), mockModel('oai/gpt', 'oai', OAI_UPSTREAM)],
    keys: [KEYS.claude, KEYS.codex].map((k) => ({ name: k.name, secret: k.secret, allow_models: k.allow })),
  }), { gatewayArgs: ['--paused'] });
  try {
    const rowsOf = async (keyName) => {
      const db = path.join(paused.dataDir, 'gatehouse.db');
      const query = `SELECT endpoint, status, error FROM requests WHERE key_name = '${keyName}' ORDER BY seq`;
      const out = await new Promise((resolve, reject) => execFile('sqlite3', ['-json', db, query],
        (err, stdout, stderr) => (err ? reject(new Error(`sqlite3: ${stderr || err.message}`)) : resolve(stdout))));
      return out.trim() ? JSON.parse(out) : [];
    };
    // The refused rows are committed by the store's writer: wait for the first, then make sure
    // no second one follows.
    const settledRows = async (keyName) => {
      const deadline = Date.now() + 10_000;
      while ((await rowsOf(keyName)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      return rowsOf(keyName);
    };

    const claudeEnv = snippetEnv(await connectSnippet('claude-code', KEYS.claude, paused));
    const claudeHome = freshHome('paused-claude');
    const c = await run(bin('claude'), ['-p', 'Say hi'], {
      cwd: claudeHome, env: toolEnv(claudeHome, { ...claudeEnv, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
    });
    assert.notEqual(c.code, 0, c.stdout);
    assert.match(c.stdout + c.stderr, /Gatehouse is paused/);
    const claudeRows = await settledRows(KEYS.claude.name);
    assert.deepEqual(claudeRows.map((r) => [r.endpoint, r.status]), [['/v1/messages', 403]], JSON.stringify(claudeRows));

    const snippet = await connectSnippet('codex', KEYS.codex, paused);
    const marker = '# then, in your shell:\n';
    const codexHome = freshHome('paused-codex/.codex');
    writeFileSync(path.join(codexHome, 'config.toml'), snippet.slice(0, snippet.indexOf(marker)));
    const home = path.dirname(codexHome);
    const x = await run(bin('codex'), ['exec', '--skip-git-repo-check', 'Say hi'], {
      cwd: home, env: toolEnv(home, { ...snippetEnv(snippet), CODEX_HOME: codexHome }),
    });
    assert.notEqual(x.code, 0, x.stdout);
    assert.match(x.stdout + x.stderr, /Gatehouse is paused/);
    const codexRows = await settledRows(KEYS.codex.name);
    assert.deepEqual(codexRows.map((r) => [r.endpoint, r.status]), [['/v1/responses', 400]], JSON.stringify(codexRows));

    assert.deepEqual(await paused.upstreamRequests(), [], 'nothing reached the provider');
  } finally {
    await paused.stop();
  }
});

// Gemini CLI 0.61 as the gemini-cli snippet configures it: the settings file it shows (the API-key
// sign-in) and its environment. GEMINI_CLI_TRUST_WORKSPACE stands for the user trusting their
// project folder (an interactive question, refused in headless mode).
test('gemini -p through an OpenAI-format provider (translated), configured by the gemini-cli snippet', async () => {
  const snippet = await connectSnippet('gemini-cli', KEYS.gemini);
  const marker = '# then, in your shell:\n';
  assert.ok(snippet.includes(marker), snippet);
  const settings = snippet.slice(snippet.indexOf('{'), snippet.indexOf(marker)).trim();
  const env = snippetEnv(snippet);
  assert.equal(env.GOOGLE_GEMINI_BASE_URL, stack.gatewayUrl);
  assert.equal(env.GEMINI_MODEL, 'oai/gpt');
  const home = freshHome('gemini');
  mkdirSync(path.join(home, '.gemini'), { recursive: true });
  writeFileSync(path.join(home, '.gemini', 'settings.json'), settings);
  await stack.resetUpstream();
  const r = await run(bin('gemini'), ['-p', 'Say hi'], {
    cwd: home, env: toolEnv(home, { ...env, GEMINI_CLI_TRUST_WORKSPACE: 'true' }),
  });
  assert.equal(r.code, 0, `gemini exited ${r.code} ${r.signal ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  assert.equal(r.stdout.trim(), STREAMED_REPLY);
  const received = (await stack.upstreamRequests()).filter((q) => q.path === '/v1/chat/completions');
  assert.ok(received.length >= 1, JSON.stringify((await stack.upstreamRequests()).map((q) => q.path)));
  for (const q of received) {
    const body = JSON.parse(q.body);
    assert.equal(body.model, OAI_UPSTREAM);
    assert.equal(body.messages[0].role, 'system', 'Gemini CLI\'s systemInstruction leads the prompt');
    assert.ok(body.tools.length > 0, 'its function declarations are offered as tools');
    assert.ok(!JSON.stringify(q).includes(KEYS.gemini.secret), 'the Gatehouse key never reaches the provider');
  }
  const rows = await checkSpendAndLog(KEYS.gemini, OAI_UPSTREAM);
  for (const row of rows) {
    assert.equal(row.endpoint, '/v1beta/models/oai/gpt:streamGenerateContent');
    assert.equal(row.requested_model, 'oai/gpt');
    assert.equal(row.provider, 'oai');
    assert.equal(row.stream, 1);
  }
});

const genai = (key) => new GoogleGenAI({ apiKey: key.secret, httpOptions: { baseUrl: stack.gatewayUrl } });

test('@google/genai generateContent (not streamed) through an OpenAI-format provider: reply, usageMetadata, cost, log row', async () => {
  await stack.resetUpstream();
  const res = await genai(KEYS.genai).models.generateContent({
    model: 'oai/gpt', contents: 'Say hi', config: { systemInstruction: 'Be brief.', maxOutputTokens: 200, temperature: 0.2 },
  });
  assert.equal(res.text, 'Hello from the mock upstream with a few more words');
  assert.equal(res.candidates[0].finishReason, 'STOP');
  // The mock bills p=900 prompt tokens of which 100 cached: Gemini counts cached tokens inside the prompt.
  assert.equal(res.usageMetadata.promptTokenCount, 900);
  assert.equal(res.usageMetadata.cachedContentTokenCount, 100);
  const [received] = await stack.upstreamRequests();
  const sent = JSON.parse(received.body);
  assert.deepEqual(sent.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hi' }]);
  assert.equal(sent.max_tokens, 200);
  assert.equal(sent.temperature, 0.2);
  const rows = await checkSpendAndLog(KEYS.genai, OAI_UPSTREAM);
  assert.equal(rows.length, 1);
  assert.match(rows[0].endpoint, /^\/v1(beta)?\/models\/oai\/gpt:generateContent$/);
  assert.equal(rows[0].stream, 0);
  assert.equal(rows[0].input_tokens, 800);
  assert.equal(rows[0].cache_read_tokens, 100);
});

test('@google/genai generateContentStream through an OpenAI-format provider: chunks, final usage, cost, log row', async () => {
  await stack.resetUpstream();
  const stream = await genai(KEYS.genaiStream).models.generateContentStream({ model: 'oai/gpt', contents: 'Say hi' });
  let text = '';
  let last;
  for await (const chunk of stream) {
    text += chunk.text ?? '';
    last = chunk;
  }
  assert.equal(text, STREAMED_REPLY);
  assert.equal(last.candidates[0].finishReason, 'STOP');
  assert.equal(last.usageMetadata.promptTokenCount, 900);
  assert.equal(last.usageMetadata.candidatesTokenCount, 6);
  const rows = await checkSpendAndLog(KEYS.genaiStream, OAI_UPSTREAM);
  assert.equal(rows.length, 1);
  assert.match(rows[0].endpoint, /^\/v1(beta)?\/models\/oai\/gpt:streamGenerateContent$/);
  assert.equal(rows[0].stream, 1);
});

test('@google/genai function calling through an Anthropic provider, then the function response, and errors in Google\'s shape', async () => {
  await stack.resetUpstream();
  const ai = genai(KEYS.genaiTools);
  const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'Current weather', parametersJsonSchema: WEATHER_SCHEMA }] }];
  const first = await ai.models.generateContent({ model: 'claude/tools', contents: 'Weather in Paris?', config: { tools } });
  assert.equal(first.functionCalls.length, 1);
  assert.equal(first.functionCalls[0].name, 'get_weather');
  assert.deepEqual(first.functionCalls[0].args, { city: 'Paris', unit: 'celsius' });
  const sent = JSON.parse((await stack.upstreamRequests())[0].body);
  assert.equal(sent.tools[0].name, 'get_weather');
  assert.deepEqual(sent.tools[0].input_schema, WEATHER_SCHEMA);

  // The call and its answer sent back: a tool_use and its tool_result for Anthropic, paired by id.
  await stack.resetUpstream();
  const call = first.candidates[0].content;
  await ai.models.generateContent({
    model: 'claude/tools',
    contents: [
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      call,
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', id: first.functionCalls[0].id, response: { temperature: 21 } } }] },
    ],
    config: { tools },
  });
  const second = JSON.parse((await stack.upstreamRequests())[0].body);
  const use = second.messages[1].content.find((b) => b.type === 'tool_use');
  const result = second.messages[2].content.find((b) => b.type === 'tool_result');
  assert.equal(use.name, 'get_weather');
  assert.equal(result.tool_use_id, use.id);

  // A model the key may not use: Google's error shape, through the SDK's own error.
  await assert.rejects(ai.models.generateContent({ model: 'nope/none', contents: 'hi' }), (e) => {
    assert.equal(e.status, 404);
    assert.match(e.message, /NOT_FOUND/);
    return true;
  });
});
