/**
 * A small evaluator of compiled ARM templates (what `bicep build` emits), for tests. It plays a
 * deployment offline: parameters, variables, copy loops, conditions, nested deployments (modules)
 * and their outputs, symbolic names (languageVersion 2.0) and the template functions the Bicep
 * compiler emits. What only Azure knows at deploy time (a `reference()` to a resource that is not a
 * nested deployment, e.g. an identity's principalId) comes out as a readable placeholder:
 *   <<reference(/subscriptions/.../userAssignedIdentities/id-orders-xyz).principalId>>
 * An unknown template function, or an unknown value where a known one is needed (a condition, a
 * name), throws: the tests then fail instead of asserting over a half-evaluated template.
 */
import { createHash } from 'node:crypto';

export const SUBSCRIPTION_ID = '00000000-0000-0000-0000-00000000feed';
export const TENANT_ID = '00000000-0000-0000-0000-0000000face0';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

/** A value only Azure knows at deploy time. */
export class Unknown {
  constructor(readonly text: string) {}
  toString(): string {
    return `<<${this.text}>>`;
  }
}

/** Placeholder text of `reference(<resource id>).<path>` (what assertions compare against). */
export function ref(resourceId: string, ...path: string[]): string {
  return new Unknown([`reference(${resourceId})`, ...path].join('.')).toString();
}

interface Lambda {
  kind: 'lambda';
  params: string[];
  body: Node;
}

type Node =
  | { t: 'lit'; v: string | number }
  | { t: 'call'; name: string; args: Node[] }
  | { t: 'prop'; target: Node; name: string }
  | { t: 'index'; target: Node; index: Node };

// ---------------------------------------------------------------------------------------------
// Expression parser: [fn('a', 1).prop[expr]]

export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('[') && value.endsWith(']') && !value.startsWith('[[');
}

export function parseExpression(source: string): Node {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(`ARM expression: ${what} at ${pos} in ${source}`);
  };
  const skip = () => {
    while (pos < source.length && /\s/.test(source[pos]!)) pos++;
  };
  const expect = (ch: string) => {
    skip();
    if (source[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };
  const primary = (): Node => {
    skip();
    const ch = source[pos];
    if (ch === "'") {
      let text = '';
      pos++;
      for (;;) {
        if (pos >= source.length) fail('unterminated string');
        if (source[pos] === "'") {
          if (source[pos + 1] === "'") {
            text += "'";
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        text += source[pos++];
      }
      return { t: 'lit', v: text };
    }
    const num = /^-?\d+/.exec(source.slice(pos));
    if (num) {
      pos += num[0].length;
      return { t: 'lit', v: Number(num[0]) };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(source.slice(pos));
    if (!ident) return fail('expected a value');
    pos += ident[0].length;
    expect('(');
    const args: Node[] = [];
    skip();
    if (source[pos] === ')') pos++;
    else {
      for (;;) {
        args.push(expression());
        skip();
        if (source[pos] === ',') {
          pos++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { t: 'call', name: ident[0], args };
  };
  const expression = (): Node => {
    let node = primary();
    for (;;) {
      skip();
      if (source[pos] === '.') {
        pos++;
        const name = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(pos));
        if (!name) fail('expected a property name');
        pos += name![0].length;
        node = { t: 'prop', target: node, name: name![0] };
      } else if (source[pos] === '[') {
        pos++;
        const index = expression();
        expect(']');
        node = { t: 'index', target: node, index };
      } else {
        return node;
      }
    }
  };
  const node = expression();
  skip();
  if (pos !== source.length) fail('trailing text');
  return node;
}

// ---------------------------------------------------------------------------------------------
// Deployment model

export interface DeployedResource {
  type: string;
  apiVersion: string;
  /** Full name, e.g. "cosmos-x/orders" for a child resource. */
  name: string;
  id: string;
  /** Scope (full resource id) of an extension resource such as a role assignment. */
  scope?: string;
  location?: string;
  kind?: string;
  sku?: Json;
  tags?: Json;
  identity?: Json;
  properties?: Json;
  /** Names of the nested deployments this resource sits in, outermost first. */
  deploymentPath: string[];
}

export interface Evaluation {
  resources: DeployedResource[];
  outputs: Record<string, Json>;
  /** Every nested deployment (module) that runs, with its evaluated parameters and outputs. */
  deployments: { name: string; path: string[]; parameters: Record<string, Json>; outputs: Record<string, Json> }[];
}

interface Scope {
  subscriptionId: string;
  resourceGroup?: string;
  location: string;
}

interface Frame {
  template: Json;
  scope: Scope;
  params: Record<string, Json>;
  path: string[];
  variables: Map<string, Json>;
  evaluatingVariables: Set<string>;
  /** Resource instances by symbolic name (languageVersion 2.0) and all instances (any version). */
  instances: Instance[];
  deploymentName: string;
}

interface Instance {
  symbol?: string;
  def: Json;
  copy?: { name: string; index: number };
  frame: Frame;
  id?: string;
  name?: string;
  condition?: boolean;
  outputs?: Record<string, Json>;
  evaluatingOutputs?: boolean;
}

interface Ctx {
  frame: Frame;
  copy: Map<string, number>;
  lambdas: Map<string, Json>;
}

function hash(parts: unknown[], algorithm = 'sha256'): Buffer {
  return createHash(algorithm)
    .update(parts.map((part) => String(part)).join('\u0000'))
    .digest();
}

function uniqueString(args: unknown[]): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = hash(args);
  let out = '';
  for (let i = 0; i < 13; i++) out += alphabet[bytes[i]! % 32];
  return out;
}

function guid(args: unknown[]): string {
  const h = hash(args, 'sha1').toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function typeSegments(type: string): { namespace: string; types: string[] } {
  const [namespace, ...types] = type.split('/');
  if (!namespace || types.length === 0) throw new Error(`not a resource type: ${type}`);
  return { namespace, types };
}

function providerPath(type: string, names: string[]): string {
  const { namespace, types } = typeSegments(type);
  if (types.length !== names.length)
    throw new Error(`resource type ${type} needs ${types.length} name segments, got ${names.join('/')}`);
  return `/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join('')}`;
}

function scopeId(scope: Scope): string {
  return scope.resourceGroup
    ? `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`
    : `/subscriptions/${scope.subscriptionId}`;
}

function looksLikeType(value: unknown): boolean {
  return typeof value === 'string' && /^[A-Za-z0-9]+\.[A-Za-z0-9.]+\/[A-Za-z0-9/]+$/.test(value);
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Unknown);
}

function known(value: Json, what: string): Json {
  if (value instanceof Unknown) throw new Error(`${what} depends on a deploy-time value: ${value.text}`);
  return value;
}

function str(value: Json): string {
  if (value instanceof Unknown) return value.toString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function deepUnion(a: Json, b: Json): Json {
  if (Array.isArray(a) && Array.isArray(b)) {
    const out = [...a];
    for (const item of b) if (!out.some((x) => JSON.stringify(x) === JSON.stringify(item))) out.push(item);
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const out: Record<string, Json> = { ...a };
    for (const [key, value] of Object.entries(b))
      out[key] = isObject(out[key]) && isObject(value) ? deepUnion(out[key], value) : value;
    return out;
  }
  throw new Error(`union of incompatible values ${str(a)} / ${str(b)}`);
}

/** Replaces Unknown leaves by their placeholder text, so results are plain JSON. */
function plain(value: Json): Json {
  if (value instanceof Unknown) return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

class Evaluator {
  private readonly result: Evaluation = { resources: [], outputs: {}, deployments: [] };
  private readonly frames: Frame[] = [];

  run(template: Json, parameters: Record<string, Json>, location: string): Evaluation {
    const frame = this.frame(template, { subscriptionId: SUBSCRIPTION_ID, location }, parameters, [], 'main');
    this.deploy(frame);
    this.result.outputs = plain(this.outputs(frame));
    return this.result;
  }

  private frame(
    template: Json,
    scope: Scope,
    given: Record<string, Json>,
    path: string[],
    deploymentName: string,
  ): Frame {
    const frame: Frame = {
      template,
      scope,
      params: {},
      path,
      variables: new Map(),
      evaluatingVariables: new Set(),
      instances: [],
      deploymentName,
    };
    this.frames.push(frame);
    const declared: Record<string, Json> = template.parameters ?? {};
    for (const name of Object.keys(given))
      if (!(name in declared)) throw new Error(`parameter ${name} is not declared by ${deploymentName}`);
    for (const [name, decl] of Object.entries(declared)) {
      let value: Json;
      if (name in given) value = given[name];
      else if ('defaultValue' in decl)
        value = this.value(decl.defaultValue, { frame, copy: new Map(), lambdas: new Map() });
      else throw new Error(`parameter ${name} of ${deploymentName} has no value`);
      if (decl.allowedValues && !(value instanceof Unknown) && !decl.allowedValues.includes(value)) {
        throw new Error(`parameter ${name} of ${deploymentName}: ${str(value)} is not an allowed value`);
      }
      frame.params[name] = value;
    }
    // Instances: expand resource loops; names and conditions are computed lazily.
    const resources = template.resources ?? [];
    const entries: [string | undefined, Json][] = Array.isArray(resources)
      ? resources.map((def: Json) => [undefined, def])
      : Object.entries(resources);
    for (const [symbol, def] of entries) {
      if (def.copy) {
        const count = known(this.value(def.copy.count, { frame, copy: new Map(), lambdas: new Map() }), 'copy count');
        for (let index = 0; index < count; index++)
          frame.instances.push({ symbol, def, copy: { name: def.copy.name, index }, frame });
      } else {
        frame.instances.push({ symbol, def, frame });
      }
    }
    return frame;
  }

  private ctxOf(instance: Instance): Ctx {
    const copy = new Map<string, number>();
    if (instance.copy) {
      copy.set('', instance.copy.index);
      copy.set(instance.copy.name, instance.copy.index);
    }
    return { frame: instance.frame, copy, lambdas: new Map() };
  }

  private instanceScope(instance: Instance): Scope {
    const ctx = this.ctxOf(instance);
    const { def } = instance;
    if (def.type !== 'Microsoft.Resources/deployments') return instance.frame.scope;
    const scope = { ...instance.frame.scope };
    if (def.subscriptionId !== undefined)
      scope.subscriptionId = known(this.value(def.subscriptionId, ctx), 'subscriptionId');
    if (def.resourceGroup !== undefined)
      scope.resourceGroup = known(this.value(def.resourceGroup, ctx), 'resourceGroup');
    return scope;
  }

  private identify(instance: Instance): void {
    if (instance.id !== undefined) return;
    const ctx = this.ctxOf(instance);
    const { def, frame } = instance;
    const name = known(this.value(def.name, ctx), 'resource name') as string;
    instance.name = name;
    const names = name.split('/');
    if (def.type === 'Microsoft.Resources/resourceGroups') {
      instance.id = `/subscriptions/${frame.scope.subscriptionId}/resourceGroups/${name}`;
    } else if (def.type === 'Microsoft.Resources/deployments') {
      instance.id = `${scopeId(this.instanceScope(instance))}${providerPath(def.type, names)}`;
    } else if (def.scope !== undefined) {
      instance.id = `${this.extensionScope(instance)}${providerPath(def.type, names)}`;
    } else {
      instance.id = `${scopeId(frame.scope)}${providerPath(def.type, names)}`;
    }
  }

  private extensionScope(instance: Instance): string {
    const raw = known(this.value(instance.def.scope, this.ctxOf(instance)), 'scope') as string;
    if (raw.startsWith('/')) return raw;
    // Relative scope (classic templates): a resource of the deployment scope.
    const target = instance.frame.instances.find((other) => other.symbol === raw);
    if (target) {
      this.identify(target);
      return target.id!;
    }
    return `${scopeId(instance.frame.scope)}/providers/${raw}`;
  }

  private conditionOf(instance: Instance): boolean {
    if (instance.condition === undefined) {
      instance.condition =
        instance.def.condition === undefined
          ? true
          : Boolean(known(this.value(instance.def.condition, this.ctxOf(instance)), 'condition'));
    }
    return instance.condition;
  }

  private deploy(frame: Frame): void {
    for (const instance of frame.instances) {
      if (!this.conditionOf(instance) || instance.def.existing) continue;
      this.identify(instance);
      const ctx = this.ctxOf(instance);
      const { def } = instance;
      if (def.type === 'Microsoft.Resources/deployments') {
        this.deploymentOutputs(instance);
        continue;
      }
      const resource: DeployedResource = {
        type: def.type,
        apiVersion: def.apiVersion,
        name: instance.name!,
        id: instance.id!,
        deploymentPath: frame.path,
      };
      if (def.scope !== undefined) resource.scope = this.extensionScope(instance);
      for (const key of ['location', 'kind', 'sku', 'tags', 'identity', 'properties'] as const) {
        if (def[key] !== undefined) resource[key] = plain(this.value(def[key], ctx));
      }
      this.result.resources.push(resource);
    }
  }

  /** Runs a nested deployment once and returns its outputs (for reference(...).outputs). */
  private deploymentOutputs(instance: Instance): Record<string, Json> {
    if (instance.outputs) return instance.outputs;
    if (instance.evaluatingOutputs) throw new Error(`deployment ${instance.name} depends on itself`);
    instance.evaluatingOutputs = true;
    this.identify(instance);
    const ctx = this.ctxOf(instance);
    const props = instance.def.properties;
    if (props.expressionEvaluationOptions?.scope !== 'inner')
      throw new Error(`deployment ${instance.name}: only inner-scoped nested templates are supported`);
    const given: Record<string, Json> = {};
    for (const [name, entry] of Object.entries<Json>(props.parameters ?? {})) {
      const value = this.value(entry, ctx);
      if (!isObject(value) || !('value' in value))
        throw new Error(`deployment ${instance.name}: parameter ${name} has no value`);
      given[name] = value.value;
    }
    const path = [...instance.frame.path, instance.name!];
    const child = this.frame(props.template, this.instanceScope(instance), given, path, instance.name!);
    this.deploy(child);
    const outputs = this.outputs(child);
    this.result.deployments.push({ name: instance.name!, path, parameters: plain(given), outputs: plain(outputs) });
    instance.outputs = outputs;
    instance.evaluatingOutputs = false;
    return outputs;
  }

  private outputs(frame: Frame): Record<string, Json> {
    const ctx: Ctx = { frame, copy: new Map(), lambdas: new Map() };
    const out: Record<string, Json> = {};
    for (const [name, decl] of Object.entries<Json>(frame.template.outputs ?? {})) {
      if (decl.copy) {
        const count = known(this.value(decl.copy.count, ctx), 'output copy count');
        out[name] = Array.from({ length: count }, (_, i) =>
          this.value(decl.copy.input, { ...ctx, copy: new Map([['', i]]) }),
        );
      } else {
        out[name] = this.value(decl.value, ctx);
      }
    }
    return out;
  }

  private variable(frame: Frame, name: string): Json {
    if (frame.variables.has(name)) return frame.variables.get(name);
    const vars = frame.template.variables ?? {};
    const ctx: Ctx = { frame, copy: new Map(), lambdas: new Map() };
    if (frame.evaluatingVariables.has(name)) throw new Error(`variable ${name} depends on itself`);
    frame.evaluatingVariables.add(name);
    let value: Json;
    const loop = (vars.copy ?? []).find((c: Json) => c.name === name);
    if (loop) {
      const count = known(this.value(loop.count, ctx), 'variable copy count');
      value = Array.from({ length: count }, (_, i) => this.value(loop.input, { ...ctx, copy: new Map([[name, i]]) }));
    } else if (name in vars && name !== 'copy') {
      value = this.value(vars[name], ctx);
    } else {
      throw new Error(`variable ${name} is not declared in ${frame.deploymentName}`);
    }
    frame.evaluatingVariables.delete(name);
    frame.variables.set(name, value);
    return value;
  }

  /** Evaluates a template value: expressions in strings, property copy loops in objects. */
  value(value: Json, ctx: Ctx): Json {
    if (isExpression(value)) return this.node(parseExpression(value.slice(1, -1)), ctx);
    if (typeof value === 'string' && value.startsWith('[[')) return value.slice(1);
    if (Array.isArray(value)) return value.map((item) => this.value(item, ctx));
    if (isObject(value)) {
      const out: Record<string, Json> = {};
      for (const [rawKey, item] of Object.entries(value)) {
        if (rawKey === 'copy' && Array.isArray(item)) {
          for (const loop of item) {
            const count = known(this.value(loop.count, ctx), 'property copy count');
            out[loop.name] = Array.from({ length: count }, (_, i) =>
              this.value(loop.input, { ...ctx, copy: new Map([...ctx.copy, [loop.name, i]]) }),
            );
          }
          continue;
        }
        const key = isExpression(rawKey) ? str(known(this.value(rawKey, ctx), 'property name')) : rawKey;
        out[key] = this.value(item, ctx);
      }
      return out;
    }
    return value;
  }

  private node(node: Node, ctx: Ctx): Json {
    switch (node.t) {
      case 'lit':
        return node.v;
      case 'prop': {
        const target = this.node(node.target, ctx);
        if (target instanceof Unknown) return new Unknown(`${target.text}.${node.name}`);
        if (!isObject(target) || !(node.name in target)) throw new Error(`no property ${node.name} in ${str(target)}`);
        return target[node.name];
      }
      case 'index': {
        const target = this.node(node.target, ctx);
        const index = known(this.node(node.index, ctx), 'index');
        if (target instanceof Unknown) return new Unknown(`${target.text}[${str(index)}]`);
        if (Array.isArray(target)) {
          if (typeof index !== 'number' || index < 0 || index >= target.length)
            throw new Error(`index ${index} out of range`);
          return target[index];
        }
        if (isObject(target) && typeof index === 'string' && index in target) return target[index];
        throw new Error(`cannot index ${str(target)} with ${str(index)}`);
      }
      case 'call':
        return this.call(node.name, node.args, ctx);
    }
  }

  private call(name: string, argNodes: Node[], ctx: Ctx): Json {
    const fn = name.toLowerCase();
    // Lazy functions first.
    if (fn === 'if') {
      const condition = known(this.node(argNodes[0]!, ctx), 'if condition');
      return this.node(argNodes[condition ? 1 : 2]!, ctx);
    }
    if (fn === 'and') return argNodes.every((arg) => known(this.node(arg, ctx), 'and'));
    if (fn === 'or') return argNodes.some((arg) => known(this.node(arg, ctx), 'or'));
    if (fn === 'lambda') {
      const params = argNodes.slice(0, -1).map((arg) => known(this.node(arg, ctx), 'lambda parameter') as string);
      return { kind: 'lambda', params, body: argNodes[argNodes.length - 1]! } satisfies Lambda;
    }
    const args = argNodes.map((arg) => this.node(arg, ctx));
    const apply = (lambda: Lambda, ...values: Json[]): Json => {
      const lambdas = new Map(ctx.lambdas);
      lambda.params.forEach((param, i) => lambdas.set(param, values[i]));
      return this.node(lambda.body, { ...ctx, lambdas });
    };
    const { frame } = ctx;
    const array = (value: Json, what: string): Json[] => {
      if (!Array.isArray(value)) throw new Error(`${what}: expected an array, got ${str(value)}`);
      return value;
    };
    if (fn.startsWith('list')) {
      return new Unknown(`${name}(${args.map(str).join(', ')})`);
    }
    switch (fn) {
      case 'parameters': {
        const key = known(args[0], 'parameter name');
        if (!(key in frame.params)) throw new Error(`parameter ${key} is not declared in ${frame.deploymentName}`);
        return frame.params[key];
      }
      case 'variables':
        return this.variable(frame, known(args[0], 'variable name'));
      case 'copyindex': {
        const loopName = typeof args[0] === 'string' ? args[0] : '';
        const offset = typeof args[0] === 'number' ? args[0] : typeof args[1] === 'number' ? args[1] : 0;
        const index = ctx.copy.get(loopName);
        if (index === undefined) throw new Error(`copyIndex(${loopName}) outside of its loop`);
        return index + offset;
      }
      case 'lambdavariables': {
        if (!ctx.lambdas.has(args[0])) throw new Error(`lambda variable ${args[0]} is not bound`);
        return ctx.lambdas.get(args[0]);
      }
      case 'subscription':
        return {
          id: `/subscriptions/${frame.scope.subscriptionId}`,
          subscriptionId: frame.scope.subscriptionId,
          tenantId: TENANT_ID,
          displayName: 'test',
        };
      case 'resourcegroup':
        if (!frame.scope.resourceGroup) throw new Error('resourceGroup() at subscription scope');
        return {
          id: scopeId(frame.scope),
          name: frame.scope.resourceGroup,
          location: frame.scope.location,
          properties: {},
        };
      case 'tenant':
        return { tenantId: TENANT_ID };
      case 'deployment':
        return { name: frame.deploymentName, properties: {} };
      case 'environment':
        return {
          name: 'AzureCloud',
          resourceManager: 'https://management.azure.com/',
          authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
          suffixes: {
            storage: 'core.windows.net',
            sqlServerHostname: '.database.windows.net',
            keyvaultDns: '.vault.azure.net',
          },
        };
      case 'resourceid': {
        const typeAt = args.findIndex(looksLikeType);
        if (typeAt < 0 || typeAt > 2) throw new Error(`resourceId(${args.map(str).join(', ')}): no resource type`);
        const scope: Scope = { ...frame.scope };
        if (typeAt === 2) {
          scope.subscriptionId = args[0];
          scope.resourceGroup = args[1];
        } else if (typeAt === 1) {
          scope.resourceGroup = args[0];
        }
        const names = args.slice(typeAt + 1).map((a) => str(known(a, 'resourceId name')));
        if (args[typeAt] === 'Microsoft.Resources/resourceGroups')
          return `/subscriptions/${scope.subscriptionId}/resourceGroups/${names[0]}`;
        return `${scopeId(scope)}${providerPath(args[typeAt], names)}`;
      }
      case 'subscriptionresourceid': {
        const typeAt = args.findIndex(looksLikeType);
        const sub = typeAt === 1 ? args[0] : frame.scope.subscriptionId;
        return `/subscriptions/${sub}${providerPath(args[typeAt], args.slice(typeAt + 1).map(str))}`;
      }
      case 'tenantresourceid':
        return providerPath(args[0], args.slice(1).map(str));
      case 'extensionresourceid':
        return `${str(args[0])}${providerPath(args[1], args.slice(2).map(str))}`;
      case 'reference':
        return this.reference(args, ctx);
      case 'format':
        return str(args[0]).replace(/\{(\d+)(:[^}]*)?\}/g, (_, i: string) => str(args[Number(i) + 1]));
      case 'concat':
        if (args.every(Array.isArray)) return args.flat(1);
        return args.map(str).join('');
      case 'string':
        return str(args[0]);
      case 'int':
        return Number.parseInt(str(args[0]), 10);
      case 'bool':
        return args[0] === true || String(args[0]).toLowerCase() === 'true';
      case 'json':
        return JSON.parse(str(args[0]));
      case 'true':
        return true;
      case 'false':
        return false;
      case 'null':
        return null;
      case 'createarray':
        return args;
      case 'createobject': {
        const out: Record<string, Json> = {};
        for (let i = 0; i < args.length; i += 2) out[str(known(args[i], 'object key'))] = args[i + 1];
        return out;
      }
      case 'union':
        return args.reduce((acc, next) => deepUnion(acc, next));
      case 'shallowmerge':
        return Object.assign({}, ...array(args[0], 'shallowMerge'));
      case 'empty': {
        const v = args[0];
        if (v instanceof Unknown) throw new Error(`empty() of a deploy-time value ${v.text}`);
        if (v === null || v === undefined) return true;
        if (typeof v === 'string' || Array.isArray(v)) return v.length === 0;
        if (isObject(v)) return Object.keys(v).length === 0;
        return false;
      }
      case 'not':
        return !known(args[0], 'not');
      case 'equals':
        return JSON.stringify(known(args[0], 'equals')) === JSON.stringify(known(args[1], 'equals'));
      case 'coalesce':
        return args.find((a) => a !== null && a !== undefined) ?? null;
      case 'tryget': {
        let v = args[0];
        for (const key of args.slice(1)) {
          if (v === null || v === undefined) return null;
          if (v instanceof Unknown) return new Unknown(`${v.text}.${str(key)}`);
          v = Array.isArray(v) ? v[key] : isObject(v) ? v[key] : undefined;
        }
        return v ?? null;
      }
      case 'length': {
        const v = known(args[0], 'length');
        return typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v).length;
      }
      case 'range':
        return Array.from({ length: args[1] }, (_, i) => args[0] + i);
      case 'take':
        return known(args[0], 'take').slice(0, Math.max(0, args[1]));
      case 'skip':
        return known(args[0], 'skip').slice(Math.max(0, args[1]));
      case 'first':
        return args[0][0];
      case 'last':
        return args[0][args[0].length - 1];
      case 'substring':
        return str(known(args[0], 'substring')).substring(
          args[1],
          args[2] === undefined ? undefined : args[1] + args[2],
        );
      case 'tolower':
        return args[0] instanceof Unknown ? new Unknown(`toLower(${args[0].text})`) : str(args[0]).toLowerCase();
      case 'toupper':
        return args[0] instanceof Unknown ? new Unknown(`toUpper(${args[0].text})`) : str(args[0]).toUpperCase();
      case 'trim':
        return str(args[0]).trim();
      case 'replace':
        return str(known(args[0], 'replace')).split(args[1]).join(args[2]);
      case 'split':
        return str(known(args[0], 'split')).split(args[1]);
      case 'join':
        return array(args[0], 'join').map(str).join(args[1]);
      case 'startswith':
        return str(args[0]).toLowerCase().startsWith(str(args[1]).toLowerCase());
      case 'endswith':
        return str(args[0]).toLowerCase().endsWith(str(args[1]).toLowerCase());
      case 'contains': {
        const [container, item] = [known(args[0], 'contains'), known(args[1], 'contains')];
        if (typeof container === 'string') return container.toLowerCase().includes(str(item).toLowerCase());
        if (Array.isArray(container)) return container.some((x) => JSON.stringify(x) === JSON.stringify(item));
        return Object.keys(container).some((key) => key.toLowerCase() === str(item).toLowerCase());
      }
      case 'items':
        return Object.entries(args[0]).map(([key, value]) => ({ key, value }));
      case 'objectkeys':
        return Object.keys(args[0]);
      case 'map':
        return array(args[0], 'map').map((item, i) => apply(args[1], item, i));
      case 'filter':
        return array(args[0], 'filter').filter((item, i) => known(apply(args[1], item, i), 'filter predicate'));
      case 'reduce':
        return array(args[0], 'reduce').reduce((acc, item, i) => apply(args[2], acc, item, i), args[1]);
      case 'toobject': {
        const out: Record<string, Json> = {};
        for (const item of array(args[0], 'toObject')) {
          out[str(known(apply(args[1], item), 'toObject key'))] = args[2] ? apply(args[2], item) : item;
        }
        return out;
      }
      case 'uniquestring':
        return uniqueString(args.map((a) => str(known(a, 'uniqueString'))));
      case 'guid':
        return guid(args.map(str));
      case 'add':
        return args[0] + args[1];
      case 'sub':
        return args[0] - args[1];
      case 'mul':
        return args[0] * args[1];
      case 'min':
        return Math.min(...args.flat());
      case 'max':
        return Math.max(...args.flat());
      case 'greater':
        return args[0] > args[1];
      case 'less':
        return args[0] < args[1];
      default:
        throw new Error(`template function ${name}() is not supported by the test evaluator`);
    }
  }

  private reference(args: Json[], ctx: Ctx): Json {
    const target = known(args[0], 'reference target') as string;
    const full = args.some((a) => typeof a === 'string' && a.toLowerCase() === 'full');
    let instance: Instance | undefined;
    let id: string;
    if (target.startsWith('/')) {
      id = target;
      instance = this.findDeployment(id);
    } else {
      // Symbolic name (languageVersion 2.0).
      instance = ctx.frame.instances.find(
        (i) => i.symbol === target && (!i.copy || i.copy.index === (ctx.copy.get('') ?? 0)),
      );
      if (!instance) throw new Error(`reference('${target}'): no such resource in ${ctx.frame.deploymentName}`);
      this.identify(instance);
      id = instance.id!;
    }
    if (instance && instance.def.type === 'Microsoft.Resources/deployments') {
      if (!this.conditionOf(instance))
        throw new Error(`reference to the outputs of ${instance.name}, which does not run`);
      const outputs = this.deploymentOutputs(instance);
      const body = { outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { value: v }])) };
      return full ? { properties: body } : body;
    }
    return new Unknown(`reference(${id})${full ? '.full' : ''}`);
  }

  /** Finds a nested deployment instance by resource id, across every frame created so far. */
  private findDeployment(id: string): Instance | undefined {
    const want = id.toLowerCase();
    if (!want.includes('/providers/microsoft.resources/deployments/')) return undefined;
    for (const frame of this.frames) {
      for (const instance of frame.instances) {
        if (instance.def.type !== 'Microsoft.Resources/deployments') continue;
        this.identify(instance);
        if (instance.id!.toLowerCase() === want) return instance;
      }
    }
    throw new Error(`reference to an unknown deployment ${id}`);
  }
}

/** Plays a compiled template (subscription scope) with the given parameter values. */
export function evaluateTemplate(
  template: Json,
  parameters: Record<string, Json>,
  location = 'swedencentral',
): Evaluation {
  return new Evaluator().run(template, parameters, location);
}
