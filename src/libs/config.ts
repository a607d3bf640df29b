/**
 * Every app setting src/ reads, typed and validated, in this one module: nothing else in src/
 * touches process.env (eslint enforces it). Read lazily, at the moment a value is needed, so tests
 * and the offline host can set the environment before the first use and cold start does no work.
 * An unset or blank setting takes its default; a malformed one throws an error that names it.
 * docs/settings.md lists each setting with its default and who sets it (test/docs checks it).
 */
import { parseDuration } from './duration';

/** The names read here; `<CONTEXT>` stands for a bounded context's name in upper case (`ORDERS`). */
export const SETTING_NAMES = [
  'APPROVAL_THRESHOLD',
  'APPROVAL_TIMEOUT',
  'AUTHENTICATION_MODE',
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__queueServiceUri',
  'COSMOS_ENDPOINT',
  'COSMOS_ENDPOINT_<CONTEXT>',
  'COSMOS_KEY',
  'DEAD_LETTER_QUEUE',
  'DURABLE_CLOCK',
  'PROVIDERS',
  'PUBLIC_BASE_URL',
  'SIMULATED_LATENCY_MS',
  'WEBSITE_HOSTNAME',
  '<CONTEXT>_IDENTITY_CLIENT_ID',
] as const;

type Declared = (typeof SETTING_NAMES)[number];
/** A declared name, with `<CONTEXT>` filled in: reading an undeclared name does not compile. */
type SettingName<N extends Declared = Declared> = N extends `${infer Head}<CONTEXT>${infer Tail}`
  ? `${Head}${string}${Tail}`
  : N;

function setting(name: SettingName): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

const invalid = (name: SettingName, expected: string, raw: string) =>
  new Error(`Setting ${name} must be ${expected}, got "${raw}"`);

function numberSetting(name: SettingName, fallback: number): number {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw invalid(name, 'a number', raw);
  return value;
}

function urlSetting(name: SettingName): string | undefined {
  const raw = setting(name);
  if (raw === undefined) return undefined;
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw invalid(name, 'an http(s) URL', raw);
  return raw;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Client ids of managed identities are GUIDs. */
function clientIdSetting(name: SettingName): string | undefined {
  const raw = setting(name);
  if (raw !== undefined && !GUID.test(raw)) throw invalid(name, 'a client id (a GUID)', raw);
  return raw;
}

/** Azure Storage queue names: 3-63 lower-case letters, digits and single hyphens, a letter or digit at each end. */
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::\d{1,5})?$/i;

/** `[provider, ms]` with ms a number of milliseconds, as bench/config.ts's parseLatency accepts. */
const isLatencyPair = ([name, ms, ...rest]: string[]) =>
  Boolean(name) && Boolean(ms) && rest.length === 0 && Number.isFinite(Number(ms)) && Number(ms) >= 0;
let latenciesFrom: string | undefined;
let latencies: Partial<Record<string, number>> = {};

/** Where the app's own queues (dead letters, order events) are, as the Functions host finds its storage. */
export type QueueStorage = { connectionString: string } | { serviceUri: string; clientId: string | undefined };

/** The provider implementations there are (PROVIDERS). */
export const PROVIDERS = ['simulated'] as const;
export type Providers = (typeof PROVIDERS)[number];

export const config = {
  /** Orders with a total at or above this wait for a human decision. */
  approvalThreshold: (): number => numberSetting('APPROVAL_THRESHOLD', 1000),
  /** How long the saga waits for that decision before rejecting the order. */
  approvalTimeoutMs: (): number => {
    const raw = setting('APPROVAL_TIMEOUT') ?? 'PT24H';
    try {
      return parseDuration(raw);
    } catch {
      throw invalid('APPROVAL_TIMEOUT', 'an ISO 8601 duration such as PT24H', raw);
    }
  },
  cosmosEndpoint: (context: string): string | undefined =>
    urlSetting(`COSMOS_ENDPOINT_${context.toUpperCase()}`) ?? urlSetting('COSMOS_ENDPOINT'),
  cosmosKey: (): string | undefined => setting('COSMOS_KEY'),
  identityClientId: (context: string): string | undefined =>
    clientIdSetting(`${context.toUpperCase()}_IDENTITY_CLIENT_ID`),
  /** The queue of orders whose compensations failed for good; infra/ declares it. */
  deadLetterQueue: (): string => {
    const raw = setting('DEAD_LETTER_QUEUE') ?? 'order-dead-letters';
    if (!QUEUE_NAME.test(raw))
      throw invalid('DEAD_LETTER_QUEUE', 'a queue name (3-63 lower-case letters, digits and single hyphens)', raw);
    return raw;
  },
  /**
   * `AzureWebJobsStorage` (a connection string: Azurite locally), else in Azure the identity-based
   * `AzureWebJobsStorage__queueServiceUri` with `__clientId`. Undefined when neither is set.
   */
  queueStorage: (): QueueStorage | undefined => {
    const connectionString = setting('AzureWebJobsStorage');
    if (connectionString !== undefined) {
      const pairs = connectionString.split(';').filter((pair) => pair.trim() !== '');
      if (!pairs.every((pair) => /^\s*[A-Za-z]+\s*=/.test(pair)))
        throw invalid('AzureWebJobsStorage', 'a storage connection string (Name=value;…)', connectionString);
      return { connectionString };
    }
    const serviceUri = urlSetting('AzureWebJobsStorage__queueServiceUri');
    return serviceUri === undefined
      ? undefined
      : { serviceUri, clientId: clientIdSetting('AzureWebJobsStorage__clientId') };
  },
  /**
   * Latency of a simulated provider in ms: SIMULATED_LATENCY_MS="gateway=120,carrier=200,…".
   * Zero for a provider it does not name, and when unset, so tests run fast; the benchmark sets it.
   */
  simulatedLatencyMs: (provider: string): number => {
    const raw = setting('SIMULATED_LATENCY_MS') ?? '';
    if (raw !== latenciesFrom) {
      const pairs = raw
        .split(',')
        .filter((pair) => pair.trim() !== '')
        .map((pair) => pair.split('=').map((part) => part.trim()));
      if (!pairs.every(isLatencyPair)) {
        throw invalid(
          'SIMULATED_LATENCY_MS',
          'provider=milliseconds pairs separated by commas (e.g. gateway=120,carrier=200)',
          raw,
        );
      }
      latencies = Object.fromEntries(pairs.map(([name, ms]) => [name, Number(ms)]));
      latenciesFrom = raw;
    }
    return latencies[provider] ?? 0;
  },
  /**
   * Now, on the clock the orchestrations run on. That is wall time, except under the offline
   * host with DURABLE_TIME_SCALE, which sets DURABLE_CLOCK (`wallMs:clockMs:speed`) for the app.
   */
  durableNow: (): number => {
    const raw = setting('DURABLE_CLOCK');
    if (raw === undefined) return Date.now();
    const parts = raw.split(':').map((part) => (part.trim() === '' ? NaN : Number(part)));
    const [wallMs, clockMs, speed] = parts;
    if (parts.length !== 3 || !parts.every(Number.isFinite) || !(speed! > 0))
      throw invalid('DURABLE_CLOCK', 'wallMs:clockMs:speed (speed above 0)', raw);
    return clockMs! + (Date.now() - wallMs!) * speed!;
  },
  /**
   * The app's public origin for the links it hands out: PUBLIC_BASE_URL, else in Azure
   * https://WEBSITE_HOSTNAME. Undefined locally, where the request's origin is used.
   */
  publicBaseUrl: (): string | undefined => {
    const explicit = urlSetting('PUBLIC_BASE_URL');
    if (explicit) return new URL(explicit).origin;
    const site = setting('WEBSITE_HOSTNAME');
    if (!site) return undefined;
    if (!HOST.test(site)) throw invalid('WEBSITE_HOSTNAME', 'a host name, with an optional port', site);
    // Core Tools sets it too (localhost:7071), and serves plain HTTP.
    return /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?$/i.test(site) ? `http://${site}` : `https://${site}`;
  },
  /**
   * Which implementation stands behind each provider interface (payment gateway, mailer, carrier,
   * analytics sink). `simulated`, the default, is the only one; any other value fails the app's
   * start (each context's index.ts reads it as it registers its functions).
   */
  providers: (): Providers => {
    const value = setting('PROVIDERS') ?? 'simulated';
    if (!(PROVIDERS as readonly string[]).includes(value))
      throw invalid('PROVIDERS', `one of ${PROVIDERS.join(', ')}`, value);
    return value as Providers;
  },
  /** `appService` when App Service Authentication (Entra ID) is in front of the app; set by infra/. */
  authenticationMode: (): 'appService' | 'keys' => {
    const raw = setting('AUTHENTICATION_MODE') ?? 'keys';
    if (raw !== 'appService' && raw !== 'keys') throw invalid('AUTHENTICATION_MODE', 'appService or keys', raw);
    return raw;
  },
};
