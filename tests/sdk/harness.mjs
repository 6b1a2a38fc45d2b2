// Shared by the SDK tests (openai.test.mjs uses its process helpers): starts mock_upstream and a headless
// gatehouse (paths from MOCK_UPSTREAM_BIN and GATEHOUSE_BIN, as CTest sets them) with a config made
// from the mock's URL, and stops both. Not a test file itself (node --test runs *.test.mjs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const START_TIMEOUT_MS = 30_000;
export const UPSTREAM_KEY = 'sk-upstream-sdk-anthropic-test';

export function requireEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (CTest sets it; see tests/sdk/CMakeLists.txt)`);
  return value;
}

// Spawns `bin args` and resolves once a stdout line matches `ready` (group 1 is the URL).
export function startProcess(name, bin, args, ready, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${name}: ${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = stdout.match(ready);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        child.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
        child.stderrText = () => stderr;
        resolve({ child, url: m[1] });
      }
    });
    child.once('error', (e) => fail(`cannot start ${bin}: ${e.message}`));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
}

// Starts the mock, then the gateway with makeConfig(mockUrl) as its config (and gatewayArgs after
// its own arguments, e.g. ['--paused']). Returns
// { gatewayUrl, mockUrl, dataDir, upstreamRequests(), resetUpstream(), stop() }.
export async function startStack(makeConfig, { gatewayArgs = [] } = {}) {
  const gatehouseBin = requireEnv('GATEHOUSE_BIN');
  const mockBin = requireEnv('MOCK_UPSTREAM_BIN');
  const workDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sdk-'));
  const processes = [];
  const stop = async () => {
    for (const p of processes.reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.child.exited;
      }
    }
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const mock = await startProcess('mock_upstream', mockBin, [], /mock upstream listening on (http:\/\/127\.0\.0\.1:\d+)/);
    processes.push(mock);
    const configFile = path.join(workDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(makeConfig(mock.url), null, 2));
    const gateway = await startProcess('gatehouse', gatehouseBin,
      ['--headless', '--port', '0', '--data-dir', path.join(workDir, 'data'), '--config', configFile, ...gatewayArgs],
      /Gatehouse gateway listening on (http:\/\/127\.0\.0\.1:\d+)/,
      { GATEHOUSE_SDK_TEST_UPSTREAM_KEY: UPSTREAM_KEY, GATEHOUSE_NO_KEYCHAIN: '1' });
    processes.push(gateway);
    return {
      gatewayUrl: gateway.url,
      mockUrl: mock.url,
      dataDir: path.join(workDir, 'data'),
      // What mock_upstream received, oldest first.
      async upstreamRequests() {
        const res = await fetch(`${mock.url}/_mock/requests`);
        if (res.status !== 200) throw new Error(`/_mock/requests: HTTP ${res.status}`);
        return res.json();
      },
      async resetUpstream() {
        const res = await fetch(`${mock.url}/_mock/reset`, { method: 'POST' });
        if (res.status !== 200) throw new Error(`/_mock/reset: HTTP ${res.status}`);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

// A provider entry on the mock: format "anthropic" | "openai" | "gemini".
export function mockProvider(mockUrl, id, format) {
  const base = format === 'gemini' ? `${mockUrl}/v1beta` : `${mockUrl}/v1`;
  return { id, format, base_url: base, api_key_env: 'GATEHOUSE_SDK_TEST_UPSTREAM_KEY' };
}

// Claude Sonnet 4.5's prices (USD per million tokens), cache writes at 1.25x and 2x input.
export const PRICE = { input: 3.0, output: 15.0, cache_read: 0.3, cache_write: 3.75, cache_write_1h: 6.0 };

export function mockModel(id, provider, upstream) {
  return { id, provider, upstream_model: upstream, pricing: PRICE, context_window: 200000, max_output_tokens: 8192 };
}

export const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city'],
};
