/** Order requests for tests: the demo's everyday order, varied one knob at a time. */
import { demoOrder, type OrderBody } from '../../local/demo/scenarios';

export type OrderRequest = OrderBody;

/** The demo's order with the changes; without an `orderId` among them, a new unique one (the API requires it). */
export function orderRequest(overrides: Partial<OrderRequest> = {}): OrderRequest {
  const { orderId = uniqueOrderId('order'), ...changes } = overrides;
  return demoOrder(orderId, changes);
}

/** An address the simulated carrier rejects (postal code 00000): a critical step fails after payment. */
export const rejectedAddress = { line1: '1 Main St', city: 'Berlin', postalCode: '00000', country: 'DE' };

let sequence = 0;
export const uniqueOrderId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${(sequence += 1)}`;
