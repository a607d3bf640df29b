/**
 * The orders context's data: one document per order (its status and step log, written at every
 * status transition) and the catalog the prices come from.
 */
import type { PatchOperation } from '@azure/cosmos';
import { contextDatabase, cosmosStatus, optimisticUpdate, type CompositeIndex } from '../../libs/cosmos';
import type { Currency } from '../../libs/events';
import type { DeadLetterRecord } from './dead-letters';
import {
  FINAL,
  isFinal,
  isRepairable,
  type ApprovalDecision,
  type OrderStatus,
  type OrderView,
  type PlaceOrderInput,
  type StandingDecision,
} from './order-view';

/** What the order list's ORDER BY needs (listRecentOrders); infra/main.bicep declares the same. */
export const ORDER_LIST_INDEX: CompositeIndex = [
  { path: '/updatedAt', order: 'descending' },
  { path: '/orderId', order: 'descending' },
];

export const ordersData = contextDatabase(
  'orders',
  { orders: '/orderId', catalog: '/sku' },
  { orders: [ORDER_LIST_INDEX] },
);

export interface CatalogItem {
  sku: string;
  name: string;
  /** Price per unit, in major units, for every currency the shop sells in. */
  prices: Record<Currency, number>;
}

interface CatalogDocument extends CatalogItem {
  id: string;
}

export interface OrderDocument extends OrderView {
  id: string;
  /** The saga's write sequence: a write with a lower revision than the stored one is stale. */
  revision: number;
  updatedAt: string;
  /** Set when compensations failed for good and the order went to the dead-letter queue. */
  deadLetter?: DeadLetterRecord;
  /** What the order was placed as: the document, not the durable instance, is the order's identity. */
  intake?: Intake;
}

export interface Intake {
  /** SHA-256 of the request as parsed: a repeat of the same body is a retry, another body a conflict. */
  bodyHash: string;
  acceptedAt: string;
  /** The saga's input, kept so that a retry can start the saga a crash kept from starting. */
  input: PlaceOrderInput;
}

/**
 * A final status is final, with one exception: an operator's repair that completes the failed
 * compensations of a CompensationFailed order makes it Compensated.
 */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return !isFinal(from) || (isRepairable(from) && to === 'Compensated');
}

/**
 * Creates the order document, status Accepted, with a create that fails on an existing id: of
 * any number of concurrent requests for one order id exactly one creates it. Returns whether
 * this call did, and the document as it stands.
 */
export async function createOrder(
  input: PlaceOrderInput,
  bodyHash: string,
  now: Date,
): Promise<{ created: boolean; order: OrderDocument }> {
  const { orderId, correlationId, currency } = input.order;
  const document: OrderDocument = {
    id: orderId,
    orderId,
    correlationId,
    status: 'Accepted',
    total: null,
    currency,
    steps: [],
    compensations: [],
    warnings: [],
    revision: 0,
    updatedAt: now.toISOString(),
    intake: { bodyHash, acceptedAt: now.toISOString(), input },
  };
  try {
    await ordersData.container('orders').items.create(document);
    return { created: true, order: document };
  } catch (error) {
    if (cosmosStatus(error) !== 409) throw error;
  }
  const stored = await readOrder(orderId);
  // Created and deleted in between: nothing in this app deletes orders, so this is a fault.
  if (!stored) throw new Error(`order ${orderId}: create conflicted but no document was found`);
  return { created: false, order: stored };
}

/**
 * Records the decision on an approval, first write wins (ETag-guarded). Returns the decision that
 * stands afterwards: `proposed` when it was first, the earlier one otherwise. Only an order that
 * is waiting for approval takes a decision; `undefined` when there is no such order.
 */
export async function recordDecision(
  orderId: string,
  proposed: StandingDecision,
  deadline: string,
): Promise<{ standing: StandingDecision; recorded: boolean } | undefined> {
  let recorded = false;
  const stored = await optimisticUpdate<OrderDocument>(ordersData.container('orders'), orderId, orderId, (current) => {
    recorded = false;
    if (!current || current.approval?.decision) return undefined;
    recorded = true;
    return {
      ...current,
      approval: { deadline: current.approval?.deadline ?? deadline, decision: proposed },
      updatedAt: new Date().toISOString(),
    };
  });
  if (!stored) return undefined;
  return { standing: stored.approval?.decision ?? proposed, recorded };
}

export const sameDecision = (a: StandingDecision, b: ApprovalDecision): boolean =>
  !('timedOut' in a) && a.approved === b.approved && a.approver === b.approver;

/**
 * The catalog, or the given skus of it. Given skus are point reads (one request and 1 RU each, in
 * parallel), not a cross-partition query (a query plan plus the query): validation runs on every
 * order's critical path. A sku no document id can hold is simply not in the catalog.
 */
export async function readCatalog(skus?: readonly string[]): Promise<CatalogItem[]> {
  const container = ordersData.container('catalog');
  let documents: CatalogDocument[];
  if (skus) {
    const readable = [...new Set(skus)].filter((sku) => sku.length > 0 && sku.trim() === sku && !/[/\\?#]/.test(sku));
    const found: (CatalogDocument | undefined)[] = await Promise.all(
      readable.map(async (sku) => (await container.item(sku, sku).read<CatalogDocument>()).resource),
    );
    documents = found.filter(
      (document): document is CatalogDocument => document !== undefined && readable.includes(document.sku),
    );
  } else {
    documents = (await container.items.query<CatalogDocument>({ query: 'SELECT * FROM c' }).fetchAll()).resources;
  }
  return documents.map(({ sku, name, prices }) => ({ sku, name, prices })).sort((a, b) => a.sku.localeCompare(b.sku));
}

/** Loads catalog items; existing items are kept unless `reset` is set. */
export async function seedCatalog(items: readonly CatalogItem[], { reset = false } = {}): Promise<void> {
  const catalog = ordersData.container('catalog');
  for (const item of items) {
    const document: CatalogDocument = { id: item.sku, ...item };
    if (reset) {
      await catalog.items.upsert(document);
      continue;
    }
    try {
      await catalog.items.create(document);
    } catch (error) {
      if (cosmosStatus(error) !== 409) throw error;
    }
  }
}

export async function readOrder(orderId: string): Promise<OrderDocument | undefined> {
  const { resource } = await ordersData.container('orders').item(orderId, orderId).read<OrderDocument>();
  return resource;
}

/**
 * Writes the saga's view of an order unless a newer one is already stored. Activities are
 * delivered at least once, so an old write can arrive late; the revision makes it harmless,
 * and a final status changes only by an operator’s repair (see canMove). A final status is
 * written again only by the saga's late write: the same status with more warnings, the ones its
 * ending added after the final write (OrderSaga.recordLateWarnings, see addsWarnings).
 *
 * One request in the common case: a patch of the saga's fields, conditional on the stored
 * revision and status, so the guard runs inside Cosmos instead of after a read. What the app keeps
 * on the document (the intake, the dead letter) is not among the patched fields, so it stays. A
 * view with an approval is merged with the decision the approval route may have recorded, and an
 * order with no document yet is created: both read first.
 */
export async function saveOrderProgress(revision: number, view: OrderView, now: Date): Promise<'written' | 'stale'> {
  if (!view.approval) {
    const patched = await patchProgress(revision, view, now);
    if (patched !== 'no document') return patched;
  }
  return replaceProgress(revision, view, now);
}

/**
 * Whether `view` may replace a stored final status with the same one: only to add warnings. The
 * saga's warnings only grow, so a write with more of them is its late write, and what is stored
 * is its final write (older, and alike but for those warnings). A repair or a terminate writes
 * the revision above the one it found, which the late write (one above the final write) cannot
 * beat, so the late write never lands on either; a whole repair changes the status as well.
 */
export function addsWarnings(stored: Pick<OrderView, 'status' | 'warnings'>, view: OrderView): boolean {
  return isFinal(view.status) && stored.status === view.status && stored.warnings.length < view.warnings.length;
}

/** The documents `view` may replace (canMove, addsWarnings), as a Cosmos SQL filter. */
export function progressCondition(revision: number, view: Pick<OrderView, 'status' | 'warnings'>): string {
  const to = view.status;
  const from = (statuses: readonly string[]) => statuses.map((status) => `'${status.toLowerCase()}'`).join(', ');
  // Statuses compared lower-cased: the local Cosmos server lower-cases a patch's whole filter
  // before it runs it (string literals included); Azure gives the same answer either way.
  const movable = `NOT (LOWER(c.status) IN (${from(FINAL)}))`;
  const repairable = FINAL.some((status) => canMove(status, to))
    ? [`LOWER(c.status) IN (${from(FINAL.filter((status) => canMove(status, to)))})`]
    : [];
  const moreWarnings =
    isFinal(to) && view.warnings.length > 0
      ? [`(LOWER(c.status) = ${from([to])} AND ARRAY_LENGTH(c.warnings) < ${view.warnings.length})`]
      : [];
  const others = [...repairable, ...moreWarnings];
  const status = others.length > 0 ? `(${[movable, ...others].join(' OR ')})` : movable;
  return `FROM c WHERE c.revision < ${Math.trunc(revision)} AND ${status}`;
}

async function patchProgress(
  revision: number,
  view: OrderView,
  now: Date,
): Promise<'written' | 'stale' | 'no document'> {
  const set = (path: string, value: unknown): PatchOperation => ({ op: 'set', path, value });
  const operations = [
    set('/status', view.status),
    set('/total', view.total),
    set('/steps', view.steps),
    set('/compensations', view.compensations),
    set('/warnings', view.warnings),
    ...(view.reason === undefined ? [] : [set('/reason', view.reason)]),
    ...(view.undoable === undefined ? [] : [set('/undoable', view.undoable)]),
    set('/revision', revision),
    set('/updatedAt', now.toISOString()),
  ];
  try {
    await ordersData
      .container('orders')
      .item(view.orderId, view.orderId)
      .patch({ operations, condition: progressCondition(revision, view) });
    return 'written';
  } catch (error) {
    // 412: the condition does not hold, so a newer (or final) state is stored.
    if (cosmosStatus(error) === 412) return 'stale';
    if (cosmosStatus(error) === 404) return 'no document';
    throw error;
  }
}

async function replaceProgress(revision: number, view: OrderView, now: Date): Promise<'written' | 'stale'> {
  let outcome: 'written' | 'stale' = 'stale';
  await optimisticUpdate<OrderDocument>(ordersData.container('orders'), view.orderId, view.orderId, (stored) => {
    if (
      stored &&
      (stored.revision >= revision || !(canMove(stored.status, view.status) || addsWarnings(stored, view)))
    ) {
      outcome = 'stale';
      return undefined;
    }
    outcome = 'written';
    // What the app, not the saga, keeps on the document: how it was placed, the decision, the dead letter.
    const { intake, deadLetter, approval } = stored ?? {};
    return {
      ...view,
      id: view.orderId,
      revision,
      updatedAt: now.toISOString(),
      ...(intake ? { intake } : {}),
      ...(deadLetter ? { deadLetter } : {}),
      ...(approval?.decision ? { approval: { ...view.approval, ...approval } } : {}),
    };
  });
  return outcome;
}

/**
 * Read-decide-write on an existing order document, guarded by its ETag: `decide` returns the new
 * document, or undefined to leave it as it is. Returns what is stored afterwards.
 */
export async function updateOrder(
  orderId: string,
  decide: (stored: OrderDocument) => OrderDocument | undefined,
): Promise<OrderDocument> {
  const stored = await optimisticUpdate<OrderDocument>(ordersData.container('orders'), orderId, orderId, (current) => {
    if (!current) throw new Error(`order ${orderId}: no order document`);
    return decide(current);
  });
  return stored!;
}

/** One line of the order list: enough to pick an order, without its step log. */
export type OrderSummary = Pick<OrderDocument, 'orderId' | 'status' | 'total' | 'currency' | 'updatedAt'>;

/** Where a page of the order list ends: its last order's `updatedAt` and id (ties on `updatedAt` go by id). */
export type OrderListCursor = Pick<OrderSummary, 'updatedAt' | 'orderId'>;

/**
 * The most recently updated orders first (an order in flight is updated at every status change,
 * so a new order comes first), a page at a time: `before` is the last order of the previous page
 * (keyset paging: no OFFSET to pay for). Orders updated at the same instant go by id, newest
 * first too, so that a page ending among them misses none of the rest. `search` matches part of
 * the order id or a whole status, ignoring case. `limit` and the rest are the caller's, already checked.
 */
export async function listRecentOrders(
  limit: number,
  { before, search }: { before?: OrderListCursor; search?: string } = {},
): Promise<OrderSummary[]> {
  const filters = [
    ...(before ? ['(c.updatedAt < @at OR (c.updatedAt = @at AND c.orderId < @id))'] : []),
    ...(search ? ['(CONTAINS(LOWER(c.orderId), @search) OR LOWER(c.status) = @search)'] : []),
  ];
  const { resources } = await ordersData
    .container('orders')
    .items.query<OrderSummary>({
      query: `SELECT TOP @limit c.orderId, c.status, c.total, c.currency, c.updatedAt FROM c ${filters.length ? `WHERE ${filters.join(' AND ')} ` : ''}ORDER BY c.updatedAt DESC, c.orderId DESC`,
      parameters: [
        { name: '@limit', value: limit },
        ...(before
          ? [
              { name: '@at', value: before.updatedAt },
              { name: '@id', value: before.orderId },
            ]
          : []),
        ...(search ? [{ name: '@search', value: search.toLowerCase() }] : []),
      ],
    })
    .fetchAll();
  return resources;
}
