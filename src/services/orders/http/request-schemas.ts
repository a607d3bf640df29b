/** The shapes the HTTP API accepts. Unknown keys are refused, so nothing unexpected reaches an object. */
import * as z from 'zod';
import { Currency, CustomerId } from '../../../libs/events';

export const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_BODY_BYTES = 64 * 1024;

// Created on first use: ICU's region data costs ~15 ms to load, which cold start need not pay.
let regionNames: Intl.DisplayNames | undefined;
const regionName = (code: string) => (regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' })).of(code);
/**
 * ICU names every assigned ISO 3166-1 alpha-2 code (for an unknown one it echoes the code back),
 * but also these reserved, withdrawn and private-use codes, which are no country to ship to.
 */
const NOT_ASSIGNED = new Set(
  'AC AN BU CP CQ CS DD DG DY EA EU EZ FX HV IC NH QO RH SU TA TP UK UN VD XA XB XK YD YU ZR ZZ'.split(' '),
);
const isCountryCode = (code: string) => /^[A-Z]{2}$/.test(code) && !NOT_ASSIGNED.has(code) && regionName(code) !== code;

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/**
 * A sku is a catalog key: letters, digits, `.`, `_` and `-`. Quotes, backslashes, spaces and
 * control characters have no place in one, and would grow every text that names the sku.
 */
export const SKU = /^[A-Za-z0-9._-]{1,64}$/;

const OrderItem = z.strictObject({
  sku: z.string().trim().regex(SKU, 'must be 1-64 letters, digits, ., _ or -'),
  quantity: z.number().int().min(1).max(1000),
});

/**
 * One line per sku. Checked beside the line schema (an intersection), not after it, so that a
 * duplicate is reported in the same answer as every other bad field.
 */
const UniqueSkus = z
  .array(z.looseObject({ sku: z.unknown().transform((sku) => (typeof sku === 'string' ? sku.trim() : sku)) }))
  .superRefine((items, check) => {
    const seen = new Set<unknown>();
    items.forEach(({ sku }, index) => {
      if (seen.has(sku))
        check.addIssue({
          code: 'custom',
          path: [index, 'sku'],
          message: `duplicate sku ${String(sku)}: use one line per sku`,
        });
      seen.add(sku);
    });
  });

/**
 * The order's id is the client's to choose, and required: it is what makes a retry of a request
 * whose answer was lost the same order (the same 202), not a second one charged again.
 */
const OrderId = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required: the client chooses the order id (1-64 letters, digits, _ or -) and sends the same one on a retry, so a retry never places a second order'
        : undefined,
  })
  .regex(ORDER_ID, 'must be 1-64 letters, digits, _ or -');

export const PlaceOrderRequest = z.strictObject({
  orderId: OrderId,
  customerId: CustomerId,
  customerEmail: z.email().max(254),
  currency: Currency,
  items: z.intersection(z.array(OrderItem).min(1).max(50), UniqueSkus),
  payment: z.strictObject({ token: text(128) }),
  shippingAddress: z.strictObject({
    line1: text(200),
    city: text(100),
    postalCode: text(16),
    country: z.string().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code, e.g. DE'),
  }),
});
export type PlaceOrderRequest = z.infer<typeof PlaceOrderRequest>;

/** The approver is the caller's client principal, never a field a body could set. */
export const ApprovalRequest = z.strictObject({
  approved: z.boolean(),
});

/** An operator's reason for terminating an order's saga. */
export const TerminateRequest = z.strictObject({
  reason: text(500),
});
