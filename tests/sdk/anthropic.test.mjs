// The official Anthropic SDK (npm "@anthropic-ai/sdk") against a real Gatehouse gateway in front of
// mock_upstream: an Anthropic-format provider (passthrough) and an OpenAI-format one (translated).
// Messages, streaming, tool use, count_tokens, and errors the SDK turns into its typed exceptions.
//
//   GATEHOUSE_BIN=build/gatehouse MOCK_UPSTREAM_BIN=build/tests/mock/mock_upstream node --test anthropic.test.mjs
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { UPSTREAM_KEY, WEATHER_SCHEMA, mockModel, mockProvider, startStack } from './harness.mjs';

const KEY = 'gk-sdk-anthropic-0123456789';

let stack;
// maxRetries 0: an error must surface as the first response's typed exception, not after retries.
const client = (apiKey = KEY) => new Anthropic({ apiKey, baseURL: stack.gatewayUrl, maxRetries: 0, timeout: 20_000 });

before(async () => {
  stack = await startStack((mockUrl) => ({
    providers: [mockProvider(mockUrl, 'claude', 'anthropic'), mockProvider(mockUrl, 'oai', 'openai')],
    models: [
      mockModel('claude/ok', 'claude', 'ok@p=40,c=6,cache_read=10,cache_write=4'),
      mockModel('claude/seven', 'claude', 'ok@chunks=7,p=40,cache_read=10'),
      mockModel('claude/count', 'claude', 'ok@p=321'),
      mockModel('claude/gone', 'claude', 'fail-404'),
      mockModel('claude/busy', 'claude', 'fail-429@retry_after=1'),
      mockModel('claude/breaks', 'claude', 'error-in-stream@after=2'),
      mockModel('oai/ok', 'oai', 'ok@p=30,c=5,cached=10'),
      mockModel('oai/seven', 'oai', 'ok@chunks=7'),
    ],
    keys: [{ name: 'sdk-anthropic', secret: KEY }],
  }));
});

after(async () => {
  if (stack) await stack.stop();
});

beforeEach(async () => {
  await stack.resetUpstream();
});

const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
const tools = [{ name: 'get_weather', description: 'Current weather for a city', input_schema: WEATHER_SCHEMA }];

test('messages.create through an Anthropic provider: content, usage with cache tokens, headers', async () => {
  const { data, response } = await client().messages.create(
    { model: 'claude/ok', max_tokens: 256, system: 'Be brief.', messages },
    { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
  ).withResponse();
  assert.equal(data.type, 'message');
  assert.equal(data.role, 'assistant');
  assert.equal(data.stop_reason, 'end_turn');
  assert.equal(data.content[0].type, 'text');
  assert.ok(data.content[0].text.startsWith('Hello'), data.content[0].text);
  assert.equal(data.usage.input_tokens, 40);
  assert.equal(data.usage.output_tokens, 6);
  assert.equal(data.usage.cache_read_input_tokens, 10);
  assert.equal(data.usage.cache_creation_input_tokens, 4);
  assert.equal(response.headers.get('x-gatehouse-provider'), 'claude');
  assert.equal(response.headers.get('x-gatehouse-model'), 'claude/ok');
  // 40 × $3 + 10 × $0.30 + 4 × $3.75 + 6 × $15 per million = $0.000228
  assert.equal(Number(response.headers.get('x-gatehouse-cost-usd')), 0.000228);

  // Upstream: the provider's key in x-api-key, the SDK's version and beta headers, not the Gatehouse key.
  const [received] = await stack.upstreamRequests();
  assert.equal(received.path, '/v1/messages');
  assert.equal(received.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(received.headers.authorization, undefined);
  assert.match(received.headers['anthropic-version'], /^\d{4}-\d{2}-\d{2}$/);
  assert.equal(received.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
  assert.ok(!JSON.stringify(received).includes(KEY), 'the Gatehouse key never reaches the provider');
  assert.equal(JSON.parse(received.body).model, 'ok@p=40,c=6,cache_read=10,cache_write=4');
});

test('messages.stream: text events, final message and usage', async () => {
  const stream = client().messages.stream({ model: 'claude/seven', max_tokens: 256, messages });
  const pieces = [];
  stream.on('text', (text) => pieces.push(text));
  const final = await stream.finalMessage();
  assert.equal(pieces.length, 7, `text deltas: ${JSON.stringify(pieces)}`);
  assert.equal(final.content[0].text, pieces.join(''));
  assert.equal(final.stop_reason, 'end_turn');
  assert.equal(final.usage.input_tokens, 40);
  assert.equal(final.usage.cache_read_input_tokens, 10);
  assert.equal(final.usage.output_tokens, 7);
});

test('raw stream: the documented event sequence', async () => {
  const stream = await client().messages.create({ model: 'claude/seven', max_tokens: 64, messages, stream: true });
  const types = [];
  for await (const event of stream) types.push(event.type);
  assert.equal(types[0], 'message_start');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(types.at(-2), 'message_delta');
  assert.equal(types.filter((t) => t === 'content_block_delta').length, 7);
});

test('tool use: a tool_use block, then the tool_result turn accepted upstream', async () => {
  const first = await client().messages.create({ model: 'claude/ok', max_tokens: 256, messages, tools });
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((b) => b.type === 'tool_use');
  assert.ok(use, JSON.stringify(first.content));
  assert.equal(use.name, 'get_weather');
  assert.deepEqual(use.input, { city: 'Paris', unit: 'celsius' });
  assert.match(use.id, /^toolu_/);

  // The mock refuses a tool_result whose tool_use is not in the previous message, as Anthropic does.
  const second = await client().messages.create({
    model: 'claude/ok', max_tokens: 256, tools, tool_choice: { type: 'none' },
    messages: [...messages, { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18 degrees and sunny' }] }],
  });
  assert.equal(second.stop_reason, 'end_turn');
  const received = (await stack.upstreamRequests()).at(-1);
  const sent = JSON.parse(received.body);
  assert.equal(sent.messages[2].content[0].tool_use_id, use.id);
});

test('streamed tool use: input assembled from input_json_delta events', async () => {
  const stream = client().messages.stream({ model: 'claude/seven', max_tokens: 256, messages, tools });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use.input, { city: 'Paris', unit: 'celsius' });
});

test('count_tokens: forwarded to an Anthropic provider, estimated for others', async () => {
  const counted = await client().messages.countTokens({ model: 'claude/count', messages, tools });
  assert.equal(counted.input_tokens, 321);
  const received = await stack.upstreamRequests();
  assert.equal(received.length, 1);
  assert.equal(received[0].path, '/v1/messages/count_tokens');
  assert.equal(received[0].headers['x-api-key'], UPSTREAM_KEY);

  await stack.resetUpstream();
  const estimated = await client().messages.countTokens({ model: 'oai/ok', messages });
  assert.ok(Number.isInteger(estimated.input_tokens) && estimated.input_tokens > 0, JSON.stringify(estimated));
  assert.equal((await stack.upstreamRequests()).length, 0, 'nothing sent to the OpenAI provider');
});

test('an OpenAI-format provider behind the Anthropic SDK: messages and streaming, translated', async () => {
  const message = await client().messages.create({ model: 'oai/ok', max_tokens: 128, system: 'Be brief.', messages });
  assert.equal(message.type, 'message');
  assert.ok(message.content[0].text.startsWith('Hello'));
  assert.equal(message.usage.input_tokens, 20); // 30 prompt tokens, 10 of them cached
  assert.equal(message.usage.cache_read_input_tokens, 10);
  assert.equal(message.usage.output_tokens, 5);
  const sent = JSON.parse((await stack.upstreamRequests()).at(-1).body);
  assert.equal(sent.messages[0].role, 'system');

  const stream = client().messages.stream({ model: 'oai/seven', max_tokens: 128, messages, tools });
  const pieces = [];
  stream.on('text', (t) => pieces.push(t));
  const final = await stream.finalMessage();
  // The mock answers tools with a tool call (no text) on OpenAI.
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((b) => b.type === 'tool_use');
  assert.deepEqual(use.input, { city: 'Paris', unit: 'celsius' });
  assert.match(use.id, /^call_/);

  const plain = client().messages.stream({ model: 'oai/seven', max_tokens: 128, messages });
  const text = [];
  plain.on('text', (t) => text.push(t));
  const done = await plain.finalMessage();
  assert.equal(text.length, 7);
  assert.equal(done.content[0].text, text.join(''));
  assert.equal(done.stop_reason, 'end_turn');
});

test('typed errors: AuthenticationError, NotFoundError, RateLimitError, APIError inside a stream', async () => {
  await assert.rejects(
    client('gk-not-a-real-key').messages.create({ model: 'claude/ok', max_tokens: 16, messages }),
    (e) => e instanceof Anthropic.AuthenticationError && e.status === 401 && e.error?.error?.type === 'authentication_error',
  );
  await assert.rejects(
    client().messages.create({ model: 'nowhere/does-not-exist', max_tokens: 16, messages }),
    (e) => e instanceof Anthropic.NotFoundError && e.status === 404,
  );
  // The provider's own 404 and 429, passed through in Anthropic's shape.
  await assert.rejects(
    client().messages.create({ model: 'claude/gone', max_tokens: 16, messages }),
    (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error',
  );
  await assert.rejects(
    client().messages.create({ model: 'claude/busy', max_tokens: 16, messages }),
    (e) => e instanceof Anthropic.RateLimitError && e.status === 429,
  );
  // An `event: error` inside a 200 stream: the SDK throws it.
  const stream = client().messages.stream({ model: 'claude/breaks', max_tokens: 16, messages });
  await assert.rejects(stream.finalMessage(), (e) => e instanceof Anthropic.APIError && /Overloaded/.test(e.message));
});
