/**
 *   GET  /api/operations/payments/late-charges                  (role Orders.Operator)
 *   POST /api/operations/payments/late-charges/{orderId}/refund (role Orders.Operator)
 *
 * The payments context's own dead-letter path. A charge that reached the gateway after its order's
 * payment was voided refunds itself, retrying for about a minute (late-charge.ts); when the gateway
 * fails it for longer, nothing else will retry it (the order's saga was terminated and its repair
 * has completed), so the charge stays on the voided payment, its refund pending, and is listed
 * here until an operator refunds it. The refund goes under the order's refund key: a repeat, or a
 * refund made meanwhile, refunds nothing twice.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { isTransient } from '../../../libs/activity';
import { authorize, personRouteAuthLevel, Roles } from '../../../libs/client-principal';
import { CORRELATION_HEADER, correlatedLogger, correlationIdFrom } from '../../../libs/correlation';
import { answering, json, unavailable } from '../../../libs/http';
import { refundLateCharge } from '../late-charge';
import type { PaymentsProviders } from '../providers';
import { pendingLateCharges, readPayment } from '../repository';

const LIST_LIMIT = 100;

export async function listLateChargesHttp(request: HttpRequest): Promise<HttpResponseInit> {
  const caller = authorize(request, Roles.operator);
  if (!caller.ok) return caller.response;
  const pending = await pendingLateCharges(LIST_LIMIT);
  return json(200, {
    lateCharges: pending.map(({ orderId, voidedAt, lateCharge }) => ({
      orderId,
      chargeId: lateCharge!.paymentId,
      amount: lateCharge!.amount,
      currency: lateCharge!.currency,
      foundAt: lateCharge!.foundAt,
      voidedAt,
    })),
  });
}

export const refundLateChargeHttp =
  ({ gateway }: PaymentsProviders) =>
  async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const caller = authorize(request, Roles.operator);
    if (!caller.ok) return caller.response;
    const orderId = request.params.orderId ?? '';
    const payment = await readPayment(orderId);
    if (payment?.status !== 'voided' || !payment.lateCharge)
      return json(404, { orderId, message: 'no late charge for this order' });
    // The payment holds no correlation id (the order's is in the orders database): the request's.
    const correlationId = correlationIdFrom(request.headers.get(CORRELATION_HEADER));
    const log = correlatedLogger(context, { correlationId, orderId });
    try {
      // One try: the operator is the retry.
      const refunded = await refundLateCharge(gateway, payment, { log, delaysMs: [], lastChance: false });
      const late = refunded.lateCharge!;
      log.warn('late charge refunded by an operator', { operator: caller.principal.name, amount: late.amount });
      return json(200, { orderId, refundId: late.refundId, amount: late.amount, currency: late.currency });
    } catch (error) {
      if (!isTransient(error)) throw error;
      return unavailable('the payment gateway did not answer: the charge is still pending, try again later');
    }
  };

/** Registers both routes; the refund uses the gateway the PROVIDERS setting chose (index.ts). */
export function registerLateChargeRoutes(providers: PaymentsProviders): void {
  app.http('listLateCharges', {
    route: 'operations/payments/late-charges',
    methods: ['GET'],
    authLevel: personRouteAuthLevel(),
    handler: answering<[HttpRequest, InvocationContext]>(listLateChargesHttp),
  });
  app.http('refundLateCharge', {
    route: 'operations/payments/late-charges/{orderId}/refund',
    methods: ['POST'],
    authLevel: personRouteAuthLevel(),
    handler: answering<[HttpRequest, InvocationContext]>(refundLateChargeHttp(providers)),
  });
}
