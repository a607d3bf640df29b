/**
 * The fault campaign: many orders with every knob, through the real saga on the durable engine
 * and the real local Cosmos server and Azurite, while a seeded fault plan breaks activities and
 * compensations in every way the issue names. When all have settled, the invariants are checked.
 */
import { startTestApp, type TestApp } from '../../local/engine/testing';
import { startAzuriteQueues } from '../../local/dependencies/azurite';
import { startCosmosServer } from '../../local/dependencies/cosmos-server';
import { EventType } from '../../local/engine/history';
import { provisionLocalDatabases, provisionLocalQueues, seedDemoCatalog } from '../../local/dependencies/provision';
import type { SeedItem } from '../../local/dependencies/seed-data';
import { resetCosmosClients } from '../../src/libs/cosmos';
import { InventoryActivities } from '../../src/services/inventory/contract';
import { readStock } from '../../src/services/inventory/repository';
import { reserveStock } from '../../src/services/inventory/reserve-stock';
import type { OrderView } from '../../src/services/orders/order-view';
import { readOrder } from '../../src/services/orders/repository';
import { readLedgerEntry, writeLedgerEntry } from '../../src/services/payments/repository';
import { orderRequest, type OrderRequest } from '../support/orders';
import { faultPlan, unitHash, type FaultKind } from './fault-plan';
import { checkInvariants, type Violation } from './invariants';
import { asOperator } from '../support/principals';
import { invocation } from '../services/helpers';

export interface CampaignReport {
  seed: number;
  orders: number;
  faults: Record<FaultKind, number>;
  /** Final statuses when the sagas settled, and after the operator repaired the dead letters. */
  statuses: Record<string, number>;
  statusesAfterRepair: Record<string, number>;
  deadLetters: number;
  /** Reserves delivered once more after every saga ended. */
  lateReserves: number;
  violations: Violation[];
  seconds: number;
}

/** Little stock on some items, so that out-of-stock compensations happen under concurrency too. */
const CAMPAIGN_CATALOG: SeedItem[] = [
  { sku: 'CAMP-CABLE', name: 'Cable', prices: { EUR: 9.9, USD: 10.9, GBP: 8.9 }, stock: 600 },
  { sku: 'CAMP-LAMP', name: 'Desk lamp', prices: { EUR: 39.5, USD: 42, GBP: 35 }, stock: 120 },
  { sku: 'CAMP-CHAIR', name: 'Chair', prices: { EUR: 249, USD: 269, GBP: 219 }, stock: 25 },
  { sku: 'CAMP-DESK', name: 'Standing desk', prices: { EUR: 1190, USD: 1290, GBP: 1049 }, stock: 12 },
];

/** One order per index, its knobs drawn from the seed. */
export function campaignOrder(seed: number, index: number): OrderRequest {
  const pick = <T>(label: string, weighted: [T, number][]): T => {
    let roll = unitHash(seed, index, label) * weighted.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [value, weight] of weighted) if ((roll -= weight) < 0) return value;
    return weighted[0][0];
  };
  const skus = CAMPAIGN_CATALOG.map((item) => item.sku).filter(
    (sku) => sku !== 'CAMP-DESK' || unitHash(seed, index, 'desk') < 0.15,
  );
  const lines = skus
    .filter((sku, position) => position === 0 || unitHash(seed, index, sku) < 0.4)
    .map((sku) => ({ sku, quantity: 1 + Math.floor(unitHash(seed, index, sku, 'qty') * 3) }));
  return orderRequest({
    orderId: `camp-${seed}-${index}`,
    customerId: pick('customer', [
      ['customer', 95],
      ['analytics-down', 5],
    ]),
    customerEmail: pick('email', [
      [`c${index}@example.com`, 95],
      [`c${index}@bounce.test`, 5],
    ]),
    items: lines,
    payment: {
      token: pick('token', [
        ['tok_visa', 70],
        ['tok_flaky', 8],
        ['tok_declined', 6],
        ['tok_gateway_down', 4],
        ['tok_refund_fails', 8],
        ['tok_unknown', 4],
      ]),
    },
    shippingAddress: {
      line1: '1 Main St',
      city: 'Berlin',
      country: 'DE',
      postalCode: pick('postal', [
        ['10115', 92],
        ['00000', 8],
      ]),
    },
  });
}

export async function runCampaign(options: {
  orders: number;
  seed: number;
  log?: (line: string) => void;
}): Promise<CampaignReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const [cosmos, azurite] = await Promise.all([startCosmosServer(), startAzuriteQueues()]);
  let app: TestApp | undefined;
  try {
    process.env.COSMOS_ENDPOINT = cosmos.endpoint;
    process.env.AzureWebJobsStorage = azurite.connectionString;
    resetCosmosClients();
    await Promise.all([provisionLocalDatabases(), provisionLocalQueues()]);
    await seedDemoCatalog(CAMPAIGN_CATALOG);

    const plan = faultPlan(options.seed);
    app = await startTestApp({
      entry: require.resolve('../../src/index'),
      faults: plan.injector,
      maxConcurrentActivities: 24,
    });
    const orderIds: string[] = [];
    for (let index = 0; index < options.orders; index += 1) {
      const request = campaignOrder(options.seed, index);
      const response = await app.http('POST', '/api/orders', { body: request });
      if (response.status !== 202)
        throw new Error(`order ${index} was not accepted: ${response.status} ${response.text}`);
      orderIds.push(request.orderId);
    }
    log(`placed ${orderIds.length} orders; running the sagas with faults (seed ${options.seed})`);
    await runToTheEnd(app, options.seed, log);

    const initialStock = Object.fromEntries(CAMPAIGN_CATALOG.map((item) => [item.sku, item.stock]));
    const statuses = await countStatuses(orderIds);
    const settled = await checkInvariants(orderIds, initialStock, { awaitingRepair: true });
    const deadLettered = orderIds.filter(
      (orderId) =>
        app!.status(orderId)?.customStatus &&
        (app!.status(orderId)!.customStatus as OrderView).status === 'CompensationFailed',
    );
    await repairAsAnOperator(app, deadLettered, log);
    const repaired = await checkInvariants(orderIds, initialStock);
    const late = await redeliverReservesLate(app, orderIds);
    return {
      seed: options.seed,
      orders: orderIds.length,
      faults: { ...plan.injected },
      statuses,
      statusesAfterRepair: await countStatuses(orderIds),
      deadLetters: deadLettered.length,
      lateReserves: late.delivered,
      violations: [
        ...settled,
        ...repaired.map((violation) => ({ ...violation, invariant: `after repair: ${violation.invariant}` })),
        ...late.violations,
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await app?.stop();
    resetCosmosClients();
    await Promise.all([cosmos.stop(), azurite.stop()]);
  }
}

/**
 * Lets virtual time pass in steps, so that retries happen, and answers each large order once it
 * waits for approval: most are approved, some rejected, some left to time out after 24 hours.
 */
async function runToTheEnd(app: TestApp, seed: number, log: (line: string) => void): Promise<void> {
  const decided = new Set<string>();
  for (let round = 0; round < 500; round += 1) {
    await app.settle();
    const open = app.engine.listInstances({ runtimeStatus: ['Pending', 'Running'] });
    if (open.length === 0) return;
    for (const instance of open) {
      const view = instance.customStatus as OrderView | undefined;
      if (view?.status !== 'AwaitingApproval' || decided.has(instance.instanceId)) continue;
      decided.add(instance.instanceId);
      const roll = unitHash(seed, instance.instanceId, 'approval');
      // Straight on the instance, as a script past the approval route would: the saga records it on the order.
      const decidedAt = new Date(app.clock.now()).toISOString();
      if (roll < 0.8)
        app.engine.raiseEvent(instance.instanceId, 'ApprovalDecision', {
          approved: roll < 0.65,
          approver: 'campaign',
          decidedAt,
        });
    }
    if (round % 20 === 0) log(`  round ${round}: ${open.length} orders in flight`);
    await app.advanceTime(30_000);
  }
  await app.settle({ fastForward: true });
}

async function countStatuses(orderIds: readonly string[]): Promise<Record<string, number>> {
  const statuses: Record<string, number> = {};
  for (const orderId of orderIds) {
    const status = (await readOrder(orderId))?.status ?? 'none';
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  return statuses;
}

/**
 * What a person does with the dead-letter queue: fix the cause (here, the payment provider stops
 * failing refunds), then retry each order's failed compensations through the operator endpoint,
 * until none is left or five rounds have passed.
 */
async function repairAsAnOperator(
  app: TestApp,
  orderIds: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  for (const orderId of orderIds) {
    const charge = await readLedgerEntry(`${orderId}:charge`);
    if (charge?.value.token === 'tok_refund_fails')
      await writeLedgerEntry({ ...charge.value, token: 'tok_visa' }, charge.etag);
  }
  let open = [...orderIds];
  for (let round = 1; round <= 5 && open.length > 0; round += 1) {
    log(`operator round ${round}: retrying ${open.length} dead-lettered orders`);
    for (const orderId of open) {
      const response = await app.http('POST', `/api/operations/dead-letters/${orderId}/retry`, {
        headers: asOperator('campaign-operator'),
      });
      if (response.status !== 202) throw new Error(`retry of ${orderId}: ${response.status} ${response.text}`);
    }
    await app.settle({ fastForward: true });
    const stillOpen: string[] = [];
    for (const orderId of open)
      if ((await readOrder(orderId))?.status === 'CompensationFailed') stillOpen.push(orderId);
    open = stillOpen;
  }
}

/**
 * At-least-once delivery, late: a worker ran an activity, sent its result and died before its
 * message was deleted, and the message came back after the saga had ended. Every reserve each saga
 * scheduled is delivered once more, with the input it was scheduled with, and no stock may move:
 * a completed order's holds were folded into its sold units, a cancelled order's released.
 */
async function redeliverReservesLate(
  app: TestApp,
  orderIds: readonly string[],
): Promise<{ delivered: number; violations: Violation[] }> {
  const stockLevels = async () =>
    Object.fromEntries(
      await Promise.all(
        CAMPAIGN_CATALOG.map(async ({ sku }) => {
          const stock = await readStock(sku);
          return [sku, { available: stock?.available, committed: stock?.committed, holds: stock?.holds }] as const;
        }),
      ),
    );
  const before = await stockLevels();
  let delivered = 0;
  for (const orderId of orderIds) {
    for (const event of app.status(orderId)?.history ?? []) {
      if (event.EventType !== EventType.TaskScheduled || event.Name !== InventoryActivities.reserve) continue;
      await reserveStock(JSON.parse(event.Input!), invocation(InventoryActivities.reserve));
      delivered += 1;
    }
  }
  const after = await stockLevels();
  const violations = CAMPAIGN_CATALOG.filter(
    ({ sku }) => JSON.stringify(before[sku]) !== JSON.stringify(after[sku]),
  ).map(({ sku }) => ({
    invariant: 'a reserve redelivered after its saga ended moves no stock',
    subject: sku,
    detail: `${JSON.stringify(before[sku])} → ${JSON.stringify(after[sku])}`,
  }));
  return { delivered, violations };
}

export function formatReport(report: CampaignReport): string {
  const lines = [
    `fault campaign  seed ${report.seed}  (replay: FAULT_SEED=${report.seed} FAULT_ORDERS=${report.orders} npm run test:faults)`,
    `orders: ${report.orders}    time: ${report.seconds.toFixed(1)} s`,
    `faults injected: ${Object.entries(report.faults)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')}`,
    `final status: ${formatCounts(report.statuses)}`,
    `dead letters: ${report.deadLetters}; after the operator's retries: ${formatCounts(report.statusesAfterRepair)}`,
    `reserves delivered again after every saga ended: ${report.lateReserves}`,
    ...report.violations
      .slice(0, 50)
      .map((violation) => `  VIOLATION ${violation.invariant}: ${violation.subject} — ${violation.detail}`),
    `invariant violations: ${report.violations.length}`,
  ];
  return lines.join('\n');
}

const formatCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort()
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
