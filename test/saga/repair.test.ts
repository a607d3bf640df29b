/** repairOrder on the middle layer: it retries exactly the failed compensations and reports each one. */
import { REPAIR_ORDER_ORCHESTRATION, repairInstanceId } from '../../src/services/orders/contract';
import type { RepairInput } from '../../src/services/orders/repair-order.orchestrator';
import { failing, ids, startStubbedSaga, type StubbedSaga } from '../support/stubbed-saga';

let saga: StubbedSaga | undefined;
afterEach(async () => {
  await saga?.stop();
  saga = undefined;
});

const input: RepairInput = {
  ...ids,
  failed: [
    { name: 'refundPayment', activity: 'refundPayment', input: { ...ids, note: 'refund' }, error: 'refund API down' },
    { name: 'cancelShipment', activity: 'cancelShipment', input: { ...ids, note: 'cancel' }, error: 'carrier 503' },
  ],
};

async function repair(overrides: Parameters<typeof startStubbedSaga>[0] = {}) {
  saga = await startStubbedSaga(overrides);
  const instanceId = repairInstanceId(ids.orderId);
  saga.engine.startNew(REPAIR_ORDER_ORCHESTRATION, { instanceId, input });
  await saga.settle({ fastForward: true });
  const status = saga.engine.getStatus(instanceId)!;
  expect(status.runtimeStatus).toBe('Completed');
  const [recorded] = saga.callsTo('recordRepairOutcome') as {
    orderId: string;
    correlationId: string;
    outcomes: { name: string; status: string; detail?: string }[];
  }[];
  return { app: saga, output: status.output, recorded };
}

it('runs each failed compensation again with its recorded input, and records that they succeeded', async () => {
  const { app, output, recorded } = await repair();
  expect(app.callsTo('refundPayment')).toEqual([input.failed[0].input]);
  expect(app.callsTo('cancelShipment')).toEqual([input.failed[1].input]);
  expect(app.callsTo('releaseStock')).toEqual([]);
  expect(recorded).toMatchObject({
    ...ids,
    outcomes: [
      { name: 'refundPayment', status: 'succeeded' },
      { name: 'cancelShipment', status: 'succeeded' },
    ],
  });
  expect(app.callsTo('recordRepairOutcome')).toHaveLength(1);
  expect(output).toEqual({ repaired: true });
});

it('a compensation failing again is recorded as failed with its first line, and the others still run', async () => {
  const { app, output, recorded } = await repair({
    refundPayment: failing('still down\n    at stack'),
    recordRepairOutcome: () => ({ repaired: false }),
  });
  expect(app.callsTo('refundPayment')).toHaveLength(6);
  expect(app.callsTo('cancelShipment')).toHaveLength(1);
  expect(recorded.outcomes).toEqual([
    { name: 'refundPayment', status: 'failed', at: expect.any(String), detail: 'still down' },
    { name: 'cancelShipment', status: 'succeeded', at: expect.any(String) },
  ]);
  expect(output).toEqual({ repaired: false });
});
