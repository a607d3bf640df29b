/**
 * The offline host's settings: environment variables for what a developer changes, host.json for
 * what the Functions host itself would read from there (concurrency limits, route prefix, hub).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseLogLevel, type LogLevel } from './logger';

export type DurableBackend = 'engine' | 'extension';

export interface HostSettings {
  projectRoot: string;
  /** DURABLE_BACKEND: local/engine (the default) or the real Durable extension (local/extension). */
  backend: DurableBackend;
  port: number;
  dataDir: string;
  /** DURABLE_TIME_SCALE: 60 makes a 24-hour durable timer fire after 24 minutes. */
  timeScale: number;
  /** How long a graceful shutdown waits for running requests and activities. */
  shutdownGraceMs: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** Off only for throwaway data: the store then survives a killed process, not a power cut. */
  fsync: boolean;
  logLevel: LogLevel;
  /** The app's root (host.json, package.json): the repo, or APP_ROOT, e.g. the built dist/. */
  appRoot: string;
  /** The app as the Functions worker loads it: `main` of the app root's package.json. */
  appEntry: string;
  hostJson: HostJsonSettings;
}

export interface HostJsonSettings {
  maxConcurrentActivityFunctions?: number;
  maxConcurrentOrchestratorFunctions?: number;
  routePrefix: string;
  hubName?: string;
  /** extensions.durableTask as written (placeholders resolved), for the extension backend. */
  durableTask: Record<string, unknown>;
  /** `extensions.queues`: attempts before a message goes to its poison queue, and the wait between them. */
  maxDequeueCount?: number;
  queueRetryDelaySeconds?: number;
}

type Env = Record<string, string | undefined>;

export function readSettings(env: Env = process.env, projectRoot = resolve(__dirname, '../..')): HostSettings {
  const number = (name: string, fallback: number, check: (value: number) => boolean, rule: string): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || !check(value)) throw new Error(`${name} must be ${rule}; got "${raw}"`);
    return value;
  };
  const dataDir = env.DATA_DIR?.trim() || '.data';
  const appRoot = resolve(projectRoot, env.APP_ROOT?.trim() || '.');
  const packageJson = JSON.parse(readFileSync(resolve(appRoot, 'package.json'), 'utf8')) as { main?: string };
  const backend = env.DURABLE_BACKEND?.trim() || 'engine';
  if (backend !== 'engine' && backend !== 'extension')
    throw new Error(`DURABLE_BACKEND must be "engine" (the default) or "extension"; got "${backend}"`);
  return {
    projectRoot,
    backend,
    port: number(
      'PORT',
      7071,
      (value) => Number.isInteger(value) && value >= 0 && value <= 65535,
      'a port number (0 picks a free one)',
    ),
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(projectRoot, dataDir),
    timeScale: number('DURABLE_TIME_SCALE', 1, (value) => value > 0, 'a positive number'),
    shutdownGraceMs: number('SHUTDOWN_GRACE_MS', 10_000, (value) => value >= 0, 'a number of milliseconds'),
    // The Functions host's own request limit is 100 MB.
    maxBodyBytes: number(
      'HTTP_MAX_BODY_BYTES',
      100 * 1024 * 1024,
      (value) => Number.isInteger(value) && value > 0,
      'a positive number of bytes',
    ),
    requestTimeoutMs: number(
      'HTTP_REQUEST_TIMEOUT_MS',
      30_000,
      (value) => value > 0,
      'a positive number of milliseconds',
    ),
    headersTimeoutMs: number(
      'HTTP_HEADERS_TIMEOUT_MS',
      10_000,
      (value) => value > 0,
      'a positive number of milliseconds',
    ),
    fsync: env.DURABLE_FSYNC?.trim() !== '0',
    logLevel: parseLogLevel(env.LOG_LEVEL),
    appRoot,
    appEntry: resolve(appRoot, packageJson.main ?? 'index.js'),
    hostJson: readHostJson(resolve(appRoot, 'host.json'), env),
  };
}

/** The parts of host.json the offline host honours; `%NAME%` placeholders resolve from the environment. */
export function readHostJson(file: string, env: Env = process.env): HostJsonSettings {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    extensions?: {
      durableTask?: Record<string, unknown>;
      http?: { routePrefix?: unknown };
      queues?: { maxDequeueCount?: unknown; visibilityTimeout?: unknown };
    };
  };
  const durable = json.extensions?.durableTask ?? {};
  const positive = (value: unknown) =>
    typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
  const hub =
    typeof durable.hubName === 'string'
      ? durable.hubName.replace(/%([^%]+)%/g, (_match, name: string) => env[name] ?? '')
      : undefined;
  const routePrefix = json.extensions?.http?.routePrefix;
  return {
    maxConcurrentActivityFunctions: positive(durable.maxConcurrentActivityFunctions),
    maxConcurrentOrchestratorFunctions: positive(durable.maxConcurrentOrchestratorFunctions),
    routePrefix: typeof routePrefix === 'string' ? routePrefix : 'api',
    hubName: hub || undefined,
    durableTask: resolvePlaceholders(durable, env) as Record<string, unknown>,
    maxDequeueCount: positive(json.extensions?.queues?.maxDequeueCount),
    queueRetryDelaySeconds: timeSpanSeconds(json.extensions?.queues?.visibilityTimeout),
  };
}

/** A host.json TimeSpan ("hh:mm:ss") in seconds. */
function timeSpanSeconds(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^(\d+):(\d{2}):(\d{2})$/.exec(value) : null;
  return match ? Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]) : undefined;
}

function resolvePlaceholders(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return value.replace(/%([^%]+)%/g, (_match, name: string) => env[name] ?? '');
  if (Array.isArray(value)) return value.map((item) => resolvePlaceholders(item, env));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolvePlaceholders(item, env)]));
  return value;
}
