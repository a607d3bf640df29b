// Part of scripts/build.mjs: the entry the Functions worker loads (dist/main.js), and the V8 code
// cache it loads the app with (dist/app.js.cache).
//
// At a cold start V8 must parse dist/app.js and compile every function the app runs while it
// registers its functions; that was about 40% of the time from the first line of app code to
// the last registration (measured: ~100 ms without the cache, ~55 ms with it). The build loads the app once in a fresh Node process, exactly as the
// entry below does, and saves V8's compiled code with `script.createCachedData()`. The entry
// hands that cache to `new vm.Script`, so V8 deserialises the code instead of compiling it.
//
// Safe by construction:
// - V8 checks the cache itself (its version, flags, source length) and, if it does not match,
//   ignores it and compiles normally (`cachedDataRejected`). V8 checks the source only by its
//   length, though, and verifies no checksum in release builds, so the entry also skips the cache
//   when its header does not match: another V8 build or architecture, another app.js (the
//   SHA-256 of the source it was made from) or damaged data (the SHA-256 of the data). So a cache
//   can only speed up the very code it was made from, never replace it. The two hashes cost ~1.5 ms.
// - With source maps enabled (`--enable-source-maps` / NODE_OPTIONS) it loads app.js with plain
//   `require`: Node maps stack traces only for modules it compiles itself.
// - NODE_DISABLE_COMPILE_CACHE=1 (the variable Node's own compile cache honours) turns it off.
// - `require` inside the app is this entry's own `require`, so a Module._load hook (the Functions
//   worker's, which supplies @azure/functions-core, or the offline host's) sees every request.
// The cache is tied to the V8 build of the Node that ran `npm run build` (process.versions.v8, which
// changes with most Node releases, and the V8 flags). azd builds locally (remoteBuild: false), so
// the cache only helps in Azure when the build machine runs the same Node 22 release as the
// Function App; with any other, the app loads exactly as it would without a cache.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const APP_FILE = 'app.js';
export const CACHE_FILE = `${APP_FILE}.cache`;
const FORMAT = 1;

// The app runs as a CommonJS module body, as Node's own loader wraps it. The wrapper head is a line
// of its own and the script starts at line -1, so line numbers are those of app.js.
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {\n';
const WRAPPER_TAIL = '\n})';

/** dist/main.js: what package.json `main` names and the worker loads. */
export function loaderSource() {
  return `'use strict';
// The app's entry (package.json "main"), written by scripts/build.mjs. It runs ${APP_FILE}, the
// bundled app, with the V8 code cache the build made for it (${CACHE_FILE}) when that cache fits
// this Node and this ${APP_FILE}, and loads it with plain require otherwise. module.codeCache tells
// which happened. See scripts/build-code-cache.mjs.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const appFile = join(__dirname, ${JSON.stringify(APP_FILE)});

function sourceMapsEnabled() {
  if (typeof process.sourceMapsEnabled === 'boolean') return process.sourceMapsEnabled;
  return [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\\s+/)].includes('--enable-source-maps');
}

function readCache() {
  let file;
  try {
    file = readFileSync(join(__dirname, ${JSON.stringify(CACHE_FILE)}));
  } catch {
    return { status: 'missing' };
  }
  try {
    const newline = file.indexOf(10);
    const header = JSON.parse(file.subarray(0, newline).toString('utf8'));
    if (header.format !== ${FORMAT} || header.v8 !== process.versions.v8 || header.arch !== process.arch) return { status: 'other-v8' };
    const { createHash } = require('node:crypto');
    const source = readFileSync(appFile);
    if (header.sha256 !== createHash('sha256').update(source).digest('hex')) return { status: 'other-source' };
    // V8 verifies no checksum of the data in release builds: a damaged file must not reach it.
    const data = file.subarray(newline + 1);
    if (header.dataSha256 !== createHash('sha256').update(data).digest('hex')) return { status: 'corrupt' };
    return { status: 'usable', source, data };
  } catch {
    return { status: 'unreadable' };
  }
}

/** Runs app.js with its code cache when the cache fits; returns what happened. */
function loadWithCache() {
  if (sourceMapsEnabled()) return 'source-maps';
  if (/^(1|true)$/i.test(process.env.NODE_DISABLE_COMPILE_CACHE || '')) return 'disabled';
  const cache = readCache();
  if (cache.status !== 'usable') return cache.status;
  const vm = require('node:vm');
  const script = new vm.Script(${JSON.stringify(WRAPPER_HEAD)} + cache.source.toString('utf8') + ${JSON.stringify(WRAPPER_TAIL)}, {
    filename: appFile,
    lineOffset: -1,
    cachedData: cache.data,
    importModuleDynamically: vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // Rejected by V8 (other V8 flags, say): V8 has compiled the source as usual, so run that.
  module.codeCache = script.cachedDataRejected ? 'rejected' : 'used';
  // An error thrown by the app itself propagates unchanged, as from require.
  script.runInThisContext().call(module.exports, module.exports, require, module, appFile, __dirname);
  return module.codeCache;
}

const status = loadWithCache();
if (status !== 'used' && status !== 'rejected') {
  // No usable cache: load app.js exactly as Node would without this entry.
  module.codeCache = status;
  module.exports = require(appFile);
}
`;
}

// Run in a fresh Node process by writeCodeCache: loads the app as the entry does, with a stand-in
// @azure/functions-core that counts registrations, then writes the cache with its header.
const GENERATOR = `'use strict';
const Module = require('node:module');
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const vm = require('node:vm');
const [appFile, cacheFile, head, tail, format] = process.argv.slice(1);
let registered = 0;
const functionsCore = {
  registerFunction() { registered += 1; return { dispose() {} }; },
  registerHook() { return { dispose() {} }; },
  setProgrammingModel() {},
  getProgrammingModel() { return undefined; },
  log() {},
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === '@azure/functions-core' ? functionsCore : load.call(this, request, ...rest);
};
const bytes = readFileSync(appFile);
const script = new vm.Script(head + bytes.toString('utf8') + tail, {
  filename: appFile,
  lineOffset: -1,
  importModuleDynamically: vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const module_ = { exports: {} };
script.runInThisContext().call(module_.exports, module_.exports, Module.createRequire(appFile), module_, appFile, dirname(appFile));
if (registered === 0) throw new Error('the app registered no functions');
const data = script.createCachedData();
const sha256 = (buffer) => createHash('sha256').update(buffer).digest('hex');
const header = { format: Number(format), node: process.version, v8: process.versions.v8, arch: process.arch, sha256: sha256(bytes), dataSha256: sha256(data), functions: registered };
writeFileSync(cacheFile, Buffer.concat([Buffer.from(JSON.stringify(header) + '\\n'), data]));
process.stdout.write(JSON.stringify(header));
`;

/**
 * Loads dist/app.js once in a fresh Node process (no NODE_OPTIONS: V8 flags are part of what the
 * cache must match) and writes dist/app.js.cache. Returns the cache's header.
 */
export function writeCodeCache(distDir) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const appFile = path.resolve(distDir, APP_FILE);
  const cacheFile = path.resolve(distDir, CACHE_FILE);
  const result = spawnSync(
    process.execPath,
    ['-e', GENERATOR, appFile, cacheFile, WRAPPER_HEAD, WRAPPER_TAIL, String(FORMAT)],
    {
      cwd: distDir,
      env,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0)
    throw new Error(`code cache: loading ${APP_FILE} failed:\n${result.stderr || result.stdout}`);
  const header = JSON.parse(result.stdout.trim().split('\n').pop());
  if (readFileSync(cacheFile).length === 0) throw new Error('code cache: empty file');
  return header;
}
