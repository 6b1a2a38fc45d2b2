// The official OpenAI SDK (npm "openai") against a real Gatehouse gateway in front of mock_upstream.
//
//   GATEHOUSE_BIN=build/gatehouse MOCK_UPSTREAM_BIN=build/tests/mock/mock_upstream node --test
//
// Starts both processes itself with a temp config and data dir, so it needs nothing else running.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { requireEnv, startProcess } from './harness.mjs';

const KEY = 'gk-sdk-test-0123456789';
const BROKE_KEY = 'gk-sdk-broke-0123456789';
const NARROW_KEY = 'gk-sdk-narrow-0123456789';

let workDir;
let mock;
let gateway;
let baseURL;

// maxRetries 0: an error must surface as the first response's typed exception, not after retries.
const client = (apiKey = KEY) => new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 20_000 });

before(async () => {
  const gatehouseBin = requireEnv('GATEHOUSE_BIN');
  const mockBin = requireEnv('MOCK_UPSTREAM_BIN');
  workDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sdk-'));

  mock = await startProcess('mock_upstream', mockBin, [],
    /mock upstream listening on (http:\/\/127\.0\.0\.1:\d+)/);

  const price = { input: 1.0, output: 2.0, cache_read: 0.5, cache_write: 0.0 };
  const model = (upstream) => ({
    id: `mock/${upstream}`, provider: 'mock', upstream_model: upstream, pricing: price,
    context_window: 128000, max_output_tokens: 32768,
  });
  const config = {
    providers: [
      { id: 'mock', format: 'openai', base_url: `${mock.url}/v1`, api_key_env: 'GATEHOUSE_SDK_TEST_UPSTREAM_KEY' },
    ],
    // mock_upstream reads its behaviour from the upstream model name; "ok@chunks=7" streams 7 content events.
    models: [model('ok'), model('fail-400'), model('fail-500'),
      { ...model('ok@chunks=7'), id: 'mock/seven' }],
    keys: [
      { name: 'sdk', secret: KEY },
      // Worst case of 20,000 output tokens at $2/M is $0.04: more than this key has left.
      // Refuses what does not fit (the default, clamp, would lower max_tokens and serve it).
      { name: 'broke', secret: BROKE_KEY, limits: { total_usd: 0.01 }, on_short_budget: 'refuse' },
      { name: 'narrow', secret: NARROW_KEY, allow_models: ['mock/fail-*'] },
    ],
  };
  const configFile = path.join(workDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  gateway = await startProcess('gatehouse', gatehouseBin,
    ['--headless', '--port', '0', '--data-dir', path.join(workDir, 'data'), '--config', configFile],
    /Gatehouse gateway listening on (http:\/\/127\.0\.0\.1:\d+)/,
    { GATEHOUSE_SDK_TEST_UPSTREAM_KEY: 'sk-upstream-sdk-test' });
  baseURL = `${gateway.url}/v1`;
});

after(async () => {
  for (const p of [gateway, mock]) {
    if (p && p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.child.exited;
    }
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const messages = [{ role: 'user', content: 'Say hello.' }];

function assertUsage(usage) {
  assert.ok(usage, 'usage is present');
  assert.ok(Number.isInteger(usage.prompt_tokens) && usage.prompt_tokens > 0, `prompt_tokens: ${usage.prompt_tokens}`);
  assert.ok(Number.isInteger(usage.completion_tokens) && usage.completion_tokens > 0,
    `completion_tokens: ${usage.completion_tokens}`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

// Runs a streaming chat and returns the chunks and the assembled text.
async function streamChat(params) {
  const stream = await client().chat.completions.create({ model: 'mock/seven', messages, stream: true, ...params });
  const chunks = [];
  let text = '';
  let contentChunks = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    assert.equal(chunk.object, 'chat.completion.chunk');
    for (const choice of chunk.choices) {
      if (choice.delta?.content) contentChunks++;
      text += choice.delta?.content ?? '';
    }
  }
  // Each upstream event reaches the client as one chunk: none merged, none lost.
  assert.equal(contentChunks, 7, `content chunks in ${JSON.stringify(chunks)}`);
  return { chunks, text };
}

test('non-streaming chat: content, usage and the gateway headers', async () => {
  const { data, response } = await client().chat.completions.create({ model: 'mock/ok', messages }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices.length, 1);
  const content = data.choices[0].message.content;
  assert.equal(typeof content, 'string');
  assert.ok(content.length > 0, 'content is not empty');
  assert.equal(data.choices[0].message.role, 'assistant');
  assertUsage(data.usage);

  assert.ok(response.headers.get('x-gatehouse-request-id'), 'x-gatehouse-request-id');
  assert.equal(response.headers.get('x-gatehouse-provider'), 'mock');
  assert.ok(response.headers.get('x-gatehouse-model'), 'x-gatehouse-model');
  const cost = Number(response.headers.get('x-gatehouse-cost-usd'));
  assert.ok(Number.isFinite(cost) && cost > 0, `x-gatehouse-cost-usd: ${response.headers.get('x-gatehouse-cost-usd')}`);
});

test('streaming chat without include_usage: chunks, assembled text, no usage chunk', async () => {
  const { chunks, text } = await streamChat({});
  assert.ok(chunks.length >= 3, `got ${chunks.length} chunks`);
  assert.ok(text.length > 0, 'assembled text is not empty');
  const withUsage = chunks.filter((c) => c.usage);
  assert.deepEqual(withUsage, [], 'the client did not ask for usage, so no chunk carries it');
  assert.ok(chunks.every((c) => c.choices.length > 0), 'no empty-choices usage chunk leaked through');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('streaming chat with include_usage: the usage chunk is delivered', async () => {
  const { chunks, text } = await streamChat({ stream_options: { include_usage: true } });
  assert.ok(text.length > 0, 'assembled text is not empty');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, [], 'the usage chunk comes last, with no choices');
  assertUsage(last.usage);
  assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'), 'a finish chunk arrived');
});

test('embeddings, floats as requested', async () => {
  const res = await client().embeddings.create({ model: 'mock/ok', input: ['alpha', 'beta'], encoding_format: 'float' });
  assert.equal(res.object, 'list');
  assert.equal(res.data.length, 2);
  res.data.forEach((item, i) => {
    assert.equal(item.index, i);
    assert.ok(Array.isArray(item.embedding) && item.embedding.length > 0, 'a non-empty vector');
    assert.ok(item.embedding.every((x) => typeof x === 'number' && Number.isFinite(x)), 'finite numbers');
  });
  assert.ok(res.usage.prompt_tokens > 0, 'embedding usage');
});

// What mock_upstream received, most recent last.
async function upstreamRequests() {
  const res = await fetch(`${mock.url}/_mock/requests`);
  assert.equal(res.status, 200);
  return res.json();
}

test('embeddings with the SDK default encoding: the request reaches the upstream as the SDK sent it', async () => {
  // The SDK asks for base64 unless told otherwise; the gateway must pass that through untouched
  // (mock_upstream answers floats whatever was asked, so only the forwarded request is checked).
  await client().embeddings.create({ model: 'mock/ok', input: 'alpha' });
  const last = (await upstreamRequests()).filter((r) => r.path.endsWith('/embeddings')).at(-1);
  assert.ok(last, 'the upstream received an embeddings request');
  const body = JSON.parse(last.body);
  assert.equal(body.model, 'ok', 'the upstream gets its own model name');
  assert.equal(body.encoding_format, 'base64');
  assert.equal(body.input, 'alpha');
  assert.equal(last.headers.authorization, 'Bearer sk-upstream-sdk-test', 'the provider key, not the Gatehouse key');
  assert.ok(!JSON.stringify(last).includes(KEY), 'the Gatehouse key never reaches the upstream');
});

test('streaming chat: the upstream is asked for usage even when the client did not ask', async () => {
  await streamChat({ temperature: 0.25 });
  const last = (await upstreamRequests()).filter((r) => r.path.endsWith('/chat/completions')).at(-1);
  const body = JSON.parse(last.body);
  assert.equal(body.model, 'ok@chunks=7', 'the upstream gets its own model name');
  assert.equal(body.stream, true);
  assert.equal(body.temperature, 0.25, 'other fields pass through');
  assert.equal(body.stream_options?.include_usage, true);
});

test('models.list: the models this key may use', async () => {
  const ids = [];
  for await (const m of client().models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  for (const id of ['mock/ok', 'mock/fail-400', 'mock/fail-500', 'mock/seven']) assert.ok(ids.includes(id), `${id} in ${ids}`);

  const narrow = [];
  for await (const m of client(NARROW_KEY).models.list()) narrow.push(m.id);
  assert.ok(narrow.length > 0, 'the narrow key sees its models');
  assert.ok(narrow.every((id) => id.startsWith('mock/fail-')), `narrow key sees only its models: ${narrow}`);
});

// Resolves to the error the call rejects with; fails when it resolves.
async function errorOf(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('the call succeeded');
}

test('wrong key: openai.AuthenticationError (401)', async () => {
  const e = await errorOf(client('gk-not-a-key').chat.completions.create({ model: 'mock/ok', messages }));
  assert.ok(e instanceof OpenAI.AuthenticationError, `${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 401);
  assert.ok(e.error?.message, 'the OpenAI-style error body has a message');
  assert.ok(!e.message.includes('gk-not-a-key'), 'the presented key is not echoed back');
});

test('unknown model: openai.NotFoundError (404)', async () => {
  // Any name under a configured provider is forwarded (unpriced); a provider nobody configured and a
  // bare name no provider offers are unknown.
  for (const model of ['nosuch/some-model', 'no-such-model']) {
    const e = await errorOf(client().chat.completions.create({ model, messages }));
    assert.ok(e instanceof OpenAI.NotFoundError, `${model}: ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, 404);
    assert.ok(e.message.includes(model), `the message names the model: ${e.message}`);
  }
});

// A policy refusal is a 400 that says what to do, never a 403 that tools show as a login failure.
test('model not allowed for the key: openai.BadRequestError (400) that names the fix', async () => {
  const e = await errorOf(client(NARROW_KEY).chat.completions.create({ model: 'mock/ok', messages }));
  assert.ok(e instanceof OpenAI.BadRequestError, `${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 400);
  assert.match(e.message, /allow_models/);
});

test('exhausted budget: openai.APIError with status 402 and an explanation', async () => {
  const call = client(BROKE_KEY).chat.completions.create({ model: 'mock/ok', messages, max_tokens: 20000 });
  const e = await errorOf(call);
  assert.ok(e instanceof OpenAI.APIError, `${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 402);
  assert.ok(e.error?.message, 'the OpenAI-style error body has a message');
  assert.match(e.message, /max_tokens/, 'the message says a smaller max_tokens would fit');

  // Streaming requests are refused the same way, before any stream starts.
  const s = await errorOf(client(BROKE_KEY).chat.completions.create(
    { model: 'mock/ok', messages, max_tokens: 20000, stream: true }));
  assert.ok(s instanceof OpenAI.APIError);
  assert.equal(s.status, 402);

  // A request whose worst case fits is still served by the same key.
  const ok = await client(BROKE_KEY).chat.completions.create({ model: 'mock/ok', messages, max_tokens: 16 });
  assert.equal(ok.object, 'chat.completion');
});

test('upstream failure: openai.InternalServerError (5xx) with the provider message passed on', async () => {
  const e = await errorOf(client().chat.completions.create({ model: 'mock/fail-500', messages }));
  assert.ok(e instanceof OpenAI.InternalServerError, `${e?.constructor?.name}: ${e?.message}`);
  assert.ok(e.status === 502 || e.status === 504, `status ${e.status}`);
  assert.match(e.message, /the upstream failed/, 'the provider message is passed on');
});

test('upstream rejects the request: the SDK sees its 400 as openai.BadRequestError with its message', async () => {
  const e = await errorOf(client().chat.completions.create({ model: 'mock/fail-400', messages }));
  assert.ok(e instanceof OpenAI.BadRequestError, `${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, 400);
  assert.match(e.message, /the upstream rejected the request/, 'the provider message is passed on');
});

test('the gateway stops cleanly on SIGTERM', async () => {
  gateway.child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('no exit within 10 s')), 10_000); });
  const { code, signal } = await Promise.race([gateway.child.exited, timeout]).finally(() => clearTimeout(timer));
  assert.equal(signal, null, gateway.child.stderrText());
  assert.equal(code, 0, gateway.child.stderrText());
});
