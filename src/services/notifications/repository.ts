/**
 * The notifications context's data: one document per message sent, at most one per order and kind
 * (what this shop knows), and the simulated mail provider's log (what the provider knows; a real
 * one keeps its sent log on its side, searchable by the key we send with each message).
 */
import { contextDatabase, createOnce } from '../../libs/cosmos';
import type { SentEmail } from './mailer';

export const notificationsData = contextDatabase('notifications', { messages: '/orderId', mailerLog: '/id' });

export type MessageKind = 'confirmation' | 'cancellation';

export interface MessageDocument {
  /** `${orderId}:${kind}`: the id itself enforces one message of each kind per order. */
  id: string;
  orderId: string;
  kind: MessageKind;
  to: string;
  subject: string;
  messageId: string;
  sentAt: string;
}

/** One message the simulated mail provider accepted, keyed (id) by the idempotency key it came with. */
export type MailerLogEntry = { id: string } & SentEmail;

const messages = () => notificationsData.container('messages');
const mailerLog = () => notificationsData.container('mailerLog');

export const messageDocumentId = (orderId: string, kind: MessageKind): string => `${orderId}:${kind}`;

export async function readMessage(orderId: string, kind: MessageKind): Promise<MessageDocument | undefined> {
  const { resource } = await messages().item(messageDocumentId(orderId, kind), orderId).read<MessageDocument>();
  return resource;
}

/** Records a sent message; if one of that kind is already recorded, that one stands and is returned. */
export async function recordMessage(message: MessageDocument): Promise<MessageDocument> {
  return (await createOnce(messages(), message, message.orderId)).stored;
}

export async function listMessages(orderId: string): Promise<MessageDocument[]> {
  const { resources } = await messages()
    .items.query<MessageDocument>(
      { query: 'SELECT * FROM c WHERE c.orderId = @orderId', parameters: [{ name: '@orderId', value: orderId }] },
      { partitionKey: orderId },
    )
    .fetchAll();
  return resources;
}

export async function readMailerLogEntry(key: string): Promise<MailerLogEntry | undefined> {
  const { resource } = await mailerLog().item(key, key).read<MailerLogEntry>();
  return resource;
}

/** Logs an accepted message; one already logged under that key stands and is returned. */
export async function logAcceptedMail(entry: MailerLogEntry): Promise<MailerLogEntry> {
  return (await createOnce(mailerLog(), entry, entry.id)).stored;
}
