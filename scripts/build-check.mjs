// Checks a finished build (`npm run build`, then `node scripts/build-check.mjs`). Each check runs
// in a fresh Node process that loads dist/main.js as the Functions worker does, with
// @azure/functions-core supplied by a Module._load hook, and with no Azure service to talk to:
//
//   load           main.js registers the app's functions, with the code cache used
//   cosmos         an activity that writes to Cosmos DB, against a local endpoint nobody listens on:
//                  app.js's lazy require loads vendor/cosmos.js, a client is constructed and the
//                  request fails with a connection error, not a missing module
//   identity       the same with a cloud endpoint: vendor/identity.js loads for the credential
//   storage-queue  vendor/storage-queue.js builds a queue client from a connection string and
//                  fails to connect
//   isolated       a copy of dist/ in a folder with no node_modules anywhere above it loads, and its
//                  vendor files load lazily, as in Azure: nothing the bundle needs resolves from
//                  this repository's node_modules by accident
//   fallbacks      a corrupt cache, a cache for another app.js, no cache, source maps enabled and
//                  NODE_DISABLE_COMPILE_CACHE all still load the app, without that cache
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DIST = path.resolve('dist');
const CLOSED = 'http://127.0.0.1:9'; // the discard port: nothing listens on it here

// Runs in the child: loads the entry, then the scenario named in argv, and prints one JSON line.
const PROBE = `'use strict';
const Module = require('node:module');
const [entry, scenario] = process.argv.slice(1);
const functions = new Map();
const functionsCore = {
  registerFunction(metadata, handler) { functions.set(metadata.name, handler); return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  setProgrammingModel() {},
  getProgrammingModel() { return undefined; },
  log() {},
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? functionsCore : load.call(this, request, ...rest);
};
const loaded = (name) => Object.keys(require.cache).some((file) => file.endsWith(require('node:path').sep + name));
const report = (result) => {
  process.stdout.write(JSON.stringify({ functions: functions.size, codeCache: require.cache[entry].codeCache, ...result }) + '\\n');
  process.exit(0);
};
const context = { invocationId: 'build-check', functionName: 'build-check', options: {}, log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const settle = (promise, ms) => Promise.race([
  // An activity answers a fault it does not retry as a defect value (src/libs/activity.ts): reported as such.
  promise.then((value) => (value && /ActivityDefect/.test(value.type) ? { outcome: 'defect', error: String(value.reason).slice(0, 200) } : { outcome: 'resolved' }), (error) => ({ outcome: 'rejected', error: String(error && (error.code || error.message) || error).slice(0, 200) })),
  new Promise((resolve) => setTimeout(() => resolve({ outcome: 'pending' }), ms)),
]);

require(entry);
(async () => {
  if (scenario === 'cosmos' || scenario === 'identity') {
    const input = { orderId: 'build-check', correlationId: 'build-check', reason: 'check', failed: [{ name: 'refundPayment', activity: 'refundPayment', input: {}, error: 'x' }], deadLetteredAt: new Date(0).toISOString() };
    const result = await settle(Promise.resolve().then(() => functions.get('deadLetterOrder')(input, context)), 3000);
    return report({ ...result, cosmos: loaded('vendor/cosmos.js'), identity: loaded('vendor/identity.js'), queue: loaded('vendor/storage-queue.js') });
  }
  if (scenario === 'storage-queue') {
    const { QueueServiceClient } = require(require('node:path').join(require('node:path').dirname(entry), 'vendor/storage-queue.js'));
    const service = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage, { retryOptions: { maxTries: 1 } });
    const result = await settle(service.getQueueClient('build-check').createIfNotExists(), 3000);
    return report({ ...result, queue: loaded('vendor/storage-queue.js') });
  }
  report({});
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
`;

function probe(entry, scenario, { env = {}, args = [] } = {}) {
  const childEnv = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  delete childEnv.NODE_PATH;
  for (const name of ['COSMOS_ENDPOINT', 'COSMOS_KEY', 'AzureWebJobsStorage'])
    if (!(name in env)) delete childEnv[name];
  const result = spawnSync(process.execPath, [...args, '-e', PROBE, entry, scenario], {
    cwd: path.dirname(entry),
    env: childEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = (result.stdout ?? '').trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${scenario}: the probe failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  }
}

/** The nearest node_modules folder in `dir` or above it, if any. */
function nodeModulesAbove(dir) {
  for (let current = dir; ; current = path.dirname(current)) {
    if (existsSync(path.join(current, 'node_modules'))) return path.join(current, 'node_modules');
    if (path.dirname(current) === current) return undefined;
  }
}

const failures = [];
function check(name, condition, detail) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${name}: ${JSON.stringify(detail)}`);
  if (!condition) failures.push(name);
}

const entry = path.join(DIST, 'main.js');
const base = probe(entry, 'load');
check('load', base.functions > 0 && base.codeCache === 'used', base);

const cosmos = probe(entry, 'cosmos', { env: { COSMOS_ENDPOINT: CLOSED } });
check(
  'cosmos',
  cosmos.functions === base.functions &&
    cosmos.cosmos &&
    cosmos.outcome !== 'resolved' &&
    !/MODULE_NOT_FOUND/.test(cosmos.error ?? ''),
  cosmos,
);

const identity = probe(entry, 'identity', {
  env: {
    COSMOS_ENDPOINT: 'https://build-check.documents.azure.com:443/',
    ORDERS_IDENTITY_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  },
});
check(
  'identity',
  identity.cosmos &&
    identity.identity &&
    identity.outcome !== 'resolved' &&
    !/MODULE_NOT_FOUND/.test(identity.error ?? ''),
  identity,
);

const connection = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('build-check').toString('base64')};QueueEndpoint=${CLOSED}/devstoreaccount1;`;
const queue = probe(entry, 'storage-queue', { env: { AzureWebJobsStorage: connection } });
check(
  'storage-queue',
  queue.queue && queue.outcome !== 'resolved' && !/MODULE_NOT_FOUND/.test(queue.error ?? ''),
  queue,
);

// The fallbacks, on a copy of dist/ so the build itself stays untouched.
const copy = mkdtempSync(path.join(os.tmpdir(), 'build-check-'));
try {
  cpSync(DIST, copy, { recursive: true });
  const copyEntry = path.join(copy, 'main.js');

  const above = nodeModulesAbove(copy);
  check('isolated: no node_modules above the copy', above === undefined, { copy, nodeModules: above });
  const isolated = probe(copyEntry, 'load');
  check('isolated: load', isolated.functions === base.functions && isolated.codeCache === 'used', isolated);
  const isolatedCosmos = probe(copyEntry, 'cosmos', { env: { COSMOS_ENDPOINT: CLOSED } });
  check(
    'isolated: cosmos',
    isolatedCosmos.cosmos &&
      isolatedCosmos.outcome !== 'resolved' &&
      !/MODULE_NOT_FOUND/.test(isolatedCosmos.error ?? ''),
    isolatedCosmos,
  );
  const isolatedIdentity = probe(copyEntry, 'identity', {
    env: {
      COSMOS_ENDPOINT: 'https://build-check.documents.azure.com:443/',
      ORDERS_IDENTITY_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
    },
  });
  check(
    'isolated: identity',
    isolatedIdentity.identity && !/MODULE_NOT_FOUND/.test(isolatedIdentity.error ?? ''),
    isolatedIdentity,
  );
  const isolatedQueue = probe(copyEntry, 'storage-queue', { env: { AzureWebJobsStorage: connection } });
  check(
    'isolated: storage-queue',
    isolatedQueue.queue && isolatedQueue.outcome !== 'resolved' && !/MODULE_NOT_FOUND/.test(isolatedQueue.error ?? ''),
    isolatedQueue,
  );

  const cacheFile = path.join(copy, 'app.js.cache');
  const appFile = path.join(copy, 'app.js');
  const cache = readFileSync(cacheFile);
  const app = readFileSync(appFile);
  const expect = (name, result, status) =>
    check(`fallback: ${name}`, result.functions === base.functions && result.codeCache === status, result);

  expect('source maps enabled', probe(copyEntry, 'load', { args: ['--enable-source-maps'] }), 'source-maps');
  expect(
    'NODE_DISABLE_COMPILE_CACHE=1',
    probe(copyEntry, 'load', { env: { NODE_DISABLE_COMPILE_CACHE: '1' } }),
    'disabled',
  );
  expect(
    'V8 flags that differ from the build',
    probe(copyEntry, 'load', { args: ['--max-semi-space-size=64'] }),
    'rejected',
  );

  const newline = cache.indexOf(10);
  const corrupt = Buffer.from(cache);
  corrupt[newline + 1 + Math.floor((corrupt.length - newline) / 2)] ^= 0xff; // V8 itself would not notice
  writeFileSync(cacheFile, corrupt);
  expect('damaged cache data', probe(copyEntry, 'load'), 'corrupt');

  // Same length, another source: V8 alone would accept this cache (it checks only the length).
  writeFileSync(cacheFile, cache);
  const edited = Buffer.from(app);
  const at = edited.indexOf('order validated');
  if (at < 0) throw new Error('cannot find the text to edit in app.js');
  edited.write('order Validated', at);
  writeFileSync(appFile, edited);
  expect('cache made for another app.js', probe(copyEntry, 'load'), 'other-source');

  copyFileSync(path.join(DIST, 'app.js'), appFile);
  const header = JSON.parse(cache.subarray(0, newline).toString('utf8'));
  writeFileSync(
    cacheFile,
    Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, v8: '0.0.0' })}\n`), cache.subarray(newline + 1)]),
  );
  expect('cache made by another Node (V8)', probe(copyEntry, 'load'), 'other-v8');

  rmSync(cacheFile);
  expect('no cache', probe(copyEntry, 'load'), 'missing');
} finally {
  rmSync(copy, { recursive: true, force: true });
}

console.log(
  failures.length === 0
    ? 'build-check: all checks passed'
    : `build-check: ${failures.length} failed: ${failures.join(', ')}`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
