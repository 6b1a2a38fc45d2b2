// The official OpenAI SDK (npm "openai") calling an Anthropic-backed model through Gatehouse: the
// gateway translates chat completions to Anthropic Messages (mock_upstream's Anthropic dialect) and
// back, streaming and with tools.
//
//   GATEHOUSE_BIN=build/gatehouse MOCK_UPSTREAM_BIN=build/tests/mock/mock_upstream node --test openai-anthropic.test.mjs
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { UPSTREAM_KEY, WEATHER_SCHEMA, mockModel, mockProvider, startStack } from './harness.mjs';

const KEY = 'gk-sdk-openai-anthropic-0123456789';

let stack;
const client = () => new OpenAI({ apiKey: KEY, baseURL: `${stack.gatewayUrl}/v1`, maxRetries: 0, timeout: 20_000 });

before(async () => {
  stack = await startStack((mockUrl) => ({
    providers: [mockProvider(mockUrl, 'claude', 'anthropic')],
    models: [
      mockModel('claude/ok', 'claude', 'ok@p=40,c=6,cache_read=10,cache_write=4'),
      mockModel('claude/seven', 'claude', 'ok@chunks=7,p=40,cache_read=10,cache_write=4'),
      mockModel('claude/breaks', 'claude', 'error-in-stream@after=2'),
      mockModel('claude/gone', 'claude', 'fail-404'),
    ],
    keys: [{ name: 'sdk-openai-anthropic', secret: KEY }],
  }));
});

after(async () => {
  if (stack) await stack.stop();
});

beforeEach(async () => {
  await stack.resetUpstream();
});

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is the weather in Paris?' },
];
const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: WEATHER_SCHEMA } }];

test('non-streaming chat on an Anthropic model: content, usage incl. cached tokens, cost', async () => {
  const { data, response } = await client().chat.completions.create({ model: 'claude/ok', messages }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.ok(data.choices[0].message.content.startsWith('Hello'));
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.equal(data.usage.prompt_tokens, 54); // 40 uncached + 10 cache reads + 4 cache writes
  assert.equal(data.usage.prompt_tokens_details.cached_tokens, 10);
  assert.equal(data.usage.completion_tokens, 6);
  assert.equal(Number(response.headers.get('x-gatehouse-cost-usd')), 0.000228);

  const [received] = await stack.upstreamRequests();
  assert.equal(received.path, '/v1/messages');
  assert.equal(received.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(received.headers.authorization, undefined);
  const sent = JSON.parse(received.body);
  assert.equal(sent.max_tokens, 8192, 'the model\'s maximum when the client gives none');
  assert.ok(!sent.messages.some((m) => m.role === 'system'), 'the system prompt moved to the top level');
});

test('streaming chat with tools on an Anthropic model: text, one tool call with a stable id, usage', async () => {
  const stream = await client().chat.completions.create({
    model: 'claude/seven', messages, tools, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  const calls = new Map();
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta?.content ?? '';
      for (const tc of choice.delta?.tool_calls ?? []) {
        const call = calls.get(tc.index) ?? { ids: [], name: '', args: '' };
        if (tc.id) call.ids.push(tc.id);
        if (tc.function?.name) call.name += tc.function.name;
        call.args += tc.function?.arguments ?? '';
        calls.set(tc.index, call);
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.equal(text, 'Hello from the mock upstream with a');
  assert.equal(calls.size, 1);
  const call = calls.get(0);
  assert.equal(call.ids.length, 1, 'the id arrives once, on the first chunk of the call');
  assert.match(call.ids[0], /^toolu_/);
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.args), { city: 'Paris', unit: 'celsius' });
  assert.equal(finish, 'tool_calls');
  assert.ok(usage, 'the usage chunk was delivered');
  assert.equal(usage.prompt_tokens, 54);
  assert.equal(usage.completion_tokens, 7);

  // The next turn: the SDK's tool call and result go back; Anthropic receives the same id in
  // tool_use and tool_result (the mock rejects a mismatch as Anthropic does).
  const next = await client().chat.completions.create({
    model: 'claude/ok', tools, tool_choice: 'none',
    messages: [...messages,
      { role: 'assistant', content: text, tool_calls: [{ id: call.ids[0], type: 'function', function: { name: call.name, arguments: call.args } }] },
      { role: 'tool', tool_call_id: call.ids[0], content: '18 degrees and sunny' }],
  });
  assert.equal(next.choices[0].finish_reason, 'stop');
  const sent = JSON.parse((await stack.upstreamRequests()).at(-1).body);
  const toolUse = sent.messages[1].content.find((b) => b.type === 'tool_use');
  const toolResult = sent.messages[2].content.find((b) => b.type === 'tool_result');
  assert.equal(toolUse.id, call.ids[0]);
  assert.equal(toolResult.tool_use_id, call.ids[0]);
});

test('non-streaming tool call on an Anthropic model', async () => {
  const res = await client().chat.completions.create({ model: 'claude/ok', messages, tools, tool_choice: 'required' });
  assert.equal(res.choices[0].finish_reason, 'tool_calls');
  const [call] = res.choices[0].message.tool_calls;
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', unit: 'celsius' });
  const sent = JSON.parse((await stack.upstreamRequests()).at(-1).body);
  assert.equal(sent.tool_choice.type, 'any');
});

test('errors on an Anthropic model: typed exception, and an error inside the stream', async () => {
  await assert.rejects(
    client().chat.completions.create({ model: 'claude/gone', messages }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404,
  );
  const stream = await client().chat.completions.create({ model: 'claude/breaks', messages, stream: true });
  await assert.rejects(async () => {
    for await (const chunk of stream) void chunk;
  }, (e) => e instanceof OpenAI.APIError && /Overloaded/.test(e.message));
});
