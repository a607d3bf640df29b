/**
 * Where the analytics context sends order facts for reporting. Not critical to selling: a sink
 * that cannot be reached throws TransientError, and the saga goes on with a warning. The
 * implementation is chosen by the PROVIDERS setting (analytics/index.ts); the only one today is
 * simulated-sink.ts.
 */
import type { FactDocument, OrderSale } from './repository';

export interface AnalyticsSink {
  /** Records the order's fact; one already retracted stays retracted. */
  record(sale: OrderSale): Promise<FactDocument>;
  /** Marks the order's fact retracted, recorded or not (a tombstone stops a late record). */
  retract(orderId: string): Promise<{ wasRecorded: boolean }>;
}
