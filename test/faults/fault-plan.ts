/**
 * Which fault each activity call gets. Decided by hashing (seed, order, activity, task, attempt,
 * delivery) rather than by drawing from one random stream, so a seed replays the same faults
 * whatever order the concurrent activities happen to run in.
 */
import { createHash } from 'node:crypto';
import type { ActivityCall, Fault, FaultInjector } from '../../local/engine/activities';
import { repairInstanceId } from '../../src/services/orders/contract';

export type FaultKind = 'transient' | 'permanent' | 'slow' | 'crashAfterSideEffect';

/** A number in [0, 1) that depends only on its parts. */
export function unitHash(...parts: (string | number)[]): number {
  return createHash('sha256').update(parts.join('|')).digest().readUInt32BE(0) / 2 ** 32;
}

export interface FaultRates {
  /** Per call: fail before running. */
  transient: number;
  /** Per call: run, then lose the result (the host re-delivers the task). */
  crashAfterSideEffect: number;
  /** Per call: run late. */
  slow: number;
  /** Per (order, step): the dependency stays down through every retry. */
  permanent: number;
}

export const DEFAULT_RATES: FaultRates = { transient: 0.08, crashAfterSideEffect: 0.05, slow: 0.06, permanent: 0.025 };

/**
 * The saga's own bookkeeping (its progress writes, the dead letter and the published ending) gets every kind of fault
 * but a permanent one: an outage that outlasts those retries is not a saga outcome to test but an
 * operations incident, and would only show up as a document that lags behind its saga.
 */
const BOOKKEEPING = new Set([
  'recordOrderProgress',
  'deadLetterOrder',
  'recordDeadLetter',
  'recordRepairOutcome',
  'publishOrderOutcome',
]);

export function faultPlan(seed: number, rates: FaultRates = DEFAULT_RATES) {
  const injected: Record<FaultKind, number> = { transient: 0, permanent: 0, slow: 0, crashAfterSideEffect: 0 };
  const injector: FaultInjector = (call: ActivityCall): Fault => {
    // An operator's repair runs after the cause was fixed: it gets passing faults, not outages.
    const repair = call.instanceId.endsWith(repairInstanceId(''));
    const permanent =
      !repair &&
      !BOOKKEEPING.has(call.activityName) &&
      unitHash(seed, call.instanceId, call.activityName, 'permanent') < rates.permanent;
    if (permanent) {
      injected.permanent += 1;
      return 'transient';
    }
    const roll = unitHash(seed, call.instanceId, call.activityName, call.taskId, call.attempt, call.delivery);
    let threshold = rates.transient;
    if (roll < threshold) {
      injected.transient += 1;
      return 'transient';
    }
    threshold += rates.crashAfterSideEffect;
    if (roll < threshold) {
      injected.crashAfterSideEffect += 1;
      return 'crashAfter';
    }
    threshold += rates.slow;
    if (roll < threshold) {
      injected.slow += 1;
      return { delayMs: 1_000 + Math.floor(unitHash(seed, call.instanceId, call.taskId, 'delay') * 59_000) };
    }
    return undefined;
  };
  return { injector, injected };
}
