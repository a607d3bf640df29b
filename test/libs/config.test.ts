/**
 * The settings module: each setting's default, a valid value, and the error a malformed value
 * gives; and that the names it declares (SETTING_NAMES, listed in docs/settings.md) are exactly
 * the names it reads.
 */
import { config, SETTING_NAMES } from '../../src/libs/config';

const GUID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
/** Every name the module may read, for the context used here. */
const NAMES = SETTING_NAMES.map((name) => name.replace('<CONTEXT>', 'ORDERS'));
const saved = new Map(NAMES.map((name) => [name, process.env[name]]));

function set(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) process.env[name] = value;
}

beforeEach(() => {
  for (const name of NAMES) delete process.env[name];
});

afterAll(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterEach(() => jest.restoreAllMocks());

describe('defaults, when a setting is unset or blank', () => {
  const defaults: [string, () => unknown, unknown][] = [
    ['APPROVAL_THRESHOLD', () => config.approvalThreshold(), 1000],
    ['APPROVAL_TIMEOUT', () => config.approvalTimeoutMs(), 24 * 3_600_000],
    ['COSMOS_ENDPOINT', () => config.cosmosEndpoint('orders'), undefined],
    ['COSMOS_KEY', () => config.cosmosKey(), undefined],
    ['ORDERS_IDENTITY_CLIENT_ID', () => config.identityClientId('orders'), undefined],
    ['DEAD_LETTER_QUEUE', () => config.deadLetterQueue(), 'order-dead-letters'],
    ['AzureWebJobsStorage', () => config.queueStorage(), undefined],
    ['SIMULATED_LATENCY_MS', () => config.simulatedLatencyMs('gateway'), 0],
    ['PUBLIC_BASE_URL', () => config.publicBaseUrl(), undefined],
    ['AUTHENTICATION_MODE', () => config.authenticationMode(), 'keys'],
    ['PROVIDERS', () => config.providers(), 'simulated'],
  ];

  it.each(defaults)('%s', (name, read, expected) => {
    expect(read()).toEqual(expected);
    process.env[name] = '   ';
    expect(read()).toEqual(expected);
  });

  it('DURABLE_CLOCK: wall time', () => {
    jest.spyOn(Date, 'now').mockReturnValue(1_234_567);
    expect(config.durableNow()).toBe(1_234_567);
  });
});

describe('valid values', () => {
  it('APPROVAL_THRESHOLD is a number', () => {
    set({ APPROVAL_THRESHOLD: ' 250.5 ' });
    expect(config.approvalThreshold()).toBe(250.5);
  });

  it('APPROVAL_TIMEOUT is an ISO 8601 duration', () => {
    set({ APPROVAL_TIMEOUT: 'PT30M' });
    expect(config.approvalTimeoutMs()).toBe(1_800_000);
  });

  it("COSMOS_ENDPOINT is every context's account; COSMOS_ENDPOINT_<CONTEXT> one context's own", () => {
    set({
      COSMOS_ENDPOINT: 'https://shared.documents.azure.com:443/',
      COSMOS_ENDPOINT_ORDERS: 'http://127.0.0.1:8081',
    });
    expect(config.cosmosEndpoint('orders')).toBe('http://127.0.0.1:8081');
    expect(config.cosmosEndpoint('payments')).toBe('https://shared.documents.azure.com:443/');
  });

  it('COSMOS_KEY is any text (no value is malformed)', () => {
    set({ COSMOS_KEY: 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==' });
    expect(config.cosmosKey()).toMatch(/^C2y6.*==$/);
  });

  it('<CONTEXT>_IDENTITY_CLIENT_ID is a client id, for that context only', () => {
    set({ ORDERS_IDENTITY_CLIENT_ID: GUID });
    expect(config.identityClientId('orders')).toBe(GUID);
    expect(config.identityClientId('payments')).toBeUndefined();
  });

  it('DEAD_LETTER_QUEUE is a queue name', () => {
    set({ DEAD_LETTER_QUEUE: 'repair-queue-2' });
    expect(config.deadLetterQueue()).toBe('repair-queue-2');
  });

  it('AzureWebJobsStorage, a connection string, comes before the identity-based settings', () => {
    set({
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net/',
    });
    expect(config.queueStorage()).toEqual({ connectionString: 'UseDevelopmentStorage=true' });
  });

  it('AzureWebJobsStorage__queueServiceUri with __clientId: the queues through an identity', () => {
    set({ AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net/' });
    expect(config.queueStorage()).toEqual({ serviceUri: 'https://st.queue.core.windows.net/', clientId: undefined });
    set({ AzureWebJobsStorage__clientId: GUID });
    expect(config.queueStorage()).toEqual({ serviceUri: 'https://st.queue.core.windows.net/', clientId: GUID });
  });

  it('SIMULATED_LATENCY_MS names providers and their latency; a change is seen at the next read', () => {
    set({ SIMULATED_LATENCY_MS: 'gateway=120, carrier = 200,mailer=0.5' });
    expect(['gateway', 'carrier', 'mailer', 'analytics'].map(config.simulatedLatencyMs)).toEqual([120, 200, 0.5, 0]);
    set({ SIMULATED_LATENCY_MS: 'analytics=30' });
    expect(['gateway', 'analytics'].map(config.simulatedLatencyMs)).toEqual([0, 30]);
  });

  it('DURABLE_CLOCK runs the durable clock at its speed from where it was set', () => {
    jest.spyOn(Date, 'now').mockReturnValue(2_000);
    set({ DURABLE_CLOCK: '1000:5000:10' });
    expect(config.durableNow()).toBe(5_000 + 1_000 * 10);
  });

  it('PUBLIC_BASE_URL gives its origin, before WEBSITE_HOSTNAME', () => {
    set({
      PUBLIC_BASE_URL: 'https://shop.contoso.example/some/path',
      WEBSITE_HOSTNAME: 'orders-app.azurewebsites.net',
    });
    expect(config.publicBaseUrl()).toBe('https://shop.contoso.example');
  });

  it('WEBSITE_HOSTNAME is served over HTTPS, except a local one', () => {
    set({ WEBSITE_HOSTNAME: 'orders-app.azurewebsites.net' });
    expect(config.publicBaseUrl()).toBe('https://orders-app.azurewebsites.net');
    set({ WEBSITE_HOSTNAME: '127.0.0.1:7071' });
    expect(config.publicBaseUrl()).toBe('http://127.0.0.1:7071');
  });

  it('AUTHENTICATION_MODE is appService or keys', () => {
    set({ AUTHENTICATION_MODE: 'appService' });
    expect(config.authenticationMode()).toBe('appService');
    set({ AUTHENTICATION_MODE: 'keys' });
    expect(config.authenticationMode()).toBe('keys');
  });
});

describe('a malformed value is an error that names the setting and the value', () => {
  const bad: [string, string, () => unknown, string, Record<string, string>?][] = [
    ['APPROVAL_THRESHOLD', 'lots', () => config.approvalThreshold(), 'a number'],
    ['APPROVAL_TIMEOUT', '24h', () => config.approvalTimeoutMs(), 'an ISO 8601 duration such as PT24H'],
    ['COSMOS_ENDPOINT', 'shared.documents.azure.com', () => config.cosmosEndpoint('orders'), 'an http(s) URL'],
    ['COSMOS_ENDPOINT_ORDERS', 'ftp://127.0.0.1:8081', () => config.cosmosEndpoint('orders'), 'an http(s) URL'],
    ['ORDERS_IDENTITY_CLIENT_ID', 'id-orders', () => config.identityClientId('orders'), 'a client id (a GUID)'],
    [
      'DEAD_LETTER_QUEUE',
      'Order_Dead_Letters',
      () => config.deadLetterQueue(),
      'a queue name (3-63 lower-case letters, digits and single hyphens)',
    ],
    [
      'DEAD_LETTER_QUEUE',
      'order--letters',
      () => config.deadLetterQueue(),
      'a queue name (3-63 lower-case letters, digits and single hyphens)',
    ],
    [
      'AzureWebJobsStorage',
      'devstoreaccount1',
      () => config.queueStorage(),
      'a storage connection string (Name=value;…)',
    ],
    [
      'AzureWebJobsStorage__queueServiceUri',
      'st.queue.core.windows.net',
      () => config.queueStorage(),
      'an http(s) URL',
    ],
    [
      'AzureWebJobsStorage__clientId',
      'app-identity',
      () => config.queueStorage(),
      'a client id (a GUID)',
      { AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net/' },
    ],
    [
      'SIMULATED_LATENCY_MS',
      'gateway=fast',
      () => config.simulatedLatencyMs('gateway'),
      'provider=milliseconds pairs separated by commas (e.g. gateway=120,carrier=200)',
    ],
    [
      'SIMULATED_LATENCY_MS',
      'gateway:120',
      () => config.simulatedLatencyMs('gateway'),
      'provider=milliseconds pairs separated by commas (e.g. gateway=120,carrier=200)',
    ],
    [
      'SIMULATED_LATENCY_MS',
      'gateway=-5',
      () => config.simulatedLatencyMs('gateway'),
      'provider=milliseconds pairs separated by commas (e.g. gateway=120,carrier=200)',
    ],
    ['DURABLE_CLOCK', '1000:5000', () => config.durableNow(), 'wallMs:clockMs:speed (speed above 0)'],
    ['DURABLE_CLOCK', '1000:5000:0', () => config.durableNow(), 'wallMs:clockMs:speed (speed above 0)'],
    ['PUBLIC_BASE_URL', 'shop.contoso.example', () => config.publicBaseUrl(), 'an http(s) URL'],
    [
      'WEBSITE_HOSTNAME',
      'https://orders-app.azurewebsites.net',
      () => config.publicBaseUrl(),
      'a host name, with an optional port',
    ],
    ['AUTHENTICATION_MODE', 'AppService', () => config.authenticationMode(), 'appService or keys'],
    ['PROVIDERS', 'stripe', () => config.providers(), 'one of simulated'],
  ];

  it.each(bad)('%s=%s', (name, value, read, expected, others = {}) => {
    set({ ...others, [name]: value });
    expect(read).toThrow(new Error(`Setting ${name} must be ${expected}, got "${value}"`));
  });
});

describe('the names it reads', () => {
  /** Calls every accessor of config and records the names it looks up in the environment. */
  function namesRead(env: Record<string, string>): Set<string> {
    const read = new Set<string>();
    const original = process.env;
    process.env = new Proxy({ ...env } as NodeJS.ProcessEnv, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return Reflect.get(target, name);
      },
    });
    try {
      for (const accessor of Object.values(config)) accessor('orders');
    } finally {
      process.env = original;
    }
    return read;
  }

  it('are exactly SETTING_NAMES, the list docs/settings.md is checked against', () => {
    const unset = namesRead({});
    // Each fallback is read only when what comes before it is not set.
    const identityQueues = namesRead({ AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net/' });
    const read = [...new Set([...unset, ...identityQueues])].map((name) => name.replace('ORDERS', '<CONTEXT>'));
    expect(read.sort()).toEqual([...SETTING_NAMES].sort());
  });
});
