// Writes resources/genai-prices.json (and its licence beside it) from the pinned @pydantic/genai-prices
// package. Nobody types prices: to move to newer data, bump the pinned version in package.json, run
// `npm ci && node update-prices.mjs` here, and commit the data file with the package's licence.
//
// The output keeps the package's own provider list untouched (the same shape as the project's
// data.json that `gatehouse catalog update` fetches), wrapped with where and when it came from.
import { readFileSync, writeFileSync, renameSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { waitForUpdate, REMOTE_DATA_JSON_URL } from '@pydantic/genai-prices';

const here = dirname(fileURLToPath(import.meta.url));
const resources = join(here, '..', '..', 'resources');
const require = createRequire(import.meta.url);
const pkgDir = dirname(dirname(require.resolve('@pydantic/genai-prices')));
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

// With no update source registered, waitForUpdate() resolves to the data embedded in the package.
const providers = await waitForUpdate();
if (!Array.isArray(providers) || providers.length === 0)
  throw new Error('the package did not yield its provider data');
let models = 0;
for (const p of providers) {
  if (typeof p.id !== 'string' || !Array.isArray(p.models))
    throw new Error(`unexpected provider entry: ${JSON.stringify(p).slice(0, 200)}`);
  models += p.models.length;
}

const out = {
  source: `npm:${pkg.name}@${pkg.version}`,
  license: 'MIT (see genai-prices.LICENSE)',
  homepage: pkg.homepage,
  remote_url: REMOTE_DATA_JSON_URL,
  // The package carries no date of its own data; the extraction date stands for it.
  taken_on: process.env.GATEHOUSE_PRICES_DATE || new Date().toISOString().slice(0, 10),
  providers,
};
const target = join(resources, 'genai-prices.json');
writeFileSync(target + '.tmp', JSON.stringify(out) + '\n');
renameSync(target + '.tmp', target);
copyFileSync(join(pkgDir, 'LICENSE'), join(resources, 'genai-prices.LICENSE'));
console.log(`${out.source}: ${providers.length} providers, ${models} models -> ${target}`);
