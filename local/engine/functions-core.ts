/**
 * Stands in for `@azure/functions-core`, the module the Functions worker provides to
 * `@azure/functions`. Outside the worker that module is missing and the app's registrations are
 * skipped; supplying it (a jest moduleNameMapper, or a Module._load hook in the offline host)
 * lets the engine capture every `registerFunction(metadata, handler)` the app makes.
 */
export interface CapturedFunction {
  name: string;
  /** The core (RPC-shaped) metadata: `bindings` keyed by binding name, each with `type` and `direction`. */
  metadata: {
    name: string;
    bindings: Record<string, { type: string; direction: string; [key: string]: unknown }>;
    [key: string]: unknown;
  };
  handler: (...args: unknown[]) => unknown;
}

type Registry = Map<string, CapturedFunction>;
const REGISTRY = Symbol.for('durable-order-saga.functions-core.registry');
const globalSlot = globalThis as unknown as Record<symbol, Registry | undefined>;

/** All functions registered in this module scope (a jest test file, or the host process). */
export function capturedFunctions(): Registry {
  return (globalSlot[REGISTRY] ??= new Map());
}

export function registerFunction(metadata: CapturedFunction['metadata'], handler: CapturedFunction['handler']) {
  const registry = capturedFunctions();
  if (registry.has(metadata.name)) throw new Error(`A function named "${metadata.name}" is already registered`);
  registry.set(metadata.name, { name: metadata.name, metadata, handler });
  return { dispose: () => registry.delete(metadata.name) };
}

// The worker's hooks and programming-model switch have no meaning here; accepting them keeps
// `@azure/functions` on its normal (non test-mode) path.
export function registerHook() {
  return { dispose: () => undefined };
}
export function setProgrammingModel(): void {}
export function getProgrammingModel(): undefined {
  return undefined;
}
export function log(): void {}
