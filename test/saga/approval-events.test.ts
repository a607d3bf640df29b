/**
 * Which events raised on a waiting order count as a person's decision. Anything can be raised on
 * an instance through the management API; only a well-formed decision ends the wait, anything
 * else leaves the order waiting until the same deadline. (One test, so that it is the one that
 * loads the orchestrator: the event's schema is built when the module loads.)
 */
import { APPROVAL_EVENT } from '../../src/services/orders/contract';
import { ids, placeOrderInput, startStubbedSaga, type StubbedSaga } from '../support/stubbed-saga';

let saga: StubbedSaga | undefined;
afterEach(async () => {
  await saga?.stop();
  saga = undefined;
});

it('ignores a decision with a blank, overlong or unprintable approver or a time with no zone, and takes a well-formed one', async () => {
  saga = await startStubbedSaga();
  await saga.start(placeOrderInput({ approvalThreshold: 100 }), { fastForward: false });
  const decidedAt = new Date(saga.clock.now()).toISOString();
  const raise = async (event: unknown) => {
    expect(saga!.engine.raiseEvent(ids.orderId, APPROVAL_EVENT, event)).toBe('accepted');
    await saga!.settle({ fastForward: false });
    return saga!.engine.getStatus(ids.orderId)?.runtimeStatus;
  };

  for (const event of [
    { approved: true, approver: '   ', decidedAt },
    { approved: true, approver: 'g'.repeat(257), decidedAt },
    { approved: true, approver: 'gra\u0000ce', decidedAt },
    { approved: true, approver: 'gra\u2028ce', decidedAt },
    { approved: true, approver: 'grace', decidedAt: decidedAt.replace('Z', '') },
  ]) {
    expect(await raise(event)).toBe('Running');
  }
  expect(saga.callsTo('chargePayment')).toEqual([]);

  // Trimmed, 256 characters at most, and a time with an offset are fine.
  const approver = `  ${'g'.repeat(256)}  `;
  await raise({ approved: true, approver, decidedAt: '2026-01-01T02:00:00.000+02:00' });
  await saga.settle({ fastForward: true });
  const view = saga.output();
  expect(view.status).toBe('Completed');
  expect(view.approval?.decision).toMatchObject({ approved: true, approver: 'g'.repeat(256) });
});
