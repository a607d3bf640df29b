/**
 * Durable for real: the host is SIGKILLed with orders in flight (one waiting out a retry backoff,
 * one inside the parallel step), started again on the same data folder, and every order still
 * ends where it would have, with no step's effect repeated: one charge per order in the gateway
 * ledger, one stock hold, one message of each kind, one shipment. Then a graceful SIGTERM, and a
 * start after the embedded dependencies were lost (fresh data, empty durable store).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileInstanceStore } from '../../local/engine/file-store';
import { stateFile } from '../../local/host/dependencies';
import { isRunning, killGroup } from '../../local/host/processes';
import { SEED_CATALOG } from '../../local/dependencies/seed-data';
import { readStock } from '../../src/services/inventory/repository';
import { listMessages } from '../../src/services/notifications/repository';
import { readOrder } from '../../src/services/orders/repository';
import { readShipment } from '../../src/services/shipping/repository';
import type { OrderView } from '../../src/services/orders/order-view';
import { ledgerOf, useHostCosmos } from './support/app-data';
import { hostFixture, type HostFixture, type HostProcess } from './support/host-process';
import { call, until } from './support/http';
import { asApprover } from '../support/principals';

jest.setTimeout(120_000);

/** Slow enough providers, and time slow enough, that a kill finds work in flight. */
const HOST_ENV = { DURABLE_TIME_SCALE: '8', SIMULATED_LATENCY_MS: 'gateway=250,carrier=250,mailer=250,analytics=250' };
const FINAL = ['Completed', 'Rejected', 'Failed', 'Compensated', 'CompensationFailed'];
const run = Date.now().toString(36);

interface Case {
  orderId: string;
  sku: string;
  quantity: number;
  changes: Record<string, unknown>;
  expected: string;
}
const berlin = { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' };
const cases: Record<'visa' | 'flaky' | 'down' | 'undo' | 'large' | 'visa2', Case> = {
  visa: { orderId: `crash-visa-${run}`, sku: 'MOUSE-ERGO', quantity: 2, changes: {}, expected: 'Completed' },
  flaky: {
    orderId: `crash-flaky-${run}`,
    sku: 'KEYBOARD-MECH',
    quantity: 1,
    changes: { payment: { token: 'tok_flaky' } },
    expected: 'Completed',
  },
  down: {
    orderId: `crash-down-${run}`,
    sku: 'HEADPHONES-NC',
    quantity: 1,
    changes: { payment: { token: 'tok_gateway_down' } },
    expected: 'Failed',
  },
  undo: {
    orderId: `crash-undo-${run}`,
    sku: 'USB-C-DOCK',
    quantity: 1,
    changes: { shippingAddress: { ...berlin, postalCode: '00000' } },
    expected: 'Compensated',
  },
  large: { orderId: `crash-large-${run}`, sku: 'LAPTOP-PRO-16', quantity: 1, changes: {}, expected: 'Completed' },
  visa2: { orderId: `crash-visa2-${run}`, sku: 'MONITOR-27-4K', quantity: 1, changes: {}, expected: 'Completed' },
};

let fixture: HostFixture | undefined;
let host: HostProcess | undefined;
let restoreCosmos: (() => void) | undefined;
const hosts: HostProcess[] = [];

async function startHost(): Promise<HostProcess> {
  host = await fixture!.start('data', HOST_ENV);
  hosts.push(host);
  return host;
}

const dataDir = () => join(fixture!.root, 'data');
const status = (orderId: string) =>
  call<{ runtimeStatus: string; customStatus: OrderView | null; historyEvents?: { EventType: string }[] }>(
    'GET',
    `${host!.baseUrl}/runtime/webhooks/durabletask/instances/${orderId}?showHistory=true`,
  );
const sagaStatus = async (orderId: string) => (await status(orderId)).json.customStatus?.status;
/** The durable store as the killed host left it (read while no host runs). */
const storedRecord = (orderId: string) => new FileInstanceStore(join(dataDir(), 'durable', 'instances')).get(orderId)!;

beforeAll(async () => {
  fixture = hostFixture('crash');
  await startHost();
});

afterAll(async () => {
  restoreCosmos?.();
  await fixture?.cleanup(hosts);
});

it('SIGKILL while an order waits out a retry backoff: the store holds the timer, the others are mid-saga', async () => {
  for (const { orderId, sku, quantity, changes } of Object.values(cases)) {
    const body = {
      orderId,
      customerId: 'ada',
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      items: [{ sku, quantity }],
      payment: { token: 'tok_visa' },
      shippingAddress: berlin,
      ...changes,
    };
    expect((await call('POST', `${host!.baseUrl}/api/orders`, body)).status).toBe(202);
  }
  // tok_flaky fails twice; after a failure the saga waits on a retry timer before the next try.
  await until(
    () => status(cases.flaky.orderId),
    (response) => {
      const types = response.json.historyEvents?.map((event) => event.EventType) ?? [];
      return (
        types.filter((type) => type === 'TimerCreated').length > types.filter((type) => type === 'TimerFired').length
      );
    },
    20_000,
    20,
  );
  await host!.signal('SIGKILL');

  const flaky = storedRecord(cases.flaky.orderId);
  expect(Object.values(flaky.pendingTimers).some((timer) => timer.chainId !== undefined)).toBe(true);
  const inFlight = Object.values(cases).filter(
    ({ orderId }) => !['Completed', 'Failed', 'Terminated'].includes(storedRecord(orderId).status),
  );
  expect(inFlight.length).toBeGreaterThanOrEqual(3);
});

it('SIGKILL inside the parallel step: the store holds its activities as pending', async () => {
  await startHost();
  expect(host!.output()).toMatch(/resuming \d+ instance\(s\) in flight/);
  const { orderId } = cases.large;
  await until(
    () => sagaStatus(orderId),
    (current) => current === 'AwaitingApproval',
    20_000,
    50,
  );
  expect(
    (await call('POST', `${host!.baseUrl}/api/orders/${orderId}/approval`, { approved: true }, asApprover('ops')))
      .status,
  ).toBe(202);
  // The three branches are logged as running once the saga has scheduled them together.
  await until(
    () => status(orderId),
    (response) =>
      (response.json.customStatus?.steps ?? []).filter(
        (step) => ['reserve', 'confirm', 'analytics'].includes(step.name) && step.status === 'running',
      ).length >= 2,
    20_000,
    10,
  );
  await host!.signal('SIGKILL');
  expect(Object.keys(storedRecord(orderId).pendingActivities).length).toBeGreaterThanOrEqual(2);
});

describe('after a restart on the same data folder', () => {
  const views: Record<string, OrderView> = {};

  beforeAll(async () => {
    await startHost();
    for (const { orderId } of Object.values(cases)) {
      const final = await until(
        () => call<OrderView>('GET', `${host!.baseUrl}/api/orders/${orderId}`),
        (response) => FINAL.includes(response.json?.status),
        60_000,
        200,
      );
      views[orderId] = final.json;
    }
    restoreCosmos = useHostCosmos(dataDir());
  });

  it.each(Object.entries(cases))('%s ends as it would have without the crashes', (_name, { orderId, expected }) => {
    expect(views[orderId].status).toBe(expected);
    const names = views[orderId].steps.map((step) => step.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(Object.entries(cases))(
    '%s: charged at most once, refunded only when undone',
    async (_name, { orderId, expected }) => {
      const { charges, refunds } = await ledgerOf(orderId);
      const charged = expected === 'Failed' ? 0 : 1;
      expect([charges.length, refunds.length]).toEqual([charged, expected === 'Compensated' ? 1 : 0]);
      if (charged) expect(charges[0].amount).toBe(views[orderId].total);
    },
  );

  it.each(Object.entries(cases))(
    '%s: stock sold once and never oversold, one message of each kind, one shipment',
    async (_name, { orderId, sku, quantity, expected }) => {
      const stock = (await readStock(sku))!;
      const seeded = SEED_CATALOG.find((item) => item.sku === sku)!.stock;
      const kept = expected === 'Completed' ? quantity : 0;
      // Across the kills and restarts: a final order holds nothing; a completed one's units were sold exactly once.
      expect(stock.holds[orderId] ?? 0).toBe(0);
      // Each order has its own sku here, so the shelf shows exactly this order's effect.
      expect({ available: stock.available, committed: stock.committed ?? 0 }).toEqual({
        available: seeded - kept,
        committed: kept,
      });
      const messages = (await listMessages(orderId)).map((message) => message.kind).sort();
      expect(messages).toEqual(
        { Completed: ['confirmation'], Compensated: ['cancellation', 'confirmation'], Failed: [] }[expected],
      );
      expect((await readShipment(orderId))?.status ?? 'none').toBe(expected === 'Completed' ? 'created' : 'none');
      expect((await readOrder(orderId))?.status).toBe(expected);
    },
  );
});

it('SIGTERM stops gracefully: the running activity finishes, exit code 0, and the order completes after a restart', async () => {
  const orderId = `crash-graceful-${run}`;
  const body = {
    orderId,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'MOUSE-ERGO', quantity: 1 }],
    payment: { token: 'tok_visa' },
    shippingAddress: berlin,
  };
  expect((await call('POST', `${host!.baseUrl}/api/orders`, body)).status).toBe(202);
  await until(
    () => sagaStatus(orderId),
    (current) => current === 'Paying',
    10_000,
    10,
  );
  expect(await host!.signal('SIGTERM')).toBe(0);
  // Said only when the running work drained within the grace period.
  expect(host!.output()).toContain('stopped; everything in flight is stored');

  await startHost();
  const done = await until(
    () => call<OrderView>('GET', `${host!.baseUrl}/api/orders/${orderId}`),
    (response) => FINAL.includes(response.json?.status),
    30_000,
    200,
  );
  expect(done.json.status).toBe('Completed');
  expect((await ledgerOf(orderId)).charges).toHaveLength(1);
  await host!.signal('SIGTERM');
});

it('when the embedded dependencies are gone, starts fresh ones and an empty durable store, and says so', async () => {
  const recorded = JSON.parse(readFileSync(stateFile(dataDir()), 'utf8')) as {
    cosmos: { pid: number };
    azurite: { pid: number };
  };
  // As after a reboot: the in-memory Cosmos server and Azurite are gone with all their data.
  killGroup(recorded.cosmos.pid, 'SIGKILL');
  killGroup(recorded.azurite.pid, 'SIGKILL');
  await until(
    async () => isRunning(recorded.cosmos.pid),
    (alive) => !alive,
    5000,
    50,
  );

  await startHost();
  expect(host!.output()).toMatch(/local Cosmos server \(pid \d+\) is gone/);
  expect(host!.output()).toContain('starting from an empty durable store');
  expect((await call('GET', `${host!.baseUrl}/api/orders/${cases.visa.orderId}`)).status).toBe(404);
  expect((await call<unknown[]>('GET', `${host!.baseUrl}/runtime/webhooks/durabletask/instances`)).json).toEqual([]);
  const catalog = await call<{ sku: string; stock: number }[]>('GET', `${host!.baseUrl}/api/catalog`);
  expect(catalog.json.find((item) => item.sku === 'MOUSE-ERGO')?.stock).toBe(
    SEED_CATALOG.find((item) => item.sku === 'MOUSE-ERGO')!.stock,
  );
});
