/**
 * The azd postprovision hook's seeding, against the local Cosmos server (the jest global one),
 * reached the way the hook reaches a deployed environment: through COSMOS_ENDPOINT_<CONTEXT>
 * settings derived from the azd outputs, each context through its own repository.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { resetCosmosClients } from '../../src/libs/cosmos';
import { stockContainer } from '../../src/services/inventory/repository';
import { ordersData } from '../../src/services/orders/repository';
import {
  assertResetAllowed,
  cosmosSettings,
  demoInstructions,
  seedDeployment,
  seedPlan,
  withRoleRetry,
  type AzdOutputs,
} from '../../local/dependencies/deployed-seed';
import { provisionLocalDatabases } from '../../local/dependencies/provision';
import type { SeedItem } from '../../local/dependencies/seed-data';
import { ROOT } from './infra';

const localEndpoint = process.env.COSMOS_ENDPOINT!;
const run = randomUUID().slice(0, 8);
const items: SeedItem[] = [
  { sku: `PP-${run}-A`, name: 'hook test item A', prices: { EUR: 10, USD: 11, GBP: 9 }, stock: 7 },
  { sku: `PP-${run}-B`, name: 'hook test item B', prices: { EUR: 1200, USD: 1300, GBP: 1100 }, stock: 2 },
];

const saved = { ...process.env };

/** The azd outputs of an account-per-context environment whose accounts are the local server. */
const outputs = (overrides: Partial<AzdOutputs> = {}): AzdOutputs => ({
  SERVICE_API_URI: 'https://func-abc123.azurewebsites.net',
  AZURE_FUNCTION_APP_NAME: 'func-abc123',
  AZURE_RESOURCE_GROUP: 'rg-saga-dev',
  COSMOS_ENDPOINT: '',
  COSMOS_CONTEXT_ENDPOINTS: JSON.stringify(
    ['orders', 'payments', 'inventory', 'notifications', 'analytics', 'shipping'].map((context) => ({
      context,
      endpoint: localEndpoint,
    })),
  ),
  DEVELOPER_ROLES: 'true',
  VNET_ENABLED: 'false',
  AUTHENTICATION_MODE: 'keys',
  ...overrides,
});

async function snapshot() {
  const catalog = await Promise.all(
    items.map(async (item) => (await ordersData.container('catalog').item(item.sku, item.sku).read()).resource),
  );
  const stock = await Promise.all(
    items.map(async (item) => (await stockContainer().item(item.sku, item.sku).read()).resource),
  );
  const strip = (doc: Record<string, unknown> | undefined) =>
    doc && Object.fromEntries(Object.entries(doc).filter(([key]) => !key.startsWith('_')));
  return { catalog: catalog.map(strip), stock: stock.map(strip) };
}

beforeAll(async () => {
  // In Azure, infra/ creates the databases; here the local server needs them created.
  await provisionLocalDatabases();
  // From here on the repositories find their accounts only as the hook points them there.
  delete process.env.COSMOS_ENDPOINT;
  Object.assign(process.env, cosmosSettings(outputs()));
  resetCosmosClients();
});

afterAll(async () => {
  // The jest run shares one Cosmos server: take this file's items out again.
  for (const item of items) {
    await ordersData
      .container('catalog')
      .item(item.sku, item.sku)
      .delete()
      .catch(() => undefined);
    await stockContainer()
      .item(item.sku, item.sku)
      .delete()
      .catch(() => undefined);
  }
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
  resetCosmosClients();
});

describe('seeding a deployed environment', () => {
  it('creates the catalog items and their stock', async () => {
    await seedDeployment(items);
    const { catalog, stock } = await snapshot();
    expect(catalog).toEqual(items.map(({ sku, name, prices }) => ({ id: sku, sku, name, prices })));
    expect(stock).toEqual(
      items.map(({ sku, stock: available }) => ({ id: sku, sku, available, committed: 0, holds: {}, released: {} })),
    );
  });

  it('running it twice leaves the same data', async () => {
    await seedDeployment(items);
    const first = await snapshot();
    await seedDeployment(items);
    expect(await snapshot()).toEqual(first);
  });

  it('a re-provision does not reset stock already sold or held, nor a price changed in Azure, and restores a missing item', async () => {
    await seedDeployment(items);
    const [a, b] = items;
    await stockContainer().items.upsert({
      id: a!.sku,
      sku: a!.sku,
      available: 3,
      committed: 4,
      holds: { 'order-1': 2 },
      released: {},
    });
    await ordersData
      .container('catalog')
      .items.upsert({ id: b!.sku, sku: b!.sku, name: b!.name, prices: { EUR: 999, USD: 1099, GBP: 899 } });
    await stockContainer().item(b!.sku, b!.sku).delete();
    await seedDeployment(items);
    const { catalog, stock } = await snapshot();
    expect(stock[0]).toEqual({
      id: a!.sku,
      sku: a!.sku,
      available: 3,
      committed: 4,
      holds: { 'order-1': 2 },
      released: {},
    });
    expect(catalog[1]).toMatchObject({ prices: { EUR: 999, USD: 1099, GBP: 899 } });
    expect(stock[1]).toEqual({ id: b!.sku, sku: b!.sku, available: b!.stock, committed: 0, holds: {}, released: {} });
  });
});

describe('the hook’s decisions', () => {
  it('endpoints: each seeded context from COSMOS_CONTEXT_ENDPOINTS, else the shared COSMOS_ENDPOINT', () => {
    const perContext = outputs({
      COSMOS_CONTEXT_ENDPOINTS: JSON.stringify([
        { context: 'orders', endpoint: 'https://cosmos-orders-x.documents.azure.com:443/' },
        { context: 'inventory', endpoint: 'https://cosmos-inventory-x.documents.azure.com:443/' },
      ]),
    });
    expect(cosmosSettings(perContext)).toEqual({
      COSMOS_ENDPOINT_ORDERS: 'https://cosmos-orders-x.documents.azure.com:443/',
      COSMOS_ENDPOINT_INVENTORY: 'https://cosmos-inventory-x.documents.azure.com:443/',
    });
    expect(cosmosSettings({ COSMOS_ENDPOINT: 'https://cosmos-x.documents.azure.com:443/' })).toEqual({
      COSMOS_ENDPOINT_ORDERS: 'https://cosmos-x.documents.azure.com:443/',
      COSMOS_ENDPOINT_INVENTORY: 'https://cosmos-x.documents.azure.com:443/',
    });
    expect(() => cosmosSettings({})).toThrow(/no Cosmos DB endpoint for orders/);
  });

  it('seeds only when Cosmos DB is reachable and the deployer holds the data roles', () => {
    expect(seedPlan(outputs())).toEqual({ seed: true });
    expect(seedPlan(outputs({ VNET_ENABLED: 'true' }))).toEqual({
      seed: false,
      reason: expect.stringMatching(/private-endpoint traffic only/),
    });
    expect(seedPlan(outputs({ DEVELOPER_ROLES: 'false' }))).toEqual({
      seed: false,
      reason: expect.stringMatching(/DEVELOPER_ROLES=false/),
    });
  });

  it('retries while the new data role is not effective (403), and only then', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const forbidden = Object.assign(new Error('Forbidden'), { code: 403 });
    await withRoleRetry(
      async () => {
        calls++;
        if (calls < 3) throw forbidden;
      },
      { delayMs: 5, sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(calls).toBe(3);
    expect(sleeps).toEqual([5, 5]);

    const notFound = Object.assign(new Error('Not found'), { code: 404 });
    let other = 0;
    await expect(
      withRoleRetry(
        async () => {
          other++;
          throw notFound;
        },
        { sleep: async () => {} },
      ),
    ).rejects.toBe(notFound);
    expect(other).toBe(1);
    await expect(
      withRoleRetry(async () => Promise.reject(forbidden), { attempts: 4, sleep: async () => {} }),
    ).rejects.toBe(forbidden);
  });

  it('seeds as the azd sign-in the data roles were granted to, even when the Azure CLI is signed in as someone else', () => {
    // Stand-ins for both CLIs, each answering with a token that names it. The credential runs them
    // with the process's real environment, so the check runs in a child process with this PATH.
    const bin = mkdtempSync(join(tmpdir(), 'fake-clis-'));
    const expiresOn = new Date(Date.now() + 3_600_000).toISOString();
    const cli = (name: string, json: object) => {
      writeFileSync(join(bin, name), `#!/bin/sh\necho '${JSON.stringify(json)}'\n`);
      chmodSync(join(bin, name), 0o755);
    };
    cli('az', { accessToken: 'token-of-az-login', expiresOn, tokenType: 'Bearer' });
    cli('azd', { token: 'token-of-azd-auth-login', expiresOn });
    const tokenThe = (chosen?: string) => {
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` };
      delete env.AZURE_TOKEN_CREDENTIALS;
      if (chosen) env.AZURE_TOKEN_CREDENTIALS = chosen;
      const script = [
        "const { useAzdSignIn } = require('./local/dependencies/deployed-seed');",
        "const { DefaultAzureCredential } = require('@azure/identity');",
        'useAzdSignIn();',
        "new DefaultAzureCredential().getToken('https://cosmos.azure.com/.default').then((t) => console.log(t.token));",
      ].join('\n');
      return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      }).trim();
    };
    try {
      expect(tokenThe()).toBe('token-of-azd-auth-login');
      // A choice already made stands.
      expect(tokenThe('AzureCliCredential')).toBe('token-of-az-login');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('prints the app URL and the exact demo command', () => {
    const lines = demoInstructions(outputs());
    expect(lines[0]).toBe('App: https://func-abc123.azurewebsites.net');
    expect(lines).toContain(
      '  npm run demo -- https://func-abc123.azurewebsites.net --key "$(az functionapp keys list --resource-group rg-saga-dev --name func-abc123 --query functionKeys.default --output tsv)"' +
        ' --admin-key "$(az functionapp keys list --resource-group rg-saga-dev --name func-abc123 --query masterKey --output tsv)"',
    );
    // With App Service Authentication the approval and operator routes take the caller's token for the app.
    const signedIn = demoInstructions(
      outputs({ AUTHENTICATION_MODE: 'appService', AUTH_CLIENT_ID: '11111111-2222-3333-4444-555555555555' }),
    ).join('\n');
    expect(signedIn).toContain(
      ' --token "$(az account get-access-token --resource api://11111111-2222-3333-4444-555555555555 --query accessToken --output tsv)"',
    );
    expect(signedIn).toMatch(/Orders\.Approver and Orders\.Operator/);
    expect(signedIn).not.toContain('--admin-key');
  });

  it('`npm run seed -- --reset` is refused for a deployed account, allowed locally', () => {
    expect(() => assertResetAllowed(['https://cosmos-x.documents.azure.com:443/'], true)).toThrow(
      /refused for a deployed account/,
    );
    expect(() => assertResetAllowed(['https://cosmos-x.documents.azure.com:443/'], false)).not.toThrow();
    expect(() => assertResetAllowed([localEndpoint], true)).not.toThrow();
  });

  it('azure.yaml runs scripts/postprovision.ts as the postprovision hook on both shells', () => {
    const yaml = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    const hook = /^hooks:\n(?: {2}#.*\n)* {2}postprovision:\n((?: {4}.*\n?)+)/m.exec(yaml);
    expect(hook).not.toBeNull();
    const runs = [...hook![1]!.matchAll(/^ {6}run: (.*)$/gm)].map((m) => m[1]!);
    expect(runs).toHaveLength(2);
    for (const line of runs) expect(line).toContain('node --import tsx scripts/postprovision.ts');
  });
});
