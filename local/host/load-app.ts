/**
 * Loads the app the way the Functions worker does: through package.json `main` (the bundle in
 * dist/), with `@azure/functions-core` supplied by the host. The worker provides that module to
 * `@azure/functions`; here local/engine/functions-core.ts stands in and captures every registration.
 */
import type { AxiosStatic } from 'axios';
import { existsSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import * as functionsCore from '../engine/functions-core';
import { durableFunctionsAxios } from '../engine/in-process-client';
import { loadRegistry, type FunctionRegistry } from '../engine/registry';

type ModuleLoader = { _load(request: string, parent: unknown, isMain: boolean): unknown };

let hooked = false;

/** Makes `require('@azure/functions-core')` answer with the stand-in, for the whole process. */
export function provideFunctionsCore(): void {
  if (hooked) return;
  hooked = true;
  const loader = Module as unknown as ModuleLoader;
  const load = loader._load;
  loader._load = function (request, parent, isMain) {
    if (request === '@azure/functions-core') return functionsCore;
    return load.call(this, request, parent, isMain);
  };
}

export function loadApp(entry: string): FunctionRegistry {
  if (!existsSync(entry))
    throw new Error(`The app's entry ${entry} does not exist: run \`npm run build\` first (npm start does)`);
  provideFunctionsCore();
  // The app registers its functions while it loads, as it does in the worker.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(entry);
  const registry = loadRegistry(functionsCore.capturedFunctions().values());
  if (registry.http.length === 0 && registry.orchestrations.size === 0)
    throw new Error(`${entry} registered no functions`);
  return registry;
}

/**
 * The axios module the app's durable client sends its calls with. The bundle carries its own copy,
 * dist/vendor/axios.js beside its entry, which it loads on first use (scripts/build-lazy.mjs); an
 * app run from source (tsx) uses the one its durable-functions resolves.
 */
export function appAxios(entry: string): AxiosStatic {
  const vendored = join(dirname(entry), 'vendor', 'axios.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return existsSync(vendored) ? (require(vendored) as AxiosStatic) : durableFunctionsAxios(dirname(entry));
}
