/**
 * Typed access to app settings. Read lazily, at the moment a value is needed, so tests and the
 * offline host can set the environment before the first use and cold start does no work.
 */
import { parseDuration } from './duration';

function setting(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function numberSetting(name: string, fallback: number): number {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`Setting ${name} must be a number, got "${raw}"`);
  return value;
}

/** The provider implementations there are (PROVIDERS). */
export const PROVIDERS = ['simulated'] as const;
export type Providers = (typeof PROVIDERS)[number];

export const config = {
  /** Orders with a total at or above this wait for a human decision. */
  approvalThreshold: (): number => numberSetting('APPROVAL_THRESHOLD', 1000),
  /** How long the saga waits for that decision before rejecting the order. */
  approvalTimeoutMs: (): number => parseDuration(setting('APPROVAL_TIMEOUT') ?? 'PT24H'),
  cosmosEndpoint: (context: string): string | undefined =>
    setting(`COSMOS_ENDPOINT_${context.toUpperCase()}`) ?? setting('COSMOS_ENDPOINT'),
  cosmosKey: (): string | undefined => setting('COSMOS_KEY'),
  identityClientId: (context: string): string | undefined =>
    setting(`${context.toUpperCase()}_IDENTITY_CLIENT_ID`),
  /**
   * Now, on the clock the orchestrations run on. That is wall time, except under the offline
   * host with DURABLE_TIME_SCALE, which sets DURABLE_CLOCK (`wallMs:clockMs:speed`) for the app.
   */
  durableNow: (): number => {
    const [wallMs, clockMs, speed] = (setting('DURABLE_CLOCK') ?? '').split(':').map(Number);
    if (![wallMs, clockMs, speed].every(Number.isFinite) || !(speed > 0)) return Date.now();
    return clockMs + (Date.now() - wallMs) * speed;
  },
  /**
   * The app's public origin for the links it hands out: PUBLIC_BASE_URL, else in Azure
   * https://WEBSITE_HOSTNAME. Undefined locally, where the request's origin is used.
   */
  publicBaseUrl: (): string | undefined => {
    const explicit = setting('PUBLIC_BASE_URL');
    if (explicit) return new URL(explicit).origin;
    const site = setting('WEBSITE_HOSTNAME');
    if (!site) return undefined;
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
    if (!(PROVIDERS as readonly string[]).includes(value)) throw new Error(`Setting PROVIDERS must be one of ${PROVIDERS.join(', ')}; got "${value}"`);
    return value as Providers;
  },
  /** `appService` when App Service Authentication (Entra ID) is in front of the app; set by infra/. */
  authenticationMode: (): 'appService' | 'keys' => (setting('AUTHENTICATION_MODE') === 'appService' ? 'appService' : 'keys'),
};
