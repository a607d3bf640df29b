/** Order requests for tests and the demo: a valid order, varied one knob at a time. */
export interface OrderRequest {
  orderId?: string;
  customerId: string;
  customerEmail: string;
  currency: 'EUR' | 'USD' | 'GBP';
  items: { sku: string; quantity: number }[];
  payment: { token: string };
  shippingAddress: { line1: string; city: string; postalCode: string; country: string };
}

export function orderRequest(overrides: Partial<OrderRequest> = {}): OrderRequest {
  return {
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    ...overrides,
  };
}

let sequence = 0;
export const uniqueOrderId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${(sequence += 1)}`;
