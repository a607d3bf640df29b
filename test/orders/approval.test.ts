/**
 * One decision per order, by an authenticated approver: the order document takes the first
 * decision (or the timeout), every later one is told which stands, and the saga agrees.
 */
import { APPROVAL_EVENT } from '../../src/services/orders/contract';
import type { OrderView, StandingDecision } from '../../src/services/orders/order-view';
import { readOrder, recordDecision } from '../../src/services/orders/repository';
import { orderRequest, uniqueOrderId } from '../support/orders';
import { asApprover } from '../support/principals';
import { startSagaApp, type SagaApp } from '../support/saga-app';

let app: SagaApp;
/** The app's log lines (structured JSON), by function. */
const logged: { functionName: string; line: string }[] = [];
beforeAll(async () => {
  app = await startSagaApp({
    log: (_level, functionName, ...args) => logged.push({ functionName, line: args.join(' ') }),
  });
});
afterAll(async () => {
  await app?.stop();
  delete process.env.APPROVAL_TIMEOUT;
});

const laptop = [{ sku: 'LAPTOP-PRO-16', quantity: 1 }];
const decide = (orderId: string, approved: boolean, approver: string) =>
  app.http('POST', `/api/orders/${orderId}/approval`, { body: { approved }, headers: asApprover(approver) });

async function awaitingOrder(label: string): Promise<string> {
  const orderId = uniqueOrderId(label);
  expect((await app.http('POST', '/api/orders', { body: orderRequest({ orderId, items: laptop }) })).status).toBe(202);
  await app.waitForOrderStatus(orderId, 'AwaitingApproval');
  return orderId;
}

it('5 approvals and 5 rejections at once: one stands, the nine others are told which, and the saga follows it', async () => {
  const orderId = await awaitingOrder('contest');
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, index) => decide(orderId, index % 2 === 0, `person-${index}`)),
  );
  const winners = answers.filter((answer) => answer.status === 202);
  expect(winners).toHaveLength(1);
  const { orderId: answeredFor, ...standing } = winners[0].json as {
    orderId: string;
    approved: boolean;
    approver: string;
    decidedAt: string;
  };
  expect(answeredFor).toBe(orderId);
  for (const answer of answers.filter((candidate) => candidate.status !== 202)) {
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({ decision: { approved: standing.approved, approver: standing.approver } });
  }
  const final = await app.settleOrder(orderId);
  expect(final.status).toBe(standing.approved ? 'Completed' : 'Rejected');
  if (!standing.approved) expect(final.reason).toBe(`rejected by ${standing.approver}`);
  // The document and the saga agree on who decided what, and when.
  expect((await readOrder(orderId))?.approval?.decision).toEqual(standing);
  expect((final as OrderView).approval?.decision).toEqual(standing);
});

it('the approver is the client principal, and the same decision sent again (a lost reply) is accepted again', async () => {
  const orderId = await awaitingOrder('retry');
  const first = await decide(orderId, true, 'grace@contoso.example');
  const again = await decide(orderId, true, 'grace@contoso.example');
  expect([first.status, again.status]).toEqual([202, 202]);
  expect(again.json).toEqual(first.json);
  expect((await decide(orderId, true, 'someone-else')).status).toBe(409);
  const final = await app.settleOrder(orderId);
  expect(final.status).toBe('Completed');
  expect(final.steps.find((step) => step.name === 'approval')).toMatchObject({
    status: 'succeeded',
    detail: 'approved by grace@contoso.example',
  });
});

it('logs the decision under the order’s correlation id, not the one the approver’s request carried', async () => {
  const orderId = await awaitingOrder('approval-log');
  const { correlationId } = (await readOrder(orderId))!;
  const answer = await app.http('POST', `/api/orders/${orderId}/approval`, {
    // A rejection: the laptops in stock are for the other tests.
    body: { approved: false },
    headers: { ...asApprover('grace@contoso.example'), 'x-correlation-id': 'approvers-own-request' },
  });
  expect(answer.status).toBe(202);
  const raised = logged
    .filter((entry) => entry.functionName === 'decideApprovalHttp' && entry.line.includes(orderId))
    .map((entry) => JSON.parse(entry.line) as { message: string; correlationId: string });
  expect(raised).toEqual([expect.objectContaining({ message: 'approval decision raised', correlationId })]);
  await app.settleOrder(orderId);
});

it('a decision after the deadline gets 409 naming the timeout, and the order is rejected for it', async () => {
  process.env.APPROVAL_TIMEOUT = 'PT1S';
  try {
    const orderId = await awaitingOrder('late');
    const { approval } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
    // Let the deadline pass on the wall clock the route reads; the saga's timer (virtual time) has not fired yet.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(approval!.deadline) - Date.now()) + 50));
    const late = await decide(orderId, true, 'too-late');
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ decision: { timedOut: true, decidedAt: approval!.deadline } });
    const final = await app.settleOrder(orderId, { skipTime: true });
    expect(final).toMatchObject({ status: 'Rejected', reason: 'no approval decision before the timeout' });
    expect((await readOrder(orderId))?.approval?.decision).toMatchObject({ timedOut: true });
  } finally {
    delete process.env.APPROVAL_TIMEOUT;
  }
});

it('on a sped-up durable clock (DURABLE_TIME_SCALE) the route dates a decision on that clock, and refuses one past its deadline', async () => {
  const orderId = await awaitingOrder('scaled-late');
  const { approval } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  // As the offline host sets it for a sped-up clock: durable time is now a day ahead of the wall
  // clock, past the 24 h deadline, and the saga's timer is about to fire.
  const ahead = Date.parse(approval!.deadline) - Date.now() + 60_000;
  process.env.DURABLE_CLOCK = `${Date.now()}:${Date.now() + ahead}:1`;
  try {
    const late = await decide(orderId, true, 'too-late');
    expect(late.status).toBe(409);
    expect(late.json).toMatchObject({ decision: { timedOut: true, decidedAt: approval!.deadline } });
    expect((await readOrder(orderId))?.approval?.decision).toBeUndefined();
  } finally {
    delete process.env.DURABLE_CLOCK;
  }
  const orderOnTime = await awaitingOrder('scaled-on-time');
  process.env.DURABLE_CLOCK = `${Date.now()}:${Date.now() + 3_600_000}:1`;
  try {
    const decided = await decide(orderOnTime, true, 'on-time');
    expect(decided.status).toBe(202);
    // An hour ahead of the wall clock, as the saga's own timestamps are.
    const { decidedAt } = decided.json as { decidedAt: string };
    expect(Date.parse(decidedAt) - Date.now()).toBeGreaterThan(3_500_000);
  } finally {
    delete process.env.DURABLE_CLOCK;
  }
  expect((await app.settleOrder(orderOnTime)).status).toBe('Completed');
  expect((await app.settleOrder(orderId, { skipTime: true })).status).toBe('Rejected');
});

it('a decision recorded before the deadline whose event came too late still stands: the timer does not overrule it', async () => {
  const orderId = await awaitingOrder('race-deadline');
  const { approval } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  // The route wrote the decision and died before raising the event; then the deadline passed.
  const decision: StandingDecision = { approved: true, approver: 'grace', decidedAt: new Date().toISOString() };
  expect((await recordDecision(orderId, decision, approval!.deadline))?.recorded).toBe(true);
  const final = await app.settleOrder(orderId, { skipTime: true });
  expect(final.status).toBe('Completed');
  expect((final as OrderView).approval?.decision).toEqual(decision);
  expect((await decide(orderId, false, 'someone')).json).toMatchObject({ decision });
});

it('a malformed decision raised straight on the instance is no decision: the saga keeps waiting', async () => {
  const orderId = await awaitingOrder('malformed');
  for (const data of [
    { approved: true, approver: '' },
    { approved: true, approver: { name: 'x' } },
    { approved: 'yes', approver: 'x', decidedAt: new Date().toISOString() },
    null,
    'approve',
  ]) {
    expect(app.engine.raiseEvent(orderId, APPROVAL_EVENT, data)).toBe('accepted');
  }
  await app.settle();
  expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({ status: 'AwaitingApproval' });
  expect((await decide(orderId, false, 'grace')).status).toBe(202);
  expect(await app.settleOrder(orderId)).toMatchObject({ status: 'Rejected', reason: 'rejected by grace' });
});

it('a well-formed decision raised past the route is recorded on the document, so both agree', async () => {
  const orderId = await awaitingOrder('direct');
  const decision = { approved: true, approver: 'ops-script', decidedAt: new Date().toISOString() };
  expect(app.engine.raiseEvent(orderId, APPROVAL_EVENT, decision)).toBe('accepted');
  expect((await app.settleOrder(orderId)).status).toBe('Completed');
  expect((await readOrder(orderId))?.approval?.decision).toEqual(decision);
  expect((await decide(orderId, false, 'grace')).json).toMatchObject({ decision });
});

it('a decision recorded by a request that died before raising it is raised by the next request, whoever sends it', async () => {
  const orderId = await awaitingOrder('died');
  const { approval } = (await app.http('GET', `/api/orders/${orderId}`)).json as OrderView;
  const decision: StandingDecision = { approved: false, approver: 'grace', decidedAt: new Date().toISOString() };
  await recordDecision(orderId, decision, approval!.deadline);
  // Someone else tries to approve: told the rejection stands, and the saga gets it now, not at the deadline.
  expect((await decide(orderId, true, 'someone-else')).json).toMatchObject({ decision });
  await app.settle();
  expect((await app.http('GET', `/api/orders/${orderId}`)).json).toMatchObject({
    status: 'Rejected',
    reason: 'rejected by grace',
  });
});
