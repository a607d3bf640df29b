/**
 * Sorts the functions the app registered (captured by local/engine/functions-core.ts) into what the
 * engine drives: orchestrations, activities and HTTP triggers.
 */
import type { InvocationContext } from '@azure/functions';
import { capturedFunctions, type CapturedFunction } from './functions-core';

type Binding = CapturedFunction['metadata']['bindings'][string];

/** What `InvocationContext.options` holds, rebuilt from core metadata as the worker does. */
export interface ContextOptions {
  trigger: { name: string; type: string; [key: string]: unknown };
  return?: { name: string; type: string; [key: string]: unknown };
  extraInputs: { name: string; type: string; [key: string]: unknown }[];
  extraOutputs: { name: string; type: string; [key: string]: unknown }[];
}

export type OrchestratorHandler = (triggerInput: unknown, context: InvocationContext) => Promise<unknown>;
export type ActivityHandler = (input: unknown, context: InvocationContext) => unknown;
export type HttpHandler = (request: unknown, context: InvocationContext) => unknown;

export interface RegisteredFunction<H> {
  name: string;
  options: ContextOptions;
  handler: H;
}

export interface HttpFunction extends RegisteredFunction<HttpHandler> {
  /** The route template without the `api/` prefix, e.g. `orders/{orderId}`. */
  route: string;
  /** Upper-case methods; empty means every method. */
  methods: string[];
}

export type QueueHandler = (message: unknown, context: InvocationContext) => unknown;

export interface QueueFunction extends RegisteredFunction<QueueHandler> {
  queueName: string;
  /** The app setting that names the storage (AzureWebJobsStorage unless given). */
  connection: string;
}

export interface FunctionRegistry {
  orchestrations: Map<string, RegisteredFunction<OrchestratorHandler>>;
  activities: Map<string, RegisteredFunction<ActivityHandler>>;
  http: HttpFunction[];
  queues: QueueFunction[];
}

const isTriggerType = (type: string) => /trigger$/i.test(type);

/** Mirrors the worker's fromRpcBindings: the trigger, the `$return` binding, extra inputs and outputs. */
export function contextOptionsOf(metadata: CapturedFunction['metadata']): ContextOptions {
  const options: Partial<ContextOptions> & Pick<ContextOptions, 'extraInputs' | 'extraOutputs'> = {
    extraInputs: [],
    extraOutputs: [],
  };
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    const named = { ...binding, name, type: binding.type };
    if (isTriggerType(binding.type)) options.trigger = named;
    else if (name === '$return') options.return = named;
    else if (binding.direction === 'in') options.extraInputs.push(named);
    else options.extraOutputs.push(named);
  }
  if (!options.trigger) throw new Error(`Function "${metadata.name}" has no trigger binding`);
  return options as ContextOptions;
}

function triggerOf(fn: CapturedFunction): Binding {
  const trigger = Object.values(fn.metadata.bindings).find((binding) => isTriggerType(binding.type));
  if (!trigger) throw new Error(`Function "${fn.name}" has no trigger binding`);
  return trigger;
}

export function loadRegistry(captured: Iterable<CapturedFunction> = capturedFunctions().values()): FunctionRegistry {
  const registry: FunctionRegistry = { orchestrations: new Map(), activities: new Map(), http: [], queues: [] };
  for (const fn of captured) {
    const trigger = triggerOf(fn);
    const base = { name: fn.name, options: contextOptionsOf(fn.metadata) };
    switch (trigger.type.toLowerCase()) {
      case 'orchestrationtrigger':
        registry.orchestrations.set(fn.name, { ...base, handler: fn.handler as OrchestratorHandler });
        break;
      case 'activitytrigger':
        registry.activities.set(fn.name, { ...base, handler: fn.handler as ActivityHandler });
        break;
      case 'httptrigger': {
        const route = typeof trigger.route === 'string' ? trigger.route : fn.name;
        const methods = Array.isArray(trigger.methods)
          ? trigger.methods.map((method) => String(method).toUpperCase())
          : [];
        registry.http.push({
          ...base,
          handler: fn.handler as HttpHandler,
          route: route.replace(/^\/+|\/+$/g, ''),
          methods,
        });
        break;
      }
      case 'queuetrigger':
        registry.queues.push({
          ...base,
          handler: fn.handler as QueueHandler,
          queueName: String(trigger.queueName),
          connection:
            typeof trigger.connection === 'string' && trigger.connection ? trigger.connection : 'AzureWebJobsStorage',
        });
        break;
      default:
        // Timer, entity … triggers have no host here; they are simply not invoked.
        break;
    }
  }
  return registry;
}
