/** The notifications context against the real local Cosmos server: one message per order and kind, bounces. */
import { Item, Items } from '@azure/cosmos';
import { capturedFunctions } from '../../local/engine/functions-core';
import { factType, type SendCancellation, type SendConfirmation } from '../../src/libs/events';
import { notificationsActivities } from '../../src/services/notifications';
import { NotificationsActivities } from '../../src/services/notifications/contract';
import {
  listMessages,
  messageDocumentId,
  notificationsData,
  readMailerLogEntry,
  readMessage,
  recordMessage,
  type MessageDocument,
  type MessageKind,
} from '../../src/services/notifications/repository';
import { simulatedMailer as mailer } from '../../src/services/notifications/simulated-mailer';
import { invocation, newOrder } from './helpers';

const { sendConfirmation, sendCancellation } = notificationsActivities;

beforeAll(async () => {
  await notificationsData.ensureCreated();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const confirmationFor = (customerEmail = 'ada@example.com'): SendConfirmation => ({
  ...newOrder(),
  customerEmail,
  total: 159,
  currency: 'EUR',
  lines: [{ sku: 'MOUSE-ERGO', name: 'Ergonomic mouse', quantity: 2, unitPrice: 79.5, lineTotal: 159 }],
});
const cancellationFor = (command: SendConfirmation): SendCancellation => ({
  orderId: command.orderId,
  correlationId: command.correlationId,
  customerEmail: command.customerEmail,
  reason: 'order cancelled',
});
const confirm = (command: SendConfirmation) =>
  sendConfirmation(command, invocation(NotificationsActivities.sendConfirmation));
const cancel = (command: SendCancellation) =>
  sendCancellation(command, invocation(NotificationsActivities.sendCancellation));

/** Every create of a message document fails as a busy Cosmos would; the mail provider's own log still works. */
function messageWritesFail() {
  const original = Items.prototype.create;
  return jest.spyOn(Items.prototype, 'create').mockImplementation(function (this: Items, ...args) {
    if (this.container.id === 'messages') return Promise.reject(Object.assign(new Error('busy'), { code: 503 }));
    return original.apply(this, args) as never;
  });
}

describe('notifications context', () => {
  it('registers its activities under the names of its contract', () => {
    expect(NotificationsActivities).toEqual({
      sendConfirmation: 'sendConfirmation',
      sendCancellation: 'sendCancellation',
    });
    expect(capturedFunctions().has('sendConfirmation')).toBe(true);
    expect(capturedFunctions().has('sendCancellation')).toBe(true);
  });
});

describe('sendConfirmation', () => {
  it('sends the confirmation and records one message', async () => {
    const command = confirmationFor();
    const fact = await confirm(command);
    expect(fact).toEqual({
      type: factType('notifications', 'ConfirmationSent'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      messageId: expect.stringMatching(/^msg_[0-9a-f]{24}$/),
    });
    const messages = await listMessages(command.orderId);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      id: `${command.orderId}:confirmation`,
      kind: 'confirmation',
      to: 'ada@example.com',
      messageId: (fact as { messageId: string }).messageId,
    });
  });

  it('sends once when run twice: same fact, one message, and the mailer is not asked again', async () => {
    const command = confirmationFor();
    const send = jest.spyOn(mailer, 'send');
    const first = await confirm(command);
    const afterFirst = await listMessages(command.orderId);
    expect(await confirm(command)).toEqual(first);
    expect(await listMessages(command.orderId)).toEqual(afterFirst);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('records one message when two runs race', async () => {
    const command = confirmationFor();
    const [a, b] = await Promise.all([confirm(command), confirm(command)]);
    expect(a).toEqual(b);
    expect(await listMessages(command.orderId)).toHaveLength(1);
  });

  it('answers ConfirmationBounced for a mailbox at bounce.test, records nothing, and says the same on a repeat', async () => {
    const command = confirmationFor('ada@bounce.test');
    const fact = await confirm(command);
    expect(fact).toEqual({
      type: factType('notifications', 'ConfirmationBounced'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      reason: expect.stringContaining('ada@bounce.test'),
    });
    expect(await confirm(command)).toEqual(fact);
    expect(await listMessages(command.orderId)).toEqual([]);
  });

  it('gives different orders different message ids', async () => {
    const [a, b] = await Promise.all([confirm(confirmationFor()), confirm(confirmationFor())]);
    expect((a as { messageId: string }).messageId).not.toBe((b as { messageId: string }).messageId);
  });
});

describe('sendCancellation', () => {
  it('sends the cancellation once when run twice, next to the confirmation', async () => {
    const command = confirmationFor();
    const confirmed = await confirm(command);
    const first = await cancel(cancellationFor(command));
    expect(first).toEqual({
      type: factType('notifications', 'CancellationSent'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      messageId: expect.stringMatching(/^msg_/),
    });
    expect((first as { messageId: string }).messageId).not.toBe((confirmed as { messageId: string }).messageId);
    const afterFirst = await listMessages(command.orderId);
    expect(await cancel(cancellationFor(command))).toEqual(first);
    expect(await listMessages(command.orderId)).toEqual(afterFirst);
    expect(afterFirst.map((message) => message.kind).sort()).toEqual(['cancellation', 'confirmation']);
  });

  it('sends the cancellation where the confirmation was mailed but recording it failed on every attempt', async () => {
    const command = confirmationFor();
    const failing = messageWritesFail();
    for (let attempt = 1; attempt <= 3; attempt += 1)
      await expect(confirm(command)).rejects.toMatchObject({ code: 503 });
    failing.mockRestore();
    expect(await listMessages(command.orderId)).toEqual([]);
    const mailed = await mailer.find(messageDocumentId(command.orderId, 'confirmation'));
    expect(mailed).toMatchObject({ to: 'ada@example.com', messageId: expect.stringMatching(/^msg_/) });

    const fact = await cancel(cancellationFor(command));
    expect(fact).toEqual({
      type: factType('notifications', 'CancellationSent'),
      orderId: command.orderId,
      correlationId: command.correlationId,
      messageId: expect.stringMatching(/^msg_/),
    });
    expect(await readMailerLogEntry(messageDocumentId(command.orderId, 'cancellation'))).toMatchObject({
      to: 'ada@example.com',
      messageId: (fact as { messageId: string }).messageId,
    });
    // The confirmation is recorded as the provider tells it, so the messages say what the customer got.
    expect(await readMessage(command.orderId, 'confirmation')).toMatchObject({
      to: 'ada@example.com',
      subject: `Your order ${command.orderId}`,
      messageId: mailed!.messageId,
      sentAt: mailed!.acceptedAt,
    });
  });

  it('sends the cancellation of an unrecorded confirmation once when run twice: the provider searched once', async () => {
    const command = confirmationFor();
    await mailer.send({
      idempotencyKey: messageDocumentId(command.orderId, 'confirmation'),
      to: command.customerEmail,
      subject: `Your order ${command.orderId}`,
      body: 'Thank you for your order.',
    });
    const search = jest.spyOn(mailer, 'find');
    const send = jest.spyOn(mailer, 'send');
    const first = await cancel(cancellationFor(command));
    const afterFirst = await listMessages(command.orderId);
    expect(first).toMatchObject({ type: factType('notifications', 'CancellationSent') });
    expect(await cancel(cancellationFor(command))).toEqual(first);
    expect(await listMessages(command.orderId)).toEqual(afterFirst);
    expect(afterFirst.map((message) => message.kind).sort()).toEqual(['cancellation', 'confirmation']);
    expect(search).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("asks the provider before saying no confirmation was sent, and takes no other order's for it", async () => {
    const command = confirmationFor();
    await confirm(confirmationFor());
    const search = jest.spyOn(mailer, 'find');
    const send = jest.spyOn(mailer, 'send');
    expect(await cancel(cancellationFor(command))).toMatchObject({
      type: factType('notifications', 'CancellationNotNeeded'),
      reason: 'no confirmation was sent',
    });
    expect(search).toHaveBeenCalledWith(messageDocumentId(command.orderId, 'confirmation'));
    expect(send).not.toHaveBeenCalled();
    expect(await listMessages(command.orderId)).toEqual([]);
  });

  it('sends nothing, and says so, where no confirmation was sent (a bounced or never-sent one)', async () => {
    const command = confirmationFor('ada@bounce.test');
    const first = await cancel(cancellationFor(command));
    const second = await cancel(cancellationFor(command));
    expect(first).toMatchObject({
      type: 'contoso.notifications.CancellationNotNeeded.v1',
      reason: 'no confirmation was sent',
    });
    expect(second).toEqual(first);
    expect(await listMessages(command.orderId)).toEqual([]);
  });
});

describe('the notifications repository', () => {
  const message = (orderId: string, kind: MessageKind, messageId: string): MessageDocument => ({
    id: messageDocumentId(orderId, kind),
    orderId,
    kind,
    to: 'ada@example.com',
    subject: `${kind} ${orderId}`,
    messageId,
    sentAt: '2026-01-01T00:00:00.000Z',
  });

  it('records one message per order and kind: a second of the same kind answers the first', async () => {
    const { orderId } = newOrder();
    expect(messageDocumentId(orderId, 'confirmation')).toBe(`${orderId}:confirmation`);
    expect(await recordMessage(message(orderId, 'confirmation', 'm-1'))).toEqual(
      message(orderId, 'confirmation', 'm-1'),
    );
    expect(await recordMessage(message(orderId, 'confirmation', 'm-2'))).toMatchObject({ messageId: 'm-1' });
    expect(await recordMessage(message(orderId, 'cancellation', 'm-3'))).toEqual(
      message(orderId, 'cancellation', 'm-3'),
    );
    expect(await readMessage(orderId, 'confirmation')).toMatchObject({ messageId: 'm-1' });
    const other = newOrder().orderId;
    await recordMessage(message(other, 'confirmation', 'm-4'));
    expect((await listMessages(orderId)).map(({ messageId }) => messageId).sort()).toEqual(['m-1', 'm-3']);
  });

  it('lets a fault other than a conflict through, and fails when the conflicting message cannot be read', async () => {
    const { orderId } = newOrder();
    jest.spyOn(Items.prototype, 'create').mockRejectedValueOnce(Object.assign(new Error('busy'), { code: 503 }));
    await expect(recordMessage(message(orderId, 'confirmation', 'm-1'))).rejects.toMatchObject({ code: 503 });
    expect(await listMessages(orderId)).toEqual([]);
    await recordMessage(message(orderId, 'confirmation', 'm-1'));
    jest
      .spyOn(Item.prototype, 'read')
      .mockResolvedValueOnce({ resource: undefined } as Awaited<ReturnType<Item['read']>>);
    await expect(recordMessage(message(orderId, 'confirmation', 'm-2'))).rejects.toMatchObject({
      message: `messages ${orderId}:confirmation conflicted on create but cannot be read`,
      cause: expect.objectContaining({ code: 409 }),
    });
  });
});

describe('the simulated mail provider', () => {
  const email = (orderId: string, to = 'ada@example.com') => ({
    idempotencyKey: messageDocumentId(orderId, 'confirmation'),
    to,
    subject: `Your order ${orderId}`,
    body: 'Thank you for your order.',
  });

  it('remembers each message it accepted, found by the key it was sent under', async () => {
    const { orderId } = newOrder();
    expect(await mailer.find(email(orderId).idempotencyKey)).toBeUndefined();
    const accepted = await mailer.send(email(orderId));
    expect(await mailer.send(email(orderId))).toEqual(accepted);
    expect(await mailer.find(email(orderId).idempotencyKey)).toEqual({
      messageId: accepted.kind === 'accepted' ? accepted.messageId : 'unexpected',
      to: 'ada@example.com',
      subject: `Your order ${orderId}`,
      acceptedAt: expect.any(String),
    });
  });

  it('keeps no message it bounced', async () => {
    const { orderId } = newOrder();
    expect(await mailer.send(email(orderId, 'ada@bounce.test'))).toMatchObject({ kind: 'bounced' });
    expect(await mailer.find(email(orderId).idempotencyKey)).toBeUndefined();
  });
});
