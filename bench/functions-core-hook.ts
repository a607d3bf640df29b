/**
 * Supplies `@azure/functions-core` (the module the Functions worker provides) from the engine's
 * stand-in, so the app's registrations are captured when the bench loads it in-process. Jest does
 * the same with moduleNameMapper. Import this module before anything that loads the app.
 */
import Module from 'node:module';
import path from 'node:path';

const FUNCTIONS_CORE = path.resolve(__dirname, '../local/engine/functions-core.ts');

type ResolveFilename = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: ResolveFilename };
const original = moduleInternals._resolveFilename;

moduleInternals._resolveFilename = function resolveFilename(
  this: unknown,
  request: string,
  ...rest: unknown[]
): string {
  if (request === '@azure/functions-core') return FUNCTIONS_CORE;
  return original.call(this, request, ...rest);
};
