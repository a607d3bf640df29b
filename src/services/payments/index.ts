/**
 * The payments context: importing it registers its activities, each given the providers the
 * PROVIDERS setting chooses (an unknown value fails here, at the app's start).
 */
import { registerActivity } from '../../libs/activity';
import { config } from '../../libs/config';
import { chargePayment } from './charge-payment';
import { PaymentsContract } from './contract';
import { paymentsProviders } from './providers';
import { refundPayment } from './refund-payment';

const providers = paymentsProviders[config.providers()]();

export const paymentsActivities = {
  chargePayment: registerActivity(PaymentsContract.charge, chargePayment(providers)),
  refundPayment: registerActivity(PaymentsContract.refund, refundPayment(providers)),
};
