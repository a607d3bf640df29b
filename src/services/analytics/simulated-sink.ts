/**
 * The simulated analytics sink, the AnalyticsSink behind `PROVIDERS=simulated`: where order facts go for reporting. It is not critical to
 * selling, and it can be down: customer id `analytics-down` stands for an order arriving while
 * it is, so every attempt to record that order fails transiently.
 */
import { TransientError } from '../../libs/errors';
import { simulatedLatency } from '../../libs/simulation';
import { recordFact, retractFact, type FactDocument, type OrderSale } from './repository';
import type { AnalyticsSink } from './sink';

const SINK_DOWN_FOR_CUSTOMER = 'analytics-down';

async function record(sale: OrderSale): Promise<FactDocument> {
  await simulatedLatency('analytics');
  if (sale.customerId === SINK_DOWN_FOR_CUSTOMER) throw new TransientError('analytics sink unavailable');
  return recordFact(sale, new Date());
}

async function retract(orderId: string): Promise<{ wasRecorded: boolean }> {
  await simulatedLatency('analytics');
  return retractFact(orderId, new Date());
}

export const simulatedSink: AnalyticsSink = { record, retract };
