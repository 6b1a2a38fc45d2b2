// "Pause all" (gatehouse --paused) seen by the real clients: each of them must stop at the first
// answer, with its default retry policy, instead of retrying the refusal in a loop.
//
// The SDKs retry 408/409/429/5xx (OpenAI, Anthropic: twice, unless `x-should-retry: false`; the
// Vercel AI SDK: twice, whatever the headers), so a paused gateway answers gateway_paused with
// `x-should-retry: false`, 400 to OpenAI-format clients and 403 to Anthropic ones
// (GatewayError::paused says why; cli.test.mjs runs Claude Code and Codex CLI against it). Every
// request is counted by the client's own fetch; the control cases show that the same clients do
// retry a 503 (the old answer), so a count of 1 is the client stopping, not the counter missing
// retries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { mockModel, mockProvider, startStack, UPSTREAM_KEY } from './harness.mjs';

const KEY = 'gk-sdk-paused-0123456789';

let stack;

before(async () => {
  stack = await startStack((mockUrl) => ({
    providers: [mockProvider(mockUrl, 'oai', 'openai'), mockProvider(mockUrl, 'claude', 'anthropic')],
    models: [mockModel('oai/ok', 'oai', 'ok'), mockModel('claude/ok', 'claude', 'ok')],
    keys: [{ name: 'paused-sdk', secret: KEY }],
  }), { gatewayArgs: ['--paused'] });
});

after(async () => {
  if (stack) await stack.stop();
});

// A fetch that counts the HTTP requests a client sends.
function countingFetch() {
  const counted = async (url, init) => {
    counted.calls++;
    return fetch(url, init);
  };
  counted.calls = 0;
  return counted;
}

const messages = [{ role: 'user', content: 'Say hello.' }];

// The Vercel AI SDK is installed with the tools (sdk.cli); without it its cases are skipped.
async function aiSdk(t) {
  try {
    const { generateText } = await import('ai');
    const { createOpenAI } = await import('@ai-sdk/openai');
    return { generateText, createOpenAI };
  } catch {
    t.skip('the Vercel AI SDK (ai, @ai-sdk/openai) is not in tests/sdk/node_modules');
    return null;
  }
}

test('openai SDK: one request, BadRequestError gateway_paused, nothing forwarded', async () => {
  await stack.resetUpstream();
  for (const call of [
    (c) => c.chat.completions.create({ model: 'oai/ok', messages }),
    (c) => c.chat.completions.create({ model: 'oai/ok', messages, stream: true }),
    (c) => c.responses.create({ model: 'oai/ok', input: 'Say hello.' }),
  ]) {
    const counted = countingFetch();
    // maxRetries 2 is the SDK's default, spelled out: the test is that it is not used.
    const client = new OpenAI({ apiKey: KEY, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 2, fetch: counted });
    await assert.rejects(call(client), (e) => {
      assert.ok(e instanceof OpenAI.BadRequestError, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, 400);
      assert.equal(e.code, 'gateway_paused');
      assert.match(e.message, /Gatehouse is paused/);
      assert.equal(e.headers.get('x-should-retry'), 'false');
      return true;
    });
    assert.equal(counted.calls, 1, 'the client stopped at the first answer');
  }
  assert.deepEqual(await stack.upstreamRequests(), [], 'nothing reached the provider');
});

test('anthropic SDK: one request, PermissionDeniedError in the Anthropic shape', async () => {
  await stack.resetUpstream();
  for (const stream of [false, true]) {
    const counted = countingFetch();
    const client = new Anthropic({ apiKey: KEY, baseURL: stack.gatewayUrl, maxRetries: 2, fetch: counted });
    await assert.rejects(async () => {
      const r = await client.messages.create({ model: 'claude/ok', max_tokens: 64, messages, stream });
      if (stream) for await (const _ of r) { /* drain */ }
    }, (e) => {
      assert.ok(e instanceof Anthropic.PermissionDeniedError, `${e.constructor.name}: ${e.message}`);
      assert.equal(e.status, 403);
      assert.equal(e.error?.error?.type, 'permission_error');
      assert.match(e.error?.error?.message ?? '', /Gatehouse is paused/);
      return true;
    });
    assert.equal(counted.calls, 1, `stream ${stream}: the client stopped at the first answer`);
  }
  assert.deepEqual(await stack.upstreamRequests(), [], 'nothing reached the provider');
});

test('Vercel AI SDK (generateText, default retries): one request', async (t) => {
  const sdk = await aiSdk(t);
  if (!sdk) return;
  const { generateText, createOpenAI } = sdk;
  const counted = countingFetch();
  const provider = createOpenAI({ apiKey: KEY, baseURL: `${stack.gatewayUrl}/v1`, fetch: counted });
  await assert.rejects(generateText({ model: provider.chat('oai/ok'), prompt: 'Say hello.' }), (e) => {
    assert.equal(e.statusCode, 400, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.isRetryable, false);
    return true;
  });
  assert.equal(counted.calls, 1, 'the client stopped at the first answer');
});

// Controls: the same clients with the same settings retry a 503 (the mock's fail-503, straight
// from mock_upstream): three requests each.
test('control: the same clients retry a 503 three times', async (t) => {
  const oaiFetch = countingFetch();
  const oai = new OpenAI({ apiKey: UPSTREAM_KEY, baseURL: `${stack.mockUrl}/v1`, maxRetries: 2, fetch: oaiFetch });
  await assert.rejects(oai.chat.completions.create({ model: 'fail-503', messages }), (e) => e.status === 503);
  assert.equal(oaiFetch.calls, 3);

  const antFetch = countingFetch();
  const ant = new Anthropic({ apiKey: UPSTREAM_KEY, baseURL: stack.mockUrl, maxRetries: 2, fetch: antFetch });
  await assert.rejects(ant.messages.create({ model: 'fail-503', max_tokens: 64, messages }), (e) => e.status === 503);
  assert.equal(antFetch.calls, 3);

  const sdk = await aiSdk(t);
  if (!sdk) return;
  const { generateText, createOpenAI } = sdk;
  const aiFetch = countingFetch();
  const provider = createOpenAI({ apiKey: UPSTREAM_KEY, baseURL: `${stack.mockUrl}/v1`, fetch: aiFetch });
  // retry_after=0: the AI SDK waits what Retry-After says (2 s and 4 s otherwise).
  await assert.rejects(generateText({ model: provider.chat('fail-503@retry_after=0'), prompt: 'Say hello.' }));
  assert.equal(aiFetch.calls, 3);
});
