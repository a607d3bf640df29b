/** The payments context's activities: each registered name with its command and the facts it answers. */
import { activity } from '../../libs/activity';
import {
  ChargePayment,
  PaymentCharged,
  PaymentDeclined,
  PaymentRefunded,
  PaymentVoided,
  RefundNotNeeded,
  RefundPayment,
} from '../../libs/events';

export const PaymentsContract = {
  charge: activity('chargePayment', ChargePayment, [PaymentCharged, PaymentDeclined, PaymentVoided]),
  refund: activity('refundPayment', RefundPayment, [PaymentRefunded, RefundNotNeeded]),
} as const;

/** The registered names alone. */
export const PaymentsActivities = {
  charge: PaymentsContract.charge.name,
  refund: PaymentsContract.refund.name,
} as const;
