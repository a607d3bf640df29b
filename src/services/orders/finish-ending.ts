/**
 * What a saga that was terminated in its ending still owed, finished by the operator's terminate
 * route (terminate-order.http.ts) from the saga's final view and the order's own data; also what
 * an ending the orders database missed left unrecorded (the dead-letter retry route).
 *
 * A saga whose custom status is final has decided how the order ends; what it still does then is
 * its ending (saga.ts `complete` / `abort`, then `announce`): the final progress write, for a
 * Completed order the stock commit, for a CompensationFailed one the dead letter, and the outcome
 * fact. A terminate that lands then stops it there. What it had already scheduled runs once (the
 * activity messages are sent; only their results are dropped, and their retries never come), and
 * nothing after: so the document may lag, the order's stock may stay held, nobody is asked to
 * repair the order, and no consumer hears how it ended. This finishes each of those, in the
 * saga's order, each idempotent, so a repeat of the route (or a saga activity that did run)
 * doubles nothing that matters. The commit is the inventory's step, so it runs as the saga runs
 * it: an activity with the saga's retries, in a small orchestration of its own (commitSoldStock).
 */
import type * as df from 'durable-functions';
import { config } from '../../libs/config';
import { TransientError } from '../../libs/errors';
import type { OrderPlaced } from '../../libs/events';
import type { CommitSoldStockInput } from './commit-sold-stock.orchestrator';
import { COMMIT_SOLD_STOCK_ORCHESTRATION, commitInstanceId } from './contract';
import { recordDeadLetter, sendDeadLetterForRoute, type FailedCompensation } from './dead-letters';
import { findInstance } from './http/instance';
import { isFinal, type FinalStatus, type OrderView } from './order-view';
import { undosOf } from './place-order.orchestrator';
import { sendOrderOutcome } from './publish-order-outcome';
import { readOrder, saveOrderProgress } from './repository';

export interface FinishedEnding {
  /** Whether this call wrote the final view to the order document (false: it was final already). */
  documentWritten: boolean;
  /** For a Completed order: the instance that commits its stock, and whether this call started it (else it runs or ran). */
  stockCommit?: { instanceId: string; started: boolean };
  /** For a CompensationFailed order: the failed compensations its one dead letter holds (sent now or before). */
  deadLettered?: string[];
  /** The outcome fact sent to the order-events queue. */
  published: string;
}

/** How often the final write is tried again when a saga write landed in between (each time at a newer revision). */
const WRITE_ATTEMPTS = 3;

export async function finishEnding(
  client: df.DurableClient,
  view: OrderView & { status: FinalStatus },
  placed: OrderPlaced,
): Promise<FinishedEnding> {
  const { orderId, correlationId } = view;
  const documentWritten = await writeFinalView(view);
  const stockCommit = view.status === 'Completed' ? await commitStock(client, placed) : undefined;
  // On the saga's clock, as the saga dates its letter and its fact (see DURABLE_CLOCK).
  const at = new Date(config.durableNow()).toISOString();

  let deadLettered: string[] | undefined;
  if (view.status === 'CompensationFailed') {
    const undos = [...undosOf(placed).values()];
    const failed: FailedCompensation[] = view.compensations
      .filter((entry) => entry.status === 'failed')
      .flatMap((entry) => {
        const undoing = undos.find((declared) => declared.name === entry.name);
        return undoing
          ? [{ name: entry.name, activity: undoing.activity, input: undoing.input, error: entry.detail ?? 'failed' }]
          : [];
      });
    // Once per order: a letter already claimed on the document (by the saga's own dead-letter
    // activity, or an earlier call) is the one that stands, and nothing is sent again; one the
    // saga sent but could not record is recorded as the message it went out as, not sent again.
    const letter = { orderId, correlationId, reason: view.reason ?? '', failed, deadLetteredAt: at };
    if (view.unrecordedDeadLetter) await recordDeadLetter(letter, view.unrecordedDeadLetter.messageId);
    else await sendDeadLetterForRoute(letter);
    deadLettered = failed.map((entry) => entry.name);
  }

  const { type } = await sendOrderOutcome({
    orderId,
    correlationId,
    customerId: placed.customerId,
    status: view.status,
    reason: view.reason,
    total: view.total,
    currency: view.currency,
    at,
  });
  return {
    documentWritten,
    ...(stockCommit ? { stockCommit } : {}),
    ...(deadLettered ? { deadLettered } : {}),
    published: type,
  };
}

/** Starts the order's stock commit unless one runs or has completed (a failed one is started again). */
async function commitStock(
  client: df.DurableClient,
  placed: OrderPlaced,
): Promise<{ instanceId: string; started: boolean }> {
  const instanceId = commitInstanceId(placed.orderId);
  const existing = await findInstance(client, instanceId);
  if (existing && !['Failed', 'Terminated'].includes(existing.runtimeStatus)) return { instanceId, started: false };
  const input: CommitSoldStockInput = {
    orderId: placed.orderId,
    correlationId: placed.correlationId,
    lines: placed.items.map(({ sku, quantity }) => ({ sku, quantity })),
  };
  await client.startNew(COMMIT_SOLD_STOCK_ORCHESTRATION, { instanceId, input });
  return { instanceId, started: true };
}

/**
 * Writes the saga's final view unless the document is final already (a final status is never
 * overwritten), through the repository's revision guard: at the revision after the stored one, so
 * a saga write that lands first makes this one stale (it is tried again on what is stored then),
 * and one that lands later finds the document final and is refused.
 */
async function writeFinalView(view: OrderView): Promise<boolean> {
  for (let attempt = 1; ; attempt += 1) {
    const stored = await readOrder(view.orderId);
    if (!stored) throw new Error(`order ${view.orderId}: no order document`);
    if (isFinal(stored.status)) return false;
    if ((await saveOrderProgress(stored.revision + 1, view, new Date())) === 'written') return true;
    if (attempt === WRITE_ATTEMPTS)
      throw new TransientError(`order ${view.orderId}: the saga's writes kept landing first; call again`);
  }
}
