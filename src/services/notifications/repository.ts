/** The notifications context's data: one document per message sent, at most one per order and kind. */
import { contextDatabase, cosmosStatus } from '../../libs/cosmos';

export const notificationsData = contextDatabase('notifications', { messages: '/orderId' });

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

const messages = () => notificationsData.container('messages');

export const messageDocumentId = (orderId: string, kind: MessageKind): string => `${orderId}:${kind}`;

export async function readMessage(orderId: string, kind: MessageKind): Promise<MessageDocument | undefined> {
  const { resource } = await messages().item(messageDocumentId(orderId, kind), orderId).read<MessageDocument>();
  return resource;
}

/** Records a sent message; if one of that kind is already recorded, that one stands and is returned. */
export async function recordMessage(message: MessageDocument): Promise<MessageDocument> {
  try {
    await messages().items.create(message);
    return message;
  } catch (error) {
    if (cosmosStatus(error) !== 409) throw error;
    const stored = await readMessage(message.orderId, message.kind);
    if (!stored) throw new Error(`message ${message.id} conflicted on create but cannot be read`, { cause: error });
    return stored;
  }
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
