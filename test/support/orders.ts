/** Order requests for tests: the demo's everyday order, varied one knob at a time. */
import { demoOrder, type OrderBody } from '../../local/demo/scenarios';

/** Like the demo's order, but the id is optional: without one the API generates it. */
export type OrderRequest = Omit<OrderBody, 'orderId'> & { orderId?: string };

export function orderRequest(overrides: Partial<OrderRequest> = {}): OrderRequest {
  const { orderId, ...changes } = overrides;
  const { orderId: _unused, ...order } = demoOrder('', changes);
  return orderId === undefined ? order : { orderId, ...order };
}

/** An address the simulated carrier rejects (postal code 00000): a critical step fails after payment. */
export const rejectedAddress = { line1: '1 Main St', city: 'Berlin', postalCode: '00000', country: 'DE' };

let sequence = 0;
export const uniqueOrderId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${(sequence += 1)}`;
