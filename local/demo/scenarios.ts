/**
 * The knob scenarios of README's knob table, as orders against a running app: the demo runs
 * them (`npm run demo`), and the end-to-end tests reuse them against the offline host.
 */

export type FinalStatus = 'Completed' | 'Rejected' | 'Failed' | 'Compensated' | 'CompensationFailed';

export interface OrderBody {
  orderId: string;
  customerId: string;
  customerEmail: string;
  currency: 'EUR' | 'USD' | 'GBP';
  items: { sku: string; quantity: number }[];
  payment: { token: string };
  shippingAddress: { line1: string; city: string; postalCode: string; country: string };
}

/** GET /api/catalog, which some scenarios read to stay valid however often the demo runs. */
export interface CatalogEntry {
  sku: string;
  price: number;
  stock: number;
}

export interface DemoScenario {
  /** Short and id-safe: order ids are `demo-<key>-<run>`. */
  key: string;
  /** The knob, as README's table names it. */
  knob: string;
  /** Changes to the everyday order (tok_visa, two mice, an address in Berlin). */
  order: (catalog: readonly CatalogEntry[]) => Partial<Omit<OrderBody, 'orderId'>>;
  /** For orders that wait for approval: approve, reject, or let APPROVAL_TIMEOUT run out. */
  decision?: 'approve' | 'reject' | 'none';
  expected: { status: FinalStatus; warning?: boolean };
  /** Once the order is CompensationFailed, act as the operator: retry its dead letter (once). */
  repair?: boolean;
  /** Takes the whole APPROVAL_TIMEOUT (24 h of saga time): run only when asked. */
  slow?: boolean;
}

const LARGE_SKU = 'LAPTOP-PRO-16';
const APPROVAL_THRESHOLD = 1000;
const rejectedAddress = { line1: '1 Main St', city: 'Berlin', postalCode: '00000', country: 'DE' };

/**
 * An order of at least the approval threshold that stock can serve: the laptop while any is
 * left, else enough of whichever item has the stock (every demo run that approves one uses some).
 */
function servableLargeOrder(catalog: readonly CatalogEntry[]): OrderBody['items'] {
  const candidates = [...catalog].sort(
    (a, b) => Number(b.sku === LARGE_SKU) - Number(a.sku === LARGE_SKU) || b.stock - a.stock,
  );
  for (const item of candidates) {
    const quantity = Math.max(1, Math.ceil(APPROVAL_THRESHOLD / item.price));
    if (quantity <= item.stock && quantity <= 1000) return [{ sku: item.sku, quantity }];
  }
  return [{ sku: LARGE_SKU, quantity: 1 }];
}

/** One more than is on the shelf: out of stock at the reserve step, whatever earlier runs took. */
function moreThanStock(catalog: readonly CatalogEntry[]): OrderBody['items'] {
  const laptop = catalog.find((item) => item.sku === LARGE_SKU);
  return [{ sku: LARGE_SKU, quantity: Math.min(1000, (laptop?.stock ?? 5) + 1) }];
}

export const DEMO_SCENARIOS: readonly DemoScenario[] = [
  { key: 'visa', knob: 'payment.token tok_visa', order: () => ({}), expected: { status: 'Completed' } },
  {
    key: 'declined',
    knob: 'payment.token tok_declined',
    order: () => ({ payment: { token: 'tok_declined' } }),
    expected: { status: 'Rejected' },
  },
  {
    key: 'flaky',
    knob: 'payment.token tok_flaky',
    order: () => ({ payment: { token: 'tok_flaky' } }),
    expected: { status: 'Completed' },
  },
  {
    key: 'gateway-down',
    knob: 'payment.token tok_gateway_down',
    order: () => ({ payment: { token: 'tok_gateway_down' } }),
    expected: { status: 'Failed' },
  },
  {
    key: 'refund-fails',
    knob: 'payment.token tok_refund_fails (and the carrier rejects the address)',
    order: () => ({ payment: { token: 'tok_refund_fails' }, shippingAddress: rejectedAddress }),
    expected: { status: 'CompensationFailed' },
  },
  {
    key: 'refund-recovers',
    knob: 'payment.token tok_refund_recovers (address rejected), then an operator retry',
    order: () => ({ payment: { token: 'tok_refund_recovers' }, shippingAddress: rejectedAddress }),
    repair: true,
    expected: { status: 'Compensated' },
  },
  {
    key: 'out-of-stock',
    knob: 'quantity above the stock (approved)',
    order: (catalog) => ({ items: moreThanStock(catalog) }),
    decision: 'approve',
    expected: { status: 'Compensated' },
  },
  {
    key: 'bounce',
    knob: 'customerEmail at bounce.test',
    order: () => ({ customerEmail: 'ada@bounce.test' }),
    expected: { status: 'Completed', warning: true },
  },
  {
    key: 'analytics-down',
    knob: 'customerId analytics-down',
    order: () => ({ customerId: 'analytics-down' }),
    expected: { status: 'Completed', warning: true },
  },
  {
    key: 'address-rejected',
    knob: 'shippingAddress.postalCode 00000',
    order: () => ({ shippingAddress: rejectedAddress }),
    expected: { status: 'Compensated' },
  },
  {
    key: 'large-approved',
    knob: 'total ≥ 1000, approved',
    order: (catalog) => ({ items: servableLargeOrder(catalog) }),
    decision: 'approve',
    expected: { status: 'Completed' },
  },
  {
    key: 'large-rejected',
    knob: 'total ≥ 1000, rejected',
    order: () => ({ items: [{ sku: LARGE_SKU, quantity: 1 }] }),
    decision: 'reject',
    expected: { status: 'Rejected' },
  },
  {
    key: 'large-undecided',
    knob: 'total ≥ 1000, not decided within APPROVAL_TIMEOUT',
    order: () => ({ items: [{ sku: LARGE_SKU, quantity: 1 }] }),
    decision: 'none',
    expected: { status: 'Rejected' },
    slow: true,
  },
  {
    key: 'unknown-sku',
    knob: 'an unknown sku (invalid order)',
    order: () => ({ items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] }),
    expected: { status: 'Rejected' },
  },
];

export function demoOrder(orderId: string, changes: Partial<Omit<OrderBody, 'orderId'>>): OrderBody {
  return {
    orderId,
    customerId: 'ada',
    customerEmail: 'ada@example.com',
    currency: 'EUR',
    items: [{ sku: 'MOUSE-ERGO', quantity: 2 }],
    payment: { token: 'tok_visa' },
    shippingAddress: { line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    ...changes,
  };
}
