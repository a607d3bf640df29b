// Preloaded (`node -r`) into each cold-load probe process, bundled or not. It plays the Functions
// worker's part: it supplies `@azure/functions-core`, so the app's registrations succeed, and it
// notes the time of each registration. At exit it prints one JSON line: how many functions were
// registered and when the last one was, in ms since the process started (performance.timeOrigin).
'use strict';
const Module = require('node:module');
const { performance } = require('node:perf_hooks');

// Node's own start-up ends about here: the first user code it runs.
const preloadAtMs = performance.now();

const registered = [];
const functionsCore = {
  registerFunction(metadata) {
    registered.push({ name: metadata.name, at: performance.now() });
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  setProgrammingModel() {},
  getProgrammingModel() {
    return undefined;
  },
  log() {},
};

const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === '@azure/functions-core') return functionsCore;
  return load.call(this, request, ...rest);
};

process.on('exit', () => {
  const last = registered.length === 0 ? null : registered[registered.length - 1].at;
  process.stdout.write(
    `${JSON.stringify({
      functions: registered.length,
      names: registered.map((entry) => entry.name).sort(),
      preloadAtMs,
      registeredAtMs: last,
      exitAtMs: performance.now(),
      modules: Object.keys(require.cache).length,
    })}\n`,
  );
});
